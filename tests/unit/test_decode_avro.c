/*
 * test_decode_avro.c - canonical AdvocacyEvent decoding and encoding.
 *
 * Datums come from two independent encoders: avro_event_writer (avro-c) and
 * a small hand encoder in this file that follows the Avro binary encoding
 * spec. Agreement between them pins the schema's field order. The fuzz tests
 * use a fixed seed, so a failure reproduces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decode_avro.h"

#define FUZZ_CASES 20000

static const char *const known_reasons[] = {
    "empty_message",	"truncated_frame",  "invalid_avro",	   "trailing_bytes",
    "missing_event_id", "missing_kind",	    "invalid_event_time",  "id_too_long",
    "field_too_long",	"too_many_targets", "too_many_attributes", "invalid_attribute_key",
};

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static event_str str(const char *s)
{
	return (event_str){s, strlen(s)};
}

static void assert_str(event_str s, const char *expected)
{
	if (!event_str_eq(s, expected))
		fail_msg("expected \"%s\", got \"%.*s\"", expected, (int)s.len, s.ptr ? s.ptr : "");
}

static bool reason_known(const char *reason)
{
	for (size_t i = 0; i < sizeof(known_reasons) / sizeof(known_reasons[0]); i++)
		if (reason != NULL && strcmp(reason, known_reasons[i]) == 0)
			return true;
	return false;
}

/* Hand encoder: Avro binary encoding written out from the spec. */
typedef struct datum {
	unsigned char b[8192];
	size_t n;
} datum;

static void put_byte(datum *d, unsigned char c)
{
	assert_true(d->n < sizeof(d->b));
	d->b[d->n++] = c;
}

static void put_long(datum *d, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	while (z > 0x7f) {
		put_byte(d, (unsigned char)((z & 0x7f) | 0x80));
		z >>= 7;
	}
	put_byte(d, (unsigned char)z);
}

static void put_bytes(datum *d, const char *s, size_t len)
{
	put_long(d, (int64_t)len);
	for (size_t i = 0; i < len; i++)
		put_byte(d, (unsigned char)s[i]);
}

static void put_str(datum *d, const char *s)
{
	put_bytes(d, s, strlen(s));
}

static void put_optional(datum *d, const char *s)
{
	if (s == NULL) {
		put_long(d, 0);
		return;
	}
	put_long(d, 1);
	put_str(d, s);
}

static void put_frame(datum *d, uint32_t schema_id)
{
	put_byte(d, 0);
	put_byte(d, (unsigned char)(schema_id >> 24));
	put_byte(d, (unsigned char)(schema_id >> 16));
	put_byte(d, (unsigned char)(schema_id >> 8));
	put_byte(d, (unsigned char)schema_id);
}

/* Writes the fields before target_ids: id, time, source, kind, actor. */
static void put_head(datum *d, const char *id, int64_t time_ms, const char *kind)
{
	put_str(d, id);
	put_long(d, time_ms);
	put_str(d, "canonical");
	put_str(d, kind);
	put_optional(d, "U1001");
}

/* Writes a complete datum with no targets and no attributes. */
static void put_simple(datum *d, const char *id, int64_t time_ms, const char *kind)
{
	put_head(d, id, time_ms, kind);
	put_long(d, 0);
	put_optional(d, NULL);
	put_optional(d, NULL);
	put_long(d, 0);
}

static event full_event(void)
{
	event ev = {0};
	ev.event_id = str("evt-0001");
	ev.event_time_ms = 1714563200123;
	ev.source = str("canonical");
	ev.kind = str("peer_recognition");
	ev.actor_id = str("U1001");
	ev.target_ids[0] = str("U2002");
	ev.target_ids[1] = str("W3003");
	ev.target_count = 2;
	ev.content_id = str("post-77");
	ev.channel_id = str("C0FFEE");
	ev.attrs[0] = (event_attr){str("reaction"), str("tada")};
	ev.attrs[1] = (event_attr){str("channel_type"), str("channel")};
	ev.attr_count = 2;
	return ev;
}

/* The hand encoding of full_event(). */
static void put_full_event(datum *d)
{
	put_head(d, "evt-0001", 1714563200123, "peer_recognition");
	put_long(d, 2);
	put_str(d, "U2002");
	put_str(d, "W3003");
	put_long(d, 0);
	put_optional(d, "post-77");
	put_optional(d, "C0FFEE");
	put_long(d, 2);
	put_str(d, "reaction");
	put_str(d, "tada");
	put_str(d, "channel_type");
	put_str(d, "channel");
	put_long(d, 0);
}

static void assert_full_event(const event *ev)
{
	assert_str(ev->event_id, "evt-0001");
	assert_int_equal(ev->event_time_ms, 1714563200123);
	assert_str(ev->source, "canonical");
	assert_str(ev->kind, "peer_recognition");
	assert_str(ev->actor_id, "U1001");
	assert_int_equal(ev->target_count, 2);
	assert_str(ev->target_ids[0], "U2002");
	assert_str(ev->target_ids[1], "W3003");
	assert_str(ev->content_id, "post-77");
	assert_str(ev->channel_id, "C0FFEE");
	assert_int_equal(ev->attr_count, 2);
	assert_str(event_attr_get(ev, "reaction"), "tada");
	assert_str(event_attr_get(ev, "channel_type"), "channel");
}

static decode_avro *new_decoder(void)
{
	char errstr[256] = "";
	decode_avro *d = decode_avro_new(errstr, sizeof(errstr));
	if (d == NULL)
		fail_msg("decode_avro_new failed: %s", errstr);
	return d;
}

/* Decodes buf and asserts that it is rejected with reason. */
static void assert_invalid(const void *buf, size_t len, const char *reason)
{
	decode_avro *d = new_decoder();
	event ev;
	decode_result res;

	assert_int_equal(decode_avro_message(d, buf, len, &ev, &res), DECODE_INVALID);
	assert_int_equal(res.status, DECODE_INVALID);
	assert_non_null(res.reason);
	assert_string_equal(res.reason, reason);
	assert_true(strlen(res.detail) > 0);
	decode_avro_free(d);
}

/* ----------------------------------------------------------------------------
 * Round trips
 * ------------------------------------------------------------------------- */

static void avro_round_trip_bare(void **state)
{
	decode_avro *d = new_decoder();
	avro_event_writer *w = avro_event_writer_new();
	event in = full_event();
	event out;
	decode_result res;
	unsigned char buf[512];

	assert_non_null(w);
	long n = avro_event_writer_encode(w, &in, -1, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_not_equal(buf[0], 0);

	assert_int_equal(decode_avro_message(d, buf, (size_t)n, &out, &res), DECODE_OK);
	assert_int_equal(res.status, DECODE_OK);
	assert_null(res.reason);
	assert_full_event(&out);
	assert_int_equal(decode_avro_last_schema_id(d), -1);

	avro_event_writer_free(w);
	decode_avro_free(d);
}

static void avro_round_trip_confluent(void **state)
{
	decode_avro *d = new_decoder();
	avro_event_writer *w = avro_event_writer_new();
	event in = full_event();
	event out;
	decode_result res;
	unsigned char buf[512];

	long n = avro_event_writer_encode(w, &in, 0x01020304, buf, sizeof(buf));
	assert_true(n > 5);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 1);
	assert_int_equal(buf[2], 2);
	assert_int_equal(buf[3], 3);
	assert_int_equal(buf[4], 4);

	assert_int_equal(decode_avro_message(d, buf, (size_t)n, &out, &res), DECODE_OK);
	assert_full_event(&out);
	assert_int_equal(decode_avro_last_schema_id(d), 0x01020304);

	/* A bare datum afterwards resets the schema id. */
	n = avro_event_writer_encode(w, &in, -1, buf, sizeof(buf));
	assert_int_equal(decode_avro_message(d, buf, (size_t)n, &out, &res), DECODE_OK);
	assert_int_equal(decode_avro_last_schema_id(d), -1);

	avro_event_writer_free(w);
	decode_avro_free(d);
}

static void avro_round_trip_minimal(void **state)
{
	decode_avro *d = new_decoder();
	avro_event_writer *w = avro_event_writer_new();
	event in = {0};
	event out;
	decode_result res;
	unsigned char buf[128];

	in.event_id = str("e1");
	in.event_time_ms = 1;
	in.kind = str("training_completed");
	long n = avro_event_writer_encode(w, &in, 7, buf, sizeof(buf));
	assert_true(n > 0);

	assert_int_equal(decode_avro_message(d, buf, (size_t)n, &out, &res), DECODE_OK);
	assert_str(out.event_id, "e1");
	assert_int_equal(out.event_time_ms, 1);
	assert_int_equal(out.source.len, 0);
	assert_int_equal(out.actor_id.len, 0);
	assert_int_equal(out.content_id.len, 0);
	assert_int_equal(out.channel_id.len, 0);
	assert_int_equal(out.target_count, 0);
	assert_int_equal(out.attr_count, 0);

	avro_event_writer_free(w);
	decode_avro_free(d);
}

static void avro_round_trip_at_limits(void **state)
{
	decode_avro *d = new_decoder();
	avro_event_writer *w = avro_event_writer_new();
	event in = full_event();
	event out;
	decode_result res;
	char long_id[257];
	char keys[EVENT_MAX_ATTRS][8];
	unsigned char buf[8192];

	memset(long_id, 'x', 256);
	long_id[256] = '\0';
	in.actor_id = str(long_id);
	for (int i = 0; i < EVENT_MAX_TARGETS; i++)
		in.target_ids[i] = str(long_id);
	in.target_count = EVENT_MAX_TARGETS;
	for (int i = 0; i < EVENT_MAX_ATTRS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		in.attrs[i] = (event_attr){str(keys[i]), str(long_id)};
	}
	in.attr_count = EVENT_MAX_ATTRS;

	long n = avro_event_writer_encode(w, &in, -1, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(decode_avro_message(d, buf, (size_t)n, &out, &res), DECODE_OK);
	assert_int_equal(out.actor_id.len, 256);
	assert_int_equal(out.target_count, EVENT_MAX_TARGETS);
	assert_int_equal(out.attr_count, EVENT_MAX_ATTRS);
	assert_str(event_attr_get(&out, "k7"), long_id);

	avro_event_writer_free(w);
	decode_avro_free(d);
}

/* The value is reused: a second event must not keep the first one's lists. */
static void avro_decoder_reuse_resets_lists(void **state)
{
	decode_avro *d = new_decoder();
	avro_event_writer *w = avro_event_writer_new();
	event in = full_event();
	event out;
	decode_result res;
	unsigned char buf[512];

	long n = avro_event_writer_encode(w, &in, -1, buf, sizeof(buf));
	assert_int_equal(decode_avro_message(d, buf, (size_t)n, &out, &res), DECODE_OK);

	in.target_count = 1;
	in.attr_count = 1;
	in.actor_id = (event_str){NULL, 0};
	n = avro_event_writer_encode(w, &in, -1, buf, sizeof(buf));
	assert_int_equal(decode_avro_message(d, buf, (size_t)n, &out, &res), DECODE_OK);
	assert_int_equal(out.target_count, 1);
	assert_int_equal(out.attr_count, 1);
	assert_int_equal(out.actor_id.len, 0);

	avro_event_writer_free(w);
	decode_avro_free(d);
}

/* ----------------------------------------------------------------------------
 * Wire format pinned by the hand encoder
 * ------------------------------------------------------------------------- */

static void avro_writer_matches_spec_encoding(void **state)
{
	avro_event_writer *w = avro_event_writer_new();
	event in = full_event();
	datum expected = {.n = 0};
	unsigned char buf[512];

	put_full_event(&expected);
	long n = avro_event_writer_encode(w, &in, -1, buf, sizeof(buf));
	assert_int_equal(n, expected.n);
	assert_memory_equal(buf, expected.b, expected.n);
	avro_event_writer_free(w);
}

static void avro_decodes_spec_encoding(void **state)
{
	decode_avro *d = new_decoder();
	datum m = {.n = 0};
	event out;
	decode_result res;

	put_full_event(&m);
	assert_int_equal(decode_avro_message(d, m.b, m.n, &out, &res), DECODE_OK);
	assert_full_event(&out);
	decode_avro_free(d);
}

/* Arrays may come in several blocks, with negative counts followed by sizes. */
static void avro_decodes_sized_blocks(void **state)
{
	decode_avro *d = new_decoder();
	datum m = {.n = 0};
	event out;
	decode_result res;

	put_head(&m, "evt-blocks", 1714563200000, "message_posted");
	put_long(&m, -2);
	put_long(&m, 12);
	put_str(&m, "U2002");
	put_str(&m, "U2003");
	put_long(&m, 1);
	put_str(&m, "U2004");
	put_long(&m, 0);
	put_optional(&m, NULL);
	put_optional(&m, "C1");
	put_long(&m, -1);
	put_long(&m, 8);
	put_str(&m, "kind");
	put_str(&m, "x");
	put_long(&m, 0);

	assert_int_equal(decode_avro_message(d, m.b, m.n, &out, &res), DECODE_OK);
	assert_int_equal(out.target_count, 3);
	assert_str(out.target_ids[2], "U2004");
	assert_str(out.channel_id, "C1");
	assert_str(event_attr_get(&out, "kind"), "x");
	decode_avro_free(d);
}

/* A map key written twice keeps its first place and its last value. */
static void avro_repeated_map_key_keeps_last_value(void **state)
{
	decode_avro *d = new_decoder();
	datum m = {.n = 0};
	event out;
	decode_result res;

	put_head(&m, "evt-dup-key", 1714563200000, "reaction_added");
	put_long(&m, 0);
	put_optional(&m, NULL);
	put_optional(&m, NULL);
	put_long(&m, 3);
	put_str(&m, "reaction");
	put_str(&m, "tada");
	put_str(&m, "channel_type");
	put_str(&m, "channel");
	put_str(&m, "reaction");
	put_str(&m, "clap");
	put_long(&m, 0);

	assert_int_equal(decode_avro_message(d, m.b, m.n, &out, &res), DECODE_OK);
	assert_int_equal(out.attr_count, 2);
	assert_str(out.attrs[0].key, "reaction");
	assert_str(out.attrs[0].value, "clap");
	assert_str(out.attrs[1].key, "channel_type");
	decode_avro_free(d);
}

/* ----------------------------------------------------------------------------
 * Rejections, one per reason
 * ------------------------------------------------------------------------- */

static void avro_rejects_empty_message(void **state)
{
	assert_invalid("", 0, "empty_message");
}

static void avro_rejects_truncated_frame(void **state)
{
	const unsigned char one[] = {0};
	const unsigned char header_only[] = {0, 0, 0, 0, 9};

	assert_invalid(one, sizeof(one), "truncated_frame");
	assert_invalid(header_only, sizeof(header_only), "truncated_frame");
}

static void avro_rejects_bad_union_branch(void **state)
{
	datum m = {.n = 0};

	put_str(&m, "evt-1");
	put_long(&m, 1714563200000);
	put_str(&m, "canonical");
	put_str(&m, "message_posted");
	put_long(&m, 2); /* actor_id: branch 2 does not exist */
	put_str(&m, "U1");
	assert_invalid(m.b, m.n, "invalid_avro");
}

/* avro-c 1.11.1 would allocate the declared length before noticing it is missing. */
static void avro_rejects_huge_string_length(void **state)
{
	datum m = {.n = 0};

	put_long(&m, (int64_t)1 << 40);
	put_byte(&m, 'a');
	assert_invalid(m.b, m.n, "invalid_avro");

	m.n = 0;
	put_frame(&m, 1);
	put_str(&m, "evt-1");
	put_long(&m, 1714563200000);
	put_long(&m, INT64_MAX);
	assert_invalid(m.b, m.n, "invalid_avro");
}

static void avro_rejects_negative_length(void **state)
{
	datum m = {.n = 0};

	put_long(&m, -3);
	put_str(&m, "abc");
	assert_invalid(m.b, m.n, "invalid_avro");
}

static void avro_rejects_overlong_varint(void **state)
{
	datum m = {.n = 0};

	put_str(&m, "evt-1");
	for (int i = 0; i < 10; i++)
		put_byte(&m, 0xff);
	put_byte(&m, 0x01);
	assert_invalid(m.b, m.n, "invalid_avro");
}

static void avro_rejects_truncated_datum(void **state)
{
	datum m = {.n = 0};

	put_full_event(&m);
	assert_invalid(m.b, m.n - 1, "invalid_avro");
}

static void avro_rejects_trailing_bytes(void **state)
{
	datum m = {.n = 0};

	put_full_event(&m);
	put_byte(&m, 0x42);
	assert_invalid(m.b, m.n, "trailing_bytes");
}

/* An empty event_id would start a bare datum with 0, so it only fits a frame. */
static void avro_rejects_missing_event_id(void **state)
{
	datum m = {.n = 0};

	put_frame(&m, 3);
	put_simple(&m, "", 1714563200000, "message_posted");
	assert_invalid(m.b, m.n, "missing_event_id");
}

static void avro_rejects_missing_kind(void **state)
{
	datum m = {.n = 0};

	put_simple(&m, "evt-1", 1714563200000, "");
	assert_invalid(m.b, m.n, "missing_kind");
}

static void avro_rejects_invalid_event_time(void **state)
{
	datum m = {.n = 0};

	put_simple(&m, "evt-1", 0, "message_posted");
	assert_invalid(m.b, m.n, "invalid_event_time");

	m.n = 0;
	put_simple(&m, "evt-1", -1714563200000, "message_posted");
	assert_invalid(m.b, m.n, "invalid_event_time");
}

/* The detail names the field and the limit, never the value. */
static void avro_rejects_long_id_without_echo(void **state)
{
	decode_avro *d = new_decoder();
	datum m = {.n = 0};
	char long_id[300];
	event ev;
	decode_result res;

	memset(long_id, 'Q', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	memcpy(long_id, "PRIVATE", 7);
	put_str(&m, "evt-1");
	put_long(&m, 1714563200000);
	put_str(&m, "canonical");
	put_str(&m, "message_posted");
	put_optional(&m, long_id);

	assert_int_equal(decode_avro_message(d, m.b, m.n, &ev, &res), DECODE_INVALID);
	assert_string_equal(res.reason, "id_too_long");
	assert_non_null(strstr(res.detail, "actor_id"));
	assert_null(strstr(res.detail, "PRIVATE"));
	assert_null(strstr(res.detail, "QQQ"));
	decode_avro_free(d);
}

static void avro_rejects_long_kind(void **state)
{
	datum m = {.n = 0};
	char kind[258];

	memset(kind, 'k', 257);
	kind[257] = '\0';
	put_simple(&m, "evt-1", 1714563200000, kind);
	assert_invalid(m.b, m.n, "field_too_long");
}

static void avro_rejects_too_many_targets(void **state)
{
	datum m = {.n = 0};

	put_head(&m, "evt-1", 1714563200000, "message_posted");
	put_long(&m, EVENT_MAX_TARGETS + 1);
	for (int i = 0; i <= EVENT_MAX_TARGETS; i++)
		put_str(&m, "U2");
	put_long(&m, 0);
	put_optional(&m, NULL);
	put_optional(&m, NULL);
	put_long(&m, 0);
	assert_invalid(m.b, m.n, "too_many_targets");

	/* The limit holds across blocks too. */
	m.n = 0;
	put_head(&m, "evt-1", 1714563200000, "message_posted");
	for (int block = 0; block < 2; block++) {
		put_long(&m, 9);
		for (int i = 0; i < 9; i++)
			put_str(&m, "U2");
	}
	put_long(&m, 0);
	assert_invalid(m.b, m.n, "too_many_targets");
}

static void avro_rejects_too_many_attributes(void **state)
{
	datum m = {.n = 0};
	char key[8];

	put_head(&m, "evt-1", 1714563200000, "message_posted");
	put_long(&m, 0);
	put_optional(&m, NULL);
	put_optional(&m, NULL);
	put_long(&m, EVENT_MAX_ATTRS + 1);
	for (int i = 0; i <= EVENT_MAX_ATTRS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put_str(&m, key);
		put_str(&m, "v");
	}
	put_long(&m, 0);
	assert_invalid(m.b, m.n, "too_many_attributes");
}

static void avro_rejects_nul_in_attribute_key(void **state)
{
	datum m = {.n = 0};

	put_head(&m, "evt-1", 1714563200000, "message_posted");
	put_long(&m, 0);
	put_optional(&m, NULL);
	put_optional(&m, NULL);
	put_long(&m, 1);
	put_bytes(&m, "cha\0type", 8);
	put_str(&m, "channel");
	put_long(&m, 0);
	assert_invalid(m.b, m.n, "invalid_attribute_key");
}

/* ----------------------------------------------------------------------------
 * Writer rejections
 * ------------------------------------------------------------------------- */

static void avro_writer_rejects_invalid_events(void **state)
{
	avro_event_writer *w = avro_event_writer_new();
	unsigned char buf[512];
	char long_id[300];
	event ev = full_event();

	ev.event_id = (event_str){NULL, 0};
	assert_int_equal(avro_event_writer_encode(w, &ev, -1, buf, sizeof(buf)), -1);

	ev = full_event();
	ev.kind = (event_str){NULL, 0};
	assert_int_equal(avro_event_writer_encode(w, &ev, -1, buf, sizeof(buf)), -1);

	ev = full_event();
	ev.event_time_ms = 0;
	assert_int_equal(avro_event_writer_encode(w, &ev, -1, buf, sizeof(buf)), -1);

	ev = full_event();
	memset(long_id, 'x', sizeof(long_id));
	ev.channel_id = (event_str){long_id, 257};
	assert_int_equal(avro_event_writer_encode(w, &ev, -1, buf, sizeof(buf)), -1);

	ev = full_event();
	ev.target_count = EVENT_MAX_TARGETS + 1;
	assert_int_equal(avro_event_writer_encode(w, &ev, -1, buf, sizeof(buf)), -1);

	ev = full_event();
	ev.attrs[0].key = (event_str){"cha\0type", 8};
	assert_int_equal(avro_event_writer_encode(w, &ev, -1, buf, sizeof(buf)), -1);

	avro_event_writer_free(w);
}

static void avro_writer_rejects_small_buffer(void **state)
{
	avro_event_writer *w = avro_event_writer_new();
	event ev = full_event();
	unsigned char buf[512];

	long n = avro_event_writer_encode(w, &ev, 5, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(avro_event_writer_encode(w, &ev, 5, buf, (size_t)n), n);
	assert_int_equal(avro_event_writer_encode(w, &ev, 5, buf, (size_t)n - 1), -1);
	assert_int_equal(avro_event_writer_encode(w, &ev, 5, buf, 5), -1);
	avro_event_writer_free(w);
}

/* ----------------------------------------------------------------------------
 * Fuzzing with a fixed seed
 * ------------------------------------------------------------------------- */

static uint64_t fuzz_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: deterministic, so every failure reproduces. */
static uint64_t fuzz_next(void)
{
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 0x2545f4914f6cdd1du;
}

/* Outcomes of one fuzz test: [0] counts DECODE_OK, [1 + i] known_reasons[i]. */
static size_t fuzz_counts[1 + sizeof(known_reasons) / sizeof(known_reasons[0])];

static void fuzz_count(const char *reason)
{
	size_t slot = 0;
	for (size_t i = 0; reason != NULL && i < sizeof(known_reasons) / sizeof(known_reasons[0]);
	     i++)
		if (strcmp(reason, known_reasons[i]) == 0)
			slot = 1 + i;
	fuzz_counts[slot]++;
}

/* Prints how many cases ended in each outcome, then clears the counts. */
static void fuzz_report(const char *name)
{
	printf("%s: ok=%zu", name, fuzz_counts[0]);
	for (size_t i = 0; i < sizeof(known_reasons) / sizeof(known_reasons[0]); i++)
		if (fuzz_counts[1 + i] > 0)
			printf(" %s=%zu", known_reasons[i], fuzz_counts[1 + i]);
	printf("\n");
	memset(fuzz_counts, 0, sizeof(fuzz_counts));
}

/* Decodes one fuzz input and checks the outcome is well formed. */
static void fuzz_check(decode_avro *d, const unsigned char *buf, size_t len, size_t case_no)
{
	event ev;
	decode_result res;
	decode_status st = decode_avro_message(d, buf, len, &ev, &res);

	fuzz_count(st == DECODE_OK ? NULL : res.reason);
	if (st == DECODE_OK) {
		assert_null(res.reason);
		assert_true(ev.event_id.len > 0 && ev.event_id.len <= 256);
		assert_true(ev.kind.len > 0);
		assert_true(ev.event_time_ms > 0);
		assert_true(ev.target_count <= EVENT_MAX_TARGETS);
		assert_true(ev.attr_count <= EVENT_MAX_ATTRS);
		return;
	}
	if (st != DECODE_INVALID || !reason_known(res.reason) || res.detail[0] == '\0')
		fail_msg("fuzz case %zu (len %zu): status %d reason %s", case_no, len, st,
			 res.reason ? res.reason : "(null)");
}

static void avro_fuzz_truncations(void **state)
{
	decode_avro *d = new_decoder();
	avro_event_writer *w = avro_event_writer_new();
	event in = full_event();
	unsigned char buf[512];

	for (int framed = 0; framed < 2; framed++) {
		long n = avro_event_writer_encode(w, &in, framed ? 11 : -1, buf, sizeof(buf));
		assert_true(n > 0);
		for (long len = 0; len < n; len++) {
			event ev;
			decode_result res;
			assert_int_equal(decode_avro_message(d, buf, (size_t)len, &ev, &res),
					 DECODE_INVALID);
			assert_true(reason_known(res.reason));
		}
	}
	avro_event_writer_free(w);
	decode_avro_free(d);
}

static void avro_fuzz_random_bytes(void **state)
{
	decode_avro *d = new_decoder();
	unsigned char buf[256];

	for (size_t i = 0; i < FUZZ_CASES; i++) {
		size_t len = (size_t)(fuzz_next() % sizeof(buf));
		for (size_t j = 0; j < len; j++)
			buf[j] = (unsigned char)fuzz_next();
		fuzz_check(d, buf, len, i);
	}
	fuzz_report("random bytes");
	decode_avro_free(d);
}

/* Mutations of a valid datum reach deeper into the record than random bytes. */
static void avro_fuzz_mutations(void **state)
{
	decode_avro *d = new_decoder();
	datum valid = {.n = 0};
	unsigned char buf[sizeof(valid.b) + 8];

	put_full_event(&valid);
	for (size_t i = 0; i < FUZZ_CASES; i++) {
		size_t len = valid.n;
		memcpy(buf, valid.b, len);

		int edits = 1 + (int)(fuzz_next() % 4);
		for (int e = 0; e < edits; e++)
			buf[fuzz_next() % len] = (unsigned char)fuzz_next();
		if (fuzz_next() % 4 == 0)
			len = (size_t)(fuzz_next() % (len + 8));
		fuzz_check(d, buf, len, i);
	}
	fuzz_report("mutations");
	decode_avro_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(avro_round_trip_bare),
	    cmocka_unit_test(avro_round_trip_confluent),
	    cmocka_unit_test(avro_round_trip_minimal),
	    cmocka_unit_test(avro_round_trip_at_limits),
	    cmocka_unit_test(avro_decoder_reuse_resets_lists),
	    cmocka_unit_test(avro_writer_matches_spec_encoding),
	    cmocka_unit_test(avro_decodes_spec_encoding),
	    cmocka_unit_test(avro_decodes_sized_blocks),
	    cmocka_unit_test(avro_repeated_map_key_keeps_last_value),
	    cmocka_unit_test(avro_rejects_empty_message),
	    cmocka_unit_test(avro_rejects_truncated_frame),
	    cmocka_unit_test(avro_rejects_bad_union_branch),
	    cmocka_unit_test(avro_rejects_huge_string_length),
	    cmocka_unit_test(avro_rejects_negative_length),
	    cmocka_unit_test(avro_rejects_overlong_varint),
	    cmocka_unit_test(avro_rejects_truncated_datum),
	    cmocka_unit_test(avro_rejects_trailing_bytes),
	    cmocka_unit_test(avro_rejects_missing_event_id),
	    cmocka_unit_test(avro_rejects_missing_kind),
	    cmocka_unit_test(avro_rejects_invalid_event_time),
	    cmocka_unit_test(avro_rejects_long_id_without_echo),
	    cmocka_unit_test(avro_rejects_long_kind),
	    cmocka_unit_test(avro_rejects_too_many_targets),
	    cmocka_unit_test(avro_rejects_too_many_attributes),
	    cmocka_unit_test(avro_rejects_nul_in_attribute_key),
	    cmocka_unit_test(avro_writer_rejects_invalid_events),
	    cmocka_unit_test(avro_writer_rejects_small_buffer),
	    cmocka_unit_test(avro_fuzz_truncations),
	    cmocka_unit_test(avro_fuzz_random_bytes),
	    cmocka_unit_test(avro_fuzz_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
