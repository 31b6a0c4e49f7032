/*
 * classify.h - from a decoded event to the advocacy behaviours it stands for.
 *
 * The configured behaviours each have rules (event kinds, optional source,
 * channel and reaction filters, whether targets are required, who gets the
 * credit, and whether the event counts or retracts). classify_event() returns
 * one hit per matching rule; the caller credits the actor or each target.
 * A hit also carries the conditions its rule puts on the credit (the
 * actor's consent, an amount read from an attribute), which gate.h checks.
 *
 * Config strings are compared as they are; the hot path neither allocates nor
 * hashes. Read-only after classify_new(): safe to share between threads.
 */
#ifndef ADVOCACY_CLASSIFY_H
#define ADVOCACY_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "event.h"

typedef struct classify_hit {
	uint16_t behaviour;     /* index into config.behaviours */
	rule_credit credit;
	int8_t effect;          /* +1 or -1 */
	consent_purpose consent; /* the actor's consent the credit needs, or CONSENT_NONE */
	const char *amount_attribute; /* borrowed from the config; NULL: the amount is 1 */
	int64_t amount_max;     /* largest amount the rule accepts */
	int64_t amount;         /* what one credit adds: 1 here, see gate.h */
} classify_hit;

typedef struct classifier classifier;

/* The classifier borrows cfg, which must outlive it. */
classifier *classify_new(const config *cfg);
void classify_free(classifier *c);

/* Fills up to max_hits hits; returns how many rules matched (may exceed max_hits). */
size_t classify_event(const classifier *c, const event *ev,
                      classify_hit *hits, size_t max_hits);

#endif
