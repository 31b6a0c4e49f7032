/*
 * schema_cache.c - schema id to decoding decision, looked up once (see
 * schema_cache.h).
 *
 * The table is open-addressed over 2 x SCHEMA_CACHE_MAX_IDS slots, probed
 * linearly from a hash of the id. Entries are never removed one by one:
 * schema_cache_make_room() drops all ids found nowhere at once and rebuilds
 * the table. The entry of the previous message is kept aside, so a stream of one
 * schema id costs one comparison per message.
 */
#include "schema_cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schemas.h"

#define SCHEMA_CACHE_SLOTS (2 * SCHEMA_CACHE_MAX_IDS)
#define SCHEMA_DIR_MAX_BYTES (1 << 20)

typedef struct schema_slot {
	bool used;
	schema_entry entry;
} schema_slot;

struct schema_cache {
	schema_lookup_fn lookup;
	void *opaque;
	int64_t retry_ms;
	int64_t paused_until_ms;    /* no lookup before then: the last one failed */
	avro_schema_t canonical;
	schema_slot *slots;
	size_t n_used;
	schema_entry *last;         /* entry of the previous call, or NULL */
	schema_entry scratch;       /* results that are not remembered */
	uint64_t lookups;
};

static int64_t schema_cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

schema_cache *schema_cache_new(schema_lookup_fn fn, void *opaque, int64_t retry_ms)
{
	schema_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->lookup = fn;
	c->opaque = opaque;
	c->retry_ms = retry_ms;
	c->slots = calloc(SCHEMA_CACHE_SLOTS, sizeof(*c->slots));
	if (c->slots == NULL ||
	    avro_schema_from_json_length(schema_advocacy_event, strlen(schema_advocacy_event),
					 &c->canonical) != 0) {
		schema_cache_free(c);
		return NULL;
	}
	return c;
}

/* Frees what an entry owns. */
static void schema_entry_clear(schema_entry *e)
{
	avro_resolve_free(e->resolve);
	e->resolve = NULL;
}

void schema_cache_free(schema_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->slots != NULL && i < SCHEMA_CACHE_SLOTS; i++)
		if (c->slots[i].used)
			schema_entry_clear(&c->slots[i].entry);
	free(c->slots);
	if (c->canonical != NULL)
		avro_schema_decref(c->canonical);
	free(c);
}

uint64_t schema_cache_lookups(const schema_cache *c)
{
	return c->lookups;
}

/* ----------------------------------------------------------------------------
 * Table
 * ------------------------------------------------------------------------- */

static size_t schema_cache_home(int32_t id)
{
	return ((uint32_t)id * 2654435761u) % SCHEMA_CACHE_SLOTS;
}

/* Returns the slot of id, or the free slot where it belongs. */
static schema_slot *schema_cache_probe(schema_cache *c, int32_t id)
{
	size_t i = schema_cache_home(id);

	while (c->slots[i].used && c->slots[i].entry.id != id)
		i = (i + 1) % SCHEMA_CACHE_SLOTS;
	return &c->slots[i];
}

/* Forgets every id found nowhere, so that new ids have room. */
static void schema_cache_make_room(schema_cache *c)
{
	schema_slot *old = c->slots;
	schema_slot *fresh = calloc(SCHEMA_CACHE_SLOTS, sizeof(*fresh));

	if (fresh == NULL)
		return;
	c->slots = fresh;
	c->n_used = 0;
	c->last = NULL;
	for (size_t i = 0; i < SCHEMA_CACHE_SLOTS; i++) {
		if (!old[i].used || old[i].entry.retry_at_ms > 0)
			continue;
		*schema_cache_probe(c, old[i].entry.id) = old[i];
		c->n_used++;
	}
	free(old);
}

/* ----------------------------------------------------------------------------
 * Deciding how an id is read
 * ------------------------------------------------------------------------- */

static void schema_entry_reject(schema_entry *e, const char *reason, int64_t retry_at_ms)
{
	e->use = SCHEMA_USE_REJECTED;
	e->reason = reason;
	e->retry_at_ms = retry_at_ms;
}

/* Decides from the schema text: canonical, resolved or rejected. */
static void schema_cache_decide(schema_cache *c, schema_entry *e, const char *json,
				int64_t now_ms)
{
	avro_schema_t writer = NULL;
	decode_result failure = {0};

	if (avro_schema_from_json_length(json, strlen(json), &writer) != 0) {
		snprintf(e->detail, sizeof(e->detail),
			 "the schema of id %" PRId32 " is not a valid Avro schema", e->id);
		schema_entry_reject(e, "invalid_writer_schema", now_ms + c->retry_ms);
		return;
	}
	if (avro_schema_equal(writer, c->canonical)) {
		e->use = SCHEMA_USE_CANONICAL;
	} else if ((e->resolve = avro_resolve_new(writer, &failure)) != NULL) {
		e->use = SCHEMA_USE_RESOLVED;
	} else {
		snprintf(e->detail, sizeof(e->detail), "schema id %" PRId32 ": %.*s", e->id,
			 (int)sizeof(e->detail) - 24, failure.detail);
		/* Out of memory may pass; an incompatible schema stays so. */
		schema_entry_reject(e, failure.reason,
				    strcmp(failure.reason, "incompatible_schema") == 0
					    ? 0
					    : now_ms + c->retry_ms);
	}
	avro_schema_decref(writer);
}

/* Looks id up and fills e; returns false when the lookup failed. */
static bool schema_cache_fill(schema_cache *c, schema_entry *e, int32_t id, int64_t now_ms)
{
	char *json = NULL;

	schema_entry_clear(e);
	*e = (schema_entry){.id = id};
	c->lookups++;
	switch (c->lookup(c->opaque, id, &json, e->detail, sizeof(e->detail))) {
	case SCHEMA_LOOKUP_FOUND:
		schema_cache_decide(c, e, json, now_ms);
		free(json);
		return true;
	case SCHEMA_LOOKUP_NOT_FOUND:
		schema_entry_reject(e, "unknown_schema_id", now_ms + c->retry_ms);
		return true;
	case SCHEMA_LOOKUP_UNUSABLE:
		schema_entry_reject(e, "invalid_writer_schema", now_ms + c->retry_ms);
		return true;
	case SCHEMA_LOOKUP_FAILED:
		break;
	}
	free(json);
	schema_entry_reject(e, "schema_registry_unavailable", 0);
	c->paused_until_ms = now_ms + c->retry_ms;
	return false;
}

/* Returns a result that is not remembered: a failed lookup, a negative id, a full table. */
static const schema_entry *schema_cache_transient(schema_cache *c, int32_t id,
						  const char *reason, const char *detail)
{
	schema_entry_clear(&c->scratch);
	c->scratch = (schema_entry){.id = id};
	schema_entry_reject(&c->scratch, reason, 0);
	snprintf(c->scratch.detail, sizeof(c->scratch.detail), "%s", detail);
	return &c->scratch;
}

/* First sight of id, or its retry is due: looks it up into slot. */
static const schema_entry *schema_cache_resolve(schema_cache *c, schema_slot *slot, int32_t id,
						int64_t now_ms)
{
	if (now_ms < c->paused_until_ms)
		return schema_cache_transient(c, id, "schema_registry_unavailable",
					      "the schema registry failed recently and is not "
					      "asked again yet");
	if (!slot->used && c->n_used >= SCHEMA_CACHE_MAX_IDS) {
		schema_cache_make_room(c);
		slot = schema_cache_probe(c, id);
		if (c->n_used >= SCHEMA_CACHE_MAX_IDS)
			return schema_cache_transient(c, id, "too_many_schema_ids",
						      "more distinct schema ids than the cache "
						      "holds are known schemas");
	}
	if (!slot->used) {
		slot->entry = (schema_entry){.id = id};
		if (!schema_cache_fill(c, &slot->entry, id, now_ms))
			return schema_cache_transient(c, id, slot->entry.reason,
						      slot->entry.detail);
		slot->used = true;
		c->n_used++;
		return &slot->entry;
	}
	if (!schema_cache_fill(c, &slot->entry, id, now_ms)) {
		/* Keep the id as unknown until the pause ends. */
		schema_entry_reject(&slot->entry, "schema_registry_unavailable",
				    c->paused_until_ms);
	}
	return &slot->entry;
}

const schema_entry *schema_cache_get(schema_cache *c, int32_t id)
{
	schema_slot *slot;
	int64_t now_ms;

	if (c->last != NULL && c->last->id == id && c->last->retry_at_ms == 0)
		return c->last;
	if (id < 0)
		return schema_cache_transient(c, id, "unknown_schema_id",
					      "the frame names a negative schema id");

	slot = schema_cache_probe(c, id);
	if (slot->used && slot->entry.retry_at_ms == 0) {
		c->last = &slot->entry;
		return c->last;
	}
	now_ms = schema_cache_now_ms();
	if (slot->used && now_ms < slot->entry.retry_at_ms)
		return &slot->entry;
	const schema_entry *e = schema_cache_resolve(c, slot, id, now_ms);
	c->last = e == &c->scratch ? NULL : (schema_entry *)e;
	return e;
}

/* ----------------------------------------------------------------------------
 * Lookup in a folder of <id>.avsc files
 * ------------------------------------------------------------------------- */

/* Reads f to its end, at most SCHEMA_DIR_MAX_BYTES; NULL when larger or on error. */
static char *schema_dir_read(FILE *f)
{
	char *buf = malloc(SCHEMA_DIR_MAX_BYTES + 1);
	size_t n;

	if (buf == NULL)
		return NULL;
	n = fread(buf, 1, SCHEMA_DIR_MAX_BYTES + 1, f);
	if (ferror(f) || n > SCHEMA_DIR_MAX_BYTES) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

schema_lookup_status schema_dir_lookup(void *dir, int32_t id, char **json, char *detail,
				       size_t detail_size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%" PRId32 ".avsc", (const char *)dir, id);
	f = fopen(path, "rb");
	if (f == NULL && errno == ENOENT) {
		snprintf(detail, detail_size, "no schema with id %" PRId32 " in the schema folder",
			 id);
		return SCHEMA_LOOKUP_NOT_FOUND;
	}
	if (f == NULL) {
		snprintf(detail, detail_size, "cannot open the schema file of id %" PRId32 ": %s",
			 id, strerror(errno));
		return SCHEMA_LOOKUP_FAILED;
	}
	*json = schema_dir_read(f);
	fclose(f);
	if (*json == NULL) {
		snprintf(detail, detail_size,
			 "the schema file of id %" PRId32 " cannot be read or exceeds 1 MiB", id);
		return SCHEMA_LOOKUP_FAILED;
	}
	return SCHEMA_LOOKUP_FOUND;
}
