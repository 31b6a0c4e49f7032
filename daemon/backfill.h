/*
 * backfill.h - `advocacyd backfill`: loads a Slack export into the input
 * topic as canonical events, so that history counts before going live.
 *
 * Walks the export folder: users.json, the channel listings and one folder
 * per channel with YYYY-MM-DD.json day files (slack_export.h has the
 * mapping). Every event is encoded as a bare canonical Avro datum, a
 * framing decode_avro.h reads, and produced keyed by its event id, so that
 * the events spread over the partitions. It waits for every delivery before
 * it returns.
 *
 * Event ids are stable, so running it again produces the same ids, and the
 * daemon counts each of them once as long as the first run is within
 * windows.dedup_horizon (see README "Backfill from a Slack export").
 *
 * Events outside --since/--until, older than windows.allowed_lateness or
 * further ahead than windows.max_future are not produced, because the
 * daemon would dead-letter the last two; each group is counted. A day
 * file that cannot be read or parsed is reported with its reason and
 * skipped, and the run goes on and fails at the end. Folders and files
 * are read in name order.
 *
 * Runs alone, outside the daemon's loop; the Kafka calls block.
 */
#ifndef ADVOCACY_BACKFILL_H
#define ADVOCACY_BACKFILL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* Exit codes of `advocacyd backfill`. */
enum {
	BACKFILL_OK = 0,
	BACKFILL_FAILED = 1,  /* a file, record or delivery failed: see the summary */
	BACKFILL_INVALID = 2, /* bad arguments, config, topic or export folder */
};

typedef struct backfill_request {
	const char *export_dir;
	const char *topic; /* NULL: the first input topic of format avro */
	bool dry_run;	   /* read and encode, produce nothing */
	int64_t since_ms;  /* first event time kept; INT64_MIN for no bound */
	int64_t until_ms;  /* first event time no longer kept; INT64_MAX for no bound */
} backfill_request;

/*
 * Parses a date YYYY-MM-DD into the milliseconds of its 00:00 UTC. Returns
 * 0, or -1 when s is not a valid date in that form.
 */
int backfill_parse_date(const char *s, int64_t *ms);

/*
 * Runs the backfill and prints its summary to out. Returns BACKFILL_OK,
 * BACKFILL_FAILED (summary printed, errors logged) or BACKFILL_INVALID
 * with errstr saying what to fix; nothing was produced then.
 */
int backfill_run(const config *cfg, const backfill_request *req, FILE *out, char *errstr,
		 size_t errstr_size);

#endif
