/*
 * catalog.c - catalog summaries and governance records (see catalog.h).
 *
 * Field digests are the first 4 bytes of the SHA-256 of the field's
 * canonical text (numbers as %.17g, lists joined with ','), and the entry
 * digest the first 8 bytes of the SHA-256 over "name=field digest" lines
 * in a fixed order. Two different texts of a field collide with
 * probability 2^-32. Such a collision would hide that field's name from
 * the "changed" list, but the entry digest still differs, so the item
 * itself is listed.
 *
 * Runs at start and on reload only, so it favours plain code over speed.
 */
#include "catalog.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#define CATALOG_TEXT_MAX 2048
#define CATALOG_FIELD_BYTES 4
#define CATALOG_ENTRY_BYTES 8

enum { CATALOG_ADDED, CATALOG_CHANGED, CATALOG_RETIRED, CATALOG_REMOVED, CATALOG_LISTS };
static const char *const catalog_list_names[CATALOG_LISTS] = {"added", "changed", "retired",
							      "removed"};

/* Writes the hex of the first n bytes of the SHA-256 of text into out (2n + 1 bytes). */
static void catalog_digest(const char *text, size_t n, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!EVP_Digest(text, strlen(text), md, &md_len, EVP_sha256(), NULL))
		memset(md, 0, sizeof md);
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Adds field name with the digest of text to fields, and "name=digest\n" to all. */
static int catalog_add_field(json_t *fields, char *all, size_t all_size, const char *name,
			     const char *text)
{
	char digest[2 * CATALOG_FIELD_BYTES + 1];
	size_t used = strlen(all);

	catalog_digest(text ? text : "", CATALOG_FIELD_BYTES, digest);
	snprintf(all + used, all_size - used, "%s=%s\n", name, digest);
	return json_object_set_new(fields, name, json_string(digest));
}

static int catalog_add_number(json_t *fields, char *all, size_t all_size, const char *name,
			      double value)
{
	char text[64];

	snprintf(text, sizeof text, "%.17g", value);
	return catalog_add_field(fields, all, all_size, name, text);
}

static json_t *catalog_text_or_null(const char *text)
{
	return text ? json_string(text) : json_null();
}

/* Builds the entry from its fields: digest, fields, status, owner, rationale. */
static json_t *catalog_entry(json_t *fields, const char *all, const char *status,
			     const char *owner, const char *rationale)
{
	char digest[2 * CATALOG_ENTRY_BYTES + 1];
	json_t *e = json_object();

	catalog_digest(all, CATALOG_ENTRY_BYTES, digest);
	if (!e || json_object_set_new(e, "digest", json_string(digest)) < 0 ||
	    json_object_set_new(e, "fields", fields) < 0 ||
	    json_object_set_new(e, "status", json_string(status)) < 0 ||
	    json_object_set_new(e, "owner", catalog_text_or_null(owner)) < 0 ||
	    json_object_set_new(e, "rationale", catalog_text_or_null(rationale)) < 0) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static void catalog_join_behaviours(const config *cfg, const config_kpi *k, char *out,
				    size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < k->n_behaviours && used < size; i++) {
		int n = snprintf(out + used, size - used, "%s%s", i ? "," : "",
				 cfg->behaviours[k->behaviours[i]].id);
		if (n > 0)
			used += (size_t)n;
	}
}

/* Appends "name=value;" to out (size bytes) at *used, cutting at the end. */
static void catalog_append_named(char *out, size_t size, size_t *used, const char *name,
				 double value)
{
	int n;

	if (*used >= size)
		return;
	n = snprintf(out + *used, size - *used, "%s=%.17g;", name, value);
	if (n > 0)
		*used = *used + (size_t)n < size ? *used + (size_t)n : size;
}

/* The KPI's per-scope targets as one line, e.g. "segments.frontline=0.15;industry=0.4;". */
static void catalog_join_targets(const config_kpi *k, char *out, size_t size)
{
	const config_kpi_targets *t = &k->targets;
	char name[CATALOG_TEXT_MAX];
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->n_scopes; i++) {
		snprintf(name, sizeof name, "scopes.%s", t->scopes[i].name);
		catalog_append_named(out, size, &used, name, t->scopes[i].value);
	}
	for (size_t i = 0; i < t->n_segments; i++) {
		snprintf(name, sizeof name, "segments.%s", t->segments[i].name);
		catalog_append_named(out, size, &used, name, t->segments[i].value);
	}
	for (int i = 0; i < PROGRAMME_STAGE_COUNT; i++) {
		if (!t->has_maturity[i])
			continue;
		snprintf(name, sizeof name, "maturity.%s",
			 config_programme_stage_name((programme_stage)i));
		catalog_append_named(out, size, &used, name, t->maturity[i]);
	}
	if (t->has_industry)
		catalog_append_named(out, size, &used, "industry", t->industry);
}

/* Adds the fields a KPI has only when given, so that other KPIs keep their digests. */
static int catalog_add_optional_kpi_fields(json_t *f, char *all, size_t all_size,
					   const config_kpi *k)
{
	char text[CATALOG_TEXT_MAX];
	int rc = 0;

	if (k->split_by_id)
		rc |= catalog_add_field(f, all, all_size, "split_by", k->split_by_id);
	if (k->has_split_threshold)
		rc |= catalog_add_number(f, all, all_size, "split_threshold", k->split_threshold);
	catalog_join_targets(k, text, sizeof text);
	if (text[0])
		rc |= catalog_add_field(f, all, all_size, "targets", text);
	if (k->benchmark.given) {
		snprintf(text, sizeof text, "%.17g..%.17g", k->benchmark.low, k->benchmark.high);
		rc |= catalog_add_field(f, all, all_size, "benchmark", text);
	}
	if (k->lower_is_better)
		rc |= catalog_add_field(f, all, all_size, "better", "lower");
	return rc;
}

static json_t *catalog_kpi_entry(const config *cfg, const config_kpi *k)
{
	char all[CATALOG_TEXT_MAX] = "", behaviours[CATALOG_TEXT_MAX], buf[CATALOG_TEXT_MAX];
	json_t *f = json_object();
	const char *status = config_kpi_status_name(k->status);
	int rc;

	if (!f)
		return NULL;
	const char *formula = config_formula_text(cfg, k, buf, sizeof buf);

	catalog_join_behaviours(cfg, k, behaviours, sizeof behaviours);
	rc = catalog_add_field(f, all, sizeof all, "name", k->name) |
	     catalog_add_field(f, all, sizeof all, "behaviours", behaviours) |
	     catalog_add_field(f, all, sizeof all, "aggregation",
			       config_aggregation_name(k->aggregation)) |
	     catalog_add_field(f, all, sizeof all, "window", cfg->windows.windows[k->window].name) |
	     catalog_add_field(f, all, sizeof all, "formula", formula) |
	     catalog_add_field(f, all, sizeof all, "kind", config_kpi_kind_name(k->kind)) |
	     catalog_add_field(f, all, sizeof all, "unit", k->unit) |
	     catalog_add_field(f, all, sizeof all, "quadrant", config_quadrant_name(k->quadrant)) |
	     catalog_add_field(f, all, sizeof all, "indicator",
			       config_indicator_name(k->indicator)) |
	     catalog_add_number(f, all, sizeof all, "weight", k->weight) |
	     catalog_add_number(f, all, sizeof all, "target", k->target) |
	     catalog_add_field(f, all, sizeof all, "status", status) |
	     catalog_add_field(f, all, sizeof all, "owner", k->owner) |
	     catalog_add_field(f, all, sizeof all, "rationale", k->rationale);
	rc |= catalog_add_optional_kpi_fields(f, all, sizeof all, k);
	if (rc < 0) {
		json_decref(f);
		return NULL;
	}
	return catalog_entry(f, all, status, k->owner, k->rationale);
}

static void catalog_join_scopes(uint32_t bits, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int k = 0; k < SCOPE_KIND_COUNT && used < size; k++) {
		if (!(bits & (1u << k)))
			continue;
		int n = snprintf(out + used, size - used, "%s%s", used ? "," : "",
				 config_scope_kind_name((scope_kind)k));
		if (n > 0)
			used += (size_t)n;
	}
}

static int catalog_add_duration(json_t *fields, char *all, size_t all_size, const char *name,
				int64_t ms)
{
	char text[32];

	snprintf(text, sizeof text, "%lld", (long long)ms);
	return catalog_add_field(fields, all, all_size, name, text);
}

static int catalog_label_cmp(const void *x, const void *y)
{
	const config_kv *a = *(const config_kv *const *)x, *b = *(const config_kv *const *)y;

	return strcmp(a->key, b->key);
}

/*
 * Returns the labels as "name=value" joined with ',' in name order, so that
 * reordering them in the file changes nothing; NULL when out of memory.
 */
static char *catalog_join_labels(const config_threshold *t)
{
	const config_kv **sorted = calloc(t->n_labels ? t->n_labels : 1, sizeof *sorted);
	size_t size = 1, used = 0;
	char *out;

	for (size_t i = 0; i < t->n_labels; i++)
		size += strlen(t->labels[i].key) + strlen(t->labels[i].value) + 2;
	out = malloc(size);
	if (!sorted || !out) {
		free(sorted);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < t->n_labels; i++)
		sorted[i] = &t->labels[i];
	qsort(sorted, t->n_labels, sizeof *sorted, catalog_label_cmp);
	out[0] = '\0';
	for (size_t i = 0; i < t->n_labels; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s=%s", i ? "," : "",
					 sorted[i]->key, sorted[i]->value);
	free(sorted);
	return out;
}

static int catalog_add_labels(json_t *fields, char *all, size_t all_size, const config_threshold *t)
{
	char *labels = catalog_join_labels(t);
	int rc;

	if (!labels)
		return -1;
	rc = catalog_add_field(fields, all, all_size, "labels", labels);
	free(labels);
	return rc;
}

/* The route a rule has when none is written: its owner, else "default" (see config.h). */
static bool catalog_route_is_default(const config_threshold *t)
{
	return strcmp(t->route, t->owner ? t->owner : "default") == 0;
}

/*
 * Adds the rule's escalation fields that differ from their defaults. A field
 * at its default is left out, so an upgrade that adds fields lists no rule
 * as changed. Removing a field from the file then shows as that field
 * changed. period and periods are added for zscore and trend rules, and
 * min_sample for disparity rules.
 */
static int catalog_add_rule_options(json_t *f, char *all, size_t size, const config_threshold *t)
{
	bool history = t->condition == ALERT_COND_ZSCORE || t->condition == ALERT_COND_TREND;
	char number[16];
	int rc = 0;

	if (t->condition != ALERT_COND_THRESHOLD)
		rc |= catalog_add_field(f, all, size, "condition",
					config_alert_condition_name(t->condition));
	if (t->resolve_value != t->value)
		rc |= catalog_add_number(f, all, size, "resolve_value", t->resolve_value);
	if (t->for_ms)
		rc |= catalog_add_duration(f, all, size, "for", t->for_ms);
	if (t->keep_firing_for_ms)
		rc |= catalog_add_duration(f, all, size, "keep_firing_for", t->keep_firing_for_ms);
	if (t->repeat_interval_ms)
		rc |= catalog_add_duration(f, all, size, "repeat_interval", t->repeat_interval_ms);
	if (history) {
		snprintf(number, sizeof number, "%d", t->periods);
		rc |= catalog_add_duration(f, all, size, "period", t->period_ms) |
		      catalog_add_field(f, all, size, "periods", number);
	}
	if (t->condition == ALERT_COND_DISPARITY) {
		snprintf(number, sizeof number, "%d", t->min_sample);
		rc |= catalog_add_field(f, all, size, "min_sample", number);
	}
	if (!catalog_route_is_default(t))
		rc |= catalog_add_field(f, all, size, "route", t->route);
	if (t->runbook_url)
		rc |= catalog_add_field(f, all, size, "runbook_url", t->runbook_url);
	if (t->n_labels)
		rc |= catalog_add_labels(f, all, size, t);
	if (t->escalate_after_ms)
		rc |= catalog_add_duration(f, all, size, "escalate.after", t->escalate_after_ms) |
		      catalog_add_field(f, all, size, "escalate.owner", t->escalate_owner) |
		      catalog_add_field(f, all, size, "escalate.severity", t->escalate_severity);
	return rc;
}

/* A rule has its KPI's status: a retired KPI's rules never fire. */
static json_t *catalog_rule_entry(const config_kpi *k, const config_threshold *t)
{
	char all[CATALOG_TEXT_MAX] = "", scopes[256], ticks[16];
	json_t *f = json_object(), *e;
	const char *status = config_kpi_status_name(k->status);
	int rc;

	if (!f)
		return NULL;
	catalog_join_scopes(t->scope_kinds, scopes, sizeof scopes);
	snprintf(ticks, sizeof ticks, "%d", t->for_ticks);
	rc = catalog_add_field(f, all, sizeof all, "kpi", k->id) |
	     catalog_add_field(f, all, sizeof all, "direction",
			       t->direction == THRESHOLD_ABOVE ? "above" : "below") |
	     catalog_add_number(f, all, sizeof all, "value", t->value) |
	     catalog_add_field(f, all, sizeof all, "for_ticks", ticks) |
	     catalog_add_field(f, all, sizeof all, "severity", t->severity) |
	     catalog_add_field(f, all, sizeof all, "scopes", scopes) |
	     catalog_add_field(f, all, sizeof all, "status", status) |
	     catalog_add_field(f, all, sizeof all, "owner", t->owner) |
	     catalog_add_field(f, all, sizeof all, "rationale", t->rationale) |
	     catalog_add_rule_options(f, all, sizeof all, t);
	if (rc < 0) {
		json_decref(f);
		return NULL;
	}
	e = catalog_entry(f, all, status, t->owner, t->rationale);
	if (e && json_object_set_new(e, "kpi", json_string(k->id)) < 0) {
		json_decref(e);
		return NULL;
	}
	return e;
}

/* Adds entry under "<prefix><id>"; takes the reference to entry. */
static int catalog_put(json_t *summary, const char *prefix, const char *id, json_t *entry)
{
	char key[CATALOG_TEXT_MAX];

	if (!entry)
		return -1;
	snprintf(key, sizeof key, "%s%s", prefix, id);
	return json_object_set_new(summary, key, entry);
}

json_t *catalog_summary(const config *cfg)
{
	json_t *summary = json_object();

	for (size_t i = 0; summary && i < cfg->n_kpis; i++) {
		const config_kpi *k = &cfg->kpis[i];
		int rc = catalog_put(summary, "k:", k->id, catalog_kpi_entry(cfg, k));
		for (size_t j = 0; rc == 0 && j < k->n_thresholds; j++)
			rc = catalog_put(summary, "r:", k->thresholds[j].id,
					 catalog_rule_entry(k, &k->thresholds[j]));
		if (rc < 0) {
			json_decref(summary);
			return NULL;
		}
	}
	return summary;
}

json_t *catalog_summary_parse(const char *const *names, const char *const *values, size_t n)
{
	json_t *summary = json_object();

	for (size_t i = 0; summary && i < n; i++) {
		if (strncmp(names[i], "k:", 2) != 0 && strncmp(names[i], "r:", 2) != 0)
			continue;
		json_t *entry = json_loads(values[i], 0, NULL);
		if (!json_is_object(entry)) {
			json_decref(entry);
			continue;
		}
		if (json_object_set_new(summary, names[i], entry) < 0) {
			json_decref(summary);
			return NULL;
		}
	}
	return summary;
}

/* ------------------------------------------------------------------ diff */

static const char *catalog_str(const json_t *entry, const char *key)
{
	return json_string_value(json_object_get(entry, key));
}

/* The field names whose digests differ between a and b, in b's order, then a's. */
static json_t *catalog_changed_fields(const json_t *a, const json_t *b)
{
	const json_t *fa = json_object_get(a, "fields"), *fb = json_object_get(b, "fields");
	json_t *names = json_array();
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)fb, name, v)
		if (!json_equal(v, json_object_get(fa, name)))
			json_array_append_new(names, json_string(name));
	json_object_foreach((json_t *)fa, name, v)
		if (!json_object_get(fb, name))
			json_array_append_new(names, json_string(name));
	return names;
}

/* One list item: id, owner and rationale as in entry, the KPI of a rule. */
static json_t *catalog_item(const char *key, const json_t *entry)
{
	json_t *item = json_object();
	json_t *owner = json_object_get(entry, "owner");
	json_t *rationale = json_object_get(entry, "rationale");

	json_object_set_new(item, "id", json_string(key + 2));
	json_object_set_new(item, "owner", json_is_string(owner) ? json_copy(owner) : json_null());
	json_object_set_new(item, "rationale",
			    json_is_string(rationale) ? json_copy(rationale) : json_null());
	if (catalog_str(entry, "kpi"))
		json_object_set_new(item, "kpi", json_string(catalog_str(entry, "kpi")));
	return item;
}

static bool catalog_turned_retired(const json_t *old, const json_t *next)
{
	const char *was = catalog_str(old, "status"), *now = catalog_str(next, "status");

	return now && strcmp(now, "retired") == 0 && (!was || strcmp(was, "retired") != 0);
}

/* Orders list items by id. */
static int catalog_item_cmp(const void *x, const void *y)
{
	const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;

	return strcmp(catalog_str(a, "id"), catalog_str(b, "id"));
}

static void catalog_sort(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **items = calloc(n ? n : 1, sizeof(*items));

	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, n, sizeof(*items), catalog_item_cmp);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
}

/* Sorts an item of key (in next, or only in old) into the section's lists. */
static void catalog_classify(json_t *lists[CATALOG_LISTS], const char *key, const json_t *old,
			     const json_t *next)
{
	json_t *item;

	if (!old) {
		json_array_append_new(lists[CATALOG_ADDED], catalog_item(key, next));
		return;
	}
	if (!next) {
		json_array_append_new(lists[CATALOG_REMOVED], catalog_item(key, old));
		return;
	}
	if (json_equal(json_object_get(old, "digest"), json_object_get(next, "digest")))
		return;
	if (catalog_turned_retired(old, next)) {
		json_array_append_new(lists[CATALOG_RETIRED], catalog_item(key, next));
		return;
	}
	item = catalog_item(key, next);
	json_object_set_new(item, "fields", catalog_changed_fields(old, next));
	json_array_append_new(lists[CATALOG_CHANGED], item);
}

static json_t *catalog_section(json_t *lists[CATALOG_LISTS])
{
	json_t *section = json_object();

	for (int i = 0; i < CATALOG_LISTS; i++) {
		catalog_sort(lists[i]);
		json_object_set_new(section, catalog_list_names[i], lists[i]);
	}
	return section;
}

/* Fills the KPI lists (section 0) and the rule lists (section 1). */
static void catalog_diff(const json_t *old, const json_t *next,
			 json_t *lists[2][CATALOG_LISTS])
{
	const char *key;
	json_t *entry;

	json_object_foreach((json_t *)next, key, entry)
		catalog_classify(lists[key[0] == 'r'], key, json_object_get(old, key), entry);
	json_object_foreach((json_t *)old, key, entry)
		if (!json_object_get(next, key))
			catalog_classify(lists[key[0] == 'r'], key, entry, NULL);
}

json_t *catalog_record(const json_t *old, const char *old_version, const json_t *next,
		       const char *next_version, const char *applied_at, const char *instance)
{
	json_t *lists[2][CATALOG_LISTS];
	json_t *record = json_object();

	for (int s = 0; s < 2; s++)
		for (int i = 0; i < CATALOG_LISTS; i++)
			lists[s][i] = json_array();
	catalog_diff(old, next, lists);
	json_object_set_new(record, "type", json_string("config_applied"));
	json_object_set_new(record, "config_version", json_string(next_version));
	json_object_set_new(record, "previous_version", catalog_text_or_null(old_version));
	json_object_set_new(record, "applied_at", json_string(applied_at));
	json_object_set_new(record, "instance", json_string(instance));
	json_object_set_new(record, "kpis", catalog_section(lists[0]));
	json_object_set_new(record, "rules", catalog_section(lists[1]));
	return record;
}

const char *catalog_format_time(int64_t ms, char *buf, size_t size)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return buf;
}
