/*
 * redis_store.c - hiredis async client for window state (see redis_store.h).
 *
 * Runs on the daemon's libevent loop; every callback runs on that loop.
 * At most one flush and one tick read are in flight at a time: the caller
 * waits for the flush callback before sending the next batch, which is what
 * keeps memory bounded while Redis is slow or away.
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

#define REDIS_BACKOFF_MIN_MS 100
#define REDIS_BACKOFF_MAX_MS 5000
#define REDIS_PING_INTERVAL_MS 1000
#define REDIS_REPLY_TIMEOUT_MS 5000
#define REDIS_PFADD_CHUNK 1000
#define REDIS_KEY_MAX 512

/*
 * Applies one batch if no partition of it has been applied before.
 * KEYS[1] offsets hash. ARGV: partition count P, then P triples (field,
 * first offset, next offset), then the command count and each command as
 * (argc, name, args...). Returns {1} when applied, or {0, field, stored, ...}
 * listing the partitions Redis is already past.
 */
static const char redis_flush_script[] =
	"local p = tonumber(ARGV[1])\n"
	"local stale = {0}\n"
	"local i = 2\n"
	"for _ = 1, p do\n"
	"  local stored = redis.call('HGET', KEYS[1], ARGV[i])\n"
	"  if stored and tonumber(stored) > tonumber(ARGV[i + 1]) then\n"
	"    stale[#stale + 1] = ARGV[i]\n"
	"    stale[#stale + 1] = stored\n"
	"  end\n"
	"  i = i + 3\n"
	"end\n"
	"if #stale > 1 then return stale end\n"
	"i = 2\n"
	"for _ = 1, p do\n"
	"  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])\n"
	"  i = i + 3\n"
	"end\n"
	"local n = tonumber(ARGV[i])\n"
	"i = i + 1\n"
	"for _ = 1, n do\n"
	"  local argc = tonumber(ARGV[i])\n"
	"  redis.call(unpack(ARGV, i + 1, i + argc))\n"
	"  i = i + 1 + argc\n"
	"end\n"
	"return {1}\n";

/* Arguments of one command, built in one growing buffer and reused. */
typedef struct redis_args {
	char *bytes;
	size_t len, cap;
	size_t *offsets;
	size_t *lengths;
	const char **argv;
	size_t n, n_cap;
} redis_args;

/* A (granularity, bucket) whose count hash needs its expiry set. */
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

/* Context of one tick reply: HGETALL of a window bucket, or PFCOUNT of (KPI, scope). */
typedef struct redis_tick_request {
	redis_store *store;
	size_t window;            /* HGETALL */
	size_t kpi;               /* PFCOUNT */
	uint32_t scope;           /* PFCOUNT */
} redis_tick_request;

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
	redis_bucket_ref *buckets;
	size_t n_buckets, buckets_cap;

	bool flush_active;
	redis_store_flush_cb flush_cb;
	void *flush_opaque;
	redis_partition_offsets *flush_parts;
	size_t flush_n_parts;

	redis_tick_read tick;
	uint64_t commands_sent;
	char offsets_key[REDIS_KEY_MAX];
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
	s->reconnect_timer = evtimer_new(base, redis_reconnect_cb, s);
	s->health_timer = event_new(base, -1, EV_PERSIST, redis_health_cb, s);
	if (!s->reconnect_timer || !s->health_timer) {
		snprintf(errstr, errstr_size, "cannot create Redis timers");
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
	free(s->buckets);
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

/* Appends (argc, args...) of one command; argc is patched in at the end. */
typedef struct redis_cmd_mark {
	size_t argc_index;
	size_t first;
} redis_cmd_mark;

static int redis_cmd_begin(redis_args *a, redis_cmd_mark *m)
{
	m->argc_index = a->n;
	if (redis_args_add(a, "0000000", 7) < 0)
		return -1;
	m->first = a->n;
	return 0;
}

static void redis_cmd_end(redis_args *a, const redis_cmd_mark *m, size_t *n_cmds)
{
	char digits[8];
	int n = snprintf(digits, sizeof(digits), "%zu", a->n - m->first);
	/* The placeholder is 7 bytes; shrink its recorded length to the digits. */
	memcpy(a->bytes + a->offsets[m->argc_index], digits, (size_t)n);
	a->lengths[m->argc_index] = (size_t)n;
	(*n_cmds)++;
}

static int redis_add_cell(redis_store *s, const window_batch *b, const window_cell *c,
                          const roster *r, window_clock *clock, size_t *n_cmds)
{
	redis_args *a = &s->args;
	const char *behaviour = s->cfg->behaviours[c->behaviour].id;
	const char *scope = roster_scope_name(r, c->scope);
	char key[REDIS_KEY_MAX], field[REDIS_KEY_MAX];
	int64_t expire_at = redis_expire_at_s(s, clock, c->gran, c->bucket_start_ms);
	redis_cmd_mark m;
	int rc = 0;

	snprintf(field, sizeof(field), "%s|%s", behaviour, scope);
	if (c->count != 0) {
		if (redis_count_key(s, c->gran, c->bucket_start_ms, key, sizeof(key)) < 0)
			return -1;
		rc |= redis_cmd_begin(a, &m) | redis_args_add(a, "HINCRBY", 7) |
		      redis_args_add(a, key, strlen(key)) | redis_args_add(a, field, strlen(field)) |
		      redis_args_addf(a, "%" PRId64, c->count);
		redis_cmd_end(a, &m, n_cmds);
		int fresh = redis_bucket_note(s, c->gran, c->bucket_start_ms);
		if (fresh > 0) {
			rc |= redis_cmd_begin(a, &m) | redis_args_add(a, "EXPIREAT", 8) |
			      redis_args_add(a, key, strlen(key)) |
			      redis_args_addf(a, "%" PRId64, expire_at);
			redis_cmd_end(a, &m, n_cmds);
		}
		rc |= fresh < 0 ? -1 : 0;
	}
	if (c->n_members == 0)
		return rc;

	if (redis_hll_key(s, c->gran, c->bucket_start_ms, behaviour, scope, key, sizeof(key)) < 0)
		return -1;
	const pseudonym *members = window_batch_members(b) + c->first_member;
	for (size_t done = 0; done < c->n_members; done += REDIS_PFADD_CHUNK) {
		size_t n = c->n_members - done < REDIS_PFADD_CHUNK ? c->n_members - done
		                                                   : REDIS_PFADD_CHUNK;
		rc |= redis_cmd_begin(a, &m) | redis_args_add(a, "PFADD", 5) |
		      redis_args_add(a, key, strlen(key));
		for (size_t i = 0; i < n; i++) {
			char hex[PSEUDONYM_HEX_SIZE];
			pseudonym_to_hex(&members[done + i], hex);
			rc |= redis_args_add(a, hex, PSEUDONYM_HEX_SIZE - 1);
		}
		redis_cmd_end(a, &m, n_cmds);
	}
	rc |= redis_cmd_begin(a, &m) | redis_args_add(a, "EXPIREAT", 8) |
	      redis_args_add(a, key, strlen(key)) | redis_args_addf(a, "%" PRId64, expire_at);
	redis_cmd_end(a, &m, n_cmds);
	return rc;
}

static int redis_offset_field(const redis_store *s, const redis_partition_offsets *p,
                              char *out, size_t size)
{
	int n = snprintf(out, size, "%s|%s|%" PRId32, s->cfg->kafka.group_id, p->topic,
	                 p->partition);
	return n > 0 && (size_t)n < size ? n : -1;
}

/* Fills stored_offset of the parts listed in a stale reply {0, field, stored, ...}. */
static void redis_note_stale(redis_store *s, const redisReply *reply)
{
	char field[REDIS_KEY_MAX];

	for (size_t p = 0; p < s->flush_n_parts; p++) {
		redis_partition_offsets *part = &s->flush_parts[p];
		part->stored_offset = -1;
		if (redis_offset_field(s, part, field, sizeof(field)) < 0)
			continue;
		for (size_t i = 1; i + 1 < reply->elements; i += 2) {
			const redisReply *f = reply->element[i], *v = reply->element[i + 1];
			if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
			    strcmp(f->str, field) == 0)
				part->stored_offset = strtoll(v->str, NULL, 10);
		}
	}
}

static void redis_flush_reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	redis_store *s = privdata;
	redisReply *reply = r;
	redis_flush_status status = REDIS_FLUSH_FAILED;

	if (!reply) {
		log_warn("redis", "batch write not acknowledged; it will be retried", "%s", "");
	} else if (reply->type == REDIS_REPLY_ERROR) {
		log_error("redis", "batch write failed; it will be retried", "error=\"%s\"",
		          reply->str);
	} else if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
	           reply->element[0]->type == REDIS_REPLY_INTEGER) {
		if (reply->element[0]->integer == 1) {
			status = REDIS_FLUSH_APPLIED;
		} else {
			redis_note_stale(s, reply);
			status = REDIS_FLUSH_STALE;
		}
	}
	s->flush_active = false;
	s->flush_cb(status, s->flush_opaque);
}

static int redis_build_flush(redis_store *s, const window_batch *batch, const roster *r,
                             window_clock *clock, redis_partition_offsets *parts,
                             size_t n_parts)
{
	redis_args *a = &s->args;
	char field[REDIS_KEY_MAX];
	size_t n_cmds = 0, count_index;
	int rc = 0;

	redis_args_reset(a);
	s->n_buckets = 0;
	rc |= redis_args_add(a, "EVAL", 4) |
	      redis_args_add(a, redis_flush_script, sizeof(redis_flush_script) - 1) |
	      redis_args_add(a, "1", 1) | redis_args_add(a, s->offsets_key, strlen(s->offsets_key)) |
	      redis_args_addf(a, "%zu", n_parts);
	for (size_t i = 0; i < n_parts; i++) {
		if (redis_offset_field(s, &parts[i], field, sizeof(field)) < 0)
			return -1;
		rc |= redis_args_add(a, field, strlen(field)) |
		      redis_args_addf(a, "%" PRId64, parts[i].first_offset) |
		      redis_args_addf(a, "%" PRId64, parts[i].next_offset);
	}
	count_index = a->n;
	rc |= redis_args_add(a, "0000000000", 10);
	for (size_t i = 0; i < window_batch_cell_count(batch); i++)
		rc |= redis_add_cell(s, batch, window_batch_cell(batch, i), r, clock, &n_cmds);
	if (rc)
		return -1;

	int n = snprintf(field, sizeof(field), "%zu", n_cmds);
	memcpy(a->bytes + a->offsets[count_index], field, (size_t)n);
	a->lengths[count_index] = (size_t)n;
	return 0;
}

int redis_store_flush(redis_store *s, const window_batch *batch, const roster *r,
                      window_clock *clock, redis_partition_offsets *parts, size_t n_parts,
                      redis_store_flush_cb cb, void *opaque)
{
	if (!redis_store_connected(s) || s->flush_active)
		return -1;
	if (redis_build_flush(s, batch, r, clock, parts, n_parts) < 0) {
		log_error("redis", "cannot build the batch write (out of memory or key too long)",
		          "cells=%zu", window_batch_cell_count(batch));
		return -1;
	}
	const char **argv = redis_args_argv(&s->args);
	if (!argv)
		return -1;

	s->flush_active = true;
	s->flush_cb = cb;
	s->flush_opaque = opaque;
	s->flush_parts = parts;
	s->flush_n_parts = n_parts;
	if (redisAsyncCommandArgv(s->ac, redis_flush_reply_cb, s, (int)s->args.n, argv,
	                          s->args.lengths) != REDIS_OK) {
		s->flush_active = false;
		return -1;
	}
	s->commands_sent++;
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

/* Adds the fields "<behaviour>|<scope>" -> count of one bucket hash to the tick. */
static void redis_tick_add_hash(redis_store *s, size_t window, const redisReply *reply)
{
	redis_tick_read *t = &s->tick;

	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *f = reply->element[i], *v = reply->element[i + 1];
		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		const char *bar = memchr(f->str, '|', f->len);
		if (!bar)
			continue;
		size_t b = redis_behaviour_index(s->cfg, f->str, (size_t)(bar - f->str));
		uint32_t scope = roster_scope_find(t->roster, bar + 1);
		if (b == SIZE_MAX || scope == ROSTER_NO_SCOPE || scope >= t->n_scopes)
			continue;
		kpi_tick_add_count(t->tick, window, b, scope, strtoll(v->str, NULL, 10));
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

/* Phase 2: PFCOUNT over the KPI's behaviours and window buckets, per eligible scope. */
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
		for (uint32_t scope = 0; scope < t->n_scopes; scope++) {
			if (!kpi_scope_eligible(t->roster, scope, cfg->privacy.min_group_size))
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
			*req = (redis_tick_request){ s, SIZE_MAX, k, scope };
			if (redisAsyncCommandArgv(s->ac, redis_tick_reply_cb, req, (int)a->n, argv,
			                          a->lengths) != REDIS_OK)
				return -1;
			t->pending++;
			s->commands_sent++;
		}
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

	t->requests = calloc(n_total + 1, sizeof(*t->requests));
	if (!t->requests)
		return -1;
	size_t n_req = 0;
	for (size_t w = 0; w < cfg->windows.n_windows; w++) {
		for (size_t i = 0; i < t->n_starts[w]; i++) {
			char key[REDIS_KEY_MAX];
			redis_tick_request *req = &t->requests[n_req++];
			*req = (redis_tick_request){ s, w, SIZE_MAX, 0 };
			if (redis_count_key(s, cfg->windows.windows[w].granularity, t->starts[w][i],
			                    key, sizeof(key)) < 0)
				return -1;
			if (redisAsyncCommand(s->ac, redis_tick_reply_cb, req, "HGETALL %s", key) !=
			    REDIS_OK)
				return -1;
			t->pending++;
			s->commands_sent++;
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
