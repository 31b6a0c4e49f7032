/*
 * report.h - `advocacyd report`: prints the scorecard the daemon keeps in
 * Redis (scorecard_publish.h) for one scope, as a table or as JSON.
 *
 * Reads one key with hiredis's synchronous API, because a command-line tool
 * needs no event loop. It needs no running daemon and no Kafka, only the
 * Redis settings of the daemon's config.
 */
#ifndef ADVOCACY_REPORT_H
#define ADVOCACY_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* Exit codes of `advocacyd report`. */
enum {
	REPORT_OK = 0,
	REPORT_FAILED = 1,  /* Redis or the stored document failed, or writing the report did */
	REPORT_INVALID = 2, /* invalid arguments or config */
	REPORT_NO_SCORECARD = 3,  /* the key does not exist yet */
	REPORT_UNKNOWN_SCOPE = 4, /* the scorecard has no such scope */
};

typedef enum report_format {
	REPORT_FORMAT_TABLE,
	REPORT_FORMAT_JSON,
} report_format;

typedef struct report_request {
	const char *scope; /* e.g. "org", "team:Payments" */
	report_format format;
	int64_t now_ms; /* for the age shown */
} report_request;

/*
 * Reads the scorecard from cfg's Redis and prints req->scope to out.
 * Warnings (an old scorecard, another config version) go to warn.
 * Returns REPORT_OK, or another code of the enum above with errstr stating
 * what failed and what to do.
 */
int report_run(const config *cfg, const report_request *req, FILE *out, FILE *warn, char *errstr,
	       size_t errstr_size);

#endif
