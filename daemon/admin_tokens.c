/*
 * admin_tokens.c - the tokens file and constant-time token lookups (see admin_tokens.h).
 *
 * The file is read once at start, line by line with getline(). Each line
 * buffer is wiped with OPENSSL_cleanse() before it is freed or reused, so
 * the plain tokens live in memory only while their line is parsed. Errors
 * quote names and line numbers, never a token or a field that could be one
 * (a role field that is not a role may be a token written in the wrong place).
 */
#include "admin_tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define ADMIN_TOKENS_DIGEST_LEN 32
#define ADMIN_TOKENS_NAME_CHARS                                                                    \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

typedef struct admin_token_entry {
	admin_token_holder holder;
	unsigned char digest[ADMIN_TOKENS_DIGEST_LEN];
	size_t len; /* of the token, for admin_tokens_occur_in() */
	size_t line;
} admin_token_entry;

struct admin_tokens {
	admin_token_entry *entries;
	size_t n, cap;
};

/* The file being loaded, for error messages. */
typedef struct admin_tokens_reader {
	const char *path;
	size_t line;
	char *errstr;
	size_t errstr_size;
} admin_tokens_reader;

__attribute__((format(printf, 2, 3))) static int admin_tokens_error(admin_tokens_reader *rd,
								     const char *fmt, ...)
{
	va_list ap;
	int n;

	if (rd->line)
		n = snprintf(rd->errstr, rd->errstr_size, "%s:%zu: ", rd->path, rd->line);
	else
		n = snprintf(rd->errstr, rd->errstr_size, "%s: ", rd->path);
	if (n < 0 || (size_t)n >= rd->errstr_size)
		return -1;
	va_start(ap, fmt);
	vsnprintf(rd->errstr + n, rd->errstr_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

const char *admin_role_name(admin_role role)
{
	switch (role) {
	case ADMIN_ROLE_VIEWER:
		return "viewer";
	case ADMIN_ROLE_ADMIN:
		return "admin";
	case ADMIN_ROLE_NONE:
		break;
	}
	return "none";
}

static int admin_tokens_digest(const char *token, size_t len, unsigned char *digest)
{
	unsigned int out_len = 0;

	if (!EVP_Digest(token, len, digest, &out_len, EVP_sha256(), NULL) ||
	    out_len != ADMIN_TOKENS_DIGEST_LEN)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- checks of one line */

static int admin_tokens_check_name(admin_tokens_reader *rd, const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > ADMIN_TOKEN_NAME_MAX || name[strspn(name, ADMIN_TOKENS_NAME_CHARS)])
		return admin_tokens_error(rd, "invalid name in the first field; use 1 to %d "
					  "letters, digits, '_', '.' or '-' (a service or team, "
					  "not a person's e-mail)",
					  ADMIN_TOKEN_NAME_MAX);
	return 0;
}

static int admin_tokens_check_role(admin_tokens_reader *rd, const char *text, admin_role *role)
{
	if (strcmp(text, "viewer") == 0)
		*role = ADMIN_ROLE_VIEWER;
	else if (strcmp(text, "admin") == 0)
		*role = ADMIN_ROLE_ADMIN;
	else
		return admin_tokens_error(rd, "unknown role in the second field; use viewer or "
					  "admin (the line must read NAME ROLE TOKEN)");
	return 0;
}

static int admin_tokens_check_token(admin_tokens_reader *rd, const char *name, const char *token)
{
	size_t len = strlen(token);

	if (len < ADMIN_TOKEN_MIN_LEN)
		return admin_tokens_error(rd, "the token of '%s' has %zu characters, at least %d "
					  "are required; create one with 'openssl rand -hex 32'",
					  name, len, ADMIN_TOKEN_MIN_LEN);
	if (len > ADMIN_TOKEN_MAX_LEN)
		return admin_tokens_error(rd, "the token of '%s' has %zu characters, at most %d "
					  "are supported; use a shorter one",
					  name, len, ADMIN_TOKEN_MAX_LEN);
	for (const char *p = token; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return admin_tokens_error(rd, "the token of '%s' contains a character "
						  "that is not printable ASCII; use letters, "
						  "digits and punctuation only",
						  name);
	return 0;
}

/* Rejects a name or a digest that an earlier line already has. */
static int admin_tokens_check_unique(admin_tokens_reader *rd, const admin_tokens *t,
				     const admin_token_entry *e)
{
	for (size_t i = 0; i < t->n; i++) {
		const admin_token_entry *old = &t->entries[i];
		if (strcmp(old->holder.name, e->holder.name) == 0)
			return admin_tokens_error(rd, "name '%s' is already used on line %zu; "
						  "give each token holder its own name",
						  e->holder.name, old->line);
		if (CRYPTO_memcmp(old->digest, e->digest, sizeof(e->digest)) == 0)
			return admin_tokens_error(rd, "the token of '%s' is the same as the token "
						  "of '%s' on line %zu; create a new token for "
						  "one of them",
						  e->holder.name, old->holder.name, old->line);
	}
	return 0;
}

static int admin_tokens_append(admin_tokens_reader *rd, admin_tokens *t,
			       const admin_token_entry *e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		admin_token_entry *grown = realloc(t->entries, cap * sizeof(*grown));
		if (!grown)
			return admin_tokens_error(rd, "out of memory");
		t->entries = grown;
		t->cap = cap;
	}
	t->entries[t->n++] = *e;
	return 0;
}

/* Parses one line, which the caller wipes afterwards. Skips blanks and comments. */
static int admin_tokens_parse_line(admin_tokens_reader *rd, admin_tokens *t, char *line)
{
	char *fields[4] = {NULL}, *save = NULL, *field;
	size_t n = 0;
	admin_token_entry e = {.line = rd->line};

	line += strspn(line, " \t\r\n");
	if (*line == '\0' || *line == '#')
		return 0;
	for (field = strtok_r(line, " \t\r\n", &save); field && n < 4;
	     field = strtok_r(NULL, " \t\r\n", &save))
		fields[n++] = field;
	if (n != 3)
		return admin_tokens_error(rd, "expected three fields NAME ROLE TOKEN separated "
					  "by spaces, got %s%zu",
					  n == 4 ? "more than " : "", n == 4 ? (size_t)3 : n);

	if (admin_tokens_check_name(rd, fields[0]) < 0 ||
	    admin_tokens_check_role(rd, fields[1], &e.holder.role) < 0 ||
	    admin_tokens_check_token(rd, fields[0], fields[2]) < 0)
		return -1;
	snprintf(e.holder.name, sizeof(e.holder.name), "%s", fields[0]);
	e.len = strlen(fields[2]);
	if (admin_tokens_digest(fields[2], strlen(fields[2]), e.digest) < 0)
		return admin_tokens_error(rd, "computing SHA-256 in OpenSSL failed");
	if (admin_tokens_check_unique(rd, t, &e) < 0)
		return -1;
	return admin_tokens_append(rd, t, &e);
}

/* ---------------------------------------------------------------- the file */

/* Opens path for reading after checking that it is a private regular file. */
/*
 * Mode 0600 or 0400 is safe. A root-owned file may also be readable by its
 * group, so that a group the daemon runs in can read it (Kubernetes secret
 * volumes with fsGroup look like that). Others may never have access, and
 * the group may never write.
 */
static bool admin_tokens_mode_safe(const struct stat *st)
{
	if (st->st_mode & (S_IRWXO | S_IWGRP | S_IXGRP))
		return false;
	return !(st->st_mode & S_IRGRP) || st->st_uid == 0;
}

static FILE *admin_tokens_open(admin_tokens_reader *rd)
{
	struct stat st;
	FILE *f;
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer. */
	int fd = open(rd->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		admin_tokens_error(rd, "cannot open the tokens file: %s; fix admin.tokens_file",
				   strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		admin_tokens_error(rd, "is not a regular file; point admin.tokens_file at the "
				   "tokens file");
		return NULL;
	}
	if (!admin_tokens_mode_safe(&st)) {
		close(fd);
		admin_tokens_error(rd, "others, or a group of a file not owned by root, may "
				   "access the tokens file (mode %04o, owner uid %u); run 'chmod "
				   "600 %s', or make it root-owned with mode 0640 or 0440",
				   (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, rd->path);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		admin_tokens_error(rd, "cannot read the tokens file: %s", strerror(errno));
	}
	return f;
}

/* Skips the UTF-8 byte order mark that some editors write at the start of a file. */
static char *admin_tokens_skip_bom(const admin_tokens_reader *rd, char *line)
{
	if (rd->line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		return line + 3;
	return line;
}

static int admin_tokens_read(admin_tokens_reader *rd, FILE *f, admin_tokens *t)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		rd->line++;
		if (memchr(line, '\0', (size_t)len))
			rc = admin_tokens_error(rd, "contains a NUL byte; save the file as text");
		else
			rc = admin_tokens_parse_line(rd, t, admin_tokens_skip_bom(rd, line));
		OPENSSL_cleanse(line, cap);
	}
	if (line)
		OPENSSL_cleanse(line, cap);
	free(line);
	if (rc == 0 && ferror(f)) {
		rd->line = 0;
		rc = admin_tokens_error(rd, "cannot read the tokens file: %s", strerror(errno));
	}
	return rc;
}

admin_tokens *admin_tokens_load(const char *path, char *errstr, size_t errstr_size)
{
	admin_tokens_reader rd = {.path = path, .errstr = errstr, .errstr_size = errstr_size};
	admin_tokens *t = calloc(1, sizeof(*t));
	FILE *f;

	if (!t) {
		admin_tokens_error(&rd, "out of memory");
		return NULL;
	}
	f = admin_tokens_open(&rd);
	if (!f || admin_tokens_read(&rd, f, t) < 0)
		goto fail;
	fclose(f);
	if (t->n == 0) {
		rd.line = 0;
		admin_tokens_error(&rd, "contains no token; add a line NAME ROLE TOKEN or remove "
				   "admin.tokens_file from the config");
		admin_tokens_free(t);
		return NULL;
	}
	return t;

fail:
	if (f)
		fclose(f);
	admin_tokens_free(t);
	return NULL;
}

void admin_tokens_free(admin_tokens *t)
{
	if (!t)
		return;
	if (t->entries)
		OPENSSL_cleanse(t->entries, t->cap * sizeof(*t->entries));
	free(t->entries);
	free(t);
}

size_t admin_tokens_count(const admin_tokens *t)
{
	return t ? t->n : 0;
}

/* ---------------------------------------------------------------- lookups */

const admin_token_holder *admin_tokens_find(const admin_tokens *t, const char *token, size_t len)
{
	unsigned char digest[ADMIN_TOKENS_DIGEST_LEN];
	const admin_token_holder *found = NULL;

	if (!t || len == 0 || len > ADMIN_TOKEN_MAX_LEN || admin_tokens_digest(token, len, digest) < 0)
		return NULL;
	/* Every digest is compared, so the time does not reveal which one matched. */
	for (size_t i = 0; i < t->n; i++) {
		bool same = CRYPTO_memcmp(t->entries[i].digest, digest, sizeof(digest)) == 0;
		if (same && !found)
			found = &t->entries[i].holder;
	}
	OPENSSL_cleanse(digest, sizeof(digest));
	return found;
}

/* True when an entry before index i has a token of the same length. */
static bool admin_tokens_len_seen(const admin_tokens *t, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (t->entries[j].len == t->entries[i].len)
			return true;
	return false;
}

bool admin_tokens_occur_in(const admin_tokens *t, const char *text, size_t len)
{
	if (!t)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		size_t token_len = t->entries[i].len;

		if (token_len > len || admin_tokens_len_seen(t, i))
			continue;
		for (size_t start = 0; start + token_len <= len; start++)
			if (admin_tokens_find(t, text + start, token_len))
				return true;
	}
	return false;
}

int admin_tokens_parse_bearer(const char *header, const char **token, size_t *len)
{
	const char *p, *end;

	if (!header)
		return -1;
	p = header + strspn(header, " \t");
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return -1;
	p += 6;
	p += strspn(p, " \t");
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == p || memchr(p, ' ', (size_t)(end - p)) || memchr(p, '\t', (size_t)(end - p)))
		return -1;
	*token = p;
	*len = (size_t)(end - p);
	return 0;
}
