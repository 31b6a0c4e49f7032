/*
 * log.h - one structured logger for the daemon and its tools.
 *
 * Lines are logfmt on stderr by default:
 *   ts=2026-12-04T20:40:00.123Z level=warn component=source msg="..." topic=t partition=3
 * The caller passes the message and a printf format of further key=value
 * fields. Values that may contain spaces must be quoted by the caller
 * ("%s" inside the format). Control characters in the fields are escaped
 * (\n, \t, \xNN), so a value taken from input cannot start a new line.
 *
 * With LOG_FORMAT_JSON each line is one JSON object instead:
 *   {"ts":"...","level":"warn","component":"source","msg":"...","topic":"t","partition":3}
 * The same key=value fields are parsed into members: a quoted value is a
 * string, an unquoted value is a number when it is a valid JSON number and
 * a string otherwise. Strings are escaped per RFC 8259 and invalid UTF-8
 * becomes U+FFFD, so every line parses. A quoted value ends at the quote
 * that is followed by the end or by " key=", so a value holding such a
 * sequence itself is split there (a wrong field, never invalid JSON).
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

typedef enum log_format {
	LOG_FORMAT_LOGFMT,
	LOG_FORMAT_JSON,
} log_format;

/* Sets the minimum level written and the repeat interval (0 keeps 10 s). */
void log_init(log_level min_level, int64_t repeat_interval_ms);

/* Parses "debug", "info", "warn" or "error"; returns -1 when unknown. */
int log_level_parse(const char *name);

/* Chooses logfmt (the default) or JSON lines. Call before other threads log. */
void log_set_format(log_format format);

/* Parses "logfmt" or "json"; returns -1 when unknown. */
int log_format_parse(const char *name);

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
