/*
 * roster.h - the employee roster as an in-memory table, and the scope catalog.
 *
 * The roster topic carries one JSON record per employee, keyed by employee id:
 *   {"department": "...", "team": "...", "segment": "frontline",
 *    "work_mode": "remote", "employment_type": "full_time", "region": "EMEA",
 *    "aliases": ["U024BE7LH", "someone@example.com"],
 *    "consent": {"external_sharing": true}}
 * A NULL value (tombstone) removes the person. A record whose "left_at"
 * holds a time (RFC 3339 or epoch number) removes the person too: both are
 * departures (see roster_apply_record_at()). A value longer than
 * ROSTER_MAX_RECORD_LEN is rejected before it is parsed: real records are a
 * few hundred bytes, and a multi-megabyte one would only cost parse memory.
 * The employee id and each alias
 * are pseudonymized on arrival; only pseudonyms are stored. Aliases let events
 * from platforms with their own user ids (Slack, Teams) find the person.
 *
 * Consent: "consent" maps a purpose (config_consent_name()) to true, false
 * or {"given": true, "since": <RFC 3339 time or epoch number>}; purposes
 * this build does not know are ignored, and absent means not given. Only a
 * bit and a time per purpose are kept, in memory: a later record without the
 * consent withdraws it from the moment it is applied, and nothing of it is
 * written anywhere.
 *
 * Scopes are interned strings with small ids: id 0 is "org", the others read
 * "<kind>:<value>", e.g. "team:Payments". Scope ids are stable for the life of
 * the process only; anything persisted uses the scope name. The roster keeps
 * each scope's current headcount.
 *
 * Single-threaded.
 */
#ifndef ADVOCACY_ROSTER_H
#define ADVOCACY_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "privacy.h"

#define ROSTER_NO_SCOPE UINT32_MAX
#define ROSTER_ORG_SCOPE 0u
#define ROSTER_MAX_ALIASES 8
#define ROSTER_MAX_RECORD_LEN (64 * 1024)

typedef struct roster_person {
	pseudonym employee;                 /* pseudonym of the employee id */
	uint32_t scopes[SCOPE_KIND_COUNT];  /* scope id per kind, ROSTER_NO_SCOPE if missing */
	uint32_t consents;                  /* bit p: consent to purpose p is on record */
	int64_t consent_since_ms[CONSENT_PURPOSE_COUNT]; /* when given; 0: no time recorded */
} roster_person;

/*
 * True when the person's consent to purpose is on record and the event time
 * t_ms is not before the time the consent was given (when the record gives
 * one), because consent is never retroactive. CONSENT_NONE is always true.
 */
static inline bool roster_has_consent(const roster_person *p, consent_purpose purpose,
				      int64_t t_ms)
{
	if (purpose == CONSENT_NONE)
		return true;
	if (!(p->consents >> purpose & 1u))
		return false;
	return t_ms >= p->consent_since_ms[purpose];
}

typedef struct roster roster;

roster *roster_new(void);
void roster_free(roster *r);

/*
 * Inserts or replaces a person. values[k] is the attribute for scope kind k
 * (values[SCOPE_ORG] is ignored), NULL or "" when missing. Replacing moves
 * the headcounts. Returns 0, or -1 when out of memory.
 */
int roster_upsert(roster *r, const pseudonym *employee,
                  const char *const values[SCOPE_KIND_COUNT],
                  const pseudonym *aliases, size_t n_aliases);

/*
 * Records the person's consent to purpose as given (since since_ms, 0 when
 * unknown) or not given. roster_upsert() clears every consent, because a
 * record replaces the whole person. Returns false when the person is not in
 * the roster or purpose is not a purpose.
 */
bool roster_set_consent(roster *r, const pseudonym *employee, consent_purpose purpose, bool given,
			int64_t since_ms);

/* Removes the person and their aliases. Returns true if they were present. */
bool roster_remove(roster *r, const pseudonym *employee);

/*
 * Applies one roster topic record: key is the raw employee id, value the JSON
 * record or NULL for a tombstone. Returns 0, or -1 with errstr saying what is
 * wrong with the record (never quoting its content).
 */
int roster_apply_record(roster *r, privacy *p, const char *key, size_t key_len,
                        const char *value, size_t value_len,
                        char *errstr, size_t errstr_size);

/* A person who left the roster, with the scopes they had just before. */
typedef struct roster_departure {
	bool left;                          /* false: the record was no departure */
	pseudonym employee;
	int64_t at_ms;                      /* left_at, or the tombstone's timestamp */
	uint32_t scopes[SCOPE_KIND_COUNT];
} roster_departure;

/*
 * roster_apply_record() that also reports a departure: a tombstone of a
 * person in the roster (at timestamp_ms, the Kafka message time; -1 when
 * there is none), or a record with "left_at" of a person in the roster. Both
 * remove the person. A moved person (new team) is no departure, and neither
 * is a tombstone or left_at record of someone not in the roster, so a
 * tombstone after a left_at record counts nothing. departure may be NULL.
 */
int roster_apply_record_at(roster *r, privacy *p, const char *key, size_t key_len,
                           const char *value, size_t value_len, int64_t timestamp_ms,
                           roster_departure *departure, char *errstr, size_t errstr_size);

/* Finds a person by the pseudonym of their employee id or of an alias. */
const roster_person *roster_lookup(const roster *r, const pseudonym *id);

size_t roster_size(const roster *r);

/*
 * The person at position i, 0 <= i < roster_size(), for walks over the
 * whole roster; NULL past the end. Positions change on every removal.
 */
const roster_person *roster_person_at(const roster *r, size_t i);

/* Scope catalog. Scope ids run from 0 to roster_scope_count() - 1. */
uint32_t roster_scope_count(const roster *r);
const char *roster_scope_name(const roster *r, uint32_t scope);
scope_kind roster_scope_kind(const roster *r, uint32_t scope);
/* Returns the id of "<kind>:<value>" (interning it), ROSTER_NO_SCOPE on OOM. */
uint32_t roster_scope_intern(roster *r, scope_kind kind, const char *value);
/* Returns the id of a full scope name such as "team:Payments", or ROSTER_NO_SCOPE. */
uint32_t roster_scope_find(const roster *r, const char *name);
/* Current number of people in the scope; org is everyone. */
uint32_t roster_headcount(const roster *r, uint32_t scope);

#endif
