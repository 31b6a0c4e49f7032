/*
 * devkafka.c - advocacyd-devkafka, a dev Kafka broker for tests and the demo.
 *
 * Starts librdkafka's mock cluster, which speaks the real Kafka protocol on
 * loopback TCP inside this process. It creates the requested topics, prints
 * the bootstrap address as the first line of stdout, then waits for a signal:
 *   SIGTERM, SIGINT  destroy the cluster and exit 0;
 *   SIGUSR1          take every broker down (connections dropped, new ones refused);
 *   SIGUSR2          bring every broker back up.
 *
 * Thread: the main thread only waits in sigwait(). The signals are blocked
 * before librdkafka starts its threads, which inherit the mask, so no thread
 * runs a handler and nothing busy-loops. The mock cluster runs on its own
 * librdkafka thread. The producer handle exists only to host the cluster.
 *
 * Limits of the mock cluster, measured with librdkafka 2.0.2:
 *   - each partition keeps only the newest 5 MiB or 100,000 message sets and
 *     silently drops older ones, so producing more than a few MiB before
 *     consuming loses data unless messages are keyed over enough partitions;
 *   - keyless messages go to one partition at a time (sticky partitioner);
 *   - nothing is persisted: every message is gone when the process exits;
 *   - plaintext only, because the mock cluster API takes no TLS or SASL
 *     settings, and no Admin API (CreateTopics);
 *   - a topic that a client requests and that does not exist is created
 *     automatically with 4 partitions;
 *   - the mock API is marked experimental by librdkafka and may change.
 * Anything beyond tests and the demo needs a real Apache Kafka.
 *
 * The mock brokers listen on 127.0.0.1 only (librdkafka 2.0.2, checked with
 * ss). main() checks the advertised addresses and /proc/net/tcp again at
 * every start and prints a warning if any broker is bound elsewhere.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define DEVKAFKA_MAX_TOPICS 64
#define DEVKAFKA_MAX_BROKERS 16
#define DEVKAFKA_MAX_PARTITIONS 1024

typedef struct devkafka_topic {
	char name[250];
	int partitions;
} devkafka_topic;

typedef struct devkafka_options {
	int brokers;
	devkafka_topic topics[DEVKAFKA_MAX_TOPICS];
	int n_topics;
	const char *bootstrap_file;
} devkafka_options;

static void devkafka_usage(FILE *out)
{
	fprintf(out,
		"Usage: advocacyd-devkafka [OPTIONS]\n"
		"\n"
		"Runs librdkafka's in-process mock Kafka cluster on 127.0.0.1 for tests and\n"
		"the demo. Prints the bootstrap address (host:port,...) as the first line of\n"
		"stdout, then runs until SIGTERM or SIGINT. All data lives in memory only.\n"
		"\n"
		"Options:\n"
		"  -b, --brokers N            number of brokers (1-%d, default 1)\n"
		"  -t, --topic NAME[:PARTS]   create topic NAME with PARTS partitions\n"
		"                             (default 1, replication 1); repeatable\n"
		"  -f, --bootstrap-file PATH  also write the bootstrap address to PATH\n"
		"                             (replaced atomically, removed at exit)\n"
		"  -h, --help                 show this help and exit\n"
		"\n"
		"Signals:\n"
		"  SIGTERM, SIGINT  shut the cluster down and exit 0\n"
		"  SIGUSR1          take all brokers down: connections are closed and new\n"
		"                   ones refused, to test outages\n"
		"  SIGUSR2          bring all brokers back up\n"
		"\n"
		"Limits: each partition keeps only its newest 5 MiB or 100,000 message sets\n"
		"and drops older ones silently; key messages and use enough partitions when\n"
		"producing more than a few MiB before consuming.\n",
		DEVKAFKA_MAX_BROKERS);
}

/* Parses a decimal integer in [min, max]; returns 0 or -1. */
static int devkafka_parse_int(const char *text, int min, int max, int *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* Parses "NAME" or "NAME:PARTS" into t; returns 0 or -1 with a message. */
static int devkafka_parse_topic(const char *arg, devkafka_topic *t)
{
	const char *colon = strrchr(arg, ':');
	size_t name_len = colon ? (size_t)(colon - arg) : strlen(arg);

	if (name_len == 0 || name_len >= sizeof(t->name)) {
		fprintf(stderr,
			"advocacyd-devkafka: invalid --topic '%s': the name must have "
			"1 to %zu characters\n",
			arg, sizeof(t->name) - 1);
		return -1;
	}
	memcpy(t->name, arg, name_len);
	t->name[name_len] = '\0';

	t->partitions = 1;
	if (colon &&
	    devkafka_parse_int(colon + 1, 1, DEVKAFKA_MAX_PARTITIONS, &t->partitions) != 0) {
		fprintf(stderr,
			"advocacyd-devkafka: invalid --topic '%s': PARTS must be an "
			"integer from 1 to %d\n",
			arg, DEVKAFKA_MAX_PARTITIONS);
		return -1;
	}
	return 0;
}

/* Returns 0 to run, 1 to exit 0 (help shown), -1 to exit with usage error. */
static int devkafka_parse_args(int argc, char **argv, devkafka_options *opts)
{
	/* clang-format off */
	static const struct option longopts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "bootstrap-file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	int c;

	opts->brokers = 1;
	while ((c = getopt_long(argc, argv, "b:t:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (devkafka_parse_int(optarg, 1, DEVKAFKA_MAX_BROKERS, &opts->brokers)) {
				fprintf(stderr,
					"advocacyd-devkafka: invalid --brokers '%s': "
					"expected an integer from 1 to %d\n",
					optarg, DEVKAFKA_MAX_BROKERS);
				return -1;
			}
			break;
		case 't':
			if (opts->n_topics == DEVKAFKA_MAX_TOPICS) {
				fprintf(stderr,
					"advocacyd-devkafka: too many --topic options "
					"(max %d)\n",
					DEVKAFKA_MAX_TOPICS);
				return -1;
			}
			if (devkafka_parse_topic(optarg, &opts->topics[opts->n_topics]) != 0)
				return -1;
			opts->n_topics++;
			break;
		case 'f':
			opts->bootstrap_file = optarg;
			break;
		case 'h':
			devkafka_usage(stdout);
			return 1;
		default:
			fprintf(stderr, "Try 'advocacyd-devkafka --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "advocacyd-devkafka: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * Looks up the TCP listener on port in /proc/net/tcp. Returns 1 when it is
 * bound to 127.0.0.1, 0 when bound to another address, -1 when not found
 * (or the file is unreadable, e.g. outside Linux).
 */
static int devkafka_listener_is_loopback(unsigned port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	int found = -1;

	if (!f)
		return -1;
	while (found == -1 && fgets(line, sizeof(line), f)) {
		unsigned addr, lport, state;

		/* "  sl  local_address rem_address   st ...", addresses in hex. */
		if (sscanf(line, " %*u: %x:%x %*x:%*x %x", &addr, &lport, &state) != 3)
			continue;
		if (lport != port || state != 0x0A) /* 0x0A is TCP_LISTEN */
			continue;
		/* The kernel prints the address as a native-endian hex word. */
		found = addr == 0x0100007Fu || addr == 0x7F000001u;
	}
	fclose(f);
	return found;
}

/*
 * Checks that every broker of the bootstrap list is advertised on 127.0.0.1
 * and listens there, warning on stderr otherwise. Returns the warning count.
 */
static int devkafka_check_loopback(const char *bootstraps)
{
	char list[1024];
	char *saveptr = NULL;
	int warnings = 0;

	snprintf(list, sizeof(list), "%s", bootstraps);
	for (char *tok = strtok_r(list, ",", &saveptr); tok; tok = strtok_r(NULL, ",", &saveptr)) {
		char *colon = strrchr(tok, ':');
		int port = 0;
		int loopback;

		if (!colon || devkafka_parse_int(colon + 1, 1, 65535, &port) != 0) {
			fprintf(stderr,
				"advocacyd-devkafka: warning: cannot parse broker "
				"address '%s'\n",
				tok);
			warnings++;
			continue;
		}
		*colon = '\0';
		if (strcmp(tok, "127.0.0.1") != 0) {
			fprintf(stderr,
				"advocacyd-devkafka: warning: broker advertised on '%s', "
				"not 127.0.0.1\n",
				tok);
			warnings++;
		}
		loopback = devkafka_listener_is_loopback((unsigned)port);
		if (loopback == 0) {
			fprintf(stderr,
				"advocacyd-devkafka: warning: port %d listens on a "
				"non-loopback address\n",
				port);
			warnings++;
		} else if (loopback < 0) {
			fprintf(stderr,
				"advocacyd-devkafka: warning: no IPv4 listener found "
				"for port %d in /proc/net/tcp; cannot verify the bind "
				"address\n",
				port);
			warnings++;
		}
	}
	return warnings;
}

/* Writes text and a newline to path through a temporary file and rename(). */
static int devkafka_write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *f;
	int failed;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "advocacyd-devkafka: --bootstrap-file path is too long\n");
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "advocacyd-devkafka: cannot write %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	failed = fprintf(f, "%s\n", text) < 0;
	failed |= fclose(f) != 0;
	if (failed || rename(tmp, path) != 0) {
		fprintf(stderr, "advocacyd-devkafka: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Creates the host producer; librdkafka threads inherit the blocked signals. */
static rd_kafka_t *devkafka_host_new(void)
{
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;

	/*
	 * Level 4 hides the notice that this client has no bootstrap.servers:
	 * it never connects anywhere, it only hosts the cluster.
	 */
	if (rd_kafka_conf_set(conf, "client.id", "advocacyd-devkafka", errstr, sizeof(errstr)) !=
		RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "advocacyd-devkafka: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "advocacyd-devkafka: cannot create the host client: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

static int devkafka_create_topics(rd_kafka_mock_cluster_t *mc, const devkafka_options *opts)
{
	for (int i = 0; i < opts->n_topics; i++) {
		const devkafka_topic *t = &opts->topics[i];
		rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, t->name, t->partitions, 1);

		if (err) {
			fprintf(stderr, "advocacyd-devkafka: cannot create topic '%s': %s\n",
				t->name, rd_kafka_err2str(err));
			return -1;
		}
	}
	return 0;
}

/* Sets every broker down (up == 0) or up (up == 1), logging failures. */
static void devkafka_set_brokers(rd_kafka_mock_cluster_t *mc, int brokers, int up)
{
	/* Mock broker ids run from 1 to the broker count. */
	for (int32_t id = 1; id <= brokers; id++) {
		rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(mc, id)
					     : rd_kafka_mock_broker_set_down(mc, id);
		if (err)
			fprintf(stderr, "advocacyd-devkafka: cannot set broker %d %s: %s\n", id,
				up ? "up" : "down", rd_kafka_err2str(err));
	}
	fprintf(stderr, "advocacyd-devkafka: all %d broker(s) %s\n", brokers, up ? "up" : "down");
}

/* Waits for signals in set until SIGTERM or SIGINT; returns 0, or -1 on error. */
static int devkafka_wait(rd_kafka_mock_cluster_t *mc, int brokers, const sigset_t *set)
{
	for (;;) {
		int sig = 0;
		int err = sigwait(set, &sig);

		if (err != 0) {
			fprintf(stderr, "advocacyd-devkafka: sigwait failed: %s\n", strerror(err));
			return -1;
		}
		if (sig == SIGUSR1)
			devkafka_set_brokers(mc, brokers, 0);
		else if (sig == SIGUSR2)
			devkafka_set_brokers(mc, brokers, 1);
		else
			return 0;
	}
}

int main(int argc, char **argv)
{
	devkafka_options opts = {0};
	rd_kafka_mock_cluster_t *mc = NULL;
	rd_kafka_t *rk = NULL;
	const char *bootstraps;
	sigset_t set;
	int parsed, rc = 1;

	parsed = devkafka_parse_args(argc, argv, &opts);
	if (parsed != 0)
		return parsed > 0 ? 0 : 2;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		fprintf(stderr, "advocacyd-devkafka: cannot block signals\n");
		return 1;
	}

	rk = devkafka_host_new();
	if (!rk)
		goto out;
	mc = rd_kafka_mock_cluster_new(rk, opts.brokers);
	if (!mc) {
		fprintf(stderr, "advocacyd-devkafka: cannot create the mock cluster\n");
		goto out;
	}
	if (devkafka_create_topics(mc, &opts) != 0)
		goto out;

	bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
	devkafka_check_loopback(bootstraps);
	if (opts.bootstrap_file && devkafka_write_file(opts.bootstrap_file, bootstraps) != 0)
		goto out;
	printf("%s\n", bootstraps);
	fflush(stdout);
	fprintf(stderr, "advocacyd-devkafka: ready: bootstrap=%s brokers=%d topics=%d pid=%ld\n",
		bootstraps, opts.brokers, opts.n_topics, (long)getpid());

	if (devkafka_wait(mc, opts.brokers, &set) == 0)
		rc = 0;
	fprintf(stderr, "advocacyd-devkafka: shutting down\n");
	if (opts.bootstrap_file)
		unlink(opts.bootstrap_file);

out:
	if (mc)
		rd_kafka_mock_cluster_destroy(mc);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}
