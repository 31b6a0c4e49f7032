/*
 * decode_expect.h - what the decoder tests share: reading fixtures from
 * tests/fixtures/<adapter> and real-world payloads from
 * $ADVOCACY_REALWORLD_DIR, and comparing decode outcomes and events with the
 * exact expected ones. The HR adapter tests (Greenhouse, xAPI, Typeform) also
 * share one expected-event type, hr_expected. Header-only, for tests.
 */
#ifndef ADVOCACY_TEST_DECODE_EXPECT_H
#define ADVOCACY_TEST_DECODE_EXPECT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/*
 * One expected outcome of a cursor decoder (Graph, Viva Engage, analytics,
 * social): a reason, or an event with every field given. A NULL string or
 * list expects an absent field.
 */
typedef struct decode_expected {
	decode_status status;
	const char *reason; /* for IGNORED and INVALID */
	const char *kind;
	const char *event_id;
	int64_t time_ms;
	const char *actor;
	const char *id_person;
	const char *targets[4]; /* NULL-terminated */
	const char *content;
	const char *channel;
	const char *attrs[6]; /* "key=value", NULL-terminated */
} decode_expected;

/* An expected outcome that is a status and reason, not an event. */
#define EXPECT_OUTCOME(st, why)                                                                    \
	{                                                                                          \
		.status = (st), .reason = (why)                                                    \
	}

/* Fails naming field when s differs from want; NULL and "" expect an absent string. */
static inline void expect_str(event_str s, const char *want, const char *field)
{
	if (!event_str_eq(s, want ? want : ""))
		fail_msg("%s: expected \"%s\", got \"%.*s\"", field, want ? want : "", (int)s.len,
			 s.ptr ? s.ptr : "");
}

/* Reads a whole file into a NUL-terminated buffer the caller frees; NULL when absent. */
static inline char *expect_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	*len = 0;
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

/* Writes the path of tests/fixtures/dir/name below $ADVOCACY_SOURCE_DIR (default "."). */
static inline void expect_fixture_path(char *out, size_t size, const char *dir, const char *name)
{
	const char *root = getenv("ADVOCACY_SOURCE_DIR");

	snprintf(out, size, "%s/tests/fixtures/%s/%s", root ? root : ".", dir, name);
}

/* Reads the fixture tests/fixtures/dir/name; the test fails when it is missing. */
static inline char *expect_fixture(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	char *buf;

	expect_fixture_path(path, sizeof(path), dir, name);
	buf = expect_read_file(path, len);
	if (buf == NULL)
		fail_msg("cannot read fixture %s (set ADVOCACY_SOURCE_DIR to the repository)",
			 path);
	return buf;
}

/* Reads a file of the real-world payload set; NULL when the set or the file is absent. */
static inline char *expect_realworld(const char *name, size_t *len)
{
	const char *root = getenv("ADVOCACY_REALWORLD_DIR");
	char path[1024];

	if (root == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", root, name);
	return expect_read_file(path, len);
}

/* Compares the targets of ev, in order, with a NULL-terminated list. */
static inline void expect_targets(const event *ev, const char *const *targets)
{
	size_t n = 0;

	for (; targets[n]; n++) {
		if (n >= ev->target_count)
			fail_msg("target %zu: expected %s, got none", n, targets[n]);
		expect_str(ev->target_ids[n], targets[n], "target");
	}
	assert_int_equal(ev->target_count, n);
}

/* Compares the attributes of ev, in order, with a NULL-terminated list of "key=value". */
static inline void expect_attrs(const event *ev, const char *const *attrs)
{
	size_t n = 0;

	for (; attrs[n]; n++) {
		char kv[600];
		if (n >= ev->attr_count)
			fail_msg("attribute %zu: expected %s, got none", n, attrs[n]);
		snprintf(kv, sizeof(kv), "%.*s=%.*s", (int)ev->attrs[n].key.len,
			 ev->attrs[n].key.ptr, (int)ev->attrs[n].value.len, ev->attrs[n].value.ptr);
		if (strcmp(kv, attrs[n]) != 0)
			fail_msg("attribute %zu: expected %s, got %s", n, attrs[n], kv);
	}
	assert_int_equal(ev->attr_count, n);
}

/* Compares every field of ev with want and the source with source. */
static inline void expect_event(const event *ev, const char *source, const decode_expected *want)
{
	expect_str(ev->source, source, "source");
	expect_str(ev->kind, want->kind, "kind");
	expect_str(ev->event_id, want->event_id, "event_id");
	assert_int_equal(ev->event_time_ms, want->time_ms);
	expect_str(ev->actor_id, want->actor, "actor");
	expect_str(ev->id_person, want->id_person, "id_person");
	expect_str(ev->content_id, want->content, "content");
	expect_str(ev->channel_id, want->channel, "channel");
	expect_targets(ev, want->targets);
	expect_attrs(ev, want->attrs);
}

/*
 * Compares outcome i of a message with the expected status and, unless it is
 * DECODE_OK, the expected reason. Returns true for an event, whose fields the
 * caller compares next.
 */
static inline bool expect_outcome(size_t i, const decode_result *res, decode_status status,
				  const char *reason)
{
	if (res->status != status)
		fail_msg("outcome %zu: expected status %d, got %d (%s: %s)", i, status, res->status,
			 res->reason ? res->reason : "-", res->detail);
	if (status == DECODE_OK)
		return true;
	if (res->reason == NULL || reason == NULL || strcmp(res->reason, reason) != 0)
		fail_msg("outcome %zu: expected reason %s, got %s (%s)", i, reason ? reason : "-",
			 res->reason ? res->reason : "-", res->detail);
	return false;
}

/* Fails when a decoder yields outcome i of a message that should have only n. */
static inline void expect_not_extra(size_t i, size_t n, const decode_result *res)
{
	if (i >= n)
		fail_msg("outcome %zu is extra: status %d reason %s", i, res->status,
			 res->reason ? res->reason : "-");
}

/* Compares one outcome with want: status and reason, and every field of an event. */
static inline void hr_check(const event *ev, const decode_result *res, const hr_expected *want)
{
	if (res->status != want->status)
		fail_msg("expected status %d, got %d (%s: %s)", want->status, res->status,
			 res->reason ? res->reason : "-", res->detail);
	if (want->status != DECODE_OK) {
		assert_non_null(res->reason);
		assert_string_equal(res->reason, want->reason);
		return;
	}
	expect_str(ev->source, want->source, "source");
	expect_str(ev->kind, want->kind, "kind");
	expect_str(ev->event_id, want->event_id, "event_id");
	assert_int_equal(ev->event_time_ms, want->time_ms);
	expect_str(ev->actor_id, want->actor, "actor");
	expect_str(ev->content_id, want->content, "content");
	expect_str(ev->channel_id, NULL, "channel");
	assert_int_equal(ev->target_count, 0);
	expect_attrs(ev, want->attrs);
}

/* Fails when the detail of a decode result contains needle, a value that must not leak. */
static inline void expect_no_leak(const decode_result *res, const char *needle)
{
	if (strstr(res->detail, needle))
		fail_msg("the detail \"%s\" contains \"%s\"", res->detail, needle);
}

#endif
