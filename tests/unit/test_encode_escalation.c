/*
 * test_encode_escalation.c - escalations as CloudEvents 1.0 over Kafka.
 *
 * Every alert state is encoded in the four combinations of content mode and
 * data format. Binary mode puts the attributes in ce_ headers, structured mode
 * writes one JSON event, and the data is Avro or JSON. A consumer's reading
 * is repeated: Avro is decoded with avro-c from the schema compiled into the
 * binary, after checking the Confluent frame and, in structured mode, the
 * base64 around it. JSON is parsed with jansson. The same checks then run on
 * both formats, so that they cannot drift apart.
 */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <avro.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "avro_frame.h"
#include "encode.h"
#include "schemas.h"

#define SCHEMA_ID 0x01020384
#define AT_MS 1700000060123LL
#define AT_TEXT "2023-11-14T22:14:20.123Z"
#define STARTED_MS 1700000000000LL
#define SOURCE "/advocacyd/advocacy-test"
#define DATASCHEMA "urn:advocacyd:schema:io.advocacyd.Escalation:16909188"
#define STRUCTURED_TYPE "application/cloudevents+json; charset=UTF-8"
#define N_FIELDS 32 /* fields of the Escalation record */

enum mode { BINARY_AVRO, BINARY_JSON, STRUCTURED_AVRO, STRUCTURED_JSON, MODE_COUNT };

static const char *const mode_names[] = {"binary avro", "binary json", "structured avro",
					 "structured json"};

typedef struct fixture {
	encoder *enc;
	encode_buf buf;
	encode_ce_headers hdrs;
	config cfg;
	config_output avro_out;
	config_output json_out;
	config_kpi kpi;
	config_threshold rule;
	config_kv labels[2];
	const char *held[250];
	char held_text[250][32];
	alert_event alert;
} fixture;


/* The Escalation data of one encoded event, read back in either format. */
typedef struct data {
	const char *mode;
	int avro;
	decoded d;
	encode_buf framed; /* structured Avro: the datum under the base64 */
	json_t *root;	   /* the parsed message value (JSON modes and structured mode) */
	json_t *obj;	   /* JSON data: root, or root's "data" */
	char symbol[32];
} data;

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));
	char errstr[256] = "";

	f->enc = encoder_new(errstr, sizeof(errstr));
	if (!f->enc)
		fail_msg("encoder_new: %s", errstr);
	f->avro_out = (config_output){
	    .topic = "advocacy.escalations", .format = OUTPUT_FORMAT_AVRO, .schema_id = SCHEMA_ID};
	f->json_out =
	    (config_output){.topic = "advocacy.escalations", .format = OUTPUT_FORMAT_JSON};
	f->cfg.outputs.escalations = f->avro_out;
	f->cfg.alerts.source = SOURCE;

	f->labels[0] = (config_kv){.key = "team", .value = "people"};
	f->labels[1] = (config_kv){.key = "service", .value = "advocacy"};
	f->rule = (config_threshold){.id = "recognition_low",
				     .condition = ALERT_COND_THRESHOLD,
				     .direction = THRESHOLD_BELOW,
				     .value = 0.5,
				     .has_value = true,
				     .resolve_value = 0.55,
				     .for_ticks = 2,
				     .periods = 7,
				     .severity = "warning",
				     .owner = "people-team",
				     .route = "people-team",
				     .runbook_url = "https://runbooks.example.com/recognition",
				     .labels = f->labels,
				     .n_labels = 2,
				     .escalate_owner = "hr-leads",
				     .escalate_severity = "critical"};
	f->kpi = (config_kpi){.id = "recognition_rate",
			      .name = "Peer recognition rate",
			      .quadrant = QUADRANT_LEARNING_GROWTH,
			      .indicator = INDICATOR_LAGGING,
			      .weight = 0.125,
			      .target = 0.6,
			      .thresholds = &f->rule,
			      .n_thresholds = 1};
	f->alert = (alert_event){
	    .state = ALERT_FIRING,
	    .kpi = &f->kpi,
	    .rule = &f->rule,
	    .scope = "team:Payments",
	    .window = "7d",
	    .dedup_key = "recognition_low/team:Payments",
	    .id = "recognition_low/team:Payments/1700000000000/firing",
	    .severity = "warning",
	    .owner = "people-team",
	    .tier = 1,
	    .observed = 0.31,
	    .threshold = 0.5,
	    .resolve_threshold = 0.55,
	    .target = 0.6,
	    .started_at_ms = STARTED_MS,
	    .at_ms = AT_MS,
	    .rule_version = "0123456789abcdef",
	};
	for (size_t i = 0; i < 250; i++) {
		snprintf(f->held_text[i], sizeof(f->held_text[i]), "rule_%zu/team:T%zu", i, i);
		f->held[i] = f->held_text[i];
	}
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

/* Turns the fixture's alert into an event of state s, as the engine would send it. */
static void set_state(fixture *f, alert_state s)
{
	alert_event *a = &f->alert;

	a->state = s;
	switch (s) {
	case ALERT_REPEAT:
		a->id = "recognition_low/team:Payments/1700000000000/repeat/2";
		a->sequence = 2;
		break;
	case ALERT_ESCALATED:
		a->id = "recognition_low/team:Payments/1700000000000/escalated";
		a->tier = 2;
		a->severity = "critical";
		a->owner = "hr-leads";
		break;
	case ALERT_RESOLVED:
		a->id = "recognition_low/team:Payments/1700000000000/resolved";
		a->observed = 0.6;
		a->ended_at_ms = AT_MS;
		break;
	case ALERT_STORM:
		*a = (alert_event){.state = ALERT_STORM,
				   .scope = "people-team",
				   .dedup_key = "storm/people-team",
				   .id = "storm/people-team/1700000060123/storm",
				   .severity = "critical",
				   .tier = 1,
				   .at_ms = AT_MS,
				   .rule_version = "0123456789abcdef",
				   .held_keys = f->held,
				   .n_held = 3};
		break;
	default:
		break;
	}
}

static void encode_in(fixture *f, int mode)
{
	int avro = mode == BINARY_AVRO || mode == STRUCTURED_AVRO;

	f->cfg.alerts.structured = mode == STRUCTURED_AVRO || mode == STRUCTURED_JSON;
	f->cfg.outputs.escalations = avro ? f->avro_out : f->json_out;
	if (encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs) != 0)
		fail_msg("encode_escalation failed (%s, state %s)", mode_names[mode],
			 alert_state_name(f->alert.state));
}

/* ------------------------------------------------------------------------ */
/* Reading headers                                                           */

/* Returns the value of header name, NULL when absent; fails when it repeats. */
static const char *header(const fixture *f, const char *name)
{
	const char *value = NULL;

	for (size_t i = 0; i < f->hdrs.n; i++) {
		if (strcmp(f->hdrs.h[i].name, name) != 0)
			continue;
		if (value)
			fail_msg("header %s appears twice", name);
		value = f->hdrs.h[i].value;
	}
	return value;
}

static const char *required_header(const fixture *f, const char *name)
{
	const char *value = header(f, name);

	if (!value)
		fail_msg("header %s missing", name);
	return value;
}

/* CloudEvents attribute names: lowercase ASCII letters and digits only. */
static int attribute_name_valid(const char *name)
{
	if (!*name)
		return 0;
	for (; *name; name++) {
		if (!islower((unsigned char)*name) && !isdigit((unsigned char)*name))
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Reading the data                                                          */

/* Decodes standard base64 into a test-allocated buffer. */
static void base64_decode(const char *text, encode_buf *out)
{
	size_t len = strlen(text);
	int n;

	assert_true(len % 4 == 0);
	out->data = test_malloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock((unsigned char *)out->data, (const unsigned char *)text, (int)len);
	assert_true(n >= 0);
	/* EVP_DecodeBlock counts the bytes that padding stands for. */
	if (len && text[len - 1] == '=')
		n--;
	if (len > 1 && text[len - 2] == '=')
		n--;
	out->len = (size_t)n;
}


static json_t *parse_json(const char *text, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(text, len, 0, &err);

	if (!root)
		fail_msg("invalid JSON output: %s", err.text);
	assert_true(json_is_object(root));
	return root;
}

/* Reads back the data of the event in f->buf, encoded in mode. */
static void data_open(fixture *f, int mode, data *x)
{
	json_t *b64;

	memset(x, 0, sizeof(*x));
	x->mode = mode_names[mode];
	x->avro = mode == BINARY_AVRO || mode == STRUCTURED_AVRO;
	if (mode == BINARY_AVRO) {
		decode_framed(&f->buf, schema_escalation, &x->d);
		return;
	}
	x->root = parse_json(f->buf.data, f->buf.len);
	if (mode == BINARY_JSON) {
		x->obj = x->root;
		return;
	}
	if (mode == STRUCTURED_JSON) {
		x->obj = json_object_get(x->root, "data");
		assert_true(json_is_object(x->obj));
		assert_null(json_object_get(x->root, "data_base64"));
		return;
	}
	assert_null(json_object_get(x->root, "data"));
	b64 = json_object_get(x->root, "data_base64");
	assert_true(json_is_string(b64));
	base64_decode(json_string_value(b64), &x->framed);
	decode_framed(&x->framed, schema_escalation, &x->d);
}

static void data_close(data *x)
{
	if (x->avro) {
		decoded_free(&x->d);
	}
	if (x->framed.data)
		test_free(x->framed.data);
	json_decref(x->root);
}

/* Returns Avro field name, or the current branch of a union (is_null: the null branch). */
static avro_value_t avro_field(data *x, const char *name, int *is_null)
{
	avro_value_t v, branch;
	int disc = -1;

	if (avro_value_get_by_name(&x->d.value, name, &v, NULL) != 0)
		fail_msg("%s: field %s missing", x->mode, name);
	*is_null = 0;
	if (avro_value_get_type(&v) != AVRO_UNION)
		return v;
	assert_int_equal(avro_value_get_discriminant(&v, &disc), 0);
	assert_int_equal(avro_value_get_current_branch(&v, &branch), 0);
	*is_null = disc == 0;
	return branch;
}

static json_t *json_field(data *x, const char *name)
{
	json_t *v = json_object_get(x->obj, name);

	if (!v)
		fail_msg("%s: field %s missing", x->mode, name);
	return v;
}

static int data_is_null(data *x, const char *name)
{
	int is_null = 0;

	if (!x->avro)
		return json_is_null(json_field(x, name));
	avro_field(x, name, &is_null);
	return is_null;
}

static const char *data_string(data *x, const char *name)
{
	const char *s = NULL;
	size_t size = 0;
	avro_value_t v;
	int is_null = 0;

	if (!x->avro) {
		if (!json_is_string(json_field(x, name)))
			fail_msg("%s: field %s is not a string", x->mode, name);
		return json_string_value(json_field(x, name));
	}
	v = avro_field(x, name, &is_null);
	if (is_null)
		fail_msg("%s: field %s is null", x->mode, name);
	assert_int_equal(avro_value_get_string(&v, &s, &size), 0);
	return s;
}

static int64_t data_long(data *x, const char *name)
{
	int64_t l = 0;
	int32_t i = 0;
	avro_value_t v;
	int is_null = 0;

	if (!x->avro) {
		if (!json_is_integer(json_field(x, name)))
			fail_msg("%s: field %s is not an integer", x->mode, name);
		return json_integer_value(json_field(x, name));
	}
	v = avro_field(x, name, &is_null);
	assert_false(is_null);
	if (avro_value_get_type(&v) == AVRO_INT32) {
		assert_int_equal(avro_value_get_int(&v, &i), 0);
		return i;
	}
	assert_int_equal(avro_value_get_long(&v, &l), 0);
	return l;
}

static double data_double_in(data *x, avro_value_t *v, json_t *j, const char *name)
{
	double d = 0;

	if (!x->avro) {
		if (!json_is_number(j))
			fail_msg("%s: field %s is not a number", x->mode, name);
		return json_number_value(j);
	}
	assert_int_equal(avro_value_get_double(v, &d), 0);
	return d;
}

static double data_double(data *x, const char *name)
{
	avro_value_t v;
	int is_null = 0;

	if (!x->avro)
		return data_double_in(x, NULL, json_field(x, name), name);
	v = avro_field(x, name, &is_null);
	if (is_null)
		fail_msg("%s: field %s is null", x->mode, name);
	return data_double_in(x, &v, NULL, name);
}

/* Returns an enum as the JSON form writes it: the symbol in lowercase. */
static const char *data_enum(data *x, const char *name)
{
	const char *symbol;
	avro_value_t v;
	int index = -1, is_null = 0;
	size_t i = 0;

	if (!x->avro)
		return data_string(x, name);
	v = avro_field(x, name, &is_null);
	assert_false(is_null);
	assert_int_equal(avro_value_get_enum(&v, &index), 0);
	symbol = avro_schema_enum_get(avro_value_get_schema(&v), index);
	assert_non_null(symbol);
	for (; symbol[i] && i + 1 < sizeof(x->symbol); i++)
		x->symbol[i] = (char)tolower((unsigned char)symbol[i]);
	x->symbol[i] = '\0';
	return x->symbol;
}

/* Size of a map or array field. */
static size_t data_size(data *x, const char *name)
{
	size_t n = 0;
	avro_value_t v;
	int is_null = 0;

	if (!x->avro) {
		json_t *j = json_field(x, name);

		return json_is_array(j) ? json_array_size(j) : json_object_size(j);
	}
	v = avro_field(x, name, &is_null);
	assert_int_equal(avro_value_get_size(&v, &n), 0);
	return n;
}

/* Value of key in the map<string> field name; NULL when absent. */
static const char *data_map_get(data *x, const char *name, const char *key)
{
	const char *s = NULL;
	avro_value_t v, child;
	int is_null = 0;
	size_t size = 0;

	if (!x->avro)
		return json_string_value(json_object_get(json_field(x, name), key));
	v = avro_field(x, name, &is_null);
	if (avro_value_get_by_name(&v, key, &child, NULL) != 0)
		return NULL;
	assert_int_equal(avro_value_get_string(&child, &s, &size), 0);
	return s;
}

/* Item i of the array<string> field name. */
static const char *data_array_get(data *x, const char *name, size_t i)
{
	const char *s = NULL;
	avro_value_t v, child;
	int is_null = 0;
	size_t size = 0;

	if (!x->avro)
		return json_string_value(json_array_get(json_field(x, name), i));
	v = avro_field(x, name, &is_null);
	assert_int_equal(avro_value_get_by_index(&v, i, &child, NULL), 0);
	assert_int_equal(avro_value_get_string(&child, &s, &size), 0);
	return s;
}

/* Reads the baseline record; returns 0 when it is null. */
static int data_baseline(data *x, double *mean, double *stddev)
{
	avro_value_t v, m, s;
	int is_null = 0;
	json_t *j;

	if (!x->avro) {
		j = json_field(x, "baseline");
		if (json_is_null(j))
			return 0;
		*mean = data_double_in(x, NULL, json_object_get(j, "mean"), "baseline.mean");
		*stddev = data_double_in(x, NULL, json_object_get(j, "stddev"), "baseline.stddev");
		return 1;
	}
	v = avro_field(x, "baseline", &is_null);
	if (is_null)
		return 0;
	assert_int_equal(avro_value_get_by_name(&v, "mean", &m, NULL), 0);
	assert_int_equal(avro_value_get_by_name(&v, "stddev", &s, NULL), 0);
	*mean = data_double_in(x, &m, NULL, "baseline.mean");
	*stddev = data_double_in(x, &s, NULL, "baseline.stddev");
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Checks shared by the tests                                                */

/* The CloudEvents attributes of f's alert, from the headers or the JSON event. */
static void check_attributes(fixture *f, int mode, const char *type)
{
	int avro = mode == BINARY_AVRO || mode == STRUCTURED_AVRO;
	const char *content_type = avro ? "application/avro" : "application/json";
	json_t *ev;

	if (mode == BINARY_AVRO || mode == BINARY_JSON) {
		assert_string_equal(required_header(f, "ce_specversion"), "1.0");
		assert_string_equal(required_header(f, "ce_id"), f->alert.id);
		assert_string_equal(required_header(f, "ce_source"), SOURCE);
		assert_string_equal(required_header(f, "ce_type"), type);
		assert_string_equal(required_header(f, "ce_time"), AT_TEXT);
		assert_string_equal(required_header(f, "ce_subject"), f->alert.dedup_key);
		assert_string_equal(required_header(f, "content-type"), content_type);
		assert_string_equal(required_header(f, "ce_severity"), f->alert.severity);
		assert_string_equal(required_header(f, "ce_dedupkey"), f->alert.dedup_key);
		if (avro)
			assert_string_equal(required_header(f, "ce_dataschema"), DATASCHEMA);
		else
			assert_null(header(f, "ce_dataschema"));
		assert_int_equal(f->hdrs.n, avro ? 10 : 9);
		for (size_t i = 0; i < f->hdrs.n; i++) {
			const char *name = f->hdrs.h[i].name;

			if (strcmp(name, "content-type") == 0)
				continue;
			assert_memory_equal(name, "ce_", 3);
			if (!attribute_name_valid(name + 3))
				fail_msg("header %s is not a valid CloudEvents attribute", name);
		}
		return;
	}

	assert_int_equal(f->hdrs.n, 1);
	assert_string_equal(required_header(f, "content-type"), STRUCTURED_TYPE);
	ev = parse_json(f->buf.data, f->buf.len);
	assert_string_equal(json_string_value(json_object_get(ev, "specversion")), "1.0");
	assert_string_equal(json_string_value(json_object_get(ev, "id")), f->alert.id);
	assert_string_equal(json_string_value(json_object_get(ev, "source")), SOURCE);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), type);
	assert_string_equal(json_string_value(json_object_get(ev, "time")), AT_TEXT);
	assert_string_equal(json_string_value(json_object_get(ev, "subject")), f->alert.dedup_key);
	assert_string_equal(json_string_value(json_object_get(ev, "datacontenttype")),
			    content_type);
	assert_string_equal(json_string_value(json_object_get(ev, "severity")), f->alert.severity);
	assert_string_equal(json_string_value(json_object_get(ev, "dedupkey")), f->alert.dedup_key);
	if (avro)
		assert_string_equal(json_string_value(json_object_get(ev, "dataschema")),
				    DATASCHEMA);
	else
		assert_null(json_object_get(ev, "dataschema"));
	assert_int_equal(json_object_size(ev), avro ? 11 : 10);
	json_decref(ev);
}

/* The fields of an alert's data that do not depend on its state. */
static void check_alert_rule_fields(data *x)
{
	assert_string_equal(data_string(x, "dedup_key"), "recognition_low/team:Payments");
	assert_string_equal(data_string(x, "source"), SOURCE);
	assert_string_equal(data_string(x, "rule_id"), "recognition_low");
	assert_string_equal(data_string(x, "rule_version"), "0123456789abcdef");
	assert_string_equal(data_string(x, "condition"), "threshold");
	assert_string_equal(data_enum(x, "direction"), "below");
	assert_string_equal(data_string(x, "kpi"), "recognition_rate");
	assert_string_equal(data_string(x, "kpi_name"), "Peer recognition rate");
	assert_string_equal(data_enum(x, "quadrant"), "learning_growth");
	assert_string_equal(data_string(x, "scope"), "team:Payments");
	assert_string_equal(data_string(x, "window"), "7d");
	assert_string_equal(data_string(x, "route"), "people-team");
	assert_string_equal(data_string(x, "runbook_url"),
			    "https://runbooks.example.com/recognition");
	assert_int_equal(data_size(x, "labels"), 2);
	assert_string_equal(data_map_get(x, "labels", "team"), "people");
	assert_string_equal(data_map_get(x, "labels", "service"), "advocacy");
	assert_true(data_double(x, "threshold") == 0.5);
	assert_true(data_double(x, "resolve_threshold") == 0.55);
	assert_true(data_double(x, "target") == 0.6);
	assert_true(data_is_null(x, "baseline"));
	assert_true(data_is_null(x, "lowest_scope"));
	assert_true(data_is_null(x, "highest_scope"));
	assert_int_equal(data_long(x, "starts_at"), STARTED_MS);
	assert_int_equal(data_long(x, "emitted_at"), AT_MS);
	assert_int_equal(data_size(x, "held_back"), 0);
	assert_int_equal(data_long(x, "held_count"), 0);
}

/* Number of fields of the JSON data; Avro has a fixed record. */
static void check_field_count(data *x)
{
	if (!x->avro)
		assert_int_equal(json_object_size(x->obj), N_FIELDS);
}

/* ------------------------------------------------------------------------ */
/* Alerts in every state, mode and format                                    */

static void test_firing_every_mode(void **state)
{
	fixture *f = *state;

	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		encode_in(f, mode);
		check_attributes(f, mode, "io.advocacyd.escalation.firing");
		data_open(f, mode, &x);
		check_alert_rule_fields(&x);
		assert_string_equal(data_enum(&x, "status"), "firing");
		assert_string_equal(data_string(&x, "summary"),
				    "Peer recognition rate for team:Payments is 0.31, below 0.50");
		assert_string_equal(data_string(&x, "severity"), "warning");
		assert_string_equal(data_string(&x, "owner"), "people-team");
		assert_int_equal(data_long(&x, "tier"), 1);
		assert_true(data_double(&x, "observed") == 0.31);
		assert_true(data_is_null(&x, "ends_at"));
		assert_int_equal(data_long(&x, "sequence"), 0);
		check_field_count(&x);
		data_close(&x);
	}
}

static void test_repeat_every_mode(void **state)
{
	fixture *f = *state;

	set_state(f, ALERT_REPEAT);
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		encode_in(f, mode);
		check_attributes(f, mode, "io.advocacyd.escalation.repeat");
		data_open(f, mode, &x);
		check_alert_rule_fields(&x);
		assert_string_equal(data_enum(&x, "status"), "repeat");
		assert_string_equal(
		    data_string(&x, "summary"),
		    "Still firing: Peer recognition rate for team:Payments is 0.31, below 0.50");
		assert_int_equal(data_long(&x, "sequence"), 2);
		assert_true(data_is_null(&x, "ends_at"));
		check_field_count(&x);
		data_close(&x);
	}
}

static void test_escalated_every_mode(void **state)
{
	fixture *f = *state;

	set_state(f, ALERT_ESCALATED);
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		encode_in(f, mode);
		check_attributes(f, mode, "io.advocacyd.escalation.escalated");
		data_open(f, mode, &x);
		check_alert_rule_fields(&x);
		assert_string_equal(data_enum(&x, "status"), "escalated");
		assert_string_equal(data_string(&x, "summary"),
				    "Escalated to hr-leads: Peer recognition rate for "
				    "team:Payments is 0.31, below 0.50");
		assert_string_equal(data_string(&x, "severity"), "critical");
		assert_string_equal(data_string(&x, "owner"), "hr-leads");
		assert_int_equal(data_long(&x, "tier"), 2);
		assert_int_equal(data_long(&x, "sequence"), 0);
		check_field_count(&x);
		data_close(&x);
	}
}

static void test_resolved_every_mode(void **state)
{
	fixture *f = *state;

	set_state(f, ALERT_RESOLVED);
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		encode_in(f, mode);
		check_attributes(f, mode, "io.advocacyd.escalation.resolved");
		data_open(f, mode, &x);
		check_alert_rule_fields(&x);
		assert_string_equal(data_enum(&x, "status"), "resolved");
		assert_string_equal(data_string(&x, "summary"),
				    "Resolved: Peer recognition rate for team:Payments is 0.60, "
				    "no longer below 0.50");
		assert_true(data_double(&x, "observed") == 0.6);
		assert_false(data_is_null(&x, "ends_at"));
		assert_int_equal(data_long(&x, "ends_at"), AT_MS);
		check_field_count(&x);
		data_close(&x);
	}
}

/* ------------------------------------------------------------------------ */
/* Storm control                                                             */

static void test_storm_every_mode(void **state)
{
	fixture *f = *state;

	set_state(f, ALERT_STORM);
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		double mean, stddev;
		data x;

		encode_in(f, mode);
		check_attributes(f, mode, "io.advocacyd.escalation.storm");
		data_open(f, mode, &x);
		assert_string_equal(data_enum(&x, "status"), "storm");
		assert_string_equal(data_string(&x, "dedup_key"), "storm/people-team");
		assert_string_equal(data_string(&x, "summary"),
				    "Storm control held back 3 new firings on route "
				    "people-team, to be announced in later ticks");
		assert_string_equal(data_string(&x, "severity"), "critical");
		assert_string_equal(data_string(&x, "source"), SOURCE);
		assert_string_equal(data_string(&x, "rule_version"), "0123456789abcdef");
		assert_string_equal(data_string(&x, "scope"), "people-team");
		assert_string_equal(data_string(&x, "route"), "people-team");

		/* No rule and no KPI: empty strings and nulls. */
		assert_string_equal(data_string(&x, "rule_id"), "");
		assert_string_equal(data_string(&x, "kpi"), "");
		assert_string_equal(data_string(&x, "kpi_name"), "");
		assert_string_equal(data_string(&x, "window"), "");
		assert_true(data_is_null(&x, "condition"));
		assert_true(data_is_null(&x, "direction"));
		assert_true(data_is_null(&x, "quadrant"));
		assert_true(data_is_null(&x, "owner"));
		assert_true(data_is_null(&x, "runbook_url"));
		assert_int_equal(data_size(&x, "labels"), 0);
		assert_true(data_is_null(&x, "observed"));
		assert_true(data_is_null(&x, "threshold"));
		assert_true(data_is_null(&x, "resolve_threshold"));
		assert_true(data_is_null(&x, "target"));
		assert_int_equal(data_baseline(&x, &mean, &stddev), 0);
		assert_true(data_is_null(&x, "lowest_scope"));
		assert_true(data_is_null(&x, "highest_scope"));
		assert_true(data_is_null(&x, "ends_at"));

		assert_int_equal(data_long(&x, "starts_at"), AT_MS);
		assert_int_equal(data_long(&x, "emitted_at"), AT_MS);
		assert_int_equal(data_long(&x, "held_count"), 3);
		assert_int_equal(data_size(&x, "held_back"), 3);
		assert_string_equal(data_array_get(&x, "held_back", 0), "rule_0/team:T0");
		assert_string_equal(data_array_get(&x, "held_back", 1), "rule_1/team:T1");
		assert_string_equal(data_array_get(&x, "held_back", 2), "rule_2/team:T2");
		check_field_count(&x);
		data_close(&x);
	}
}

static void test_storm_lists_first_100(void **state)
{
	fixture *f = *state;

	set_state(f, ALERT_STORM);
	f->alert.n_held = 250;
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		encode_in(f, mode);
		data_open(f, mode, &x);
		assert_int_equal(data_long(&x, "held_count"), 250);
		assert_int_equal(data_size(&x, "held_back"), 100);
		assert_string_equal(data_array_get(&x, "held_back", 99), "rule_99/team:T99");
		assert_non_null(strstr(data_string(&x, "summary"), "held back 250 new firings"));
		data_close(&x);
	}
}

static void test_storm_single_firing(void **state)
{
	fixture *f = *state;
	data x;

	set_state(f, ALERT_STORM);
	f->alert.n_held = 1;
	encode_in(f, BINARY_JSON);
	data_open(f, BINARY_JSON, &x);
	assert_string_equal(data_string(&x, "summary"),
			    "Storm control held back 1 new firing on route people-team, to be "
			    "announced in later ticks");
	data_close(&x);
}

/* After a STORM event, the next alert must not keep its held-back list. */
static void test_storm_then_alert_clears_list(void **state)
{
	fixture *f = *state;
	alert_event firing = f->alert;
	data x;

	set_state(f, ALERT_STORM);
	encode_in(f, BINARY_AVRO);
	f->alert = firing;
	encode_in(f, BINARY_AVRO);
	data_open(f, BINARY_AVRO, &x);
	assert_int_equal(data_size(&x, "held_back"), 0);
	assert_int_equal(data_size(&x, "labels"), 2);
	data_close(&x);
}

/* ------------------------------------------------------------------------ */
/* Labels and nullable fields                                                */

static void test_labels_replaced_each_record(void **state)
{
	fixture *f = *state;

	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		f->rule.n_labels = 2;
		encode_in(f, mode);
		f->rule.n_labels = 1;
		encode_in(f, mode);
		data_open(f, mode, &x);
		assert_int_equal(data_size(&x, "labels"), 1);
		assert_string_equal(data_map_get(&x, "labels", "team"), "people");
		assert_null(data_map_get(&x, "labels", "service"));
		data_close(&x);

		f->rule.labels = NULL;
		f->rule.n_labels = 0;
		encode_in(f, mode);
		data_open(f, mode, &x);
		assert_int_equal(data_size(&x, "labels"), 0);
		data_close(&x);
		f->rule.labels = f->labels;
	}
}

static void test_owner_and_runbook_null(void **state)
{
	fixture *f = *state;

	f->alert.owner = NULL;
	f->rule.runbook_url = NULL;
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		encode_in(f, mode);
		data_open(f, mode, &x);
		assert_true(data_is_null(&x, "owner"));
		assert_true(data_is_null(&x, "runbook_url"));
		check_field_count(&x);
		data_close(&x);
	}
}

static void test_zscore_baseline(void **state)
{
	fixture *f = *state;

	f->rule.condition = ALERT_COND_ZSCORE;
	f->rule.value = 3;
	f->alert.has_baseline = true;
	f->alert.baseline_mean = 0.875;
	f->alert.baseline_stddev = 0.125;
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		double mean = 0, stddev = 0;
		data x;

		encode_in(f, mode);
		data_open(f, mode, &x);
		assert_string_equal(data_string(&x, "condition"), "zscore");
		assert_int_equal(data_baseline(&x, &mean, &stddev), 1);
		assert_true(mean == 0.875);
		assert_true(stddev == 0.125);
		assert_string_equal(data_string(&x, "summary"),
				    "Peer recognition rate for team:Payments is 0.31, below 0.50 "
				    "(more than 3 standard deviations below the baseline mean "
				    "0.875)");
		data_close(&x);
	}
}

static void test_disparity_segments(void **state)
{
	fixture *f = *state;

	f->rule.condition = ALERT_COND_DISPARITY;
	f->rule.value = 0.8;
	f->alert.scope = "work_mode";
	f->alert.dedup_key = "recognition_low/work_mode";
	f->alert.observed = 0.62;
	f->alert.threshold = 0.8;
	f->alert.lowest_scope = "work_mode:remote";
	f->alert.highest_scope = "work_mode:onsite";
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		encode_in(f, mode);
		data_open(f, mode, &x);
		assert_string_equal(data_string(&x, "condition"), "disparity");
		assert_string_equal(data_string(&x, "scope"), "work_mode");
		assert_string_equal(data_string(&x, "lowest_scope"), "work_mode:remote");
		assert_string_equal(data_string(&x, "highest_scope"), "work_mode:onsite");
		assert_string_equal(data_string(&x, "summary"),
				    "Peer recognition rate by work_mode: work_mode:remote is at "
				    "0.62 of work_mode:onsite, below 0.80");
		data_close(&x);
	}
}

/* JSON has no NaN: a value that is not finite is null in both formats. */
static void test_nonfinite_values_null(void **state)
{
	fixture *f = *state;

	f->alert.observed = NAN;
	f->alert.target = INFINITY;
	for (int mode = 0; mode < MODE_COUNT; mode++) {
		data x;

		encode_in(f, mode);
		data_open(f, mode, &x);
		assert_true(data_is_null(&x, "observed"));
		assert_true(data_is_null(&x, "target"));
		assert_true(data_double(&x, "threshold") == 0.5);
		data_close(&x);
	}
}

/* A KPI without a name is named by its id. */
static void test_kpi_name_defaults_to_id(void **state)
{
	fixture *f = *state;
	data x;

	f->kpi.name = NULL;
	encode_in(f, BINARY_AVRO);
	data_open(f, BINARY_AVRO, &x);
	assert_string_equal(data_string(&x, "kpi_name"), "recognition_rate");
	assert_string_equal(data_string(&x, "summary"),
			    "recognition_rate for team:Payments is 0.31, below 0.50");
	data_close(&x);
}

/* ------------------------------------------------------------------------ */
/* Summary                                                                   */

static const char *summary_of(fixture *f)
{
	static char text[2048];
	data x;

	encode_in(f, BINARY_JSON);
	data_open(f, BINARY_JSON, &x);
	snprintf(text, sizeof(text), "%s", data_string(&x, "summary"));
	data_close(&x);
	return text;
}

static void test_summary_conditions(void **state)
{
	fixture *f = *state;

	f->rule.condition = ALERT_COND_DEVIATION;
	f->rule.value = 25;
	assert_string_equal(summary_of(f), "Peer recognition rate for team:Payments is 0.31, "
					   "below 0.50 (more than 25% below the target 0.6)");

	f->rule.condition = ALERT_COND_TREND;
	f->rule.value = 2;
	f->rule.direction = THRESHOLD_ABOVE;
	assert_string_equal(summary_of(f), "Peer recognition rate for team:Payments is 0.31, "
					   "above 0.50 (a change above 2% over 7 periods)");

	f->rule.condition = ALERT_COND_ZSCORE;
	f->rule.value = 2.5;
	f->alert.has_baseline = false;
	assert_string_equal(summary_of(f),
			    "Peer recognition rate for team:Payments is 0.31, above 0.50 (more "
			    "than 2.5 standard deviations above the baseline)");
}

static void test_summary_escalated_without_owner(void **state)
{
	fixture *f = *state;

	set_state(f, ALERT_ESCALATED);
	f->alert.owner = NULL;
	assert_string_equal(summary_of(f), "Escalated to tier 2: Peer recognition rate for "
					   "team:Payments is 0.31, below 0.50");
}

/* Two decimals would print 0.50 twice, so more digits show the difference. */
static void test_summary_precision(void **state)
{
	fixture *f = *state;

	f->alert.observed = 0.4987;
	assert_string_equal(summary_of(f),
			    "Peer recognition rate for team:Payments is 0.4987, below 0.5");
}

/* True when s is well-formed UTF-8 (no check for overlong forms). */
static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int extra = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : 3;

		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return 0;
		}
	}
	return 1;
}

/* PagerDuty takes at most 1024 characters; a cut never splits a UTF-8 sequence. */
static void test_summary_cut_at_1024(void **state)
{
	fixture *f = *state;
	static char scope[3000];

	/* "team:" then "é" (2 bytes) repeated, so the cut falls inside one for some offset. */
	for (size_t offset = 0; offset < 2; offset++) {
		size_t n = 0;

		memcpy(scope, "team:x", 5 + offset);
		n = 5 + offset;
		while (n + 2 < sizeof(scope)) {
			scope[n++] = (char)0xC3;
			scope[n++] = (char)0xA9;
		}
		scope[n] = '\0';
		f->alert.scope = scope;
		for (int mode = 0; mode < MODE_COUNT; mode++) {
			const char *s;
			size_t len;
			data x;

			encode_in(f, mode);
			data_open(f, mode, &x);
			s = data_string(&x, "summary");
			len = strlen(s);
			assert_true(len <= 1024);
			assert_true(len >= 1020);
			assert_string_equal(s + len - 3, "...");
			assert_true(utf8_valid(s));
			assert_memory_equal(s, "Peer recognition rate for team:", 31);
			assert_string_equal(data_string(&x, "scope"), scope);
			data_close(&x);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Attributes                                                                */

static void test_time_rfc3339_utc(void **state)
{
	fixture *f = *state;
	static const struct {
		int64_t ms;
		const char *text;
	} cases[] = {
	    {0, "1970-01-01T00:00:00.000Z"},
	    {1700000060123LL, "2023-11-14T22:14:20.123Z"},
	    {951782400001LL, "2000-02-29T00:00:00.001Z"},
	    {4102444799999LL, "2099-12-31T23:59:59.999Z"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *ev;

		f->alert.at_ms = cases[i].ms;
		encode_in(f, BINARY_AVRO);
		assert_string_equal(required_header(f, "ce_time"), cases[i].text);
		encode_in(f, STRUCTURED_JSON);
		ev = parse_json(f->buf.data, f->buf.len);
		assert_string_equal(json_string_value(json_object_get(ev, "time")), cases[i].text);
		json_decref(ev);
	}
}

static void test_condition_names(void **state)
{
	fixture *f = *state;
	static const struct {
		alert_condition c;
		const char *name;
	} cases[] = {
	    {ALERT_COND_THRESHOLD, "threshold"}, {ALERT_COND_DEVIATION, "deviation"},
	    {ALERT_COND_ZSCORE, "zscore"},	 {ALERT_COND_TREND, "trend"},
	    {ALERT_COND_DISPARITY, "disparity"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		data x;

		f->rule.condition = cases[i].c;
		encode_in(f, BINARY_AVRO);
		data_open(f, BINARY_AVRO, &x);
		assert_string_equal(data_string(&x, "condition"), cases[i].name);
		data_close(&x);
	}
}

/* Without the attributes CloudEvents requires, nothing is encoded. */
static void test_missing_attributes_rejected(void **state)
{
	fixture *f = *state;

	f->cfg.alerts.source = NULL;
	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), -1);
	f->cfg.alerts.source = "";
	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), -1);
	assert_int_equal(f->hdrs.n, 0);
	f->cfg.alerts.source = SOURCE;

	f->alert.id = NULL;
	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), -1);
	f->alert.id = "";
	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), -1);
	f->alert.id = "x";

	f->alert.dedup_key = NULL;
	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), -1);
	f->alert.dedup_key = "recognition_low/team:Payments";

	f->alert.severity = NULL;
	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), -1);
	f->alert.severity = "warning";

	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), 0);
}

/* An alert other than STORM without its rule or KPI is a caller bug: rejected. */
static void test_alert_without_rule_rejected(void **state)
{
	fixture *f = *state;

	f->alert.rule = NULL;
	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), -1);
	f->alert.rule = &f->rule;
	f->alert.kpi = NULL;
	assert_int_equal(encode_escalation(f->enc, &f->cfg, &f->alert, &f->buf, &f->hdrs), -1);
}

/* Long ids and keys are borrowed, not copied, so they never overflow the header buffer. */
static void test_long_identifiers(void **state)
{
	fixture *f = *state;
	static char key[5000];

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	f->alert.id = key;
	f->alert.dedup_key = key;
	encode_in(f, BINARY_AVRO);
	assert_string_equal(required_header(f, "ce_id"), key);
	assert_string_equal(required_header(f, "ce_subject"), key);
	check_attributes(f, BINARY_AVRO, "io.advocacyd.escalation.firing");
}

/* The JSON data has the fields of the Avro schema, in the same order. */
static void test_json_fields_follow_schema(void **state)
{
	fixture *f = *state;
	avro_schema_t schema;
	const char *key;
	json_t *value;
	size_t i = 0;
	data x;

	assert_int_equal(
	    avro_schema_from_json_length(schema_escalation, strlen(schema_escalation), &schema), 0);
	assert_int_equal(avro_schema_record_size(schema), N_FIELDS);
	encode_in(f, BINARY_JSON);
	data_open(f, BINARY_JSON, &x);
	json_object_foreach(x.obj, key, value)
	{
		assert_true(i < N_FIELDS);
		assert_string_equal(key, avro_schema_record_field_name(schema, (int)i));
		i++;
	}
	assert_int_equal(i, N_FIELDS);
	data_close(&x);
	avro_schema_decref(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_firing_every_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repeat_every_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escalated_every_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolved_every_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_storm_every_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_storm_lists_first_100, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_storm_single_firing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_storm_then_alert_clears_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_labels_replaced_each_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_and_runbook_null, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zscore_baseline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disparity_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nonfinite_values_null, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kpi_name_defaults_to_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary_conditions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary_escalated_without_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary_precision, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_summary_cut_at_1024, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_rfc3339_utc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_condition_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_attributes_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alert_without_rule_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_identifiers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_fields_follow_schema, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
