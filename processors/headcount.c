/*
 * headcount.c - headcount history arithmetic, retention split and the
 * departure queue (see headcount.h for the definitions).
 *
 * The tick tables are flat arrays indexed [window * n_scopes + scope], and
 * the store fills them from the history hashes it reads on a tick. Indices
 * out of range are ignored, as in kpi.c, so a scope interned after the tick
 * began has no history in that tick (its mean is the current headcount).
 */
#include "headcount.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct headcount_tick {
	size_t n_windows;
	uint32_t n_scopes;
	int64_t *heads;	     /* n_windows * n_scopes: headcount summed over recorded buckets */
	int64_t *departures; /* n_windows * n_scopes */
	size_t *buckets;     /* n_windows: recorded buckets */
	size_t cells_cap, windows_cap;
};

headcount_tick *headcount_tick_new(void)
{
	return calloc(1, sizeof(headcount_tick));
}

void headcount_tick_free(headcount_tick *h)
{
	if (!h)
		return;
	free(h->heads);
	free(h->departures);
	free(h->buckets);
	free(h);
}

static int headcount_grow(void **p, size_t n, size_t size)
{
	void *grown = realloc(*p, (n ? n : 1) * size);

	if (!grown)
		return -1;
	*p = grown;
	return 0;
}

int headcount_tick_begin(headcount_tick *h, size_t n_windows, uint32_t n_scopes)
{
	size_t cells = n_windows * n_scopes;

	if (cells > h->cells_cap) {
		if (headcount_grow((void **)&h->heads, cells, sizeof(*h->heads)) < 0 ||
		    headcount_grow((void **)&h->departures, cells, sizeof(*h->departures)) < 0)
			goto oom;
		h->cells_cap = cells;
	}
	if (n_windows > h->windows_cap) {
		if (headcount_grow((void **)&h->buckets, n_windows, sizeof(*h->buckets)) < 0)
			goto oom;
		h->windows_cap = n_windows;
	}
	if (cells) {
		memset(h->heads, 0, cells * sizeof(*h->heads));
		memset(h->departures, 0, cells * sizeof(*h->departures));
	}
	if (n_windows)
		memset(h->buckets, 0, n_windows * sizeof(*h->buckets));
	h->n_windows = n_windows;
	h->n_scopes = n_scopes;
	return 0;
oom:
	h->n_windows = 0;
	h->n_scopes = 0;
	return -1;
}

static bool headcount_in_range(const headcount_tick *h, size_t window, uint32_t scope)
{
	return window < h->n_windows && scope < h->n_scopes;
}

void headcount_tick_add_bucket(headcount_tick *h, size_t window)
{
	if (window < h->n_windows)
		h->buckets[window]++;
}

void headcount_tick_add(headcount_tick *h, size_t window, uint32_t scope, int64_t heads)
{
	if (headcount_in_range(h, window, scope))
		h->heads[window * h->n_scopes + scope] += heads;
}

void headcount_tick_add_departures(headcount_tick *h, size_t window, uint32_t scope,
				   int64_t departures)
{
	if (headcount_in_range(h, window, scope))
		h->departures[window * h->n_scopes + scope] += departures;
}

size_t headcount_tick_buckets(const headcount_tick *h, size_t window)
{
	return window < h->n_windows ? h->buckets[window] : 0;
}

double headcount_tick_mean(const headcount_tick *h, size_t window, uint32_t scope, uint32_t current)
{
	size_t buckets = headcount_tick_buckets(h, window);

	if (buckets == 0 || scope >= h->n_scopes)
		return (double)current;
	return (double)h->heads[window * h->n_scopes + scope] / (double)buckets;
}

int64_t headcount_tick_departures(const headcount_tick *h, size_t window, uint32_t scope)
{
	if (!headcount_in_range(h, window, scope))
		return 0;
	return h->departures[window * h->n_scopes + scope];
}

/* ------------------------------------------------------------------------ */
/* Arithmetic                                                               */

double headcount_per_head(int64_t n, double heads)
{
	return heads > 0 ? (double)n / heads : 0.0;
}

double headcount_retention(int64_t departures, double heads)
{
	return heads > 0 ? 1.0 - (double)departures / heads : 0.0;
}

static int headcount_team_cmp(const void *a, const void *b)
{
	const headcount_team *x = a, *y = b;

	if (x->advocacy < y->advocacy)
		return -1;
	if (x->advocacy > y->advocacy)
		return 1;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

static void headcount_group_add(headcount_group *g, const headcount_team *t)
{
	g->teams++;
	g->heads += t->heads;
	g->departures += t->departures;
}

int headcount_split_teams(headcount_team *teams, size_t n, bool has_threshold, double threshold,
			  headcount_split *out)
{
	memset(out, 0, sizeof(*out));
	if (has_threshold) {
		for (size_t i = 0; i < n; i++)
			headcount_group_add(teams[i].advocacy >= threshold ? &out->high : &out->low,
					    &teams[i]);
	} else {
		qsort(teams, n, sizeof(*teams), headcount_team_cmp);
		for (size_t i = 0; i < n / 2; i++) {
			headcount_group_add(&out->low, &teams[i]);
			headcount_group_add(&out->high, &teams[n - 1 - i]);
		}
	}
	if (out->high.teams == 0 || out->low.teams == 0)
		return -1;

	out->high.retention = headcount_retention(out->high.departures, out->high.heads);
	out->low.retention = headcount_retention(out->low.departures, out->low.heads);
	out->gap = out->high.retention - out->low.retention;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Departures                                                               */

uint64_t headcount_departure_key(const uint8_t secret[32], const pseudonym *employee, int64_t at_ms)
{
	uint8_t msg[PSEUDONYM_SIZE + 8], mac[32];
	int64_t day = at_ms >= 0 ? at_ms / HEADCOUNT_DEPARTURE_DAY_MS
				 : -((-at_ms - 1) / HEADCOUNT_DEPARTURE_DAY_MS) - 1;
	uint64_t key = 0;

	memcpy(msg, employee->bytes, PSEUDONYM_SIZE);
	for (int i = 0; i < 8; i++)
		msg[PSEUDONYM_SIZE + i] = (uint8_t)((uint64_t)day >> (56 - 8 * i));
	/* NOTE: when the HMAC fails the key stays 0, so all such departures merge into one. */
	if (privacy_hmac_sha256(secret, 32, msg, sizeof(msg), mac) == 0)
		memcpy(&key, mac, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	return key;
}

int headcount_departures_push(headcount_departures *q, const headcount_departure *d)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		headcount_departure *grown = realloc(q->items, cap * sizeof(*grown));
		if (!grown)
			return -1;
		q->items = grown;
		q->cap = cap;
	}
	q->items[q->n++] = *d;
	return 0;
}

void headcount_departures_consume(headcount_departures *q, size_t n)
{
	if (n >= q->n) {
		q->n = 0;
		return;
	}
	memmove(q->items, q->items + n, (q->n - n) * sizeof(*q->items));
	q->n -= n;
}

void headcount_departures_fini(headcount_departures *q)
{
	free(q->items);
	*q = (headcount_departures){0};
}
