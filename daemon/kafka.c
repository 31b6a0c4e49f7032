/*
 * kafka.c - librdkafka clients on the libevent loop (see kafka.h).
 *
 * Loop integration: the consumer queue and each partition's queue write a
 * byte into a pipe when they go from empty to non-empty
 * (rd_kafka_queue_io_event_enable). The loop reads the pipe, moves the
 * queued messages into the consumer's input buffer and calls the wake
 * callback. A slower timer does the same, in case a queue filled while the
 * buffer was full and no new edge came. The roster
 * reader and the producer are served by timers.
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

#include "inbuf.h"
#include "log.h"

#define KAFKA_ROSTER_POLL_MS 100
#define KAFKA_PRODUCER_POLL_MS 50
#define KAFKA_WAKE_MS 100 /* consumer polled at least this often */
#define KAFKA_ROSTER_BATCH 10000
#define KAFKA_MAX_INPUTS 64
#define KAFKA_STATS_INTERVAL_MS "5000"
#define KAFKA_MAX_OUTPUT_TOPICS 16
#define KAFKA_DRAIN_BATCH 512  /* messages taken from librdkafka per call */
#define KAFKA_KICK_DELAY_MS 5  /* an empty queue waits this long for a fetch in flight */
#define KAFKA_MAX_PARTS 65535  /* partitions the input buffer can tell apart */
/*
 * librdkafka's queue of each partition, in front of the input buffer (see
 * kafka_consumer_conf): 1/KAFKA_QUEUED_SHARE of the buffer's budget and 4
 * messages per KiB of that, within these bounds: at the default budget of
 * 16 MiB, 256 KiB and 1024 messages. That is room for a partition's next
 * fetch while the last one is being taken: a partition whose queue is
 * full is left out of the next fetch, and a fetch that finds no new data
 * waits fetch.wait.max.ms. Partitions with a backlog fill their queues
 * only in their fetch turn (see "Fetch turns"). librdkafka keeps about
 * 700 bytes per queued message besides the payload.
 */
#define KAFKA_QUEUED_SHARE 64
#define KAFKA_QUEUED_MIN_MESSAGES 80
#define KAFKA_QUEUED_MAX_MESSAGES 5120
#define KAFKA_QUEUED_MIN_KBYTES 16
#define KAFKA_QUEUED_MAX_KBYTES 1024
/*
 * fetch.max.bytes: a quarter of the budget within these bounds, and at
 * least message.max.bytes, below which librdkafka does not start (that
 * may be raised in kafka.properties, which every client gets).
 */
#define KAFKA_FETCH_MIN_BYTES 1048576
#define KAFKA_FETCH_MAX_BYTES 8388608
#define KAFKA_PARTITION_FETCH_BYTES "262144"
/*
 * fetch.wait.max.ms, 500 in librdkafka. A broker keeps a fetch that finds
 * no new data for that long, and the consumer sends no other fetch to that
 * broker meanwhile. Once some partitions have reached their end and the
 * others wait for the input buffer, the next fetch is for the former
 * only. The latter then waited for it, and the last batch of a 100k-event
 * catch-up came up to 400 ms late.
 */
#define KAFKA_FETCH_WAIT_MS "100"

/*
 * Fetch turns (see "Fetch turns" below): what one fetch of a partition is
 * taken to bring until one has been seen, the default batch.size of a
 * librdkafka producer, unless max.partition.fetch.bytes is larger.
 */
#define KAFKA_TURN_FIRST_CHARGE 1048576
#define KAFKA_TURN_MIN_SLOTS 4  /* partitions with a backlog fetching at once, at least */
/*
 * A lag above 1/KAFKA_TURN_BACKLOG_SHARE of queued.min.messages is a
 * backlog. Partitions below it are not parked while the app keeps up: 256
 * messages each by default.
 */
#define KAFKA_TURN_BACKLOG_SHARE 4
#define KAFKA_TURN_IDLE_MS 200  /* a turn that brings nothing ends after this */

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

static int64_t kafka_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A partition of an input topic, as the input buffer numbers them. */
typedef struct kafka_part {
	char *topic;
	int32_t partition;
	size_t input;                /* index in kafka.inputs; SIZE_MAX for other topics */
	input_format format;
	bool placed;                 /* next_offset is known (see kafka_part_place) */
	int64_t next_offset;         /* after the last message taken, or where started or moved */
	rd_kafka_queue_t *queue;     /* librdkafka's queue of the partition; NULL: none */
	size_t took_msgs, took_bytes; /* taken since that queue was last empty */
	bool started;                /* assigned and started (kafka_start_pending) */
	bool parked;                 /* paused until its next fetch turn */
	uint64_t parked_seq;         /* order of parking: breaks ties in kafka_next_parked */
	size_t turn_bytes;           /* taken since its turn began */
	int64_t turn_began_us;       /* when it was last resumed or started */
	int64_t parked_us;           /* when it was parked */
	int64_t parked_lag;          /* its lag then, in messages; -1: unknown */
	uint64_t taken_msgs, taken_bytes; /* taken from its queue in all */
	size_t fetch_bytes;          /* most taken between two empty queues; 0: none yet */
} kafka_part;

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

	/* The input buffer (see "Input buffer" below). */
	inbuf *buf;
	kafka_part *parts;           /* every partition that has had a message */
	size_t n_parts, parts_cap;
	size_t last_part;            /* where the previous message's lookup ended */
	rd_kafka_message_t *held[KAFKA_DRAIN_BATCH]; /* taken, not yet in buf */
	long held_part[KAFKA_DRAIN_BATCH]; /* their numbers in parts; -1: none */
	size_t held_first, held_n;
	size_t queue_max_msgs;       /* librdkafka's queued.min.messages */
	size_t queue_max_bytes;      /* and queued.max.messages.kbytes, in bytes */
	size_t take_next;            /* the part whose queue the next take tries first */
	bool kick_due;               /* a queue was emptied after reaching half its limits */
	struct event *kick_timer;    /* a wake-up seek waits for it (kafka_fetch_kick) */
	size_t kick_next;            /* the part the next wake-up seek moves */
	size_t fetch_share;          /* what the partitions taking turns may bring at once */
	size_t first_charge;         /* a partition's charge before any fetch of it was seen */
	int64_t backlog_msgs;        /* a lag above this is a backlog */
	size_t n_parked;             /* partitions waiting for a fetch turn */
	uint64_t park_seq;
	bool turns_due;              /* a turn ended: another partition may start one */
	bool behind;                 /* see kafka_buffer_behind */
	uint64_t turns;              /* turns begun after waiting, since start */
	uint64_t taken_msgs, taken_bytes; /* taken from partition queues since the first start */
	int64_t first_start_us;      /* when partitions were first started */
	bool draining;               /* inside rd_kafka_consume_batch_queue */
	rd_kafka_topic_partition_list_t *purged_in_drain; /* purged during that call */
};

/* ------------------------------------------------------------ input buffer */

/*
 * The consumer takes messages out of librdkafka's queues whenever it is
 * woken (the queues' pipe and the wake timer) and copies them into an inbuf,
 * so librdkafka's own queues stay short and its fetcher keeps fetching. In
 * librdkafka 2.0.2 a partition whose queue has reached queued.min.messages
 * or queued.max.messages.kbytes is not fetched again until the broker thread's
 * next wake-up, up to a second later (fetch.queue.backoff.ms came in 2.1).
 * kafka_consumer_poll hands the messages out of the inbuf.
 *
 * Every assigned partition has a queue of its own, not forwarded to the
 * consumer queue, and takes go round the partitions. With one shared queue
 * all partitions stopped together when it was full, and the broker started
 * again from the same partition each time. A fetch response has room for
 * as many partitions as fetch.max.bytes allows. So in the 10M-event
 * benchmark the last partitions fell behind until the dev broker dropped
 * their oldest messages. With a queue each, a full partition stops alone and the others
 * keep fetching until theirs are full too. The consumer queue still brings
 * the rebalance events and errors.
 *
 * Messages are taken in batches into held. One that does not fit waits
 * there, with the rest of its batch, until the app has taken enough. One
 * bigger than the whole inbuf is handed to the app straight from held
 * once the inbuf is empty, so it is neither stuck nor copied.
 *
 * librdkafka's position of a partition is past every message taken; the
 * app's position is the oldest message of it still in the inbuf or held.
 * Seeks and revokes drop the partitions' messages from both.
 */

static void kafka_consumer_error(const rd_kafka_message_t *m);

/* Adds a partition to c->parts; returns its number, or -1 when it cannot. */
static long kafka_part_add(kafka_consumer *c, const char *topic, int32_t partition)
{
	kafka_part *p;

	if (c->n_parts == c->parts_cap) {
		size_t cap = c->parts_cap ? 2 * c->parts_cap : 16;
		if (cap > KAFKA_MAX_PARTS)
			cap = KAFKA_MAX_PARTS;
		kafka_part *parts = cap > c->n_parts ? realloc(c->parts, cap * sizeof(*parts)) : NULL;
		if (!parts)
			return -1;
		c->parts = parts;
		c->parts_cap = cap;
	}
	p = &c->parts[c->n_parts];
	p->topic = strdup(topic);
	if (!p->topic)
		return -1;
	p->partition = partition;
	p->placed = false;
	p->queue = NULL;
	p->took_msgs = p->took_bytes = p->turn_bytes = p->fetch_bytes = 0;
	p->started = p->parked = false;
	p->parked_seq = 0;
	p->turn_began_us = p->parked_us = 0;
	p->parked_lag = -1;
	p->taken_msgs = p->taken_bytes = 0;
	p->input = SIZE_MAX;
	p->format = INPUT_FORMAT_AVRO;
	for (size_t i = 0; i < c->cfg->kafka.n_inputs; i++) {
		if (strcmp(c->cfg->kafka.inputs[i].topic, topic) == 0) {
			p->input = i;
			p->format = c->cfg->kafka.inputs[i].format;
			break;
		}
	}
	c->last_part = c->n_parts;
	return (long)c->n_parts++;
}

/* The number of a partition in c->parts, or -1 when it has none. */
static long kafka_part_find(kafka_consumer *c, const char *topic, int32_t partition)
{
	size_t i = c->last_part;

	/* Messages come in runs of one partition: try the last one first. */
	if (i < c->n_parts && c->parts[i].partition == partition &&
	    strcmp(c->parts[i].topic, topic) == 0)
		return (long)i;
	for (i = 0; i < c->n_parts; i++) {
		if (c->parts[i].partition == partition && strcmp(c->parts[i].topic, topic) == 0) {
			c->last_part = i;
			return (long)i;
		}
	}
	return -1;
}

/*
 * Gives an assigned partition its own queue, detached from the consumer
 * queue; librdkafka keeps it detached when the partition is started again.
 * A partition left on the consumer queue (out of memory) is still read.
 */
static void kafka_part_attach(kafka_consumer *c, const char *topic, int32_t partition)
{
	long part = kafka_part_find(c, topic, partition);
	kafka_part *p;

	if (part < 0)
		part = kafka_part_add(c, topic, partition);
	if (part < 0)
		return;
	p = &c->parts[part];
	if (p->queue)
		return;
	p->queue = rd_kafka_queue_get_partition(c->rk, topic, partition);
	if (!p->queue)
		return;
	rd_kafka_queue_forward(p->queue, NULL);
	rd_kafka_queue_io_event_enable(p->queue, c->pipe_fds[1], "1", 1);
}

static void kafka_parts_detach(kafka_consumer *c)
{
	for (size_t i = 0; i < c->n_parts; i++) {
		if (c->parts[i].queue) {
			rd_kafka_queue_io_event_enable(c->parts[i].queue, -1, NULL, 0);
			rd_kafka_queue_destroy(c->parts[i].queue);
			c->parts[i].queue = NULL;
		}
	}
}

/*
 * Copies held messages into the inbuf and destroys them, logging errors.
 * Returns false when a message has to wait: no room, or it goes to the app
 * directly (bigger than the inbuf, or its partition cannot be numbered).
 */
static bool kafka_buffer_store_held(kafka_consumer *c)
{
	for (; c->held_first < c->held_n; c->held_first++) {
		rd_kafka_message_t *m = c->held[c->held_first];
		rd_kafka_timestamp_type_t tstype;

		if (!m->err) {
			long part = c->held_part[c->held_first];
			inbuf_record r = { (uint16_t)part, m->offset,
			                   rd_kafka_message_timestamp(m, &tstype),
			                   m->key, m->key_len, m->payload, m->len };
			if (part < 0 || inbuf_put(c->buf, &r) != INBUF_OK)
				return false;
		} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			kafka_consumer_error(m);
		}
		rd_kafka_message_destroy(m);
	}
	c->held_first = c->held_n = 0;
	return true;
}

/* Destroys the held messages listed in parts (all when parts is NULL); returns how many. */
static size_t kafka_held_drop(kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
	size_t remaining = c->held_first, dropped = 0;

	for (size_t i = c->held_first; i < c->held_n; i++) {
		rd_kafka_message_t *m = c->held[i];
		if (!parts || (m->rkt && rd_kafka_topic_partition_list_find(
		                             parts, rd_kafka_topic_name(m->rkt), m->partition))) {
			rd_kafka_message_destroy(m);
			dropped++;
		} else {
			c->held_part[remaining] = c->held_part[i];
			c->held[remaining++] = m;
		}
	}
	c->held_n = remaining;
	return dropped;
}

/* Numbers the partitions of the messages just taken and records where they are. */
static void kafka_held_number(kafka_consumer *c)
{
	for (size_t i = 0; i < c->held_n; i++) {
		const rd_kafka_message_t *m = c->held[i];
		long part = -1;
		if (!m->err && m->rkt) {
			const char *topic = rd_kafka_topic_name(m->rkt);
			part = kafka_part_find(c, topic, m->partition);
			if (part < 0)
				part = kafka_part_add(c, topic, m->partition);
			if (part >= 0) {
				c->parts[part].placed = true;
				c->parts[part].next_offset = m->offset + 1;
			}
		}
		c->held_part[i] = part;
	}
}

/* Seeks a partition to where it is: after the last message taken from it. */
static void kafka_part_seek_here(kafka_consumer *c, const kafka_part *p)
{
	rd_kafka_topic_partition_list_t *seek_list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_error_t *error;

	rd_kafka_topic_partition_list_add(seek_list, p->topic, p->partition)->offset = p->next_offset;
	error = rd_kafka_seek_partitions(c->rk, seek_list, 0);
	if (error) {
		log_debug("source", "cannot wake the fetcher", "topic=%s partition=%" PRId32
		          " error=\"%s\"", p->topic, p->partition, rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
	rd_kafka_topic_partition_list_destroy(seek_list);
}

/*
 * Wakes librdkafka's fetcher after a partition's queue had reached half its
 * limits and a take has emptied it: the broker thread may have stopped
 * fetching then and sleep until its next wake-up, up to a second. In 2.0.2
 * a finished seek wakes it (pause and resume do not), so one partition is
 * sought to where it already is: after the last message taken from it. What
 * librdkafka fetched for that partition meanwhile is dropped and fetched
 * again, so no message is lost or repeated, but a fetch in flight is wasted.
 * So the seek waits KAFKA_KICK_DELAY_MS, moves a partition whose queue is
 * still empty then, and moves the partitions in turn: always moving the
 * same one dropped its fetches again and again until it fell behind. A
 * parked partition (see "Fetch turns") is moved first when there is one: it
 * has no fetch in flight, so the seek drops nothing and need not wait.
 */
static void kafka_fetch_kick(kafka_consumer *c)
{
	for (int parked = 1; parked >= 0; parked--) {
		for (size_t tried = 0; tried < c->n_parts; tried++) {
			const kafka_part *p = &c->parts[(c->kick_next + tried) % c->n_parts];
			if (p->placed && p->parked == parked &&
			    (!p->queue || rd_kafka_queue_length(p->queue) == 0)) {
				c->kick_next += tried + 1;
				kafka_part_seek_here(c, p);
				return;
			}
		}
	}
}

static void kafka_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	kafka_fetch_kick(arg);
}

/* ------------------------------------------------------------ fetch turns */

/*
 * A fetch returns at least one whole producer batch of each partition it
 * requests, whatever max.partition.fetch.bytes is, and librdkafka requests
 * every started partition whose queue is below its limits. A backlog over
 * many partitions, produced in big batches (a librdkafka producer makes
 * them up to 1 MB), thus lands in librdkafka's memory at once, with about
 * 300 bytes of librdkafka's state per message on top. In the benchmark, the
 * first fetches of 47 partitions held 78 MB.
 *
 * So partitions with a backlog take turns. As many fetch at a time as fit
 * in half of fetch.max.bytes by their charges (kafka_turn_charge), and at
 * least KAFKA_TURN_MIN_SLOTS. The others are paused ("parked"). A turn ends when
 * a take empties the partition's queue after the turn brought the queue's
 * byte limit, or brought nothing for KAFKA_TURN_IDLE_MS. The parked
 * partition expected to lag most in bytes then begins one
 * (kafka_next_parked).
 *
 * A partition whose lag is at most 1/KAFKA_TURN_BACKLOG_SHARE of
 * queued.min.messages takes no turns while the app keeps up, so a consumer that keeps up
 * fetches every partition all the time, and one that catches up gives its
 * slot to a parked partition at once. While the app is behind (the inbuf
 * half full), all take turns: a burst on partitions that had caught up
 * would otherwise fill all their queues at once. Then one that has caught
 * up ends its turn at its first empty queue after bringing anything, or
 * after KAFKA_TURN_IDLE_MS with nothing. A partition never fetched counts
 * as lagging, so a start over many partitions begins with a few.
 *
 * A paused partition is fetched again from after the last message taken
 * from it; what a fetch in flight brings for it meanwhile is dropped. In
 * 2.0.2 a resume does not wake the fetcher, so a seek to the same offset
 * follows it (see kafka_fetch_kick).
 */

/*
 * Returns a partition's lag by librdkafka's cached watermarks, or -1 when
 * unknown. Without a known position only an empty partition has one: 0.
 */
static int64_t kafka_part_lag(kafka_consumer *c, const kafka_part *p)
{
	int64_t low, high;

	if (rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &low, &high) ||
	    high < 0)
		return -1;
	if (!p->placed)
		return high == low ? 0 : -1;
	return high > p->next_offset ? high - p->next_offset : 0;
}

/* Whether a partition's lag is a backlog. One with an unknown lag counts as one. */
static bool kafka_part_lagging(kafka_consumer *c, const kafka_part *p)
{
	int64_t lag = kafka_part_lag(c, p);
	return lag < 0 || lag > c->backlog_msgs;
}

/*
 * Whether the app is behind: from when the inbuf is half full until it is
 * less than a quarter full, so that the state does not flip on every take.
 */
static bool kafka_buffer_behind(kafka_consumer *c)
{
	size_t used = inbuf_used(c->buf), capacity = inbuf_capacity(c->buf);

	if (used >= capacity / 2)
		c->behind = true;
	else if (used < capacity / 4)
		c->behind = false;
	return c->behind;
}

/* Whether a partition takes turns: while the app is behind, all do. */
static bool kafka_part_takes_turns(kafka_consumer *c, const kafka_part *p)
{
	return kafka_buffer_behind(c) || kafka_part_lagging(c, p);
}

/* Pauses or resumes one partition; returns 0 when librdkafka has done it. */
static int kafka_part_pause(kafka_consumer *c, const kafka_part *p, bool pause)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_add(list, p->topic,
	                                                                  p->partition);
	rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(c->rk, list)
	                                : rd_kafka_resume_partitions(c->rk, list);

	if (!err)
		err = e->err;
	if (err)
		log_warn("source", pause ? "cannot pause a partition for its fetch turn"
		                         : "cannot resume a partition for its fetch turn",
		         "topic=%s partition=%" PRId32 " error=%s", p->topic, p->partition,
		         rd_kafka_err2name(err));
	rd_kafka_topic_partition_list_destroy(list);
	return err ? -1 : 0;
}

/*
 * Pauses a partition until its next turn. One parked before it was ever
 * fetched (before_fetch) resumes first. One whose lag is still unknown
 * after a turn, such as an empty partition never read, counts as caught up.
 */
static void kafka_part_park(kafka_consumer *c, kafka_part *p, bool before_fetch)
{
	if (kafka_part_pause(c, p, true) < 0)
		return;
	p->parked = true;
	p->parked_seq = ++c->park_seq;
	p->parked_us = kafka_now_us();
	p->parked_lag = kafka_part_lag(c, p);
	if (p->parked_lag < 0 && !before_fetch)
		p->parked_lag = 0;
	c->n_parked++;
}

/* Resumes a parked partition; wake: seek it, so that the fetcher wakes up. */
static void kafka_part_unpark(kafka_consumer *c, kafka_part *p, bool wake)
{
	if (kafka_part_pause(c, p, false) < 0)
		return;
	p->parked = false;
	p->turn_bytes = 0;
	p->turn_began_us = kafka_now_us();
	c->n_parked--;
	if (wake && p->placed)
		kafka_part_seek_here(c, p);
}

/*
 * Returns what a fetching partition is charged against fetch_share: the
 * most taken from its queue between two empty ones, else first_charge. The
 * charge is at least the queue's byte limit, because a partition may fill
 * its queue while the inbuf is full.
 */
static size_t kafka_turn_charge(const kafka_consumer *c, const kafka_part *p)
{
	size_t charge = p->fetch_bytes ? p->fetch_bytes : c->first_charge;
	return charge > c->queue_max_bytes ? charge : c->queue_max_bytes;
}

/*
 * Whether the turn of a partition whose queue a take has just emptied is
 * over. A turn that brought nothing for KAFKA_TURN_IDLE_MS is, so that an
 * empty partition does not keep its slot. Otherwise a lagging partition's
 * turn ends once it brought a queue's byte limit. While the app is behind,
 * one that has caught up ends its turn as soon as it brought anything.
 */
static bool kafka_turn_over(kafka_consumer *c, const kafka_part *p, bool lagging)
{
	bool idle = p->turn_bytes == 0 &&
	            kafka_now_us() - p->turn_began_us >= (int64_t)KAFKA_TURN_IDLE_MS * 1000;

	if (lagging)
		return idle || p->turn_bytes >= c->queue_max_bytes;
	return kafka_buffer_behind(c) && (idle || p->turn_bytes > 0);
}

/* Ends the turn of a partition whose queue a take has just emptied, if it is over. */
static void kafka_turn_end(kafka_consumer *c, kafka_part *p)
{
	bool lagging;

	if (!p->started || p->parked)
		return;
	lagging = kafka_part_lagging(c, p);
	if (lagging && p->took_bytes > p->fetch_bytes)
		p->fetch_bytes = p->took_bytes;
	if (c->n_parked > 0 && kafka_turn_over(c, p, lagging)) {
		kafka_part_park(c, p, false);
		c->turns_due = true;
	} else if (c->n_parked > 0 && !lagging && !kafka_buffer_behind(c)) {
		/* Caught up: its slot goes to a parked partition now, not at the next timer. */
		c->turns_due = true;
	}
}

/*
 * Returns the bytes a parked partition is expected to lag by now: its lag
 * when it was parked, in its average message size, plus what an average
 * partition received since (rate, bytes per microsecond). A partition
 * never fetched comes first.
 */
static double kafka_parked_lag(const kafka_consumer *c, const kafka_part *p, int64_t now,
                               double rate)
{
	double message_bytes = 0;

	if (p->parked_lag < 0)
		return 1e18;
	/* A partition nothing was taken from yet has the average message size. */
	if (p->taken_msgs)
		message_bytes = (double)p->taken_bytes / (double)p->taken_msgs;
	else if (c->taken_msgs)
		message_bytes = (double)c->taken_bytes / (double)c->taken_msgs;
	return (double)p->parked_lag * message_bytes + rate * (double)(now - p->parked_us);
}

/*
 * Returns the parked partition to resume next: the one expected to lag
 * most, so that one that fell behind catches up, and the one parked first
 * among equals.
 */
static kafka_part *kafka_next_parked(kafka_consumer *c)
{
	int64_t now = kafka_now_us();
	double rate = 0, best_lag = -1;
	kafka_part *best = NULL;

	/* Bytes per microsecond and partition, taken since the first start. */
	if (c->n_parts && now > c->first_start_us)
		rate = (double)c->taken_bytes / (double)(now - c->first_start_us) / (double)c->n_parts;
	for (size_t i = 0; i < c->n_parts; i++) {
		kafka_part *p = &c->parts[i];
		double lag;
		if (!p->parked)
			continue;
		lag = kafka_parked_lag(c, p, now, rate);
		if (!best || lag > best_lag || (lag == best_lag && p->parked_seq < best->parked_seq)) {
			best = p;
			best_lag = lag;
		}
	}
	return best;
}

/* Whether one more fetching partition with this charge fits in fetch_share. */
static bool kafka_turn_fits(const kafka_consumer *c, size_t busy, size_t busy_bytes, size_t charge)
{
	return busy < KAFKA_TURN_MIN_SLOTS || busy_bytes + charge <= c->fetch_share;
}

/*
 * The fetching partition whose turn began first, to be parked. A turn that
 * has brought nothing yet is left to its first fetch for KAFKA_TURN_IDLE_MS,
 * unless starting: partitions just started are parked before any fetch.
 */
static kafka_part *kafka_longest_turn(kafka_consumer *c, bool starting)
{
	int64_t now = kafka_now_us();
	kafka_part *first = NULL;

	for (size_t i = 0; i < c->n_parts; i++) {
		kafka_part *p = &c->parts[i];
		if (!p->started || p->parked || !kafka_part_takes_turns(c, p))
			continue;
		if (!starting && p->turn_bytes == 0 &&
		    now - p->turn_began_us < (int64_t)KAFKA_TURN_IDLE_MS * 1000)
			continue;
		if (!first || p->turn_began_us <= first->turn_began_us)
			first = p;
	}
	return first;
}

/*
 * Begins turns while their charges fit in fetch_share, and parks the
 * partitions beyond it: after a start, and while the app is behind.
 */
static void kafka_turns_update(kafka_consumer *c, bool starting)
{
	size_t busy = 0, busy_bytes = 0;
	bool unplaced = false;

	c->turns_due = false;
	for (size_t i = 0; i < c->n_parts; i++) {
		const kafka_part *p = &c->parts[i];
		if (p->started && !p->parked && kafka_part_takes_turns(c, p)) {
			busy++;
			busy_bytes += kafka_turn_charge(c, p);
		}
	}
	while (busy > KAFKA_TURN_MIN_SLOTS && busy_bytes > c->fetch_share) {
		kafka_part *p = kafka_longest_turn(c, starting);
		if (!p)
			break;
		kafka_part_park(c, p, starting);
		if (!p->parked)
			break;   /* librdkafka refused; tried again on the next update */
		busy--;
		busy_bytes -= kafka_turn_charge(c, p);
	}
	/* Expected lag first (kafka_next_parked); one that takes no turns now needs no slot. */
	while (c->n_parked > 0) {
		kafka_part *p = kafka_next_parked(c);
		size_t parked = c->n_parked;
		bool slot = kafka_part_takes_turns(c, p);
		if (slot && !kafka_turn_fits(c, busy, busy_bytes, kafka_turn_charge(c, p)))
			break;
		kafka_part_unpark(c, p, true);
		if (c->n_parked == parked) {
			/* librdkafka refused (logged): the others go first next time. */
			p->parked_lag = 0;
			p->parked_us = kafka_now_us();
			break;
		}
		if (!p->placed)
			unplaced = true;
		c->turns++;
		if (slot) {
			busy++;
			busy_bytes += kafka_turn_charge(c, p);
		}
	}
	/* A partition with no known position cannot be sought: another one is. */
	if (unplaced)
		kafka_fetch_kick(c);
}

/* Resumes the parked partitions among parts, which are being revoked. */
static void kafka_turns_forget(kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
	for (size_t i = 0; i < c->n_parts; i++) {
		kafka_part *p = &c->parts[i];
		if (!parts || rd_kafka_topic_partition_list_find(parts, p->topic, p->partition)) {
			if (p->parked)
				kafka_part_unpark(c, p, false);
			if (p->parked) {
				/* Not resumed (logged): it is no longer ours to resume. */
				p->parked = false;
				c->n_parked--;
			}
			p->started = false;
		}
	}
}

/* Marks the partitions of parts as started and parks those beyond the slots. */
static void kafka_turns_start(kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
	if (!c->first_start_us)
		c->first_start_us = kafka_now_us();
	for (int i = 0; i < parts->cnt; i++) {
		long part = kafka_part_find(c, parts->elems[i].topic, parts->elems[i].partition);
		if (part < 0)
			part = kafka_part_add(c, parts->elems[i].topic, parts->elems[i].partition);
		if (part >= 0) {
			c->parts[part].started = true;
			c->parts[part].turn_bytes = 0;
			c->parts[part].turn_began_us = kafka_now_us();
		}
	}
	kafka_turns_update(c, true);
}

/*
 * Takes a batch from the consumer queue into held. A rebalance callback
 * may run inside the take and revoke partitions whose messages the same
 * call returns: those are dropped afterwards. Returns the count taken.
 */
static ssize_t kafka_take_events(kafka_consumer *c)
{
	ssize_t n;

	c->draining = true;
	n = rd_kafka_consume_batch_queue(c->queue, 0, c->held, KAFKA_DRAIN_BATCH);
	c->draining = false;
	c->held_n = n > 0 ? (size_t)n : 0;
	/* Cleared after every take: a later take returns messages of a new assignment. */
	if (c->purged_in_drain) {
		kafka_held_drop(c, c->purged_in_drain);
		rd_kafka_topic_partition_list_destroy(c->purged_in_drain);
		c->purged_in_drain = NULL;
	}
	return n;
}

/*
 * Notes that a partition's queue is empty. The messages taken from it since
 * it was last empty bound its length meanwhile. From half its limits on, it
 * may have stopped the fetcher, because a fetch that arrives while the loop
 * is busy can reach them. Then a wake-up is due. A needless one costs no
 * more than one fetch made again.
 */
static void kafka_part_emptied(kafka_consumer *c, kafka_part *p)
{
	if (p->took_msgs >= c->queue_max_msgs / 2 || p->took_bytes >= c->queue_max_bytes / 2)
		c->kick_due = true;
	kafka_turn_end(c, p);
	p->took_msgs = p->took_bytes = 0;
}

/* Takes a batch from the next partition queue that has messages; returns the count. */
static ssize_t kafka_take_partition(kafka_consumer *c)
{
	for (size_t tried = 0; tried < c->n_parts; tried++) {
		kafka_part *p = &c->parts[c->take_next];
		ssize_t n;

		c->take_next = (c->take_next + 1) % c->n_parts;
		if (!p->queue)
			continue;
		n = rd_kafka_consume_batch_queue(p->queue, 0, c->held, KAFKA_DRAIN_BATCH);
		if (n > 0) {
			size_t bytes = 0;
			for (ssize_t i = 0; i < n; i++)
				bytes += c->held[i]->len;
			c->held_n = (size_t)n;
			c->taken_msgs += (uint64_t)n;
			c->taken_bytes += bytes;
			p->taken_msgs += (uint64_t)n;
			p->taken_bytes += bytes;
			p->took_msgs += (size_t)n;
			p->took_bytes += bytes;
			p->turn_bytes += bytes;
			return n;
		}
		kafka_part_emptied(c, p);
	}
	return 0;
}

/*
 * Takes what librdkafka has queued into the inbuf, as far as it fits: the
 * consumer queue first, then the partitions' queues a batch each in turn.
 */
static void kafka_buffer_fill(kafka_consumer *c)
{
	bool emptied = false;

	while (kafka_buffer_store_held(c)) {
		ssize_t n = kafka_take_events(c);
		if (n <= 0)
			n = kafka_take_partition(c);
		if (n <= 0) {
			emptied = true;
			break;
		}
		kafka_held_number(c);
	}
	/* Behind, every partition takes turns: those beyond them are parked now. */
	if (c->turns_due || (c->n_parts && kafka_buffer_behind(c)))
		kafka_turns_update(c, false);
	if (emptied && c->kick_due && c->n_parked > 0) {
		/* A parked partition is sought, which drops no fetch: no need to wait. */
		kafka_fetch_kick(c);
		c->kick_due = false;
	} else if (emptied && c->kick_due && c->kick_timer &&
	           !evtimer_pending(c->kick_timer, NULL)) {
		struct timeval delay = { 0, KAFKA_KICK_DELAY_MS * 1000 };
		evtimer_add(c->kick_timer, &delay);
		c->kick_due = false;
	}
}

static bool kafka_part_marked(uint16_t part, void *opaque)
{
	const bool *marked = opaque;
	return marked[part];
}

/*
 * Drops the buffered and held messages of parts: revoked (or lost) ones
 * when revoked, else ones that a seek or a start moves.
 */
static void kafka_buffer_purge(kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts,
                               bool revoked)
{
	bool *marked = calloc(c->n_parts + 1, sizeof(*marked));
	size_t dropped = 0;

	if (!marked) {
		log_error("source", "out of memory dropping buffered messages; reading them again "
		          "from the wrong position", "partitions=%d", parts->cnt);
		return;
	}
	for (size_t i = 0; i < c->n_parts; i++) {
		marked[i] = rd_kafka_topic_partition_list_find(parts, c->parts[i].topic,
		                                               c->parts[i].partition) != NULL;
		if (marked[i])
			c->parts[i].placed = false;
	}
	dropped = inbuf_purge(c->buf, kafka_part_marked, marked) + kafka_held_drop(c, parts);
	free(marked);

	/*
	 * Inside a take, the messages it returns for revoked partitions are
	 * dropped too. A partition started or moved inside the take keeps what
	 * the take returns. A partition with a queue of its own has none of
	 * its messages in that take. One left on the consumer queue would keep
	 * the messages the take collected before the callback, from the old
	 * position. That does not happen, because the app starts and moves
	 * partitions only outside takes (on a Redis reply).
	 */
	if (c->draining && revoked) {
		if (!c->purged_in_drain)
			c->purged_in_drain = rd_kafka_topic_partition_list_new(parts->cnt);
		for (int i = 0; i < parts->cnt; i++)
			rd_kafka_topic_partition_list_add(c->purged_in_drain, parts->elems[i].topic,
			                                  parts->elems[i].partition);
	} else if (c->draining && c->purged_in_drain) {
		for (int i = 0; i < parts->cnt; i++)
			rd_kafka_topic_partition_list_del(c->purged_in_drain, parts->elems[i].topic,
			                                  parts->elems[i].partition);
	}
	if (dropped)
		log_debug("source", "buffered messages dropped", "messages=%zu partitions=%d",
		          dropped, parts->cnt);
}

/*
 * Records where partitions were started or moved to, for those given a
 * concrete offset. librdkafka reports no position (rd_kafka_position) until
 * a message of the partition is consumed, so without this a partition
 * started at its end would never count as caught up.
 */
static void kafka_parts_place(kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
	for (int i = 0; i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *e = &parts->elems[i];
		long part;

		if (e->offset < 0)
			continue;
		part = kafka_part_find(c, e->topic, e->partition);
		if (part < 0)
			part = kafka_part_add(c, e->topic, e->partition);
		if (part >= 0) {
			c->parts[part].placed = true;
			c->parts[part].next_offset = e->offset;
		}
	}
}

/*
 * The next offset the app gets of a partition: its oldest buffered or held
 * message, else the one after the last message taken, else where it was
 * started or moved to. librdkafka's own position (rd_kafka_position) is
 * past the buffer, and a wake-up seek (kafka_fetch_kick) leaves it unknown
 * until the next message. Returns fallback when none of these is known.
 */
static int64_t kafka_buffer_position(kafka_consumer *c, const char *topic, int32_t partition,
                                     int64_t fallback)
{
	long part = kafka_part_find(c, topic, partition);
	int64_t offset = part >= 0 ? inbuf_first_offset(c->buf, (uint16_t)part) : -1;

	for (size_t i = c->held_first; offset < 0 && i < c->held_n; i++) {
		const rd_kafka_message_t *m = c->held[i];
		if (!m->err && m->partition == partition &&
		    strcmp(rd_kafka_topic_name(m->rkt), topic) == 0)
			offset = m->offset;
	}
	if (offset < 0)
		offset = part >= 0 && c->parts[part].placed ? c->parts[part].next_offset : fallback;
	return offset;
}

static bool kafka_buffer_empty(const kafka_consumer *c)
{
	return inbuf_count(c->buf) == 0 && c->held_first == c->held_n;
}

static void kafka_buffer_free(kafka_consumer *c)
{
	kafka_held_drop(c, NULL);
	if (c->purged_in_drain)
		rd_kafka_topic_partition_list_destroy(c->purged_in_drain);
	for (size_t i = 0; i < c->n_parts; i++)
		free(c->parts[i].topic);
	free(c->parts);
	inbuf_free(c->buf);
}

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
		for (int i = 0; i < parts->cnt; i++)
			kafka_part_attach(c, parts->elems[i].topic, parts->elems[i].partition);
		if (!cooperative) {
			rd_kafka_topic_partition_list_destroy(c->pending);
			c->pending = rd_kafka_topic_partition_list_new(parts->cnt);
		}
		for (int i = 0; i < parts->cnt; i++)
			rd_kafka_topic_partition_list_add(c->pending, parts->elems[i].topic,
			                                  parts->elems[i].partition);
		/* Nothing to claim: confirm now, as librdkafka waits for the call. */
		if (cooperative && parts->cnt == 0)
			error = rd_kafka_incremental_assign(rk, parts);
		kafka_report_partitions(c, c->on_assign, parts);
	} else {
		kafka_log_partitions(rd_kafka_assignment_lost(rk) ? "partition lost"
		                                                  : "partition revoked", parts);
		kafka_forget_pending(c, parts);
		kafka_turns_forget(c, parts);   /* librdkafka keeps a pause across assignments */
		kafka_buffer_purge(c, parts, true);   /* before the app hears of it */
		if (cooperative) {
			/* Called even when none was started: librdkafka waits for the call. */
			rd_kafka_topic_partition_list_t *started = kafka_started_subset(c, parts);
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
	kafka_buffer_fill(c);
	c->wake(c->opaque);
}

static void kafka_consumer_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	kafka_consumer *c = arg;
	/* Partitions that caught up free their slots for parked ones. */
	kafka_turns_update(c, false);
	/* A resumed partition fetches only once the fetcher wakes up (see kafka_fetch_kick). */
	if (c->n_parked > 0)
		kafka_fetch_kick(c);
	kafka_buffer_fill(c);
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
	c->kick_timer = evtimer_new(base, kafka_kick_cb, c);
	if (!c->pipe_event || !c->wake_timer || !c->kick_timer) {
		snprintf(errstr, errstr_size, "cannot create consumer events");
		return -1;
	}
	event_add(c->pipe_event, NULL);
	event_add(c->wake_timer, &tv);
	return 0;
}

static long kafka_clamp(long v, long lo, long hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

/* A numeric property of conf as set so far, or fallback. */
static long kafka_conf_long(const rd_kafka_conf_t *conf, const char *name, long fallback)
{
	char value[32];
	size_t size = sizeof(value);

	if (!conf || rd_kafka_conf_get(conf, name, value, &size) != RD_KAFKA_CONF_OK)
		return fallback;
	return strtol(value, NULL, 10);
}

/*
 * The consumer's conf. librdkafka's own queues are kept short (see "Input
 * buffer"): the inbuf keeps the prefetched messages at a fraction of
 * librdkafka's cost per message. queued.min.messages and
 * queued.max.messages.kbytes apply to each partition's queue, since none is
 * forwarded to the consumer queue. kafka.properties can override each.
 */
static rd_kafka_conf_t *kafka_consumer_conf(const config *cfg, char *errstr, size_t errstr_size)
{
	rd_kafka_conf_t *conf = kafka_conf_new(cfg, "consumer", errstr, errstr_size);
	long budget_kb = cfg->kafka.max_prefetch_kbytes;
	long kbytes = kafka_clamp(budget_kb / KAFKA_QUEUED_SHARE, KAFKA_QUEUED_MIN_KBYTES,
	                          KAFKA_QUEUED_MAX_KBYTES);
	long messages = kafka_clamp(kbytes * 4, KAFKA_QUEUED_MIN_MESSAGES, KAFKA_QUEUED_MAX_MESSAGES);
	long fetch = kafka_clamp(budget_kb * 1024 / 4, KAFKA_FETCH_MIN_BYTES, KAFKA_FETCH_MAX_BYTES);
	long message_max = kafka_conf_long(conf, "message.max.bytes", 0);
	char queued_messages[24], queued_kbytes[24], fetch_bytes[24];

	if (fetch < message_max)
		fetch = message_max;
	snprintf(queued_messages, sizeof(queued_messages), "%ld", messages);
	snprintf(queued_kbytes, sizeof(queued_kbytes), "%ld", kbytes);
	snprintf(fetch_bytes, sizeof(fetch_bytes), "%ld", fetch);
	if (!conf || kafka_conf_set(conf, "group.id", cfg->kafka.group_id, errstr, errstr_size) ||
	    kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
	    kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errstr_size) ||
	    kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr, errstr_size) ||
	    kafka_conf_default(conf, cfg, "queued.min.messages", queued_messages, errstr,
	                       errstr_size) ||
	    kafka_conf_default(conf, cfg, "queued.max.messages.kbytes", queued_kbytes, errstr,
	                       errstr_size) ||
	    kafka_conf_default(conf, cfg, "max.partition.fetch.bytes", KAFKA_PARTITION_FETCH_BYTES,
	                       errstr, errstr_size) ||
	    kafka_conf_default(conf, cfg, "fetch.max.bytes", fetch_bytes, errstr, errstr_size) ||
	    kafka_conf_default(conf, cfg, "fetch.wait.max.ms", KAFKA_FETCH_WAIT_MS, errstr,
	                       errstr_size)) {
		if (conf)
			rd_kafka_conf_destroy(conf);
		return NULL;
	}
	return conf;
}

/* Reads librdkafka's queue limits from conf (the defaults or kafka.properties). */
static void kafka_consumer_limits(kafka_consumer *c, const rd_kafka_conf_t *conf)
{
	long messages = kafka_conf_long(conf, "queued.min.messages", 0);
	long kbytes = kafka_conf_long(conf, "queued.max.messages.kbytes", 0);

	long fetch_max = kafka_conf_long(conf, "fetch.max.bytes", 0);
	long partition_max = kafka_conf_long(conf, "max.partition.fetch.bytes", 0);

	c->queue_max_msgs = messages > 0 ? (size_t)messages : SIZE_MAX;
	c->queue_max_bytes = kbytes > 0 ? (size_t)kbytes * 1024 : SIZE_MAX;
	/* Half: what they hold and the fetch in flight for them stay near fetch.max.bytes. */
	c->fetch_share = (fetch_max > 0 ? (size_t)fetch_max : KAFKA_FETCH_MAX_BYTES) / 2;
	c->backlog_msgs = messages > 0 ? messages / KAFKA_TURN_BACKLOG_SHARE : INT64_MAX;
	c->first_charge = partition_max > KAFKA_TURN_FIRST_CHARGE ? (size_t)partition_max
	                                                          : KAFKA_TURN_FIRST_CHARGE;
}

kafka_consumer *kafka_consumer_new(struct event_base *base, const config *cfg,
                                   const kafka_consumer_callbacks *cbs,
                                   char *errstr, size_t errstr_size)
{
	kafka_consumer *c = calloc(1, sizeof(*c));
	rd_kafka_conf_t *conf;

	if (c)
		c->buf = inbuf_new((size_t)cfg->kafka.max_prefetch_kbytes * 1024);
	if (!c || !c->buf) {
		snprintf(errstr, errstr_size, "out of memory");
		free(c);
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

	conf = kafka_consumer_conf(cfg, errstr, errstr_size);
	if (!conf) {
		rd_kafka_topic_partition_list_destroy(c->pending);
		inbuf_free(c->buf);
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
	kafka_consumer_limits(c, conf);

	c->rk = kafka_client_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
	if (!c->rk) {
		rd_kafka_topic_partition_list_destroy(c->pending);
		inbuf_free(c->buf);
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

/*
 * Confirms the partitions assigned but not yet started (their claim in
 * Redis did not finish) before the consumer closes, and the close then
 * revokes them. In cooperative mode librdkafka waits for that call. NOTE:
 * in librdkafka 2.0.2 a close while an assign call is awaited can hang,
 * as it did once in faults.30-rebalance. Whether this call prevents every
 * such hang is not known.
 */
static void kafka_confirm_pending(kafka_consumer *c)
{
	rd_kafka_error_t *error;

	if (c->pending->cnt == 0 || strcmp(rd_kafka_rebalance_protocol(c->rk), "COOPERATIVE") != 0)
		return;
	log_info("source", "confirming partitions assigned but not claimed, so that the "
	         "consumer can close", "partitions=%d", c->pending->cnt);
	error = rd_kafka_incremental_assign(c->rk, c->pending);
	kafka_log_rebalance_error(error, RD_KAFKA_RESP_ERR_NO_ERROR);
	rd_kafka_topic_partition_list_destroy(c->pending);
	c->pending = rd_kafka_topic_partition_list_new(0);
}

void kafka_consumer_free(kafka_consumer *c)
{
	if (!c)
		return;
	kafka_held_drop(c, NULL);   /* librdkafka's messages go back before it closes */
	if (c->pipe_event)
		event_free(c->pipe_event);
	if (c->wake_timer)
		event_free(c->wake_timer);
	if (c->kick_timer)
		event_free(c->kick_timer);
	if (c->queue) {
		rd_kafka_queue_io_event_enable(c->queue, -1, NULL, 0);
		rd_kafka_queue_destroy(c->queue);
	}
	if (c->rk)
		kafka_confirm_pending(c);
	/* After the close, whose rebalance events may attach partitions; before the destroy. */
	if (c->rk)
		rd_kafka_consumer_close(c->rk);
	kafka_parts_detach(c);
	if (c->rk)
		rd_kafka_destroy(c->rk);
	for (int i = 0; i < 2; i++)
		if (c->pipe_fds[i] >= 0)
			close(c->pipe_fds[i]);
	kafka_buffer_free(c);
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

/* Hands the first held message to cb without copying it: it does not fit the inbuf. */
static void kafka_hand_over(kafka_consumer *c, kafka_message_cb cb, void *opaque)
{
	rd_kafka_message_t *m = c->held[c->held_first++];
	kafka_message km;

	kafka_fill_message(m, &km);
	kafka_input_format(c, &km);
	cb(&km, opaque);
	rd_kafka_message_destroy(m);
}

size_t kafka_consumer_poll(kafka_consumer *c, size_t max, kafka_message_cb cb, void *opaque)
{
	size_t done = 0;
	inbuf_record r;

	kafka_buffer_fill(c);
	while (done < max) {
		/* Keep librdkafka's queue short while the app works through the batch. */
		if (done % KAFKA_DRAIN_BATCH == KAFKA_DRAIN_BATCH - 1)
			kafka_buffer_fill(c);
		if (inbuf_shift(c->buf, &r)) {
			const kafka_part *p = &c->parts[r.part];
			kafka_message km = { p->topic, p->partition, r.offset, r.timestamp_ms, r.key,
			                     r.key_len, r.payload, r.len, p->format, p->input };
			cb(&km, opaque);
		} else if (c->held_first < c->held_n) {
			/* The inbuf is empty, so the held message is next in line. */
			kafka_hand_over(c, cb, opaque);
		} else {
			kafka_buffer_fill(c);
			if (kafka_buffer_empty(c))
				break;
			continue;
		}
		done++;
	}
	kafka_buffer_fill(c);
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
	rd_kafka_error_t *error;
	int rc = 0;

	/* librdkafka delivers again from the new position. */
	kafka_buffer_purge(c, list, false);
	kafka_parts_place(c, list);
	error = rd_kafka_seek_partitions(c->rk, list, 0);

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
		kafka_buffer_purge(c, start, false);   /* nothing of them is buffered */
		kafka_parts_place(c, start);
		if (cooperative)
			error = rd_kafka_incremental_assign(c->rk, start);
		else
			err = rd_kafka_assign(c->rk, start);
		kafka_log_rebalance_error(error, err);
		kafka_count_assignment(c);
		kafka_turns_start(c, start);
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

	if (!kafka_buffer_empty(c) || rd_kafka_assignment(c->rk, &list) || !list)
		return false;
	if (list->cnt == 0 || rd_kafka_position(c->rk, list))
		caught_up = false;
	for (int i = 0; i < list->cnt && caught_up; i++) {
		int64_t low, high;
		const rd_kafka_topic_partition_t *p = &list->elems[i];
		int64_t pos = kafka_buffer_position(c, p->topic, p->partition, p->offset);
		if (rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition, &low, &high))
			caught_up = false;
		else if (high > low && pos < high)
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
			int64_t pos = kafka_buffer_position(c, p->topic, p->partition, p->offset);
			/* Cached values from the last fetch: no broker round trip. */
			if (pos < 0 || rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition,
			                                              &low, &high))
				continue;
			if (high >= 0)
				cb(p->topic, p->partition, high > pos ? high - pos : 0, opaque);
		}
	}
	rd_kafka_topic_partition_list_destroy(list);
}

size_t kafka_consumer_parked(const kafka_consumer *c)
{
	return c->n_parked;
}

uint64_t kafka_consumer_fetch_turns(const kafka_consumer *c)
{
	return c->turns;
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
