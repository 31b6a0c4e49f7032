/*
 * scorecard_doc.c - the scorecard document for `advocacyd report` (see scorecard_doc.h).
 *
 * The scorecard's JSON is KPI-major ("kpis" -> "scopes"), with the index
 * apart in "scopes_index". The document is scope-major, because the report
 * shows one scope. The build walks "scopes_index" once to create the
 * scopes, then each KPI's figures once. A JSON object used as a hash table
 * finds each figure's scope, so that step grows with KPIs times scopes and
 * not with the square of the scope count. Matching contributions to
 * figures scans the scope's figures, which costs KPIs squared per scope.
 */
#include "scorecard_doc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Returns a copy of the number v as a real, or null when v is not a number. */
static json_t *scorecard_doc_number(const json_t *v)
{
	return json_is_number(v) ? json_real(json_number_value(v)) : json_null();
}

/* Copies member key of src to dst as a string ("" when absent). */
static int scorecard_doc_copy_string(json_t *dst, const json_t *src, const char *key)
{
	const char *s = json_string_value(json_object_get(src, key));

	return json_object_set_new(dst, key, json_string(s ? s : ""));
}

/* Returns the state of a figure against its target, as listed in scorecard_doc.h. */
static const char *scorecard_doc_state(const json_t *kpi, const json_t *value,
				       const json_t *target)
{
	double v = json_number_value(value), t = json_number_value(target);
	const char *better = json_string_value(json_object_get(kpi, "better"));

	if (!json_is_number(value) || !isfinite(v))
		return "no_value";
	if (!json_is_number(target) || !(t > 0))
		return "no_target";
	if (better && strcmp(better, "lower") == 0)
		return v <= t ? "on_target" : "above_target";
	return v >= t ? "on_target" : "below_target";
}

static int scorecard_doc_kpi_active(const json_t *kpi)
{
	const char *status = json_string_value(json_object_get(kpi, "status"));

	return !status || strcmp(status, "active") == 0;
}

/* Builds the document's "kpis" list: the definitions of the active KPIs. */
static json_t *scorecard_doc_kpis(const json_t *card_kpis)
{
	static const char *const strings[] = {"id", "name", "quadrant", "indicator", "window"};
	json_t *list = json_array();
	size_t i;
	const json_t *kpi;

	json_array_foreach(card_kpis, i, kpi) {
		json_t *o;
		int rc = 0;
		if (!scorecard_doc_kpi_active(kpi))
			continue;
		o = json_object();
		for (size_t s = 0; o && s < sizeof(strings) / sizeof(strings[0]); s++)
			rc |= scorecard_doc_copy_string(o, kpi, strings[s]);
		rc |= json_object_set_new(o, "weight",
					  scorecard_doc_number(json_object_get(kpi, "weight")));
		rc |= json_object_set_new(o, "target",
					  scorecard_doc_number(json_object_get(kpi, "target")));
		if (!o || rc || json_array_append_new(list, o) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* Builds a document scope from its "scopes_index" entry, without figures yet. */
static json_t *scorecard_doc_scope_new(const json_t *index)
{
	json_t *o = json_object(), *quadrants = json_object();
	const json_t *q = json_object_get(index, "quadrants");
	const char *name;
	const json_t *v;
	int rc = 0;

	rc |= scorecard_doc_copy_string(o, index, "scope");
	rc |= scorecard_doc_copy_string(o, index, "scope_kind");
	if (json_is_true(json_object_get(index, "suppressed"))) {
		/* Every figure of the scope is suppressed, so keep its name and kind only. */
		json_decref(quadrants);
		rc |= json_object_set_new(o, "suppressed", json_true());
		goto out;
	}
	rc |= json_object_set_new(o, "suppressed", json_false());
	rc |=
	    json_object_set_new(o, "index", scorecard_doc_number(json_object_get(index, "index")));
	json_object_foreach((json_t *)q, name, v) {
		rc |= json_object_set_new(quadrants, name, scorecard_doc_number(v));
	}
	rc |= json_object_set_new(o, "quadrants", quadrants);
	rc |= json_object_set_new(o, "kpis", json_array());
out:
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Builds one figure of a document scope from a scorecard KPI and its scope entry e. */
static json_t *scorecard_doc_figure(const json_t *kpi, const json_t *e)
{
	const json_t *value = json_object_get(e, "value");
	const json_t *target = json_object_get(e, "target");
	const char *id = json_string_value(json_object_get(kpi, "id"));
	json_t *o = json_object();
	int rc = 0;

	rc |= json_object_set_new(o, "kpi", json_string(id ? id : ""));
	if (json_is_true(json_object_get(e, "suppressed"))) {
		rc |= json_object_set_new(o, "state", json_string("suppressed"));
		goto out;
	}
	/* A per-scope target, when scorecard.c gives one, wins over the KPI's. */
	if (!json_is_number(target))
		target = json_object_get(kpi, "target");
	rc |= json_object_set_new(o, "state", json_string(scorecard_doc_state(kpi, value, target)));
	rc |= json_object_set_new(o, "value", scorecard_doc_number(value));
	rc |= json_object_set_new(o, "target", scorecard_doc_number(target));
	rc |= json_object_set_new(o, "contribution", json_null());
out:
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Appends the figures of one scorecard KPI to the scopes of by_scope. */
static int scorecard_doc_add_figures(json_t *by_scope, const json_t *kpi)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(kpi, "scopes"), i, e) {
		const char *name = json_string_value(json_object_get(e, "scope"));
		json_t *scope = name ? json_object_get(by_scope, name) : NULL;
		if (!scope)
			continue; /* suppressed as a whole: no figure at all */
		if (json_array_append_new(json_object_get(scope, "kpis"),
					  scorecard_doc_figure(kpi, e)) < 0)
			return -1;
	}
	return 0;
}

/* Sets each figure's contribution from the scope's "contributions" list. */
static void scorecard_doc_add_contributions(json_t *scope, const json_t *index)
{
	json_t *figures = json_object_get(scope, "kpis"), *f;
	const json_t *c;
	size_t i, j;

	json_array_foreach(json_object_get(index, "contributions"), i, c) {
		const char *kpi = json_string_value(json_object_get(c, "kpi"));
		json_array_foreach(figures, j, f) {
			const char *id = json_string_value(json_object_get(f, "kpi"));
			if (kpi && id && strcmp(kpi, id) == 0)
				json_object_set_new(
				    f, "contribution",
				    scorecard_doc_number(json_object_get(c, "contribution")));
		}
	}
}

/* Builds the "scopes" list: one entry per "scopes_index" entry, with its figures. */
static json_t *scorecard_doc_scopes(const json_t *card)
{
	const json_t *index_list = json_object_get(card, "scopes_index");
	json_t *scopes = json_array(), *by_scope = json_object();
	const json_t *index, *kpi;
	size_t i;

	if (!scopes || !by_scope)
		goto fail;
	json_array_foreach(index_list, i, index) {
		json_t *scope = scorecard_doc_scope_new(index);
		if (!scope || json_array_append_new(scopes, scope) < 0)
			goto fail;
		if (!json_is_true(json_object_get(scope, "suppressed")) &&
		    json_object_set(by_scope, json_string_value(json_object_get(scope, "scope")),
				    scope) < 0)
			goto fail;
	}
	json_array_foreach(json_object_get(card, "kpis"), i, kpi) {
		if (scorecard_doc_kpi_active(kpi) && scorecard_doc_add_figures(by_scope, kpi) < 0)
			goto fail;
	}
	json_array_foreach(index_list, i, index) {
		if (!json_is_true(json_object_get(json_array_get(scopes, i), "suppressed")))
			scorecard_doc_add_contributions(json_array_get(scopes, i), index);
	}
	json_decref(by_scope);
	return scopes;

fail:
	json_decref(by_scope);
	json_decref(scopes);
	return NULL;
}

json_t *scorecard_doc_build(const json_t *card, const scorecard_doc_meta *meta)
{
	json_t *doc = NULL;
	int rc = 0;

	if (!json_is_array(json_object_get(card, "kpis")) ||
	    !json_is_array(json_object_get(card, "scopes_index")))
		return NULL;
	doc = json_object();
	if (!doc)
		return NULL;
	rc |= json_object_set_new(doc, "format", json_integer(SCORECARD_DOC_FORMAT));
	rc |= json_object_set_new(doc, "computed_at", json_integer(meta->computed_at_ms));
	rc |= json_object_set_new(doc, "config_version",
				  json_string(meta->config_version ? meta->config_version : ""));
	rc |= json_object_set_new(doc, "tick_interval_ms", json_integer(meta->tick_interval_ms));
	rc |= json_object_set_new(doc, "min_group_size",
				  json_copy(json_object_get(card, "min_group_size")));
	rc |= json_object_set_new(doc, "kpis", scorecard_doc_kpis(json_object_get(card, "kpis")));
	rc |= json_object_set_new(doc, "scopes", scorecard_doc_scopes(card));
	if (rc) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* ---------------------------------------------------------------- reading */

int scorecard_doc_check(const json_t *doc, char *errstr, size_t errstr_size)
{
	const json_t *format = json_object_get(doc, "format");

	if (!json_is_object(doc)) {
		snprintf(errstr, errstr_size, "not a JSON object");
		return -1;
	}
	if (!json_is_integer(format) || json_integer_value(format) != SCORECARD_DOC_FORMAT) {
		snprintf(errstr, errstr_size,
			 "format is not %d, so the document was written by another "
			 "version of advocacyd. Run the report with the advocacyd "
			 "binary of the running daemon",
			 SCORECARD_DOC_FORMAT);
		return -1;
	}
	if (!json_is_integer(json_object_get(doc, "computed_at")) ||
	    !json_is_array(json_object_get(doc, "kpis")) ||
	    !json_is_array(json_object_get(doc, "scopes"))) {
		snprintf(errstr, errstr_size,
			 "\"computed_at\" (integer), \"kpis\" or \"scopes\" (arrays) "
			 "is missing or of the wrong type. The next tick of the daemon "
			 "replaces the document");
		return -1;
	}
	return 0;
}

/* Returns the element of list whose member key is the string value, or NULL. */
static const json_t *scorecard_doc_find(const json_t *list, const char *key, const char *value)
{
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		const char *s = json_string_value(json_object_get(e, key));
		if (s && strcmp(s, value) == 0)
			return e;
	}
	return NULL;
}

const json_t *scorecard_doc_scope(const json_t *doc, const char *scope)
{
	return scorecard_doc_find(json_object_get(doc, "scopes"), "scope", scope);
}

const json_t *scorecard_doc_kpi(const json_t *doc, const char *id)
{
	return scorecard_doc_find(json_object_get(doc, "kpis"), "id", id);
}
