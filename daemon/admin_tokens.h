/*
 * admin_tokens.h - bearer tokens of the admin API: the tokens file and lookups.
 *
 * The tokens file contains one token per line, three fields separated by spaces
 * or tabs:
 *
 *   NAME ROLE TOKEN
 *   grafana viewer 3f9c...   (at least 32 characters)
 *
 * NAME identifies who has the token and is what the audit log records (letters,
 * digits, '_', '.' and '-', at most 64 characters, so no e-mail address).
 * ROLE is viewer (reads) or admin (reads and actions). Blank lines and lines
 * starting with '#' are skipped, and so is a UTF-8 byte order mark at the
 * start of the file. Loading rejects, with FILE:LINE in the
 * message, a malformed line, an unknown role, a short token, a repeated name
 * or token, and a file that others may access or the group may write; the
 * group may read a root-owned file only (a Kubernetes secret mounted with
 * fsGroup and mode 0440).
 *
 * Only SHA-256 digests and lengths of the tokens are kept in memory. A
 * lookup hashes the token presented and compares it with every digest by
 * CRYPTO_memcmp, without stopping at the first match, so the time taken
 * does not depend on which token matched or how much of it did. Error messages never quote a
 * token.
 *
 * Not thread-safe; the admin server uses it on the loop thread only.
 */
#ifndef ADVOCACY_ADMIN_TOKENS_H
#define ADVOCACY_ADMIN_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#define ADMIN_TOKEN_MIN_LEN 32
#define ADMIN_TOKEN_MAX_LEN 512
#define ADMIN_TOKEN_NAME_MAX 64

typedef enum admin_role {
	ADMIN_ROLE_NONE,   /* no valid token: only open paths */
	ADMIN_ROLE_VIEWER, /* GET of every endpoint */
	ADMIN_ROLE_ADMIN,  /* also actions such as POST /api/reload */
} admin_role;

typedef struct admin_tokens admin_tokens;

/* One holder of a token, as admin_tokens_find() returns it. */
typedef struct admin_token_holder {
	char name[ADMIN_TOKEN_NAME_MAX + 1];
	admin_role role;
} admin_token_holder;

/*
 * Reads and checks the tokens file at path. Returns the table, or NULL with
 * errstr filled as "PATH:LINE: problem; fix" (or "PATH: problem" for the
 * whole file). The caller frees the table with admin_tokens_free().
 */
admin_tokens *admin_tokens_load(const char *path, char *errstr, size_t errstr_size);

void admin_tokens_free(admin_tokens *t);

size_t admin_tokens_count(const admin_tokens *t);

/*
 * Returns the holder of the token (len bytes, not NUL-terminated), or NULL
 * when no holder has it. The pointer stays valid until admin_tokens_free().
 */
const admin_token_holder *admin_tokens_find(const admin_tokens *t, const char *token, size_t len);

/*
 * Returns true when any configured token occurs anywhere in text (len
 * bytes), for keeping tokens out of logs. It hashes every substring of
 * each configured token length, so the cost grows with len times the
 * number of distinct token lengths, and callers bound len.
 */
bool admin_tokens_occur_in(const admin_tokens *t, const char *text, size_t len);

/*
 * Finds the token in an Authorization header value of the form
 * "Bearer TOKEN" (scheme in any case, spaces around the token ignored).
 * Returns 0 and sets *token and *len (pointing into header), or -1 when
 * the value is no bearer credential.
 */
int admin_tokens_parse_bearer(const char *header, const char **token, size_t *len);

/* Returns "viewer", "admin" or "none". */
const char *admin_role_name(admin_role role);

#endif
