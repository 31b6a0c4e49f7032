/*
 * config.c - loads advocacyd's YAML configuration into struct config.
 *
 * libyaml's loader (yaml_parser_load) turns the file into a node tree. The
 * functions below walk that tree one section at a time, carrying a key path
 * such as "kpis[2].behaviours[0]" for error messages, and fill a zeroed
 * struct config. Checks that span sections (KPI weights, behaviour and window
 * references, topic clashes) run as soon as both sides are loaded. The first
 * error stops the load.
 *
 * Invariant: every array is allocated zeroed and its count is set at once, so
 * config_free() can free a config at any point of a failed load.
 *
 * Runs once at start on the caller's thread, so nothing here is on a hot path.
 * Limits: a file contains one YAML document, YAML merge keys ("<<") are rejected
 * as unknown keys, and key paths longer than CONFIG_PATH_MAX are cut short in
 * messages. Error messages quote keys, ids, topics, durations and enum values,
 * but never the Redis password or a Kafka property value. This module never
 * reads the HMAC key itself: it only checks that the key file opens. A Graph
 * input's private keys are loaded once through decode_graph to prove that
 * they are usable RSA keys, and dropped again.
 */
#include "config.h"
#include "decode_analytics.h"
#include "decode_graph.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include <openssl/evp.h>

#include <arpa/inet.h>

#define CONFIG_PATH_MAX 256
#define CONFIG_LIST_MAX 256
#define CONFIG_DAY_MS 86400000LL
/* The default granularity of a rolling window keeps it to at most this many buckets. */
#define CONFIG_DEFAULT_MAX_BUCKETS 48
#define CONFIG_WEIGHT_TOLERANCE 1e-6
#define CONFIG_MIN_TICK_MS 100
#define CONFIG_SEVERITY_WARNING 2 /* index into config_severities */
#define CONFIG_ALL_SCOPE_KINDS ((1u << SCOPE_KIND_COUNT) - 1u)
#define CONFIG_OWNER_MAX 120
#define CONFIG_RATIONALE_MAX 1000
#define CONFIG_FILE_MAX (16 * 1024 * 1024)
#define CONFIG_MAX_DRAIN_MS 3600000LL
#define CONFIG_SCOPE_KINDS_BUT_ORG (CONFIG_ALL_SCOPE_KINDS & ~(1u << SCOPE_ORG))
#define CONFIG_ROUTE_DEFAULT "default"
#define CONFIG_RUNBOOK_URL_MAX 500
#define CONFIG_MAX_LABELS 16
#define CONFIG_LABEL_KEY_MAX 63
#define CONFIG_LABEL_VALUE_MAX 200
#define CONFIG_MIN_SAMPLE 3
#define CONFIG_MIN_RESPONDENTS 3 /* privacy.min_respondents, at least */
#define CONFIG_MIN_GROUP_SIZE 3  /* privacy.min_group_size, at least */
#define CONFIG_SOURCE_MAX 200
#define CONFIG_UNIT_MAX 40
#define CONFIG_DIGEST_SIZE 32 /* SHA-256 */

/* Characters allowed in ids that end up in Redis keys and message keys. */
#define CONFIG_TOKEN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define CONFIG_TOKEN_TEXT "letters, digits, '_', '.' and '-'"
#define CONFIG_KPI_ID_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
#define CONFIG_KPI_ID_TEXT "lower-case letters, digits and '_'"

typedef struct config_loader {
	const char *path; /* the config file, as given */
	yaml_document_t *doc;
	config *cfg;
	char *errstr;
	size_t errstr_size;
	unsigned char digest[CONFIG_DIGEST_SIZE]; /* SHA-256 of the file's bytes */
	bool is_catalog;   /* path is the KPI catalog named by kpi_catalog */
	bool has_catalog;  /* the main file named a catalog; catalog_digest is set */
	unsigned char catalog_digest[CONFIG_DIGEST_SIZE];
} config_loader;

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

static const char *const config_input_formats[] = {"avro", "slack", "graph", "greenhouse",
						   "xapi", "typeform", "viva", "analytics",
						   "social", NULL};
static const char *const config_output_formats[] = {"avro", "json", NULL};
static const char *const config_credits[] = {"actor", "targets", NULL};
static const char *const config_effects[] = {"count", "retract", NULL};
static const char *const config_aggregations[] = {"count", "contributors", "rate", "participation",
						  "enps", "retention", "retention_gap", "capped_share", NULL};
/* Names of kpi_aggregation in enum order: the short form's names and "formula". */
static const char *const config_aggregation_names[] = {
    "count", "contributors", "rate", "participation", "enps", "retention", "retention_gap",
    "capped_share", "formula", NULL};
static const char *const config_kpi_kinds[] = {"active", "passive", NULL};
static const char *const config_kpi_better[] = {"higher", "lower", NULL};
static const char *const config_quadrants[] = {"financial", "customer", "internal_process",
					       "learning_growth", NULL};
static const char *const config_indicators[] = {"leading", "lagging", NULL};
static const char *const config_directions[] = {"below", "above", NULL};
static const char *const config_severities[] = {"critical", "error", "warning", "info", NULL};
static const char *const config_statuses[] = {"active", "retired", NULL};
static const char *const config_scope_kinds[] = {
    "org", "department", "team", "segment", "work_mode", "employment_type", "region", NULL};
static const char *const config_conditions[] = {"threshold", "deviation", "zscore",
						"trend",     "disparity", NULL};
static const char *const config_cloudevents_modes[] = {"binary", "structured", NULL};
static const char *const config_programme_stages[] = {"pilot", "growth", "mature", NULL};
/* Consent purposes from CONSENT_EXTERNAL_SHARING on, in enum order. */
static const char *const config_consents[] = {"external_sharing", NULL};

static const char *config_enum_name(const char *const *names, size_t count, int value)
{
	if (value < 0 || (size_t)value >= count)
		return "unknown";
	return names[value];
}

const char *config_quadrant_name(quadrant q)
{
	return config_enum_name(config_quadrants, 4, (int)q);
}

const char *config_indicator_name(indicator i)
{
	return config_enum_name(config_indicators, 2, (int)i);
}

const char *config_aggregation_name(kpi_aggregation a)
{
	return config_enum_name(config_aggregation_names, 9, (int)a);
}

const char *config_kpi_kind_name(kpi_kind k)
{
	return config_enum_name(config_kpi_kinds, 2, (int)k);
}

const char *config_scope_kind_name(scope_kind k)
{
	return config_enum_name(config_scope_kinds, SCOPE_KIND_COUNT, (int)k);
}

const char *config_consent_name(consent_purpose c)
{
	if (c <= CONSENT_NONE || c >= CONSENT_PURPOSE_COUNT)
		return NULL;
	return config_consents[c - 1];
}

const char *config_programme_stage_name(programme_stage s)
{
	if ((unsigned)s >= PROGRAMME_STAGE_COUNT)
		return NULL;
	return config_programme_stages[s];
}

const char *config_kpi_status_name(kpi_status s)
{
	return config_enum_name(config_statuses, 2, (int)s);
}

const char *config_alert_condition_name(alert_condition c)
{
	/* Not in config_conditions, so a rule in the file cannot request it. */
	if (c == ALERT_COND_BIAS)
		return "bias";
	return config_enum_name(config_conditions, 5, (int)c);
}

/* ------------------------------------------------------------------------ */
/* Durations                                                                 */

static int64_t config_unit_ms(const char *unit)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", CONFIG_DAY_MS}};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(unit, units[i].name) == 0)
			return units[i].ms;
	return -1;
}

int64_t config_parse_duration(const char *text)
{
	int64_t value = 0;
	const char *p = text;

	if (!text || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (value > (INT64_MAX - 9) / 10)
			return -1;
		value = value * 10 + (*p - '0');
	}

	int64_t unit = config_unit_ms(p);
	if (unit < 0 || value > INT64_MAX / unit)
		return -1;
	return value * unit;
}

/* Writes ms in the largest unit that represents it exactly, e.g. "36h", "250ms". */
static const char *config_format_duration(int64_t ms, char *buf, size_t size)
{
	static const char *const units[] = {"d", "h", "m", "s"};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		int64_t unit = config_unit_ms(units[i]);
		if (ms != 0 && ms % unit == 0) {
			snprintf(buf, size, "%lld%s", (long long)(ms / unit), units[i]);
			return buf;
		}
	}
	snprintf(buf, size, "%lldms", (long long)ms);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Errors and key paths                                                      */

/* Writes "PATH: KEYPATH: message" (or "PATH: message" at the top) and returns -1. */
__attribute__((format(printf, 3, 4))) static int config_error(config_loader *ld, const char *kp,
							      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!ld->errstr || ld->errstr_size == 0)
		return -1;
	if (kp[0])
		n = snprintf(ld->errstr, ld->errstr_size, "%s: %s: ", ld->path, kp);
	else
		n = snprintf(ld->errstr, ld->errstr_size, "%s: ", ld->path);
	if (n < 0 || (size_t)n >= ld->errstr_size)
		return -1;

	va_start(ap, fmt);
	vsnprintf(ld->errstr + n, ld->errstr_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Marks a key path cut at CONFIG_PATH_MAX with a trailing "...". */
static void config_path_cut(char *buf, int written)
{
	if (written < 0 || written >= CONFIG_PATH_MAX)
		memcpy(buf + CONFIG_PATH_MAX - 4, "...", 4);
}

static void config_path_key(char *buf, const char *parent, const char *key)
{
	if (parent[0])
		config_path_cut(buf, snprintf(buf, CONFIG_PATH_MAX, "%s.%s", parent, key));
	else
		config_path_cut(buf, snprintf(buf, CONFIG_PATH_MAX, "%s", key));
}

static void config_path_index(char *buf, const char *parent, size_t i)
{
	config_path_cut(buf, snprintf(buf, CONFIG_PATH_MAX, "%s[%zu]", parent, i));
}

/* Appends text to buf (of size) at *len after a ", ", and ends buf with "..." when full. */
static void config_list_append(char *buf, size_t size, size_t *len, const char *text)
{
	int n;

	if (*len + 4 >= size)
		return;
	n = snprintf(buf + *len, size - *len, "%s%s", *len ? ", " : "", text);
	if (n < 0 || *len + (size_t)n >= size) {
		memcpy(buf + size - 4, "...", 4);
		*len = size;
		return;
	}
	*len += (size_t)n;
}

static const char *config_join(const char *const *names, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i]; i++)
		config_list_append(buf, size, &len, names[i]);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Node access                                                               */

/* A map being read: its node (NULL when the map is absent) and its key path. */
typedef struct config_map {
	config_loader *ld;
	const yaml_node_t *node;
	char kp[CONFIG_PATH_MAX];
} config_map;

/* Loads item i of a list, whose key path is kp; used with config_each(). */
typedef int (*config_item_fn)(config_loader *ld, const yaml_node_t *item, const char *kp, size_t i,
			      void *opaque);

static yaml_node_t *config_node(const config_loader *ld, int index)
{
	return yaml_document_get_node(ld->doc, index);
}

static const char *config_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *config_type_name(const yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a map";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	return "a scalar";
}

/* YAML's null: an empty plain scalar, "~" or "null". */
static bool config_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		if (strcmp(config_text(n), nulls[i]) == 0)
			return true;
	return false;
}

static int config_name_index(const char *const *names, const char *name)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static size_t config_map_size(const yaml_node_t *map)
{
	return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

static size_t config_seq_size(const yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

/* Returns true when the key of pair p already appeared earlier in map. */
static bool config_key_repeated(const config_loader *ld, const yaml_node_t *map,
				const yaml_node_pair_t *p)
{
	const char *name = config_text(config_node(ld, p->key));

	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
		if (strcmp(config_text(config_node(ld, q->key)), name) == 0)
			return true;
	return false;
}

/*
 * Checks that node is a map whose keys are distinct strings and, unless
 * allowed is NULL, each one of the allowed names.
 */
static int config_map_check(config_loader *ld, const yaml_node_t *map, const char *kp,
			    const char *const *allowed)
{
	char sub[CONFIG_PATH_MAX], list[CONFIG_LIST_MAX];
	const yaml_node_pair_t *p;

	if (map->type != YAML_MAPPING_NODE)
		return config_error(ld, kp, "expected a map, got %s", config_type_name(map));

	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *key = config_node(ld, p->key);
		if (key->type != YAML_SCALAR_NODE)
			return config_error(ld, kp, "map keys must be strings, got %s",
					    config_type_name(key));
		config_path_key(sub, kp, config_text(key));
		if (allowed && config_name_index(allowed, config_text(key)) < 0)
			return config_error(ld, sub, "unknown key; allowed keys: %s",
					    config_join(allowed, list, sizeof list));
		if (config_key_repeated(ld, map, p))
			return config_error(ld, sub, "key given twice; keep one");
	}
	return 0;
}

/* Checks node and sets m up to read it. A NULL node is an absent map, read as all defaults. */
static int config_open(config_loader *ld, const yaml_node_t *node, const char *kp,
		       const char *const *allowed, config_map *m)
{
	m->ld = ld;
	m->node = node;
	snprintf(m->kp, sizeof m->kp, "%s", kp);
	return node ? config_map_check(ld, node, kp, allowed) : 0;
}

/* Returns the value of key in m, or NULL when m is absent, key absent or its value null. */
static yaml_node_t *config_map_find(const config_map *m, const char *key)
{
	const yaml_node_pair_t *p;

	if (!m->node)
		return NULL;
	for (p = m->node->data.mapping.pairs.start; p < m->node->data.mapping.pairs.top; p++) {
		if (strcmp(config_text(config_node(m->ld, p->key)), key) != 0)
			continue;
		yaml_node_t *value = config_node(m->ld, p->value);
		return config_is_null(value) ? NULL : value;
	}
	return NULL;
}

/*
 * Looks key up in m and writes its key path into sub. Returns 1 with *node
 * set when present, 0 when absent (or null) and optional, -1 with an error
 * when absent and required.
 */
static int config_lookup(const config_map *m, const char *key, bool required, yaml_node_t **node,
			 char *sub)
{
	config_path_key(sub, m->kp, key);
	*node = config_map_find(m, key);
	if (*node)
		return 1;
	if (!required)
		return 0;
	if (m->kp[0])
		return config_error(m->ld, sub, "required key is missing or empty; add it to %s",
				    m->kp);
	return config_error(m->ld, sub,
			    "required key is missing or empty; add it at the top level");
}

/* Opens the map under key in parent, or an absent map (all defaults) when key is optional. */
static int config_open_key(const config_map *parent, const char *key, bool required,
			   const char *const *allowed, config_map *m)
{
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *node;

	if (config_lookup(parent, key, required, &node, sub) < 0)
		return -1;
	return config_open(parent->ld, node, sub, allowed, m);
}

/* Like config_lookup, and checks that a value given is a list of at least min items. */
static int config_lookup_list(const config_map *m, const char *key, bool required, size_t min,
			      yaml_node_t **seq, char *sub)
{
	int found = config_lookup(m, key, required, seq, sub);

	if (found <= 0)
		return found;
	if ((*seq)->type != YAML_SEQUENCE_NODE)
		return config_error(m->ld, sub, "expected a list, got %s", config_type_name(*seq));
	if (config_seq_size(*seq) < min)
		return config_error(m->ld, sub, "must list at least %zu item%s", min,
				    min == 1 ? "" : "s");
	return 1;
}

/* Calls load for each item of seq, with the item's key path. */
static int config_each(config_loader *ld, const yaml_node_t *seq, const char *kp,
		       config_item_fn load, void *opaque)
{
	char item_kp[CONFIG_PATH_MAX];

	for (size_t i = 0; i < config_seq_size(seq); i++) {
		config_path_index(item_kp, kp, i);
		if (load(ld, config_node(ld, seq->data.sequence.items.start[i]), item_kp, i,
			 opaque) < 0)
			return -1;
	}
	return 0;
}

/* Allocates n zeroed elements (at least one, so n == 0 is not a failure). */
static void *config_alloc(config_loader *ld, const char *kp, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		config_error(ld, kp, "out of memory");
	return p;
}

static int config_strdup(config_loader *ld, const char *kp, const char *text, char **out)
{
	*out = strdup(text);
	return *out ? 0 : config_error(ld, kp, "out of memory");
}

/* Returns the text of a scalar node, or NULL with an error saying expected. */
static const char *config_scalar(config_loader *ld, const yaml_node_t *n, const char *kp,
				 const char *expected)
{
	if (n->type != YAML_SCALAR_NODE) {
		config_error(ld, kp, "expected %s, got %s", expected, config_type_name(n));
		return NULL;
	}
	if (strlen(config_text(n)) != n->data.scalar.length) {
		config_error(ld, kp, "contains a NUL character; remove it");
		return NULL;
	}
	return config_text(n);
}

/* Like config_scalar, for numbers and booleans: quoted scalars are strings in YAML. */
static const char *config_plain_scalar(config_loader *ld, const yaml_node_t *n, const char *kp,
				       const char *expected)
{
	const char *text = config_scalar(ld, n, kp, expected);

	if (text && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		config_error(ld, kp, "expected %s, got a quoted string; remove the quotes",
			     expected);
		return NULL;
	}
	return text;
}

static int config_check_chars(config_loader *ld, const char *kp, const char *text,
			      const char *chars, const char *chars_text)
{
	if (text[0] == '\0' || text[strspn(text, chars)] != '\0')
		return config_error(ld, kp, "invalid value '%s'; use only %s", text, chars_text);
	return 0;
}

static int config_invalid_value(config_loader *ld, const char *kp, const char *text,
				const char *const *names)
{
	char list[CONFIG_LIST_MAX];

	return config_error(ld, kp, "invalid value '%s'; allowed values: %s", text,
			    config_join(names, list, sizeof list));
}

/* ------------------------------------------------------------------------ */
/* Typed readers: a key absent or null takes the default                    */

/*
 * Reads a string. Scalars of any YAML type are taken as their text, and empty
 * strings are rejected. Absent: def is copied, or *out stays NULL when def is
 * NULL. The value is never quoted in an error because it may be a password.
 */
static int config_read_string(const config_map *m, const char *key, bool required, const char *def,
			      char **out)
{
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *n;
	const char *text = def;
	int found = config_lookup(m, key, required, &n, sub);

	if (found < 0)
		return -1;
	if (found) {
		text = config_scalar(m->ld, n, sub, "a string");
		if (!text)
			return -1;
		if (text[0] == '\0')
			return config_error(m->ld, sub, "must not be empty");
	}
	return text ? config_strdup(m->ld, sub, text, out) : 0;
}

static int config_read_int(const config_map *m, const char *key, int def, long long min,
			   long long max, int *out)
{
	char sub[CONFIG_PATH_MAX], *end;
	yaml_node_t *n;
	const char *text;
	long long value;

	*out = def;
	if (config_lookup(m, key, false, &n, sub) == 0)
		return 0;
	text = config_plain_scalar(m->ld, n, sub, "an integer");
	if (!text)
		return -1;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (end == text || *end || (text[0] != '-' && (text[0] < '0' || text[0] > '9')))
		return config_error(m->ld, sub, "expected an integer, got '%s'", text);
	if (errno == ERANGE || value < min || value > max)
		return config_error(m->ld, sub, "must be between %lld and %lld, got %s", min, max,
				    text);
	*out = (int)value;
	return 0;
}

/* Reads a finite number of at least min. Absent, it is def, or an error when required. */
static int config_read_number(const config_map *m, const char *key, bool required, double def,
			      double min, double *out)
{
	char sub[CONFIG_PATH_MAX], *end;
	yaml_node_t *n;
	const char *text;
	int found = config_lookup(m, key, required, &n, sub);

	*out = def;
	if (found <= 0)
		return found;
	text = config_plain_scalar(m->ld, n, sub, "a number");
	if (!text)
		return -1;

	errno = 0;
	*out = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(*out))
		return config_error(m->ld, sub, "expected a number, got '%s'", text);
	if (*out < min)
		return config_error(m->ld, sub, "must be at least %g, got %s", min, text);
	return 0;
}

static int config_read_bool(const config_map *m, const char *key, bool def, bool *out)
{
	static const char *const truths[] = {"true", "True", "TRUE", NULL};
	static const char *const falsehoods[] = {"false", "False", "FALSE", NULL};
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *n;
	const char *text;

	*out = def;
	if (config_lookup(m, key, false, &n, sub) == 0)
		return 0;
	text = config_plain_scalar(m->ld, n, sub, "true or false");
	if (!text)
		return -1;
	if (config_name_index(truths, text) >= 0)
		*out = true;
	else if (config_name_index(falsehoods, text) >= 0)
		*out = false;
	else
		return config_error(m->ld, sub, "expected true or false, got '%s'", text);
	return 0;
}

/*
 * Reads a duration of at least min_ms. A negative def makes the key required.
 * The text as written goes to *text_out when it is not NULL (NULL when absent).
 */
static int config_read_duration(const config_map *m, const char *key, int64_t def, int64_t min_ms,
				int64_t *out, const char **text_out)
{
	char sub[CONFIG_PATH_MAX], buf[32];
	yaml_node_t *n;
	const char *text;
	int found = config_lookup(m, key, def < 0, &n, sub);

	*out = def;
	if (text_out)
		*text_out = NULL;
	if (found <= 0)
		return found;
	text = config_scalar(m->ld, n, sub, "a duration");
	if (!text)
		return -1;

	*out = config_parse_duration(text);
	if (*out < 0)
		return config_error(m->ld, sub,
				    "invalid duration '%s'; write an integer followed by ms, s, m, "
				    "h or d, e.g. 250ms, 90s, 24h or 7d",
				    text);
	if (*out < min_ms)
		return config_error(m->ld, sub, "must be at least %s, got %s",
				    config_format_duration(min_ms, buf, sizeof buf), text);
	if (text_out)
		*text_out = text;
	return 0;
}

/* Reads one of names (NULL-terminated) as its index. A negative def makes the key required. */
static int config_read_enum(const config_map *m, const char *key, const char *const *names, int def,
			    int *out)
{
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *n;
	const char *text;
	int found = config_lookup(m, key, def < 0, &n, sub);

	*out = def;
	if (found <= 0)
		return found;
	text = config_scalar(m->ld, n, sub, "a string");
	if (!text)
		return -1;
	*out = config_name_index(names, text);
	return *out < 0 ? config_invalid_value(m->ld, sub, text, names) : 0;
}

static int config_load_string_item(config_loader *ld, const yaml_node_t *item, const char *kp,
				   size_t i, void *opaque)
{
	char **strings = opaque;
	const char *text = config_scalar(ld, item, kp, "a string");

	if (!text)
		return -1;
	if (text[0] == '\0')
		return config_error(ld, kp, "must not be empty");
	return config_strdup(ld, kp, text, &strings[i]);
}

/*
 * Reads a list of non-empty strings. Absent: an error when required, else
 * none. A list given must not be empty.
 */
static int config_read_list(const config_map *m, const char *key, bool required, char ***out,
			    size_t *n_out)
{
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *seq;
	int found = config_lookup_list(m, key, required, 1, &seq, sub);

	if (found <= 0)
		return found;
	*out = config_alloc(m->ld, sub, config_seq_size(seq), sizeof **out);
	if (!*out)
		return -1;
	*n_out = config_seq_size(seq);
	return config_each(m->ld, seq, sub, config_load_string_item, *out);
}

/*
 * Reads the optional owner, route or rationale of a KPI or rule: at most
 * max_len bytes, on one line. An owner or route names a team or role, so an
 * e-mail address (anything with '@') is rejected, because it would put a
 * person into the governance trail and the escalation events.
 */
static int config_read_governance_text(const config_map *m, const char *key, size_t max_len,
				       char **out)
{
	char sub[CONFIG_PATH_MAX];

	if (config_read_string(m, key, false, NULL, out) < 0)
		return -1;
	if (!*out)
		return 0;
	config_path_key(sub, m->kp, key);
	if (strlen(*out) > max_len)
		return config_error(m->ld, sub, "is %zu bytes long; keep it to at most %zu",
				    strlen(*out), max_len);
	if (strpbrk(*out, "\r\n"))
		return config_error(m->ld, sub, "spans several lines; write it on one line");
	if ((strcmp(key, "owner") == 0 || strcmp(key, "route") == 0) && strchr(*out, '@'))
		return config_error(m->ld, sub,
				    "looks like an e-mail address; name the team or role that "
				    "answers for it (e.g. HR, comms), never a person");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* kafka                                                                     */

static int config_read_path(const config_map *m, const char *key, bool required, char **out);
static int config_check_readable(config_loader *ld, const char *kp, const char *file);

/* Loads graph.keys[i] and checks now that the file contains a usable RSA private key. */
static int config_load_graph_key(config_loader *ld, const yaml_node_t *item, const char *kp,
				 size_t i, void *opaque)
{
	static const char *const keys[] = {"certificate_id", "private_key_file", NULL};
	config_input *in = opaque;
	config_graph_key *k = &in->graph_keys[i];
	char sub[CONFIG_PATH_MAX], why[512];
	config_map m;

	if (config_open(ld, item, kp, keys, &m) < 0 ||
	    config_read_string(&m, "certificate_id", true, NULL, &k->certificate_id) < 0 ||
	    config_read_path(&m, "private_key_file", true, &k->private_key_file) < 0)
		return -1;
	config_path_key(sub, kp, "certificate_id");
	if (strlen(k->certificate_id) > DECODE_GRAPH_MAX_CERT_ID)
		return config_error(ld, sub, "is %zu characters long; Graph allows at most %d",
				    strlen(k->certificate_id), DECODE_GRAPH_MAX_CERT_ID);
	for (size_t j = 0; j < i; j++)
		if (strcmp(in->graph_keys[j].certificate_id, k->certificate_id) == 0)
			return config_error(ld, sub, "'%s' is already listed at keys[%zu]; list "
					    "each certificate once", k->certificate_id, j);

	config_path_key(sub, kp, "private_key_file");
	if (config_check_readable(ld, sub, k->private_key_file) < 0)
		return -1;
	decode_graph *probe = decode_graph_new();
	why[0] = '\0';
	int rc = probe ? decode_graph_add_key(probe, k->certificate_id, k->private_key_file, why,
					      sizeof why)
		       : -1;
	decode_graph_free(probe);
	if (rc < 0)
		return config_error(ld, sub, "%s", probe ? why : "out of memory");
	return 0;
}

/* Reads the optional graph map of an input; only a graph input may have one. */
static int config_load_graph(config_loader *ld, const config_map *input, config_input *in)
{
	static const char *const keys[] = {"keys", NULL};
	char kp[CONFIG_PATH_MAX];
	config_map m;
	yaml_node_t *seq;

	if (config_open_key(input, "graph", false, keys, &m) < 0)
		return -1;
	if (!m.node)
		return 0;
	if (in->format != INPUT_FORMAT_GRAPH)
		return config_error(ld, m.kp, "is only read for format: graph; remove it or set "
				    "the format");
	if (config_lookup_list(&m, "keys", true, 1, &seq, kp) < 0)
		return -1;
	if (config_seq_size(seq) > DECODE_GRAPH_MAX_KEYS)
		return config_error(ld, kp, "lists %zu keys; at most %d, remove retired ones",
				    config_seq_size(seq), DECODE_GRAPH_MAX_KEYS);
	in->graph_keys = config_alloc(ld, kp, config_seq_size(seq), sizeof(config_graph_key));
	if (!in->graph_keys)
		return -1;
	in->n_graph_keys = config_seq_size(seq);
	return config_each(ld, seq, kp, config_load_graph_key, in);
}

/* Loads pair i of analytics.events: a track event name and the kind it yields. */
static int config_load_analytics_event(const config_map *m, size_t i, config_kv *ev)
{
	const yaml_node_pair_t *p = &m->node->data.mapping.pairs.start[i];
	const char *name = config_text(config_node(m->ld, p->key));
	yaml_node_t *node = config_node(m->ld, p->value);
	char sub[CONFIG_PATH_MAX], list[CONFIG_LIST_MAX];
	const char *kind;

	config_path_key(sub, m->kp, name);
	if (name[0] == '\0' || strlen(name) > DECODE_ANALYTICS_MAX_NAME)
		return config_error(m->ld, m->kp, "event names must be 1 to %d bytes long",
				    DECODE_ANALYTICS_MAX_NAME);
	if (config_is_null(node))
		return config_error(m->ld, sub, "has no kind; give one of %s or remove the event",
				    config_join(decode_analytics_kinds, list, sizeof list));
	kind = config_scalar(m->ld, node, sub, "a string");
	if (!kind)
		return -1;
	if (config_name_index(decode_analytics_kinds, kind) < 0)
		return config_error(m->ld, sub, "unknown kind '%s'; use one of %s", kind,
				    config_join(decode_analytics_kinds, list, sizeof list));
	if (config_strdup(m->ld, sub, name, &ev->key) < 0 ||
	    config_strdup(m->ld, sub, kind, &ev->value) < 0)
		return -1;
	return 0;
}

/*
 * Reads the optional analytics map of an input; only an analytics input may
 * have one. analytics.events replaces the decoder's default event names.
 */
static int config_load_analytics(config_loader *ld, const config_map *input, config_input *in)
{
	static const char *const keys[] = {"events", NULL};
	config_map m, events;
	size_t n;

	if (config_open_key(input, "analytics", false, keys, &m) < 0)
		return -1;
	if (!m.node)
		return 0;
	if (in->format != INPUT_FORMAT_ANALYTICS)
		return config_error(ld, m.kp, "is only read for format: analytics; remove it or "
				    "set the format");
	if (config_open_key(&m, "events", true, NULL, &events) < 0)
		return -1;
	n = config_map_size(events.node);
	if (n == 0 || n > DECODE_ANALYTICS_MAX_EVENTS)
		return config_error(ld, events.kp, "maps %zu event names; map 1 to %d", n,
				    DECODE_ANALYTICS_MAX_EVENTS);
	in->analytics_events = config_alloc(ld, events.kp, n, sizeof *in->analytics_events);
	if (!in->analytics_events)
		return -1;
	in->n_analytics_events = n;
	for (size_t i = 0; i < n; i++)
		if (config_load_analytics_event(&events, i, &in->analytics_events[i]) < 0)
			return -1;
	return 0;
}

static int config_load_input(config_loader *ld, const yaml_node_t *item, const char *kp, size_t i,
			     void *opaque)
{
	static const char *const keys[] = {"topic", "format", "graph", "analytics", NULL};
	config_input *in = &ld->cfg->kafka.inputs[i];
	char sub[CONFIG_PATH_MAX];
	config_map m;
	int format;

	if (config_open(ld, item, kp, keys, &m) < 0 ||
	    config_read_string(&m, "topic", true, NULL, &in->topic) < 0 ||
	    config_read_enum(&m, "format", config_input_formats, INPUT_FORMAT_AVRO, &format) < 0)
		return -1;
	in->format = (input_format)format;
	if (config_load_graph(ld, &m, in) < 0 || config_load_analytics(ld, &m, in) < 0)
		return -1;

	config_path_key(sub, kp, "topic");
	for (size_t j = 0; j < i; j++)
		if (strcmp(ld->cfg->kafka.inputs[j].topic, in->topic) == 0)
			return config_error(ld, sub,
					    "topic '%s' is already listed at kafka.inputs[%zu]; "
					    "list each topic once",
					    in->topic, j);
	return 0;
}

static int config_load_inputs(const config_map *kafka)
{
	config *cfg = kafka->ld->cfg;
	char kp[CONFIG_PATH_MAX];
	yaml_node_t *seq;

	if (config_lookup_list(kafka, "inputs", true, 1, &seq, kp) < 0)
		return -1;
	cfg->kafka.inputs = config_alloc(kafka->ld, kp, config_seq_size(seq), sizeof(config_input));
	if (!cfg->kafka.inputs)
		return -1;
	cfg->kafka.n_inputs = config_seq_size(seq);
	return config_each(kafka->ld, seq, kp, config_load_input, NULL);
}

/* Keeps any scalar value as its text. Values may be secrets, so errors never quote them. */
static int config_load_properties(const config_map *kafka)
{
	config_loader *ld = kafka->ld;
	config_kv *props;
	char sub[CONFIG_PATH_MAX];
	config_map m;

	if (config_open_key(kafka, "properties", false, NULL, &m) < 0)
		return -1;
	if (!m.node)
		return 0;
	props = config_alloc(ld, m.kp, config_map_size(m.node), sizeof *props);
	if (!props)
		return -1;
	ld->cfg->kafka.properties = props;
	ld->cfg->kafka.n_properties = config_map_size(m.node);

	for (size_t i = 0; i < ld->cfg->kafka.n_properties; i++) {
		const yaml_node_pair_t *p = &m.node->data.mapping.pairs.start[i];
		const char *key = config_text(config_node(ld, p->key));
		yaml_node_t *value = config_node(ld, p->value);
		config_path_key(sub, m.kp, key);
		if (key[0] == '\0')
			return config_error(ld, m.kp, "property names must not be empty");
		if (config_is_null(value))
			return config_error(ld, sub, "has no value; give one or remove the key");
		if (!config_scalar(ld, value, sub, "a string, number or boolean") ||
		    config_strdup(ld, sub, key, &props[i].key) < 0 ||
		    config_strdup(ld, sub, config_text(value), &props[i].value) < 0)
			return -1;
	}
	return 0;
}

static int config_load_kafka(const config_map *root)
{
	static const char *const keys[] = {
	    "bootstrap_servers",  "group_id",	  "inputs",	"roster_topic",
	    "batch_max_messages", "batch_max_ms", "max_prefetch_kbytes", "poison_attempts",
	    "properties", NULL};
	config *cfg = root->ld->cfg;
	config_map m;

	if (config_open_key(root, "kafka", true, keys, &m) < 0 ||
	    config_read_string(&m, "bootstrap_servers", true, NULL, &cfg->kafka.bootstrap_servers) <
		0 ||
	    config_read_string(&m, "group_id", false, "advocacyd", &cfg->kafka.group_id) < 0 ||
	    config_load_inputs(&m) < 0 ||
	    config_read_string(&m, "roster_topic", true, NULL, &cfg->kafka.roster_topic) < 0 ||
	    config_read_int(&m, "batch_max_messages", 50000, 1, 1000000,
			    &cfg->kafka.batch_max_messages) < 0 ||
	    config_read_int(&m, "batch_max_ms", 200, 0, 60000, &cfg->kafka.batch_max_ms) < 0 ||
	    config_read_int(&m, "max_prefetch_kbytes", 16384, 1024, 2097151,
			    &cfg->kafka.max_prefetch_kbytes) < 0 ||
	    config_read_int(&m, "poison_attempts", 3, 1, 100, &cfg->kafka.poison_attempts) < 0 ||
	    config_load_properties(&m) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* redis and privacy                                                         */

static int config_load_redis(const config_map *root)
{
	static const char *const keys[] = {"host", "port",	 "unix_socket", "password",
					   "db",   "key_prefix", NULL};
	config *cfg = root->ld->cfg;
	config_map m;

	if (config_open_key(root, "redis", false, keys, &m) < 0 ||
	    config_read_string(&m, "host", false, "127.0.0.1", &cfg->redis.host) < 0 ||
	    config_read_int(&m, "port", 6379, 1, 65535, &cfg->redis.port) < 0 ||
	    config_read_string(&m, "unix_socket", false, NULL, &cfg->redis.unix_socket) < 0 ||
	    config_read_string(&m, "password", false, NULL, &cfg->redis.password) < 0 ||
	    config_read_int(&m, "db", 0, 0, 15, &cfg->redis.db) < 0 ||
	    config_read_string(&m, "key_prefix", false, "advocacy", &cfg->redis.key_prefix) < 0 ||
	    config_check_chars(root->ld, "redis.key_prefix", cfg->redis.key_prefix,
			       CONFIG_TOKEN_CHARS, CONFIG_TOKEN_TEXT) < 0)
		return -1;
	return 0;
}

/* Joins a relative file name to the directory of the config file. */
static char *config_resolve_path(const char *config_path, const char *file)
{
	const char *slash = strrchr(config_path, '/');
	size_t dir_len, file_len = strlen(file);
	char *out;

	if (file[0] == '/' || !slash)
		return strdup(file);
	dir_len = (size_t)(slash - config_path) + 1;
	out = malloc(dir_len + file_len + 1);
	if (!out)
		return NULL;
	memcpy(out, config_path, dir_len);
	memcpy(out + dir_len, file, file_len + 1);
	return out;
}

/* Opens the key file to prove that it is readable, without reading it. */
static int config_check_key_file(config_loader *ld, const char *kp, const char *file)
{
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return config_error(ld, kp,
				    "cannot open key file '%s': %s; fix the path or create the key "
				    "with 'openssl rand -hex 32 > %s'",
				    file, strerror(errno), file);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return config_error(ld, kp,
				    "key file '%s' is not a regular file; point privacy.key_file "
				    "at the file that contains the HMAC key",
				    file);
	}
	close(fd);
	return 0;
}

/*
 * Reads privacy.min_group_size, default 5. Below 3, a figure of a group
 * together with what its members know of each other can single a person
 * out, so no value below 3 is accepted, not even in tests.
 */
static int config_read_min_group_size(const config_map *m, int *out)
{
	char sub[CONFIG_PATH_MAX];

	if (config_read_int(m, "min_group_size", 5, INT_MIN, INT_MAX, out) < 0)
		return -1;
	if (*out >= CONFIG_MIN_GROUP_SIZE)
		return 0;
	config_path_key(sub, m->kp, "min_group_size");
	return config_error(m->ld, sub,
			    "must be at least %d, got %d: smaller groups can single a person "
			    "out; raise it (the default is 5), and give test rosters at least "
			    "%d people per scope",
			    CONFIG_MIN_GROUP_SIZE, *out, CONFIG_MIN_GROUP_SIZE);
}

static int config_load_privacy(const config_map *root)
{
	static const char *const keys[] = {"key_file", "key_id", "min_group_size",
					   "min_respondents", NULL};
	config_loader *ld = root->ld;
	config *cfg = ld->cfg;
	char *written = NULL;
	config_map m;

	if (config_open_key(root, "privacy", true, keys, &m) < 0 ||
	    config_read_string(&m, "key_file", true, NULL, &written) < 0)
		return -1;
	cfg->privacy.key_file = config_resolve_path(ld->path, written);
	free(written);
	if (!cfg->privacy.key_file)
		return config_error(ld, "privacy.key_file", "out of memory");

	if (config_check_key_file(ld, "privacy.key_file", cfg->privacy.key_file) < 0 ||
	    config_read_string(&m, "key_id", true, NULL, &cfg->privacy.key_id) < 0 ||
	    config_check_chars(ld, "privacy.key_id", cfg->privacy.key_id, CONFIG_TOKEN_CHARS,
			       CONFIG_TOKEN_TEXT) < 0 ||
	    config_read_min_group_size(&m, &cfg->privacy.min_group_size) < 0 ||
	    config_read_int(&m, "min_respondents", 5, CONFIG_MIN_RESPONDENTS, INT_MAX,
			    &cfg->privacy.min_respondents) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* windows                                                                   */

/* Checks that a granularity below 1d divides a day and that a longer one is whole days. */
static int config_check_granularity(config_loader *ld, const char *kp, const char *text, int64_t ms)
{
	if (ms < CONFIG_DAY_MS && CONFIG_DAY_MS % ms != 0)
		return config_error(ld, kp,
				    "%s does not divide one day; a granularity below 1d must "
				    "divide 1d evenly (e.g. 1m, 5m, 15m, 1h, 6h)",
				    text);
	if (ms > CONFIG_DAY_MS && ms % CONFIG_DAY_MS != 0)
		return config_error(ld, kp,
				    "%s is not a whole number of days; a granularity above 1d "
				    "must be a multiple of 1d",
				    text);
	return 0;
}

static int config_load_granularity(config_loader *ld, const yaml_node_t *item, const char *kp,
				   size_t i, void *opaque)
{
	int64_t *g = ld->cfg->windows.granularities_ms;
	const char *text = config_scalar(ld, item, kp, "a duration");
	char buf[32];

	if (!text)
		return -1;
	g[i] = config_parse_duration(text);
	if (g[i] <= 0)
		return config_error(ld, kp,
				    "invalid duration '%s'; write a positive integer followed by "
				    "ms, s, m, h or d, e.g. 5m or 1d",
				    text);
	if (config_check_granularity(ld, kp, text, g[i]) < 0)
		return -1;
	if (i > 0 && g[i] <= g[i - 1])
		return config_error(ld, kp,
				    "%s must be longer than the granularity before it (%s); list "
				    "granularities in ascending order",
				    text, config_format_duration(g[i - 1], buf, sizeof buf));
	return 0;
}

static int config_load_granularities(const config_map *windows)
{
	static const int64_t defaults[] = {300000, 3600000, CONFIG_DAY_MS};
	config *cfg = windows->ld->cfg;
	char kp[CONFIG_PATH_MAX];
	yaml_node_t *seq;
	int found = config_lookup_list(windows, "granularities", false, 1, &seq, kp);

	if (found < 0)
		return -1;
	if (found == 0) {
		memcpy(cfg->windows.granularities_ms, defaults, sizeof defaults);
		cfg->windows.n_granularities = sizeof defaults / sizeof defaults[0];
		return 0;
	}
	if (config_seq_size(seq) > CONFIG_MAX_GRANULARITIES)
		return config_error(windows->ld, kp,
				    "lists %zu granularities; at most %d are supported",
				    config_seq_size(seq), CONFIG_MAX_GRANULARITIES);
	cfg->windows.n_granularities = config_seq_size(seq);
	return config_each(windows->ld, seq, kp, config_load_granularity, NULL);
}

static const char *config_zoneinfo_dir(void)
{
	const char *dir = getenv("TZDIR");

	return dir && dir[0] ? dir : "/usr/share/zoneinfo";
}

/* Returns true when dir/name is a compiled time zone file (it starts with "TZif"). */
static bool config_zone_exists(const char *dir, const char *name)
{
	char file[PATH_MAX], magic[4];
	FILE *f;
	bool ok;

	if ((size_t)snprintf(file, sizeof file, "%s/%s", dir, name) >= sizeof file)
		return false;
	f = fopen(file, "rb");
	if (!f)
		return false;
	ok = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

static int config_check_timezone(config_loader *ld, const char *kp, const char *zone)
{
	static const char zone_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789_+-/";
	const char *dir = config_zoneinfo_dir();

	if (strcmp(zone, "UTC") == 0)
		return 0;
	if (zone[strspn(zone, zone_chars)] != '\0' || zone[0] == '/' || strstr(zone, ".."))
		return config_error(ld, kp,
				    "invalid time zone '%s'; use an IANA name such as "
				    "Europe/Berlin, or UTC",
				    zone);
	if (!config_zone_exists(dir, zone))
		return config_error(ld, kp,
				    "unknown time zone '%s': not found under %s; use an IANA name "
				    "such as Europe/Berlin, or UTC (install tzdata if the folder "
				    "is missing)",
				    zone, dir);
	return 0;
}

/*
 * Picks the finest granularity that divides length into at most
 * CONFIG_DEFAULT_MAX_BUCKETS buckets. Returns its index, or -1.
 */
static long config_default_granularity(const config *cfg, int64_t length_ms)
{
	for (size_t i = 0; i < cfg->windows.n_granularities; i++) {
		int64_t g = cfg->windows.granularities_ms[i];
		if (length_ms % g == 0 && length_ms / g <= CONFIG_DEFAULT_MAX_BUCKETS)
			return (long)i;
	}
	return -1;
}

static const char *config_granularity_list(const config *cfg, char *buf, size_t size)
{
	char text[32];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cfg->windows.n_granularities; i++) {
		int64_t g = cfg->windows.granularities_ms[i];
		config_list_append(buf, size, &len, config_format_duration(g, text, sizeof text));
	}
	return buf;
}

/* Sets w->granularity from the text given (NULL when absent) or the default pick. */
static int config_window_granularity(config_loader *ld, const char *kp, config_window *w,
				     const char *text, int64_t ms)
{
	const config *cfg = ld->cfg;
	char list[CONFIG_LIST_MAX];
	long pick = -1;

	if (!text) {
		pick = config_default_granularity(cfg, w->length_ms);
		if (pick < 0)
			return config_error(
			    ld, kp,
			    "no granularity in windows.granularities (%s) divides "
			    "window '%s' into at most %d buckets; set its granularity "
			    "or add a finer granularity",
			    config_granularity_list(cfg, list, sizeof list), w->name,
			    CONFIG_DEFAULT_MAX_BUCKETS);
		w->granularity = (size_t)pick;
		return 0;
	}
	/*
	 * NOTE: an explicit granularity is not capped in bucket count, so a fine
	 * one on a long window (5m on 28d: 8064 buckets) makes every tick read
	 * that many buckets per scope and behaviour.
	 */
	for (size_t i = 0; i < cfg->windows.n_granularities; i++)
		if (cfg->windows.granularities_ms[i] == ms)
			pick = (long)i;
	if (pick < 0)
		return config_error(ld, kp,
				    "%s is not among windows.granularities (%s); add it there or "
				    "pick one of those",
				    text, config_granularity_list(cfg, list, sizeof list));
	if (w->length_ms % ms != 0)
		return config_error(ld, kp,
				    "%s does not divide the window length evenly; pick a "
				    "granularity that does",
				    text);
	w->granularity = (size_t)pick;
	return 0;
}

static int config_check_window_name(config_loader *ld, const char *kp, size_t i)
{
	const config *cfg = ld->cfg;
	const char *name = cfg->windows.windows[i].name;

	if (config_check_chars(ld, kp, name, CONFIG_TOKEN_CHARS, CONFIG_TOKEN_TEXT) < 0)
		return -1;
	for (size_t j = 0; j < i; j++)
		if (strcmp(cfg->windows.windows[j].name, name) == 0)
			return config_error(ld, kp,
					    "window name '%s' is already used by "
					    "windows.rolling[%zu]; give each window its own name",
					    name, j);
	return 0;
}

static int config_load_window(config_loader *ld, const yaml_node_t *item, const char *kp, size_t i,
			      void *opaque)
{
	static const char *const keys[] = {"name", "length", "granularity", NULL};
	config_window *w = &ld->cfg->windows.windows[i];
	const char *length_text, *gran_text;
	char sub[CONFIG_PATH_MAX];
	int64_t gran_ms;
	config_map m;

	if (config_open(ld, item, kp, keys, &m) < 0 ||
	    config_read_duration(&m, "length", -1, 1, &w->length_ms, &length_text) < 0 ||
	    config_read_string(&m, "name", false, length_text, &w->name) < 0)
		return -1;
	config_path_key(sub, kp, "name");
	if (config_check_window_name(ld, sub, i) < 0)
		return -1;

	if (config_read_duration(&m, "granularity", 0, 1, &gran_ms, &gran_text) < 0)
		return -1;
	config_path_key(sub, kp, gran_text ? "granularity" : "length");
	return config_window_granularity(ld, sub, w, gran_text, gran_ms);
}

static int config_default_windows(config_loader *ld, const char *kp)
{
	static const char *const lengths[] = {"1h", "24h", "7d", "28d"};
	const size_t count = sizeof lengths / sizeof lengths[0];
	config *cfg = ld->cfg;

	cfg->windows.windows = config_alloc(ld, kp, count, sizeof(config_window));
	if (!cfg->windows.windows)
		return -1;
	cfg->windows.n_windows = count;

	for (size_t i = 0; i < count; i++) {
		config_window *w = &cfg->windows.windows[i];
		w->length_ms = config_parse_duration(lengths[i]);
		if (config_strdup(ld, kp, lengths[i], &w->name) < 0 ||
		    config_window_granularity(ld, kp, w, NULL, 0) < 0)
			return -1;
	}
	return 0;
}

static int config_load_rolling(const config_map *windows)
{
	config *cfg = windows->ld->cfg;
	char kp[CONFIG_PATH_MAX];
	yaml_node_t *seq;
	int found = config_lookup_list(windows, "rolling", false, 1, &seq, kp);

	if (found <= 0)
		return found < 0 ? -1 : config_default_windows(windows->ld, kp);
	cfg->windows.windows =
	    config_alloc(windows->ld, kp, config_seq_size(seq), sizeof(config_window));
	if (!cfg->windows.windows)
		return -1;
	cfg->windows.n_windows = config_seq_size(seq);
	return config_each(windows->ld, seq, kp, config_load_window, NULL);
}

/* Checks that buckets outlive the longest window and every event still accepted as late. */
static int config_check_retention(config_loader *ld)
{
	const config *cfg = ld->cfg;
	const config_window *longest = &cfg->windows.windows[0];
	char have[32], need[32];

	for (size_t i = 1; i < cfg->windows.n_windows; i++)
		if (cfg->windows.windows[i].length_ms > longest->length_ms)
			longest = &cfg->windows.windows[i];
	config_format_duration(cfg->windows.retention_ms, have, sizeof have);

	if (cfg->windows.retention_ms < longest->length_ms)
		return config_error(ld, "windows.retention",
				    "%s is shorter than the longest rolling window '%s' (%s); "
				    "raise it to at least that",
				    have, longest->name,
				    config_format_duration(longest->length_ms, need, sizeof need));
	if (cfg->windows.allowed_lateness_ms > cfg->windows.retention_ms)
		return config_error(
		    ld, "windows.allowed_lateness",
		    "%s exceeds windows.retention (%s), so late events would land "
		    "in expired buckets; lower it or raise the retention",
		    config_format_duration(cfg->windows.allowed_lateness_ms, need, sizeof need),
		    have);
	return 0;
}

static int config_load_windows(const config_map *root)
{
	static const char *const keys[] = {
	    "granularities", "retention", "allowed_lateness", "max_future", "dedup_horizon",
	    "timezone",	     "rolling",	  NULL};
	config *cfg = root->ld->cfg;
	config_map m;

	if (config_open_key(root, "windows", false, keys, &m) < 0 ||
	    config_load_granularities(&m) < 0 ||
	    config_read_duration(&m, "retention", 35 * CONFIG_DAY_MS, 1, &cfg->windows.retention_ms,
				 NULL) < 0 ||
	    config_read_duration(&m, "allowed_lateness", 7 * CONFIG_DAY_MS, 0,
				 &cfg->windows.allowed_lateness_ms, NULL) < 0 ||
	    config_read_duration(&m, "max_future", 300000, 0, &cfg->windows.max_future_ms, NULL) <
		0 ||
	    config_read_duration(&m, "dedup_horizon", 2 * CONFIG_DAY_MS, 0,
				 &cfg->windows.dedup_horizon_ms, NULL) < 0 ||
	    config_read_string(&m, "timezone", false, "UTC", &cfg->windows.timezone) < 0 ||
	    config_check_timezone(root->ld, "windows.timezone", cfg->windows.timezone) < 0 ||
	    config_load_rolling(&m) < 0 || config_check_retention(root->ld) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* behaviours                                                                */

/*
 * Reads requires_consent. Consent is the credited person's, and only the
 * actor's is checked: the people an event targets did not act outside the
 * company themselves.
 */
static int config_read_rule_consent(const config_map *m, config_rule *r)
{
	char sub[CONFIG_PATH_MAX];
	int purpose;

	/* Absent, purpose stays CONSENT_PURPOSE_COUNT, which no listed name has. */
	if (config_read_enum(m, "requires_consent", config_consents, CONSENT_PURPOSE_COUNT,
			     &purpose) < 0)
		return -1;
	r->requires_consent =
	    purpose == CONSENT_PURPOSE_COUNT ? CONSENT_NONE : (consent_purpose)(purpose + 1);
	if (r->requires_consent != CONSENT_NONE && r->credit != CREDIT_ACTOR) {
		config_path_key(sub, m->kp, "requires_consent");
		return config_error(m->ld, sub,
				    "applies to rules that credit the actor; remove it or set "
				    "credit: actor");
	}
	return 0;
}

/* Reads amount_attribute and amount_max; amount_max needs amount_attribute. */
static int config_read_rule_amount(const config_map *m, config_rule *r)
{
	char sub[CONFIG_PATH_MAX];
	int max;

	if (config_read_string(m, "amount_attribute", false, NULL, &r->amount_attribute) < 0 ||
	    config_read_int(m, "amount_max", -1, 1, CONFIG_AMOUNT_MAX_LIMIT, &max) < 0)
		return -1;
	r->amount_max = max < 0 ? CONFIG_AMOUNT_MAX_DEFAULT : max;
	if (r->amount_attribute) {
		config_path_key(sub, m->kp, "amount_attribute");
		return config_check_chars(m->ld, sub, r->amount_attribute, CONFIG_TOKEN_CHARS,
					  CONFIG_TOKEN_TEXT);
	}
	if (max >= 0) {
		config_path_key(sub, m->kp, "amount_max");
		return config_error(m->ld, sub,
				    "is read only with amount_attribute; remove it or name the "
				    "attribute that holds the amount");
	}
	return 0;
}

/* opaque is the behaviour whose rules are loaded. */
static int config_load_rule(config_loader *ld, const yaml_node_t *item, const char *kp, size_t i,
			    void *opaque)
{
	static const char *const keys[] = {
	    "kinds",  "sources", "channels",	     "reactions",	 "requires_targets",
	    "credit", "effect",	 "requires_consent", "amount_attribute", "amount_max",
	    "networks", NULL};
	config_rule *r = &((config_behaviour *)opaque)->rules[i];
	int credit, effect;
	config_map m;

	if (config_open(ld, item, kp, keys, &m) < 0 ||
	    config_read_list(&m, "kinds", true, &r->kinds, &r->n_kinds) < 0 ||
	    config_read_list(&m, "sources", false, &r->sources, &r->n_sources) < 0 ||
	    config_read_list(&m, "channels", false, &r->channels, &r->n_channels) < 0 ||
	    config_read_list(&m, "reactions", false, &r->reactions, &r->n_reactions) < 0 ||
	    config_read_list(&m, "networks", false, &r->networks, &r->n_networks) < 0 ||
	    config_read_bool(&m, "requires_targets", false, &r->requires_targets) < 0 ||
	    config_read_enum(&m, "credit", config_credits, CREDIT_ACTOR, &credit) < 0 ||
	    config_read_enum(&m, "effect", config_effects, 0, &effect) < 0)
		return -1;
	r->credit = (rule_credit)credit;
	r->effect = effect == 0 ? 1 : -1;
	return config_read_rule_consent(&m, r) < 0 || config_read_rule_amount(&m, r) < 0 ? -1 : 0;
}

/*
 * Reads daily_cap, after the rules. A cap counts credits, one per event and
 * person, so it is refused on a behaviour whose rules credit an amount
 * (clicks, reach): those are outcomes, not repeated acts.
 */
static int config_read_daily_cap(const config_map *m, config_behaviour *b)
{
	char sub[CONFIG_PATH_MAX];

	if (config_read_int(m, "daily_cap", 0, 1, CONFIG_DAILY_CAP_MAX, &b->daily_cap) < 0)
		return -1;
	for (size_t i = 0; b->daily_cap > 0 && i < b->n_rules; i++) {
		if (!b->rules[i].amount_attribute)
			continue;
		config_path_key(sub, m->kp, "daily_cap");
		return config_error(m->ld, sub,
				    "caps credits per person and day, but rules[%zu] credits the "
				    "amount in '%s'; remove daily_cap or the amount_attribute",
				    i, b->rules[i].amount_attribute);
	}
	return 0;
}

static int config_load_behaviour(config_loader *ld, const yaml_node_t *node, const char *kp,
				 config_behaviour *b)
{
	static const char *const keys[] = {"description", "rules", "daily_cap", NULL};
	char rules_kp[CONFIG_PATH_MAX];
	yaml_node_t *rules;
	config_map m;

	if (config_check_chars(ld, kp, b->id, CONFIG_TOKEN_CHARS, CONFIG_TOKEN_TEXT) < 0 ||
	    config_open(ld, node, kp, keys, &m) < 0 ||
	    config_read_string(&m, "description", false, NULL, &b->description) < 0 ||
	    config_lookup_list(&m, "rules", true, 1, &rules, rules_kp) < 0)
		return -1;
	b->rules = config_alloc(ld, rules_kp, config_seq_size(rules), sizeof(config_rule));
	if (!b->rules)
		return -1;
	b->n_rules = config_seq_size(rules);
	if (config_each(ld, rules, rules_kp, config_load_rule, b) < 0)
		return -1;
	return config_read_daily_cap(&m, b);
}

static int config_load_behaviours(const config_map *root)
{
	config_loader *ld = root->ld;
	config *cfg = ld->cfg;
	char kp[CONFIG_PATH_MAX];
	config_map m;

	if (config_open_key(root, "behaviours", true, NULL, &m) < 0)
		return -1;
	if (config_map_size(m.node) == 0)
		return config_error(ld, m.kp, "must define at least one behaviour");
	if (config_map_size(m.node) > UINT16_MAX)
		return config_error(ld, m.kp, "defines %zu behaviours; at most %d are supported",
				    config_map_size(m.node), UINT16_MAX);
	cfg->behaviours = config_alloc(ld, m.kp, config_map_size(m.node), sizeof(config_behaviour));
	if (!cfg->behaviours)
		return -1;
	cfg->n_behaviours = config_map_size(m.node);

	for (size_t i = 0; i < cfg->n_behaviours; i++) {
		const yaml_node_pair_t *p = &m.node->data.mapping.pairs.start[i];
		const char *id = config_text(config_node(ld, p->key));
		config_path_key(kp, m.kp, id);
		config_behaviour *b = &cfg->behaviours[i];
		if (config_strdup(ld, kp, id, &b->id) < 0 ||
		    config_load_behaviour(ld, config_node(ld, p->value), kp, b) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* kpis                                                                      */

static long config_find_behaviour(const config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_behaviours; i++)
		if (strcmp(cfg->behaviours[i].id, id) == 0)
			return (long)i;
	return -1;
}

static int config_unknown_behaviour(config_loader *ld, const char *kp, const char *id)
{
	char list[CONFIG_LIST_MAX];
	size_t len = 0;

	list[0] = '\0';
	for (size_t i = 0; i < ld->cfg->n_behaviours; i++)
		config_list_append(list, sizeof list, &len, ld->cfg->behaviours[i].id);
	return config_error(ld, kp,
			    "unknown behaviour '%s'; define it under behaviours or use one of: %s",
			    id, list);
}

/* Resolves the KPI's behaviour ids (read into names) to indices. */
static int config_resolve_behaviours(config_loader *ld, const char *kp, config_kpi *k, char **names,
				     size_t n)
{
	char item_kp[CONFIG_PATH_MAX];

	k->behaviours = config_alloc(ld, kp, n, sizeof *k->behaviours);
	if (!k->behaviours)
		return -1;
	k->n_behaviours = n;

	for (size_t i = 0; i < n; i++) {
		long found = config_find_behaviour(ld->cfg, names[i]);
		config_path_index(item_kp, kp, i);
		if (found < 0)
			return config_unknown_behaviour(ld, item_kp, names[i]);
		for (size_t j = 0; j < i; j++)
			if (k->behaviours[j] == (size_t)found)
				return config_error(ld, item_kp,
						    "behaviour '%s' is listed twice; list it once",
						    names[i]);
		k->behaviours[i] = (size_t)found;
	}
	return 0;
}

/*
 * Returns 1 when the KPI must list behaviours, 0 when its aggregation counts
 * roster departures and it must list none, -1 when such a KPI lists
 * behaviours. A missing or invalid aggregation gives 1: reading the
 * aggregation later reports it.
 */
static int config_kpi_behaviours_required(const config_map *m)
{
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *n = config_map_find(m, "aggregation");
	int aggregation = -1;

	if (n && n->type == YAML_SCALAR_NODE)
		aggregation = config_name_index(config_aggregations,
						(const char *)n->data.scalar.value);
	if (aggregation < 0 ||
	    !config_aggregation_reads_departures((kpi_aggregation)aggregation))
		return 1;
	if (config_lookup(m, "behaviours", false, &n, sub) == 0)
		return 0;
	return config_error(m->ld, sub,
			    "aggregation %s is computed from roster departures and headcount "
			    "history; remove behaviours",
			    config_aggregations[aggregation]);
}

static int config_load_kpi_behaviours(const config_map *m, config_kpi *k)
{
	char sub[CONFIG_PATH_MAX];
	char **names = NULL;
	size_t n_names = 0;
	int rc;

	config_path_key(sub, m->kp, "behaviours");
	rc = config_kpi_behaviours_required(m);
	if (rc >= 0)
		rc = config_read_list(m, "behaviours", rc == 1, &names, &n_names);
	if (rc == 0)
		rc = config_resolve_behaviours(m->ld, sub, k, names, n_names);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int config_load_kpi_window(const config_map *m, config_kpi *k)
{
	const config *cfg = m->ld->cfg;
	char sub[CONFIG_PATH_MAX], list[CONFIG_LIST_MAX];
	char *name = NULL;
	size_t len = 0;

	if (config_read_string(m, "window", true, NULL, &name) < 0)
		return -1;
	for (size_t i = 0; i < cfg->windows.n_windows; i++) {
		if (strcmp(cfg->windows.windows[i].name, name) == 0) {
			k->window = i;
			free(name);
			return 0;
		}
	}

	list[0] = '\0';
	for (size_t i = 0; i < cfg->windows.n_windows; i++)
		config_list_append(list, sizeof list, &len, cfg->windows.windows[i].name);
	config_path_key(sub, m->kp, "window");
	config_error(m->ld, sub, "unknown window '%s'; use a window named in windows.rolling: %s",
		     name, list);
	free(name);
	return -1;
}

/* Checks that the id of threshold ti of KPI ki is unique across all KPIs. */
static int config_check_threshold_id(config_loader *ld, const char *kp, size_t ki, size_t ti)
{
	const config *cfg = ld->cfg;
	const char *id = cfg->kpis[ki].thresholds[ti].id;

	for (size_t i = 0; i <= ki; i++) {
		size_t n = i < ki ? cfg->kpis[i].n_thresholds : ti;
		for (size_t j = 0; j < n; j++)
			if (strcmp(cfg->kpis[i].thresholds[j].id, id) == 0)
				return config_error(ld, kp,
						    "threshold id '%s' is already used by "
						    "kpis[%zu].thresholds[%zu]; threshold ids must "
						    "be unique across all KPIs",
						    id, i, j);
	}
	return 0;
}

/* opaque is the bit set of scope kinds being filled. */
static int config_load_scope(config_loader *ld, const yaml_node_t *item, const char *kp, size_t i,
			     void *opaque)
{
	const char *text = config_scalar(ld, item, kp, "a string");
	int kind;

	if (!text)
		return -1;
	kind = config_name_index(config_scope_kinds, text);
	if (kind < 0)
		return config_invalid_value(ld, kp, text, config_scope_kinds);
	*(uint32_t *)opaque |= 1u << kind;
	return 0;
}

/*
 * Reads the optional list key of scope kinds into the bit set *bits, each
 * item through load_item; all_bits when the key is left out.
 */
static int config_load_kind_set(const config_map *m, const char *key, uint32_t all_bits,
				config_item_fn load_item, uint32_t *bits)
{
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *seq;
	int found = config_lookup_list(m, key, false, 1, &seq, sub);

	*bits = all_bits;
	if (found <= 0)
		return found;
	*bits = 0;
	return config_each(m->ld, seq, sub, load_item, bits);
}

static int config_load_scopes(const config_map *m, uint32_t *bits)
{
	return config_load_kind_set(m, "scopes", CONFIG_ALL_SCOPE_KINDS, config_load_scope, bits);
}

/* Rejects key when it is given, because it applies only to the conditions named in only. */
static int config_reject_rule_key(const config_map *m, const char *key, const char *only)
{
	char sub[CONFIG_PATH_MAX];

	if (!config_map_find(m, key))
		return 0;
	config_path_key(sub, m->kp, key);
	return config_error(
	    m->ld, sub, "applies only to %s rules; remove it or change the rule's condition", only);
}

/* Reads direction: required, except for disparity, which fires below value only. */
static int config_read_rule_direction(const config_map *m, config_threshold *t)
{
	bool disparity = t->condition == ALERT_COND_DISPARITY;
	char sub[CONFIG_PATH_MAX];
	int direction;

	if (config_read_enum(m, "direction", config_directions, disparity ? THRESHOLD_BELOW : -1,
			     &direction) < 0)
		return -1;
	t->direction = (threshold_direction)direction;
	if (!disparity || t->direction == THRESHOLD_BELOW)
		return 0;
	config_path_key(sub, m->kp, "direction");
	return config_error(m->ld, sub,
			    "must be below or left out for a disparity rule, which fires while "
			    "the lowest segment's value divided by the highest is below value");
}

/* The value a rule compares with when none is given: threshold rules use the KPI's target. */
static double config_default_rule_value(const config_kpi *k, alert_condition c)
{
	switch (c) {
	case ALERT_COND_ZSCORE:
		return 3;
	case ALERT_COND_TREND:
		return 0;
	case ALERT_COND_DISPARITY:
		return 0.8;
	default:
		return k->target;
	}
}

/* Checks that the KPI can carry the rule's condition. */
static int config_check_rule_kpi(const config_map *m, const config_kpi *k,
				 const config_threshold *t)
{
	char sub[CONFIG_PATH_MAX];

	config_path_key(sub, m->kp, "condition");
	if (t->condition == ALERT_COND_DEVIATION && k->target == 0)
		return config_error(
		    m->ld, sub,
		    "deviation is a percentage of the KPI's target, and the target "
		    "of KPI '%s' is 0; use condition threshold with a value instead",
		    k->id);
	if (t->condition == ALERT_COND_DISPARITY && k->formula.denominator != FORMULA_HEADCOUNT)
		return config_error(
		    m->ld, sub,
		    "disparity compares segments of different sizes, so it needs a "
		    "KPI divided by headcount, but KPI '%s' has aggregation %s; put "
		    "the rule on a rate or participation KPI, or a formula with "
		    "denominator headcount",
		    k->id, config_aggregation_name(k->aggregation));
	return 0;
}

/* Checks value against the range of the rule's condition. */
static int config_check_rule_value(const config_map *m, const config_threshold *t)
{
	char sub[CONFIG_PATH_MAX];

	config_path_key(sub, m->kp, "value");
	if (t->condition == ALERT_COND_DEVIATION && t->value <= 0)
		return config_error(
		    m->ld, sub,
		    "must be a percentage above 0, got %g: how far from the target, "
		    "in percent, the KPI may go before the rule fires",
		    t->value);
	if (t->condition == ALERT_COND_ZSCORE && t->value <= 0)
		return config_error(m->ld, sub,
				    "must be a number of standard deviations above 0, got %g",
				    t->value);
	if (t->condition == ALERT_COND_DISPARITY && (t->value <= 0 || t->value > 1))
		return config_error(m->ld, sub,
				    "must be a ratio above 0 and at most 1, got %g (0.8 is the "
				    "four-fifths rule of adverse impact audits)",
				    t->value);
	return 0;
}

/* Reads value: required for deviation, else the condition's default when absent. */
static int config_read_rule_value(const config_map *m, const config_kpi *k, config_threshold *t)
{
	char sub[CONFIG_PATH_MAX];

	t->has_value = config_map_find(m, "value") != NULL;
	if (t->condition == ALERT_COND_DEVIATION && !t->has_value) {
		config_path_key(sub, m->kp, "value");
		return config_error(
		    m->ld, sub,
		    "is required for a deviation rule; give the percentage from the "
		    "target at which it fires, e.g. value: 20");
	}
	if (config_read_number(m, "value", false, config_default_rule_value(k, t->condition),
			       -INFINITY, &t->value) < 0)
		return -1;
	return config_check_rule_value(m, t);
}

/* Names the firing bound in messages: a threshold rule without value fires at the target. */
static const char *config_bound_name(const config_threshold *t)
{
	if (t->condition == ALERT_COND_THRESHOLD && !t->has_value)
		return "the KPI's target";
	return "value";
}

/*
 * Reads resolve_value, the hysteresis bound, which must lie on the clear
 * side of value. For deviation and zscore, value is a distance from the
 * target or the baseline whatever the direction, so the clear side is a
 * smaller distance. For disparity it is a larger ratio, up to 1. For
 * threshold and trend it follows the direction.
 */
static int config_read_resolve_value(const config_map *m, config_threshold *t)
{
	double v = t->value, r;
	char sub[CONFIG_PATH_MAX];

	if (config_read_number(m, "resolve_value", false, v, -INFINITY, &t->resolve_value) < 0)
		return -1;
	r = t->resolve_value;
	config_path_key(sub, m->kp, "resolve_value");

	if (t->condition == ALERT_COND_DEVIATION || t->condition == ALERT_COND_ZSCORE) {
		if (r < 0 || r > v)
			return config_error(m->ld, sub,
					    "must be between 0 and value (%g), got %g: the alert "
					    "resolves once the distance is back within it",
					    v, r);
		return 0;
	}
	if (t->condition == ALERT_COND_DISPARITY) {
		if (r < v || r > 1)
			return config_error(m->ld, sub,
					    "must be between value (%g) and 1, got %g: the alert "
					    "resolves once the ratio is back at or above it",
					    v, r);
		return 0;
	}
	if (t->direction == THRESHOLD_BELOW && r < v)
		return config_error(
		    m->ld, sub,
		    "is %g, below %s (%g); a rule that fires below its bound resolves "
		    "at or above resolve_value, so set it to at least %g",
		    r, config_bound_name(t), v, v);
	if (t->direction == THRESHOLD_ABOVE && r > v)
		return config_error(
		    m->ld, sub,
		    "is %g, above %s (%g); a rule that fires above its bound resolves "
		    "at or below resolve_value, so set it to at most %g",
		    r, config_bound_name(t), v, v);
	return 0;
}

/* Reads condition, direction, value and resolve_value. */
static int config_load_rule_condition(const config_map *m, const config_kpi *k, config_threshold *t)
{
	int condition;

	if (config_read_enum(m, "condition", config_conditions, ALERT_COND_THRESHOLD, &condition) <
	    0)
		return -1;
	t->condition = (alert_condition)condition;
	if (config_check_rule_kpi(m, k, t) < 0 || config_read_rule_direction(m, t) < 0 ||
	    config_read_rule_value(m, k, t) < 0 || config_read_resolve_value(m, t) < 0)
		return -1;
	return 0;
}

/* Reads period and periods, which shape the history of zscore and trend rules only. */
static int config_load_rule_history(const config_map *m, config_threshold *t)
{
	static const char only[] = "zscore and trend";

	if (t->condition != ALERT_COND_ZSCORE && t->condition != ALERT_COND_TREND &&
	    (config_reject_rule_key(m, "period", only) < 0 ||
	     config_reject_rule_key(m, "periods", only) < 0))
		return -1;
	if (config_read_duration(m, "period", 3600000, 1000, &t->period_ms, NULL) < 0 ||
	    config_read_int(m, "periods", 7, 2, 64, &t->periods) < 0)
		return -1;
	return 0;
}

/* Reads for_ticks, for, keep_firing_for, repeat_interval, period and periods. */
static int config_load_rule_timing(const config_map *m, config_threshold *t)
{
	if (config_read_int(m, "for_ticks", 1, 1, INT_MAX, &t->for_ticks) < 0 ||
	    config_read_duration(m, "for", 0, 0, &t->for_ms, NULL) < 0 ||
	    config_read_duration(m, "keep_firing_for", 0, 0, &t->keep_firing_for_ms, NULL) < 0 ||
	    config_read_duration(m, "repeat_interval", 0, 0, &t->repeat_interval_ms, NULL) < 0 ||
	    config_load_rule_history(m, t) < 0)
		return -1;
	return 0;
}

/*
 * Reads scopes and min_sample. A disparity rule compares the segments of
 * each scope kind it lists, so org, which has one segment, is rejected and
 * the default is every other kind. min_sample is never below
 * CONFIG_MIN_SAMPLE. Segments smaller than privacy.min_group_size are
 * suppressed as KPI updates, and the alert engine ignores suppressed updates.
 */
static int config_load_rule_scopes(const config_map *m, config_threshold *t)
{
	int min_group_size = m->ld->cfg->privacy.min_group_size;
	char sub[CONFIG_PATH_MAX];

	t->min_sample = min_group_size > CONFIG_MIN_SAMPLE ? min_group_size : CONFIG_MIN_SAMPLE;
	if (config_load_scopes(m, &t->scope_kinds) < 0)
		return -1;
	if (t->condition != ALERT_COND_DISPARITY)
		return config_reject_rule_key(m, "min_sample", "disparity");
	if (config_read_int(m, "min_sample", t->min_sample, CONFIG_MIN_SAMPLE, INT_MAX,
			    &t->min_sample) < 0)
		return -1;

	if (!config_map_find(m, "scopes"))
		t->scope_kinds = CONFIG_SCOPE_KINDS_BUT_ORG;
	if (!(t->scope_kinds & (1u << SCOPE_ORG)))
		return 0;
	config_path_key(sub, m->kp, "scopes");
	return config_error(m->ld, sub,
			    "lists org, which has a single segment, so a disparity rule has "
			    "nothing to compare there; list only the dimensions to compare, "
			    "e.g. [department, work_mode]");
}

/* Reads runbook_url: an http or https address of at most CONFIG_RUNBOOK_URL_MAX bytes. */
static int config_read_runbook_url(const config_map *m, char **out)
{
	char sub[CONFIG_PATH_MAX];
	const char *host;

	if (config_read_string(m, "runbook_url", false, NULL, out) < 0)
		return -1;
	if (!*out)
		return 0;
	config_path_key(sub, m->kp, "runbook_url");
	if (strlen(*out) > CONFIG_RUNBOOK_URL_MAX)
		return config_error(m->ld, sub, "is %zu bytes long; keep it to at most %d",
				    strlen(*out), CONFIG_RUNBOOK_URL_MAX);
	if (strncmp(*out, "https://", 8) == 0)
		host = *out + 8;
	else if (strncmp(*out, "http://", 7) == 0)
		host = *out + 7;
	else
		return config_error(m->ld, sub,
				    "must start with https:// or http://; give the full address "
				    "of the runbook page");
	for (const unsigned char *p = (const unsigned char *)*out; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return config_error(m->ld, sub,
					    "contains a space or control character at byte %zu; "
					    "percent-encode it (%%20 for a space)",
					    (size_t)(p - (const unsigned char *)*out));
	if (host[0] == '\0' || host[0] == '/')
		return config_error(m->ld, sub,
				    "names no host after the scheme; write the full address, e.g. "
				    "https://wiki.example.com/runbooks/recognition");
	return 0;
}

/* Checks a label name: [a-z_][a-z0-9_]*, at most CONFIG_LABEL_KEY_MAX bytes. */
static int config_check_label_name(config_loader *ld, const char *kp, const char *name)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyz_";

	if (name[0] && strchr(first, name[0]) && name[strspn(name, CONFIG_KPI_ID_CHARS)] == '\0' &&
	    strlen(name) <= CONFIG_LABEL_KEY_MAX)
		return 0;
	return config_error(ld, kp,
			    "invalid label name '%s'; start with a lower-case letter or '_', "
			    "use only lower-case letters, digits and '_', at most %d characters",
			    name, CONFIG_LABEL_KEY_MAX);
}

/* Loads pair i of the labels map m into label. */
static int config_load_label(const config_map *m, size_t i, config_kv *label)
{
	const yaml_node_pair_t *p = &m->node->data.mapping.pairs.start[i];
	const char *name = config_text(config_node(m->ld, p->key));
	yaml_node_t *node = config_node(m->ld, p->value);
	char sub[CONFIG_PATH_MAX];
	const char *text;

	config_path_key(sub, m->kp, name);
	if (config_check_label_name(m->ld, sub, name) < 0)
		return -1;
	if (config_is_null(node))
		return config_error(m->ld, sub, "has no value; give one or remove the label");
	text = config_scalar(m->ld, node, sub, "a string");
	if (!text)
		return -1;
	if (text[0] == '\0')
		return config_error(m->ld, sub, "must not be empty; remove the label instead");
	if (strlen(text) > CONFIG_LABEL_VALUE_MAX)
		return config_error(m->ld, sub, "is %zu bytes long; keep it to at most %d",
				    strlen(text), CONFIG_LABEL_VALUE_MAX);
	if (strpbrk(text, "\r\n"))
		return config_error(m->ld, sub, "spans several lines; write it on one line");
	if (strchr(text, '@'))
		return config_error(
		    m->ld, sub,
		    "contains '@'; labels are copied into every escalation event, "
		    "so they must never hold an e-mail address: name a team or role");
	if (config_strdup(m->ld, sub, name, &label->key) < 0 ||
	    config_strdup(m->ld, sub, text, &label->value) < 0)
		return -1;
	return 0;
}

/* Reads labels: a map of at most CONFIG_MAX_LABELS names to one-line values. */
static int config_load_labels(const config_map *rule, config_threshold *t)
{
	config_map m;
	size_t n;

	if (config_open_key(rule, "labels", false, NULL, &m) < 0)
		return -1;
	if (!m.node)
		return 0;
	n = config_map_size(m.node);
	if (n > CONFIG_MAX_LABELS)
		return config_error(rule->ld, m.kp, "has %zu labels; at most %d are allowed", n,
				    CONFIG_MAX_LABELS);
	t->labels = config_alloc(rule->ld, m.kp, n, sizeof *t->labels);
	if (!t->labels)
		return -1;
	t->n_labels = n;
	for (size_t i = 0; i < n; i++)
		if (config_load_label(&m, i, &t->labels[i]) < 0)
			return -1;
	return 0;
}

/* Reads route; by default the owner, else CONFIG_ROUTE_DEFAULT. */
static int config_read_route(const config_map *m, config_threshold *t)
{
	char sub[CONFIG_PATH_MAX];

	if (config_read_governance_text(m, "route", CONFIG_OWNER_MAX, &t->route) < 0)
		return -1;
	if (t->route)
		return 0;
	config_path_key(sub, m->kp, "route");
	return config_strdup(m->ld, sub, t->owner ? t->owner : CONFIG_ROUTE_DEFAULT, &t->route);
}

/* Reads severity, owner, route, runbook_url, labels and rationale. */
static int config_load_rule_routing(const config_map *m, config_threshold *t)
{
	int severity;

	if (config_read_enum(m, "severity", config_severities, CONFIG_SEVERITY_WARNING, &severity) <
		0 ||
	    config_strdup(m->ld, m->kp, config_severities[severity], &t->severity) < 0 ||
	    config_read_governance_text(m, "owner", CONFIG_OWNER_MAX, &t->owner) < 0 ||
	    config_read_route(m, t) < 0 || config_read_runbook_url(m, &t->runbook_url) < 0 ||
	    config_load_labels(m, t) < 0 ||
	    config_read_governance_text(m, "rationale", CONFIG_RATIONALE_MAX, &t->rationale) < 0)
		return -1;
	return 0;
}

/* Checks that the second tier hands the alert to another owner or severity. */
static int config_check_escalate(const config_map *m, const config_threshold *t)
{
	bool new_owner = t->escalate_owner && (!t->owner || strcmp(t->escalate_owner, t->owner));
	bool new_severity = t->escalate_severity && strcmp(t->escalate_severity, t->severity);

	if (!t->escalate_owner && !t->escalate_severity)
		return config_error(m->ld, m->kp,
				    "gives neither owner nor severity; name the second tier's "
				    "owner, severity or both");
	if (!new_owner && !new_severity)
		return config_error(m->ld, m->kp,
				    "changes neither the rule's owner nor its severity; give a "
				    "different one, or remove escalate");
	return 0;
}

/* Reads escalate: {after, owner, severity}, the second tier; after is required. */
static int config_load_escalate(const config_map *rule, config_threshold *t)
{
	static const char *const keys[] = {"after", "owner", "severity", NULL};
	char sub[CONFIG_PATH_MAX];
	int severity;
	config_map m;

	if (config_open_key(rule, "escalate", false, keys, &m) < 0)
		return -1;
	if (!m.node)
		return 0;
	if (config_read_duration(&m, "after", -1, 1, &t->escalate_after_ms, NULL) < 0 ||
	    config_read_governance_text(&m, "owner", CONFIG_OWNER_MAX, &t->escalate_owner) < 0)
		return -1;
	if (config_map_find(&m, "severity")) {
		config_path_key(sub, m.kp, "severity");
		if (config_read_enum(&m, "severity", config_severities, -1, &severity) < 0 ||
		    config_strdup(m.ld, sub, config_severities[severity], &t->escalate_severity) <
			0)
			return -1;
	}
	return config_check_escalate(&m, t);
}

/* opaque points to the index of the KPI whose thresholds are loaded. */
static int config_load_threshold(config_loader *ld, const yaml_node_t *item, const char *kp,
				 size_t ti, void *opaque)
{
	static const char *const keys[] = {
	    "id",	 "condition",	"direction",	   "value",	      "resolve_value",
	    "for_ticks", "for",		"keep_firing_for", "repeat_interval", "period",
	    "periods",	 "min_sample",	"severity",	   "scopes",	      "owner",
	    "route",	 "runbook_url", "labels",	   "rationale",	      "escalate",
	    NULL};
	size_t ki = *(const size_t *)opaque;
	config_kpi *k = &ld->cfg->kpis[ki];
	config_threshold *t = &k->thresholds[ti];
	char sub[CONFIG_PATH_MAX];
	config_map m;

	config_path_key(sub, kp, "id");
	if (config_open(ld, item, kp, keys, &m) < 0 ||
	    config_read_string(&m, "id", true, NULL, &t->id) < 0 ||
	    config_check_chars(ld, sub, t->id, CONFIG_TOKEN_CHARS, CONFIG_TOKEN_TEXT) < 0 ||
	    config_check_threshold_id(ld, sub, ki, ti) < 0 ||
	    config_load_rule_condition(&m, k, t) < 0 || config_load_rule_timing(&m, t) < 0 ||
	    config_load_rule_scopes(&m, t) < 0 || config_load_rule_routing(&m, t) < 0 ||
	    config_load_escalate(&m, t) < 0)
		return -1;
	return 0;
}

static int config_load_thresholds(const config_map *m, size_t ki)
{
	config_kpi *k = &m->ld->cfg->kpis[ki];
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *seq;
	int found = config_lookup_list(m, "thresholds", false, 0, &seq, sub);

	if (found <= 0)
		return found;
	k->thresholds = config_alloc(m->ld, sub, config_seq_size(seq), sizeof(config_threshold));
	if (!k->thresholds)
		return -1;
	k->n_thresholds = config_seq_size(seq);
	return config_each(m->ld, seq, sub, config_load_threshold, &ki);
}

/* ------------------------------------------------------------------------ */
/* programme, and each KPI's dynamic targets and benchmark range            */

/* What the keys of a map read by config_read_named_values() name. */
typedef enum config_name_kind {
	CONFIG_NAME_SCOPE,   /* a scope name: "org" or "<kind>:<value>" */
	CONFIG_NAME_SEGMENT, /* a value of the roster's segment attribute */
} config_name_kind;

/* Checks that name is "org" or "<kind>:<value>" with a scope kind other than org. */
static int config_check_scope_name(config_loader *ld, const char *kp, const char *name)
{
	const char *colon = strchr(name, ':');
	char kind[32], list[CONFIG_LIST_MAX];
	size_t len = colon ? (size_t)(colon - name) : 0;

	if (strcmp(name, "org") == 0)
		return 0;
	if (colon && len < sizeof kind && colon[1] != '\0') {
		memcpy(kind, name, len);
		kind[len] = '\0';
		if (config_name_index(config_scope_kinds, kind) > 0)
			return 0;
	}
	return config_error(ld, kp,
			    "invalid scope name '%s'; write org or KIND:VALUE as the KPI topic "
			    "names scopes, e.g. team:Payments, with KIND one of %s",
			    name, config_join(config_scope_kinds + 1, list, sizeof list));
}

/* Reads the value of one pair of a named-value map: a number, or a stage when stages. */
static int config_read_named_value(config_loader *ld, const yaml_node_t *node, const char *kp,
				   bool stages, double *out)
{
	const char *text = config_plain_scalar(ld, node, kp, stages ? "a stage" : "a number");
	char *end;
	int stage;

	if (!text)
		return -1;
	if (stages) {
		stage = config_name_index(config_programme_stages, text);
		if (stage < 0)
			return config_invalid_value(ld, kp, text, config_programme_stages);
		*out = stage;
		return 0;
	}
	errno = 0;
	*out = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(*out))
		return config_error(ld, kp, "expected a number, got '%s'", text);
	return 0;
}

/*
 * Reads the optional map under key whose keys are scope names or segment
 * values (names) and whose values are numbers, or programme stages when
 * stages is true. Absent: none. A map given must not be empty.
 */
static int config_read_named_values(const config_map *m, const char *key, config_name_kind names,
				    bool stages, config_named_value **out, size_t *n_out)
{
	char sub[CONFIG_PATH_MAX], item[CONFIG_PATH_MAX];
	config_map map;
	size_t i = 0;

	if (config_open_key(m, key, false, NULL, &map) < 0)
		return -1;
	if (!map.node)
		return 0;
	config_path_key(sub, m->kp, key);
	if (config_map_size(map.node) == 0)
		return config_error(m->ld, sub, "must name at least one %s, or be left out",
				    names == CONFIG_NAME_SCOPE ? "scope" : "segment");
	*out = config_alloc(m->ld, sub, config_map_size(map.node), sizeof **out);
	if (!*out)
		return -1;
	*n_out = config_map_size(map.node);
	for (const yaml_node_pair_t *p = map.node->data.mapping.pairs.start;
	     p < map.node->data.mapping.pairs.top; p++, i++) {
		const char *name = config_text(config_node(m->ld, p->key));
		config_path_key(item, sub, name);
		if (name[0] == '\0')
			return config_error(m->ld, sub, "contains an empty name; remove it");
		if (names == CONFIG_NAME_SCOPE && config_check_scope_name(m->ld, item, name) < 0)
			return -1;
		if (config_strdup(m->ld, item, name, &(*out)[i].name) < 0 ||
		    config_read_named_value(m->ld, config_node(m->ld, p->value), item, stages,
					    &(*out)[i].value) < 0)
			return -1;
	}
	return 0;
}

/* programme: {maturity: STAGE, scopes: {SCOPE: STAGE}}; optional as a whole. */
static int config_load_programme(const config_map *root)
{
	static const char *const keys[] = {"maturity", "scopes", NULL};
	config *cfg = root->ld->cfg;
	config_map m;
	int stage;

	if (config_open_key(root, "programme", false, keys, &m) < 0 ||
	    config_read_enum(&m, "maturity", config_programme_stages, PROGRAMME_STAGE_COUNT,
			     &stage) < 0 ||
	    config_read_named_values(&m, "scopes", CONFIG_NAME_SCOPE, true, &cfg->programme.scopes,
				     &cfg->programme.n_scopes) < 0)
		return -1;
	cfg->programme.has_maturity = stage < PROGRAMME_STAGE_COUNT;
	cfg->programme.maturity = cfg->programme.has_maturity ? (programme_stage)stage
							      : PROGRAMME_MATURE;
	return 0;
}

/* kpis[].targets.maturity: {pilot: N, growth: N, mature: N}, each optional. */
static int config_load_maturity_targets(const config_map *targets, config_kpi_targets *t)
{
	const config *cfg = targets->ld->cfg;
	char sub[CONFIG_PATH_MAX];
	config_map m;

	if (config_open_key(targets, "maturity", false, config_programme_stages, &m) < 0)
		return -1;
	for (int s = 0; m.node && s < PROGRAMME_STAGE_COUNT; s++) {
		t->has_maturity[s] = config_map_find(&m, config_programme_stages[s]) != NULL;
		if (config_read_number(&m, config_programme_stages[s], false, 0, -INFINITY,
				       &t->maturity[s]) < 0)
			return -1;
	}
	if (!m.node || cfg->programme.has_maturity || cfg->programme.n_scopes)
		return 0;
	config_path_key(sub, targets->kp, "maturity");
	return config_error(targets->ld, sub,
			    "gives targets per programme stage, but no stage is set; add "
			    "programme.maturity (pilot, growth or mature) at the top level");
}

/* A deviation rule divides by the target, so no dynamic target may be 0 either. */
static int config_check_targets_nonzero(const config_map *m, const config_kpi *k)
{
	const config_kpi_targets *t = &k->targets;
	bool zero = t->has_industry && t->industry == 0;
	char sub[CONFIG_PATH_MAX];
	bool deviation = false;

	for (size_t i = 0; i < k->n_thresholds; i++)
		deviation = deviation || k->thresholds[i].condition == ALERT_COND_DEVIATION;
	for (int s = 0; s < PROGRAMME_STAGE_COUNT; s++)
		zero = zero || (t->has_maturity[s] && t->maturity[s] == 0);
	for (size_t i = 0; i < t->n_scopes; i++)
		zero = zero || t->scopes[i].value == 0;
	for (size_t i = 0; i < t->n_segments; i++)
		zero = zero || t->segments[i].value == 0;
	if (!deviation || !zero)
		return 0;
	config_path_key(sub, m->kp, "targets");
	return config_error(m->ld, sub,
			    "contains a target of 0, but KPI '%s' has a deviation rule, which "
			    "is a percentage of the target; give a target other than 0",
			    k->id);
}

/* kpis[].targets: {scopes: {...}, segments: {...}, maturity: {...}, industry: N}. */
static int config_load_kpi_targets(const config_map *kpi, config_kpi *k)
{
	static const char *const keys[] = {"scopes", "segments", "maturity", "industry", NULL};
	config_kpi_targets *t = &k->targets;
	config_map m;

	if (config_open_key(kpi, "targets", false, keys, &m) < 0)
		return -1;
	if (!m.node)
		return 0;
	t->has_industry = config_map_find(&m, "industry") != NULL;
	if (config_read_named_values(&m, "scopes", CONFIG_NAME_SCOPE, false, &t->scopes,
				     &t->n_scopes) < 0 ||
	    config_read_named_values(&m, "segments", CONFIG_NAME_SEGMENT, false, &t->segments,
				     &t->n_segments) < 0 ||
	    config_load_maturity_targets(&m, t) < 0 ||
	    config_read_number(&m, "industry", false, 0, -INFINITY, &t->industry) < 0)
		return -1;
	return config_check_targets_nonzero(kpi, k);
}

/* kpis[].benchmark: {low: N, high: N} with high > low. */
/* Reads better: higher or lower; a capped share is better low, every other KPI high. */
static int config_load_kpi_better(const config_map *kpi, config_kpi *k)
{
	int better;
	int lower_default = k->aggregation == KPI_AGG_CAPPED_SHARE;

	if (config_read_enum(kpi, "better", config_kpi_better, lower_default, &better) < 0)
		return -1;
	k->lower_is_better = better == 1;
	return 0;
}

static int config_load_kpi_benchmark(const config_map *kpi, config_kpi *k)
{
	static const char *const keys[] = {"low", "high", NULL};
	config_benchmark *b = &k->benchmark;
	char sub[CONFIG_PATH_MAX];
	config_map m;

	if (config_open_key(kpi, "benchmark", false, keys, &m) < 0)
		return -1;
	if (!m.node)
		return 0;
	if (config_read_number(&m, "low", true, 0, -INFINITY, &b->low) < 0 ||
	    config_read_number(&m, "high", true, 0, -INFINITY, &b->high) < 0)
		return -1;
	b->given = true;
	if (b->high > b->low)
		return 0;
	config_path_key(sub, m.kp, "high");
	return config_error(m.ld, sub,
			    "must be above low (%g), got %g: the index scores a value 0 at "
			    "low and 1 at high",
			    b->low, b->high);
}

static void config_free_named_values(config_named_value *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(values[i].name);
	free(values);
}

static int config_check_kpi_id(config_loader *ld, const char *kp, size_t ki)
{
	const config *cfg = ld->cfg;
	const char *id = cfg->kpis[ki].id;

	if (config_check_chars(ld, kp, id, CONFIG_KPI_ID_CHARS, CONFIG_KPI_ID_TEXT) < 0)
		return -1;
	for (size_t i = 0; i < ki; i++)
		if (strcmp(cfg->kpis[i].id, id) == 0)
			return config_error(ld, kp,
					    "KPI id '%s' is already used by kpis[%zu]; give each "
					    "KPI its own id",
					    id, i);
	return 0;
}

/*
 * A capped_share KPI divides capped credits by counted plus capped ones, so
 * each of its behaviours needs a daily_cap: an uncapped one would only add
 * to the denominator.
 */
static int config_check_capped_share_kpi(const config_map *m, const config_kpi *k)
{
	char list_kp[CONFIG_PATH_MAX], kp[CONFIG_PATH_MAX];

	if (k->aggregation != KPI_AGG_CAPPED_SHARE)
		return 0;
	for (size_t i = 0; i < k->n_behaviours; i++) {
		const config_behaviour *b = &m->ld->cfg->behaviours[k->behaviours[i]];
		if (b->daily_cap > 0)
			continue;
		config_path_key(list_kp, m->kp, "behaviours");
		config_path_index(kp, list_kp, i);
		return config_error(m->ld, kp,
				    "aggregation capped_share needs behaviours with a daily_cap, "
				    "but behaviour '%s' has none; set behaviours.%s.daily_cap or "
				    "remove it from the KPI",
				    b->id, b->id);
	}
	return 0;
}

/* An enps KPI names its three behaviours in order: promoters, passives, detractors. */
static int config_check_enps_kpi(const config_map *m, const config_kpi *k)
{
	char kp[CONFIG_PATH_MAX];

	if (k->aggregation != KPI_AGG_ENPS || k->n_behaviours == 3)
		return 0;
	config_path_key(kp, m->kp, "behaviours");
	return config_error(m->ld, kp,
			    "aggregation enps needs exactly three behaviours, in this order: "
			    "promoters, passives, detractors (got %zu)",
			    k->n_behaviours);
}

/*
 * Reads split_by and split_threshold, which only a retention_gap KPI takes
 * (split_by required). split_by is resolved once every KPI is loaded.
 */
static int config_load_kpi_split(const config_map *m, config_kpi *k)
{
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *n;
	bool gap = k->aggregation == KPI_AGG_RETENTION_GAP;

	if (!gap) {
		if (config_lookup(m, "split_by", false, &n, sub) == 0 &&
		    config_lookup(m, "split_threshold", false, &n, sub) == 0)
			return 0;
		return config_error(m->ld, sub,
				    "only a KPI with aggregation retention_gap takes this key");
	}
	if (config_read_string(m, "split_by", true, NULL, &k->split_by_id) < 0)
		return -1;
	k->has_split_threshold = config_lookup(m, "split_threshold", false, &n, sub) == 1;
	return config_read_number(m, "split_threshold", false, 0, -INFINITY, &k->split_threshold);
}

/* Resolves each retention_gap KPI's split_by to an active KPI that scores teams. */
static int config_resolve_kpi_splits(config_loader *ld)
{
	config *cfg = ld->cfg;
	char kp[CONFIG_PATH_MAX];

	for (size_t i = 0; i < cfg->n_kpis; i++) {
		config_kpi *k = &cfg->kpis[i];
		size_t j;

		if (!k->split_by_id)
			continue;
		snprintf(kp, sizeof(kp), "kpis[%zu].split_by", i);
		for (j = 0; j < cfg->n_kpis; j++)
			if (strcmp(cfg->kpis[j].id, k->split_by_id) == 0)
				break;
		if (j == cfg->n_kpis)
			return config_error(ld, kp,
					    "unknown KPI '%s'; name the id of the advocacy KPI "
					    "(e.g. active_recognizers) that splits the teams",
					    k->split_by_id);
		if (config_aggregation_reads_departures(cfg->kpis[j].aggregation) ||
		    !config_kpi_active(&cfg->kpis[j]))
			return config_error(ld, kp,
					    "KPI '%s' cannot split the teams: it must be active "
					    "and count behaviours (not %s)",
					    k->split_by_id,
					    config_aggregation_name(cfg->kpis[j].aggregation));
		k->split_by = j;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* kpis: formula, kind and unit                                              */

/* Resolves the behaviour names read under kp into indices. A name listed twice is an error. */
static int config_resolve_behaviour_list(config_loader *ld, const char *kp, char **names, size_t n,
					 size_t **out)
{
	char item_kp[CONFIG_PATH_MAX];

	*out = config_alloc(ld, kp, n, sizeof **out);
	if (!*out)
		return -1;
	for (size_t i = 0; i < n; i++) {
		long found = config_find_behaviour(ld->cfg, names[i]);
		config_path_index(item_kp, kp, i);
		if (found < 0)
			return config_unknown_behaviour(ld, item_kp, names[i]);
		for (size_t j = 0; j < i; j++)
			if ((*out)[j] == (size_t)found)
				return config_error(ld, item_kp,
						    "behaviour '%s' is listed twice; list it once",
						    names[i]);
		(*out)[i] = (size_t)found;
	}
	return 0;
}

/* Reads the list of behaviour ids under key into indices (*out, *n_out). */
static int config_read_behaviour_list(const config_map *m, const char *key, size_t **out,
				      size_t *n_out)
{
	char sub[CONFIG_PATH_MAX];
	char **names = NULL;
	size_t n_names = 0;
	int rc;

	config_path_key(sub, m->kp, key);
	rc = config_read_list(m, key, true, &names, &n_names);
	if (rc == 0)
		rc = config_resolve_behaviour_list(m->ld, sub, names, n_names, out);
	if (rc == 0)
		*n_out = n_names;
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Gives every numerator behaviour the coefficient 1. */
static int config_unit_coefficients(config_loader *ld, const char *kp, config_kpi *k)
{
	k->formula.coefficients = config_alloc(ld, kp, k->n_behaviours, sizeof(double));
	if (!k->formula.coefficients)
		return -1;
	for (size_t i = 0; i < k->n_behaviours; i++)
		k->formula.coefficients[i] = 1.0;
	return 0;
}

/* Reads numerator.weighted_count: a map of behaviour id to its coefficient. */
static int config_load_weighted_count(const config_map *numerator, config_kpi *k)
{
	config_loader *ld = numerator->ld;
	char item_kp[CONFIG_PATH_MAX];
	config_map m;

	if (config_open_key(numerator, "weighted_count", true, NULL, &m) < 0)
		return -1;
	if (config_map_size(m.node) == 0)
		return config_error(ld, m.kp,
				    "must map at least one behaviour to its coefficient, e.g. "
				    "{share_clicks: 0.5}");
	k->n_behaviours = config_map_size(m.node);
	k->behaviours = config_alloc(ld, m.kp, k->n_behaviours, sizeof *k->behaviours);
	k->formula.coefficients = config_alloc(ld, m.kp, k->n_behaviours, sizeof(double));
	if (!k->behaviours || !k->formula.coefficients)
		return -1;
	for (size_t i = 0; i < k->n_behaviours; i++) {
		const char *id = config_text(config_node(ld, m.node->data.mapping.pairs.start[i].key));
		long found = config_find_behaviour(ld->cfg, id);
		config_path_key(item_kp, m.kp, id);
		if (found < 0)
			return config_unknown_behaviour(ld, item_kp, id);
		k->behaviours[i] = (size_t)found;
		if (config_read_number(&m, id, true, 0, -INFINITY, &k->formula.coefficients[i]) < 0)
			return -1;
	}
	return 0;
}

/* Reads formula.numerator: exactly one of count, people, weighted_count and enps. */
static int config_load_numerator(const config_map *formula, config_kpi *k)
{
	static const char *const keys[] = {"count", "people", "weighted_count", "enps", NULL};
	config_loader *ld = formula->ld;
	char sub[CONFIG_PATH_MAX];
	config_map m;

	if (config_open_key(formula, "numerator", true, keys, &m) < 0)
		return -1;
	if (m.node->type != YAML_MAPPING_NODE || config_map_size(m.node) != 1)
		return config_error(ld, m.kp,
				    "give exactly one of count, people, weighted_count and enps, "
				    "e.g. {count: [recognition_given]}");
	const char *key = config_text(config_node(ld, m.node->data.mapping.pairs.start[0].key));
	config_path_key(sub, m.kp, key);
	if (strcmp(key, "weighted_count") == 0) {
		k->formula.numerator = FORMULA_COUNT;
		return config_load_weighted_count(&m, k);
	}
	if (config_read_behaviour_list(&m, key, &k->behaviours, &k->n_behaviours) < 0)
		return -1;
	if (strcmp(key, "people") == 0) {
		k->formula.numerator = FORMULA_PEOPLE;
		return 0;
	}
	if (strcmp(key, "enps") == 0) {
		k->formula.numerator = FORMULA_ENPS;
		if (k->n_behaviours != 3)
			return config_error(ld, sub,
					    "enps needs exactly three behaviours, in this order: "
					    "promoters, passives, detractors (got %zu)",
					    k->n_behaviours);
		return 0;
	}
	k->formula.numerator = FORMULA_COUNT;
	return config_unit_coefficients(ld, sub, k);
}

/* Reads formula.denominator: headcount, none (the default) or {count: [...]}. */
static int config_load_denominator(const config_map *formula, config_kpi *k)
{
	static const char *const keys[] = {"count", NULL};
	static const char *const names[] = {"none", "headcount", NULL};
	config_formula *f = &k->formula;
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *n;
	config_map m;
	int found = config_lookup(formula, "denominator", false, &n, sub);

	f->denominator = FORMULA_NONE;
	if (found < 0)
		return -1;
	if (found && n->type == YAML_SCALAR_NODE) {
		int which;
		if (config_read_enum(formula, "denominator", names, 0, &which) < 0)
			return -1;
		f->denominator = which == 1 ? FORMULA_HEADCOUNT : FORMULA_NONE;
	} else if (found) {
		if (config_open(formula->ld, n, sub, keys, &m) < 0 ||
		    config_read_behaviour_list(&m, "count", &f->denominator_behaviours,
					       &f->n_denominator_behaviours) < 0)
			return -1;
		f->denominator = FORMULA_COUNT;
	}
	if (f->numerator == FORMULA_ENPS && f->denominator != FORMULA_NONE)
		return config_error(formula->ld, sub,
				    "an enps numerator is the whole score (its responses are the "
				    "denominator); remove denominator");
	return 0;
}

/* Reads the formula form: formula {numerator, denominator, scale, window}. */
static int config_load_formula(const config_map *kpi, config_kpi *k)
{
	static const char *const keys[] = {"numerator", "denominator", "scale", "window", NULL};
	char sub[CONFIG_PATH_MAX];
	config_map m;

	if (config_open_key(kpi, "formula", true, keys, &m) < 0 ||
	    config_load_numerator(&m, k) < 0 || config_load_denominator(&m, k) < 0 ||
	    config_read_number(&m, "scale", false, 1, -INFINITY, &k->formula.scale) < 0 ||
	    config_load_kpi_window(&m, k) < 0)
		return -1;
	config_path_key(sub, m.kp, "scale");
	if (k->formula.scale <= 0)
		return config_error(m.ld, sub, "must be above 0, e.g. 100 for a percentage");
	if (k->formula.numerator == FORMULA_ENPS && k->formula.scale != 1)
		return config_error(m.ld, sub,
				    "an enps numerator is a score from -100 to 100; remove scale");
	return 0;
}

/* The short form's name of the formula, or KPI_AGG_FORMULA when it has none. */
static kpi_aggregation config_formula_aggregation(const config_kpi *k)
{
	const config_formula *f = &k->formula;
	bool plain = f->scale == 1;

	if (f->numerator == FORMULA_ENPS)
		return KPI_AGG_ENPS;
	for (size_t i = 0; f->numerator == FORMULA_COUNT && i < k->n_behaviours; i++)
		plain = plain && f->coefficients[i] == 1;
	if (!plain || f->denominator == FORMULA_COUNT)
		return KPI_AGG_FORMULA;
	if (f->numerator == FORMULA_PEOPLE)
		return f->denominator == FORMULA_HEADCOUNT ? KPI_AGG_PARTICIPATION
							   : KPI_AGG_CONTRIBUTORS;
	return f->denominator == FORMULA_HEADCOUNT ? KPI_AGG_RATE : KPI_AGG_COUNT;
}

/* Maps the short form (behaviours, aggregation, window) onto the formula. */
static int config_map_short_form(const config_map *m, config_kpi *k)
{
	config_formula *f = &k->formula;
	char sub[CONFIG_PATH_MAX];

	f->scale = 1;
	f->denominator = FORMULA_NONE;
	switch (k->aggregation) {
	case KPI_AGG_ENPS:
		f->numerator = FORMULA_ENPS;
		return 0;
	case KPI_AGG_RETENTION:
	case KPI_AGG_RETENTION_GAP:
		/* Read from departures and headcount history, not behaviours. */
		f->numerator = FORMULA_NONE;
		return 0;
	case KPI_AGG_CAPPED_SHARE:
		/* Read from the capped fields as well as the counts (kpi.c). */
		f->numerator = FORMULA_NONE;
		return 0;
	case KPI_AGG_CONTRIBUTORS:
	case KPI_AGG_PARTICIPATION:
		f->numerator = FORMULA_PEOPLE;
		break;
	default:
		f->numerator = FORMULA_COUNT;
		break;
	}
	if (k->aggregation == KPI_AGG_RATE || k->aggregation == KPI_AGG_PARTICIPATION)
		f->denominator = FORMULA_HEADCOUNT;
	config_path_key(sub, m->kp, "behaviours");
	return f->numerator == FORMULA_COUNT ? config_unit_coefficients(m->ld, sub, k) : 0;
}

/* Reads the short form (behaviours, aggregation and window) and maps it onto the formula. */
static int config_load_short_form(const config_map *m, config_kpi *k)
{
	int aggregation;

	if (config_load_kpi_behaviours(m, k) < 0 ||
	    config_read_enum(m, "aggregation", config_aggregations, -1, &aggregation) < 0 ||
	    config_load_kpi_window(m, k) < 0)
		return -1;
	k->aggregation = (kpi_aggregation)aggregation;
	return config_map_short_form(m, k);
}

/* Loads the KPI's formula from either form and sets its aggregation name. */
static int config_load_kpi_definition(const config_map *m, config_kpi *k)
{
	static const char *const short_keys[] = {"behaviours", "aggregation", "window", NULL};

	if (!config_map_find(m, "formula"))
		return config_load_short_form(m, k);
	for (size_t i = 0; short_keys[i]; i++) {
		char sub[CONFIG_PATH_MAX];
		config_path_key(sub, m->kp, short_keys[i]);
		if (config_map_find(m, short_keys[i]))
			return config_error(m->ld, sub,
					    "is part of the short form, and this KPI has a "
					    "formula; give either formula or behaviours, "
					    "aggregation and window");
	}
	if (config_load_formula(m, k) < 0)
		return -1;
	k->aggregation = config_formula_aggregation(k);
	return 0;
}

/* The unit a KPI gets when none is written, from its formula. */
static const char *config_default_unit(const config_kpi *k)
{
	switch (k->aggregation) {
	case KPI_AGG_COUNT:
		return "count";
	case KPI_AGG_CONTRIBUTORS:
		return "people";
	case KPI_AGG_RATE:
		return "per person";
	case KPI_AGG_PARTICIPATION:
		return "share of headcount";
	case KPI_AGG_ENPS:
		return "score from -100 to 100";
	case KPI_AGG_RETENTION:
		return "share of mean headcount";
	case KPI_AGG_RETENTION_GAP:
		return "difference of retention shares";
	case KPI_AGG_CAPPED_SHARE:
		return "share of credits";
	case KPI_AGG_FORMULA:
		break;
	}
	return k->formula.scale == 100 ? "%" : "ratio";
}

/* Reads kind (default active) and unit (default from the formula, at most 40 bytes). */
static int config_load_kpi_kind_unit(const config_map *m, config_kpi *k)
{
	char sub[CONFIG_PATH_MAX];
	int kind;

	if (config_read_enum(m, "kind", config_kpi_kinds, KPI_KIND_ACTIVE, &kind) < 0 ||
	    config_read_string(m, "unit", false, config_default_unit(k), &k->unit) < 0)
		return -1;
	k->kind = (kpi_kind)kind;
	config_path_key(sub, m->kp, "unit");
	if (strlen(k->unit) > CONFIG_UNIT_MAX)
		return config_error(m->ld, sub, "is %zu bytes long; keep it to at most %d",
				    strlen(k->unit), CONFIG_UNIT_MAX);
	if (strpbrk(k->unit, "\r\n"))
		return config_error(m->ld, sub, "spans several lines; write it on one line");
	return 0;
}

/* Appends fmt to buf at *used, as config_list_append does for lists. */
__attribute__((format(printf, 4, 5))) static void config_text_append(char *buf, size_t size,
								    size_t *used, const char *fmt,
								    ...)
{
	va_list ap;
	int n;

	if (*used >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n < size ? *used + (size_t)n : size;
}

/* Appends "name(b1, b2)" or, with coefficients other than 1, "(c1 x b1 + c2 x b2)". */
static void config_term_text(const config *cfg, const char *name, const size_t *behaviours,
			     const double *coefficients, size_t n, char *buf, size_t size,
			     size_t *used)
{
	bool weighted = false;

	for (size_t i = 0; coefficients && i < n; i++)
		weighted = weighted || coefficients[i] != 1;
	config_text_append(buf, size, used, "%s(", weighted ? "" : name);
	for (size_t i = 0; i < n; i++) {
		const char *id = cfg->behaviours[behaviours[i]].id;
		if (weighted)
			config_text_append(buf, size, used, "%s%g x %s", i ? " + " : "",
					   coefficients[i], id);
		else
			config_text_append(buf, size, used, "%s%s", i ? ", " : "", id);
	}
	config_text_append(buf, size, used, ")");
}

const char *config_formula_text(const config *cfg, const config_kpi *k, char *buf, size_t size)
{
	const config_formula *f = &k->formula;
	static const char *const numerator_names[] = {"", "", "count", "people", "enps"};
	size_t used = 0;

	if (f->text)
		return f->text;
	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (k->aggregation == KPI_AGG_RETENTION) {
		config_text_append(buf, size, &used, "1 - departures / mean headcount over %s",
				   cfg->windows.windows[k->window].name);
		return buf;
	}
	if (k->aggregation == KPI_AGG_CAPPED_SHARE) {
		config_term_text(cfg, "capped", k->behaviours, NULL, k->n_behaviours, buf, size,
				 &used);
		config_text_append(buf, size, &used, " / (net ");
		config_term_text(cfg, "count", k->behaviours, NULL, k->n_behaviours, buf, size,
				 &used);
		config_text_append(buf, size, &used, " + capped) over %s",
				   cfg->windows.windows[k->window].name);
		return buf;
	}
	if (k->aggregation == KPI_AGG_RETENTION_GAP) {
		config_text_append(buf, size, &used,
				   "retention(upper teams by %s) - retention(lower teams) over %s",
				   k->split_by_id ? k->split_by_id : "?",
				   cfg->windows.windows[k->window].name);
		return buf;
	}
	config_term_text(cfg, numerator_names[f->numerator], k->behaviours,
			 f->numerator == FORMULA_COUNT ? f->coefficients : NULL, k->n_behaviours, buf,
			 size, &used);
	if (f->denominator == FORMULA_HEADCOUNT)
		config_text_append(buf, size, &used, " / headcount");
	if (f->denominator == FORMULA_COUNT) {
		config_text_append(buf, size, &used, " / ");
		config_term_text(cfg, "count", f->denominator_behaviours, NULL,
				 f->n_denominator_behaviours, buf, size, &used);
	}
	if (f->scale != 1)
		config_text_append(buf, size, &used, " x %g", f->scale);
	config_text_append(buf, size, &used, " over %s", cfg->windows.windows[k->window].name);
	return buf;
}

/* Stores the formula's text in k->formula.text, in a buffer sized to fit it whole. */
static int config_store_formula_text(config_loader *ld, const char *kp, const config *cfg,
				     config_kpi *k)
{
	const config_formula *f = &k->formula;
	/* Room for the widest number (%g), its " x " and " + " per term, and the parts. */
	size_t size = 96 + strlen(cfg->windows.windows[k->window].name) +
		      (k->split_by_id ? strlen(k->split_by_id) : 0);

	for (size_t i = 0; i < k->n_behaviours; i++)
		size += 2 * strlen(cfg->behaviours[k->behaviours[i]].id) + 32;
	for (size_t i = 0; i < f->n_denominator_behaviours; i++)
		size += strlen(cfg->behaviours[f->denominator_behaviours[i]].id) + 2;
	char *text = config_alloc(ld, kp, size, 1);
	if (!text)
		return -1;
	config_formula_text(cfg, k, text, size);
	k->formula.text = text;
	return 0;
}

static int config_load_kpi(config_loader *ld, const yaml_node_t *item, const char *kp, size_t ki,
			   void *opaque)
{
	static const char *const keys[] = {"id",     "name",	   "behaviours", "aggregation",
					   "window", "quadrant",   "indicator",	 "weight",
					   "target", "thresholds", "status",	 "owner",
					   "rationale", "formula", "kind", "unit", "split_by",
					   "split_threshold", "targets", "benchmark", "better", NULL};
	config_kpi *k = &ld->cfg->kpis[ki];
	char sub[CONFIG_PATH_MAX];
	int quad, ind, status;
	config_map m;

	config_path_key(sub, kp, "id");
	if (config_open(ld, item, kp, keys, &m) < 0 ||
	    config_read_string(&m, "id", true, NULL, &k->id) < 0 ||
	    config_check_kpi_id(ld, sub, ki) < 0 ||
	    config_read_string(&m, "name", false, k->id, &k->name) < 0 ||
	    config_load_kpi_definition(&m, k) < 0 ||
	    config_read_enum(&m, "quadrant", config_quadrants, -1, &quad) < 0 ||
	    config_read_enum(&m, "indicator", config_indicators, -1, &ind) < 0 ||
	    config_read_number(&m, "weight", true, 0, 0, &k->weight) < 0 ||
	    config_read_number(&m, "target", true, 0, -INFINITY, &k->target) < 0)
		return -1;
	if (config_check_enps_kpi(&m, k) < 0 || config_check_capped_share_kpi(&m, k) < 0 ||
	    config_load_kpi_split(&m, k) < 0 || config_load_kpi_kind_unit(&m, k) < 0 ||
	    config_store_formula_text(ld, kp, ld->cfg, k) < 0)
		return -1;
	k->quadrant = (quadrant)quad;
	k->indicator = (indicator)ind;

	/* Rules read the KPI's target and aggregation. */
	if (config_load_thresholds(&m, ki) < 0 ||
	    config_read_enum(&m, "status", config_statuses, KPI_STATUS_ACTIVE, &status) < 0 ||
	    config_read_governance_text(&m, "owner", CONFIG_OWNER_MAX, &k->owner) < 0 ||
	    config_read_governance_text(&m, "rationale", CONFIG_RATIONALE_MAX, &k->rationale) < 0 ||
	    config_load_kpi_targets(&m, k) < 0 || config_load_kpi_benchmark(&m, k) < 0 ||
	    config_load_kpi_better(&m, k) < 0)
		return -1;
	k->status = (kpi_status)status;
	return 0;
}

/* The weights of the active KPIs sum to 1; a retired KPI's weight is kept as written but not counted. */
static int config_check_weights(config_loader *ld)
{
	double sum = 0;
	size_t active = 0;

	for (size_t i = 0; i < ld->cfg->n_kpis; i++) {
		if (!config_kpi_active(&ld->cfg->kpis[i]))
			continue;
		sum += ld->cfg->kpis[i].weight;
		active++;
	}
	if (active == 0)
		return config_error(ld, "kpis",
				    "every KPI is retired; keep at least one with status active");
	if (fabs(sum - 1.0) > CONFIG_WEIGHT_TOLERANCE)
		return config_error(ld, "kpis",
				    "weights sum to %.9g over the active KPIs, expected 1 (within "
				    "%g); adjust kpis[*].weight (retired KPIs do not count)",
				    sum, CONFIG_WEIGHT_TOLERANCE);
	return 0;
}

static int config_load_kpis(const config_map *root)
{
	config *cfg = root->ld->cfg;
	char kp[CONFIG_PATH_MAX];
	yaml_node_t *seq;

	if (config_lookup_list(root, "kpis", true, 1, &seq, kp) < 0)
		return -1;
	cfg->kpis = config_alloc(root->ld, kp, config_seq_size(seq), sizeof(config_kpi));
	if (!cfg->kpis)
		return -1;
	cfg->n_kpis = config_seq_size(seq);
	if (config_each(root->ld, seq, kp, config_load_kpi, NULL) < 0 ||
	    config_resolve_kpi_splits(root->ld) < 0)
		return -1;
	return config_check_weights(root->ld);
}

/* ------------------------------------------------------------------------ */
/* outputs                                                                   */

static int config_load_output(const config_map *outputs, const char *key, const char *def_topic,
			      int def_schema_id, config_output *o)
{
	static const char *const keys[] = {"topic", "format", "schema_id", NULL};
	int format, schema_id;
	config_map m;

	if (config_open_key(outputs, key, false, keys, &m) < 0 ||
	    config_read_string(&m, "topic", false, def_topic, &o->topic) < 0 ||
	    config_read_enum(&m, "format", config_output_formats, OUTPUT_FORMAT_AVRO, &format) <
		0 ||
	    config_read_int(&m, "schema_id", def_schema_id, 1, INT32_MAX, &schema_id) < 0)
		return -1;
	o->format = (output_format)format;
	o->schema_id = schema_id;
	return 0;
}

/* The governance output is always JSON, so it has a topic only. */
static int config_load_governance(const config_map *outputs, char **topic)
{
	static const char *const keys[] = {"topic", NULL};
	config_map m;

	if (config_open_key(outputs, "governance", false, keys, &m) < 0 ||
	    config_read_string(&m, "topic", false, "advocacy.governance", topic) < 0)
		return -1;
	return 0;
}

static int config_load_outputs(const config_map *root)
{
	static const char *const keys[] = {"tick_interval", "max_queued_messages", "kpi",
					   "escalations",   "dlq",		   "governance",
					   "bias",	    NULL};
	config *cfg = root->ld->cfg;
	config_map m;

	if (config_open_key(root, "outputs", false, keys, &m) < 0 ||
	    config_read_duration(&m, "tick_interval", 10000, CONFIG_MIN_TICK_MS,
				 &cfg->outputs.tick_interval_ms, NULL) < 0 ||
	    config_read_int(&m, "max_queued_messages", 100000, 1000, 10000000,
			    &cfg->outputs.max_queued_messages) < 0 ||
	    config_load_output(&m, "kpi", "advocacy.kpi", 1, &cfg->outputs.kpi) < 0 ||
	    config_load_output(&m, "escalations", "advocacy.escalations", 2,
			       &cfg->outputs.escalations) < 0 ||
	    config_load_output(&m, "dlq", "advocacy.dlq", 3, &cfg->outputs.dlq) < 0 ||
	    config_load_governance(&m, &cfg->outputs.governance_topic) < 0 ||
	    config_load_output(&m, "bias", "advocacy.bias", 4, &cfg->outputs.bias) < 0)
		return -1;
	return 0;
}

/*
 * Rejects topic when it is an input topic, or the roster topic when
 * with_roster is set, so that the daemon never consumes what it produces.
 */
static int config_check_topic(config_loader *ld, const char *kp, const char *topic,
			      bool with_roster)
{
	const config *cfg = ld->cfg;

	for (size_t i = 0; i < cfg->kafka.n_inputs; i++)
		if (strcmp(cfg->kafka.inputs[i].topic, topic) == 0)
			return config_error(
			    ld, kp,
			    "topic '%s' is also kafka.inputs[%zu].topic; use a topic "
			    "that advocacyd does not consume",
			    topic, i);
	if (with_roster && strcmp(cfg->kafka.roster_topic, topic) == 0)
		return config_error(ld, kp,
				    "topic '%s' is also kafka.roster_topic; use a topic that "
				    "advocacyd does not consume",
				    topic);
	return 0;
}

static int config_check_topics(config_loader *ld)
{
	const config *cfg = ld->cfg;

	if (config_check_topic(ld, "kafka.roster_topic", cfg->kafka.roster_topic, false) < 0 ||
	    config_check_topic(ld, "outputs.kpi.topic", cfg->outputs.kpi.topic, true) < 0 ||
	    config_check_topic(ld, "outputs.escalations.topic", cfg->outputs.escalations.topic,
			       true) < 0 ||
	    config_check_topic(ld, "outputs.dlq.topic", cfg->outputs.dlq.topic, true) < 0 ||
	    config_check_topic(ld, "outputs.governance.topic", cfg->outputs.governance_topic,
			       true) < 0)
		return -1;
	return 0;
}

/*
 * Checks the rule timings that depend on outputs.tick_interval, which is
 * loaded after the KPIs: a rule can repeat and a baseline take a sample
 * only at a tick.
 */
static int config_check_rule_ticks(config_loader *ld)
{
	const config *cfg = ld->cfg;
	int64_t tick = cfg->outputs.tick_interval_ms;
	char kp[CONFIG_PATH_MAX], have[32], need[32];

	config_format_duration(tick, need, sizeof need);
	for (size_t i = 0; i < cfg->n_kpis; i++) {
		for (size_t j = 0; j < cfg->kpis[i].n_thresholds; j++) {
			const config_threshold *t = &cfg->kpis[i].thresholds[j];
			bool history =
			    t->condition == ALERT_COND_ZSCORE || t->condition == ALERT_COND_TREND;

			snprintf(kp, sizeof kp, "kpis[%zu].thresholds[%zu].repeat_interval", i, j);
			if (t->repeat_interval_ms > 0 && t->repeat_interval_ms < tick)
				return config_error(
				    ld, kp,
				    "%s is shorter than outputs.tick_interval (%s), and a rule "
				    "repeats only at a tick; set it to 0 (never) or at least %s",
				    config_format_duration(t->repeat_interval_ms, have,
							   sizeof have),
				    need, need);
			snprintf(kp, sizeof kp, "kpis[%zu].thresholds[%zu].period", i, j);
			if (history && t->period_ms < tick)
				return config_error(
				    ld, kp,
				    "%s is shorter than outputs.tick_interval (%s), and the "
				    "baseline takes at most one sample per tick; set it to at "
				    "least %s",
				    config_format_duration(t->period_ms, have, sizeof have), need,
				    need);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* alerts                                                                    */

/* Characters of a URI reference (RFC 3986): unreserved, gen-delims and sub-delims. */
#define CONFIG_URI_UNRESERVED CONFIG_TOKEN_CHARS "~"
#define CONFIG_URI_CHARS CONFIG_URI_UNRESERVED ":/?#[]@!$&'()*+,;="

static bool config_is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Checks a CloudEvents source: a URI reference of at most CONFIG_SOURCE_MAX bytes. */
static int config_check_source(config_loader *ld, const char *kp, const char *source)
{
	size_t len = strlen(source);

	if (len > CONFIG_SOURCE_MAX)
		return config_error(ld, kp, "is %zu bytes long; keep it to at most %d", len,
				    CONFIG_SOURCE_MAX);
	for (size_t i = 0; i < len; i++) {
		if (source[i] == '%' && config_is_hex_digit(source[i + 1]) &&
		    config_is_hex_digit(source[i + 2])) {
			i += 2;
			continue;
		}
		if (!strchr(CONFIG_URI_CHARS, source[i]))
			return config_error(
			    ld, kp,
			    "is not a URI reference: byte %zu (0x%02x) is not allowed there; "
			    "percent-encode it (%%20 for a space) or write a path such as "
			    "/advocacyd/eu-1",
			    i, (unsigned char)source[i]);
	}
	return 0;
}

/* Returns "/advocacyd/<group id>", the group id percent-encoded, or NULL when out of memory. */
static char *config_default_source(const char *group_id)
{
	static const char prefix[] = "/advocacyd/";
	char *out = malloc(sizeof prefix + 3 * strlen(group_id));
	char *w;

	if (!out)
		return NULL;
	memcpy(out, prefix, sizeof prefix - 1);
	w = out + sizeof prefix - 1;
	for (const char *p = group_id; *p; p++) {
		if (strchr(CONFIG_URI_UNRESERVED, *p))
			*w++ = *p;
		else
			w += sprintf(w, "%%%02X", (unsigned char)*p);
	}
	*w = '\0';
	return out;
}

/* Reads alerts.source, or builds the default from kafka.group_id. */
static int config_read_source(const config_map *m)
{
	config *cfg = m->ld->cfg;
	char sub[CONFIG_PATH_MAX];

	config_path_key(sub, m->kp, "source");
	if (config_read_string(m, "source", false, NULL, &cfg->alerts.source) < 0)
		return -1;
	if (cfg->alerts.source)
		return config_check_source(m->ld, sub, cfg->alerts.source);

	cfg->alerts.source = config_default_source(cfg->kafka.group_id);
	if (!cfg->alerts.source)
		return config_error(m->ld, sub, "out of memory");
	if (strlen(cfg->alerts.source) > CONFIG_SOURCE_MAX)
		return config_error(m->ld, sub,
				    "the default, /advocacyd/ followed by kafka.group_id, is %zu "
				    "bytes long; set alerts.source to at most %d bytes",
				    strlen(cfg->alerts.source), CONFIG_SOURCE_MAX);
	return 0;
}

static int config_load_alerts(const config_map *root)
{
	static const char *const keys[] = {"max_firings_per_tick", "lease_ttl", "source",
					   "cloudevents_mode", NULL};
	static const int64_t max_lease_ms = 300000;
	config *cfg = root->ld->cfg;
	char sub[CONFIG_PATH_MAX], buf[32];
	int mode;
	config_map m;

	if (config_open_key(root, "alerts", false, keys, &m) < 0 ||
	    config_read_int(&m, "max_firings_per_tick", 10, 1, 10000,
			    &cfg->alerts.max_firings_per_tick) < 0 ||
	    config_read_duration(&m, "lease_ttl", 10000, 2000, &cfg->alerts.lease_ttl_ms, NULL) < 0)
		return -1;
	config_path_key(sub, m.kp, "lease_ttl");
	if (cfg->alerts.lease_ttl_ms > max_lease_ms)
		return config_error(root->ld, sub,
				    "must be at most %s; after a crash, no instance evaluates "
				    "alerts until the lease expires",
				    config_format_duration(max_lease_ms, buf, sizeof buf));
	if (config_read_source(&m) < 0 ||
	    config_read_enum(&m, "cloudevents_mode", config_cloudevents_modes, 0, &mode) < 0)
		return -1;
	cfg->alerts.structured = mode == 1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* bias_audit                                                                */

#define CONFIG_BIAS_RULE_PREFIX "bias."
/* The segment dimensions the audit may compare: workforce attributes, not org units. */
#define CONFIG_BIAS_DIMENSIONS                                                                 \
	((1u << SCOPE_SEGMENT) | (1u << SCOPE_WORK_MODE) | (1u << SCOPE_EMPLOYMENT_TYPE) |     \
	 (1u << SCOPE_REGION))

bool config_bias_audited(const config *cfg, const config_kpi *k)
{
	/* A capped share measures gaming, not advocacy: a low one is no disadvantage. */
	if (!cfg->bias_audit.enabled || !config_kpi_active(k) ||
	    k->aggregation == KPI_AGG_CAPPED_SHARE)
		return false;
	for (size_t i = 0; i < cfg->bias_audit.n_exclude_kpis; i++)
		if (strcmp(cfg->bias_audit.exclude_kpis[i], k->id) == 0)
			return false;
	return true;
}

/* opaque is the bit set of dimensions being filled. */
static int config_load_bias_dimension(config_loader *ld, const yaml_node_t *item, const char *kp,
				      size_t i, void *opaque)
{
	const char *text = config_scalar(ld, item, kp, "a string");
	int kind;

	(void)i;
	if (!text)
		return -1;
	kind = config_name_index(config_scope_kinds, text);
	if (kind < 0 || !(CONFIG_BIAS_DIMENSIONS & (1u << kind)))
		return config_error(ld, kp,
				    "invalid dimension '%s'; the bias audit compares the segments "
				    "of segment, work_mode, employment_type or region",
				    text);
	*(uint32_t *)opaque |= 1u << kind;
	return 0;
}

static int config_load_bias_dimensions(const config_map *m, uint32_t *bits)
{
	return config_load_kind_set(m, "dimensions", CONFIG_BIAS_DIMENSIONS,
				    config_load_bias_dimension, bits);
}

/* Reads exclude_kpis and checks that each names a KPI of the catalog. */
static int config_load_bias_exclusions(const config_map *m)
{
	config_bias_audit *b = &m->ld->cfg->bias_audit;
	const config *cfg = m->ld->cfg;
	char sub[CONFIG_PATH_MAX], item[CONFIG_PATH_MAX];

	if (config_read_list(m, "exclude_kpis", false, &b->exclude_kpis, &b->n_exclude_kpis) < 0)
		return -1;
	config_path_key(sub, m->kp, "exclude_kpis");
	for (size_t i = 0; i < b->n_exclude_kpis; i++) {
		bool known = false;

		for (size_t k = 0; k < cfg->n_kpis && !known; k++)
			known = strcmp(cfg->kpis[k].id, b->exclude_kpis[i]) == 0;
		config_path_index(item, sub, i);
		if (!known)
			return config_error(m->ld, item,
					    "unknown KPI '%s'; list ids of the kpis section",
					    b->exclude_kpis[i]);
	}
	return 0;
}

/* Reads threshold and resolve_threshold: ratios in (0, 1], the second at least the first. */
static int config_load_bias_bounds(const config_map *m)
{
	config_bias_audit *b = &m->ld->cfg->bias_audit;
	char sub[CONFIG_PATH_MAX];

	if (config_read_number(m, "threshold", false, 0.8, -INFINITY, &b->threshold) < 0)
		return -1;
	config_path_key(sub, m->kp, "threshold");
	if (b->threshold <= 0 || b->threshold > 1)
		return config_error(m->ld, sub,
				    "must be a ratio above 0 and at most 1, got %g (0.8 is the "
				    "four-fifths rule of adverse impact audits)",
				    b->threshold);
	if (config_read_number(m, "resolve_threshold", false, b->threshold, -INFINITY,
			       &b->resolve_threshold) < 0)
		return -1;
	config_path_key(sub, m->kp, "resolve_threshold");
	if (b->resolve_threshold < b->threshold || b->resolve_threshold > 1)
		return config_error(m->ld, sub,
				    "must be between threshold (%g) and 1, got %g: the alert "
				    "resolves once the ratio is back at or above it",
				    b->threshold, b->resolve_threshold);
	return 0;
}

/* Reads for_ticks, for, keep_firing_for and repeat_interval, as a rule has them. */
static int config_load_bias_timing(const config_map *m)
{
	config_bias_audit *b = &m->ld->cfg->bias_audit;
	int64_t tick = m->ld->cfg->outputs.tick_interval_ms;
	char sub[CONFIG_PATH_MAX], have[32], need[32];

	if (config_read_int(m, "for_ticks", 1, 1, INT_MAX, &b->for_ticks) < 0 ||
	    config_read_duration(m, "for", 0, 0, &b->for_ms, NULL) < 0 ||
	    config_read_duration(m, "keep_firing_for", 0, 0, &b->keep_firing_for_ms, NULL) < 0 ||
	    config_read_duration(m, "repeat_interval", 0, 0, &b->repeat_interval_ms, NULL) < 0)
		return -1;
	if (b->repeat_interval_ms == 0 || b->repeat_interval_ms >= tick)
		return 0;
	config_path_key(sub, m->kp, "repeat_interval");
	config_format_duration(tick, need, sizeof need);
	return config_error(m->ld, sub,
			    "%s is shorter than outputs.tick_interval (%s), and an alert "
			    "repeats only at a tick; set it to 0 (never) or at least %s",
			    config_format_duration(b->repeat_interval_ms, have, sizeof have), need,
			    need);
}

/* Reads severity, owner and route; route defaults to the owner, else "default". */
static int config_load_bias_routing(const config_map *m)
{
	config_bias_audit *b = &m->ld->cfg->bias_audit;
	char sub[CONFIG_PATH_MAX];
	int severity;

	config_path_key(sub, m->kp, "route");
	if (config_read_enum(m, "severity", config_severities, CONFIG_SEVERITY_WARNING,
			     &severity) < 0 ||
	    config_strdup(m->ld, m->kp, config_severities[severity], &b->severity) < 0 ||
	    config_read_governance_text(m, "owner", CONFIG_OWNER_MAX, &b->owner) < 0 ||
	    config_read_governance_text(m, "route", CONFIG_OWNER_MAX, &b->route) < 0)
		return -1;
	if (b->route)
		return 0;
	return config_strdup(m->ld, sub, b->owner ? b->owner : CONFIG_ROUTE_DEFAULT, &b->route);
}

/* Rejects hand-written rule ids in the "bias." namespace, which the audit's rules use. */
static int config_check_bias_rule_ids(config_loader *ld)
{
	const config *cfg = ld->cfg;
	char kp[CONFIG_PATH_MAX];

	for (size_t i = 0; i < cfg->n_kpis; i++)
		for (size_t j = 0; j < cfg->kpis[i].n_thresholds; j++) {
			const char *id = cfg->kpis[i].thresholds[j].id;

			if (strncmp(id, CONFIG_BIAS_RULE_PREFIX, strlen(CONFIG_BIAS_RULE_PREFIX)))
				continue;
			snprintf(kp, sizeof kp, "kpis[%zu].thresholds[%zu].id", i, j);
			return config_error(ld, kp,
					    "'%s' starts with '" CONFIG_BIAS_RULE_PREFIX
					    "', which is reserved for the rules of the bias "
					    "audit; rename the rule, or set bias_audit.enabled: false",
					    id);
		}
	return 0;
}

/* Fills t, the generated bias rule of KPI k. Returns 0 or -1 when out of memory. */
static int config_fill_bias_rule(const config_bias_audit *b, const config_kpi *k,
				 config_threshold *t)
{
	size_t id_len = strlen(CONFIG_BIAS_RULE_PREFIX) + strlen(k->id) + 1;

	*t = (config_threshold){
	    .condition = ALERT_COND_BIAS,
	    .direction = THRESHOLD_BELOW,
	    .value = b->threshold,
	    .has_value = true,
	    .resolve_value = b->resolve_threshold,
	    .for_ticks = b->for_ticks,
	    .for_ms = b->for_ms,
	    .keep_firing_for_ms = b->keep_firing_for_ms,
	    .repeat_interval_ms = b->repeat_interval_ms,
	    .period_ms = 3600000,
	    .periods = 7,
	    .min_sample = b->min_sample,
	    .scope_kinds = b->dimensions,
	};
	t->id = malloc(id_len);
	if (t->id)
		snprintf(t->id, id_len, CONFIG_BIAS_RULE_PREFIX "%s", k->id);
	t->severity = strdup(b->severity);
	t->route = strdup(b->route);
	t->owner = b->owner ? strdup(b->owner) : NULL;
	if (!t->id || !t->severity || !t->route || (b->owner && !t->owner))
		return -1;
	return 0;
}

/*
 * Builds the generated rule "bias.<kpi id>" of every audited KPI. The rules
 * stay out of the KPIs' thresholds, which contain only the rules written in
 * the file. The alert engine finds them through config_bias_rule and keeps
 * their state, lease, outbox and lifecycle like those of any rule.
 */
static int config_add_bias_rules(config_loader *ld)
{
	config *cfg = ld->cfg;
	config_bias_audit *b = &cfg->bias_audit;

	b->rules = config_alloc(ld, "bias_audit", cfg->n_kpis, sizeof(*b->rules));
	if (!b->rules)
		return -1;
	for (size_t i = 0; i < cfg->n_kpis; i++) {
		if (!config_bias_audited(cfg, &cfg->kpis[i]))
			continue;
		if (config_fill_bias_rule(b, &cfg->kpis[i], &b->rules[i]) < 0)
			return config_error(ld, "bias_audit", "out of memory");
	}
	return 0;
}

const config_threshold *config_bias_rule(const config *cfg, const config_kpi *k)
{
	const config_bias_audit *b = &cfg->bias_audit;

	if (!b->rules || k < cfg->kpis || k >= cfg->kpis + cfg->n_kpis)
		return NULL;
	return b->rules[k - cfg->kpis].id ? &b->rules[k - cfg->kpis] : NULL;
}

static int config_load_bias_audit(const config_map *root)
{
	static const char *const keys[] = {
	    "enabled",	 "threshold",	    "resolve_threshold", "min_sample",	     "dimensions",
	    "exclude_kpis", "severity",	    "owner",		 "route",	     "for_ticks",
	    "for",	 "keep_firing_for", "repeat_interval",	 NULL};
	config_loader *ld = root->ld;
	config_bias_audit *b = &ld->cfg->bias_audit;
	int min_group_size = ld->cfg->privacy.min_group_size;
	int min_sample = min_group_size > CONFIG_MIN_SAMPLE ? min_group_size : CONFIG_MIN_SAMPLE;
	config_map m;

	if (config_open_key(root, "bias_audit", false, keys, &m) < 0 ||
	    config_read_bool(&m, "enabled", true, &b->enabled) < 0 ||
	    config_load_bias_bounds(&m) < 0 ||
	    config_read_int(&m, "min_sample", min_sample, CONFIG_MIN_SAMPLE, INT_MAX,
			    &b->min_sample) < 0 ||
	    config_load_bias_dimensions(&m, &b->dimensions) < 0 ||
	    config_load_bias_exclusions(&m) < 0 || config_load_bias_routing(&m) < 0 ||
	    config_load_bias_timing(&m) < 0 ||
	    config_check_topic(ld, "outputs.bias.topic", ld->cfg->outputs.bias.topic, true) < 0)
		return -1;
	if (!b->enabled)
		return 0;
	if (config_check_bias_rule_ids(ld) < 0)
		return -1;
	return config_add_bias_rules(ld);
}

static void config_free_strings(char **strings, size_t n);
static void config_free_threshold(config_threshold *t);

static void config_free_bias_audit(config *cfg)
{
	if (cfg->bias_audit.rules)
		for (size_t i = 0; i < cfg->n_kpis; i++)
			config_free_threshold(&cfg->bias_audit.rules[i]);
	free(cfg->bias_audit.rules);
	config_free_strings(cfg->bias_audit.exclude_kpis, cfg->bias_audit.n_exclude_kpis);
	free(cfg->bias_audit.severity);
	free(cfg->bias_audit.owner);
	free(cfg->bias_audit.route);
	free(cfg->outputs.bias.topic);
}

/* ------------------------------------------------------------------------ */
/* admin                                                                     */

/*
 * Accepts numeric addresses only, because a host name could resolve to
 * several addresses and the server should bind exactly the one in the file.
 */
static int config_check_listen_host(config_loader *ld, const char *kp, const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return 0;
	return config_error(ld, kp,
			    "invalid address '%s'; write a numeric IPv4 or IPv6 address such as "
			    "127.0.0.1 or ::1 (loopback only) or 0.0.0.0 (every interface)",
			    host);
}

/*
 * Reads a file path under key, taken from the config file's folder when
 * relative. *out stays NULL when the key is absent and optional.
 */
static int config_read_path(const config_map *m, const char *key, bool required, char **out)
{
	char sub[CONFIG_PATH_MAX], *written = NULL;

	if (config_read_string(m, key, required, NULL, &written) < 0)
		return -1;
	if (!written)
		return 0;
	*out = config_resolve_path(m->ld->path, written);
	free(written);
	config_path_key(sub, m->kp, key);
	return *out ? 0 : config_error(m->ld, sub, "out of memory");
}

/*
 * Opens a file the admin server reads at start, so that a wrong path shows
 * now. O_NONBLOCK keeps a FIFO from blocking the open until a writer comes.
 */
static int config_check_readable(config_loader *ld, const char *kp, const char *file)
{
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return config_error(ld, kp, "cannot open '%s': %s; fix the path", file,
				    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return config_error(ld, kp, "'%s' is not a regular file; give the path of a file",
				    file);
	}
	close(fd);
	return 0;
}

/* Checks that the folder of the audit log exists; the daemon creates the file itself. */
static int config_check_audit_log(config_loader *ld, const char *kp, const char *file)
{
	const char *slash = strrchr(file, '/');
	char dir[PATH_MAX];
	struct stat st;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == file ? 1 : (int)(slash - file), file);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return config_error(ld, kp,
				    "the folder '%s' of the audit log does not exist; create it "
				    "or change the path",
				    dir);
	if (stat(file, &st) == 0 && !S_ISREG(st.st_mode))
		return config_error(ld, kp, "'%s' is not a regular file; give the path of a file",
				    file);
	return 0;
}

static int config_load_open_path(config_loader *ld, const yaml_node_t *item, const char *kp,
				 size_t i, void *opaque)
{
	static const char *const allowed[] = CONFIG_ADMIN_PATHS;
	char **paths = opaque, list[CONFIG_LIST_MAX];
	const char *text = config_scalar(ld, item, kp, "a path");

	if (!text)
		return -1;
	if (config_name_index(allowed, text) < 0)
		return config_error(ld, kp,
				    "'%s' cannot be opened; list only %s (paths under /api/ always "
				    "need a token)",
				    text, config_join(allowed, list, sizeof list));
	for (size_t j = 0; j < i; j++)
		if (strcmp(paths[j], text) == 0)
			return config_error(ld, kp,
					    "'%s' is already listed at admin.open_paths[%zu]; list "
					    "each path once",
					    text, j);
	return config_strdup(ld, kp, text, &paths[i]);
}

/* Reads admin.open_paths; absent means every path of CONFIG_ADMIN_PATHS, [] none. */
static int config_read_open_paths(const config_map *m)
{
	static const char *const allowed[] = CONFIG_ADMIN_PATHS;
	config *cfg = m->ld->cfg;
	char sub[CONFIG_PATH_MAX];
	yaml_node_t *seq;
	size_t n = sizeof allowed / sizeof allowed[0] - 1;
	int found = config_lookup_list(m, "open_paths", false, 0, &seq, sub);

	if (found < 0)
		return -1;
	if (found)
		n = config_seq_size(seq);
	cfg->admin.open_paths = config_alloc(m->ld, sub, n, sizeof(char *));
	if (!cfg->admin.open_paths)
		return -1;
	cfg->admin.n_open_paths = n;
	if (found)
		return config_each(m->ld, seq, sub, config_load_open_path, cfg->admin.open_paths);
	for (size_t i = 0; i < n; i++)
		if (config_strdup(m->ld, sub, allowed[i], &cfg->admin.open_paths[i]) < 0)
			return -1;
	return 0;
}

/* A closed path needs a token, which needs a tokens file. */
static int config_check_admin_access(config_loader *ld)
{
	static const char *const allowed[] = CONFIG_ADMIN_PATHS;
	const config *cfg = ld->cfg;

	if (cfg->admin.tokens_file)
		return 0;
	for (size_t i = 0; allowed[i]; i++) {
		bool open = false;
		for (size_t j = 0; j < cfg->admin.n_open_paths; j++)
			open = open || strcmp(cfg->admin.open_paths[j], allowed[i]) == 0;
		if (!open)
			return config_error(ld, "admin.open_paths",
					    "leaves %s closed, but admin.tokens_file is not set, so "
					    "no request could reach it; set admin.tokens_file or "
					    "list %s",
					    allowed[i], allowed[i]);
	}
	return 0;
}

static int config_load_admin_tls(const config_map *admin)
{
	static const char *const keys[] = {"cert_file", "key_file", NULL};
	config *cfg = admin->ld->cfg;
	config_map m;

	if (config_open_key(admin, "tls", false, keys, &m) < 0)
		return -1;
	if (!m.node)
		return 0;
	if (config_read_path(&m, "cert_file", true, &cfg->admin.tls.cert_file) < 0 ||
	    config_check_readable(admin->ld, "admin.tls.cert_file", cfg->admin.tls.cert_file) < 0 ||
	    config_read_path(&m, "key_file", true, &cfg->admin.tls.key_file) < 0 ||
	    config_check_readable(admin->ld, "admin.tls.key_file", cfg->admin.tls.key_file) < 0)
		return -1;
	return 0;
}

static int config_load_admin_access(const config_map *m)
{
	config *cfg = m->ld->cfg;

	if (config_read_path(m, "tokens_file", false, &cfg->admin.tokens_file) < 0 ||
	    (cfg->admin.tokens_file &&
	     config_check_readable(m->ld, "admin.tokens_file", cfg->admin.tokens_file) < 0) ||
	    config_read_path(m, "audit_log", false, &cfg->admin.audit_log) < 0 ||
	    (cfg->admin.audit_log &&
	     config_check_audit_log(m->ld, "admin.audit_log", cfg->admin.audit_log) < 0) ||
	    config_read_open_paths(m) < 0 || config_check_admin_access(m->ld) < 0 ||
	    config_load_admin_tls(m) < 0)
		return -1;
	return 0;
}

static int config_load_admin(const config_map *root)
{
	static const char *const keys[] = {"enabled",	 "listen_host", "port", "tokens_file",
					   "audit_log",	 "open_paths",	"tls",	"kpi_gauges",
					   NULL};
	config *cfg = root->ld->cfg;
	config_map m;

	if (config_open_key(root, "admin", false, keys, &m) < 0 ||
	    config_read_bool(&m, "enabled", true, &cfg->admin.enabled) < 0 ||
	    config_read_string(&m, "listen_host", false, "127.0.0.1", &cfg->admin.listen_host) <
		0 ||
	    config_check_listen_host(root->ld, "admin.listen_host", cfg->admin.listen_host) < 0 ||
	    config_read_int(&m, "port", 9464, 0, 65535, &cfg->admin.port) < 0 ||
	    config_read_bool(&m, "kpi_gauges", false, &cfg->admin.kpi_gauges) < 0 ||
	    config_load_admin_access(&m) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* shutdown                                                                  */

static int config_load_shutdown(const config_map *root)
{
	static const char *const keys[] = {"drain_timeout", NULL};
	config *cfg = root->ld->cfg;
	char sub[CONFIG_PATH_MAX], buf[32];
	config_map m;

	if (config_open_key(root, "shutdown", false, keys, &m) < 0 ||
	    config_read_duration(&m, "drain_timeout", 15000, 0, &cfg->shutdown.drain_timeout_ms,
				 NULL) < 0)
		return -1;
	config_path_key(sub, m.kp, "drain_timeout");
	if (cfg->shutdown.drain_timeout_ms > CONFIG_MAX_DRAIN_MS)
		return config_error(root->ld, sub, "must be at most %s; a longer drain delays "
				    "every stop", config_format_duration(CONFIG_MAX_DRAIN_MS, buf,
									 sizeof buf));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* schema_registry                                                           */

#define CONFIG_MAX_REGISTRY_TIMEOUT_MS 30000
#define CONFIG_MAX_UNKNOWN_RETRY_MS 3600000

/* Accepts http://HOST[:PORT][/PATH]: the client speaks plain HTTP only. */
static int config_check_registry_url(config_loader *ld, const char *url)
{
	const char *host = url + strlen("http://");

	if (strncmp(url, "http://", strlen("http://")) != 0)
		return config_error(ld, "schema_registry.url",
				    "must start with http:// (https is not supported; reach a "
				    "TLS registry through a local proxy)");
	if (host[0] == '\0' || host[0] == '/' || host[0] == ':')
		return config_error(ld, "schema_registry.url",
				    "has no host; write e.g. http://127.0.0.1:8081");
	if (strpbrk(url, " \t\r\n?#@"))
		return config_error(ld, "schema_registry.url",
				    "must not hold spaces, a query, a fragment or user "
				    "information");
	return 0;
}

/* Checks that folder is a directory the daemon may read. */
static int config_check_folder(config_loader *ld, const char *kp, const char *folder)
{
	struct stat st;

	if (stat(folder, &st) < 0)
		return config_error(ld, kp, "cannot open '%s': %s; fix the path", folder,
				    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return config_error(ld, kp, "'%s' is not a folder; point it at the folder of "
				    "<id>.avsc files", folder);
	if (access(folder, R_OK | X_OK) < 0)
		return config_error(ld, kp, "cannot read '%s': %s; fix its permissions", folder,
				    strerror(errno));
	return 0;
}

/* Reads a duration between min_ms and max_ms. */
static int config_read_bounded_duration(const config_map *m, const char *key, int64_t def,
					int64_t min_ms, int64_t max_ms, int64_t *out)
{
	char sub[CONFIG_PATH_MAX], buf[32];

	if (config_read_duration(m, key, def, min_ms, out, NULL) < 0)
		return -1;
	config_path_key(sub, m->kp, key);
	if (*out > max_ms)
		return config_error(m->ld, sub, "must be at most %s",
				    config_format_duration(max_ms, buf, sizeof buf));
	return 0;
}

static int config_load_schema_registry(const config_map *root)
{
	static const char *const keys[] = {"directory", "url", "timeout", "unknown_id_retry",
					   NULL};
	config *cfg = root->ld->cfg;
	config_map m;

	if (config_open_key(root, "schema_registry", false, keys, &m) < 0 ||
	    config_read_path(&m, "directory", false, &cfg->schema_registry.directory) < 0 ||
	    config_read_string(&m, "url", false, NULL, &cfg->schema_registry.url) < 0 ||
	    config_read_bounded_duration(&m, "timeout", 2000, 100, CONFIG_MAX_REGISTRY_TIMEOUT_MS,
					 &cfg->schema_registry.timeout_ms) < 0 ||
	    config_read_bounded_duration(&m, "unknown_id_retry", 60000, 1000,
					 CONFIG_MAX_UNKNOWN_RETRY_MS,
					 &cfg->schema_registry.unknown_id_retry_ms) < 0)
		return -1;
	if (cfg->schema_registry.url &&
	    config_check_registry_url(root->ld, cfg->schema_registry.url) < 0)
		return -1;
	return cfg->schema_registry.directory
		       ? config_check_folder(root->ld, "schema_registry.directory",
					     cfg->schema_registry.directory)
		       : 0;
}

/* ------------------------------------------------------------------------ */
/* File and document                                                         */

static int config_syntax_error(config_loader *ld, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_MEMORY_ERROR)
		return config_error(ld, "", "out of memory while parsing YAML");
	if (p->error == YAML_READER_ERROR)
		return config_error(ld, "",
				    "invalid YAML input at byte %zu: %s; save the file as "
				    "UTF-8 text",
				    p->problem_offset, problem);
	if (p->context)
		return config_error(ld, "",
				    "line %zu, column %zu: YAML syntax error: %s (%s at line "
				    "%zu, column %zu); check indentation and quoting there",
				    p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
				    p->context, p->context_mark.line + 1,
				    p->context_mark.column + 1);
	return config_error(ld, "",
			    "line %zu, column %zu: YAML syntax error: %s; check "
			    "indentation and quoting there",
			    p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
}

/* Loads the first document into doc and rejects a second one. */
static int config_load_document(config_loader *ld, yaml_parser_t *parser, yaml_document_t *doc)
{
	yaml_document_t next;
	bool more;

	if (!yaml_parser_load(parser, doc))
		return config_syntax_error(ld, parser);
	if (!yaml_document_get_root_node(doc)) {
		yaml_document_delete(doc);
		if (ld->is_catalog)
			return config_error(ld, "", "the file is empty; expected a map with kpis");
		return config_error(ld, "",
				    "the file is empty; expected a map with at least kafka, "
				    "privacy, behaviours and kpis");
	}

	if (!yaml_parser_load(parser, &next)) {
		yaml_document_delete(doc);
		return config_syntax_error(ld, parser);
	}
	more = yaml_document_get_root_node(&next) != NULL;
	yaml_document_delete(&next);
	if (more) {
		yaml_document_delete(doc);
		return config_error(ld, "", "contains more than one YAML document; keep one");
	}
	return 0;
}

/* Reads the whole file into *buf (caller frees) so that its version and its parse see the same bytes. */
static int config_read_file(config_loader *ld, unsigned char **buf, size_t *len)
{
	struct stat st;
	FILE *f = fopen(ld->path, "rb");
	int rc = -1;

	*buf = NULL;
	if (!f)
		return config_error(ld, "", "cannot open: %s", strerror(errno));
	if (fstat(fileno(f), &st) < 0)
		rc = config_error(ld, "", "cannot read: %s", strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = config_error(ld, "", "is a directory; give the path of the YAML file");
	else if (st.st_size > CONFIG_FILE_MAX)
		rc = config_error(ld, "", "is %lld bytes; a configuration must stay under %d",
				  (long long)st.st_size, CONFIG_FILE_MAX);
	else if (!(*buf = malloc((size_t)st.st_size + 1)))
		rc = config_error(ld, "", "out of memory");
	else if ((*len = fread(*buf, 1, (size_t)st.st_size, f)) != (size_t)st.st_size ||
		 ferror(f))
		rc = config_error(ld, "", "cannot read: short read; is the file being written?");
	else
		rc = 0;
	fclose(f);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* Writes the first 16 hex digits of the SHA-256 of the bytes into version. */
static int config_version_of(config_loader *ld, const unsigned char *buf, size_t len,
			     char version[CONFIG_VERSION_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) || md_len < CONFIG_DIGEST_SIZE)
		return config_error(ld, "", "cannot compute the SHA-256 of the file");
	memcpy(ld->digest, md, CONFIG_DIGEST_SIZE);
	for (int i = 0; i < 8; i++)
		snprintf(version + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int config_parse_file(config_loader *ld, yaml_document_t *doc,
			     char version[CONFIG_VERSION_SIZE])
{
	yaml_parser_t parser;
	unsigned char *buf;
	size_t len = 0;
	int rc;

	if (config_read_file(ld, &buf, &len) < 0)
		return -1;
	if (config_version_of(ld, buf, len, version) < 0) {
		free(buf);
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		free(buf);
		return config_error(ld, "", "out of memory");
	}
	yaml_parser_set_input_string(&parser, buf, len);
	rc = config_load_document(ld, &parser, doc);
	yaml_parser_delete(&parser);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* kpi_catalog: the KPI list in a file of its own                            */

/*
 * Loads the kpis of the catalog file (a map with the single key kpis) with a
 * loader of its own, so that errors name the catalog file, and keeps the
 * SHA-256 of its bytes for the config version.
 */
static int config_load_catalog_file(config_loader *ld, const char *file)
{
	static const char *const keys[] = {"kpis", NULL};
	config_loader cl = {.path = file,
			    .cfg = ld->cfg,
			    .errstr = ld->errstr,
			    .errstr_size = ld->errstr_size,
			    .is_catalog = true};
	char version[CONFIG_VERSION_SIZE];
	yaml_document_t doc;
	yaml_node_t *node;
	config_map root;
	int rc;

	if (config_parse_file(&cl, &doc, version) < 0)
		return -1;
	cl.doc = &doc;
	node = yaml_document_get_root_node(&doc);
	if (node->type != YAML_MAPPING_NODE)
		rc = config_error(&cl, "", "expected a map with the key kpis, got %s",
				  config_type_name(node));
	else
		rc = config_open(&cl, node, "", keys, &root) < 0 ? -1 : config_load_kpis(&root);
	yaml_document_delete(&doc);
	memcpy(ld->catalog_digest, cl.digest, sizeof ld->catalog_digest);
	ld->has_catalog = rc == 0;
	return rc;
}

/* Loads kpis inline or from the file that kpi_catalog names, never both. */
static int config_load_kpi_source(const config_map *root)
{
	config_loader *ld = root->ld;
	char sub[CONFIG_PATH_MAX];
	bool inline_kpis = config_map_find(root, "kpis") != NULL;

	if (config_read_path(root, "kpi_catalog", false, &ld->cfg->kpi_catalog) < 0)
		return -1;
	if (!ld->cfg->kpi_catalog) {
		if (!inline_kpis)
			return config_error(ld, "kpis",
					    "required key is missing or empty; add kpis at the top "
					    "level or name a catalog file with kpi_catalog");
		return config_load_kpis(root);
	}
	config_path_key(sub, root->kp, "kpi_catalog");
	if (inline_kpis)
		return config_error(ld, sub,
				    "names a KPI catalog, and this file has a kpis list too; "
				    "keep one: move the list into %s or remove kpi_catalog",
				    ld->cfg->kpi_catalog);
	if (config_check_readable(ld, sub, ld->cfg->kpi_catalog) < 0)
		return -1;
	return config_load_catalog_file(ld, ld->cfg->kpi_catalog);
}

/*
 * With a catalog, the version is the first 16 hex digits of the SHA-256 of
 * the two files' SHA-256 digests, so that a change to either file is a new
 * version. Without one it stays the digest of the main file's bytes.
 */
static void config_version_with_catalog(const config_loader *ld,
					char version[CONFIG_VERSION_SIZE])
{
	unsigned char both[2 * CONFIG_DIGEST_SIZE], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	memcpy(both, ld->digest, CONFIG_DIGEST_SIZE);
	memcpy(both + CONFIG_DIGEST_SIZE, ld->catalog_digest, CONFIG_DIGEST_SIZE);
	if (!EVP_Digest(both, sizeof both, md, &md_len, EVP_sha256(), NULL))
		return;
	for (int i = 0; i < 8; i++)
		snprintf(version + 2 * i, 3, "%02x", md[i]);
}

static int config_load_root(config_loader *ld)
{
	static const char *const keys[] = {"kafka",	 "redis",    "privacy", "windows",
					   "behaviours", "kpis",     "outputs", "alerts",
					   "admin",	 "shutdown", "schema_registry", "bias_audit",
					   "kpi_catalog", "programme", NULL};
	yaml_node_t *node = yaml_document_get_root_node(ld->doc);
	config_map root;

	if (node->type != YAML_MAPPING_NODE)
		return config_error(ld, "", "expected a map at the top level, got %s",
				    config_type_name(node));
	if (config_open(ld, node, "", keys, &root) < 0 || config_load_kafka(&root) < 0 ||
	    config_load_redis(&root) < 0 || config_load_privacy(&root) < 0 ||
	    config_load_windows(&root) < 0 || config_load_behaviours(&root) < 0 ||
	    config_load_programme(&root) < 0 || config_load_kpi_source(&root) < 0 ||
	    config_load_outputs(&root) < 0 ||
	    config_check_topics(ld) < 0 || config_check_rule_ticks(ld) < 0 ||
	    config_load_alerts(&root) < 0 || config_load_bias_audit(&root) < 0 ||
	    config_load_admin(&root) < 0 ||
	    config_load_shutdown(&root) < 0 || config_load_schema_registry(&root) < 0)
		return -1;
	return 0;
}

int config_load(const char *path, config **out, char *errstr, size_t errstr_size)
{
	config_loader ld = {.path = path, .errstr = errstr, .errstr_size = errstr_size};
	char version[CONFIG_VERSION_SIZE];
	yaml_document_t doc;
	int rc;

	*out = NULL;
	if (errstr && errstr_size)
		errstr[0] = '\0';
	if (config_parse_file(&ld, &doc, version) < 0)
		return -1;

	ld.doc = &doc;
	ld.cfg = calloc(1, sizeof *ld.cfg);
	if (!ld.cfg || !(ld.cfg->path = strdup(path)))
		rc = config_error(&ld, "", "out of memory");
	else
		rc = config_load_root(&ld);
	if (rc == 0 && ld.has_catalog)
		config_version_with_catalog(&ld, version);
	if (ld.cfg)
		memcpy(ld.cfg->version, version, sizeof version);
	yaml_document_delete(&doc);

	if (rc < 0) {
		config_free(ld.cfg);
		return -1;
	}
	*out = ld.cfg;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Keys that take effect only at restart                                     */

static bool config_str_differs(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

/* Writes key into out and returns 1. */
static int config_changed(const char *key, char *out, size_t size)
{
	snprintf(out, size, "%s", key);
	return 1;
}

static bool config_graph_keys_differ(const config_input *a, const config_input *b)
{
	if (a->n_graph_keys != b->n_graph_keys)
		return true;
	for (size_t i = 0; i < a->n_graph_keys; i++)
		if (config_str_differs(a->graph_keys[i].certificate_id,
				       b->graph_keys[i].certificate_id) ||
		    config_str_differs(a->graph_keys[i].private_key_file,
				       b->graph_keys[i].private_key_file))
			return true;
	return false;
}

static bool config_analytics_differ(const config_input *a, const config_input *b)
{
	if (a->n_analytics_events != b->n_analytics_events)
		return true;
	for (size_t i = 0; i < a->n_analytics_events; i++)
		if (config_str_differs(a->analytics_events[i].key, b->analytics_events[i].key) ||
		    config_str_differs(a->analytics_events[i].value, b->analytics_events[i].value))
			return true;
	return false;
}

static bool config_inputs_differ(const config *a, const config *b)
{
	if (a->kafka.n_inputs != b->kafka.n_inputs)
		return true;
	for (size_t i = 0; i < a->kafka.n_inputs; i++)
		if (config_str_differs(a->kafka.inputs[i].topic, b->kafka.inputs[i].topic) ||
		    a->kafka.inputs[i].format != b->kafka.inputs[i].format ||
		    config_graph_keys_differ(&a->kafka.inputs[i], &b->kafka.inputs[i]) ||
		    config_analytics_differ(&a->kafka.inputs[i], &b->kafka.inputs[i]))
			return true;
	return false;
}

static bool config_properties_differ(const config *a, const config *b)
{
	if (a->kafka.n_properties != b->kafka.n_properties)
		return true;
	for (size_t i = 0; i < a->kafka.n_properties; i++)
		if (config_str_differs(a->kafka.properties[i].key, b->kafka.properties[i].key) ||
		    config_str_differs(a->kafka.properties[i].value, b->kafka.properties[i].value))
			return true;
	return false;
}

static int config_kafka_changed(const config *a, const config *b, char *key, size_t size)
{
	if (config_str_differs(a->kafka.bootstrap_servers, b->kafka.bootstrap_servers))
		return config_changed("kafka.bootstrap_servers", key, size);
	if (config_str_differs(a->kafka.group_id, b->kafka.group_id))
		return config_changed("kafka.group_id", key, size);
	if (config_inputs_differ(a, b))
		return config_changed("kafka.inputs", key, size);
	if (config_str_differs(a->kafka.roster_topic, b->kafka.roster_topic))
		return config_changed("kafka.roster_topic", key, size);
	if (config_properties_differ(a, b))
		return config_changed("kafka.properties", key, size);
	if (a->kafka.batch_max_messages != b->kafka.batch_max_messages)
		return config_changed("kafka.batch_max_messages", key, size);
	if (a->kafka.batch_max_ms != b->kafka.batch_max_ms)
		return config_changed("kafka.batch_max_ms", key, size);
	if (a->kafka.max_prefetch_kbytes != b->kafka.max_prefetch_kbytes)
		return config_changed("kafka.max_prefetch_kbytes", key, size);
	if (a->kafka.poison_attempts != b->kafka.poison_attempts)
		return config_changed("kafka.poison_attempts", key, size);
	return 0;
}

static int config_redis_privacy_changed(const config *a, const config *b, char *key, size_t size)
{
	if (config_str_differs(a->redis.host, b->redis.host) || a->redis.port != b->redis.port ||
	    config_str_differs(a->redis.unix_socket, b->redis.unix_socket))
		return config_changed("redis.host, redis.port or redis.unix_socket", key, size);
	if (config_str_differs(a->redis.password, b->redis.password))
		return config_changed("redis.password", key, size);
	if (a->redis.db != b->redis.db)
		return config_changed("redis.db", key, size);
	if (config_str_differs(a->redis.key_prefix, b->redis.key_prefix))
		return config_changed("redis.key_prefix", key, size);
	if (config_str_differs(a->privacy.key_file, b->privacy.key_file))
		return config_changed("privacy.key_file", key, size);
	if (config_str_differs(a->privacy.key_id, b->privacy.key_id))
		return config_changed("privacy.key_id", key, size);
	return 0;
}

static bool config_rolling_differs(const config *a, const config *b)
{
	if (a->windows.n_windows != b->windows.n_windows)
		return true;
	for (size_t i = 0; i < a->windows.n_windows; i++) {
		const config_window *x = &a->windows.windows[i], *y = &b->windows.windows[i];
		if (config_str_differs(x->name, y->name) || x->length_ms != y->length_ms ||
		    x->granularity != y->granularity)
			return true;
	}
	return false;
}

/*
 * Bucket sizes, time zone and retention shape the keys already in Redis;
 * rolling windows and the dedup horizon set how long those keys live.
 */
static int config_windows_changed(const config *a, const config *b, char *key, size_t size)
{
	if (a->windows.n_granularities != b->windows.n_granularities ||
	    memcmp(a->windows.granularities_ms, b->windows.granularities_ms,
		   sizeof a->windows.granularities_ms) != 0)
		return config_changed("windows.granularities", key, size);
	if (config_str_differs(a->windows.timezone, b->windows.timezone))
		return config_changed("windows.timezone", key, size);
	if (a->windows.retention_ms != b->windows.retention_ms)
		return config_changed("windows.retention", key, size);
	if (a->windows.dedup_horizon_ms != b->windows.dedup_horizon_ms)
		return config_changed("windows.dedup_horizon", key, size);
	if (config_rolling_differs(a, b))
		return config_changed("windows.rolling", key, size);
	return 0;
}

static bool config_output_differs(const config_output *a, const config_output *b)
{
	return config_str_differs(a->topic, b->topic) || a->format != b->format ||
	       a->schema_id != b->schema_id;
}

/* The admin server reads its tokens, audit log and TLS files at start only. */
static int config_admin_access_changed(const config *a, const config *b, char *key, size_t size)
{
	if (config_str_differs(a->admin.tokens_file, b->admin.tokens_file))
		return config_changed("admin.tokens_file", key, size);
	if (config_str_differs(a->admin.audit_log, b->admin.audit_log))
		return config_changed("admin.audit_log", key, size);
	if (a->admin.n_open_paths != b->admin.n_open_paths)
		return config_changed("admin.open_paths", key, size);
	for (size_t i = 0; i < a->admin.n_open_paths; i++)
		if (config_str_differs(a->admin.open_paths[i], b->admin.open_paths[i]))
			return config_changed("admin.open_paths", key, size);
	if (config_str_differs(a->admin.tls.cert_file, b->admin.tls.cert_file))
		return config_changed("admin.tls.cert_file", key, size);
	if (config_str_differs(a->admin.tls.key_file, b->admin.tls.key_file))
		return config_changed("admin.tls.key_file", key, size);
	return 0;
}

static int config_outputs_admin_changed(const config *a, const config *b, char *key, size_t size)
{
	if (config_output_differs(&a->outputs.kpi, &b->outputs.kpi))
		return config_changed("outputs.kpi", key, size);
	if (config_output_differs(&a->outputs.escalations, &b->outputs.escalations))
		return config_changed("outputs.escalations", key, size);
	if (config_output_differs(&a->outputs.dlq, &b->outputs.dlq))
		return config_changed("outputs.dlq", key, size);
	if (config_output_differs(&a->outputs.bias, &b->outputs.bias))
		return config_changed("outputs.bias", key, size);
	if (config_str_differs(a->outputs.governance_topic, b->outputs.governance_topic))
		return config_changed("outputs.governance.topic", key, size);
	if (a->outputs.max_queued_messages != b->outputs.max_queued_messages)
		return config_changed("outputs.max_queued_messages", key, size);
	if (a->admin.enabled != b->admin.enabled)
		return config_changed("admin.enabled", key, size);
	if (config_str_differs(a->admin.listen_host, b->admin.listen_host))
		return config_changed("admin.listen_host", key, size);
	if (a->admin.port != b->admin.port)
		return config_changed("admin.port", key, size);
	if (a->admin.kpi_gauges != b->admin.kpi_gauges)
		return config_changed("admin.kpi_gauges", key, size);
	return config_admin_access_changed(a, b, key, size);
}

static int config_schema_registry_changed(const config *a, const config *b, char *key,
					  size_t size)
{
	if (config_str_differs(a->schema_registry.directory, b->schema_registry.directory))
		return config_changed("schema_registry.directory", key, size);
	if (config_str_differs(a->schema_registry.url, b->schema_registry.url))
		return config_changed("schema_registry.url", key, size);
	if (a->schema_registry.timeout_ms != b->schema_registry.timeout_ms)
		return config_changed("schema_registry.timeout", key, size);
	if (a->schema_registry.unknown_id_retry_ms != b->schema_registry.unknown_id_retry_ms)
		return config_changed("schema_registry.unknown_id_retry", key, size);
	return 0;
}

int config_restart_key_changed(const config *old, const config *next, char *key, size_t key_size)
{
	if (config_kafka_changed(old, next, key, key_size) ||
	    config_redis_privacy_changed(old, next, key, key_size) ||
	    config_windows_changed(old, next, key, key_size) ||
	    config_outputs_admin_changed(old, next, key, key_size) ||
	    config_schema_registry_changed(old, next, key, key_size))
		return 1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Freeing                                                                   */

static void config_free_strings(char **strings, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
}

static void config_free_behaviour(config_behaviour *b)
{
	for (size_t i = 0; i < b->n_rules; i++) {
		config_rule *r = &b->rules[i];
		config_free_strings(r->kinds, r->n_kinds);
		config_free_strings(r->sources, r->n_sources);
		config_free_strings(r->channels, r->n_channels);
		config_free_strings(r->reactions, r->n_reactions);
		config_free_strings(r->networks, r->n_networks);
		free(r->amount_attribute);
	}
	free(b->rules);
	free(b->id);
	free(b->description);
}

static void config_free_threshold(config_threshold *t)
{
	for (size_t i = 0; i < t->n_labels; i++) {
		free(t->labels[i].key);
		free(t->labels[i].value);
	}
	free(t->labels);
	free(t->id);
	free(t->severity);
	free(t->owner);
	free(t->route);
	free(t->runbook_url);
	free(t->rationale);
	free(t->escalate_owner);
	free(t->escalate_severity);
}

static void config_free_kpi(config_kpi *k)
{
	for (size_t i = 0; i < k->n_thresholds; i++)
		config_free_threshold(&k->thresholds[i]);
	free(k->thresholds);
	free(k->behaviours);
	free(k->formula.coefficients);
	free(k->formula.denominator_behaviours);
	free(k->formula.text);
	free(k->unit);
	free(k->id);
	free(k->name);
	free(k->owner);
	free(k->rationale);
	free(k->split_by_id);
	config_free_named_values(k->targets.scopes, k->targets.n_scopes);
	config_free_named_values(k->targets.segments, k->targets.n_segments);
}

static void config_free_kafka(config *cfg)
{
	for (size_t i = 0; i < cfg->kafka.n_inputs; i++) {
		config_input *in = &cfg->kafka.inputs[i];
		for (size_t k = 0; k < in->n_graph_keys; k++) {
			free(in->graph_keys[k].certificate_id);
			free(in->graph_keys[k].private_key_file);
		}
		free(in->graph_keys);
		for (size_t k = 0; k < in->n_analytics_events; k++) {
			free(in->analytics_events[k].key);
			free(in->analytics_events[k].value);
		}
		free(in->analytics_events);
		free(in->topic);
	}
	free(cfg->kafka.inputs);
	for (size_t i = 0; i < cfg->kafka.n_properties; i++) {
		free(cfg->kafka.properties[i].key);
		free(cfg->kafka.properties[i].value);
	}
	free(cfg->kafka.properties);
	free(cfg->kafka.bootstrap_servers);
	free(cfg->kafka.group_id);
	free(cfg->kafka.roster_topic);
}

void config_free(config *cfg)
{
	if (!cfg)
		return;
	config_free_kafka(cfg);
	free(cfg->redis.host);
	free(cfg->redis.unix_socket);
	free(cfg->redis.password);
	free(cfg->redis.key_prefix);
	free(cfg->privacy.key_file);
	free(cfg->privacy.key_id);
	free(cfg->windows.timezone);
	for (size_t i = 0; i < cfg->windows.n_windows; i++)
		free(cfg->windows.windows[i].name);
	free(cfg->windows.windows);
	for (size_t i = 0; i < cfg->n_behaviours; i++)
		config_free_behaviour(&cfg->behaviours[i]);
	free(cfg->behaviours);
	for (size_t i = 0; i < cfg->n_kpis; i++)
		config_free_kpi(&cfg->kpis[i]);
	free(cfg->kpis);
	config_free_named_values(cfg->programme.scopes, cfg->programme.n_scopes);
	free(cfg->outputs.kpi.topic);
	free(cfg->outputs.escalations.topic);
	free(cfg->outputs.dlq.topic);
	free(cfg->outputs.governance_topic);
	config_free_bias_audit(cfg);
	free(cfg->alerts.source);
	free(cfg->admin.listen_host);
	free(cfg->admin.tokens_file);
	free(cfg->admin.audit_log);
	for (size_t i = 0; i < cfg->admin.n_open_paths; i++)
		free(cfg->admin.open_paths[i]);
	free(cfg->admin.open_paths);
	free(cfg->admin.tls.cert_file);
	free(cfg->admin.tls.key_file);
	free(cfg->schema_registry.directory);
	free(cfg->schema_registry.url);
	free(cfg->path);
	free(cfg->kpi_catalog);
	free(cfg);
}
