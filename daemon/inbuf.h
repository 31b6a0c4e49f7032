/*
 * inbuf.h - the consumer's input buffer: a byte ring of consumed records.
 *
 * kafka.c copies each message it takes from librdkafka into the ring (a
 * 32-byte header, the key and the payload, one after another) and destroys
 * the librdkafka message at once. librdkafka keeps several hundred bytes
 * per queued message besides the payload, the ring 32. The ring is one
 * allocation of a fixed size made up front, so putting and taking records
 * allocate nothing.
 *
 * Records come out in the order they went in. A record names its
 * partition by a small number (part) that the caller assigns. Purging a
 * part marks its records dropped, and they are skipped when taken.
 * Everything runs on the caller's thread, and nothing here is specific
 * to Kafka.
 */
#ifndef ADVOCACY_INBUF_H
#define ADVOCACY_INBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct inbuf inbuf;

typedef struct inbuf_record {
	uint16_t part;               /* the caller's partition number */
	int64_t offset;
	int64_t timestamp_ms;
	const void *key;             /* NULL when absent */
	size_t key_len;
	const void *payload;         /* NULL for a tombstone */
	size_t len;
} inbuf_record;

/* Returned by inbuf_put. */
enum {
	INBUF_OK = 0,
	INBUF_FULL = -1,             /* no room now; it fits once records are taken */
	INBUF_TOO_BIG = -2,          /* bigger than the whole ring: it never fits */
};

/*
 * A ring of budget bytes (headers and bytes together), its pages touched at
 * once so that they count as resident from the start; NULL when out of memory.
 */
inbuf *inbuf_new(size_t budget);
void inbuf_free(inbuf *b);

/* Copies the record in; returns INBUF_OK, INBUF_FULL or INBUF_TOO_BIG. */
int inbuf_put(inbuf *b, const inbuf_record *r);

/*
 * Takes the oldest record that is not dropped into out and returns true, or
 * returns false when none is left. out's key and payload point into the
 * ring and stay valid until the next inbuf_put or inbuf_free.
 */
bool inbuf_shift(inbuf *b, inbuf_record *out);

/* Records held and not dropped. */
size_t inbuf_count(const inbuf *b);

/* Drops every record whose part match() accepts; returns how many. */
size_t inbuf_purge(inbuf *b, bool (*match)(uint16_t part, void *opaque), void *opaque);

/* The offset of the oldest record of part that is held, or -1 when there is none. */
int64_t inbuf_first_offset(const inbuf *b, uint16_t part);

/* The ring's size in bytes, and the bytes its records take, dropped ones too. */
size_t inbuf_capacity(const inbuf *b);
size_t inbuf_used(const inbuf *b);

#endif
