/*
 * admin.c - the admin HTTP server (see admin.h).
 *
 * One evhttp listener on the daemon's event_base. A single general callback
 * dispatches on the path through admin_routes. It can thus tell an unknown
 * path (404) from a known path with a wrong method (405), and its error
 * responses carry the same headers as the others. For the same reason
 * evhttp passes every method through instead of sending its own 405.
 * Handlers run on the loop thread and reply at once, except /api/stream,
 * whose response admin_live.c keeps open. Closing the server closes those
 * streams through admin_live.c's close callback, which is why admin_free()
 * frees the live state only after the evhttp server, and may run at any
 * time outside a callback.
 *
 * The live view's page and files at / and /assets/ (admin_assets.c) need no
 * token: they contain no data.
 *
 * Access: /api/ requests go to admin_api.c, which authenticates, routes
 * and audits them. A health path that admin.open_paths leaves out needs a
 * bearer token of any role. With TLS, a request that did not come over
 * TLS gets 500 (see admin_tls.c for how that can happen).
 *
 * Limits: the health endpoints are open by default, which is why the listen
 * address defaults to loopback. libevent 2.1 has no cap on concurrent
 * connections, so only the header and body size limits and the idle
 * timeout below bound what each connection costs. Each connection's
 * bufferevent stops reading from its socket while ADMIN_MAX_INPUT bytes
 * wait unparsed, so a client that pipelines requests without reading the
 * responses meets TCP backpressure instead of growing the daemon's memory.
 * Requests that break
 * those limits get evhttp's own HTML error page. When accept() fails for
 * lack of file descriptors or memory, the listener pauses for
 * ADMIN_ACCEPT_PAUSE_MS, because the pending connection would otherwise
 * wake the loop again at once and spin it at full CPU. While the daemon blocks
 * before its loop runs (reading the roster at start), connections wait in
 * the listen queue and get their response once the loop starts.
 */
#include "admin.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "admin_assets.h"
#include "admin_live.h"
#include "admin_tls.h"
#include "admin_tokens.h"
#include "log.h"

#define ADMIN_MAX_HEADERS_SIZE 8192
#define ADMIN_MAX_BODY_SIZE 8192
/* Read high-water mark of a connection: room for one request with its body. */
#define ADMIN_MAX_INPUT (ADMIN_MAX_HEADERS_SIZE + ADMIN_MAX_BODY_SIZE)
#define ADMIN_TIMEOUT_S 10
#define ADMIN_REASONS_SIZE 1024
#define ADMIN_ACCEPT_PAUSE_MS 500
#define ADMIN_ALL_METHODS                                                                          \
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | \
	 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

struct admin_server {
	struct evhttp *http;
	admin_ready_cb ready;
	void *opaque;
	const config *cfg;
	admin_api *api;
	admin_live *live;         /* the event stream and KPI history */
	admin_tls *tls;           /* NULL: plain HTTP */
	admin_text_cb metrics;
	void *metrics_opaque;
	struct evconnlistener *listener;
	struct event *accept_resume; /* re-enables the listener after a pause */
};

/*
 * The server whose listener is set up. libevent passes a listener's error
 * callback the evhttp, not our pointer, and the daemon runs one server.
 */
static admin_server *admin_listening;

/* Writes the response body for a GET of the route and returns the HTTP status. */
typedef int (*admin_handler)(admin_server *s, struct evbuffer *body);

typedef struct admin_route {
	const char *path;
	admin_handler handle;
	const char *content_type;   /* of the handler's responses */
} admin_route;

#define ADMIN_TEXT "text/plain; charset=utf-8"
/* The Prometheus text exposition format, version 0.0.4. */
#define ADMIN_PROMETHEUS_TEXT "text/plain; version=0.0.4; charset=utf-8"

/* ---------------------------------------------------------------- handlers */

static int admin_healthz(admin_server *s, struct evbuffer *body)
{
	evbuffer_add_printf(body, "ok\n");
	return HTTP_OK;
}

static int admin_readyz(admin_server *s, struct evbuffer *body)
{
	char reasons[ADMIN_REASONS_SIZE] = "";
	size_t len;

	if (s->ready(s->opaque, reasons, sizeof(reasons))) {
		evbuffer_add_printf(body, "ready\n");
		return HTTP_OK;
	}

	/* A callback that gave no reason, or a cut-off last line, still ends in a newline. */
	reasons[sizeof(reasons) - 1] = '\0';
	len = strlen(reasons);
	if (len == 0)
		evbuffer_add_printf(body, "not ready\n");
	else
		evbuffer_add_printf(body, "%s%s", reasons, reasons[len - 1] == '\n' ? "" : "\n");
	return HTTP_SERVUNAVAIL;
}

static int admin_metrics(admin_server *s, struct evbuffer *body)
{
	const char *text = NULL;
	size_t len = 0;

	if (s->metrics)
		text = s->metrics(s->metrics_opaque, &len);
	if (!text) {
		evbuffer_add_printf(body, "metrics unavailable\n");
		return HTTP_SERVUNAVAIL;
	}
	evbuffer_add(body, text, len);
	return HTTP_OK;
}

static const admin_route admin_routes[] = {
    {"/healthz", admin_healthz, ADMIN_TEXT},
    {"/readyz", admin_readyz, ADMIN_TEXT},
    {"/metrics", admin_metrics, ADMIN_PROMETHEUS_TEXT},
};

#define ADMIN_N_ROUTES (sizeof(admin_routes) / sizeof(admin_routes[0]))

/* ---------------------------------------------------------------- dispatch */

static const char *admin_request_path(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);

	return uri ? evhttp_uri_get_path(uri) : NULL;
}

static const admin_route *admin_find_route(const char *path)
{
	if (!path)
		return NULL;
	for (size_t i = 0; i < ADMIN_N_ROUTES; i++)
		if (strcmp(admin_routes[i].path, path) == 0)
			return &admin_routes[i];
	return NULL;
}

static int admin_not_found(struct evbuffer *body)
{
	evbuffer_add_printf(body, "not found; the endpoints are / (the live view)");
	for (size_t i = 0; i < ADMIN_N_ROUTES; i++)
		evbuffer_add_printf(body, " %s", admin_routes[i].path);
	evbuffer_add_printf(body, "\n");
	return HTTP_NOTFOUND;
}

static int admin_bad_method(struct evhttp_request *req, struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
	evbuffer_add_printf(body, "method not allowed; use GET\n");
	return HTTP_BADMETHOD;
}

/*
 * Keeps only the length of a HEAD response's body. libevent 2.1.12 writes
 * the body of a HEAD response out after the headers, without a
 * Content-Length, which a client on a kept-alive connection then reads as
 * the start of the next response.
 */
static void admin_drop_body(struct evkeyvalq *headers, struct evbuffer *body)
{
	char length[32];

	snprintf(length, sizeof(length), "%zu", evbuffer_get_length(body));
	evhttp_add_header(headers, "Content-Length", length);
	evbuffer_drain(body, evbuffer_get_length(body));
}

/* True when the path is in admin.open_paths, so it needs no token. */
static bool admin_path_open(const admin_server *s, const char *path)
{
	for (size_t i = 0; i < s->cfg->admin.n_open_paths; i++)
		if (strcmp(s->cfg->admin.open_paths[i], path) == 0)
			return true;
	return false;
}

/* Serves a path outside /api/ through the route table. */
static int admin_serve_route(admin_server *s, struct evhttp_request *req, const char *path,
			     struct evbuffer *body, const char **content_type)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const admin_route *route = admin_find_route(path);
	int status;

	if (!route)
		return admin_not_found(body);
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD)
		return admin_bad_method(req, body);
	if (!admin_path_open(s, route->path)) {
		status = admin_api_check_token(s->api, req, route->path, body);
		if (status != 0)
			return status;
	}
	*content_type = route->content_type;
	return route->handle(s, body);
}

/* libevent has no reason phrase for 422 and would send "Client Error". */
static const char *admin_reason_phrase(int status)
{
	return status == 422 ? "Unprocessable Entity" : NULL;
}

static void admin_request_cb(struct evhttp_request *req, void *arg)
{
	admin_server *s = arg;
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const char *path = admin_request_path(req);
	struct evbuffer *body = evbuffer_new();
	const char *content_type = ADMIN_TEXT;
	int status;

	if (!body || (s->tls && !admin_tls_request_secure(req))) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		if (body)
			evbuffer_free(body);
		return;
	}
	if (path && strncmp(path, "/api/", 5) == 0)
		status = admin_api_serve(s->api, req, path, body, &content_type);
	else if (admin_assets_owns(path))
		status = admin_assets_serve(req, path, body);
	else
		status = admin_serve_route(s, req, path, body, &content_type);
	if (status == 0) {
		/* An event stream: admin_live.c owns the response now. */
		evbuffer_free(body);
		return;
	}

	/* The page's files set their own type and caching. */
	if (!admin_assets_owns(path) || status == HTTP_NOTFOUND) {
		evhttp_add_header(headers, "Content-Type", content_type);
		evhttp_add_header(headers, "Cache-Control", "no-store");
	}
	if (method == EVHTTP_REQ_HEAD)
		admin_drop_body(headers, body);
	evhttp_send_reply(req, status, admin_reason_phrase(status), body);
	evbuffer_free(body);
}

/* ---------------------------------------------------------------- accept errors */

static void admin_resume_accept(evutil_socket_t fd, short what, void *arg)
{
	admin_server *s = arg;

	if (evconnlistener_enable(s->listener) < 0)
		log_error("admin", "cannot resume accepting admin connections", "%s", "");
}

/* Pauses accepting when accept() fails for want of descriptors or memory. */
static void admin_accept_error(struct evconnlistener *listener, void *http)
{
	int err = EVUTIL_SOCKET_ERROR();
	admin_server *s = admin_listening;
	struct timeval pause = {0, ADMIN_ACCEPT_PAUSE_MS * 1000};
	bool resource = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;

	log_warn("admin", "accepting an admin connection failed",
		 "error=\"%s\" paused_ms=%d", evutil_socket_error_to_string(err),
		 resource ? ADMIN_ACCEPT_PAUSE_MS : 0);
	if (!resource || !s || s->http != http || s->listener != listener)
		return;
	evconnlistener_disable(listener);
	evtimer_add(s->accept_resume, &pause);
}

/* ---------------------------------------------------------------- connections */

/* Creates the bufferevent of an accepted connection (TLS when configured). */
static struct bufferevent *admin_new_bufferevent(struct event_base *base, void *arg)
{
	admin_server *s = arg;
	struct bufferevent *bev;

	if (s->tls)
		bev = admin_tls_new_bufferevent(s->tls, base);
	else
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev)
		bufferevent_setwatermark(bev, EV_READ, 0, ADMIN_MAX_INPUT);
	return bev;
}

/* ---------------------------------------------------------------- setup */

static int admin_bound_port(struct evhttp_bound_socket *handle)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);

	if (getsockname(evhttp_bound_socket_get_fd(handle), (struct sockaddr *)&addr, &len) < 0)
		return -1;
	if (addr.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

static int admin_listen(admin_server *s, const config *cfg, char *errstr, size_t errstr_size)
{
	const char *host = cfg->admin.listen_host;
	struct evhttp_bound_socket *handle;
	int port;

	handle = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)cfg->admin.port);
	if (!handle) {
		snprintf(errstr, errstr_size,
			 "admin: cannot listen on %s port %d: %s; set admin.port to a free port "
			 "(0 picks one) or admin.enabled to false",
			 host, cfg->admin.port,
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return -1;
	}
	s->listener = evhttp_bound_socket_get_listener(handle);
	evconnlistener_set_error_cb(s->listener, admin_accept_error);
	admin_listening = s;
	port = admin_bound_port(handle);
	if (port < 0) {
		snprintf(errstr, errstr_size, "admin: cannot read the port bound on %s: %s", host,
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return -1;
	}
	log_info("admin", "admin server listening", "host=%s port=%d tls=%s", host, port,
		 s->tls ? "on" : "off");
	return 0;
}

/* Loads tokens, opens the audit log, makes the live state and sets up TLS, as configured. */
static int admin_setup_access(admin_server *s, struct event_base *base, const config *cfg,
			      char *errstr, size_t errstr_size)
{
	s->api = admin_api_new(cfg, errstr, errstr_size);
	if (!s->api)
		return -1;
	s->live = admin_live_new(base);
	if (!s->live) {
		snprintf(errstr, errstr_size, "admin: out of memory creating the event stream");
		return -1;
	}
	admin_api_set_live(s->api, s->live);
	if (!cfg->admin.tls.cert_file)
		return 0;
	s->tls = admin_tls_new(cfg->admin.tls.cert_file, cfg->admin.tls.key_file, errstr,
			       errstr_size);
	return s->tls ? 0 : -1;
}

admin_server *admin_new(struct event_base *base, const config *cfg, admin_ready_cb ready,
			void *opaque, char *errstr, size_t errstr_size)
{
	admin_server *s = calloc(1, sizeof(*s));

	if (!s || !(s->http = evhttp_new(base)) ||
	    !(s->accept_resume = evtimer_new(base, admin_resume_accept, s))) {
		snprintf(errstr, errstr_size, "admin: out of memory creating the HTTP server");
		admin_free(s);
		return NULL;
	}
	s->ready = ready;
	s->opaque = opaque;
	s->cfg = cfg;
	if (admin_setup_access(s, base, cfg, errstr, errstr_size) < 0) {
		admin_free(s);
		return NULL;
	}
	evhttp_set_allowed_methods(s->http, ADMIN_ALL_METHODS);
	evhttp_set_max_headers_size(s->http, ADMIN_MAX_HEADERS_SIZE);
	evhttp_set_max_body_size(s->http, ADMIN_MAX_BODY_SIZE);
	evhttp_set_timeout(s->http, ADMIN_TIMEOUT_S);
	evhttp_set_gencb(s->http, admin_request_cb, s);
	evhttp_set_bevcb(s->http, admin_new_bufferevent, s);

	if (admin_listen(s, cfg, errstr, errstr_size) < 0) {
		admin_free(s);
		return NULL;
	}
	return s;
}

void admin_set_metrics(admin_server *s, admin_text_cb cb, void *opaque)
{
	s->metrics = cb;
	s->metrics_opaque = opaque;
}

void admin_free(admin_server *s)
{
	if (!s)
		return;
	if (admin_listening == s)
		admin_listening = NULL;
	if (s->accept_resume)
		event_free(s->accept_resume);
	if (s->http)
		evhttp_free(s->http);
	/* After the server: freeing it closes the streams, which call into the live state. */
	admin_live_free(s->live);
	admin_api_free(s->api);
	admin_tls_free(s->tls);
	free(s);
}

void admin_set_scorecard(admin_server *s, const scorecard *sc)
{
	admin_api_set_scorecard(s->api, sc);
}

void admin_publish_kpi(admin_server *s, const kpi_update *u)
{
	if (s)
		admin_live_publish_kpi(s->live, u);
}

void admin_publish_escalation(admin_server *s, const alert_event *e)
{
	if (s)
		admin_live_publish_escalation(s->live, e);
}

void admin_get_live_stats(const admin_server *s, admin_live_stats *out)
{
	if (s)
		admin_live_get_stats(s->live, out);
	else
		*out = (admin_live_stats){0};
}

void admin_set_reload_cb(admin_server *s, admin_reload_cb reload, void *opaque)
{
	admin_api_set_reload_cb(s->api, reload, opaque);
}

int admin_reopen_audit_log(admin_server *s)
{
	char err[512];

	if (admin_api_reopen_audit_log(s->api, err, sizeof(err)) == 0)
		return 0;
	log_error("admin", "cannot reopen the audit log; lines keep going to the old file",
		  "error=\"%s\"", err);
	return -1;
}

int admin_reload_tokens(admin_server *s)
{
	char err[512];

	if (admin_api_reload_tokens(s->api, s->cfg->admin.tokens_file, err, sizeof(err)) < 0) {
		log_error("admin", "bearer tokens not reloaded; the previous tokens stay in use",
			  "error=\"%s\"", err);
		return -1;
	}
	if (s->cfg->admin.tokens_file)
		log_info("admin", "bearer tokens reloaded", "file=\"%s\"", s->cfg->admin.tokens_file);
	return 0;
}

int admin_check_files(const config *cfg, char *errstr, size_t errstr_size)
{
	admin_tokens *tokens = NULL;
	admin_tls *tls = NULL;

	if (cfg->admin.tokens_file) {
		tokens = admin_tokens_load(cfg->admin.tokens_file, errstr, errstr_size);
		if (!tokens)
			return -1;
		admin_tokens_free(tokens);
	}
	if (cfg->admin.tls.cert_file) {
		tls = admin_tls_new(cfg->admin.tls.cert_file, cfg->admin.tls.key_file, errstr,
				    errstr_size);
		if (!tls)
			return -1;
		admin_tls_free(tls);
	}
	return 0;
}
