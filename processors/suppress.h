/*
 * suppress.h - which scopes of a tick get no figure, and why.
 *
 * A scope is suppressed for reason small_group when it is below the
 * minimum group size (kpi.h decides that per KPI: headcount, and
 * respondents for eNPS). Sibling suppression then protects it from
 * subtraction. When exactly one child of a parent (scope_tree.h) is
 * suppressed for small_group, the parent's figure minus the figures of the
 * other children would give it away. So the smallest remaining sibling is
 * suppressed too, for reason sibling. Smallest means by the same size, with
 * the lowest scope id on a tie. A suppressed child of size 0 hides nothing
 * and does not count as suppressed here.
 *
 * A department suppressed this way would still be the sum of its teams, so
 * a suppressed department whose teams are all visible gets its smallest
 * team suppressed too, and then the rule above applies to that team's
 * siblings. The rules repeat until they add nothing.
 *
 * NOTE: this guards subtraction within the hierarchy (a parent minus its
 * children, a department as the sum of its teams). Sums across dimensions
 * (a department with the same people as one region) and people without a
 * department or team can still narrow a suppressed figure down. Closing
 * those needs a full complementary suppression search, which this does
 * not attempt.
 *
 * Memory grows with the scope count in suppress_reserve() only, so any
 * call after that allocates nothing. Single-threaded.
 */
#ifndef ADVOCACY_SUPPRESS_H
#define ADVOCACY_SUPPRESS_H

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

/*
 * Applies sibling suppression to the scopes 0..n-1. reason[i] is
 * SUPPRESS_SMALL_GROUP or SUPPRESS_NONE on entry, size[i] the size that
 * decided it. Sets SUPPRESS_SIBLING on the siblings to hide and returns how
 * many it set. Does nothing when n is 0 or exceeds the reserved count.
 */
size_t suppress_siblings(suppress *s, const scope_tree *t, const roster *r, uint32_t n,
			 const int64_t *size, uint8_t *reason);

#endif
