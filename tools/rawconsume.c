/*
 * rawconsume.c - advocacyd-rawconsume, the raw consume limit of the benchmark.
 *
 * Reads one or more topics from their first offset and does nothing with the
 * messages but count them and their bytes. It stops when it has read --count
 * messages, or when every assigned partition has reported its end, and
 * prints one JSON line with the count and the rate. tests/bench/run.sh
 * divides advocacyd's catch-up rate by this rate: what a consumer that does
 * no work reaches on the same broker, topics and machine.
 *
 * The consumer is a bare librdkafka consumer: a high-level consumer with no
 * auto commit, queued.min.messages at its maximum and
 * queued.max.messages.kbytes 1048576 by default. librdkafka 2.0.2 stops
 * fetching when its queue reaches either limit, and fetches again only at
 * the broker thread's next wake-up, up to a second later. With the default
 * limits about two runs in three lost most of a second that way, so they
 * read at a third of the speed of the others. With these limits the queue
 * never reaches them, so the rate is the broker's and the client's. advocacyd's
 * own consumer (daemon/kafka.c) keeps librdkafka's queue within
 * kafka.max_prefetch_kbytes and does lose that time (README "Benchmark").
 *
 * This one takes batches of up to 10000 messages from the consumer queue
 * with rd_kafka_consume_batch_queue(), 1024 at a time. Unlike the daemon it
 * joins no group: it assigns itself every partition of the topics at the
 * first offset. The fetch path is the same, and each run skips the
 * dev broker's group join of about 3 s, so that the bench can afford several
 * runs.
 *
 * The rate is counted from the first message to the last one, as the bench
 * does for advocacyd from its first batch. The time from the start is
 * printed as well.
 *
 * Single-threaded, apart from librdkafka's own threads. Deliberately not
 * done: decoding, committing offsets, or any per-message work beyond the
 * count, which would no longer measure the broker and the client alone.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define RAW_MAX_TOPICS 16
#define RAW_MAX_PARTITIONS 4096
#define RAW_POLL_CHUNK 1024 /* messages per rd_kafka_consume_batch_queue() call */

typedef struct raw_options {
	const char *brokers;
	const char *topics[RAW_MAX_TOPICS];
	int n_topics;
	long count;	     /* 0: until every partition reports its end */
	long batch;	     /* messages taken per batch, as kafka.batch_max_messages */
	long prefetch_kbytes; /* queued.max.messages.kbytes */
	long idle_timeout_s; /* give up after this long without a message */
} raw_options;

/* A partition assigned to the consumer and whether it is at its end now. */
typedef struct raw_partition {
	char topic[256];
	int32_t partition;
	bool at_end;
} raw_partition;

typedef struct raw_state {
	raw_partition parts[RAW_MAX_PARTITIONS];
	int n_parts;
	int n_at_end;
	uint64_t messages;
	uint64_t bytes;
	int64_t start_ns, first_ns, last_ns;
} raw_state;

static volatile sig_atomic_t raw_stop;

static void raw_signal_cb(int sig)
{
	(void)sig;
	raw_stop = 1;
}

static int64_t raw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ----------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------- */

static void raw_usage(FILE *out)
{
	fprintf(out,
		"Usage: advocacyd-rawconsume --brokers HOST:PORT --topic T [--topic T...] [OPTIONS]\n"
		"\n"
		"Counts the messages of the topics from their first offset, as fast as a\n"
		"consumer set up like advocacyd's can, and prints one JSON line with the count\n"
		"and the rate (messages_per_s, from the first message to the last).\n"
		"\n"
		"Options:\n"
		"  -b, --brokers LIST          bootstrap servers (required)\n"
		"  -t, --topic NAME            topic to read; repeatable, at most %d (required)\n"
		"  -n, --count N               stop after N messages (default 0: when every\n"
		"                              partition has reported its end)\n"
		"      --batch N               messages per batch, 1..1000000 (default 10000,\n"
		"                              as kafka.batch_max_messages)\n"
		"      --prefetch-kbytes K     queued.max.messages.kbytes, 1024..2097151\n"
		"                              (default 1048576)\n"
		"      --idle-timeout S        exit 1 after S seconds without a message\n"
		"                              (default 60)\n"
		"  -h, --help                  show this help and exit\n"
		"\n"
		"Exit status: 0 when the count or the end of every partition was reached,\n"
		"1 on a Kafka error or the idle timeout, 2 on a usage error.\n",
		RAW_MAX_TOPICS);
}

/* Parses a decimal integer in [min, max]; returns 0 or -1 with a message. */
static int raw_parse_long(const char *name, const char *text, long min, long max, long *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
		fprintf(stderr,
			"advocacyd-rawconsume: invalid value '%s' for --%s: expected an integer "
			"from %ld to %ld\n",
			text, name, min, max);
		return -1;
	}
	*out = (long)v;
	return 0;
}

enum { RAW_OPT_BATCH = 256, RAW_OPT_PREFETCH, RAW_OPT_IDLE };

/* clang-format off */
static const struct option raw_longopts[] = {
	{ "brokers", required_argument, NULL, 'b' },
	{ "topic", required_argument, NULL, 't' },
	{ "count", required_argument, NULL, 'n' },
	{ "batch", required_argument, NULL, RAW_OPT_BATCH },
	{ "prefetch-kbytes", required_argument, NULL, RAW_OPT_PREFETCH },
	{ "idle-timeout", required_argument, NULL, RAW_OPT_IDLE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
/* clang-format on */

static int raw_add_topic(raw_options *o, const char *name)
{
	if (o->n_topics == RAW_MAX_TOPICS) {
		fprintf(stderr, "advocacyd-rawconsume: more than %d --topic options; run one "
				"consumer per group of topics\n",
			RAW_MAX_TOPICS);
		return -1;
	}
	o->topics[o->n_topics++] = name;
	return 0;
}

/* Applies one option; returns 0, 1 to exit 0 (help shown) or -1 on error. */
static int raw_parse_option(raw_options *o, int opt, const char *arg)
{
	switch (opt) {
	case 'b':
		o->brokers = arg;
		return 0;
	case 't':
		return raw_add_topic(o, arg);
	case 'n':
		return raw_parse_long("count", arg, 0, LONG_MAX, &o->count);
	case RAW_OPT_BATCH:
		return raw_parse_long("batch", arg, 1, 1000000, &o->batch);
	case RAW_OPT_PREFETCH:
		return raw_parse_long("prefetch-kbytes", arg, 1024, 2097151, &o->prefetch_kbytes);
	case RAW_OPT_IDLE:
		return raw_parse_long("idle-timeout", arg, 1, 86400, &o->idle_timeout_s);
	case 'h':
		raw_usage(stdout);
		return 1;
	default:
		fprintf(stderr, "Try 'advocacyd-rawconsume --help'.\n");
		return -1;
	}
}

/* Returns 0 to run, 1 to exit 0 (help shown), -1 to exit with a usage error. */
static int raw_parse_args(int argc, char **argv, raw_options *o)
{
	int opt, rc;

	*o = (raw_options){.batch = 10000, .prefetch_kbytes = 1048576, .idle_timeout_s = 60};
	while ((opt = getopt_long(argc, argv, "b:t:n:h", raw_longopts, NULL)) != -1) {
		rc = raw_parse_option(o, opt, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "advocacyd-rawconsume: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->brokers || o->n_topics == 0) {
		fprintf(stderr, "advocacyd-rawconsume: --brokers and at least one --topic are "
				"required; see --help\n");
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------------------------
 * Partitions and their end
 * ------------------------------------------------------------------------- */

static raw_partition *raw_find(raw_state *s, const char *topic, int32_t partition)
{
	for (int i = 0; i < s->n_parts; i++)
		if (s->parts[i].partition == partition && strcmp(s->parts[i].topic, topic) == 0)
			return &s->parts[i];
	return NULL;
}

/* Tracks the partitions of the assignment, none of them at its end yet. */
static void raw_track_assignment(raw_state *s, const rd_kafka_topic_partition_list_t *list)
{
	s->n_parts = 0;
	s->n_at_end = 0;
	for (int i = 0; i < list->cnt && s->n_parts < RAW_MAX_PARTITIONS; i++) {
		raw_partition *p = &s->parts[s->n_parts++];

		snprintf(p->topic, sizeof(p->topic), "%s", list->elems[i].topic);
		p->partition = list->elems[i].partition;
		p->at_end = false;
	}
	if (list->cnt > RAW_MAX_PARTITIONS)
		fprintf(stderr,
			"advocacyd-rawconsume: %d partitions assigned, only the first %d are "
			"tracked for their end; use --count\n",
			list->cnt, RAW_MAX_PARTITIONS);
}

static void raw_mark_end(raw_state *s, const char *topic, int32_t partition, bool at_end)
{
	raw_partition *p = raw_find(s, topic, partition);

	if (!p || p->at_end == at_end)
		return;
	p->at_end = at_end;
	s->n_at_end += at_end ? 1 : -1;
}

/* ----------------------------------------------------------------------------
 * Consumer
 * ------------------------------------------------------------------------- */

static int raw_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
		return 0;
	fprintf(stderr, "advocacyd-rawconsume: invalid consumer setting %s=%s: %s\n", key, value,
		errstr);
	return -1;
}

/*
 * Adds every partition of the topic to list, at its first offset, from the
 * broker's metadata. Returns 0, or -1 after printing why not.
 */
static int raw_list_partitions(rd_kafka_t *rk, const char *name,
			       rd_kafka_topic_partition_list_t *list)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, name, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__INVALID_ARG;
	int rc = -1;

	if (rkt)
		err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
	if (err) {
		fprintf(stderr,
			"advocacyd-rawconsume: cannot read the metadata of topic %s: %s; is the "
			"broker up?\n",
			name, rd_kafka_err2str(err));
	} else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
		fprintf(stderr, "advocacyd-rawconsume: topic %s not found at the broker: %s\n", name,
			rd_kafka_err2str(md->topic_cnt == 1 ? md->topics[0].err
							    : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
	} else {
		for (int p = 0; p < md->topics[0].partition_cnt; p++)
			rd_kafka_topic_partition_list_add(list, name, md->topics[0].partitions[p].id)
			    ->offset = RD_KAFKA_OFFSET_BEGINNING;
		rc = 0;
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	return rc;
}

/* Assigns every partition of the topics at its first offset; returns 0 or -1. */
static int raw_assign_all(rd_kafka_t *rk, const raw_options *o, raw_state *s)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(64);
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	int rc = 0;

	for (int i = 0; rc == 0 && i < o->n_topics; i++)
		rc = raw_list_partitions(rk, o->topics[i], list);
	if (rc == 0) {
		raw_track_assignment(s, list);
		err = rd_kafka_assign(rk, list);
	}
	if (err) {
		fprintf(stderr, "advocacyd-rawconsume: cannot assign the partitions: %s\n",
			rd_kafka_err2str(err));
		rc = -1;
	}
	rd_kafka_topic_partition_list_destroy(list);
	return rc;
}

/* Creates the consumer and assigns it the topics; returns NULL after printing why not. */
static rd_kafka_t *raw_consumer_new(const raw_options *o, raw_state *s)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char prefetch[32], errstr[512];
	rd_kafka_t *rk;

	snprintf(prefetch, sizeof(prefetch), "%ld", o->prefetch_kbytes);
	if (raw_conf_set(conf, "bootstrap.servers", o->brokers) ||
	    raw_conf_set(conf, "client.id", "advocacyd-rawconsume") ||
	    /* rd_kafka_assign() needs a group id, though no group is joined. */
	    raw_conf_set(conf, "group.id", "advocacyd-rawconsume") ||
	    raw_conf_set(conf, "enable.auto.commit", "false") ||
	    raw_conf_set(conf, "enable.auto.offset.store", "false") ||
	    raw_conf_set(conf, "auto.offset.reset", "earliest") ||
	    raw_conf_set(conf, "enable.partition.eof", "true") ||
	    raw_conf_set(conf, "queued.min.messages", "10000000") ||
	    raw_conf_set(conf, "queued.max.messages.kbytes", prefetch)) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "advocacyd-rawconsume: cannot create the consumer: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_poll_set_consumer(rk);
	if (raw_assign_all(rk, o, s) < 0) {
		rd_kafka_destroy(rk);
		return NULL;
	}
	return rk;
}

/* Counts one message or end-of-partition event; returns -1 on a fatal error. */
static int raw_take(raw_state *s, const rd_kafka_message_t *m)
{
	const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "-";

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		raw_mark_end(s, topic, m->partition, true);
		return 0;
	}
	if (m->err) {
		fprintf(stderr, "advocacyd-rawconsume: consumer error on %s [%" PRId32 "]: %s\n",
			topic, m->partition, rd_kafka_message_errstr(m));
		return m->err == RD_KAFKA_RESP_ERR__FATAL ? -1 : 0;
	}
	if (s->messages++ == 0)
		s->first_ns = raw_now_ns();
	s->bytes += m->len;
	raw_mark_end(s, topic, m->partition, false);
	return 0;
}

static bool raw_done(const raw_options *o, const raw_state *s)
{
	if (o->count > 0 && s->messages >= (uint64_t)o->count)
		return true;
	return s->n_parts > 0 && s->n_at_end == s->n_parts;
}

/*
 * Returns how many messages the next rd_kafka_consume_batch_queue() call may
 * take: at most RAW_POLL_CHUNK, the rest of the batch and, with --count, the
 * messages still missing, so that the count is never passed. Called only
 * while raw_done() is false, so the result is at least 1.
 */
static long raw_chunk_size(const raw_options *o, const raw_state *s, long taken)
{
	long want = o->batch - taken < RAW_POLL_CHUNK ? o->batch - taken : RAW_POLL_CHUNK;

	if (o->count > 0 && (uint64_t)o->count - s->messages < (uint64_t)want)
		want = (long)((uint64_t)o->count - s->messages);
	return want;
}

/*
 * Takes one batch of up to o->batch messages, as the daemon does: chunks of
 * RAW_POLL_CHUNK until the queue runs dry. The first chunk waits up to
 * 100 ms. Returns the messages taken, or -1 on a fatal error.
 */
static long raw_batch(rd_kafka_queue_t *queue, const raw_options *o, raw_state *s)
{
	rd_kafka_message_t *msgs[RAW_POLL_CHUNK];
	long taken = 0;
	int timeout_ms = 100;

	while (taken < o->batch && !raw_done(o, s)) {
		long want = raw_chunk_size(o, s, taken);
		ssize_t n = rd_kafka_consume_batch_queue(queue, timeout_ms, msgs, (size_t)want);
		int rc = 0;

		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (rc == 0)
				rc = raw_take(s, msgs[i]);
			rd_kafka_message_destroy(msgs[i]);
		}
		if (rc < 0)
			return -1;
		taken += n;
		timeout_ms = 0;
		if (n < want)
			break;
	}
	if (taken > 0)
		s->last_ns = raw_now_ns();
	return taken;
}

/* Polls until done, the idle timeout or a signal; returns 0 when done. */
static int raw_run(rd_kafka_t *rk, const raw_options *o, raw_state *s)
{
	rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
	int64_t idle_since = raw_now_ns();
	int rc = -1;

	while (!raw_stop) {
		long n = raw_batch(queue, o, s);

		if (n < 0)
			break;
		if (raw_done(o, s)) {
			rc = 0;
			break;
		}
		if (n > 0) {
			idle_since = raw_now_ns();
		} else if (raw_now_ns() - idle_since > (int64_t)o->idle_timeout_s * 1000000000) {
			fprintf(stderr,
				"advocacyd-rawconsume: no message for %lds after %" PRIu64
				" messages; is the broker up and are the topics filled?\n",
				o->idle_timeout_s, s->messages);
			break;
		}
	}
	rd_kafka_queue_destroy(queue);
	return rc;
}

static void raw_print(const raw_state *s, bool complete)
{
	double seconds = (double)(s->last_ns - s->first_ns) / 1e9;
	double from_start = (double)(s->last_ns - s->start_ns) / 1e9;
	double rate = seconds > 0 ? (double)s->messages / seconds : 0;

	if (s->messages == 0)
		seconds = from_start = 0;
	printf("{\"messages\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"partitions\": %d, "
	       "\"seconds\": %.3f, \"seconds_from_start\": %.3f, \"messages_per_s\": %.0f, "
	       "\"complete\": %s}\n",
	       s->messages, s->bytes, s->n_parts, seconds, from_start, rate,
	       complete ? "true" : "false");
	fflush(stdout);
}

static void raw_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = raw_signal_cb;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int main(int argc, char **argv)
{
	static raw_state s; /* large: the partition table */
	raw_options o;
	int parsed = raw_parse_args(argc, argv, &o);
	rd_kafka_t *rk;
	int rc;

	if (parsed != 0)
		return parsed > 0 ? 0 : 2;
	raw_install_signals();
	s.start_ns = raw_now_ns();
	rk = raw_consumer_new(&o, &s);
	if (!rk)
		return 1;
	rc = raw_run(rk, &o, &s);
	/* Complete: the count was reached, or without --count every partition's end. */
	raw_print(&s, rc == 0 && (o.count == 0 || s.messages >= (uint64_t)o.count));
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return rc == 0 ? 0 : 1;
}
