/*
 * scope_tree.c - scope hierarchy and majority segments (see scope_tree.h).
 *
 * The first pass runs the Boyer-Moore majority vote per team (over its
 * members' departments) and per team and department (over their members'
 * segments). The second pass counts the votes for each winner, which wins
 * only with more than half of the members. A member without a department or
 * segment votes for "none", so a winner "none" means no majority.
 */
#include "scope_tree.h"

#include <stdlib.h>
#include <string.h>

/* Majority vote: its candidate and, after the second pass, the candidate's votes. */
typedef struct scope_vote {
	uint32_t candidate;
	uint32_t count;
} scope_vote;

typedef struct scope_tree_node {
	uint32_t members;      /* people in the scope (teams and departments only) */
	scope_vote department; /* teams: the department of the members */
	scope_vote segment;    /* teams and departments: the segment of the members */
	uint32_t parent;
	uint32_t segment_id;
} scope_tree_node;

struct scope_tree {
	scope_tree_node *nodes;
	/* Per scope: the department of a team when it last had members, kept
	 * across builds, or ROSTER_NO_SCOPE. */
	uint32_t *last_parent;
	uint32_t cap;
	uint32_t n; /* scopes covered by the last build */
};

scope_tree *scope_tree_new(void)
{
	return calloc(1, sizeof(scope_tree));
}

void scope_tree_free(scope_tree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->last_parent);
	free(t);
}

int scope_tree_reserve(scope_tree *t, uint32_t n_scopes)
{
	scope_tree_node *grown;

	if (n_scopes <= t->cap)
		return 0;
	uint32_t *last;

	grown = realloc(t->nodes, (size_t)n_scopes * sizeof(*grown));
	if (!grown)
		return -1;
	t->nodes = grown;
	last = realloc(t->last_parent, (size_t)n_scopes * sizeof(*last));
	if (!last)
		return -1;
	for (uint32_t s = t->cap; s < n_scopes; s++)
		last[s] = ROSTER_NO_SCOPE;
	t->last_parent = last;
	t->cap = n_scopes;
	return 0;
}

/* Casts a vote for x (one step of the Boyer-Moore majority vote). */
static void scope_vote_cast(scope_vote *v, uint32_t x)
{
	if (v->count == 0)
		v->candidate = x;
	if (v->candidate == x)
		v->count++;
	else
		v->count--;
}

/* Returns the person's scope of kind, or ROSTER_NO_SCOPE when missing or past the tree. */
static uint32_t scope_tree_member_of(const scope_tree *t, const roster_person *p, scope_kind kind)
{
	uint32_t s = p->scopes[kind];

	return s < t->n ? s : ROSTER_NO_SCOPE;
}

static void scope_tree_vote(scope_tree *t, const roster_person *p)
{
	uint32_t team = scope_tree_member_of(t, p, SCOPE_TEAM);
	uint32_t department = scope_tree_member_of(t, p, SCOPE_DEPARTMENT);
	uint32_t segment = scope_tree_member_of(t, p, SCOPE_SEGMENT);

	if (team != ROSTER_NO_SCOPE) {
		t->nodes[team].members++;
		scope_vote_cast(&t->nodes[team].department, department);
		scope_vote_cast(&t->nodes[team].segment, segment);
	}
	if (department != ROSTER_NO_SCOPE) {
		t->nodes[department].members++;
		scope_vote_cast(&t->nodes[department].segment, segment);
	}
}

static void scope_tree_count(scope_tree *t, const roster_person *p)
{
	uint32_t team = scope_tree_member_of(t, p, SCOPE_TEAM);
	uint32_t department = scope_tree_member_of(t, p, SCOPE_DEPARTMENT);
	uint32_t segment = scope_tree_member_of(t, p, SCOPE_SEGMENT);

	if (team != ROSTER_NO_SCOPE) {
		t->nodes[team].department.count += t->nodes[team].department.candidate == department;
		t->nodes[team].segment.count += t->nodes[team].segment.candidate == segment;
	}
	if (department != ROSTER_NO_SCOPE)
		t->nodes[department].segment.count += t->nodes[department].segment.candidate == segment;
}

/* Returns the candidate when it has more than half of members, else ROSTER_NO_SCOPE. */
static uint32_t scope_vote_winner(const scope_vote *v, uint32_t members)
{
	return (uint64_t)v->count * 2 > members ? v->candidate : ROSTER_NO_SCOPE;
}

void scope_tree_build(scope_tree *t, const roster *r)
{
	const roster_person *p;
	uint32_t n = roster_scope_count(r);

	t->n = n < t->cap ? n : t->cap;
	if (t->n)
		memset(t->nodes, 0, (size_t)t->n * sizeof(*t->nodes));

	for (size_t i = 0; (p = roster_person_at(r, i)); i++)
		scope_tree_vote(t, p);
	for (uint32_t s = 0; s < t->n; s++) {
		t->nodes[s].department.count = 0;
		t->nodes[s].segment.count = 0;
	}
	for (size_t i = 0; (p = roster_person_at(r, i)); i++)
		scope_tree_count(t, p);

	for (uint32_t s = 0; s < t->n; s++) {
		scope_tree_node *node = &t->nodes[s];
		scope_kind kind = roster_scope_kind(r, s);
		uint32_t department = scope_vote_winner(&node->department, node->members);

		node->parent = s == ROSTER_ORG_SCOPE ? ROSTER_NO_SCOPE : ROSTER_ORG_SCOPE;
		if (kind == SCOPE_TEAM && department != ROSTER_NO_SCOPE)
			node->parent = department;
		/* A team whose members all moved or left keeps its counts in its
		 * department's window, so it stays that department's child. */
		if (kind == SCOPE_TEAM && node->members == 0 && t->last_parent[s] != ROSTER_NO_SCOPE)
			node->parent = t->last_parent[s];
		else if (kind == SCOPE_TEAM && node->members > 0)
			t->last_parent[s] = node->parent;
		node->segment_id = ROSTER_NO_SCOPE;
		if (kind == SCOPE_TEAM || kind == SCOPE_DEPARTMENT)
			node->segment_id = scope_vote_winner(&node->segment, node->members);
	}
}

uint32_t scope_tree_parent(const scope_tree *t, uint32_t scope)
{
	if (scope == ROSTER_ORG_SCOPE)
		return ROSTER_NO_SCOPE;
	return scope < t->n ? t->nodes[scope].parent : ROSTER_ORG_SCOPE;
}

uint32_t scope_tree_segment(const scope_tree *t, uint32_t scope)
{
	return scope < t->n ? t->nodes[scope].segment_id : ROSTER_NO_SCOPE;
}
