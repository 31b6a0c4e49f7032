/*
 * report_render.c - one scope of the stored scorecard as a table or JSON
 * (see report_render.h).
 */
#include "report_render.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "scorecard_doc.h"

static const char *const report_quadrants[] = {"financial", "customer", "internal_process",
					       "learning_growth"};
static const char *const report_quadrant_titles[] = {"Financial", "Customer", "Internal process",
						     "Learning & growth"};
#define REPORT_QUADRANTS (sizeof(report_quadrants) / sizeof(report_quadrants[0]))

int64_t report_render_age_seconds(const json_t *doc, int64_t now_ms)
{
	int64_t computed = json_integer_value(json_object_get(doc, "computed_at"));

	return now_ms > computed ? (now_ms - computed) / 1000 : 0;
}

static const char *report_string(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Returns the quadrant of a scope figure, from the document's KPI list. */
static const char *report_figure_quadrant(const json_t *doc, const json_t *figure)
{
	return report_string(scorecard_doc_kpi(doc, report_string(figure, "kpi")), "quadrant");
}

/* Returns 1 when some active KPI of doc belongs to quadrant q, else 0. */
static int report_quadrant_used(const json_t *doc, const char *q)
{
	const json_t *kpi;
	size_t i;

	json_array_foreach(json_object_get(doc, "kpis"), i, kpi) {
		if (strcmp(report_string(kpi, "quadrant"), q) == 0)
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- table */

/*
 * Formats a number. An index or contribution (from 0 to 1) gets 3
 * decimals. A KPI value or target gets 4 significant digits, or is a whole
 * number from 1000 on (a reach of 20000), so it never uses exponent
 * notation. Returns "-" when v is not a finite number.
 */
static const char *report_cell(char *buf, size_t size, bool index, const json_t *v)
{
	double x = json_number_value(v);

	if (!json_is_number(v) || !isfinite(x))
		return "-";
	if (index)
		snprintf(buf, size, "%.3f", x);
	else if (fabs(x) >= 1000 && fabs(x) < 1e15)
		snprintf(buf, size, "%.0f", x);
	else
		snprintf(buf, size, "%.4g", x);
	return buf;
}

static const char *report_state_text(const char *state)
{
	static const char *const names[][2] = {
	    {"on_target", "on target"}, {"below_target", "below target"},
	    {"above_target", "above target"}, {"no_target", "no target"},
	    {"no_value", "no value"},
	    {"suppressed", "suppressed"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(state, names[i][0]) == 0)
			return names[i][1];
	return state;
}

/* Returns the width of the KPI column: the longest KPI id of doc, at least 3 ("KPI"). */
static int report_id_width(const json_t *doc)
{
	const json_t *kpi;
	size_t i, width = 3;

	json_array_foreach(json_object_get(doc, "kpis"), i, kpi) {
		if (strlen(report_string(kpi, "id")) > width)
			width = strlen(report_string(kpi, "id"));
	}
	return (int)width;
}

static void report_table_header(FILE *out, const json_t *doc, const json_t *scope, int64_t now_ms)
{
	time_t t = (time_t)(json_integer_value(json_object_get(doc, "computed_at")) / 1000);
	char when[32] = "?";
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(out, "Scorecard of %s (%s)\n", report_string(scope, "scope"),
		report_string(scope, "scope_kind"));
	fprintf(out, "Computed %s, %" PRId64 " s ago, config version %s\n", when,
		report_render_age_seconds(doc, now_ms), report_string(doc, "config_version"));
}

static void report_table_row(FILE *out, int width, const json_t *figure)
{
	char value[32], target[32], part[32];

	fprintf(out, "  %-*s  %10s  %10s  %-12s  %12s\n", width, report_string(figure, "kpi"),
		report_cell(value, sizeof(value), false, json_object_get(figure, "value")),
		report_cell(target, sizeof(target), false, json_object_get(figure, "target")),
		report_state_text(report_string(figure, "state")),
		report_cell(part, sizeof(part), true, json_object_get(figure, "contribution")));
}

/* Prints quadrant q of scope: its sub-index, then one row per KPI figure. */
static void report_table_quadrant(FILE *out, const json_t *doc, const json_t *scope, size_t q,
				  int width)
{
	const json_t *figure;
	char sub[32];
	size_t i;
	int rows = 0;

	fprintf(
	    out, "\n%s: sub-index %s\n", report_quadrant_titles[q],
	    report_cell(sub, sizeof(sub), true,
			json_object_get(json_object_get(scope, "quadrants"), report_quadrants[q])));
	json_array_foreach(json_object_get(scope, "kpis"), i, figure) {
		if (strcmp(report_figure_quadrant(doc, figure), report_quadrants[q]) != 0)
			continue;
		if (rows++ == 0)
			fprintf(out, "  %-*s  %10s  %10s  %-12s  %12s\n", width, "KPI", "value",
				"target", "state", "contribution");
		report_table_row(out, width, figure);
	}
	if (rows == 0)
		fprintf(out, "  no figure for this scope yet\n");
}

int report_render_table(FILE *out, const json_t *doc, const json_t *scope, int64_t now_ms)
{
	int width = report_id_width(doc);
	char index[32];

	report_table_header(out, doc, scope, now_ms);
	if (json_is_true(json_object_get(scope, "suppressed"))) {
		fprintf(out,
			"Suppressed: the scope or one of its siblings has fewer people than the "
			"minimum group size (%" PRId64 "), so no figure is shown.\n",
			(int64_t)json_integer_value(json_object_get(doc, "min_group_size")));
		return ferror(out) ? -1 : 0;
	}
	fprintf(out, "Advocacy index: %s\n",
		report_cell(index, sizeof(index), true, json_object_get(scope, "index")));
	for (size_t q = 0; q < REPORT_QUADRANTS; q++)
		if (report_quadrant_used(doc, report_quadrants[q]))
			report_table_quadrant(out, doc, scope, q, width);
	return ferror(out) ? -1 : 0;
}

/* ---------------------------------------------------------------- JSON */

/* Copies member key of src into dst. A missing member becomes null. */
static int report_copy(json_t *dst, const json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	return json_object_set_new(dst, key, v ? json_deep_copy(v) : json_null());
}

/* Returns a new number from member key of o, or null when it is not a number. */
static json_t *report_number(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_real(json_number_value(v)) : json_null();
}

/* Builds one KPI of the JSON form: its definition from doc, its figure from scope. */
static json_t *report_json_figure(const json_t *doc, const json_t *figure)
{
	const json_t *kpi = scorecard_doc_kpi(doc, report_string(figure, "kpi"));
	json_t *o = json_object();
	int rc = 0;

	rc |= report_copy(o, figure, "kpi");
	rc |= report_copy(o, kpi, "name");
	rc |= report_copy(o, kpi, "indicator");
	rc |= report_copy(o, kpi, "window");
	rc |= report_copy(o, kpi, "weight");
	rc |= report_copy(o, figure, "state");
	if (strcmp(report_string(figure, "state"), "suppressed") != 0) {
		rc |= report_copy(o, figure, "value");
		rc |= report_copy(o, figure, "target");
		rc |= report_copy(o, figure, "contribution");
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *report_json_quadrant(const json_t *doc, const json_t *scope, size_t q)
{
	json_t *o = json_object(), *kpis = json_array();
	const json_t *figure;
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(scope, "kpis"), i, figure) {
		if (strcmp(report_figure_quadrant(doc, figure), report_quadrants[q]) == 0)
			rc |= json_array_append_new(kpis, report_json_figure(doc, figure));
	}
	rc |= json_object_set_new(o, "quadrant", json_string(report_quadrants[q]));
	rc |= json_object_set_new(
	    o, "sub_index",
	    report_number(json_object_get(scope, "quadrants"), report_quadrants[q]));
	rc |= json_object_set_new(o, "kpis", kpis);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *report_json_quadrants(const json_t *doc, const json_t *scope)
{
	json_t *list = json_array();

	for (size_t q = 0; list && q < REPORT_QUADRANTS; q++) {
		if (!report_quadrant_used(doc, report_quadrants[q]))
			continue;
		if (json_array_append_new(list, report_json_quadrant(doc, scope, q)) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

json_t *report_render_json(const json_t *doc, const json_t *scope, int64_t now_ms)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= report_copy(o, scope, "scope");
	rc |= report_copy(o, scope, "scope_kind");
	rc |= json_object_set_new(o, "suppressed",
				  json_boolean(json_is_true(json_object_get(scope, "suppressed"))));
	rc |= report_copy(o, doc, "computed_at");
	rc |= json_object_set_new(o, "age_seconds",
				  json_integer(report_render_age_seconds(doc, now_ms)));
	rc |= report_copy(o, doc, "config_version");
	rc |= report_copy(o, doc, "min_group_size");
	if (!json_is_true(json_object_get(scope, "suppressed"))) {
		rc |= report_copy(o, scope, "index");
		rc |= json_object_set_new(o, "quadrants", report_json_quadrants(doc, scope));
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}
