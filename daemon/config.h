/*
 * config.h - advocacyd's configuration: the YAML file, loaded and validated.
 *
 * config_load() parses the file with libyaml, rejects unknown keys, wrong
 * types and inconsistent values (weights that do not sum to 1, a KPI naming an
 * unknown behaviour, an unreadable HMAC key file...) and fills one immutable
 * struct config. Every error names the key path, e.g.
 *   "config/advocacyd.yaml: kpis[2].behaviours[0]: unknown behaviour 'kudo'"
 *
 * Every string in the struct is heap-owned by the config and freed by
 * config_free(). Behaviour references are resolved to indices at load, so the
 * hot path compares integers, never names.
 *
 * The HMAC key itself is never stored here: only the path of the file that
 * holds it. The privacy module reads the key.
 *
 * cfg->version identifies the file's bytes (the first 16 hex digits of their
 * SHA-256, or with kpi_catalog of the two files' digests), so two instances
 * or a reload can tell whether they run the same configuration. KPIs and threshold rules carry an optional owner (a team or
 * role responsible for them, never a person's e-mail) and rationale for the
 * governance trail; a retired KPI stays in the file but is never computed.
 */
#ifndef ADVOCACY_CONFIG_H
#define ADVOCACY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_GRANULARITIES 8
/* Admin paths that admin.open_paths may list, NULL-terminated; all open by default. */
#define CONFIG_ADMIN_PATHS {"/healthz", "/readyz", "/metrics", NULL}
#define CONFIG_VERSION_SIZE 17   /* 16 hex digits and a NUL */

typedef struct config_kv {
	char *key;
	char *value;
} config_kv;

typedef enum input_format {
	INPUT_FORMAT_AVRO,   /* canonical AdvocacyEvent, plain or Confluent-framed */
	INPUT_FORMAT_SLACK,  /* Slack Events API JSON envelopes */
	INPUT_FORMAT_GRAPH,  /* Microsoft Graph change notifications (Teams) */
	INPUT_FORMAT_GREENHOUSE, /* Greenhouse Recruiting web hooks (referrals) */
	INPUT_FORMAT_XAPI,   /* xAPI statements of a learning record store (training) */
	INPUT_FORMAT_TYPEFORM, /* Typeform form_response web hooks (eNPS answers) */
	INPUT_FORMAT_VIVA,   /* Viva Engage (Yammer) messages and community membership */
	INPUT_FORMAT_ANALYTICS, /* intranet analytics track/page calls */
	INPUT_FORMAT_SOCIAL, /* social-sharing (employee advocacy) webhooks */
	INPUT_FORMAT_COUNT,  /* number of formats, not a format */
} input_format;

/* A private key for Graph's encrypted resource data, by certificate id. */
typedef struct config_graph_key {
	char *certificate_id;    /* the subscription's encryptionCertificateId */
	char *private_key_file;  /* PEM, resolved against the config's folder */
} config_graph_key;

typedef struct config_input {
	char *topic;
	input_format format;
	config_graph_key *graph_keys; /* graph.keys of a graph input, may be none */
	size_t n_graph_keys;
	config_kv *analytics_events; /* analytics.events: track event name -> kind; none: defaults */
	size_t n_analytics_events;
} config_input;

typedef enum output_format {
	OUTPUT_FORMAT_AVRO,
	OUTPUT_FORMAT_JSON,
} output_format;

typedef struct config_output {
	char *topic;
	output_format format;
	int32_t schema_id;   /* Confluent schema registry id written in the frame */
} config_output;

typedef enum rule_credit {
	CREDIT_ACTOR,        /* the person who acted gets the behaviour */
	CREDIT_TARGETS,      /* each person acted upon gets it */
} rule_credit;

/*
 * Purposes a person opts in to, as the roster records them ("consent" in a
 * roster record). A rule that requires one credits only people whose consent
 * to it is on record (see roster.h).
 */
typedef enum consent_purpose {
	CONSENT_NONE = 0,            /* the rule needs no consent */
	CONSENT_EXTERNAL_SHARING,    /* sharing company content outside the company */
	CONSENT_PURPOSE_COUNT,       /* number of values, not a purpose */
} consent_purpose;

/* Default and largest amount_max of a rule: a count per event, not a total. */
#define CONFIG_AMOUNT_MAX_DEFAULT 1000000
#define CONFIG_AMOUNT_MAX_LIMIT 1000000000

/* One way an event becomes a behaviour. All given filters must match. */
typedef struct config_rule {
	char **kinds;            /* event kinds, at least one */
	size_t n_kinds;
	char **sources;          /* platforms; none means any */
	size_t n_sources;
	char **channels;         /* channel/community ids; none means any */
	size_t n_channels;
	char **reactions;        /* value of the "reaction" attribute; none means any */
	size_t n_reactions;
	bool requires_targets;   /* e.g. a kudos message must mention someone */
	rule_credit credit;
	int effect;              /* +1 counts, -1 retracts (reaction removed, ...) */
	consent_purpose requires_consent; /* credit only people who opted in; actor only */
	char *amount_attribute;  /* credit this attribute's integer instead of 1; NULL: 1 */
	int64_t amount_max;      /* largest amount accepted, 1..CONFIG_AMOUNT_MAX_LIMIT */
	char **networks;         /* values of the "network" attribute; none means any */
	size_t n_networks;
} config_rule;

/* Largest behaviours.<id>.daily_cap. */
#define CONFIG_DAILY_CAP_MAX 1000000

typedef struct config_behaviour {
	char *id;
	char *description;
	config_rule *rules;
	size_t n_rules;
	/* Credits one person may add per local day (windows.timezone); the ones
	 * above it are recorded as capped (see caps.h). 0: no cap. */
	int daily_cap;
} config_behaviour;

typedef enum kpi_aggregation {
	KPI_AGG_COUNT,          /* value = count of behaviours */
	KPI_AGG_CONTRIBUTORS,   /* value = distinct contributors */
	KPI_AGG_RATE,           /* value = count / headcount */
	KPI_AGG_PARTICIPATION,  /* value = distinct contributors / headcount */
	KPI_AGG_ENPS,           /* value = (promoters - detractors) / responses * 100;
	                         * behaviours are [promoters, passives, detractors] */
	KPI_AGG_RETENTION,      /* value = 1 - departures / mean headcount; no behaviours */
	KPI_AGG_RETENTION_GAP,  /* org only: retention of high- minus low-advocacy teams,
	                         * split by the split_by KPI; no behaviours */
	KPI_AGG_CAPPED_SHARE,   /* value = capped / (count + capped); every behaviour
	                         * has a daily_cap */
	KPI_AGG_FORMULA,        /* a formula that none of the names above describes;
	                         * config_kpi.formula has it */
} kpi_aggregation;

/* One side of a KPI formula (see config_formula). */
typedef enum formula_term {
	FORMULA_NONE,       /* denominator only: the numerator alone */
	FORMULA_HEADCOUNT,  /* denominator only: the scope's roster headcount */
	FORMULA_COUNT,      /* behaviour counts, each times its coefficient */
	FORMULA_PEOPLE,     /* numerator only: distinct people with any of the behaviours */
	FORMULA_ENPS,       /* numerator only: eNPS of [promoters, passives, detractors] */
} formula_term;

/*
 * How a KPI's value is computed over its window, per scope:
 *   value = numerator / denominator * scale   (0 while the denominator is 0)
 * The numerator reads config_kpi.behaviours. An enps numerator is the whole
 * eNPS score and takes no denominator. The short form of a KPI (behaviours,
 * aggregation, window) maps onto the same struct.
 */
typedef struct config_formula {
	formula_term numerator;      /* FORMULA_COUNT, FORMULA_PEOPLE or FORMULA_ENPS */
	double *coefficients;        /* FORMULA_COUNT: one per behaviour (1 unless weighted) */
	formula_term denominator;    /* FORMULA_NONE, FORMULA_HEADCOUNT or FORMULA_COUNT */
	size_t *denominator_behaviours; /* FORMULA_COUNT: indices into config.behaviours */
	size_t n_denominator_behaviours;
	double scale;                /* the ratio times this, e.g. 100 for percent; default 1 */
	char *text;                  /* the formula as one line, set at load (see
	                              * config_formula_text) */
} config_formula;

/* Whether a KPI counts what people do or how others respond to it. */
typedef enum kpi_kind {
	KPI_KIND_ACTIVE,   /* active behaviour: recognising, contributing, sharing... */
	KPI_KIND_PASSIVE,  /* passive engagement: reactions, reach, survey answers */
} kpi_kind;

typedef enum quadrant {
	QUADRANT_FINANCIAL,
	QUADRANT_CUSTOMER,
	QUADRANT_INTERNAL_PROCESS,
	QUADRANT_LEARNING_GROWTH,
} quadrant;

typedef enum indicator {
	INDICATOR_LEADING,
	INDICATOR_LAGGING,
} indicator;

typedef enum threshold_direction {
	THRESHOLD_BELOW,   /* breached while value < threshold value */
	THRESHOLD_ABOVE,   /* breached while value > threshold value */
} threshold_direction;

/* Scope kinds a threshold applies to, as a bit set of (1u << scope_kind). */
typedef enum scope_kind {
	SCOPE_ORG = 0,
	SCOPE_DEPARTMENT,
	SCOPE_TEAM,
	SCOPE_SEGMENT,
	SCOPE_WORK_MODE,
	SCOPE_EMPLOYMENT_TYPE,
	SCOPE_REGION,
	SCOPE_KIND_COUNT,
} scope_kind;

/* What a rule compares; every condition reports its bound in the KPI's units. */
typedef enum alert_condition {
	ALERT_COND_THRESHOLD,  /* the value against `value`, or the KPI's target */
	ALERT_COND_DEVIATION,  /* the value more than `value` percent from the target */
	ALERT_COND_ZSCORE,     /* more than `value` standard deviations from the baseline */
	ALERT_COND_TREND,      /* change over `periods` periods, in percent, past `value` */
	ALERT_COND_DISPARITY,  /* lowest over highest segment value below `value` */
	ALERT_COND_BIAS,       /* a rule generated by the bias audit: the ratio of
	                        * processors/bias.c below `value`; only in
	                        * bias_audit.rules, never in a KPI's thresholds */
} alert_condition;

typedef struct config_threshold {
	char *id;                  /* rule id, unique across all KPIs */
	alert_condition condition; /* default threshold */
	threshold_direction direction; /* disparity: always below */
	double value;              /* see alert_condition; threshold: the KPI's target
	                            * unless given; disparity: default 0.8 */
	bool has_value;            /* value was given in YAML */
	double resolve_value;      /* hysteresis: the alert resolves only once the
	                            * value is back past this bound; default value */
	int for_ticks;             /* consecutive breached ticks before firing, >= 1 */
	int64_t for_ms;            /* and breached at least this long; default 0 */
	int64_t keep_firing_for_ms;/* clear this long before resolving; default 0 */
	int64_t repeat_interval_ms;/* repeat while firing this often; 0: never (default) */
	int64_t period_ms;         /* zscore and trend: one baseline sample per period;
	                            * default 1h */
	int periods;               /* zscore: EWMA span and warm-up samples; trend:
	                            * look-back; 2..64, default 7 */
	int min_sample;            /* disparity: least headcount of a segment that
	                            * counts; default privacy.min_group_size, at
	                            * least 3 */
	char *severity;            /* critical, error, warning or info */
	uint32_t scope_kinds;      /* bit set; default: every scope kind (disparity:
	                            * the dimensions compared, never org) */
	char *owner;               /* team or role responsible; NULL when not given */
	char *route;               /* storm-control group and routing hint; default
	                            * the owner, else "default" */
	char *runbook_url;         /* NULL when not given */
	config_kv *labels;         /* extra labels copied into every event */
	size_t n_labels;
	char *rationale;           /* why it escalates; NULL when not given */
	int64_t escalate_after_ms; /* second tier after firing this long; 0: none */
	char *escalate_owner;      /* second tier's owner; NULL: keep the owner */
	char *escalate_severity;   /* second tier's severity; NULL: keep the severity */
} config_threshold;

typedef enum kpi_status {
	KPI_STATUS_ACTIVE,
	KPI_STATUS_RETIRED,        /* validated, never computed, emitted or alerted on */
} kpi_status;

/* Stage of the advocacy programme, which picks a KPI's maturity target. */
typedef enum programme_stage {
	PROGRAMME_PILOT,
	PROGRAMME_GROWTH,
	PROGRAMME_MATURE,
	PROGRAMME_STAGE_COUNT,     /* number of stages, not a stage */
} programme_stage;

/* A number given for one scope name (e.g. "team:Payments") or segment value. */
typedef struct config_named_value {
	char *name;
	double value;
} config_named_value;

/*
 * Targets that replace a KPI's base target for some scopes (kpis[].targets).
 * processors/targets.h documents the order in which they apply.
 */
typedef struct config_kpi_targets {
	config_named_value *scopes;   /* by scope name */
	size_t n_scopes;
	config_named_value *segments; /* by value of the roster's segment attribute */
	size_t n_segments;
	double maturity[PROGRAMME_STAGE_COUNT];
	bool has_maturity[PROGRAMME_STAGE_COUNT];
	double industry;              /* industry benchmark value */
	bool has_industry;
} config_kpi_targets;

/* Range a KPI's value is normalized against for the index (kpis[].benchmark). */
typedef struct config_benchmark {
	bool given;                /* false: the index uses the effective target */
	double low;                /* scores 0 at or below */
	double high;               /* scores 1 at or above; high > low */
} config_benchmark;

typedef struct config_kpi {
	char *id;
	char *name;
	size_t *behaviours;        /* indices into config.behaviours */
	size_t n_behaviours;
	kpi_aggregation aggregation; /* the formula's short name; KPI_AGG_FORMULA when none fits */
	config_formula formula;    /* how the value is computed; set in both forms */
	kpi_kind kind;             /* default active */
	char *unit;                /* e.g. "per person per week", "%", "EUR"; default by formula */
	size_t window;             /* index into config.windows.windows */
	quadrant quadrant;
	indicator indicator;
	double weight;             /* weights of the active KPIs sum to 1 (within 1e-6) */
	double target;
	config_threshold *thresholds;
	size_t n_thresholds;
	kpi_status status;         /* default active */
	char *owner;               /* team or role responsible; NULL when not given */
	char *rationale;           /* why it is measured; NULL when not given */
	/* retention_gap only: the advocacy KPI that splits the teams. */
	char *split_by_id;         /* NULL for other aggregations */
	size_t split_by;           /* index into config.kpis */
	bool has_split_threshold;  /* false: split at the median team */
	double split_threshold;    /* teams with split_by's value >= this are high */
	config_kpi_targets targets; /* none given: the base target applies everywhere */
	config_benchmark benchmark;
	/* False (better: higher, the default) scores value / target; true
	 * (better: lower, the default of capped_share) scores target / value. */
	bool lower_is_better;
} config_kpi;

/* The bias_audit section. */
typedef struct config_bias_audit {
	bool enabled;              /* default true */
	double threshold;          /* fires below this ratio; default 0.8 (four fifths) */
	double resolve_threshold;  /* resolves at or above it; default threshold */
	int min_sample;            /* least people (eNPS: respondents) of a segment that
	                            * counts; default privacy.min_group_size, >= 3 */
	uint32_t dimensions;       /* bit set of scope kinds; default segment,
	                            * work_mode, employment_type and region */
	char **exclude_kpis;       /* KPI ids left out of the audit */
	size_t n_exclude_kpis;
	char *severity;            /* default warning */
	char *owner;               /* NULL when not given */
	char *route;               /* default the owner, else "default" */
	int for_ticks;             /* default 1 */
	int64_t for_ms;            /* default 0 */
	int64_t keep_firing_for_ms;/* default 0 */
	int64_t repeat_interval_ms;/* default 0: never */
	config_threshold *rules;   /* per KPI index (n_kpis entries): its generated
	                            * rule "bias.<kpi id>"; id NULL when the KPI is
	                            * not audited; NULL when the audit is disabled */
} config_bias_audit;

/* A rolling window, read from buckets of one granularity. */
typedef struct config_window {
	char *name;                /* as written, e.g. "24h" */
	int64_t length_ms;
	size_t granularity;        /* index into windows.granularities_ms */
} config_window;

typedef struct config {
	char *path;
	char version[CONFIG_VERSION_SIZE]; /* hex SHA-256 prefix of the file's bytes, and of
	                                    * the KPI catalog's when kpi_catalog names one */
	char *kpi_catalog;         /* the KPI catalog file, resolved; NULL: kpis inline */

	struct {
		char *bootstrap_servers;
		char *group_id;
		config_input *inputs;
		size_t n_inputs;
		char *roster_topic;
		config_kv *properties;   /* passed to librdkafka as they are */
		size_t n_properties;
		int batch_max_messages;  /* messages per poll batch */
		int batch_max_ms;        /* max time a batch waits to fill */
		int max_prefetch_kbytes; /* size of the consumer's input buffer */
		int poison_attempts;     /* rejected writes before a record is isolated */
	} kafka;

	struct {
		char *host;
		int port;
		char *unix_socket;       /* wins over host/port when set */
		char *password;          /* NULL: no AUTH */
		int db;
		char *key_prefix;
	} redis;

	struct {
		char *key_file;
		char *key_id;
		int min_group_size;      /* default 5, at least 3 */
		int min_respondents;     /* eNPS figures need this many; default 5, >= 3 */
	} privacy;

	struct {
		int64_t granularities_ms[CONFIG_MAX_GRANULARITIES]; /* ascending */
		size_t n_granularities;
		int64_t retention_ms;
		int64_t allowed_lateness_ms;
		int64_t max_future_ms;   /* events further ahead than this are invalid */
		int64_t dedup_horizon_ms; /* repeated event ids dropped this long; 0: off */
		char *timezone;          /* IANA name, e.g. "Europe/Berlin" */
		config_window *windows;
		size_t n_windows;
	} windows;

	config_behaviour *behaviours;
	size_t n_behaviours;

	config_kpi *kpis;
	size_t n_kpis;

	/* Stage of the advocacy programme (programme:), for maturity targets. */
	struct {
		bool has_maturity;        /* programme.maturity was given */
		programme_stage maturity; /* stage of every scope not listed below */
		config_named_value *scopes; /* per-scope stage: value is a programme_stage */
		size_t n_scopes;
	} programme;

	struct {
		config_output kpi;
		config_output escalations;
		config_output dlq;
		config_output bias;       /* bias audit records (bias_audit) */
		char *governance_topic;   /* JSON records of config changes and erasures */
		int64_t tick_interval_ms;
		int max_queued_messages; /* producer queue bound; input pauses at half */
	} outputs;

	/* Escalation delivery and evaluation, shared by every rule. */
	struct {
		int max_firings_per_tick; /* new firings per route per tick; the rest wait,
		                           * listed in one storm event; default 10 */
		int64_t lease_ttl_ms;     /* evaluator lease in Redis; default 10s */
		char *source;             /* CloudEvents source; default "/advocacyd/<group id>" */
		bool structured;          /* CloudEvents structured mode; default binary */
	} alerts;

	/* The admin HTTP server (health endpoints and the admin API). */
	struct {
		bool enabled;            /* default true */
		char *listen_host;       /* numeric IPv4 or IPv6 address; default 127.0.0.1 */
		int port;                /* 0: the system picks a free port; default 9464 */
		char *tokens_file;       /* bearer tokens; NULL: every /api/ request gets 403 */
		char *audit_log;         /* JSON lines, one per /api/ request; NULL: none */
		char **open_paths;       /* paths served without a token, from CONFIG_ADMIN_PATHS */
		size_t n_open_paths;
		bool kpi_gauges;         /* KPI values and indices on /metrics; default false */
		struct {
			char *cert_file; /* PEM chain; NULL (with key_file): plain HTTP */
			char *key_file;  /* PEM private key */
		} tls;
	} admin;

	/*
	 * The bias audit: each tick, the disparity ratio of every active KPI per
	 * segment dimension (processors/bias.h). When enabled, each audited KPI
	 * gets one generated rule in bias_audit.rules, with condition
	 * ALERT_COND_BIAS and id "bias.<kpi id>", built from these keys.
	 */
	config_bias_audit bias_audit;

	/* Stopping on SIGTERM or SIGINT. */
	struct {
		int64_t drain_timeout_ms; /* to finish the batch and flush; default 15s */
	} shutdown;

	/* Writer schemas of Confluent-framed Avro input, and output registration. */
	struct {
		char *directory;          /* <id>.avsc files; NULL: none */
		char *url;                /* http:// base URL of a Confluent registry; NULL: none */
		int64_t timeout_ms;       /* per registry request; default 2s */
		int64_t unknown_id_retry_ms; /* an unknown id is looked up again after this; 1m */
	} schema_registry;
} config;

/*
 * Loads and validates the file at path. On success returns 0 and sets *out,
 * which the caller frees with config_free(). On failure returns -1, leaves
 * *out NULL and writes "PATH: KEY.PATH: problem" into errstr. PATH is path,
 * or the KPI catalog that kpi_catalog names when the problem is inside it.
 */
int config_load(const char *path, config **out, char *errstr, size_t errstr_size);

void config_free(config *cfg);

/*
 * Compares the keys that take effect only at restart (kafka.*, redis.*,
 * privacy.key_file and key_id, windows other than allowed_lateness and
 * max_future, the output topics and formats, outputs.max_queued_messages,
 * schema_registry.*,
 * admin.*). Returns 0 when they are equal, or 1 and writes the key path of
 * the first that differs into key.
 */
int config_restart_key_changed(const config *old, const config *next, char *key,
                               size_t key_size);

/* True for the aggregations computed from roster departures, not behaviours. */
static inline bool config_aggregation_reads_departures(kpi_aggregation a)
{
	return a == KPI_AGG_RETENTION || a == KPI_AGG_RETENTION_GAP;
}

/* True when the KPI is computed: its status is active. */
static inline bool config_kpi_active(const config_kpi *k)
{
	return k->status == KPI_STATUS_ACTIVE;
}

const char *config_kpi_status_name(kpi_status s);

/* Parses "90s", "5m", "24h", "7d", "250ms" into milliseconds; -1 if invalid. */
int64_t config_parse_duration(const char *text);

const char *config_quadrant_name(quadrant q);
const char *config_indicator_name(indicator i);
const char *config_aggregation_name(kpi_aggregation a);
const char *config_kpi_kind_name(kpi_kind k);
/*
 * Returns the KPI's formula as one line of text, e.g.
 * "count(recognition_given) / headcount over 7d": the text stored at load
 * (buf is then unused), or for a KPI built without config_load, the text
 * written into buf and cut at size bytes.
 */
const char *config_formula_text(const config *cfg, const config_kpi *k, char *buf, size_t size);
const char *config_scope_kind_name(scope_kind k);
const char *config_alert_condition_name(alert_condition c);

/* True when the bias audit covers KPI k: enabled, k active and not excluded. */
bool config_bias_audited(const config *cfg, const config_kpi *k);

/* The generated bias rule of KPI k, or NULL when k is not audited. */
const config_threshold *config_bias_rule(const config *cfg, const config_kpi *k);
/* "external_sharing"...; NULL for CONSENT_NONE and values out of range. */
const char *config_consent_name(consent_purpose c);
/* "pilot", "growth" or "mature"; NULL for values out of range. */
const char *config_programme_stage_name(programme_stage s);

#endif
