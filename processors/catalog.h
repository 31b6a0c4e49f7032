/*
 * catalog.h - the KPI catalog for the governance trail: a summary of each
 * KPI and threshold rule, and the record of what changed between two
 * summaries.
 *
 * A summary is a JSON object with one entry per KPI ("k:<id>") and per
 * threshold rule ("r:<id>"). Each entry contains a digest of the whole
 * definition, a short digest per field (so a later diff can name the
 * fields that changed without keeping the definitions), the status
 * (a rule has its KPI's status), and the owner and rationale as written in
 * the config (null when not given). The daemon keeps the applied summary in
 * Redis, one hash field per entry, so that a diff is taken against what was
 * last applied by any instance, not against this process's memory.
 *
 * catalog_record() builds the "config_applied" governance record: for KPIs
 * and for rules, the lists added, changed (with the changed field names),
 * retired (status turned retired) and removed, each item with id, owner and
 * rationale. Items are sorted by id so that records are reproducible.
 *
 * Pure functions on the caller's thread; they allocate with jansson and
 * return NULL when out of memory.
 */
#ifndef ADVOCACY_CATALOG_H
#define ADVOCACY_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../daemon/config.h"

/* Summary of cfg's KPIs and rules; the caller owns the object. */
json_t *catalog_summary(const config *cfg);

/*
 * Summary from stored hash fields: names starting with "k:" or "r:" whose
 * values parse as JSON objects; every other field is left out. Returns a
 * new object (empty when nothing matches) or NULL when out of memory.
 */
json_t *catalog_summary_parse(const char *const *names, const char *const *values, size_t n);

/*
 * The governance record of the change from old (version old_version, NULL
 * when nothing was applied before; old may then be NULL too) to next.
 * applied_at is RFC 3339 UTC text; instance names the daemon instance.
 */
json_t *catalog_record(const json_t *old, const char *old_version, const json_t *next,
                       const char *next_version, const char *applied_at, const char *instance);

/* Writes ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ". Returns buf. */
const char *catalog_format_time(int64_t ms, char *buf, size_t size);

#endif
