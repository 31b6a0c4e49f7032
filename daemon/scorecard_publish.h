/*
 * scorecard_publish.h - keeps the latest scorecard in Redis for `advocacyd report`.
 *
 * Key, in the hash slot of the prefix like every other key:
 *
 *   {P}:scorecard   string: the scorecard document of scorecard_doc.h as
 *                   compact JSON, replaced by one SET per tick, expiring
 *                   windows.retention after the last write
 *
 * Only the instance that holds the alert lease writes it, and only once it
 * has caught up with the start-up backlog, because figures computed before
 * that are partial. One writer per tick keeps the key from flipping between
 * instances whose ticks read Redis a few moments apart, and makes the
 * stored scorecard the one whose figures decided the escalations. While no
 * instance holds the lease (Redis down, a takeover under way) the key keeps
 * its last document, and the report shows how old it is.
 *
 * NOTE: an instance that lost the lease without noticing yet may write one
 * more document. Its figures come from the same Redis, so the two differ
 * only by the events counted between their reads.
 *
 * Runs on the event loop thread.
 */
#ifndef ADVOCACY_SCORECARD_PUBLISH_H
#define ADVOCACY_SCORECARD_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "redis_store.h"
#include "scorecard.h"

/*
 * Writes the key name "{<prefix>}:scorecard" of cfg into buf. Returns its
 * length, which is size or more when buf is too small.
 */
size_t scorecard_publish_key(const config *cfg, char *buf, size_t size);

/*
 * Sends the scorecard of the tick computed at now_ms as one SET. A failed
 * write is logged when Redis replies, and the next tick writes again.
 * Returns 0, or -1 when the document cannot be built, the key does not fit
 * or Redis is not connected.
 */
int scorecard_publish(redis_store *store, const config *cfg, const scorecard *sc, int64_t now_ms);

#endif
