/*
 * suppress.c - sibling suppression (see suppress.h).
 *
 * Siblings are grouped by a slot. A team's group is its department's scope
 * id, and the children of org are grouped by kind at slot n + kind, so that
 * departments, teams without a department and the values of each dimension
 * form separate groups. Each round counts the suppressed children of each
 * group and finds its smallest unsuppressed child, then marks that child
 * in the groups with exactly one suppressed child and in the groups of
 * suppressed departments with none. Marks only ever get added, so the
 * rounds stop once one adds nothing, after at most one round per scope.
 */
#include "suppress.h"

#include <stdbool.h>
#include <stdlib.h>

typedef struct suppress_group {
	uint32_t suppressed; /* children suppressed, of size above 0 */
	uint32_t smallest;   /* unsuppressed child of least size, or ROSTER_NO_SCOPE */
} suppress_group;

struct suppress {
	suppress_group *groups; /* cap + SCOPE_KIND_COUNT */
	uint32_t cap;
};

const char *suppress_reason_name(suppress_reason r)
{
	static const char *const names[] = {"none", "small_group", "sibling"};

	if ((unsigned)r >= SUPPRESS_REASON_COUNT)
		return "unknown";
	return names[r];
}

suppress *suppress_new(void)
{
	return calloc(1, sizeof(suppress));
}

void suppress_free(suppress *s)
{
	if (!s)
		return;
	free(s->groups);
	free(s);
}

int suppress_reserve(suppress *s, uint32_t n_scopes)
{
	suppress_group *grown;

	if (n_scopes <= s->cap)
		return 0;
	grown = realloc(s->groups, ((size_t)n_scopes + SCOPE_KIND_COUNT) * sizeof(*grown));
	if (!grown)
		return -1;
	s->groups = grown;
	s->cap = n_scopes;
	return 0;
}

/* Returns the group slot of scope: its department, or n + its kind for a child of org. */
static size_t suppress_slot(const scope_tree *t, const roster *r, uint32_t n, uint32_t scope)
{
	uint32_t parent = scope_tree_parent(t, scope);

	if (parent != ROSTER_ORG_SCOPE && parent < n)
		return parent;
	return (size_t)n + (size_t)roster_scope_kind(r, scope);
}

static void suppress_group_add(suppress_group *g, const int64_t *size, const uint8_t *reason,
			       uint32_t scope)
{
	if (reason[scope] != SUPPRESS_NONE) {
		if (size[scope] > 0)
			g->suppressed++;
		return;
	}
	if (g->smallest == ROSTER_NO_SCOPE || size[scope] < size[g->smallest])
		g->smallest = scope;
}

/*
 * Returns true when group slot g needs one more suppressed child. It does
 * when it has exactly one, or when it is the team group of a suppressed
 * department and has none (the department would be the sum of its visible
 * teams).
 */
static bool suppress_group_exposed(const suppress_group *grp, size_t g, uint32_t n,
				   const roster *r, const int64_t *size, const uint8_t *reason)
{
	if (grp->smallest == ROSTER_NO_SCOPE)
		return false;
	if (grp->suppressed == 1)
		return true;
	return grp->suppressed == 0 && g < n && reason[g] != SUPPRESS_NONE && size[g] > 0 &&
	       roster_scope_kind(r, (uint32_t)g) == SCOPE_DEPARTMENT;
}

/* Runs one round over every group. Returns the number of scopes it marked. */
static size_t suppress_round(suppress *s, const scope_tree *t, const roster *r, uint32_t n,
			     const int64_t *size, uint8_t *reason)
{
	size_t n_slots = (size_t)n + SCOPE_KIND_COUNT, marked = 0;

	for (size_t g = 0; g < n_slots; g++)
		s->groups[g] = (suppress_group){.suppressed = 0, .smallest = ROSTER_NO_SCOPE};

	/* Org (id 0) has no siblings. */
	for (uint32_t scope = 1; scope < n; scope++)
		suppress_group_add(&s->groups[suppress_slot(t, r, n, scope)], size, reason, scope);

	for (size_t g = 0; g < n_slots; g++) {
		if (!suppress_group_exposed(&s->groups[g], g, n, r, size, reason))
			continue;
		reason[s->groups[g].smallest] = SUPPRESS_SIBLING;
		marked++;
	}
	return marked;
}

size_t suppress_siblings(suppress *s, const scope_tree *t, const roster *r, uint32_t n,
			 const int64_t *size, uint8_t *reason)
{
	size_t marked = 0, round;

	if (n == 0 || n > s->cap)
		return 0;
	do {
		round = suppress_round(s, t, r, n, size, reason);
		marked += round;
	} while (round > 0);
	return marked;
}
