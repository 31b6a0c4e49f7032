/*
 * encode_bias.c - bias audit records as Avro or JSON (see encode_bias.h).
 *
 * The Avro form is framed like every output of advocacyd: magic byte 0,
 * the schema id as 4 bytes big-endian, then the binary datum. The JSON form
 * has the same fields in the same order. Every ratio and value is finite,
 * because bias.c clamps them, so every number is a JSON number.
 */
#include "encode_bias.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <jansson.h>

#include "encode.h"
#include "schemas.h"

#define ENCODE_BIAS_FRAME_SIZE 5

struct encode_bias {
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value;
	bool has_value;
	avro_writer_t writer;
	char writer_init[1]; /* destination of the writer until the first record */
};

encode_bias *encode_bias_new(char *errstr, size_t errstr_size)
{
	encode_bias *e = calloc(1, sizeof(*e));

	if (!e) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	if (avro_schema_from_json_length(schema_bias_record, strlen(schema_bias_record),
					 &e->schema) != 0) {
		snprintf(errstr, errstr_size,
			 "invalid built-in BiasRecord schema: %s. Fix "
			 "schemas/bias_record.avsc and rebuild advocacyd",
			 avro_strerror());
		goto fail;
	}
	e->iface = avro_generic_class_from_schema(e->schema);
	if (!e->iface || avro_generic_value_new(e->iface, &e->value) != 0) {
		snprintf(errstr, errstr_size, "failed to build the Avro value for BiasRecord: %s",
			 avro_strerror());
		goto fail;
	}
	e->has_value = true;
	e->writer = avro_writer_memory(e->writer_init, sizeof(e->writer_init));
	if (!e->writer) {
		snprintf(errstr, errstr_size, "failed to create the Avro writer for BiasRecord: %s",
			 avro_strerror());
		goto fail;
	}
	return e;

fail:
	encode_bias_free(e);
	return NULL;
}

void encode_bias_free(encode_bias *e)
{
	if (!e)
		return;
	if (e->writer)
		avro_writer_free(e->writer);
	if (e->has_value)
		avro_value_decref(&e->value);
	if (e->iface)
		avro_value_iface_decref(e->iface);
	if (e->schema)
		avro_schema_decref(e->schema);
	free(e);
}

/* ------------------------------------------------------------------------ */
/* Avro                                                                      */

/* Returns the named field of the record, or NULL when the schema lacks it. */
static avro_value_t *encode_bias_field(encode_bias *e, const char *name, avro_value_t *field)
{
	return avro_value_get_by_name(&e->value, name, field, NULL) == 0 ? field : NULL;
}

static int encode_bias_put_string(encode_bias *e, const char *name, const char *s)
{
	avro_value_t f;

	return encode_bias_field(e, name, &f) ? avro_value_set_string(&f, s ? s : "") : -1;
}

static int encode_bias_put_double(encode_bias *e, const char *name, double v)
{
	avro_value_t f;

	return encode_bias_field(e, name, &f) ? avro_value_set_double(&f, v) : -1;
}

static int encode_bias_put_int(encode_bias *e, const char *name, int64_t v)
{
	avro_value_t f;

	if (v < INT32_MIN || v > INT32_MAX)
		return -1;
	return encode_bias_field(e, name, &f) ? avro_value_set_int(&f, (int32_t)v) : -1;
}

static int encode_bias_put_long(encode_bias *e, const char *name, int64_t v)
{
	avro_value_t f;

	return encode_bias_field(e, name, &f) ? avro_value_set_long(&f, v) : -1;
}

static int encode_bias_put_bool(encode_bias *e, const char *name, bool v)
{
	avro_value_t f;

	return encode_bias_field(e, name, &f) ? avro_value_set_boolean(&f, v) : -1;
}

static int encode_bias_avro_fill(encode_bias *e, const bias_record *r)
{
	int rc = 0;

	rc |= encode_bias_put_string(e, "kpi", r->kpi->id);
	rc |= encode_bias_put_string(e, "dimension", config_scope_kind_name(r->dimension));
	rc |= encode_bias_put_string(e, "window", r->window);
	rc |= encode_bias_put_string(e, "basis", bias_basis_name(r->basis));
	rc |= encode_bias_put_double(e, "ratio", r->ratio);
	rc |= encode_bias_put_double(e, "threshold", r->threshold);
	rc |= encode_bias_put_bool(e, "below_threshold", r->below_threshold);
	rc |= encode_bias_put_string(e, "lowest_segment", r->lowest_segment);
	rc |= encode_bias_put_double(e, "lowest_value", r->lowest_value);
	rc |= encode_bias_put_string(e, "highest_segment", r->highest_segment);
	rc |= encode_bias_put_double(e, "highest_value", r->highest_value);
	rc |= encode_bias_put_int(e, "segments_compared", r->segments_compared);
	rc |= encode_bias_put_int(e, "segments_excluded", r->segments_excluded);
	rc |= encode_bias_put_int(e, "min_sample", r->min_sample);
	rc |= encode_bias_put_long(e, "window_start", r->window_start_ms);
	rc |= encode_bias_put_long(e, "window_end", r->window_end_ms);
	rc |= encode_bias_put_long(e, "computed_at", r->computed_at_ms);
	return rc ? -1 : 0;
}

static int encode_bias_avro(encode_bias *e, int32_t schema_id, const bias_record *r,
			    encode_buf *out)
{
	uint32_t id = (uint32_t)schema_id;
	size_t size;

	if (encode_bias_avro_fill(e, r) < 0 || avro_value_sizeof(&e->value, &size) != 0 ||
	    encode_buf_reserve(out, ENCODE_BIAS_FRAME_SIZE + size) < 0)
		return -1;
	out->data[0] = 0;
	out->data[1] = (char)(id >> 24);
	out->data[2] = (char)(id >> 16);
	out->data[3] = (char)(id >> 8);
	out->data[4] = (char)id;
	avro_writer_memory_set_dest(e->writer, out->data + ENCODE_BIAS_FRAME_SIZE, (int64_t)size);
	if (avro_value_write(e->writer, &e->value) != 0)
		return -1;
	out->len = ENCODE_BIAS_FRAME_SIZE + size;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */

static json_t *encode_bias_json(const bias_record *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:b, s:s, s:f, s:s, s:f, s:I, s:I, s:I, "
			 "s:I, s:I, s:I}",
			 "kpi", r->kpi->id, "dimension", config_scope_kind_name(r->dimension),
			 "window", r->window, "basis", bias_basis_name(r->basis), "ratio",
			 r->ratio, "threshold", r->threshold, "below_threshold",
			 (int)r->below_threshold, "lowest_segment",
			 r->lowest_segment ? r->lowest_segment : "", "lowest_value",
			 r->lowest_value, "highest_segment",
			 r->highest_segment ? r->highest_segment : "", "highest_value",
			 r->highest_value, "segments_compared", (json_int_t)r->segments_compared,
			 "segments_excluded", (json_int_t)r->segments_excluded, "min_sample",
			 (json_int_t)r->min_sample, "window_start", (json_int_t)r->window_start_ms,
			 "window_end", (json_int_t)r->window_end_ms, "computed_at",
			 (json_int_t)r->computed_at_ms);
}

/* ------------------------------------------------------------------------ */
/* API                                                                       */

int encode_bias_record(encode_bias *e, const config_output *o, const bias_record *r,
		       encode_buf *out)
{
	out->len = 0;
	if (o->format == OUTPUT_FORMAT_JSON)
		return encode_json_dump(encode_bias_json(r), out);
	return encode_bias_avro(e, o->schema_id, r, out);
}

size_t encode_bias_key(const bias_record *r, char *out, size_t out_size)
{
	int n = snprintf(out, out_size, "%s|%s|%s", r->kpi->id, config_scope_kind_name(r->dimension),
			 r->window);

	if (n < 0)
		return 0;
	return (size_t)n < out_size ? (size_t)n : out_size - 1;
}
