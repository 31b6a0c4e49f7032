/*
 * scope_tree.h - the hierarchy of scopes, and the segment of teams and
 * departments, derived from the roster once per tick.
 *
 * The hierarchy:
 *   org > department > team
 *   org > each value of segment, work_mode, employment_type and region
 * Each dimension's values are children of org and siblings of each other,
 * never of the departments. A team's parent is the department that more
 * than half of its current members belong to. A team with no such
 * department (members spread over several, or without one) is a child of
 * org, beside the other such teams. A team without members (all moved or
 * left) keeps the parent it had when it last had members in this process,
 * because its department's window still counts its activity.
 *
 * The segment of a team or department is the roster segment value that more
 * than half of its members share, or none. targets.h uses it to pick a
 * segment target for, say, a frontline team.
 *
 * Both come from one walk over the roster (two passes of a majority vote),
 * O(people) per tick and never per event. Memory grows with the scope count
 * in scope_tree_reserve() only. Single-threaded.
 */
#ifndef ADVOCACY_SCOPE_TREE_H
#define ADVOCACY_SCOPE_TREE_H

#include <stdint.h>

#include "roster.h"

typedef struct scope_tree scope_tree;

scope_tree *scope_tree_new(void);
void scope_tree_free(scope_tree *t);

/* Makes room for n_scopes scope ids. Returns 0, or -1 when out of memory. */
int scope_tree_reserve(scope_tree *t, uint32_t n_scopes);

/*
 * Rebuilds the tree from r's people and scopes. Scope ids at or past the
 * reserved count are left out, so they read as children of org with no
 * segment.
 */
void scope_tree_build(scope_tree *t, const roster *r);

/* Returns the parent of scope: ROSTER_NO_SCOPE for org, else a department or org. */
uint32_t scope_tree_parent(const scope_tree *t, uint32_t scope);

/*
 * Returns the scope id of the majority segment ("segment:<value>") of a team
 * or department, or ROSTER_NO_SCOPE when there is none or scope is another kind.
 */
uint32_t scope_tree_segment(const scope_tree *t, uint32_t scope);

#endif
