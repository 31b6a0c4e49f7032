/*
 * main.c - advocacyd's command line: run, check a config, help, version.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "log.h"
#include "privacy.h"

static void main_usage(FILE *out)
{
	fprintf(out,
	        "Usage: advocacyd --config FILE [--log-level LEVEL]\n"
	        "       advocacyd --check-config FILE\n"
	        "\n"
	        "Reads collaboration and intranet events from Kafka, pseudonymizes them,\n"
	        "keeps rolling windows of advocacy behaviours in Redis and produces KPI\n"
	        "updates and escalations to Kafka.\n"
	        "\n"
	        "  -c, --config FILE        run with the YAML configuration FILE\n"
	        "      --check-config FILE  validate FILE (and its HMAC key file), print the\n"
	        "                           result and exit: 0 valid, 2 invalid\n"
	        "  -l, --log-level LEVEL    debug, info (default), warn or error\n"
	        "  -h, --help               show this help\n"
	        "  -V, --version            show the version\n"
	        "\n"
	        "SIGHUP reloads FILE. SIGTERM or SIGINT finishes the current batch, commits\n"
	        "and flushes within shutdown.drain_timeout; a second signal stops at once.\n"
	        "Exit codes: 0 clean stop, 1 runtime failure, 2 usage or invalid\n"
	        "configuration, 3 stopped before the drain finished.\n");
}

/* Loads the config and the key it names, the way the daemon would at start. */
static int main_check_config(const char *path)
{
	config *cfg = NULL;
	privacy *p = NULL;
	char err[1024];

	if (config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (privacy_new(cfg->privacy.key_file, cfg->privacy.key_id, 1, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: privacy.key_file: %s\n", path, err);
		config_free(cfg);
		return 2;
	}
	printf("%s: valid (%zu input topics, %zu behaviours, %zu KPIs, %zu rolling windows)\n", path,
	       cfg->kafka.n_inputs, cfg->n_behaviours, cfg->n_kpis, cfg->windows.n_windows);
	privacy_free(p);
	config_free(cfg);
	return 0;
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

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *check_path = NULL;
	int opt, level;

	while ((opt = getopt_long(argc, argv, "c:l:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'C':
			check_path = optarg;
			break;
		case 'l':
			level = log_level_parse(optarg);
			if (level < 0) {
				fprintf(stderr, "advocacyd: invalid --log-level '%s'; use debug, info, "
				        "warn or error\n", optarg);
				return 2;
			}
			log_init((log_level)level, 0);
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
	if (check_path)
		return main_check_config(check_path);
	if (!config_path) {
		main_usage(stderr);
		return 2;
	}
	return main_run(config_path);
}
