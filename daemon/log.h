/*
 * log.h - one structured logger for the daemon and its tools.
 *
 * Lines are logfmt on stderr:
 *   ts=2026-12-04T20:40:00.123Z level=warn component=source msg="..." topic=t partition=3
 * The caller passes the message and a printf format of further key=value
 * fields. Values that may contain spaces must be quoted by the caller
 * ("%s" inside the format). Control characters in the fields are escaped
 * (\n, \t, \xNN), so a value taken from input cannot start a new line.
 *
 * Warnings and errors are rate-limited: the same (level, component, message)
 * is written at most once per interval (default 10 s). The next line after
 * the interval carries suppressed=N with the number of lines held back. Info
 * and debug lines are not rate-limited, because none is written per event.
 *
 * Thread-safe (one mutex), so librdkafka's background threads may log too.
 * Never pass a secret, a raw person identifier or message text.
 */
#ifndef ADVOCACY_LOG_H
#define ADVOCACY_LOG_H

#include <stdint.h>

typedef enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
} log_level;

/* Sets the minimum level written and the repeat interval (0 keeps 10 s). */
void log_init(log_level min_level, int64_t repeat_interval_ms);

/* Parses "debug", "info", "warn" or "error"; returns -1 when unknown. */
int log_level_parse(const char *name);

void log_write(log_level level, const char *component, const char *message,
               const char *fields_format, ...)
	__attribute__((format(printf, 4, 5)));

/* Number of lines held back by rate limiting since start. */
uint64_t log_suppressed_total(void);

#define log_debug(c, m, ...) log_write(LOG_LEVEL_DEBUG, c, m, __VA_ARGS__)
#define log_info(c, m, ...) log_write(LOG_LEVEL_INFO, c, m, __VA_ARGS__)
#define log_warn(c, m, ...) log_write(LOG_LEVEL_WARN, c, m, __VA_ARGS__)
#define log_error(c, m, ...) log_write(LOG_LEVEL_ERROR, c, m, __VA_ARGS__)

#endif
