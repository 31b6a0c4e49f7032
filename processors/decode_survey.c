/*
 * decode_survey.c - Typeform eNPS answers to score-free events (see
 * decode_survey.h for the mapping).
 *
 * The score lives only in a local variable of decode_survey_kind(): the
 * event gets one of three constant kinds. Anonymous responses (no hidden
 * employee_id or email) are ignored, because eNPS is reported per scope and
 * a response without a respondent has no scope.
 */
#include "decode_survey.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "decode_json.h"

/* "typeform:<form id>:<token>" */
#define DECODE_SURVEY_EVENT_ID_SIZE (2 * DECODE_JSON_MAX_ID + 16)

struct decode_survey {
	decode_json_doc doc;
	char event_id[DECODE_SURVEY_EVENT_ID_SIZE];
};

decode_survey *decode_survey_new(void)
{
	return calloc(1, sizeof(decode_survey));
}

void decode_survey_free(decode_survey *d)
{
	if (d == NULL)
		return;
	decode_json_close(&d->doc);
	free(d);
}

/* The eNPS answer: field.ref "enps", else the first answer of field.type "nps". */
static const json_t *decode_survey_answer(const json_t *answers)
{
	const json_t *first_nps = NULL;
	const json_t *a;
	size_t i;

	json_array_foreach(answers, i, a) {
		const json_t *field = json_object_get(a, "field");
		if (event_str_eq(decode_json_str(field, "ref"), "enps"))
			return a;
		if (first_nps == NULL && event_str_eq(decode_json_str(field, "type"), "nps"))
			first_nps = a;
	}
	return first_nps;
}

/* Maps the answer's score to a kind; an absent kind when it is not 0..10. */
static event_str decode_survey_kind(const json_t *answer)
{
	const json_t *number = json_object_get(answer, "number");
	double score;

	if (!json_is_number(number))
		return (event_str){NULL, 0};
	score = json_number_value(number);
	if (!(score >= 0 && score <= 10) || floor(score) != score)
		return (event_str){NULL, 0};
	if (score >= 9)
		return (event_str){"enps_promoter", 13};
	if (score >= 7)
		return (event_str){"enps_passive", 12};
	return (event_str){"enps_detractor", 14};
}

/* Fills actor, content, time and id of the response. */
static decode_status decode_survey_response(decode_survey *d, const json_t *fr, event *ev,
					    decode_result *res)
{
	const json_t *hidden = json_object_get(fr, "hidden");
	event_str token = decode_json_str(fr, "token");

	ev->actor_id = decode_json_str(hidden, "employee_id");
	if (ev->actor_id.len == 0)
		ev->actor_id = decode_json_str(hidden, "email");
	if (ev->actor_id.len == 0)
		return decode_json_reject(res, DECODE_IGNORED, "anonymous_response",
					  "the response has no hidden employee_id or email");
	ev->content_id = decode_json_str(fr, "form_id");
	if (ev->content_id.len == 0)
		return decode_json_missing(res, "form_response.form_id");
	if (token.len == 0)
		return decode_json_missing(res, "form_response.token");
	if (ev->actor_id.len > DECODE_JSON_MAX_ID || ev->content_id.len > DECODE_JSON_MAX_ID ||
	    token.len > DECODE_JSON_MAX_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					  "the respondent, form id or token is longer than %d bytes",
					  DECODE_JSON_MAX_ID);
	ev->event_time_ms = decode_json_time(json_object_get(fr, "submitted_at"));
	if (ev->event_time_ms == 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					  "form_response.submitted_at is missing or not a valid time");
	return decode_json_event_id(ev, d->event_id, sizeof(d->event_id), res,
				    "typeform:%.*s:%.*s", (int)ev->content_id.len,
				    ev->content_id.ptr, (int)token.len, token.ptr);
}

decode_status decode_survey_message(decode_survey *d, const void *buf, size_t len, event *ev,
				    decode_result *res)
{
	*ev = (event){0};
	*res = (decode_result){.status = DECODE_OK};

	const json_t *top = decode_json_open(&d->doc, buf, len, res);
	if (top == NULL)
		return res->status;
	if (!json_is_object(top))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "the JSON document is %s, expected a web hook object",
					  decode_json_type(top));
	event_str type = decode_json_str(top, "event_type");
	if (type.len == 0)
		return decode_json_missing(res, "event_type");
	if (!event_str_eq(type, "form_response"))
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_event_type",
					  "the event_type is not form_response");
	const json_t *fr = json_object_get(top, "form_response");
	if (!json_is_object(fr))
		return decode_json_missing(res, "form_response");

	const json_t *answer = decode_survey_answer(json_object_get(fr, "answers"));
	if (answer == NULL)
		return decode_json_reject(res, DECODE_IGNORED, "no_enps_answer",
					  "the response has no answer with field.ref enps or "
					  "field.type nps");
	ev->kind = decode_survey_kind(answer);
	if (ev->kind.len == 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_score",
					  "the eNPS answer is not a whole number from 0 to 10");
	decode_status status = decode_survey_response(d, fr, ev, res);
	if (status != DECODE_OK) {
		*ev = (event){0};
		return status;
	}
	ev->source = (event_str){"typeform", 8};
	return DECODE_OK;
}
