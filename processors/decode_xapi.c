/*
 * decode_xapi.c - xAPI statements to training events (see decode_xapi.h for
 * the mapping).
 *
 * decode_xapi_open() finds the statements: the document itself, its
 * elements, or the "statements" array of a StatementResult. Each
 * decode_xapi_next() reads one statement: verb, actor, object, times and
 * ids. Result scores, durations, context activities and extensions are
 * never read; only the course IRI leaves as content id.
 *
 * Limits: an id longer than DECODE_JSON_MAX_ID bytes is INVALID
 * (id_too_long). An actor that is a Group is ignored: a completion by a
 * group names no one person to credit, and its members list would put
 * several people on one event.
 */
#include "decode_xapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_json.h"

/* "xapi:<registration>:<hash of object id>", longer ones are refused */
#define DECODE_XAPI_EVENT_ID_SIZE (DECODE_JSON_MAX_ID + 32)

struct decode_xapi {
	decode_json_doc doc;
	const json_t *items;  /* array of statements, or NULL for a single one */
	const json_t *single; /* the statement of a message that contains one */
	size_t n_items;
	size_t next_item;
	char event_id[DECODE_XAPI_EVENT_ID_SIZE];
};

decode_xapi *decode_xapi_new(void)
{
	return calloc(1, sizeof(decode_xapi));
}

void decode_xapi_free(decode_xapi *d)
{
	if (d == NULL)
		return;
	decode_json_close(&d->doc);
	free(d);
}

/* The last path segment of an IRI: ".../verbs/completed" gives "completed". */
static event_str decode_xapi_last_segment(event_str iri)
{
	size_t i = iri.len;

	while (i > 0 && iri.ptr[i - 1] != '/' && iri.ptr[i - 1] != '#' && iri.ptr[i - 1] != ':')
		i--;
	return (event_str){iri.ptr + i, iri.len - i};
}

/* The Agent's identifier, per the inverse functional identifiers of xAPI. */
static event_str decode_xapi_actor_id(const json_t *actor)
{
	event_str id = decode_json_str(actor, "mbox");

	if (id.len > 7 && decode_json_ieq((event_str){id.ptr, 7}, "mailto:"))
		return (event_str){id.ptr + 7, id.len - 7};
	if (id.len > 0)
		return id;
	id = decode_json_str(json_object_get(actor, "account"), "name");
	if (id.len == 0)
		id = decode_json_str(actor, "openid");
	if (id.len == 0)
		id = decode_json_str(actor, "mbox_sha1sum");
	return id;
}

/* Builds the stable event id into the decoder's buffer. */
static decode_status decode_xapi_event_id(decode_xapi *d, const json_t *st, event *ev,
					  decode_result *res)
{
	event_str reg = decode_json_str(json_object_get(st, "context"), "registration");
	event_str id = decode_json_str(st, "id");
	char course[17];

	/* The course IRI can be long: it enters the id as a hash. */
	decode_json_hash_hex(ev->content_id, course);
	if (reg.len > 0)
		return decode_json_event_id(ev, d->event_id, sizeof(d->event_id), res,
					    "xapi:%.*s:%s", (int)reg.len, reg.ptr, course);
	if (id.len > 0)
		return decode_json_event_id(ev, d->event_id, sizeof(d->event_id), res, "xapi:%.*s",
					    (int)id.len, id.ptr);
	return decode_json_missing(res, "id (or context.registration)");
}

/* Checks actor and object, and fills actor and content. */
static decode_status decode_xapi_parties(const json_t *st, event *ev, decode_result *res)
{
	const json_t *actor = json_object_get(st, "actor");
	const json_t *object = json_object_get(st, "object");
	event_str object_type = decode_json_str(object, "objectType");

	if (!json_is_object(actor))
		return decode_json_missing(res, "actor");
	if (event_str_eq(decode_json_str(actor, "objectType"), "Group"))
		return decode_json_reject(res, DECODE_IGNORED, "group_actor",
					  "the actor is a group, not one person");
	if (!json_is_object(object))
		return decode_json_missing(res, "object");
	if (object_type.len > 0 && !event_str_eq(object_type, "Activity"))
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_object",
					  "the object is not an Activity");
	ev->actor_id = decode_xapi_actor_id(actor);
	if (ev->actor_id.len == 0)
		return decode_json_missing(res, "actor.mbox (or account.name, openid, mbox_sha1sum)");
	ev->content_id = decode_json_str(object, "id");
	if (ev->content_id.len == 0)
		return decode_json_missing(res, "object.id");
	if (ev->actor_id.len > DECODE_JSON_MAX_ID || ev->content_id.len > DECODE_JSON_MAX_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					  "the actor or object id is longer than %d bytes",
					  DECODE_JSON_MAX_ID);
	return DECODE_OK;
}

static decode_status decode_xapi_statement(decode_xapi *d, const json_t *st, event *ev,
					   decode_result *res)
{
	if (!json_is_object(st))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "the statement is %s, expected an object",
					  decode_json_type(st));
	event_str verb_id = decode_json_str(json_object_get(st, "verb"), "id");
	if (verb_id.len == 0)
		return decode_json_missing(res, "verb.id");
	event_str verb = decode_xapi_last_segment(verb_id);
	if (!event_str_eq(verb, "completed") && !event_str_eq(verb, "passed"))
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_verb",
					  "the verb is neither completed nor passed");

	decode_status status = decode_xapi_parties(st, ev, res);
	if (status != DECODE_OK)
		return status;
	ev->event_time_ms = decode_json_time(json_object_get(st, "timestamp"));
	if (ev->event_time_ms == 0)
		ev->event_time_ms = decode_json_time(json_object_get(st, "stored"));
	if (ev->event_time_ms == 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					  "the statement has no valid timestamp or stored time");
	status = decode_xapi_event_id(d, st, ev, res);
	if (status != DECODE_OK)
		return status;
	ev->source = (event_str){"xapi", 4};
	ev->kind = (event_str){"training_completed", 18};
	decode_json_add_attr(ev, "verb", verb);
	return DECODE_OK;
}

decode_status decode_xapi_open(decode_xapi *d, const void *buf, size_t len, decode_result *res)
{
	*res = (decode_result){.status = DECODE_OK};
	d->items = NULL;
	d->single = NULL;
	d->n_items = 0;
	d->next_item = 0;

	const json_t *top = decode_json_open(&d->doc, buf, len, res);
	if (top == NULL)
		return res->status;
	const json_t *statements = json_object_get(top, "statements");
	if (json_is_array(top)) {
		d->items = top;
	} else if (json_is_array(statements)) {
		d->items = statements;
	} else if (json_is_object(top)) {
		d->single = top;
		d->n_items = 1;
	} else {
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "the JSON document is %s, expected a statement or an "
					  "array of statements",
					  decode_json_type(top));
	}
	if (d->items)
		d->n_items = json_array_size(d->items);
	if (d->n_items == 0)
		return decode_json_reject(res, DECODE_IGNORED, "empty_collection",
					  "the message holds no statement");
	return DECODE_OK;
}

bool decode_xapi_next(decode_xapi *d, event *ev, decode_result *res)
{
	if (d->next_item >= d->n_items)
		return false;
	const json_t *st = d->items ? json_array_get(d->items, d->next_item) : d->single;
	d->next_item++;
	*ev = (event){0};
	*res = (decode_result){.status = DECODE_OK};
	res->status = decode_xapi_statement(d, st, ev, res);
	return true;
}
