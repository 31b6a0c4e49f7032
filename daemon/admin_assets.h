/*
 * admin_assets.h - the live view's page and files, compiled into the daemon.
 *
 * CMake embeds web/index.html, web/app.js, web/app.css and uPlot's script
 * and style sheet from web/node_modules (installed by scripts/install-deps.sh
 * with npm ci) into a generated source file (cmake/embed_web.cmake). Nothing
 * is read from disk at run time, and the page loads nothing from another
 * host. admin_assets_serve() serves GET and HEAD of "/" and "/assets/NAME"
 * without a token, because the files contain no data. The page reads the
 * data from the API with a viewer token.
 */
#ifndef ADVOCACY_ADMIN_ASSETS_H
#define ADVOCACY_ADMIN_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/http.h>

typedef struct admin_asset {
	const char *path;         /* URL path, e.g. "/assets/app.js" */
	const char *content_type;
	const char *etag;         /* quoted, from the file's SHA-256 */
	const unsigned char *data;
	size_t size;
} admin_asset;

/* The generated table. */
extern const admin_asset admin_assets[];
extern const size_t admin_n_assets;

/* True when path is "/" or under "/assets/", the paths admin_assets_serve() serves. */
bool admin_assets_owns(const char *path);

/*
 * Writes the file at path into body (nothing for HEAD or a matching
 * If-None-Match), adds its headers (Content-Type, ETag, Cache-Control,
 * Content-Security-Policy...) and returns the HTTP status: 200, 304, 404,
 * or 405 for a method other than GET and HEAD.
 */
int admin_assets_serve(struct evhttp_request *req, const char *path, struct evbuffer *body);

#endif
