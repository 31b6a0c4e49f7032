/*
 * alert_internal.h - the alert engine's tables, shared by alert.c (evaluation)
 * and alert_state.c (the state text stored in Redis). Not for other modules.
 */
#ifndef ADVOCACY_ALERT_INTERNAL_H
#define ADVOCACY_ALERT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"

#define ALERT_ID_SIZE 600
#define ALERT_STORM_LISTED 100   /* dedup keys listed in one STORM event, at most */

typedef enum alert_phase {
	ALERT_PHASE_INACTIVE,
	ALERT_PHASE_PENDING,
	ALERT_PHASE_FIRING,
} alert_phase;

/* Lowest and highest figure of one dimension of one disparity rule this tick. */
typedef struct alert_range {
	double low, high;
	const char *low_scope, *high_scope; /* borrowed from the tick's updates */
	size_t n;
} alert_range;

typedef struct alert_entry {
	char *key;                 /* NULL: empty slot */
	uint64_t hash;
	const config_kpi *kpi;     /* in the engine's current config */
	const config_threshold *rule;
	const char *window;        /* the KPI's window name */
	const char *scope;         /* inside key, after the rule id's '/' */
	bool is_org;

	/* persisted */
	alert_phase phase;
	bool announced;            /* FIRING was sent, so a RESOLVED is owed */
	int breached_ticks;
	int64_t pending_since_ms;
	int64_t started_at_ms;
	int64_t clear_since_ms;    /* 0: not clear */
	int64_t last_sent_ms;      /* last FIRING, REPEAT or ESCALATED */
	uint32_t repeats;
	int tier;
	double last_value;
	int64_t period;            /* index of the last sampled period, -1 for none */
	int n_samples;
	double mean, var;          /* zscore baseline */
	double *ring;              /* trend: one sample per period, the last `periods` */
	int ring_len;

	/* this tick */
	bool dirty;
	bool observed;
	bool ended;                /* resolved this tick */
	double value;
	double target;             /* effective target of the scope (targets.h) */
	double bound, resolve_bound;
	bool has_baseline;
	double base_mean, base_stddev;
	const char *low_scope, *high_scope;
} alert_entry;

struct alert_engine {
	const config *cfg;
	alert_entry *slots;
	size_t n_slots;            /* power of two, or 0 before the first entry */
	size_t n_entries;
	size_t *rule_base;         /* per KPI: index of its first rule in ranges */
	size_t n_rules;
	alert_range *ranges;       /* n_rules x SCOPE_KIND_COUNT */
	char **removed;            /* keys dropped since the last export */
	size_t n_removed, removed_cap;
	alert_entry **candidates;  /* scratch: firings waiting for announcement */
	size_t cand_cap;
	const char **held;         /* scratch: keys listed in a STORM event */
	char *key_buf;             /* scratch: dedup key of a lookup */
	size_t key_cap;
	int64_t now_ms;
	struct alert_orphan **orphans; /* announced alerts whose rule is gone, see alert_state.c */
	size_t n_orphans, orphans_cap;
};

/* Clears the lifecycle fields of e: inactive, not announced, tier 1. */
void alert_entry_reset(alert_entry *e);

/* Finds or creates the entry of (rule, scope). NULL when out of memory. */
alert_entry *alert_entry_get(alert_engine *a, const config_kpi *kpi,
                             const config_threshold *rule, const char *scope);

/* Frees the key and ring of e and marks its slot empty. */
void alert_entry_free(alert_entry *e);

/* Finds the rule with id in cfg and its KPI. Returns NULL when there is none. */
const config_threshold *alert_find_rule(const config *cfg, const char *id, size_t id_len,
                                        const config_kpi **kpi);

/* True for the same condition and bounds. Owner, route, labels and repeats may differ. */
bool alert_same_rule(const config_threshold *a, const config_threshold *b);

/* Remembers a dropped key (taking it) so that the next export deletes its state. */
int alert_note_removed(alert_engine *a, char *key);
void alert_free_removed(alert_engine *a);

/* Calls emit with event state of e, at a->now_ms. */
void alert_emit(const alert_engine *a, const alert_entry *e, alert_state state,
                int64_t ended_at_ms, alert_emit_cb emit, void *opaque);

/* Emits the RESOLVED events owed by alerts whose rule is gone, then frees them. */
void alert_resolve_orphans(alert_engine *a, alert_emit_cb emit, void *opaque);

/* Frees the orphans without events. */
void alert_free_orphans(alert_engine *a);

#endif
