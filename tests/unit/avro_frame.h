/*
 * avro_frame.h - decodes an encoder's Confluent-framed Avro output in tests.
 *
 * Include after <cmocka.h> and <avro.h>. The frame must carry schema id
 * 0x01020384, the id the encoder tests configure.
 */
#ifndef ADVOCACY_TEST_AVRO_FRAME_H
#define ADVOCACY_TEST_AVRO_FRAME_H

#include <string.h>

#include "encode.h"

/* A decoded Avro datum and what it needs to stay alive. */
typedef struct decoded {
	avro_schema_t schema;
	avro_value_iface_t *iface;
	avro_value_t value;
} decoded;

/* Checks the Confluent frame of buf and decodes the datum after it with schema_json. */
static inline void decode_framed(const encode_buf *buf, const char *schema_json, decoded *d)
{
	avro_reader_t reader;
	size_t size = 0;

	assert_true(buf->len > 5);
	assert_int_equal((unsigned char)buf->data[0], 0x00);
	assert_int_equal((unsigned char)buf->data[1], 0x01);
	assert_int_equal((unsigned char)buf->data[2], 0x02);
	assert_int_equal((unsigned char)buf->data[3], 0x03);
	assert_int_equal((unsigned char)buf->data[4], 0x84);

	assert_int_equal(avro_schema_from_json_length(schema_json, strlen(schema_json), &d->schema),
	                 0);
	d->iface = avro_generic_class_from_schema(d->schema);
	assert_non_null(d->iface);
	assert_int_equal(avro_generic_value_new(d->iface, &d->value), 0);
	reader = avro_reader_memory(buf->data + 5, (int64_t)(buf->len - 5));
	assert_non_null(reader);
	if (avro_value_read(reader, &d->value) != 0)
		fail_msg("avro_value_read: %s", avro_strerror());
	avro_reader_free(reader);

	/* The datum fills the message exactly. */
	assert_int_equal(avro_value_sizeof(&d->value, &size), 0);
	assert_int_equal(size, buf->len - 5);
}

static inline void decoded_free(decoded *d)
{
	avro_value_decref(&d->value);
	avro_value_iface_decref(d->iface);
	avro_schema_decref(d->schema);
}

#endif
