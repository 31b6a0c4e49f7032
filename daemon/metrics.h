/*
 * metrics.h - a small Prometheus metrics registry and its text rendering.
 *
 * A registry contains families (counters, gauges and histograms), each with a
 * fixed list of label names given when the family is made. A series is one
 * set of label values of a family. metrics_series_get() finds or makes it
 * and returns a pointer that stays valid until metrics_free(). Callers thus
 * resolve a series once (per batch, per partition, at start) and then count
 * through the pointer. metrics_add(), metrics_set() and metrics_observe()
 * neither allocate nor compare strings.
 *
 * metrics_render() writes the text exposition format 0.0.4 that Prometheus
 * scrapes: "# HELP" and "# TYPE" for every family, then its series in the
 * order they were made, with label values escaped (backslash, double quote,
 * newline). Before rendering it calls the collect callback, where the owner
 * copies counters that other modules keep into their series.
 *
 * Every registry carries the process families of advocacyd: start time,
 * build and config version, config reloads and log lines suppressed by the
 * logger's rate limit.
 *
 * Single-threaded: use a registry from one thread (the daemon's loop).
 * Label values must never carry a person identifier, a name, an e-mail, a
 * message text or a secret: the labels used are topic, partition, adapter,
 * reason, state, client and KPI id.
 */
#ifndef ADVOCACY_METRICS_H
#define ADVOCACY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_LABELS 4
#define METRICS_MAX_BUCKETS 24
/* Series per family; more label sets than this are not recorded (logged). */
#define METRICS_MAX_SERIES 4096

typedef struct metrics metrics;
typedef struct metrics_family metrics_family;
typedef struct metrics_series metrics_series;

/* Called by metrics_render() before it writes anything. */
typedef void (*metrics_collect_cb)(metrics *m, void *opaque);

/* Makes a registry with the process families; NULL when out of memory. */
metrics *metrics_new(void);
void metrics_free(metrics *m);

void metrics_set_collect(metrics *m, metrics_collect_cb cb, void *opaque);

/*
 * Make a family. The label names follow the help text, terminated by NULL
 * (at most METRICS_MAX_LABELS). Returns NULL (logged) when the name or a
 * label name is invalid or taken, or when out of memory. Counter names must
 * end in _total.
 */
metrics_family *metrics_counter_new(metrics *m, const char *name, const char *help, ...);
metrics_family *metrics_gauge_new(metrics *m, const char *name, const char *help, ...);

/* A histogram with n_bounds ascending upper bounds (+Inf is added). */
metrics_family *metrics_histogram_new(metrics *m, const char *name, const char *help,
                                      const double *bounds, size_t n_bounds, ...);

/*
 * Finds or makes the series with these label values, one per label name of
 * the family, in that order. Returns NULL when f is NULL, out of memory, or
 * the family already has METRICS_MAX_SERIES series. The update functions
 * below accept NULL and do nothing with it. Cost: one pass over the
 * family's series comparing hashes, so call it per batch or partition,
 * not per event.
 */
metrics_series *metrics_series_get(metrics_family *f, ...);
metrics_series *metrics_series_getv(metrics_family *f, const char *const *values);

/* Adds to a counter or gauge. */
void metrics_add(metrics_series *s, double delta);
/* Sets a gauge, or a counter copied from a count another module keeps. */
void metrics_set(metrics_series *s, double value);
void metrics_observe(metrics_series *s, double value);
double metrics_value(const metrics_series *s);

/*
 * Hides every series of f until it is updated again: for gauges whose label
 * sets come and go, such as the lag of partitions this instance may lose.
 */
void metrics_family_hide(metrics_family *f);

/*
 * Renders every family. Returns the text, owned by m and valid until the
 * next render, with its length in *len; NULL when out of memory.
 */
const char *metrics_render(metrics *m, size_t *len);

/* ------------------------------------------------------------ process families */

/* Sets advocacyd_config_info{version} (one series, value 1). */
void metrics_set_config_version(metrics *m, const char *version);

/* Counts one configuration reload, applied (ok) or rejected. */
void metrics_count_reload(metrics *m, bool ok);

#endif
