/*
 * gate.h - what a matching rule asks before its credit counts: the actor's
 * consent, and the amount to credit.
 *
 * classify_event() says which rules an event matches; some of those rules
 * put conditions on the credit:
 *   - requires_consent: the actor must have opted in to the purpose (the
 *     roster records it, see roster.h) at the event's time and still now.
 *     Without it the hit is dropped, and an event left with no hit for that
 *     reason is ignored as no_consent: never credited, never written.
 *   - amount_attribute: the credit adds the integer in that attribute (the
 *     clicks or the reach a platform reports for a share) instead of 1. It
 *     must be plain decimal digits, at most the rule's amount_max; otherwise
 *     the event is invalid_amount and goes to the DLQ. A zero amount credits
 *     nothing and, when no other hit is left, is ignored as zero_amount.
 * Consent is checked first: an event of a person without consent is not
 * looked at further.
 *
 * Pure and allocation-free; the caller looks the actor up in the roster.
 */
#ifndef ADVOCACY_GATE_H
#define ADVOCACY_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "classify.h"
#include "event.h"
#include "roster.h"

/* True when a hit among hits[0..n) needs the actor's consent (then look the actor up). */
bool gate_needs_actor(const classify_hit *hits, size_t n);

/*
 * Drops the hits whose consent the actor (NULL: not in the roster) lacks
 * and sets each remaining hit's amount, compacting hits[0..*n) in place.
 * Returns DECODE_OK when hits remain; otherwise fills res: DECODE_IGNORED
 * with no_consent or zero_amount, or DECODE_INVALID with invalid_amount.
 */
decode_status gate_apply(const event *ev, const roster_person *actor, classify_hit *hits,
			 size_t *n, decode_result *res);

#endif
