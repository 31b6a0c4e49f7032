/*
 * admin_tls.c - HTTPS for the admin server (see admin_tls.h).
 *
 * The admin server's bufferevent callback calls admin_tls_new_bufferevent
 * for each accepted connection. It returns an OpenSSL bufferevent in the
 * accepting state, and evhttp gives it the socket. Dirty shutdowns (a client closing
 * without a TLS close_notify, as curl does) are allowed, because each
 * HTTP response carries its own length and so cannot be cut short unseen.
 *
 * libevent 2.1.12 falls back to a plain bufferevent when this callback
 * returns NULL (SSL_new out of memory). admin_tls_request_secure() lets
 * the server refuse requests that arrive that way.
 */
#include "admin_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"

struct admin_tls {
	SSL_CTX *ctx;
};

/* Writes "KEY: what 'file': OpenSSL's reason; fix" into errstr and returns -1. */
static int admin_tls_error(char *errstr, size_t errstr_size, const char *key, const char *what,
			   const char *file, const char *fix)
{
	char reason[256] = "no reason given";
	unsigned long code = ERR_peek_last_error();

	if (code)
		ERR_error_string_n(code, reason, sizeof(reason));
	ERR_clear_error();
	snprintf(errstr, errstr_size, "%s: %s '%s': %s; %s", key, what, file, reason, fix);
	return -1;
}

/* Warns when the private key file is readable by group or others. */
static void admin_tls_check_key_mode(const char *key_file)
{
	struct stat st;

	if (stat(key_file, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
		log_warn("admin", "the TLS private key file is readable by group or others",
			 "file=\"%s\" mode=%04o fix=\"chmod 600 %s\"", key_file,
			 (unsigned)(st.st_mode & 07777), key_file);
}

static int admin_tls_mismatch(char *errstr, size_t errstr_size, const char *cert_file)
{
	return admin_tls_error(errstr, errstr_size, "admin.tls.key_file",
			       "the private key does not match the certificate in", cert_file,
			       "give the key the certificate was issued for");
}

static int admin_tls_load(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *errstr,
			  size_t errstr_size)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
		return admin_tls_error(errstr, errstr_size, "admin.tls.cert_file",
				       "cannot load the certificate chain from", cert_file,
				       "give a PEM file with the server certificate first");
	/* OpenSSL checks the key against the certificate while loading it. */
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
			return admin_tls_mismatch(errstr, errstr_size, cert_file);
		return admin_tls_error(errstr, errstr_size, "admin.tls.key_file",
				       "cannot load the private key from", key_file,
				       "give the PEM file of the certificate's private key, "
				       "without a passphrase");
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		return admin_tls_mismatch(errstr, errstr_size, cert_file);
	return 0;
}

admin_tls *admin_tls_new(const char *cert_file, const char *key_file, char *errstr,
			 size_t errstr_size)
{
	admin_tls *t = calloc(1, sizeof(*t));

	if (!t || !(t->ctx = SSL_CTX_new(TLS_server_method()))) {
		snprintf(errstr, errstr_size, "admin.tls: out of memory setting up OpenSSL");
		free(t);
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION)) {
		snprintf(errstr, errstr_size, "admin.tls: OpenSSL refused TLS 1.2 as the minimum");
		admin_tls_free(t);
		return NULL;
	}
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (admin_tls_load(t->ctx, cert_file, key_file, errstr, errstr_size) < 0) {
		admin_tls_free(t);
		return NULL;
	}
	admin_tls_check_key_mode(key_file);
	return t;
}

void admin_tls_free(admin_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct bufferevent *admin_tls_new_bufferevent(admin_tls *t, struct event_base *base)
{
	SSL *ssl = SSL_new(t->ctx);
	struct bufferevent *bev;

	if (!ssl) {
		log_error("admin", "cannot set up TLS for a connection; its requests are refused",
			  "error=\"out of memory\"");
		return NULL;
	}
	/* BEV_OPT_CLOSE_ON_FREE also frees ssl with the bufferevent. */
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int admin_tls_request_secure(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;

	return bev && bufferevent_openssl_get_ssl(bev) ? 1 : 0;
}
