/*
 * schema_cache.h - how each Confluent schema id of Avro input is read.
 *
 * A Confluent-framed message names its writer schema by id. On the first
 * message with an id, the cache asks a lookup function (a schema folder, a
 * schema registry, see daemon/schema_registry.h) for the schema text and
 * decides once how the id is read:
 *   - the canonical AdvocacyEvent schema: the fast scan of decode_avro.c;
 *   - another AdvocacyEvent schema: an avro_resolve (avro_resolve.h);
 *   - rejected, with the reason its messages are dead-lettered with:
 *     unknown_schema_id (found nowhere; asked again after retry_ms),
 *     invalid_writer_schema (not Avro, or text avro-c cannot parse),
 *     incompatible_schema (cannot be resolved; kept for good: a registry
 *     id never changes its schema).
 * A lookup that fails (timeout, refused connection, bad reply) rejects the
 * message as schema_registry_unavailable without remembering the id, and
 * no lookup is made for retry_ms after it, so an unreachable registry costs
 * one timeout per retry_ms, not one per message.
 *
 * Limits: at most SCHEMA_CACHE_MAX_IDS ids are remembered. When that many
 * are, the ids found nowhere are forgotten; when all are known schemas,
 * further new ids are rejected as too_many_schema_ids.
 * Thread: one thread at a time; lookups run on the caller's thread.
 */
#ifndef ADVOCACY_SCHEMA_CACHE_H
#define ADVOCACY_SCHEMA_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "avro_resolve.h"

#define SCHEMA_CACHE_MAX_IDS 1024

typedef enum schema_lookup_status {
	SCHEMA_LOOKUP_FOUND,     /* *json holds the schema text; the caller frees it */
	SCHEMA_LOOKUP_NOT_FOUND, /* no source knows the id */
	SCHEMA_LOOKUP_UNUSABLE,  /* known, but not an Avro schema */
	SCHEMA_LOOKUP_FAILED,    /* the source could not be asked or answered wrongly */
} schema_lookup_status;

/*
 * Looks the schema text of id up. Fills detail with a sentence that names
 * no input content unless the result is SCHEMA_LOOKUP_FOUND.
 */
typedef schema_lookup_status (*schema_lookup_fn)(void *opaque, int32_t id, char **json,
                                                 char *detail, size_t detail_size);

typedef enum schema_use {
	SCHEMA_USE_CANONICAL,    /* the fast scan reads it */
	SCHEMA_USE_RESOLVED,     /* entry->resolve reads it */
	SCHEMA_USE_REJECTED,     /* its messages are dead-lettered with entry->reason */
} schema_use;

typedef struct schema_entry {
	int32_t id;
	schema_use use;
	avro_resolve *resolve;   /* SCHEMA_USE_RESOLVED, owned by the cache */
	const char *reason;      /* SCHEMA_USE_REJECTED */
	char detail[160];
	int64_t retry_at_ms;     /* rejected: looked up again from then on; 0: never */
} schema_entry;

typedef struct schema_cache schema_cache;

/* Returns NULL when out of memory. retry_ms: see above. fn is called with opaque. */
schema_cache *schema_cache_new(schema_lookup_fn fn, void *opaque, int64_t retry_ms);
void schema_cache_free(schema_cache *c);

/*
 * Returns how messages with schema id are read, looking it up on first
 * sight (which may block for the lookup's own timeout). The entry stays
 * valid until the next call. Never NULL.
 */
const schema_entry *schema_cache_get(schema_cache *c, int32_t id);

/* Lookups made so far (for tests and metrics). */
uint64_t schema_cache_lookups(const schema_cache *c);

/*
 * A lookup function over a folder: the schema of id is the file
 * "<dir>/<id>.avsc" (at most 1 MiB). dir is a const char *. A missing file is
 * SCHEMA_LOOKUP_NOT_FOUND, an unreadable one SCHEMA_LOOKUP_FAILED.
 */
schema_lookup_status schema_dir_lookup(void *dir, int32_t id, char **json, char *detail,
                                       size_t detail_size);

#endif
