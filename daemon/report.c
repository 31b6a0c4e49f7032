/*
 * report.c - `advocacyd report` (see report.h).
 *
 * Steps: connect (2 s timeout for the connection and for each reply),
 * AUTH and SELECT as the daemon does, GET the scorecard key, parse and
 * check the document, find the scope, print. Connection and GET failures
 * name the Redis address, and failures of AUTH or SELECT the config key.
 */
#include "report.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <string.h>
#include <sys/time.h>

#include "report_render.h"
#include "scorecard_doc.h"
#include "scorecard_publish.h"

#define REPORT_TIMEOUT_S 2
/* Maximum number of scopes listed in the error for an unknown scope. */
#define REPORT_SCOPES_LISTED 10

/* Writes the address of cfg's Redis, "host:port" or the unix socket path, into buf. */
static void report_redis_address(const config *cfg, char *buf, size_t size)
{
	if (cfg->redis.unix_socket && *cfg->redis.unix_socket)
		snprintf(buf, size, "%s", cfg->redis.unix_socket);
	else
		snprintf(buf, size, "%s:%d", cfg->redis.host, cfg->redis.port);
}

/*
 * Checks the reply to AUTH or SELECT (command), then frees it. Returns 0, or
 * -1 with errstr naming the config key to fix when the command failed.
 */
static int report_setup_reply(redisContext *c, redisReply *reply, const char *command,
			      const char *key, const char *path, char *errstr, size_t errstr_size)
{
	int rc = 0;

	if (!reply || reply->type == REDIS_REPLY_ERROR) {
		snprintf(errstr, errstr_size, "Redis %s failed: %s. Check %s in %s", command,
			 reply ? reply->str : c->errstr, key, path);
		rc = -1;
	}
	freeReplyObject(reply);
	return rc;
}

/* Connects to cfg's Redis. Returns NULL on failure, with the reason in errstr. */
static redisContext *report_connect(const config *cfg, char *errstr, size_t errstr_size)
{
	struct timeval timeout = {REPORT_TIMEOUT_S, 0};
	char address[512];
	redisContext *c;

	report_redis_address(cfg, address, sizeof(address));
	if (cfg->redis.unix_socket && *cfg->redis.unix_socket)
		c = redisConnectUnixWithTimeout(cfg->redis.unix_socket, timeout);
	else
		c = redisConnectWithTimeout(cfg->redis.host, cfg->redis.port, timeout);
	if (!c || c->err) {
		snprintf(errstr, errstr_size,
			 "cannot connect to Redis at %s: %s. Start Redis, or "
			 "correct redis.host, redis.port or redis.unix_socket in %s",
			 address, c ? c->errstr : "out of memory", cfg->path);
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, timeout);
	if (cfg->redis.password && *cfg->redis.password &&
	    report_setup_reply(c, redisCommand(c, "AUTH %s", cfg->redis.password), "AUTH",
			       "redis.password", cfg->path, errstr, errstr_size) < 0) {
		redisFree(c);
		return NULL;
	}
	if (cfg->redis.db != 0 &&
	    report_setup_reply(c, redisCommand(c, "SELECT %d", cfg->redis.db), "SELECT", "redis.db",
			       cfg->path, errstr, errstr_size) < 0) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/*
 * Reads and parses the document at key. Returns REPORT_OK with *doc set,
 * or another code with errstr filled.
 */
static int report_read(redisContext *c, const config *cfg, const char *key, json_t **doc,
		       char *errstr, size_t errstr_size)
{
	redisReply *reply = redisCommand(c, "GET %s", key);
	char address[512], why[256];
	json_error_t jerr;
	int rc = REPORT_FAILED;

	report_redis_address(cfg, address, sizeof(address));
	if (!reply) {
		snprintf(errstr, errstr_size, "GET %s on Redis at %s failed: %s", key, address,
			 c->errstr);
		return REPORT_FAILED;
	}
	if (reply->type == REDIS_REPLY_NIL) {
		snprintf(errstr, errstr_size,
			 "no scorecard in Redis yet: key %s does not exist at "
			 "%s. The daemon writes it on each tick, on the instance that holds the "
			 "alert lease, once the start-up backlog is read. Start advocacyd with %s "
			 "and wait one outputs.tick_interval, or check redis.key_prefix and "
			 "redis.db",
			 key, address, cfg->path);
		rc = REPORT_NO_SCORECARD;
	} else if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(errstr, errstr_size, "GET %s on Redis at %s failed: %s", key, address,
			 reply->str);
	} else if (reply->type != REDIS_REPLY_STRING) {
		snprintf(errstr, errstr_size,
			 "key %s at %s is not a string, so another program uses "
			 "it. Delete the key or change redis.key_prefix",
			 key, address);
	} else if (!(*doc = json_loadb(reply->str, reply->len, 0, &jerr))) {
		snprintf(errstr, errstr_size,
			 "key %s at %s does not contain valid JSON (%s at byte "
			 "%d). The next tick of the daemon replaces it, so run the report again",
			 key, address, jerr.text, jerr.position);
	} else if (scorecard_doc_check(*doc, why, sizeof(why)) < 0) {
		snprintf(errstr, errstr_size, "key %s at %s: %s", key, address, why);
		json_decref(*doc);
		*doc = NULL;
	} else {
		rc = REPORT_OK;
	}
	freeReplyObject(reply);
	return rc;
}

/* Writes the error for a scope missing from the document into errstr, with its first scopes. */
static void report_unknown_scope(const json_t *doc, const char *scope, char *errstr,
				 size_t errstr_size)
{
	const json_t *scopes = json_object_get(doc, "scopes"), *s;
	size_t i, n = json_array_size(scopes);
	int len;

	len = snprintf(errstr, errstr_size,
		       "scope '%s' is not in the scorecard, which has %zu "
		       "scope%s:",
		       scope, n, n == 1 ? "" : "s");
	json_array_foreach(scopes, i, s) {
		if (i == REPORT_SCOPES_LISTED || len < 0 || (size_t)len >= errstr_size)
			break;
		len += snprintf(errstr + len, errstr_size - (size_t)len, "%s %s", i ? "," : "",
				json_string_value(json_object_get(s, "scope")));
	}
	if (len >= 0 && (size_t)len < errstr_size)
		snprintf(errstr + len, errstr_size - (size_t)len,
			 "%s. Scopes are written org, "
			 "department:<name>, team:<name>, segment:<name> and so on",
			 n > REPORT_SCOPES_LISTED ? ", ..." : "");
}

/* Warns when the scorecard is older than three ticks or came from another config. */
static void report_warn(FILE *warn, const config *cfg, const json_t *doc, int64_t now_ms)
{
	int64_t age = report_render_age_seconds(doc, now_ms);
	int64_t tick_ms = json_integer_value(json_object_get(doc, "tick_interval_ms"));
	const char *version = json_string_value(json_object_get(doc, "config_version"));

	if (tick_ms > 0 && age * 1000 > 3 * tick_ms)
		fprintf(warn,
			"advocacyd report: warning: the scorecard is %" PRId64 " s old, more "
			"than three ticks of %" PRId64 " ms. Check that the daemon is running "
			"and that one instance holds the alert lease\n",
			age, tick_ms);
	if (version && strcmp(version, cfg->version) != 0)
		fprintf(warn,
			"advocacyd report: note: the scorecard was computed with config "
			"version %s, %s is version %s\n",
			version, cfg->path, cfg->version);
}

static int report_print(FILE *out, const json_t *doc, const json_t *scope,
			const report_request *req, char *errstr, size_t errstr_size)
{
	int rc = 0;

	if (req->format == REPORT_FORMAT_JSON) {
		json_t *o = report_render_json(doc, scope, req->now_ms);
		rc = o ? json_dumpf(o, out, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) : -1;
		if (rc == 0)
			rc = fputc('\n', out) == EOF ? -1 : 0;
		json_decref(o);
	} else {
		rc = report_render_table(out, doc, scope, req->now_ms);
	}
	if (rc == 0 && fflush(out) == 0)
		return REPORT_OK;
	snprintf(errstr, errstr_size, "failed to write the report to standard output");
	return REPORT_FAILED;
}

int report_run(const config *cfg, const report_request *req, FILE *out, FILE *warn, char *errstr,
	       size_t errstr_size)
{
	json_t *doc = NULL;
	const json_t *scope;
	char key[256];
	redisContext *c;
	int rc;

	if (scorecard_publish_key(cfg, key, sizeof(key)) >= sizeof(key)) {
		snprintf(errstr, errstr_size,
			 "redis.key_prefix in %s is too long: the scorecard key "
			 "\"{<prefix>}:scorecard\" must be under %zu bytes. Shorten the prefix",
			 cfg->path, sizeof(key));
		return REPORT_INVALID;
	}
	c = report_connect(cfg, errstr, errstr_size);
	if (!c)
		return REPORT_FAILED;
	rc = report_read(c, cfg, key, &doc, errstr, errstr_size);
	redisFree(c);
	if (rc != REPORT_OK)
		return rc;

	scope = scorecard_doc_scope(doc, req->scope);
	if (!scope) {
		report_unknown_scope(doc, req->scope, errstr, errstr_size);
		json_decref(doc);
		return REPORT_UNKNOWN_SCOPE;
	}
	report_warn(warn, cfg, doc, req->now_ms);
	rc = report_print(out, doc, scope, req, errstr, errstr_size);
	json_decref(doc);
	return rc;
}
