/*
 * decode_cjson.c - JSON parsing with cJSON under jansson's acceptance rules
 * (see decode_cjson.h).
 *
 * A message is read twice. First a lexical check here walks the bytes once,
 * tracking only whether it is inside a string, and rejects what cJSON would
 * accept but jansson would not. Then cJSON builds the tree and rejects every
 * structural error itself. The check does not look at brackets, commas or
 * literals, so it is no second parser, and for those it relies on cJSON.
 *
 * The rules of the check, each matching jansson 2.14:
 *   - inside strings, UTF-8 must be valid (no overlong forms, surrogates or
 *     code points above U+10FFFF), bytes below 0x20 are invalid, and a \u
 *     escape needs four hex digits and must not be \u0000;
 *   - outside strings, only space, tab, LF and CR may be whitespace, and no
 *     byte may be above 0x7F, so a UTF-8 byte order mark is invalid. A NUL
 *     byte is invalid too, except right after a number or literal, where
 *     jansson drops it (see decode_cjson_dropped_nul());
 *   - a number follows the JSON grammar. One without fraction or exponent
 *     is an integer and must fit int64. Any other must not overflow a double.
 * Trailing content after the value is checked after cJSON has parsed it.
 *
 * NOTE: cJSON 1.7.15 writes the position of a failed parse to a global
 * (cJSON_GetErrorPtr), so two threads parsing at once race on it. No code
 * here reads it; the Slack decoder and the export reader run on one thread.
 */
#include "decode_cjson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Maximum length of a number token that cJSON 1.7.15 parses whole (its buffer is 64 bytes). */
#define DECODE_CJSON_MAX_NUMBER 63

typedef struct decode_cjson_lexer {
	const unsigned char *s;
	size_t len;
	size_t pos;	     /* next byte, or the invalid byte after a failed check */
	size_t number_count; /* number tokens passed so far */
	decode_cjson_number *first_numbers; /* storage for the first numbers, or NULL */
} decode_cjson_lexer;

/* Outcomes of decode_cjson_check(). */
enum { DECODE_CJSON_INVALID = -1, DECODE_CJSON_VALID = 0, DECODE_CJSON_FOUND = 1 };

/* ----------------------------------------------------------------------------
 * Lexical check
 * ------------------------------------------------------------------------- */

static bool decode_cjson_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* JSON's four whitespace bytes. cJSON skips every byte up to 0x20 as whitespace. */
static bool decode_cjson_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * True when s[pos] is a NUL byte right after a number or a true, false or
 * null. jansson 2.14 reads one byte past such a token and puts it back, and
 * a NUL put back looks like the end of its read-ahead buffer, so it is
 * dropped. cJSON takes it for whitespace, so both accept the document.
 */
static bool decode_cjson_dropped_nul(const unsigned char *s, size_t pos)
{
	unsigned char prev = pos > 0 ? s[pos - 1] : 0;

	return s[pos] == '\0' && ((prev >= '0' && prev <= '9') || (prev >= 'a' && prev <= 'z') ||
				  (prev >= 'A' && prev <= 'Z'));
}

static bool decode_cjson_hex(unsigned char c)
{
	return decode_cjson_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Returns the length of the valid UTF-8 sequence at s (at most avail bytes),
 * or 0 when it is invalid. s[0] is at least 0x80.
 */
static size_t decode_cjson_utf8_length(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	size_t n;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;

	/* Overlong forms, surrogates and code points above U+10FFFF. */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;

	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

/*
 * Checks the escape at lx->pos (a backslash). Only \u needs a check here,
 * because cJSON decodes bad hex digits and \u0000 as a NUL byte. cJSON
 * rejects every other unknown escape itself.
 */
static bool decode_cjson_check_escape(decode_cjson_lexer *lx)
{
	const unsigned char *s = lx->s + lx->pos;
	size_t avail = lx->len - lx->pos;

	if (avail < 2 || s[1] != 'u') {
		lx->pos += avail < 2 ? 1 : 2;
		return true;
	}
	if (avail < 6)
		return false;
	for (size_t i = 2; i < 6; i++)
		if (!decode_cjson_hex(s[i]))
			return false;
	if (memcmp(s + 2, "0000", 4) == 0)
		return false;
	lx->pos += 6;
	return true;
}

/*
 * Checks a string from the byte after its opening quote to the byte after
 * its closing quote. An unterminated string is left to cJSON.
 */
static bool decode_cjson_check_string(decode_cjson_lexer *lx)
{
	while (lx->pos < lx->len) {
		/* Most bytes are printable ASCII other than '"' and '\\': nothing to check. */
		while (lx->pos < lx->len && lx->s[lx->pos] >= 0x20 && lx->s[lx->pos] < 0x80 &&
		       lx->s[lx->pos] != '"' && lx->s[lx->pos] != '\\')
			lx->pos++;
		if (lx->pos == lx->len)
			return true;

		unsigned char c = lx->s[lx->pos];

		if (c == '"') {
			lx->pos++;
			return true;
		}
		if (c == '\\') {
			if (!decode_cjson_check_escape(lx))
				return false;
			continue;
		}
		if (c < 0x20)
			return false;

		size_t n = decode_cjson_utf8_length(lx->s + lx->pos, lx->len - lx->pos);
		if (n == 0)
			return false;
		lx->pos += n;
	}
	return true;
}

/* Advances *i past a run of digits. Returns false when there is none. */
static bool decode_cjson_skip_digits(const decode_cjson_lexer *lx, size_t *i)
{
	size_t start = *i;

	while (*i < lx->len && decode_cjson_digit(lx->s[*i]))
		(*i)++;
	return *i > start;
}

/* Parses an integer token ("-"? digits) into *out. Returns false when it overflows int64. */
static bool decode_cjson_parse_integer(const unsigned char *s, size_t n, int64_t *out)
{
	bool negative = s[0] == '-';
	uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t v = 0;

	for (size_t i = negative ? 1 : 0; i < n; i++) {
		unsigned digit = (unsigned)(s[i] - '0');
		if (v > (limit - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	if (!negative)
		*out = (int64_t)v;
	else
		*out = v == limit ? INT64_MIN : -(int64_t)v;
	return true;
}

/* Returns false when a real token overflows a double, as jansson's strtod check does. */
static bool decode_cjson_real_fits(const unsigned char *s, size_t n)
{
	char text[DECODE_CJSON_MAX_NUMBER + 1];

	memcpy(text, s, n);
	text[n] = '\0';
	errno = 0;
	double v = strtod(text, NULL);
	return !(errno == ERANGE && isinf(v));
}

/*
 * Checks the number token at lx->pos against the JSON grammar
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and the limits in the
 * file comment, and describes it in *num. On failure lx->pos is where
 * jansson reports the error: mostly the last byte it accepted.
 */
static bool decode_cjson_check_number(decode_cjson_lexer *lx, decode_cjson_number *num)
{
	size_t i = lx->pos;

	num->integer = true;
	if (lx->s[i] == '-')
		i++;
	if (i < lx->len && lx->s[i] == '0')
		i++;
	else if (!decode_cjson_skip_digits(lx, &i))
		goto invalid;

	if (i < lx->len && lx->s[i] == '.') {
		num->integer = false;
		i++;
		if (!decode_cjson_skip_digits(lx, &i))
			goto invalid;
	}
	if (i < lx->len && (lx->s[i] == 'e' || lx->s[i] == 'E')) {
		num->integer = false;
		i++;
		if (i < lx->len && (lx->s[i] == '+' || lx->s[i] == '-'))
			i++;
		if (!decode_cjson_skip_digits(lx, &i))
			goto invalid;
	}

	/* "01", "1.2.3" and "1e5e5": cJSON would read a prefix or pass them to strtod. */
	unsigned char next = i < lx->len ? lx->s[i] : ' ';
	if (decode_cjson_digit(next))
		goto invalid;
	if (next == '.' || next == 'e' || next == 'E' || next == '+' || next == '-') {
		lx->pos = i;
		return false;
	}

	size_t n = i - lx->pos;
	const unsigned char *token = lx->s + lx->pos;
	if (n > DECODE_CJSON_MAX_NUMBER)
		goto invalid;
	if (num->integer ? !decode_cjson_parse_integer(token, n, &num->value)
			 : !decode_cjson_real_fits(token, n))
		goto invalid;
	lx->pos = i;
	return true;

invalid:
	lx->pos = i - 1;
	return false;
}

/*
 * Checks the whole input, or stops at the number token with index want
 * (counted from 0 in input order) and describes it in *found. Returns
 * DECODE_CJSON_VALID, DECODE_CJSON_FOUND, or DECODE_CJSON_INVALID with
 * lx->pos at or near the invalid byte.
 */
static int decode_cjson_check(decode_cjson_lexer *lx, size_t want, decode_cjson_number *found)
{
	while (lx->pos < lx->len) {
		unsigned char c = lx->s[lx->pos];

		if (c == '"') {
			lx->pos++;
			if (!decode_cjson_check_string(lx))
				return DECODE_CJSON_INVALID;
		} else if (c == '-' || decode_cjson_digit(c)) {
			decode_cjson_number num;
			if (!decode_cjson_check_number(lx, &num))
				return DECODE_CJSON_INVALID;
			if (lx->first_numbers != NULL &&
			    lx->number_count < DECODE_CJSON_KEPT_NUMBERS)
				lx->first_numbers[lx->number_count] = num;
			if (lx->number_count++ == want) {
				*found = num;
				return DECODE_CJSON_FOUND;
			}
		} else if (decode_cjson_dropped_nul(lx->s, lx->pos)) {
			lx->pos++;
		} else if ((c < 0x20 && !decode_cjson_space(c)) || c > 0x7F) {
			return DECODE_CJSON_INVALID;
		} else {
			lx->pos++;
		}
	}
	return DECODE_CJSON_VALID;
}

/* ----------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------- */

/*
 * Line and column of the byte at pos, counted as jansson counts them. At a
 * newline jansson has put the byte back, so the position is the byte before.
 */
static decode_cjson_error decode_cjson_position(const unsigned char *s, size_t len, size_t pos)
{
	decode_cjson_error err = {1, 0};
	size_t end = pos < len && s[pos] != '\n' ? pos + 1 : pos;

	for (size_t i = 0; i < end; i++) {
		if (s[i] == '\n') {
			err.line++;
			err.column = 0;
		} else if ((s[i] & 0xC0) != 0x80) {
			/* A column is a character: UTF-8 continuation bytes do not count. */
			err.column++;
		}
	}
	return err;
}

void decode_cjson_close(decode_cjson *d)
{
	cJSON_Delete(d->root);
	d->root = NULL;
	d->text = NULL;
	d->len = 0;
}

const cJSON *decode_cjson_parse(decode_cjson *d, const void *buf, size_t len,
				decode_cjson_error *err)
{
	decode_cjson_lexer lx = {buf, len, 0, 0, d->numbers};
	const char *end = NULL;

	decode_cjson_close(d);
	if (len == 0) {
		*err = (decode_cjson_error){1, 0};
		return NULL;
	}
	bool valid = decode_cjson_check(&lx, SIZE_MAX, NULL) != DECODE_CJSON_INVALID;

	/* Parsed even when the check failed, to report the earlier of the two errors. */
	d->root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	size_t pos = (size_t)(end - (const char *)buf);
	if (d->root != NULL) {
		/* cJSON stops after the value; jansson accepts only whitespace after it. */
		if (pos < len && decode_cjson_dropped_nul(buf, pos))
			pos++;
		while (pos < len && decode_cjson_space(((const unsigned char *)buf)[pos]))
			pos++;
		if (pos == len && valid) {
			d->text = buf;
			d->len = len;
			return d->root;
		}
		decode_cjson_close(d);
	}
	if (!valid && lx.pos < pos)
		pos = lx.pos;
	*err = decode_cjson_position(buf, len, pos);
	return NULL;
}

/* ----------------------------------------------------------------------------
 * Readers
 * ------------------------------------------------------------------------- */

const cJSON *decode_cjson_get(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj) || obj->child == NULL)
		return NULL;

	/* The head's prev is the last member, so walking back finds the last duplicate first. */
	const cJSON *member = obj->child->prev;
	for (;;) {
		/* Comparing the first byte first skips most strcmp calls. */
		if (member->string != NULL && member->string[0] == key[0] &&
		    strcmp(member->string, key) == 0)
			return member;
		if (member == obj->child)
			return NULL;
		member = member->prev;
	}
}

event_str decode_cjson_str_value(const cJSON *v)
{
	if (!cJSON_IsString(v))
		return (event_str){NULL, 0};
	return (event_str){v->valuestring, strlen(v->valuestring)};
}

event_str decode_cjson_str(const cJSON *obj, const char *key)
{
	return decode_cjson_str_value(decode_cjson_get(obj, key));
}

bool decode_cjson_nonempty_array(const cJSON *v)
{
	return cJSON_IsArray(v) && v->child != NULL;
}

const char *decode_cjson_type(const cJSON *v)
{
	switch (v->type & 0xFF) {
	case cJSON_Array:
		return "an array";
	case cJSON_String:
		return "a string";
	case cJSON_Number:
		return "a number";
	case cJSON_True:
	case cJSON_False:
		return "a boolean";
	case cJSON_NULL:
		return "null";
	default:
		return "an object";
	}
}

/* Counts the numbers before target in document order. Returns true when target is found. */
static bool decode_cjson_number_index(const cJSON *node, const cJSON *target, size_t *index)
{
	if (node == target)
		return true;
	if (cJSON_IsNumber(node))
		(*index)++;
	for (const cJSON *child = node->child; child != NULL; child = child->next)
		if (decode_cjson_number_index(child, target, index))
			return true;
	return false;
}

bool decode_cjson_integer(const decode_cjson *d, const cJSON *v, int64_t *out)
{
	size_t index = 0;
	decode_cjson_number num;

	if (!cJSON_IsNumber(v) || d->root == NULL || !decode_cjson_number_index(d->root, v, &index))
		return false;

	/* cJSON keeps only a double: the check kept the first numbers, else read them again. */
	if (index < DECODE_CJSON_KEPT_NUMBERS) {
		num = d->numbers[index];
	} else {
		decode_cjson_lexer lx = {(const unsigned char *)d->text, d->len, 0, 0, NULL};
		if (decode_cjson_check(&lx, index, &num) != DECODE_CJSON_FOUND)
			return false;
	}
	if (!num.integer)
		return false;
	*out = num.value;
	return true;
}
