/*
 * roster.c - people, their aliases and the scope catalog, in memory.
 *
 * People live in a dense array; an open-addressing index (linear probing,
 * load at most 1/2) maps the employee pseudonym to the array position. Aliases
 * work the same way: a dense array of (alias, person position) and its own
 * index. Pseudonyms are HMAC output, so their first 8 bytes serve as the hash.
 * Removing swaps the last element into the hole and fixes the index slots
 * that pointed at it. The indexes use backward-shift deletion, so they never
 * contain tombstones.
 *
 * An alias belongs to the person who claimed it last. A person's own alias
 * list may still name an alias that someone else took over since; removing or
 * replacing that person then leaves the other owner's mapping alone.
 *
 * Scopes are interned "<kind>:<value>" strings, never removed, so ids stay
 * stable for the life of the process. Each scope keeps its headcount, updated
 * on every upsert and removal; scope 0 is "org" and counts everyone.
 *
 * Thread: single-threaded. Pointers returned by roster_lookup() are valid
 * until the next change to the roster.
 */
#include "roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "decode_json.h"

#define ROSTER_EMPTY UINT32_MAX
#define ROSTER_MIN_CAPACITY 16
/* Maximum length of an attribute value in a roster record, in bytes. */
#define ROSTER_MAX_VALUE_LEN 200

typedef struct roster_entry {
	roster_person person;
	pseudonym *aliases; /* as last upserted; some may now belong to others */
	uint32_t n_aliases;
} roster_entry;

typedef struct roster_alias {
	pseudonym alias;
	uint32_t person; /* position in roster.people */
} roster_alias;

typedef struct roster_scope {
	char *name;
	scope_kind kind;
	uint32_t headcount;
} roster_scope;

/* Open-addressing index of positions into one of the dense arrays. */
typedef struct roster_index {
	uint32_t *slots; /* ROSTER_EMPTY or a position */
	size_t mask;	 /* capacity - 1; capacity is a power of two */
} roster_index;

typedef enum roster_table {
	ROSTER_PEOPLE,
	ROSTER_ALIASES,
	ROSTER_SCOPES,
} roster_table;

struct roster {
	roster_entry *people;
	size_t n_people, cap_people;
	roster_index people_index;

	roster_alias *aliases;
	size_t n_aliases, cap_aliases;
	roster_index alias_index;

	roster_scope *scopes;
	uint32_t n_scopes, cap_scopes;
	roster_index scope_index;
};

/* ------------------------------------------------------------------------ */
/* Hashing and the generic index                                            */

/* pseudonym_equal() without the call, for the lookup path. */
static bool roster_same(const pseudonym *a, const pseudonym *b)
{
	return memcmp(a->bytes, b->bytes, PSEUDONYM_SIZE) == 0;
}

static uint64_t roster_hash_pseudonym(const pseudonym *p)
{
	uint64_t h;
	memcpy(&h, p->bytes, sizeof(h));
	return h;
}

/* FNV-1a; scope names are short and interned outside the hot path. */
static uint64_t roster_hash_name(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static uint64_t roster_hash_at(const roster *r, roster_table t, uint32_t pos)
{
	switch (t) {
	case ROSTER_PEOPLE:
		return roster_hash_pseudonym(&r->people[pos].person.employee);
	case ROSTER_ALIASES:
		return roster_hash_pseudonym(&r->aliases[pos].alias);
	case ROSTER_SCOPES:
		break;
	}
	return roster_hash_name(r->scopes[pos].name);
}

static roster_index *roster_index_of(roster *r, roster_table t)
{
	if (t == ROSTER_PEOPLE)
		return &r->people_index;
	return t == ROSTER_ALIASES ? &r->alias_index : &r->scope_index;
}

static int roster_index_alloc(roster_index *ix, size_t capacity)
{
	uint32_t *slots = malloc(capacity * sizeof(*slots));
	if (!slots)
		return -1;
	memset(slots, 0xff, capacity * sizeof(*slots)); /* every slot ROSTER_EMPTY */
	free(ix->slots);
	ix->slots = slots;
	ix->mask = capacity - 1;
	return 0;
}

/* Places pos in the first free slot of its probe sequence. */
static void roster_index_put(roster *r, roster_table t, uint32_t pos)
{
	roster_index *ix = roster_index_of(r, t);
	size_t i = roster_hash_at(r, t, pos) & ix->mask;
	while (ix->slots[i] != ROSTER_EMPTY)
		i = (i + 1) & ix->mask;
	ix->slots[i] = pos;
}

/* Makes room for n entries at load at most 1/2, rebuilding if it must grow. */
static int roster_index_reserve(roster *r, roster_table t, size_t n)
{
	roster_index *ix = roster_index_of(r, t);
	size_t capacity = ix->slots ? ix->mask + 1 : 0;
	if (2 * n <= capacity)
		return 0;

	size_t grown = capacity ? capacity : ROSTER_MIN_CAPACITY;
	while (2 * n > grown)
		grown *= 2;
	if (roster_index_alloc(ix, grown) < 0)
		return -1;

	size_t count = t == ROSTER_PEOPLE    ? r->n_people
		       : t == ROSTER_ALIASES ? r->n_aliases
					     : r->n_scopes;
	for (size_t pos = 0; pos < count; pos++)
		roster_index_put(r, t, (uint32_t)pos);
	return 0;
}

/*
 * Empties slot i and shifts later entries of the same probe run back, so that
 * lookups never need tombstones. An entry at j may move into the hole at i
 * unless its home slot lies cyclically in (i, j].
 */
static void roster_index_delete_slot(roster *r, roster_table t, size_t i)
{
	roster_index *ix = roster_index_of(r, t);
	size_t j = i;

	for (;;) {
		j = (j + 1) & ix->mask;
		if (ix->slots[j] == ROSTER_EMPTY)
			break;
		size_t home = roster_hash_at(r, t, ix->slots[j]) & ix->mask;
		if (((j - home) & ix->mask) >= ((j - i) & ix->mask)) {
			ix->slots[i] = ix->slots[j];
			i = j;
		}
	}
	ix->slots[i] = ROSTER_EMPTY;
}

/* Returns the slot holding pos; pos must be in the index. */
static size_t roster_index_slot_of(roster *r, roster_table t, uint32_t pos)
{
	roster_index *ix = roster_index_of(r, t);
	size_t i = roster_hash_at(r, t, pos) & ix->mask;
	while (ix->slots[i] != pos)
		i = (i + 1) & ix->mask;
	return i;
}

/* ------------------------------------------------------------------------ */
/* Lookups                                                                  */

static uint32_t roster_find_person(const roster *r, const pseudonym *id)
{
	const roster_index *ix = &r->people_index;
	if (!ix->slots)
		return ROSTER_EMPTY;

	size_t i = roster_hash_pseudonym(id) & ix->mask;
	for (; ix->slots[i] != ROSTER_EMPTY; i = (i + 1) & ix->mask)
		if (roster_same(&r->people[ix->slots[i]].person.employee, id))
			return ix->slots[i];
	return ROSTER_EMPTY;
}

static uint32_t roster_find_alias(const roster *r, const pseudonym *alias)
{
	const roster_index *ix = &r->alias_index;
	if (!ix->slots)
		return ROSTER_EMPTY;

	size_t i = roster_hash_pseudonym(alias) & ix->mask;
	for (; ix->slots[i] != ROSTER_EMPTY; i = (i + 1) & ix->mask)
		if (roster_same(&r->aliases[ix->slots[i]].alias, alias))
			return ix->slots[i];
	return ROSTER_EMPTY;
}

const roster_person *roster_lookup(const roster *r, const pseudonym *id)
{
	uint32_t pos = roster_find_person(r, id);
	if (pos != ROSTER_EMPTY)
		return &r->people[pos].person;

	pos = roster_find_alias(r, id);
	if (pos != ROSTER_EMPTY)
		return &r->people[r->aliases[pos].person].person;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Scopes                                                                   */

static uint32_t roster_scope_find_name(const roster *r, const char *name)
{
	const roster_index *ix = &r->scope_index;
	size_t i = roster_hash_name(name) & ix->mask;
	for (; ix->slots[i] != ROSTER_EMPTY; i = (i + 1) & ix->mask)
		if (strcmp(r->scopes[ix->slots[i]].name, name) == 0)
			return ix->slots[i];
	return ROSTER_NO_SCOPE;
}

/* Adds a scope that is not interned yet; takes ownership of name. */
static uint32_t roster_scope_add(roster *r, scope_kind kind, char *name)
{
	if (r->n_scopes == r->cap_scopes) {
		uint32_t cap = r->cap_scopes ? 2 * r->cap_scopes : ROSTER_MIN_CAPACITY;
		roster_scope *grown = realloc(r->scopes, cap * sizeof(*grown));
		if (!grown)
			goto oom;
		r->scopes = grown;
		r->cap_scopes = cap;
	}
	if (roster_index_reserve(r, ROSTER_SCOPES, (size_t)r->n_scopes + 1) < 0)
		goto oom;

	uint32_t id = r->n_scopes++;
	r->scopes[id] = (roster_scope){.name = name, .kind = kind, .headcount = 0};
	roster_index_put(r, ROSTER_SCOPES, id);
	return id;
oom:
	free(name);
	return ROSTER_NO_SCOPE;
}

/* Returns ROSTER_NO_SCOPE for a missing value (NULL or "") and on OOM. */
uint32_t roster_scope_intern(roster *r, scope_kind kind, const char *value)
{
	if (kind == SCOPE_ORG)
		return ROSTER_ORG_SCOPE;
	if ((unsigned)kind >= SCOPE_KIND_COUNT || !value || !value[0])
		return ROSTER_NO_SCOPE;

	const char *prefix = config_scope_kind_name(kind);
	size_t len = strlen(prefix) + 1 + strlen(value) + 1;
	char *name = malloc(len);
	if (!name)
		return ROSTER_NO_SCOPE;
	snprintf(name, len, "%s:%s", prefix, value);

	uint32_t id = roster_scope_find_name(r, name);
	if (id != ROSTER_NO_SCOPE) {
		free(name);
		return id;
	}
	return roster_scope_add(r, kind, name);
}

uint32_t roster_scope_find(const roster *r, const char *name)
{
	return roster_scope_find_name(r, name);
}

uint32_t roster_scope_count(const roster *r)
{
	return r->n_scopes;
}

const char *roster_scope_name(const roster *r, uint32_t scope)
{
	return scope < r->n_scopes ? r->scopes[scope].name : NULL;
}

scope_kind roster_scope_kind(const roster *r, uint32_t scope)
{
	return scope < r->n_scopes ? r->scopes[scope].kind : SCOPE_ORG;
}

/* Returns 0 for ROSTER_NO_SCOPE and unknown ids. */
uint32_t roster_headcount(const roster *r, uint32_t scope)
{
	return scope < r->n_scopes ? r->scopes[scope].headcount : 0;
}

static void roster_count_person(roster *r, const roster_person *person, int delta)
{
	for (int k = 0; k < SCOPE_KIND_COUNT; k++)
		if (person->scopes[k] != ROSTER_NO_SCOPE)
			r->scopes[person->scopes[k]].headcount += (uint32_t)delta;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */

roster *roster_new(void)
{
	roster *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;

	char *org = strdup("org");
	if (!org || roster_scope_add(r, SCOPE_ORG, org) != ROSTER_ORG_SCOPE) {
		roster_free(r);
		return NULL;
	}
	return r;
}

void roster_free(roster *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_people; i++)
		free(r->people[i].aliases);
	for (uint32_t i = 0; i < r->n_scopes; i++)
		free(r->scopes[i].name);
	free(r->people);
	free(r->people_index.slots);
	free(r->aliases);
	free(r->alias_index.slots);
	free(r->scopes);
	free(r->scope_index.slots);
	free(r);
}

const roster_person *roster_person_at(const roster *r, size_t i)
{
	return i < r->n_people ? &r->people[i].person : NULL;
}

size_t roster_size(const roster *r)
{
	return r->n_people;
}

/* ------------------------------------------------------------------------ */
/* Aliases                                                                  */

/* Removes the alias entry at pos, moving the last entry into its place. */
static void roster_alias_delete(roster *r, uint32_t pos)
{
	uint32_t last = (uint32_t)r->n_aliases - 1;

	roster_index_delete_slot(r, ROSTER_ALIASES, roster_index_slot_of(r, ROSTER_ALIASES, pos));
	if (pos != last) {
		size_t slot = roster_index_slot_of(r, ROSTER_ALIASES, last);
		r->aliases[pos] = r->aliases[last];
		r->alias_index.slots[slot] = pos;
	}
	r->n_aliases--;
}

/* Drops the aliases in the person's list that still point at them. */
static void roster_alias_release(roster *r, uint32_t person)
{
	const roster_entry *e = &r->people[person];
	for (uint32_t i = 0; i < e->n_aliases; i++) {
		uint32_t pos = roster_find_alias(r, &e->aliases[i]);
		if (pos != ROSTER_EMPTY && r->aliases[pos].person == person)
			roster_alias_delete(r, pos);
	}
}

/* Points every alias of the person at person; capacity must be reserved. */
static void roster_alias_claim(roster *r, uint32_t person)
{
	const roster_entry *e = &r->people[person];
	for (uint32_t i = 0; i < e->n_aliases; i++) {
		uint32_t pos = roster_find_alias(r, &e->aliases[i]);
		if (pos == ROSTER_EMPTY) {
			pos = (uint32_t)r->n_aliases++;
			r->aliases[pos].alias = e->aliases[i];
			roster_index_put(r, ROSTER_ALIASES, pos);
		}
		r->aliases[pos].person = person;
	}
}

/* After a person moved from old_pos to new_pos, repoints the aliases they own. */
static void roster_alias_follow(roster *r, uint32_t old_pos, uint32_t new_pos)
{
	const roster_entry *e = &r->people[new_pos];
	for (uint32_t i = 0; i < e->n_aliases; i++) {
		uint32_t pos = roster_find_alias(r, &e->aliases[i]);
		if (pos != ROSTER_EMPTY && r->aliases[pos].person == old_pos)
			r->aliases[pos].person = new_pos;
	}
}

/* ------------------------------------------------------------------------ */
/* Upsert and removal                                                       */

/* Grows a dense array to hold n elements of size each; 0 or -1. */
static int roster_reserve_array(void **array, size_t *cap, size_t n, size_t size)
{
	if (n <= *cap)
		return 0;
	size_t grown = *cap ? *cap : ROSTER_MIN_CAPACITY;
	while (grown < n)
		grown *= 2;
	void *p = realloc(*array, grown * size);
	if (!p)
		return -1;
	*array = p;
	*cap = grown;
	return 0;
}

/* Reserves room for one more person and n_aliases more aliases. */
static int roster_reserve(roster *r, size_t n_aliases)
{
	if (roster_reserve_array((void **)&r->people, &r->cap_people, r->n_people + 1,
				 sizeof(*r->people)) < 0 ||
	    roster_index_reserve(r, ROSTER_PEOPLE, r->n_people + 1) < 0)
		return -1;
	if (roster_reserve_array((void **)&r->aliases, &r->cap_aliases, r->n_aliases + n_aliases,
				 sizeof(*r->aliases)) < 0 ||
	    roster_index_reserve(r, ROSTER_ALIASES, r->n_aliases + n_aliases) < 0)
		return -1;
	return 0;
}

/* Interns the scopes of values into scopes; -1 on OOM. */
static int roster_intern_values(roster *r, const char *const values[SCOPE_KIND_COUNT],
				uint32_t scopes[SCOPE_KIND_COUNT])
{
	scopes[SCOPE_ORG] = ROSTER_ORG_SCOPE;
	for (int k = 1; k < SCOPE_KIND_COUNT; k++) {
		scopes[k] = ROSTER_NO_SCOPE;
		if (!values[k] || !values[k][0])
			continue;
		scopes[k] = roster_scope_intern(r, (scope_kind)k, values[k]);
		if (scopes[k] == ROSTER_NO_SCOPE)
			return -1;
	}
	return 0;
}

/* Aliases beyond ROSTER_MAX_ALIASES are ignored; roster_apply_record() rejects them. */
int roster_upsert(roster *r, const pseudonym *employee, const char *const values[SCOPE_KIND_COUNT],
		  const pseudonym *aliases, size_t n_aliases)
{
	uint32_t scopes[SCOPE_KIND_COUNT];
	pseudonym *copy = NULL;

	/* Everything that can fail comes before the first change. */
	if (n_aliases > ROSTER_MAX_ALIASES)
		n_aliases = ROSTER_MAX_ALIASES;
	if (roster_intern_values(r, values, scopes) < 0 || roster_reserve(r, n_aliases) < 0)
		return -1;
	if (n_aliases > 0) {
		copy = malloc(n_aliases * sizeof(*copy));
		if (!copy)
			return -1;
		memcpy(copy, aliases, n_aliases * sizeof(*copy));
	}

	uint32_t pos = roster_find_person(r, employee);
	if (pos == ROSTER_EMPTY) {
		pos = (uint32_t)r->n_people++;
		r->people[pos].person.employee = *employee;
		roster_index_put(r, ROSTER_PEOPLE, pos);
	} else {
		roster_count_person(r, &r->people[pos].person, -1);
		roster_alias_release(r, pos);
		free(r->people[pos].aliases);
	}

	roster_entry *e = &r->people[pos];
	memcpy(e->person.scopes, scopes, sizeof(scopes));
	e->person.consents = 0;
	memset(e->person.consent_since_ms, 0, sizeof(e->person.consent_since_ms));
	e->aliases = copy;
	e->n_aliases = (uint32_t)n_aliases;
	roster_count_person(r, &e->person, +1);
	roster_alias_claim(r, pos);
	return 0;
}

bool roster_set_consent(roster *r, const pseudonym *employee, consent_purpose purpose, bool given,
			int64_t since_ms)
{
	uint32_t pos = roster_find_person(r, employee);

	if (pos == ROSTER_EMPTY || purpose <= CONSENT_NONE || purpose >= CONSENT_PURPOSE_COUNT)
		return false;
	roster_person *p = &r->people[pos].person;
	if (given)
		p->consents |= 1u << purpose;
	else
		p->consents &= ~(1u << purpose);
	p->consent_since_ms[purpose] = given ? since_ms : 0;
	return true;
}

bool roster_remove(roster *r, const pseudonym *employee)
{
	uint32_t pos = roster_find_person(r, employee);
	if (pos == ROSTER_EMPTY)
		return false;

	roster_count_person(r, &r->people[pos].person, -1);
	roster_alias_release(r, pos);
	free(r->people[pos].aliases);
	roster_index_delete_slot(r, ROSTER_PEOPLE, roster_index_slot_of(r, ROSTER_PEOPLE, pos));

	/* Fill the hole with the last person and repoint what referred to them. */
	uint32_t last = (uint32_t)r->n_people - 1;
	if (pos != last) {
		size_t slot = roster_index_slot_of(r, ROSTER_PEOPLE, last);
		r->people[pos] = r->people[last];
		r->people_index.slots[slot] = pos;
		roster_alias_follow(r, last, pos);
	}
	r->n_people--;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Roster topic records                                                     */

/* JSON field of each scope kind; SCOPE_ORG has none. */
static const char *const roster_fields[SCOPE_KIND_COUNT] = {
    [SCOPE_DEPARTMENT] = "department",
    [SCOPE_TEAM] = "team",
    [SCOPE_SEGMENT] = "segment",
    [SCOPE_WORK_MODE] = "work_mode",
    [SCOPE_EMPLOYMENT_TYPE] = "employment_type",
    [SCOPE_REGION] = "region",
};

/* Checks one attribute string; NULL value means absent. Errors name the field. */
static int roster_check_string(const json_t *v, const char *field, const char **out, char *errstr,
			       size_t errstr_size)
{
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(errstr, errstr_size, "roster record: %s must be a string or null", field);
		return -1;
	}
	size_t len = json_string_length(v);
	if (len > ROSTER_MAX_VALUE_LEN) {
		snprintf(errstr, errstr_size, "roster record: %s is %zu bytes long, maximum is %d",
			 field, len, ROSTER_MAX_VALUE_LEN);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* Pseudonymizes the "aliases" array into aliases[]; at most ROSTER_MAX_ALIASES. */
static int roster_parse_aliases(const json_t *v, privacy *p, pseudonym *aliases, size_t *n,
				char *errstr, size_t errstr_size)
{
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		snprintf(errstr, errstr_size, "roster record: aliases must be an array of strings");
		return -1;
	}
	if (json_array_size(v) > ROSTER_MAX_ALIASES) {
		snprintf(errstr, errstr_size,
			 "roster record: aliases has %zu entries, maximum is %d",
			 json_array_size(v), ROSTER_MAX_ALIASES);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *a = json_array_get(v, i);
		if (!json_is_string(a) || json_string_length(a) == 0) {
			snprintf(errstr, errstr_size,
				 "roster record: aliases[%zu] must be a non-empty string", i);
			return -1;
		}
		privacy_pseudonym(p, json_string_value(a), json_string_length(a), &aliases[i]);
	}
	*n = json_array_size(v);
	return 0;
}

/* A purpose's consent as a record states it; since_ms is 0 when it gives no time. */
typedef struct roster_consent {
	bool given;
	int64_t since_ms;
} roster_consent;

static int roster_consent_error(const char *purpose, char *errstr, size_t errstr_size)
{
	snprintf(errstr, errstr_size,
		 "roster record: consent.%s must be true, false, null or "
		 "{\"given\": true|false, \"since\": RFC 3339 time or epoch number}",
		 purpose);
	return -1;
}

/* Reads {"given": bool, "since": time} into *c. */
static int roster_parse_consent_object(const json_t *v, const char *purpose, roster_consent *c,
				       char *errstr, size_t errstr_size)
{
	const json_t *given = json_object_get(v, "given");
	const json_t *since = json_object_get(v, "since");

	if (!json_is_boolean(given))
		return roster_consent_error(purpose, errstr, errstr_size);
	c->given = json_is_true(given);
	if (!c->given || !since || json_is_null(since))
		return 0;
	c->since_ms = decode_json_time(since);
	if (c->since_ms <= 0) {
		snprintf(errstr, errstr_size,
			 "roster record: consent.%s.since must be an RFC 3339 time with an "
			 "offset (2026-03-01T09:00:00Z) or epoch seconds or milliseconds",
			 purpose);
		return -1;
	}
	return 0;
}

/* Reads the "consent" object into consents[], indexed by purpose; absent means not given. */
static int roster_parse_consents(const json_t *v, roster_consent consents[CONSENT_PURPOSE_COUNT],
				 char *errstr, size_t errstr_size)
{
	memset(consents, 0, CONSENT_PURPOSE_COUNT * sizeof(*consents));
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		snprintf(errstr, errstr_size,
			 "roster record: consent must be an object of purposes, e.g. "
			 "{\"external_sharing\": true}");
		return -1;
	}
	for (int purpose = CONSENT_NONE + 1; purpose < CONSENT_PURPOSE_COUNT; purpose++) {
		const char *name = config_consent_name((consent_purpose)purpose);
		const json_t *c = json_object_get(v, name);
		if (!c || json_is_null(c) || json_is_boolean(c))
			consents[purpose].given = json_is_true(c);
		else if (!json_is_object(c))
			return roster_consent_error(name, errstr, errstr_size);
		else if (roster_parse_consent_object(c, name, &consents[purpose], errstr,
						     errstr_size) < 0)
			return -1;
	}
	return 0;
}

static void roster_apply_consents(roster *r, const pseudonym *employee,
				  const roster_consent consents[CONSENT_PURPOSE_COUNT])
{
	for (int purpose = CONSENT_NONE + 1; purpose < CONSENT_PURPOSE_COUNT; purpose++)
		roster_set_consent(r, employee, (consent_purpose)purpose, consents[purpose].given,
				   consents[purpose].since_ms);
}

/*
 * Reads "left_at": 0 when absent or null, 1 with *left_at_ms set, -1 when it
 * is not a time.
 */
static int roster_parse_left_at(const json_t *v, int64_t *left_at_ms, char *errstr,
				size_t errstr_size)
{
	*left_at_ms = 0;
	if (!v || json_is_null(v))
		return 0;
	*left_at_ms = decode_json_time(v);
	if (*left_at_ms <= 0) {
		snprintf(errstr, errstr_size,
			 "roster record: left_at must be an RFC 3339 time with an offset "
			 "(2026-03-01T09:00:00Z) or epoch seconds or milliseconds, or null");
		return -1;
	}
	return 1;
}

/* Removes the person, reporting it as a departure at at_ms when they were present. */
static void roster_depart(roster *r, const pseudonym *employee, int64_t at_ms,
			  roster_departure *departure)
{
	uint32_t pos = roster_find_person(r, employee);

	if (pos != ROSTER_EMPTY && departure) {
		departure->left = true;
		departure->employee = *employee;
		departure->at_ms = at_ms;
		memcpy(departure->scopes, r->people[pos].person.scopes, sizeof(departure->scopes));
	}
	roster_remove(r, employee);
}

static int roster_apply_json(roster *r, privacy *p, const pseudonym *employee, const json_t *root,
			     roster_departure *departure, char *errstr, size_t errstr_size)
{
	int64_t left_at_ms;
	int left;

	const char *values[SCOPE_KIND_COUNT] = {NULL};
	pseudonym aliases[ROSTER_MAX_ALIASES];
	roster_consent consents[CONSENT_PURPOSE_COUNT];
	size_t n_aliases = 0;

	if (!json_is_object(root)) {
		snprintf(errstr, errstr_size, "roster record: value must be a JSON object");
		return -1;
	}
	for (int k = 1; k < SCOPE_KIND_COUNT; k++) {
		const char *field = roster_fields[k];
		if (roster_check_string(json_object_get(root, field), field, &values[k], errstr,
					errstr_size) < 0)
			return -1;
	}
	if (roster_parse_aliases(json_object_get(root, "aliases"), p, aliases, &n_aliases, errstr,
				 errstr_size) < 0 ||
	    roster_parse_consents(json_object_get(root, "consent"), consents, errstr,
				  errstr_size) < 0)
		return -1;
	left = roster_parse_left_at(json_object_get(root, "left_at"), &left_at_ms, errstr,
				    errstr_size);
	if (left < 0)
		return -1;
	if (left) {
		roster_depart(r, employee, left_at_ms, departure);
		return 0;
	}

	if (roster_upsert(r, employee, values, aliases, n_aliases) < 0) {
		snprintf(errstr, errstr_size, "roster record: out of memory");
		return -1;
	}
	roster_apply_consents(r, employee, consents);
	return 0;
}

int roster_apply_record(roster *r, privacy *p, const char *key, size_t key_len, const char *value,
			size_t value_len, char *errstr, size_t errstr_size)
{
	return roster_apply_record_at(r, p, key, key_len, value, value_len, -1, NULL, errstr,
				      errstr_size);
}

/* A NULL or empty value is a tombstone: some producers cannot send a null value. */
int roster_apply_record_at(roster *r, privacy *p, const char *key, size_t key_len,
			   const char *value, size_t value_len, int64_t timestamp_ms,
			   roster_departure *departure, char *errstr, size_t errstr_size)
{
	pseudonym employee;
	json_error_t jerr;

	if (!key || key_len == 0) {
		snprintf(errstr, errstr_size, "roster record: missing key (the employee id)");
		return -1;
	}
	privacy_pseudonym(p, key, key_len, &employee);
	if (departure)
		departure->left = false;
	if (!value || value_len == 0) {
		roster_depart(r, &employee, timestamp_ms, departure);
		return 0;
	}

	if (value_len > ROSTER_MAX_RECORD_LEN) {
		snprintf(errstr, errstr_size,
			 "roster record: value is %zu bytes long, maximum is %d; a record "
			 "holds one person's scope attributes and aliases",
			 value_len, ROSTER_MAX_RECORD_LEN);
		return -1;
	}

	/*
	 * Without JSON_ALLOW_NUL jansson rejects "\u0000", so strings hold no
	 * NUL. jerr.text can quote the input, so only its position is reported.
	 */
	json_t *root =
	    json_loadb(value, value_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		snprintf(errstr, errstr_size, "roster record: invalid JSON at line %d, column %d",
			 jerr.line, jerr.column);
		return -1;
	}
	int rc = roster_apply_json(r, p, &employee, root, departure, errstr, errstr_size);
	json_decref(root);
	return rc;
}
