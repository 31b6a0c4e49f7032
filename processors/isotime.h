/*
 * isotime.h - times as JSON payloads write them, to milliseconds since the epoch.
 *
 * Webhook payloads carry times as RFC 3339 strings ("2026-03-02T10:15:00Z",
 * "2026-03-02T11:15:00.250+01:00") in one event and as epoch numbers in the
 * next. These helpers turn both into UTC milliseconds without the C
 * library's time zone state, so they are safe on any thread and never
 * allocate.
 *
 * Deliberately not accepted: dates without a time, week or ordinal dates,
 * times without an offset (their zone is unknown) and years before 1970.
 */
#ifndef ADVOCACY_ISOTIME_H
#define ADVOCACY_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)" ('t' and 'z' in
 * any case, a space instead of 'T'). Digits of the fraction beyond
 * milliseconds are checked and dropped. Returns the time in ms, or -1 when
 * s is not such a time or lies before 1970.
 */
int64_t isotime_parse_ms(const char *s, size_t len);

/*
 * Turns an epoch number into ms: values below 10^11 are seconds (a time in
 * seconds reaches 10^11 only in the year 5138), larger ones milliseconds.
 * Returns -1 for values that are not positive, not finite or beyond the
 * year 292,000. Fractions of a millisecond are dropped.
 */
int64_t isotime_epoch_ms(double value);

#endif
