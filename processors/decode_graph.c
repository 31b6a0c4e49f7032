/*
 * decode_graph.c - Microsoft Graph change notifications about Teams
 * chatMessage resources to canonical events.
 *
 * decode_graph_open() parses the message with jansson and finds the
 * notifications: the "value" array of a collection, or the document itself.
 * A connector may also wrap the whole document in a JSON string; one such
 * level is unwrapped. decode_graph_next() then walks the notifications. For
 * each it first finds the chatMessage (decrypting encryptedContent when
 * present), checks what the notification is about, then yields the main
 * event of the change and one event per reaction on the message.
 *
 * Decryption follows the steps of Microsoft's "Decrypting resource data"
 * section of the Graph change notification docs. The encryptionCertificateId
 * picks the key. RSA-OAEP with SHA-1 and MGF1-SHA-1 (the docs' cipher suite
 * RSA/ECB/OAEPWithSHA1AndMGF1Padding) recovers the symmetric key from
 * dataKey. HMAC-SHA256 of the still encrypted data under that key must equal
 * dataSignature, compared in constant time, before anything is decrypted.
 * Then AES-CBC with PKCS7 padding decrypts the data, with the first 16 bytes
 * of the symmetric key as IV. The RSA, HMAC and cipher contexts and the two
 * byte buffers live as long as the decoder; the buffers grow to the largest
 * notification seen and are wiped when freed.
 *
 * Thread: a decoder is used by one thread at a time.
 * Limits: a message longer than DECODE_GRAPH_MAX_MESSAGE bytes, or an id or
 * attribute value longer than DECODE_GRAPH_MAX_ID bytes, is DECODE_INVALID.
 * Mentions beyond EVENT_MAX_TARGETS distinct targets are dropped. A reaction
 * removed from a message yields nothing: Graph sends the reactions a message
 * has now, so seeing a removal would need the previous set of every message.
 * The validationTokens (JWTs proving that Microsoft sent the notification)
 * are not checked here: that needs Microsoft's signing keys, fetched over the
 * network, and is the job of the endpoint that receives the webhook.
 * NOTE: jansson allocates every node of the parsed documents, so this adapter
 * allocates per message, as the Slack adapter does; each encrypted
 * notification also costs one RSA private-key operation: about 0.25 ms for a
 * 2048-bit key ("openssl speed rsa2048", OpenSSL 3.0.19, 2-core AMD EPYC VM),
 * far above the canonical Avro path.
 */
#include "decode_graph.h"
#include "decode_json.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* Maximum message size in bytes, the same limit as the Slack adapter's. */
#define DECODE_GRAPH_MAX_MESSAGE (1024 * 1024)

/* Maximum length of an id or attribute value, as for canonical Avro events. */
#define DECODE_GRAPH_MAX_ID 256

/* Longest ISO 8601 time kept in an event id ("2021-02-02T10:30:34.9097561-08:00"). */
#define DECODE_GRAPH_MAX_TIME 40

/* Room for "<conversation>/<message>:reaction:<user>:<type>:<time>". */
#define DECODE_GRAPH_EVENT_ID_SIZE (4 * DECODE_GRAPH_MAX_ID + DECODE_GRAPH_MAX_TIME + 16)

/* Symmetric key sizes accepted from dataKey: AES-128, -192 and -256. */
#define DECODE_GRAPH_IV_SIZE 16

typedef struct decode_graph_key {
	char id[DECODE_GRAPH_MAX_CERT_ID + 1];
	EVP_PKEY *pkey;
	EVP_PKEY_CTX *rsa; /* set up once for RSA-OAEP decryption */
} decode_graph_key;

/* A growable byte buffer, wiped before it is released. */
typedef struct decode_graph_buf {
	unsigned char *data;
	size_t size;
} decode_graph_buf;

typedef enum decode_graph_change {
	DECODE_GRAPH_CREATED,
	DECODE_GRAPH_UPDATED,
	DECODE_GRAPH_DELETED,
} decode_graph_change;

struct decode_graph {
	/* The open message. */
	json_t *doc;
	json_t *unwrapped;    /* the document inside a JSON string, if it was one */
	const json_t *items;  /* "value" array, or NULL for a single notification */
	const json_t *single; /* the notification of a message without "value" */
	size_t n_items;
	size_t next_item;

	/* The current notification. */
	json_t *resource;  /* decrypted chatMessage, owned */
	const json_t *msg; /* the chatMessage, in resource or in the message */
	const json_t *reactions;
	size_t next_reaction;
	size_t yielded; /* outcomes of this notification so far */
	bool main_pending;
	decode_graph_change change;
	event_str author;
	event_str message_id;
	event_str conversation; /* channelId or chatId */
	event_str team;
	bool is_channel;
	char event_id[DECODE_GRAPH_EVENT_ID_SIZE];

	/* Decryption state, reused for every notification. */
	decode_graph_key keys[DECODE_GRAPH_MAX_KEYS];
	size_t n_keys;
	EVP_MAC *mac;
	EVP_MAC_CTX *mac_ctx;
	EVP_CIPHER_CTX *cipher;
	decode_graph_buf raw;	/* base64-decoded data, dataKey and dataSignature */
	decode_graph_buf plain; /* the decrypted chatMessage */
};

/* ----------------------------------------------------------------------------
 * Lifecycle and keys
 * ------------------------------------------------------------------------- */

decode_graph *decode_graph_new(void)
{
	decode_graph *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	d->mac_ctx = d->mac ? EVP_MAC_CTX_new(d->mac) : NULL;
	d->cipher = EVP_CIPHER_CTX_new();
	if (d->mac_ctx == NULL || d->cipher == NULL) {
		decode_graph_free(d);
		return NULL;
	}
	return d;
}

static void decode_graph_close(decode_graph *d)
{
	json_decref(d->resource);
	d->resource = NULL;
	d->msg = NULL;
	json_decref(d->unwrapped);
	d->unwrapped = NULL;
	json_decref(d->doc);
	d->doc = NULL;
	d->items = NULL;
	d->single = NULL;
	d->n_items = 0;
	d->next_item = 0;
}

static void decode_graph_buf_free(decode_graph_buf *b)
{
	OPENSSL_clear_free(b->data, b->size);
	b->data = NULL;
	b->size = 0;
}

void decode_graph_free(decode_graph *d)
{
	if (d == NULL)
		return;
	decode_graph_close(d);
	for (size_t i = 0; i < d->n_keys; i++) {
		EVP_PKEY_CTX_free(d->keys[i].rsa);
		EVP_PKEY_free(d->keys[i].pkey);
	}
	EVP_MAC_CTX_free(d->mac_ctx);
	EVP_MAC_free(d->mac);
	EVP_CIPHER_CTX_free(d->cipher);
	decode_graph_buf_free(&d->raw);
	decode_graph_buf_free(&d->plain);
	free(d);
}

/* A PEM pass phrase callback that never prompts: encrypted keys fail to load. */
static int decode_graph_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *decode_graph_read_pem(const char *file, char *errstr, size_t errstr_size)
{
	FILE *f = fopen(file, "r");
	EVP_PKEY *pkey;

	if (f == NULL) {
		snprintf(errstr, errstr_size, "cannot open private key file '%s'; fix the path",
			 file);
		return NULL;
	}
	pkey = PEM_read_PrivateKey(f, NULL, decode_graph_no_passphrase, NULL);
	fclose(f);
	if (pkey == NULL)
		snprintf(errstr, errstr_size,
			 "'%s' holds no unencrypted PEM private key; export the key of the "
			 "subscription's encryption certificate without a pass phrase",
			 file);
	return pkey;
}

/* Checks that pkey is RSA of 2048 to 4096 bits, as Graph requires. */
static int decode_graph_check_rsa(EVP_PKEY *pkey, const char *file, char *errstr,
				  size_t errstr_size)
{
	int bits = EVP_PKEY_get_bits(pkey);

	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		snprintf(errstr, errstr_size,
			 "the key in '%s' is not an RSA key; Graph encrypts dataKey with RSA",
			 file);
		return -1;
	}
	if (bits < 2048 || bits > 4096) {
		snprintf(errstr, errstr_size,
			 "the RSA key in '%s' has %d bits; Graph accepts 2048 to 4096", file, bits);
		return -1;
	}
	return 0;
}

/* Sets up ctx once for RSA-OAEP with SHA-1 and MGF1-SHA-1 decryption. */
static EVP_PKEY_CTX *decode_graph_rsa_ctx(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);

	if (ctx == NULL || EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int decode_graph_add_key(decode_graph *d, const char *certificate_id, const char *file,
			 char *errstr, size_t errstr_size)
{
	decode_graph_key *k = &d->keys[d->n_keys];

	if (d->n_keys == DECODE_GRAPH_MAX_KEYS) {
		snprintf(errstr, errstr_size, "more than %d Graph keys; remove retired ones",
			 DECODE_GRAPH_MAX_KEYS);
		return -1;
	}
	if (strlen(certificate_id) == 0 || strlen(certificate_id) > DECODE_GRAPH_MAX_CERT_ID) {
		snprintf(errstr, errstr_size, "a certificate id must be 1 to %d characters long",
			 DECODE_GRAPH_MAX_CERT_ID);
		return -1;
	}
	k->pkey = decode_graph_read_pem(file, errstr, errstr_size);
	if (k->pkey == NULL)
		return -1;
	if (decode_graph_check_rsa(k->pkey, file, errstr, errstr_size) < 0 ||
	    (k->rsa = decode_graph_rsa_ctx(k->pkey)) == NULL) {
		if (k->rsa == NULL && errstr[0] == '\0')
			snprintf(errstr, errstr_size, "cannot set up RSA-OAEP for '%s'", file);
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
		return -1;
	}
	snprintf(k->id, sizeof(k->id), "%s", certificate_id);
	d->n_keys++;
	return 0;
}

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static decode_status decode_graph_missing(decode_result *res, const char *field)
{
	return decode_json_missing_expected(res, field, "not a string");
}

/* Returns the object at a path of member names, or NULL. */
static const json_t *decode_graph_path(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);

	return b == NULL ? v : json_object_get(v, b);
}

/* Adds id unless it is absent, the actor's own or already there. */
static void decode_graph_add_target(event *ev, event_str id)
{
	if (id.len == 0 || ev->target_count == EVENT_MAX_TARGETS)
		return;
	if (decode_json_str_equal(id, ev->actor_id))
		return;
	for (size_t i = 0; i < ev->target_count; i++)
		if (decode_json_str_equal(id, ev->target_ids[i]))
			return;
	ev->target_ids[ev->target_count++] = id;
}

/* ----------------------------------------------------------------------------
 * Times: ISO 8601 strings, or numbers from connectors that convert them
 * ------------------------------------------------------------------------- */

/* Reads n digits at s[*i]; returns -1 when they are not all digits. */
static int64_t decode_graph_digits(event_str s, size_t *i, size_t n)
{
	int64_t v = 0;

	if (*i + n > s.len)
		return -1;
	for (size_t k = 0; k < n; k++, (*i)++) {
		if (s.ptr[*i] < '0' || s.ptr[*i] > '9')
			return -1;
		v = v * 10 + (s.ptr[*i] - '0');
	}
	return v;
}

static bool decode_graph_expect(event_str s, size_t *i, char c)
{
	if (*i >= s.len || s.ptr[*i] != c)
		return false;
	(*i)++;
	return true;
}

/* Reads an optional fraction of a second as milliseconds; extra digits are checked only. */
static int64_t decode_graph_fraction(event_str s, size_t *i)
{
	int64_t ms = 0, place = 100;

	if (*i >= s.len || s.ptr[*i] != '.')
		return 0;
	(*i)++;
	if (*i >= s.len || s.ptr[*i] < '0' || s.ptr[*i] > '9')
		return -1;
	for (; *i < s.len && s.ptr[*i] >= '0' && s.ptr[*i] <= '9'; (*i)++) {
		ms += (s.ptr[*i] - '0') * place;
		place /= 10;
	}
	return ms;
}

/* Reads "Z" or "+HH:MM" / "-HH:MM" as an offset in minutes; INT64_MIN when invalid. */
static int64_t decode_graph_offset(event_str s, size_t *i)
{
	if (*i < s.len && (s.ptr[*i] == 'Z' || s.ptr[*i] == 'z')) {
		(*i)++;
		return 0;
	}
	if (*i >= s.len || (s.ptr[*i] != '+' && s.ptr[*i] != '-'))
		return INT64_MIN;
	int64_t sign = s.ptr[(*i)++] == '-' ? -1 : 1;
	int64_t hh = decode_graph_digits(s, i, 2);
	if (hh < 0 || hh > 23 || !decode_graph_expect(s, i, ':'))
		return INT64_MIN;
	int64_t mm = decode_graph_digits(s, i, 2);
	return mm < 0 || mm > 59 ? INT64_MIN : sign * (hh * 60 + mm);
}

/* Returns the number of days of month mo (1 to 12) of year y, Gregorian. */
static int64_t decode_graph_month_days(int64_t y, int64_t mo)
{
	static const int64_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mo == 2 && leap ? 29 : days[mo - 1];
}

/* Parses "2021-02-02T18:19:52.105Z" or "...52.9097561-08:00" into ms; 0 when invalid. */
static int64_t decode_graph_iso_ms(event_str s)
{
	size_t i = 0;
	int64_t y = decode_graph_digits(s, &i, 4);
	int64_t mo = decode_graph_expect(s, &i, '-') ? decode_graph_digits(s, &i, 2) : -1;
	int64_t d = decode_graph_expect(s, &i, '-') ? decode_graph_digits(s, &i, 2) : -1;
	bool t = decode_graph_expect(s, &i, 'T') || decode_graph_expect(s, &i, 't');
	int64_t h = t ? decode_graph_digits(s, &i, 2) : -1;
	int64_t mi = decode_graph_expect(s, &i, ':') ? decode_graph_digits(s, &i, 2) : -1;
	int64_t se = decode_graph_expect(s, &i, ':') ? decode_graph_digits(s, &i, 2) : -1;

	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || se < 0 || se > 60)
		return 0;
	if (d > decode_graph_month_days(y, mo))
		return 0; /* e.g. 2025-02-29, which decode_json_days_from_civil() would roll into
			     March */
	int64_t frac = decode_graph_fraction(s, &i);
	int64_t offset = decode_graph_offset(s, &i);
	if (frac < 0 || offset == INT64_MIN || i != s.len)
		return 0;

	int64_t secs = decode_json_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	int64_t ms = (secs - offset * 60) * 1000 + frac;
	return ms > 0 ? ms : 0;
}

/*
 * Returns the time in member key of obj in ms, 0 when absent or invalid. A
 * number is taken as epoch milliseconds, or seconds when below 10^11.
 */
static int64_t decode_graph_time(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return decode_graph_iso_ms(decode_json_str(obj, key));
	if (!json_is_number(v))
		return 0;
	double n = json_number_value(v);
	if (!(n > 0) || n >= 9.2e15)
		return 0;
	return n < 1e11 ? (int64_t)(n * 1000) : (int64_t)n;
}

/* ----------------------------------------------------------------------------
 * Decryption of encryptedContent
 * ------------------------------------------------------------------------- */

static int decode_graph_buf_reserve(decode_graph_buf *b, size_t size)
{
	if (b->size >= size)
		return 0;
	unsigned char *grown = OPENSSL_malloc(size);
	if (grown == NULL)
		return -1;
	OPENSSL_clear_free(b->data, b->size);
	b->data = grown;
	b->size = size;
	return 0;
}

static int decode_graph_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

/*
 * Decodes standard base64 (padding optional) into out, which has room for
 * s.len * 3 / 4 + 3 bytes. Returns the length, or -1 when s is not base64.
 */
static long decode_graph_base64(event_str s, unsigned char *out)
{
	size_t len = s.len, n = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (len > 0 && s.ptr[len - 1] == '=' && s.len - len < 2)
		len--;
	if (len == 0 || len % 4 == 1 || (len != s.len && s.len % 4 != 0))
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = decode_graph_b64_value((unsigned char)s.ptr[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)n;
}

/* Decodes member key of enc into the raw buffer at *used; returns its length or -1. */
static long decode_graph_field(decode_graph *d, const json_t *enc, const char *key, size_t *used,
			       decode_result *res)
{
	event_str s = decode_json_str(enc, key);
	char field[48];

	snprintf(field, sizeof(field), "encryptedContent.%s", key);
	if (s.len == 0) {
		decode_graph_missing(res, field);
		return -1;
	}
	long n = decode_graph_base64(s, d->raw.data + *used);
	if (n < 0) {
		decode_json_reject(res, DECODE_INVALID, "bad_base64", "%s is not valid base64",
				   field);
		return -1;
	}
	*used += (size_t)n;
	return n;
}

static const decode_graph_key *decode_graph_find_key(const decode_graph *d, event_str id)
{
	for (size_t i = 0; i < d->n_keys; i++)
		if (event_str_eq(id, d->keys[i].id))
			return &d->keys[i];
	return NULL;
}

/* Recovers the symmetric key from dataKey into key; returns its length or -1. */
static long decode_graph_data_key(const decode_graph_key *k, const unsigned char *in, size_t in_len,
				  unsigned char *key, decode_result *res)
{
	unsigned char out[512]; /* a 4096-bit RSA block */
	size_t out_len = sizeof(out);

	if (EVP_PKEY_decrypt(k->rsa, out, &out_len, in, in_len) <= 0 ||
	    (out_len != 16 && out_len != 24 && out_len != 32)) {
		OPENSSL_cleanse(out, sizeof(out));
		decode_json_reject(res, DECODE_INVALID, "bad_data_key",
				   "dataKey does not decrypt with the key of its "
				   "encryptionCertificateId to an AES key (RSA-OAEP)");
		return -1;
	}
	memcpy(key, out, out_len);
	OPENSSL_cleanse(out, sizeof(out));
	return (long)out_len;
}

/* Compares HMAC-SHA256(key, data) with sig in constant time. */
static decode_status decode_graph_verify(decode_graph *d, const unsigned char *key, size_t key_len,
					 const unsigned char *data, size_t data_len,
					 const unsigned char *sig, size_t sig_len,
					 decode_result *res)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	unsigned char mac[32];
	size_t mac_len = 0;

	if (!EVP_MAC_init(d->mac_ctx, key, key_len, params) ||
	    !EVP_MAC_update(d->mac_ctx, data, data_len) ||
	    !EVP_MAC_final(d->mac_ctx, mac, &mac_len, sizeof(mac)))
		return decode_json_reject(res, DECODE_INVALID, "bad_signature",
					  "HMAC-SHA256 of the encrypted data could not be "
					  "computed");
	if (sig_len != mac_len || CRYPTO_memcmp(mac, sig, mac_len) != 0)
		return decode_json_reject(res, DECODE_INVALID, "bad_signature",
					  "dataSignature does not match HMAC-SHA256 of the "
					  "encrypted data; the notification was not decrypted");
	return DECODE_OK;
}

static const EVP_CIPHER *decode_graph_aes(size_t key_len)
{
	if (key_len == 16)
		return EVP_aes_128_cbc();
	return key_len == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
}

/* AES-CBC with PKCS7 padding, IV = first 16 bytes of the key, into d->plain. */
static long decode_graph_aes_cbc(decode_graph *d, const unsigned char *key, size_t key_len,
				 const unsigned char *data, size_t data_len, decode_result *res)
{
	int n1 = 0, n2 = 0;

	if (data_len == 0 || data_len % 16 != 0 || data_len > INT32_MAX ||
	    !EVP_DecryptInit_ex(d->cipher, decode_graph_aes(key_len), NULL, key, key) ||
	    !EVP_DecryptUpdate(d->cipher, d->plain.data, &n1, data, (int)data_len) ||
	    !EVP_DecryptFinal_ex(d->cipher, d->plain.data + n1, &n2)) {
		decode_json_reject(res, DECODE_INVALID, "bad_padding",
				   "the data does not decrypt to PKCS7-padded AES-CBC blocks");
		return -1;
	}
	return (long)n1 + n2;
}

/* Parses the decrypted chatMessage into d->resource. */
static decode_status decode_graph_parse_resource(decode_graph *d, size_t len, decode_result *res)
{
	json_error_t error;

	d->resource = json_loadb((const char *)d->plain.data, len, 0, &error);
	OPENSSL_cleanse(d->plain.data, len);
	if (d->resource == NULL)
		return decode_json_reject(res, DECODE_INVALID, "invalid_resource",
					  "the decrypted data is not a JSON object (line %d, "
					  "column %d)",
					  error.line, error.column);
	d->msg = d->resource;
	return DECODE_OK;
}

/* Verifies and decrypts encryptedContent; on success d->msg is the chatMessage. */
static decode_status decode_graph_decrypt(decode_graph *d, const json_t *enc, decode_result *res)
{
	unsigned char key[32];
	size_t used = 0, cap = 0;
	const char *fields[] = {"data", "dataKey", "dataSignature"};

	if (!json_is_object(enc))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "encryptedContent is not an object");
	const decode_graph_key *k =
	    decode_graph_find_key(d, decode_json_str(enc, "encryptionCertificateId"));
	if (k == NULL)
		return decode_json_reject(res, DECODE_INVALID, "unknown_key",
					  "no configured key has the notification's "
					  "encryptionCertificateId; add it under graph.keys");

	for (size_t i = 0; i < 3; i++)
		cap += decode_json_str(enc, fields[i]).len / 4 * 3 + 3;
	if (decode_graph_buf_reserve(&d->raw, cap) < 0 ||
	    decode_graph_buf_reserve(&d->plain, cap + DECODE_GRAPH_IV_SIZE) < 0)
		return decode_json_reject(res, DECODE_INVALID, "out_of_memory",
					  "no memory to decrypt the notification");

	long data_len = decode_graph_field(d, enc, "data", &used, res);
	size_t key_at = used;
	long wrapped_len = data_len < 0 ? -1 : decode_graph_field(d, enc, "dataKey", &used, res);
	size_t sig_at = used;
	long sig_len =
	    wrapped_len < 0 ? -1 : decode_graph_field(d, enc, "dataSignature", &used, res);
	if (sig_len < 0)
		return res->status;

	long key_len =
	    decode_graph_data_key(k, d->raw.data + key_at, (size_t)wrapped_len, key, res);
	if (key_len < 0)
		return res->status;
	decode_status st =
	    decode_graph_verify(d, key, (size_t)key_len, d->raw.data, (size_t)data_len,
				d->raw.data + sig_at, (size_t)sig_len, res);
	long plain_len = st == DECODE_OK ? decode_graph_aes_cbc(d, key, (size_t)key_len,
								d->raw.data, (size_t)data_len, res)
					 : -1;
	OPENSSL_cleanse(key, sizeof(key));
	if (plain_len < 0)
		return res->status;
	return decode_graph_parse_resource(d, (size_t)plain_len, res);
}

/* ----------------------------------------------------------------------------
 * One notification: what it is about, its chatMessage, author and place
 * ------------------------------------------------------------------------- */

/* True when the notification is about a chatMessage (by type, else by path or content). */
static bool decode_graph_is_chat_message(const json_t *n)
{
	const json_t *data = json_object_get(n, "resourceData");
	event_str type = decode_json_str(data, "@odata.type");
	event_str path = decode_json_str(n, "resource");

	if (type.len > 0)
		return decode_json_icontains(type, "chatmessage");
	return json_object_get(data, "messageType") != NULL ||
	       decode_json_icontains(path, "/messages(") ||
	       decode_json_icontains(path, "/replies(");
}

static decode_status decode_graph_change_type(decode_graph *d, const json_t *n, decode_result *res)
{
	event_str change = decode_json_str(n, "changeType");

	if (decode_json_ieq(change, "created"))
		d->change = DECODE_GRAPH_CREATED;
	else if (decode_json_ieq(change, "updated"))
		d->change = DECODE_GRAPH_UPDATED;
	else if (decode_json_ieq(change, "deleted"))
		d->change = DECODE_GRAPH_DELETED;
	else
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_change",
					  "the changeType is not created, updated or deleted");
	return DECODE_OK;
}

/* Finds the chatMessage: encryptedContent, else a full resourceData. */
static decode_status decode_graph_resource(decode_graph *d, const json_t *n, decode_result *res)
{
	const json_t *enc = json_object_get(n, "encryptedContent");
	const json_t *data = json_object_get(n, "resourceData");

	if (enc != NULL && !json_is_null(enc))
		return decode_graph_decrypt(d, enc, res);
	if (json_is_object(data) && json_object_get(data, "messageType") != NULL) {
		d->msg = data;
		return DECODE_OK;
	}
	return decode_json_reject(res, DECODE_IGNORED, "no_resource_data",
				  "the notification carries no message (subscribe with "
				  "includeResourceData) and so no author");
}

/* Ignores system messages and messages sent by applications or devices. */
static decode_status decode_graph_filter(const json_t *msg, decode_result *res)
{
	event_str type = decode_json_str(msg, "messageType");
	const json_t *from = json_object_get(msg, "from");
	const json_t *app = json_object_get(from, "application");
	const json_t *device = json_object_get(from, "device");

	if (type.len > 0 && !event_str_eq(type, "message"))
		return decode_json_reject(res, DECODE_IGNORED, "system_message",
					  "the messageType is not message (a system event or "
					  "a future type)");
	if ((app != NULL && !json_is_null(app)) || (device != NULL && !json_is_null(device)))
		return decode_json_reject(res, DECODE_IGNORED, "bot_message",
					  "the message was sent by an application or device");
	if (from == NULL || json_is_null(from))
		return decode_json_reject(res, DECODE_IGNORED, "system_message",
					  "the message has no sender");
	return DECODE_OK;
}

/* Returns the quoted key of "name('key')" in a resource path, or an absent string. */
static event_str decode_graph_path_key(event_str path, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i + n + 2 <= path.len; i++) {
		if (memcmp(path.ptr + i, name, n) != 0 || memcmp(path.ptr + i + n, "('", 2) != 0)
			continue;
		size_t start = i + n + 2, end = start;
		while (end < path.len && path.ptr[end] != '\'')
			end++;
		if (end < path.len && end > start)
			return (event_str){path.ptr + start, end - start};
	}
	return (event_str){NULL, 0};
}

/* Sets the conversation (channel or chat) and team from the message, else the path. */
static decode_status decode_graph_place(decode_graph *d, const json_t *n, decode_result *res)
{
	const json_t *ci = json_object_get(d->msg, "channelIdentity");
	event_str path = decode_json_str(n, "resource");

	d->conversation = decode_json_str(ci, "channelId");
	d->team = decode_json_str(ci, "teamId");
	if (d->conversation.len == 0)
		d->conversation = decode_graph_path_key(path, "channels");
	if (d->team.len == 0)
		d->team = decode_graph_path_key(path, "teams");
	d->is_channel = d->conversation.len > 0;
	if (!d->is_channel)
		d->conversation = decode_json_str(d->msg, "chatId");
	if (d->conversation.len == 0)
		d->conversation = decode_graph_path_key(path, "chats");
	if (d->conversation.len == 0)
		return decode_graph_missing(res, "channelIdentity.channelId or chatId");
	return DECODE_OK;
}

/* Checks one notification and readies its events. */
static decode_status decode_graph_prepare(decode_graph *d, const json_t *n, decode_result *res)
{
	if (!json_is_object(n))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "a notification is not a JSON object");
	if (json_object_get(n, "lifecycleEvent") != NULL)
		return decode_json_reject(res, DECODE_IGNORED, "lifecycle_event",
					  "a lifecycle notification concerns the subscription, "
					  "not a message");
	if (json_object_get(n, "changeType") == NULL)
		return decode_json_reject(res, DECODE_IGNORED, "not_a_notification",
					  "the object has neither changeType nor lifecycleEvent");
	if (!decode_graph_is_chat_message(n))
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_resource",
					  "the notification is not about a chatMessage");

	decode_status st = decode_graph_change_type(d, n, res);
	if (st == DECODE_OK)
		st = decode_graph_resource(d, n, res);
	if (st == DECODE_OK && !json_is_object(d->msg))
		st = decode_json_reject(res, DECODE_INVALID, "invalid_resource",
					"the decrypted data is not a JSON object");
	if (st == DECODE_OK)
		st = decode_graph_filter(d->msg, res);
	if (st != DECODE_OK)
		return st;

	d->author = decode_json_str(decode_graph_path(d->msg, "from", "user"), "id");
	if (d->author.len == 0)
		return decode_graph_missing(res, "from.user.id");
	d->message_id = decode_json_str(d->msg, "id");
	if (d->message_id.len == 0)
		d->message_id = decode_json_str(json_object_get(n, "resourceData"), "id");
	if (d->message_id.len == 0)
		return decode_graph_missing(res, "id");
	decode_status placed = decode_graph_place(d, n, res);
	if (placed != DECODE_OK)
		return placed;
	if (d->message_id.len > DECODE_GRAPH_MAX_ID || d->conversation.len > DECODE_GRAPH_MAX_ID ||
	    d->author.len > DECODE_GRAPH_MAX_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					  "an id is longer than %d bytes", DECODE_GRAPH_MAX_ID);
	return DECODE_OK;
}

/* ----------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------- */

/* Writes "<conversation>/<message>:<suffix parts>" into the id buffer. */
static void decode_graph_event_id(decode_graph *d, event *ev, const char *what, event_str a,
				  event_str b, event_str c)
{
	int n = snprintf(d->event_id, sizeof(d->event_id), "%.*s/%.*s:%s", (int)d->conversation.len,
			 d->conversation.ptr, (int)d->message_id.len, d->message_id.ptr, what);
	const event_str parts[] = {a, b, c};

	/* Callers bound every part, so the id fits; the clamp only guards that. */
	for (size_t i = 0; i < 3 && parts[i].len > 0 && (size_t)n < sizeof(d->event_id); i++)
		n += snprintf(d->event_id + n, sizeof(d->event_id) - (size_t)n, ":%.*s",
			      (int)parts[i].len, parts[i].ptr);
	if (n < 0 || (size_t)n >= sizeof(d->event_id))
		n = (int)sizeof(d->event_id) - 1;
	ev->event_id = (event_str){d->event_id, (size_t)n};
}

/* Fields every event of the message shares. */
static void decode_graph_common(const decode_graph *d, event *ev)
{
	ev->source = (event_str){"teams", 5};
	ev->content_id = d->message_id;
	ev->channel_id = d->conversation;
	decode_json_add_attr(ev, "channel_type",
			     d->is_channel ? (event_str){"channel", 7} : (event_str){"chat", 4});
	if (d->is_channel)
		decode_json_add_attr(ev, "team_id", d->team);
}

/* Adds the users the message mentions; applications and channels are skipped. */
static void decode_graph_mentions(event *ev, const json_t *msg)
{
	size_t i;
	const json_t *m;

	json_array_foreach(json_object_get(msg, "mentions"), i, m)
	{
		const json_t *user = decode_graph_path(m, "mentioned", "user");
		event_str id = decode_json_str(user, "id");
		if (id.len <= DECODE_GRAPH_MAX_ID)
			decode_graph_add_target(ev, id);
	}
}

/* Rejects any id, event id or attribute value longer than DECODE_GRAPH_MAX_ID. */
static decode_status decode_graph_check_lengths(const event *ev, decode_result *res)
{
	const event_str ids[] = {ev->event_id, ev->actor_id, ev->content_id, ev->channel_id};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i].len > DECODE_GRAPH_MAX_ID)
			return decode_json_reject(res, DECODE_INVALID, "id_too_long",
						  "an id is longer than %d bytes",
						  DECODE_GRAPH_MAX_ID);
	for (size_t i = 0; i < ev->attr_count; i++)
		if (ev->attrs[i].value.len > DECODE_GRAPH_MAX_ID)
			return decode_json_reject(res, DECODE_INVALID, "field_too_long",
						  "attribute %s is longer than %d bytes",
						  ev->attrs[i].key.ptr, DECODE_GRAPH_MAX_ID);
	return DECODE_OK;
}

/* Sets the time from member key of the message and checks the event. */
static decode_status decode_graph_finish(event *ev, const json_t *obj, const char *key,
					 decode_result *res)
{
	ev->event_time_ms = decode_graph_time(obj, key);
	if (ev->event_time_ms <= 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					  "%s is missing or not an ISO 8601 time", key);
	return decode_graph_check_lengths(ev, res);
}

/* Returns true when member key of obj is set (present and not null). */
static bool decode_graph_is_set(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return v != NULL && !json_is_null(v);
}

static decode_status decode_graph_deleted(decode_graph *d, event *ev, decode_result *res)
{
	const char *time_key = decode_graph_is_set(d->msg, "deletedDateTime")
				   ? "deletedDateTime"
				   : "lastModifiedDateTime";

	ev->kind = (event_str){"message_deleted", 15};
	ev->actor_id = d->author;
	decode_graph_common(d, ev);
	decode_graph_event_id(d, ev, "deleted", (event_str){0}, (event_str){0}, (event_str){0});
	return decode_graph_finish(ev, d->msg, time_key, res);
}

static decode_status decode_graph_posted(decode_graph *d, event *ev, decode_result *res)
{
	event_str reply_to = decode_json_str(d->msg, "replyToId");

	ev->kind =
	    reply_to.len > 0 ? (event_str){"reply_posted", 12} : (event_str){"message_posted", 14};
	ev->actor_id = d->author;
	decode_graph_common(d, ev);
	decode_json_add_attr(ev, "reply_to", reply_to);
	decode_graph_mentions(ev, d->msg);
	decode_graph_event_id(d, ev, "created", (event_str){0}, (event_str){0}, (event_str){0});
	return decode_graph_finish(ev, d->msg, "createdDateTime", res);
}

static decode_status decode_graph_edited(decode_graph *d, event *ev, decode_result *res)
{
	event_str edited = decode_json_str(d->msg, "lastEditedDateTime");

	if (edited.len > DECODE_GRAPH_MAX_TIME)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					  "lastEditedDateTime is not an ISO 8601 time");
	ev->kind = (event_str){"message_edited", 14};
	ev->actor_id = d->author;
	decode_graph_common(d, ev);
	decode_graph_mentions(ev, d->msg);
	decode_graph_event_id(d, ev, "edited", edited, (event_str){0}, (event_str){0});
	return decode_graph_finish(ev, d->msg, "lastEditedDateTime", res);
}

/*
 * The main event of the change. Returns false when the change has none (an
 * update that is neither an edit nor a deletion, e.g. a new reaction).
 */
static bool decode_graph_main(decode_graph *d, event *ev, decode_result *res)
{
	if (d->change == DECODE_GRAPH_DELETED || decode_graph_is_set(d->msg, "deletedDateTime")) {
		d->reactions = NULL; /* a deleted message's reactions no longer count */
		res->status = decode_graph_deleted(d, ev, res);
	} else if (d->change == DECODE_GRAPH_CREATED) {
		res->status = decode_graph_posted(d, ev, res);
	} else if (decode_graph_is_set(d->msg, "lastEditedDateTime")) {
		res->status = decode_graph_edited(d, ev, res);
	} else {
		return false;
	}
	return true;
}

static decode_status decode_graph_reaction(decode_graph *d, const json_t *r, event *ev,
					   decode_result *res)
{
	const json_t *who = json_object_get(r, "user");
	const json_t *app = json_object_get(who, "application");
	event_str type = decode_json_str(r, "reactionType");
	event_str created = decode_json_str(r, "createdDateTime");

	if (!json_is_object(r))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "a reactions[] entry is not an object");
	if (app != NULL && !json_is_null(app))
		return decode_json_reject(res, DECODE_IGNORED, "bot_message",
					  "the reaction was added by an application");
	ev->actor_id = decode_json_str(json_object_get(who, "user"), "id");
	if (ev->actor_id.len == 0)
		return decode_graph_missing(res, "reactions[].user.user.id");
	if (type.len == 0)
		return decode_graph_missing(res, "reactions[].reactionType");
	if (created.len > DECODE_GRAPH_MAX_TIME)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					  "reactions[].createdDateTime is not an ISO 8601 time");

	ev->kind = (event_str){"reaction_added", 14};
	decode_graph_common(d, ev);
	decode_json_add_attr(ev, "reaction", type);
	decode_graph_add_target(ev, d->author);
	if (ev->actor_id.len <= DECODE_GRAPH_MAX_ID && type.len <= DECODE_GRAPH_MAX_ID)
		decode_graph_event_id(d, ev, "reaction", ev->actor_id, type, created);
	return decode_graph_finish(ev, r, "createdDateTime", res);
}

/* ----------------------------------------------------------------------------
 * Message and cursor
 * ------------------------------------------------------------------------- */

/* Unwraps a document sent as a JSON string holding the JSON text. */
static const json_t *decode_graph_unwrap(decode_graph *d, decode_result *res)
{
	if (!json_is_string(d->doc))
		return d->doc;
	d->unwrapped = decode_json_unwrap(d->doc);
	if (d->unwrapped == NULL) {
		decode_json_reject(res, DECODE_INVALID, "not_an_object",
				   "the JSON document is a string that holds no JSON");
		return NULL;
	}
	return d->unwrapped;
}

/* Finds the notifications: a "value" array, or one notification object. */
static decode_status decode_graph_envelope(decode_graph *d, const json_t *top, decode_result *res)
{
	const json_t *value = json_object_get(top, "value");

	if (value != NULL) {
		if (!json_is_array(value))
			return decode_json_reject(res, DECODE_INVALID, "not_an_object",
						  "value is %s, expected an array of "
						  "notifications",
						  decode_json_type(value));
		d->items = value;
		d->n_items = json_array_size(value);
	} else if (json_object_get(top, "changeType") != NULL ||
		   json_object_get(top, "lifecycleEvent") != NULL) {
		d->single = top;
		d->n_items = 1;
	} else if (json_object_get(top, "validationTokens") == NULL) {
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_envelope",
					  "the document is neither a notification collection "
					  "nor a notification");
	}
	if (d->n_items == 0)
		return decode_json_reject(res, DECODE_IGNORED, "empty_collection",
					  "the collection holds no notification");
	return DECODE_OK;
}

decode_status decode_graph_open(decode_graph *d, const void *buf, size_t len, decode_result *res)
{
	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';
	decode_graph_close(d);

	d->doc = decode_json_load(buf, len, DECODE_GRAPH_MAX_MESSAGE, res);
	if (d->doc == NULL)
		return res->status;

	const json_t *top = decode_graph_unwrap(d, res);
	if (top == NULL)
		return res->status;
	if (!json_is_object(top))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "the JSON document is %s, expected an object",
					  decode_json_type(top));
	return decode_graph_envelope(d, top, res);
}

/* Moves to the next notification; returns false when none is left. */
static bool decode_graph_advance(decode_graph *d, decode_result *res)
{
	json_decref(d->resource);
	d->resource = NULL;
	d->msg = NULL;
	d->reactions = NULL;
	d->main_pending = false;
	if (d->next_item >= d->n_items)
		return false;

	const json_t *n = d->items ? json_array_get(d->items, d->next_item) : d->single;
	d->next_item++;
	d->yielded = 0;
	if (decode_graph_prepare(d, n, res) != DECODE_OK) {
		d->msg = NULL;
		return true;
	}
	d->main_pending = true;
	d->reactions =
	    d->change == DECODE_GRAPH_DELETED ? NULL : json_object_get(d->msg, "reactions");
	d->next_reaction = 0;
	return true;
}

/* Yields the next event of the current notification; false when it has none left. */
static bool decode_graph_next_event(decode_graph *d, event *ev, decode_result *res)
{
	if (d->main_pending) {
		d->main_pending = false;
		if (decode_graph_main(d, ev, res))
			return true;
	}
	if (d->next_reaction < json_array_size(d->reactions)) {
		decode_graph_reaction(d, json_array_get(d->reactions, d->next_reaction++), ev, res);
		return true;
	}
	if (d->msg != NULL && d->yielded == 0) {
		decode_json_reject(res, DECODE_IGNORED, "unsupported_change",
				   "the update is neither an edit, a deletion nor a reaction");
		return true;
	}
	return false;
}

bool decode_graph_next(decode_graph *d, event *ev, decode_result *res)
{
	for (;;) {
		memset(ev, 0, sizeof(*ev));
		res->status = DECODE_OK;
		res->reason = NULL;
		res->detail[0] = '\0';
		if (d->msg != NULL && decode_graph_next_event(d, ev, res)) {
			d->yielded++;
			return true;
		}
		if (!decode_graph_advance(d, res))
			return false;
		if (d->msg == NULL)
			return true; /* the notification's own outcome */
	}
}
