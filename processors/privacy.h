/*
 * privacy.h - keyed pseudonyms for person identifiers.
 *
 * A pseudonym is the first 16 bytes of HMAC-SHA256(key, raw id). The key is
 * read from a file at start (never from the config text itself) and tagged
 * with a key id so that keys can rotate. Raw ids enter here and leave only as
 * pseudonyms: callers drop the raw id right after.
 *
 * A fixed-size, direct-mapped cache in front of the HMAC keeps the hot path
 * free of allocation and of most HMAC work: one slot per hash of the raw id,
 * overwritten on collision. The HMAC context is built once and reused.
 *
 * Single-threaded: one privacy object per thread.
 */
#ifndef ADVOCACY_PRIVACY_H
#define ADVOCACY_PRIVACY_H

#include <stddef.h>
#include <stdint.h>

#define PSEUDONYM_SIZE 16
#define PSEUDONYM_HEX_SIZE (2 * PSEUDONYM_SIZE + 1)

typedef struct pseudonym {
	uint8_t bytes[PSEUDONYM_SIZE];
} pseudonym;

typedef struct privacy privacy;

/*
 * Reads the key file: either at least 32 bytes of raw key material, or a
 * text file holding at least 64 hex digits (trailing newline ignored). A file
 * of printable text is read as hex, anything else as raw bytes. Files
 * readable by group or others are accepted; privacy_warning() then returns a
 * message to log. cache_slots is rounded up to a power of two; 0 picks the
 * default (65536). key_id NULL is stored as "". Returns 0, or -1 with errstr
 * naming the file and what is wrong with it.
 */
int privacy_new(const char *key_file, const char *key_id, size_t cache_slots,
                privacy **out, char *errstr, size_t errstr_size);

/* Wipes the key and the cache, then frees. NULL is accepted. */
void privacy_free(privacy *p);

/*
 * Computes (or finds in the cache) the pseudonym of the raw id. Ids longer
 * than 64 bytes bypass the cache. Aborts if OpenSSL fails on the keyed
 * context, because a wrong pseudonym would silently merge people.
 */
void privacy_pseudonym(privacy *p, const char *id, size_t id_len, pseudonym *out);

/*
 * Derives a secret for another purpose from the HMAC key: HMAC(key, label).
 * Distinct labels give independent secrets; out receives 32 bytes.
 */
void privacy_derive(privacy *p, const char *label, uint8_t out[32]);

const char *privacy_key_id(const privacy *p);

/* Returns the warning about the key file found by privacy_new(), or NULL. */
const char *privacy_warning(const privacy *p);

/*
 * Computes HMAC-SHA256(key, msg) in one call, without the cache. Slow (it sets
 * up a fresh context); meant for tests and tools. Returns 0, or -1 on failure.
 */
int privacy_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
                        uint8_t out[32]);

/* Cache statistics since privacy_new(). Ids too long to cache count as misses. */
uint64_t privacy_cache_hits(const privacy *p);
uint64_t privacy_cache_misses(const privacy *p);

/* Writes 32 lowercase hex digits and a NUL into out. */
void pseudonym_to_hex(const pseudonym *p, char out[PSEUDONYM_HEX_SIZE]);

int pseudonym_equal(const pseudonym *a, const pseudonym *b);

#endif
