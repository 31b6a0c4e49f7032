/*
 * admin.h - the admin HTTP server: health endpoints on the daemon's loop.
 *
 * libevent's evhttp serves, on the daemon's event_base and thread:
 *
 *   GET /healthz   200 "ok\n". Any response shows that the loop is running.
 *   GET /readyz    200 "ready\n" when the ready callback returns 1, else 503
 *                  with the lines the callback wrote, one per reason.
 *   GET /metrics   200 with the text of the metrics callback, as Prometheus
 *                  text format 0.0.4; 503 until admin_set_metrics() is called.
 *
 * HEAD is served like GET without a body. Other methods get 405 with an
 * Allow header, unknown paths 404. Every response is text/plain (each route
 * names its exact Content-Type) with Cache-Control: no-store, so that no
 * proxy caches a probe result.
 *
 * This module does not include the app: what it reports comes from
 * callbacks that the caller passes in (ready, metrics). Further endpoints
 * are a row in the route table of admin.c plus a handler, fed the same way.
 */
#ifndef ADVOCACY_ADMIN_H
#define ADVOCACY_ADMIN_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"

typedef struct admin_server admin_server;

/*
 * Readiness check, called on the loop for every GET /readyz. Returns 1 when
 * ready. Returns 0 when not ready, after writing one "not ready: REASON\n"
 * line per reason into reasons (size bytes including the NUL; longer text is
 * cut off).
 */
typedef int (*admin_ready_cb)(void *opaque, char *reasons, size_t size);

/*
 * Listens on cfg->admin.listen_host and cfg->admin.port (0: a free port
 * picked by the system) and logs the port bound. Borrows base and cfg,
 * which must outlive the server. Returns NULL with errstr filled when the
 * address cannot be bound.
 */
admin_server *admin_new(struct event_base *base, const config *cfg, admin_ready_cb ready,
			void *opaque, char *errstr, size_t errstr_size);

/*
 * Returns the body of GET /metrics and its length in *len, owned by the
 * callee and valid until the next call; NULL when it cannot be made.
 * Called on the loop.
 */
typedef const char *(*admin_text_cb)(void *opaque, size_t *len);

/* Sets the callback that feeds /metrics. */
void admin_set_metrics(admin_server *s, admin_text_cb cb, void *opaque);

/* Closes the listener and every open connection. Call it outside any request callback. */
void admin_free(admin_server *s);

#endif
