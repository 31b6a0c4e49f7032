/*
 * governance.c - the governance trail (see governance.h).
 *
 * One step is in flight at a time: read the hash, then swap it. Configs
 * submitted are queued, so each one applied gets its record, in order.
 * The head of the queue stays until the hash contains its version, written
 * by this instance or another. A full queue (Redis away through many reloads) merges the
 * newest entries: the last record then spans several versions. A swap lost to another
 * instance reads the hash again and diffs against what that instance
 * stored, up to GOVERNANCE_MAX_ATTEMPTS times in a row.
 *
 * Delivery of the last record produced is checked on a timer: once its
 * in-flight count is back to zero and the producer counted no failure
 * since it was queued, the hash's "pending" field is cleared. A failure of
 * any record meanwhile keeps "pending", which at worst repeats the record.
 */
#include "governance.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "catalog.h"
#include "log.h"

#define GOVERNANCE_RETRY_MS 1000
#define GOVERNANCE_DELIVERY_CHECK_MS 200
#define GOVERNANCE_MAX_ATTEMPTS 5
#define GOVERNANCE_QUEUE_MAX 64
/* A pending record older than this is taken as lost by its instance. */
#define GOVERNANCE_PENDING_GRACE_MS 30000

struct governance {
	struct event_base *base;
	redis_store *store;
	kafka_producer *producer;
	char *topic;
	char instance[300];

	/* Configs to record, oldest first: catalog summary and version. */
	struct {
		json_t *summary;
		char version[CONFIG_VERSION_SIZE];
	} wants[GOVERNANCE_QUEUE_MAX];
	size_t n_wants;
	bool busy;                          /* a read or swap is in flight */
	int attempts;                       /* swaps lost in a row */
	char *swapping;                     /* record text of the swap in flight */
	char swapping_version[CONFIG_VERSION_SIZE];

	struct event *retry_timer;
	struct event *delivery_timer;
	size_t in_flight;                   /* records queued, delivery not reported */
	uint64_t failed_before;             /* producer failures when the last was queued */
	char delivering[CONFIG_VERSION_SIZE]; /* version whose pending record awaits delivery */
	uint64_t records;
};

static void governance_step(governance *g);

/* The summary of the oldest config not recorded yet, or NULL. */
static json_t *governance_want(const governance *g)
{
	return g->n_wants ? g->wants[0].summary : NULL;
}

static const char *governance_want_version(const governance *g)
{
	return g->n_wants ? g->wants[0].version : "";
}

/* Drops the oldest config: it is recorded. */
static void governance_pop(governance *g)
{
	if (!g->n_wants)
		return;
	json_decref(g->wants[0].summary);
	g->n_wants--;
	memmove(&g->wants[0], &g->wants[1], g->n_wants * sizeof(g->wants[0]));
	g->attempts = 0;
}

static int64_t governance_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void governance_retry_later(governance *g)
{
	struct timeval tv = { GOVERNANCE_RETRY_MS / 1000, (GOVERNANCE_RETRY_MS % 1000) * 1000 };

	evtimer_add(g->retry_timer, &tv);
}

static void governance_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	governance_step(arg);
}

/* Clears "pending" once the last record is delivered; keeps it after a failure. */
static void governance_delivery_cb(evutil_socket_t fd, short what, void *arg)
{
	governance *g = arg;

	if (g->in_flight > 0 || !g->delivering[0])
		return;
	if (kafka_producer_get_stats(g->producer)->failed != g->failed_before)
		log_warn("governance", "a record may not have been delivered; it stays pending in "
		         "Redis and is produced again at the next start or reload", "version=%s",
		         g->delivering);
	else if (redis_store_governance_clear(g->store, g->delivering) < 0)
		return; /* Redis away: try again on the next check */
	g->delivering[0] = '\0';
	event_del(g->delivery_timer);
}

/* Queues record text keyed by version and starts watching its delivery. */
static void governance_produce(governance *g, const char *version, const char *record)
{
	struct timeval tv = { 0, GOVERNANCE_DELIVERY_CHECK_MS * 1000 };

	g->failed_before = kafka_producer_get_stats(g->producer)->failed;
	if (kafka_producer_send(g->producer, g->topic, version, strlen(version), record,
	                        strlen(record), NULL, 0, &g->in_flight) < 0)
		return;  /* logged and counted; the record stays pending in Redis */
	g->records++;
	snprintf(g->delivering, sizeof(g->delivering), "%s", version);
	event_add(g->delivery_timer, &tv);
}

/* Logs what the record holds: counts only, never owners or rationales. */
static void governance_log_record(const json_t *record)
{
	const json_t *k = json_object_get(record, "kpis"), *r = json_object_get(record, "rules");
	const char *prev = json_string_value(json_object_get(record, "previous_version"));

	log_info("governance", "configuration change recorded", "version=%s previous=%s "
	         "kpis_added=%zu kpis_changed=%zu kpis_retired=%zu kpis_removed=%zu "
	         "rules_added=%zu rules_changed=%zu rules_retired=%zu rules_removed=%zu",
	         json_string_value(json_object_get(record, "config_version")),
	         prev ? prev : "none",
	         json_array_size(json_object_get(k, "added")),
	         json_array_size(json_object_get(k, "changed")),
	         json_array_size(json_object_get(k, "retired")),
	         json_array_size(json_object_get(k, "removed")),
	         json_array_size(json_object_get(r, "added")),
	         json_array_size(json_object_get(r, "changed")),
	         json_array_size(json_object_get(r, "retired")),
	         json_array_size(json_object_get(r, "removed")));
}

/* The summary's entries as hash fields, pointing into texts (freed by the caller). */
static size_t governance_fields(const json_t *summary, redis_field *fields, char **texts)
{
	const char *key;
	json_t *entry;
	size_t n = 0;

	json_object_foreach((json_t *)summary, key, entry) {
		texts[n] = json_dumps(entry, JSON_COMPACT);
		if (!texts[n])
			continue;
		fields[n] = (redis_field){ key, texts[n] };
		n++;
	}
	return n;
}

static void governance_swap_cb(int status, const char *stored_version, void *opaque)
{
	governance *g = opaque;
	char *record = g->swapping;

	g->swapping = NULL;
	g->busy = false;
	if (status == 1) {
		governance_produce(g, g->swapping_version, record);
		free(record);
		g->attempts = 0;
		if (strcmp(governance_want_version(g), g->swapping_version) == 0)
			governance_pop(g);
		governance_step(g);  /* a newer config submitted meanwhile */
		return;
	}
	free(record);
	if (status < 0) {
		governance_retry_later(g);
		return;
	}
	if (status == 0 && ++g->attempts < GOVERNANCE_MAX_ATTEMPTS) {
		log_info("governance", "another instance recorded a configuration first; "
		         "comparing with it", "stored=%s", stored_version);
		governance_step(g);
		return;
	}
	if (status == 0)
		log_error("governance", "gave up recording the configuration: other instances kept "
		          "changing it; check that every instance runs the same file",
		          "version=%s attempts=%d", governance_want_version(g), g->attempts);
	governance_pop(g);
	governance_step(g);
}

/* Diffs the oldest config against the stored summary and sends the swap with the record. */
static void governance_swap(governance *g, const json_t *stored, const char *stored_version)
{
	char at[40];
	json_t *want = governance_want(g);
	const char *want_version = governance_want_version(g);
	json_t *record = catalog_record(stored, stored_version[0] ? stored_version : NULL, want,
	                                want_version,
	                                catalog_format_time(governance_now_ms(), at, sizeof(at)),
	                                g->instance);
	char *text = record ? json_dumps(record, JSON_COMPACT) : NULL;
	size_t cap = json_object_size(want) + 1;
	redis_field *fields = calloc(cap, sizeof(*fields));
	char **texts = calloc(cap, sizeof(*texts));
	size_t n = fields && texts ? governance_fields(want, fields, texts) : 0;

	if (!text || !fields || !texts || n != json_object_size(want)) {
		log_error("governance", "out of memory building the record; retrying", "%s", "");
		governance_retry_later(g);
	} else if (redis_store_governance_swap(g->store, stored_version, want_version, text,
	                                       governance_now_ms(), fields, n, governance_swap_cb,
	                                       g) < 0) {
		governance_retry_later(g);
	} else {
		g->busy = true;
		g->swapping = text;
		text = NULL;
		snprintf(g->swapping_version, sizeof(g->swapping_version), "%s", want_version);
		governance_log_record(record);
	}
	for (size_t i = 0; texts && i < n; i++)
		free(texts[i]);
	free(texts);
	free(fields);
	free(text);
	json_decref(record);
}

/* The value of field name, or NULL. */
static const char *governance_field(const redis_field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return fields[i].value;
	return NULL;
}

/* True when the pending record's instance had time enough to deliver it. */
static bool governance_pending_stale(const redis_field *fields, size_t n)
{
	const char *at = governance_field(fields, n, "pending_at");

	return !at || governance_now_ms() - strtoll(at, NULL, 10) > GOVERNANCE_PENDING_GRACE_MS;
}

/*
 * Reply to the read: produce a record left pending, then either stop
 * (the hash contains the expected version) or diff and swap.
 */
static void governance_read_cb(int status, const redis_field *fields, size_t n, void *opaque)
{
	governance *g = opaque;
	const char *stored = governance_field(fields, n, "version");
	const char *pending = governance_field(fields, n, "pending");

	g->busy = false;
	if (status < 0 || !g->n_wants) {
		if (g->n_wants)
			governance_retry_later(g);
		return;
	}
	/* A record not acknowledged yet (a crash, a failed delivery): produce it again. */
	if (stored && pending && strcmp(g->delivering, stored) != 0 &&
	    governance_pending_stale(fields, n)) {
		log_info("governance", "producing a record whose delivery was not confirmed",
		         "version=%s", stored);
		governance_produce(g, stored, pending);
	}
	if (stored && strcmp(stored, governance_want_version(g)) == 0) {
		log_info("governance", "configuration already recorded; no new record",
		         "version=%s", stored);
		governance_pop(g);
		governance_step(g);
		return;
	}
	const char **names = calloc(n + 1, sizeof(*names)), **values = calloc(n + 1, sizeof(*values));
	for (size_t i = 0; names && values && i < n; i++) {
		names[i] = fields[i].name;
		values[i] = fields[i].value;
	}
	json_t *old = names && values ? catalog_summary_parse(names, values, n) : NULL;
	if (old)
		governance_swap(g, old, stored ? stored : "");
	else
		governance_retry_later(g);
	json_decref(old);
	free(names);
	free(values);
}

/* Starts the next read unless one is in flight or nothing is wanted. */
static void governance_step(governance *g)
{
	if (g->busy || !g->n_wants)
		return;
	if (redis_store_governance_read(g->store, governance_read_cb, g) < 0) {
		governance_retry_later(g);
		return;
	}
	g->busy = true;
}

governance *governance_new(struct event_base *base, redis_store *store, kafka_producer *producer,
                           const char *topic)
{
	governance *g = calloc(1, sizeof(*g));
	char host[256] = "unknown";

	if (!g)
		return NULL;
	g->base = base;
	g->store = store;
	g->producer = producer;
	g->topic = strdup(topic);
	gethostname(host, sizeof(host) - 1);
	snprintf(g->instance, sizeof(g->instance), "%s/%ld", host, (long)getpid());
	g->retry_timer = evtimer_new(base, governance_retry_cb, g);
	g->delivery_timer = event_new(base, -1, EV_PERSIST, governance_delivery_cb, g);
	if (!g->topic || !g->retry_timer || !g->delivery_timer) {
		governance_free(g);
		return NULL;
	}
	return g;
}

void governance_free(governance *g)
{
	if (!g)
		return;
	if (g->retry_timer)
		event_free(g->retry_timer);
	if (g->delivery_timer)
		event_free(g->delivery_timer);
	while (g->n_wants)
		governance_pop(g);
	free(g->swapping);
	free(g->topic);
	free(g);
}

int governance_submit(governance *g, const config *cfg)
{
	json_t *summary = catalog_summary(cfg);

	if (!summary) {
		log_error("governance", "out of memory summarizing the catalog; this configuration "
		          "is not recorded", "version=%s", cfg->version);
		return -1;
	}
	if (g->n_wants == GOVERNANCE_QUEUE_MAX) {
		/* Keep the oldest, which a step may be recording, and merge the newest. */
		log_warn("governance", "too many configurations wait to be recorded; the newest "
		         "ones are recorded as one change", "queued=%zu version=%s",
		         g->n_wants, cfg->version);
		json_decref(g->wants[--g->n_wants].summary);
	}
	g->wants[g->n_wants].summary = summary;
	snprintf(g->wants[g->n_wants].version, sizeof(g->wants[0].version), "%s", cfg->version);
	g->n_wants++;
	governance_step(g);
	return 0;
}

uint64_t governance_records(const governance *g)
{
	return g->records;
}
