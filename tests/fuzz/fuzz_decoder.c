/*
 * fuzz_decoder.c - creates the decoder once and checks every decode against
 * the contract listed in fuzz_decoder.h.
 *
 * Single-threaded, as libFuzzer calls the harness from one thread. The
 * decoder lives until exit; an atexit handler frees it, so the leak
 * check at the end of a run reports only real leaks.
 */
#include "fuzz_decoder.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Maximum length of a reason token, because reasons are short metric labels. */
#define FUZZ_MAX_REASON 48

static const fuzz_decoder *fuzz_current;
static void *fuzz_instance;

void fuzz_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_%s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void fuzz_destroy_instance(void)
{
	if (fuzz_current != NULL && fuzz_instance != NULL)
		fuzz_current->destroy(fuzz_instance);
	fuzz_instance = NULL;
}

static void *fuzz_instance_of(const fuzz_decoder *fd)
{
	if (fuzz_instance != NULL)
		return fuzz_instance;
	fuzz_current = fd;
	fuzz_instance = fd->create();
	if (fuzz_instance == NULL)
		fuzz_fail(fd->name, "cannot create the decoder");
	atexit(fuzz_destroy_instance);
	return fuzz_instance;
}

/* ----------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------- */

/* Adds s to the FNV-1a hash h, reading every byte of it. */
static uint64_t fuzz_hash_str(uint64_t h, event_str s)
{
	const unsigned char *p = (const unsigned char *)s.ptr;

	for (size_t i = 0; i < s.len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return (h ^ s.len) * 0x100000001b3ULL;
}

/* Checks one string of an OK event; what names it in a failure. */
static void fuzz_check_str(const char *name, event_str s, const char *what, bool required,
			   size_t max_len)
{
	if (s.len > 0 && s.ptr == NULL)
		fuzz_fail(name, "%s has length %zu but no pointer", what, s.len);
	if (s.len > max_len)
		fuzz_fail(name, "%s is %zu bytes, more than the limit of %zu", what, s.len,
			  max_len);
	if (required && s.len == 0)
		fuzz_fail(name, "%s is empty in an OK event", what);
}

/* Checks the counts and the time of an OK event. */
static void fuzz_check_shape(const char *name, const event *ev)
{
	if (ev->event_time_ms <= 0)
		fuzz_fail(name, "event_time_ms is %lld in an OK event",
			  (long long)ev->event_time_ms);
	if (ev->target_count > EVENT_MAX_TARGETS)
		fuzz_fail(name, "%zu targets, more than %d", ev->target_count, EVENT_MAX_TARGETS);
	if (ev->attr_count > EVENT_MAX_ATTRS)
		fuzz_fail(name, "%zu attributes, more than %d", ev->attr_count, EVENT_MAX_ATTRS);
}

uint64_t fuzz_check_event(const char *name, const event *ev)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	fuzz_check_shape(name, ev);
	fuzz_check_str(name, ev->event_id, "event_id", true, FUZZ_MAX_FIELD);
	fuzz_check_str(name, ev->kind, "kind", true, FUZZ_MAX_FIELD);
	fuzz_check_str(name, ev->source, "source", false, FUZZ_MAX_FIELD);
	fuzz_check_str(name, ev->actor_id, "actor_id", false, FUZZ_MAX_FIELD);
	fuzz_check_str(name, ev->content_id, "content_id", false, FUZZ_MAX_FIELD);
	fuzz_check_str(name, ev->channel_id, "channel_id", false, FUZZ_MAX_FIELD);

	const event_str fields[] = {ev->event_id, ev->kind,	  ev->source,
				    ev->actor_id, ev->content_id, ev->channel_id};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		h = fuzz_hash_str(h, fields[i]);
	for (size_t i = 0; i < ev->target_count; i++) {
		fuzz_check_str(name, ev->target_ids[i], "a target id", true, FUZZ_MAX_FIELD);
		h = fuzz_hash_str(h, ev->target_ids[i]);
	}
	for (size_t i = 0; i < ev->attr_count; i++) {
		fuzz_check_str(name, ev->attrs[i].key, "an attribute key", true, FUZZ_MAX_FIELD);
		fuzz_check_str(name, ev->attrs[i].value, "an attribute value", false,
			       FUZZ_MAX_FIELD);
		h = fuzz_hash_str(fuzz_hash_str(h, ev->attrs[i].key), ev->attrs[i].value);
	}
	return (h ^ (uint64_t)ev->event_time_ms) * 0x100000001b3ULL;
}

static bool fuzz_str_equal(event_str a, event_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool fuzz_event_equal(const event *a, const event *b)
{
	if (a->event_time_ms != b->event_time_ms || a->target_count != b->target_count ||
	    a->attr_count != b->attr_count)
		return false;
	if (!fuzz_str_equal(a->event_id, b->event_id) || !fuzz_str_equal(a->kind, b->kind) ||
	    !fuzz_str_equal(a->source, b->source) || !fuzz_str_equal(a->actor_id, b->actor_id) ||
	    !fuzz_str_equal(a->content_id, b->content_id) ||
	    !fuzz_str_equal(a->channel_id, b->channel_id))
		return false;
	for (size_t i = 0; i < a->target_count; i++)
		if (!fuzz_str_equal(a->target_ids[i], b->target_ids[i]))
			return false;
	for (size_t i = 0; i < a->attr_count; i++)
		if (!fuzz_str_equal(a->attrs[i].key, b->attrs[i].key) ||
		    !fuzz_str_equal(a->attrs[i].value, b->attrs[i].value))
			return false;
	return true;
}

static bool fuzz_reason_ok(const char *reason)
{
	size_t n = 0;

	if (reason == NULL)
		return false;
	for (; reason[n] != '\0' && n <= FUZZ_MAX_REASON; n++)
		if (!((reason[n] >= 'a' && reason[n] <= 'z') ||
		      (reason[n] >= '0' && reason[n] <= '9') || reason[n] == '_'))
			return false;
	return n > 0 && n <= FUZZ_MAX_REASON;
}

bool fuzz_line_ok(const char *s, size_t size)
{
	const char *end = memchr(s, '\0', size);

	if (end == NULL)
		return false;
	for (const char *p = s; p < end; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* Adds a NUL-terminated string (NULL allowed) to the FNV-1a hash h. */
static uint64_t fuzz_hash_cstr(uint64_t h, const char *s)
{
	return fuzz_hash_str(h, (event_str){s, s ? strlen(s) : 0});
}

/*
 * Checks one outcome: status, reason and detail, and the event when it is
 * OK. Returns a hash of the status, the reason and the event.
 */
static uint64_t fuzz_check_result(const fuzz_decoder *fd, void *d, decode_status st,
				  const event *ev, const decode_result *res)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)st;

	if (st != DECODE_OK && st != DECODE_IGNORED && st != DECODE_INVALID)
		fuzz_fail(fd->name, "status %d is none of OK, IGNORED, INVALID", (int)st);
	if (res->status != st)
		fuzz_fail(fd->name, "returned status %d but res->status is %d", (int)st,
			  (int)res->status);
	if (!fuzz_line_ok(res->detail, sizeof(res->detail)))
		fuzz_fail(fd->name, "res->detail is not a NUL-terminated printable line");
	if (st == DECODE_OK && ev != NULL) {
		h ^= fuzz_check_event(fd->name, ev);
		if (fd->check_ok != NULL)
			fd->check_ok(d, ev);
		return h * 0x100000001b3ULL;
	}
	if (st != DECODE_OK && !fuzz_reason_ok(res->reason))
		fuzz_fail(fd->name, "status %d without a reason token ([a-z0-9_], 1 to %d chars)",
			  (int)st, FUZZ_MAX_REASON);
	return fuzz_hash_cstr(h, st == DECODE_OK ? NULL : res->reason);
}

/* Decodes one message with a single-event decoder; returns the hash of its outcome. */
static uint64_t fuzz_run_single(const fuzz_decoder *fd, void *d, const uint8_t *data, size_t size,
				int fill)
{
	event ev;
	decode_result res;

	/* Garbage in the outputs must not leak into the result. */
	memset(&ev, fill, sizeof(ev));
	memset(&res, fill, sizeof(res));
	decode_status st = fd->decode(d, data, size, &ev, &res);
	return fuzz_check_result(fd, d, st, &ev, &res);
}

/* Walks the outcomes of an opened message; returns their hash, in order. */
static uint64_t fuzz_run_outcomes(const fuzz_decoder *fd, void *d, size_t size, int fill)
{
	event ev;
	decode_result res;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t n = 0;

	for (;;) {
		memset(&ev, fill, sizeof(ev));
		memset(&res, fill, sizeof(res));
		if (!fd->next(d, &ev, &res))
			break;
		if (++n > size)
			fuzz_fail(fd->name, "more than %zu outcomes from a %zu-byte message", size,
				  size);
		h = (h ^ fuzz_check_result(fd, d, res.status, &ev, &res)) * 0x100000001b3ULL;
	}
	if (n == 0)
		fuzz_fail(fd->name, "an opened message yields no outcome");
	if (fd->next(d, &ev, &res))
		fuzz_fail(fd->name, "next yields an outcome after it returned false");
	return (h ^ n) * 0x100000001b3ULL;
}

/* Opens one message with a cursor decoder and walks it; returns the hash of all outcomes. */
static uint64_t fuzz_run_cursor(const fuzz_decoder *fd, void *d, const uint8_t *data, size_t size,
				int fill)
{
	decode_result res;

	memset(&res, fill, sizeof(res));
	decode_status st = fd->open(d, data, size, &res);
	uint64_t h = fuzz_check_result(fd, d, st, NULL, &res);
	if (st != DECODE_OK)
		return h;
	return h ^ fuzz_run_outcomes(fd, d, size, fill);
}

static uint64_t fuzz_run_once(const fuzz_decoder *fd, void *d, const uint8_t *data, size_t size,
			      int fill)
{
	if (fd->open != NULL)
		return fuzz_run_cursor(fd, d, data, size, fill);
	return fuzz_run_single(fd, d, data, size, fill);
}

int fuzz_decoder_run(const fuzz_decoder *fd, const uint8_t *data, size_t size)
{
	void *d = fuzz_instance_of(fd);

	/* The same message again, over other garbage: nothing may depend on the previous call. */
	uint64_t first = fuzz_run_once(fd, d, data, size, 0xa5);
	uint64_t again = fuzz_run_once(fd, d, data, size, 0x5a);
	if (again != first)
		fuzz_fail(fd->name, "decoding the same input twice gave different results");
	return 0;
}

/* ----------------------------------------------------------------------------
 * Cursors: several outcomes per message
 * ------------------------------------------------------------------------- */

int fuzz_cursor_run(const fuzz_cursor *fc, const uint8_t *data, size_t size)
{
	/* The driver is made once per process, like the decoder it wraps. */
	static fuzz_decoder shim;

	if (!shim.name)
		shim = (fuzz_decoder){ .name = fc->name, .create = fc->create,
				       .destroy = fc->destroy, .open = fc->open, .next = fc->next };
	return fuzz_decoder_run(&shim, data, size);
}
