/*
 * metrics.c - the metrics registry and the Prometheus text format (see metrics.h).
 *
 * Families form a list in the order they were made. Each family keeps an
 * array of pointers to its series, each series allocated once with copies
 * of its label values, so pointers handed out stay valid while the array
 * grows. A series stores the 64-bit FNV-1a hash of its label values, and a
 * lookup compares hashes first and strings only on a hash match.
 *
 * The rendered text goes into one buffer owned by the registry that grows
 * to the largest scrape and is reused, so a steady scrape does not allocate.
 *
 * Limits: a lookup walks the family's series, which is fine for the
 * hundreds of partitions or reasons a daemon has, but it is not meant for
 * per-event calls. Families are never removed. A series is only hidden
 * (metrics_family_hide) and its memory kept until metrics_free().
 */
#include "metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

typedef enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
} metrics_type;

struct metrics_series {
	uint64_t hash;
	bool visible;
	double value;                 /* counter or gauge */
	double sum;                   /* histogram */
	uint64_t count;               /* histogram */
	uint64_t *buckets;            /* histogram: n_bounds + 1 counts, not cumulative */
	size_t n_bounds;
	const double *bounds;         /* the family's */
	char *values[METRICS_MAX_LABELS];
};

struct metrics_family {
	metrics_type type;
	char *name;
	char *help;
	char *labels[METRICS_MAX_LABELS];
	size_t n_labels;
	double bounds[METRICS_MAX_BUCKETS];
	size_t n_bounds;
	metrics_series **series;
	size_t n_series;
	size_t cap_series;
	bool warned_full;
	struct metrics_family *next;
};

struct metrics {
	metrics_family *first;
	metrics_family *last;
	metrics_collect_cb collect;
	void *collect_opaque;

	char *text;
	size_t text_len;
	size_t text_cap;
	bool text_failed;

	metrics_series *config_info;
	metrics_series *reloads;
	metrics_series *reload_failures;
	metrics_series *log_suppressed;
};

static const char *const metrics_type_names[] = { "counter", "gauge", "histogram" };

/* ---------------------------------------------------------------- names */

static bool metrics_valid_name(const char *name, bool colon_allowed)
{
	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		          (*p >= '0' && *p <= '9') || *p == '_' || (colon_allowed && *p == ':');
		if (!ok)
			return false;
	}
	return true;
}

static bool metrics_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	return n >= s && strcmp(name + n - s, suffix) == 0;
}

static metrics_family *metrics_find_family(const metrics *m, const char *name)
{
	for (metrics_family *f = m->first; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* Checks the name and label names of a new family; logs and returns false when invalid. */
static bool metrics_check_family(const metrics *m, metrics_type type, const char *name,
                                 const char *const *labels, size_t n_labels)
{
	const char *problem = NULL;

	if (!metrics_valid_name(name, true))
		problem = "invalid metric name";
	else if (metrics_find_family(m, name))
		problem = "metric name registered twice";
	else if (type == METRICS_COUNTER && !metrics_has_suffix(name, "_total"))
		problem = "counter name does not end in _total";
	for (size_t i = 0; i < n_labels && !problem; i++) {
		if (!metrics_valid_name(labels[i], false) || strncmp(labels[i], "__", 2) == 0)
			problem = "invalid label name";
		else if (type == METRICS_HISTOGRAM && strcmp(labels[i], "le") == 0)
			problem = "label name le is reserved for histogram buckets";
	}
	if (problem)
		log_error("metrics", "metric family not registered", "metric=%s problem=\"%s\"",
		          name ? name : "-", problem);
	return problem == NULL;
}

/* ---------------------------------------------------------------- families */

static void metrics_family_free(metrics_family *f)
{
	for (size_t i = 0; i < f->n_series; i++) {
		for (size_t l = 0; l < f->n_labels; l++)
			free(f->series[i]->values[l]);
		free(f->series[i]->buckets);
		free(f->series[i]);
	}
	for (size_t l = 0; l < f->n_labels; l++)
		free(f->labels[l]);
	free(f->series);
	free(f->name);
	free(f->help);
	free(f);
}

static metrics_family *metrics_family_make(metrics *m, metrics_type type, const char *name,
                                           const char *help, const char *const *labels,
                                           size_t n_labels)
{
	if (!metrics_check_family(m, type, name, labels, n_labels))
		return NULL;
	metrics_family *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	f->n_labels = n_labels;
	bool ok = f->name && f->help;
	for (size_t i = 0; i < n_labels; i++)
		ok = (f->labels[i] = strdup(labels[i])) != NULL && ok;
	if (!ok) {
		metrics_family_free(f);
		return NULL;
	}
	if (m->last)
		m->last->next = f;
	else
		m->first = f;
	m->last = f;
	return f;
}

/* Reads the NULL-terminated label names after the fixed arguments; -1 when too many. */
static int metrics_read_labels(va_list ap, const char **labels)
{
	int n = 0;
	const char *label;

	while ((label = va_arg(ap, const char *)) != NULL) {
		if (n == METRICS_MAX_LABELS)
			return -1;
		labels[n++] = label;
	}
	return n;
}

static metrics_family *metrics_family_vnew(metrics *m, metrics_type type, const char *name,
                                           const char *help, va_list ap)
{
	const char *labels[METRICS_MAX_LABELS];
	int n = metrics_read_labels(ap, labels);

	if (n < 0) {
		log_error("metrics", "metric family not registered", "metric=%s problem=\"more "
		          "than %d labels\"", name, METRICS_MAX_LABELS);
		return NULL;
	}
	return metrics_family_make(m, type, name, help, labels, (size_t)n);
}

metrics_family *metrics_counter_new(metrics *m, const char *name, const char *help, ...)
{
	va_list ap;

	va_start(ap, help);
	metrics_family *f = metrics_family_vnew(m, METRICS_COUNTER, name, help, ap);
	va_end(ap);
	return f;
}

metrics_family *metrics_gauge_new(metrics *m, const char *name, const char *help, ...)
{
	va_list ap;

	va_start(ap, help);
	metrics_family *f = metrics_family_vnew(m, METRICS_GAUGE, name, help, ap);
	va_end(ap);
	return f;
}

static bool metrics_valid_bounds(const double *bounds, size_t n)
{
	if (n == 0 || n > METRICS_MAX_BUCKETS)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
			return false;
	return true;
}

metrics_family *metrics_histogram_new(metrics *m, const char *name, const char *help,
                                      const double *bounds, size_t n_bounds, ...)
{
	va_list ap;

	if (!metrics_valid_bounds(bounds, n_bounds)) {
		log_error("metrics", "metric family not registered", "metric=%s problem=\"bucket "
		          "bounds must be 1 to %d finite ascending values\"", name,
		          METRICS_MAX_BUCKETS);
		return NULL;
	}
	va_start(ap, n_bounds);
	metrics_family *f = metrics_family_vnew(m, METRICS_HISTOGRAM, name, help, ap);
	va_end(ap);
	if (f) {
		memcpy(f->bounds, bounds, n_bounds * sizeof(*bounds));
		f->n_bounds = n_bounds;
	}
	return f;
}

/* ---------------------------------------------------------------- series */

static uint64_t metrics_hash(const char *const *values, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		for (const char *p = values[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xffu) * 1099511628211ull;
	}
	return h;
}

static bool metrics_same_values(const metrics_series *s, const char *const *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->values[i], values[i]) != 0)
			return false;
	return true;
}

static metrics_series *metrics_series_make(metrics_family *f, const char *const *values,
                                           uint64_t hash)
{
	metrics_series *s = calloc(1, sizeof(*s));
	bool ok = s != NULL;

	for (size_t i = 0; ok && i < f->n_labels; i++)
		ok = (s->values[i] = strdup(values[i])) != NULL;
	if (ok && f->type == METRICS_HISTOGRAM) {
		s->buckets = calloc(f->n_bounds + 1, sizeof(*s->buckets));
		s->bounds = f->bounds;
		s->n_bounds = f->n_bounds;
		ok = s->buckets != NULL;
	}
	if (!ok) {
		for (size_t i = 0; s && i < f->n_labels; i++)
			free(s->values[i]);
		free(s);
		return NULL;
	}
	s->hash = hash;
	s->visible = true;
	return s;
}

/* Makes room for one more series pointer; returns false when full or out of memory. */
static bool metrics_series_room(metrics_family *f)
{
	if (f->n_series < f->cap_series)
		return true;
	if (f->n_series >= METRICS_MAX_SERIES) {
		if (!f->warned_full)
			log_error("metrics", "too many series in a metric family; new label sets "
			          "are not recorded", "metric=%s max_series=%d", f->name,
			          METRICS_MAX_SERIES);
		f->warned_full = true;
		return false;
	}
	size_t cap = f->cap_series ? f->cap_series * 2 : 8;
	metrics_series **grown = realloc(f->series, cap * sizeof(*grown));
	if (!grown)
		return false;
	f->series = grown;
	f->cap_series = cap;
	return true;
}

metrics_series *metrics_series_getv(metrics_family *f, const char *const *values)
{
	if (!f)
		return NULL;
	uint64_t hash = metrics_hash(values, f->n_labels);

	for (size_t i = 0; i < f->n_series; i++) {
		metrics_series *s = f->series[i];
		if (s->hash == hash && metrics_same_values(s, values, f->n_labels))
			return s;
	}
	if (!metrics_series_room(f))
		return NULL;
	metrics_series *s = metrics_series_make(f, values, hash);
	if (s)
		f->series[f->n_series++] = s;
	return s;
}

metrics_series *metrics_series_get(metrics_family *f, ...)
{
	const char *values[METRICS_MAX_LABELS];
	va_list ap;

	if (!f)
		return NULL;
	va_start(ap, f);
	for (size_t i = 0; i < f->n_labels; i++)
		values[i] = va_arg(ap, const char *);
	va_end(ap);
	return metrics_series_getv(f, values);
}

void metrics_add(metrics_series *s, double delta)
{
	if (!s)
		return;
	s->value += delta;
	s->visible = true;
}

void metrics_set(metrics_series *s, double value)
{
	if (!s)
		return;
	s->value = value;
	s->visible = true;
}

double metrics_value(const metrics_series *s)
{
	return s ? s->value : 0;
}

void metrics_observe(metrics_series *s, double value)
{
	size_t b = 0;

	if (!s || !s->buckets)
		return;
	while (b < s->n_bounds && value > s->bounds[b])
		b++;
	s->buckets[b]++;
	s->count++;
	s->sum += value;
	s->visible = true;
}

void metrics_family_hide(metrics_family *f)
{
	for (size_t i = 0; f && i < f->n_series; i++)
		f->series[i]->visible = false;
}

/* ---------------------------------------------------------------- text */

static void metrics_text_put(metrics *m, const char *data, size_t len)
{
	if (m->text_failed)
		return;
	if (m->text_len + len + 1 > m->text_cap) {
		size_t cap = m->text_cap ? m->text_cap : 4096;
		while (cap < m->text_len + len + 1)
			cap *= 2;
		char *grown = realloc(m->text, cap);
		if (!grown) {
			m->text_failed = true;
			return;
		}
		m->text = grown;
		m->text_cap = cap;
	}
	memcpy(m->text + m->text_len, data, len);
	m->text_len += len;
	m->text[m->text_len] = '\0';
}

static void metrics_text_str(metrics *m, const char *s)
{
	metrics_text_put(m, s, strlen(s));
}

/*
 * Writes text with backslash and newline escaped, and double quotes too when
 * quotes is set: the escaping of label values (quotes) and HELP text.
 */
static void metrics_text_escaped(metrics *m, const char *text, bool quotes)
{
	const char *run = text;

	for (const char *p = text; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" :
		                  (quotes && *p == '"') ? "\\\"" : NULL;
		if (!esc)
			continue;
		metrics_text_put(m, run, (size_t)(p - run));
		metrics_text_str(m, esc);
		run = p + 1;
	}
	metrics_text_str(m, run);
}

/* Formats v the shortest way that reads back exactly, or NaN, +Inf, -Inf. */
static void metrics_format_value(double v, char *out, size_t size)
{
	if (isnan(v)) {
		snprintf(out, size, "NaN");
	} else if (isinf(v)) {
		snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
	} else {
		snprintf(out, size, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, size, "%.17g", v);
	}
}

/* Writes {name="value",...} with an optional le label last; nothing when empty. */
static void metrics_text_labels(metrics *m, const metrics_family *f, const metrics_series *s,
                                const char *le)
{
	if (f->n_labels == 0 && !le)
		return;
	metrics_text_str(m, "{");
	for (size_t i = 0; i < f->n_labels; i++) {
		metrics_text_str(m, i ? ",": "");
		metrics_text_str(m, f->labels[i]);
		metrics_text_str(m, "=\"");
		metrics_text_escaped(m, s->values[i], true);
		metrics_text_str(m, "\"");
	}
	if (le) {
		metrics_text_str(m, f->n_labels ? ",le=\"" : "le=\"");
		metrics_text_str(m, le);
		metrics_text_str(m, "\"");
	}
	metrics_text_str(m, "}");
}

static void metrics_text_sample(metrics *m, const metrics_family *f, const metrics_series *s,
                                const char *suffix, const char *le, double value)
{
	char number[40];

	metrics_format_value(value, number, sizeof(number));
	metrics_text_str(m, f->name);
	metrics_text_str(m, suffix);
	metrics_text_labels(m, f, s, le);
	metrics_text_str(m, " ");
	metrics_text_str(m, number);
	metrics_text_str(m, "\n");
}

/* Writes the cumulative buckets, then _sum and _count. */
static void metrics_text_histogram(metrics *m, const metrics_family *f, const metrics_series *s)
{
	char le[40];
	uint64_t cumulative = 0;

	for (size_t b = 0; b <= f->n_bounds; b++) {
		cumulative += s->buckets[b];
		if (b < f->n_bounds)
			metrics_format_value(f->bounds[b], le, sizeof(le));
		else
			snprintf(le, sizeof(le), "+Inf");
		metrics_text_sample(m, f, s, "_bucket", le, (double)cumulative);
	}
	metrics_text_sample(m, f, s, "_sum", NULL, s->sum);
	metrics_text_sample(m, f, s, "_count", NULL, (double)s->count);
}

static void metrics_text_family(metrics *m, const metrics_family *f)
{
	metrics_text_str(m, "# HELP ");
	metrics_text_str(m, f->name);
	metrics_text_str(m, " ");
	metrics_text_escaped(m, f->help, false);
	metrics_text_str(m, "\n# TYPE ");
	metrics_text_str(m, f->name);
	metrics_text_str(m, " ");
	metrics_text_str(m, metrics_type_names[f->type]);
	metrics_text_str(m, "\n");
	for (size_t i = 0; i < f->n_series; i++) {
		const metrics_series *s = f->series[i];
		if (!s->visible)
			continue;
		if (f->type == METRICS_HISTOGRAM)
			metrics_text_histogram(m, f, s);
		else
			metrics_text_sample(m, f, s, "", NULL, s->value);
	}
}

const char *metrics_render(metrics *m, size_t *len)
{
	metrics_set(m->log_suppressed, (double)log_suppressed_total());
	if (m->collect)
		m->collect(m, m->collect_opaque);

	m->text_len = 0;
	m->text_failed = false;
	for (const metrics_family *f = m->first; f; f = f->next)
		metrics_text_family(m, f);
	if (m->text_failed || !m->text) {
		*len = 0;
		return NULL;
	}
	*len = m->text_len;
	return m->text;
}

/* ---------------------------------------------------------------- registry */

void metrics_set_collect(metrics *m, metrics_collect_cb cb, void *opaque)
{
	m->collect = cb;
	m->collect_opaque = opaque;
}

/* Registers the process families; returns false when one could not be made. */
static bool metrics_process_families(metrics *m)
{
	struct timespec now;
	metrics_family *start, *build, *info, *reloads, *failures, *suppressed;

	start = metrics_gauge_new(m, "advocacyd_start_time_seconds",
	                          "Start time of the process since the Unix epoch.", NULL);
	build = metrics_gauge_new(m, "advocacyd_build_info",
	                          "Version of the advocacyd binary, as a label; the value is 1.",
	                          "version", NULL);
	info = metrics_gauge_new(m, "advocacyd_config_info", "Version of the configuration in "
	                         "use, as a label; the value is 1.", "version", NULL);
	reloads = metrics_counter_new(m, "advocacyd_config_reloads_total",
	                              "Configuration reloads applied.", NULL);
	failures = metrics_counter_new(m, "advocacyd_config_reload_failures_total",
	                               "Configuration reloads rejected; the previous "
	                               "configuration stays in use.", NULL);
	suppressed = metrics_counter_new(m, "advocacyd_log_lines_suppressed_total",
	                                 "Log lines held back by the repeat rate limit.", NULL);

	clock_gettime(CLOCK_REALTIME, &now);
	metrics_set(metrics_series_get(start), (double)now.tv_sec + now.tv_nsec / 1e9);
	metrics_set(metrics_series_get(build, ADVOCACY_VERSION), 1);
	m->config_info = metrics_series_get(info, "unknown");
	m->reloads = metrics_series_get(reloads);
	m->reload_failures = metrics_series_get(failures);
	m->log_suppressed = metrics_series_get(suppressed);
	metrics_set(m->config_info, 1);
	metrics_set(m->reloads, 0);
	metrics_set(m->reload_failures, 0);
	return m->config_info && m->reloads && m->reload_failures && m->log_suppressed;
}

metrics *metrics_new(void)
{
	metrics *m = calloc(1, sizeof(*m));

	if (m && !metrics_process_families(m)) {
		metrics_free(m);
		return NULL;
	}
	return m;
}

void metrics_free(metrics *m)
{
	if (!m)
		return;
	for (metrics_family *f = m->first, *next; f; f = next) {
		next = f->next;
		metrics_family_free(f);
	}
	free(m->text);
	free(m);
}

void metrics_set_config_version(metrics *m, const char *version)
{
	metrics_series *s = m->config_info;
	char *copy = strdup(version);

	/* One series whose label changes, so that reloads do not pile up series. */
	if (!s || !copy) {
		free(copy);
		return;
	}
	free(s->values[0]);
	s->values[0] = copy;
	s->hash = metrics_hash((const char *const *)s->values, 1);
}

void metrics_count_reload(metrics *m, bool ok)
{
	metrics_add(ok ? m->reloads : m->reload_failures, 1);
}
