/*
 * decode_survey.h - eNPS answers from Typeform form_response web hooks to
 * canonical events that carry no score.
 *
 * A message is one web hook body {"event_id", "event_type": "form_response",
 * "form_response": {...}}. The eNPS answer is the answer whose field.ref is
 * "enps", else the first answer whose field.type is "nps"; it must be a
 * whole number from 0 to 10. The score picks the kind and is dropped:
 *   9 or 10  -> "enps_promoter"
 *   7 or 8   -> "enps_passive"
 *   0 to 6   -> "enps_detractor"
 * Nothing else of the response (other answers, free text, metadata) is read.
 * The actor is the respondent, from the hidden fields the survey link
 * carries: hidden.employee_id, else hidden.email. content_id is the
 * form_id. Event time: submitted_at. Event id
 * "typeform:<form_id>:<token>", the token being Typeform's response id, so
 * a response delivered again counts once (at most 256 bytes, else
 * id_too_long).
 *
 * No score, nor anything derived from it but the kind, leaves this decoder:
 * not in the event, not in a detail sentence (an invalid score is reported
 * as such, without its value).
 *
 * Reasons: IGNORED unsupported_event_type, no_enps_answer,
 * anonymous_response; INVALID oversized, invalid_json, not_an_object,
 * missing_field, invalid_score, invalid_event_time, id_too_long.
 *
 * Events borrow from the decoder until its next call. One thread at a time.
 */
#ifndef ADVOCACY_DECODE_SURVEY_H
#define ADVOCACY_DECODE_SURVEY_H

#include <stddef.h>

#include "event.h"

typedef struct decode_survey decode_survey;

/* Returns a new decoder, or NULL when out of memory. */
decode_survey *decode_survey_new(void);
void decode_survey_free(decode_survey *d);

/* Decodes one web hook body; *ev is filled when the result is DECODE_OK. */
decode_status decode_survey_message(decode_survey *d, const void *buf, size_t len, event *ev,
				    decode_result *res);

#endif
