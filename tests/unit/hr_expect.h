/*
 * hr_expect.h - what the tests of the HR adapters (Greenhouse, xAPI,
 * Typeform) share: reading fixtures from tests/fixtures/hr and real-world
 * payloads from $ADVOCACY_REALWORLD_DIR, and comparing a decoded event with
 * the exact expected canonical event. Header-only, for tests.
 */
#ifndef ADVOCACY_TEST_HR_EXPECT_H
#define ADVOCACY_TEST_HR_EXPECT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"

/* One expected outcome: a reason, or an event with every field given. */
typedef struct hr_expected {
	decode_status status;
	const char *reason; /* for IGNORED and INVALID */
	const char *source;
	const char *kind;
	const char *event_id;
	int64_t time_ms;
	const char *actor;
	const char *content;
	const char *attrs[4]; /* "key=value", NULL-terminated */
} hr_expected;

static inline void hr_assert_str(event_str s, const char *want, const char *field)
{
	if (!event_str_eq(s, want ? want : ""))
		fail_msg("%s: expected \"%s\", got \"%.*s\"", field, want ? want : "", (int)s.len,
			 s.ptr ? s.ptr : "");
}

/* Reads a whole file into a NUL-terminated buffer the caller frees; NULL when absent. */
static inline char *hr_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		if (buf != NULL)
			buf[size] = '\0';
		*len = (size_t)size;
	}
	fclose(f);
	return buf;
}

/* A fixture of tests/fixtures/hr; the test fails when it is missing. */
static inline char *hr_fixture(const char *name, size_t *len)
{
	const char *root = getenv("ADVOCACY_SOURCE_DIR");
	char path[1024];
	char *buf;

	snprintf(path, sizeof(path), "%s/tests/fixtures/hr/%s", root ? root : ".", name);
	buf = hr_read_file(path, len);
	if (buf == NULL)
		fail_msg("cannot read fixture %s", path);
	return buf;
}

/* A file of the real-world payload set, or NULL when the set is absent. */
static inline char *hr_realworld(const char *name, size_t *len)
{
	const char *root = getenv("ADVOCACY_REALWORLD_DIR");
	char path[1024];

	if (root == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", root, name);
	return hr_read_file(path, len);
}

/* Compares one outcome with want: status and reason, and every field of an event. */
static inline void hr_check(const event *ev, const decode_result *res, const hr_expected *want)
{
	size_t n = 0;

	if (res->status != want->status)
		fail_msg("expected status %d, got %d (%s: %s)", want->status, res->status,
			 res->reason ? res->reason : "-", res->detail);
	if (want->status != DECODE_OK) {
		assert_non_null(res->reason);
		assert_string_equal(res->reason, want->reason);
		return;
	}
	hr_assert_str(ev->source, want->source, "source");
	hr_assert_str(ev->kind, want->kind, "kind");
	hr_assert_str(ev->event_id, want->event_id, "event_id");
	assert_int_equal(ev->event_time_ms, want->time_ms);
	hr_assert_str(ev->actor_id, want->actor, "actor");
	hr_assert_str(ev->content_id, want->content, "content");
	hr_assert_str(ev->channel_id, NULL, "channel");
	assert_int_equal(ev->target_count, 0);
	for (; want->attrs[n]; n++) {
		char kv[600];
		snprintf(kv, sizeof(kv), "%.*s=%.*s", (int)ev->attrs[n].key.len,
			 ev->attrs[n].key.ptr, (int)ev->attrs[n].value.len, ev->attrs[n].value.ptr);
		if (strcmp(kv, want->attrs[n]) != 0)
			fail_msg("attribute %zu: expected %s, got %s", n, want->attrs[n], kv);
	}
	assert_int_equal(ev->attr_count, n);
}

/* Fails when the detail of a decode result contains needle, a value that must not leak. */
static inline void hr_assert_no_leak(const decode_result *res, const char *needle)
{
	if (strstr(res->detail, needle))
		fail_msg("the detail \"%s\" holds \"%s\"", res->detail, needle);
}

#endif
