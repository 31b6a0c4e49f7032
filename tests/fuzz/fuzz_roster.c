/*
 * fuzz_roster.c - libFuzzer harness for roster topic records.
 *
 * Input: the first byte is the length of the record key (the raw employee
 * id), the next bytes are the key, and the rest is the record value; an
 * empty value is a tombstone. Each input is applied to a fresh roster with
 * roster_apply_record(), as the roster reader does, and must leave it in a
 * consistent state:
 *   - rejected (-1): a printable errstr starting "roster record:", and the
 *     roster unchanged (still empty), since nothing may change before a
 *     record is known good;
 *   - accepted: at most ROSTER_MAX_RECORD_LEN bytes, one person, found by the employee pseudonym,
 * counted once in org and in each of their scopes, whose names read "<kind>:<value>" with a value
 * of at most 200 bytes; applying the record again changes nothing; a tombstone then empties the
 * roster and every headcount. The pseudonym key is the test fixture's (tests/fixtures/hmac.key).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_decoder.h"
#include "roster.h"

/* Maximum length of a scope value in a record (ROSTER_MAX_VALUE_LEN in roster.c). */
#define FUZZ_ROSTER_MAX_VALUE 200

static privacy *fuzz_privacy;

static void fuzz_roster_fini(void)
{
	privacy_free(fuzz_privacy);
}

static void fuzz_roster_init(void)
{
	char errstr[256];

	if (fuzz_privacy != NULL)
		return;
	if (privacy_new(FUZZ_KEY_FILE, "fuzz", 0, &fuzz_privacy, errstr, sizeof(errstr)) < 0)
		fuzz_fail("roster", "cannot load the pseudonym key: %s", errstr);
	atexit(fuzz_roster_fini);
}

static bool fuzz_roster_errstr_ok(const char *errstr)
{
	if (strncmp(errstr, "roster record:", 14) != 0)
		return false;
	for (const char *p = errstr; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* Checks that the one person of r is counted once in org and in each scope. */
static void fuzz_roster_check_person(const roster *r, const pseudonym *employee)
{
	const roster_person *person = roster_lookup(r, employee);

	if (roster_size(r) != 1 || person == NULL)
		fuzz_fail("roster", "an accepted record does not leave exactly its person");
	if (roster_headcount(r, ROSTER_ORG_SCOPE) != 1)
		fuzz_fail("roster", "org headcount is %u, expected 1",
			  roster_headcount(r, ROSTER_ORG_SCOPE));
	for (int k = 1; k < SCOPE_KIND_COUNT; k++) {
		uint32_t s = person->scopes[k];
		if (s == ROSTER_NO_SCOPE)
			continue;
		const char *name = roster_scope_name(r, s);
		const char *kind = config_scope_kind_name((scope_kind)k);
		size_t kind_len = strlen(kind);
		if (name == NULL || strncmp(name, kind, kind_len) != 0 || name[kind_len] != ':' ||
		    strlen(name + kind_len + 1) > FUZZ_ROSTER_MAX_VALUE)
			fuzz_fail("roster", "scope %u of kind %s has a malformed name", s, kind);
		if (roster_scope_kind(r, s) != (scope_kind)k || roster_headcount(r, s) != 1)
			fuzz_fail("roster", "scope %u of kind %s has headcount %u, expected 1", s,
				  kind, roster_headcount(r, s));
	}
}

static void fuzz_roster_check_empty(const roster *r, const char *after)
{
	if (roster_size(r) != 0)
		fuzz_fail("roster", "the roster holds %zu people after %s", roster_size(r), after);
	for (uint32_t s = 0; s < roster_scope_count(r); s++)
		if (roster_headcount(r, s) != 0)
			fuzz_fail("roster", "scope %u has headcount %u after %s", s,
				  roster_headcount(r, s), after);
}

static int fuzz_roster_apply(roster *r, const char *key, size_t key_len, const char *value,
			     size_t value_len)
{
	char errstr[256] = "";
	int rc = roster_apply_record(r, fuzz_privacy, key, key_len, value, value_len, errstr,
				     sizeof(errstr));

	if (rc != 0 && rc != -1)
		fuzz_fail("roster", "roster_apply_record returned %d, expected 0 or -1", rc);
	if (rc == -1 && !fuzz_roster_errstr_ok(errstr))
		fuzz_fail("roster", "a rejected record has no printable \"roster record:\" error");
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fuzz_roster_init();

	size_t key_len = data[0] < size - 1 ? data[0] : size - 1;
	const char *key = (const char *)data + 1;
	const char *value = key + key_len;
	size_t value_len = size - 1 - key_len;
	pseudonym employee;
	roster *r = roster_new();

	if (r == NULL)
		fuzz_fail("roster", "cannot create a roster");
	privacy_pseudonym(fuzz_privacy, key, key_len, &employee);

	if (fuzz_roster_apply(r, key, key_len, value, value_len) == -1) {
		fuzz_roster_check_empty(r, "a rejected record");
	} else if (value_len == 0) {
		fuzz_roster_check_empty(r, "a tombstone");
	} else {
		if (value_len > ROSTER_MAX_RECORD_LEN)
			fuzz_fail("roster",
				  "a record of %zu bytes is accepted, above the limit of %d",
				  value_len, ROSTER_MAX_RECORD_LEN);
		fuzz_roster_check_person(r, &employee);
		if (fuzz_roster_apply(r, key, key_len, value, value_len) != 0)
			fuzz_fail("roster", "a record accepted once is rejected the second time");
		fuzz_roster_check_person(r, &employee);
		if (fuzz_roster_apply(r, key, key_len, NULL, 0) != 0)
			fuzz_fail("roster", "the tombstone of an accepted record is rejected");
		fuzz_roster_check_empty(r, "a tombstone");
	}
	roster_free(r);
	return 0;
}
