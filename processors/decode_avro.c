/*
 * decode_avro.c - canonical AdvocacyEvent datums (Avro binary) to events, and
 * the writer that produces them.
 *
 * Decoding a message takes three steps:
 *   1. framing: a first byte 0 means the Confluent wire format (magic byte,
 *      4-byte big-endian schema id, datum); anything else is a bare datum;
 *   2. scan: decode_avro_scan_* walk the datum along the schema's wire
 *      layout, reject every length, count or union index that exceeds the
 *      bytes left or the event limits, and any bytes after the datum, and
 *      point the event's strings at their bytes in the message;
 *   3. checks that need the values (event id, kind, time).
 *
 * The decoder reads the one schema it was built for, whose field order the
 * scan follows (checked against the parsed schema at creation), so it needs
 * no generic value: nothing is allocated or copied per message. avro-c's
 * generic reader took 0.6-0.9 us per 72- to 122-byte datum and allocated
 * twice per string; it also allocates a string's declared length before
 * comparing it with the bytes left, so a 6-byte message could request
 * 1 TiB. The writer below still uses avro-c.
 *
 * A map key that appears twice keeps its first position and its last value.
 *
 * With a schema lookup, step 2 depends on the frame's schema id. The
 * schema cache decides whether the id is the canonical schema (the scan), an
 * evolved one (avro_resolve_decode) or rejected. The cache remembers the
 * previous id, so canonical framed input costs one more comparison.
 *
 * Thread: a decoder or writer is used by one thread at a time.
 * Limits: strings at most DECODE_AVRO_MAX_STRING bytes, at most
 * EVENT_MAX_TARGETS targets and EVENT_MAX_ATTRS attributes; longer or larger
 * input is DECODE_INVALID, never truncated. Empty target ids and attributes
 * with an empty key count towards those limits but are left out of the event.
 */
#include "decode_avro.h"

#include <avro.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas.h"

/* Maximum length in bytes of any string field of the canonical schema. */
#define DECODE_AVRO_MAX_STRING 256

/* Confluent wire format: magic byte 0, then a 4-byte big-endian schema id. */
#define DECODE_AVRO_FRAME_HEADER 5

/* Wire layout of one AdvocacyEvent field, as the bounds scan walks it. */
typedef enum decode_avro_shape {
	DECODE_AVRO_STRING,
	DECODE_AVRO_LONG,
	DECODE_AVRO_OPTIONAL_STRING, /* union ["null", "string"] */
	DECODE_AVRO_STRING_ARRAY,
	DECODE_AVRO_STRING_MAP,
} decode_avro_shape;

typedef struct decode_avro_field {
	const char *name;
	decode_avro_shape shape;
	const char *too_long_reason; /* reason when a string exceeds the limit */
} decode_avro_field;

/*
 * Field order of schemas/advocacy_event.avsc. The scan relies on it, so both
 * the decoder and the writer check it against the parsed schema at creation.
 */
enum {
	FIELD_EVENT_ID,
	FIELD_EVENT_TIME,
	FIELD_SOURCE,
	FIELD_KIND,
	FIELD_ACTOR_ID,
	FIELD_TARGET_IDS,
	FIELD_CONTENT_ID,
	FIELD_CHANNEL_ID,
	FIELD_ATTRIBUTES,
	FIELD_COUNT
};

static const decode_avro_field decode_avro_fields[FIELD_COUNT] = {
    {"event_id", DECODE_AVRO_STRING, "id_too_long"},
    {"event_time", DECODE_AVRO_LONG, NULL},
    {"source", DECODE_AVRO_STRING, "field_too_long"},
    {"kind", DECODE_AVRO_STRING, "field_too_long"},
    {"actor_id", DECODE_AVRO_OPTIONAL_STRING, "id_too_long"},
    {"target_ids", DECODE_AVRO_STRING_ARRAY, "id_too_long"},
    {"content_id", DECODE_AVRO_OPTIONAL_STRING, "id_too_long"},
    {"channel_id", DECODE_AVRO_OPTIONAL_STRING, "id_too_long"},
    {"attributes", DECODE_AVRO_STRING_MAP, "field_too_long"},
};

struct decode_avro {
	avro_schema_t schema;     /* checked for the scan's field order */
	int32_t last_schema_id;
	schema_cache *schemas;    /* NULL: every schema id is read as canonical */
};

struct avro_event_writer {
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value;
	avro_writer_t writer;
	char scratch[DECODE_AVRO_MAX_STRING + 1]; /* NUL-terminated copy of one string */
};

/* Cursor of the bounds scan over one datum. */
typedef struct decode_avro_cursor {
	const unsigned char *pos;
	const unsigned char *end;
} decode_avro_cursor;

/* ----------------------------------------------------------------------------
 * Schema setup, shared by the decoder and the writer
 * ------------------------------------------------------------------------- */

/* Parses the compiled-in schema and checks that its fields are in scan order. */
static int decode_avro_load_schema(avro_schema_t *schema, char *errstr, size_t errstr_size)
{
	if (avro_schema_from_json_length(schema_advocacy_event, strlen(schema_advocacy_event),
					 schema)) {
		snprintf(errstr, errstr_size, "invalid AdvocacyEvent schema: %s", avro_strerror());
		return -1;
	}

	for (int i = 0; i < FIELD_COUNT; i++) {
		const char *name = avro_schema_record_field_name(*schema, i);
		if (name == NULL || strcmp(name, decode_avro_fields[i].name) != 0) {
			snprintf(errstr, errstr_size,
				 "AdvocacyEvent schema field %d is not %s, the field order "
				 "decode_avro.c expects",
				 i, decode_avro_fields[i].name);
			avro_schema_decref(*schema);
			*schema = NULL;
			return -1;
		}
	}
	return 0;
}

/* Creates the generic class and value of schema. */
static int decode_avro_make_value(avro_schema_t schema, avro_value_iface_t **iface,
				  avro_value_t *value, char *errstr, size_t errstr_size)
{
	*iface = avro_generic_class_from_schema(schema);
	if (*iface == NULL) {
		snprintf(errstr, errstr_size, "cannot create the Avro value class: %s",
			 avro_strerror());
		return -1;
	}
	if (avro_generic_value_new(*iface, value)) {
		snprintf(errstr, errstr_size, "cannot create the Avro value: %s", avro_strerror());
		avro_value_iface_decref(*iface);
		*iface = NULL;
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------------------------
 * Decoder lifecycle
 * ------------------------------------------------------------------------- */

decode_avro *decode_avro_new(char *errstr, size_t errstr_size)
{
	decode_avro *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	d->last_schema_id = -1;

	if (decode_avro_load_schema(&d->schema, errstr, errstr_size)) {
		decode_avro_free(d);
		return NULL;
	}
	return d;
}

void decode_avro_free(decode_avro *d)
{
	if (d == NULL)
		return;
	if (d->schema != NULL)
		avro_schema_decref(d->schema);
	schema_cache_free(d->schemas);
	free(d);
}

int decode_avro_set_lookup(decode_avro *d, schema_lookup_fn fn, void *opaque, int64_t retry_ms)
{
	schema_cache *c = schema_cache_new(fn, opaque, retry_ms);

	if (c == NULL)
		return -1;
	schema_cache_free(d->schemas);
	d->schemas = c;
	return 0;
}

int32_t decode_avro_last_schema_id(const decode_avro *d)
{
	return d->last_schema_id;
}

/* ----------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------- */

/* Fills res as DECODE_INVALID with reason and a detail sentence; returns -1. */
static int decode_avro_reject(decode_result *res, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int decode_avro_reject(decode_result *res, const char *reason, const char *fmt, ...)
{
	va_list ap;

	res->status = DECODE_INVALID;
	res->reason = reason;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	return -1;
}

/* ----------------------------------------------------------------------------
 * Scan: Avro binary encoding of the fields, without allocating
 * ------------------------------------------------------------------------- */

/* Reads one zigzag varint long. Returns 0, or -1 with res filled. */
static int decode_avro_scan_long(decode_avro_cursor *c, const char *field, int64_t *out,
				 decode_result *res)
{
	uint64_t raw = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (c->pos == c->end)
			return decode_avro_reject(res, "invalid_avro",
						  "the datum ends inside field %s", field);
		unsigned char b = *c->pos++;

		/* The tenth byte may only carry the top bit of the 64-bit value. */
		if (shift == 63 && b > 1)
			break;
		raw |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);
			return 0;
		}
	}
	return decode_avro_reject(res, "invalid_avro",
				  "field %s holds a varint longer than 64 bits", field);
}

/* Reads one string of at most DECODE_AVRO_MAX_STRING bytes into out. */
static int decode_avro_scan_string(decode_avro_cursor *c, const decode_avro_field *f,
				   event_str *out, decode_result *res)
{
	int64_t len;

	if (decode_avro_scan_long(c, f->name, &len, res))
		return -1;
	if (len < 0)
		return decode_avro_reject(res, "invalid_avro", "field %s has a negative length",
					  f->name);
	if (len > c->end - c->pos)
		return decode_avro_reject(res, "invalid_avro",
					  "field %s is longer than the rest of the datum", f->name);
	if (len > DECODE_AVRO_MAX_STRING)
		return decode_avro_reject(res, f->too_long_reason,
					  "field %s is %" PRId64 " bytes long, more than the "
					  "limit of %d",
					  f->name, len, DECODE_AVRO_MAX_STRING);
	*out = (event_str){(const char *)c->pos, (size_t)len};
	c->pos += len;
	return 0;
}

/* Reads a union ["null", "string"]; out stays absent for null. */
static int decode_avro_scan_optional(decode_avro_cursor *c, const decode_avro_field *f,
				     event_str *out, decode_result *res)
{
	int64_t branch;

	*out = (event_str){NULL, 0};
	if (decode_avro_scan_long(c, f->name, &branch, res))
		return -1;
	if (branch == 0)
		return 0;
	if (branch == 1)
		return decode_avro_scan_string(c, f, out, res);
	return decode_avro_reject(res, "invalid_avro",
				  "field %s has union branch %" PRId64 ", expected 0 or 1", f->name,
				  branch);
}

/* Adds a target id; empty ones count towards the limit but are left out. */
static void decode_avro_add_target(event *ev, event_str id)
{
	if (id.len > 0)
		ev->target_ids[ev->target_count++] = id;
}

/* Adds an attribute; a key seen before keeps its place and takes the new value. */
static void decode_avro_add_attr(event *ev, event_str key, event_str value)
{
	if (key.len == 0)
		return;
	for (size_t i = 0; i < ev->attr_count; i++) {
		if (ev->attrs[i].key.len == key.len &&
		    memcmp(ev->attrs[i].key.ptr, key.ptr, key.len) == 0) {
			ev->attrs[i].value = value;
			return;
		}
	}
	ev->attrs[ev->attr_count++] = (event_attr){key, value};
}

/*
 * Reads the target array (map 0) or the attribute map (map 1) into ev,
 * rejecting more than max_entries entries with too_many_reason.
 */
static int decode_avro_scan_blocks(decode_avro_cursor *c, const decode_avro_field *f,
				   int map, int64_t max_entries, const char *too_many_reason,
				   event *ev, decode_result *res)
{
	int64_t total = 0;
	int64_t count;
	int64_t block_bytes;

	for (;;) {
		if (decode_avro_scan_long(c, f->name, &count, res))
			return -1;
		if (count == 0)
			return 0;

		/* A negative count is followed by the block's size in bytes. */
		if (count < 0) {
			if (count == INT64_MIN)
				return decode_avro_reject(res, "invalid_avro",
							  "field %s has an invalid block count",
							  f->name);
			count = -count;
			if (decode_avro_scan_long(c, f->name, &block_bytes, res))
				return -1;
			if (block_bytes < 0)
				return decode_avro_reject(res, "invalid_avro",
							  "field %s has a negative block size",
							  f->name);
		}
		if (count > max_entries - total)
			return decode_avro_reject(res, too_many_reason,
						  "field %s has more than %" PRId64 " entries",
						  f->name, max_entries);
		total += count;

		for (int64_t i = 0; i < count; i++) {
			event_str key, value;
			if (map && (decode_avro_scan_string(c, f, &key, res) ||
				    decode_avro_scan_string(c, f, &value, res)))
				return -1;
			if (!map && decode_avro_scan_string(c, f, &value, res))
				return -1;
			/* The writer cannot encode such a key: avro-c's map keys are C strings. */
			if (map && key.len > 0 && memchr(key.ptr, '\0', key.len) != NULL)
				return decode_avro_reject(res, "invalid_attribute_key",
							  "field %s has a key with a NUL byte",
							  f->name);
			if (map)
				decode_avro_add_attr(ev, key, value);
			else
				decode_avro_add_target(ev, value);
		}
	}
}

/* Reads one field of the canonical schema into ev. */
static int decode_avro_scan_field(decode_avro_cursor *c, int i, event *ev, decode_result *res)
{
	const decode_avro_field *f = &decode_avro_fields[i];
	event_str *strings[FIELD_COUNT] = {
		[FIELD_EVENT_ID] = &ev->event_id, [FIELD_SOURCE] = &ev->source,
		[FIELD_KIND] = &ev->kind,         [FIELD_ACTOR_ID] = &ev->actor_id,
		[FIELD_CONTENT_ID] = &ev->content_id, [FIELD_CHANNEL_ID] = &ev->channel_id,
	};

	switch (f->shape) {
	case DECODE_AVRO_STRING:
		return decode_avro_scan_string(c, f, strings[i], res);
	case DECODE_AVRO_LONG:
		return decode_avro_scan_long(c, f->name, &ev->event_time_ms, res);
	case DECODE_AVRO_OPTIONAL_STRING:
		return decode_avro_scan_optional(c, f, strings[i], res);
	case DECODE_AVRO_STRING_ARRAY:
		return decode_avro_scan_blocks(c, f, 0, EVENT_MAX_TARGETS, "too_many_targets", ev,
					       res);
	case DECODE_AVRO_STRING_MAP:
		return decode_avro_scan_blocks(c, f, 1, EVENT_MAX_ATTRS, "too_many_attributes",
					       ev, res);
	}
	return -1;
}

/* Walks the whole datum, filling ev; returns 0 when it is a well-formed event. */
static int decode_avro_scan(const unsigned char *buf, size_t len, event *ev, decode_result *res)
{
	decode_avro_cursor c = {buf, buf + len};

	memset(ev, 0, sizeof(*ev));
	for (int i = 0; i < FIELD_COUNT; i++)
		if (decode_avro_scan_field(&c, i, ev, res))
			return -1;
	if (c.pos != c.end)
		return decode_avro_reject(res, "trailing_bytes",
					  "the message has %td bytes after the AdvocacyEvent datum",
					  c.end - c.pos);
	return 0;
}

/* ----------------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------------- */

/* Splits off the Confluent frame header, if any. Returns 0 or -1. */
static int decode_avro_unframe(decode_avro *d, const unsigned char **buf, size_t *len,
			       decode_result *res)
{
	const unsigned char *p = *buf;

	d->last_schema_id = -1;
	if (*len == 0)
		return decode_avro_reject(res, "empty_message", "the message is empty");
	if (p[0] != 0)
		return 0;
	if (*len <= DECODE_AVRO_FRAME_HEADER)
		return decode_avro_reject(res, "truncated_frame",
					  "the message starts with the Confluent magic byte but "
					  "has %zu bytes, fewer than a 5-byte header and a datum",
					  *len);

	d->last_schema_id = (int32_t)(((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) |
				      ((uint32_t)p[3] << 8) | (uint32_t)p[4]);
	*buf = p + DECODE_AVRO_FRAME_HEADER;
	*len -= DECODE_AVRO_FRAME_HEADER;
	return 0;
}

/* Applies the checks that need the decoded values. */
static int decode_avro_validate(const event *ev, decode_result *res)
{
	if (ev->event_id.len == 0)
		return decode_avro_reject(res, "missing_event_id", "field event_id is empty");
	if (ev->kind.len == 0)
		return decode_avro_reject(res, "missing_kind", "field kind is empty");
	if (ev->event_time_ms <= 0)
		return decode_avro_reject(res, "invalid_event_time",
					  "field event_time is %" PRId64 ", expected a positive "
					  "number of milliseconds since the epoch",
					  ev->event_time_ms);
	return 0;
}

/* Reads the datum of a framed message with the reader its schema id selects. Returns 0 or -1. */
static int decode_avro_by_id(decode_avro *d, const unsigned char *datum, size_t len,
			     event *ev, decode_result *res)
{
	const schema_entry *e = schema_cache_get(d->schemas, d->last_schema_id);

	switch (e->use) {
	case SCHEMA_USE_CANONICAL:
		return decode_avro_scan(datum, len, ev, res);
	case SCHEMA_USE_RESOLVED:
		return avro_resolve_decode(e->resolve, datum, len, ev, res) == DECODE_OK ? 0 : -1;
	case SCHEMA_USE_REJECTED:
		break;
	}
	return decode_avro_reject(res, e->reason, "%s", e->detail);
}

decode_status decode_avro_message(decode_avro *d, const void *buf, size_t len, event *ev,
				  decode_result *res)
{
	const unsigned char *datum = buf;

	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';

	if (decode_avro_unframe(d, &datum, &len, res))
		return res->status;

	/* Bare datums, and every id without a lookup, are canonical. */
	bool framed = datum != (const unsigned char *)buf;
	if ((d->schemas != NULL && framed ? decode_avro_by_id(d, datum, len, ev, res)
					  : decode_avro_scan(datum, len, ev, res)) ||
	    decode_avro_validate(ev, res))
		return res->status;
	return DECODE_OK;
}

/* ----------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------- */

avro_event_writer *avro_event_writer_new(void)
{
	char errstr[160];
	avro_event_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;

	if (decode_avro_load_schema(&w->schema, errstr, sizeof(errstr)) ||
	    decode_avro_make_value(w->schema, &w->iface, &w->value, errstr, sizeof(errstr)))
		goto fail;

	/* The destination is set per call; an empty one until then. */
	w->writer = avro_writer_memory("", 0);
	if (w->writer == NULL)
		goto fail;
	return w;

fail:
	avro_event_writer_free(w);
	return NULL;
}

void avro_event_writer_free(avro_event_writer *w)
{
	if (w == NULL)
		return;
	if (w->writer != NULL)
		avro_writer_free(w->writer);
	if (w->iface != NULL) {
		avro_value_decref(&w->value);
		avro_value_iface_decref(w->iface);
	}
	if (w->schema != NULL)
		avro_schema_decref(w->schema);
	free(w);
}

/* Returns true when s is a usable string of at most the schema's limit. */
static bool avro_event_writer_str_ok(event_str s)
{
	return s.len <= DECODE_AVRO_MAX_STRING && (s.len == 0 || s.ptr != NULL);
}

/* Returns s as a NUL-terminated string in the writer's scratch buffer. */
static const char *avro_event_writer_cstr(avro_event_writer *w, event_str s)
{
	if (s.len > 0)
		memcpy(w->scratch, s.ptr, s.len);
	w->scratch[s.len] = '\0';
	return w->scratch;
}

static int avro_event_writer_set_string(avro_event_writer *w, avro_value_t *v, event_str s)
{
	/* avro-c copies size bytes, and size counts the NUL terminator. */
	return avro_value_set_string_len(v, avro_event_writer_cstr(w, s), s.len + 1);
}

static int avro_event_writer_set_field(avro_event_writer *w, int index, event_str s)
{
	avro_value_t field;

	if (avro_value_get_by_index(&w->value, (size_t)index, &field, NULL))
		return -1;
	return avro_event_writer_set_string(w, &field, s);
}

/* Sets a ["null", "string"] field: null when s is absent. */
static int avro_event_writer_set_optional(avro_event_writer *w, int index, event_str s)
{
	avro_value_t field;
	avro_value_t branch;

	if (avro_value_get_by_index(&w->value, (size_t)index, &field, NULL))
		return -1;
	if (s.len == 0)
		return avro_value_set_branch(&field, 0, &branch) || avro_value_set_null(&branch);
	if (avro_value_set_branch(&field, 1, &branch))
		return -1;
	return avro_event_writer_set_string(w, &branch, s);
}

static int avro_event_writer_set_targets(avro_event_writer *w, const event *ev)
{
	avro_value_t array;
	avro_value_t item;

	if (avro_value_get_by_index(&w->value, FIELD_TARGET_IDS, &array, NULL))
		return -1;
	for (size_t i = 0; i < ev->target_count; i++) {
		if (ev->target_ids[i].len == 0)
			continue;
		if (avro_value_append(&array, &item, NULL) ||
		    avro_event_writer_set_string(w, &item, ev->target_ids[i]))
			return -1;
	}
	return 0;
}

static int avro_event_writer_set_attrs(avro_event_writer *w, const event *ev)
{
	avro_value_t map;
	avro_value_t item;

	if (avro_value_get_by_index(&w->value, FIELD_ATTRIBUTES, &map, NULL))
		return -1;
	for (size_t i = 0; i < ev->attr_count; i++) {
		const event_attr *a = &ev->attrs[i];
		if (a->key.len == 0)
			continue;

		/* avro_value_add copies the key before the scratch buffer is reused. */
		if (avro_value_add(&map, avro_event_writer_cstr(w, a->key), &item, NULL, NULL) ||
		    avro_event_writer_set_string(w, &item, a->value))
			return -1;
	}
	return 0;
}

/* Returns true when ev satisfies every check decode_avro_message applies. */
static bool avro_event_writer_valid(const event *ev)
{
	if (ev->event_id.len == 0 || ev->kind.len == 0 || ev->event_time_ms <= 0)
		return false;
	if (ev->target_count > EVENT_MAX_TARGETS || ev->attr_count > EVENT_MAX_ATTRS)
		return false;
	if (!avro_event_writer_str_ok(ev->event_id) || !avro_event_writer_str_ok(ev->source) ||
	    !avro_event_writer_str_ok(ev->kind) || !avro_event_writer_str_ok(ev->actor_id) ||
	    !avro_event_writer_str_ok(ev->content_id) || !avro_event_writer_str_ok(ev->channel_id))
		return false;
	for (size_t i = 0; i < ev->target_count; i++)
		if (!avro_event_writer_str_ok(ev->target_ids[i]))
			return false;
	for (size_t i = 0; i < ev->attr_count; i++)
		if (!avro_event_writer_str_ok(ev->attrs[i].key) ||
		    !avro_event_writer_str_ok(ev->attrs[i].value) ||
		    (ev->attrs[i].key.len > 0 &&
		     memchr(ev->attrs[i].key.ptr, '\0', ev->attrs[i].key.len) != NULL))
			return false;
	return true;
}

static int avro_event_writer_fill(avro_event_writer *w, const event *ev)
{
	avro_value_t field;

	if (avro_value_reset(&w->value))
		return -1;
	if (avro_event_writer_set_field(w, FIELD_EVENT_ID, ev->event_id) ||
	    avro_value_get_by_index(&w->value, FIELD_EVENT_TIME, &field, NULL) ||
	    avro_value_set_long(&field, ev->event_time_ms) ||
	    avro_event_writer_set_field(w, FIELD_SOURCE, ev->source) ||
	    avro_event_writer_set_field(w, FIELD_KIND, ev->kind))
		return -1;
	if (avro_event_writer_set_optional(w, FIELD_ACTOR_ID, ev->actor_id) ||
	    avro_event_writer_set_optional(w, FIELD_CONTENT_ID, ev->content_id) ||
	    avro_event_writer_set_optional(w, FIELD_CHANNEL_ID, ev->channel_id))
		return -1;
	return avro_event_writer_set_targets(w, ev) || avro_event_writer_set_attrs(w, ev) ? -1 : 0;
}

long avro_event_writer_encode(avro_event_writer *w, const event *ev, int32_t schema_id, void *out,
			      size_t out_size)
{
	unsigned char *dst = out;
	size_t header = schema_id >= 0 ? DECODE_AVRO_FRAME_HEADER : 0;

	if (!avro_event_writer_valid(ev) || out_size <= header || avro_event_writer_fill(w, ev))
		return -1;

	if (header > 0) {
		dst[0] = 0;
		dst[1] = (unsigned char)((uint32_t)schema_id >> 24);
		dst[2] = (unsigned char)((uint32_t)schema_id >> 16);
		dst[3] = (unsigned char)((uint32_t)schema_id >> 8);
		dst[4] = (unsigned char)schema_id;
	}

	/* avro_value_write fails with ENOSPC when the datum does not fit. */
	avro_writer_memory_set_dest(w->writer, (const char *)dst + header,
				    (int64_t)(out_size - header));
	if (avro_value_write(w->writer, &w->value))
		return -1;
	return (long)header + (long)avro_writer_tell(w->writer);
}
