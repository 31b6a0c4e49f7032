/*
 * redis_scripts.h - the Lua scripts advocacyd runs in Redis, one call each.
 *
 * redis_flush_script applies one batch atomically. KEYS[1] is the owners
 * hash, KEYS[2] the offsets hash. ARGV holds sections, each a count and
 * then its records:
 *
 *   P  partitions:   field "<group>|<topic>|<partition>", owner token,
 *                    first offset, next offset
 *   A  after:        field, next offset: the partitions of the batch sent
 *                    just before this one, whose offsets Redis must store
 *                    (see "unordered" below). None when that batch was
 *                    already acknowledged.
 *   D  id chunks:    dedup key, expire-at (epoch s), m, then m 8-byte ids;
 *                    chunks of one key are adjacent
 *   H  HLL chunks:   key, expire-at or "0", m, then m contributor pseudonyms
 *   C  count chunks: key, expire-at or "0", m, then m pairs of field and
 *                    increment
 *   K  daily caps:   day hash {P}:caps:<day start>, expire-at, m, then m
 *                    entries of 7: index in the caps batch, pseudonym (the
 *                    field), behaviour id, prior, credits, counted, cap
 *                    (see caps.h); records of one day hash are adjacent
 *
 * An expire-at of "0" says that the sender already wrote the key with its
 * expiry on this connection: the script then neither checks the key's type
 * nor sets the expiry again. Every other HLL key is checked to be a
 * HyperLogLog or absent. Counts are read with one HMGET per chunk, added in
 * the script and written back with one HSET, so a stored value that is not
 * an integer is refused before anything is written. HLLs are written
 * first: a known HLL key that another client overwrote since fails there,
 * before any count, and the members added until then are members of this
 * batch, which adding again changes nothing.
 *
 * A day hash field contains one person's counts as "<behaviour>=<n> ...",
 * read with one HMGET per record. For each cap entry the script computes
 * min(credits, cap - stored), at least 0, from the stored count and
 * compares it with the entry's counted. It adds counted to the count,
 * writes each changed field back with HSET and sets the hash's expiry on
 * every write. A field that does not parse is rejected like a counter that
 * is not an integer.
 *
 * It checks everything before it writes anything, and replies:
 *   {1, entry, stored, ...}    applied; the cap entries (their index) whose
 *                              stored value differed from their prior
 *                              without changing what they count, with that
 *                              stored value
 *   {6}                        unordered: an "after" partition's stored
 *                              offset is not the one given, so the batch
 *                              sent before this one was not applied;
 *                              nothing is written. Checked first.
 *   {0, field, stored, ...}    stale: Redis is already past these partitions
 *   {2, id, ...}               these ids were counted before: nothing written
 *   {3, field, ...}            fenced: these partitions are claimed by
 *                              another owner token
 *   {5, entry, stored, ...}    caps changed: these cap entries (their index)
 *                              count otherwise with the stored values given;
 *                              nothing is written
 *   {4, error}                 rejected: a key holds something unexpected
 *                              (wrong type, a counter that is not an
 *                              integer); nothing is written
 * The shebang line makes Redis refuse the whole call up front when it is
 * out of memory, instead of failing half-way.
 *
 * redis_claim_script takes partitions over for one owner token: KEYS as
 * above, ARGV[1] the token, then the partition fields. It replies with the
 * stored next offset of each field, "" when none.
 *
 * redis_governance_swap_script replaces the applied catalog summary in
 * KEYS[1] (the governance hash) when it still contains version ARGV[1] (""
 * for none): ARGV[2] is the new version, ARGV[3] the governance record
 * kept as "pending" until it is delivered, then field and value pairs.
 * It replies {1} when swapped, or {0, stored version} when another
 * instance swapped first. ARGV[4] is the time of the swap (epoch ms),
 * kept as "pending_at"; the fields and values start at ARGV[5].
 *
 * redis_governance_clear_script removes "pending" and "pending_at" from KEYS[1] when the
 * version is still ARGV[1]: the record of that version was delivered.
 */
/*
 * redis_headcount_script writes the headcount history snapshot and
 * redis_departures_script counts departures once each; their arguments are
 * described in redis_scripts.c and README "Headcount history".
 */
#ifndef ADVOCACY_REDIS_SCRIPTS_H
#define ADVOCACY_REDIS_SCRIPTS_H

#include <stddef.h>

extern const char redis_headcount_script[];
extern const size_t redis_headcount_script_len;
extern const char redis_departures_script[];
extern const size_t redis_departures_script_len;
extern const char redis_flush_script[];
extern const size_t redis_flush_script_len;
extern const char redis_claim_script[];
extern const size_t redis_claim_script_len;
extern const char redis_governance_swap_script[];
extern const size_t redis_governance_swap_script_len;
extern const char redis_governance_clear_script[];
extern const size_t redis_governance_clear_script_len;

enum {
	REDIS_SCRIPT_STALE = 0,
	REDIS_SCRIPT_APPLIED = 1,
	REDIS_SCRIPT_DUPLICATE = 2,
	REDIS_SCRIPT_FENCED = 3,
	REDIS_SCRIPT_REJECTED = 4,
	REDIS_SCRIPT_CAPS_CHANGED = 5,
	REDIS_SCRIPT_UNORDERED = 6,
};

#endif
