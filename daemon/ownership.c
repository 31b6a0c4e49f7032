/*
 * ownership.c - partition claims in Redis and their tokens (see ownership.h).
 */
#include "ownership.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define OWNERSHIP_MAX 1024
#define OWNERSHIP_RETRY_S 1

typedef struct owned_partition {
	const char *topic;                 /* the config's copy */
	int32_t partition;
	char token[OWNERSHIP_TOKEN_SIZE];  /* of the claim sent or held */
	bool claim_sent;
	bool started;
	int64_t seen_through;              /* offsets below it were read under token */
	int64_t fallback_offset;           /* where to start when Redis has no offset */
} owned_partition;

/* One claim in flight: which token it writes. */
typedef struct ownership_claim {
	ownership *owner;
	char token[OWNERSHIP_TOKEN_SIZE];
} ownership_claim;

struct ownership {
	const config *cfg;
	redis_store *store;
	kafka_consumer *consumer;
	struct event *retry_timer;
	char instance[17];
	uint64_t claims;
	owned_partition parts[OWNERSHIP_MAX];
	size_t n_parts;
	size_t last_seen;          /* index of the partition of the last message */
};

static void ownership_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	ownership_claim_waiting(arg);
}

static void ownership_instance_id(char out[17])
{
	unsigned char bytes[8];

	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		/* No entropy source: pid and time still differ between instances. */
		uint64_t v = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
		memcpy(bytes, &v, sizeof(bytes));
	}
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

ownership *ownership_new(struct event_base *base, const config *cfg, redis_store *store)
{
	ownership *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->cfg = cfg;
	o->store = store;
	o->retry_timer = event_new(base, -1, EV_PERSIST, ownership_retry_cb, o);
	if (!o->retry_timer) {
		free(o);
		return NULL;
	}
	struct timeval tv = { OWNERSHIP_RETRY_S, 0 };
	event_add(o->retry_timer, &tv);
	ownership_instance_id(o->instance);
	log_info("source", "instance id chosen for partition claims", "instance=%s", o->instance);
	return o;
}

void ownership_free(ownership *o)
{
	if (!o)
		return;
	event_free(o->retry_timer);
	free(o);
}

void ownership_set_consumer(ownership *o, kafka_consumer *c)
{
	o->consumer = c;
}

static owned_partition *ownership_find(const ownership *o, const char *topic, int32_t partition)
{
	for (size_t i = 0; i < o->n_parts; i++)
		if (o->parts[i].partition == partition && strcmp(o->parts[i].topic, topic) == 0)
			return (owned_partition *)&o->parts[i];
	return NULL;
}

static const char *ownership_config_topic(const ownership *o, const char *topic)
{
	for (size_t i = 0; i < o->cfg->kafka.n_inputs; i++)
		if (strcmp(o->cfg->kafka.inputs[i].topic, topic) == 0)
			return o->cfg->kafka.inputs[i].topic;
	return NULL;
}

static void ownership_claim_reply(int status, redis_partition_offsets *parts, size_t n,
                                  void *opaque)
{
	ownership_claim *claim = opaque;
	ownership *o = claim->owner;
	kafka_offset *start = calloc(n + 1, sizeof(*start));
	size_t n_start = 0;

	for (size_t i = 0; i < n; i++) {
		owned_partition *p = ownership_find(o, parts[i].topic, parts[i].partition);
		/* Revoked meanwhile, or claimed again under a newer token. */
		if (!p || strcmp(p->token, claim->token) != 0)
			continue;
		p->claim_sent = false;
		if (status != 0 || !start)
			continue;
		int64_t at = parts[i].stored_offset >= 0 ? parts[i].stored_offset : p->fallback_offset;
		p->started = true;
		p->seen_through = at;
		start[n_start++] = (kafka_offset){ p->topic, p->partition, at };
		log_info("source", "partition claimed", "topic=%s partition=%" PRId32
		         " token=%s resume_offset=%" PRId64, p->topic, p->partition, claim->token, at);
	}
	if (n_start && o->consumer)
		kafka_consumer_start_at(o->consumer, start, n_start);
	free(start);
	free(claim);
}

void ownership_claim_waiting(ownership *o)
{
	redis_partition_offsets waiting[OWNERSHIP_MAX];
	size_t n = 0;

	for (size_t i = 0; i < o->n_parts; i++)
		if (!o->parts[i].started && !o->parts[i].claim_sent)
			waiting[n++] = (redis_partition_offsets){ .topic = o->parts[i].topic,
			                                          .partition = o->parts[i].partition };
	if (n == 0 || !redis_store_connected(o->store))
		return;

	ownership_claim *claim = calloc(1, sizeof(*claim));
	if (!claim)
		return;
	claim->owner = o;
	snprintf(claim->token, sizeof(claim->token), "%s.%" PRIu64, o->instance, ++o->claims);
	if (redis_store_claim(o->store, claim->token, waiting, n, ownership_claim_reply, claim) < 0) {
		free(claim);
		return;
	}
	for (size_t i = 0; i < o->n_parts; i++) {
		owned_partition *p = &o->parts[i];
		if (!p->started && !p->claim_sent) {
			snprintf(p->token, sizeof(p->token), "%s", claim->token);
			p->claim_sent = true;
		}
	}
}

void ownership_assigned(ownership *o, const kafka_offset *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *topic = ownership_config_topic(o, parts[i].topic);
		owned_partition *p = ownership_find(o, parts[i].topic, parts[i].partition);
		if (!topic) {
			log_error("source", "partition of a topic that is not an input assigned; ignored",
			          "topic=%s partition=%" PRId32, parts[i].topic, parts[i].partition);
			continue;
		}
		if (!p) {
			if (o->n_parts == OWNERSHIP_MAX) {
				log_error("source", "too many partitions assigned; raise OWNERSHIP_MAX or "
				          "run more instances", "max=%d", OWNERSHIP_MAX);
				continue;
			}
			p = &o->parts[o->n_parts++];
		}
		*p = (owned_partition){ .topic = topic, .partition = parts[i].partition,
		                        .fallback_offset = -1 };
	}
	ownership_claim_waiting(o);
}

void ownership_revoked(ownership *o, const kafka_offset *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		owned_partition *p = ownership_find(o, parts[i].topic, parts[i].partition);
		if (p)
			*p = o->parts[--o->n_parts];
	}
}

const char *ownership_token(const ownership *o, const char *topic, int32_t partition,
                            const char **topic_out)
{
	const owned_partition *p = ownership_find(o, topic, partition);

	if (!p || !p->started)
		return NULL;
	*topic_out = p->topic;
	return p->token;
}

bool ownership_holds(const ownership *o, const char *topic, int32_t partition,
                     const char *token)
{
	const owned_partition *p = ownership_find(o, topic, partition);
	return p && p->started && strcmp(p->token, token) == 0;
}

void ownership_reclaim(ownership *o, const char *topic, int32_t partition, const char *token,
                       int64_t from_offset)
{
	owned_partition *p = ownership_find(o, topic, partition);

	if (!p || strcmp(p->token, token) != 0)
		return;
	log_warn("source", "partition claimed by another instance meanwhile; claiming it again",
	         "topic=%s partition=%" PRId32 " token=%s", topic, partition, token);
	p->started = false;
	p->claim_sent = false;
	p->fallback_offset = from_offset;
	ownership_claim_waiting(o);
}

bool ownership_seen_before(ownership *o, const char *topic, int32_t partition, int64_t offset)
{
	/* Called per message, and messages come in runs of one partition. */
	owned_partition *p = o->last_seen < o->n_parts ? &o->parts[o->last_seen] : NULL;

	if (!p || p->partition != partition || strcmp(p->topic, topic) != 0) {
		p = ownership_find(o, topic, partition);
		o->last_seen = p ? (size_t)(p - o->parts) : 0;
	}

	if (!p)
		return false;
	if (offset < p->seen_through)
		return true;
	p->seen_through = offset + 1;
	return false;
}

size_t ownership_started(const ownership *o)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n_parts; i++)
		n += o->parts[i].started;
	return n;
}

const char *ownership_instance(const ownership *o)
{
	return o->instance;
}
