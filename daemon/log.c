/*
 * log.c - logfmt or JSON lines on stderr with per-message repeat suppression.
 *
 * Suppression keys on a hash of (level, component, message), not on the
 * fields, so a warning repeated for every message of a bad partition is
 * written once per interval with the count of the ones held back. The table
 * is small and fixed: two different messages sharing a slot only make each
 * other log more often, never less.
 *
 * JSON lines are built in a fixed buffer: a string that does not fit is cut
 * and closed, and members that no longer fit are left out, so a long line
 * is shortened but stays one valid JSON object.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_SLOTS 256
#define LOG_LINE_SIZE 8192
/* Kept free in a JSON line for closing a cut string and the object. */
#define LOG_JSON_RESERVE 8

typedef struct log_slot {
	uint64_t key;
	int64_t last_ms;
	uint64_t held_back;
} log_slot;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_level log_min = LOG_LEVEL_INFO;
static log_format log_fmt = LOG_FORMAT_LOGFMT;
static int64_t log_interval_ms = 10000;
static log_slot log_slots[LOG_SLOTS];
static uint64_t log_suppressed;

static const char *const log_level_names[] = { "debug", "info", "warn", "error" };
static const char *const log_format_names[] = { "logfmt", "json" };

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

void log_set_format(log_format format)
{
	log_fmt = format;
}

int log_format_parse(const char *name)
{
	for (int i = 0; i <= LOG_FORMAT_JSON; i++)
		if (strcmp(name, log_format_names[i]) == 0)
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

/* ---------------------------------------------------------------- JSON lines */

typedef struct log_json {
	char text[LOG_LINE_SIZE];
	size_t len;
	bool full;                /* content stopped; only closing characters follow */
} log_json;

/* Appends n bytes unless they would cut into the reserve; marks the line full then. */
static bool log_json_put(log_json *j, const char *data, size_t n)
{
	if (j->full || j->len + n > sizeof(j->text) - LOG_JSON_RESERVE) {
		j->full = true;
		return false;
	}
	memcpy(j->text + j->len, data, n);
	j->len += n;
	return true;
}

/* Appends a closing character from the reserve. */
static void log_json_close(log_json *j, char c)
{
	if (j->len < sizeof(j->text) - 1)
		j->text[j->len++] = c;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 when invalid. */
static size_t log_utf8_length(const unsigned char *p, size_t n)
{
	size_t len = 0;
	uint32_t cp;

	if (p[0] >= 0xf0)
		len = 4;
	else if (p[0] >= 0xe0)
		len = 3;
	else if (p[0] >= 0xc2)
		len = 2;

	if (len == 0 || len > n || p[0] > 0xf4)
		return 0;
	cp = p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Appends n bytes of text as a JSON string; a string cut for room is still closed. */
static void log_json_string(log_json *j, const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	char esc[8];

	if (!log_json_put(j, "\"", 1))
		return;
	for (size_t i = 0; i < n && !j->full;) {
		size_t len = 1;
		const char *out = esc;
		if (p[i] == '"' || p[i] == '\\') {
			snprintf(esc, sizeof(esc), "\\%c", p[i]);
		} else if (p[i] == '\n' || p[i] == '\t' || p[i] == '\r') {
			char letter = 'r';

			if (p[i] == '\n')
				letter = 'n';
			else if (p[i] == '\t')
				letter = 't';
			snprintf(esc, sizeof(esc), "\\%c", letter);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
		} else if (p[i] < 0x80) {
			out = (const char *)p + i;
		} else if ((len = log_utf8_length(p + i, n - i)) > 0) {
			out = (const char *)p + i;
		} else {
			len = 1;
			snprintf(esc, sizeof(esc), "\\ufffd");
		}
		log_json_put(j, out, out == esc ? strlen(esc) : len);
		i += len;
	}
	log_json_close(j, '"');
}

static void log_json_cstring(log_json *j, const char *text)
{
	log_json_string(j, text, strlen(text));
}

/* True when text[0..n) is a number in JSON's grammar (no leading zeros, no "nan"). */
static bool log_json_number(const char *t, size_t n)
{
	size_t i = 0;

	if (i < n && t[i] == '-')
		i++;
	if (i == n || t[i] < '0' || t[i] > '9')
		return false;
	if (t[i] == '0')
		i++;
	else
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
	if (i < n && t[i] == '.') {
		size_t start = ++i;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
		if (i == start)
			return false;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		size_t start = i;
		while (i < n && t[i] >= '0' && t[i] <= '9')
			i++;
		if (i == start)
			return false;
	}
	return i == n;
}

/* Writes ,"key": and then the value: a number when unquoted and numeric, else a string. */
static void log_json_member(log_json *j, const char *key, size_t key_len, const char *value,
                            size_t value_len, bool quoted)
{
	size_t mark = j->len;

	if (j->full)
		return;
	log_json_put(j, ",", 1);
	log_json_string(j, key, key_len);
	log_json_put(j, ":", 1);
	if (!quoted && log_json_number(value, value_len))
		log_json_put(j, value, value_len);
	else
		log_json_string(j, value, value_len);
	/* A member that did not fit whole is dropped, not cut. */
	if (j->full)
		j->len = mark;
}

/* True when p starts " key=": the end of a quoted value whose quote came just before. */
static bool log_at_next_field(const char *p)
{
	if (*p == '\0')
		return true;
	if (*p != ' ')
		return false;
	p++;
	const char *key = p;
	while (*p && *p != '=' && *p != ' ' && *p != '"')
		p++;
	return p > key && *p == '=';
}

/*
 * Parses the logfmt fields written by the callers (key=value, key="value")
 * into members. A token without "=" becomes a member with an empty string.
 */
static void log_json_fields(log_json *j, const char *fields)
{
	const char *p = fields;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *key = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		size_t key_len = (size_t)(p - key);
		if (*p != '=') {
			log_json_member(j, key, key_len, "", 0, true);
			continue;
		}
		p++;
		const char *value = p;
		bool quoted = *p == '"';
		if (quoted) {
			value = ++p;
			while (*p && !(*p == '"' && log_at_next_field(p + 1)))
				p++;
		} else {
			while (*p && *p != ' ')
				p++;
		}
		log_json_member(j, key, key_len, value, (size_t)(p - value), quoted);
		if (quoted && *p == '"')
			p++;
	}
}

static void log_emit_json(const char *ts, log_level level, const char *component,
                          const char *message, const char *fields, uint64_t held_back)
{
	static log_json j;   /* written under log_lock */
	char count[32];

	j.len = 0;
	j.full = false;
	log_json_put(&j, "{\"ts\":", 6);
	log_json_cstring(&j, ts);
	log_json_put(&j, ",\"level\":", 9);
	log_json_cstring(&j, log_level_names[level]);
	log_json_put(&j, ",\"component\":", 13);
	log_json_cstring(&j, component);
	log_json_put(&j, ",\"msg\":", 7);
	log_json_cstring(&j, message);
	log_json_fields(&j, fields);
	if (held_back) {
		snprintf(count, sizeof(count), "%llu", (unsigned long long)held_back);
		log_json_member(&j, "suppressed", 10, count, strlen(count), false);
	}
	log_json_close(&j, '}');
	log_json_close(&j, '\n');
	fwrite(j.text, 1, j.len, stderr);
	fflush(stderr);
}

/* ---------------------------------------------------------------- logfmt lines */

static void log_emit_logfmt(const char *ts, log_level level, const char *component,
                            const char *message, char *fields, size_t fields_size,
                            uint64_t held_back)
{
	log_escape_controls(fields, fields_size);
	fprintf(stderr, "ts=%s level=%s component=%s msg=\"%s\"%s%s", ts,
	        log_level_names[level], component, message, *fields ? " " : "", fields);
	if (held_back)
		fprintf(stderr, " suppressed=%llu", (unsigned long long)held_back);
	fputc('\n', stderr);
	fflush(stderr);
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

	/* Info and debug lines are not per event, so only warnings and errors,
	 * which bad input can repeat for every message, are rate-limited. */
	pthread_mutex_lock(&log_lock);
	if (level < LOG_LEVEL_WARN ||
	    log_admit(log_key(level, component, message), now_ms, &held_back)) {
		if (log_fmt == LOG_FORMAT_JSON)
			log_emit_json(ts, level, component, message, fields, held_back);
		else
			log_emit_logfmt(ts, level, component, message, fields, sizeof(fields),
			                held_back);
	}
	pthread_mutex_unlock(&log_lock);
}
