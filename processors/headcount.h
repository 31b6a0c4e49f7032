/*
 * headcount.h - headcount history per bucket, departures and retention.
 *
 * Rates divide by the headcount a scope had during the KPI's window, not by
 * today's. The history is stored in Redis (see README "Headcount history").
 * This module contains the arithmetic, the tables of one tick and the queue
 * of departures waiting to be written, but no Redis code.
 *
 * Definitions:
 * - A bucket's headcount of a scope is the scope's headcount at the last tick
 *   that the daemon ran within that bucket (wall clock). A bucket "has a
 *   record" when some tick wrote it; a scope missing from a recorded bucket
 *   had 0 people then.
 * - A window's mean headcount of a scope is the sum of its headcounts over
 *   the window's buckets that have a record, divided by the number of those
 *   buckets. When none of them has a record (history not started yet or
 *   expired), the mean is the roster's current headcount.
 * - Retention of a scope over a window is 1 - departures / mean headcount.
 *
 * Single-threaded. The tick tables are sized at headcount_tick_begin() and
 * reused, so nothing here allocates per event.
 */
#ifndef ADVOCACY_HEADCOUNT_H
#define ADVOCACY_HEADCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "privacy.h"

/* ------------------------------------------------------------ tick tables */

typedef struct headcount_tick headcount_tick;

headcount_tick *headcount_tick_new(void);
void headcount_tick_free(headcount_tick *h);

/*
 * Sizes and zeroes the tables for n_windows windows and n_scopes scopes.
 * Returns 0, or -1 when out of memory (the tables are then empty).
 */
int headcount_tick_begin(headcount_tick *h, size_t n_windows, uint32_t n_scopes);

/* Counts one bucket of window that has a record. */
void headcount_tick_add_bucket(headcount_tick *h, size_t window);

/* Adds the headcount of scope in one recorded bucket of window. */
void headcount_tick_add(headcount_tick *h, size_t window, uint32_t scope, int64_t heads);

/* Adds departures of scope in one bucket of window. */
void headcount_tick_add_departures(headcount_tick *h, size_t window, uint32_t scope,
				   int64_t departures);

/* Returns the number of buckets of window that have a record. */
size_t headcount_tick_buckets(const headcount_tick *h, size_t window);

/*
 * Returns the mean headcount of scope over window's recorded buckets, or
 * current (the roster's headcount now) when the window has no recorded
 * bucket or scope is past the tick's scope count.
 */
double headcount_tick_mean(const headcount_tick *h, size_t window, uint32_t scope,
			   uint32_t current);

/* Returns the departures of scope summed over window's buckets. */
int64_t headcount_tick_departures(const headcount_tick *h, size_t window, uint32_t scope);

/* ------------------------------------------------------------ arithmetic */

/* Returns n per head (n / heads), or 0 when heads is not positive. */
double headcount_per_head(int64_t n, double heads);

/* Returns the retention 1 - departures / heads, or 0 when heads is not positive. */
double headcount_retention(int64_t departures, double heads);

/* One team in the retention split: its advocacy figure and its window's history. */
typedef struct headcount_team {
	uint32_t scope;
	const char *name; /* scope name, which orders teams with equal advocacy */
	double advocacy;  /* value of the split_by KPI */
	double heads;	  /* mean headcount over the retention KPI's window */
	int64_t departures;
} headcount_team;

/* Pooled retention of one group of teams. */
typedef struct headcount_group {
	size_t teams;
	double heads; /* sum of the teams' mean headcounts */
	int64_t departures;
	double retention; /* 1 - departures / heads */
} headcount_group;

typedef struct headcount_split {
	headcount_group high; /* the high-advocacy teams */
	headcount_group low;
	double gap; /* high.retention - low.retention */
} headcount_split;

/*
 * Splits teams into high- and low-advocacy groups and computes each group's
 * pooled retention. With has_threshold, a team with advocacy >= threshold is
 * high and the others low. Otherwise the teams are sorted by advocacy
 * (ascending, then by name): the first n/2 are low, the last n/2 high, and
 * with an odd n the middle team is in neither. Sorts teams in place.
 * Returns 0, or -1 when a group is empty (out->gap is then 0).
 */
int headcount_split_teams(headcount_team *teams, size_t n, bool has_threshold, double threshold,
			  headcount_split *out);

/* ------------------------------------------------------------ departures */

/* Departure time granularity of the idempotency key: one UTC day. */
#define HEADCOUNT_DEPARTURE_DAY_MS 86400000LL

typedef struct headcount_departure {
	uint64_t key;			   /* see headcount_departure_key() */
	int64_t at_ms;			   /* when the person left */
	uint32_t scopes[SCOPE_KIND_COUNT]; /* roster scope ids, ROSTER_NO_SCOPE if none */
} headcount_departure;

/*
 * Returns the idempotency key of a departure, the first 8 bytes of
 * HMAC-SHA256 over the employee pseudonym and the UTC day of at_ms, keyed
 * with a secret derived from the pseudonym key. The same person leaving on
 * the same day gets the same key, whichever record reports it (left_at or
 * tombstone, on any partition) and however often the roster topic is read
 * again. Redis stores the key and never receives the pseudonym.
 */
uint64_t headcount_departure_key(const uint8_t secret[32], const pseudonym *employee,
				 int64_t at_ms);

/* Queue of departures waiting for the next tick's write, as a growing array. */
typedef struct headcount_departures {
	headcount_departure *items;
	size_t n, cap;
} headcount_departures;

/* Appends one departure. Returns 0, or -1 when out of memory. */
int headcount_departures_push(headcount_departures *q, const headcount_departure *d);

/* Drops the first n departures (those written), keeping the rest in order. */
void headcount_departures_consume(headcount_departures *q, size_t n);

void headcount_departures_fini(headcount_departures *q);

#endif
