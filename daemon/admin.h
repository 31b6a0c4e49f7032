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
 * Allow header, unknown paths 404. Every response carries Cache-Control:
 * no-store, so that no proxy caches a probe result; each route names its
 * exact Content-Type (health responses are text/plain).
 *
 * GET / and /assets/NAME serve the live view (admin_assets.h) without a
 * token. Paths under /api/ go to the admin API (admin_api.h), which needs
 * bearer tokens; its event stream and KPI history live in admin_live.h. The health paths and /metrics are open unless admin.open_paths
 * leaves them out, and then need a token of any role. With admin.tls set
 * the port serves HTTPS only (admin_tls.h).
 *
 * This module does not include the app: what it reports comes from
 * callbacks and objects that the caller passes in (ready, metrics, the
 * scorecard, reload). Further endpoints are a row in the route table of
 * admin.c plus a handler, fed the same way.
 */
#ifndef ADVOCACY_ADMIN_H
#define ADVOCACY_ADMIN_H

#include <stddef.h>

#include <event2/event.h>

#include "admin_api.h"
#include "admin_live.h"
#include "alert.h"
#include "config.h"
#include "kpi.h"
#include "scorecard.h"

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

/* Sets the scorecard that GET /api/kpis shows (borrowed). With NULL it gets 503. */
void admin_set_scorecard(admin_server *s, const scorecard *sc);

/*
 * Sends a KPI update (suppressed ones too) to the event streams and keeps it
 * in the history of /api/history. Does nothing when s is NULL.
 */
void admin_publish_kpi(admin_server *s, const kpi_update *u);

/* Sends an escalation event to the event streams. Does nothing when s is NULL. */
void admin_publish_escalation(admin_server *s, const alert_event *e);

/* Reads the stream and history counts for /metrics; all zero when s is NULL. */
void admin_get_live_stats(const admin_server *s, admin_live_stats *out);

/* Sets the callback of POST /api/reload. With NULL (the default) it gets 503. */
void admin_set_reload_cb(admin_server *s, admin_reload_cb reload, void *opaque);

/*
 * Opens admin.audit_log again, for rotation by renaming. Returns 0, also
 * when no audit log is configured. Returns -1 after logging why the file
 * cannot be opened, and lines then keep going to the old file.
 */
int admin_reopen_audit_log(admin_server *s);

/*
 * Reads admin.tokens_file again, so tokens can be added, rotated or revoked
 * without a restart. On error (logged) the previous tokens stay and -1
 * comes back. Call it outside any request callback.
 */
int admin_reload_tokens(admin_server *s);

/*
 * Loads the tokens file and the TLS certificate and key named by cfg, as
 * admin_new() would, and frees them again: for --check-config. Returns 0,
 * or -1 with errstr filled.
 */
int admin_check_files(const config *cfg, char *errstr, size_t errstr_size);

#endif
