/*
 * classify.c - configured rules matched against decoded events.
 *
 * classify_new() flattens the rules of all behaviours into one array and
 * turns every filter string into an event_str with its length. It then groups
 * the rules by event kind in a table of the distinct kinds, each with the
 * positions of the rules that name it, in configuration order.
 * classify_event() finds the event's kind in that table (length first, then
 * bytes) and checks only those rules' other filters. Hits come out in
 * configuration order, behaviour by behaviour and rule by rule.
 *
 * Thread: read-only after classify_new(), so one classifier may serve several
 * threads. Nothing on the classify_event() path allocates.
 */
#include "classify.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct classify_list {
	const event_str *items;
	size_t n;
} classify_list;

typedef struct classify_rule {
	classify_hit hit; /* what a match yields */
	bool requires_targets;
	classify_list sources;	 /* empty: any */
	classify_list channels;	 /* empty: any */
	classify_list reactions; /* empty: any */
	classify_list networks;	 /* values of the "network" attribute; empty: any */
} classify_rule;

/* One distinct event kind and the rules naming it. */
typedef struct classify_kind {
	event_str kind;
	size_t first; /* into classifier.rule_refs */
	size_t n;
} classify_kind;

struct classifier {
	classify_rule *rules;
	size_t n_rules;
	classify_kind *kinds;
	size_t n_kinds;
	size_t *rule_refs;  /* rule positions, grouped by kind */
	event_str *strings; /* storage behind every classify_list */
};

static bool classify_str_equal(event_str a, event_str b)
{
	return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* An absent value (len 0) never matches a non-empty list. */
static bool classify_list_match(const classify_list *l, event_str s)
{
	if (l->n == 0)
		return true;
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (classify_str_equal(l->items[i], s))
			return true;
	return false;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                 */

/* Copies config strings into event_str storage at *next and advances it. */
static classify_list classify_list_make(char *const *strings, size_t n, event_str **next)
{
	classify_list l = {*next, n};
	for (size_t i = 0; i < n; i++)
		(*next)[i] = (event_str){strings[i], strlen(strings[i])};
	*next += n;
	return l;
}

static size_t classify_count_strings(const config *cfg, size_t *n_rules)
{
	size_t n = 0;
	*n_rules = 0;
	for (size_t b = 0; b < cfg->n_behaviours; b++) {
		const config_behaviour *beh = &cfg->behaviours[b];
		*n_rules += beh->n_rules;
		for (size_t r = 0; r < beh->n_rules; r++) {
			const config_rule *rule = &beh->rules[r];
			n += rule->n_kinds + rule->n_sources + rule->n_channels + rule->n_reactions +
			     rule->n_networks;
		}
	}
	return n;
}

/* Fills c->rules and lays out every filter list; kinds go to *kind_lists. */
static void classify_fill_rules(classifier *c, const config *cfg, classify_list *kind_lists)
{
	event_str *next = c->strings;
	size_t i = 0;

	for (size_t b = 0; b < cfg->n_behaviours; b++) {
		const config_behaviour *beh = &cfg->behaviours[b];
		for (size_t r = 0; r < beh->n_rules; r++, i++) {
			const config_rule *rule = &beh->rules[r];
			classify_rule *cr = &c->rules[i];
			cr->hit.behaviour = (uint16_t)b;
			cr->hit.credit = rule->credit;
			cr->hit.effect = rule->effect < 0 ? -1 : +1;
			cr->hit.consent = rule->requires_consent;
			cr->hit.amount_attribute = rule->amount_attribute;
			cr->hit.amount_max = rule->amount_max;
			cr->hit.amount = 1;
			cr->requires_targets = rule->requires_targets;
			kind_lists[i] = classify_list_make(rule->kinds, rule->n_kinds, &next);
			cr->sources = classify_list_make(rule->sources, rule->n_sources, &next);
			cr->channels = classify_list_make(rule->channels, rule->n_channels, &next);
			cr->reactions =
			    classify_list_make(rule->reactions, rule->n_reactions, &next);
			cr->networks = classify_list_make(rule->networks, rule->n_networks, &next);
		}
	}
}

static classify_kind *classify_find_kind(classify_kind *kinds, size_t n, event_str kind)
{
	for (size_t i = 0; i < n; i++)
		if (classify_str_equal(kinds[i].kind, kind))
			return &kinds[i];
	return NULL;
}

/*
 * Groups rule positions by distinct kind, keeping rule order within a kind.
 * kinds and rule_refs must have room for one entry per (rule, kind) pair.
 */
static void classify_group_kinds(classifier *c, const classify_list *kind_lists)
{
	/* Pass 1: distinct kinds and how many rules name each. */
	for (size_t r = 0; r < c->n_rules; r++) {
		for (size_t k = 0; k < kind_lists[r].n; k++) {
			event_str kind = kind_lists[r].items[k];
			classify_kind *ck = classify_find_kind(c->kinds, c->n_kinds, kind);
			if (!ck) {
				ck = &c->kinds[c->n_kinds++];
				*ck = (classify_kind){kind, 0, 0};
			}
			ck->n++;
		}
	}

	/* Pass 2: offsets, then the rule positions in rule order. */
	size_t offset = 0;
	for (size_t i = 0; i < c->n_kinds; i++) {
		c->kinds[i].first = offset;
		offset += c->kinds[i].n;
		c->kinds[i].n = 0;
	}
	for (size_t r = 0; r < c->n_rules; r++) {
		for (size_t k = 0; k < kind_lists[r].n; k++) {
			classify_kind *ck =
			    classify_find_kind(c->kinds, c->n_kinds, kind_lists[r].items[k]);
			/* A kind listed twice in one rule must not yield two hits. */
			if (ck->n > 0 && c->rule_refs[ck->first + ck->n - 1] == r)
				continue;
			c->rule_refs[ck->first + ck->n++] = r;
		}
	}
}

classifier *classify_new(const config *cfg)
{
	size_t n_rules;
	size_t n_strings = classify_count_strings(cfg, &n_rules);
	classify_list *kind_lists = NULL;

	if (cfg->n_behaviours > UINT16_MAX + 1u)
		return NULL;
	classifier *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->n_rules = n_rules;
	c->rules = calloc(n_rules ? n_rules : 1, sizeof(*c->rules));
	c->strings = calloc(n_strings ? n_strings : 1, sizeof(*c->strings));
	/* At most one kind entry and one rule reference per string. */
	c->kinds = calloc(n_strings ? n_strings : 1, sizeof(*c->kinds));
	c->rule_refs = calloc(n_strings ? n_strings : 1, sizeof(*c->rule_refs));
	kind_lists = calloc(n_rules ? n_rules : 1, sizeof(*kind_lists));
	if (!c->rules || !c->strings || !c->kinds || !c->rule_refs || !kind_lists) {
		free(kind_lists);
		classify_free(c);
		return NULL;
	}

	classify_fill_rules(c, cfg, kind_lists);
	classify_group_kinds(c, kind_lists);
	free(kind_lists);
	return c;
}

void classify_free(classifier *c)
{
	if (!c)
		return;
	free(c->rules);
	free(c->strings);
	free(c->kinds);
	free(c->rule_refs);
	free(c);
}

/* ------------------------------------------------------------------------ */
/* Matching                                                                 */

/* The network attribute is looked up only for rules that list networks. */
static bool classify_network_match(const classify_rule *r, const event *ev)
{
	return r->networks.n == 0 || classify_list_match(&r->networks, event_attr_get(ev, "network"));
}

static bool classify_rule_match(const classify_rule *r, const event *ev, event_str reaction)
{
	if (r->requires_targets && ev->target_count == 0)
		return false;
	return classify_list_match(&r->sources, ev->source) &&
	       classify_list_match(&r->channels, ev->channel_id) &&
	       classify_list_match(&r->reactions, reaction) && classify_network_match(r, ev);
}

size_t classify_event(const classifier *c, const event *ev, classify_hit *hits, size_t max_hits)
{
	size_t n = 0;

	if (ev->kind.len == 0)
		return 0;
	const classify_kind *ck = classify_find_kind(c->kinds, c->n_kinds, ev->kind);
	if (!ck)
		return 0;

	event_str reaction = event_attr_get(ev, "reaction");
	for (size_t i = 0; i < ck->n; i++) {
		const classify_rule *r = &c->rules[c->rule_refs[ck->first + i]];
		if (!classify_rule_match(r, ev, reaction))
			continue;
		if (n < max_hits)
			hits[n] = r->hit;
		n++;
	}
	return n;
}
