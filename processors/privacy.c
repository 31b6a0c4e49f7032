/*
 * privacy.c - HMAC-SHA256 pseudonyms with a direct-mapped cache in front.
 *
 * privacy_new() reads the key file once, keys an OpenSSL 3 EVP_MAC HMAC
 * context with it and wipes every copy of the key it made. From then on the
 * key exists only inside that context, which OpenSSL wipes when it is freed.
 * Each cache miss re-initialises the keyed context with EVP_MAC_init(ctx,
 * NULL, 0, NULL), which restarts HMAC with the same key.
 *
 * The cache is an array of slots indexed by a fast, seeded, non-cryptographic
 * hash of the raw id. A slot stores a raw id of at most PRIVACY_CACHE_ID_MAX
 * bytes and its pseudonym (longer ids bypass the cache). A colliding id simply
 * overwrites the slot. The hash seed is derived from the key, so an outsider
 * cannot pick ids that all land on one slot. Nothing is allocated after
 * privacy_new() by this module. The cache contains raw ids, so it is wiped with
 * OPENSSL_cleanse() on free.
 *
 * Measured on the 2-core development machine (OpenSSL 3.0.19, gcc -O2, ids of
 * 12 to 17 bytes, the timing test in tests/unit/test_privacy.c): a cache miss
 * costs 210 to 350 ns and a hit 20 to 35 ns, depending on other load.
 *
 * NOTE: each miss makes two small allocations inside OpenSSL 3.0, because
 * re-initialising HMAC duplicates the digest context (counted with
 * CRYPTO_set_mem_functions). The deprecated SHA256_Init/Update/Final API with
 * copied inner and outer states avoids them and took about 110 ns per miss,
 * but that API is deprecated since OpenSSL 3.0. Hits, the common case,
 * allocate nothing.
 *
 * Thread: single-threaded, one privacy object per thread.
 */
#include "privacy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define PRIVACY_CACHE_ID_MAX 64
#define PRIVACY_DEFAULT_SLOTS 65536u
#define PRIVACY_MAX_SLOTS (1u << 24)
#define PRIVACY_RAW_KEY_MIN 32
#define PRIVACY_HEX_KEY_MIN 64
#define PRIVACY_KEY_FILE_MAX 4096

/* One cache entry. id_len is PRIVACY_SLOT_EMPTY while the slot is unused. */
typedef struct privacy_slot {
	uint8_t id[PRIVACY_CACHE_ID_MAX];
	pseudonym value;
	uint8_t id_len;
} privacy_slot;

#define PRIVACY_SLOT_EMPTY UINT8_MAX

struct privacy {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx; /* keyed once, re-initialised per miss */
	char *key_id;
	char warning[256]; /* empty when there is nothing to report */
	uint64_t hash_seed;
	privacy_slot *slots;
	size_t slot_mask;
	uint64_t hits;
	uint64_t misses;
};

/* ------------------------------------------------------------------------ */
/* Key file                                                                 */

static int privacy_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* True when every byte is printable ASCII or white space: the file is hex text. */
static bool privacy_is_text(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		if ((c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t')
			return false;
	}
	return true;
}

/*
 * Decodes hex text in place (the result is never longer than the text).
 * Trailing white space, such as the final newline, is ignored.
 */
static int privacy_decode_hex(const char *path, uint8_t *buf, size_t *len, char *errstr,
			      size_t errstr_size)
{
	size_t n = *len;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
			 buf[n - 1] == '\t'))
		n--;

	for (size_t i = 0; i < n; i++) {
		if (privacy_hex_value((char)buf[i]) < 0) {
			snprintf(errstr, errstr_size,
				 "key file %s: invalid hex digit at offset %zu; a text key file "
				 "must hold only hex digits",
				 path, i);
			return -1;
		}
	}
	if (n % 2 != 0) {
		snprintf(errstr, errstr_size, "key file %s: odd number of hex digits (%zu)", path,
			 n);
		return -1;
	}
	if (n < PRIVACY_HEX_KEY_MIN) {
		snprintf(errstr, errstr_size,
			 "key file %s: key too short: %zu hex digits, at least %d required", path,
			 n, PRIVACY_HEX_KEY_MIN);
		return -1;
	}

	for (size_t i = 0; i < n / 2; i++)
		buf[i] = (uint8_t)(privacy_hex_value((char)buf[2 * i]) << 4 |
				   privacy_hex_value((char)buf[2 * i + 1]));
	OPENSSL_cleanse(buf + n / 2, *len - n / 2);
	*len = n / 2;
	return 0;
}

/* Reads the whole file into buf (PRIVACY_KEY_FILE_MAX bytes) and checks its mode. */
static int privacy_read_file(privacy *p, const char *path, uint8_t *buf, size_t *len, char *errstr,
			     size_t errstr_size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(errstr, errstr_size, "key file %s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(errstr, errstr_size, "key file %s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		snprintf(p->warning, sizeof(p->warning),
			 "key file %s is accessible by group or others (mode %03o); "
			 "chmod 600 it",
			 path, (unsigned)(st.st_mode & 0777));

	size_t n = 0;
	ssize_t got;
	while (n < PRIVACY_KEY_FILE_MAX &&
	       (got = read(fd, buf + n, PRIVACY_KEY_FILE_MAX - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(errstr, errstr_size, "key file %s: read failed: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		n += (size_t)got;
	}
	close(fd);
	if (n == PRIVACY_KEY_FILE_MAX) {
		snprintf(errstr, errstr_size, "key file %s: larger than %d bytes", path,
			 PRIVACY_KEY_FILE_MAX - 1);
		return -1;
	}
	*len = n;
	return 0;
}

/*
 * Loads the key: a file of printable text is hex, anything else raw bytes.
 * Random raw key material is printable by chance with a probability below
 * 1e-13 for 32 bytes, so the rule does not misread real keys.
 */
static int privacy_load_key(privacy *p, const char *path, uint8_t *key, size_t *key_len,
			    char *errstr, size_t errstr_size)
{
	if (privacy_read_file(p, path, key, key_len, errstr, errstr_size) < 0)
		return -1;
	if (privacy_is_text(key, *key_len))
		return privacy_decode_hex(path, key, key_len, errstr, errstr_size);
	if (*key_len < PRIVACY_RAW_KEY_MIN) {
		snprintf(errstr, errstr_size,
			 "key file %s: key too short: %zu bytes, at least %d required", path,
			 *key_len, PRIVACY_RAW_KEY_MIN);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* HMAC                                                                     */

int privacy_hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len,
			uint8_t out[32])
{
	size_t out_len = 0;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, msg, msg_len, out, 32,
		       &out_len))
		return -1;
	return out_len == 32 ? 0 : -1;
}

static int privacy_init_mac(privacy *p, const uint8_t *key, size_t key_len)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};

	p->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!p->mac)
		return -1;
	p->ctx = EVP_MAC_CTX_new(p->mac);
	if (!p->ctx)
		return -1;
	return EVP_MAC_init(p->ctx, key, key_len, params) ? 0 : -1;
}

/* Full HMAC of msg with the keyed context; out receives all 32 bytes. */
static void privacy_mac(privacy *p, const void *msg, size_t len, uint8_t out[32])
{
	size_t out_len = 0;
	if (!EVP_MAC_init(p->ctx, NULL, 0, NULL) || !EVP_MAC_update(p->ctx, msg, len) ||
	    !EVP_MAC_final(p->ctx, out, &out_len, 32) || out_len != 32) {
		/*
		 * This fails only when OpenSSL cannot allocate. Going on would
		 * hand out a wrong pseudonym and merge people, so stop.
		 */
		fputs("privacy: HMAC-SHA256 failed on a keyed context; aborting\n", stderr);
		abort();
	}
}

/* ------------------------------------------------------------------------ */
/* Cache                                                                    */

/* Seeded multiply-xorshift hash over 8-byte words; not cryptographic. */
static uint64_t privacy_hash(uint64_t seed, const uint8_t *s, size_t len)
{
	const uint64_t k = 0x9e3779b97f4a7c15ull;
	uint64_t h = seed ^ (len * k);
	uint64_t w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * k;
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h;
}

static size_t privacy_round_slots(size_t slots)
{
	size_t n = 1;
	if (slots == 0)
		return PRIVACY_DEFAULT_SLOTS;
	if (slots > PRIVACY_MAX_SLOTS)
		return PRIVACY_MAX_SLOTS;
	while (n < slots)
		n <<= 1;
	return n;
}

static int privacy_init_cache(privacy *p, size_t cache_slots)
{
	uint8_t seed[32];
	static const char label[] = "advocacyd pseudonym cache seed";

	size_t n = privacy_round_slots(cache_slots);
	p->slots = malloc(n * sizeof(*p->slots));
	if (!p->slots)
		return -1;
	for (size_t i = 0; i < n; i++)
		p->slots[i].id_len = PRIVACY_SLOT_EMPTY;
	p->slot_mask = n - 1;

	privacy_mac(p, label, sizeof(label) - 1, seed);
	memcpy(&p->hash_seed, seed, sizeof(p->hash_seed));
	OPENSSL_cleanse(seed, sizeof(seed));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* API                                                                      */

void privacy_derive(privacy *p, const char *label, uint8_t out[32])
{
	privacy_mac(p, label, strlen(label), out);
}

int privacy_new(const char *key_file, const char *key_id, size_t cache_slots, privacy **out,
		char *errstr, size_t errstr_size)
{
	uint8_t key[PRIVACY_KEY_FILE_MAX];
	size_t key_len = 0;
	int rc = -1;

	*out = NULL;
	privacy *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(errstr, errstr_size, "privacy: out of memory");
		return -1;
	}
	if (privacy_load_key(p, key_file, key, &key_len, errstr, errstr_size) < 0)
		goto out;
	if (privacy_init_mac(p, key, key_len) < 0) {
		snprintf(errstr, errstr_size, "privacy: setting up HMAC-SHA256 in OpenSSL failed");
		goto out;
	}
	p->key_id = strdup(key_id ? key_id : "");
	if (!p->key_id || privacy_init_cache(p, cache_slots) < 0) {
		snprintf(errstr, errstr_size, "privacy: out of memory");
		goto out;
	}
	*out = p;
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (rc < 0)
		privacy_free(p);
	return rc;
}

void privacy_free(privacy *p)
{
	if (!p)
		return;
	if (p->slots)
		OPENSSL_cleanse(p->slots, (p->slot_mask + 1) * sizeof(*p->slots));
	free(p->slots);
	EVP_MAC_CTX_free(p->ctx);
	EVP_MAC_free(p->mac);
	free(p->key_id);
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

void privacy_pseudonym(privacy *p, const char *id, size_t id_len, pseudonym *out)
{
	uint8_t digest[32];

	if (id_len > PRIVACY_CACHE_ID_MAX) {
		p->misses++;
		privacy_mac(p, id, id_len, digest);
		memcpy(out->bytes, digest, PSEUDONYM_SIZE);
		return;
	}

	privacy_slot *slot =
	    &p->slots[privacy_hash(p->hash_seed, (const uint8_t *)id, id_len) & p->slot_mask];
	if (slot->id_len == id_len && memcmp(slot->id, id, id_len) == 0) {
		p->hits++;
		*out = slot->value;
		return;
	}

	p->misses++;
	privacy_mac(p, id, id_len, digest);
	memcpy(slot->value.bytes, digest, PSEUDONYM_SIZE);
	memcpy(slot->id, id, id_len);
	slot->id_len = (uint8_t)id_len;
	*out = slot->value;
}

const char *privacy_key_id(const privacy *p)
{
	return p->key_id;
}

const char *privacy_warning(const privacy *p)
{
	return p->warning[0] ? p->warning : NULL;
}

uint64_t privacy_cache_hits(const privacy *p)
{
	return p->hits;
}

uint64_t privacy_cache_misses(const privacy *p)
{
	return p->misses;
}

void pseudonym_to_hex(const pseudonym *p, char out[PSEUDONYM_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < PSEUDONYM_SIZE; i++) {
		out[2 * i] = digits[p->bytes[i] >> 4];
		out[2 * i + 1] = digits[p->bytes[i] & 0x0f];
	}
	out[2 * PSEUDONYM_SIZE] = '\0';
}

int pseudonym_equal(const pseudonym *a, const pseudonym *b)
{
	return memcmp(a->bytes, b->bytes, PSEUDONYM_SIZE) == 0;
}
