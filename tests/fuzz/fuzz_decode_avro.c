/*
 * fuzz_decode_avro.c - libFuzzer harness for the canonical Avro decoder.
 *
 * Input: one message as the avro input format receives it, either a bare
 * AdvocacyEvent datum or the Confluent wire format (magic byte 0, 4-byte
 * schema id, datum); decode_avro_message() distinguishes them by the first
 * byte, so the fuzzer reaches both. Beyond the shared checks, every OK event
 * must survive a round trip: the writer encodes it, a second decoder reads
 * it back, and the two events must be equal. This catches a decoder that
 * accepts what its own writer would refuse, or reads a field wrongly.
 */
#include <stdlib.h>

#include "decode_avro.h"
#include "fuzz_decoder.h"

/* Room for the largest datum the limits allow: 27 strings of 256 bytes and their lengths. */
#define AVRO_ROUND_TRIP_MAX 16384

typedef struct avro_fuzz {
	decode_avro *decoder;
	decode_avro *reader; /* reads the round trip back, so the event stays valid */
	avro_event_writer *writer;
	unsigned char buf[AVRO_ROUND_TRIP_MAX];
} avro_fuzz;

static void avro_destroy(void *opaque)
{
	avro_fuzz *f = opaque;

	decode_avro_free(f->decoder);
	decode_avro_free(f->reader);
	avro_event_writer_free(f->writer);
	free(f);
}

static void *avro_create(void)
{
	char errstr[160];
	avro_fuzz *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->decoder = decode_avro_new(errstr, sizeof(errstr));
	f->reader = decode_avro_new(errstr, sizeof(errstr));
	f->writer = avro_event_writer_new();
	if (f->decoder == NULL || f->reader == NULL || f->writer == NULL) {
		avro_destroy(f);
		return NULL;
	}
	return f;
}

static decode_status avro_decode(void *opaque, const uint8_t *buf, size_t len, event *ev,
				 decode_result *res)
{
	avro_fuzz *f = opaque;

	return decode_avro_message(f->decoder, buf, len, ev, res);
}

static void avro_round_trip(void *opaque, const event *ev)
{
	avro_fuzz *f = opaque;
	event back;
	decode_result res;

	long n = avro_event_writer_encode(f->writer, ev, 7, f->buf, sizeof(f->buf));
	if (n < 0)
		fuzz_fail("decode_avro", "the writer refuses an event the decoder accepted");
	if (decode_avro_message(f->reader, f->buf, (size_t)n, &back, &res) != DECODE_OK)
		fuzz_fail("decode_avro", "the round trip is rejected: %s", res.reason);
	if (decode_avro_last_schema_id(f->reader) != 7)
		fuzz_fail("decode_avro", "the round trip lost its schema id");
	if (!fuzz_event_equal(ev, &back))
		fuzz_fail("decode_avro", "the round trip changed the event");
}

static const fuzz_decoder avro = {
    .name = "decode_avro",
    .create = avro_create,
    .destroy = avro_destroy,
    .decode = avro_decode,
    .check_ok = avro_round_trip,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decoder_run(&avro, data, size);
}
