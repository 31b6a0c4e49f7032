/*
 * kafka.c - librdkafka clients on the libevent loop (see kafka.h).
 *
 * Loop integration: the consumer queue writes a byte into a pipe when it
 * goes from empty to non-empty (rd_kafka_queue_io_event_enable); the loop
 * reads the pipe and calls the wake callback. A slower timer wakes the
 * caller too, in case the queue filled while the caller was busy and no new
 * edge came. The roster reader and the producer are served by timers.
 *
 * librdkafka's log lines and errors are sent to the rd_kafka main queue and
 * logged from the loop through log.h, rate-limited like every other line.
 */
#include "kafka.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "log.h"

#define KAFKA_ROSTER_POLL_MS 100
#define KAFKA_PRODUCER_POLL_MS 50
#define KAFKA_WAKE_MS 100 /* consumer polled at least this often */
#define KAFKA_ROSTER_BATCH 10000
#define KAFKA_MAX_INPUTS 64
#define KAFKA_STATS_INTERVAL_MS "5000"
#define KAFKA_MAX_OUTPUT_TOPICS 16

/*
 * Broker connection state of one client, the first member of every client
 * struct here: the client struct is the opaque of its rd_kafka_t, so the
 * error and statistics callbacks reach the state through it.
 */
typedef struct kafka_link {
	int connected;               /* -1 unknown, 0 no broker up, 1 some broker up */
} kafka_link;

/* ------------------------------------------------------------ shared setup */

static int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                          char *errstr, size_t errstr_size)
{
	char err[256];
	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		snprintf(errstr, errstr_size, "kafka property %s: %s", name, err);
		return -1;
	}
	return 0;
}

/* Sets name to value unless kafka.properties sets it. */
static int kafka_conf_default(rd_kafka_conf_t *conf, const config *cfg, const char *name,
                              const char *value, char *errstr, size_t errstr_size)
{
	for (size_t i = 0; i < cfg->kafka.n_properties; i++)
		if (strcmp(cfg->kafka.properties[i].key, name) == 0)
			return 0;
	return kafka_conf_set(conf, name, value, errstr, errstr_size);
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	log_level lvl = level <= 3 ? LOG_LEVEL_ERROR : level <= 4 ? LOG_LEVEL_WARN :
	                level <= 6 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
	log_write(lvl, "librdkafka", fac, "client=%s detail=\"%s\"", rd_kafka_name(rk), buf);
}

static void kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	kafka_link *link = opaque;

	if (link && err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		link->connected = 0;
	log_warn("kafka", "client error", "client=%s error=%s detail=\"%s\"", rd_kafka_name(rk),
	         rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* True when a broker of the statistics JSON is a real broker in state UP. */
static bool kafka_stats_broker_up(json_t *broker)
{
	const char *source = json_string_value(json_object_get(broker, "source"));
	const char *state = json_string_value(json_object_get(broker, "state"));

	/* "internal" and "logical" brokers are librdkafka's own placeholders. */
	if (!source || !state || strcmp(source, "internal") == 0 || strcmp(source, "logical") == 0)
		return false;
	return strcmp(state, "UP") == 0;
}

/*
 * librdkafka's statistics (every statistics.interval.ms) give the state of
 * each broker connection: the client is connected while one of them is UP.
 * Runs where the client's queue is served, the loop thread.
 */
static int kafka_stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
	kafka_link *link = opaque;
	json_t *root = json_loadb(json, json_len, 0, NULL);
	json_t *brokers = root ? json_object_get(root, "brokers") : NULL;
	const char *name;
	json_t *broker;
	int up = 0;

	if (link && json_is_object(brokers)) {
		json_object_foreach(brokers, name, broker)
			up |= kafka_stats_broker_up(broker);
		link->connected = up;
	}
	json_decref(root);
	return 0;   /* librdkafka frees json */
}

/* A conf with the bootstrap servers, the pass-through properties and routed logs. */
static rd_kafka_conf_t *kafka_conf_new(const config *cfg, const char *client_suffix,
                                       char *errstr, size_t errstr_size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char client_id[128];

	snprintf(client_id, sizeof(client_id), "advocacyd-%s", client_suffix);
	if (kafka_conf_set(conf, "bootstrap.servers", cfg->kafka.bootstrap_servers, errstr,
	                   errstr_size) < 0 ||
	    kafka_conf_set(conf, "client.id", client_id, errstr, errstr_size) < 0 ||
	    kafka_conf_set(conf, "log.queue", "true", errstr, errstr_size) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->kafka.n_properties; i++)
		if (kafka_conf_set(conf, cfg->kafka.properties[i].key, cfg->kafka.properties[i].value,
		                   errstr, errstr_size) < 0)
			goto fail;
	if (kafka_conf_default(conf, cfg, "statistics.interval.ms", KAFKA_STATS_INTERVAL_MS,
	                       errstr, errstr_size) < 0)
		goto fail;
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	rd_kafka_conf_set_stats_cb(conf, kafka_stats_cb);
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

static rd_kafka_t *kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr,
                                    size_t errstr_size)
{
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));

	if (!rk) {
		snprintf(errstr, errstr_size, "cannot create Kafka client: %s", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	/* Log lines go to the main queue and are served where the loop polls it. */
	rd_kafka_set_log_queue(rk, NULL);
	return rk;
}

static void kafka_fill_message(const rd_kafka_message_t *m, kafka_message *out)
{
	rd_kafka_timestamp_type_t tstype;

	out->topic = rd_kafka_topic_name(m->rkt);
	out->partition = m->partition;
	out->offset = m->offset;
	out->timestamp_ms = rd_kafka_message_timestamp(m, &tstype);
	out->key = m->key;
	out->key_len = m->key_len;
	out->payload = m->payload;
	out->len = m->len;
	out->format = INPUT_FORMAT_AVRO;
	out->input = SIZE_MAX;
}

/* ------------------------------------------------------------ consumer */

struct kafka_consumer {
	kafka_link link;             /* first: the rd_kafka_t's opaque */
	const config *cfg;
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue;
	int pipe_fds[2];
	struct event *pipe_event;
	struct event *wake_timer;
	kafka_wake_cb wake;
	kafka_partitions_cb on_assign;
	kafka_partitions_cb on_revoke;
	void *opaque;
	rd_kafka_topic_partition_list_t *pending; /* given by the group, not yet started */
	size_t assigned;
};

static void kafka_count_assignment(kafka_consumer *c)
{
	rd_kafka_topic_partition_list_t *list = NULL;

	if (rd_kafka_assignment(c->rk, &list) == RD_KAFKA_RESP_ERR_NO_ERROR && list) {
		c->assigned = (size_t)list->cnt;
		rd_kafka_topic_partition_list_destroy(list);
	}
}

static void kafka_log_partitions(const char *what, rd_kafka_topic_partition_list_t *parts)
{
	for (int i = 0; i < parts->cnt; i++)
		log_info("source", what, "topic=%s partition=%" PRId32, parts->elems[i].topic,
		         parts->elems[i].partition);
}

/* Hands the partitions of a rebalance event to cb as kafka_offsets (offset -1). */
static void kafka_report_partitions(kafka_consumer *c, kafka_partitions_cb cb,
                                    const rd_kafka_topic_partition_list_t *parts)
{
	kafka_offset *offsets = calloc((size_t)parts->cnt + 1, sizeof(*offsets));

	if (!offsets) {
		log_error("source", "out of memory reporting a rebalance", "partitions=%d", parts->cnt);
		return;
	}
	for (int i = 0; i < parts->cnt; i++)
		offsets[i] = (kafka_offset){ parts->elems[i].topic, parts->elems[i].partition, -1 };
	cb(offsets, (size_t)parts->cnt, c->opaque);
	free(offsets);
}

/* The subset of parts that is currently assigned (started). */
static rd_kafka_topic_partition_list_t *kafka_started_subset(kafka_consumer *c,
                                                             const rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *assigned = NULL, *out;

	out = rd_kafka_topic_partition_list_new(parts->cnt);
	if (rd_kafka_assignment(c->rk, &assigned) || !assigned)
		return out;
	for (int i = 0; i < parts->cnt; i++)
		if (rd_kafka_topic_partition_list_find(assigned, parts->elems[i].topic,
		                                       parts->elems[i].partition))
			rd_kafka_topic_partition_list_add(out, parts->elems[i].topic,
			                                  parts->elems[i].partition);
	rd_kafka_topic_partition_list_destroy(assigned);
	return out;
}

static void kafka_forget_pending(kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
	for (int i = 0; i < parts->cnt; i++)
		rd_kafka_topic_partition_list_del(c->pending, parts->elems[i].topic,
		                                  parts->elems[i].partition);
}

static void kafka_log_rebalance_error(rd_kafka_error_t *error, rd_kafka_resp_err_t err)
{
	if (error) {
		log_error("source", "rebalance failed", "error=\"%s\"", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	} else if (err) {
		log_error("source", "rebalance failed", "error=%s", rd_kafka_err2name(err));
	}
}

/*
 * Assigned partitions are not started here: the app first claims them in
 * Redis and then starts them at the offsets stored there
 * (kafka_consumer_start_at). librdkafka allows the assign call to come
 * later than the rebalance callback.
 */
static void kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	kafka_consumer *c = opaque;
	bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t ret = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		kafka_log_partitions("partition assigned", parts);
		if (!cooperative) {
			rd_kafka_topic_partition_list_destroy(c->pending);
			c->pending = rd_kafka_topic_partition_list_new(parts->cnt);
		}
		for (int i = 0; i < parts->cnt; i++)
			rd_kafka_topic_partition_list_add(c->pending, parts->elems[i].topic,
			                                  parts->elems[i].partition);
		kafka_report_partitions(c, c->on_assign, parts);
	} else {
		kafka_log_partitions(rd_kafka_assignment_lost(rk) ? "partition lost"
		                                                  : "partition revoked", parts);
		kafka_forget_pending(c, parts);
		if (cooperative) {
			rd_kafka_topic_partition_list_t *started = kafka_started_subset(c, parts);
			if (started->cnt)
				error = rd_kafka_incremental_unassign(rk, started);
			rd_kafka_topic_partition_list_destroy(started);
		} else {
			ret = rd_kafka_assign(rk, NULL);
		}
		kafka_report_partitions(c, c->on_revoke, parts);
	}
	kafka_log_rebalance_error(error, ret);
	kafka_count_assignment(c);
}

static void kafka_consumer_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	kafka_consumer *c = arg;
	char drain[64];

	while (read(fd, drain, sizeof(drain)) > 0)
		;
	c->wake(c->opaque);
}

static void kafka_consumer_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	kafka_consumer *c = arg;
	c->wake(c->opaque);
}

static int kafka_consumer_subscribe(kafka_consumer *c, char *errstr, size_t errstr_size)
{
	rd_kafka_topic_partition_list_t *topics =
		rd_kafka_topic_partition_list_new((int)c->cfg->kafka.n_inputs);

	for (size_t i = 0; i < c->cfg->kafka.n_inputs; i++)
		rd_kafka_topic_partition_list_add(topics, c->cfg->kafka.inputs[i].topic,
		                                  RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (err) {
		snprintf(errstr, errstr_size, "cannot subscribe to the input topics: %s",
		         rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

static int kafka_consumer_wire(kafka_consumer *c, struct event_base *base, char *errstr,
                               size_t errstr_size)
{
	/* A fallback: the queue's wake-up fires when it becomes non-empty only. */
	struct timeval tv = { 0, KAFKA_WAKE_MS * 1000 };

	if (pipe(c->pipe_fds) < 0) {
		snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++)
		fcntl(c->pipe_fds[i], F_SETFL, fcntl(c->pipe_fds[i], F_GETFL) | O_NONBLOCK);
	c->queue = rd_kafka_queue_get_consumer(c->rk);
	rd_kafka_queue_io_event_enable(c->queue, c->pipe_fds[1], "1", 1);
	c->pipe_event = event_new(base, c->pipe_fds[0], EV_READ | EV_PERSIST,
	                          kafka_consumer_pipe_cb, c);
	c->wake_timer = event_new(base, -1, EV_PERSIST, kafka_consumer_timer_cb, c);
	if (!c->pipe_event || !c->wake_timer) {
		snprintf(errstr, errstr_size, "cannot create consumer events");
		return -1;
	}
	event_add(c->pipe_event, NULL);
	event_add(c->wake_timer, &tv);
	return 0;
}

kafka_consumer *kafka_consumer_new(struct event_base *base, const config *cfg,
                                   const kafka_consumer_callbacks *cbs,
                                   char *errstr, size_t errstr_size)
{
	char prefetch[32];

	kafka_consumer *c = calloc(1, sizeof(*c));
	rd_kafka_conf_t *conf;

	if (!c) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	c->link.connected = -1;
	c->cfg = cfg;
	c->wake = cbs->wake;
	c->on_assign = cbs->on_assign;
	c->on_revoke = cbs->on_revoke;
	c->opaque = cbs->opaque;
	c->pipe_fds[0] = c->pipe_fds[1] = -1;
	c->pending = rd_kafka_topic_partition_list_new(16);
	snprintf(prefetch, sizeof(prefetch), "%d", cfg->kafka.max_prefetch_kbytes);

	conf = kafka_conf_new(cfg, "consumer", errstr, errstr_size);
	if (!conf || kafka_conf_set(conf, "group.id", cfg->kafka.group_id, errstr, errstr_size) ||
	    kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
	    kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) ||
	    kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, errstr_size) ||
	    kafka_conf_default(conf, cfg, "queued.max.messages.kbytes", prefetch, errstr,
	                       errstr_size)) {
		if (conf)
			rd_kafka_conf_destroy(conf);
		rd_kafka_topic_partition_list_destroy(c->pending);
		free(c);
		return NULL;
	}
	/* Pass-through properties win over the defaults above. */
	for (size_t i = 0; i < cfg->kafka.n_properties; i++)
		if (strcmp(cfg->kafka.properties[i].key, "auto.offset.reset") == 0)
			kafka_conf_set(conf, "auto.offset.reset", cfg->kafka.properties[i].value,
			               errstr, errstr_size);
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance_cb);

	c->rk = kafka_client_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
	if (!c->rk) {
		rd_kafka_topic_partition_list_destroy(c->pending);
		free(c);
		return NULL;
	}
	rd_kafka_poll_set_consumer(c->rk);
	if (kafka_consumer_subscribe(c, errstr, errstr_size) < 0 ||
	    kafka_consumer_wire(c, base, errstr, errstr_size) < 0) {
		kafka_consumer_free(c);
		return NULL;
	}
	return c;
}

void kafka_consumer_free(kafka_consumer *c)
{
	if (!c)
		return;
	if (c->pipe_event)
		event_free(c->pipe_event);
	if (c->wake_timer)
		event_free(c->wake_timer);
	if (c->queue) {
		rd_kafka_queue_io_event_enable(c->queue, -1, NULL, 0);
		rd_kafka_queue_destroy(c->queue);
	}
	if (c->rk) {
		rd_kafka_consumer_close(c->rk);
		rd_kafka_destroy(c->rk);
	}
	for (int i = 0; i < 2; i++)
		if (c->pipe_fds[i] >= 0)
			close(c->pipe_fds[i]);
	rd_kafka_topic_partition_list_destroy(c->pending);
	free(c);
}

/* Sets the input index and format of m from its topic; other topics are read as Avro. */
static void kafka_input_format(const kafka_consumer *c, kafka_message *m)
{
	for (size_t i = 0; i < c->cfg->kafka.n_inputs; i++) {
		if (strcmp(c->cfg->kafka.inputs[i].topic, m->topic) == 0) {
			m->format = c->cfg->kafka.inputs[i].format;
			m->input = i;
			return;
		}
	}
}

static void kafka_consumer_error(const rd_kafka_message_t *m)
{
	log_warn("source", "consumer error", "topic=%s partition=%" PRId32 " error=%s detail=\"%s\"",
	         m->rkt ? rd_kafka_topic_name(m->rkt) : "-", m->partition, rd_kafka_err2name(m->err),
	         rd_kafka_message_errstr(m));
}

size_t kafka_consumer_poll(kafka_consumer *c, size_t max, kafka_message_cb cb, void *opaque)
{
	rd_kafka_message_t *msgs[1024];
	size_t done = 0;

	while (done < max) {
		size_t want = max - done < 1024 ? max - done : 1024;
		ssize_t n = rd_kafka_consume_batch_queue(c->queue, 0, msgs, want);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			kafka_message km;
			if (msgs[i]->err) {
				if (msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
					kafka_consumer_error(msgs[i]);
			} else {
				kafka_fill_message(msgs[i], &km);
				kafka_input_format(c, &km);
				cb(&km, opaque);
				done++;
			}
			rd_kafka_message_destroy(msgs[i]);
		}
		if ((size_t)n < want)
			break;
	}
	return done;
}

static rd_kafka_topic_partition_list_t *kafka_offset_list(const kafka_offset *offsets, size_t n)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(list, offsets[i].topic, offsets[i].partition)->offset =
			offsets[i].offset;
	return list;
}

int kafka_consumer_commit(kafka_consumer *c, const kafka_offset *offsets, size_t n, bool sync)
{
	if (n == 0)
		return 0;
	rd_kafka_topic_partition_list_t *list = kafka_offset_list(offsets, n);
	rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, list, sync ? 0 : 1);
	rd_kafka_topic_partition_list_destroy(list);
	if (err) {
		log_warn("source", "offset commit failed; the offsets are also stored in Redis, "
		         "so the batch is not counted twice", "error=%s", rd_kafka_err2name(err));
		return -1;
	}
	return 0;
}

int kafka_consumer_seek(kafka_consumer *c, const kafka_offset *offsets, size_t n)
{
	if (n == 0)
		return 0;
	rd_kafka_topic_partition_list_t *list = kafka_offset_list(offsets, n);
	rd_kafka_error_t *error = rd_kafka_seek_partitions(c->rk, list, 0);
	int rc = 0;

	if (error) {
		log_warn("source", "seek failed", "error=\"%s\"", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		rc = -1;
	}
	for (int i = 0; i < list->cnt; i++) {
		/* With no timeout the seek completes asynchronously: in progress is success. */
		if (list->elems[i].err && list->elems[i].err != RD_KAFKA_RESP_ERR__IN_PROGRESS) {
			log_warn("source", "seek failed for a partition", "topic=%s partition=%" PRId32
			         " error=%s", list->elems[i].topic, list->elems[i].partition,
			         rd_kafka_err2name(list->elems[i].err));
			rc = -1;
		}
	}
	rd_kafka_topic_partition_list_destroy(list);
	return rc;
}

/* Starts the pending partitions among offsets; returns how many it started. */
static int kafka_start_pending(kafka_consumer *c, const kafka_offset *offsets, size_t n)
{
	bool cooperative = strcmp(rd_kafka_rebalance_protocol(c->rk), "COOPERATIVE") == 0;
	rd_kafka_topic_partition_list_t *start = rd_kafka_topic_partition_list_new((int)n);
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	int started;

	for (size_t i = 0; i < n; i++) {
		if (!rd_kafka_topic_partition_list_find(c->pending, offsets[i].topic,
		                                        offsets[i].partition))
			continue;
		rd_kafka_topic_partition_list_add(start, offsets[i].topic, offsets[i].partition)
			->offset = offsets[i].offset >= 0 ? offsets[i].offset : RD_KAFKA_OFFSET_INVALID;
	}
	started = start->cnt;
	if (started) {
		kafka_forget_pending(c, start);
		if (cooperative)
			error = rd_kafka_incremental_assign(c->rk, start);
		else
			err = rd_kafka_assign(c->rk, start);
		kafka_log_rebalance_error(error, err);
		kafka_count_assignment(c);
	}
	rd_kafka_topic_partition_list_destroy(start);
	return started;
}

int kafka_consumer_start_at(kafka_consumer *c, const kafka_offset *offsets, size_t n)
{
	kafka_offset *seek = calloc(n + 1, sizeof(*seek));
	rd_kafka_topic_partition_list_t *assigned = NULL;
	size_t n_seek = 0;
	int rc;

	if (!seek)
		return -1;
	/* Partitions already started (a claim taken back) move to the stored offset. */
	if (rd_kafka_assignment(c->rk, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR && assigned) {
		for (size_t i = 0; i < n; i++)
			if (offsets[i].offset >= 0 &&
			    rd_kafka_topic_partition_list_find(assigned, offsets[i].topic,
			                                       offsets[i].partition))
				seek[n_seek++] = offsets[i];
		rd_kafka_topic_partition_list_destroy(assigned);
	}
	kafka_start_pending(c, offsets, n);
	rc = kafka_consumer_seek(c, seek, n_seek);
	free(seek);
	return rc;
}

size_t kafka_consumer_assigned(const kafka_consumer *c)
{
	return c->assigned;
}

bool kafka_consumer_caught_up(kafka_consumer *c)
{
	rd_kafka_topic_partition_list_t *list = NULL;
	bool caught_up = true;

	if (rd_kafka_assignment(c->rk, &list) || !list)
		return false;
	if (list->cnt == 0 || rd_kafka_position(c->rk, list))
		caught_up = false;
	for (int i = 0; i < list->cnt && caught_up; i++) {
		int64_t low, high;
		const rd_kafka_topic_partition_t *p = &list->elems[i];
		if (rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &low, &high))
			caught_up = false;
		else if (high > low && p->offset < high)
			caught_up = false;
	}
	rd_kafka_topic_partition_list_destroy(list);
	return caught_up;
}

void kafka_consumer_each_lag(kafka_consumer *c, kafka_lag_cb cb, void *opaque)
{
	rd_kafka_topic_partition_list_t *list = NULL;

	if (rd_kafka_assignment(c->rk, &list) || !list)
		return;
	if (rd_kafka_position(c->rk, list) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		for (int i = 0; i < list->cnt; i++) {
			const rd_kafka_topic_partition_t *p = &list->elems[i];
			int64_t low, high;
			/* Cached values from the last fetch: no broker round trip. */
			if (p->offset < 0 || rd_kafka_get_watermark_offsets(c->rk, p->topic,
			                                                     p->partition, &low, &high))
				continue;
			if (high >= 0)
				cb(p->topic, p->partition, high > p->offset ? high - p->offset : 0, opaque);
		}
	}
	rd_kafka_topic_partition_list_destroy(list);
}

int kafka_consumer_connected(const kafka_consumer *c)
{
	return c->link.connected;
}

/* ------------------------------------------------------------ roster */

struct kafka_roster {
	kafka_link link;             /* first: the rd_kafka_t's opaque */
	const config *cfg;
	rd_kafka_t *rk;
	kafka_message_cb cb;
	void *opaque;
	struct event *timer;
	int n_partitions;
	bool *at_end;
	bool loaded;
};

/* Returns 1 when every partition has reached its end at least once. */
static int kafka_roster_all_at_end(kafka_roster *r)
{
	for (int i = 0; i < r->n_partitions; i++)
		if (!r->at_end[i])
			return 0;
	return 1;
}

static size_t kafka_roster_poll(kafka_roster *r, int timeout_ms)
{
	size_t n = 0;
	rd_kafka_message_t *m;

	rd_kafka_poll(r->rk, 0); /* serves the log queue */
	while (n < KAFKA_ROSTER_BATCH && (m = rd_kafka_consumer_poll(r->rk, timeout_ms))) {
		timeout_ms = 0;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (m->partition >= 0 && m->partition < r->n_partitions)
				r->at_end[m->partition] = true;
		} else if (m->err) {
			kafka_consumer_error(m);
		} else {
			kafka_message km;
			kafka_fill_message(m, &km);
			r->cb(&km, r->opaque);
			n++;
		}
		rd_kafka_message_destroy(m);
	}
	if (!r->loaded && kafka_roster_all_at_end(r))
		r->loaded = true;
	return n;
}

static void kafka_roster_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	kafka_roster_poll(arg, 0);
}

/* Returns the topic's partition count, or -1 with errstr naming the config key to fix. */
static int kafka_partition_count(rd_kafka_t *rk, const char *topic, const char *config_key,
                                 char *errstr, size_t errstr_size)
{
	const rd_kafka_metadata_t *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
	int n = -1;

	if (err) {
		snprintf(errstr, errstr_size, "cannot read metadata of topic %s: %s",
		         topic, rd_kafka_err2str(err));
	} else if (md->topic_cnt != 1 || md->topics[0].err) {
		snprintf(errstr, errstr_size, "topic %s: %s; create it or fix %s", topic,
		         md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found",
		         config_key);
	} else {
		n = md->topics[0].partition_cnt;
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return n;
}

kafka_roster *kafka_roster_new(struct event_base *base, const config *cfg,
                               kafka_message_cb cb, void *opaque,
                               char *errstr, size_t errstr_size)
{
	kafka_roster *r = calloc(1, sizeof(*r));
	char group[256];
	struct timeval tv = { 0, KAFKA_ROSTER_POLL_MS * 1000 };

	if (!r) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	r->link.connected = -1;
	r->cfg = cfg;
	r->cb = cb;
	r->opaque = opaque;
	/* A group id is required by the consumer API; nothing is ever committed to it. */
	snprintf(group, sizeof(group), "%s.roster", cfg->kafka.group_id);
	rd_kafka_conf_t *conf = kafka_conf_new(cfg, "roster", errstr, errstr_size);
	if (!conf || kafka_conf_set(conf, "group.id", group, errstr, errstr_size) ||
	    kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
	    kafka_conf_set(conf, "enable.partition.eof", "true", errstr, errstr_size)) {
		if (conf)
			rd_kafka_conf_destroy(conf);
		free(r);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, r);
	r->rk = kafka_client_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
	if (!r->rk) {
		free(r);
		return NULL;
	}
	r->n_partitions = kafka_partition_count(r->rk, cfg->kafka.roster_topic, "kafka.roster_topic",
	                                        errstr, errstr_size);
	if (r->n_partitions < 0) {
		kafka_roster_free(r);
		return NULL;
	}
	r->at_end = calloc((size_t)r->n_partitions + 1, sizeof(*r->at_end));
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(r->n_partitions);
	for (int i = 0; i < r->n_partitions; i++)
		rd_kafka_topic_partition_list_add(parts, cfg->kafka.roster_topic, i)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_resp_err_t err = rd_kafka_assign(r->rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	r->timer = event_new(base, -1, EV_PERSIST, kafka_roster_timer_cb, r);
	if (err || !r->at_end || !r->timer) {
		snprintf(errstr, errstr_size, "cannot assign roster topic %s: %s",
		         cfg->kafka.roster_topic, rd_kafka_err2str(err));
		kafka_roster_free(r);
		return NULL;
	}
	event_add(r->timer, &tv);
	return r;
}

void kafka_roster_free(kafka_roster *r)
{
	if (!r)
		return;
	if (r->timer)
		event_free(r->timer);
	if (r->rk) {
		rd_kafka_consumer_close(r->rk);
		rd_kafka_destroy(r->rk);
	}
	free(r->at_end);
	free(r);
}

int kafka_roster_load(kafka_roster *r, int timeout_ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!r->loaded) {
		kafka_roster_poll(r, 100);
		clock_gettime(CLOCK_MONOTONIC, &now);
		long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed > timeout_ms)
			return -1;
	}
	return 0;
}

bool kafka_roster_loaded(const kafka_roster *r)
{
	return r->loaded;
}

int kafka_roster_connected(const kafka_roster *r)
{
	return r->link.connected;
}

/* ------------------------------------------------------------ producer */

struct kafka_producer {
	kafka_link link;             /* first: the rd_kafka_t's opaque */
	rd_kafka_t *rk;
	struct event *timer;
	kafka_producer_stats stats;
	kafka_topic_count failures[KAFKA_MAX_OUTPUT_TOPICS];
	size_t n_failure_topics;
};

/*
 * Counts a failed record for its topic. Called on failures only, so the
 * string compares cost nothing on the normal path. The output topics are
 * a few configured names; failures of further topics count in stats only.
 */
static void kafka_count_failure(kafka_producer *p, const char *topic)
{
	size_t i;

	p->stats.failed++;
	for (i = 0; i < p->n_failure_topics; i++)
		if (strcmp(p->failures[i].topic, topic) == 0)
			break;
	if (i == p->n_failure_topics) {
		if (i == KAFKA_MAX_OUTPUT_TOPICS)
			return;
		snprintf(p->failures[i].topic, sizeof(p->failures[i].topic), "%s", topic);
		p->n_failure_topics++;
	}
	p->failures[i].count++;
}

static void kafka_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	kafka_producer *p = opaque;
	size_t *in_flight = m->_private;

	if (in_flight)
		(*in_flight)--;
	if (m->err) {
		kafka_count_failure(p, rd_kafka_topic_name(m->rkt));
		log_error("sink", "delivery failed; the record is lost for this topic",
		          "topic=%s partition=%" PRId32 " error=%s", rd_kafka_topic_name(m->rkt),
		          m->partition, rd_kafka_err2name(m->err));
	} else {
		p->stats.delivered++;
	}
}

static void kafka_producer_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	kafka_producer *p = arg;
	rd_kafka_poll(p->rk, 0);
}

kafka_producer *kafka_producer_new(struct event_base *base, const config *cfg,
                                   char *errstr, size_t errstr_size)
{
	kafka_producer *p = calloc(1, sizeof(*p));
	struct timeval tv = { 0, KAFKA_PRODUCER_POLL_MS * 1000 };
	char queue_max[32];

	if (!p) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	p->link.connected = -1;
	snprintf(queue_max, sizeof(queue_max), "%d", cfg->outputs.max_queued_messages);
	rd_kafka_conf_t *conf = kafka_conf_new(cfg, "producer", errstr, errstr_size);
	if (!conf || kafka_conf_set(conf, "enable.idempotence", "true", errstr, errstr_size) ||
	    kafka_conf_set(conf, "linger.ms", "20", errstr, errstr_size) ||
	    kafka_conf_default(conf, cfg, "queue.buffering.max.messages", queue_max, errstr,
	                       errstr_size)) {
		if (conf)
			rd_kafka_conf_destroy(conf);
		free(p);
		return NULL;
	}
	rd_kafka_conf_set_opaque(conf, p);
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_delivery_cb);
	p->rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
	p->timer = p->rk ? event_new(base, -1, EV_PERSIST, kafka_producer_timer_cb, p) : NULL;
	if (!p->timer) {
		if (p->rk)
			rd_kafka_destroy(p->rk);
		free(p);
		return NULL;
	}
	event_add(p->timer, &tv);
	return p;
}

int kafka_producer_flush(kafka_producer *p, int timeout_ms)
{
	return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

size_t kafka_producer_backlog(const kafka_producer *p)
{
	int n = rd_kafka_outq_len(p->rk);
	return n > 0 ? (size_t)n : 0;
}

void kafka_producer_free(kafka_producer *p, int timeout_ms)
{
	if (!p)
		return;
	rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);
	if (err)
		log_error("sink", "records not delivered before shutdown", "outstanding=%d error=%s",
		          rd_kafka_outq_len(p->rk), rd_kafka_err2name(err));
	event_free(p->timer);
	rd_kafka_destroy(p->rk);
	free(p);
}

static int kafka_producer_produce(kafka_producer *p, const char *topic, int32_t partition,
                                  const void *key, size_t key_len, const void *value, size_t len,
                                  const kafka_header *headers, size_t n_headers,
                                  size_t *in_flight)
{
	rd_kafka_headers_t *hdrs = n_headers ? rd_kafka_headers_new(n_headers) : NULL;
	rd_kafka_resp_err_t err;

	for (size_t i = 0; i < n_headers; i++)
		rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value, -1);
	for (int attempt = 0;; attempt++) {
		err = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
		                        RD_KAFKA_V_KEY((void *)key, key_len),
		                        RD_KAFKA_V_VALUE((void *)value, len),
		                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(in_flight),
		                        RD_KAFKA_V_END);
		/* A full local queue drains as deliveries complete: wait briefly, then give up. */
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || attempt >= 50)
			break;
		rd_kafka_poll(p->rk, 100);
	}
	if (err) {
		if (hdrs)
			rd_kafka_headers_destroy(hdrs);
		kafka_count_failure(p, topic);
		log_error("sink", "cannot queue record", "topic=%s error=%s", topic,
		          rd_kafka_err2name(err));
		return -1;
	}
	p->stats.sent++;
	if (in_flight)
		(*in_flight)++;
	return 0;
}

int kafka_producer_send(kafka_producer *p, const char *topic, const void *key, size_t key_len,
                        const void *value, size_t len, const kafka_header *headers,
                        size_t n_headers, size_t *in_flight)
{
	return kafka_producer_produce(p, topic, RD_KAFKA_PARTITION_UA, key, key_len, value, len,
	                              headers, n_headers, in_flight);
}

int kafka_producer_send_to(kafka_producer *p, const char *topic, int32_t partition,
                           const void *key, size_t key_len, const void *value, size_t len)
{
	return kafka_producer_produce(p, topic, partition, key, key_len, value, len, NULL, 0, NULL);
}

int kafka_producer_partitions(kafka_producer *p, const char *topic, const char *config_key,
                              char *errstr, size_t errstr_size)
{
	return kafka_partition_count(p->rk, topic, config_key, errstr, errstr_size);
}

const kafka_producer_stats *kafka_producer_get_stats(const kafka_producer *p)
{
	return &p->stats;
}

size_t kafka_producer_failures(const kafka_producer *p, const kafka_topic_count **counts)
{
	*counts = p->failures;
	return p->n_failure_topics;
}

int kafka_producer_connected(const kafka_producer *p)
{
	return p->link.connected;
}
