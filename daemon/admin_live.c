/*
 * admin_live.c - the KPI stream and history (see admin_live.h).
 *
 * A stream is an evhttp chunked response that never ends. Each event is
 * serialized once and written to every client's connection. What the
 * kernel does not take waits in the connection's output buffer, whose
 * length is what the drop rules in admin_live.h measure.
 *
 * How a stream ends, with libevent 2.1.12: when the client goes away or the
 * write timeout fires, evhttp detaches the request from the connection,
 * leaves it to us to free, and calls admin_live_closed_cb() from
 * evhttp_connection_free(). When the server is freed, that callback runs
 * with the request still attached, and evhttp frees it with the
 * connection. When this module drops a client (admin_live_close()), it
 * takes the callback off and lets evhttp free both.
 */
#include "admin_live.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "history.h"
#include "log.h"
#include "scorecard.h"

typedef struct admin_live_client {
	admin_live *live;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
} admin_live_client;

struct admin_live {
	admin_live_client *clients[ADMIN_LIVE_MAX_CLIENTS];
	size_t n_clients;
	struct evbuffer *chunk;    /* reused for each write */
	struct event *keepalive;
	history *history;
	int64_t tick_ms;           /* computed_at of the tick being published */
	uint64_t opened, rejected, dropped, history_skipped;
};

/* ---------------------------------------------------------------- setup */

static void admin_live_keepalive_cb(evutil_socket_t fd, short what, void *arg);
static void admin_live_close(admin_live_client *c);

admin_live *admin_live_new(struct event_base *base)
{
	admin_live *l = calloc(1, sizeof(*l));
	struct timeval every = {ADMIN_LIVE_KEEPALIVE_S, 0};

	if (!l)
		return NULL;
	l->chunk = evbuffer_new();
	l->history = history_new();
	l->keepalive = event_new(base, -1, EV_PERSIST, admin_live_keepalive_cb, l);
	if (!l->chunk || !l->history || !l->keepalive || event_add(l->keepalive, &every) < 0) {
		admin_live_free(l);
		return NULL;
	}
	return l;
}

void admin_live_free(admin_live *l)
{
	if (!l)
		return;
	/* Streams still listed belong to a server that was not freed: close them. */
	while (l->n_clients)
		admin_live_close(l->clients[l->n_clients - 1]);
	if (l->keepalive)
		event_free(l->keepalive);
	if (l->chunk)
		evbuffer_free(l->chunk);
	history_free(l->history);
	free(l);
}

void admin_live_get_stats(const admin_live *l, admin_live_stats *out)
{
	*out = (admin_live_stats){
	    .clients = l->n_clients,
	    .opened = l->opened,
	    .rejected = l->rejected,
	    .dropped = l->dropped,
	    .history_series = history_series_count(l->history),
	    .history_skipped = l->history_skipped,
	};
}

/* ---------------------------------------------------------------- clients */

static size_t admin_live_unsent(const admin_live_client *c)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->conn);

	return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

static void admin_live_remove(admin_live *l, admin_live_client *c)
{
	for (size_t i = 0; i < l->n_clients; i++) {
		if (l->clients[i] == c) {
			l->clients[i] = l->clients[--l->n_clients];
			break;
		}
	}
}

static void admin_live_closed_cb(struct evhttp_connection *conn, void *arg)
{
	admin_live_client *c = arg;
	admin_live *l = c->live;

	if (admin_live_unsent(c) > 0)
		l->dropped++;
	/* Detached by evhttp (client gone, write timeout): the request is ours to free. */
	if (!evhttp_request_get_connection(c->req))
		evhttp_request_free(c->req);
	admin_live_remove(l, c);
	free(c);
}

/*
 * Closes the stream of c and removes it from the list. Its request is still attached, so
 * evhttp frees it with the connection; the close callback is taken off
 * first, because evhttp calls it only for a connection still connected.
 */
static void admin_live_close(admin_live_client *c)
{
	struct evhttp_connection *conn = c->conn;

	evhttp_connection_set_closecb(conn, NULL, NULL);
	admin_live_remove(c->live, c);
	free(c);
	evhttp_connection_free(conn);
}

/* Closes the stream of a client that does not read. */
static void admin_live_drop(admin_live_client *c, size_t unsent)
{
	c->live->dropped++;
	log_warn("admin", "event stream dropped: the client does not read",
		 "unsent_bytes=%zu clients=%zu", unsent, c->live->n_clients - 1);
	admin_live_close(c);
}

/* Sends text to one client, or drops it when too much is still unsent. */
static void admin_live_send(admin_live *l, admin_live_client *c, const char *text, size_t len)
{
	size_t unsent = admin_live_unsent(c);

	if (unsent > ADMIN_LIVE_UNREAD_HARD_MAX) {
		admin_live_drop(c, unsent);
		return;
	}
	evbuffer_add(l->chunk, text, len);
	evhttp_send_reply_chunk(c->req, l->chunk);
	evbuffer_drain(l->chunk, evbuffer_get_length(l->chunk));
}

/* Sends text to every client. Backwards, because a drop moves the last client into its slot. */
static void admin_live_broadcast(admin_live *l, const char *text, size_t len)
{
	for (size_t i = l->n_clients; i-- > 0;)
		admin_live_send(l, l->clients[i], text, len);
}

/* At a new tick, drops the clients that left much of the last one unread. */
static void admin_live_drop_laggards(admin_live *l)
{
	for (size_t i = l->n_clients; i-- > 0;) {
		size_t unsent = admin_live_unsent(l->clients[i]);
		if (unsent > ADMIN_LIVE_UNREAD_MAX)
			admin_live_drop(l->clients[i], unsent);
	}
}

static void admin_live_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char comment[] = ": keepalive\n\n";

	admin_live_broadcast(arg, comment, sizeof(comment) - 1);
}

/* Bounds what the kernel keeps for the client and how long a full socket may stall. */
static void admin_live_limit_connection(struct evhttp_connection *conn)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
	struct timeval stall = {ADMIN_LIVE_WRITE_TIMEOUT_S, 0};
	int size = ADMIN_LIVE_SNDBUF;
	evutil_socket_t fd;

	if (!bev)
		return;
	/* No read timeout: a stream's client sends nothing after its request. */
	bufferevent_set_timeouts(bev, NULL, &stall);
	fd = bufferevent_getfd(bev);
	if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) < 0)
		log_warn("admin", "cannot set the send buffer of an event stream", "bytes=%d", size);
}

int admin_live_open(admin_live *l, struct evhttp_request *req)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	admin_live_client *c;
	char retry[32];

	if (l->n_clients == ADMIN_LIVE_MAX_CLIENTS) {
		l->rejected++;
		return HTTP_SERVUNAVAIL;
	}
	if (!conn || !(c = calloc(1, sizeof(*c))))
		return HTTP_INTERNAL;
	*c = (admin_live_client){.live = l, .req = req, .conn = conn};
	l->clients[l->n_clients++] = c;
	l->opened++;

	evhttp_add_header(headers, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(headers, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, HTTP_OK, "OK");
	admin_live_limit_connection(conn);
	evhttp_connection_set_closecb(conn, admin_live_closed_cb, c);
	snprintf(retry, sizeof(retry), "retry: %d\n\n", ADMIN_LIVE_RETRY_MS);
	admin_live_send(l, c, retry, strlen(retry));
	return 0;
}

/* ---------------------------------------------------------------- events */

/* Sends "event: NAME" with json (taken) as its one data line. */
static void admin_live_event(admin_live *l, const char *name, json_t *json)
{
	char *data = json ? json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER |
						   JSON_REAL_PRECISION(15))
			  : NULL;
	size_t size;
	char *text;

	json_decref(json);
	size = data ? strlen(name) + strlen(data) + sizeof("event: \ndata: \n\n") : 0;
	text = data ? malloc(size) : NULL;
	if (!text) {
		log_warn("admin", "out of memory encoding a stream event; it is not sent",
			 "event=%s", name);
		free(data);
		return;
	}
	snprintf(text, size, "event: %s\ndata: %s\n\n", name, data);
	admin_live_broadcast(l, text, size - 1);
	free(text);
	free(data);
}

/* Notes, once, that the history is full; later updates are only counted. */
static void admin_live_history_full(admin_live *l, const kpi_update *u)
{
	if (l->history_skipped++ == 0)
		log_warn("admin", "KPI history full or out of memory: new (KPI, scope) series are "
			 "not kept for /api/history", "kpi=%s scope=\"%s\" series=%zu",
			 u->kpi->id, u->scope, history_series_count(l->history));
}

void admin_live_publish_kpi(admin_live *l, const kpi_update *u)
{
	if (history_record(l->history, u) < 0)
		admin_live_history_full(l, u);
	if (u->computed_at_ms != l->tick_ms) {
		l->tick_ms = u->computed_at_ms;
		admin_live_drop_laggards(l);
	}
	if (l->n_clients)
		admin_live_event(l, "kpi", scorecard_update_json(u));
}

/* A one-line description of an escalation event, for people watching the page. */
static void admin_live_summary(const alert_event *e, char *out, size_t size)
{
	if (e->state == ALERT_STORM) {
		snprintf(out, size, "%zu firings held back by storm control on route %s",
			 e->n_held, e->scope);
		return;
	}
	snprintf(out, size, "%s %s for %s: observed %.4g, threshold %.4g", e->rule->id,
		 alert_state_name(e->state), e->scope, e->observed, e->threshold);
}

static json_t *admin_live_escalation_json(const alert_event *e)
{
	char summary[512];
	json_t *o;

	admin_live_summary(e, summary, sizeof(summary));
	o = json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:I,s:s}", "dedup_key", e->dedup_key, "status",
		      alert_state_name(e->state), "severity", e->severity, "kpi",
		      e->kpi ? e->kpi->id : NULL, "scope", e->scope, "at",
		      (json_int_t)e->at_ms, "summary", summary);
	if (o && e->state != ALERT_STORM &&
	    (json_object_set_new(o, "observed", isfinite(e->observed) ? json_real(e->observed)
								       : json_null()) < 0 ||
	     json_object_set_new(o, "threshold", isfinite(e->threshold) ? json_real(e->threshold)
									 : json_null()) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void admin_live_publish_escalation(admin_live *l, const alert_event *e)
{
	if (l->n_clients)
		admin_live_event(l, "escalation", admin_live_escalation_json(e));
}

json_t *admin_live_history_json(const admin_live *l, const char *kpi, const char *scope)
{
	return history_to_json(l->history, kpi, scope);
}
