/*
 * suppress.c - sibling suppression (see suppress.h).
 *
 * Siblings are grouped by a slot. A team's group is its department's scope
 * id, and the children of org are grouped by kind at slot n + kind, so that
 * departments, teams without a department and the values of each dimension
 * form separate groups. Each round sums the sizes of the suppressed
 * children of each group, plus the people outside its children, and finds
 * its smallest unsuppressed child. It marks that child in the groups whose
 * hidden part covers fewer than the minimum size, and in the groups of
 * suppressed departments that hide nothing. Marks only ever get added, so
 * the rounds stop once one adds nothing, after at most one round per scope.
 */
#include "suppress.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct suppress_group {
	int64_t hidden;    /* sizes of the suppressed children, plus the people outside */
	bool any_hidden;   /* a suppressed child of size above 0, or anyone outside */
	uint32_t smallest; /* unsuppressed child of least size, or ROSTER_NO_SCOPE */
} suppress_group;

struct suppress {
	suppress_group *groups; /* cap + SCOPE_KIND_COUNT */
	int64_t *outside;       /* per group slot: people of the parent in no child, and
				 * people of a child outside the parent */
	int64_t *children_sum;  /* per department: the figures of its teams added up */
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
	free(s->outside);
	free(s->children_sum);
	free(s);
}

int suppress_reserve(suppress *s, uint32_t n_scopes)
{
	suppress_group *grown;

	if (n_scopes <= s->cap)
		return 0;
	int64_t *outside;

	grown = realloc(s->groups, ((size_t)n_scopes + SCOPE_KIND_COUNT) * sizeof(*grown));
	if (!grown)
		return -1;
	s->groups = grown;
	outside = realloc(s->outside, ((size_t)n_scopes + SCOPE_KIND_COUNT) * sizeof(*outside));
	if (!outside)
		return -1;
	s->outside = outside;
	outside = realloc(s->children_sum, (size_t)n_scopes * sizeof(*outside));
	if (!outside)
		return -1;
	s->children_sum = outside;
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
		if (size[scope] > 0) {
			g->hidden += size[scope];
			g->any_hidden = true;
		}
		return;
	}
	if (g->smallest == ROSTER_NO_SCOPE || size[scope] < size[g->smallest])
		g->smallest = scope;
}

/* The person's scope of kind, or ROSTER_NO_SCOPE when missing or not below n. */
static uint32_t suppress_member_of(const roster_person *p, scope_kind kind, uint32_t n)
{
	uint32_t scope = p->scopes[kind];

	return scope < n ? scope : ROSTER_NO_SCOPE;
}

/*
 * Counts, per group slot, the people that the parent's figure and its
 * children's figures do not share. These are members of the parent in none
 * of the group's children (no team, or a team placed under another
 * department) and members of a child outside the parent (a team that spans
 * two departments). Parent minus children is a figure of those people.
 */
static void suppress_count_outside(suppress *s, const scope_tree *t, const roster *r, uint32_t n)
{
	const roster_person *p;

	memset(s->outside, 0, ((size_t)n + SCOPE_KIND_COUNT) * sizeof(*s->outside));
	for (size_t i = 0; (p = roster_person_at(r, i)); i++) {
		uint32_t department = suppress_member_of(p, SCOPE_DEPARTMENT, n);
		uint32_t team = suppress_member_of(p, SCOPE_TEAM, n);
		uint32_t team_parent = team != ROSTER_NO_SCOPE ? scope_tree_parent(t, team)
							       : ROSTER_NO_SCOPE;

		if (department != ROSTER_NO_SCOPE && team_parent != department)
			s->outside[department]++;
		if (team_parent < n && team_parent != ROSTER_ORG_SCOPE && team_parent != department)
			s->outside[team_parent]++;
		if (team_parent != ROSTER_ORG_SCOPE)
			s->outside[(size_t)n + SCOPE_TEAM]++;
		for (int k = SCOPE_DEPARTMENT; k < SCOPE_KIND_COUNT; k++)
			if (k != SCOPE_TEAM && suppress_member_of(p, (scope_kind)k, n) == ROSTER_NO_SCOPE)
				s->outside[(size_t)n + (size_t)k]++;
	}
}

/*
 * Returns true when group slot g needs one more suppressed child. It does
 * when its hidden part (parent minus the visible children) covers fewer
 * than min_size, or when it is the team group of a suppressed department
 * and hides nothing, because the department is then the sum of its teams.
 */
static bool suppress_group_exposed(const suppress_group *grp, size_t g, uint32_t n,
				   int64_t min_size, const roster *r, const int64_t *size,
				   const uint8_t *reason)
{
	if (grp->smallest == ROSTER_NO_SCOPE)
		return false;
	if (grp->any_hidden)
		return grp->hidden < min_size;
	return g < n && reason[g] != SUPPRESS_NONE && size[g] > 0 &&
	       roster_scope_kind(r, (uint32_t)g) == SCOPE_DEPARTMENT;
}

/*
 * Adds up, per department, the figures of the teams under it. A department
 * whose figure differs while every member is in one of its teams contains
 * activity of people it no longer has, such as a team whose members all
 * moved and whose department is unknown after a restart. That activity is
 * a hidden part of unknown size.
 */
static void suppress_sum_children(suppress *s, const scope_tree *t, const roster *r, uint32_t n,
				  const int64_t *figure)
{
	memset(s->children_sum, 0, (size_t)n * sizeof(*s->children_sum));
	for (uint32_t scope = 1; scope < n; scope++) {
		uint32_t parent = scope_tree_parent(t, scope);

		if (roster_scope_kind(r, scope) == SCOPE_TEAM && parent < n &&
		    parent != ROSTER_ORG_SCOPE)
			s->children_sum[parent] += figure[scope];
	}
}

/* Returns true when department slot g has activity that neither its teams nor its people outside them explain. */
static bool suppress_unexplained(const suppress *s, const roster *r, uint32_t n, size_t g,
				 const int64_t *figure)
{
	return figure && g < n && s->outside[g] == 0 &&
	       roster_scope_kind(r, (uint32_t)g) == SCOPE_DEPARTMENT &&
	       figure[g] != s->children_sum[g];
}

/* Runs one round over every group. Returns the number of scopes it marked. */
static size_t suppress_round(suppress *s, const scope_tree *t, const roster *r, uint32_t n,
			     const suppress_limits *limits, const int64_t *size, uint8_t *reason)
{
	size_t n_slots = (size_t)n + SCOPE_KIND_COUNT, marked = 0;

	/* The people outside the children are hidden too. When sizes are not
	 * people (respondents), they count as present but add nothing. */
	for (size_t g = 0; g < n_slots; g++)
		s->groups[g] = (suppress_group){
		    .hidden = limits->outside_unsized ? 0 : s->outside[g],
		    .any_hidden = s->outside[g] > 0 ||
				  suppress_unexplained(s, r, n, g, limits->figure),
		    .smallest = ROSTER_NO_SCOPE,
		};

	/* Org (id 0) has no siblings. */
	for (uint32_t scope = 1; scope < n; scope++)
		suppress_group_add(&s->groups[suppress_slot(t, r, n, scope)], size, reason, scope);

	for (size_t g = 0; g < n_slots; g++) {
		if (!suppress_group_exposed(&s->groups[g], g, n, limits->min_size, r, size, reason))
			continue;
		reason[s->groups[g].smallest] = SUPPRESS_SIBLING;
		marked++;
	}
	return marked;
}

size_t suppress_siblings(suppress *s, const scope_tree *t, const roster *r, uint32_t n,
			 const suppress_limits *limits, const int64_t *size, uint8_t *reason)
{
	size_t marked = 0, round;

	if (n == 0 || n > s->cap)
		return 0;
	suppress_count_outside(s, t, r, n);
	if (limits->figure)
		suppress_sum_children(s, t, r, n, limits->figure);
	do {
		round = suppress_round(s, t, r, n, limits, size, reason);
		marked += round;
	} while (round > 0);
	return marked;
}
