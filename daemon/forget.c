/*
 * forget.c - `advocacyd forget`: roster tombstones, per-person Redis keys
 * and the governance record of one erasure (see forget.h).
 *
 * The employee id is used twice: as the key of the tombstones and as the
 * input of the pseudonym. It is never logged, printed or stored anywhere
 * else, and neither is the pseudonym.
 */
#include "forget.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "kafka.h"
#include "log.h"
#include "privacy.h"
#include "redis_store.h"

#define FORGET_KAFKA_TIMEOUT_MS 30000
#define FORGET_REDIS_CONNECT_TIMEOUT_S 10

/* State of the Redis step, shared with its callbacks on the loop. */
typedef struct forget_redis {
	struct event_base *base;
	redis_store *store;
	const char *pseudonym_hex;
	bool started;
	bool done;
	int status;
	uint64_t removed;
	char error[256];
} forget_redis;

static int64_t forget_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Computes the pseudonym the daemon uses for the employee id. */
static int forget_pseudonym(const config *cfg, const forget_request *req,
                            char hex[PSEUDONYM_HEX_SIZE], char *errstr, size_t errstr_size)
{
	privacy *p = NULL;
	pseudonym ps;
	char err[512];

	if (privacy_new(cfg->privacy.key_file, cfg->privacy.key_id, 1, &p, err, sizeof(err)) < 0) {
		snprintf(errstr, errstr_size, "%s: privacy.key_file: %s", cfg->path, err);
		return FORGET_INVALID;
	}
	privacy_pseudonym(p, req->employee_id, req->employee_id_len, &ps);
	pseudonym_to_hex(&ps, hex);
	memset(&ps, 0, sizeof(ps));
	privacy_free(p);
	return FORGET_OK;
}

/* Sends one tombstone per roster partition and waits for their delivery. */
static int forget_roster(kafka_producer *producer, const config *cfg, const forget_request *req,
                         erasure_counts *counts, char *errstr, size_t errstr_size)
{
	const char *topic = cfg->kafka.roster_topic;
	char err[512];

	int n = kafka_producer_partitions(producer, topic, "kafka.roster_topic", err, sizeof(err));
	if (n < 0) {
		snprintf(errstr, errstr_size, "%s. Nothing was changed; check kafka.bootstrap_servers "
		         "(%s) and run the command again", err, cfg->kafka.bootstrap_servers);
		return FORGET_FAILED;
	}
	counts->roster_partitions = n;

	uint64_t delivered = kafka_producer_get_stats(producer)->delivered;
	for (int32_t i = 0; i < n; i++)
		kafka_producer_send_to(producer, topic, i, req->employee_id, req->employee_id_len,
		                       NULL, 0);
	int flushed = kafka_producer_flush(producer, FORGET_KAFKA_TIMEOUT_MS);
	counts->roster_tombstones =
	        (int32_t)(kafka_producer_get_stats(producer)->delivered - delivered);
	if (flushed < 0 || counts->roster_tombstones != n) {
		snprintf(errstr, errstr_size, "%" PRId32 " of %d roster tombstones delivered to %s "
		         "within %d s; Redis was not touched. Check that Kafka accepts writes to %s "
		         "and run the command again", counts->roster_tombstones, n, topic,
		         FORGET_KAFKA_TIMEOUT_MS / 1000, topic);
		return FORGET_FAILED;
	}
	log_info("forget", "roster tombstones delivered", "topic=%s partitions=%d", topic, n);
	return FORGET_OK;
}

static void forget_redis_done(forget_redis *f, int status, const char *error)
{
	f->done = true;
	f->status = status;
	if (error)
		snprintf(f->error, sizeof(f->error), "%s", error);
	event_base_loopbreak(f->base);
}

static void forget_erase_cb(int status, uint64_t removed, const char *error, void *opaque)
{
	forget_redis *f = opaque;

	f->removed = removed;
	forget_redis_done(f, status, error);
}

static void forget_redis_state_cb(bool connected, void *opaque)
{
	forget_redis *f = opaque;

	if (!connected || f->started)
		return;
	f->started = true;
	if (redis_store_erase_person(f->store, f->pseudonym_hex, forget_erase_cb, f) < 0)
		forget_redis_done(f, -1, "cannot send SCAN");
}

static void forget_redis_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	forget_redis *f = arg;

	if (!f->started)
		forget_redis_done(f, -1, "no connection within the timeout");
}

/* Runs the loop until the per-person keys are deleted or Redis fails. */
static int forget_redis_keys(struct event_base *base, const config *cfg, const char *hex,
                             erasure_counts *counts, char *errstr, size_t errstr_size)
{
	forget_redis f = { .base = base, .pseudonym_hex = hex };
	struct timeval wait = { FORGET_REDIS_CONNECT_TIMEOUT_S, 0 };
	struct event *timeout = evtimer_new(base, forget_redis_timeout_cb, &f);
	char err[256];

	f.store = redis_store_new(base, cfg, forget_redis_state_cb, &f, err, sizeof(err));
	if (!timeout || !f.store) {
		forget_redis_done(&f, -1, f.store ? "cannot create a timer" : err);
	} else {
		evtimer_add(timeout, &wait);
		event_base_dispatch(base);
	}
	redis_store_free(f.store);
	if (timeout)
		event_free(timeout);

	counts->redis_person_keys = f.removed;
	if (f.status != 0 || !f.done) {
		char where[300];
		if (cfg->redis.unix_socket && *cfg->redis.unix_socket)
			snprintf(where, sizeof(where), "%s", cfg->redis.unix_socket);
		else
			snprintf(where, sizeof(where), "%s:%d", cfg->redis.host, cfg->redis.port);
		snprintf(errstr, errstr_size, "per-person keys in Redis at %s not deleted: %s. The "
		         "roster tombstones were delivered; check the redis settings and run the same "
		         "command again once Redis answers (%" PRIu64 " keys were deleted so far)",
		         where, f.done ? f.error : "interrupted", f.removed);
		return FORGET_FAILED;
	}
	log_info("forget", "per-person Redis keys deleted", "prefix=%s keys=%" PRIu64,
	         cfg->redis.key_prefix, f.removed);
	return FORGET_OK;
}

/* Produces the governance record of the erasure and waits for its delivery. */
static int forget_governance(kafka_producer *producer, const config *cfg, const char *request_id,
                             const erasure_counts *counts, char *errstr, size_t errstr_size)
{
	const char *topic = cfg->outputs.governance_topic;
	erasure_record r = {
		.request_id = request_id, .key_id = cfg->privacy.key_id,
		.roster_topic = cfg->kafka.roster_topic, .redis_key_prefix = cfg->redis.key_prefix,
		.time_ms = forget_now_ms(), .counts = *counts,
	};
	char *json = erasure_governance_json(&r);

	if (!json) {
		snprintf(errstr, errstr_size, "cannot build the governance record (out of memory); "
		         "the erasure itself is done, run the command again to record it");
		return FORGET_FAILED;
	}
	uint64_t delivered = kafka_producer_get_stats(producer)->delivered;
	kafka_producer_send(producer, topic, request_id, strlen(request_id), json, strlen(json),
	                    NULL, 0, NULL);
	free(json);
	if (kafka_producer_flush(producer, FORGET_KAFKA_TIMEOUT_MS) < 0 ||
	    kafka_producer_get_stats(producer)->delivered != delivered + 1) {
		snprintf(errstr, errstr_size, "the governance record was not delivered to %s within "
		         "%d s; the erasure itself is done. Check outputs.governance.topic and run "
		         "the command again to record it", topic, FORGET_KAFKA_TIMEOUT_MS / 1000);
		return FORGET_FAILED;
	}
	log_info("forget", "governance record delivered", "topic=%s request_id=%s", topic,
	         request_id);
	return FORGET_OK;
}

int forget_run(const config *cfg, const forget_request *req, erasure_counts *counts,
               char *errstr, size_t errstr_size)
{
	char hex[PSEUDONYM_HEX_SIZE];
	char err[512];
	struct event_base *base = NULL;
	kafka_producer *producer = NULL;

	memset(counts, 0, sizeof(*counts));
	int rc = forget_pseudonym(cfg, req, hex, errstr, errstr_size);
	if (rc != FORGET_OK)
		return rc;

	rc = FORGET_FAILED;
	base = event_base_new();
	if (!base) {
		snprintf(errstr, errstr_size, "cannot create an event loop");
		goto out;
	}
	producer = kafka_producer_new(base, cfg, err, sizeof(err));
	if (!producer) {
		snprintf(errstr, errstr_size, "%s: %s; nothing was changed", cfg->path, err);
		rc = FORGET_INVALID;
		goto out;
	}

	log_info("forget", "erasure started", "request_id=%s", req->request_id);
	rc = forget_roster(producer, cfg, req, counts, errstr, errstr_size);
	if (rc == FORGET_OK)
		rc = forget_redis_keys(base, cfg, hex, counts, errstr, errstr_size);
	if (rc == FORGET_OK)
		rc = forget_governance(producer, cfg, req->request_id, counts, errstr, errstr_size);
out:
	memset(hex, 0, sizeof(hex));
	kafka_producer_free(producer, 1000);
	if (base)
		event_base_free(base);
	return rc;
}
