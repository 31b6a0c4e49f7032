/*
 * escalation.c - the lease, the state and the outbox of escalations in Redis.
 *
 * A tick on the lease holder: the engine's events are encoded as Kafka
 * records into `next` (id, record pairs) and its changed states exported
 * into `changes`. esc_commit sends both in one fenced script call and moves
 * the records to `flight`. When Redis confirms the write, each record is
 * produced, and its id waits in `acked` until every delivery report is in.
 * Then one HDEL removes them from the outbox. A record is the key, the
 * headers, the value and its order, each with a 32-bit big-endian length
 * (esc_record_*), so records read back from the outbox are sent exactly as
 * first written. The order is the fence and a sequence number, both 64-bit
 * big-endian. Redis returns a hash in no particular order, so a new holder
 * sorts the outbox by them and sends each alert's events in the order they
 * were decided: the firing, its repeats in sequence, then its resolve.
 */
#include "escalation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "log.h"

#define ESC_KEY_MAX 300
#define ESC_CHECK_MS 100         /* delivery check while records are in flight */
#define ESC_RECORD_MAX (1 << 20) /* a stored record larger than this is not one of ours */

/*
 * Lease: renewed (fence), newly taken (-fence) or held by another (0). A
 * value that is not "<instance> <fence>", or one without an expiry, was not
 * written by a lease holder: it is taken over, or no instance would ever
 * evaluate again. A fence counter below 1 is an error, since 0 means "held
 * by another".
 */
static const char esc_lease_script[] =
    "local cur = redis.call('GET', KEYS[1])\n"
    "if cur then\n"
    "  local inst, fence = string.match(cur, '^(%S+) (%d+)$')\n"
    "  if inst == ARGV[1] and tonumber(fence) > 0 then\n"
    "    redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "    return tonumber(fence)\n"
    "  end\n"
    "  if inst and inst ~= ARGV[1] and redis.call('PTTL', KEYS[1]) >= 0 then return 0 end\n"
    "end\n"
    "local fence = redis.call('INCR', KEYS[2])\n"
    "if fence < 1 then\n"
    "  return redis.error_reply(KEYS[2] .. ' holds ' .. fence .. ', not a fence: set it to a '\n"
    "    .. 'number above every fence used so far')\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. fence, 'PX', ARGV[2])\n"
    "return -fence\n";

/* Writes state changes and outbox records when the lease is still ours: 1, else 0. */
static const char esc_commit_script[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "local i = 3\n"
    "for _ = 1, tonumber(ARGV[2]) do\n"
    "  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[2], ARGV[i])\n"
    "  else redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end\n"
    "  i = i + 2\n"
    "end\n"
    "for _ = 1, tonumber(ARGV[i]) do\n"
    "  redis.call('HSET', KEYS[3], ARGV[i + 1], ARGV[i + 2])\n"
    "  i = i + 2\n"
    "end\n"
    "return 1\n";

/* Gives the lease up when it is still ours. */
static const char esc_release_script[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end\n"
    "return 1\n";

/* Strings in one buffer: item i starts at bytes + off[i] and is lens[i] long. */
typedef struct esc_list {
	char *bytes;
	size_t len, cap;
	size_t *off, *lens;
	size_t n, n_cap;
} esc_list;

typedef struct esc_buf {
	unsigned char *data;
	size_t len, cap;
} esc_buf;

typedef enum esc_phase {
	ESC_FOLLOWER,     /* another instance owns the lease, or none was requested yet */
	ESC_LOADING,      /* lease held, state being read */
	ESC_READY,        /* lease held, state in the engine */
} esc_phase;

struct escalation {
	struct event_base *base;
	const config *cfg;
	redis_store *store;
	kafka_producer *producer;
	encoder *encoder;
	char instance[64];
	escalation_event_cb on_event;
	void *opaque;

	alert_engine *engine;
	esc_phase phase;
	int64_t fence;
	char lease_value[96];        /* "<instance> <fence>" while held */
	bool lease_requested;        /* a lease call is in flight */
	bool loading_outbox;
	uint64_t sequence;           /* events recorded so far, the order within a fence */

	esc_list next;               /* records of events decided, not yet written */
	esc_list changes;            /* state changes, key then text ("" = delete) */
	esc_list flight;             /* records of the write in flight */
	esc_list acked;              /* ids produced, waiting for delivery reports */
	uint64_t flight_states[ALERT_STATE_COUNT];
	uint64_t next_states[ALERT_STATE_COUNT];
	bool writing;
	size_t delivering;           /* records produced, delivery not reported */
	uint64_t failed_before;      /* escalation topic failures when producing began */
	encode_buf value;
	encode_ce_headers headers;
	esc_buf record;              /* scratch for one record */

	struct event *lease_timer;
	struct event *check_timer;
	bool stopping;
	void (*stop_done)(void *);
	void *stop_opaque;
	bool released;

	uint64_t written[ALERT_STATE_COUNT];
	uint64_t resent;
};

static void esc_commit(escalation *x);
static void esc_maybe_stopped(escalation *x);

/* ---------------------------------------------------------------- lists */

static int esc_list_add(esc_list *l, const void *p, size_t n)
{
	if (l->n == l->n_cap) {
		size_t cap = l->n_cap ? l->n_cap * 2 : 32;
		size_t *off = realloc(l->off, cap * sizeof(*off));

		if (!off)
			return -1;
		l->off = off;
		size_t *lens = realloc(l->lens, cap * sizeof(*lens));
		if (!lens)
			return -1;
		l->lens = lens;
		l->n_cap = cap;
	}
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 1024;
		char *bytes;

		while (cap < l->len + n + 1)
			cap *= 2;
		bytes = realloc(l->bytes, cap);
		if (!bytes)
			return -1;
		l->bytes = bytes;
		l->cap = cap;
	}
	memcpy(l->bytes + l->len, p, n);
	l->bytes[l->len + n] = '\0'; /* each item is also a C string */
	l->off[l->n] = l->len;
	l->lens[l->n] = n;
	l->len += n + 1;
	l->n++;
	return 0;
}

static const char *esc_list_at(const esc_list *l, size_t i)
{
	return l->bytes + l->off[i];
}

static void esc_list_reset(esc_list *l)
{
	l->len = 0;
	l->n = 0;
}

static void esc_list_free(esc_list *l)
{
	free(l->bytes);
	free(l->off);
	free(l->lens);
	memset(l, 0, sizeof(*l));
}

/* Appends all of src to dst. Returns 0 or -1. */
static int esc_list_append(esc_list *dst, const esc_list *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (esc_list_add(dst, esc_list_at(src, i), src->lens[i]) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------- records */

static void esc_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t esc_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void esc_put_u64(unsigned char *p, uint64_t v)
{
	esc_put_u32(p, (uint32_t)(v >> 32));
	esc_put_u32(p + 4, (uint32_t)v);
}

static uint64_t esc_get_u64(const unsigned char *p)
{
	return (uint64_t)esc_get_u32(p) << 32 | esc_get_u32(p + 4);
}

static int esc_buf_put(esc_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		unsigned char *data;

		while (cap < b->len + n)
			cap *= 2;
		data = realloc(b->data, cap);
		if (!data)
			return -1;
		b->data = data;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* Appends a field with its 32-bit length to the scratch record. */
static int esc_record_field(esc_buf *r, const void *p, size_t n)
{
	unsigned char len[4];

	esc_put_u32(len, (uint32_t)n);
	return esc_buf_put(r, len, 4) | esc_buf_put(r, p, n);
}

/* Builds the record of one encoded event: key, headers, value, order. */
static int esc_record_build(escalation *x, const char *key)
{
	unsigned char count[4], order[16];
	int rc;

	x->record.len = 0;
	esc_put_u32(count, (uint32_t)x->headers.n);
	rc = esc_record_field(&x->record, key, strlen(key));
	rc |= esc_record_field(&x->record, count, 4);
	for (size_t i = 0; i < x->headers.n; i++) {
		const encode_header *h = &x->headers.h[i];
		rc |= esc_record_field(&x->record, h->name, strlen(h->name));
		rc |= esc_record_field(&x->record, h->value, strlen(h->value));
	}
	rc |= esc_record_field(&x->record, x->value.data, x->value.len);
	esc_put_u64(order, (uint64_t)x->fence);
	esc_put_u64(order + 8, ++x->sequence);
	rc |= esc_record_field(&x->record, order, sizeof(order));
	return rc ? -1 : 0;
}

/* Reads the next field of a stored record. Returns false when the record ends too early. */
static bool esc_record_next(const unsigned char **p, const unsigned char *end,
                            const unsigned char **field, size_t *n)
{
	if (end - *p < 4)
		return false;
	*n = esc_get_u32(*p);
	if ((size_t)(end - *p - 4) < *n)
		return false;
	*field = *p + 4;
	*p += 4 + *n;
	return true;
}

/* Copies a field as a C string into the scratch area at *at. */
static const char *esc_record_cstr(char **at, const unsigned char *field, size_t n)
{
	char *s = *at;

	memcpy(s, field, n);
	s[n] = '\0';
	*at += n + 1;
	return s;
}

/*
 * Produces a stored record. Header names and values are copied into one
 * scratch area as C strings, because the record stores them length-prefixed.
 * Returns 0, or -1 when it does not parse (logged).
 */
static int esc_record_produce(escalation *x, const char *id, const char *rec, size_t len)
{
	const unsigned char *p = (const unsigned char *)rec, *end = p + len, *key, *f, *value;
	kafka_header headers[ENCODE_CE_MAX_HEADERS];
	size_t key_len, n, value_len, n_headers = 0;
	char *scratch = NULL, *at;

	if (len > ESC_RECORD_MAX || !esc_record_next(&p, end, &key, &key_len) ||
	    !esc_record_next(&p, end, &f, &n) || n != 4)
		goto bad;
	n_headers = esc_get_u32(f);
	if (n_headers > ENCODE_CE_MAX_HEADERS || !(scratch = malloc(len + 2 * n_headers)))
		goto bad;
	at = scratch;
	for (size_t i = 0; i < n_headers; i++) {
		const char *name;

		if (!esc_record_next(&p, end, &f, &n))
			goto bad;
		name = esc_record_cstr(&at, f, n);
		if (!esc_record_next(&p, end, &f, &n))
			goto bad;
		headers[i] = (kafka_header){name, esc_record_cstr(&at, f, n)};
	}
	/* The order field is optional: records of earlier versions end after the value. */
	if (!esc_record_next(&p, end, &value, &value_len) ||
	    (p != end && (!esc_record_next(&p, end, &f, &n) || n != 16 || p != end)))
		goto bad;
	kafka_producer_send(x->producer, x->cfg->outputs.escalations.topic, key, key_len, value,
	                    value_len, headers, n_headers, &x->delivering);
	free(scratch);
	return 0;
bad:
	free(scratch);
	log_error("alert", "an outbox record does not parse; it is deleted unsent", "key=\"{%s}:alerts:"
	          "outbox\" id=\"%s\" bytes=%zu", x->cfg->redis.key_prefix, id, len);
	return -1;
}

/* Where a stored record belongs in the resend: its fence and sequence. */
typedef struct esc_stored {
	uint64_t fence, sequence;
	size_t at;                   /* index of its id in the outbox reply */
} esc_stored;

/* Reads the order after the value of a stored record, or 0 and 0 when it has none. */
static void esc_record_order(const char *rec, size_t len, esc_stored *s)
{
	const unsigned char *p = (const unsigned char *)rec, *end = p + len, *f;
	size_t n, n_fields;

	s->fence = 0;
	s->sequence = 0;
	if (!esc_record_next(&p, end, &f, &n) || !esc_record_next(&p, end, &f, &n) || n != 4)
		return;
	n_fields = 2 * (size_t)esc_get_u32(f) + 1; /* header names and values, then the value */
	for (size_t i = 0; i < n_fields; i++)
		if (!esc_record_next(&p, end, &f, &n))
			return;
	if (esc_record_next(&p, end, &f, &n) && n == 16) {
		s->fence = esc_get_u64(f);
		s->sequence = esc_get_u64(f + 8);
	}
}

static int esc_stored_cmp(const void *pa, const void *pb)
{
	const esc_stored *a = pa, *b = pb;

	if (a->fence != b->fence)
		return a->fence < b->fence ? -1 : 1;
	if (a->sequence != b->sequence)
		return a->sequence < b->sequence ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

/*
 * Copies the outbox read (id, record pairs) into records in the order the
 * events were decided: by fence, then by sequence. Returns 0, or -1 when an
 * entry is not a string or memory ran out.
 */
static int esc_outbox_sorted(const redisReply *reply, esc_list *records)
{
	size_t n = reply->elements / 2;
	esc_stored *order = calloc(n ? n : 1, sizeof(*order));
	int rc = -1;

	if (!order)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const redisReply *id = reply->element[2 * i], *rec = reply->element[2 * i + 1];

		if (id->type != REDIS_REPLY_STRING || rec->type != REDIS_REPLY_STRING)
			goto out;
		esc_record_order(rec->str, rec->len, &order[i]);
		order[i].at = 2 * i;
	}
	qsort(order, n, sizeof(*order), esc_stored_cmp);
	for (size_t i = 0; i < n; i++) {
		const redisReply *id = reply->element[order[i].at];
		const redisReply *rec = reply->element[order[i].at + 1];

		if (esc_list_add(records, id->str, id->len) < 0 ||
		    esc_list_add(records, rec->str, rec->len) < 0)
			goto out;
	}
	rc = 0;
out:
	free(order);
	return rc;
}

/* ---------------------------------------------------------------- deliveries */

static uint64_t esc_topic_failures(const escalation *x)
{
	const kafka_topic_count *counts;
	size_t n = kafka_producer_failures(x->producer, &counts);

	for (size_t i = 0; i < n; i++)
		if (strcmp(counts[i].topic, x->cfg->outputs.escalations.topic) == 0)
			return counts[i].count;
	return 0;
}

static void esc_key(const escalation *x, const char *what, char *out, size_t size)
{
	snprintf(out, size, "{%s}:alerts:%s", x->cfg->redis.key_prefix, what);
}

/* Clears the acknowledged ids from the outbox, in one HDEL. */
static void esc_clear_acked(escalation *x)
{
	char key[ESC_KEY_MAX];
	const char **argv = malloc((x->acked.n + 2) * sizeof(*argv));
	size_t *lens = malloc((x->acked.n + 2) * sizeof(*lens));

	esc_key(x, "outbox", key, sizeof(key));
	if (argv && lens) {
		argv[0] = "HDEL";
		lens[0] = 4;
		argv[1] = key;
		lens[1] = strlen(key);
		for (size_t i = 0; i < x->acked.n; i++) {
			argv[i + 2] = esc_list_at(&x->acked, i);
			lens[i + 2] = x->acked.lens[i];
		}
		/* Not sent: the ids stay in the outbox and go out again after a takeover. */
		redis_store_command(x->store, (int)x->acked.n + 2, argv, lens, NULL, NULL);
	}
	free(argv);
	free(lens);
	esc_list_reset(&x->acked);
}

/* While records are in flight: once all are reported, clear or send again. */
static void esc_check_cb(evutil_socket_t fd, short what, void *arg)
{
	escalation *x = arg;

	if (x->delivering > 0)
		return;
	event_del(x->check_timer);
	if (esc_topic_failures(x) != x->failed_before) {
		log_warn("alert", "escalations were not delivered; the outbox is read and sent again",
		         "topic=%s records=%zu", x->cfg->outputs.escalations.topic, x->acked.n);
		esc_list_reset(&x->acked);
		if (x->phase == ESC_READY)
			x->phase = ESC_LOADING; /* the next lease call reads the outbox again */
		esc_maybe_stopped(x);
		return;
	}
	esc_clear_acked(x);
	esc_maybe_stopped(x);
}

/* Produces records (id, record pairs) and watches their delivery. */
static void esc_produce_all(escalation *x, const esc_list *records)
{
	struct timeval tv = {0, ESC_CHECK_MS * 1000};

	if (x->delivering == 0 && x->acked.n == 0)
		x->failed_before = esc_topic_failures(x);
	for (size_t i = 0; i + 1 < records->n; i += 2) {
		const char *id = esc_list_at(records, i);

		/* A record that does not parse is logged and then cleared like a delivered one. */
		esc_record_produce(x, id, esc_list_at(records, i + 1), records->lens[i + 1]);
		if (esc_list_add(&x->acked, id, records->lens[i]) < 0)
			log_warn("alert", "out of memory tracking a delivery; the event stays in the outbox",
			         "id=\"%s\"", id);
	}
	if (records->n)
		event_add(x->check_timer, &tv);
}

/* ---------------------------------------------------------------- engine output */

static void esc_forget(escalation *x, const char *why)
{
	if (x->phase == ESC_READY)
		log_warn("alert", "escalation state dropped; it is read again from Redis", "reason=%s",
		         why);
	alert_clear(x->engine);
	esc_list_reset(&x->next);
	esc_list_reset(&x->changes);
	memset(x->next_states, 0, sizeof(x->next_states));
	if (x->phase == ESC_READY)
		x->phase = ESC_LOADING;
}

static void esc_event_cb(const alert_event *e, void *opaque)
{
	escalation *x = opaque;

	if (x->on_event)
		x->on_event(e, x->opaque);
	if (encode_escalation(x->encoder, x->cfg, e, &x->value, &x->headers) < 0) {
		/* The same event would fail again at every tick: skip it, not the engine. */
		log_error("alert", "cannot encode an escalation event; it is not sent", "state=%s "
		          "dedup_key=\"%s\" id=\"%s\"", alert_state_name(e->state), e->dedup_key, e->id);
		return;
	}
	if (esc_record_build(x, e->dedup_key) < 0 || esc_list_add(&x->next, e->id, strlen(e->id)) < 0 ||
	    esc_list_add(&x->next, x->record.data, x->record.len) < 0) {
		/* Out of memory: without its record the decision cannot stand. */
		log_error("alert", "out of memory keeping an escalation event; the state is read "
		          "again from Redis", "dedup_key=\"%s\"", e->dedup_key);
		x->phase = ESC_LOADING;
		return;
	}
	x->next_states[e->state]++;
}

static void esc_state_cb(const char *key, const char *state, void *opaque)
{
	escalation *x = opaque;

	if (esc_list_add(&x->changes, key, strlen(key)) < 0 ||
	    esc_list_add(&x->changes, state ? state : "", state ? strlen(state) : 0) < 0)
		x->phase = ESC_LOADING;
}

static void esc_commit_reply_cb(const redisReply *reply, void *opaque)
{
	escalation *x = opaque;

	x->writing = false;
	if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
		for (int s = 0; s < ALERT_STATE_COUNT; s++)
			x->written[s] += x->flight_states[s];
		esc_produce_all(x, &x->flight);
	} else if (reply && reply->type == REDIS_REPLY_INTEGER) {
		log_warn("alert", "the escalation lease moved to another instance; this one stops "
		         "evaluating", "fence=%" PRId64, x->fence);
		esc_forget(x, "lease_lost");
		x->phase = ESC_FOLLOWER;
	} else {
		log_warn("alert", "escalation state not written; nothing was sent, and the state is "
		         "read again from Redis", "error=\"%s\"",
		         reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "connection lost");
		esc_forget(x, "write_failed");
	}
	esc_list_reset(&x->flight);
	esc_maybe_stopped(x);
	if (x->phase == ESC_READY && (x->next.n || x->changes.n))
		esc_commit(x);
}

/* Builds the argument vector of the commit script over changes and next. */
static int esc_commit_send(escalation *x)
{
	char keys[3][ESC_KEY_MAX], n_changes[24], n_records[24];
	size_t argc = 9 + x->changes.n + x->next.n, k = 0; /* 8 before the changes, 1 after */
	const char **argv = malloc(argc * sizeof(*argv));
	size_t *lens = malloc(argc * sizeof(*lens));
	int rc = -1;

	if (!argv || !lens)
		goto out;
	esc_key(x, "lease", keys[0], sizeof(keys[0]));
	esc_key(x, "state", keys[1], sizeof(keys[1]));
	esc_key(x, "outbox", keys[2], sizeof(keys[2]));
	snprintf(n_changes, sizeof(n_changes), "%zu", x->changes.n / 2);
	snprintf(n_records, sizeof(n_records), "%zu", x->next.n / 2);
	const char *head[] = {"EVAL", esc_commit_script, "3", keys[0], keys[1], keys[2],
	                      x->lease_value, n_changes};
	for (size_t i = 0; i < 8; i++, k++) {
		argv[k] = head[i];
		lens[k] = strlen(head[i]);
	}
	for (size_t i = 0; i < x->changes.n; i++, k++) {
		argv[k] = esc_list_at(&x->changes, i);
		lens[k] = x->changes.lens[i];
	}
	argv[k] = n_records;
	lens[k++] = strlen(n_records);
	for (size_t i = 0; i < x->next.n; i++, k++) {
		argv[k] = esc_list_at(&x->next, i);
		lens[k] = x->next.lens[i];
	}
	rc = redis_store_command(x->store, (int)k, argv, lens, esc_commit_reply_cb, x);
out:
	free(argv);
	free(lens);
	return rc;
}

/* Writes the state changes and the decided events, when nothing is in flight. */
static void esc_commit(escalation *x)
{
	if (x->writing || x->phase != ESC_READY)
		return;
	alert_export_dirty(x->engine, esc_state_cb, x);
	if (x->phase != ESC_READY) {
		esc_forget(x, "out_of_memory");
		return;
	}
	if (x->changes.n == 0 && x->next.n == 0)
		return;
	if (esc_commit_send(x) < 0) {
		esc_forget(x, "redis_unavailable");
		return;
	}
	x->writing = true;
	/* The sent events wait in flight for the reply. New ones gather in next. */
	esc_list_reset(&x->flight);
	if (esc_list_append(&x->flight, &x->next) < 0) {
		/* Written but not produced now: the outbox sends them after the next load. */
		x->phase = ESC_LOADING;
	}
	memcpy(x->flight_states, x->next_states, sizeof(x->flight_states));
	memset(x->next_states, 0, sizeof(x->next_states));
	esc_list_reset(&x->next);
	esc_list_reset(&x->changes);
}

/* ---------------------------------------------------------------- loading */

static void esc_outbox_reply_cb(const redisReply *reply, void *opaque)
{
	escalation *x = opaque;
	esc_list records = {0};

	x->loading_outbox = false;
	if (x->phase != ESC_LOADING)
		return;
	if (!reply || reply->type != REDIS_REPLY_ARRAY) {
		log_warn("alert", "cannot read the escalation outbox; trying again at the next lease "
		         "renewal (a key of another type must be deleted)", "key=\"{%s}:alerts:outbox\" "
		         "error=\"%s\"", x->cfg->redis.key_prefix,
		         reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "connection lost");
		return;
	}
	if (esc_outbox_sorted(reply, &records) == 0) {
		if (records.n)
			log_info("alert", "sending escalations again whose delivery was not confirmed",
			         "records=%zu", records.n / 2);
		x->resent += records.n / 2;
		esc_produce_all(x, &records);
		x->phase = ESC_READY;
		log_info("alert", "escalation state loaded; this instance evaluates escalations",
		         "fence=%" PRId64 " firing=%zu", x->fence, alert_firing_count(x->engine));
	}
	esc_list_free(&records);
}

static void esc_state_reply_cb(const redisReply *reply, void *opaque)
{
	escalation *x = opaque;
	char key[ESC_KEY_MAX];
	size_t bad = 0;

	if (x->phase != ESC_LOADING) {
		x->loading_outbox = false;
		return;
	}
	if (!reply || reply->type != REDIS_REPLY_ARRAY) {
		x->loading_outbox = false;
		log_warn("alert", "cannot read the escalation state; trying again at the next lease "
		         "renewal (a key of another type must be deleted)", "key=\"{%s}:alerts:state\" "
		         "error=\"%s\"", x->cfg->redis.key_prefix,
		         reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "connection lost");
		return;
	}
	alert_clear(x->engine);
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		if (reply->element[i]->type != REDIS_REPLY_STRING ||
		    reply->element[i + 1]->type != REDIS_REPLY_STRING ||
		    alert_import(x->engine, reply->element[i]->str, reply->element[i + 1]->str) < 0)
			bad++;
	}
	if (bad)
		log_warn("alert", "escalation states not read: unknown rule or unreadable text; they "
		         "start over", "key=\"{%s}:alerts:state\" entries=%zu", x->cfg->redis.key_prefix,
		         bad);
	esc_key(x, "outbox", key, sizeof(key));
	const char *argv[] = {"HGETALL", key};
	size_t lens[] = {7, strlen(key)};
	if (redis_store_command(x->store, 2, argv, lens, esc_outbox_reply_cb, x) < 0)
		x->loading_outbox = false;
}

/* Reads the state and then the outbox (x->loading_outbox while either is in flight). */
static void esc_load(escalation *x)
{
	char key[ESC_KEY_MAX];

	if (x->loading_outbox || x->writing || x->delivering > 0)
		return;
	esc_key(x, "state", key, sizeof(key));
	const char *argv[] = {"HGETALL", key};
	size_t lens[] = {7, strlen(key)};
	if (redis_store_command(x->store, 2, argv, lens, esc_state_reply_cb, x) == 0)
		x->loading_outbox = true;
}

/* ---------------------------------------------------------------- lease */

static void esc_lease_reply_cb(const redisReply *reply, void *opaque)
{
	escalation *x = opaque;
	int64_t fence;

	x->lease_requested = false;
	if (x->stopping)
		return;
	if (!reply || reply->type != REDIS_REPLY_INTEGER) {
		if (reply && reply->type == REDIS_REPLY_ERROR)
			log_warn("alert", "cannot ask for the escalation lease", "error=\"%s\"", reply->str);
		return; /* requested again at the next timer */
	}
	if (reply->integer == 0) {
		if (x->phase != ESC_FOLLOWER) {
			log_warn("alert", "another instance owns the escalation lease now; this one stops "
			         "evaluating", "fence=%" PRId64, x->fence);
			esc_forget(x, "lease_lost");
			x->phase = ESC_FOLLOWER;
		}
		return;
	}
	fence = reply->integer < 0 ? -reply->integer : reply->integer;
	if (reply->integer < 0 || fence != x->fence || x->phase == ESC_FOLLOWER) {
		esc_forget(x, "new_lease");
		x->fence = fence;
		snprintf(x->lease_value, sizeof(x->lease_value), "%s %" PRId64, x->instance, fence);
		x->phase = ESC_LOADING;
		log_info("alert", "escalation lease taken", "fence=%" PRId64, fence);
	}
	if (x->phase == ESC_LOADING)
		esc_load(x);
}

static void esc_lease_cb(evutil_socket_t fd, short what, void *arg)
{
	escalation *x = arg;
	char keys[2][ESC_KEY_MAX], ttl[24];

	if (x->lease_requested || x->stopping || !redis_store_connected(x->store))
		return;
	esc_key(x, "lease", keys[0], sizeof(keys[0]));
	esc_key(x, "fence", keys[1], sizeof(keys[1]));
	snprintf(ttl, sizeof(ttl), "%" PRId64, x->cfg->alerts.lease_ttl_ms);
	const char *argv[] = {"EVAL", esc_lease_script, "2", keys[0], keys[1], x->instance, ttl};
	size_t lens[7];
	for (size_t i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	if (redis_store_command(x->store, 7, argv, lens, esc_lease_reply_cb, x) == 0)
		x->lease_requested = true;
}

static void esc_lease_timer_start(escalation *x)
{
	int64_t every = x->cfg->alerts.lease_ttl_ms / 3;
	struct timeval tv = {every / 1000, (every % 1000) * 1000};

	event_del(x->lease_timer);
	event_add(x->lease_timer, &tv);
}

/* ---------------------------------------------------------------- public */

escalation *escalation_new(const escalation_deps *d)
{
	escalation *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->base = d->base;
	x->cfg = d->cfg;
	x->store = d->store;
	x->producer = d->producer;
	x->encoder = d->encoder;
	snprintf(x->instance, sizeof(x->instance), "%s", d->instance);
	x->on_event = d->on_event;
	x->opaque = d->opaque;
	x->engine = alert_new(d->cfg);
	x->lease_timer = event_new(d->base, -1, EV_PERSIST, esc_lease_cb, x);
	x->check_timer = event_new(d->base, -1, EV_PERSIST, esc_check_cb, x);
	if (!x->engine || !x->lease_timer || !x->check_timer) {
		escalation_free(x);
		return NULL;
	}
	esc_lease_timer_start(x);
	/* Ask at once too: a restarted holder takes its state back without waiting. */
	escalation_poke(x);
	return x;
}

void escalation_free(escalation *x)
{
	if (!x)
		return;
	if (x->lease_timer)
		event_free(x->lease_timer);
	if (x->check_timer)
		event_free(x->check_timer);
	alert_free(x->engine);
	esc_list_free(&x->next);
	esc_list_free(&x->changes);
	esc_list_free(&x->flight);
	esc_list_free(&x->acked);
	free(x->record.data);
	encode_buf_free(&x->value);
	free(x);
}

void escalation_poke(escalation *x)
{
	if (!x->stopping)
		event_active(x->lease_timer, EV_TIMEOUT, 0);
}

bool escalation_ready(const escalation *x)
{
	return x->phase == ESC_READY && !x->writing && !x->stopping;
}

bool escalation_leader(const escalation *x)
{
	return x->phase != ESC_FOLLOWER;
}

size_t escalation_firing(const escalation *x)
{
	return x->phase == ESC_READY ? alert_firing_count(x->engine) : 0;
}

uint64_t escalation_written(const escalation *x, alert_state s)
{
	return (unsigned)s < ALERT_STATE_COUNT ? x->written[s] : 0;
}

uint64_t escalation_resent(const escalation *x)
{
	return x->resent;
}

void escalation_tick_begin(escalation *x, int64_t now_ms)
{
	alert_tick_begin(x->engine, now_ms);
}

void escalation_observe(escalation *x, const kpi_update *u)
{
	alert_observe(x->engine, u);
}

void escalation_observe_bias(escalation *x, const bias_record *r)
{
	alert_observe_bias(x->engine, r);
}

void escalation_tick_end(escalation *x)
{
	if (alert_tick_end(x->engine, esc_event_cb, x) < 0) {
		log_error("alert", "out of memory evaluating escalations; the state is read again "
		          "from Redis", "%s", "");
		esc_forget(x, "out_of_memory");
		return;
	}
	if (x->phase != ESC_READY) {
		esc_forget(x, "encode_failed");
		return;
	}
	esc_commit(x);
}

void escalation_reconfigure(escalation *x, const config *next, int64_t now_ms)
{
	bool ttl_changed = next->alerts.lease_ttl_ms != x->cfg->alerts.lease_ttl_ms;
	bool loaded = x->phase == ESC_READY;
	int rc;

	/*
	 * Not loaded: the next load drops the states of rules this reload
	 * removed, without a resolve (NOTE: only the holder resolves them).
	 */
	if (!loaded)
		alert_clear(x->engine);
	rc = alert_reconfigure(x->engine, next, now_ms, esc_event_cb, x);
	if (loaded && (rc < 0 || x->phase != ESC_READY)) {
		log_error("alert", "out of memory applying the reload to escalations; the state is "
		          "read again from Redis", "%s", "");
		esc_forget(x, "out_of_memory");
	}
	x->cfg = next;
	if (ttl_changed)
		esc_lease_timer_start(x);
	esc_commit(x);
}

/* ---------------------------------------------------------------- stop */

static void esc_release_reply_cb(const redisReply *reply, void *opaque)
{
	escalation *x = opaque;

	x->released = true;
	if (x->stop_done)
		x->stop_done(x->stop_opaque);
}

/* Once nothing is in flight while stopping: gives the lease up. */
static void esc_maybe_stopped(escalation *x)
{
	char key[ESC_KEY_MAX];

	if (!x->stopping || x->released || x->writing || x->delivering > 0 ||
	    event_pending(x->check_timer, EV_TIMEOUT, NULL))
		return;
	esc_key(x, "lease", key, sizeof(key));
	const char *argv[] = {"EVAL", esc_release_script, "1", key, x->lease_value};
	size_t lens[5];
	for (size_t i = 0; i < 5; i++)
		lens[i] = strlen(argv[i]);
	if (x->phase == ESC_FOLLOWER ||
	    redis_store_command(x->store, 5, argv, lens, esc_release_reply_cb, x) < 0) {
		x->released = true;
		if (x->stop_done)
			x->stop_done(x->stop_opaque);
		return;
	}
	if (x->phase != ESC_FOLLOWER)
		log_info("alert", "escalation lease given up", "fence=%" PRId64, x->fence);
	x->phase = ESC_FOLLOWER;
}

bool escalation_stop(escalation *x, void (*done)(void *), void *opaque)
{
	if (x->released)
		return true;
	event_del(x->lease_timer);
	x->stopping = true;
	x->stop_done = NULL;
	esc_maybe_stopped(x);
	if (x->released)
		return true;
	x->stop_done = done;
	x->stop_opaque = opaque;
	return false;
}
