/*
 * gate.c - consent and amounts of the hits of one event.
 *
 * gate_apply() makes two passes over the hits: the first keeps those whose
 * consent the actor has, the second reads each kept hit's amount. Errors of
 * the second pass reject the whole event, so a malformed report never
 * counts in part. Amounts are parsed by hand from the attribute's bytes
 * (they are borrowed and not NUL-terminated) with the bound checked at
 * each digit, so no value can overflow.
 */
#include "gate.h"

#include <stdio.h>

bool gate_needs_actor(const classify_hit *hits, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hits[i].consent != CONSENT_NONE)
			return true;
	return false;
}

static decode_status gate_reject(decode_result *res, decode_status status, const char *reason)
{
	res->status = status;
	res->reason = reason;
	return status;
}

/* Keeps the hits whose consent the actor has; returns how many remain. */
static size_t gate_consent(const event *ev, const roster_person *actor, classify_hit *hits,
			   size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		if (hits[i].consent != CONSENT_NONE &&
		    (actor == NULL ||
		     !roster_has_consent(actor, hits[i].consent, ev->event_time_ms)))
			continue;
		hits[kept++] = hits[i];
	}
	return kept;
}

/* Parses the decimal digits of s into *out, at most max; false when it is not such a number. */
static bool gate_parse_amount(event_str s, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		int digit = s.ptr[i] - '0';
		if (digit < 0 || digit > 9 || v > max / 10)
			return false;
		v = v * 10 + digit;
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* Sets the amount of a hit; DECODE_INVALID with res filled when the attribute is unusable. */
static decode_status gate_amount(const event *ev, classify_hit *hit, decode_result *res)
{
	if (hit->amount_attribute == NULL) {
		hit->amount = 1;
		return DECODE_OK;
	}
	event_str value = event_attr_get(ev, hit->amount_attribute);
	if (gate_parse_amount(value, hit->amount_max, &hit->amount))
		return DECODE_OK;
	snprintf(res->detail, sizeof(res->detail),
		 "attribute %.48s is %s; a rule takes its amount from it as decimal digits, "
		 "0 to %lld",
		 hit->amount_attribute, value.len == 0 ? "missing or empty" : "not such a number",
		 (long long)hit->amount_max);
	return gate_reject(res, DECODE_INVALID, "invalid_amount");
}

decode_status gate_apply(const event *ev, const roster_person *actor, classify_hit *hits,
			 size_t *n, decode_result *res)
{
	size_t kept = gate_consent(ev, actor, hits, *n);

	if (kept == 0) {
		*n = 0;
		snprintf(res->detail, sizeof(res->detail),
			 "the rules this event matches need the actor's opt-in consent, which "
			 "is not on record for its time");
		return gate_reject(res, DECODE_IGNORED, "no_consent");
	}

	size_t counted = 0;
	for (size_t i = 0; i < kept; i++) {
		if (gate_amount(ev, &hits[i], res) != DECODE_OK) {
			*n = 0;
			return DECODE_INVALID;
		}
		if (hits[i].amount > 0)
			hits[counted++] = hits[i];
	}
	*n = counted;
	if (counted == 0) {
		snprintf(res->detail, sizeof(res->detail),
			 "the amount this event reports is 0, so it credits nothing");
		return gate_reject(res, DECODE_IGNORED, "zero_amount");
	}
	return DECODE_OK;
}
