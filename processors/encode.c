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
 * ("learning_growth", "firing") and bytes in standard base64.
 *
 * Runs on the event loop thread. The Avro path allocates nothing once the
 * buffers are warm, apart from what avro-c's generic strings need to grow.
 * The JSON path builds a jansson object per record: it runs once per output
 * record per tick, never per input event.
 */
#include "encode.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "schemas.h"

#define ENCODE_FRAME_SIZE 5
#define ENCODE_SYMBOL_MAX 32

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
static const char *const encode_status_names[] = {
    [ALERT_FIRING] = "firing",
    [ALERT_RESOLVED] = "resolved",
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
	int status_index[ENCODE_COUNT(encode_status_names)];

	char *scratch; /* summary text and base64, reused */
	size_t scratch_cap;
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

/* Grows b to hold at least n bytes, at least doubling. Keeps the contents. */
static int encode_buf_reserve(encode_buf *b, size_t n)
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

/*
 * Fills index[i] with the position of symbol uppercase(names[i]) in the enum
 * of record field `field`. Returns 0, or -1 with errstr naming what is missing.
 */
static int encode_enum_map(const encode_avro *t, const char *field, const char *const *names,
			   size_t n, int *index, char *errstr, size_t errstr_size)
{
	avro_schema_t enum_schema = avro_schema_record_field_get(t->schema, field);
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
	if (encode_enum_map(&e->kpi, "quadrant", encode_quadrant_names,
			    ENCODE_COUNT(encode_quadrant_names), e->quadrant_index, errstr,
			    errstr_size) < 0 ||
	    encode_enum_map(&e->kpi, "indicator", encode_indicator_names,
			    ENCODE_COUNT(encode_indicator_names), e->indicator_index, errstr,
			    errstr_size) < 0 ||
	    encode_enum_map(&e->escalation, "direction", encode_direction_names,
			    ENCODE_COUNT(encode_direction_names), e->direction_index, errstr,
			    errstr_size) < 0 ||
	    encode_enum_map(&e->escalation, "status", encode_status_names,
			    ENCODE_COUNT(encode_status_names), e->status_index, errstr,
			    errstr_size) < 0)
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

/*
 * Serialises root compactly into out and drops it. Reals get 15 significant
 * digits: every decimal of up to 15 digits, such as a target of 0.05, is
 * written back as it was configured (not 0.050000000000000003), at the cost
 * of a relative error below 1e-15 on computed values.
 */
#define ENCODE_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

static int encode_json_dump(json_t *root, encode_buf *out)
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
	rc |= encode_avro_put_double(rec, "target", k->target);
	rc |= encode_avro_put_long(rec, "window_start", u->window_start_ms);
	rc |= encode_avro_put_long(rec, "window_end", u->window_end_ms);
	rc |= encode_avro_put_long(rec, "computed_at", u->computed_at_ms);
	return rc ? -1 : 0;
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
	rc |= json_object_set_new(o, "weight", encode_json_number(k->weight));
	rc |= json_object_set_new(o, "target", encode_json_number(k->target));
	rc |= json_object_set_new(o, "window_start", json_integer(u->window_start_ms));
	rc |= json_object_set_new(o, "window_end", json_integer(u->window_end_ms));
	rc |= json_object_set_new(o, "computed_at", json_integer(u->computed_at_ms));
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
/* Escalations                                                               */

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

/*
 * Writes the one-sentence summary into the scratch buffer, e.g.
 * "Peer recognition rate for team:Payments is 0.31, below 0.50 for 2 ticks".
 */
static const char *encode_summary(encoder *e, const alert_event *a)
{
	const char *direction = a->rule->direction == THRESHOLD_ABOVE ? "above" : "below";
	const char *name = a->kpi->name ? a->kpi->name : a->kpi->id;
	char observed[32], threshold[32];
	int n;

	encode_format_pair(a->observed, a->threshold, observed, threshold, sizeof(observed));
	for (int attempt = 0; attempt < 2; attempt++) {
		if (a->state == ALERT_FIRING)
			n = snprintf(e->scratch, e->scratch_cap, "%s for %s is %s, %s %s for %d %s",
				     name, a->scope, observed, direction, threshold,
				     a->rule->for_ticks,
				     a->rule->for_ticks == 1 ? "tick" : "ticks");
		else
			n = snprintf(e->scratch, e->scratch_cap, "%s for %s is %s, no longer %s %s",
				     name, a->scope, observed, direction, threshold);
		if (n < 0)
			return NULL;
		if ((size_t)n < e->scratch_cap)
			return e->scratch;
		if (encode_scratch_reserve(e, (size_t)n + 1) < 0)
			return NULL;
	}
	return NULL;
}

static int encode_escalation_avro_fill(encoder *e, const alert_event *a, const char *summary)
{
	avro_value_t *rec = &e->escalation.value;
	int resolved = a->state == ALERT_RESOLVED;
	int rc = 0;

	rc |= encode_avro_put_string(rec, "dedup_key", a->dedup_key);
	rc |= encode_avro_put_enum(rec, "status", e->status_index, ENCODE_COUNT(e->status_index),
				   a->state);
	rc |= encode_avro_put_string(rec, "rule_id", a->rule->id);
	rc |= encode_avro_put_string(rec, "kpi", a->kpi->id);
	rc |= encode_avro_put_string(rec, "scope", a->scope);
	rc |= encode_avro_put_string(rec, "window", a->window);
	rc |= encode_avro_put_string(rec, "severity", a->rule->severity);
	rc |= encode_avro_put_enum(rec, "direction", e->direction_index,
				   ENCODE_COUNT(e->direction_index), a->rule->direction);
	rc |= encode_avro_put_double(rec, "observed", a->observed);
	rc |= encode_avro_put_double(rec, "threshold", a->threshold);
	rc |= encode_avro_put_long(rec, "starts_at", a->started_at_ms);
	rc |= encode_avro_put_optional_long(rec, "ends_at", resolved, a->ended_at_ms);
	rc |= encode_avro_put_long(rec, "emitted_at", a->at_ms);
	rc |= encode_avro_put_string(rec, "summary", summary);
	return rc ? -1 : 0;
}

static json_t *encode_escalation_json(const alert_event *a, const char *summary)
{
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	rc |= json_object_set_new(o, "dedup_key", encode_json_text(a->dedup_key));
	rc |= json_object_set_new(
	    o, "status",
	    encode_json_enum(encode_status_names, ENCODE_COUNT(encode_status_names), a->state));
	rc |= json_object_set_new(o, "rule_id", encode_json_text(a->rule->id));
	rc |= json_object_set_new(o, "kpi", encode_json_text(a->kpi->id));
	rc |= json_object_set_new(o, "scope", encode_json_text(a->scope));
	rc |= json_object_set_new(o, "window", encode_json_text(a->window));
	rc |= json_object_set_new(o, "severity", encode_json_text(a->rule->severity));
	rc |= json_object_set_new(o, "direction",
				  encode_json_enum(encode_direction_names,
						   ENCODE_COUNT(encode_direction_names),
						   a->rule->direction));
	rc |= json_object_set_new(o, "observed", encode_json_number(a->observed));
	rc |= json_object_set_new(o, "threshold", encode_json_number(a->threshold));
	rc |= json_object_set_new(o, "starts_at", json_integer(a->started_at_ms));
	rc |= json_object_set_new(
	    o, "ends_at", a->state == ALERT_RESOLVED ? json_integer(a->ended_at_ms) : json_null());
	rc |= json_object_set_new(o, "emitted_at", json_integer(a->at_ms));
	rc |= json_object_set_new(o, "summary", encode_json_text(summary));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int encode_escalation(encoder *e, const config_output *o, const alert_event *a, encode_buf *out)
{
	const char *summary;

	out->len = 0;
	if (encode_scratch_reserve(e, 128) < 0)
		return -1;
	summary = encode_summary(e, a);
	if (!summary)
		return -1;
	if (o->format == OUTPUT_FORMAT_JSON)
		return encode_json_dump(encode_escalation_json(a, summary), out);
	if (encode_escalation_avro_fill(e, a, summary) < 0)
		return -1;
	return encode_avro_framed(e, &e->escalation.value, o->schema_id, out);
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
