/*
 * decode_greenhouse.c - Greenhouse web hooks to referral events (see
 * decode_greenhouse.h for the mapping).
 *
 * The decoder reads only the action, the application's id, source, referrer,
 * credited_to, job and times. It never touches the candidate object, so
 * candidate data stays in the parsed document, which is released at the
 * next message or when the decoder is freed.
 *
 * Limits: an id longer than DECODE_JSON_MAX_ID bytes is INVALID
 * (id_too_long). Greenhouse credits a recruiter or sourcer for applications
 * from other sources too, so credited_to alone does not make a referral.
 */
#include "decode_greenhouse.h"

#include <stdio.h>
#include <stdlib.h>

#include "decode_json.h"

/* "greenhouse:<application id>:referred" */
#define DECODE_GREENHOUSE_EVENT_ID_SIZE (DECODE_JSON_MAX_ID + 32)

struct decode_greenhouse {
	decode_json_doc doc;
	char event_id[DECODE_GREENHOUSE_EVENT_ID_SIZE];
	char application_num[DECODE_JSON_NUM_SIZE];
	char actor_num[DECODE_JSON_NUM_SIZE];
	char job_num[DECODE_JSON_NUM_SIZE];
};

typedef enum decode_greenhouse_action {
	DECODE_GREENHOUSE_OTHER,
	DECODE_GREENHOUSE_APPLIED,
	DECODE_GREENHOUSE_HIRED,
	DECODE_GREENHOUSE_PING,
} decode_greenhouse_action;

decode_greenhouse *decode_greenhouse_new(void)
{
	return calloc(1, sizeof(decode_greenhouse));
}

void decode_greenhouse_free(decode_greenhouse *d)
{
	if (d == NULL)
		return;
	decode_json_close(&d->doc);
	free(d);
}

static decode_greenhouse_action decode_greenhouse_action_of(event_str action)
{
	if (event_str_eq(action, "new_candidate_application") ||
	    event_str_eq(action, "new_prospect_application"))
		return DECODE_GREENHOUSE_APPLIED;
	if (event_str_eq(action, "hire_candidate") || event_str_eq(action, "candidate_hired"))
		return DECODE_GREENHOUSE_HIRED;
	if (event_str_eq(action, "ping"))
		return DECODE_GREENHOUSE_PING;
	return DECODE_GREENHOUSE_OTHER;
}

/* A referral source is named so ("Referral", "Employee referral"), or a referrer is set. */
static bool decode_greenhouse_is_referral(const json_t *app)
{
	const json_t *source = json_object_get(app, "source");

	if (json_is_object(json_object_get(app, "referrer")))
		return true;
	return decode_json_icontains(decode_json_str(source, "public_name"), "referral") ||
	       decode_json_icontains(decode_json_str(source, "name"), "referral");
}

/* The referring employee: employee_id, else email, else the Greenhouse user id. */
static event_str decode_greenhouse_actor(decode_greenhouse *d, const json_t *app)
{
	const json_t *credited = json_object_get(app, "credited_to");
	event_str id = decode_json_str(credited, "employee_id");

	if (id.len == 0)
		id = decode_json_str(credited, "email");
	if (id.len == 0)
		id = decode_json_id(credited, "id", d->actor_num);
	return id;
}

/* The job applied for: jobs[0].id, else job.id; absent when neither is given. */
static event_str decode_greenhouse_job(decode_greenhouse *d, const json_t *app)
{
	const json_t *jobs = json_object_get(app, "jobs");
	const json_t *job = json_is_array(jobs) ? json_array_get(jobs, 0) : NULL;

	if (job == NULL)
		job = json_object_get(app, "job");
	return decode_json_id(job, "id", d->job_num);
}

static int64_t decode_greenhouse_time(const json_t *app, decode_greenhouse_action action)
{
	int64_t t = 0;

	if (action == DECODE_GREENHOUSE_HIRED)
		t = decode_json_time(json_object_get(json_object_get(app, "offer"), "resolved_at"));
	else
		t = decode_json_time(json_object_get(app, "applied_at"));
	if (t == 0)
		t = decode_json_time(json_object_get(app, "last_activity_at"));
	if (t == 0 && action == DECODE_GREENHOUSE_HIRED)
		t = decode_json_time(json_object_get(app, "applied_at"));
	return t;
}

/* Fills ev from a referral application; the action is applied or hired. */
static decode_status decode_greenhouse_event(decode_greenhouse *d, const json_t *app,
					     decode_greenhouse_action action, event *ev,
					     decode_result *res)
{
	bool hired = action == DECODE_GREENHOUSE_HIRED;
	event_str app_id = decode_json_id(app, "id", d->application_num);

	if (app_id.len == 0)
		return decode_json_missing(res, "payload.application.id");
	ev->actor_id = decode_greenhouse_actor(d, app);
	if (ev->actor_id.len == 0)
		return decode_json_missing(res, "payload.application.credited_to");
	ev->content_id = decode_greenhouse_job(d, app);
	if (app_id.len > DECODE_JSON_MAX_ID || ev->actor_id.len > DECODE_JSON_MAX_ID ||
	    ev->content_id.len > DECODE_JSON_MAX_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					  "an application, employee or job id is longer than %d "
					  "bytes",
					  DECODE_JSON_MAX_ID);
	ev->event_time_ms = decode_greenhouse_time(app, action);
	if (ev->event_time_ms == 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					  "the application has no valid %s or last_activity_at",
					  hired ? "offer.resolved_at" : "applied_at");

	decode_status st = decode_json_event_id(ev, d->event_id, sizeof(d->event_id), res,
						"greenhouse:%.*s:%s", (int)app_id.len, app_id.ptr,
						hired ? "hired" : "referred");
	if (st != DECODE_OK)
		return st;
	ev->source = (event_str){"greenhouse", 10};
	ev->kind = hired ? (event_str){"referral_hired", 14} : (event_str){"referral_made", 13};
	return DECODE_OK;
}

decode_status decode_greenhouse_message(decode_greenhouse *d, const void *buf, size_t len,
					event *ev, decode_result *res)
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
	event_str action_name = decode_json_str(top, "action");
	if (action_name.len == 0)
		return decode_json_missing(res, "action");

	decode_greenhouse_action action = decode_greenhouse_action_of(action_name);
	if (action == DECODE_GREENHOUSE_PING)
		return decode_json_reject(res, DECODE_IGNORED, "ping",
					  "a ping that checks the web hook endpoint");
	if (action == DECODE_GREENHOUSE_OTHER)
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_action",
					  "the action is neither an application nor a hire");

	const json_t *app = json_object_get(json_object_get(top, "payload"), "application");
	if (!json_is_object(app))
		return decode_json_missing(res, "payload.application");
	if (!decode_greenhouse_is_referral(app))
		return decode_json_reject(res, DECODE_IGNORED, "not_a_referral",
					  "the application does not come from a referral source");
	return decode_greenhouse_event(d, app, action, ev, res);
}
