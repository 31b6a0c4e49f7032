/*
 * schema_registry.c - schema folder and Confluent Schema Registry client (see
 * schema_registry.h).
 *
 * One request = one private event_base, one evhttp connection and a
 * deadline timer; the base is run until the reply callback or the deadline
 * breaks it, then everything is freed. Requests are rare (start, new schema
 * ids), so nothing is kept between them.
 *
 * Endpoints used, from the Confluent Schema Registry REST API:
 *   GET  /schemas/ids/<id>             -> {"schema": "<text>", "schemaType"?}
 *   POST /subjects/<subject>/versions  {"schema": "<text>"} -> {"id": N}
 * with Content-Type application/vnd.schemaregistry.v1+json.
 */
#include "schema_registry.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "log.h"
#include "schemas.h"

#define REGISTRY_MAX_BODY (1 << 20)
#define REGISTRY_CONTENT_TYPE "application/vnd.schemaregistry.v1+json"
#define REGISTRY_N_OUTPUTS 4

struct schema_registry {
	char *directory;            /* NULL: no folder */
	char *host;                 /* NULL: no registry */
	int port;
	char *base_path;            /* "" or "/prefix", without a trailing '/' */
	int64_t timeout_ms;
	int32_t ids[REGISTRY_N_OUTPUTS]; /* kpi, escalations, dlq, bias; -1: not registered */
	uint64_t requests, failures;
};

/* The answer to one request. */
typedef struct registry_reply {
	struct event_base *base;
	bool done;
	int code;                   /* HTTP status; 0: no answer */
	char *body;                 /* NUL-terminated; NULL without one */
} registry_reply;

/* ----------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------- */

/* Splits the http:// URL into host, port and base path. */
static int registry_parse_url(schema_registry *r, const char *url, char *errstr,
                              size_t errstr_size)
{
	struct evhttp_uri *uri = evhttp_uri_parse(url);
	const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	if (host == NULL || host[0] == '\0') {
		snprintf(errstr, errstr_size, "schema_registry.url: cannot parse the URL; write "
		         "e.g. http://127.0.0.1:8081");
		if (uri)
			evhttp_uri_free(uri);
		return -1;
	}
	r->host = strdup(host);
	r->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
	r->base_path = strdup(path ? path : "");
	evhttp_uri_free(uri);
	if (r->host == NULL || r->base_path == NULL) {
		snprintf(errstr, errstr_size, "out of memory");
		return -1;
	}
	size_t n = strlen(r->base_path);
	while (n > 0 && r->base_path[n - 1] == '/')
		r->base_path[--n] = '\0';
	return 0;
}

schema_registry *schema_registry_new(const config *cfg, char *errstr, size_t errstr_size)
{
	schema_registry *r;

	errstr[0] = '\0';
	if (cfg->schema_registry.directory == NULL && cfg->schema_registry.url == NULL)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	r->timeout_ms = cfg->schema_registry.timeout_ms;
	for (int i = 0; i < REGISTRY_N_OUTPUTS; i++)
		r->ids[i] = -1;
	if (cfg->schema_registry.directory &&
	    (r->directory = strdup(cfg->schema_registry.directory)) == NULL) {
		snprintf(errstr, errstr_size, "out of memory");
		goto fail;
	}
	if (cfg->schema_registry.url &&
	    registry_parse_url(r, cfg->schema_registry.url, errstr, errstr_size) < 0)
		goto fail;
	return r;

fail:
	schema_registry_free(r);
	return NULL;
}

void schema_registry_free(schema_registry *r)
{
	if (r == NULL)
		return;
	free(r->directory);
	free(r->host);
	free(r->base_path);
	free(r);
}

uint64_t schema_registry_requests(const schema_registry *r)
{
	return r->requests;
}

uint64_t schema_registry_failures(const schema_registry *r)
{
	return r->failures;
}

/* ----------------------------------------------------------------------------
 * One synchronous request
 * ------------------------------------------------------------------------- */

/* The reply, or NULL when the connection failed. Keeps the body, up to the limit. */
static void registry_done_cb(struct evhttp_request *req, void *arg)
{
	registry_reply *rep = arg;
	struct evbuffer *in;
	size_t n;

	rep->done = true;
	event_base_loopbreak(rep->base);
	if (req == NULL || (rep->code = evhttp_request_get_response_code(req)) == 0)
		return;
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	rep->body = malloc(n + 1);
	if (rep->body == NULL)
		return;
	evbuffer_remove(in, rep->body, n);
	rep->body[n] = '\0';
}

static void registry_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* Sends the request and fills rep; returns 0 when an HTTP answer came. */
static int registry_send(schema_registry *r, struct event_base *base, enum evhttp_cmd_type cmd,
                         const char *path, const char *body, registry_reply *rep)
{
	struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
	struct evhttp_connection *conn = evhttp_connection_base_new(base, NULL, r->host,
	                                                            (unsigned short)r->port);
	struct event *deadline = evtimer_new(base, registry_deadline_cb, base);
	struct evhttp_request *req = evhttp_request_new(registry_done_cb, rep);
	int rc = -1;

	if (conn == NULL || deadline == NULL || req == NULL)
		goto out;
	evhttp_connection_set_timeout_tv(conn, &tv);
	evhttp_connection_set_max_body_size(conn, REGISTRY_MAX_BODY);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", r->host);
	evhttp_add_header(h, "Accept", REGISTRY_CONTENT_TYPE ", application/json");
	if (body) {
		evhttp_add_header(h, "Content-Type", REGISTRY_CONTENT_TYPE);
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	}
	if (evhttp_make_request(conn, req, cmd, path) < 0) {
		req = NULL; /* freed by evhttp_make_request on failure */
		goto out;
	}
	req = NULL;
	evtimer_add(deadline, &tv);
	event_base_dispatch(base);
	rc = rep->done && rep->code > 0 ? 0 : -1;

out:
	if (req)
		evhttp_request_free(req);
	if (deadline)
		event_free(deadline);
	if (conn)
		evhttp_connection_free(conn);
	return rc;
}

/* Runs one request on a private loop: at most timeout_ms. Returns 0 with an HTTP answer. */
static int registry_request(schema_registry *r, enum evhttp_cmd_type cmd, const char *path,
                            const char *body, registry_reply *rep)
{
	*rep = (registry_reply){.base = event_base_new()};
	if (rep->base == NULL)
		return -1;
	r->requests++;
	int rc = registry_send(r, rep->base, cmd, path, body, rep);
	event_base_free(rep->base);
	rep->base = NULL;
	if (rc < 0)
		r->failures++;
	return rc;
}

/* ----------------------------------------------------------------------------
 * Input: writer schemas by id
 * ------------------------------------------------------------------------- */

/* Takes the schema text out of a GET /schemas/ids/<id> body. */
static schema_lookup_status registry_take_schema(const char *body, int32_t id, char **json,
                                                 char *detail, size_t detail_size)
{
	json_t *doc = json_loads(body, 0, NULL);
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	const char *type = json_string_value(json_object_get(doc, "schemaType"));
	schema_lookup_status status = SCHEMA_LOOKUP_FOUND;

	if (schema == NULL) {
		snprintf(detail, detail_size, "the registry's answer for schema id %" PRId32
		         " has no schema", id);
		status = SCHEMA_LOOKUP_FAILED;
	} else if (type != NULL && strcmp(type, "AVRO") != 0) {
		snprintf(detail, detail_size, "schema id %" PRId32 " is not an Avro schema", id);
		status = SCHEMA_LOOKUP_UNUSABLE;
	} else if ((*json = strdup(schema)) == NULL) {
		snprintf(detail, detail_size, "out of memory");
		status = SCHEMA_LOOKUP_FAILED;
	}
	json_decref(doc);
	return status;
}

static schema_lookup_status registry_get_schema(schema_registry *r, int32_t id, char **json,
                                                char *detail, size_t detail_size)
{
	char path[512];
	registry_reply rep;
	schema_lookup_status status;

	snprintf(path, sizeof(path), "%s/schemas/ids/%" PRId32, r->base_path, id);
	if (registry_request(r, EVHTTP_REQ_GET, path, NULL, &rep) < 0) {
		snprintf(detail, detail_size, "the schema registry did not answer within %" PRId64
		         " ms", r->timeout_ms);
		status = SCHEMA_LOOKUP_FAILED;
	} else if (rep.code == 404) {
		snprintf(detail, detail_size, "the schema registry has no schema id %" PRId32, id);
		status = SCHEMA_LOOKUP_NOT_FOUND;
	} else if (rep.code != 200 || rep.body == NULL) {
		snprintf(detail, detail_size, "the schema registry answered HTTP %d for schema id "
		         "%" PRId32, rep.code, id);
		status = SCHEMA_LOOKUP_FAILED;
	} else {
		status = registry_take_schema(rep.body, id, json, detail, detail_size);
	}
	free(rep.body);
	return status;
}

static const char *registry_status_name(schema_lookup_status s)
{
	static const char *const names[] = {"found", "not_found", "unusable", "failed"};
	return names[s];
}

schema_lookup_status schema_registry_lookup(void *opaque, int32_t id, char **json,
                                            char *detail, size_t detail_size)
{
	schema_registry *r = opaque;
	schema_lookup_status status = SCHEMA_LOOKUP_NOT_FOUND;
	const char *where = "folder";

	snprintf(detail, detail_size, "no schema source knows schema id %" PRId32, id);
	if (r->directory)
		status = schema_dir_lookup(r->directory, id, json, detail, detail_size);
	if (status == SCHEMA_LOOKUP_NOT_FOUND && r->host) {
		where = "registry";
		status = registry_get_schema(r, id, json, detail, detail_size);
	}
	if (status == SCHEMA_LOOKUP_FAILED)
		log_warn("schemas", "schema lookup failed; its messages go to the DLQ until a "
		         "lookup succeeds", "schema_id=%" PRId32 " source=%s detail=\"%s\"", id, where,
		         detail);
	else
		log_info("schemas", "schema id looked up", "schema_id=%" PRId32 " source=%s "
		         "result=%s", id, where, registry_status_name(status));
	return status;
}

/* ----------------------------------------------------------------------------
 * Output: registering advocacyd's own schemas
 * ------------------------------------------------------------------------- */

/* Takes the id out of a POST /subjects/.../versions answer; -1 if none. */
static int32_t registry_take_id(const char *body)
{
	json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
	json_t *id = json_object_get(doc, "id");
	int32_t out = json_is_integer(id) && json_integer_value(id) >= 0 &&
	                              json_integer_value(id) <= INT32_MAX
	                      ? (int32_t)json_integer_value(id)
	                      : -1;

	json_decref(doc);
	return out;
}

/* Registers schema under "<topic>-value"; fills *id. */
static int registry_register(schema_registry *r, const char *topic, const char *schema,
                             int32_t *id, char *errstr, size_t errstr_size)
{
	char path[1024];
	registry_reply rep = {0};
	json_t *doc = json_pack("{s:s}", "schema", schema);
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	int rc = -1;

	json_decref(doc);
	snprintf(path, sizeof(path), "%s/subjects/%s-value/versions", r->base_path, topic);
	if (body == NULL)
		snprintf(errstr, errstr_size, "out of memory");
	else if (registry_request(r, EVHTTP_REQ_POST, path, body, &rep) < 0)
		snprintf(errstr, errstr_size, "registering subject %s-value: the schema registry "
		         "at %s:%d did not answer within %" PRId64 " ms; start it or fix "
		         "schema_registry.url", topic, r->host, r->port, r->timeout_ms);
	else if (rep.code != 200 || (*id = registry_take_id(rep.body)) < 0)
		snprintf(errstr, errstr_size, "registering subject %s-value: the schema registry "
		         "answered HTTP %d%s", topic, rep.code, rep.code == 409
		         ? ", the schema is incompatible with the subject's earlier versions; "
		           "relax the subject's compatibility or use another topic"
		         : " without a schema id");
	else
		rc = 0;
	if (body != NULL && rc == 0)
		log_info("schemas", "output schema registered", "subject=%s-value schema_id=%" PRId32,
		         topic, *id);
	if (body != NULL && rep.body != NULL)
		free(rep.body);
	free(body);
	return rc;
}

int schema_registry_register_outputs(schema_registry *r, const config *cfg, char *errstr,
                                     size_t errstr_size)
{
	const config_output *outs[REGISTRY_N_OUTPUTS] = {&cfg->outputs.kpi,
	                                                 &cfg->outputs.escalations,
	                                                 &cfg->outputs.dlq, &cfg->outputs.bias};
	const char *schemas[REGISTRY_N_OUTPUTS] = {schema_kpi_update, schema_escalation,
	                                           schema_dlq_record, schema_bias_record};

	if (r == NULL || r->host == NULL)
		return 0;
	for (int i = 0; i < REGISTRY_N_OUTPUTS; i++) {
		/* Structured CloudEvents are JSON whatever the data format. */
		bool avro = outs[i]->format == OUTPUT_FORMAT_AVRO &&
		            !(i == 1 && cfg->alerts.structured);
		if (avro && registry_register(r, outs[i]->topic, schemas[i], &r->ids[i], errstr,
		                              errstr_size) < 0)
			return -1;
	}
	return 0;
}

void schema_registry_apply_ids(const schema_registry *r, config *cfg)
{
	config_output *outs[REGISTRY_N_OUTPUTS] = {&cfg->outputs.kpi, &cfg->outputs.escalations,
	                                           &cfg->outputs.dlq, &cfg->outputs.bias};

	if (r == NULL)
		return;
	for (int i = 0; i < REGISTRY_N_OUTPUTS; i++)
		if (r->ids[i] >= 0)
			outs[i]->schema_id = r->ids[i];
}
