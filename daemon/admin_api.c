/*
 * admin_api.c - the admin API under /api/ (see admin_api.h).
 *
 * A request goes through four steps, and the first that fails decides the
 * response: a tokens file is configured (else 403), the bearer token
 * belongs to a holder (else 401), the path and method name an endpoint
 * (else 404 or 405), and the holder's role reaches the endpoint's (else
 * 403). Authentication comes before routing, so an anonymous client
 * learns nothing about which paths exist.
 *
 * What the audit log and the warnings may show of a request: the path is
 * written only when neither a configured token nor the token the request
 * presented occurs anywhere in it, as sent or percent-decoded. The query
 * string is written only when the same is true of it and none of its
 * parameter names contains "token". A path or query longer than
 * ADMIN_API_SCAN_MAX bytes is not searched and counts as containing a
 * token, which bounds the hashing each request costs. Otherwise that part
 * is left out and the line carries "redacted": true. Warnings name a path
 * only when it is an endpoint's.
 */
/* memmem() and strcasestr() */
#define _GNU_SOURCE
#include "admin_api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "admin_audit.h"
#include "admin_live.h"
#include "admin_tokens.h"
#include "log.h"

#define ADMIN_API_RESULT_SIZE 512
#define ADMIN_API_JSON "application/json"
#define ADMIN_API_EVENT_STREAM "text/event-stream; charset=utf-8"
#define ADMIN_API_CHALLENGE "Bearer realm=\"advocacyd\""
/* Longest path or query searched for tokens (see the file comment). */
#define ADMIN_API_SCAN_MAX 256
/* libevent 2.1 names none of these statuses. */
#define ADMIN_API_UNAUTHORIZED 401
#define ADMIN_API_FORBIDDEN 403
#define ADMIN_API_ACCEPTED 202
#define ADMIN_API_UNPROCESSABLE 422

struct admin_api {
	const config *cfg;
	admin_tokens *tokens; /* NULL without admin.tokens_file */
	admin_audit *audit;   /* NULL without admin.audit_log */
	const scorecard *scorecard;
	admin_live *live;     /* NULL: /api/stream and /api/history get 503 */
	admin_reload_cb reload;
	void *reload_opaque;
};

/* One request on its way through the API. */
typedef struct admin_api_request {
	struct evhttp_request *req;
	const char *path;
	const admin_token_holder *holder; /* NULL: anonymous */
	const char *presented;            /* the bearer token sent, not NUL-terminated */
	size_t presented_len;
	struct evbuffer *body;
	const char *content_type;
	bool streaming; /* the handler started a response that outlives the request callback */
} admin_api_request;

typedef int (*admin_api_handler)(admin_api *api, admin_api_request *r);

typedef struct admin_api_route {
	const char *path;
	enum evhttp_cmd_type method; /* GET routes serve HEAD too */
	admin_role role;
	admin_api_handler handle;
} admin_api_route;

static int admin_api_kpis(admin_api *api, admin_api_request *r);
static int admin_api_reload(admin_api *api, admin_api_request *r);
static int admin_api_stream(admin_api *api, admin_api_request *r);
static int admin_api_history(admin_api *api, admin_api_request *r);

static const admin_api_route admin_api_routes[] = {
    {"/api/kpis", EVHTTP_REQ_GET, ADMIN_ROLE_VIEWER, admin_api_kpis},
    {"/api/stream", EVHTTP_REQ_GET, ADMIN_ROLE_VIEWER, admin_api_stream},
    {"/api/history", EVHTTP_REQ_GET, ADMIN_ROLE_VIEWER, admin_api_history},
    {"/api/reload", EVHTTP_REQ_POST, ADMIN_ROLE_ADMIN, admin_api_reload},
};

#define ADMIN_API_N_ROUTES (sizeof(admin_api_routes) / sizeof(admin_api_routes[0]))

/* ---------------------------------------------------------------- setup */

admin_api *admin_api_new(const config *cfg, char *errstr, size_t errstr_size)
{
	admin_api *api = calloc(1, sizeof(*api));

	if (!api) {
		snprintf(errstr, errstr_size, "admin: out of memory");
		return NULL;
	}
	api->cfg = cfg;
	if (cfg->admin.tokens_file) {
		api->tokens = admin_tokens_load(cfg->admin.tokens_file, errstr, errstr_size);
		if (!api->tokens)
			goto fail;
	}
	if (cfg->admin.audit_log) {
		api->audit = admin_audit_open(cfg->admin.audit_log, errstr, errstr_size);
		if (!api->audit)
			goto fail;
	}
	log_info("admin", "admin API configured", "tokens=%zu audit_log=%s",
		 admin_tokens_count(api->tokens), api->audit ? "on" : "off");
	if (api->tokens && !api->audit)
		log_warn("admin", "admin API requests are not audited; set admin.audit_log",
			 "%s", "");
	return api;

fail:
	admin_api_free(api);
	return NULL;
}

void admin_api_free(admin_api *api)
{
	if (!api)
		return;
	admin_tokens_free(api->tokens);
	admin_audit_free(api->audit);
	free(api);
}

void admin_api_set_scorecard(admin_api *api, const scorecard *sc)
{
	api->scorecard = sc;
}

void admin_api_set_live(admin_api *api, admin_live *live)
{
	api->live = live;
}

void admin_api_set_reload_cb(admin_api *api, admin_reload_cb reload, void *opaque)
{
	api->reload = reload;
	api->reload_opaque = opaque;
}

int admin_api_reopen_audit_log(admin_api *api, char *errstr, size_t errstr_size)
{
	if (!api->audit)
		return 0;
	return admin_audit_reopen(api->audit, errstr, errstr_size);
}

int admin_api_reload_tokens(admin_api *api, const char *path, char *errstr, size_t errstr_size)
{
	admin_tokens *next;

	if (!path)
		return 0;
	next = admin_tokens_load(path, errstr, errstr_size);
	if (!next)
		return -1;
	admin_tokens_free(api->tokens);
	api->tokens = next;
	return 0;
}

/* ---------------------------------------------------------------- responses */

/* Writes {"error": message} and returns status. */
static int admin_api_error(admin_api_request *r, int status, const char *message)
{
	json_t *o = json_pack("{s:s}", "error", message);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	evbuffer_add_printf(r->body, "%s\n", text ? text : "{\"error\":\"out of memory\"}");
	free(text);
	json_decref(o);
	return status;
}

/* Writes json (and takes it) as the body; 500 when it is NULL. Reals get 15
 * significant digits, so 0.05 reads 0.05 rather than 0.050000000000000003. */
static int admin_api_json(admin_api_request *r, int status, json_t *json)
{
	char *text = json ? json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER |
					       JSON_REAL_PRECISION(15)) : NULL;

	json_decref(json);
	if (!text)
		return admin_api_error(r, HTTP_INTERNAL, "out of memory building the response");
	evbuffer_add(r->body, text, strlen(text));
	evbuffer_add(r->body, "\n", 1);
	free(text);
	return status;
}

static void admin_api_challenge(struct evhttp_request *req, bool token_given)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
			  token_given ? ADMIN_API_CHALLENGE ", error=\"invalid_token\""
				      : ADMIN_API_CHALLENGE);
}

static int64_t admin_api_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- tokens */

/*
 * Finds the holder of the request's bearer token. Returns 1 with r->holder
 * set, 0 when no Authorization header was sent, -1 when the one sent contains
 * no valid token.
 */
static int admin_api_authenticate(admin_api *api, admin_api_request *r)
{
	const char *header =
	    evhttp_find_header(evhttp_request_get_input_headers(r->req), "Authorization");

	if (!header)
		return 0;
	if (admin_tokens_parse_bearer(header, &r->presented, &r->presented_len) < 0) {
		r->presented = NULL;
		return -1;
	}
	r->holder = admin_tokens_find(api->tokens, r->presented, r->presented_len);
	return r->holder ? 1 : -1;
}

static const char *admin_api_remote(struct evhttp_request *req, int *port)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t p = 0;

	if (conn)
		evhttp_connection_get_peer(conn, &addr, &p);
	*port = p;
	return addr ? addr : "unknown";
}

/* The path for a log line: an endpoint's path, or "other". */
static const char *admin_api_known_path(const char *path)
{
	for (size_t i = 0; i < ADMIN_API_N_ROUTES; i++)
		if (strcmp(admin_api_routes[i].path, path) == 0)
			return admin_api_routes[i].path;
	return "other";
}

/* Logs (rate-limited) a request rejected for its token; path must be safe to log. */
static void admin_api_log_rejected(admin_api_request *r, const char *path, const char *reason)
{
	int port;
	const char *remote = admin_api_remote(r->req, &port);

	log_warn("admin", "request without a valid bearer token rejected",
		 "remote_addr=%s path=%s reason=%s", remote, path, reason);
}

/* True when the text contains the presented token or a configured one. */
static bool admin_api_contains_token(const admin_api *api, const admin_api_request *r,
				     const char *text)
{
	size_t len = strlen(text);

	if (r->presented && r->presented_len && memmem(text, len, r->presented, r->presented_len))
		return true;
	return admin_tokens_occur_in(api->tokens, text, len);
}

/* True when text, as sent or percent-decoded, contains a token, or is too long to search. */
static bool admin_api_mentions_token(const admin_api *api, const admin_api_request *r,
				     const char *text)
{
	char *decoded;
	bool found;

	if (strlen(text) > ADMIN_API_SCAN_MAX || admin_api_contains_token(api, r, text))
		return true;
	/* Without '%' or '+', decoding returns the same text. */
	if (!strpbrk(text, "%+"))
		return false;
	decoded = evhttp_uridecode(text, 1, NULL);
	if (!decoded)
		return true;
	found = admin_api_contains_token(api, r, decoded);
	free(decoded);
	return found;
}

/* True when a parameter name of the query contains "token", in any case. */
static bool admin_api_query_names_token(const char *query)
{
	struct evkeyvalq params;
	struct evkeyval *kv;
	bool found = false;

	if (evhttp_parse_query_str(query, &params) < 0)
		return true;
	TAILQ_FOREACH(kv, &params, next)
	{
		if (strcasestr(kv->key, "token"))
			found = true;
	}
	evhttp_clear_headers(&params);
	return found;
}

/* ---------------------------------------------------------------- audit */

static admin_audit_result admin_api_result(int status)
{
	if (status == ADMIN_API_UNAUTHORIZED)
		return ADMIN_AUDIT_UNAUTHENTICATED;
	if (status == ADMIN_API_FORBIDDEN)
		return ADMIN_AUDIT_FORBIDDEN;
	return status < 400 ? ADMIN_AUDIT_ALLOWED : ADMIN_AUDIT_ERROR;
}

static const char *admin_api_method_name(enum evhttp_cmd_type method)
{
	switch (method) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "other";
}

/* Writes "path" or "path?query" into out without any part that contains a token. */
static bool admin_api_audit_path(const admin_api *api, const admin_api_request *r, char *out,
				 size_t size)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;

	if (admin_api_mentions_token(api, r, r->path)) {
		snprintf(out, size, "/api/");
		return true;
	}
	if (query && (admin_api_mentions_token(api, r, query) || admin_api_query_names_token(query))) {
		snprintf(out, size, "%s", r->path);
		return true;
	}
	snprintf(out, size, "%s%s%s", r->path, query ? "?" : "", query ? query : "");
	return false;
}

static void admin_api_audit(admin_api *api, const admin_api_request *r, int status)
{
	char path[1024];
	admin_audit_record rec = {
	    .time_ms = admin_api_now_ms(),
	    .who = r->holder ? r->holder->name : "anonymous",
	    .role = admin_role_name(r->holder ? r->holder->role : ADMIN_ROLE_NONE),
	    .method = admin_api_method_name(evhttp_request_get_command(r->req)),
	    .path = path,
	    .status = status,
	    .result = admin_api_result(status),
	};

	if (!api->audit)
		return;
	rec.remote_addr = admin_api_remote(r->req, &rec.remote_port);
	rec.redacted = admin_api_audit_path(api, r, path, sizeof(path));
	admin_audit_write(api->audit, &rec);
}

/* ---------------------------------------------------------------- endpoints */

/* Reads the kpi and scope filters of the query; returns 0 or an error status. */
static int admin_api_kpis_filters(admin_api_request *r, struct evkeyvalq *params,
				  const char **kpi, const char **scope)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyval *kv;

	TAILQ_INIT(params);
	if (query && evhttp_parse_query_str(query, params) < 0)
		return admin_api_error(r, HTTP_BADREQUEST, "the query string is malformed");
	TAILQ_FOREACH(kv, params, next)
	{
		const char **slot = strcmp(kv->key, "kpi") == 0     ? kpi
				    : strcmp(kv->key, "scope") == 0 ? scope
								    : NULL;
		if (!slot)
			return admin_api_error(r, HTTP_BADREQUEST,
					       "unknown query parameter; the filters are kpi=ID "
					       "and scope=NAME");
		if (*slot)
			return admin_api_error(r, HTTP_BADREQUEST,
					       "a filter is given twice; give kpi and scope once "
					       "each");
		*slot = kv->value;
	}
	return 0;
}

static int admin_api_kpis(admin_api *api, admin_api_request *r)
{
	struct evkeyvalq params;
	const char *kpi = NULL, *scope = NULL;
	int status;

	if (!api->scorecard)
		return admin_api_error(r, HTTP_SERVUNAVAIL, "the scorecard is not available yet");
	status = admin_api_kpis_filters(r, &params, &kpi, &scope);
	if (status == 0 && kpi && !scorecard_has_kpi(api->scorecard, kpi))
		status = admin_api_error(r, HTTP_NOTFOUND,
					 "no KPI has the id given in kpi=; GET /api/kpis lists them");
	if (status == 0)
		status = admin_api_json(
		    r, HTTP_OK, scorecard_to_json(api->scorecard, kpi, scope, admin_api_now_ms()));
	evhttp_clear_headers(&params);
	return status;
}

static int admin_api_stream(admin_api *api, admin_api_request *r)
{
	int status;

	if (!api->live)
		return admin_api_error(r, HTTP_SERVUNAVAIL, "the event stream is not available");
	if (evhttp_request_get_command(r->req) == EVHTTP_REQ_HEAD) {
		r->content_type = ADMIN_API_EVENT_STREAM;
		return HTTP_OK;
	}
	status = admin_live_open(api->live, r->req);
	if (status == HTTP_SERVUNAVAIL)
		return admin_api_error(r, status, "too many event streams are open; retry later");
	if (status != 0)
		return admin_api_error(r, status, "out of memory opening the event stream");
	r->streaming = true;
	return HTTP_OK;
}

static int admin_api_history(admin_api *api, admin_api_request *r)
{
	struct evkeyvalq params;
	const char *kpi = NULL, *scope = NULL;
	int status;

	if (!api->live || !api->scorecard)
		return admin_api_error(r, HTTP_SERVUNAVAIL, "the KPI history is not available yet");
	status = admin_api_kpis_filters(r, &params, &kpi, &scope);
	if (status == 0 && (!kpi || !scope))
		status = admin_api_error(r, HTTP_BADREQUEST,
					 "kpi=ID and scope=NAME are both required");
	if (status == 0 && !scorecard_has_kpi(api->scorecard, kpi))
		status = admin_api_error(r, HTTP_NOTFOUND,
					 "no KPI has the id given in kpi=; GET /api/kpis lists them");
	if (status == 0)
		status = admin_api_json(r, HTTP_OK, admin_live_history_json(api->live, kpi, scope));
	evhttp_clear_headers(&params);
	return status;
}

static int admin_api_reload(admin_api *api, admin_api_request *r)
{
	char result[ADMIN_API_RESULT_SIZE] = "";
	int rc;

	if (!api->reload)
		return admin_api_error(r, HTTP_SERVUNAVAIL,
				       "config reload is not available: the daemon has no reload "
				       "handler");
	log_info("admin", "config reload requested", "who=%s", r->holder->name);
	rc = api->reload(api->reload_opaque, result, sizeof(result));
	result[sizeof(result) - 1] = '\0';
	/* The config was refused (invalid, or a restart-only key changed). */
	if (rc < 0)
		return admin_api_error(r, ADMIN_API_UNPROCESSABLE,
				       result[0] ? result : "reload failed");
	return admin_api_json(r, ADMIN_API_ACCEPTED, json_pack("{s:s}", "result", result));
}

/* ---------------------------------------------------------------- dispatch */

static int admin_api_bad_method(admin_api_request *r, const admin_api_route *route)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Allow",
			  route->method == EVHTTP_REQ_GET ? "GET, HEAD" : "POST");
	return admin_api_error(r, HTTP_BADMETHOD, route->method == EVHTTP_REQ_GET
						      ? "method not allowed; use GET"
						      : "method not allowed; use POST");
}

/* Routes an authenticated request and checks the holder's role. */
static int admin_api_route_request(admin_api *api, admin_api_request *r)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(r->req);
	const admin_api_route *route = NULL;

	for (size_t i = 0; i < ADMIN_API_N_ROUTES && !route; i++)
		if (strcmp(admin_api_routes[i].path, r->path) == 0)
			route = &admin_api_routes[i];
	if (!route)
		return admin_api_error(r, HTTP_NOTFOUND,
				       "no such endpoint; the API has GET /api/kpis, /api/stream "
				       "and /api/history, and POST /api/reload");
	if (method != route->method && !(route->method == EVHTTP_REQ_GET && method == EVHTTP_REQ_HEAD))
		return admin_api_bad_method(r, route);
	/* No holder: no tokens file, so only the viewer routes get here (admin_api_open). */
	if ((r->holder ? r->holder->role : ADMIN_ROLE_VIEWER) < route->role) {
		log_warn("admin", "request forbidden: the token's role is too low",
			 "who=%s role=%s path=%s required=%s", r->holder->name,
			 admin_role_name(r->holder->role), route->path, admin_role_name(route->role));
		return admin_api_error(r, ADMIN_API_FORBIDDEN, "this endpoint needs a token with the admin role");
	}
	return route->handle(api, r);
}

/*
 * Serves a request when no tokens file is configured: the viewer routes are
 * open, like the health paths, and every other path gets 403.
 */
static int admin_api_open(admin_api *api, admin_api_request *r)
{
	for (size_t i = 0; i < ADMIN_API_N_ROUTES; i++)
		if (strcmp(admin_api_routes[i].path, r->path) == 0 &&
		    admin_api_routes[i].role == ADMIN_ROLE_VIEWER)
			return admin_api_route_request(api, r);
	return admin_api_error(r, ADMIN_API_FORBIDDEN,
			       "only the viewer endpoints are served without bearer tokens; set "
			       "admin.tokens_file in the config");
}

static int admin_api_gate(admin_api *api, admin_api_request *r)
{
	int auth;

	if (!api->tokens)
		return admin_api_open(api, r);
	auth = admin_api_authenticate(api, r);
	if (auth <= 0) {
		admin_api_log_rejected(r, admin_api_known_path(r->path),
				       auth == 0 ? "missing" : "invalid");
		admin_api_challenge(r->req, auth < 0);
		return admin_api_error(r, ADMIN_API_UNAUTHORIZED,
				       auth == 0 ? "a bearer token is required: send "
						   "'Authorization: Bearer TOKEN'"
						 : "the bearer token is not valid");
	}
	return admin_api_route_request(api, r);
}

int admin_api_serve(admin_api *api, struct evhttp_request *req, const char *path,
		    struct evbuffer *body, const char **content_type)
{
	admin_api_request r = {.req = req, .path = path, .body = body,
			       .content_type = ADMIN_API_JSON};
	int status = admin_api_gate(api, &r);

	*content_type = r.content_type;
	admin_api_audit(api, &r, status);
	return r.streaming ? 0 : status;
}

int admin_api_check_token(admin_api *api, struct evhttp_request *req, const char *path,
			  struct evbuffer *body)
{
	admin_api_request r = {.req = req, .path = path, .body = body};
	int auth;

	if (!api->tokens) {
		evbuffer_add_printf(body, "forbidden; set admin.tokens_file or list %s in "
					  "admin.open_paths\n",
				    path);
		return ADMIN_API_FORBIDDEN;
	}
	auth = admin_api_authenticate(api, &r);
	if (auth > 0)
		return 0;
	admin_api_log_rejected(&r, path, auth == 0 ? "missing" : "invalid");
	admin_api_challenge(req, auth < 0);
	evbuffer_add_printf(body, "unauthorized; send 'Authorization: Bearer TOKEN'\n");
	return ADMIN_API_UNAUTHORIZED;
}
