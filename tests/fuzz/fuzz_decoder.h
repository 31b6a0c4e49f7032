/*
 * fuzz_decoder.h - the shared body of every decoder fuzz harness.
 *
 * A harness describes one decoder with a fuzz_decoder (how to create it,
 * decode one message with it and free it) and hands each libFuzzer input to
 * fuzz_decoder_run(). A decoder that yields several outcomes per message
 * (a cursor, as decode_graph.h is) sets open and next instead of decode.
 * The driver creates the decoder once, on the first input, and keeps it for
 * the whole run, as the pipeline does, so that state carried from one
 * message to the next is fuzzed too.
 *
 * For every input the driver checks the contract of event.h and the
 * decoder headers, and aborts (which libFuzzer reports as a crash, with the
 * input saved) when one does not hold:
 *   - the status is DECODE_OK, DECODE_IGNORED or DECODE_INVALID and equals
 *     res->status;
 *   - a cursor: every outcome of an opened message is checked as below. An
 *     opened message yields 1 to len outcomes, and next keeps returning
 *     false once it has returned false;
 *   - IGNORED and INVALID carry a reason token (1 to 48 characters of
 *     [a-z0-9_]) and a detail that is a NUL-terminated, printable sentence;
 *   - an OK event has a non-empty event_id and kind, a positive event time,
 *     at most EVENT_MAX_TARGETS targets and EVENT_MAX_ATTRS attributes, no
 *     empty target or attribute key, and no string longer than
 *     FUZZ_MAX_FIELD bytes; every byte of every string is read, so that
 *     AddressSanitizer catches a string that points outside live memory;
 *   - decoding the same input again gives the same statuses, reasons and
 *     events, in the same order;
 *   - the harness's own check, if it has one, passes.
 *
 * To add a harness for a new decoder, see "Adding a harness" in
 * tests/fuzz/README.md: a file like fuzz_decode_slack.c (or, for a cursor,
 * fuzz_decode_social.c) and one line in tests/fuzz/CMakeLists.txt.
 */
#ifndef ADVOCACY_FUZZ_DECODER_H
#define ADVOCACY_FUZZ_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Maximum length of an id, kind, source or attribute in an event, as the decoders document. */
#define FUZZ_MAX_FIELD 256

typedef struct fuzz_decoder {
	const char *name; /* printed when a check fails */

	/* Returns a new decoder, or NULL when that fails. */
	void *(*create)(void);
	void (*destroy)(void *decoder);
	decode_status (*decode)(void *decoder, const uint8_t *buf, size_t len, event *ev,
				decode_result *res);

	/*
	 * Optional: extra checks on an OK event, called right after decode
	 * while ev still borrows from the decoder. Calls fuzz_fail() when a
	 * check does not hold. NULL when the harness has none.
	 */
	void (*check_ok)(void *decoder, const event *ev);

	/*
	 * Optional, for a cursor decoder, which leaves decode NULL. open
	 * parses one message and returns its status. After DECODE_OK, each
	 * call of next yields one outcome into res, and into ev when it is
	 * OK, until next returns false.
	 */
	decode_status (*open)(void *decoder, const uint8_t *buf, size_t len, decode_result *res);
	bool (*next)(void *decoder, event *ev, decode_result *res);

} fuzz_decoder;

/* Decodes one input and checks it; always returns 0, as libFuzzer expects. */
int fuzz_decoder_run(const fuzz_decoder *fd, const uint8_t *data, size_t size);

/*
 * The same as a fuzz_decoder with open and next and no decode, for the
 * harnesses written against this shape (decode_social.h, decode_viva.h,
 * decode_analytics.h). fuzz_cursor_run() checks them as fuzz_decoder_run()
 * checks a cursor decoder.
 */
typedef struct fuzz_cursor {
	const char *name;
	void *(*create)(void);
	void (*destroy)(void *decoder);
	decode_status (*open)(void *decoder, const uint8_t *buf, size_t len, decode_result *res);
	bool (*next)(void *decoder, event *ev, decode_result *res);
} fuzz_cursor;

int fuzz_cursor_run(const fuzz_cursor *fc, const uint8_t *data, size_t size);

/*
 * Checks an OK event against the contract above and returns a hash of its
 * content. Calls fuzz_fail() with name when a check does not hold.
 */
uint64_t fuzz_check_event(const char *name, const event *ev);

/* Returns true when s is NUL-terminated within size bytes and printable ASCII before that. */
bool fuzz_line_ok(const char *s, size_t size);

/* Returns true when a and b have the same time and the same strings, in order. */
bool fuzz_event_equal(const event *a, const event *b);

/* Prints "fuzz_<name>: <what>" to stderr and aborts. */
void fuzz_fail(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif
