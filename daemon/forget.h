/*
 * forget.h - `advocacyd forget`: erases one person on a data-subject request.
 *
 * Steps, in this order, each one finished before the next starts:
 *   1. a tombstone (the raw employee id as key, null value) to every
 *      partition of kafka.roster_topic. advocacyd cannot know which
 *      partitioner the roster's producer used, so every partition gets one:
 *      the one holding the person's record then lets compaction delete it,
 *      and running daemons drop the person from their roster at once;
 *   2. every Redis key in the per-person space {P}:p:<pseudonym>:*
 *      (see redis_store.h), found with SCAN MATCH and deleted with UNLINK;
 *   3. a governance record (erasure.h) to outputs.governance.topic.
 * Tombstones go first so that no running daemon attributes new events to
 * the person while their keys are deleted. Every step is safe to repeat,
 * so a failed run is fixed by running the same command again.
 *
 * Aggregates (counts per scope, HyperLogLogs of contributors) and event id
 * sets hold nothing that identifies one person and are left alone.
 *
 * Runs its own short-lived libevent loop for Redis; the Kafka steps block.
 */
#ifndef ADVOCACY_FORGET_H
#define ADVOCACY_FORGET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "erasure.h"

/* Exit codes of `advocacyd forget`. */
enum {
	FORGET_OK = 0,
	FORGET_FAILED = 1,       /* Kafka or Redis failed: run the command again */
	FORGET_INVALID = 2,      /* bad arguments, config or key file */
};

typedef struct forget_request {
	const char *employee_id;   /* raw id, exactly as the roster topic keys it */
	size_t employee_id_len;
	const char *request_id;    /* checked with erasure_request_id_valid() */
} forget_request;

/*
 * Runs the erasure. Returns FORGET_OK with *counts filled, or FORGET_FAILED
 * or FORGET_INVALID with errstr saying what failed, what was already done
 * and what to do. Neither errstr nor any log line carries the employee id
 * or its pseudonym.
 */
int forget_run(const config *cfg, const forget_request *req, erasure_counts *counts,
               char *errstr, size_t errstr_size);

#endif
