/*
 * inbuf.c - the consumer's input buffer (see inbuf.h).
 *
 * Layout: records sit back to back in one byte area, each a header
 * followed by its key and payload, padded to 8 bytes. Records are added at
 * tail and taken at head. When a record does not fit between tail and the
 * end of the area, the area wraps: the used part of the upper segment ends
 * at wrap_end, and the record goes to offset 0 if head leaves room there.
 *
 *   not wrapped:  [ free | head .. tail | free ]
 *   wrapped:      [ 0 .. tail | free | head .. wrap_end | unused ]
 *
 * A dropped record keeps its place (its header is marked) until head moves
 * past it, so purging is one pass over the headers and never moves bytes.
 */
#include "inbuf.h"

#include <stdlib.h>
#include <string.h>

#define INBUF_ALIGN 8
#define INBUF_DROPPED 0x1
#define INBUF_HAS_KEY 0x2
#define INBUF_HAS_PAYLOAD 0x4

typedef struct inbuf_hdr {
	uint32_t size;               /* of header, key, payload and padding */
	uint16_t part;
	uint8_t flags;
	uint8_t unused;
	uint32_t key_len;
	uint32_t len;
	int64_t offset;
	int64_t timestamp_ms;
} inbuf_hdr;

struct inbuf {
	unsigned char *area;
	size_t cap;
	size_t head;                 /* the oldest record */
	size_t tail;                 /* where the next record goes */
	size_t wrap_end;             /* end of the upper segment while wrapped */
	bool wrapped;
	size_t count;                /* records not dropped */
	size_t records;              /* records in the area, dropped ones too */
};

inbuf *inbuf_new(size_t budget)
{
	inbuf *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cap = budget / INBUF_ALIGN * INBUF_ALIGN;
	b->area = malloc(b->cap ? b->cap : INBUF_ALIGN);
	if (!b->area) {
		free(b);
		return NULL;
	}
	/* Touch every page now, so the resident size is the same whether the
	 * ring is empty or full (a backlog or an outage does not grow it). */
	memset(b->area, 0, b->cap);
	return b;
}

void inbuf_free(inbuf *b)
{
	if (!b)
		return;
	free(b->area);
	free(b);
}

static size_t inbuf_record_size(size_t key_len, size_t len)
{
	size_t size = sizeof(inbuf_hdr) + key_len + len;
	return (size + INBUF_ALIGN - 1) / INBUF_ALIGN * INBUF_ALIGN;
}

/* The place for size bytes at the tail, wrapping when that makes room; NULL when full. */
static unsigned char *inbuf_reserve(inbuf *b, size_t size)
{
	size_t at;

	if (b->records == 0)
		b->head = b->tail = 0;   /* empty: start over at the bottom */
	if (!b->wrapped && b->cap - b->tail >= size) {
		at = b->tail;
	} else if (!b->wrapped && b->head >= size) {
		b->wrap_end = b->tail;
		b->wrapped = true;
		at = 0;
	} else if (b->wrapped && b->head - b->tail >= size) {
		at = b->tail;
	} else {
		return NULL;
	}
	b->tail = at + size;
	return b->area + at;
}

int inbuf_put(inbuf *b, const inbuf_record *r)
{
	size_t size = inbuf_record_size(r->key_len, r->len);
	unsigned char *p;
	inbuf_hdr h = { 0 };

	if (size > b->cap || r->key_len > UINT32_MAX || r->len > UINT32_MAX)
		return INBUF_TOO_BIG;
	p = inbuf_reserve(b, size);
	if (!p)
		return INBUF_FULL;

	h.size = (uint32_t)size;
	h.part = r->part;
	h.flags = (r->key ? INBUF_HAS_KEY : 0) | (r->payload ? INBUF_HAS_PAYLOAD : 0);
	h.key_len = r->key ? (uint32_t)r->key_len : 0;
	h.len = r->payload ? (uint32_t)r->len : 0;
	h.offset = r->offset;
	h.timestamp_ms = r->timestamp_ms;
	memcpy(p, &h, sizeof(h));
	if (h.key_len)
		memcpy(p + sizeof(h), r->key, h.key_len);
	if (h.len)
		memcpy(p + sizeof(h) + h.key_len, r->payload, h.len);
	b->count++;
	b->records++;
	return INBUF_OK;
}

/* The position after the record at pos, following the wrap. */
static size_t inbuf_next(const inbuf *b, size_t pos, size_t size)
{
	pos += size;
	if (b->wrapped && pos == b->wrap_end)
		pos = 0;
	return pos;
}

/* Removes the record at head. */
static void inbuf_pop(inbuf *b, const inbuf_hdr *h)
{
	b->head += h->size;
	b->records--;
	if (b->wrapped && b->head == b->wrap_end) {
		b->head = 0;
		b->wrapped = false;
	}
}

bool inbuf_shift(inbuf *b, inbuf_record *out)
{
	while (b->records > 0) {
		const unsigned char *p = b->area + b->head;
		inbuf_hdr h;

		memcpy(&h, p, sizeof(h));
		inbuf_pop(b, &h);
		if (h.flags & INBUF_DROPPED)
			continue;
		b->count--;
		out->part = h.part;
		out->offset = h.offset;
		out->timestamp_ms = h.timestamp_ms;
		out->key = h.flags & INBUF_HAS_KEY ? p + sizeof(h) : NULL;
		out->key_len = h.key_len;
		out->payload = h.flags & INBUF_HAS_PAYLOAD ? p + sizeof(h) + h.key_len : NULL;
		out->len = h.len;
		return true;
	}
	return false;
}

size_t inbuf_count(const inbuf *b)
{
	return b->count;
}

size_t inbuf_capacity(const inbuf *b)
{
	return b->cap;
}

size_t inbuf_used(const inbuf *b)
{
	if (b->records == 0)
		return 0;
	return b->wrapped ? b->wrap_end - b->head + b->tail : b->tail - b->head;
}

/*
 * Calls visit for each record from head to tail, dropped ones too, with a
 * pointer to its header in the area. Stops when visit returns false.
 */
static void inbuf_each(const inbuf *b, bool (*visit)(inbuf_hdr *h, void *arg), void *arg)
{
	size_t pos = b->head;

	for (size_t i = 0; i < b->records; i++) {
		inbuf_hdr *h = (inbuf_hdr *)(void *)(b->area + pos);
		if (!visit(h, arg))
			return;
		pos = inbuf_next(b, pos, h->size);
	}
}

typedef struct inbuf_purge_arg {
	bool (*match)(uint16_t part, void *opaque);
	void *opaque;
	size_t dropped;
} inbuf_purge_arg;

static bool inbuf_purge_visit(inbuf_hdr *h, void *arg)
{
	inbuf_purge_arg *pa = arg;

	if (!(h->flags & INBUF_DROPPED) && pa->match(h->part, pa->opaque)) {
		h->flags |= INBUF_DROPPED;
		pa->dropped++;
	}
	return true;
}

size_t inbuf_purge(inbuf *b, bool (*match)(uint16_t part, void *opaque), void *opaque)
{
	inbuf_purge_arg pa = { match, opaque, 0 };

	inbuf_each(b, inbuf_purge_visit, &pa);
	b->count -= pa.dropped;

	/* Dropped records at head give their room back at once. */
	while (b->records > 0) {
		inbuf_hdr h;
		memcpy(&h, b->area + b->head, sizeof(h));
		if (!(h.flags & INBUF_DROPPED))
			break;
		inbuf_pop(b, &h);
	}
	return pa.dropped;
}

typedef struct inbuf_first_arg {
	uint16_t part;
	int64_t offset;
} inbuf_first_arg;

static bool inbuf_first_visit(inbuf_hdr *h, void *arg)
{
	inbuf_first_arg *fa = arg;

	if ((h->flags & INBUF_DROPPED) || h->part != fa->part)
		return true;
	fa->offset = h->offset;
	return false;
}

int64_t inbuf_first_offset(const inbuf *b, uint16_t part)
{
	inbuf_first_arg fa = { part, -1 };

	inbuf_each(b, inbuf_first_visit, &fa);
	return fa.offset;
}
