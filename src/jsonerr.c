/*
 * jsonerr: the message Node's JSON.parse gives for a text json-c refused, so
 * that a malformed body is answered in NocoBase's words ("Expected
 * double-quoted property name in JSON at position 14").  json-c does all
 * the parsing; this only looks at how and where it stopped, and at the
 * bytes before that point, to name the error the way V8 does.  Positions
 * count UTF-16 code units, as JavaScript does.
 */
#include "jsonerr.h"

#include <stdio.h>
#include <string.h>

#define CONTEXT 10 /* V8: characters shown on each side of a bad token */

/* UTF-16 code units in the (valid UTF-8) bytes s[0..b). */
size_t jsonerr_units(const char *s, size_t b)
{
	size_t u = 0;
	for (size_t i = 0; i < b; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xC0) != 0x80)
			u += c >= 0xF0 ? 2 : 1;
	}
	return u;
}

/* The byte offset where UTF-16 unit u starts (n when past the end). */
static size_t byte_of(const char *s, size_t n, size_t u)
{
	size_t b = 0;
	while (b < n && jsonerr_units(s, b) < u)
		b++;
	while (b < n && ((unsigned char)s[b] & 0xC0) == 0x80)
		b++;
	return b;
}

/* One byte of a string's body: false when it is the closing quote. */
static bool string_byte(char c, bool *esc)
{
	if (*esc)
		*esc = false;
	else if (c == '\\')
		*esc = true;
	else if (c == '"')
		return false;
	return true;
}

/* The innermost container open at byte p ('{', '[' or 0), the last byte
 * before p that is not blank ('"' for a string), and whether p is inside
 * a string. */
static char open_at(const char *s, size_t p, char *prev, bool *in_string)
{
	char stack[256];
	size_t depth = 0;
	bool in_str = false, esc = false;

	*prev = 0;
	for (size_t i = 0; i < p; i++) {
		char c = s[i];
		if (in_str) {
			in_str = string_byte(c, &esc);
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (depth < sizeof(stack))
				stack[depth] = c;
			depth++;
		} else if ((c == '}' || c == ']') && depth)
			depth--;
		if (c && !strchr(" \t\r\n", c))
			*prev = c;
	}
	*in_string = in_str;
	return depth && depth <= sizeof(stack) ? stack[depth - 1] : 0;
}

static void unexpected_token(const char *s, size_t n, size_t p, char *err,
			     size_t len)
{
	size_t total = jsonerr_units(s, n), pos = jsonerr_units(s, p), from = 0, to = total;
	size_t tl = 1;
	const char *pre = "", *post = "";

	while (p + tl < n && ((unsigned char)s[p + tl] & 0xC0) == 0x80)
		tl++;
	if (total >= 2 * CONTEXT + 1) {
		if (pos >= CONTEXT) {
			from = pos - CONTEXT;
			pre = "...";
		}
		if (pos + CONTEXT < total) {
			to = pos + CONTEXT;
			post = "...";
		}
	}
	size_t b0 = byte_of(s, n, from), b1 = byte_of(s, n, to);
	snprintf(err, len, "Unexpected token '%.*s', %s\"%.*s\"%s is not valid JSON",
		 (int)tl, s + p, pre, (int)(b1 - b0), s + b0, post);
}

static bool digit(const char *s, size_t n, size_t i)
{
	return i < n && s[i] >= '0' && s[i] <= '9';
}

/* Walks the number that starts at byte i ('-' or a digit) by JSON's
 * grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, within s[0..n).
 * Returns NULL with the byte after it in *at, or what JSON.parse says of
 * the first byte that breaks the grammar, with its offset in *at. */
static const char *number_walk(const char *s, size_t n, size_t i, size_t *at)
{
	size_t j = i + (s[i] == '-');

	*at = j;
	if (!digit(s, n, j))
		return "No number after minus sign";
	if (s[j] == '0' && digit(s, n, j + 1)) {
		*at = j + 1;
		return "Unexpected number";
	}
	while (digit(s, n, j))
		j++;
	if (j < n && s[j] == '.') {
		*at = ++j;
		if (!digit(s, n, j))
			return "Unterminated fractional number";
		while (digit(s, n, j))
			j++;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		j++;
		if (j < n && (s[j] == '+' || s[j] == '-'))
			j++;
		*at = j;
		if (!digit(s, n, j))
			return "Exponent part is missing a number";
		while (digit(s, n, j))
			j++;
	}
	*at = j;
	return NULL;
}

/* A number json-c refused where it ends at p: what V8 says of it. */
static bool number_error(const char *s, size_t p, char *err, size_t len)
{
	const char *why;
	size_t b = p, at;

	while (b > 0 && s[b - 1] && strchr("0123456789.eE+-", s[b - 1]))
		b--;
	while (b < p && s[b] != '-' && !digit(s, p, b))
		b++; /* "tru" + "e": no number starts with 'e' */
	if (b == p || (s[b] != '-' && !digit(s, p, b)))
		return false;
	if (!(why = number_walk(s, p, b, &at)))
		return false;
	snprintf(err, len, "%s in JSON at position %zu", why,
		 jsonerr_units(s, at));
	return true;
}

/* A bool, not the offset of the break: a number cut short at the very end
 * ("1.", "-0.", "1e") breaks at offset n, which read as "no break" let
 * such a text through (fuzz_http_response: a body "0." was kept as a
 * number that printed as "0."). */
bool jsonerr_strict(const char *s, size_t n, char *err, size_t len)
{
	bool in_str = false, esc = false;
	const char *why = NULL;
	size_t at = n;

	for (size_t i = 0; i < n && !why; i++) {
		unsigned char c = (unsigned char)s[i];
		if (in_str) {
			if (c < 0x20)
				why = "Bad control character in string literal", at = i;
			in_str = string_byte((char)c, &esc);
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '\'') {
			jsonerr_message(s, n, json_tokener_error_parse_unexpected, i,
					false, err, len);
			return true;
		} else if (c == '-' || digit(s, n, i)) {
			size_t j;
			if ((why = number_walk(s, n, i, &j)))
				at = j;
			else
				i = j - 1;
		}
	}
	if (why)
		snprintf(err, len, "%s in JSON at position %zu", why,
			 jsonerr_units(s, at));
	return why != NULL;
}

void jsonerr_message(const char *s, size_t n, enum json_tokener_error jerr,
		     size_t p, bool at_end, char *err, size_t len)
{
	size_t pos = jsonerr_units(s, p);
	bool in_str;
	char prev, in = open_at(s, p, &prev, &in_str);

	if (at_end && !in_str && jerr != json_tokener_continue &&
	    number_error(s, n, err, len))
		return; /* "[1." ends in a number json-c would still take */
	switch (jerr) {
	case json_tokener_error_parse_object_key_sep:
		snprintf(err, len, "Expected ':' after property name in JSON at "
				   "position %zu", pos);
		return;
	case json_tokener_error_parse_object_value_sep:
		snprintf(err, len, "Expected ',' or '}' after property value in "
				   "JSON at position %zu", pos);
		return;
	case json_tokener_error_parse_array:
		snprintf(err, len, "Expected ',' or ']' after array element in "
				   "JSON at position %zu", pos);
		return;
	case json_tokener_error_parse_number:
		if (number_error(s, p, err, len))
			return;
		break;
	case json_tokener_error_parse_string: {
		size_t b = p;
		while (b > 0 && s[b - 1] != '\\')
			b--;
		if (at_end && b == n)
			snprintf(err, len, "Unexpected end of JSON input");
		else
			snprintf(err, len, "%s in JSON at position %zu",
				 b > 0 && s[b] == 'u' ? "Bad Unicode escape"
						      : "Bad escaped character",
				 pos);
		return;
	}
	case json_tokener_continue:
		snprintf(err, len, "Unterminated string in JSON at position %zu",
			 pos);
		return;
	default:
		break;
	}
	/* After a whole value; where an object wants a property name, V8
	 * names what it wanted; elsewhere the token it did not expect. */
	if (!in && prev && p < n)
		snprintf(err, len, "Unexpected non-whitespace character after "
				   "JSON at position %zu", pos);
	else if (in == '{' && (prev == '{' || prev == ','))
		snprintf(err, len, "%s in JSON at position %zu",
			 prev == ',' ? "Expected double-quoted property name"
				     : "Expected property name or '}'",
			 pos);
	else if (at_end || p >= n)
		snprintf(err, len, "Unexpected end of JSON input");
	else
		unexpected_token(s, n, p, err, len);
}
