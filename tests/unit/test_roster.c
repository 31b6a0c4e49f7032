/*
 * test_roster.c - roster table, aliases, scope catalog and headcounts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "roster.h"

static const char key_hex[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";

typedef struct fixture {
	char dir[256];
	char key_path[300];
	privacy *privacy;
	roster *roster;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	char err[256];
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_roster.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->key_path, sizeof(f->key_path), "%s/key.hex", f->dir);
	FILE *kf = fopen(f->key_path, "w");
	if (!kf || fputs(key_hex, kf) < 0 || fclose(kf) != 0 || chmod(f->key_path, 0600) != 0)
		return -1;
	if (privacy_new(f->key_path, "k1", 0, &f->privacy, err, sizeof(err)) < 0)
		return -1;
	f->roster = roster_new();
	if (!f->roster)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	roster_free(f->roster);
	privacy_free(f->privacy);
	unlink(f->key_path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static pseudonym pseudo(fixture *f, const char *id)
{
	pseudonym p;
	privacy_pseudonym(f->privacy, id, strlen(id), &p);
	return p;
}

static int apply(fixture *f, const char *key, const char *json, char *err, size_t err_size)
{
	return roster_apply_record(f->roster, f->privacy, key, strlen(key), json,
				   json ? strlen(json) : 0, err, err_size);
}

static void apply_ok(fixture *f, const char *key, const char *json)
{
	char err[256] = "";
	if (apply(f, key, json, err, sizeof(err)) != 0)
		fail_msg("record for %s rejected: %s", key, err);
}

static uint32_t headcount_of(fixture *f, const char *scope_name)
{
	uint32_t id = roster_scope_find(f->roster, scope_name);
	return id == ROSTER_NO_SCOPE ? 0 : roster_headcount(f->roster, id);
}

static const roster_person *lookup(fixture *f, const char *id)
{
	pseudonym p = pseudo(f, id);
	return roster_lookup(f->roster, &p);
}

/* ------------------------------------------------------------------------ */

static void new_roster_has_only_org(void **state)
{
	fixture *f = *state;

	assert_int_equal(roster_size(f->roster), 0);
	assert_int_equal(roster_scope_count(f->roster), 1);
	assert_string_equal(roster_scope_name(f->roster, ROSTER_ORG_SCOPE), "org");
	assert_int_equal(roster_scope_kind(f->roster, ROSTER_ORG_SCOPE), SCOPE_ORG);
	assert_int_equal(roster_scope_find(f->roster, "org"), ROSTER_ORG_SCOPE);
	assert_int_equal(roster_headcount(f->roster, ROSTER_ORG_SCOPE), 0);
	assert_int_equal(roster_scope_find(f->roster, "team:Payments"), ROSTER_NO_SCOPE);
	assert_null(lookup(f, "e1"));
}

static void headcounts_after_inserts(void **state)
{
	fixture *f = *state;

	apply_ok(f, "e1", "{\"department\":\"Finance\",\"team\":\"Payments\",\"region\":\"EMEA\"}");
	apply_ok(f, "e2", "{\"department\":\"Finance\",\"team\":\"Payments\"}");
	apply_ok(f, "e3",
		 "{\"department\":\"Finance\",\"team\":\"Risk\",\"segment\":\"frontline\"}");
	apply_ok(f, "e4", "{\"department\":\"Sales\"}");

	assert_int_equal(roster_size(f->roster), 4);
	assert_int_equal(roster_headcount(f->roster, ROSTER_ORG_SCOPE), 4);
	assert_int_equal(headcount_of(f, "department:Finance"), 3);
	assert_int_equal(headcount_of(f, "department:Sales"), 1);
	assert_int_equal(headcount_of(f, "team:Payments"), 2);
	assert_int_equal(headcount_of(f, "team:Risk"), 1);
	assert_int_equal(headcount_of(f, "segment:frontline"), 1);
	assert_int_equal(headcount_of(f, "region:EMEA"), 1);

	uint32_t team = roster_scope_find(f->roster, "team:Payments");
	assert_int_equal(roster_scope_kind(f->roster, team), SCOPE_TEAM);
	assert_string_equal(roster_scope_name(f->roster, team), "team:Payments");

	const roster_person *e4 = lookup(f, "e4");
	assert_non_null(e4);
	assert_int_equal(e4->scopes[SCOPE_ORG], ROSTER_ORG_SCOPE);
	assert_int_equal(e4->scopes[SCOPE_DEPARTMENT],
			 roster_scope_find(f->roster, "department:Sales"));
	assert_int_equal(e4->scopes[SCOPE_TEAM], ROSTER_NO_SCOPE);
	pseudonym e4_id = pseudo(f, "e4");
	assert_true(pseudonym_equal(&e4->employee, &e4_id));
}

static void move_between_teams(void **state)
{
	fixture *f = *state;

	apply_ok(f, "e1", "{\"department\":\"Finance\",\"team\":\"Payments\"}");
	apply_ok(f, "e2", "{\"department\":\"Finance\",\"team\":\"Payments\"}");
	uint32_t payments = roster_scope_find(f->roster, "team:Payments");

	apply_ok(f, "e2", "{\"department\":\"Finance\",\"team\":\"Risk\"}");
	assert_int_equal(roster_size(f->roster), 2);
	assert_int_equal(headcount_of(f, "team:Payments"), 1);
	assert_int_equal(headcount_of(f, "team:Risk"), 1);
	assert_int_equal(headcount_of(f, "department:Finance"), 2);
	assert_int_equal(lookup(f, "e2")->scopes[SCOPE_TEAM],
			 roster_scope_find(f->roster, "team:Risk"));

	/* Emptied scopes stay interned, with the same id. */
	apply_ok(f, "e1", "{\"department\":\"Finance\",\"team\":\"Risk\"}");
	assert_int_equal(roster_scope_find(f->roster, "team:Payments"), payments);
	assert_int_equal(roster_headcount(f->roster, payments), 0);
	assert_int_equal(headcount_of(f, "team:Risk"), 2);
}

static void tombstone_removes_person(void **state)
{
	fixture *f = *state;
	char err[256] = "";

	apply_ok(f, "e1", "{\"team\":\"Payments\",\"aliases\":[\"U111\"]}");
	apply_ok(f, "e2", "{\"team\":\"Payments\"}");

	assert_int_equal(apply(f, "e1", NULL, err, sizeof(err)), 0);
	assert_int_equal(roster_size(f->roster), 1);
	assert_int_equal(roster_headcount(f->roster, ROSTER_ORG_SCOPE), 1);
	assert_int_equal(headcount_of(f, "team:Payments"), 1);
	assert_null(lookup(f, "e1"));
	assert_null(lookup(f, "U111"));
	assert_non_null(lookup(f, "e2"));

	/* An empty value is a tombstone too, and a repeat or unknown one is harmless. */
	assert_int_equal(
	    roster_apply_record(f->roster, f->privacy, "e2", 2, "", 0, err, sizeof(err)), 0);
	assert_int_equal(apply(f, "e2", NULL, err, sizeof(err)), 0);
	assert_int_equal(apply(f, "nobody", NULL, err, sizeof(err)), 0);
	assert_int_equal(roster_size(f->roster), 0);
	assert_int_equal(headcount_of(f, "team:Payments"), 0);
}

static void alias_lookup_finds_employee(void **state)
{
	fixture *f = *state;

	apply_ok(f, "e1", "{\"team\":\"Payments\",\"aliases\":[\"U024BE7LH\",\"a@example.com\"]}");
	const roster_person *by_id = lookup(f, "e1");
	const roster_person *by_slack = lookup(f, "U024BE7LH");
	const roster_person *by_mail = lookup(f, "a@example.com");

	assert_non_null(by_id);
	assert_ptr_equal(by_slack, by_id);
	assert_ptr_equal(by_mail, by_id);
	assert_null(lookup(f, "U999"));

	/* Replacing the alias list drops the old aliases. */
	apply_ok(f, "e1", "{\"team\":\"Payments\",\"aliases\":[\"U024BE7LH\"]}");
	assert_non_null(lookup(f, "U024BE7LH"));
	assert_null(lookup(f, "a@example.com"));
}

static void alias_taken_over_by_other_person(void **state)
{
	fixture *f = *state;
	char err[256] = "";

	apply_ok(f, "e1", "{\"team\":\"A\",\"aliases\":[\"U1\",\"U2\"]}");
	apply_ok(f, "e2", "{\"team\":\"B\",\"aliases\":[\"U2\"]}");

	pseudonym e2 = pseudo(f, "e2");
	assert_true(pseudonym_equal(&lookup(f, "U2")->employee, &e2));

	/* Removing e1 leaves the alias that e2 took over. */
	assert_int_equal(apply(f, "e1", NULL, err, sizeof(err)), 0);
	assert_null(lookup(f, "U1"));
	assert_non_null(lookup(f, "U2"));
	assert_true(pseudonym_equal(&lookup(f, "U2")->employee, &e2));
}

static void reupsert_is_idempotent(void **state)
{
	fixture *f = *state;
	const char *rec = "{\"department\":\"Finance\",\"team\":\"Payments\",\"aliases\":[\"U1\"]}";

	apply_ok(f, "e1", rec);
	uint32_t scopes = roster_scope_count(f->roster);
	for (int i = 0; i < 3; i++)
		apply_ok(f, "e1", rec);

	assert_int_equal(roster_size(f->roster), 1);
	assert_int_equal(roster_scope_count(f->roster), scopes);
	assert_int_equal(headcount_of(f, "team:Payments"), 1);
	assert_int_equal(headcount_of(f, "department:Finance"), 1);
	assert_int_equal(roster_headcount(f->roster, ROSTER_ORG_SCOPE), 1);
	assert_ptr_equal(lookup(f, "U1"), lookup(f, "e1"));
}

static void null_empty_and_unknown_fields(void **state)
{
	fixture *f = *state;

	apply_ok(f, "e1",
		 "{\"team\":null,\"department\":\"\",\"region\":\"EMEA\","
		 "\"aliases\":null,\"nickname\":\"ignored\",\"level\":7}");
	const roster_person *p = lookup(f, "e1");
	assert_non_null(p);
	assert_int_equal(p->scopes[SCOPE_TEAM], ROSTER_NO_SCOPE);
	assert_int_equal(p->scopes[SCOPE_DEPARTMENT], ROSTER_NO_SCOPE);
	assert_int_equal(headcount_of(f, "region:EMEA"), 1);
	assert_int_equal(roster_scope_find(f->roster, "nickname:ignored"), ROSTER_NO_SCOPE);

	apply_ok(f, "e2", "{}");
	assert_int_equal(roster_headcount(f->roster, ROSTER_ORG_SCOPE), 2);
}

/* Expects the record to be rejected with needle in the error and the roster unchanged. */
static void expect_rejected(fixture *f, const char *json, const char *needle)
{
	char err[256] = "";
	size_t size = roster_size(f->roster);

	assert_int_equal(apply(f, "emp-secret-42", json, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
	assert_null(strstr(err, "emp-secret-42"));
	assert_null(strstr(err, "Hidden"));
	assert_int_equal(roster_size(f->roster), size);
	assert_null(lookup(f, "emp-secret-42"));
}

static void bad_records_rejected(void **state)
{
	fixture *f = *state;

	expect_rejected(f, "{\"team\":\"Hidden\"", "invalid JSON");
	expect_rejected(f, "not json Hidden", "invalid JSON");
	expect_rejected(f, "[\"Hidden\"]", "must be a JSON object");
	expect_rejected(f, "\"Hidden\"", "must be a JSON object");
	expect_rejected(f, "{\"team\":42,\"x\":\"Hidden\"}", "team must be a string");
	expect_rejected(f, "{\"region\":[\"Hidden\"]}", "region must be a string");
	expect_rejected(f, "{\"aliases\":\"Hidden\"}", "aliases must be an array");
	expect_rejected(f, "{\"aliases\":[\"U1\",7]}", "aliases[1]");
	expect_rejected(f, "{\"aliases\":[\"\"]}", "aliases[0]");
	expect_rejected(f, "{\"aliases\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}",
			"maximum is 8");
	expect_rejected(f, "{\"team\":\"Hid\\u0000den\"}", "invalid JSON");
	expect_rejected(f, "{\"team\":\"a\",\"team\":\"b\"}", "invalid JSON");

	char long_value[300];
	memset(long_value, 'x', 250);
	long_value[250] = '\0';
	char rec[400];
	snprintf(rec, sizeof(rec), "{\"team\":\"%s\"}", long_value);
	expect_rejected(f, rec, "maximum is 200");

	char err[256] = "";
	assert_int_equal(
	    roster_apply_record(f->roster, f->privacy, "", 0, "{}", 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing key"));
}

/* Found by fuzz_roster: a 3 MiB record of unknown keys was parsed and accepted. */
static void oversized_record_rejected(void **state)
{
	fixture *f = *state;
	size_t len = ROSTER_MAX_RECORD_LEN + 1;
	char *rec = malloc(len + 1);

	assert_non_null(rec);
	memset(rec, ' ', len);
	memcpy(rec, "{\"team\":\"Hidden\"}", 17);
	rec[len] = '\0';
	expect_rejected(f, rec, "maximum is 65536");

	/* The limit itself is accepted. */
	rec[len - 1] = '\0';
	apply_ok(f, "e1", rec);
	assert_int_equal(headcount_of(f, "team:Hidden"), 1);
	free(rec);
}

static void bad_record_keeps_previous_state(void **state)
{
	fixture *f = *state;
	char err[256] = "";

	apply_ok(f, "e1", "{\"team\":\"Payments\",\"aliases\":[\"U1\"]}");
	assert_int_equal(apply(f, "e1", "{\"team\":7}", err, sizeof(err)), -1);
	assert_int_equal(headcount_of(f, "team:Payments"), 1);
	assert_non_null(lookup(f, "U1"));
}

static void scope_intern_rules(void **state)
{
	fixture *f = *state;

	assert_int_equal(roster_scope_intern(f->roster, SCOPE_ORG, "anything"), ROSTER_ORG_SCOPE);
	assert_int_equal(roster_scope_intern(f->roster, SCOPE_TEAM, ""), ROSTER_NO_SCOPE);
	assert_int_equal(roster_scope_intern(f->roster, SCOPE_TEAM, NULL), ROSTER_NO_SCOPE);

	uint32_t a = roster_scope_intern(f->roster, SCOPE_TEAM, "Payments");
	uint32_t b = roster_scope_intern(f->roster, SCOPE_DEPARTMENT, "Payments");
	assert_int_not_equal(a, ROSTER_NO_SCOPE);
	assert_int_not_equal(a, b);
	assert_int_equal(roster_scope_intern(f->roster, SCOPE_TEAM, "Payments"), a);
	assert_int_equal(roster_scope_count(f->roster), 3);
	assert_int_equal(roster_headcount(f->roster, a), 0);
	assert_int_equal(roster_headcount(f->roster, ROSTER_NO_SCOPE), 0);
	assert_null(roster_scope_name(f->roster, 99));
}

/* Many people with aliases, half removed in scattered order: exercises growth,
 * backward-shift deletion and the swap that fills holes in the dense arrays. */
static void many_people_stay_consistent(void **state)
{
	fixture *f = *state;
	enum { N = 5000 };
	char key[32], rec[160], alias[32];

	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "e%d", i);
		snprintf(rec, sizeof(rec), "{\"team\":\"T%d\",\"aliases\":[\"S%d\",\"M%d\"]}",
			 i % 7, i, i);
		apply_ok(f, key, rec);
	}
	assert_int_equal(roster_size(f->roster), N);

	for (int i = 0; i < N; i++) {
		int victim = (i * 7919) % N; /* 7919 is prime and coprime to N: a permutation */
		if (victim % 2 != 0)
			continue;
		snprintf(key, sizeof(key), "e%d", victim);
		apply_ok(f, key, NULL);
	}
	assert_int_equal(roster_size(f->roster), N / 2);
	assert_int_equal(roster_headcount(f->roster, ROSTER_ORG_SCOPE), N / 2);

	uint32_t per_team[7] = {0};
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "e%d", i);
		snprintf(alias, sizeof(alias), "S%d", i);
		const roster_person *p = lookup(f, key);
		if (i % 2 == 0) {
			assert_null(p);
			assert_null(lookup(f, alias));
			continue;
		}
		assert_non_null(p);
		assert_ptr_equal(lookup(f, alias), p);
		snprintf(alias, sizeof(alias), "M%d", i);
		assert_ptr_equal(lookup(f, alias), p);
		per_team[i % 7]++;
	}
	for (int t = 0; t < 7; t++) {
		char name[16];
		snprintf(name, sizeof(name), "team:T%d", t);
		assert_int_equal(headcount_of(f, name), per_team[t]);
	}
}

static void upsert_direct_api(void **state)
{
	fixture *f = *state;
	const char *values[SCOPE_KIND_COUNT] = {[SCOPE_ORG] = "ignored", [SCOPE_TEAM] = "Core"};
	pseudonym id = pseudo(f, "e1");
	pseudonym aliases[2] = {pseudo(f, "a1"), pseudo(f, "a2")};

	assert_int_equal(roster_upsert(f->roster, &id, values, aliases, 2), 0);
	assert_int_equal(headcount_of(f, "team:Core"), 1);
	assert_non_null(roster_lookup(f->roster, &aliases[1]));
	assert_true(roster_remove(f->roster, &id));
	assert_false(roster_remove(f->roster, &id));
	assert_null(roster_lookup(f->roster, &aliases[0]));
	assert_int_equal(headcount_of(f, "team:Core"), 0);
}

/* ------------------------------------------------------------------------ */
/* Consent                                                                  */

#define T0 1772446502000 /* 2026-03-02T10:15:02Z */

static bool consents(fixture *f, const char *id, int64_t t_ms)
{
	const roster_person *p = lookup(f, id);
	assert_non_null(p);
	return roster_has_consent(p, CONSENT_EXTERNAL_SHARING, t_ms);
}

static void consent_forms_are_read(void **state)
{
	fixture *f = *state;

	apply_ok(f, "e1", "{\"team\": \"Core\", \"consent\": {\"external_sharing\": true}}");
	apply_ok(f, "e2", "{\"team\": \"Core\", \"consent\": {\"external_sharing\": false}}");
	apply_ok(f, "e3", "{\"team\": \"Core\"}");
	apply_ok(f, "e4", "{\"consent\": {\"external_sharing\": "
			  "{\"given\": true, \"since\": \"2026-03-02T10:15:02Z\"}}}");
	apply_ok(f, "e5", "{\"consent\": {\"external_sharing\": "
			  "{\"given\": true, \"since\": 1772446502}}}");
	apply_ok(f, "e6", "{\"consent\": {\"external_sharing\": {\"given\": false, "
			  "\"since\": \"2026-03-02T10:15:02Z\"}, \"newsletter\": \"yes\"}}");
	apply_ok(f, "e7", "{\"consent\": null, \"aliases\": [\"U07\"]}");

	assert_true(consents(f, "e1", 1));
	assert_false(consents(f, "e2", T0));
	assert_false(consents(f, "e3", T0));
	/* Not before the time it was given: consent is not retroactive. */
	assert_false(consents(f, "e4", T0 - 1));
	assert_true(consents(f, "e4", T0));
	assert_false(consents(f, "e5", T0 - 1));
	assert_true(consents(f, "e5", T0));
	assert_false(consents(f, "e6", T0));
	assert_false(consents(f, "U07", T0));
	/* Rules without a purpose need nothing. */
	assert_true(roster_has_consent(lookup(f, "e3"), CONSENT_NONE, T0));
}

static void a_later_record_withdraws_consent(void **state)
{
	fixture *f = *state;

	apply_ok(f, "e1", "{\"team\": \"Core\", \"aliases\": [\"U01\"], "
			  "\"consent\": {\"external_sharing\": true}}");
	assert_true(consents(f, "U01", T0));
	/* The record replaces the person: without the consent it is withdrawn. */
	apply_ok(f, "e1", "{\"team\": \"Core\", \"aliases\": [\"U01\"]}");
	assert_false(consents(f, "U01", T0));
	apply_ok(f, "e1", "{\"consent\": {\"external_sharing\": true}}");
	assert_true(consents(f, "e1", T0));
	apply_ok(f, "e1", "{\"consent\": {\"external_sharing\": {\"given\": false}}}");
	assert_false(consents(f, "e1", T0));

	/* A tombstone removes the person and so the consent. */
	apply_ok(f, "e1", "{\"consent\": {\"external_sharing\": true}}");
	apply_ok(f, "e1", NULL);
	assert_null(lookup(f, "e1"));
	apply_ok(f, "e1", "{\"team\": \"Core\"}");
	assert_false(consents(f, "e1", T0));
}

static void bad_consent_is_rejected_and_keeps_state(void **state)
{
	fixture *f = *state;
	static const char *const bad[] = {
	    "{\"consent\": true}",
	    "{\"consent\": [\"external_sharing\"]}",
	    "{\"consent\": {\"external_sharing\": \"yes\"}}",
	    "{\"consent\": {\"external_sharing\": 1}}",
	    "{\"consent\": {\"external_sharing\": {\"since\": 1772446502}}}",
	    "{\"consent\": {\"external_sharing\": {\"given\": true, \"since\": \"today\"}}}",
	    "{\"consent\": {\"external_sharing\": {\"given\": true, \"since\": -1}}}",
	    "{\"consent\": {\"external_sharing\": {\"given\": true, \"since\": [1]}}}",
	};
	char err[256];

	apply_ok(f, "e1", "{\"consent\": {\"external_sharing\": true}}");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (apply(f, "e1", bad[i], err, sizeof(err)) == 0)
			fail_msg("record %zu was accepted: %s", i, bad[i]);
		assert_non_null(strstr(err, "consent"));
	}
	assert_true(consents(f, "e1", T0));
}

static void set_consent_needs_a_person_and_a_purpose(void **state)
{
	fixture *f = *state;
	pseudonym id = pseudo(f, "e1");
	pseudonym nobody = pseudo(f, "e9");

	apply_ok(f, "e1", "{\"team\": \"Core\"}");
	assert_false(roster_set_consent(f->roster, &nobody, CONSENT_EXTERNAL_SHARING, true, 0));
	assert_false(roster_set_consent(f->roster, &id, CONSENT_NONE, true, 0));
	assert_false(roster_set_consent(f->roster, &id, CONSENT_PURPOSE_COUNT, true, 0));
	assert_true(roster_set_consent(f->roster, &id, CONSENT_EXTERNAL_SHARING, true, T0));
	assert_false(consents(f, "e1", T0 - 1));
	assert_true(consents(f, "e1", T0));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(new_roster_has_only_org),	    T(headcounts_after_inserts),
	    T(move_between_teams),	    T(tombstone_removes_person),
	    T(alias_lookup_finds_employee), T(alias_taken_over_by_other_person),
	    T(reupsert_is_idempotent),	    T(null_empty_and_unknown_fields),
	    T(bad_records_rejected),	    T(bad_record_keeps_previous_state),
	    T(oversized_record_rejected),
	    T(scope_intern_rules),	    T(many_people_stay_consistent),
	    T(upsert_direct_api),
	    T(consent_forms_are_read),	    T(a_later_record_withdraws_consent),
	    T(bad_consent_is_rejected_and_keeps_state),
	    T(set_consent_needs_a_person_and_a_purpose),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
