/*
 * window.c - bucket arithmetic and the per-batch pre-aggregation table.
 *
 * Buckets. A granularity g that is not a whole number of days cuts time at
 * floor(t / g) * g, counted from the UTC epoch (floor division, so times
 * before 1970 work too). A granularity of k days cuts time at local midnight
 * in the configured time zone, on the local days counted in steps of k from
 * Monday 1970-01-05 (local day number 4, as 1970-01-01 was a Thursday). So a
 * 7d bucket is an ISO 8601 week from Monday 00:00 local. 14d and 28d buckets
 * also start on Mondays, and a 1d bucket is any local day. Local time
 * comes from the C library and the system tz database: window_clock_new() sets
 * TZ once and the day boundaries come from localtime_r() and mktime(). Each
 * granularity keeps the last few buckets it computed, so the hot path compares
 * a few integers and rarely reaches mktime().
 *
 * A local day starts at the first second whose local date is that day. Where
 * a DST change skips or repeats midnight (America/Santiago, America/Havana),
 * that is not 00:00 once, so window_day_start() checks what mktime() returns.
 *
 * NOTE: TZ is process-wide state. A clock sets it when it is created, and
 * again when it computes a bucket after a clock in another zone has set it.
 * So several clocks can coexist, but any other code that changes TZ, or calls
 * localtime() expecting another zone, gets the zone of the last clock used.
 *
 * Batch. Cells live in a dense array in insertion order; an open-addressing
 * table (linear probing, load at most 1/2) maps (behaviour, scope,
 * granularity, bucket start) to the cell position. Contributors are (cell
 * position, pseudonym) entries in a second dense array with its own table,
 * which deduplicates them per cell. window_batch_finish() lays the
 * contributors out contiguously per cell with a counting sort into a members
 * array of the exact size, and frees the entries. So a batch keeps entries
 * while it fills and members while it is written. Of the daemon's two
 * batches, one fills while the other is written. Table slots carry the
 * epoch of the batch that wrote them, so window_batch_reset() just starts a
 * new epoch and clears nothing. The cells and tables only grow, by
 * doubling. The entries come back at the size the last batch needed plus a
 * quarter, so a warm batch makes two allocations per batch (entries and
 * members) and none per event.
 *
 * Thread: single-threaded; clocks and batches are not shared.
 */
#include "window.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WINDOW_DAY_MS 86400000LL
#define WINDOW_DAY_S 86400LL
#define WINDOW_TZ_MAX 128
#define WINDOW_CACHE_WAYS 4
/* Local day number of Monday 1970-01-05, the first day of k-day bucket 0. */
#define WINDOW_FIRST_MONDAY 4LL
/* Times are clamped to +-2^52 ms (about 142,000 years) so no step overflows. */
#define WINDOW_TIME_LIMIT_MS (1LL << 52)

/* ------------------------------------------------------------------------ */
/* Clock                                                                    */

typedef struct window_interval {
	int64_t start_ms;
	int64_t end_ms; /* exclusive; start == end marks an empty way */
} window_interval;

typedef struct window_gran {
	int64_t ms;
	int64_t days; /* k for a granularity of k days, else 0 */
	window_interval cache[WINDOW_CACHE_WAYS];
	unsigned next_way;
} window_gran;

struct window_clock {
	window_gran grans[CONFIG_MAX_GRANULARITIES];
	size_t n_grans;
	window_gran day;       /* local calendar days, for daily caps */
	char tz[WINDOW_TZ_MAX];
};

/* Zone that this module last set TZ to (see the NOTE above). */
static char window_tz_active[WINDOW_TZ_MAX];

static int64_t window_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

static void window_tz_apply(const char *tz)
{
	if (strcmp(window_tz_active, tz) == 0)
		return;
	setenv("TZ", tz, 1);
	tzset();
	snprintf(window_tz_active, sizeof(window_tz_active), "%s", tz);
}

/*
 * Accepts an IANA zone name that names a TZif file in the zoneinfo database
 * ($TZDIR or /usr/share/zoneinfo). "UTC" is accepted without the file, as the
 * C library reads it as a POSIX zone with offset 0.
 */
static bool window_tz_name_valid(const char *tz)
{
	static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "abcdefghijklmnopqrstuvwxyz0123456789/_+-";
	size_t len = strlen(tz);

	return len > 0 && len < WINDOW_TZ_MAX && tz[0] != '/' && !strstr(tz, "..") &&
	       strspn(tz, allowed) == len;
}

static int window_tz_check(const char *tz, char *errstr, size_t errstr_size)
{
	char path[512], magic[4];
	const char *dir = getenv("TZDIR");

	if (strcmp(tz, "UTC") == 0)
		return 0;
	if (!window_tz_name_valid(tz)) {
		snprintf(errstr, errstr_size,
			 "windows.timezone: '%s' is not an IANA time zone name", tz);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", tz);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;
	if (fd >= 0)
		close(fd);
	if (got != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4) != 0) {
		snprintf(errstr, errstr_size,
			 "windows.timezone: unknown time zone '%s' (no zoneinfo file %s; "
			 "is tzdata installed?)",
			 tz, path);
		return -1;
	}
	return 0;
}

window_clock *window_clock_new(const config *cfg, char *errstr, size_t errstr_size)
{
	const char *tz =
	    cfg->windows.timezone && cfg->windows.timezone[0] ? cfg->windows.timezone : "UTC";

	if (cfg->windows.n_granularities > CONFIG_MAX_GRANULARITIES) {
		snprintf(errstr, errstr_size, "windows.granularities: more than %d",
			 CONFIG_MAX_GRANULARITIES);
		return NULL;
	}
	if (window_tz_check(tz, errstr, errstr_size) < 0)
		return NULL;

	window_clock *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(errstr, errstr_size, "window clock: out of memory");
		return NULL;
	}
	snprintf(c->tz, sizeof(c->tz), "%s", tz);
	c->n_grans = cfg->windows.n_granularities;
	for (size_t i = 0; i < c->n_grans; i++) {
		int64_t g = cfg->windows.granularities_ms[i];
		if (g <= 0 || g > WINDOW_TIME_LIMIT_MS) {
			snprintf(errstr, errstr_size,
				 "windows.granularities[%zu]: must be positive", i);
			free(c);
			return NULL;
		}
		c->grans[i].ms = g;
		c->grans[i].days = g % WINDOW_DAY_MS == 0 ? g / WINDOW_DAY_MS : 0;
	}
	c->day.ms = WINDOW_DAY_MS;
	c->day.days = 1;
	window_tz_apply(c->tz);
	return c;
}

void window_clock_free(window_clock *c)
{
	free(c);
}

/* Local day number of t (days since 1970-01-01 in the local calendar). */
static bool window_local_day(time_t t, int64_t *day)
{
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return false;
	*day = window_floor_div((int64_t)t + tm.tm_gmtoff, WINDOW_DAY_S);
	return true;
}

/* First second whose local day number is >= day. */
static time_t window_day_start(int64_t day)
{
	struct tm tm = {.tm_year = 70, .tm_mon = 0, .tm_mday = 1 + (int)day, .tm_isdst = -1};
	time_t s = mktime(&tm); /* normalizes the day of the month */
	int64_t d_at = 0, d_before = 0;

	if (window_local_day(s, &d_at) && window_local_day(s - 1, &d_before) && d_at >= day &&
	    d_before < day)
		return s;

	/*
	 * Midnight skipped or repeated and mktime() chose a later instant:
	 * bisect for the first second of the day. NOTE: glibc 2.36 already
	 * returns the first instant in the Santiago and Havana cases the tests
	 * cover, so this path guards other C libraries and is not exercised.
	 */
	time_t lo = s - 2 * WINDOW_DAY_S, hi = s + 2 * WINDOW_DAY_S;
	while (hi - lo > 1) {
		time_t mid = lo + (hi - lo) / 2;
		int64_t d;
		if (!window_local_day(mid, &d))
			return s;
		if (d >= day)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* Computes the bucket of k days containing t_ms. */
static window_interval window_days_bucket(const window_clock *c, int64_t k, int64_t t_ms)
{
	time_t t = (time_t)window_floor_div(t_ms, 1000);
	int64_t day;

	window_tz_apply(c->tz);
	if (!window_local_day(t, &day)) {
		/* Out of the C library's range: fall back to UTC days. */
		int64_t anchor = WINDOW_FIRST_MONDAY * WINDOW_DAY_MS;
		int64_t start =
		    window_floor_div(t_ms - anchor, k * WINDOW_DAY_MS) * k * WINDOW_DAY_MS + anchor;
		return (window_interval){start, start + k * WINDOW_DAY_MS};
	}
	int64_t first = window_floor_div(day - WINDOW_FIRST_MONDAY, k) * k + WINDOW_FIRST_MONDAY;
	return (window_interval){(int64_t)window_day_start(first) * 1000,
				 (int64_t)window_day_start(first + k) * 1000};
}

/* Returns the bucket of granularity g containing t_ms, from the cache if it can. */
static window_interval window_interval_of(window_clock *c, window_gran *g, int64_t t_ms)
{
	if (g->days == 0) {
		int64_t start = window_floor_div(t_ms, g->ms) * g->ms;
		return (window_interval){start, start + g->ms};
	}

	for (int i = 0; i < WINDOW_CACHE_WAYS; i++)
		if (t_ms >= g->cache[i].start_ms && t_ms < g->cache[i].end_ms)
			return g->cache[i];

	window_interval iv = window_days_bucket(c, g->days, t_ms);
	if (t_ms >= iv.start_ms && t_ms < iv.end_ms) {
		g->cache[g->next_way] = iv;
		g->next_way = (g->next_way + 1) % WINDOW_CACHE_WAYS;
	}
	return iv;
}

static int64_t window_clamp(int64_t t_ms)
{
	if (t_ms < -WINDOW_TIME_LIMIT_MS)
		return -WINDOW_TIME_LIMIT_MS;
	return t_ms > WINDOW_TIME_LIMIT_MS ? WINDOW_TIME_LIMIT_MS : t_ms;
}

/* gran must be below the number of configured granularities. */
int64_t window_bucket_start(window_clock *c, size_t gran, int64_t t_ms)
{
	return window_interval_of(c, &c->grans[gran], window_clamp(t_ms)).start_ms;
}

int64_t window_bucket_end(window_clock *c, size_t gran, int64_t start_ms)
{
	return window_interval_of(c, &c->grans[gran], window_clamp(start_ms)).end_ms;
}

int64_t window_local_day_start(window_clock *c, int64_t t_ms)
{
	return window_interval_of(c, &c->day, window_clamp(t_ms)).start_ms;
}

int64_t window_local_day_end(window_clock *c, int64_t day_start_ms)
{
	return window_interval_of(c, &c->day, window_clamp(day_start_ms)).end_ms;
}

size_t window_buckets(window_clock *c, const config_window *w, int64_t end_ms, int64_t *starts,
		      size_t max)
{
	int64_t first = window_bucket_start(c, w->granularity, end_ms - w->length_ms);
	int64_t last = window_bucket_start(c, w->granularity, end_ms);
	size_t n = 0;

	for (int64_t s = first; s <= last;) {
		if (n < max)
			starts[n] = s;
		n++;
		int64_t next = window_bucket_end(c, w->granularity, s);
		if (next <= s)
			break; /* only at the clamp limit */
		s = next;
	}
	return n;
}

int64_t window_keep_ms(const config *cfg, size_t gran)
{
	int64_t longest = -1;

	if (gran + 1 >= cfg->windows.n_granularities)
		return cfg->windows.retention_ms;
	for (size_t w = 0; w < cfg->windows.n_windows; w++)
		if (cfg->windows.windows[w].granularity == gran &&
		    cfg->windows.windows[w].length_ms > longest)
			longest = cfg->windows.windows[w].length_ms;
	if (longest < 0)
		return cfg->windows.retention_ms;
	return longest + 2 * cfg->windows.granularities_ms[gran];
}

uint32_t window_contributor_grans(const config *cfg, size_t b)
{
	uint32_t grans = 0;

	for (size_t k = 0; k < cfg->n_kpis; k++) {
		const config_kpi *kpi = &cfg->kpis[k];
		if (!config_kpi_active(kpi))
			continue;
		for (size_t i = 0; i < kpi->n_behaviours; i++)
			if (kpi->behaviours[i] == b)
				grans |= 1u << cfg->windows.windows[kpi->window].granularity;
	}
	return grans;
}

/* ------------------------------------------------------------------------ */
/* Batch                                                                    */

#define WINDOW_NONE UINT32_MAX
#define WINDOW_MIN_CAPACITY 64
/* Positions are uint32_t, and a table has twice as many slots as entries. */
#define WINDOW_MAX_ENTRIES (1u << 30)

/* A table slot is in use when its epoch equals the batch's epoch. */
typedef struct window_slot {
	uint32_t pos;
	uint32_t epoch;
} window_slot;

typedef struct window_entry {
	pseudonym contributor;
	uint32_t cell;
} window_entry;

typedef struct window_table {
	window_slot *slots;
	size_t mask; /* capacity - 1; capacity is a power of two */
} window_table;

/* A credit key of the contributor set; in use when its epoch is the batch's. */
typedef struct window_credit_slot {
	uint64_t key;
	uint32_t epoch;
} window_credit_slot;

struct window_batch {
	window_cell *cells;
	size_t n_cells, cap_cells;
	window_table cell_table;

	window_entry *entries; /* (cell, contributor) pairs in arrival order, NULL once finished */
	pseudonym *members;    /* entries' contributors grouped per cell, by finish */
	size_t n_entries, cap_entries;
	size_t entries_hint;   /* entries of the last finished batch */
	bool finished;
	/* Keys of the credits whose contributor is recorded: see window_credit_key(). */
	window_credit_slot *credits;
	size_t credits_mask;   /* slots - 1; the set is kept at most half full */
	size_t n_credits;

	uint32_t epoch;
	uint64_t additions;
};

static uint64_t window_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static uint64_t window_cell_hash(uint16_t behaviour, uint32_t scope, uint8_t gran,
				 int64_t bucket_start_ms)
{
	uint64_t key = (uint64_t)scope << 24 | (uint64_t)behaviour << 8 | gran;
	return window_mix((uint64_t)bucket_start_ms * 0x9e3779b97f4a7c15ull ^ key);
}

uint64_t window_credit_key(const pseudonym *contributor, uint16_t behaviour,
			   const uint32_t *scopes, size_t n_scopes, uint8_t gran,
			   int64_t bucket_start_ms)
{
	uint64_t h;
	memcpy(&h, contributor->bytes, sizeof(h));
	uint64_t k = window_cell_hash(behaviour, 0, gran, bucket_start_ms);
	for (size_t i = 0; i < n_scopes; i++)
		k = window_mix(k ^ (scopes[i] + 1ull) * 0x9e3779b97f4a7c15ull);
	return (h ^ k) ? h ^ k : 1;
}

/*
 * Inside the table a cell's granularity carries WINDOW_CAPPED_BIT when the
 * cell contains capped credits, so that hashing and probing need no other
 * key. Granularity indices are below CONFIG_MAX_GRANULARITIES, far below it.
 */
#define WINDOW_CAPPED_BIT 0x80

static uint8_t window_cell_gran_key(const window_cell *c)
{
	return (uint8_t)(c->gran | (c->capped ? WINDOW_CAPPED_BIT : 0));
}

static bool window_cell_is(const window_cell *c, uint16_t behaviour, uint32_t scope, uint8_t gran,
			   int64_t bucket_start_ms)
{
	return c->bucket_start_ms == bucket_start_ms && c->scope == scope &&
	       c->behaviour == behaviour && window_cell_gran_key(c) == gran;
}

/*
 * Probes for the cell; returns its position, or WINDOW_NONE with *slot at the
 * free slot where it would go.
 */
static uint32_t window_cell_find(const window_batch *b, uint64_t h, uint16_t behaviour,
				 uint32_t scope, uint8_t gran, int64_t start, size_t *slot)
{
	const window_table *t = &b->cell_table;
	size_t i = h & t->mask;
	for (; t->slots[i].epoch == b->epoch; i = (i + 1) & t->mask) {
		uint32_t pos = t->slots[i].pos;
		if (window_cell_is(&b->cells[pos], behaviour, scope, gran, start))
			return pos;
	}
	*slot = i;
	return WINDOW_NONE;
}

/* True when the key is in the credit set; else *slot is where it goes. */
static bool window_credit_find(const window_batch *b, uint64_t key, size_t *slot)
{
	size_t i = key & b->credits_mask;
	for (; b->credits[i].epoch == b->epoch; i = (i + 1) & b->credits_mask)
		if (b->credits[i].key == key)
			return true;
	*slot = i;
	return false;
}

static void window_table_put(const window_batch *b, window_table *t, uint64_t h, uint32_t pos)
{
	size_t i = h & t->mask;
	while (t->slots[i].epoch == b->epoch)
		i = (i + 1) & t->mask;
	t->slots[i] = (window_slot){pos, b->epoch};
}

/* Replaces t with an empty table of the given capacity; 0 or -1. */
static int window_table_alloc(window_table *t, size_t capacity)
{
	window_slot *slots = calloc(capacity, sizeof(*slots)); /* epoch 0: never in use */
	if (!slots)
		return -1;
	free(t->slots);
	t->slots = slots;
	t->mask = capacity - 1;
	return 0;
}

static int window_grow_array(void **array, size_t capacity, size_t size)
{
	void *p = realloc(*array, capacity * size);
	if (!p)
		return -1;
	*array = p;
	return 0;
}

/* Makes room for n more cells; returns 1 if the table was rebuilt, 0, or -1. */
static int window_cells_reserve(window_batch *b, size_t n)
{
	if (b->n_cells + n <= b->cap_cells)
		return 0;
	size_t cap = b->cap_cells ? b->cap_cells : WINDOW_MIN_CAPACITY;
	while (cap < b->n_cells + n)
		cap *= 2;
	if (cap > WINDOW_MAX_ENTRIES)
		return -1;
	if (window_grow_array((void **)&b->cells, cap, sizeof(*b->cells)) < 0 ||
	    window_table_alloc(&b->cell_table, 2 * cap) < 0)
		return -1;
	b->cap_cells = cap;
	for (size_t i = 0; i < b->n_cells; i++) {
		const window_cell *c = &b->cells[i];
		uint64_t h = window_cell_hash(c->behaviour, c->scope, window_cell_gran_key(c),
					      c->bucket_start_ms);
		window_table_put(b, &b->cell_table, h, (uint32_t)i);
	}
	return 1;
}

/* Makes room for n more contributor entries; 0 or -1. */
static int window_entries_reserve(window_batch *b, size_t n)
{
	if (b->n_entries + n <= b->cap_entries)
		return 0;
	size_t cap = b->cap_entries ? b->cap_entries : b->entries_hint + b->entries_hint / 4;
	if (cap < WINDOW_MIN_CAPACITY)
		cap = WINDOW_MIN_CAPACITY;
	while (cap < b->n_entries + n)
		cap *= 2;
	if (cap > WINDOW_MAX_ENTRIES ||
	    window_grow_array((void **)&b->entries, cap, sizeof(*b->entries)) < 0)
		return -1;
	b->cap_entries = cap;
	return 0;
}

/* Makes room for one more credit key, keeping the set at most half full; 0 or -1. */
static int window_credits_reserve(window_batch *b)
{
	size_t slots = b->credits ? b->credits_mask + 1 : 0;

	if (2 * (b->n_credits + 1) <= slots)
		return 0;
	size_t n = slots ? 2 * slots : 2 * WINDOW_MIN_CAPACITY;
	window_credit_slot *credits = calloc(n, sizeof(*credits)); /* epoch 0: free */
	if (!credits)
		return -1;
	for (size_t i = 0; i < slots; i++) {
		if (b->credits[i].epoch != b->epoch)
			continue;
		size_t j = b->credits[i].key & (n - 1);
		while (credits[j].epoch == b->epoch)
			j = (j + 1) & (n - 1);
		credits[j] = b->credits[i];
	}
	free(b->credits);
	b->credits = credits;
	b->credits_mask = n - 1;
	return 0;
}

window_batch *window_batch_new(void)
{
	window_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->epoch = 1;
	if (window_cells_reserve(b, 1) < 0 || window_credits_reserve(b) < 0) {
		window_batch_free(b);
		return NULL;
	}
	return b;
}

void window_batch_free(window_batch *b)
{
	if (!b)
		return;
	free(b->cells);
	free(b->cell_table.slots);
	free(b->entries);
	free(b->members);
	free(b->credits);
	free(b);
}

void window_batch_reset(window_batch *b)
{
	free(b->members);
	b->members = NULL;
	b->finished = false;
	b->n_cells = 0;
	b->n_entries = 0;
	b->n_credits = 0;
	b->additions = 0;
	if (++b->epoch == 0) {
		/* After 2^32 - 1 resets, old epochs could come back: clear once. */
		memset(b->cell_table.slots, 0, (b->cell_table.mask + 1) * sizeof(window_slot));
		memset(b->credits, 0, (b->credits_mask + 1) * sizeof(*b->credits));
		b->epoch = 1;
	}
}

/* Finds the cell, or adds it in room reserved before; returns its position. */
static uint32_t window_cell_get(window_batch *b, uint16_t behaviour, uint32_t scope,
				uint8_t gran, int64_t bucket_start_ms)
{
	uint64_t h = window_cell_hash(behaviour, scope, gran, bucket_start_ms);
	size_t slot = 0;
	uint32_t cell = window_cell_find(b, h, behaviour, scope, gran, bucket_start_ms, &slot);

	if (cell != WINDOW_NONE)
		return cell;
	cell = (uint32_t)b->n_cells++;
	b->cells[cell] = (window_cell){.behaviour = behaviour,
				       .gran = (uint8_t)(gran & ~WINDOW_CAPPED_BIT),
				       .capped = (gran & WINDOW_CAPPED_BIT) != 0,
				       .scope = scope,
				       .bucket_start_ms = bucket_start_ms};
	b->cell_table.slots[slot] = (window_slot){cell, b->epoch};
	return cell;
}

/* Reserves every allocation first, so that a failure changes nothing. */
int window_batch_credit(window_batch *b, uint16_t behaviour, const uint32_t *scopes,
			size_t n_scopes, uint8_t gran, int64_t bucket_start_ms, int64_t delta,
			const pseudonym *contributor)
{
	uint32_t cells[WINDOW_MAX_CREDIT_SCOPES];
	size_t slot = 0;

	if (b->finished || n_scopes > WINDOW_MAX_CREDIT_SCOPES ||
	    window_cells_reserve(b, n_scopes) < 0 ||
	    (contributor &&
	     (window_entries_reserve(b, n_scopes) < 0 || window_credits_reserve(b) < 0)))
		return -1;
	for (size_t i = 0; i < n_scopes; i++) {
		cells[i] = window_cell_get(b, behaviour, scopes[i], gran, bucket_start_ms);
		b->cells[cells[i]].count += delta;
	}
	b->additions += n_scopes;
	if (!contributor)
		return 0;
	uint64_t key = window_credit_key(contributor, behaviour, scopes, n_scopes, gran,
					 bucket_start_ms);
	if (window_credit_find(b, key, &slot))
		return 0;
	b->credits[slot] = (window_credit_slot){key, b->epoch};
	b->n_credits++;
	for (size_t i = 0; i < n_scopes; i++) {
		b->entries[b->n_entries++] = (window_entry){*contributor, cells[i]};
		b->cells[cells[i]].n_members++;
	}
	return 0;
}

int window_batch_credit_capped(window_batch *b, uint16_t behaviour, const uint32_t *scopes,
			       size_t n_scopes, uint8_t gran, int64_t bucket_start_ms, int64_t delta)
{
	if (b->finished || n_scopes > WINDOW_MAX_CREDIT_SCOPES || gran >= WINDOW_CAPPED_BIT ||
	    window_cells_reserve(b, n_scopes) < 0)
		return -1;
	for (size_t i = 0; i < n_scopes; i++) {
		uint32_t cell = window_cell_get(b, behaviour, scopes[i],
						(uint8_t)(gran | WINDOW_CAPPED_BIT), bucket_start_ms);
		b->cells[cell].count += delta;
	}
	return 0;
}

int window_batch_add(window_batch *b, uint16_t behaviour, uint32_t scope, uint8_t gran,
		     int64_t bucket_start_ms, int64_t delta, const pseudonym *contributor)
{
	return window_batch_credit(b, behaviour, &scope, 1, gran, bucket_start_ms, delta,
				   contributor);
}

/*
 * Sorts the entries by cell with a counting sort. first_member is first set
 * to the end of each cell's range. Walking the entries backwards then fills
 * each range from its end, which keeps arrival order and leaves first_member
 * at the start of the range. The entries are freed after.
 */
int window_batch_finish(window_batch *b)
{
	if (b->finished)
		return 0;
	pseudonym *members = malloc((b->n_entries ? b->n_entries : 1) * sizeof(*members));
	if (!members)
		return -1;

	size_t end = 0;
	for (size_t i = 0; i < b->n_cells; i++) {
		end += b->cells[i].n_members;
		b->cells[i].first_member = end;
	}
	for (size_t i = b->n_entries; i-- > 0;) {
		window_cell *c = &b->cells[b->entries[i].cell];
		members[--c->first_member] = b->entries[i].contributor;
	}

	free(b->members);
	b->members = members;
	free(b->entries);
	b->entries = NULL;
	b->cap_entries = 0;
	b->entries_hint = b->n_entries;
	b->finished = true;
	return 0;
}

void window_batch_each_credit(const window_batch *b, void (*fn)(uint64_t key, void *opaque),
			      void *opaque)
{
	for (size_t i = 0; i <= b->credits_mask; i++)
		if (b->credits[i].epoch == b->epoch)
			fn(b->credits[i].key, opaque);
}

size_t window_batch_cell_count(const window_batch *b)
{
	return b->n_cells;
}

const window_cell *window_batch_cell(const window_batch *b, size_t i)
{
	return &b->cells[i];
}

const pseudonym *window_batch_members(const window_batch *b)
{
	return b->members;
}

uint64_t window_batch_additions(const window_batch *b)
{
	return b->additions;
}

size_t window_batch_memory(const window_batch *b)
{
	return b->cap_cells * sizeof(*b->cells) + (b->cell_table.mask + 1) * sizeof(window_slot) +
	       b->cap_entries * sizeof(*b->entries) +
	       (b->members ? b->n_entries * sizeof(*b->members) : 0) +
	       (b->credits_mask + 1) * sizeof(*b->credits);
}
