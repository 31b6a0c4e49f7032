/*
 * fuzz_decode_survey.c - libFuzzer harness for the Typeform eNPS answer decoder.
 *
 * Input: one message as the typeform input format receives it. The shared
 * driver (fuzz_decoder.h) checks the result; decode_survey.h documents the
 * limits (1 MiB per message, 256 bytes per id or attribute value).
 */
#include "decode_survey.h"
#include "fuzz_decoder.h"

static void *survey_create(void)
{
	return decode_survey_new();
}

static void survey_destroy(void *d)
{
	decode_survey_free(d);
}

static decode_status survey_decode(void *d, const uint8_t *buf, size_t len, event *ev,
				  decode_result *res)
{
	return decode_survey_message(d, buf, len, ev, res);
}

/* The score leaves only as one of three kinds: no attribute, no target. */
static void survey_check_ok(void *d, const event *ev)
{
	(void)d;
	if (!event_str_eq(ev->kind, "enps_promoter") && !event_str_eq(ev->kind, "enps_passive") &&
	    !event_str_eq(ev->kind, "enps_detractor"))
		fuzz_fail("decode_survey", "unexpected kind");
	if (ev->actor_id.len == 0 || ev->attr_count != 0 || ev->target_count != 0)
		fuzz_fail("decode_survey", "an answer without respondent, or with more than its kind");
}

static const fuzz_decoder survey = {
    .name = "decode_survey",
    .create = survey_create,
    .destroy = survey_destroy,
    .decode = survey_decode,
    .check_ok = survey_check_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decoder_run(&survey, data, size);
}
