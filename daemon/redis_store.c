/*
 * redis_store.c - hiredis async client for window state (see redis_store.h).
 *
 * Runs on the daemon's libevent loop; every callback runs on that loop.
 * At most REDIS_FLUSHES_IN_FLIGHT flushes and one tick read are in flight
 * at a time: the caller waits for a flush callback before sending more,
 * which is what keeps memory bounded while Redis is slow or away. Replies
 * come in the order the commands were sent, so the flushes waiting form a
 * queue and each reply belongs to the oldest.
 *
 * hiredis 0.14 has no command timeouts and no reconnect of its own, so both
 * are done here with loop timers. The context is never freed from inside one
 * of its own callbacks. The disconnect callback only clears the store's
 * pointer to it, and the health timer frees an unresponsive one from outside.
 */
#include "redis_store.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "redis_known.h"
#include "redis_scripts.h"

#define REDIS_BACKOFF_MIN_MS 100
#define REDIS_BACKOFF_MAX_MS 5000
#define REDIS_PING_INTERVAL_MS 1000
#define REDIS_REPLY_TIMEOUT_MS 5000
#define REDIS_CHUNK 4000    /* ids or members per script section record */
#define REDIS_COUNT_CHUNK 2000 /* fields per count record; Lua unpacks twice that */
#define REDIS_KNOWN_SLOTS (1 << 16)
#define REDIS_HLL_MEMBER 8     /* bytes of a pseudonym added to a HyperLogLog */
#define REDIS_KEY_MAX 512
#define REDIS_DEPARTURES_PER_CALL 500 /* departures per EVAL; the rest wait a tick */
/* Count hash fields of credits above a daily cap: "capped:<behaviour>|<scope>". */
#define REDIS_CAPPED_PREFIX "capped:"


/* Sizes up to which a redis_args keeps its buffers for the next command. */
#define REDIS_ARGS_KEEP_BYTES 65536
#define REDIS_ARGS_KEEP_ARGS 4096

/* Arguments of one command, built in one growing buffer and reused. */
typedef struct redis_args {
	char *bytes;
	size_t len, cap;
	size_t *offsets;
	size_t *lengths;
	const char **argv;
	size_t n, n_cap;
	char *resp;               /* the command in the Redis protocol, see redis_args_resp() */
	size_t resp_cap;
} redis_args;

/* A (granularity, bucket) whose count hash the batch changes. */
typedef struct redis_bucket_ref {
	uint8_t gran;
	int64_t start_ms;
} redis_bucket_ref;

typedef struct redis_tick_read {
	bool active;
	kpi_tick *tick;
	const roster *roster;
	uint32_t n_scopes;
	size_t pending;
	int failed;
	size_t n_windows;
	redis_store_tick_cb cb;
	void *opaque;
	int64_t **starts;         /* per window: bucket starts */
	size_t *n_starts;
	struct redis_tick_request *requests;
	size_t n_requests;
} redis_tick_read;

/* Which hash of a window bucket an HGETALL of the tick reads. */
typedef enum redis_tick_table {
	REDIS_TICK_COUNTS,        /* {P}:n: behaviour counts */
	REDIS_TICK_HEADCOUNTS,    /* {P}:hc: headcount history */
	REDIS_TICK_DEPARTURES,    /* {P}:dep: departures */
} redis_tick_table;

/* Context of one tick reply: HGETALL of a window bucket, or PFCOUNT of (KPI, scope). */
typedef struct redis_tick_request {
	redis_store *store;
	size_t window;            /* HGETALL */
	size_t kpi;               /* PFCOUNT */
	uint32_t scope;           /* PFCOUNT */
	redis_tick_table table;   /* HGETALL */
} redis_tick_request;

/* A batch write waiting for its reply. */
typedef struct redis_flush_wait {
	redis_store_flush_cb cb;
	void *opaque;
	redis_partition_offsets *parts;
	size_t n_parts;
} redis_flush_wait;

struct redis_store {
	struct event_base *base;
	const config *cfg;
	redisAsyncContext *ac;
	bool connected;
	bool closing;
	redis_store_state_cb state_cb;
	void *state_opaque;

	struct event *reconnect_timer;
	struct event *health_timer;
	int64_t backoff_ms;
	int64_t ping_sent_ms;     /* 0 when no PING is outstanding */

	redis_args args;
	redis_known *known;       /* window keys written with their expiry */
	redis_bucket_ref *buckets;
	size_t n_buckets, buckets_cap;

	redis_flush_wait flushes[REDIS_FLUSHES_IN_FLIGHT]; /* oldest first */
	size_t n_flushes;

	redis_tick_read tick;
	uint64_t commands_sent;
	char offsets_key[REDIS_KEY_MAX];
	char owners_key[REDIS_KEY_MAX];
	uint64_t *duplicates;     /* ids of the last DUPLICATE reply */
	size_t n_duplicates, duplicates_cap;
	char flush_error[256];    /* error of the last REJECTED reply */

	headcount_departures *departures; /* the app's queue; see redis_store_write_headcounts */
	size_t departures_sent;   /* departures in flight, from the queue's front; 0: none */
	int64_t *caps_stored;     /* (entry, stored) pairs of the last CAPS_CHANGED or APPLIED */
	int64_t *caps_days;       /* distinct local days of the caps batch being built */
	size_t n_caps_days, caps_days_cap;
	size_t n_caps_stored, caps_stored_cap;
};

static void redis_store_connect(redis_store *s);

static int64_t redis_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- arguments */

static void redis_args_reset(redis_args *a)
{
	a->len = 0;
	a->n = 0;
}

static void redis_args_fini(redis_args *a)
{
	free(a->bytes);
	free(a->offsets);
	free(a->lengths);
	free(a->argv);
	free(a->resp);
	memset(a, 0, sizeof(*a));
}

static int redis_args_grow(redis_args *a, size_t extra_bytes)
{
	if (a->n == a->n_cap) {
		size_t cap = a->n_cap ? a->n_cap * 2 : 1024;
		size_t *o = realloc(a->offsets, cap * sizeof(*o));
		if (!o)
			return -1;
		a->offsets = o;
		size_t *l = realloc(a->lengths, cap * sizeof(*l));
		if (!l)
			return -1;
		a->lengths = l;
		a->n_cap = cap;
	}
	if (a->len + extra_bytes > a->cap) {
		size_t cap = a->cap ? a->cap : 65536;
		while (cap < a->len + extra_bytes)
			cap *= 2;
		char *b = realloc(a->bytes, cap);
		if (!b)
			return -1;
		a->bytes = b;
		a->cap = cap;
	}
	return 0;
}

static int redis_args_add(redis_args *a, const char *data, size_t len)
{
	if (redis_args_grow(a, len) < 0)
		return -1;
	memcpy(a->bytes + a->len, data, len);
	a->offsets[a->n] = a->len;
	a->lengths[a->n] = len;
	a->len += len;
	a->n++;
	return 0;
}

static int redis_args_addf(redis_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int redis_args_addf(redis_args *a, const char *fmt, ...)
{
	char tmp[REDIS_KEY_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	return redis_args_add(a, tmp, (size_t)n);
}

/* Writes n in decimal followed by CRLF at out; returns the bytes written. */
static size_t redis_resp_number(char *out, size_t n)
{
	char digits[24];
	size_t len = 0;

	do {
		digits[len++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	for (size_t i = 0; i < len; i++)
		out[i] = digits[len - 1 - i];
	out[len] = '\r';
	out[len + 1] = '\n';
	return len + 2;
}

/* Digits of n in decimal. */
static size_t redis_resp_digits(size_t n)
{
	size_t digits = 1;

	while (n >= 10) {
		n /= 10;
		digits++;
	}
	return digits;
}

/* Bytes of the arguments as one Redis protocol command. */
static size_t redis_args_resp_size(const redis_args *a)
{
	size_t size = 3 + redis_resp_digits(a->n) + a->len;

	for (size_t i = 0; i < a->n; i++)
		size += 5 + redis_resp_digits(a->lengths[i]);
	return size;
}

/*
 * Formats the arguments as one Redis protocol command into a->resp, for
 * redisAsyncFormattedCommand(): one pass and one copy, where hiredis' own
 * formatting would build it piece by piece. The buffer has the command's
 * exact size, because the batch write runs to megabytes and the former
 * guess of 26 bytes per argument overshot it about threefold. Returns the
 * command's length, or 0 when out of memory.
 */
static size_t redis_args_resp(redis_args *a)
{
	size_t need = redis_args_resp_size(a);

	if (need > a->resp_cap) {
		char *r = realloc(a->resp, need);
		if (!r)
			return 0;
		a->resp = r;
		a->resp_cap = need;
	}
	char *out = a->resp;
	*out++ = '*';
	out += redis_resp_number(out, a->n);
	for (size_t i = 0; i < a->n; i++) {
		*out++ = '$';
		out += redis_resp_number(out, a->lengths[i]);
		memcpy(out, a->bytes + a->offsets[i], a->lengths[i]);
		out += a->lengths[i];
		*out++ = '\r';
		*out++ = '\n';
	}
	return (size_t)(out - a->resp);
}

/*
 * Frees the argument buffers that grew past REDIS_ARGS_KEEP_BYTES or
 * REDIS_ARGS_KEEP_ARGS, but keeps a->resp. The batch write calls it after
 * formatting and before the hand-off to hiredis, which copies the command.
 * So the megabytes of arguments are neither allocated next to that copy nor
 * while the next batch fills. The small commands of a tick keep theirs.
 */
static void redis_args_shrink(redis_args *a)
{
	char *resp = a->resp;
	size_t resp_cap = a->resp_cap;

	if (a->cap > REDIS_ARGS_KEEP_BYTES || a->n_cap > REDIS_ARGS_KEEP_ARGS) {
		a->resp = NULL;
		redis_args_fini(a);
		a->resp = resp;
		a->resp_cap = resp_cap;
	}
	redis_args_reset(a);
}

/* Frees the formatted command once hiredis has its copy. */
static void redis_args_drop_resp(redis_args *a)
{
	free(a->resp);
	a->resp = NULL;
	a->resp_cap = 0;
}

/* Turns the offsets into pointers; valid until the next add. */
static const char **redis_args_argv(redis_args *a)
{
	const char **argv = realloc(a->argv, (a->n ? a->n : 1) * sizeof(*argv));
	if (!argv)
		return NULL;
	a->argv = argv;
	for (size_t i = 0; i < a->n; i++)
		argv[i] = a->bytes + a->offsets[i];
	return argv;
}

/* ---------------------------------------------------------------- key names */

/* Writes a granularity as its shortest exact unit: 300000 -> "5m", 86400000 -> "1d". */
static void redis_gran_name(int64_t ms, char *out, size_t size)
{
	static const struct { int64_t unit; const char *suffix; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms % units[i].unit == 0) {
			snprintf(out, size, "%" PRId64 "%s", ms / units[i].unit, units[i].suffix);
			return;
		}
	}
}

static int redis_count_key(const redis_store *s, size_t gran, int64_t start_ms, char *out,
                           size_t size)
{
	char g[16];
	redis_gran_name(s->cfg->windows.granularities_ms[gran], g, sizeof(g));
	int n = snprintf(out, size, "{%s}:n:%s:%" PRId64, s->cfg->redis.key_prefix, g,
	                 start_ms / 1000);
	return n > 0 && (size_t)n < size ? n : -1;
}

/* {P}:<kind>:<granularity>:<bucket start s> of the headcount history ("hc") or departures ("dep"). */
static int redis_history_key(const redis_store *s, const char *kind, size_t gran,
                             int64_t start_ms, char *out, size_t size)
{
	char g[16];
	redis_gran_name(s->cfg->windows.granularities_ms[gran], g, sizeof(g));
	int n = snprintf(out, size, "{%s}:%s:%s:%" PRId64, s->cfg->redis.key_prefix, kind, g,
	                 start_ms / 1000);
	return n > 0 && (size_t)n < size ? n : -1;
}

static int redis_hll_key(const redis_store *s, size_t gran, int64_t start_ms,
                         const char *behaviour, const char *scope, char *out, size_t size)
{
	char g[16];
	redis_gran_name(s->cfg->windows.granularities_ms[gran], g, sizeof(g));
	int n = snprintf(out, size, "{%s}:u:%s:%" PRId64 ":%s|%s", s->cfg->redis.key_prefix, g,
	                 start_ms / 1000, behaviour, scope);
	return n > 0 && (size_t)n < size ? n : -1;
}

/* ---------------------------------------------------------------- connection */

static void redis_set_connected(redis_store *s, bool connected)
{
	if (s->connected == connected)
		return;
	s->connected = connected;
	if (s->state_cb)
		s->state_cb(connected, s->state_opaque);
}

static void redis_schedule_reconnect(redis_store *s)
{
	struct timeval tv;

	if (s->closing)
		return;
	tv.tv_sec = s->backoff_ms / 1000;
	tv.tv_usec = (s->backoff_ms % 1000) * 1000;
	evtimer_add(s->reconnect_timer, &tv);
	s->backoff_ms *= 2;
	if (s->backoff_ms > REDIS_BACKOFF_MAX_MS)
		s->backoff_ms = REDIS_BACKOFF_MAX_MS;
}

static void redis_reconnect_cb(evutil_socket_t fd, short what, void *arg)
{
	redis_store_connect(arg);
}

static void redis_connect_cb(const redisAsyncContext *ac, int status)
{
	redis_store *s = ac->data;

	if (status != REDIS_OK) {
		log_warn("redis", "connection failed, retrying",
		         "error=\"%s\" retry_ms=%" PRId64, ac->errstr, s->backoff_ms);
		if (s->ac == ac)
			s->ac = NULL;
		redis_schedule_reconnect(s);
		return;
	}
	log_info("redis", "connected", "%s", "");
	redis_known_clear(s->known, redis_now_ms());
	s->backoff_ms = REDIS_BACKOFF_MIN_MS;
	s->ping_sent_ms = 0;
	redis_set_connected(s, true);
}

static void redis_disconnect_cb(const redisAsyncContext *ac, int status)
{
	redis_store *s = ac->data;

	if (s->ac == ac)
		s->ac = NULL;
	if (s->closing)
		return;
	if (status != REDIS_OK)
		log_warn("redis", "connection lost, reconnecting", "error=\"%s\"", ac->errstr);
	redis_set_connected(s, false);
	redis_schedule_reconnect(s);
}

/* Replies to AUTH and SELECT: a failure there is a configuration error. */
static void redis_setup_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redisReply *reply = r;

	if (reply && reply->type == REDIS_REPLY_ERROR)
		log_error("redis", "connection setup command failed; check redis.password and redis.db",
		          "command=%s error=\"%s\"", (const char *)privdata, reply->str);
}

static void redis_store_connect(redis_store *s)
{
	const config *cfg = s->cfg;
	redisAsyncContext *ac;

	if (s->closing || s->ac)
		return;
	if (cfg->redis.unix_socket && *cfg->redis.unix_socket)
		ac = redisAsyncConnectUnix(cfg->redis.unix_socket);
	else
		ac = redisAsyncConnect(cfg->redis.host, cfg->redis.port);
	if (!ac || ac->err) {
		log_warn("redis", "cannot start connecting, retrying", "error=\"%s\"",
		         ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		redis_schedule_reconnect(s);
		return;
	}
	ac->data = s;
	s->ac = ac;
	redisLibeventAttach(ac, s->base);
	redisAsyncSetConnectCallback(ac, redis_connect_cb);
	redisAsyncSetDisconnectCallback(ac, redis_disconnect_cb);

	/* Commands queue until the connection is up and go first. */
	if (cfg->redis.password && *cfg->redis.password)
		redisAsyncCommand(ac, redis_setup_reply_cb, "AUTH", "AUTH %s", cfg->redis.password);
	if (cfg->redis.db != 0)
		redisAsyncCommand(ac, redis_setup_reply_cb, "SELECT", "SELECT %d", cfg->redis.db);
}

static void redis_ping_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_store *s = privdata;
	if (r && s->ac == ac)
		s->ping_sent_ms = 0;
}

/* Replaces a connection whose PING has gone unanswered for too long. */
static void redis_health_cb(evutil_socket_t fd, short what, void *arg)
{
	redis_store *s = arg;
	int64_t now = redis_now_ms();

	if (!s->ac || !s->connected)
		return;
	if (s->ping_sent_ms && now - s->ping_sent_ms > REDIS_REPLY_TIMEOUT_MS) {
		log_warn("redis", "no reply within the timeout, replacing the connection",
		         "timeout_ms=%d", REDIS_REPLY_TIMEOUT_MS);
		redisAsyncContext *ac = s->ac;
		s->ac = NULL;
		s->ping_sent_ms = 0;
		redisAsyncFree(ac); /* pending callbacks get NULL replies */
		redis_set_connected(s, false);
		redis_schedule_reconnect(s);
		return;
	}
	if (!s->ping_sent_ms) {
		s->ping_sent_ms = now;
		redisAsyncCommand(s->ac, redis_ping_reply_cb, s, "PING");
	}
}

redis_store *redis_store_new(struct event_base *base, const config *cfg,
                             redis_store_state_cb state_cb, void *opaque,
                             char *errstr, size_t errstr_size)
{
	redis_store *s = calloc(1, sizeof(*s));
	struct timeval ping = { REDIS_PING_INTERVAL_MS / 1000, 0 };

	if (!s) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	s->base = base;
	s->cfg = cfg;
	s->state_cb = state_cb;
	s->state_opaque = opaque;
	s->backoff_ms = REDIS_BACKOFF_MIN_MS;
	snprintf(s->offsets_key, sizeof(s->offsets_key), "{%s}:offsets", cfg->redis.key_prefix);
	snprintf(s->owners_key, sizeof(s->owners_key), "{%s}:owners", cfg->redis.key_prefix);
	s->reconnect_timer = evtimer_new(base, redis_reconnect_cb, s);
	s->health_timer = event_new(base, -1, EV_PERSIST, redis_health_cb, s);
	s->known = redis_known_new(REDIS_KNOWN_SLOTS);
	if (!s->reconnect_timer || !s->health_timer || !s->known) {
		snprintf(errstr, errstr_size, "cannot create Redis timers or key set");
		redis_store_free(s);
		return NULL;
	}
	evtimer_add(s->health_timer, &ping);
	redis_store_connect(s);
	return s;
}

void redis_store_free(redis_store *s)
{
	if (!s)
		return;
	s->closing = true;
	if (s->ac) {
		redisAsyncContext *ac = s->ac;
		s->ac = NULL;
		redisAsyncFree(ac);
	}
	if (s->reconnect_timer)
		event_free(s->reconnect_timer);
	if (s->health_timer)
		event_free(s->health_timer);
	redis_args_fini(&s->args);
	redis_known_free(s->known);
	free(s->buckets);
	free(s->duplicates);
	free(s->caps_stored);
	free(s->caps_days);
	free(s);
}

bool redis_store_connected(const redis_store *s)
{
	return s->connected && s->ac;
}

uint64_t redis_store_commands_sent(const redis_store *s)
{
	return s->commands_sent;
}

/* ---------------------------------------------------------------- flush */

/* Remembers (gran, bucket); returns 1 when it is new in this flush, -1 on OOM. */
static int redis_bucket_note(redis_store *s, uint8_t gran, int64_t start_ms)
{
	for (size_t i = 0; i < s->n_buckets; i++)
		if (s->buckets[i].gran == gran && s->buckets[i].start_ms == start_ms)
			return 0;
	if (s->n_buckets == s->buckets_cap) {
		size_t cap = s->buckets_cap ? s->buckets_cap * 2 : 64;
		redis_bucket_ref *b = realloc(s->buckets, cap * sizeof(*b));
		if (!b)
			return -1;
		s->buckets = b;
		s->buckets_cap = cap;
	}
	s->buckets[s->n_buckets++] = (redis_bucket_ref){ gran, start_ms };
	return 1;
}

static int64_t redis_expire_at_s(redis_store *s, window_clock *clock, size_t gran,
                                 int64_t start_ms)
{
	int64_t end = window_bucket_end(clock, gran, start_ms);
	return (end + window_keep_ms(s->cfg, gran)) / 1000 + 1;
}

/* A counted section of the script's arguments; the count is patched in at the end. */
static size_t redis_section_begin(redis_args *a, int *rc)
{
	size_t index = a->n;
	*rc |= redis_args_add(a, "0000000000", 10);
	return index;
}

static void redis_section_end(redis_args *a, size_t index, size_t count)
{
	char digits[16];
	int n = snprintf(digits, sizeof(digits), "%zu", count);
	memcpy(a->bytes + a->offsets[index], digits, (size_t)n);
	a->lengths[index] = (size_t)n;
}

static int redis_offset_field(const redis_store *s, const redis_partition_offsets *p,
                              char *out, size_t size)
{
	int n = snprintf(out, size, "%s|%s|%" PRId32, s->cfg->kafka.group_id, p->topic,
	                 p->partition);
	return n > 0 && (size_t)n < size ? n : -1;
}

static int redis_add_partitions(redis_store *s, const redis_partition_offsets *parts,
                                size_t n_parts)
{
	redis_args *a = &s->args;
	char field[REDIS_KEY_MAX];
	int rc = 0;

	rc |= redis_args_addf(a, "%zu", n_parts);
	for (size_t i = 0; i < n_parts; i++) {
		if (redis_offset_field(s, &parts[i], field, sizeof(field)) < 0)
			return -1;
		rc |= redis_args_add(a, field, strlen(field)) |
		      redis_args_add(a, parts[i].owner_token, strlen(parts[i].owner_token)) |
		      redis_args_addf(a, "%" PRId64, parts[i].first_offset) |
		      redis_args_addf(a, "%" PRId64, parts[i].next_offset);
	}
	return rc;
}

/* The "after" section: the offsets the batch sent before this one leaves in Redis. */
static int redis_add_after(redis_store *s, const redis_partition_offsets *after, size_t n)
{
	redis_args *a = &s->args;
	char field[REDIS_KEY_MAX];
	int rc = redis_args_addf(a, "%zu", n);

	for (size_t i = 0; i < n; i++) {
		if (redis_offset_field(s, &after[i], field, sizeof(field)) < 0)
			return -1;
		rc |= redis_args_add(a, field, strlen(field)) |
		      redis_args_addf(a, "%" PRId64, after[i].next_offset);
	}
	return rc;
}

static void redis_id_bytes(uint64_t id, char out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = (char)(id >> (8 * i));
}

static uint64_t redis_id_value(const char *bytes)
{
	uint64_t id = 0;
	for (int i = 0; i < 8; i++)
		id |= (uint64_t)(unsigned char)bytes[i] << (8 * i);
	return id;
}

/* Event ids per UTC hour, in chunks of at most REDIS_CHUNK ids. */
static int redis_add_ids(redis_store *s, const dedup_batch *ids, int64_t now_s)
{
	redis_args *a = &s->args;
	const dedup_entry *e = dedup_batch_entries(ids);
	size_t n = dedup_batch_count(ids), chunks = 0;
	int64_t horizon_s = s->cfg->windows.dedup_horizon_ms / 1000;
	int rc = 0;
	size_t section = redis_section_begin(a, &rc);

	for (size_t i = 0; i < n;) {
		char key[REDIS_KEY_MAX], bytes[8];
		int64_t hour = e[i].hour_s;
		int64_t keep_from = hour + 3600 > now_s ? hour + 3600 : now_s;
		snprintf(key, sizeof(key), "{%s}:d:%" PRId64, s->cfg->redis.key_prefix, hour);
		rc |= redis_args_add(a, key, strlen(key)) |
		      redis_args_addf(a, "%" PRId64, keep_from + horizon_s);
		size_t count_index = redis_section_begin(a, &rc), m = 0;
		for (; i < n && e[i].hour_s == hour && m < REDIS_CHUNK; i++, m++) {
			redis_id_bytes(e[i].id, bytes);
			rc |= redis_args_add(a, bytes, sizeof(bytes));
		}
		redis_section_end(a, count_index, m);
		chunks++;
	}
	redis_section_end(a, section, chunks);
	return rc;
}

/*
 * The expiry to send with a window key: "0" when this connection already
 * wrote the key with its expiry, else expire_at, noting the key as pending.
 */
static int redis_add_expiry(redis_store *s, const char *key, int64_t expire_at)
{
	size_t len = strlen(key);

	if (redis_known_has(s->known, key, len))
		return redis_args_add(&s->args, "0", 1);
	if (redis_known_note(s->known, key, len) < 0)
		return -1;
	return redis_args_addf(&s->args, "%" PRId64, expire_at);
}

/*
 * Contributors per HyperLogLog key, in chunks of at most REDIS_CHUNK. A
 * member is the first REDIS_HLL_MEMBER bytes of the pseudonym, raw: HMAC
 * output is uniform, and Redis hashes members anyway.
 */
static int redis_add_hlls(redis_store *s, const window_batch *b, const roster *r,
                          window_clock *clock)
{
	redis_args *a = &s->args;
	const pseudonym *members = window_batch_members(b);
	size_t chunks = 0;
	int rc = 0;
	size_t section = redis_section_begin(a, &rc);

	for (size_t c = 0; c < window_batch_cell_count(b); c++) {
		const window_cell *cell = window_batch_cell(b, c);
		char key[REDIS_KEY_MAX];
		if (cell->n_members == 0)
			continue;
		if (redis_hll_key(s, cell->gran, cell->bucket_start_ms,
		                  s->cfg->behaviours[cell->behaviour].id,
		                  roster_scope_name(r, cell->scope), key, sizeof(key)) < 0)
			return -1;
		int64_t expire_at = redis_expire_at_s(s, clock, cell->gran, cell->bucket_start_ms);
		for (size_t done = 0; done < cell->n_members; done += REDIS_CHUNK) {
			size_t m = cell->n_members - done < REDIS_CHUNK ? cell->n_members - done
			                                                : REDIS_CHUNK;
			rc |= redis_args_add(a, key, strlen(key)) |
			      redis_add_expiry(s, key, expire_at) | redis_args_addf(a, "%zu", m);
			for (size_t i = 0; i < m; i++)
				rc |= redis_args_add(
					a, (const char *)members[cell->first_member + done + i].bytes,
					REDIS_HLL_MEMBER);
			chunks++;
		}
	}
	redis_section_end(a, section, chunks);
	return rc;
}

/* Lists the distinct (granularity, bucket) of the cells with a count change. */
static int redis_note_count_buckets(redis_store *s, const window_batch *b)
{
	s->n_buckets = 0;
	for (size_t c = 0; c < window_batch_cell_count(b); c++) {
		const window_cell *cell = window_batch_cell(b, c);
		if (cell->count != 0 && redis_bucket_note(s, cell->gran, cell->bucket_start_ms) < 0)
			return -1;
	}
	return 0;
}

/* One bucket's count changes, in records of at most REDIS_COUNT_CHUNK fields. */
static int redis_add_bucket_counts(redis_store *s, const window_batch *b, const roster *r,
                                   window_clock *clock, const redis_bucket_ref *bucket,
                                   size_t *records)
{
	redis_args *a = &s->args;
	char key[REDIS_KEY_MAX], field[REDIS_KEY_MAX];
	size_t count_index = 0, m = 0;
	int rc = 0;

	if (redis_count_key(s, bucket->gran, bucket->start_ms, key, sizeof(key)) < 0)
		return -1;
	int64_t expire_at = redis_expire_at_s(s, clock, bucket->gran, bucket->start_ms);
	for (size_t c = 0; c < window_batch_cell_count(b); c++) {
		const window_cell *cell = window_batch_cell(b, c);
		if (cell->count == 0 || cell->gran != bucket->gran ||
		    cell->bucket_start_ms != bucket->start_ms)
			continue;
		if (m == REDIS_COUNT_CHUNK) {
			redis_section_end(a, count_index, m);
			m = 0;
		}
		if (m == 0) {
			rc |= redis_args_add(a, key, strlen(key)) |
			      redis_add_expiry(s, key, expire_at);
			count_index = redis_section_begin(a, &rc);
			(*records)++;
		}
		snprintf(field, sizeof(field), "%s%s|%s", cell->capped ? REDIS_CAPPED_PREFIX : "",
		         s->cfg->behaviours[cell->behaviour].id, roster_scope_name(r, cell->scope));
		rc |= redis_args_add(a, field, strlen(field)) |
		      redis_args_addf(a, "%" PRId64, cell->count);
		m++;
	}
	if (m > 0)
		redis_section_end(a, count_index, m);
	return rc;
}

/* The count changes, one record per count hash (more for a very large one). */
static int redis_add_counts(redis_store *s, const window_batch *b, const roster *r,
                            window_clock *clock)
{
	redis_args *a = &s->args;
	size_t records = 0;
	int rc = 0;

	if (redis_note_count_buckets(s, b) < 0)
		return -1;
	size_t section = redis_section_begin(a, &rc);
	for (size_t i = 0; i < s->n_buckets; i++)
		if (redis_add_bucket_counts(s, b, r, clock, &s->buckets[i], &records) < 0)
			return -1;
	redis_section_end(a, section, records);
	return rc;
}

/* Lists the distinct local days of the caps batch's entries in s->caps_days. */
static int redis_note_caps_days(redis_store *s, const caps_entry *e, size_t n)
{
	s->n_caps_days = 0;
	for (size_t i = 0; i < n; i++) {
		size_t d = 0;
		while (d < s->n_caps_days && s->caps_days[d] != e[i].key.day_start_ms)
			d++;
		if (d < s->n_caps_days)
			continue;
		if (s->n_caps_days == s->caps_days_cap) {
			size_t cap = s->caps_days_cap ? 2 * s->caps_days_cap : 16;
			int64_t *days = realloc(s->caps_days, cap * sizeof(*days));
			if (!days)
				return -1;
			s->caps_days = days;
			s->caps_days_cap = cap;
		}
		s->caps_days[s->n_caps_days++] = e[i].key.day_start_ms;
	}
	return 0;
}

/* One cap entry: its index in the batch, the person's field, behaviour and decision. */
static int redis_add_cap_entry(redis_store *s, const caps_entry *e, size_t index)
{
	redis_args *a = &s->args;
	char hex[PSEUDONYM_HEX_SIZE];
	const char *behaviour = s->cfg->behaviours[e->key.behaviour].id;

	pseudonym_to_hex(&e->key.person, hex);
	return redis_args_addf(a, "%zu", index) | redis_args_add(a, hex, PSEUDONYM_HEX_SIZE - 1) |
	       redis_args_add(a, behaviour, strlen(behaviour)) |
	       redis_args_addf(a, "%" PRId32, e->prior) |
	       redis_args_addf(a, "%" PRId32, e->credits) |
	       redis_args_addf(a, "%" PRId32, e->counted) | redis_args_addf(a, "%" PRId32, e->cap);
}

/*
 * The caps batch, per local day in records of at most REDIS_COUNT_CHUNK
 * entries: the day hash {P}:caps:<day start>, its expiry (windows.retention
 * after the day ends), the number of entries and the entries.
 */
static int redis_add_caps(redis_store *s, const caps_batch *decisions)
{
	redis_args *a = &s->args;
	size_t n = decisions ? caps_batch_count(decisions) : 0;
	const caps_entry *e = n ? caps_batch_entries(decisions) : NULL;
	int64_t retention_s = s->cfg->windows.retention_ms / 1000;
	size_t records = 0, count_index = 0, m = 0;
	int rc = 0;

	if (redis_note_caps_days(s, e, n) < 0)
		return -1;
	size_t section = redis_section_begin(a, &rc);
	for (size_t d = 0; d < s->n_caps_days; d++) {
		int64_t day = s->caps_days[d];
		for (size_t i = 0; i < n; i++) {
			if (e[i].key.day_start_ms != day)
				continue;
			if (m == REDIS_COUNT_CHUNK) {
				redis_section_end(a, count_index, m);
				m = 0;
			}
			if (m == 0) {
				rc |= redis_args_addf(a, "{%s}:caps:%" PRId64, s->cfg->redis.key_prefix,
				                      day / 1000) |
				      redis_args_addf(a, "%" PRId64, e[i].day_end_ms / 1000 + retention_s);
				count_index = redis_section_begin(a, &rc);
				records++;
			}
			rc |= redis_add_cap_entry(s, &e[i], i);
			m++;
		}
		if (m > 0)
			redis_section_end(a, count_index, m);
		m = 0;
	}
	redis_section_end(a, section, records);
	return rc;
}

static int redis_build_flush(redis_store *s, const redis_flush_request *req)
{
	redis_args *a = &s->args;
	int rc = 0;

	redis_args_reset(a);
	/* Out of memory here only costs expiries sent again. */
	(void)redis_known_begin(s->known, req->n_after > 0);
	redis_known_expire(s->known, req->now_ms);
	rc |= redis_args_add(a, "EVAL", 4) |
	      redis_args_add(a, redis_flush_script, redis_flush_script_len) |
	      redis_args_add(a, "2", 1) | redis_args_add(a, s->owners_key, strlen(s->owners_key)) |
	      redis_args_add(a, s->offsets_key, strlen(s->offsets_key));
	if (rc || redis_add_partitions(s, req->parts, req->n_parts) < 0 ||
	    redis_add_after(s, req->after, req->n_after) < 0 ||
	    redis_add_ids(s, req->ids, req->now_ms / 1000) < 0 ||
	    redis_add_hlls(s, req->batch, req->roster, req->clock) < 0 ||
	    redis_add_counts(s, req->batch, req->roster, req->clock) < 0 ||
	    redis_add_caps(s, req->caps) < 0)
		return -1;
	return 0;
}

/* Finds the part whose offsets field is name; NULL when none. */
static redis_partition_offsets *redis_find_part(redis_store *s, const redisReply *name)
{
	char field[REDIS_KEY_MAX];

	if (name->type != REDIS_REPLY_STRING)
		return NULL;
	const redis_flush_wait *w = &s->flushes[0];
	for (size_t p = 0; p < w->n_parts; p++)
		if (redis_offset_field(s, &w->parts[p], field, sizeof(field)) > 0 &&
		    strcmp(name->str, field) == 0)
			return &w->parts[p];
	return NULL;
}

/* {0, field, stored, ...}: fills stored_offset of the parts Redis is past. */
static void redis_note_stale(redis_store *s, const redisReply *reply)
{
	for (size_t i = 1; i + 1 < reply->elements; i += 2) {
		redis_partition_offsets *part = redis_find_part(s, reply->element[i]);
		const redisReply *v = reply->element[i + 1];
		if (part && v->type == REDIS_REPLY_STRING)
			part->stored_offset = strtoll(v->str, NULL, 10);
	}
}

/* {3, field, ...}: marks the parts another owner has claimed. */
static void redis_note_fenced(redis_store *s, const redisReply *reply)
{
	for (size_t i = 1; i < reply->elements; i++) {
		redis_partition_offsets *part = redis_find_part(s, reply->element[i]);
		if (part)
			part->fenced = true;
	}
}

/* {2, id, ...}: keeps the ids Redis already holds for redis_store_flush_duplicates. */
static void redis_note_duplicates(redis_store *s, const redisReply *reply)
{
	s->n_duplicates = 0;
	if (reply->elements - 1 > s->duplicates_cap) {
		uint64_t *d = realloc(s->duplicates, (reply->elements - 1) * sizeof(*d));
		if (!d)
			return;
		s->duplicates = d;
		s->duplicates_cap = reply->elements - 1;
	}
	for (size_t i = 1; i < reply->elements; i++) {
		const redisReply *id = reply->element[i];
		if (id->type == REDIS_REPLY_STRING && id->len == 8)
			s->duplicates[s->n_duplicates++] = redis_id_value(id->str);
	}
}

/* {1 or 5, entry, stored, ...}: keeps the pairs for redis_store_flush_caps_stored. */
static void redis_note_caps_stored(redis_store *s, const redisReply *reply)
{
	size_t need = reply->elements - 1;

	s->n_caps_stored = 0;
	if (need > s->caps_stored_cap) {
		int64_t *v = realloc(s->caps_stored, need * sizeof(*v));
		if (!v)
			return;
		s->caps_stored = v;
		s->caps_stored_cap = need;
	}
	for (size_t i = 1; i + 1 < reply->elements; i += 2) {
		const redisReply *entry = reply->element[i], *stored = reply->element[i + 1];
		if (entry->type != REDIS_REPLY_INTEGER || stored->type != REDIS_REPLY_INTEGER)
			continue;
		s->caps_stored[2 * s->n_caps_stored] = entry->integer;
		s->caps_stored[2 * s->n_caps_stored + 1] = stored->integer;
		s->n_caps_stored++;
	}
}

static redis_flush_status redis_flush_verdict(redis_store *s, const redisReply *reply)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER) {
		log_error("redis", "unexpected reply to the batch write; it will be retried",
		          "reply_type=%d", reply->type);
		return REDIS_FLUSH_FAILED;
	}
	switch (reply->element[0]->integer) {
	case REDIS_SCRIPT_APPLIED:
		redis_note_caps_stored(s, reply);
		return REDIS_FLUSH_APPLIED;
	case REDIS_SCRIPT_CAPS_CHANGED:
		redis_note_caps_stored(s, reply);
		return REDIS_FLUSH_CAPS_CHANGED;
	case REDIS_SCRIPT_STALE:
		redis_note_stale(s, reply);
		return REDIS_FLUSH_STALE;
	case REDIS_SCRIPT_DUPLICATE:
		redis_note_duplicates(s, reply);
		return REDIS_FLUSH_DUPLICATE;
	case REDIS_SCRIPT_FENCED:
		redis_note_fenced(s, reply);
		return REDIS_FLUSH_FENCED;
	case REDIS_SCRIPT_UNORDERED:
		return REDIS_FLUSH_UNORDERED;
	case REDIS_SCRIPT_REJECTED:
		snprintf(s->flush_error, sizeof(s->flush_error), "%s",
		         reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
		                 ? reply->element[1]->str : "no detail");
		return REDIS_FLUSH_REJECTED;
	default:
		return REDIS_FLUSH_FAILED;
	}
}

static void redis_flush_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_store *s = privdata;
	redisReply *reply = r;
	redis_flush_status status = REDIS_FLUSH_FAILED;

	s->n_duplicates = 0;
	s->n_caps_stored = 0;
	s->flush_error[0] = '\0';
	if (!reply)
		log_warn("redis", "batch write not acknowledged; it will be retried", "%s", "");
	else if (reply->type == REDIS_REPLY_ERROR)
		log_warn("redis", "batch write failed with an error reply; it will be retried",
		         "error=\"%s\"", reply->str);
	else
		status = redis_flush_verdict(s, reply);
	if (status == REDIS_FLUSH_APPLIED)
		redis_known_commit(s->known);
	else
		redis_known_discard(s->known);
	if (status == REDIS_FLUSH_REJECTED)
		redis_known_clear(s->known, redis_now_ms());
	if (s->n_flushes == 0)
		return;
	redis_flush_wait done = s->flushes[0];
	memmove(&s->flushes[0], &s->flushes[1], --s->n_flushes * sizeof(s->flushes[0]));
	done.cb(status, done.opaque);
}

int redis_store_flush(redis_store *s, const redis_flush_request *req, redis_store_flush_cb cb,
                      void *opaque)
{
	if (!redis_store_connected(s) || s->n_flushes == REDIS_FLUSHES_IN_FLIGHT)
		return -1;
	for (size_t i = 0; i < req->n_parts; i++) {
		req->parts[i].stored_offset = -1;
		req->parts[i].fenced = false;
	}
	if (redis_build_flush(s, req) < 0) {
		log_error("redis", "cannot build the batch write (out of memory or key too long)",
		          "cells=%zu", window_batch_cell_count(req->batch));
		return -1;
	}
	size_t len = redis_args_resp(&s->args);
	redis_args_shrink(&s->args);
	if (len == 0)
		return -1;

	int sent = redisAsyncFormattedCommand(s->ac, redis_flush_reply_cb, s, s->args.resp, len);
	redis_args_drop_resp(&s->args);
	if (sent != REDIS_OK) {
		redis_known_begin(s->known, false);
		return -1;
	}
	redis_known_sent(s->known);
	s->flushes[s->n_flushes++] = (redis_flush_wait){ cb, opaque, req->parts, req->n_parts };
	s->commands_sent++;
	return 0;
}

const uint64_t *redis_store_flush_duplicates(const redis_store *s, size_t *n)
{
	*n = s->n_duplicates;
	return s->duplicates;
}

const int64_t *redis_store_flush_caps_stored(const redis_store *s, size_t *n)
{
	*n = s->n_caps_stored;
	return s->caps_stored;
}

const char *redis_store_flush_error(const redis_store *s)
{
	return s->flush_error;
}

/* ---------------------------------------------------------------- claims */

typedef struct redis_claim {
	redis_store *store;
	redis_store_claim_cb cb;
	void *opaque;
	redis_partition_offsets *parts;
	size_t n_parts;
} redis_claim;

static void redis_claim_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_claim *c = privdata;
	redisReply *reply = r;
	int status = -1;

	if (!reply) {
		log_warn("redis", "partition claim not acknowledged; it will be sent again", "%s", "");
	} else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != c->n_parts) {
		log_error("redis", "partition claim failed; it will be sent again", "error=\"%s\"",
		          reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	} else {
		for (size_t i = 0; i < c->n_parts; i++) {
			const redisReply *v = reply->element[i];
			c->parts[i].stored_offset = v->type == REDIS_REPLY_STRING && v->len > 0
			                                    ? strtoll(v->str, NULL, 10) : -1;
		}
		status = 0;
	}
	c->cb(status, c->parts, c->n_parts, c->opaque);
	free(c->parts);
	free(c);
}

static int redis_build_claim(redis_store *s, redis_args *a, const char *token,
                             const redis_partition_offsets *parts, size_t n_parts)
{
	char field[REDIS_KEY_MAX];
	int rc = redis_args_add(a, "EVAL", 4) |
	         redis_args_add(a, redis_claim_script, redis_claim_script_len) |
	         redis_args_add(a, "2", 1) | redis_args_add(a, s->owners_key, strlen(s->owners_key)) |
	         redis_args_add(a, s->offsets_key, strlen(s->offsets_key)) |
	         redis_args_add(a, token, strlen(token));
	for (size_t i = 0; i < n_parts; i++) {
		if (redis_offset_field(s, &parts[i], field, sizeof(field)) < 0)
			return -1;
		rc |= redis_args_add(a, field, strlen(field));
	}
	return rc;
}

int redis_store_claim(redis_store *s, const char *token, const redis_partition_offsets *parts,
                      size_t n_parts, redis_store_claim_cb cb, void *opaque)
{
	redis_args a = { 0 };
	redis_claim *c = NULL;
	const char **argv;
	int rc = -1;

	if (!redis_store_connected(s) || n_parts == 0)
		return -1;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->parts = malloc(n_parts * sizeof(*parts))))
		goto out;
	memcpy(c->parts, parts, n_parts * sizeof(*parts));
	c->store = s;
	c->cb = cb;
	c->opaque = opaque;
	c->n_parts = n_parts;
	if (redis_build_claim(s, &a, token, parts, n_parts) < 0 || !(argv = redis_args_argv(&a)))
		goto out;
	if (redisAsyncCommandArgv(s->ac, redis_claim_reply_cb, c, (int)a.n, argv, a.lengths) !=
	    REDIS_OK)
		goto out;
	s->commands_sent++;
	c = NULL;
	rc = 0;
out:
	if (c)
		free(c->parts);
	free(c);
	redis_args_fini(&a);
	return rc;
}

/* ---------------------------------------------------------------- erasure */

/*
 * One erasure walks the key space twice with SCAN MATCH. The first walk
 * unlinks the person's keys {P}:p:<pseudonym>:*, the second removes the
 * person's field from every daily cap hash {P}:caps:*. Each step acts on
 * what SCAN returned before asking for the next step, so at most one
 * command of it is in flight. SCAN may return a key twice; UNLINK and HDEL
 * count only what they removed, so the total stays exact.
 */
typedef struct redis_erase {
	redis_store *store;
	char pseudonym_hex[PSEUDONYM_HEX_SIZE];
	bool day_hashes;          /* the second walk */
	char pattern[REDIS_KEY_MAX];
	char cursor[32];
	uint64_t removed;
	redis_store_erase_cb cb;
	void *opaque;
} redis_erase;

static void redis_erase_finish(redis_erase *e, int status, const char *error)
{
	e->cb(status, e->removed, error, e->opaque);
	free(e);
}

static void redis_erase_scan(redis_erase *e);

/* Removes the person's field from each day hash of one SCAN reply, in one call. */
static const char redis_erase_days_script[] =
	"local n = 0\n"
	"for _, key in ipairs(KEYS) do n = n + redis.call('HDEL', key, ARGV[1]) end\n"
	"return n\n";

/* Starts the walk over the day hashes once the first walk ended. */
static void redis_erase_days(redis_erase *e)
{
	e->day_hashes = true;
	strcpy(e->cursor, "0");
	snprintf(e->pattern, sizeof(e->pattern), "{%s}:caps:*", e->store->cfg->redis.key_prefix);
	redis_erase_scan(e);
}

/* After a step: the next SCAN step, the second walk, or the end. */
static void redis_erase_next(redis_erase *e)
{
	if (strcmp(e->cursor, "0") != 0)
		redis_erase_scan(e);
	else if (!e->day_hashes)
		redis_erase_days(e);
	else
		redis_erase_finish(e, 0, NULL);
}

static void redis_erase_unlink_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_erase *e = privdata;
	redisReply *reply = r;

	if (!reply) {
		redis_erase_finish(e, -1, "connection to Redis lost");
		return;
	}
	if (reply->type != REDIS_REPLY_INTEGER) {
		redis_erase_finish(e, -1, reply->type == REDIS_REPLY_ERROR ? reply->str :
		                   "unexpected reply to UNLINK");
		return;
	}
	e->removed += (uint64_t)reply->integer;
	redis_erase_next(e);
}

/*
 * Sends UNLINK for the keys of one SCAN reply, or in the second walk the
 * script that removes the person's field from them. Returns 0, or -1 on
 * failure.
 */
static int redis_erase_unlink(redis_erase *e, const redisReply *keys)
{
	redis_store *s = e->store;
	size_t head = e->day_hashes ? 3 : 1, n = head + keys->elements + (e->day_hashes ? 1 : 0);
	const char **argv = malloc(n * sizeof(*argv));
	size_t *lengths = malloc(n * sizeof(*lengths));
	char n_keys[24];
	int rc = -1;

	if (!argv || !lengths)
		goto out;
	argv[0] = "UNLINK";
	lengths[0] = 6;
	if (e->day_hashes) {
		snprintf(n_keys, sizeof(n_keys), "%zu", keys->elements);
		argv[0] = "EVAL";
		lengths[0] = 4;
		argv[1] = redis_erase_days_script;
		lengths[1] = sizeof(redis_erase_days_script) - 1;
		argv[2] = n_keys;
		lengths[2] = strlen(n_keys);
		argv[n - 1] = e->pseudonym_hex;
		lengths[n - 1] = strlen(e->pseudonym_hex);
	}
	for (size_t i = 0; i < keys->elements; i++) {
		argv[head + i] = keys->element[i]->str;
		lengths[head + i] = keys->element[i]->len;
	}
	if (s->ac && redisAsyncCommandArgv(s->ac, redis_erase_unlink_reply_cb, e, (int)n, argv,
	                                   lengths) == REDIS_OK) {
		s->commands_sent++;
		rc = 0;
	}
out:
	free(argv);
	free(lengths);
	return rc;
}

static void redis_erase_scan_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_erase *e = privdata;
	redisReply *reply = r;

	if (!reply) {
		redis_erase_finish(e, -1, "connection to Redis lost");
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR) {
		redis_erase_finish(e, -1, reply->str);
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[0]->len >= sizeof(e->cursor) ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY) {
		redis_erase_finish(e, -1, "unexpected reply to SCAN");
		return;
	}
	memcpy(e->cursor, reply->element[0]->str, reply->element[0]->len + 1);

	const redisReply *keys = reply->element[1];
	if (keys->elements > 0) {
		if (redis_erase_unlink(e, keys) < 0)
			redis_erase_finish(e, -1, "cannot send UNLINK or HDEL");
	} else {
		redis_erase_next(e);
	}
}

static void redis_erase_scan(redis_erase *e)
{
	redis_store *s = e->store;

	if (!s->ac || redisAsyncCommand(s->ac, redis_erase_scan_reply_cb, e, "SCAN %s MATCH %s COUNT %d",
	                                e->cursor, e->pattern, REDIS_CHUNK) != REDIS_OK) {
		redis_erase_finish(e, -1, "cannot send SCAN");
		return;
	}
	s->commands_sent++;
}

int redis_store_erase_person(redis_store *s, const char *pseudonym_hex, redis_store_erase_cb cb,
                             void *opaque)
{
	if (!redis_store_connected(s))
		return -1;
	redis_erase *e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	e->store = s;
	e->cb = cb;
	e->opaque = opaque;
	strcpy(e->cursor, "0");
	snprintf(e->pseudonym_hex, sizeof(e->pseudonym_hex), "%s", pseudonym_hex);
	/* The prefix holds only letters, digits, '_', '.' and '-', and the
	 * pseudonym only hex digits, so neither adds a glob character. */
	int n = snprintf(e->pattern, sizeof(e->pattern), "{%s}:p:%s:*", s->cfg->redis.key_prefix,
	                 pseudonym_hex);
	if (n < 0 || (size_t)n >= sizeof(e->pattern)) {
		free(e);
		return -1;
	}
	redis_erase_scan(e);
	return 0;
}

/* ---------------------------------------------------------------- tick read */

static void redis_tick_release(redis_tick_read *t)
{
	if (t->starts)
		for (size_t w = 0; w < t->n_windows; w++)
			free(t->starts[w]);
	free(t->starts);
	free(t->n_starts);
	free(t->requests);
	t->starts = NULL;
	t->n_starts = NULL;
	t->requests = NULL;
	t->active = false;
}

static void redis_tick_finish(redis_store *s)
{
	redis_store_tick_cb cb = s->tick.cb;
	void *opaque = s->tick.opaque;
	int status = s->tick.failed ? -1 : 0;

	redis_tick_release(&s->tick);
	cb(status, opaque);
}

static size_t redis_behaviour_index(const config *cfg, const char *name, size_t len)
{
	for (size_t b = 0; b < cfg->n_behaviours; b++)
		if (strlen(cfg->behaviours[b].id) == len &&
		    memcmp(cfg->behaviours[b].id, name, len) == 0)
			return b;
	return SIZE_MAX;
}

/*
 * Adds the fields "<behaviour>|<scope>" -> count, and "capped:<behaviour>|<scope>"
 * -> credits above a daily cap, of one bucket hash to the tick.
 */
static void redis_tick_add_hash(redis_store *s, size_t window, const redisReply *reply)
{
	redis_tick_read *t = &s->tick;

	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *f = reply->element[i], *v = reply->element[i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		const char *name = f->str;
		size_t prefix = strlen(REDIS_CAPPED_PREFIX);
		bool capped = f->len > prefix && memcmp(name, REDIS_CAPPED_PREFIX, prefix) == 0;
		if (capped)
			name += prefix;
		const char *bar = memchr(name, '|', f->len - (size_t)(name - f->str));
		if (!bar)
			continue;
		size_t b = redis_behaviour_index(s->cfg, name, (size_t)(bar - name));
		uint32_t scope = roster_scope_find(t->roster, bar + 1);
		if (b == SIZE_MAX || scope == ROSTER_NO_SCOPE || scope >= t->n_scopes)
			continue;
		if (capped)
			kpi_tick_add_capped(t->tick, window, b, scope, strtoll(v->str, NULL, 10));
		else
			kpi_tick_add_count(t->tick, window, b, scope, strtoll(v->str, NULL, 10));
	}
}

/*
 * Adds the fields "<scope>" -> n of one headcount history or departures hash
 * to the tick. A headcount hash that exists counts as a recorded bucket.
 */
static void redis_tick_add_history(redis_store *s, size_t window, redis_tick_table table,
                                   const redisReply *reply)
{
	redis_tick_read *t = &s->tick;
	headcount_tick *h = kpi_tick_headcounts(t->tick);

	if (table == REDIS_TICK_HEADCOUNTS && reply->elements > 0)
		headcount_tick_add_bucket(h, window);
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *f = reply->element[i], *v = reply->element[i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		uint32_t scope = roster_scope_find(t->roster, f->str);
		if (scope == ROSTER_NO_SCOPE || scope >= t->n_scopes)
			continue;
		int64_t n = strtoll(v->str, NULL, 10);
		if (table == REDIS_TICK_HEADCOUNTS)
			headcount_tick_add(h, window, scope, n);
		else
			headcount_tick_add_departures(h, window, scope, n);
	}
}

static int redis_tick_send_pfcounts(redis_store *s);

static void redis_tick_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_tick_request *req = privdata;
	redis_store *s = req->store;
	redis_tick_read *t = &s->tick;
	redisReply *reply = r;

	if (!reply || reply->type == REDIS_REPLY_ERROR) {
		if (!t->failed)
			log_warn("redis", "tick read failed; this tick emits nothing", "error=\"%s\"",
			         reply ? reply->str : "connection lost");
		t->failed = 1;
	} else if (reply->type == REDIS_REPLY_ARRAY && req->table != REDIS_TICK_COUNTS) {
		redis_tick_add_history(s, req->window, req->table, reply);
	} else if (reply->type == REDIS_REPLY_ARRAY) {
		redis_tick_add_hash(s, req->window, reply);
	} else if (reply->type == REDIS_REPLY_INTEGER) {
		kpi_tick_set_contributors(t->tick, req->kpi, req->scope, reply->integer);
	}

	if (--t->pending > 0)
		return;
	if (!t->failed && req->kpi == SIZE_MAX) {
		/* Phase 1 is complete: req is not used past this point. */
		if (redis_tick_send_pfcounts(s) < 0)
			t->failed = 1;
		if (t->pending > 0)
			return;
	}
	redis_tick_finish(s);
}

/*
 * True when the tick needs the distinct people of KPI k in scope: the scope
 * is large enough to be reported, or k is an enps KPI and the scope has
 * members. Sibling suppression sizes eNPS scopes by their respondents
 * (kpi.c, suppress.h), so a small scope's respondents are needed too: read
 * as 0, a hidden scope would hide no sibling.
 */
static bool redis_tick_needs_people(const config *cfg, const roster *r, const config_kpi *k,
                                    uint32_t scope)
{
	if (kpi_scope_eligible(r, scope, cfg->privacy.min_group_size))
		return true;
	return k->aggregation == KPI_AGG_ENPS && roster_headcount(r, scope) > 0;
}

/* Phase 2: PFCOUNT over the KPI's behaviours and window buckets, per scope that needs it. */
static int redis_tick_send_pfcounts(redis_store *s)
{
	redis_tick_read *t = &s->tick;
	const config *cfg = s->cfg;
	size_t n_req = 0;

	free(t->requests);
	t->requests = calloc((size_t)cfg->n_kpis * t->n_scopes + 1, sizeof(*t->requests));
	if (!t->requests)
		return -1;

	for (size_t k = 0; k < cfg->n_kpis; k++) {
		const config_kpi *kpi = &cfg->kpis[k];
		const config_window *w = &cfg->windows.windows[kpi->window];
		if (!config_kpi_active(kpi) || kpi->n_behaviours == 0)
			continue;
		for (uint32_t scope = 0; scope < t->n_scopes; scope++) {
			if (!redis_tick_needs_people(cfg, t->roster, kpi, scope))
				continue;
			redis_args *a = &s->args;
			char key[REDIS_KEY_MAX];
			redis_args_reset(a);
			int rc = redis_args_add(a, "PFCOUNT", 7);
			for (size_t bi = 0; bi < kpi->n_behaviours; bi++)
				for (size_t i = 0; i < t->n_starts[kpi->window]; i++) {
					rc |= redis_hll_key(s, w->granularity, t->starts[kpi->window][i],
					                    cfg->behaviours[kpi->behaviours[bi]].id,
					                    roster_scope_name(t->roster, scope), key,
					                    sizeof(key)) < 0;
					rc |= redis_args_add(a, key, strlen(key));
				}
			const char **argv = redis_args_argv(a);
			if (rc || !argv)
				return -1;
			redis_tick_request *req = &t->requests[n_req++];
			*req = (redis_tick_request){ s, SIZE_MAX, k, scope, REDIS_TICK_COUNTS };
			if (redisAsyncCommandArgv(s->ac, redis_tick_reply_cb, req, (int)a->n, argv,
			                          a->lengths) != REDIS_OK)
				return -1;
			t->pending++;
			s->commands_sent++;
		}
	}
	return 0;
}

/* True when an active KPI over window w counts departures. */
static bool redis_window_reads_departures(const config *cfg, size_t w)
{
	for (size_t k = 0; k < cfg->n_kpis; k++)
		if (cfg->kpis[k].window == w && config_kpi_active(&cfg->kpis[k]) &&
		    config_aggregation_reads_departures(cfg->kpis[k].aggregation))
			return true;
	return false;
}

/* HGETALL of the headcount history hash, and the departures hash when read, of one bucket. */
static int redis_tick_send_history(redis_store *s, size_t w, int64_t start_ms, size_t *n_req)
{
	redis_tick_read *t = &s->tick;
	size_t gran = s->cfg->windows.windows[w].granularity;
	bool departures = redis_window_reads_departures(s->cfg, w);

	for (int table = REDIS_TICK_HEADCOUNTS; table <= REDIS_TICK_DEPARTURES; table++) {
		char key[REDIS_KEY_MAX];
		if (table == REDIS_TICK_DEPARTURES && !departures)
			break;
		redis_tick_request *req = &t->requests[(*n_req)++];
		*req = (redis_tick_request){ s, w, SIZE_MAX, 0, (redis_tick_table)table };
		if (redis_history_key(s, table == REDIS_TICK_HEADCOUNTS ? "hc" : "dep", gran,
		                      start_ms, key, sizeof(key)) < 0 ||
		    redisAsyncCommand(s->ac, redis_tick_reply_cb, req, "HGETALL %s", key) != REDIS_OK)
			return -1;
		t->pending++;
		s->commands_sent++;
	}
	return 0;
}

/* Phase 1: HGETALL of every bucket hash of every window. */
static int redis_tick_send_hgetalls(redis_store *s, window_clock *clock,
                                    const int64_t *window_end_ms)
{
	redis_tick_read *t = &s->tick;
	const config *cfg = s->cfg;
	size_t n_total = 0;

	t->n_windows = cfg->windows.n_windows;
	t->starts = calloc(cfg->windows.n_windows, sizeof(*t->starts));
	t->n_starts = calloc(cfg->windows.n_windows, sizeof(*t->n_starts));
	if (!t->starts || !t->n_starts)
		return -1;
	for (size_t w = 0; w < cfg->windows.n_windows; w++) {
		const config_window *win = &cfg->windows.windows[w];
		size_t n = window_buckets(clock, win, window_end_ms[w], NULL, 0);
		t->starts[w] = calloc(n ? n : 1, sizeof(int64_t));
		if (!t->starts[w])
			return -1;
		t->n_starts[w] = window_buckets(clock, win, window_end_ms[w], t->starts[w], n);
		n_total += t->n_starts[w];
	}

	/* Per bucket: counts, headcount history and, when read, departures. */
	t->requests = calloc(3 * n_total + 1, sizeof(*t->requests));
	if (!t->requests)
		return -1;
	size_t n_req = 0;
	for (size_t w = 0; w < cfg->windows.n_windows; w++) {
		for (size_t i = 0; i < t->n_starts[w]; i++) {
			char key[REDIS_KEY_MAX];
			redis_tick_request *req = &t->requests[n_req++];
			*req = (redis_tick_request){ s, w, SIZE_MAX, 0, REDIS_TICK_COUNTS };
			if (redis_count_key(s, cfg->windows.windows[w].granularity, t->starts[w][i],
			                    key, sizeof(key)) < 0)
				return -1;
			if (redisAsyncCommand(s->ac, redis_tick_reply_cb, req, "HGETALL %s", key) !=
			    REDIS_OK)
				return -1;
			t->pending++;
			s->commands_sent++;
			if (redis_tick_send_history(s, w, t->starts[w][i], &n_req) < 0)
				return -1;
		}
	}
	return 0;
}

int redis_store_read_tick(redis_store *s, kpi_tick *t, const roster *r, window_clock *clock,
                          const int64_t *window_end_ms, redis_store_tick_cb cb, void *opaque)
{
	if (!redis_store_connected(s) || s->tick.active)
		return -1;
	s->tick = (redis_tick_read){ .active = true, .tick = t, .roster = r,
	                             .n_scopes = roster_scope_count(r), .cb = cb,
	                             .opaque = opaque };

	if (redis_tick_send_hgetalls(s, clock, window_end_ms) < 0 || s->tick.pending == 0) {
		/* Replies already sent still arrive; let them end the tick as failed. */
		s->tick.failed = 1;
		if (s->tick.pending == 0) {
			redis_tick_release(&s->tick);
			return -1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- headcount history */

/* Bit g set when a rolling window reads granularity g. */
static uint32_t redis_window_grans(const config *cfg)
{
	uint32_t grans = 0;

	for (size_t w = 0; w < cfg->windows.n_windows; w++)
		grans |= 1u << cfg->windows.windows[w].granularity;
	return grans;
}

static void redis_headcount_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redisReply *reply = r;

	(void)ac;
	(void)privdata;
	if (reply && reply->type == REDIS_REPLY_ERROR)
		log_warn("redis", "headcount history write failed; the next tick writes it again",
		         "error=\"%s\"", reply->str);
}

/* Builds the snapshot EVAL: keys of the current buckets, their expiries, then scope pairs. */
static int redis_build_headcounts(redis_store *s, const roster *r, window_clock *clock,
                                  int64_t now_ms)
{
	redis_args *a = &s->args;
	uint32_t grans = redis_window_grans(s->cfg);
	char key[REDIS_KEY_MAX];
	int n_keys = 0;
	int rc = 0;

	for (size_t g = 0; g < s->cfg->windows.n_granularities; g++)
		n_keys += grans >> g & 1u;
	redis_args_reset(a);
	rc |= redis_args_add(a, "EVAL", 4) |
	      redis_args_add(a, redis_headcount_script, redis_headcount_script_len) |
	      redis_args_addf(a, "%d", n_keys);
	for (size_t g = 0; g < s->cfg->windows.n_granularities; g++) {
		if (!(grans >> g & 1u))
			continue;
		int64_t start = window_bucket_start(clock, g, now_ms);
		rc |= redis_history_key(s, "hc", g, start, key, sizeof(key)) < 0;
		rc |= redis_args_add(a, key, strlen(key));
	}
	for (size_t g = 0; g < s->cfg->windows.n_granularities; g++)
		if (grans >> g & 1u)
			rc |= redis_args_addf(a, "%" PRId64, redis_expire_at_s(s, clock, g,
			                      window_bucket_start(clock, g, now_ms)));
	for (uint32_t scope = 0; scope < roster_scope_count(r); scope++) {
		const char *name = roster_scope_name(r, scope);
		rc |= redis_args_add(a, name, strlen(name)) |
		      redis_args_addf(a, "%" PRIu32, roster_headcount(r, scope));
	}
	return rc ? -1 : 0;
}

/*
 * Adds one departure's keys to keys and its arguments to a (see
 * redis_departures_script). Returns 0, 1 when the departure is past
 * windows.retention and is skipped, or -1 when out of memory.
 */
static int redis_add_departure(redis_store *s, const roster *r, window_clock *clock,
                               int64_t now_ms, const headcount_departure *d, redis_args *keys,
                               redis_args *a)
{
	const config *cfg = s->cfg;
	uint32_t grans = redis_window_grans(cfg);
	int64_t day = d->at_ms - ((d->at_ms % HEADCOUNT_DEPARTURE_DAY_MS) +
	                          HEADCOUNT_DEPARTURE_DAY_MS) % HEADCOUNT_DEPARTURE_DAY_MS;
	int64_t set_expire_ms = day + HEADCOUNT_DEPARTURE_DAY_MS + cfg->windows.retention_ms;
	char key[REDIS_KEY_MAX], member[8];
	size_t n_scopes = 0;
	int rc = 0;

	if (set_expire_ms <= now_ms)
		return 1;
	for (int k = 0; k < SCOPE_KIND_COUNT; k++)
		n_scopes += d->scopes[k] != ROSTER_NO_SCOPE;

	snprintf(key, sizeof(key), "{%s}:dd:%" PRId64, cfg->redis.key_prefix, day / 1000);
	redis_id_bytes(d->key, member);
	rc |= redis_args_add(keys, key, strlen(key)) | redis_args_add(a, member, sizeof(member)) |
	      redis_args_addf(a, "%" PRId64, set_expire_ms / 1000 + 1) |
	      redis_args_addf(a, "%zu", n_scopes);
	for (int k = 0; k < SCOPE_KIND_COUNT; k++) {
		const char *name = roster_scope_name(r, d->scopes[k]);
		if (d->scopes[k] != ROSTER_NO_SCOPE)
			rc |= redis_args_add(a, name ? name : "", name ? strlen(name) : 0);
	}
	for (size_t g = 0; g < cfg->windows.n_granularities; g++) {
		if (!(grans >> g & 1u))
			continue;
		int64_t start = window_bucket_start(clock, g, d->at_ms);
		int64_t keep_until = window_bucket_end(clock, g, start) + window_keep_ms(cfg, g);
		rc |= redis_history_key(s, "dep", g, start, key, sizeof(key)) < 0;
		rc |= redis_args_add(keys, key, strlen(key));
		if (keep_until <= now_ms)
			rc |= redis_args_add(a, "0", 1);
		else
			rc |= redis_args_addf(a, "%" PRId64, redis_expire_at_s(s, clock, g, start));
	}
	return rc ? -1 : 0;
}

static void redis_departures_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_store *s = privdata;
	redisReply *reply = r;

	(void)ac;
	if (!reply || reply->type == REDIS_REPLY_ERROR) {
		if (reply)
			log_warn("redis", "departures write failed; the next tick sends them again",
			         "error=\"%s\" departures=%zu", reply->str, s->departures_sent);
	} else {
		if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
			log_info("roster", "departures counted", "new=%lld sent=%zu",
			         reply->integer, s->departures_sent);
		headcount_departures_consume(s->departures, s->departures_sent);
	}
	s->departures_sent = 0;
}

/* Appends every argument of from to a. */
static int redis_args_append(redis_args *a, redis_args *from)
{
	const char **argv = from->n ? redis_args_argv(from) : NULL;
	int rc = from->n && !argv;

	for (size_t i = 0; i < from->n && !rc; i++)
		rc |= redis_args_add(a, argv[i], from->lengths[i]);
	return rc;
}

/*
 * Sends up to REDIS_DEPARTURES_PER_CALL departures from the front of q, as
 * EVAL script numkeys keys... arguments...: the keys and the arguments of
 * each departure are collected apart, then joined.
 */
static int redis_send_departures(redis_store *s, const roster *r, window_clock *clock,
                                 int64_t now_ms, headcount_departures *q)
{
	redis_args keys = {0}, rest = {0};
	redis_args *a = &s->args;
	size_t n = q->n < REDIS_DEPARTURES_PER_CALL ? q->n : REDIS_DEPARTURES_PER_CALL;
	size_t written = 0;
	int result = -1;
	int rc = redis_args_addf(&rest, "%d", __builtin_popcount(redis_window_grans(s->cfg)));

	for (size_t i = 0; i < n && !rc; i++) {
		int skipped = redis_add_departure(s, r, clock, now_ms, &q->items[i], &keys, &rest);
		rc |= skipped < 0;
		written += skipped == 0;
	}
	if (rc)
		goto out;
	if (written == 0) {
		/* Every departure was past windows.retention: nothing to send. */
		headcount_departures_consume(q, n);
		result = 0;
		goto out;
	}

	redis_args_reset(a);
	rc = redis_args_add(a, "EVAL", 4) |
	     redis_args_add(a, redis_departures_script, redis_departures_script_len) |
	     redis_args_addf(a, "%zu", keys.n) | redis_args_append(a, &keys) |
	     redis_args_append(a, &rest);
	const char **argv = rc ? NULL : redis_args_argv(a);
	if (argv && redisAsyncCommandArgv(s->ac, redis_departures_reply_cb, s, (int)a->n, argv,
	                                  a->lengths) == REDIS_OK) {
		s->departures = q;
		s->departures_sent = n;
		s->commands_sent++;
		result = 0;
	}
out:
	redis_args_fini(&keys);
	redis_args_fini(&rest);
	return result;
}

int redis_store_write_headcounts(redis_store *s, const roster *r, window_clock *clock,
                                 int64_t now_ms, headcount_departures *q)
{
	if (!redis_store_connected(s))
		return -1;
	if (redis_build_headcounts(s, r, clock, now_ms) < 0)
		return -1;
	const char **argv = redis_args_argv(&s->args);
	if (!argv || redisAsyncCommandArgv(s->ac, redis_headcount_reply_cb, NULL, (int)s->args.n,
	                                   argv, s->args.lengths) != REDIS_OK)
		return -1;
	s->commands_sent++;
	if (q->n == 0 || s->departures_sent > 0)
		return 0;
	return redis_send_departures(s, r, clock, now_ms, q);
}

/* ---------------------------------------------------------------- reload, governance */

void redis_store_set_config(redis_store *s, const config *cfg)
{
	s->cfg = cfg;
}

/* Context of one governance command: whose callback gets the reply. */
typedef struct redis_governance_call {
	redis_store_governance_read_cb read_cb;
	redis_store_governance_swap_cb swap_cb;
	void *opaque;
} redis_governance_call;

static void redis_governance_key(const redis_store *s, char *out, size_t size)
{
	snprintf(out, size, "{%s}:governance", s->cfg->redis.key_prefix);
}

/* HGETALL's flat reply as fields; NULL reply or error: status -1. */
static void redis_governance_read_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_governance_call *call = privdata;
	redisReply *reply = r;
	redis_field *fields = NULL;
	size_t n = 0;
	int status = -1;

	if (reply && reply->type == REDIS_REPLY_ARRAY) {
		fields = calloc(reply->elements / 2 + 1, sizeof(*fields));
		for (size_t i = 0; fields && i + 1 < reply->elements; i += 2) {
			if (reply->element[i]->type != REDIS_REPLY_STRING ||
			    reply->element[i + 1]->type != REDIS_REPLY_STRING)
				continue;
			fields[n++] = (redis_field){ reply->element[i]->str, reply->element[i + 1]->str };
		}
		status = fields ? 0 : -1;
	} else if (reply) {
		log_warn("redis", "cannot read the governance hash", "error=\"%s\"",
		         reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	}
	call->read_cb(status, fields, n, call->opaque);
	free(fields);
	free(call);
}

int redis_store_governance_read(redis_store *s, redis_store_governance_read_cb cb, void *opaque)
{
	char key[REDIS_KEY_MAX];
	redis_governance_call *call;

	if (!redis_store_connected(s) || !(call = calloc(1, sizeof(*call))))
		return -1;
	call->read_cb = cb;
	call->opaque = opaque;
	redis_governance_key(s, key, sizeof(key));
	if (redisAsyncCommand(s->ac, redis_governance_read_reply_cb, call, "HGETALL %s", key) !=
	    REDIS_OK) {
		free(call);
		return -1;
	}
	s->commands_sent++;
	return 0;
}

static void redis_governance_swap_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_governance_call *call = privdata;
	redisReply *reply = r;
	const char *stored = NULL;
	int status = -1;

	if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
	    reply->element[0]->type == REDIS_REPLY_INTEGER) {
		status = reply->element[0]->integer == 1 ? 1 : 0;
		if (status == 0 && reply->elements > 1 &&
		    reply->element[1]->type == REDIS_REPLY_STRING)
			stored = reply->element[1]->str;
	} else if (reply) {
		log_warn("redis", "cannot swap the governance hash", "error=\"%s\"",
		         reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	}
	call->swap_cb(status, stored ? stored : "", call->opaque);
	free(call);
}

static int redis_build_governance_swap(redis_store *s, redis_args *a, const char *expected,
                                       const char *version, const char *record, int64_t now_ms,
                                       const redis_field *fields, size_t n)
{
	char key[REDIS_KEY_MAX], at[32];
	int rc;

	snprintf(at, sizeof(at), "%" PRId64, now_ms);

	redis_governance_key(s, key, sizeof(key));
	rc = redis_args_add(a, "EVAL", 4) |
	     redis_args_add(a, redis_governance_swap_script, redis_governance_swap_script_len) |
	     redis_args_add(a, "1", 1) | redis_args_add(a, key, strlen(key)) |
	     redis_args_add(a, expected, strlen(expected)) |
	     redis_args_add(a, version, strlen(version)) | redis_args_add(a, record, strlen(record)) |
	     redis_args_add(a, at, strlen(at));
	for (size_t i = 0; i < n; i++)
		rc |= redis_args_add(a, fields[i].name, strlen(fields[i].name)) |
		      redis_args_add(a, fields[i].value, strlen(fields[i].value));
	return rc;
}

int redis_store_governance_swap(redis_store *s, const char *expected, const char *version,
                                const char *record, int64_t now_ms, const redis_field *fields,
                                size_t n, redis_store_governance_swap_cb cb, void *opaque)
{
	redis_args a = { 0 };
	redis_governance_call *call = NULL;
	const char **argv;
	int rc = -1;

	if (!redis_store_connected(s) || !(call = calloc(1, sizeof(*call))))
		goto out;
	call->swap_cb = cb;
	call->opaque = opaque;
	if (redis_build_governance_swap(s, &a, expected, version, record, now_ms, fields, n) < 0 ||
	    !(argv = redis_args_argv(&a)))
		goto out;
	if (redisAsyncCommandArgv(s->ac, redis_governance_swap_reply_cb, call, (int)a.n, argv,
	                          a.lengths) != REDIS_OK)
		goto out;
	s->commands_sent++;
	call = NULL;
	rc = 0;
out:
	free(call);
	redis_args_fini(&a);
	return rc;
}

static void redis_governance_clear_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redisReply *reply = r;

	if (reply && reply->type == REDIS_REPLY_ERROR)
		log_warn("redis", "cannot mark the governance record delivered; it is produced "
		         "again at the next start or reload", "error=\"%s\"", reply->str);
}

int redis_store_governance_clear(redis_store *s, const char *version)
{
	char key[REDIS_KEY_MAX];

	if (!redis_store_connected(s))
		return -1;
	redis_governance_key(s, key, sizeof(key));
	if (redisAsyncCommand(s->ac, redis_governance_clear_reply_cb, NULL, "EVAL %b 1 %s %s",
	                      redis_governance_clear_script, redis_governance_clear_script_len,
	                      key, version) != REDIS_OK)
		return -1;
	s->commands_sent++;
	return 0;
}

/* ---------------------------------------------------------------- generic */

typedef struct redis_command_call {
	redis_store_reply_cb cb;
	void *opaque;
} redis_command_call;

static void redis_command_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_command_call *call = privdata;

	if (call->cb)
		call->cb(r, call->opaque);
	free(call);
}

int redis_store_command(redis_store *s, int argc, const char **argv, const size_t *lens,
                        redis_store_reply_cb cb, void *opaque)
{
	redis_command_call *call;

	if (!redis_store_connected(s) || !(call = malloc(sizeof(*call))))
		return -1;
	call->cb = cb;
	call->opaque = opaque;
	if (redisAsyncCommandArgv(s->ac, redis_command_reply_cb, call, argc, argv, lens) !=
	    REDIS_OK) {
		free(call);
		return -1;
	}
	s->commands_sent++;
	return 0;
}
