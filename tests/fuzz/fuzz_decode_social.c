/*
 * fuzz_decode_social.c - libFuzzer harness for the social-sharing decoder.
 *
 * Input: one message as the social input format receives it. The decoder
 * is a cursor, so the shared driver (fuzz_decoder.h, fuzz_cursor_run())
 * opens the message and checks every outcome it yields. decode_social.h
 * documents the limits (1 MiB per message, 256 bytes per id).
 */
#include "decode_social.h"
#include "fuzz_decoder.h"

static void *social_create(void)
{
	return decode_social_new();
}

static void social_destroy(void *d)
{
	decode_social_free(d);
}

static decode_status social_open(void *d, const uint8_t *buf, size_t len, decode_result *res)
{
	return decode_social_open(d, buf, len, res);
}

static bool social_next(void *d, event *ev, decode_result *res)
{
	return decode_social_next(d, ev, res);
}

static const fuzz_cursor social = {"decode_social", social_create, social_destroy, social_open,
				   social_next};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_cursor_run(&social, data, size);
}
