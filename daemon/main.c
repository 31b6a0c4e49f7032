/*
 * main.c - advocacyd's command line: run, check a config, forget a person,
 * backfill a Slack export, print the scorecard report, help, version.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "app.h"
#include "backfill.h"
#include "check_target.h"
#include "config.h"
#include "erasure.h"
#include "forget.h"
#include "log.h"
#include "privacy.h"
#include "report.h"

static void main_usage(FILE *out)
{
	fprintf(out,
	        "Usage: advocacyd --config FILE [--log-level LEVEL] [--log-format FORMAT]\n"
	        "       advocacyd --check-config FILE [--target KPI [--scope SCOPE]\n"
	        "                 [--segment VALUE]]\n"
	        "       advocacyd forget --config FILE --employee ID [--request-id TEXT]\n"
	        "       advocacyd backfill --config FILE --export DIR [--topic TOPIC] [--dry-run]\n"
	        "                          [--since DATE] [--until DATE]\n"
	        "       advocacyd report --config FILE [--scope SCOPE] [--format table|json]\n"
	        "       advocacyd --help | --version\n"
	        "\n"
	        "Reads collaboration and intranet events from Kafka, pseudonymizes them,\n"
	        "keeps rolling windows of advocacy behaviours in Redis and produces KPI\n"
	        "updates and escalations to Kafka.\n"
	        "\n"
	        "Options:\n"
	        "  -c, --config FILE        run with the YAML configuration FILE\n"
	        "      --check-config FILE  validate FILE (and its HMAC key file), print the\n"
	        "                           result and exit: 0 valid, 2 invalid\n"
	        "      --target KPI         with --check-config: also print the effective\n"
	        "                           target of KPI for --scope and the rule it came from\n"
	        "      --scope SCOPE        scope name as the KPI topic writes it, e.g.\n"
	        "                           team:Payments; default org\n"
	        "      --segment VALUE      segment of a team or department (the daemon takes\n"
	        "                           it from the roster: what most members share)\n"
	        "  -l, --log-level LEVEL    debug, info (default), warn or error\n"
	        "      --log-format FORMAT  logfmt (default) or json, the format of log lines\n"
	        "  -h, --help               show this help and exit\n"
	        "  -V, --version            show the version and exit\n"
	        "\n"
	        "Commands:\n"
	        "  forget                   erase one person on a data-subject request: a\n"
	        "                           tombstone for their roster entry, their per-person\n"
	        "                           Redis keys, then a governance record. Takes\n"
	        "                           --config, --log-level and:\n"
	        "      --employee ID        the employee id as the roster topic keys it; \"-\"\n"
	        "                           reads it from the first line of standard input\n"
	        "      --request-id TEXT    reference of the request: letters, digits, '_',\n"
	        "                           '.', ':' and '-'; default erasure-<UTC time>-<pid>\n"
	        "  backfill                 produce the history in a Slack export folder as\n"
	        "                           canonical events to an input topic; running it\n"
	        "                           again counts nothing twice. Takes --config,\n"
	        "                           --log-level and:\n"
	        "      --export DIR         the unzipped export: users.json, channels.json and\n"
	        "                           one folder of YYYY-MM-DD.json files per channel\n"
	        "      --topic TOPIC        topic to produce to; default the first input topic\n"
	        "                           of format avro\n"
	        "      --dry-run            read and count, produce nothing\n"
	        "      --since DATE         only events from DATE (YYYY-MM-DD, 00:00 UTC) on\n"
	        "      --until DATE         only events up to the end of DATE (UTC)\n"
	        "  report                   print the scorecard the daemon keeps in Redis for\n"
	        "                           one scope: index, quadrant sub-indices, KPIs\n"
	        "                           against targets, contributions. Takes --config and:\n"
	        "      --scope SCOPE        org (default), department:NAME, team:NAME, ...\n"
	        "      --format FORMAT      table (default) or json\n"
	        "\n"
	        "SIGHUP reloads FILE. SIGTERM or SIGINT finishes the current batch, commits\n"
	        "and flushes within shutdown.drain_timeout; a second signal stops at once.\n"
	        "Exit status: 0 stopped cleanly or done, 1 runtime failure, 2 usage error or\n"
	        "invalid configuration, 3 stopped before the drain finished. report exits 3\n"
	        "when Redis holds no scorecard yet and 4 when the scope is not in it.\n"
	        "See advocacyd(8).\n");
}

static int64_t main_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Applies --log-level; returns -1 after printing why the value is invalid. */
static int main_set_log_level(const char *name)
{
	int level = log_level_parse(name);

	if (level < 0) {
		fprintf(stderr, "advocacyd: invalid --log-level '%s'; use debug, info, warn or "
		        "error\n", name);
		return -1;
	}
	log_init((log_level)level, 0);
	return 0;
}

/* Loads the config and the key it names, the way the daemon would at start. */
static int main_check_config(const char *path, const check_target_query *query)
{
	config *cfg = NULL;
	privacy *p = NULL;
	char err[1024];
	int rc;

	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (privacy_new(cfg->privacy.key_file, cfg->privacy.key_id, 1, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: privacy.key_file: %s\n", path, err);
		config_free(cfg);
		return 2;
	}
	/* The admin tokens file and TLS files are read at start too. */
	if (admin_check_files(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		privacy_free(p);
		config_free(cfg);
		return 2;
	}
	/* A malformed --target query fails before the config is reported valid. */
	if (query->kpi && check_target_check(cfg, query, stderr) != 0) {
		privacy_free(p);
		config_free(cfg);
		return 2;
	}
	printf("%s: valid (%zu input topics, %zu behaviours, %zu KPIs, %zu rolling windows)\n", path,
	       cfg->kafka.n_inputs, cfg->n_behaviours, cfg->n_kpis, cfg->windows.n_windows);
	if (cfg->kpi_catalog)
		printf("%s: KPIs read from %s; config version %s\n", path, cfg->kpi_catalog,
		       cfg->version);
	fflush(stdout); /* the config lines before any warning of the query */
	rc = query->kpi ? check_target_print(cfg, query, stdout, stderr) : 0;
	privacy_free(p);
	config_free(cfg);
	return rc;
}

static int main_run(const char *path)
{
	config *cfg = NULL;
	char err[1024];

	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		log_error("main", "invalid configuration", "error=\"%s\"", err);
		return 2;
	}
	/* The app owns the config from here on: a reload replaces it. */
	return app_run(cfg);
}

/*
 * Reads the employee id from the first line of stdin, without the line end.
 * *len counts every byte of the line, NUL bytes and bytes past size - 1
 * included, so that the id check rejects such a line instead of erasing a
 * cut-off id. Returns -1 when stdin has no line.
 */
static int main_read_employee(char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getchar()) != EOF && c != '\n') {
		if (n < size - 1)
			buf[n] = (char)c;
		n++;
	}
	if (c == EOF && n == 0)
		return -1;
	if (n > 0 && n < size && buf[n - 1] == '\r')
		n--;
	buf[n < size - 1 ? n : size - 1] = '\0';
	*len = n;
	return 0;
}

static int main_forget_with(const char *config_path, const forget_request *req)
{
	config *cfg = NULL;
	erasure_counts counts;
	char err[1024];

	if (config_load(config_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "advocacyd forget: %s\n", err);
		return FORGET_INVALID;
	}
	int rc = forget_run(cfg, req, &counts, err, sizeof(err));
	if (rc == FORGET_OK)
		printf("advocacyd forget: request %s done: %" PRId32 " roster tombstone%s (one per "
		       "partition of %s), %" PRIu64 " per-person Redis key%s deleted, governance "
		       "record on %s\n", req->request_id, counts.roster_tombstones,
		       counts.roster_tombstones == 1 ? "" : "s", cfg->kafka.roster_topic,
		       counts.redis_person_keys, counts.redis_person_keys == 1 ? "" : "s",
		       cfg->outputs.governance_topic);
	else
		fprintf(stderr, "advocacyd forget: %s\n", err);
	config_free(cfg);
	return rc;
}

/* advocacyd forget --config FILE --employee ID [--request-id TEXT] */
static int main_forget(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "employee", required_argument, NULL, 'e' },
		{ "request-id", required_argument, NULL, 'r' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *employee = NULL, *request_id = NULL;
	char id_buf[ERASURE_EMPLOYEE_ID_MAX + 2], default_request[64], err[256];
	size_t id_len;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:l:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'e':
			employee = optarg;
			break;
		case 'r':
			request_id = optarg;
			break;
		case 'l':
			if (main_set_log_level(optarg) < 0)
				return FORGET_INVALID;
			break;
		case 'h':
			main_usage(stdout);
			return FORGET_OK;
		default:
			main_usage(stderr);
			return FORGET_INVALID;
		}
	}
	if (optind < argc || !config_path || !employee) {
		fprintf(stderr, "advocacyd forget: %s; usage: advocacyd forget --config FILE "
		        "--employee ID [--request-id TEXT]\n",
		        optind < argc ? "unexpected argument" : "--config and --employee are required");
		return FORGET_INVALID;
	}

	if (strcmp(employee, "-") == 0) {
		if (main_read_employee(id_buf, sizeof(id_buf), &id_len) < 0) {
			fprintf(stderr, "advocacyd forget: --employee -: no line on standard input\n");
			return FORGET_INVALID;
		}
		employee = id_buf;
	} else {
		id_len = strlen(employee);
	}
	if (!erasure_employee_id_valid(employee, id_len, err, sizeof(err))) {
		fprintf(stderr, "advocacyd forget: --employee: %s\n", err);
		return FORGET_INVALID;
	}
	if (!request_id) {
		erasure_default_request_id(main_now_ms(), (long)getpid(), default_request,
		                           sizeof(default_request));
		request_id = default_request;
	}
	if (!erasure_request_id_valid(request_id, err, sizeof(err))) {
		fprintf(stderr, "advocacyd forget: --request-id: %s\n", err);
		return FORGET_INVALID;
	}

	forget_request req = { .employee_id = employee, .employee_id_len = id_len,
	                       .request_id = request_id };
	int rc = main_forget_with(config_path, &req);
	memset(id_buf, 0, sizeof(id_buf));
	return rc;
}

/* Parses --since or --until; the until bound is the end of its day. */
static int main_backfill_date(const char *option, const char *value, bool end_of_day,
                              int64_t *ms)
{
	if (backfill_parse_date(value, ms) < 0) {
		fprintf(stderr, "advocacyd backfill: %s '%s': not a date; use YYYY-MM-DD\n", option,
		        value);
		return -1;
	}
	if (end_of_day)
		*ms += 86400000;
	return 0;
}

static int main_backfill_with(const char *config_path, const backfill_request *req)
{
	config *cfg = NULL;
	char err[1024];

	if (config_load(config_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "advocacyd backfill: %s\n", err);
		return BACKFILL_INVALID;
	}
	int rc = backfill_run(cfg, req, stdout, err, sizeof(err));
	if (rc != BACKFILL_OK)
		fprintf(stderr, "advocacyd backfill: %s\n", err);
	config_free(cfg);
	return rc;
}

/* advocacyd backfill --config FILE --export DIR [--topic T] [--dry-run] [--since D] [--until D] */
static int main_backfill(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "export", required_argument, NULL, 'e' },
		{ "topic", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	backfill_request req = { .since_ms = INT64_MIN, .until_ms = INT64_MAX };
	const char *config_path = NULL;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:l:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'e':
			req.export_dir = optarg;
			break;
		case 't':
			req.topic = optarg;
			break;
		case 'n':
			req.dry_run = true;
			break;
		case 's':
			if (main_backfill_date("--since", optarg, false, &req.since_ms) < 0)
				return BACKFILL_INVALID;
			break;
		case 'u':
			if (main_backfill_date("--until", optarg, true, &req.until_ms) < 0)
				return BACKFILL_INVALID;
			break;
		case 'l':
			if (main_set_log_level(optarg) < 0)
				return BACKFILL_INVALID;
			break;
		case 'h':
			main_usage(stdout);
			return BACKFILL_OK;
		default:
			main_usage(stderr);
			return BACKFILL_INVALID;
		}
	}
	if (optind < argc || !config_path || !req.export_dir) {
		fprintf(stderr, "advocacyd backfill: %s; usage: advocacyd backfill --config FILE "
		        "--export DIR [--topic TOPIC] [--dry-run] [--since DATE] [--until DATE]\n",
		        optind < argc ? "unexpected argument" : "--config and --export are required");
		return BACKFILL_INVALID;
	}
	if (req.since_ms >= req.until_ms) {
		fprintf(stderr, "advocacyd backfill: --since is after --until; no event could be "
		        "kept\n");
		return BACKFILL_INVALID;
	}
	return main_backfill_with(config_path, &req);
}

static int main_report_with(const char *config_path, const report_request *req)
{
	config *cfg = NULL;
	char err[1024];
	int rc;

	if (config_load(config_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "advocacyd report: %s\n", err);
		return REPORT_INVALID;
	}
	rc = report_run(cfg, req, stdout, stderr, err, sizeof(err));
	if (rc != REPORT_OK)
		fprintf(stderr, "advocacyd report: %s\n", err);
	config_free(cfg);
	return rc;
}

/* advocacyd report --config FILE [--scope S] [--format table|json] */
static int main_report(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "scope", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	report_request req = { .scope = "org", .format = REPORT_FORMAT_TABLE };
	const char *config_path = NULL;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			req.scope = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0) {
				req.format = REPORT_FORMAT_TABLE;
			} else if (strcmp(optarg, "json") == 0) {
				req.format = REPORT_FORMAT_JSON;
			} else {
				fprintf(stderr, "advocacyd report: invalid --format '%s'; use table "
				        "or json\n", optarg);
				return REPORT_INVALID;
			}
			break;
		case 'h':
			main_usage(stdout);
			return REPORT_OK;
		default:
			main_usage(stderr);
			return REPORT_INVALID;
		}
	}
	if (optind < argc || !config_path) {
		fprintf(stderr, "advocacyd report: %s; usage: advocacyd report --config FILE "
		        "[--scope SCOPE] [--format table|json]\n",
		        optind < argc ? "unexpected argument" : "--config is required");
		return REPORT_INVALID;
	}
	req.now_ms = main_now_ms();
	return main_report_with(config_path, &req);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "target", required_argument, NULL, 'T' },
		{ "scope", required_argument, NULL, 'S' },
		{ "segment", required_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *check_path = NULL;
	check_target_query query = {0};
	int opt, format;

	/*
	 * A write to a socket the peer has reset must fail with EPIPE instead of
	 * killing the process. OpenSSL (admin TLS) and hiredis use write(2),
	 * which raises SIGPIPE, so a client aborting a TLS handshake could
	 * otherwise stop the daemon.
	 */
	signal(SIGPIPE, SIG_IGN);

	if (argc > 1 && strcmp(argv[1], "forget") == 0)
		return main_forget(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "backfill") == 0)
		return main_backfill(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return main_report(argc - 1, argv + 1);

	while ((opt = getopt_long(argc, argv, "c:l:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'C':
			check_path = optarg;
			break;
		case 'T':
			query.kpi = optarg;
			break;
		case 'S':
			query.scope = optarg;
			break;
		case 'G':
			query.segment = optarg;
			break;
		case 'l':
			if (main_set_log_level(optarg) < 0)
				return 2;
			break;
		case 'F':
			format = log_format_parse(optarg);
			if (format < 0) {
				fprintf(stderr, "advocacyd: invalid --log-format '%s'; use logfmt or "
				        "json\n", optarg);
				return 2;
			}
			log_set_format((log_format)format);
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		case 'V':
			printf("advocacyd %s\n", ADVOCACY_VERSION);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "advocacyd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if ((query.scope || query.segment) && !query.kpi) {
		fprintf(stderr, "advocacyd: --scope and --segment need --target KPI\n");
		return 2;
	}
	if (query.kpi && !check_path) {
		fprintf(stderr, "advocacyd: --target needs --check-config FILE\n");
		return 2;
	}
	if (check_path)
		return main_check_config(check_path, &query);
	if (!config_path) {
		main_usage(stderr);
		return 2;
	}
	return main_run(config_path);
}
