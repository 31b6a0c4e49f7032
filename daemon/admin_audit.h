/*
 * admin_audit.h - the admin API's audit log: one JSON line per request.
 *
 * Every request under /api/, allowed or denied, appends one line such as
 *
 *   {"time":"2026-03-01T09:30:00.123Z","remote_addr":"127.0.0.1","remote_port":50412,
 *    "who":"grafana","role":"viewer","method":"GET","path":"/api/kpis?kpi=x",
 *    "status":200,"result":"allowed"}
 *
 * to the file named by admin.audit_log. The file is opened with O_APPEND and
 * created with mode 0600. Each line goes out in one write(2), so nothing sits
 * in a buffer and lines from several processes appending to one file do not
 * interleave. A failed write is counted and logged (rate-limited by the
 * logger) and never fails the request it records.
 *
 * The caller decides what the path may show: it passes the query string only
 * when it contains no token, and it never passes the Authorization header. This
 * module quotes the values it gets, escaped as JSON.
 *
 * Rotation: use logrotate's copytruncate, or rename the file and call
 * admin_audit_reopen() (the daemon does so on SIGHUP when wired to it).
 * Loop thread only.
 */
#ifndef ADVOCACY_ADMIN_AUDIT_H
#define ADVOCACY_ADMIN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum admin_audit_result {
	ADMIN_AUDIT_ALLOWED,
	ADMIN_AUDIT_UNAUTHENTICATED, /* no token, or a token no holder has */
	ADMIN_AUDIT_FORBIDDEN,       /* a valid token whose role is too low, or no tokens file */
	ADMIN_AUDIT_ERROR,           /* allowed, but the request failed (4xx other than 401 and 403, 5xx) */
} admin_audit_result;

typedef struct admin_audit_record {
	int64_t time_ms;        /* wall clock, ms since the epoch */
	const char *remote_addr;
	int remote_port;
	const char *who;        /* token name, or "anonymous" */
	const char *role;       /* "viewer", "admin" or "none" */
	const char *method;
	const char *path;       /* with the query string only when it contains no token */
	bool redacted;          /* a part of the path or query holding a token was left out */
	int status;             /* HTTP status sent */
	admin_audit_result result;
} admin_audit_record;

typedef struct admin_audit admin_audit;

/*
 * Opens (creating with mode 0600) the audit log at path for appending.
 * Returns NULL with errstr filled when the file cannot be opened.
 */
admin_audit *admin_audit_open(const char *path, char *errstr, size_t errstr_size);

void admin_audit_free(admin_audit *a);

/*
 * Appends the record as one line. Returns 0, or -1 after counting and
 * logging a failed write.
 */
int admin_audit_write(admin_audit *a, const admin_audit_record *r);

/*
 * Opens the path again, so that a log renamed by rotation is followed by a
 * new file. Keeps writing to the old file and returns -1 with errstr filled
 * when the path cannot be opened.
 */
int admin_audit_reopen(admin_audit *a, char *errstr, size_t errstr_size);

/* Writes that failed since the log was opened. */
uint64_t admin_audit_failures(const admin_audit *a);

/*
 * Formats the record as one JSON object followed by a newline. Returns a
 * string the caller frees with free(), or NULL when out of memory.
 */
char *admin_audit_format(const admin_audit_record *r);

/* Returns "allowed", "unauthenticated", "forbidden" or "error". */
const char *admin_audit_result_name(admin_audit_result result);

#endif
