/*
 * app.h - the running daemon: wires the processors to Kafka and Redis on one
 * libevent loop.
 *
 * The batch cycle: poll what the consumer holds (up to
 * kafka.batch_max_messages), run every message through the pipeline into one
 * in-memory batch, dead-letter what is invalid, write the batch and its
 * offsets to Redis in one atomic call, and only after Redis acknowledged it
 * commit the offsets to Kafka and poll again. While a batch is in flight or
 * Redis is away nothing more is polled, so memory stays bounded by one batch
 * plus librdkafka's own queue limits.
 *
 * The tick: every outputs.tick_interval, read the windows from Redis,
 * compute every KPI per eligible scope, produce KPI updates, feed them to
 * the alert engine and produce its escalations.
 *
 * Reload: SIGHUP, or app_request_reload() from the admin server, reads the
 * config file again; see app.c for when and how it is swapped in.
 */
#ifndef ADVOCACY_APP_H
#define ADVOCACY_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Process exit codes (README "Exit codes"). */
enum {
	APP_EXIT_OK = 0,          /* stopped cleanly: batch written, offsets committed, flushed */
	APP_EXIT_FAILURE = 1,     /* cannot start, or a fatal runtime error */
	APP_EXIT_USAGE = 2,       /* invalid command line or configuration */
	APP_EXIT_DRAIN = 3,       /* stopped before the drain finished (timeout, second signal) */
};

#define APP_RELOAD_RESULT_MAX 1024

typedef struct app app;

/*
 * Runs until SIGTERM or SIGINT and returns the process exit code. Takes
 * ownership of cfg (a reload replaces it; the app frees every config).
 */
int app_run(config *cfg);

/*
 * Reads the config file again, as SIGHUP does. Checks it at once: a syntax
 * or validation error, an unreadable key file or a changed restart-only
 * key fails the reload, which is logged and counted, and the daemon keeps
 * its config. A valid file is swapped in now, or once the batch or tick
 * in flight is done. Writes one line for the caller into result ("applied:
 * ...", "validated: ...", "unchanged: ..." or the error naming file and
 * key). Returns 0, or -1 when the reload failed. Loop thread only.
 */
int app_request_reload(app *a, char *result, size_t result_size);

typedef struct app_reload_stats {
	uint64_t reloads;          /* configurations swapped in since start */
	uint64_t failures;         /* reloads refused or failed */
	const char *config_version; /* of the running config; valid until the next reload */
	int64_t applied_at_ms;     /* of the last reload, 0 when none */
	bool pending;              /* a validated config waits for a safe point */
} app_reload_stats;

void app_get_reload_stats(const app *a, app_reload_stats *out);

#endif
