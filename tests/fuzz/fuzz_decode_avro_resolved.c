/*
 * fuzz_decode_avro_resolved.c - libFuzzer harness for evolved writer schemas.
 *
 * Input: one Confluent-framed message (magic byte 0, 4-byte schema id,
 * datum). Other inputs are skipped: bare datums take the canonical scan,
 * which fuzz_decode_avro covers. The harness rewrites the schema id to
 * 101 + its low two bits, so four ids stay in the decoder's schema cache.
 * They name writer schemas of tests/fixtures/schemas: 101 (fields
 * reordered and added), 102 (fields removed), 103 (int event_time, union
 * source) and 104 (incompatible). So the fuzzer reaches the bounds scan,
 * avro-c's generic reader and the field mapping of avro_resolve.c. Beyond the shared checks, every OK event
 * must survive a round trip through the canonical writer and decoder.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_avro.h"
#include "fuzz_decoder.h"

#define RESOLVED_ROUND_TRIP_MAX 16384
#define RESOLVED_MESSAGE_MAX (4 << 20) /* above the multi-megabyte seeds */

typedef struct resolved_fuzz {
	decode_avro *decoder;
	decode_avro *reader;
	avro_event_writer *writer;
	unsigned char buf[RESOLVED_ROUND_TRIP_MAX];
	uint8_t message[RESOLVED_MESSAGE_MAX]; /* the input with its schema id rewritten */
} resolved_fuzz;

static schema_lookup_status resolved_lookup(void *opaque, int32_t id, char **json, char *detail,
					    size_t detail_size)
{
	return schema_dir_lookup((void *)FUZZ_SCHEMA_DIR, id, json, detail, detail_size);
}

static void resolved_destroy(void *opaque)
{
	resolved_fuzz *f = opaque;

	decode_avro_free(f->decoder);
	decode_avro_free(f->reader);
	avro_event_writer_free(f->writer);
	free(f);
}

static void *resolved_create(void)
{
	char errstr[160];
	resolved_fuzz *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->decoder = decode_avro_new(errstr, sizeof(errstr));
	f->reader = decode_avro_new(errstr, sizeof(errstr));
	f->writer = avro_event_writer_new();
	if (f->decoder == NULL || f->reader == NULL || f->writer == NULL ||
	    decode_avro_set_lookup(f->decoder, resolved_lookup, NULL, 60000) != 0) {
		resolved_destroy(f);
		return NULL;
	}
	return f;
}

static decode_status resolved_decode(void *opaque, const uint8_t *buf, size_t len, event *ev,
				     decode_result *res)
{
	resolved_fuzz *f = opaque;

	if (len < 6 || buf[0] != 0 || len > sizeof(f->message)) {
		*res = (decode_result){.status = DECODE_IGNORED, .reason = "not_framed"};
		return DECODE_IGNORED;
	}
	memcpy(f->message, buf, len);
	f->message[1] = f->message[2] = f->message[3] = 0;
	f->message[4] = (uint8_t)(101 + (buf[4] & 3));
	return decode_avro_message(f->decoder, f->message, len, ev, res);
}

static void resolved_round_trip(void *opaque, const event *ev)
{
	resolved_fuzz *f = opaque;
	event back;
	decode_result res;

	long n = avro_event_writer_encode(f->writer, ev, -1, f->buf, sizeof(f->buf));
	if (n < 0)
		fuzz_fail("decode_avro_resolved", "the writer refuses an event the decoder accepted");
	if (decode_avro_message(f->reader, f->buf, (size_t)n, &back, &res) != DECODE_OK)
		fuzz_fail("decode_avro_resolved", "the round trip is rejected: %s", res.reason);
	if (!fuzz_event_equal(ev, &back))
		fuzz_fail("decode_avro_resolved", "the round trip changed the event");
}

static const fuzz_decoder resolved = {
	.name = "decode_avro_resolved",
	.create = resolved_create,
	.destroy = resolved_destroy,
	.decode = resolved_decode,
	.check_ok = resolved_round_trip,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decoder_run(&resolved, data, size);
}
