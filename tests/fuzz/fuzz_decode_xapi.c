/*
 * fuzz_decode_xapi.c - libFuzzer harness for the xAPI statement decoder.
 *
 * Input: one message as the xapi input format receives it. The decoder is
 * a cursor: the harness opens the message and walks every statement. Each
 * outcome is checked here as it comes: a reason token, or an event whose
 * strings are non-empty where required, short and fully readable. The last
 * outcome also goes to the shared driver (fuzz_decoder.h), which checks it
 * fully. decode_xapi.h documents the limits.
 */
#include <string.h>

#include "decode_xapi.h"
#include "fuzz_decoder.h"

static void *xapi_create(void)
{
	return decode_xapi_new();
}

static void xapi_destroy(void *d)
{
	decode_xapi_free(d);
}

/* Reads every byte of s, so that AddressSanitizer reports a dangling string. */
static unsigned xapi_touch(event_str s)
{
	unsigned sum = 0;

	if (s.len > FUZZ_MAX_FIELD + 64)
		fuzz_fail("decode_xapi", "a field of %zu bytes", s.len);
	for (size_t i = 0; i < s.len; i++)
		sum += (unsigned char)s.ptr[i];
	return sum;
}

static void xapi_check_one(const event *ev, const decode_result *res)
{
	volatile unsigned sink = 0;

	if (res->status != DECODE_OK) {
		if (res->reason == NULL || strlen(res->reason) == 0)
			fuzz_fail("decode_xapi", "an outcome without reason");
		return;
	}
	if (ev->event_id.len == 0 || ev->actor_id.len == 0 || ev->content_id.len == 0 ||
	    ev->event_time_ms <= 0 || !event_str_eq(ev->kind, "training_completed"))
		fuzz_fail("decode_xapi", "an incomplete training event");
	sink += xapi_touch(ev->event_id) + xapi_touch(ev->actor_id) + xapi_touch(ev->content_id);
	(void)sink;
}

static decode_status xapi_decode(void *d, const uint8_t *buf, size_t len, event *ev,
				 decode_result *res)
{
	decode_status st = decode_xapi_open(d, buf, len, res);
	event next;
	decode_result next_res;

	if (st != DECODE_OK)
		return st;
	if (!decode_xapi_next(d, ev, res))
		fuzz_fail("decode_xapi", "an open message without statement");
	for (;;) {
		/* Checked now: the next statement reuses the event id buffer. */
		xapi_check_one(ev, res);
		if (!decode_xapi_next(d, &next, &next_res))
			break;
		*ev = next;
		*res = next_res;
	}
	return res->status;
}

static const fuzz_decoder xapi = {
    .name = "decode_xapi",
    .create = xapi_create,
    .destroy = xapi_destroy,
    .decode = xapi_decode,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decoder_run(&xapi, data, size);
}
