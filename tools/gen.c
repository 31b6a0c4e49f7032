/*
 * gen.c - advocacyd-gen, a seeded generator of realistic advocacy traffic.
 *
 * Produces to Kafka, in this order:
 *   1. the roster: one JSON record per employee, keyed by employee id;
 *   2. a backlog of canonical AdvocacyEvent records (Avro, optionally in the
 *      Confluent wire format) and Slack Events API envelopes (JSON). Event
 *      times spread over the last --days days, weighted towards weekday
 *      working hours in three regions. Both streams are merged in ascending
 *      event time;
 *   3. a few malformed messages (truncated Avro, invalid JSON, a JSON message
 *      over 1 MiB, ...) spread through the backlog;
 *   4. with --live, more events with event time = now at --rate, until the
 *      given number of seconds has passed or SIGINT/SIGTERM arrives.
 * Then it waits for every delivery report and prints a summary to stderr.
 * The exit status is non-zero when any message failed delivery.
 *
 * Determinism: every random choice comes from splitmix64 generators seeded by
 * --seed. The roster has its own generator, so the same --seed and
 * --employees give the same people in every run whatever the event options,
 * and a roster-only run matches a later --no-roster run. Event times depend
 * on the wall clock, so the bytes differ between runs; the choices do not.
 * --roster-seed seeds the roster alone, so that a --no-roster run with another
 * --seed (new event ids, which the daemon would otherwise drop as repeats)
 * acts on the same people.
 *
 * The organisation is skewed on purpose: some teams are far more active than
 * others, and the Finance department is nearly silent, so that KPI
 * thresholds of the "below target" kind fire in the demo.
 *
 * Every message is keyed (roster by employee id, events by event id), so the
 * dev broker spreads them over partitions instead of filling one partition,
 * which would drop old messages beyond 5 MiB.
 *
 * Personal data is made up: names come from fixed lists of invented first
 * and last names, e-mails are on example.com. Message texts sometimes carry
 * a name and an e-mail on purpose, and --ids-file lists every id, name and
 * e-mail used, so that tests can prove none of them leaks past advocacyd.
 *
 * Single-threaded, apart from librdkafka's own threads.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "decode_avro.h"
#include "event.h"

/* ----------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------- */

#define GEN_MAX_EMPLOYEES 999999   /* ids are E000001..E999999 */
#define GEN_LIVE_DEFAULT_RATE 50.0 /* events per second in --live when --rate is 0 */

typedef struct gen_options {
	const char *brokers;
	const char *events_topic;
	const char *slack_topic;
	const char *roster_topic;
	const char *ids_file;
	long employees;
	long days;
	long events;
	long slack_events;
	long malformed;
	uint64_t seed;
	uint64_t roster_seed;
	bool roster_seed_set;
	double rate;
	long live_seconds;
	bool roster_only;
	bool no_roster;
	int32_t schema_id; /* -1: bare Avro datum */
	bool quiet;
} gen_options;

static void gen_usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: advocacyd-gen --brokers HOST:PORT[,...] [OPTIONS]\n"
	    "\n"
	    "Produces a seeded, realistic stream of advocacy events to Kafka: a roster,\n"
	    "canonical Avro events, Slack Events API envelopes and a few malformed messages.\n"
	    "Prints a summary to stderr; exits non-zero when any message is not delivered.\n"
	    "\n"
	    "Options:\n"
	    "  -b, --brokers LIST       bootstrap servers (required)\n"
	    "      --events-topic T     canonical Avro events topic (default advocacy.events)\n"
	    "      --slack-topic S      Slack JSON events topic (default slack.events)\n"
	    "      --roster-topic R     roster topic (default advocacy.roster)\n"
	    "      --employees N        employees in the roster (default 300, max %d)\n"
	    "      --days D             spread backlog event times over the last D days\n"
	    "                           ending now (default 7, max 365)\n"
	    "      --events N           canonical events in the backlog (default 20000)\n"
	    "      --slack-events N     Slack events in the backlog (default 5000)\n"
	    "      --malformed N        malformed messages in the backlog (default 5)\n"
	    "      --seed S             seed of every random choice (default 1)\n"
	    "      --roster-seed S      seed of the roster alone (default: --seed)\n"
	    "      --rate R             messages per second, 0 = as fast as possible\n"
	    "                           (default 0)\n"
	    "      --live SECONDS       after the backlog, produce events with event time\n"
	    "                           = now for SECONDS, at --rate (%.0f/s when --rate is 0)\n"
	    "      --roster-only        produce the roster and nothing else\n"
	    "      --no-roster          do not produce the roster\n"
	    "      --schema-id N        frame Avro events in the Confluent wire format\n"
	    "                           with schema id N (default: bare Avro datum)\n"
	    "      --ids-file PATH      write every raw id, name and e-mail used, one per\n"
	    "                           line, for privacy scans\n"
	    "  -q, --quiet              print only the per-topic delivery lines and errors\n"
	    "  -h, --help               show this help and exit\n",
	    GEN_MAX_EMPLOYEES, GEN_LIVE_DEFAULT_RATE);
}

/* Parses a decimal integer in [min, max]; returns 0 or -1. */
static int gen_parse_long(const char *text, long min, long max, long *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
		return -1;
	*out = (long)v;
	return 0;
}

enum {
	GEN_OPT_EVENTS_TOPIC = 256,
	GEN_OPT_SLACK_TOPIC,
	GEN_OPT_ROSTER_TOPIC,
	GEN_OPT_EMPLOYEES,
	GEN_OPT_DAYS,
	GEN_OPT_EVENTS,
	GEN_OPT_SLACK_EVENTS,
	GEN_OPT_MALFORMED,
	GEN_OPT_SEED,
	GEN_OPT_ROSTER_SEED,
	GEN_OPT_RATE,
	GEN_OPT_LIVE,
	GEN_OPT_ROSTER_ONLY,
	GEN_OPT_NO_ROSTER,
	GEN_OPT_SCHEMA_ID,
	GEN_OPT_IDS_FILE,
};

/* clang-format off */
static const struct option gen_longopts[] = {
	{ "brokers", required_argument, NULL, 'b' },
	{ "events-topic", required_argument, NULL, GEN_OPT_EVENTS_TOPIC },
	{ "slack-topic", required_argument, NULL, GEN_OPT_SLACK_TOPIC },
	{ "roster-topic", required_argument, NULL, GEN_OPT_ROSTER_TOPIC },
	{ "employees", required_argument, NULL, GEN_OPT_EMPLOYEES },
	{ "days", required_argument, NULL, GEN_OPT_DAYS },
	{ "events", required_argument, NULL, GEN_OPT_EVENTS },
	{ "slack-events", required_argument, NULL, GEN_OPT_SLACK_EVENTS },
	{ "malformed", required_argument, NULL, GEN_OPT_MALFORMED },
	{ "seed", required_argument, NULL, GEN_OPT_SEED },
	{ "roster-seed", required_argument, NULL, GEN_OPT_ROSTER_SEED },
	{ "rate", required_argument, NULL, GEN_OPT_RATE },
	{ "live", required_argument, NULL, GEN_OPT_LIVE },
	{ "roster-only", no_argument, NULL, GEN_OPT_ROSTER_ONLY },
	{ "no-roster", no_argument, NULL, GEN_OPT_NO_ROSTER },
	{ "schema-id", required_argument, NULL, GEN_OPT_SCHEMA_ID },
	{ "ids-file", required_argument, NULL, GEN_OPT_IDS_FILE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
/* clang-format on */

static const char *gen_option_name(int opt)
{
	for (const struct option *o = gen_longopts; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/* Applies one numeric option; returns 0 or -1 with a message. */
static int gen_parse_number(gen_options *o, int opt, const char *arg)
{
	long v = 0;
	int rc = 0;

	switch (opt) {
	case GEN_OPT_EMPLOYEES:
		rc = gen_parse_long(arg, 1, GEN_MAX_EMPLOYEES, &o->employees);
		break;
	case GEN_OPT_DAYS:
		rc = gen_parse_long(arg, 1, 365, &o->days);
		break;
	case GEN_OPT_EVENTS:
		rc = gen_parse_long(arg, 0, LONG_MAX, &o->events);
		break;
	case GEN_OPT_SLACK_EVENTS:
		rc = gen_parse_long(arg, 0, LONG_MAX, &o->slack_events);
		break;
	case GEN_OPT_MALFORMED:
		rc = gen_parse_long(arg, 0, 1000000, &o->malformed);
		break;
	case GEN_OPT_SEED:
		rc = gen_parse_long(arg, 0, LONG_MAX, &v);
		o->seed = (uint64_t)v;
		break;
	case GEN_OPT_ROSTER_SEED:
		rc = gen_parse_long(arg, 0, LONG_MAX, &v);
		o->roster_seed = (uint64_t)v;
		o->roster_seed_set = true;
		break;
	case GEN_OPT_LIVE:
		rc = gen_parse_long(arg, 0, 30L * 86400, &o->live_seconds);
		break;
	case GEN_OPT_SCHEMA_ID:
		rc = gen_parse_long(arg, 0, INT32_MAX, &v);
		o->schema_id = (int32_t)v;
		break;
	}
	if (rc != 0)
		fprintf(stderr, "advocacyd-gen: invalid value '%s' for --%s; see --help\n", arg,
			gen_option_name(opt));
	return rc;
}

static int gen_parse_rate(gen_options *o, const char *arg)
{
	char *end = NULL;

	errno = 0;
	o->rate = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(o->rate >= 0) || o->rate > 1e9) {
		fprintf(stderr,
			"advocacyd-gen: invalid --rate '%s': expected a number of "
			"messages per second >= 0\n",
			arg);
		return -1;
	}
	return 0;
}

/* Applies one option; returns 0, 1 to exit 0 (help shown) or -1 on error. */
static int gen_parse_option(gen_options *o, int opt, const char *arg)
{
	switch (opt) {
	case 'b':
		o->brokers = arg;
		return 0;
	case GEN_OPT_EVENTS_TOPIC:
		o->events_topic = arg;
		return 0;
	case GEN_OPT_SLACK_TOPIC:
		o->slack_topic = arg;
		return 0;
	case GEN_OPT_ROSTER_TOPIC:
		o->roster_topic = arg;
		return 0;
	case GEN_OPT_IDS_FILE:
		o->ids_file = arg;
		return 0;
	case GEN_OPT_ROSTER_ONLY:
		o->roster_only = true;
		return 0;
	case GEN_OPT_NO_ROSTER:
		o->no_roster = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case GEN_OPT_RATE:
		return gen_parse_rate(o, arg);
	case 'h':
		gen_usage(stdout);
		return 1;
	default:
		if (opt >= GEN_OPT_EVENTS_TOPIC && opt <= GEN_OPT_IDS_FILE)
			return gen_parse_number(o, opt, arg);
		fprintf(stderr, "Try 'advocacyd-gen --help'.\n");
		return -1;
	}
}

/* Returns 0 to run, 1 to exit 0 (help shown), -1 to exit with a usage error. */
static int gen_parse_args(int argc, char **argv, gen_options *o)
{
	int opt, rc;

	*o = (gen_options){
	    .events_topic = "advocacy.events",
	    .slack_topic = "slack.events",
	    .roster_topic = "advocacy.roster",
	    .employees = 300,
	    .days = 7,
	    .events = 20000,
	    .slack_events = 5000,
	    .malformed = 5,
	    .seed = 1,
	    .schema_id = -1,
	};
	while ((opt = getopt_long(argc, argv, "b:qh", gen_longopts, NULL)) != -1) {
		rc = gen_parse_option(o, opt, optarg);
		if (rc != 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "advocacyd-gen: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->brokers) {
		fprintf(stderr, "advocacyd-gen: --brokers is required; see --help\n");
		return -1;
	}
	if (!o->roster_seed_set)
		o->roster_seed = o->seed;
	if (o->roster_only && o->no_roster) {
		fprintf(stderr,
			"advocacyd-gen: --roster-only and --no-roster exclude each other\n");
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------------------------
 * Random numbers: splitmix64 (Steele, Lea and Flood, 2014)
 * ------------------------------------------------------------------------- */

typedef struct gen_rng {
	uint64_t state;
} gen_rng;

static uint64_t gen_rng_next(gen_rng *r)
{
	uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Returns a double uniform in [0, 1), from the top 53 bits. */
static double gen_rng_double(gen_rng *r)
{
	return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Returns an integer uniform in [0, n); n > 0. The modulo bias is negligible here. */
static uint64_t gen_rng_below(gen_rng *r, uint64_t n)
{
	return gen_rng_next(r) % n;
}

static bool gen_rng_chance(gen_rng *r, double p)
{
	return gen_rng_double(r) < p;
}

/* Writes n random characters of alphabet and a NUL into out. */
static void gen_rng_chars(gen_rng *r, const char *alphabet, char *out, size_t n)
{
	size_t k = strlen(alphabet);

	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[gen_rng_below(r, k)];
	out[n] = '\0';
}

static const char gen_upper_alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
static const char gen_hex[] = "0123456789abcdef";

/* Picks an index from a table of weights that sum to total. */
static size_t gen_rng_pick(gen_rng *r, const double *weights, size_t n, double total)
{
	double x = gen_rng_double(r) * total;

	for (size_t i = 0; i < n; i++) {
		if (x < weights[i])
			return i;
		x -= weights[i];
	}
	return n - 1;
}

#define GEN_PICK(r, weights)                                                                       \
	gen_rng_pick((r), (weights), sizeof(weights) / sizeof((weights)[0]), 1.0)

/* ----------------------------------------------------------------------------
 * The organisation: departments, teams and employees
 * ------------------------------------------------------------------------- */

#define GEN_MAX_TEAMS_PER_DEPARTMENT 5

typedef struct gen_department {
	const char *name;
	double share;	  /* fraction of the headcount */
	double activity;  /* activity multiplier of everyone in it */
	double frontline; /* probability of the frontline segment */
	const char *teams[GEN_MAX_TEAMS_PER_DEPARTMENT];
} gen_department;

/* Team names are unique across departments: scopes are named "team:<name>". */
/* clang-format off */
static const gen_department gen_departments[] = {
	{ "Engineering", 0.22, 1.1, 0.02,
	  { "Platform", "Payments", "Mobile Apps", "Data", "Security" } },
	{ "Sales", 0.16, 1.0, 0.35,
	  { "Enterprise Sales", "SMB Sales", "Partnerships", "Sales Operations" } },
	{ "Marketing", 0.09, 1.8, 0.0, { "Brand", "Growth Marketing", "Product Marketing" } },
	{ "Customer Support", 0.17, 0.9, 0.85,
	  { "Support Tier 1", "Support Tier 2", "Customer Success", "Onboarding" } },
	{ "Operations", 0.18, 0.55, 0.9,
	  { "Warehouse North", "Warehouse South", "Logistics", "Facilities" } },
	/* Nearly silent, so that a department-level "below target" alert fires. */
	{ "Finance", 0.08, 0.02, 0.0, { "Accounting", "Financial Planning", "Procurement" } },
	{ "People", 0.10, 1.2, 0.0,
	  { "Recruiting", "Learning and Development", "HR Business Partners" } },
};
/* clang-format on */
#define GEN_N_DEPARTMENTS (sizeof(gen_departments) / sizeof(gen_departments[0]))

/* Activity multiplier by a team's position in its department: a strong skew. */
/* clang-format off */
static const double gen_team_activity[GEN_MAX_TEAMS_PER_DEPARTMENT] = { 2.4, 1.2, 0.7, 0.35,
									 0.15 };
/* clang-format on */

static const char *const gen_segments[] = {"frontline", "knowledge"};
static const char *const gen_work_modes[] = {"onsite", "remote", "hybrid"};
static const char *const gen_employment_types[] = {"full_time", "part_time", "contractor"};
static const char *const gen_regions[] = {"EMEA", "AMER", "APAC"};
static const double gen_region_share[] = {0.45, 0.35, 0.20};
static const int gen_region_utc_offset_h[] = {1, -5, 8};

/* Invented names, so that no real person is named by the generated data. */
/* clang-format off */
static const char *const gen_first_names[] = {
	"Alvara", "Bennick", "Caspia", "Dorrin", "Elowen", "Fenna", "Galvin", "Hesper",
	"Ilaria", "Jessamy", "Kestra", "Linnet", "Marek", "Noemi", "Orrin", "Perrine",
	"Quilla", "Rosamel", "Sorrel", "Tamsin", "Ulrika", "Verena", "Wystan", "Xanthe",
	"Yorrin", "Zinnia", "Anselm", "Brielle", "Corvin", "Delphine", "Emrys", "Florin",
	"Giselle", "Halvard", "Isolde", "Jorund", "Katrin", "Leander", "Mirela", "Nestor",
};
/* clang-format on */
/* clang-format off */
static const char *const gen_last_names[] = {
	"Ashdown", "Brackwater", "Colbrook", "Dunmere", "Eldersby", "Farrowell", "Greythorn",
	"Hollinsby", "Ivesdale", "Jarrowby", "Kettlewick", "Larkmoor", "Marrowfield",
	"Nethercott", "Oakhollow", "Penwarden", "Quenby", "Rookwood", "Saltmarsh",
	"Thistlewood", "Underbeck", "Vexley", "Wrenfield", "Yarrowby", "Zellbrook",
	"Amberlin", "Blackthorne", "Coldharbour", "Dewhirst", "Emberley", "Foxcombe",
	"Gildermoor", "Harrowgate", "Inchcombe", "Juniperly", "Kingsmere", "Lowenstead",
	"Moorcastle", "Northwold", "Oldacre",
};
/* clang-format on */
#define GEN_N_FIRST (sizeof(gen_first_names) / sizeof(gen_first_names[0]))
#define GEN_N_LAST (sizeof(gen_last_names) / sizeof(gen_last_names[0]))

typedef struct gen_employee {
	char id[24];	   /* "E000001" */
	char slack_id[10]; /* "U" + 8 upper-case alphanumerics */
	char name[48];
	char email[96];
	uint8_t department, team, segment, work_mode, employment_type, region;
} gen_employee;

/* Slack users outside the roster, as in shared channels. */
#define GEN_N_GUESTS 4

typedef struct gen_org {
	gen_employee *employees;
	size_t n;
	double *activity_cum;	/* cumulative activity weights, for sampling */
	uint32_t *team_members; /* employee indices grouped by team */
	size_t team_start[GEN_N_DEPARTMENTS * GEN_MAX_TEAMS_PER_DEPARTMENT + 1];
	char guests[GEN_N_GUESTS][10];
} gen_org;

static size_t gen_team_count(const gen_department *d)
{
	size_t n = 0;

	while (n < GEN_MAX_TEAMS_PER_DEPARTMENT && d->teams[n])
		n++;
	return n;
}

/* Global team index, used to group employees. */
static size_t gen_team_slot(const gen_employee *e)
{
	return (size_t)e->department * GEN_MAX_TEAMS_PER_DEPARTMENT + e->team;
}

static void gen_employee_name(gen_employee *e, size_t index)
{
	/* A stride coprime with the name grid visits every pair before repeating. */
	size_t grid = GEN_N_FIRST * GEN_N_LAST;
	size_t pair = (index * 7919) % grid;
	const char *first = gen_first_names[pair % GEN_N_FIRST];
	const char *last = gen_last_names[pair / GEN_N_FIRST];
	char suffix[24] = "";
	size_t len;

	if (index >= grid)
		snprintf(suffix, sizeof(suffix), "%zu", index / grid + 1);
	snprintf(e->name, sizeof(e->name), "%s %s", first, last);
	len = (size_t)snprintf(e->email, sizeof(e->email), "%s.%s%s@example.com", first, last,
			       suffix);
	for (size_t i = 0; i < len && e->email[i] != '@'; i++)
		e->email[i] = (char)(e->email[i] >= 'A' && e->email[i] <= 'Z' ? e->email[i] + 32
									      : e->email[i]);
}

/* Draws the attributes of one employee and returns their activity weight. */
static double gen_employee_init(gen_employee *e, size_t index, gen_rng *r)
{
	static const double frontline_modes[] = {0.80, 0.05, 0.15};
	static const double knowledge_modes[] = {0.25, 0.30, 0.45};
	static const double frontline_types[] = {0.70, 0.22, 0.08};
	static const double knowledge_types[] = {0.85, 0.05, 0.10};
	double shares[GEN_N_DEPARTMENTS];
	const gen_department *d;
	double person;

	for (size_t i = 0; i < GEN_N_DEPARTMENTS; i++)
		shares[i] = gen_departments[i].share;
	snprintf(e->id, sizeof(e->id), "E%06zu", index + 1);
	e->slack_id[0] = 'U';
	gen_rng_chars(r, gen_upper_alnum, e->slack_id + 1, 8);
	gen_employee_name(e, index);

	e->department = (uint8_t)gen_rng_pick(r, shares, GEN_N_DEPARTMENTS, 1.0);
	d = &gen_departments[e->department];
	e->team = (uint8_t)gen_rng_below(r, gen_team_count(d));
	e->segment = gen_rng_chance(r, d->frontline) ? 0 : 1;
	e->work_mode = (uint8_t)(e->segment == 0 ? GEN_PICK(r, frontline_modes)
						 : GEN_PICK(r, knowledge_modes));
	e->employment_type = (uint8_t)(e->segment == 0 ? GEN_PICK(r, frontline_types)
						       : GEN_PICK(r, knowledge_types));
	e->region = (uint8_t)GEN_PICK(r, gen_region_share);

	/* About a third of people rarely take part; the rest are exponential. */
	person = gen_rng_chance(r, 0.3) ? 0.05 : -log(1.0 - gen_rng_double(r));
	return d->activity * gen_team_activity[e->team] * person;
}

/* Groups employee indices by team (a counting sort). */
static void gen_org_index_teams(gen_org *org)
{
	size_t n_slots = GEN_N_DEPARTMENTS * GEN_MAX_TEAMS_PER_DEPARTMENT;
	size_t fill[GEN_N_DEPARTMENTS * GEN_MAX_TEAMS_PER_DEPARTMENT] = {0};

	memset(org->team_start, 0, sizeof(org->team_start));
	for (size_t i = 0; i < org->n; i++)
		org->team_start[gen_team_slot(&org->employees[i]) + 1]++;
	for (size_t s = 0; s < n_slots; s++)
		org->team_start[s + 1] += org->team_start[s];
	for (size_t i = 0; i < org->n; i++) {
		size_t s = gen_team_slot(&org->employees[i]);
		org->team_members[org->team_start[s] + fill[s]++] = (uint32_t)i;
	}
}

static void gen_org_fini(gen_org *org)
{
	free(org->employees);
	free(org->activity_cum);
	free(org->team_members);
	memset(org, 0, sizeof(*org));
}

/* Builds the roster from its own generator, so it depends only on seed and n. */
static int gen_org_init(gen_org *org, size_t n, uint64_t seed)
{
	gen_rng r = {seed ^ 0x526F737465720000ull};
	double total = 0;

	memset(org, 0, sizeof(*org));
	org->n = n;
	org->employees = calloc(n, sizeof(*org->employees));
	org->activity_cum = calloc(n, sizeof(*org->activity_cum));
	org->team_members = calloc(n, sizeof(*org->team_members));
	if (!org->employees || !org->activity_cum || !org->team_members) {
		gen_org_fini(org);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		total += gen_employee_init(&org->employees[i], i, &r);
		org->activity_cum[i] = total;
	}
	for (size_t g = 0; g < GEN_N_GUESTS; g++) {
		org->guests[g][0] = 'U';
		gen_rng_chars(&r, gen_upper_alnum, org->guests[g] + 1, 8);
	}
	gen_org_index_teams(org);
	return 0;
}

/* Picks an employee with probability proportional to their activity. */
static const gen_employee *gen_org_pick_active(const gen_org *org, gen_rng *r)
{
	double x = gen_rng_double(r) * org->activity_cum[org->n - 1];
	size_t lo = 0, hi = org->n - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (org->activity_cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return &org->employees[lo];
}

/* Picks a colleague of e: mostly from e's team, never e when avoidable. */
static const gen_employee *gen_org_pick_colleague(const gen_org *org, gen_rng *r,
						  const gen_employee *e)
{
	size_t s = gen_team_slot(e);
	size_t team_size = org->team_start[s + 1] - org->team_start[s];
	const gen_employee *c;

	for (int attempt = 0; attempt < 4; attempt++) {
		if (team_size > 1 && gen_rng_chance(r, 0.7))
			c = &org->employees[org->team_members[org->team_start[s] +
							      gen_rng_below(r, team_size)]];
		else
			c = &org->employees[gen_rng_below(r, org->n)];
		if (c != e)
			return c;
	}
	return c;
}

/* ----------------------------------------------------------------------------
 * Event times
 * ------------------------------------------------------------------------- */

/*
 * Backlog times follow a histogram with one bucket per hour of the last D
 * days, weighted by weekday and working hours in each region's local time.
 * A timeline draws n sorted uniform variates one at a time (the descending
 * order statistics v(k+1) = v(k) * U^(1/(n-k))) and maps 1 - v through the
 * histogram's inverse CDF: ascending times, in constant memory per timeline.
 */
typedef struct gen_clock {
	int64_t start_ms;
	size_t n_buckets;
	double *cum; /* cumulative bucket weights */
} gen_clock;

typedef struct gen_timeline {
	const gen_clock *clock;
	long remaining;
	double v;	 /* last descending order statistic, starts at 1 */
	int64_t next_ms; /* time of the next event, valid while remaining > 0 */
} gen_timeline;

#define GEN_HOUR_MS 3600000LL

static int64_t gen_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Relative activity at a local time: weekdays, office hours. */
static double gen_local_weight(int64_t local_s)
{
	int64_t days = local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400;
	int weekday = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
	int hour = (int)((local_s - days * 86400) / 3600);
	double day_weight = (weekday == 0 || weekday == 6) ? 0.12 : 1.0;
	double hour_weight = 0.03;

	if ((hour >= 9 && hour < 12) || (hour >= 13 && hour < 17))
		hour_weight = 1.0;
	else if (hour == 12)
		hour_weight = 0.7;
	else if (hour == 8 || hour == 17)
		hour_weight = 0.5;
	else if (hour == 7 || (hour >= 18 && hour < 21))
		hour_weight = 0.2;
	return day_weight * hour_weight;
}

static int gen_clock_init(gen_clock *c, int64_t now_ms, long days)
{
	double total = 0;

	c->n_buckets = (size_t)days * 24;
	c->start_ms = now_ms - (int64_t)c->n_buckets * GEN_HOUR_MS;
	c->cum = calloc(c->n_buckets, sizeof(*c->cum));
	if (!c->cum)
		return -1;
	for (size_t b = 0; b < c->n_buckets; b++) {
		int64_t mid_s = (c->start_ms + (int64_t)b * GEN_HOUR_MS + GEN_HOUR_MS / 2) / 1000;

		for (size_t k = 0; k < 3; k++)
			total += gen_region_share[k] *
				 gen_local_weight(mid_s + gen_region_utc_offset_h[k] * 3600);
		c->cum[b] = total;
	}
	return 0;
}

/* Maps u in [0, 1) to a time through the inverse CDF of the histogram. */
static int64_t gen_clock_time(const gen_clock *c, double u)
{
	double x = u * c->cum[c->n_buckets - 1];
	size_t lo = 0, hi = c->n_buckets - 1;
	double prev, frac;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	prev = lo > 0 ? c->cum[lo - 1] : 0.0;
	frac = (x - prev) / (c->cum[lo] - prev);
	if (frac < 0)
		frac = 0;
	if (frac >= 1)
		frac = 0.999999;
	return c->start_ms + (int64_t)lo * GEN_HOUR_MS + (int64_t)(frac * GEN_HOUR_MS);
}

static void gen_timeline_advance(gen_timeline *t, gen_rng *r)
{
	if (t->remaining <= 0)
		return;
	t->v *= pow(1.0 - gen_rng_double(r), 1.0 / (double)t->remaining);
	t->next_ms = gen_clock_time(t->clock, 1.0 - t->v);
}

static void gen_timeline_init(gen_timeline *t, const gen_clock *c, long n, gen_rng *r)
{
	*t = (gen_timeline){.clock = c, .remaining = n, .v = 1.0};
	gen_timeline_advance(t, r);
}

/* Returns the next time and moves on; call only while remaining > 0. */
static int64_t gen_timeline_take(gen_timeline *t, gen_rng *r)
{
	int64_t ms = t->next_ms;

	t->remaining--;
	gen_timeline_advance(t, r);
	return ms;
}

/* ----------------------------------------------------------------------------
 * Counters of what was generated
 * ------------------------------------------------------------------------- */

typedef enum gen_kind {
	/* canonical events */
	GEN_RECOGNITION,
	GEN_CONTENT_PUBLISHED,
	GEN_FORUM_POST,
	GEN_FORUM_REPLY,
	GEN_SHARE_EXTERNAL,
	GEN_REFERRAL,
	GEN_TRAINING_COMPLETED,
	/* Slack events */
	GEN_SLACK_REACTION_RECOGNITION,
	GEN_SLACK_REACTION_OTHER,
	GEN_SLACK_REACTION_REMOVED,
	GEN_SLACK_KUDOS_MESSAGE,
	GEN_SLACK_COMMUNITY_MESSAGE,
	GEN_SLACK_COMMUNITY_REPLY,
	GEN_SLACK_RANDOM_MESSAGE,
	GEN_SLACK_FILE_SHARE_MESSAGE,
	GEN_SLACK_FILE_SHARED,
	GEN_SLACK_MEMBER_JOINED,
	GEN_SLACK_BOT_MESSAGE,
	GEN_SLACK_MESSAGE_CHANGED,
	GEN_SLACK_MESSAGE_DELETED,
	GEN_SLACK_URL_VERIFICATION,
	/* malformed messages */
	GEN_BAD_TRUNCATED_AVRO,
	GEN_BAD_INVALID_JSON,
	GEN_BAD_OVERSIZED_JSON,
	GEN_BAD_EMPTY_KIND_AVRO,
	GEN_BAD_TRAILING_BYTES_AVRO,
	GEN_BAD_NOT_AN_OBJECT_JSON,
	GEN_BAD_GARBAGE_AVRO,
	GEN_BAD_MISSING_EVENT_JSON,
	GEN_KIND_COUNT,
} gen_kind;

#define GEN_FIRST_SLACK GEN_SLACK_REACTION_RECOGNITION
#define GEN_FIRST_BAD GEN_BAD_TRUNCATED_AVRO
#define GEN_N_CANONICAL_KINDS GEN_FIRST_SLACK
#define GEN_N_SLACK_KINDS                                                                          \
	(GEN_SLACK_URL_VERIFICATION - GEN_FIRST_SLACK) /* without url_verification */
#define GEN_N_BAD_KINDS (GEN_KIND_COUNT - GEN_FIRST_BAD)

/* clang-format off */
static const char *const gen_kind_names[] = {
	"recognition", "content_published", "forum_post", "forum_reply", "share_external",
	"referral", "training_completed",
	"reaction_recognition", "reaction_other", "reaction_removed", "kudos_message",
	"community_message", "community_reply", "random_message", "file_share_message",
	"file_shared", "member_joined_channel", "bot_message", "message_changed",
	"message_deleted", "url_verification",
	"truncated_avro", "invalid_json", "oversized_json", "empty_kind_avro",
	"trailing_bytes_avro", "not_an_object_json", "garbage_avro", "missing_event_json",
};
/* clang-format on */

_Static_assert(sizeof(gen_kind_names) / sizeof(gen_kind_names[0]) == GEN_KIND_COUNT,
	       "one name per gen_kind");

/* Relative frequencies; each table sums to 1. */
/* clang-format off */
static const double gen_canonical_mix[GEN_N_CANONICAL_KINDS] = {
	0.30, 0.08, 0.12, 0.22, 0.15, 0.03, 0.10,
};
/* clang-format on */
/* clang-format off */
static const double gen_slack_mix[GEN_N_SLACK_KINDS] = {
	0.20, 0.14, 0.02, 0.12, 0.12, 0.10, 0.10, 0.03, 0.04, 0.04, 0.04, 0.03, 0.02,
};
/* clang-format on */

/* ----------------------------------------------------------------------------
 * Producing
 * ------------------------------------------------------------------------- */

typedef struct gen_topic {
	const char *name;
	uint64_t produced;
	uint64_t delivered;
	uint64_t failed;
	rd_kafka_resp_err_t first_error;
} gen_topic;

enum { GEN_TOPIC_ROSTER, GEN_TOPIC_EVENTS, GEN_TOPIC_SLACK, GEN_N_TOPICS };

/* Recent Slack messages of a channel, for reactions, replies and edits. */
#define GEN_RING_SIZE 64

typedef struct gen_slack_message {
	char ts[32];
	const char *author; /* Slack user id; points into the org */
	char text[512];
} gen_slack_message;

typedef struct gen_channel {
	const char *id;
	gen_slack_message ring[GEN_RING_SIZE];
	size_t count; /* messages ever stored; the ring contains the newest */
} gen_channel;

enum { GEN_CH_KUDOS, GEN_CH_COMMUNITY1, GEN_CH_COMMUNITY2, GEN_CH_RANDOM, GEN_N_CHANNELS };

typedef struct gen {
	gen_options opts;
	gen_org org;
	gen_clock clock;
	gen_rng rng;
	rd_kafka_t *rk;
	avro_event_writer *writer;
	gen_topic topics[GEN_N_TOPICS];
	uint64_t kind_counts[GEN_KIND_COUNT];
	gen_channel channels[GEN_N_CHANNELS];
	uint64_t articles, posts; /* content ids handed out so far */
	double pace_rate;	  /* messages per second, 0 = no pacing */
	int64_t pace_start_ns;
	uint64_t pace_sent;
	unsigned char avro_buf[8192];
} gen;

static volatile sig_atomic_t gen_stop;

static void gen_signal_cb(int sig)
{
	(void)sig;
	gen_stop = 1;
}

static void gen_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
	gen_topic *t = msg->_private;

	(void)rk;
	(void)opaque;
	if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		t->delivered++;
		return;
	}
	if (t->failed++ == 0) {
		t->first_error = msg->err;
		fprintf(stderr, "advocacyd-gen: delivery to %s failed: %s\n", t->name,
			rd_kafka_err2str(msg->err));
	}
}

static int gen_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
		return 0;
	fprintf(stderr, "advocacyd-gen: invalid producer setting %s: %s\n", key, errstr);
	return -1;
}

static rd_kafka_t *gen_producer_new(const char *brokers)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];
	rd_kafka_t *rk;

	/* message.max.bytes above 1 MiB lets the oversized malformed message through. */
	if (gen_conf_set(conf, "bootstrap.servers", brokers) ||
	    gen_conf_set(conf, "client.id", "advocacyd-gen") ||
	    gen_conf_set(conf, "linger.ms", "20") ||
	    gen_conf_set(conf, "batch.num.messages", "10000") ||
	    gen_conf_set(conf, "queue.buffering.max.messages", "1000000") ||
	    gen_conf_set(conf, "message.max.bytes", "4194304") ||
	    gen_conf_set(conf, "message.timeout.ms", "120000")) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, gen_delivery_cb);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "advocacyd-gen: cannot create the producer: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

static int64_t gen_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps as needed so that messages leave at pace_rate per second. */
static void gen_pace(gen *g)
{
	int64_t due_ns, now_ns;

	if (g->pace_rate <= 0)
		return;
	if (g->pace_sent++ == 0)
		g->pace_start_ns = gen_monotonic_ns();
	due_ns = g->pace_start_ns + (int64_t)((double)g->pace_sent * 1e9 / g->pace_rate);
	while (!gen_stop && (now_ns = gen_monotonic_ns()) < due_ns) {
		int64_t wait_ms = (due_ns - now_ns) / 1000000;

		/* Serve delivery reports while waiting. */
		rd_kafka_poll(g->rk, (int)(wait_ms > 100 ? 100 : wait_ms));
		if (wait_ms == 0) {
			struct timespec ts = {0, (long)(due_ns - now_ns)};
			nanosleep(&ts, NULL);
		}
	}
}

/*
 * Enqueues one message (the payload is copied), waiting while the local
 * queue is full. Returns 0, or -1 when librdkafka rejects the message.
 */
static int gen_produce(gen *g, int topic, const char *key, const void *value, size_t len)
{
	gen_topic *t = &g->topics[topic];
	rd_kafka_resp_err_t err;

	for (;;) {
		err = rd_kafka_producev(
		    g->rk, RD_KAFKA_V_TOPIC(t->name), RD_KAFKA_V_KEY(key, strlen(key)),
		    RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(g->rk, 100);
	}
	rd_kafka_poll(g->rk, 0);
	if (err) {
		if (t->failed++ == 0) {
			t->first_error = err;
			fprintf(stderr, "advocacyd-gen: cannot produce to %s: %s\n", t->name,
				rd_kafka_err2str(err));
		}
		return -1;
	}
	t->produced++;
	return 0;
}

/* Serializes doc compactly, produces it keyed by key, and frees doc. */
static int gen_produce_json(gen *g, int topic, const char *key, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	int rc;

	json_decref(doc);
	if (!text) {
		fprintf(stderr, "advocacyd-gen: out of memory serializing JSON\n");
		return -1;
	}
	rc = gen_produce(g, topic, key, text, strlen(text));
	free(text);
	return rc;
}

/* ----------------------------------------------------------------------------
 * Roster
 * ------------------------------------------------------------------------- */

/* Percentage of employees whose roster record opts in to external sharing. */
#define GEN_CONSENT_PERCENT 70

/*
 * Whether the employee opted in to external sharing: a fixed function of the
 * id (FNV-1a), not a draw from the generator, so that adding it changed no
 * other value of a seeded run. share_external events are generated for
 * everyone; those of the others are ignored as no_consent.
 */
static bool gen_consents(const gen_employee *e)
{
	uint32_t h = 2166136261u;

	for (const char *p = e->id; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % 100 < GEN_CONSENT_PERCENT;
}

static json_t *gen_roster_record(const gen_employee *e)
{
	const gen_department *d = &gen_departments[e->department];

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:{s:b}}", "department",
			 d->name, "team", d->teams[e->team], "segment", gen_segments[e->segment],
			 "work_mode", gen_work_modes[e->work_mode], "employment_type",
			 gen_employment_types[e->employment_type], "region", gen_regions[e->region],
			 "aliases", e->slack_id, e->email, "consent", "external_sharing",
			 gen_consents(e));
}

/* Produces the roster and waits until it is delivered, ahead of any event. */
static int gen_produce_roster(gen *g)
{
	for (size_t i = 0; i < g->org.n && !gen_stop; i++) {
		const gen_employee *e = &g->org.employees[i];

		if (gen_produce_json(g, GEN_TOPIC_ROSTER, e->id, gen_roster_record(e)) != 0)
			return -1;
	}
	while (rd_kafka_outq_len(g->rk) > 0)
		rd_kafka_flush(g->rk, 1000);
	return g->topics[GEN_TOPIC_ROSTER].failed ? -1 : 0;
}

/* Writes every raw id, name and e-mail of the org to path, one per line. */
static int gen_write_ids(const gen_org *org, const char *path)
{
	FILE *f = fopen(path, "w");
	int failed = 0;

	if (!f) {
		fprintf(stderr, "advocacyd-gen: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < org->n; i++) {
		const gen_employee *e = &org->employees[i];

		failed |= fprintf(f, "%s\n%s\n%s\n%s\n", e->id, e->slack_id, e->name, e->email) < 0;
	}
	for (size_t k = 0; k < GEN_N_GUESTS; k++)
		failed |= fprintf(f, "%s\n", org->guests[k]) < 0;
	failed |= fclose(f) != 0;
	if (failed) {
		fprintf(stderr, "advocacyd-gen: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------------------------
 * Canonical events
 * ------------------------------------------------------------------------- */

static event_str gen_str(const char *s)
{
	return (event_str){s, strlen(s)};
}

static void gen_event_attr(event *ev, const char *key, const char *value)
{
	if (ev->attr_count < EVENT_MAX_ATTRS) {
		ev->attrs[ev->attr_count].key = gen_str(key);
		ev->attrs[ev->attr_count].value = gen_str(value);
		ev->attr_count++;
	}
}

/* Storage for the strings that one canonical event borrows. */
typedef struct gen_event_text {
	char event_id[24];
	char content_id[24];
} gen_event_text;

static void gen_fill_recognition(gen *g, event *ev, const gen_employee *actor)
{
	static const char *const badges[] = {"teamwork", "customer_focus", "innovation",
					     "ownership", "mentoring"};
	int targets = gen_rng_chance(&g->rng, 0.15) ? 2 : 1;

	for (int i = 0; i < targets; i++)
		ev->target_ids[ev->target_count++] =
		    gen_str(gen_org_pick_colleague(&g->org, &g->rng, actor)->id);
	ev->channel_id = gen_str("recognition-wall");
	gen_event_attr(ev, "badge", badges[gen_rng_below(&g->rng, 5)]);
}

static void gen_fill_content(gen *g, event *ev, gen_kind kind, gen_event_text *text)
{
	static const char *const forums[] = {"forum-engineering-guild", "forum-customer-stories",
					     "forum-sustainability",	"forum-new-joiners",
					     "forum-sales-wins",	"forum-wellbeing"};
	static const char *const formats[] = {"article", "video", "podcast"};
	uint64_t n;

	switch (kind) {
	case GEN_CONTENT_PUBLISHED:
		snprintf(text->content_id, sizeof(text->content_id), "article-%06" PRIu64,
			 ++g->articles);
		ev->channel_id = gen_str("intranet-news");
		gen_event_attr(ev, "format", formats[gen_rng_below(&g->rng, 3)]);
		break;
	case GEN_FORUM_POST:
		snprintf(text->content_id, sizeof(text->content_id), "post-%06" PRIu64, ++g->posts);
		ev->channel_id = gen_str(forums[gen_rng_below(&g->rng, 6)]);
		break;
	case GEN_FORUM_REPLY:
		n = g->posts ? g->posts : 1;
		snprintf(text->content_id, sizeof(text->content_id), "post-%06" PRIu64,
			 n - gen_rng_below(&g->rng, n < 50 ? n : 50));
		ev->channel_id = gen_str(forums[gen_rng_below(&g->rng, 6)]);
		break;
	case GEN_SHARE_EXTERNAL:
		n = g->articles ? g->articles : 1;
		snprintf(text->content_id, sizeof(text->content_id), "article-%06" PRIu64,
			 n - gen_rng_below(&g->rng, n < 30 ? n : 30));
		ev->channel_id = gen_str("social-hub");
		gen_event_attr(ev, "network", gen_rng_chance(&g->rng, 0.65) ? "linkedin" : "x");
		break;
	default:
		break;
	}
	if (text->content_id[0])
		ev->content_id = gen_str(text->content_id);
}

static void gen_fill_other(gen *g, event *ev, gen_kind kind, gen_event_text *text)
{
	if (kind == GEN_REFERRAL) {
		snprintf(text->content_id, sizeof(text->content_id), "req-%04" PRIu64,
			 100 + gen_rng_below(&g->rng, 60));
		ev->channel_id = gen_str("careers");
		gen_event_attr(ev, "stage", gen_rng_chance(&g->rng, 0.8) ? "submitted" : "hired");
	} else {
		snprintf(text->content_id, sizeof(text->content_id), "course-%03" PRIu64,
			 1 + gen_rng_below(&g->rng, 40));
		ev->channel_id = gen_str("learning");
		gen_event_attr(ev, "course_type",
			       gen_rng_chance(&g->rng, 0.4) ? "mandatory" : "elective");
	}
	ev->content_id = gen_str(text->content_id);
}

/* Fills ev (borrowing from text) with a random canonical event at time_ms. */
static gen_kind gen_canonical_event(gen *g, event *ev, gen_event_text *text, int64_t time_ms)
{
	gen_kind kind = (gen_kind)GEN_PICK(&g->rng, gen_canonical_mix);
	const gen_employee *actor = gen_org_pick_active(&g->org, &g->rng);

	memset(ev, 0, sizeof(*ev));
	memset(text, 0, sizeof(*text));
	memcpy(text->event_id, "evt-", 4);
	gen_rng_chars(&g->rng, gen_hex, text->event_id + 4, 16);
	ev->event_id = gen_str(text->event_id);
	ev->event_time_ms = time_ms;
	ev->source = gen_str("canonical");
	ev->kind = gen_str(gen_kind_names[kind]);
	ev->actor_id = gen_str(actor->id);

	if (kind == GEN_RECOGNITION)
		gen_fill_recognition(g, ev, actor);
	else if (kind == GEN_REFERRAL || kind == GEN_TRAINING_COMPLETED)
		gen_fill_other(g, ev, kind, text);
	else
		gen_fill_content(g, ev, kind, text);
	return kind;
}

/* Encodes ev into g->avro_buf; returns the length or -1. */
static long gen_encode(gen *g, const event *ev)
{
	long n = avro_event_writer_encode(g->writer, ev, g->opts.schema_id, g->avro_buf,
					  sizeof(g->avro_buf));
	if (n < 0)
		fprintf(stderr, "advocacyd-gen: cannot encode a %.*s event as Avro\n",
			(int)ev->kind.len, ev->kind.ptr);
	return n;
}

static int gen_emit_canonical(gen *g, int64_t time_ms)
{
	gen_event_text text;
	event ev;
	gen_kind kind = gen_canonical_event(g, &ev, &text, time_ms);
	long n = gen_encode(g, &ev);

	if (n < 0)
		return -1;
	g->kind_counts[kind]++;
	return gen_produce(g, GEN_TOPIC_EVENTS, text.event_id, g->avro_buf, (size_t)n);
}

/* ----------------------------------------------------------------------------
 * Slack events
 * ------------------------------------------------------------------------- */

#define GEN_SLACK_TEAM "T07ADVGEN1"
#define GEN_SLACK_APP "A07ADVGEN1"
#define GEN_SLACK_BOT_USER "U07ADVBOT1"

static const char *const gen_channel_ids[GEN_N_CHANNELS] = {
    "C0KUDOS01",
    "C0COMMUNITY1",
    "C0COMMUNITY2",
    "C0RANDOM",
};

static const char *const gen_kudos_reasons[] = {
    "jumping on the outage call last night",  "the great demo at the all-hands",
    "helping a new customer go live on time", "covering my shift on Saturday",
    "the clear write-up of the release plan", "mentoring our new joiners this month",
    "finding that tricky billing bug",	      "organising the charity run",
};

static const char *const gen_community_lines[] = {
    "Does anyone have a template for customer case studies?",
    "We published the new onboarding guide on the intranet, feedback welcome.",
    "Lunch and learn on Thursday: how we cut delivery times by a third.",
    "Sharing the slides from yesterday's community call.",
    "What tools do you use to plan your sprint reviews?",
    "Our team just hit the quarterly satisfaction goal!",
    "Reminder: the volunteering day sign-up closes on Friday.",
    "Here is a short video about our new warehouse layout.",
};

static const char *const gen_reply_lines[] = {
    "Great idea, count me in.",
    "Thanks for sharing, this is really useful.",
    "I have one from last year, will send it over.",
    "Could we record the session for the night shift?",
    "+1, we saw the same in our region.",
    "Love this!",
};

static const char *const gen_random_lines[] = {
    "Coffee machine on the third floor is fixed.",
    "Anyone up for a run after work?",
    "The parking garage closes early today.",
    "Happy Friday everyone!",
    "Photos from the summer party are in the shared drive.",
};

static const char *const gen_recognition_reactions[] = {
    "tada", "clap", "raised_hands", "star-struck", "trophy", "100", "heart", "pray",
};
static const char *const gen_other_reactions[] = {
    "eyes", "thumbsup", "+1", "white_check_mark", "joy", "thinking_face",
};

#define GEN_ARRAY_PICK(r, array) ((array)[gen_rng_below((r), sizeof(array) / sizeof((array)[0]))])

/* Picks who posts in Slack: mostly roster people, a few guests in communities. */
static const char *gen_slack_actor(gen *g, bool community)
{
	if (community && gen_rng_chance(&g->rng, 0.03))
		return g->org.guests[gen_rng_below(&g->rng, GEN_N_GUESTS)];
	return gen_org_pick_active(&g->org, &g->rng)->slack_id;
}

/* Appends a person's name and e-mail to some texts, as people do. */
static void gen_slack_text(gen *g, char *out, size_t size, const char *line)
{
	const gen_employee *p;

	if (!gen_rng_chance(&g->rng, 0.15)) {
		snprintf(out, size, "%s", line);
		return;
	}
	p = &g->org.employees[gen_rng_below(&g->rng, g->org.n)];
	snprintf(out, size, "%s Ping %s (%s) for details.", line, p->name, p->email);
}

static void gen_slack_ts(gen *g, int64_t time_ms, char *out, size_t size)
{
	snprintf(out, size, "%" PRId64 ".%06" PRIu64, time_ms / 1000,
		 (uint64_t)(time_ms % 1000) * 1000 + gen_rng_below(&g->rng, 1000));
}

static void gen_slack_event_id(gen *g, char out[13])
{
	out[0] = 'E';
	out[1] = 'v';
	gen_rng_chars(&g->rng, gen_upper_alnum, out + 2, 10);
}

/* Remembers a posted message so later reactions, replies and edits can refer to it. */
static void gen_channel_remember(gen_channel *c, const char *ts, const char *author,
				 const char *text)
{
	gen_slack_message *m = &c->ring[c->count++ % GEN_RING_SIZE];

	snprintf(m->ts, sizeof(m->ts), "%s", ts);
	m->author = author;
	snprintf(m->text, sizeof(m->text), "%s", text);
}

/* Returns a recent message of the channel, or NULL when it has none yet. */
static gen_slack_message *gen_channel_recent(gen *g, gen_channel *c)
{
	size_t stored = c->count < GEN_RING_SIZE ? c->count : GEN_RING_SIZE;

	if (stored == 0)
		return NULL;
	return &c->ring[(c->count - 1 - gen_rng_below(&g->rng, stored)) % GEN_RING_SIZE];
}

/* Wraps an inner event in an event_callback envelope. */
static json_t *gen_slack_envelope(const char *event_id, int64_t time_ms, json_t *inner)
{
	if (!inner)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:[{s:n, s:s, s:s, s:b, s:b}], "
			 "s:b}",
			 "token", "gen0verification0token00", "team_id", GEN_SLACK_TEAM,
			 "api_app_id", GEN_SLACK_APP, "event", inner, "type", "event_callback",
			 "event_id", event_id, "event_time", (json_int_t)(time_ms / 1000),
			 "authorizations", "enterprise_id", "team_id", GEN_SLACK_TEAM, "user_id",
			 GEN_SLACK_BOT_USER, "is_bot", 1, "is_enterprise_install", 0,
			 "is_ext_shared_channel", 0);
}

static json_t *gen_slack_message_json(const char *channel, const char *user, const char *text,
				      const char *ts)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "message", "user",
			 user, "text", text, "ts", ts, "team", GEN_SLACK_TEAM, "channel", channel,
			 "event_ts", ts, "channel_type", "channel");
}

/* A top-level message; remembered for later reactions and replies. */
static json_t *gen_slack_post(gen *g, int ch, const char *line, const char *ts)
{
	gen_channel *c = &g->channels[ch];
	const char *user = gen_slack_actor(g, ch != GEN_CH_KUDOS);
	char text[512];

	gen_slack_text(g, text, sizeof(text), line);
	gen_channel_remember(c, ts, user, text);
	return gen_slack_message_json(c->id, user, text, ts);
}

/* "<@U...> thanks for ...", sometimes with a second mention. */
static json_t *gen_slack_kudos(gen *g, const char *ts)
{
	const gen_employee *author = gen_org_pick_active(&g->org, &g->rng);
	const gen_employee *a = gen_org_pick_colleague(&g->org, &g->rng, author);
	const char *reason = GEN_ARRAY_PICK(&g->rng, gen_kudos_reasons);
	gen_channel *c = &g->channels[GEN_CH_KUDOS];
	char line[300], text[512];

	if (gen_rng_chance(&g->rng, 0.2)) {
		const gen_employee *b = gen_org_pick_colleague(&g->org, &g->rng, author);
		snprintf(line, sizeof(line), "<@%s> and <@%s> thanks for %s!", a->slack_id,
			 b->slack_id, reason);
	} else {
		snprintf(line, sizeof(line), "<@%s> thanks for %s!", a->slack_id, reason);
	}
	gen_slack_text(g, text, sizeof(text), line);
	gen_channel_remember(c, ts, author->slack_id, text);
	return gen_slack_message_json(c->id, author->slack_id, text, ts);
}

static json_t *gen_slack_reply(gen *g, const char *ts)
{
	int ch = gen_rng_chance(&g->rng, 0.5) ? GEN_CH_COMMUNITY1 : GEN_CH_COMMUNITY2;
	gen_slack_message *parent = gen_channel_recent(g, &g->channels[ch]);
	const char *user = gen_slack_actor(g, true);
	char text[512];
	json_t *msg;

	if (!parent)
		return gen_slack_post(g, ch, GEN_ARRAY_PICK(&g->rng, gen_community_lines), ts);
	gen_slack_text(g, text, sizeof(text), GEN_ARRAY_PICK(&g->rng, gen_reply_lines));
	msg = gen_slack_message_json(g->channels[ch].id, user, text, ts);
	json_object_set_new(msg, "thread_ts", json_string(parent->ts));
	json_object_set_new(msg, "parent_user_id", json_string(parent->author));
	return msg;
}

/* A reaction on a recent message in a kudos or community channel. */
static json_t *gen_slack_reaction(gen *g, gen_kind kind, const char *ts)
{
	static const int channels[] = {GEN_CH_KUDOS, GEN_CH_COMMUNITY1, GEN_CH_COMMUNITY2,
				       GEN_CH_RANDOM};
	gen_channel *c = &g->channels[GEN_ARRAY_PICK(&g->rng, channels)];
	gen_slack_message *item = gen_channel_recent(g, c);
	const char *item_user, *item_ts, *reaction;
	char fallback_ts[32];

	if (item) {
		item_user = item->author;
		item_ts = item->ts;
	} else {
		item_user = gen_org_pick_active(&g->org, &g->rng)->slack_id;
		snprintf(fallback_ts, sizeof(fallback_ts), "%.*s.000100", (int)strcspn(ts, "."),
			 ts);
		item_ts = fallback_ts;
	}
	reaction = kind == GEN_SLACK_REACTION_OTHER
		       ? GEN_ARRAY_PICK(&g->rng, gen_other_reactions)
		       : GEN_ARRAY_PICK(&g->rng, gen_recognition_reactions);
	return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:s}", "type",
			 kind == GEN_SLACK_REACTION_REMOVED ? "reaction_removed" : "reaction_added",
			 "user", gen_slack_actor(g, false), "reaction", reaction, "item_user",
			 item_user, "item", "type", "message", "channel", c->id, "ts", item_ts,
			 "event_ts", ts);
}

static json_t *gen_slack_file_share(gen *g, const char *ts)
{
	char file_id[12] = "F";
	json_t *msg;

	gen_rng_chars(&g->rng, gen_upper_alnum, file_id + 1, 10);
	msg = gen_slack_post(g, GEN_CH_COMMUNITY1, "Here are the slides from today.", ts);
	json_object_set_new(msg, "subtype", json_string("file_share"));
	json_object_set_new(msg, "files",
			    json_pack("[{s:s, s:s, s:s, s:s}]", "id", file_id, "name",
				      "community-call.pdf", "filetype", "pdf", "mode", "hosted"));
	return msg;
}

static json_t *gen_slack_file_shared(gen *g, const char *ts)
{
	char file_id[12] = "F";
	const char *user = gen_slack_actor(g, true);

	gen_rng_chars(&g->rng, gen_upper_alnum, file_id + 1, 10);
	return json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:s}", "type", "file_shared", "file_id",
			 file_id, "user_id", user, "file", "id", file_id, "channel_id",
			 g->channels[GEN_CH_COMMUNITY2].id, "event_ts", ts);
}

static json_t *gen_slack_member_joined(gen *g, const char *ts)
{
	int ch = (int)gen_rng_below(&g->rng, GEN_N_CHANNELS);
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "member_joined_channel",
			      "user", gen_slack_actor(g, true), "channel", g->channels[ch].id,
			      "channel_type", "C", "team", GEN_SLACK_TEAM, "event_ts", ts);

	if (e && gen_rng_chance(&g->rng, 0.3))
		json_object_set_new(e, "inviter",
				    json_string(gen_org_pick_active(&g->org, &g->rng)->slack_id));
	return e;
}

static json_t *gen_slack_bot(gen *g, const char *ts)
{
	static const char *const lines[] = {
	    "Deploy of web-frontend finished in 4m12s.",
	    "Daily standup reminder: 10:00 in the usual room.",
	    "Weekly digest: 14 new posts in community channels.",
	};
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "message", "subtype",
			 "bot_message", "bot_id", "B07ADVBOT1", "username", "digest-bot", "text",
			 GEN_ARRAY_PICK(&g->rng, lines), "ts", ts, "channel",
			 g->channels[GEN_CH_RANDOM].id, "event_ts", ts);
}

/* message_changed or message_deleted of a recent community message. */
static json_t *gen_slack_edit(gen *g, gen_kind kind, const char *ts)
{
	int ch = gen_rng_chance(&g->rng, 0.5) ? GEN_CH_COMMUNITY1 : GEN_CH_COMMUNITY2;
	gen_channel *c = &g->channels[ch];
	gen_slack_message *old = gen_channel_recent(g, c);
	json_t *prev, *e;
	char text[512];

	if (!old)
		return gen_slack_post(g, ch, GEN_ARRAY_PICK(&g->rng, gen_community_lines), ts);
	prev = json_pack("{s:s, s:s, s:s, s:s}", "type", "message", "user", old->author, "text",
			 old->text, "ts", old->ts);
	e = json_pack("{s:s, s:b, s:s, s:s, s:s, s:o}", "type", "message", "hidden", 1, "channel",
		      c->id, "ts", ts, "event_ts", ts, "previous_message", prev);
	if (!e)
		return NULL;
	if (kind == GEN_SLACK_MESSAGE_DELETED) {
		json_object_set_new(e, "subtype", json_string("message_deleted"));
		json_object_set_new(e, "deleted_ts", json_string(old->ts));
		return e;
	}
	snprintf(text, sizeof(text), "%s (edited: fixed a typo)", old->text);
	json_object_set_new(e, "subtype", json_string("message_changed"));
	json_object_set_new(e, "message",
			    json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "type", "message",
				      "user", old->author, "text", text, "ts", old->ts, "edited",
				      "user", old->author, "ts", ts));
	return e;
}

/* Builds the inner event of one Slack event of the given kind. */
static json_t *gen_slack_inner(gen *g, gen_kind kind, const char *ts)
{
	switch (kind) {
	case GEN_SLACK_REACTION_RECOGNITION:
	case GEN_SLACK_REACTION_OTHER:
	case GEN_SLACK_REACTION_REMOVED:
		return gen_slack_reaction(g, kind, ts);
	case GEN_SLACK_KUDOS_MESSAGE:
		return gen_slack_kudos(g, ts);
	case GEN_SLACK_COMMUNITY_MESSAGE:
		return gen_slack_post(
		    g, gen_rng_chance(&g->rng, 0.5) ? GEN_CH_COMMUNITY1 : GEN_CH_COMMUNITY2,
		    GEN_ARRAY_PICK(&g->rng, gen_community_lines), ts);
	case GEN_SLACK_COMMUNITY_REPLY:
		return gen_slack_reply(g, ts);
	case GEN_SLACK_RANDOM_MESSAGE:
		return gen_slack_post(g, GEN_CH_RANDOM, GEN_ARRAY_PICK(&g->rng, gen_random_lines),
				      ts);
	case GEN_SLACK_FILE_SHARE_MESSAGE:
		return gen_slack_file_share(g, ts);
	case GEN_SLACK_FILE_SHARED:
		return gen_slack_file_shared(g, ts);
	case GEN_SLACK_MEMBER_JOINED:
		return gen_slack_member_joined(g, ts);
	case GEN_SLACK_BOT_MESSAGE:
		return gen_slack_bot(g, ts);
	default:
		return gen_slack_edit(g, kind, ts);
	}
}

static int gen_emit_url_verification(gen *g)
{
	char challenge[33], key[13];

	gen_rng_chars(&g->rng, gen_upper_alnum, challenge, 32);
	gen_slack_event_id(g, key);
	g->kind_counts[GEN_SLACK_URL_VERIFICATION]++;
	return gen_produce_json(g, GEN_TOPIC_SLACK, key,
				json_pack("{s:s, s:s, s:s}", "token", "gen0verification0token00",
					  "challenge", challenge, "type", "url_verification"));
}

static int gen_emit_slack(gen *g, int64_t time_ms)
{
	gen_kind kind = (gen_kind)(GEN_FIRST_SLACK + GEN_PICK(&g->rng, gen_slack_mix));
	char ts[32], event_id[13];

	gen_slack_ts(g, time_ms, ts, sizeof(ts));
	gen_slack_event_id(g, event_id);
	g->kind_counts[kind]++;
	return gen_produce_json(
	    g, GEN_TOPIC_SLACK, event_id,
	    gen_slack_envelope(event_id, time_ms, gen_slack_inner(g, kind, ts)));
}

/* ----------------------------------------------------------------------------
 * Malformed messages
 * ------------------------------------------------------------------------- */

/* Encodes a valid canonical event at time_ms into g->avro_buf; returns its length. */
static long gen_encode_valid(gen *g, int64_t time_ms, const char *kind_override)
{
	gen_event_text text;
	event ev;

	gen_canonical_event(g, &ev, &text, time_ms);
	if (kind_override)
		ev.kind = gen_str(kind_override);
	return gen_encode(g, &ev);
}

/*
 * Removes the kind of an encoded event: its Avro string (zigzag length 16,
 * then "@@@@@@@@") becomes the empty string (one 0 byte). Finding the marker
 * works whatever the field order, and does not need a writer that accepts an
 * empty kind. Returns the new length, or -1 when the marker is missing.
 */
static long gen_blank_kind(unsigned char *buf, long len)
{
	static const unsigned char marker[] = {0x10, '@', '@', '@', '@', '@', '@', '@', '@'};

	for (long i = 0; i + (long)sizeof(marker) <= len; i++) {
		if (memcmp(buf + i, marker, sizeof(marker)) != 0)
			continue;
		buf[i] = 0;
		memmove(buf + i + 1, buf + i + sizeof(marker), (size_t)(len - i) - sizeof(marker));
		return len - (long)sizeof(marker) + 1;
	}
	return -1;
}

static int gen_emit_bad_avro(gen *g, gen_kind kind, int64_t time_ms, const char *key)
{
	long n;

	if (kind == GEN_BAD_GARBAGE_AVRO) {
		/* 0x01 reads as string length -1: invalid as a datum and as a frame. */
		g->avro_buf[0] = 0x01;
		for (n = 1; n < 40; n++)
			g->avro_buf[n] = (unsigned char)gen_rng_below(&g->rng, 256);
	} else {
		n = gen_encode_valid(g, time_ms,
				     kind == GEN_BAD_EMPTY_KIND_AVRO ? "@@@@@@@@" : NULL);
		if (n < 0)
			return -1;
		if (kind == GEN_BAD_TRUNCATED_AVRO) {
			n = n / 2;
		} else if (kind == GEN_BAD_EMPTY_KIND_AVRO) {
			n = gen_blank_kind(g->avro_buf, n);
		} else if (n + 5 <= (long)sizeof(g->avro_buf)) {
			/* Trailing bytes: a complete datum followed by a stray string. */
			memcpy(g->avro_buf + n, "\x08junk", 5);
			n += 5;
		} else {
			n = -1;
		}
	}
	if (n < 0) {
		fprintf(stderr, "advocacyd-gen: cannot build the %s message\n",
			gen_kind_names[kind]);
		return -1;
	}
	return gen_produce(g, GEN_TOPIC_EVENTS, key, g->avro_buf, (size_t)n);
}

/* A valid envelope whose message text alone is over 1 MiB. */
static int gen_emit_oversized(gen *g, int64_t time_ms, const char *key)
{
	size_t size = (1u << 20) + 4096;
	char *text = malloc(size + 1);
	char ts[32];
	int rc;

	if (!text)
		return -1;
	for (size_t i = 0; i < size; i++)
		text[i] = "lorem ipsum dolor sit amet "[i % 27];
	text[size] = '\0';
	gen_slack_ts(g, time_ms, ts, sizeof(ts));
	rc = gen_produce_json(
	    g, GEN_TOPIC_SLACK, key,
	    gen_slack_envelope(key, time_ms,
			       gen_slack_message_json(g->channels[GEN_CH_RANDOM].id,
						      g->org.employees[0].slack_id, text, ts)));
	free(text);
	return rc;
}

static int gen_emit_bad_json(gen *g, gen_kind kind, int64_t time_ms, const char *key)
{
	static const char invalid[] = "{\"type\":\"event_callback\",\"event_id\":\"Ev0BROKEN00\","
				      "\"event\":{\"type\":\"message\",\"text\":\"unterminated";
	json_t *doc;

	switch (kind) {
	case GEN_BAD_INVALID_JSON:
		return gen_produce(g, GEN_TOPIC_SLACK, key, invalid, sizeof(invalid) - 1);
	case GEN_BAD_OVERSIZED_JSON:
		return gen_emit_oversized(g, time_ms, key);
	case GEN_BAD_NOT_AN_OBJECT_JSON:
		return gen_produce(g, GEN_TOPIC_SLACK, key, "[1,2,3]", 7);
	default:
		doc = gen_slack_envelope(key, time_ms, json_object());
		json_object_del(doc, "event");
		return gen_produce_json(g, GEN_TOPIC_SLACK, key, doc);
	}
}

/* Emits the i-th malformed message; the kinds take turns. */
static int gen_emit_malformed(gen *g, long i, int64_t time_ms)
{
	gen_kind kind = (gen_kind)(GEN_FIRST_BAD + i % GEN_N_BAD_KINDS);
	char key[13];

	gen_slack_event_id(g, key);
	g->kind_counts[kind]++;
	switch (kind) {
	case GEN_BAD_INVALID_JSON:
	case GEN_BAD_OVERSIZED_JSON:
	case GEN_BAD_NOT_AN_OBJECT_JSON:
	case GEN_BAD_MISSING_EVENT_JSON:
		return gen_emit_bad_json(g, kind, time_ms, key);
	default:
		return gen_emit_bad_avro(g, kind, time_ms, key);
	}
}

/* ----------------------------------------------------------------------------
 * Backlog and live phases
 * ------------------------------------------------------------------------- */

/* Produces the backlog: both timelines merged by time, malformed spread through. */
static int gen_run_backlog(gen *g)
{
	gen_timeline canonical, slack;
	long total = g->opts.events + g->opts.slack_events;
	long malformed_done = 0, done = 0;
	int rc = 0;

	/* Slack verifies the endpoint before it sends the first event. */
	if (g->opts.slack_events > 0 && gen_emit_url_verification(g) != 0)
		return -1;
	gen_timeline_init(&canonical, &g->clock, g->opts.events, &g->rng);
	gen_timeline_init(&slack, &g->clock,
			  g->opts.slack_events > 0 ? g->opts.slack_events - 1 : 0, &g->rng);
	while (rc == 0 && !gen_stop && (canonical.remaining > 0 || slack.remaining > 0)) {
		bool take_canonical = canonical.remaining > 0 &&
				      (slack.remaining == 0 || canonical.next_ms <= slack.next_ms);
		int64_t t;

		gen_pace(g);
		if (take_canonical)
			rc = gen_emit_canonical(g, gen_timeline_take(&canonical, &g->rng));
		else
			rc = gen_emit_slack(g, gen_timeline_take(&slack, &g->rng));
		done++;

		/* Malformed message j goes after (j + 1) / (M + 1) of the backlog. */
		while (rc == 0 && malformed_done < g->opts.malformed &&
		       (double)done >= (double)(malformed_done + 1) * (double)total /
					   (double)(g->opts.malformed + 1)) {
			t = take_canonical ? canonical.next_ms : slack.next_ms;
			rc = gen_emit_malformed(g, malformed_done++, t > 0 ? t : gen_now_ms());
		}
	}
	while (rc == 0 && !gen_stop && malformed_done < g->opts.malformed)
		rc = gen_emit_malformed(g, malformed_done++, gen_now_ms());
	return rc;
}

/* Produces events stamped now, at the pace rate, until the deadline or a signal. */
static int gen_run_live(gen *g)
{
	double total = (double)(g->opts.events + g->opts.slack_events);
	double canonical_share = total > 0 ? (double)g->opts.events / total : 0.8;
	int64_t deadline_ms = gen_now_ms() + g->opts.live_seconds * 1000;
	int64_t next_report_ms = gen_now_ms() + 10000;
	uint64_t sent = 0;
	int rc = 0;

	g->pace_rate = g->opts.rate > 0 ? g->opts.rate : GEN_LIVE_DEFAULT_RATE;
	g->pace_sent = 0;
	if (!g->opts.quiet)
		fprintf(stderr, "advocacyd-gen: live for %lds at %.1f events/s\n",
			g->opts.live_seconds, g->pace_rate);
	while (rc == 0 && !gen_stop && gen_now_ms() < deadline_ms) {
		gen_pace(g);
		if (gen_rng_chance(&g->rng, canonical_share))
			rc = gen_emit_canonical(g, gen_now_ms());
		else
			rc = gen_emit_slack(g, gen_now_ms());
		sent++;
		if (!g->opts.quiet && gen_now_ms() >= next_report_ms) {
			fprintf(stderr, "advocacyd-gen: live: %" PRIu64 " events produced\n", sent);
			next_report_ms += 10000;
		}
	}
	return rc;
}

/* ----------------------------------------------------------------------------
 * Summary and main
 * ------------------------------------------------------------------------- */

static void gen_print_kinds(const gen *g, const char *label, int first, int end)
{
	uint64_t sum = 0;

	for (int k = first; k < end; k++)
		sum += g->kind_counts[k];
	fprintf(stderr, "advocacyd-gen: %s=%" PRIu64, label, sum);
	for (int k = first; k < end; k++)
		if (g->kind_counts[k])
			fprintf(stderr, " %s=%" PRIu64, gen_kind_names[k], g->kind_counts[k]);
	fputc('\n', stderr);
}

/* Prints the summary; returns the number of messages that failed delivery. */
static uint64_t gen_summary(const gen *g)
{
	uint64_t failed = 0;

	if (!g->opts.quiet) {
		fprintf(stderr, "advocacyd-gen: seed=%" PRIu64 " employees=%zu\n", g->opts.seed,
			g->org.n);
		gen_print_kinds(g, "canonical", 0, GEN_FIRST_SLACK);
		gen_print_kinds(g, "slack", GEN_FIRST_SLACK, GEN_FIRST_BAD);
		gen_print_kinds(g, "malformed", GEN_FIRST_BAD, GEN_KIND_COUNT);
	}
	for (int i = 0; i < GEN_N_TOPICS; i++) {
		const gen_topic *t = &g->topics[i];

		if (t->produced == 0 && t->failed == 0)
			continue;
		fprintf(stderr, "advocacyd-gen: topic=%s delivered=%" PRIu64 " failed=%" PRIu64,
			t->name, t->delivered, t->failed);
		if (t->failed)
			fprintf(stderr, " first_error=\"%s\"", rd_kafka_err2str(t->first_error));
		fputc('\n', stderr);
		failed += t->failed;
	}
	return failed;
}

static void gen_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gen_signal_cb;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int gen_setup(gen *g)
{
	g->topics[GEN_TOPIC_ROSTER].name = g->opts.roster_topic;
	g->topics[GEN_TOPIC_EVENTS].name = g->opts.events_topic;
	g->topics[GEN_TOPIC_SLACK].name = g->opts.slack_topic;
	for (int c = 0; c < GEN_N_CHANNELS; c++)
		g->channels[c].id = gen_channel_ids[c];
	g->rng.state = g->opts.seed;
	g->pace_rate = g->opts.rate;

	if (gen_org_init(&g->org, (size_t)g->opts.employees, g->opts.roster_seed) != 0 ||
	    gen_clock_init(&g->clock, gen_now_ms(), g->opts.days) != 0) {
		fprintf(stderr, "advocacyd-gen: out of memory\n");
		return -1;
	}
	if (g->opts.ids_file && gen_write_ids(&g->org, g->opts.ids_file) != 0)
		return -1;
	g->writer = avro_event_writer_new();
	if (!g->writer) {
		fprintf(stderr, "advocacyd-gen: cannot create the Avro writer\n");
		return -1;
	}
	g->rk = gen_producer_new(g->opts.brokers);
	return g->rk ? 0 : -1;
}

static int gen_run(gen *g)
{
	if (!g->opts.no_roster && gen_produce_roster(g) != 0)
		return -1;
	if (g->opts.roster_only)
		return 0;
	if (gen_run_backlog(g) != 0)
		return -1;
	if (g->opts.live_seconds > 0 && gen_run_live(g) != 0)
		return -1;
	return 0;
}

static void gen_fini(gen *g)
{
	if (g->rk)
		rd_kafka_destroy(g->rk);
	avro_event_writer_free(g->writer);
	free(g->clock.cum);
	gen_org_fini(&g->org);
}

int main(int argc, char **argv)
{
	static gen g; /* large: the channel rings and the Avro buffer */
	int parsed = gen_parse_args(argc, argv, &g.opts);
	int rc = 1;

	if (parsed != 0)
		return parsed > 0 ? 0 : 2;
	gen_install_signals();
	if (gen_setup(&g) == 0) {
		rc = gen_run(&g) == 0 ? 0 : 1;

		/* Every message ends delivered or failed within message.timeout.ms. */
		while (rd_kafka_outq_len(g.rk) > 0)
			rd_kafka_flush(g.rk, 1000);
		if (gen_summary(&g) > 0)
			rc = 1;
	}
	gen_fini(&g);
	return rc;
}
