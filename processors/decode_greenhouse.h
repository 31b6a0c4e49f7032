/*
 * decode_greenhouse.h - referrals from Greenhouse Recruiting web hooks to
 * canonical events.
 *
 * A message is one web hook body {"action": ..., "payload": {"application":
 * {...}}}. Only referrals count, and they credit the employee who referred:
 *   new_candidate_application, new_prospect_application -> "referral_made"
 *   hire_candidate (or candidate_hired)                 -> "referral_hired"
 * An application is a referral when its source's public_name or name
 * contains "referral" (any case), as Greenhouse's referral sources are named,
 * or when it has a "referrer" object. The actor is the employee credited
 * with it, application.credited_to: its employee_id, else its email, else
 * its Greenhouse user id as decimal text. List that id among the
 * person's roster aliases. content_id is the job id (application.jobs[0].id or
 * application.job.id), when given.
 *
 * Candidates are not employees: nothing of the candidate (names, e-mails,
 * phone numbers, addresses, attachments, the candidate id) is read at all,
 * so none of it can leave the decoder.
 *
 * Event time: applied_at for an application (else last_activity_at); for a
 * hire offer.resolved_at, else last_activity_at, else applied_at. Event ids
 * are stable across redelivery: "greenhouse:<application id>:referred" and
 * "greenhouse:<application id>:hired", so a web hook Greenhouse retries
 * counts once (at most 256 bytes, else id_too_long).
 *
 * Reasons: IGNORED ping, unsupported_action, not_a_referral; INVALID
 * oversized, invalid_json, not_an_object, missing_field, invalid_event_time,
 * id_too_long.
 *
 * Events borrow from the decoder until its next call. One thread at a time.
 */
#ifndef ADVOCACY_DECODE_GREENHOUSE_H
#define ADVOCACY_DECODE_GREENHOUSE_H

#include <stddef.h>

#include "event.h"

typedef struct decode_greenhouse decode_greenhouse;

/* Returns a new decoder, or NULL when out of memory. */
decode_greenhouse *decode_greenhouse_new(void);
void decode_greenhouse_free(decode_greenhouse *d);

/* Decodes one web hook body; *ev is filled when the result is DECODE_OK. */
decode_status decode_greenhouse_message(decode_greenhouse *d, const void *buf, size_t len,
					event *ev, decode_result *res);

#endif
