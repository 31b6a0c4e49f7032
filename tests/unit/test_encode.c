/*
 * test_encode.c - KPI updates and dead letters as Avro and JSON. Escalations
 * are CloudEvents and have their own file, test_encode_escalation.c.
 *
 * Avro output is decoded back with avro-c from the schemas compiled into the
 * binary, after checking the 5-byte Confluent frame. JSON output is parsed
 * back with jansson. Every field is compared with what went in.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <avro.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "avro_frame.h"
#include "encode.h"
#include "schemas.h"

#define SCHEMA_ID 0x01020384

typedef struct fixture {
	encoder *enc;
	encode_buf buf;
	config_output avro_out;
	config_output json_out;
	config_kpi kpi;
	kpi_update update;
	dlq_record dlq;
} fixture;


static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));
	char errstr[256] = "";
	static const unsigned char payload[] = {0x00, 0xff, 0x10, '{', 0x00, 0x80, 0xfe};
	static const unsigned char key[] = {0xff, 0x00};

	f->enc = encoder_new(errstr, sizeof(errstr));
	if (!f->enc)
		fail_msg("encoder_new: %s", errstr);
	f->avro_out =
	    (config_output){.topic = "out", .format = OUTPUT_FORMAT_AVRO, .schema_id = SCHEMA_ID};
	f->json_out = (config_output){.topic = "out", .format = OUTPUT_FORMAT_JSON};

	f->kpi = (config_kpi){.id = "recognition_rate",
			      .name = "Peer recognition rate",
			      .quadrant = QUADRANT_LEARNING_GROWTH,
			      .indicator = INDICATOR_LAGGING,
			      .kind = KPI_KIND_PASSIVE,
			      .unit = "share of headcount",
			      .weight = 0.125,
			      .target = 0.5};
	f->update = (kpi_update){
	    .kpi = &f->kpi,
	    .scope = "team:Payments",
	    .scope_kind = SCOPE_TEAM,
	    .window = "7d",
	    .value = 0.3125,
	    .count = 5,
	    .contributors = 3,
	    .headcount = 16,
	    .rate = 0.3125,
	    .window_start_ms = 1700000000000LL,
	    .window_end_ms = 1700604800000LL,
	    .computed_at_ms = 1700604801234LL,
	    .target = 0.5,
	};
	f->dlq = (dlq_record){
	    .reason = "invalid_json",
	    .detail = "message is not valid JSON",
	    .source_topic = "slack.events",
	    .source_partition = 7,
	    .source_offset = 1234567890123LL,
	    .source_timestamp_ms = 1700000000999LL,
	    .payload = payload,
	    .payload_len = sizeof(payload),
	    .key = key,
	    .key_len = sizeof(key),
	    .dead_lettered_at_ms = 1700000001000LL,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	encode_buf_free(&f->buf);
	encoder_free(f->enc);
	test_free(f);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Avro reading helpers                                                      */

static avro_value_t field(decoded *d, const char *name)
{
	avro_value_t v;

	if (avro_value_get_by_name(&d->value, name, &v, NULL) != 0)
		fail_msg("field %s missing", name);
	return v;
}

static const char *get_string(decoded *d, const char *name)
{
	avro_value_t v = field(d, name);
	const char *s = NULL;
	size_t size = 0;

	assert_int_equal(avro_value_get_string(&v, &s, &size), 0);
	return s;
}

static int64_t get_long(decoded *d, const char *name)
{
	avro_value_t v = field(d, name);
	int64_t out = 0;

	assert_int_equal(avro_value_get_long(&v, &out), 0);
	return out;
}

static int32_t get_int(decoded *d, const char *name)
{
	avro_value_t v = field(d, name);
	int32_t out = 0;

	assert_int_equal(avro_value_get_int(&v, &out), 0);
	return out;
}

static double get_double(decoded *d, const char *name)
{
	avro_value_t v = field(d, name);
	double out = 0;

	assert_int_equal(avro_value_get_double(&v, &out), 0);
	return out;
}

static const char *get_enum_symbol(decoded *d, const char *name)
{
	avro_value_t v = field(d, name);
	int index = -1;

	assert_int_equal(avro_value_get_enum(&v, &index), 0);
	return avro_schema_enum_get(avro_value_get_schema(&v), index);
}

/* Returns the branch of a ["null", T] union, or reports null with *is_null. */
static avro_value_t get_optional(decoded *d, const char *name, int *is_null)
{
	avro_value_t v = field(d, name);
	avro_value_t branch;
	int disc = -1;

	assert_int_equal(avro_value_get_discriminant(&v, &disc), 0);
	assert_int_equal(avro_value_get_current_branch(&v, &branch), 0);
	*is_null = disc == 0;
	return branch;
}

/* ------------------------------------------------------------------------ */
/* JSON reading helpers                                                      */

static json_t *parse_json(const encode_buf *buf)
{
	json_error_t err;
	json_t *root = json_loadb(buf->data, buf->len, 0, &err);

	if (!root)
		fail_msg("invalid JSON output: %s", err.text);
	assert_true(json_is_object(root));
	return root;
}

static const char *json_get_string(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_string(v))
		fail_msg("JSON field %s is not a string", name);
	return json_string_value(v);
}

static json_int_t json_get_integer(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v))
		fail_msg("JSON field %s is not an integer", name);
	return json_integer_value(v);
}

static double json_get_number(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_number(v))
		fail_msg("JSON field %s is not a number", name);
	return json_number_value(v);
}

/* Decodes standard base64 text into out and returns the byte count. */
static size_t base64_decode(const char *text, unsigned char *out, size_t out_size)
{
	size_t len = strlen(text);
	int n;

	assert_true(len % 4 == 0);
	assert_true(len / 4 * 3 <= out_size);
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	assert_true(n >= 0);
	/* EVP_DecodeBlock counts the bytes that padding stands for. */
	if (len && text[len - 1] == '=')
		n--;
	if (len > 1 && text[len - 2] == '=')
		n--;
	return (size_t)n;
}

/* ------------------------------------------------------------------------ */
/* KPI updates                                                               */

static void test_kpi_avro_round_trip(void **state)
{
	fixture *f = *state;
	decoded d;

	assert_int_equal(encode_kpi_update(f->enc, &f->avro_out, &f->update, &f->buf), 0);
	decode_framed(&f->buf, schema_kpi_update, &d);
	assert_string_equal(get_string(&d, "kpi"), "recognition_rate");
	assert_string_equal(get_string(&d, "kpi_name"), "Peer recognition rate");
	assert_string_equal(get_string(&d, "scope"), "team:Payments");
	assert_string_equal(get_string(&d, "scope_kind"), "team");
	assert_string_equal(get_string(&d, "window"), "7d");
	assert_true(get_double(&d, "value") == 0.3125);
	assert_int_equal(get_long(&d, "count"), 5);
	assert_int_equal(get_long(&d, "contributors"), 3);
	assert_int_equal(get_int(&d, "headcount"), 16);
	assert_true(get_double(&d, "rate") == 0.3125);
	assert_string_equal(get_enum_symbol(&d, "quadrant"), "LEARNING_GROWTH");
	assert_string_equal(get_enum_symbol(&d, "indicator"), "LAGGING");
	assert_true(get_double(&d, "weight") == 0.125);
	assert_true(get_double(&d, "target") == 0.5);
	assert_int_equal(get_long(&d, "window_start"), 1700000000000LL);
	assert_int_equal(get_long(&d, "window_end"), 1700604800000LL);
	assert_int_equal(get_long(&d, "computed_at"), 1700604801234LL);
	decoded_free(&d);
}

static void test_kpi_json_round_trip(void **state)
{
	fixture *f = *state;
	json_t *o;

	assert_int_equal(encode_kpi_update(f->enc, &f->json_out, &f->update, &f->buf), 0);
	o = parse_json(&f->buf);
	assert_string_equal(json_get_string(o, "kpi"), "recognition_rate");
	assert_string_equal(json_get_string(o, "kpi_name"), "Peer recognition rate");
	assert_string_equal(json_get_string(o, "scope"), "team:Payments");
	assert_string_equal(json_get_string(o, "scope_kind"), "team");
	assert_string_equal(json_get_string(o, "window"), "7d");
	assert_true(json_get_number(o, "value") == 0.3125);
	assert_int_equal(json_get_integer(o, "count"), 5);
	assert_int_equal(json_get_integer(o, "contributors"), 3);
	assert_int_equal(json_get_integer(o, "headcount"), 16);
	assert_true(json_get_number(o, "rate") == 0.3125);
	assert_string_equal(json_get_string(o, "quadrant"), "learning_growth");
	assert_string_equal(json_get_string(o, "indicator"), "lagging");
	assert_true(json_get_number(o, "weight") == 0.125);
	assert_true(json_get_number(o, "target") == 0.5);
	assert_string_equal(json_get_string(o, "kind"), "passive");
	assert_string_equal(json_get_string(o, "unit"), "share of headcount");
	assert_int_equal(json_get_integer(o, "window_start"), 1700000000000LL);
	assert_int_equal(json_get_integer(o, "window_end"), 1700604800000LL);
	assert_int_equal(json_get_integer(o, "computed_at"), 1700604801234LL);
	assert_int_equal(json_object_size(o), 19);
	json_decref(o);
}

static void test_kpi_every_quadrant(void **state)
{
	fixture *f = *state;
	static const char *const avro_symbols[] = {"FINANCIAL", "CUSTOMER", "INTERNAL_PROCESS",
						   "LEARNING_GROWTH"};
	static const char *const json_names[] = {"financial", "customer", "internal_process",
						 "learning_growth"};
	static const quadrant quadrants[] = {QUADRANT_FINANCIAL, QUADRANT_CUSTOMER,
					     QUADRANT_INTERNAL_PROCESS, QUADRANT_LEARNING_GROWTH};

	for (size_t i = 0; i < 4; i++) {
		decoded d;
		json_t *o;

		f->kpi.quadrant = quadrants[i];
		f->kpi.indicator = i % 2 ? INDICATOR_LAGGING : INDICATOR_LEADING;
		assert_int_equal(encode_kpi_update(f->enc, &f->avro_out, &f->update, &f->buf), 0);
		decode_framed(&f->buf, schema_kpi_update, &d);
		assert_string_equal(get_enum_symbol(&d, "quadrant"), avro_symbols[i]);
		assert_string_equal(get_enum_symbol(&d, "indicator"),
				    i % 2 ? "LAGGING" : "LEADING");
		decoded_free(&d);

		assert_int_equal(encode_kpi_update(f->enc, &f->json_out, &f->update, &f->buf), 0);
		o = parse_json(&f->buf);
		assert_string_equal(json_get_string(o, "quadrant"), json_names[i]);
		assert_string_equal(json_get_string(o, "indicator"), i % 2 ? "lagging" : "leading");
		json_decref(o);
	}
}

static void test_kpi_buffer_reused(void **state)
{
	fixture *f = *state;
	char scope[3000];
	decoded d;

	/* A long scope grows the buffer. A short record after it must not keep stale bytes. */
	memset(scope, 'x', sizeof(scope) - 1);
	memcpy(scope, "team:", 5);
	scope[sizeof(scope) - 1] = '\0';
	f->update.scope = scope;
	assert_int_equal(encode_kpi_update(f->enc, &f->avro_out, &f->update, &f->buf), 0);
	assert_true(f->buf.len > sizeof(scope));
	decode_framed(&f->buf, schema_kpi_update, &d);
	assert_string_equal(get_string(&d, "scope"), scope);
	decoded_free(&d);

	f->update.scope = "org";
	assert_int_equal(encode_kpi_update(f->enc, &f->avro_out, &f->update, &f->buf), 0);
	assert_true(f->buf.len < 200);
	decode_framed(&f->buf, schema_kpi_update, &d);
	assert_string_equal(get_string(&d, "scope"), "org");
	decoded_free(&d);
}

static void test_kpi_key_format(void **state)
{
	fixture *f = *state;
	char key[64];
	char small[8];

	assert_int_equal(encode_kpi_key(&f->update, key, sizeof(key)),
			 strlen("recognition_rate|team:Payments|7d"));
	assert_string_equal(key, "recognition_rate|team:Payments|7d");

	/* Truncated like snprintf: the return value is the full length. */
	assert_int_equal(encode_kpi_key(&f->update, small, sizeof(small)), strlen(key));
	assert_string_equal(small, "recogni");
}

/* ------------------------------------------------------------------------ */
/* Dead letters                                                              */

static void check_bytes(avro_value_t *v, const void *expected, size_t len)
{
	const void *data = NULL;
	size_t size = 0;

	assert_int_equal(avro_value_get_bytes(v, &data, &size), 0);
	assert_int_equal(size, len);
	if (len)
		assert_memory_equal(data, expected, len);
}

static void test_dlq_avro_round_trip(void **state)
{
	fixture *f = *state;
	avro_value_t v;
	int64_t ts = 0;
	int is_null = 1;
	decoded d;

	assert_int_equal(encode_dlq(f->enc, &f->avro_out, &f->dlq, &f->buf), 0);
	decode_framed(&f->buf, schema_dlq_record, &d);
	assert_string_equal(get_string(&d, "reason"), "invalid_json");
	assert_string_equal(get_string(&d, "detail"), "message is not valid JSON");
	assert_string_equal(get_string(&d, "source_topic"), "slack.events");
	assert_int_equal(get_int(&d, "source_partition"), 7);
	assert_int_equal(get_long(&d, "source_offset"), 1234567890123LL);
	v = get_optional(&d, "source_timestamp", &is_null);
	assert_false(is_null);
	assert_int_equal(avro_value_get_long(&v, &ts), 0);
	assert_int_equal(ts, 1700000000999LL);
	assert_int_equal(get_long(&d, "dead_lettered_at"), 1700000001000LL);
	v = get_optional(&d, "key", &is_null);
	assert_false(is_null);
	check_bytes(&v, f->dlq.key, f->dlq.key_len);
	v = field(&d, "payload");
	check_bytes(&v, f->dlq.payload, f->dlq.payload_len);
	decoded_free(&d);
}

static void test_dlq_avro_nulls(void **state)
{
	fixture *f = *state;
	avro_value_t v;
	int is_null = 0;
	decoded d;

	f->dlq.key = NULL;
	f->dlq.key_len = 0;
	f->dlq.source_timestamp_ms = -1;
	f->dlq.payload = NULL;
	f->dlq.payload_len = 0;
	assert_int_equal(encode_dlq(f->enc, &f->avro_out, &f->dlq, &f->buf), 0);
	decode_framed(&f->buf, schema_dlq_record, &d);
	get_optional(&d, "source_timestamp", &is_null);
	assert_true(is_null);
	is_null = 0;
	get_optional(&d, "key", &is_null);
	assert_true(is_null);
	v = field(&d, "payload");
	check_bytes(&v, "", 0);
	decoded_free(&d);
}

static void test_dlq_json_base64(void **state)
{
	fixture *f = *state;
	unsigned char bytes[64];
	size_t n;
	json_t *o;

	assert_int_equal(encode_dlq(f->enc, &f->json_out, &f->dlq, &f->buf), 0);
	o = parse_json(&f->buf);
	assert_string_equal(json_get_string(o, "reason"), "invalid_json");
	assert_string_equal(json_get_string(o, "detail"), "message is not valid JSON");
	assert_string_equal(json_get_string(o, "source_topic"), "slack.events");
	assert_int_equal(json_get_integer(o, "source_partition"), 7);
	assert_int_equal(json_get_integer(o, "source_offset"), 1234567890123LL);
	assert_int_equal(json_get_integer(o, "source_timestamp"), 1700000000999LL);
	assert_int_equal(json_get_integer(o, "dead_lettered_at"), 1700000001000LL);
	assert_string_equal(json_get_string(o, "key"), "/wA=");
	n = base64_decode(json_get_string(o, "key"), bytes, sizeof(bytes));
	assert_int_equal(n, f->dlq.key_len);
	assert_memory_equal(bytes, f->dlq.key, n);
	assert_string_equal(json_get_string(o, "payload"), "AP8QewCA/g==");
	n = base64_decode(json_get_string(o, "payload"), bytes, sizeof(bytes));
	assert_int_equal(n, f->dlq.payload_len);
	assert_memory_equal(bytes, f->dlq.payload, n);
	assert_int_equal(json_object_size(o), 9);
	json_decref(o);
}

static void test_dlq_json_nulls(void **state)
{
	fixture *f = *state;
	json_t *o;

	f->dlq.key = NULL;
	f->dlq.key_len = 0;
	f->dlq.source_timestamp_ms = -1;
	f->dlq.payload = NULL;
	f->dlq.payload_len = 0;
	assert_int_equal(encode_dlq(f->enc, &f->json_out, &f->dlq, &f->buf), 0);
	o = parse_json(&f->buf);
	assert_true(json_is_null(json_object_get(o, "key")));
	assert_true(json_is_null(json_object_get(o, "source_timestamp")));
	assert_string_equal(json_get_string(o, "payload"), "");
	json_decref(o);
}

static void test_dlq_json_large_payload(void **state)
{
	fixture *f = *state;
	static unsigned char payload[100000];
	static unsigned char back[sizeof(payload) + 3];
	json_t *o;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(i * 7);
	f->dlq.payload = payload;
	f->dlq.payload_len = sizeof(payload);
	assert_int_equal(encode_dlq(f->enc, &f->json_out, &f->dlq, &f->buf), 0);
	o = parse_json(&f->buf);
	assert_int_equal(base64_decode(json_get_string(o, "payload"), back, sizeof(back)),
			 sizeof(payload));
	assert_memory_equal(back, payload, sizeof(payload));
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_kpi_avro_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpi_json_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpi_every_quadrant, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpi_buffer_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpi_key_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dlq_avro_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dlq_avro_nulls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dlq_json_base64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dlq_json_nulls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dlq_json_large_payload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
