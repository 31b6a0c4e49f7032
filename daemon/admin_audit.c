/*
 * admin_audit.c - the admin API's audit log (see admin_audit.h).
 *
 * Lines are built with jansson, so every value is escaped as JSON, and
 * written with write(2) on a descriptor opened with O_APPEND.
 */
#include "admin_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"

struct admin_audit {
	char *path;
	int fd;
	uint64_t failures;
};

const char *admin_audit_result_name(admin_audit_result result)
{
	switch (result) {
	case ADMIN_AUDIT_ALLOWED:
		return "allowed";
	case ADMIN_AUDIT_UNAUTHENTICATED:
		return "unauthenticated";
	case ADMIN_AUDIT_FORBIDDEN:
		return "forbidden";
	case ADMIN_AUDIT_ERROR:
		break;
	}
	return "error";
}

static int admin_audit_open_fd(const char *path, char *errstr, size_t errstr_size)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		snprintf(errstr, errstr_size,
			 "admin.audit_log: cannot open '%s' for appending: %s; create its "
			 "directory or fix the path",
			 path, strerror(errno));
	return fd;
}

admin_audit *admin_audit_open(const char *path, char *errstr, size_t errstr_size)
{
	admin_audit *a = calloc(1, sizeof(*a));

	if (!a || !(a->path = strdup(path))) {
		snprintf(errstr, errstr_size, "admin.audit_log: out of memory");
		free(a);
		return NULL;
	}
	a->fd = admin_audit_open_fd(path, errstr, errstr_size);
	if (a->fd < 0) {
		admin_audit_free(a);
		return NULL;
	}
	return a;
}

void admin_audit_free(admin_audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
}

int admin_audit_reopen(admin_audit *a, char *errstr, size_t errstr_size)
{
	int fd = admin_audit_open_fd(a->path, errstr, errstr_size);

	if (fd < 0)
		return -1;
	close(a->fd);
	a->fd = fd;
	return 0;
}

uint64_t admin_audit_failures(const admin_audit *a)
{
	return a ? a->failures : 0;
}

/* Writes "2026-03-01T09:30:00.123Z" for time_ms into out. */
static void admin_audit_time(int64_t time_ms, char *out, size_t size)
{
	time_t sec = (time_t)(time_ms / 1000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(time_ms % 1000));
}

/* A JSON string of text, or "" when text is NULL or not valid UTF-8. */
/*
 * A JSON string of text. Text that is not valid UTF-8 (a request path can
 * hold any byte) is written with every byte above 0x7f percent-encoded, as
 * in a URL, so the audit line still shows what was asked for.
 */
static json_t *admin_audit_text(const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	json_t *s = json_string(text ? text : "");
	char *ascii;
	size_t n = 0;

	if (s || !text)
		return s ? s : json_string("");
	ascii = malloc(3 * strlen(text) + 1);
	if (!ascii)
		return json_string("");
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p < 0x80) {
			ascii[n++] = (char)*p;
			continue;
		}
		ascii[n++] = '%';
		ascii[n++] = hex[*p >> 4];
		ascii[n++] = hex[*p & 15];
	}
	ascii[n] = '\0';
	s = json_string(ascii);
	free(ascii);
	return s ? s : json_string("");
}

static json_t *admin_audit_object(const admin_audit_record *r)
{
	char time_text[64];
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	admin_audit_time(r->time_ms, time_text, sizeof(time_text));
	rc |= json_object_set_new(o, "time", json_string(time_text));
	rc |= json_object_set_new(o, "remote_addr", admin_audit_text(r->remote_addr));
	rc |= json_object_set_new(o, "remote_port", json_integer(r->remote_port));
	rc |= json_object_set_new(o, "who", admin_audit_text(r->who));
	rc |= json_object_set_new(o, "role", admin_audit_text(r->role));
	rc |= json_object_set_new(o, "method", admin_audit_text(r->method));
	rc |= json_object_set_new(o, "path", admin_audit_text(r->path));
	if (r->redacted)
		rc |= json_object_set_new(o, "redacted", json_true());
	rc |= json_object_set_new(o, "status", json_integer(r->status));
	rc |= json_object_set_new(o, "result", json_string(admin_audit_result_name(r->result)));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *admin_audit_format(const admin_audit_record *r)
{
	json_t *o = admin_audit_object(r);
	char *text, *line;
	size_t len;

	if (!o)
		return NULL;
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return NULL;
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	return line;
}

/* Writes all of line, retrying after signals and short writes. */
static int admin_audit_write_all(int fd, const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

int admin_audit_write(admin_audit *a, const admin_audit_record *r)
{
	char *line = admin_audit_format(r);
	int rc = -1, err = ENOMEM;

	if (line) {
		rc = admin_audit_write_all(a->fd, line, strlen(line));
		err = errno;
		free(line);
	}
	if (rc == 0)
		return 0;
	a->failures++;
	log_warn("admin", "cannot write the audit log; the request was served anyway",
		 "path=\"%s\" error=\"%s\" failures=%llu", a->path, strerror(err),
		 (unsigned long long)a->failures);
	return -1;
}
