/*
 * admin_assets.c - serves the embedded live view (see admin_assets.h).
 *
 * Responses carry a strict Content-Security-Policy: scripts, styles,
 * connections and images come from the daemon only, so the page works
 * without internet access and no injected markup can load or send
 * anything elsewhere. Cache-Control: no-cache with an ETag lets a browser
 * keep the files and revalidate them, so a new daemon version shows at
 * the next load.
 */
#include "admin_assets.h"

#include <string.h>

#include <event2/keyvalq_struct.h>

#define ADMIN_ASSETS_CSP                                                                       \
	"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "         \
	"frame-ancestors 'none'; form-action 'none'"
#define ADMIN_ASSETS_PREFIX "/assets/"
#define ADMIN_ASSETS_NOT_MODIFIED 304

bool admin_assets_owns(const char *path)
{
	return path && (strcmp(path, "/") == 0 ||
			strncmp(path, ADMIN_ASSETS_PREFIX, strlen(ADMIN_ASSETS_PREFIX)) == 0);
}

static const admin_asset *admin_assets_find(const char *path)
{
	for (size_t i = 0; i < admin_n_assets; i++)
		if (strcmp(admin_assets[i].path, path) == 0)
			return &admin_assets[i];
	return NULL;
}

static void admin_assets_headers(struct evkeyvalq *headers, const admin_asset *a)
{
	evhttp_add_header(headers, "Content-Security-Policy", ADMIN_ASSETS_CSP);
	evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(headers, "Referrer-Policy", "no-referrer");
	if (!a)
		return;
	evhttp_add_header(headers, "Content-Type", a->content_type);
	evhttp_add_header(headers, "Cache-Control", "no-cache");
	evhttp_add_header(headers, "ETag", a->etag);
}

int admin_assets_serve(struct evhttp_request *req, const char *path, struct evbuffer *body)
{
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	const admin_asset *a = admin_assets_find(path);
	const char *match;

	admin_assets_headers(headers, a);
	if (!a) {
		evbuffer_add_printf(body, "not found; the live view is at /\n");
		return HTTP_NOTFOUND;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		evhttp_add_header(headers, "Allow", "GET, HEAD");
		evbuffer_add_printf(body, "method not allowed; use GET\n");
		return HTTP_BADMETHOD;
	}
	match = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	if (match && strcmp(match, a->etag) == 0)
		return ADMIN_ASSETS_NOT_MODIFIED;
	evbuffer_add_reference(body, a->data, a->size, NULL, NULL);
	return HTTP_OK;
}
