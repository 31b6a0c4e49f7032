/*
 * suppress.h - which scopes of a tick get no figure, and why.
 *
 * A scope is suppressed for reason small_group when it is below the
 * minimum group size (kpi.h decides that per KPI: headcount, and
 * respondents for eNPS). Sibling suppression then protects it from
 * subtraction. A parent's figure minus the figures of its visible children
 * (scope_tree.h) is the figure of its hidden children together. When those
 * cover fewer people than the minimum size, the smallest visible sibling is
 * suppressed too, for reason sibling. That happens for one small child
 * alone, or for two small ones of 2 each against a minimum of 5. Smallest
 * means by the same size, with the lowest scope id on a tie. A suppressed child of size 0 hides nothing
 * and does not count as suppressed here.
 *
 * A department suppressed this way would still be the sum of its teams, so
 * a suppressed department whose teams are all visible gets its smallest
 * team suppressed too, and then the rule above applies to that team's
 * siblings. The rules repeat until they add nothing.
 *
 * The people a parent and its children do not share (members of the
 * parent in none of the children, such as people without a team or region,
 * and members of a child outside the parent, such as a team spanning two
 * departments) are hidden as well, so they count towards the hidden part.
 * A team whose members all left stays a child of its department
 * (scope_tree.h) and counts as suppressed while it has a figure.
 * Where that department is not known (after a restart), a department whose
 * count its teams do not add up to, with every member in one of them, is
 * treated as hiding a part smaller than the minimum.
 *
 * NOTE: this guards subtraction within the hierarchy. Sums across
 * dimensions (a department with the same people as one region) can still
 * narrow a suppressed figure down. Closing those needs a full
 * complementary suppression search, which this does not attempt.
 *
 * Memory grows with the scope count in suppress_reserve() only, so any
 * call after that allocates nothing. Single-threaded.
 */
#ifndef ADVOCACY_SUPPRESS_H
#define ADVOCACY_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "scope_tree.h"

typedef enum suppress_reason {
	SUPPRESS_NONE = 0,
	SUPPRESS_SMALL_GROUP,
	SUPPRESS_SIBLING,
	SUPPRESS_REASON_COUNT, /* number of values, not a reason */
} suppress_reason;

/* Returns "none", "small_group" or "sibling", or "unknown" when r is out of range. */
const char *suppress_reason_name(suppress_reason r);

typedef struct suppress suppress;

suppress *suppress_new(void);
void suppress_free(suppress *s);

/* Makes room for n_scopes scope ids. Returns 0, or -1 when out of memory. */
int suppress_reserve(suppress *s, uint32_t n_scopes);

/* What a hidden part of a group must cover, and how it is measured. */
typedef struct suppress_limits {
	int64_t min_size;     /* minimum people (or respondents) a hidden part must cover */
	/* True when sizes are not people (eNPS respondents): people outside a
	 * group's children then make it hidden but add nothing to its size. */
	bool outside_unsized;
	/* The KPI's count per scope, or NULL. A department whose count differs
	 * from its teams' sum while all its members are in them has a hidden
	 * part of unknown size. */
	const int64_t *figure;
} suppress_limits;

/*
 * Applies sibling suppression to the scopes 0..n-1. reason[i] is
 * SUPPRESS_SMALL_GROUP or SUPPRESS_NONE on entry, and size[i] the size that
 * decided it. Sets SUPPRESS_SIBLING on the siblings to hide and returns how
 * many it set. Does nothing when n is 0 or exceeds the reserved count.
 */
size_t suppress_siblings(suppress *s, const scope_tree *t, const roster *r, uint32_t n,
			 const suppress_limits *limits, const int64_t *size, uint8_t *reason);

#endif
