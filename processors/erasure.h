/*
 * erasure.h - the pure parts of erasing one person on request: checking the
 * request and writing its governance record.
 *
 * `advocacyd forget` (daemon/forget.c) does the I/O: a tombstone for the
 * person's roster entry, the deletion of their per-person Redis keys, and
 * the governance record built here. The record is the audit trail of the
 * request: it names the request, the key id and what was removed, as
 * counts. It never carries the raw employee id, an alias or the pseudonym,
 * because the governance topic is read by people who must not be able to
 * link the request to a person.
 *
 * Single-threaded; no I/O.
 */
#ifndef ADVOCACY_ERASURE_H
#define ADVOCACY_ERASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ERASURE_REQUEST_ID_MAX 128
#define ERASURE_EMPLOYEE_ID_MAX 1024

/* What one erasure removed. */
typedef struct erasure_counts {
	int32_t roster_partitions;   /* partitions of the roster topic */
	int32_t roster_tombstones;   /* tombstones delivered, one per partition */
	uint64_t redis_person_keys;  /* per-person Redis keys deleted */
} erasure_counts;

/* The context a governance record states besides the counts. */
typedef struct erasure_record {
	const char *request_id;
	const char *key_id;          /* privacy.key_id of the config */
	const char *roster_topic;
	const char *redis_key_prefix;
	int64_t time_ms;             /* wall clock, epoch milliseconds */
	erasure_counts counts;
} erasure_record;

/*
 * Checks a request id: 1 to ERASURE_REQUEST_ID_MAX characters among
 * letters, digits, '_', '.', ':' and '-' (so no e-mail address or name with
 * spaces fits). Returns true when valid; otherwise writes why into errstr.
 */
bool erasure_request_id_valid(const char *id, char *errstr, size_t errstr_size);

/*
 * Checks a raw employee id: 1 to ERASURE_EMPLOYEE_ID_MAX bytes, no control
 * characters. Returns true when valid; otherwise writes why into errstr,
 * without quoting the id.
 */
bool erasure_employee_id_valid(const char *id, size_t len, char *errstr, size_t errstr_size);

/*
 * Writes a request id for requests that came without one, e.g.
 * "erasure-20260104T101500Z-4711": the UTC time and a number (the process
 * id) that distinguishes requests of the same second.
 */
void erasure_default_request_id(int64_t time_ms, long unique, char *out, size_t out_size);

/*
 * Returns the governance record as compact JSON, NUL-terminated, for the
 * caller to free(); NULL when out of memory or a field is missing:
 *   {"type":"erasure","time":"2026-01-04T10:15:00.000Z","request_id":"...",
 *    "key_id":"k1","roster_topic":"advocacy.roster","redis_key_prefix":"advocacy",
 *    "removed":{"roster_tombstones":3,"roster_partitions":3,"redis_person_keys":2},
 *    "producer":"advocacyd forget","version":"0.1.0"}
 */
char *erasure_governance_json(const erasure_record *r);

#endif
