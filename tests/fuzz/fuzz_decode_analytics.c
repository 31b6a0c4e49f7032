/*
 * fuzz_decode_analytics.c - libFuzzer harness for the intranet analytics
 * decoder.
 *
 * Input: one message as the analytics input format receives it, decoded
 * with a configured event map; every outcome of the message is walked. The
 * shared driver (fuzz_decoder.h) checks the results; decode_analytics.h
 * documents the limits (1 MiB per message, 256 bytes per id or attribute value).
 */
#include "decode_analytics.h"
#include "fuzz_decoder.h"

/* A map as an input configures it, with a 4-byte emoji in one name. */
static const config_kv analytics_events[] = {
    {"Article Published", "content_published"},
    {"Comment Added", "content_commented"},
    {"Content Liked", "content_liked"},
    {"Article \xf0\x9f\x9a\x80 Viewed", "page_viewed"},
};

static void *analytics_create(void)
{
	return decode_analytics_new();
}

static void analytics_destroy(void *d)
{
	decode_analytics_free(d);
}

/* An odd length picks the configured map, an even one the defaults. */
static decode_status analytics_open(void *d, const uint8_t *buf, size_t len, decode_result *res)
{
	size_t n = len % 2 ? sizeof(analytics_events) / sizeof(analytics_events[0])
					   : 0;

	return decode_analytics_open(d, analytics_events, n, buf, len, res);
}

static bool analytics_next(void *d, event *ev, decode_result *res)
{
	return decode_analytics_next(d, ev, res);
}

static const fuzz_cursor analytics = {"decode_analytics", analytics_create, analytics_destroy,
				      analytics_open, analytics_next};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_cursor_run(&analytics, data, size);
}
