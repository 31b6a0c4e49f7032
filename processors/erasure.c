/*
 * erasure.c - request checks and the governance record of an erasure
 * (see erasure.h).
 */
#include "erasure.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static bool erasure_request_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '-';
}

bool erasure_request_id_valid(const char *id, char *errstr, size_t errstr_size)
{
	size_t len = id ? strlen(id) : 0;

	if (len == 0 || len > ERASURE_REQUEST_ID_MAX) {
		snprintf(errstr, errstr_size, "request id must have 1 to %d characters, got %zu",
		         ERASURE_REQUEST_ID_MAX, len);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!erasure_request_char_valid(id[i])) {
			snprintf(errstr, errstr_size,
			         "request id: character %zu is invalid; use letters, digits, "
			         "'_', '.', ':' and '-' (a ticket number, not personal data)",
			         i + 1);
			return false;
		}
	}
	return true;
}

bool erasure_employee_id_valid(const char *id, size_t len, char *errstr, size_t errstr_size)
{
	if (!id || len == 0 || len > ERASURE_EMPLOYEE_ID_MAX) {
		snprintf(errstr, errstr_size, "employee id must have 1 to %d bytes, got %zu",
		         ERASURE_EMPLOYEE_ID_MAX, id ? len : 0);
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c < 0x20 || c == 0x7f) {
			snprintf(errstr, errstr_size,
			         "employee id: byte %zu is a control character; pass the id exactly "
			         "as the roster topic keys it", i + 1);
			return false;
		}
	}
	return true;
}

/* Writes "2026-01-04T10:15:00.000Z", or "yyyymmddThhmmssZ" when compact. */
static void erasure_format_time(int64_t time_ms, bool compact, char *out, size_t out_size)
{
	time_t secs = (time_t)(time_ms / 1000);
	struct tm tm;
	char buf[32];

	gmtime_r(&secs, &tm);
	if (compact) {
		strftime(out, out_size, "%Y%m%dT%H%M%SZ", &tm);
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, out_size, "%s.%03dZ", buf, (int)(time_ms % 1000));
}

void erasure_default_request_id(int64_t time_ms, long unique, char *out, size_t out_size)
{
	char stamp[32];

	erasure_format_time(time_ms, true, stamp, sizeof(stamp));
	snprintf(out, out_size, "erasure-%s-%ld", stamp, unique);
}

static json_t *erasure_counts_json(const erasure_counts *c)
{
	json_t *o = json_object();
	int rc = !o;

	rc |= json_object_set_new(o, "roster_tombstones", json_integer(c->roster_tombstones));
	rc |= json_object_set_new(o, "roster_partitions", json_integer(c->roster_partitions));
	rc |= json_object_set_new(o, "redis_person_keys",
	                          json_integer((json_int_t)c->redis_person_keys));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *erasure_governance_json(const erasure_record *r)
{
	char time_text[40];
	json_t *o = NULL;
	char *text = NULL;
	int rc;

	if (!r->request_id || !r->key_id || !r->roster_topic || !r->redis_key_prefix)
		return NULL;
	erasure_format_time(r->time_ms, false, time_text, sizeof(time_text));

	o = json_object();
	rc = !o;
	rc |= json_object_set_new(o, "type", json_string("erasure"));
	rc |= json_object_set_new(o, "time", json_string(time_text));
	rc |= json_object_set_new(o, "request_id", json_string(r->request_id));
	rc |= json_object_set_new(o, "key_id", json_string(r->key_id));
	rc |= json_object_set_new(o, "roster_topic", json_string(r->roster_topic));
	rc |= json_object_set_new(o, "redis_key_prefix", json_string(r->redis_key_prefix));
	rc |= json_object_set_new(o, "removed", erasure_counts_json(&r->counts));
	rc |= json_object_set_new(o, "producer", json_string("advocacyd forget"));
	rc |= json_object_set_new(o, "version", json_string(ADVOCACY_VERSION));
	if (rc == 0)
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}
