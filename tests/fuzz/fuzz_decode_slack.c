/*
 * fuzz_decode_slack.c - libFuzzer harness for the Slack Events API decoder.
 *
 * Input: one message as the slack input format receives it. The shared
 * driver (fuzz_decoder.h) checks the result; decode_slack.h documents the
 * limits (1 MiB per message, 256 bytes per id or attribute value).
 */
#include "decode_slack.h"
#include "fuzz_decoder.h"

static void *slack_create(void)
{
	return decode_slack_new();
}

static void slack_destroy(void *d)
{
	decode_slack_free(d);
}

static decode_status slack_decode(void *d, const uint8_t *buf, size_t len, event *ev,
				  decode_result *res)
{
	return decode_slack_message(d, buf, len, ev, res);
}

static const fuzz_decoder slack = {
    .name = "decode_slack",
    .create = slack_create,
    .destroy = slack_destroy,
    .decode = slack_decode,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decoder_run(&slack, data, size);
}
