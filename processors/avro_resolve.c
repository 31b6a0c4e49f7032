/*
 * avro_resolve.c - writer/reader resolution of evolved AdvocacyEvent schemas.
 *
 * Building a resolution (once per writer schema):
 *   1. the reader is the compiled-in canonical schema: its field types come
 *      from avro-c, its defaults from the schema text (avro-c keeps none);
 *   2. each reader field is looked up by name in the writer record. A field
 *      the writer lacks takes the reader's default, and one without a
 *      default makes the writer incompatible;
 *   3. each writer field type is checked against the reader's: string from
 *      string or a union of null and string, long from int or long,
 *      optional string from string, null or such a union, arrays and maps
 *      of strings from the same.
 *
 * Decoding a datum: a bounds scan along the writer schema (lengths, counts,
 * union and enum indices, nesting depth, items per datum), then avro-c reads
 * it into the reused generic value, then the mapped fields are copied into
 * the event as borrowed strings, with the limits of the canonical decoder.
 *
 * Limits: nesting at most AVRO_RESOLVE_MAX_DEPTH levels and at most
 * AVRO_RESOLVE_MAX_ITEMS array and map entries per datum, in the fields
 * advocacyd ignores too; a datum beyond them is invalid_avro. Defaults other
 * than null, a string, a number, [] and {} make the writer incompatible: the
 * canonical schema has none of them. Aliases are not followed.
 */
#include "avro_resolve.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas.h"

#define AVRO_RESOLVE_MAX_DEPTH 32
#define AVRO_RESOLVE_MAX_ITEMS 65536
#define AVRO_RESOLVE_RECORD "AdvocacyEvent"

/* What the reader wants for one field. */
typedef enum resolve_want {
	RESOLVE_STRING,
	RESOLVE_LONG,
	RESOLVE_OPTIONAL,  /* ["null", "string"] */
	RESOLVE_ARRAY,     /* array of strings */
	RESOLVE_MAP,       /* map of strings */
} resolve_want;

/* The event member a reader field fills. */
typedef enum resolve_slot {
	SLOT_EVENT_ID,
	SLOT_EVENT_TIME,
	SLOT_SOURCE,
	SLOT_KIND,
	SLOT_ACTOR_ID,
	SLOT_TARGET_IDS,
	SLOT_CONTENT_ID,
	SLOT_CHANNEL_ID,
	SLOT_ATTRIBUTES,
	SLOT_COUNT
} resolve_slot;

static const struct {
	const char *name;
	resolve_want want;
	const char *too_long_reason;
} resolve_slots[SLOT_COUNT] = {
    [SLOT_EVENT_ID] = {"event_id", RESOLVE_STRING, "id_too_long"},
    [SLOT_EVENT_TIME] = {"event_time", RESOLVE_LONG, NULL},
    [SLOT_SOURCE] = {"source", RESOLVE_STRING, "field_too_long"},
    [SLOT_KIND] = {"kind", RESOLVE_STRING, "field_too_long"},
    [SLOT_ACTOR_ID] = {"actor_id", RESOLVE_OPTIONAL, "id_too_long"},
    [SLOT_TARGET_IDS] = {"target_ids", RESOLVE_ARRAY, "id_too_long"},
    [SLOT_CONTENT_ID] = {"content_id", RESOLVE_OPTIONAL, "id_too_long"},
    [SLOT_CHANNEL_ID] = {"channel_id", RESOLVE_OPTIONAL, "id_too_long"},
    [SLOT_ATTRIBUTES] = {"attributes", RESOLVE_MAP, "field_too_long"},
};

/* How one reader field is filled from a datum. */
typedef struct resolve_field {
	int writer_index;     /* field of the writer record; -1: the default */
	avro_type_t type;     /* the writer field's type */
	char *default_str;    /* a string default (owned), else NULL */
	int64_t default_long; /* a number default */
} resolve_field;

struct avro_resolve {
	avro_schema_t writer;       /* a reference of the caller's schema */
	avro_value_iface_t *iface;
	avro_value_t value;         /* reused for every datum */
	avro_reader_t reader;
	resolve_field fields[SLOT_COUNT];
};

/* Cursor and budget of the bounds scan over one datum. */
typedef struct resolve_scan {
	const unsigned char *pos;
	const unsigned char *end;
	int64_t items;              /* array and map entries left for the datum */
} resolve_scan;

/* ----------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------- */

static int resolve_fail(decode_result *res, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills res as DECODE_INVALID with reason and a detail sentence; returns -1. */
static int resolve_fail(decode_result *res, const char *reason, const char *fmt, ...)
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
 * Building: reader defaults and type checks
 * ------------------------------------------------------------------------- */

/* Follows named references (recursive types) to the schema they name. */
static avro_schema_t resolve_deref(avro_schema_t s)
{
	while (s != NULL && is_avro_link(s))
		s = avro_schema_link_target(s);
	return s;
}

/* True when every branch of union u is null or string, and one is a string. */
static bool resolve_union_of_string(avro_schema_t u, bool allow_null)
{
	bool has_string = false;

	for (size_t i = 0; i < avro_schema_union_size(u); i++) {
		avro_type_t t = avro_typeof(avro_schema_union_branch(u, (int)i));
		if (t == AVRO_STRING)
			has_string = true;
		else if (t != AVRO_NULL || !allow_null)
			return false;
	}
	return has_string;
}

/* True when a writer field of schema w can be read as what the reader wants. */
static bool resolve_type_ok(resolve_want want, avro_schema_t w)
{
	avro_type_t t = avro_typeof(w);

	switch (want) {
	case RESOLVE_STRING:
		return t == AVRO_STRING || (t == AVRO_UNION && resolve_union_of_string(w, true));
	case RESOLVE_LONG:
		return t == AVRO_INT32 || t == AVRO_INT64;
	case RESOLVE_OPTIONAL:
		return t == AVRO_STRING || t == AVRO_NULL ||
		       (t == AVRO_UNION && resolve_union_of_string(w, true));
	case RESOLVE_ARRAY:
		return t == AVRO_ARRAY &&
		       avro_typeof(resolve_deref(avro_schema_array_items(w))) == AVRO_STRING;
	case RESOLVE_MAP:
		return t == AVRO_MAP &&
		       avro_typeof(resolve_deref(avro_schema_map_values(w))) == AVRO_STRING;
	}
	return false;
}

/* Returns the reader field named name in the canonical schema's JSON, or NULL. */
static json_t *resolve_reader_field(json_t *reader, const char *name)
{
	json_t *fields = json_object_get(reader, "fields");
	size_t i;
	json_t *f;

	json_array_foreach(fields, i, f) {
		const char *n = json_string_value(json_object_get(f, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return f;
	}
	return NULL;
}

/* Takes the reader's default of slot s into f; -1 with failure when it has none. */
static int resolve_take_default(json_t *reader, int s, resolve_field *f, decode_result *failure)
{
	json_t *field = resolve_reader_field(reader, resolve_slots[s].name);
	json_t *def = field ? json_object_get(field, "default") : NULL;

	if (def == NULL)
		return resolve_fail(failure, "incompatible_schema",
				    "the writer schema has no field %s, which the reader needs "
				    "and has no default for",
				    resolve_slots[s].name);
	if (json_is_string(def)) {
		f->default_str = strdup(json_string_value(def));
		if (f->default_str == NULL)
			return resolve_fail(failure, "out_of_memory", "out of memory");
	} else if (json_is_integer(def)) {
		f->default_long = (int64_t)json_integer_value(def);
	} else if (!json_is_null(def) && !(json_is_array(def) && json_array_size(def) == 0) &&
		   !(json_is_object(def) && json_object_size(def) == 0)) {
		return resolve_fail(failure, "incompatible_schema",
				    "the reader's default of field %s is not supported",
				    resolve_slots[s].name);
	}
	return 0;
}

/* Finds the writer field of slot s and checks its type. */
static int resolve_plan_field(avro_resolve *r, json_t *reader, int s, decode_result *failure)
{
	resolve_field *f = &r->fields[s];
	int index = avro_schema_record_field_get_index(r->writer, resolve_slots[s].name);

	f->writer_index = index;
	if (index < 0)
		return resolve_take_default(reader, s, f, failure);

	avro_schema_t w = resolve_deref(avro_schema_record_field_get_by_index(r->writer, index));
	f->type = avro_typeof(w);
	if (!resolve_type_ok(resolve_slots[s].want, w))
		return resolve_fail(failure, "incompatible_schema",
				    "field %s has type %s in the writer schema, which the reader "
				    "cannot read",
				    resolve_slots[s].name, avro_schema_type_name(w));
	return 0;
}

/* Checks the writer record and plans every reader field. */
static int resolve_plan(avro_resolve *r, decode_result *failure)
{
	json_error_t jerr;
	json_t *reader = json_loads(schema_advocacy_event, 0, &jerr);
	const char *name = is_avro_record(r->writer) ? avro_schema_name(r->writer) : NULL;
	int rc = 0;

	if (reader == NULL)
		return resolve_fail(failure, "out_of_memory", "the canonical schema could not be read");
	if (name == NULL || strcmp(name, AVRO_RESOLVE_RECORD) != 0) {
		rc = resolve_fail(failure, "incompatible_schema",
				  "the writer schema is a %s, not the record " AVRO_RESOLVE_RECORD,
				  name ? name : avro_schema_type_name(r->writer));
	}
	for (int s = 0; s < SLOT_COUNT && rc == 0; s++)
		rc = resolve_plan_field(r, reader, s, failure);
	json_decref(reader);
	return rc;
}

avro_resolve *avro_resolve_new(avro_schema_t writer, decode_result *failure)
{
	avro_resolve *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		resolve_fail(failure, "out_of_memory", "out of memory");
		return NULL;
	}
	r->writer = avro_schema_incref(writer);
	if (resolve_plan(r, failure) < 0)
		goto fail;

	r->iface = avro_generic_class_from_schema(writer);
	if (r->iface == NULL || avro_generic_value_new(r->iface, &r->value) != 0) {
		avro_value_iface_decref(r->iface);
		r->iface = NULL;
		resolve_fail(failure, "out_of_memory", "cannot create the Avro value of the schema");
		goto fail;
	}
	r->reader = avro_reader_memory("", 0);
	if (r->reader == NULL) {
		resolve_fail(failure, "out_of_memory", "out of memory");
		goto fail;
	}
	return r;

fail:
	avro_resolve_free(r);
	return NULL;
}

void avro_resolve_free(avro_resolve *r)
{
	if (r == NULL)
		return;
	if (r->reader != NULL)
		avro_reader_free(r->reader);
	if (r->iface != NULL) {
		avro_value_decref(&r->value);
		avro_value_iface_decref(r->iface);
	}
	for (int s = 0; s < SLOT_COUNT; s++)
		free(r->fields[s].default_str);
	avro_schema_decref(r->writer);
	free(r);
}

/* ----------------------------------------------------------------------------
 * Bounds scan: any Avro datum along its writer schema, without allocating
 * ------------------------------------------------------------------------- */

static int resolve_scan_value(resolve_scan *c, avro_schema_t s, int depth, decode_result *res);

/* Reads one zigzag varint of at most 10 bytes. */
static int resolve_scan_long(resolve_scan *c, int64_t *out, decode_result *res)
{
	uint64_t raw = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (c->pos == c->end)
			return resolve_fail(res, "invalid_avro", "the datum ends inside a number");
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
	return resolve_fail(res, "invalid_avro", "the datum holds a varint longer than 64 bits");
}

/* Skips n bytes, which must be there. */
static int resolve_scan_skip(resolve_scan *c, int64_t n, decode_result *res)
{
	if (n < 0 || n > c->end - c->pos)
		return resolve_fail(res, "invalid_avro",
				    "a length in the datum is negative or longer than the rest");
	c->pos += n;
	return 0;
}

/* Reads an index in [0, n): a union branch or an enum symbol. */
static int resolve_scan_index(resolve_scan *c, int64_t n, int64_t *out, decode_result *res)
{
	if (resolve_scan_long(c, out, res))
		return -1;
	if (*out < 0 || *out >= n)
		return resolve_fail(res, "invalid_avro",
				    "a union or enum index in the datum is out of range");
	return 0;
}

/* Walks the blocks of an array (values) or a map (string keys, then values). */
static int resolve_scan_blocks(resolve_scan *c, avro_schema_t items, bool map, int depth,
			       decode_result *res)
{
	int64_t count, bytes;

	for (;;) {
		if (resolve_scan_long(c, &count, res))
			return -1;
		if (count == 0)
			return 0;
		if (count < 0) {
			if (count == INT64_MIN || resolve_scan_long(c, &bytes, res))
				return count == INT64_MIN
					   ? resolve_fail(res, "invalid_avro",
							  "the datum has an invalid block count")
					   : -1;
			count = -count;
		}
		if (count > c->items)
			return resolve_fail(res, "invalid_avro",
					    "the datum has more than %d array and map entries",
					    AVRO_RESOLVE_MAX_ITEMS);
		c->items -= count;
		for (int64_t i = 0; i < count; i++) {
			int64_t key_len;
			if (map && (resolve_scan_long(c, &key_len, res) ||
				    resolve_scan_skip(c, key_len, res)))
				return -1;
			if (resolve_scan_value(c, items, depth + 1, res))
				return -1;
		}
	}
}

/* Walks the fields of a record in order. */
static int resolve_scan_record(resolve_scan *c, avro_schema_t s, int depth, decode_result *res)
{
	for (size_t i = 0; i < avro_schema_record_size(s); i++)
		if (resolve_scan_value(c, avro_schema_record_field_get_by_index(s, (int)i),
				       depth + 1, res))
			return -1;
	return 0;
}

/* Walks one value of schema s. */
static int resolve_scan_value(resolve_scan *c, avro_schema_t s, int depth, decode_result *res)
{
	int64_t n;

	s = resolve_deref(s);
	if (depth > AVRO_RESOLVE_MAX_DEPTH)
		return resolve_fail(res, "invalid_avro", "the datum nests deeper than %d levels",
				    AVRO_RESOLVE_MAX_DEPTH);
	switch (avro_typeof(s)) {
	case AVRO_NULL:
		return 0;
	case AVRO_BOOLEAN:
		return resolve_scan_skip(c, 1, res);
	case AVRO_INT32:
	case AVRO_INT64:
		if (resolve_scan_long(c, &n, res))
			return -1;
		if (avro_typeof(s) == AVRO_INT32 && (n < INT32_MIN || n > INT32_MAX))
			return resolve_fail(res, "invalid_avro", "an int in the datum is too large");
		return 0;
	case AVRO_FLOAT:
		return resolve_scan_skip(c, 4, res);
	case AVRO_DOUBLE:
		return resolve_scan_skip(c, 8, res);
	case AVRO_STRING:
	case AVRO_BYTES:
		return resolve_scan_long(c, &n, res) || resolve_scan_skip(c, n, res) ? -1 : 0;
	case AVRO_FIXED:
		return resolve_scan_skip(c, avro_schema_fixed_size(s), res);
	case AVRO_ENUM:
		return resolve_scan_index(c, avro_schema_enum_number_of_symbols(s), &n, res);
	case AVRO_UNION:
		if (resolve_scan_index(c, (int64_t)avro_schema_union_size(s), &n, res))
			return -1;
		return resolve_scan_value(c, avro_schema_union_branch(s, (int)n), depth + 1, res);
	case AVRO_RECORD:
		return resolve_scan_record(c, s, depth, res);
	case AVRO_ARRAY:
		return resolve_scan_blocks(c, avro_schema_array_items(s), false, depth, res);
	case AVRO_MAP:
		return resolve_scan_blocks(c, avro_schema_map_values(s), true, depth, res);
	default:
		return resolve_fail(res, "invalid_avro", "the writer schema has an unknown type");
	}
}

/* ----------------------------------------------------------------------------
 * Mapping the generic value into the event
 * ------------------------------------------------------------------------- */

/* Takes a string value; too_long_reason when it exceeds the limit. */
static int resolve_get_string(avro_value_t *v, int s, event_str *out, decode_result *res)
{
	const char *p;
	size_t size;

	if (avro_value_get_string(v, &p, &size) != 0)
		return resolve_fail(res, "invalid_avro", "field %s could not be read",
				    resolve_slots[s].name);
	size = size > 0 ? size - 1 : 0; /* avro-c counts the NUL terminator */
	if (size > AVRO_RESOLVE_MAX_STRING)
		return resolve_fail(res, resolve_slots[s].too_long_reason,
				    "field %s is %zu bytes long, more than the limit of %d",
				    resolve_slots[s].name, size, AVRO_RESOLVE_MAX_STRING);
	*out = (event_str){p, size};
	return 0;
}

/* Takes a string, or nothing for null, from a string, null or union value. */
static int resolve_get_optional(avro_value_t *v, int s, event_str *out, decode_result *res)
{
	avro_value_t branch;

	*out = (event_str){NULL, 0};
	switch (avro_value_get_type(v)) {
	case AVRO_NULL:
		return 0;
	case AVRO_UNION:
		if (avro_value_get_current_branch(v, &branch) != 0)
			return resolve_fail(res, "invalid_avro", "field %s could not be read",
					    resolve_slots[s].name);
		return resolve_get_optional(&branch, s, out, res);
	default:
		return resolve_get_string(v, s, out, res);
	}
}

/* Takes an array of strings as targets, or a map of strings as attributes. */
static int resolve_get_entries(avro_value_t *v, int s, event *ev, decode_result *res)
{
	bool map = s == SLOT_ATTRIBUTES;
	size_t n = 0, limit = map ? EVENT_MAX_ATTRS : EVENT_MAX_TARGETS;
	avro_value_t item;
	const char *key = NULL;
	event_str value;

	avro_value_get_size(v, &n);
	if (n > limit)
		return resolve_fail(res, map ? "too_many_attributes" : "too_many_targets",
				    "field %s has more than %zu entries", resolve_slots[s].name,
				    limit);
	for (size_t i = 0; i < n; i++) {
		if (avro_value_get_by_index(v, i, &item, map ? &key : NULL) != 0)
			return resolve_fail(res, "invalid_avro", "field %s could not be read",
					    resolve_slots[s].name);
		if (resolve_get_string(&item, s, &value, res) != 0)
			return -1;
		if (map && strlen(key) > AVRO_RESOLVE_MAX_STRING)
			return resolve_fail(res, "field_too_long",
					    "a key of field attributes is longer than %d bytes",
					    AVRO_RESOLVE_MAX_STRING);
		/* Like the canonical decoder: empty ids and keys are left out. */
		if (map && key[0] != '\0')
			ev->attrs[ev->attr_count++] = (event_attr){{key, strlen(key)}, value};
		else if (!map && value.len > 0)
			ev->target_ids[ev->target_count++] = value;
	}
	return 0;
}

/* Event member of a string slot. */
static event_str *resolve_string_slot(event *ev, int s)
{
	switch (s) {
	case SLOT_EVENT_ID: return &ev->event_id;
	case SLOT_SOURCE: return &ev->source;
	case SLOT_KIND: return &ev->kind;
	case SLOT_ACTOR_ID: return &ev->actor_id;
	case SLOT_CONTENT_ID: return &ev->content_id;
	default: return &ev->channel_id;
	}
}

/* Fills slot s from the reader's default. */
static void resolve_fill_default(const resolve_field *f, int s, event *ev)
{
	if (s == SLOT_EVENT_TIME)
		ev->event_time_ms = f->default_long;
	else if (s != SLOT_TARGET_IDS && s != SLOT_ATTRIBUTES && f->default_str != NULL)
		*resolve_string_slot(ev, s) = (event_str){f->default_str, strlen(f->default_str)};
}

/* Fills slot s from writer field value v. */
static int resolve_fill_field(const resolve_field *f, int s, avro_value_t *v, event *ev,
			      decode_result *res)
{
	int32_t i32;

	switch (resolve_slots[s].want) {
	case RESOLVE_LONG:
		if (f->type == AVRO_INT32) {
			if (avro_value_get_int(v, &i32) != 0)
				return resolve_fail(res, "invalid_avro", "field event_time could "
						    "not be read");
			ev->event_time_ms = i32;
			return 0;
		}
		return avro_value_get_long(v, &ev->event_time_ms) == 0
			       ? 0
			       : resolve_fail(res, "invalid_avro",
					      "field event_time could not be read");
	case RESOLVE_STRING:
	case RESOLVE_OPTIONAL:
		return resolve_get_optional(v, s, resolve_string_slot(ev, s), res);
	case RESOLVE_ARRAY:
	case RESOLVE_MAP:
		return resolve_get_entries(v, s, ev, res);
	}
	return -1;
}

static int resolve_fill(avro_resolve *r, event *ev, decode_result *res)
{
	avro_value_t v;

	memset(ev, 0, sizeof(*ev));
	for (int s = 0; s < SLOT_COUNT; s++) {
		const resolve_field *f = &r->fields[s];
		if (f->writer_index < 0) {
			resolve_fill_default(f, s, ev);
			continue;
		}
		if (avro_value_get_by_index(&r->value, (size_t)f->writer_index, &v, NULL) != 0)
			return resolve_fail(res, "invalid_avro", "field %s could not be read",
					    resolve_slots[s].name);
		if (resolve_fill_field(f, s, &v, ev, res) != 0)
			return -1;
	}
	return 0;
}

decode_status avro_resolve_decode(avro_resolve *r, const void *datum, size_t len, event *ev,
				  decode_result *res)
{
	resolve_scan scan = {datum, (const unsigned char *)datum + len, AVRO_RESOLVE_MAX_ITEMS};

	res->reason = NULL;
	res->detail[0] = '\0';
	if (resolve_scan_value(&scan, r->writer, 0, res) != 0)
		return DECODE_INVALID;
	if (scan.pos != scan.end) {
		resolve_fail(res, "trailing_bytes", "the message has %td bytes after the datum",
			     scan.end - scan.pos);
		return DECODE_INVALID;
	}

	avro_reader_memory_set_source(r->reader, datum, (int64_t)len);
	if (avro_value_reset(&r->value) != 0 || avro_value_read(r->reader, &r->value) != 0) {
		resolve_fail(res, "invalid_avro", "the datum does not match its writer schema");
		return DECODE_INVALID;
	}
	if (resolve_fill(r, ev, res) != 0)
		return DECODE_INVALID;
	res->status = DECODE_OK;
	return DECODE_OK;
}
