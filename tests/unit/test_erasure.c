/*
 * test_erasure.c - request checks and the governance record of an erasure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "erasure.h"

static void request_id_accepts_ticket_numbers(void **state)
{
	char err[256];

	assert_true(erasure_request_id_valid("DSR-2041", err, sizeof(err)));
	assert_true(erasure_request_id_valid("gdpr:art17.2026_01", err, sizeof(err)));
	assert_true(erasure_request_id_valid("x", err, sizeof(err)));
}

static void request_id_rejects_personal_text(void **state)
{
	char err[256];

	assert_false(erasure_request_id_valid("jane@example.com", err, sizeof(err)));
	assert_non_null(strstr(err, "character 5 is invalid"));
	assert_false(erasure_request_id_valid("Jane Doe", err, sizeof(err)));
	assert_non_null(strstr(err, "character 5 is invalid"));
	assert_false(erasure_request_id_valid("a\nb", err, sizeof(err)));
}

static void request_id_length_limits(void **state)
{
	char err[256];
	char id[ERASURE_REQUEST_ID_MAX + 2];

	assert_false(erasure_request_id_valid("", err, sizeof(err)));
	assert_non_null(strstr(err, "got 0"));
	assert_false(erasure_request_id_valid(NULL, err, sizeof(err)));

	memset(id, 'a', ERASURE_REQUEST_ID_MAX);
	id[ERASURE_REQUEST_ID_MAX] = '\0';
	assert_true(erasure_request_id_valid(id, err, sizeof(err)));
	id[ERASURE_REQUEST_ID_MAX] = 'a';
	id[ERASURE_REQUEST_ID_MAX + 1] = '\0';
	assert_false(erasure_request_id_valid(id, err, sizeof(err)));
}

static void employee_id_checks_never_quote_the_id(void **state)
{
	char err[256];
	const char *id = "emp\x01secret";

	assert_true(erasure_employee_id_valid("emp-0003", 8, err, sizeof(err)));
	assert_true(erasure_employee_id_valid("jane.doe@example.com", 20, err, sizeof(err)));
	assert_false(erasure_employee_id_valid("", 0, err, sizeof(err)));
	assert_false(erasure_employee_id_valid(id, strlen(id), err, sizeof(err)));
	assert_non_null(strstr(err, "byte 4 is a control character"));
	assert_null(strstr(err, "secret"));
}

static void employee_id_length_limit(void **state)
{
	char err[256];
	char *id = malloc(ERASURE_EMPLOYEE_ID_MAX + 1);

	assert_non_null(id);
	memset(id, 'e', ERASURE_EMPLOYEE_ID_MAX + 1);
	assert_true(erasure_employee_id_valid(id, ERASURE_EMPLOYEE_ID_MAX, err, sizeof(err)));
	assert_false(erasure_employee_id_valid(id, ERASURE_EMPLOYEE_ID_MAX + 1, err, sizeof(err)));
	free(id);
}

static void default_request_id_is_valid(void **state)
{
	char id[64], err[256];

	/* 2026-01-04T10:15:00.250Z */
	erasure_default_request_id(1767521700250LL, 4711, id, sizeof(id));
	assert_string_equal(id, "erasure-20260104T101500Z-4711");
	assert_true(erasure_request_id_valid(id, err, sizeof(err)));
}

static const erasure_record sample = {
	.request_id = "DSR-2041",
	.key_id = "k1",
	.roster_topic = "advocacy.roster",
	.redis_key_prefix = "advocacy",
	.time_ms = 1767521700250LL,
	.counts = { .roster_partitions = 3, .roster_tombstones = 3, .redis_person_keys = 2 },
};

static void governance_record_fields(void **state)
{
	char *text = erasure_governance_json(&sample);
	json_error_t jerr;

	assert_non_null(text);
	json_t *r = json_loads(text, 0, &jerr);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "type")), "erasure");
	assert_string_equal(json_string_value(json_object_get(r, "time")),
	                    "2026-01-04T10:15:00.250Z");
	assert_string_equal(json_string_value(json_object_get(r, "request_id")), "DSR-2041");
	assert_string_equal(json_string_value(json_object_get(r, "key_id")), "k1");
	assert_string_equal(json_string_value(json_object_get(r, "roster_topic")),
	                    "advocacy.roster");
	assert_string_equal(json_string_value(json_object_get(r, "redis_key_prefix")), "advocacy");
	assert_string_equal(json_string_value(json_object_get(r, "version")), ADVOCACY_VERSION);

	json_t *removed = json_object_get(r, "removed");
	assert_int_equal(json_integer_value(json_object_get(removed, "roster_tombstones")), 3);
	assert_int_equal(json_integer_value(json_object_get(removed, "roster_partitions")), 3);
	assert_int_equal(json_integer_value(json_object_get(removed, "redis_person_keys")), 2);
	assert_int_equal(json_object_size(removed), 3);
	assert_int_equal(json_object_size(r), 9);
	json_decref(r);
	free(text);
}

static void governance_record_needs_every_field(void **state)
{
	erasure_record r = sample;

	r.key_id = NULL;
	assert_null(erasure_governance_json(&r));
	r = sample;
	r.request_id = NULL;
	assert_null(erasure_governance_json(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_id_accepts_ticket_numbers),
		cmocka_unit_test(request_id_rejects_personal_text),
		cmocka_unit_test(request_id_length_limits),
		cmocka_unit_test(employee_id_checks_never_quote_the_id),
		cmocka_unit_test(employee_id_length_limit),
		cmocka_unit_test(default_request_id_is_valid),
		cmocka_unit_test(governance_record_fields),
		cmocka_unit_test(governance_record_needs_every_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
