/*
 * fuzz_decode_greenhouse.c - libFuzzer harness for the Greenhouse web hook (referral) decoder.
 *
 * Input: one message as the greenhouse input format receives it. The shared
 * driver (fuzz_decoder.h) checks the result; decode_greenhouse.h documents the
 * limits (1 MiB per message, 256 bytes per id or attribute value).
 */
#include "decode_greenhouse.h"
#include "fuzz_decoder.h"

static void *greenhouse_create(void)
{
	return decode_greenhouse_new();
}

static void greenhouse_destroy(void *d)
{
	decode_greenhouse_free(d);
}

static decode_status greenhouse_decode(void *d, const uint8_t *buf, size_t len, event *ev,
				  decode_result *res)
{
	return decode_greenhouse_message(d, buf, len, ev, res);
}

/* A referral event credits someone and never carries candidate data in attributes. */
static void greenhouse_check_ok(void *d, const event *ev)
{
	(void)d;
	if (!event_str_eq(ev->kind, "referral_made") && !event_str_eq(ev->kind, "referral_hired"))
		fuzz_fail("decode_greenhouse", "unexpected kind");
	if (ev->actor_id.len == 0 || ev->attr_count != 0 || ev->target_count != 0)
		fuzz_fail("decode_greenhouse", "a referral without actor, or with targets or attributes");
}

static const fuzz_decoder greenhouse = {
    .name = "decode_greenhouse",
    .create = greenhouse_create,
    .destroy = greenhouse_destroy,
    .decode = greenhouse_decode,
    .check_ok = greenhouse_check_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decoder_run(&greenhouse, data, size);
}
