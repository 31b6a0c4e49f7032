/*
 * test_admin_audit.c - audit log lines: format, file mode, appending, reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "admin_audit.h"

static char tmp_dir[256];
static char tmp_log[300];
static char tmp_rotated[300];
static char err[512];

static const admin_audit_record record = {
    .time_ms = 1772357400123LL, /* 2026-03-01T09:30:00.123Z */
    .remote_addr = "127.0.0.1",
    .remote_port = 50412,
    .who = "grafana",
    .role = "viewer",
    .method = "GET",
    .path = "/api/kpis?kpi=\"x\"",
    .status = 200,
    .result = ADMIN_AUDIT_ALLOWED,
};

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp_dir, sizeof tmp_dir, "%s/test_admin_audit.XXXXXX",
		 base && base[0] ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(tmp_log, sizeof tmp_log, "%s/audit.log", tmp_dir);
	snprintf(tmp_rotated, sizeof tmp_rotated, "%s/audit.log.1", tmp_dir);
	return 0;
}

static int group_teardown(void **state)
{
	unlink(tmp_log);
	unlink(tmp_rotated);
	rmdir(tmp_dir);
	return 0;
}

/* Returns the number of lines of path, each checked to be a JSON object. */
static size_t count_json_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		json_t *o = json_loads(line, 0, NULL);
		assert_non_null(o);
		assert_true(json_is_object(o));
		json_decref(o);
		n++;
	}
	fclose(f);
	return n;
}

static void test_format_fields(void **state)
{
	char *line = admin_audit_format(&record);
	json_t *o;

	assert_non_null(line);
	/* one line: the only newline ends it */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	o = json_loads(line, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "time")),
			    "2026-03-01T09:30:00.123Z");
	assert_string_equal(json_string_value(json_object_get(o, "remote_addr")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(o, "remote_port")), 50412);
	assert_string_equal(json_string_value(json_object_get(o, "who")), "grafana");
	assert_string_equal(json_string_value(json_object_get(o, "role")), "viewer");
	assert_string_equal(json_string_value(json_object_get(o, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(o, "path")), "/api/kpis?kpi=\"x\"");
	assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
	assert_string_equal(json_string_value(json_object_get(o, "result")), "allowed");
	assert_null(json_object_get(o, "redacted"));
	json_decref(o);
	free(line);
}

static void test_format_redacted_and_results(void **state)
{
	admin_audit_record r = record;
	char *line;

	r.redacted = true;
	r.result = ADMIN_AUDIT_UNAUTHENTICATED;
	r.path = "/api/kpis\nforged";
	line = admin_audit_format(&r);
	assert_non_null(strstr(line, "\"redacted\":true"));
	assert_non_null(strstr(line, "\"result\":\"unauthenticated\""));
	/* A newline in a value is escaped, so a line cannot be forged. */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	free(line);

	assert_string_equal(admin_audit_result_name(ADMIN_AUDIT_FORBIDDEN), "forbidden");
	assert_string_equal(admin_audit_result_name(ADMIN_AUDIT_ERROR), "error");
}

static void test_format_invalid_utf8_path(void **state)
{
	admin_audit_record r = record;
	char *line;
	json_t *o;

	r.path = "/api/k\xff\xc3pis";   /* bytes that are not UTF-8 */
	line = admin_audit_format(&r);
	assert_non_null(line);
	o = json_loads(line, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "path")), "/api/k%FF%C3pis");
	json_decref(o);
	free(line);
}

static void test_write_appends_with_mode_0600(void **state)
{
	struct stat st;
	admin_audit *a;

	unlink(tmp_log);
	a = admin_audit_open(tmp_log, err, sizeof err);
	assert_non_null(a);
	assert_int_equal(admin_audit_write(a, &record), 0);
	assert_int_equal(admin_audit_write(a, &record), 0);
	assert_int_equal(stat(tmp_log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Written at once, not buffered: the file has both lines before any close. */
	assert_int_equal(count_json_lines(tmp_log), 2);
	admin_audit_free(a);

	a = admin_audit_open(tmp_log, err, sizeof err);
	assert_non_null(a);
	assert_int_equal(admin_audit_write(a, &record), 0);
	assert_int_equal(count_json_lines(tmp_log), 3);
	assert_int_equal(admin_audit_failures(a), 0);
	admin_audit_free(a);
}

static void test_reopen_follows_rename(void **state)
{
	admin_audit *a;

	unlink(tmp_log);
	unlink(tmp_rotated);
	a = admin_audit_open(tmp_log, err, sizeof err);
	assert_non_null(a);
	assert_int_equal(admin_audit_write(a, &record), 0);
	assert_int_equal(rename(tmp_log, tmp_rotated), 0);
	assert_int_equal(admin_audit_write(a, &record), 0);
	assert_int_equal(admin_audit_reopen(a, err, sizeof err), 0);
	assert_int_equal(admin_audit_write(a, &record), 0);
	assert_int_equal(count_json_lines(tmp_rotated), 2);
	assert_int_equal(count_json_lines(tmp_log), 1);
	admin_audit_free(a);
}

static void test_open_fails_in_missing_folder(void **state)
{
	char path[400];

	snprintf(path, sizeof path, "%s/missing/audit.log", tmp_dir);
	assert_null(admin_audit_open(path, err, sizeof err));
	assert_non_null(strstr(err, "admin.audit_log: cannot open"));
	assert_non_null(strstr(err, path));
}

static void test_failed_write_counted(void **state)
{
	admin_audit *a = admin_audit_open("/dev/full", err, sizeof err);

	assert_non_null(a);
	assert_int_equal(admin_audit_write(a, &record), -1);
	assert_int_equal(admin_audit_write(a, &record), -1);
	assert_int_equal(admin_audit_failures(a), 2);
	admin_audit_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_fields),
	    cmocka_unit_test(test_format_redacted_and_results),
	    cmocka_unit_test(test_format_invalid_utf8_path),
	    cmocka_unit_test(test_write_appends_with_mode_0600),
	    cmocka_unit_test(test_reopen_follows_rename),
	    cmocka_unit_test(test_open_fails_in_missing_folder),
	    cmocka_unit_test(test_failed_write_counted),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
