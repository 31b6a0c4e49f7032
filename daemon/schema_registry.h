/*
 * schema_registry.h - the schema sources of schema_registry.* in the config:
 * a folder of <id>.avsc files and a Confluent Schema Registry over HTTP.
 *
 * Input: schema_registry_lookup() is the schema_lookup_fn the Avro decoder
 * calls on the first message with a schema id (schema_cache.h). It reads
 * the folder first, then asks the registry GET /schemas/ids/<id>.
 *
 * Output: schema_registry_register_outputs() registers the Avro schemas of
 * the KPI update, escalation and dead-letter outputs under the topic-name
 * strategy (POST /subjects/<topic>-value/versions) and keeps the ids the
 * registry returns; schema_registry_apply_ids() writes them into a config's
 * outputs, so the encoder frames its records with them. Registering a
 * schema the registry already has returns its existing id.
 *
 * Every request is synchronous: it runs a private libevent loop until the
 * answer or schema_registry.timeout, so it blocks the daemon's loop for at
 * most that long. That happens at start (registration) and once per new
 * schema id of the input (and again after schema_registry.unknown_id_retry
 * for an id the registry does not know). The host name is resolved with
 * the system resolver, which the timeout does not bound; give an address or
 * a name in /etc/hosts where that matters.
 *
 * Not supported: HTTPS and authentication (put a local proxy in front),
 * schema references, subject strategies other than topic name.
 * Thread: the loop thread only.
 */
#ifndef ADVOCACY_SCHEMA_REGISTRY_H
#define ADVOCACY_SCHEMA_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "schema_cache.h"

typedef struct schema_registry schema_registry;

/*
 * Returns NULL with errstr empty when the config names neither a folder nor
 * a URL (nothing to do), NULL with errstr filled on failure.
 */
schema_registry *schema_registry_new(const config *cfg, char *errstr, size_t errstr_size);
void schema_registry_free(schema_registry *r);

/* A schema_lookup_fn; opaque is the schema_registry. */
schema_lookup_status schema_registry_lookup(void *opaque, int32_t id, char **json,
                                            char *detail, size_t detail_size);

/*
 * With a URL: registers the schema of every output whose records are Avro
 * (the KPI and DLQ topics in format avro, the escalation topic in format
 * avro with binary CloudEvents) and keeps the ids. Returns 0 (also without
 * a URL), or -1 with errstr naming the subject and what went wrong.
 */
int schema_registry_register_outputs(schema_registry *r, const config *cfg, char *errstr,
                                     size_t errstr_size);

/* Writes the registered ids into cfg's outputs; without any, leaves them. */
void schema_registry_apply_ids(const schema_registry *r, config *cfg);

/* Requests made and failed, for the log. */
uint64_t schema_registry_requests(const schema_registry *r);
uint64_t schema_registry_failures(const schema_registry *r);

#endif
