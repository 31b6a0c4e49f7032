/*
 * log.c - logfmt lines on stderr with per-message repeat suppression.
 *
 * Suppression keys on a hash of (level, component, message), not on the
 * fields, so a warning repeated for every message of a bad partition is
 * written once per interval with the count of the ones held back. The table
 * is small and fixed: two different messages sharing a slot only make each
 * other log more often, never less.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_SLOTS 256

typedef struct log_slot {
	uint64_t key;
	int64_t last_ms;
	uint64_t held_back;
} log_slot;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_level log_min = LOG_LEVEL_INFO;
static int64_t log_interval_ms = 10000;
static log_slot log_slots[LOG_SLOTS];
static uint64_t log_suppressed;

static const char *const log_level_names[] = { "debug", "info", "warn", "error" };

void log_init(log_level min_level, int64_t repeat_interval_ms)
{
	log_min = min_level;
	if (repeat_interval_ms > 0)
		log_interval_ms = repeat_interval_ms;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i <= LOG_LEVEL_ERROR; i++)
		if (strcmp(name, log_level_names[i]) == 0)
			return i;
	return -1;
}

uint64_t log_suppressed_total(void)
{
	pthread_mutex_lock(&log_lock);
	uint64_t n = log_suppressed;
	pthread_mutex_unlock(&log_lock);
	return n;
}

static uint64_t log_key(log_level level, const char *component, const char *message)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)level;
	for (const char *p = component; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ '|') * 1099511628211ull;
	for (const char *p = message; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

/* Returns 1 to write the line (with *held_back lines suppressed before it), 0 to hold it. */
static int log_admit(uint64_t key, int64_t now_ms, uint64_t *held_back)
{
	log_slot *s = &log_slots[key % LOG_SLOTS];

	if (s->key != key || now_ms - s->last_ms >= log_interval_ms) {
		*held_back = s->key == key ? s->held_back : 0;
		s->key = key;
		s->last_ms = now_ms;
		s->held_back = 0;
		return 1;
	}
	s->held_back++;
	log_suppressed++;
	return 0;
}

static void log_timestamp(char *out, size_t size, int64_t *now_ms)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	*now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (int)(ts.tv_nsec / 1000000));
}

/*
 * Rewrites control characters in place as \n, \t or \xNN, so that a value
 * taken from input (a team name, a librdkafka message) can never start a
 * forged line. Truncates when the escaped text does not fit.
 */
static void log_escape_controls(char *text, size_t size)
{
	char escaped[2048];
	size_t out = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p && out + 5 < sizeof(escaped); p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			escaped[out++] = (char)*p;
		} else if (*p == '\n') {
			escaped[out++] = '\\';
			escaped[out++] = 'n';
		} else if (*p == '\t') {
			escaped[out++] = '\\';
			escaped[out++] = 't';
		} else {
			out += (size_t)snprintf(escaped + out, sizeof(escaped) - out, "\\x%02x", *p);
		}
	}
	if (out > size - 1)
		out = size - 1;
	memcpy(text, escaped, out);
	text[out] = '\0';
}

void log_write(log_level level, const char *component, const char *message,
               const char *fields_format, ...)
{
	char ts[64], fields[1024] = "";
	int64_t now_ms;
	uint64_t held_back = 0;
	va_list ap;

	if (level < log_min)
		return;
	log_timestamp(ts, sizeof(ts), &now_ms);

	if (fields_format && *fields_format) {
		va_start(ap, fields_format);
		vsnprintf(fields, sizeof(fields), fields_format, ap);
		va_end(ap);
	}

	log_escape_controls(fields, sizeof(fields));

	/* Info and debug lines are not per event, so only warnings and errors,
	 * which bad input can repeat for every message, are rate-limited. */
	pthread_mutex_lock(&log_lock);
	if (level < LOG_LEVEL_WARN ||
	    log_admit(log_key(level, component, message), now_ms, &held_back)) {
		fprintf(stderr, "ts=%s level=%s component=%s msg=\"%s\"%s%s", ts,
		        log_level_names[level], component, message, *fields ? " " : "", fields);
		if (held_back)
			fprintf(stderr, " suppressed=%llu", (unsigned long long)held_back);
		fputc('\n', stderr);
		fflush(stderr);
	}
	pthread_mutex_unlock(&log_lock);
}
