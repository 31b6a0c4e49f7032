/*
 * admin_tls.h - HTTPS for the admin server, with libevent's OpenSSL bufferevents.
 *
 * With admin.tls.cert_file and admin.tls.key_file set, every connection
 * the admin server accepts is wrapped in TLS (1.2 at least) before evhttp
 * reads from it, so the port speaks HTTPS only. A plain HTTP request gets
 * no HTTP response, because the server reads it as a broken TLS handshake
 * and closes the connection.
 *
 * No client certificates are asked for; clients prove who they are with
 * bearer tokens. Loop thread only.
 */
#ifndef ADVOCACY_ADMIN_TLS_H
#define ADVOCACY_ADMIN_TLS_H

#include <stddef.h>

#include <event2/bufferevent.h>
#include <event2/http.h>

typedef struct admin_tls admin_tls;

/*
 * Loads the PEM certificate chain (server certificate first) and the PEM
 * private key, and checks that they match. Returns NULL with errstr naming
 * the config key, the file and OpenSSL's reason when they do not load.
 */
admin_tls *admin_tls_new(const char *cert_file, const char *key_file, char *errstr,
			 size_t errstr_size);

void admin_tls_free(admin_tls *t);

/*
 * Returns a server-side OpenSSL bufferevent without a socket, for evhttp's
 * bufferevent callback, or NULL when out of memory. t must outlive it.
 */
struct bufferevent *admin_tls_new_bufferevent(admin_tls *t, struct event_base *base);

/* Returns 1 when req arrived on a TLS connection, else 0. */
int admin_tls_request_secure(struct evhttp_request *req);

#endif
