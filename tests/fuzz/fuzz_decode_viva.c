/*
 * fuzz_decode_viva.c - libFuzzer harness for the Viva Engage decoder.
 *
 * Input: one message as the viva input format receives it; every outcome of
 * the message is walked. The shared driver (fuzz_decoder.h) checks the
 * results; decode_viva.h documents the limits (1 MiB per message, 256 bytes
 * per id or attribute value).
 */
#include "decode_viva.h"
#include "fuzz_decoder.h"

/* A fixed receive time, so that decoding the same input twice gives the same events. */
#define FUZZ_VIVA_NOW_MS 1762250000000

static void *viva_create(void)
{
	return decode_viva_new();
}

static void viva_destroy(void *d)
{
	decode_viva_free(d);
}

static decode_status viva_open(void *d, const uint8_t *buf, size_t len, decode_result *res)
{
	return decode_viva_open(d, buf, len, FUZZ_VIVA_NOW_MS, res);
}

static bool viva_next(void *d, event *ev, decode_result *res)
{
	return decode_viva_next(d, ev, res);
}

static const fuzz_cursor viva = {"decode_viva", viva_create, viva_destroy, viva_open, viva_next};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_cursor_run(&viva, data, size);
}
