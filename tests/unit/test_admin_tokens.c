/*
 * test_admin_tokens.c - the admin tokens file, token lookups and bearer headers.
 *
 * Each case writes a tokens file into a temporary folder with mode 0600
 * (or another mode where the mode is the point) and loads it. Error cases
 * check the "PATH:LINE: " prefix, the words a user needs, and that the
 * message never quotes the token of the line.
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

#include "admin_tokens.h"

#define VIEWER_TOKEN "v1ewer-0123456789abcdef0123456789abcdef"
#define ADMIN_TOKEN "adm1n-0123456789abcdef0123456789abcdef01"
#define OTHER_TOKEN "0th3r-0123456789abcdef0123456789abcdef01"

static char tmp_dir[256];
static char tmp_file[300];
static char err[1024];

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp_dir, sizeof tmp_dir, "%s/test_admin_tokens.XXXXXX",
		 base && base[0] ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(tmp_file, sizeof tmp_file, "%s/tokens", tmp_dir);
	return 0;
}

static int group_teardown(void **state)
{
	unlink(tmp_file);
	rmdir(tmp_dir);
	return 0;
}

/* Owner given to the files write_tokens() makes when the tests run as root. */
#define NOBODY_UID 65534
static uid_t tokens_owner = NOBODY_UID;

static void write_tokens(const char *text, mode_t mode)
{
	FILE *f;

	unlink(tmp_file);
	f = fopen(tmp_file, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(tmp_file, mode), 0);
	/* Root may read any file, and root-owned files have their own rule. */
	if (geteuid() == 0)
		assert_int_equal(chown(tmp_file, tokens_owner, (gid_t)-1), 0);
}

static admin_tokens *load_valid(const char *text)
{
	admin_tokens *t;

	write_tokens(text, 0600);
	t = admin_tokens_load(tmp_file, err, sizeof err);
	if (!t)
		fail_msg("expected the tokens file to load, got: %s", err);
	return t;
}

/*
 * Loads text, expects failure with "PATH:LINE: " (line 0: "PATH: ") and
 * each NULL-terminated needle in the message, and no token in it.
 */
static void expect_error(const char *text, mode_t mode, int line, ...)
{
	char prefix[400];
	const char *needle;
	va_list ap;

	write_tokens(text, mode);
	assert_null(admin_tokens_load(tmp_file, err, sizeof err));
	if (line)
		snprintf(prefix, sizeof prefix, "%s:%d: ", tmp_file, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", tmp_file);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("expected the error to start with '%s', got: %s", prefix, err);
	va_start(ap, line);
	while ((needle = va_arg(ap, const char *)))
		if (!strstr(err, needle))
			fail_msg("expected '%s' in the error, got: %s", needle, err);
	va_end(ap);
	if (strstr(err, VIEWER_TOKEN) || strstr(err, ADMIN_TOKEN) || strstr(err, "0123456789abcdef"))
		fail_msg("the error quotes a token: %s", err);
}

static void test_load_and_find(void **state)
{
	admin_tokens *t = load_valid("# dashboards read, on-call acts\n"
				     "\n"
				     "grafana viewer " VIEWER_TOKEN "\n"
				     "  oncall\tadmin   " ADMIN_TOKEN "  \r\n");
	const admin_token_holder *h;

	assert_int_equal(admin_tokens_count(t), 2);
	h = admin_tokens_find(t, VIEWER_TOKEN, strlen(VIEWER_TOKEN));
	assert_non_null(h);
	assert_string_equal(h->name, "grafana");
	assert_int_equal(h->role, ADMIN_ROLE_VIEWER);
	h = admin_tokens_find(t, ADMIN_TOKEN, strlen(ADMIN_TOKEN));
	assert_non_null(h);
	assert_string_equal(h->name, "oncall");
	assert_int_equal(h->role, ADMIN_ROLE_ADMIN);
	admin_tokens_free(t);
}

static void test_bom_crlf_and_tabs_accepted(void **state)
{
	admin_tokens *t = load_valid("\xEF\xBB\xBF# tokens\r\n"
				     "dashboard\tviewer\t" VIEWER_TOKEN " \t\r\n"
				     "\r\n"
				     "  oncall admin " ADMIN_TOKEN);

	assert_int_equal(admin_tokens_count(t), 2);
	assert_non_null(admin_tokens_find(t, VIEWER_TOKEN, strlen(VIEWER_TOKEN)));
	assert_non_null(admin_tokens_find(t, ADMIN_TOKEN, strlen(ADMIN_TOKEN)));
	admin_tokens_free(t);

	t = load_valid("\xEF\xBB\xBF" "dashboard viewer " VIEWER_TOKEN "\n");
	assert_string_equal(admin_tokens_find(t, VIEWER_TOKEN, strlen(VIEWER_TOKEN))->name,
			    "dashboard");
	admin_tokens_free(t);

	/* A byte order mark is only skipped at the start of the file. */
	expect_error("dashboard viewer " VIEWER_TOKEN "\n\xEF\xBB\xBFoncall admin " ADMIN_TOKEN
		     "\n",
		     0600, 2, "invalid name in the first field", NULL);
}

static void test_find_rejects_near_misses(void **state)
{
	admin_tokens *t = load_valid("grafana viewer " VIEWER_TOKEN "\n");
	char longer[] = VIEWER_TOKEN "x";

	assert_null(admin_tokens_find(t, OTHER_TOKEN, strlen(OTHER_TOKEN)));
	/* a prefix, the token plus one byte, and the empty string */
	assert_null(admin_tokens_find(t, VIEWER_TOKEN, strlen(VIEWER_TOKEN) - 1));
	assert_null(admin_tokens_find(t, longer, strlen(longer)));
	assert_null(admin_tokens_find(t, "", 0));
	assert_null(admin_tokens_find(NULL, VIEWER_TOKEN, strlen(VIEWER_TOKEN)));
	admin_tokens_free(t);
}

static void test_group_readable_file_rejected(void **state)
{
	expect_error("grafana viewer " VIEWER_TOKEN "\n", 0640, 0, "not owned by root",
		     "chmod 600", "0640", NULL);
	expect_error("grafana viewer " VIEWER_TOKEN "\n", 0604, 0, "chmod 600", NULL);
	expect_error("grafana viewer " VIEWER_TOKEN "\n", 0620, 0, "chmod 600", NULL);
}

/* A root-owned file may be group-readable, as Kubernetes mounts secrets. */
static void test_root_owned_group_readable_file_accepted(void **state)
{
	admin_tokens *t;

	if (geteuid() != 0)
		skip();
	tokens_owner = 0;
	write_tokens("grafana viewer " VIEWER_TOKEN "\n", 0440);
	t = admin_tokens_load(tmp_file, err, sizeof err);
	if (!t)
		fail_msg("expected a root-owned 0440 file to load, got: %s", err);
	admin_tokens_free(t);
	expect_error("grafana viewer " VIEWER_TOKEN "\n", 0460, 0, "chmod 600", NULL);
	expect_error("grafana viewer " VIEWER_TOKEN "\n", 0444, 0, "chmod 600", NULL);
	tokens_owner = NOBODY_UID;
}

static void test_malformed_lines_rejected(void **state)
{
	expect_error("grafana viewer\n", 0600, 1, "expected three fields NAME ROLE TOKEN", "got 2",
		     NULL);
	expect_error("# c\ngrafana viewer " VIEWER_TOKEN " extra\n", 0600, 2,
		     "expected three fields", "more than 3", NULL);
	expect_error("grafana root " VIEWER_TOKEN "\n", 0600, 1, "unknown role",
		     "viewer or admin", NULL);
	/* Fields in the wrong order: the token sits where the role goes, and is not quoted. */
	expect_error("grafana " VIEWER_TOKEN " viewer\n", 0600, 1, "unknown role", NULL);
	expect_error("grafana viewer short-token\n", 0600, 1, "has 11 characters",
		     "at least 32", "openssl rand -hex 32", NULL);
	expect_error("a@example.com viewer " VIEWER_TOKEN "\n", 0600, 1, "invalid name",
		     NULL);
	expect_error("grafana viewer " VIEWER_TOKEN "\x01\n", 0600, 1, "not printable ASCII",
		     NULL);
}

static void test_duplicates_rejected(void **state)
{
	expect_error("grafana viewer " VIEWER_TOKEN "\n"
		     "grafana admin " ADMIN_TOKEN "\n",
		     0600, 2, "name 'grafana' is already used on line 1", NULL);
	expect_error("grafana viewer " VIEWER_TOKEN "\n"
		     "# same token twice\n"
		     "oncall admin " VIEWER_TOKEN "\n",
		     0600, 3, "the token of 'oncall' is the same as the token of 'grafana' on line 1",
		     NULL);
}

static void test_empty_and_missing_files_rejected(void **state)
{
	expect_error("# nothing yet\n\n", 0600, 0, "contains no token", "admin.tokens_file", NULL);
	unlink(tmp_file);
	assert_null(admin_tokens_load(tmp_file, err, sizeof err));
	assert_non_null(strstr(err, "cannot open the tokens file"));
	assert_null(admin_tokens_load(tmp_dir, err, sizeof err));
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_occur_in_finds_substrings(void **state)
{
	admin_tokens *t = load_valid("dashboard viewer " VIEWER_TOKEN "\n"
				     "oncall admin " ADMIN_TOKEN "\n");
	const char *inside_piece = "/api/x." ADMIN_TOKEN "-y";
	const char *at_end = "kpi=" VIEWER_TOKEN;
	const char *cut_off = "/api/" VIEWER_TOKEN;
	const char *other = "/api/" OTHER_TOKEN;

	assert_true(admin_tokens_occur_in(t, inside_piece, strlen(inside_piece)));
	assert_true(admin_tokens_occur_in(t, at_end, strlen(at_end)));
	assert_true(admin_tokens_occur_in(t, ADMIN_TOKEN, strlen(ADMIN_TOKEN)));
	/* The last byte of the token is past len. */
	assert_false(admin_tokens_occur_in(t, cut_off, strlen(cut_off) - 1));
	assert_false(admin_tokens_occur_in(t, other, strlen(other)));
	assert_false(admin_tokens_occur_in(t, "", 0));
	assert_false(admin_tokens_occur_in(NULL, at_end, strlen(at_end)));
	admin_tokens_free(t);
}

static void test_parse_bearer(void **state)
{
	const char *token;
	size_t len;

	assert_int_equal(admin_tokens_parse_bearer("Bearer abc", &token, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(token, "abc", 3);
	assert_int_equal(admin_tokens_parse_bearer("  bearer \t xyz  ", &token, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(token, "xyz", 3);
	assert_int_equal(admin_tokens_parse_bearer("BEARER q", &token, &len), 0);

	assert_int_equal(admin_tokens_parse_bearer("Basic dXNlcjpwYXNz", &token, &len), -1);
	assert_int_equal(admin_tokens_parse_bearer("Bearer", &token, &len), -1);
	assert_int_equal(admin_tokens_parse_bearer("Bearer   ", &token, &len), -1);
	assert_int_equal(admin_tokens_parse_bearer("Bearerabc", &token, &len), -1);
	assert_int_equal(admin_tokens_parse_bearer("Bearer a b", &token, &len), -1);
	assert_int_equal(admin_tokens_parse_bearer(NULL, &token, &len), -1);
}

static void test_role_names(void **state)
{
	assert_string_equal(admin_role_name(ADMIN_ROLE_VIEWER), "viewer");
	assert_string_equal(admin_role_name(ADMIN_ROLE_ADMIN), "admin");
	assert_string_equal(admin_role_name(ADMIN_ROLE_NONE), "none");
	assert_true(ADMIN_ROLE_ADMIN > ADMIN_ROLE_VIEWER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_and_find),
	    cmocka_unit_test(test_bom_crlf_and_tabs_accepted),
	    cmocka_unit_test(test_find_rejects_near_misses),
	    cmocka_unit_test(test_group_readable_file_rejected),
	    cmocka_unit_test(test_root_owned_group_readable_file_accepted),
	    cmocka_unit_test(test_malformed_lines_rejected),
	    cmocka_unit_test(test_duplicates_rejected),
	    cmocka_unit_test(test_empty_and_missing_files_rejected),
	    cmocka_unit_test(test_occur_in_finds_substrings),
	    cmocka_unit_test(test_parse_bearer),
	    cmocka_unit_test(test_role_names),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
