/*
 * admin_api.h - the admin API under /api/: bearer tokens, roles, audit log.
 *
 *   GET  /api/kpis     viewer  the current scorecard as JSON (see scorecard.h),
 *                              optional filters ?kpi=ID&scope=NAME
 *   GET  /api/stream   viewer  KPI updates and escalations as Server-Sent
 *                              Events (admin_live.h); 503 when every
 *                              stream slot is taken
 *   GET  /api/history  viewer  ?kpi=ID&scope=NAME: recent values of one
 *                              (KPI, scope) (history.h)
 *   POST /api/reload   admin   requests a config reload: 202 with
 *                              the reload callback's result, 503 when no
 *                              callback is set
 *
 * With admin.tokens_file set, every request needs "Authorization: Bearer
 * TOKEN" with a token of the tokens file (admin_tokens.h). Without one it
 * gets 401 and a WWW-Authenticate: Bearer realm="advocacyd" header (with
 * error="invalid_token" when a token was given). A valid token whose role
 * is too low gets 403. Without admin.tokens_file the viewer endpoints are
 * open to anyone who reaches the port, like /metrics, and every other
 * request gets 403 with a body saying to set it. Each request, allowed or
 * denied, is one line of the audit log when admin.audit_log is set
 * (admin_audit.h).
 * Responses are application/json; errors read {"error": "..."}.
 *
 * The admin server (admin.c) hands every /api/ request here, and calls
 * admin_api_check_token() for health paths that admin.open_paths leaves
 * closed. Handlers run on the loop thread and reply at once, except
 * /api/stream, whose response admin_live.c keeps open.
 */
#ifndef ADVOCACY_ADMIN_API_H
#define ADVOCACY_ADMIN_API_H

#include <stddef.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "config.h"
#include "scorecard.h"

typedef struct admin_api admin_api;
typedef struct admin_live admin_live;

/*
 * Reload request, called on the loop for each allowed POST /api/reload.
 * Writes a short result for the caller (at most size bytes with the NUL)
 * and returns 0 when the reload was started or done, or -1 when it was
 * refused, e.g. for an invalid config (the request then gets 500).
 */
typedef int (*admin_reload_cb)(void *opaque, char *result, size_t size);

/*
 * Loads the tokens file and opens the audit log named by cfg->admin (each
 * only when set). Borrows cfg. Returns NULL with errstr filled when either
 * fails.
 */
admin_api *admin_api_new(const config *cfg, char *errstr, size_t errstr_size);

void admin_api_free(admin_api *api);

/* Sets the scorecard GET /api/kpis shows (borrowed; NULL: 503). */
void admin_api_set_scorecard(admin_api *api, const scorecard *sc);

/* Sets the stream and history behind /api/stream and /api/history (borrowed; NULL: 503). */
void admin_api_set_live(admin_api *api, admin_live *live);

/* Sets the callback of POST /api/reload (NULL: 503). */
void admin_api_set_reload_cb(admin_api *api, admin_reload_cb reload, void *opaque);

/* Opens the audit log's path again (after rotation). Returns 0, or -1 with errstr. */
int admin_api_reopen_audit_log(admin_api *api, char *errstr, size_t errstr_size);

/*
 * Reads the tokens file at path again and uses it from now on; NULL path:
 * nothing to do. On error the previous tokens stay and -1 comes back with
 * errstr. Never call it inside a request callback: the request being served
 * points into the previous tokens.
 */
int admin_api_reload_tokens(admin_api *api, const char *path, char *errstr, size_t errstr_size);

/*
 * Serves req, whose path starts with "/api/": writes the body, adds its
 * headers, sets *content_type and returns the HTTP status to send. Returns
 * 0 when the handler has started a response of its own (an event stream):
 * the caller then sends nothing. Writes the audit line before returning.
 */
int admin_api_serve(admin_api *api, struct evhttp_request *req, const char *path,
		    struct evbuffer *body, const char **content_type);

/*
 * Checks the bearer token of a request for a closed path outside /api/.
 * Returns 0 when it has a valid token of any role. Otherwise writes a plain
 * text body, adds WWW-Authenticate and returns 401 (403 without a tokens
 * file).
 */
int admin_api_check_token(admin_api *api, struct evhttp_request *req, const char *path,
			  struct evbuffer *body);

#endif
