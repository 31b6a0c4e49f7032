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
 */
#ifndef ADVOCACY_APP_H
#define ADVOCACY_APP_H

#include "config.h"

/* Runs until SIGTERM or SIGINT; returns the process exit code. */
int app_run(const config *cfg);

#endif
