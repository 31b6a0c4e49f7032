/*
 * encode.c - output records (KPI updates, escalations, dead letters) as
 * Confluent-framed Avro or as JSON.
 *
 * Avro: one parsed schema, generic value class and value per record type,
 * built once in encoder_new() and reused. A record is filled field by field,
 * sized with avro_value_sizeof() and written by one memory writer straight
 * into the caller's encode_buf after the 5-byte frame (magic byte 0, schema
 * id big-endian). Enum fields are set by the index of their symbol, looked up
 * by name at start, so the order of the C enums and of the schema symbols may
 * differ. The JSON form has the same field names, enum values in lowercase
 * ("learning_growth", "firing"), null for a null union branch and bytes in
 * standard base64.
 *
 * Escalations are CloudEvents 1.0 in the CloudEvents Kafka protocol binding:
 *   binary mode      value = the Escalation data in the configured format;
 *                    headers ce_specversion "1.0", ce_id, ce_source, ce_type
 *                    "io.advocacyd.escalation.<state>", ce_time (RFC 3339,
 *                    UTC, milliseconds), ce_subject (the dedup key),
 *                    content-type (application/avro or application/json),
 *                    ce_dataschema (Avro only) and the extension attributes
 *                    ce_severity and ce_dedupkey;
 *   structured mode  value = the JSON event format with the same attributes,
 *                    data as an object (json) or data_base64 (the framed Avro
 *                    datum); one header, content-type
 *                    "application/cloudevents+json; charset=UTF-8".
 * The dataschema is "urn:advocacyd:schema:io.advocacyd.Escalation:<schema
 * id>", naming the Avro schema and its registry id. The summary fits
 * PagerDuty's 1024-character limit and a STORM event lists at most
 * ENCODE_HELD_BACK_MAX held-back keys, so an event stays small.
 *
 * Runs on the event loop thread. The Avro path of KPI updates and dead
 * letters allocates nothing once the buffers are warm, apart from what
 * avro-c's generic strings need to grow. Escalations are rare: their labels
 * map and held-back array let avro-c allocate per record. The JSON path
 * builds a jansson object per record: it runs once per output record per
 * tick, never per input event.
 */
#include "encode.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <avro.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "schemas.h"

#define ENCODE_FRAME_SIZE 5
#define ENCODE_SYMBOL_MAX 32
#define ENCODE_SUMMARY_MAX 1024	 /* bytes; PagerDuty allows 1024 characters */
#define ENCODE_HELD_BACK_MAX 100 /* held-back keys listed in a STORM event */

/* Lowercase JSON tokens, indexed by the C enum. The Avro symbol is the token in uppercase. */
static const char *const encode_quadrant_names[] = {
    [QUADRANT_FINANCIAL] = "financial",
    [QUADRANT_CUSTOMER] = "customer",
    [QUADRANT_INTERNAL_PROCESS] = "internal_process",
    [QUADRANT_LEARNING_GROWTH] = "learning_growth",
};
static const char *const encode_indicator_names[] = {
    [INDICATOR_LEADING] = "leading",
    [INDICATOR_LAGGING] = "lagging",
};
static const char *const encode_direction_names[] = {
    [THRESHOLD_BELOW] = "below",
    [THRESHOLD_ABOVE] = "above",
};

#define ENCODE_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One Avro record type: its schema, value class and reusable value. */
typedef struct encode_avro {
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value;
	int has_value;
} encode_avro;

struct encoder {
	encode_avro kpi;
	encode_avro escalation;
	encode_avro dlq;
	avro_writer_t writer;
	char writer_init[1]; /* destination of the writer until the first record */

	/* Avro enum index per C enum value. */
	int quadrant_index[ENCODE_COUNT(encode_quadrant_names)];
	int indicator_index[ENCODE_COUNT(encode_indicator_names)];
	int direction_index[ENCODE_COUNT(encode_direction_names)];
	int esc_quadrant_index[ENCODE_COUNT(encode_quadrant_names)];
	int status_index[ALERT_STATE_COUNT]; /* by alert_state */

	char *scratch; /* base64, reused */
	size_t scratch_cap;
	char summary[ENCODE_SUMMARY_MAX + 1];
	encode_buf ce_data; /* structured mode with Avro: the datum before base64 */
};

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */

void encode_buf_free(encode_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int encode_buf_reserve(encode_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *grown;

	if (n <= b->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	grown = realloc(b->data, cap);
	if (!grown)
		return -1;
	b->data = grown;
	b->cap = cap;
	return 0;
}

static int encode_scratch_reserve(encoder *e, size_t n)
{
	char *grown;

	if (n <= e->scratch_cap)
		return 0;
	grown = realloc(e->scratch, n);
	if (!grown)
		return -1;
	e->scratch = grown;
	e->scratch_cap = n;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */

static int encode_avro_init(encode_avro *t, const char *json, const char *name, char *errstr,
			    size_t errstr_size)
{
	if (avro_schema_from_json_length(json, strlen(json), &t->schema) != 0) {
		snprintf(errstr, errstr_size, "invalid built-in %s schema: %s", name,
			 avro_strerror());
		return -1;
	}
	t->iface = avro_generic_class_from_schema(t->schema);
	if (!t->iface || avro_generic_value_new(t->iface, &t->value) != 0) {
		snprintf(errstr, errstr_size, "cannot build Avro value for %s: %s", name,
			 avro_strerror());
		return -1;
	}
	t->has_value = 1;
	return 0;
}

static void encode_avro_fini(encode_avro *t)
{
	if (t->has_value)
		avro_value_decref(&t->value);
	if (t->iface)
		avro_value_iface_decref(t->iface);
	if (t->schema)
		avro_schema_decref(t->schema);
}

/* Returns the enum schema of record field `field`, also of a ["null", enum] field, or NULL. */
static avro_schema_t encode_enum_schema(const encode_avro *t, const char *field)
{
	avro_schema_t s = avro_schema_record_field_get(t->schema, field);

	if (s && is_avro_union(s))
		s = avro_schema_union_branch(s, 1);
	return s && is_avro_enum(s) ? s : NULL;
}

/*
 * Fills index[i] with the position of symbol uppercase(names[i]) in the enum
 * of record field `field`. Returns 0, or -1 with errstr naming what is missing.
 */
static int encode_enum_map(const encode_avro *t, const char *field, const char *const *names,
			   size_t n, int *index, char *errstr, size_t errstr_size)
{
	avro_schema_t enum_schema = encode_enum_schema(t, field);
	char symbol[ENCODE_SYMBOL_MAX];

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		for (; names[i][j] && j + 1 < sizeof(symbol); j++)
			symbol[j] = (char)toupper((unsigned char)names[i][j]);
		symbol[j] = '\0';
		index[i] = enum_schema ? avro_schema_enum_get_by_name(enum_schema, symbol) : -1;
		if (index[i] < 0) {
			snprintf(errstr, errstr_size,
				 "built-in schema: enum field '%s' has no symbol %s", field,
				 symbol);
			return -1;
		}
	}
	return 0;
}

static int encode_enums_init(encoder *e, char *errstr, size_t errstr_size)
{
	const char *states[ALERT_STATE_COUNT];

	for (int i = 0; i < ALERT_STATE_COUNT; i++)
		states[i] = alert_state_name((alert_state)i);
	if (encode_enum_map(&e->kpi, "quadrant", encode_quadrant_names,
			    ENCODE_COUNT(encode_quadrant_names), e->quadrant_index, errstr,
			    errstr_size) < 0 ||
	    encode_enum_map(&e->kpi, "indicator", encode_indicator_names,
			    ENCODE_COUNT(encode_indicator_names), e->indicator_index, errstr,
			    errstr_size) < 0 ||
	    encode_enum_map(&e->escalation, "direction", encode_direction_names,
			    ENCODE_COUNT(encode_direction_names), e->direction_index, errstr,
			    errstr_size) < 0 ||
	    encode_enum_map(&e->escalation, "quadrant", encode_quadrant_names,
			    ENCODE_COUNT(encode_quadrant_names), e->esc_quadrant_index, errstr,
			    errstr_size) < 0 ||
	    encode_enum_map(&e->escalation, "status", states, ALERT_STATE_COUNT, e->status_index,
			    errstr, errstr_size) < 0)
		return -1;
	return 0;
}

encoder *encoder_new(char *errstr, size_t errstr_size)
{
	encoder *e = calloc(1, sizeof(*e));

	if (!e) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	if (encode_avro_init(&e->kpi, schema_kpi_update, "KpiUpdate", errstr, errstr_size))
		goto fail;
	if (encode_avro_init(&e->escalation, schema_escalation, "Escalation", errstr, errstr_size))
		goto fail;
	if (encode_avro_init(&e->dlq, schema_dlq_record, "DlqRecord", errstr, errstr_size))
		goto fail;
	if (encode_enums_init(e, errstr, errstr_size))
		goto fail;

	e->writer = avro_writer_memory(e->writer_init, sizeof(e->writer_init));
	if (!e->writer) {
		snprintf(errstr, errstr_size, "cannot create Avro writer: %s", avro_strerror());
		goto fail;
	}
	return e;

fail:
	encoder_free(e);
	return NULL;
}

void encoder_free(encoder *e)
{
	if (!e)
		return;
	if (e->writer)
		avro_writer_free(e->writer);
	encode_avro_fini(&e->dlq);
	encode_avro_fini(&e->escalation);
	encode_avro_fini(&e->kpi);
	encode_buf_free(&e->ce_data);
	free(e->scratch);
	free(e);
}

/* ------------------------------------------------------------------------ */
/* Avro fields. Each returns 0, or non-zero when the field is missing or the  */
/* value does not fit its type. Callers OR the results together.            */

static int encode_avro_put_string(avro_value_t *rec, const char *name, const char *s)
{
	avro_value_t field;

	if (avro_value_get_by_name(rec, name, &field, NULL) != 0)
		return -1;
	return avro_value_set_string(&field, s ? s : "");
}

static int encode_avro_put_long(avro_value_t *rec, const char *name, int64_t v)
{
	avro_value_t field;

	if (avro_value_get_by_name(rec, name, &field, NULL) != 0)
		return -1;
	return avro_value_set_long(&field, v);
}

static int encode_avro_put_int(avro_value_t *rec, const char *name, int32_t v)
{
	avro_value_t field;

	if (avro_value_get_by_name(rec, name, &field, NULL) != 0)
		return -1;
	return avro_value_set_int(&field, v);
}

static int encode_avro_put_double(avro_value_t *rec, const char *name, double v)
{
	avro_value_t field;

	if (avro_value_get_by_name(rec, name, &field, NULL) != 0)
		return -1;
	return avro_value_set_double(&field, v);
}

/* Sets an enum field from a C enum value through its symbol index map. */
static int encode_avro_put_enum(avro_value_t *rec, const char *name, const int *index, size_t n,
				unsigned value)
{
	avro_value_t field;

	if (value >= n || avro_value_get_by_name(rec, name, &field, NULL) != 0)
		return -1;
	return avro_value_set_enum(&field, index[value]);
}

/* Sets a ["null", T] union field: branch 1 when present, else null. */
static int encode_avro_put_union(avro_value_t *rec, const char *name, int present,
				 avro_value_t *branch)
{
	avro_value_t field;

	if (avro_value_get_by_name(rec, name, &field, NULL) != 0)
		return -1;
	if (avro_value_set_branch(&field, present ? 1 : 0, branch) != 0)
		return -1;
	return present ? 0 : avro_value_set_null(branch);
}

static int encode_avro_put_optional_long(avro_value_t *rec, const char *name, int present,
					 int64_t v)
{
	avro_value_t branch;

	if (encode_avro_put_union(rec, name, present, &branch) != 0)
		return -1;
	return present ? avro_value_set_long(&branch, v) : 0;
}

/* Sets a bytes value, which avro-c copies. NULL with length 0 becomes empty bytes. */
static int encode_avro_set_bytes(avro_value_t *v, const void *data, size_t len)
{
	static char empty[1];

	return avro_value_set_bytes(v, len ? (void *)data : empty, len);
}

static int encode_avro_put_optional_bytes(avro_value_t *rec, const char *name, const void *data,
					  size_t len)
{
	avro_value_t branch;
	int present = data != NULL;

	if (encode_avro_put_union(rec, name, present, &branch) != 0)
		return -1;
	return present ? encode_avro_set_bytes(&branch, data, len) : 0;
}

static int encode_avro_put_bytes(avro_value_t *rec, const char *name, const void *data, size_t len)
{
	avro_value_t field;

	if (avro_value_get_by_name(rec, name, &field, NULL) != 0)
		return -1;
	return encode_avro_set_bytes(&field, data, len);
}

static int encode_avro_put_optional_string(avro_value_t *rec, const char *name, const char *s)
{
	avro_value_t branch;

	if (encode_avro_put_union(rec, name, s != NULL, &branch) != 0)
		return -1;
	return s ? avro_value_set_string(&branch, s) : 0;
}

static int encode_avro_put_optional_double(avro_value_t *rec, const char *name, int present,
					   double v)
{
	avro_value_t branch;

	if (encode_avro_put_union(rec, name, present, &branch) != 0)
		return -1;
	return present ? avro_value_set_double(&branch, v) : 0;
}

/* Sets a ["null", enum] field through its symbol index map; null unless present. */
static int encode_avro_put_optional_enum(avro_value_t *rec, const char *name, const int *index,
					 size_t n, int present, unsigned value)
{
	avro_value_t branch;

	if (present && value >= n)
		return -1;
	if (encode_avro_put_union(rec, name, present, &branch) != 0)
		return -1;
	return present ? avro_value_set_enum(&branch, index[value]) : 0;
}

/* Sets a map<string> field to the n labels, replacing what the last record had. */
static int encode_avro_put_labels(avro_value_t *rec, const char *name, const config_kv *labels,
				  size_t n)
{
	avro_value_t field, child;

	if (avro_value_get_by_name(rec, name, &field, NULL) != 0 || avro_value_reset(&field) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (avro_value_add(&field, labels[i].key, &child, NULL, NULL) != 0 ||
		    avro_value_set_string(&child, labels[i].value ? labels[i].value : "") != 0)
			return -1;
	}
	return 0;
}

/* Sets an array<string> field to the first n strings, replacing what the last record had. */
static int encode_avro_put_strings(avro_value_t *rec, const char *name, const char *const *s,
				   size_t n)
{
	avro_value_t field, child;

	if (avro_value_get_by_name(rec, name, &field, NULL) != 0 || avro_value_reset(&field) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (avro_value_append(&field, &child, NULL) != 0 ||
		    avro_value_set_string(&child, s[i] ? s[i] : "") != 0)
			return -1;
	}
	return 0;
}

/* Sets a ["null", Baseline] field: {mean, stddev} when present, else null. */
static int encode_avro_put_baseline(avro_value_t *rec, const char *name, int present, double mean,
				    double stddev)
{
	avro_value_t branch;

	if (encode_avro_put_union(rec, name, present, &branch) != 0)
		return -1;
	if (!present)
		return 0;
	if (encode_avro_put_double(&branch, "mean", mean) != 0 ||
	    encode_avro_put_double(&branch, "stddev", stddev) != 0)
		return -1;
	return 0;
}

/* Writes the Confluent frame and the datum of v into out. */
static int encode_avro_framed(encoder *e, avro_value_t *v, int32_t schema_id, encode_buf *out)
{
	uint32_t id = (uint32_t)schema_id;
	size_t size;

	if (avro_value_sizeof(v, &size) != 0)
		return -1;
	if (encode_buf_reserve(out, ENCODE_FRAME_SIZE + size) < 0)
		return -1;
	out->data[0] = 0;
	out->data[1] = (char)(id >> 24);
	out->data[2] = (char)(id >> 16);
	out->data[3] = (char)(id >> 8);
	out->data[4] = (char)id;
	avro_writer_memory_set_dest(e->writer, out->data + ENCODE_FRAME_SIZE, (int64_t)size);
	if (avro_value_write(e->writer, v) != 0)
		return -1;
	out->len = ENCODE_FRAME_SIZE + size;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* JSON fields                                                               */

/* JSON has no NaN or infinity: such values are written as null. */
static json_t *encode_json_number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *encode_json_enum(const char *const *names, size_t n, unsigned value)
{
	return value < n ? json_string(names[value]) : NULL;
}

static json_t *encode_json_text(const char *s)
{
	return json_string(s ? s : "");
}

static json_t *encode_json_optional_text(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* A nullable double: null unless present and finite. */
static json_t *encode_json_optional_number(int present, double v)
{
	return present && isfinite(v) ? json_real(v) : json_null();
}

/* Returns the labels as one JSON object of strings, or NULL. */
static json_t *encode_json_labels(const config_kv *labels, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++) {
		if (json_object_set_new(o, labels[i].key, encode_json_text(labels[i].value)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Returns the first n strings as a JSON array, or NULL. */
static json_t *encode_json_strings(const char *const *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, encode_json_text(s[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Returns {"mean": .., "stddev": ..} when present, else null; NULL when out of memory. */
static json_t *encode_json_baseline(int present, double mean, double stddev)
{
	json_t *o;

	if (!present)
		return json_null();
	o = json_object();
	if (o && (json_object_set_new(o, "mean", encode_json_number(mean)) != 0 ||
		  json_object_set_new(o, "stddev", encode_json_number(stddev)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * Serialises root compactly into out and drops it. Reals get 15 significant
 * digits: every decimal of up to 15 digits, such as a target of 0.05, is
 * written back as it was configured (not 0.050000000000000003), at the cost
 * of a relative error below 1e-15 on computed values.
 */
#define ENCODE_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

int encode_json_dump(json_t *root, encode_buf *out)
{
	size_t n;

	if (!root)
		return -1;
	n = json_dumpb(root, out->data, out->cap, ENCODE_JSON_FLAGS);
	if (n > out->cap) {
		if (encode_buf_reserve(out, n) < 0) {
			json_decref(root);
			return -1;
		}
		n = json_dumpb(root, out->data, out->cap, ENCODE_JSON_FLAGS);
	}
	json_decref(root);
	if (n == 0 || n > out->cap)
		return -1;
	out->len = n;
	return 0;
}

/*
 * Writes the base64 of data into the scratch buffer and returns it as a JSON
 * string; NULL on failure.
 */
static json_t *encode_json_base64(encoder *e, const void *data, size_t len)
{
	size_t need = 4 * ((len + 2) / 3) + 1;
	int n;

	if (len > INT_MAX / 2 || encode_scratch_reserve(e, need) < 0)
		return NULL;
	n = EVP_EncodeBlock((unsigned char *)e->scratch, len ? data : (const void *)"", (int)len);
	return json_stringn(e->scratch, (size_t)n);
}

/* ------------------------------------------------------------------------ */
/* KPI updates                                                               */

static int encode_kpi_avro_fill(encoder *e, const kpi_update *u)
{
	avro_value_t *rec = &e->kpi.value;
	const config_kpi *k = u->kpi;
	int32_t headcount = u->headcount > INT32_MAX ? INT32_MAX : (int32_t)u->headcount;
	int rc = 0;

	rc |= encode_avro_put_string(rec, "kpi", k->id);
	rc |= encode_avro_put_string(rec, "kpi_name", k->name);
	rc |= encode_avro_put_string(rec, "scope", u->scope);
	rc |= encode_avro_put_string(rec, "scope_kind", config_scope_kind_name(u->scope_kind));
	rc |= encode_avro_put_string(rec, "window", u->window);
	rc |= encode_avro_put_double(rec, "value", u->value);
	rc |= encode_avro_put_long(rec, "count", u->count);
	rc |= encode_avro_put_long(rec, "contributors", u->contributors);
	rc |= encode_avro_put_int(rec, "headcount", headcount);
	rc |= encode_avro_put_double(rec, "rate", u->rate);
	rc |= encode_avro_put_enum(rec, "quadrant", e->quadrant_index,
				   ENCODE_COUNT(e->quadrant_index), k->quadrant);
	rc |= encode_avro_put_enum(rec, "indicator", e->indicator_index,
				   ENCODE_COUNT(e->indicator_index), k->indicator);
	rc |= encode_avro_put_double(rec, "weight", k->weight);
	rc |= encode_avro_put_double(rec, "target", u->target);
	rc |= encode_avro_put_long(rec, "window_start", u->window_start_ms);
	rc |= encode_avro_put_long(rec, "window_end", u->window_end_ms);
	rc |= encode_avro_put_long(rec, "computed_at", u->computed_at_ms);
	return rc ? -1 : 0;
}

/* {"teams", "headcount", "departures", "retention"} of one retention_gap group. */
static json_t *encode_group_json(const headcount_group *g)
{
	return json_pack("{s:I, s:o, s:I, s:o}", "teams", (json_int_t)g->teams, "headcount",
			 encode_json_number(g->heads), "departures", (json_int_t)g->departures,
			 "retention", encode_json_number(g->retention));
}

/* The two groups of a retention_gap update; NULL when out of memory. */
static json_t *encode_split_json(const headcount_split *split)
{
	return json_pack("{s:o, s:o}", "high", encode_group_json(&split->high), "low",
			 encode_group_json(&split->low));
}

static json_t *encode_kpi_json(const kpi_update *u)
{
	const config_kpi *k = u->kpi;
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	rc |= json_object_set_new(o, "kpi", encode_json_text(k->id));
	rc |= json_object_set_new(o, "kpi_name", encode_json_text(k->name));
	rc |= json_object_set_new(o, "scope", encode_json_text(u->scope));
	rc |= json_object_set_new(o, "scope_kind",
				  encode_json_text(config_scope_kind_name(u->scope_kind)));
	rc |= json_object_set_new(o, "window", encode_json_text(u->window));
	rc |= json_object_set_new(o, "value", encode_json_number(u->value));
	rc |= json_object_set_new(o, "count", json_integer(u->count));
	rc |= json_object_set_new(o, "contributors", json_integer(u->contributors));
	rc |= json_object_set_new(o, "headcount", json_integer(u->headcount));
	rc |= json_object_set_new(o, "rate", encode_json_number(u->rate));
	rc |=
	    json_object_set_new(o, "quadrant",
				encode_json_enum(encode_quadrant_names,
						 ENCODE_COUNT(encode_quadrant_names), k->quadrant));
	rc |= json_object_set_new(o, "indicator",
				  encode_json_enum(encode_indicator_names,
						   ENCODE_COUNT(encode_indicator_names),
						   k->indicator));
	rc |= json_object_set_new(o, "kind", encode_json_text(config_kpi_kind_name(k->kind)));
	rc |= json_object_set_new(o, "unit", encode_json_text(k->unit));
	rc |= json_object_set_new(o, "weight", encode_json_number(k->weight));
	rc |= json_object_set_new(o, "target", encode_json_number(u->target));
	rc |= json_object_set_new(o, "window_start", json_integer(u->window_start_ms));
	rc |= json_object_set_new(o, "window_end", json_integer(u->window_end_ms));
	rc |= json_object_set_new(o, "computed_at", json_integer(u->computed_at_ms));
	if (u->split)
		rc |= json_object_set_new(o, "retention_split", encode_split_json(u->split));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int encode_kpi_update(encoder *e, const config_output *o, const kpi_update *u, encode_buf *out)
{
	out->len = 0;
	if (o->format == OUTPUT_FORMAT_JSON)
		return encode_json_dump(encode_kpi_json(u), out);
	if (encode_kpi_avro_fill(e, u) < 0)
		return -1;
	return encode_avro_framed(e, &e->kpi.value, o->schema_id, out);
}

size_t encode_kpi_key(const kpi_update *u, char *out, size_t out_size)
{
	int n = snprintf(out, out_size, "%s|%s|%s", u->kpi->id, u->scope, u->window);

	return n < 0 ? 0 : (size_t)n;
}

/* ------------------------------------------------------------------------ */
/* Escalations: the data                                                     */

/*
 * The fields of one escalation that depend on its kind. A STORM event has no
 * rule and no KPI, so their fields become empty strings or null.
 */
typedef struct encode_esc_view {
	const alert_event *a;
	const config_threshold *rule; /* NULL for STORM */
	const config_kpi *kpi;	      /* NULL for STORM */
	const char *source;
	const char *summary;
	const char *kpi_name;
	const char *route;
	int64_t starts_at_ms;
	size_t n_listed; /* held-back keys written, at most ENCODE_HELD_BACK_MAX */
} encode_esc_view;

/* Fills v from a. Returns 0, or -1 when an alert (not STORM) lacks its rule or KPI. */
static int encode_esc_view_init(encode_esc_view *v, const config *cfg, const alert_event *a,
				const char *summary)
{
	int storm = a->state == ALERT_STORM;

	*v = (encode_esc_view){.a = a, .source = cfg->alerts.source, .summary = summary};
	if (storm) {
		v->kpi_name = "";
		v->route = a->scope;
		v->starts_at_ms = a->at_ms;
		v->n_listed = a->n_held < ENCODE_HELD_BACK_MAX ? a->n_held : ENCODE_HELD_BACK_MAX;
		return a->n_held && !a->held_keys ? -1 : 0;
	}
	if (!a->rule || !a->kpi)
		return -1;
	v->rule = a->rule;
	v->kpi = a->kpi;
	v->kpi_name = a->kpi->name ? a->kpi->name : a->kpi->id;
	v->route = a->rule->route;
	v->starts_at_ms = a->started_at_ms;
	return 0;
}

/* A measured value is written only for an alert, and only when finite. */
static int encode_esc_has_value(const encode_esc_view *v, double d)
{
	return v->rule && isfinite(d);
}

/* Avro: the event, its rule and how the rule compares (empty or null for STORM). */
static int encode_esc_avro_event(encoder *e, avro_value_t *rec, const encode_esc_view *v)
{
	const alert_event *a = v->a;
	const config_threshold *r = v->rule;
	int rc = 0;

	rc |= encode_avro_put_string(rec, "dedup_key", a->dedup_key);
	rc |= encode_avro_put_enum(rec, "status", e->status_index, ENCODE_COUNT(e->status_index),
				   a->state);
	rc |= encode_avro_put_string(rec, "summary", v->summary);
	rc |= encode_avro_put_string(rec, "severity", a->severity);
	rc |= encode_avro_put_string(rec, "source", v->source);
	rc |= encode_avro_put_string(rec, "rule_id", r ? r->id : "");
	rc |= encode_avro_put_string(rec, "rule_version", a->rule_version);
	rc |= encode_avro_put_optional_string(rec, "condition",
					      r ? config_alert_condition_name(r->condition) : NULL);
	rc |= encode_avro_put_optional_enum(rec, "direction", e->direction_index,
					    ENCODE_COUNT(e->direction_index), r != NULL,
					    r ? r->direction : 0);
	return rc;
}

/* Avro: the KPI, the scope and who is responsible (empty or null for STORM). */
static int encode_esc_avro_subject(encoder *e, avro_value_t *rec, const encode_esc_view *v)
{
	const alert_event *a = v->a;
	const config_threshold *r = v->rule;
	const config_kpi *k = v->kpi;
	int rc = 0;

	rc |= encode_avro_put_string(rec, "kpi", k ? k->id : "");
	rc |= encode_avro_put_string(rec, "kpi_name", v->kpi_name);
	rc |= encode_avro_put_optional_enum(rec, "quadrant", e->esc_quadrant_index,
					    ENCODE_COUNT(e->esc_quadrant_index), k != NULL,
					    k ? k->quadrant : 0);
	rc |= encode_avro_put_string(rec, "scope", a->scope);
	rc |= encode_avro_put_string(rec, "window", a->window);
	rc |= encode_avro_put_optional_string(rec, "owner", a->owner);
	rc |= encode_avro_put_string(rec, "route", v->route);
	rc |= encode_avro_put_int(rec, "tier", a->tier);
	rc |= encode_avro_put_optional_string(rec, "runbook_url", r ? r->runbook_url : NULL);
	rc |= encode_avro_put_labels(rec, "labels", r ? r->labels : NULL, r ? r->n_labels : 0);
	return rc;
}

/* Avro: the figures that made the alert fire or resolve. */
static int encode_esc_avro_figures(avro_value_t *rec, const encode_esc_view *v)
{
	const alert_event *a = v->a;
	int rc = 0;

	rc |= encode_avro_put_optional_double(rec, "observed", encode_esc_has_value(v, a->observed),
					      a->observed);
	rc |= encode_avro_put_optional_double(rec, "threshold",
					      encode_esc_has_value(v, a->threshold), a->threshold);
	rc |= encode_avro_put_optional_double(rec, "resolve_threshold",
					      encode_esc_has_value(v, a->resolve_threshold),
					      a->resolve_threshold);
	rc |= encode_avro_put_optional_double(rec, "target", encode_esc_has_value(v, a->target),
					      a->target);
	rc |= encode_avro_put_baseline(rec, "baseline", v->rule && a->has_baseline,
				       a->baseline_mean, a->baseline_stddev);
	rc |=
	    encode_avro_put_optional_string(rec, "lowest_scope", v->rule ? a->lowest_scope : NULL);
	rc |= encode_avro_put_optional_string(rec, "highest_scope",
					      v->rule ? a->highest_scope : NULL);
	return rc;
}

/* Avro: times, repeat count and the storm's list. */
static int encode_esc_avro_times(avro_value_t *rec, const encode_esc_view *v)
{
	const alert_event *a = v->a;
	int rc = 0;

	rc |= encode_avro_put_long(rec, "starts_at", v->starts_at_ms);
	rc |= encode_avro_put_optional_long(rec, "ends_at", a->state == ALERT_RESOLVED,
					    a->ended_at_ms);
	rc |= encode_avro_put_long(rec, "emitted_at", a->at_ms);
	rc |= encode_avro_put_long(rec, "sequence", a->sequence);
	rc |= encode_avro_put_strings(rec, "held_back", a->held_keys, v->n_listed);
	rc |= encode_avro_put_long(rec, "held_count",
				   a->state == ALERT_STORM ? (int64_t)a->n_held : 0);
	return rc;
}

/* Writes the Escalation record of v into out, Confluent-framed. */
static int encode_esc_avro(encoder *e, const encode_esc_view *v, int32_t schema_id, encode_buf *out)
{
	avro_value_t *rec = &e->escalation.value;
	int rc = 0;

	out->len = 0;
	rc |= encode_esc_avro_event(e, rec, v);
	rc |= encode_esc_avro_subject(e, rec, v);
	rc |= encode_esc_avro_figures(rec, v);
	rc |= encode_esc_avro_times(rec, v);
	if (rc)
		return -1;
	return encode_avro_framed(e, rec, schema_id, out);
}

/* JSON: the same fields as encode_esc_avro_event. */
static int encode_esc_json_event(json_t *o, const encode_esc_view *v)
{
	const alert_event *a = v->a;
	const config_threshold *r = v->rule;
	int rc = 0;

	rc |= json_object_set_new(o, "dedup_key", encode_json_text(a->dedup_key));
	rc |= json_object_set_new(o, "status", encode_json_text(alert_state_name(a->state)));
	rc |= json_object_set_new(o, "summary", encode_json_text(v->summary));
	rc |= json_object_set_new(o, "severity", encode_json_text(a->severity));
	rc |= json_object_set_new(o, "source", encode_json_text(v->source));
	rc |= json_object_set_new(o, "rule_id", encode_json_text(r ? r->id : ""));
	rc |= json_object_set_new(o, "rule_version", encode_json_text(a->rule_version));
	rc |= json_object_set_new(
	    o, "condition",
	    encode_json_optional_text(r ? config_alert_condition_name(r->condition) : NULL));
	rc |= json_object_set_new(o, "direction",
				  r ? encode_json_enum(encode_direction_names,
						       ENCODE_COUNT(encode_direction_names),
						       r->direction)
				    : json_null());
	return rc;
}

/* JSON: the same fields as encode_esc_avro_subject. */
static int encode_esc_json_subject(json_t *o, const encode_esc_view *v)
{
	const alert_event *a = v->a;
	const config_threshold *r = v->rule;
	const config_kpi *k = v->kpi;
	int rc = 0;

	rc |= json_object_set_new(o, "kpi", encode_json_text(k ? k->id : ""));
	rc |= json_object_set_new(o, "kpi_name", encode_json_text(v->kpi_name));
	rc |= json_object_set_new(o, "quadrant",
				  k ? encode_json_enum(encode_quadrant_names,
						       ENCODE_COUNT(encode_quadrant_names),
						       k->quadrant)
				    : json_null());
	rc |= json_object_set_new(o, "scope", encode_json_text(a->scope));
	rc |= json_object_set_new(o, "window", encode_json_text(a->window));
	rc |= json_object_set_new(o, "owner", encode_json_optional_text(a->owner));
	rc |= json_object_set_new(o, "route", encode_json_text(v->route));
	rc |= json_object_set_new(o, "tier", json_integer(a->tier));
	rc |= json_object_set_new(o, "runbook_url",
				  encode_json_optional_text(r ? r->runbook_url : NULL));
	rc |= json_object_set_new(o, "labels",
				  encode_json_labels(r ? r->labels : NULL, r ? r->n_labels : 0));
	return rc;
}

/* JSON: the same fields as encode_esc_avro_figures. */
static int encode_esc_json_figures(json_t *o, const encode_esc_view *v)
{
	const alert_event *a = v->a;
	int rc = 0;

	rc |= json_object_set_new(
	    o, "observed",
	    encode_json_optional_number(encode_esc_has_value(v, a->observed), a->observed));
	rc |= json_object_set_new(
	    o, "threshold",
	    encode_json_optional_number(encode_esc_has_value(v, a->threshold), a->threshold));
	rc |= json_object_set_new(
	    o, "resolve_threshold",
	    encode_json_optional_number(encode_esc_has_value(v, a->resolve_threshold),
					a->resolve_threshold));
	rc |= json_object_set_new(
	    o, "target",
	    encode_json_optional_number(encode_esc_has_value(v, a->target), a->target));
	rc |= json_object_set_new(
	    o, "baseline",
	    encode_json_baseline(v->rule && a->has_baseline, a->baseline_mean, a->baseline_stddev));
	rc |= json_object_set_new(o, "lowest_scope",
				  encode_json_optional_text(v->rule ? a->lowest_scope : NULL));
	rc |= json_object_set_new(o, "highest_scope",
				  encode_json_optional_text(v->rule ? a->highest_scope : NULL));
	return rc;
}

/* JSON: the same fields as encode_esc_avro_times. */
static int encode_esc_json_times(json_t *o, const encode_esc_view *v)
{
	const alert_event *a = v->a;
	int rc = 0;

	rc |= json_object_set_new(o, "starts_at", json_integer(v->starts_at_ms));
	rc |= json_object_set_new(
	    o, "ends_at", a->state == ALERT_RESOLVED ? json_integer(a->ended_at_ms) : json_null());
	rc |= json_object_set_new(o, "emitted_at", json_integer(a->at_ms));
	rc |= json_object_set_new(o, "sequence", json_integer(a->sequence));
	rc |= json_object_set_new(o, "held_back", encode_json_strings(a->held_keys, v->n_listed));
	rc |= json_object_set_new(
	    o, "held_count", json_integer(a->state == ALERT_STORM ? (json_int_t)a->n_held : 0));
	return rc;
}

/* Returns the Escalation record of v as a new JSON object, or NULL. */
static json_t *encode_esc_json(const encode_esc_view *v)
{
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	rc |= encode_esc_json_event(o, v);
	rc |= encode_esc_json_subject(o, v);
	rc |= encode_esc_json_figures(o, v);
	rc |= encode_esc_json_times(o, v);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ------------------------------------------------------------------------ */
/* Escalations: the summary                                                  */

/*
 * Formats the observed and threshold values for people: two decimals, or
 * four significant digits when two decimals would make them look equal.
 */
static void encode_format_pair(double observed, double threshold, char *a, char *b, size_t size)
{
	snprintf(a, size, "%.2f", observed);
	snprintf(b, size, "%.2f", threshold);
	if (observed != threshold && strcmp(a, b) == 0) {
		snprintf(a, size, "%.4g", observed);
		snprintf(b, size, "%.4g", threshold);
	}
}

static const char *encode_direction_word(const config_threshold *r)
{
	return r->direction == THRESHOLD_ABOVE ? "above" : "below";
}

/*
 * Writes what the state adds in front of the sentence, e.g. "Still firing: ".
 * FIRING adds nothing.
 */
static void encode_summary_prefix(const alert_event *a, char *out, size_t size)
{
	switch (a->state) {
	case ALERT_REPEAT:
		snprintf(out, size, "Still firing: ");
		break;
	case ALERT_ESCALATED:
		if (a->owner)
			snprintf(out, size, "Escalated to %s: ", a->owner);
		else
			snprintf(out, size, "Escalated to tier %d: ", a->tier);
		break;
	case ALERT_RESOLVED:
		snprintf(out, size, "Resolved: ");
		break;
	default:
		out[0] = '\0';
	}
}

/*
 * Writes how the condition relates the bound to the KPI, e.g. " (more than
 * 25% below the target 0.6)". Threshold and disparity rules need none, and
 * a RESOLVED event gets none.
 */
static void encode_summary_detail(const alert_event *a, char *out, size_t size)
{
	const config_threshold *r = a->rule;
	const char *dir = encode_direction_word(r);

	out[0] = '\0';
	if (a->state == ALERT_RESOLVED)
		return;
	if (r->condition == ALERT_COND_DEVIATION)
		snprintf(out, size, " (more than %g%% %s the target %g)", r->value, dir, a->target);
	else if (r->condition == ALERT_COND_ZSCORE && a->has_baseline)
		snprintf(out, size, " (more than %g standard deviations %s the baseline mean %.4g)",
			 r->value, dir, a->baseline_mean);
	else if (r->condition == ALERT_COND_ZSCORE)
		snprintf(out, size, " (more than %g standard deviations %s the baseline)", r->value,
			 dir);
	else if (r->condition == ALERT_COND_TREND)
		snprintf(out, size, " (a change %s %g%% over %d periods)", dir, r->value,
			 r->periods);
}

/*
 * Writes the sentence of an alert, e.g. "Peer recognition rate for
 * team:Payments is 0.31, below 0.50"; a disparity or bias rule names the segments:
 * "... by work_mode: work_mode:remote is at 0.62 of work_mode:onsite, below 0.80".
 * Returns what snprintf returns.
 */
static int encode_summary_alert(const encode_esc_view *v, char *out, size_t size)
{
	const alert_event *a = v->a;
	const char *no_longer = a->state == ALERT_RESOLVED ? "no longer " : "";
	char prefix[256], detail[160], observed[32], threshold[32];

	encode_summary_prefix(a, prefix, sizeof(prefix));
	encode_summary_detail(a, detail, sizeof(detail));
	encode_format_pair(a->observed, a->threshold, observed, threshold, sizeof(observed));
	if (v->rule->condition == ALERT_COND_DISPARITY || v->rule->condition == ALERT_COND_BIAS)
		return snprintf(out, size, "%s%s by %s: %s is at %s of %s, %s%s %s", prefix,
				v->kpi_name, a->scope, a->lowest_scope ? a->lowest_scope : "?",
				observed, a->highest_scope ? a->highest_scope : "?", no_longer,
				encode_direction_word(v->rule), threshold);
	return snprintf(out, size, "%s%s for %s is %s, %s%s %s%s", prefix, v->kpi_name, a->scope,
			observed, no_longer, encode_direction_word(v->rule), threshold, detail);
}

static int encode_summary_storm(const alert_event *a, char *out, size_t size)
{
	return snprintf(out, size,
			"Storm control held back %zu new %s on route %s, to be announced in "
			"later ticks",
			a->n_held, a->n_held == 1 ? "firing" : "firings", a->scope);
}

/*
 * Cuts the full summary buffer s (max bytes and a NUL) to end in "...",
 * without splitting a UTF-8 sequence.
 */
static void encode_summary_cut(char *s, size_t max)
{
	size_t end = max - 3;

	/* s[end] is the first byte dropped: back up to the start of its character. */
	while (end > 0 && ((unsigned char)s[end] & 0xC0) == 0x80)
		end--;
	memcpy(s + end, "...", 4);
}

/* Writes the summary of v into e->summary. Returns 0, or -1 when snprintf fails. */
static int encode_summary(encoder *e, const encode_esc_view *v)
{
	int n;

	if (v->a->state == ALERT_STORM)
		n = encode_summary_storm(v->a, e->summary, sizeof(e->summary));
	else
		n = encode_summary_alert(v, e->summary, sizeof(e->summary));
	if (n < 0)
		return -1;
	if ((size_t)n > ENCODE_SUMMARY_MAX)
		encode_summary_cut(e->summary, ENCODE_SUMMARY_MAX);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Escalations: the CloudEvent                                               */

#define ENCODE_CE_SPECVERSION "1.0"
#define ENCODE_CE_TYPE_PREFIX "io.advocacyd.escalation."
#define ENCODE_CE_DATASCHEMA_PREFIX "urn:advocacyd:schema:io.advocacyd.Escalation:"
#define ENCODE_CE_STRUCTURED "application/cloudevents+json; charset=UTF-8"

/* The context attributes of one escalation event. */
typedef struct encode_ce {
	const char *id;
	const char *source;
	const char *subject;  /* the dedup key */
	const char *severity; /* extension attribute */
	const char *content_type;
	char type[64];
	char time[32];	     /* RFC 3339, UTC, milliseconds */
	char dataschema[96]; /* Avro only; else empty */
} encode_ce;

/* Writes ms since the epoch as RFC 3339 in UTC with milliseconds. Returns 0 or -1. */
static int encode_rfc3339(int64_t ms, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	int millis = (int)(ms % 1000);
	struct tm tm;
	size_t n;

	if (millis < 0) {
		millis += 1000;
		secs--;
	}
	if (!gmtime_r(&secs, &tm))
		return -1;
	n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0 || snprintf(out + n, size - n, ".%03dZ", millis) != 5)
		return -1;
	return 0;
}

/* Fills the attributes of a. Returns 0, or -1 when one does not fit. */
static int encode_ce_init(encode_ce *ce, const config *cfg, const alert_event *a)
{
	const config_output *o = &cfg->outputs.escalations;
	int avro = o->format != OUTPUT_FORMAT_JSON;
	int n;

	*ce = (encode_ce){.id = a->id,
			  .source = cfg->alerts.source,
			  .subject = a->dedup_key,
			  .severity = a->severity,
			  .content_type = avro ? "application/avro" : "application/json"};
	n = snprintf(ce->type, sizeof(ce->type), ENCODE_CE_TYPE_PREFIX "%s",
		     alert_state_name(a->state));
	if (n < 0 || (size_t)n >= sizeof(ce->type))
		return -1;
	if (avro)
		snprintf(ce->dataschema, sizeof(ce->dataschema),
			 ENCODE_CE_DATASCHEMA_PREFIX "%" PRId32, o->schema_id);
	return encode_rfc3339(a->at_ms, ce->time, sizeof(ce->time));
}

/*
 * True when id and source, which CloudEvents requires, and the subject and
 * severity, which consumers of escalations rely on, are non-empty.
 */
static int encode_ce_valid(const encode_ce *ce)
{
	return ce->id && *ce->id && ce->source && *ce->source && ce->subject && *ce->subject &&
	       ce->severity && *ce->severity;
}

/*
 * Appends one header. With copy set the value is copied into h->buf after
 * *used bytes; otherwise the header borrows it. Returns 0, or -1 when full.
 */
static int encode_ce_add(encode_ce_headers *h, size_t *used, const char *name, const char *value,
			 int copy)
{
	size_t len = strlen(value) + 1;

	if (h->n == ENCODE_CE_MAX_HEADERS)
		return -1;
	if (copy) {
		if (len > sizeof(h->buf) - *used)
			return -1;
		memcpy(h->buf + *used, value, len);
		value = h->buf + *used;
		*used += len;
	}
	h->h[h->n++] = (encode_header){name, value};
	return 0;
}

/* Binary content mode: every attribute in a ce_ header, datacontenttype in content-type. */
static int encode_ce_binary_headers(const encode_ce *ce, encode_ce_headers *h)
{
	size_t used = 0;
	int rc = 0;

	rc |= encode_ce_add(h, &used, "ce_specversion", ENCODE_CE_SPECVERSION, 0);
	rc |= encode_ce_add(h, &used, "ce_id", ce->id, 0);
	rc |= encode_ce_add(h, &used, "ce_source", ce->source, 0);
	rc |= encode_ce_add(h, &used, "ce_type", ce->type, 1);
	rc |= encode_ce_add(h, &used, "ce_time", ce->time, 1);
	rc |= encode_ce_add(h, &used, "ce_subject", ce->subject, 0);
	rc |= encode_ce_add(h, &used, "content-type", ce->content_type, 0);
	if (ce->dataschema[0])
		rc |= encode_ce_add(h, &used, "ce_dataschema", ce->dataschema, 1);
	rc |= encode_ce_add(h, &used, "ce_severity", ce->severity, 0);
	rc |= encode_ce_add(h, &used, "ce_dedupkey", ce->subject, 0);
	return rc ? -1 : 0;
}

/*
 * Returns the structured-mode event: the attributes of ce and data under
 * data_key ("data" or "data_base64"). Takes the reference to data.
 */
static json_t *encode_ce_envelope(const encode_ce *ce, json_t *data, const char *data_key)
{
	json_t *o = json_object();
	int rc = 0;

	if (!o || !data) {
		json_decref(o);
		json_decref(data);
		return NULL;
	}
	rc |= json_object_set_new(o, "specversion", json_string(ENCODE_CE_SPECVERSION));
	rc |= json_object_set_new(o, "id", encode_json_text(ce->id));
	rc |= json_object_set_new(o, "source", encode_json_text(ce->source));
	rc |= json_object_set_new(o, "type", json_string(ce->type));
	rc |= json_object_set_new(o, "time", json_string(ce->time));
	rc |= json_object_set_new(o, "subject", encode_json_text(ce->subject));
	rc |= json_object_set_new(o, "datacontenttype", json_string(ce->content_type));
	if (ce->dataschema[0])
		rc |= json_object_set_new(o, "dataschema", json_string(ce->dataschema));
	rc |= json_object_set_new(o, "severity", encode_json_text(ce->severity));
	rc |= json_object_set_new(o, "dedupkey", encode_json_text(ce->subject));
	rc |= json_object_set_new(o, data_key, data);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Binary content mode: the value is the data alone. */
static int encode_ce_binary(encoder *e, const config_output *o, const encode_ce *ce,
			    const encode_esc_view *v, encode_buf *out, encode_ce_headers *h)
{
	int rc;

	if (o->format == OUTPUT_FORMAT_JSON)
		rc = encode_json_dump(encode_esc_json(v), out);
	else
		rc = encode_esc_avro(e, v, o->schema_id, out);
	if (rc < 0)
		return -1;
	return encode_ce_binary_headers(ce, h);
}

/*
 * Structured content mode: the value is the JSON event, with JSON data as an
 * object or the framed Avro datum in base64.
 */
static int encode_ce_structured(encoder *e, const config_output *o, const encode_ce *ce,
				const encode_esc_view *v, encode_buf *out, encode_ce_headers *h)
{
	const char *data_key = "data";
	size_t used = 0;
	json_t *data;

	if (o->format == OUTPUT_FORMAT_JSON) {
		data = encode_esc_json(v);
	} else {
		if (encode_esc_avro(e, v, o->schema_id, &e->ce_data) < 0)
			return -1;
		data = encode_json_base64(e, e->ce_data.data, e->ce_data.len);
		data_key = "data_base64";
	}
	if (encode_json_dump(encode_ce_envelope(ce, data, data_key), out) < 0)
		return -1;
	return encode_ce_add(h, &used, "content-type", ENCODE_CE_STRUCTURED, 0);
}

int encode_escalation(encoder *e, const config *cfg, const alert_event *a, encode_buf *out,
		      encode_ce_headers *hdrs)
{
	encode_esc_view v;
	encode_ce ce;

	out->len = 0;
	hdrs->n = 0;
	if (encode_ce_init(&ce, cfg, a) < 0 || !encode_ce_valid(&ce))
		return -1;
	if (encode_esc_view_init(&v, cfg, a, e->summary) < 0 || encode_summary(e, &v) < 0)
		return -1;
	if (cfg->alerts.structured)
		return encode_ce_structured(e, &cfg->outputs.escalations, &ce, &v, out, hdrs);
	return encode_ce_binary(e, &cfg->outputs.escalations, &ce, &v, out, hdrs);
}

/* ------------------------------------------------------------------------ */
/* Dead letters                                                              */

static int encode_dlq_avro_fill(encoder *e, const dlq_record *d)
{
	avro_value_t *rec = &e->dlq.value;
	int rc = 0;

	rc |= encode_avro_put_string(rec, "reason", d->reason);
	rc |= encode_avro_put_string(rec, "detail", d->detail);
	rc |= encode_avro_put_string(rec, "source_topic", d->source_topic);
	rc |= encode_avro_put_int(rec, "source_partition", d->source_partition);
	rc |= encode_avro_put_long(rec, "source_offset", d->source_offset);
	rc |= encode_avro_put_optional_long(rec, "source_timestamp", d->source_timestamp_ms >= 0,
					    d->source_timestamp_ms);
	rc |= encode_avro_put_long(rec, "dead_lettered_at", d->dead_lettered_at_ms);
	rc |= encode_avro_put_optional_bytes(rec, "key", d->key, d->key_len);
	rc |= encode_avro_put_bytes(rec, "payload", d->payload, d->payload_len);
	return rc ? -1 : 0;
}

/* The base64 fields are built one after the other because they share the scratch buffer. */
static json_t *encode_dlq_json(encoder *e, const dlq_record *d)
{
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	rc |= json_object_set_new(o, "reason", encode_json_text(d->reason));
	rc |= json_object_set_new(o, "detail", encode_json_text(d->detail));
	rc |= json_object_set_new(o, "source_topic", encode_json_text(d->source_topic));
	rc |= json_object_set_new(o, "source_partition", json_integer(d->source_partition));
	rc |= json_object_set_new(o, "source_offset", json_integer(d->source_offset));
	rc |= json_object_set_new(o, "source_timestamp",
				  d->source_timestamp_ms >= 0 ? json_integer(d->source_timestamp_ms)
							      : json_null());
	rc |= json_object_set_new(o, "dead_lettered_at", json_integer(d->dead_lettered_at_ms));
	rc |= json_object_set_new(o, "key",
				  d->key ? encode_json_base64(e, d->key, d->key_len) : json_null());
	rc |= json_object_set_new(o, "payload", encode_json_base64(e, d->payload, d->payload_len));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int encode_dlq(encoder *e, const config_output *o, const dlq_record *d, encode_buf *out)
{
	out->len = 0;
	if (o->format == OUTPUT_FORMAT_JSON)
		return encode_json_dump(encode_dlq_json(e, d), out);
	if (encode_dlq_avro_fill(e, d) < 0)
		return -1;
	return encode_avro_framed(e, &e->dlq.value, o->schema_id, out);
}
