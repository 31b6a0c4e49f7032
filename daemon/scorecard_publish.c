/*
 * scorecard_publish.c - the scorecard document written to Redis once per
 * tick (see scorecard_publish.h).
 *
 * The document is built from scorecard_to_json(), the same JSON that
 * GET /api/kpis serves, so the report and the admin API show the same
 * figures. Building it costs a few allocations per KPI and scope once per
 * tick, nothing per event.
 *
 * NOTE: for 12 KPIs over 2,000 scopes that is about 150 ms of the event
 * loop per tick, half of it in scorecard_to_json(). This is an estimate,
 * the best of 20 runs of an ad hoc program (not in the repository) on a
 * shared 2-core VM. Writing the document straight from the scorecard's
 * entries, in scorecard.c, would remove most of it.
 */
#include "scorecard_publish.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "scorecard_doc.h"

size_t scorecard_publish_key(const config *cfg, char *buf, size_t size)
{
	int n = snprintf(buf, size, "{%s}:scorecard", cfg->redis.key_prefix);

	return n < 0 ? size : (size_t)n;
}

static void scorecard_publish_reply_cb(const struct redisReply *reply, void *opaque)
{
	/* A NULL reply means the connection dropped. The store logs that, and the
	 * next tick writes again. */
	if (reply && reply->type == REDIS_REPLY_ERROR)
		log_warn("report",
			 "failed to store the scorecard in Redis, so the report shows "
			 "the previous one until a write succeeds",
			 "error=\"%s\"", reply->str);
}

/* Returns the document as compact JSON for the caller to free, or NULL when out of memory. */
static char *scorecard_publish_text(const config *cfg, const scorecard *sc, int64_t now_ms)
{
	scorecard_doc_meta meta = {
	    .computed_at_ms = now_ms,
	    .config_version = cfg->version,
	    .tick_interval_ms = cfg->outputs.tick_interval_ms,
	};
	json_t *card = scorecard_to_json(sc, NULL, NULL, now_ms);
	json_t *doc = card ? scorecard_doc_build(card, &meta) : NULL;
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	json_decref(card);
	return text;
}

int scorecard_publish(redis_store *store, const config *cfg, const scorecard *sc, int64_t now_ms)
{
	char key[256], ttl[32];
	const char *argv[5];
	size_t lens[5];
	char *text;
	int rc;

	if (!redis_store_connected(store))
		return -1;
	text = scorecard_publish_text(cfg, sc, now_ms);
	if (!text) {
		log_warn("report", "out of memory while building the scorecard for Redis",
			 "kpis=%zu", cfg->n_kpis);
		return -1;
	}
	snprintf(ttl, sizeof(ttl), "%" PRId64, cfg->windows.retention_ms);
	argv[0] = "SET";
	argv[1] = key;
	argv[2] = text;
	argv[3] = "PX";
	argv[4] = ttl;
	lens[0] = 3;
	lens[1] = scorecard_publish_key(cfg, key, sizeof(key));
	lens[2] = strlen(text);
	lens[3] = 2;
	lens[4] = strlen(ttl);
	if (lens[1] >= sizeof(key)) {
		log_warn("report",
			 "redis.key_prefix is too long for the scorecard key, so the scorecard "
			 "is not stored. Shorten the prefix",
			 "max_key_bytes=%zu", sizeof(key) - 1);
		free(text);
		return -1;
	}
	rc = redis_store_command(store, 5, argv, lens, scorecard_publish_reply_cb, NULL);
	free(text);
	return rc;
}
