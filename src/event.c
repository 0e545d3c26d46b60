/* See LICENSE file for copyright and license details. */
/*
 * The verified body: JSON parsed with json-c, and the event name found
 * and normalised into a type that is safe as a directory name.
 */
#include "event.h"

#include <json-c/json.h>
#include <string.h>

#include "hex.h"
#include "text.h"

static int
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static int
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_separator(char c)
{
	return c == '-' || c == '.' || c == ' ' || c == '_' || c == '\t';
}

/*
 * A camelCase hump starts at an upper-case letter that follows a lower-case
 * letter or digit ("workOrders"), or that ends a run of capitals before a
 * lower-case letter ("HTTPStatus" -> "http_status").
 */
static int
starts_hump(const char *s, size_t i, size_t len)
{
	if (i == 0 || !is_upper(s[i]))
		return 0;
	if (is_lower(s[i - 1]) || is_digit(s[i - 1]))
		return 1;
	return is_upper(s[i - 1]) && i + 1 < len && is_lower(s[i + 1]);
}

int
event_part_valid(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len == 0 || len > max || s[0] == '_')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/*
 * Normalises s[0..len) into out (at most max characters plus a NUL).
 * Returns 0 when the result is a valid part (event_part_valid), else -1.
 */
static int
normalise_part(const char *s, size_t len, char *out, size_t max)
{
	size_t n = 0;
	int pending = 0; /* a "_" owed before the next character */

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (is_separator(c)) {
			pending = 1;
			continue;
		}
		if (starts_hump(s, i, len))
			pending = 1;
		if (is_upper(c))
			c = (char)(c - 'A' + 'a');
		/* One "_" for any run of separators, none at either end. */
		if (pending && n > 0) {
			if (n == max)
				return -1;
			out[n++] = '_';
		}
		pending = 0;
		if (n == max)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return event_part_valid(out, max) ? 0 : -1;
}

int
event_normalise(const char *raw, size_t len, struct event *ev)
{
	struct text name;
	const char *dot;

	if (len == 0 || len > RAW_EVENT_MAX || memchr(raw, '\0', len))
		return -1;
	dot = memrchr(raw, '.', len);
	if (!dot)
		return -1;
	if (normalise_part(raw, (size_t)(dot - raw), ev->entity,
			   ENTITY_MAX) < 0 ||
	    normalise_part(dot + 1, len - (size_t)(dot + 1 - raw), ev->action,
			   ACTION_MAX) < 0)
		return -1;
	text_init(&name, ev->name, sizeof(ev->name));
	text_add(&name, ev->entity);
	text_add(&name, ".");
	text_add(&name, ev->action);
	return text_done(&name) ? 0 : -1;
}

/*
 * Tells whether the JSON string whose text (quotes excluded) is s[0..len)
 * decodes to "event". Only \uXXXX can stand for a letter: every other
 * escape decodes to a character that is not one, so it rules the key out.
 */
static int
key_is_event(const char *s, size_t len)
{
	static const char want[] = "event";
	size_t i = 0, n = 0;

	while (i < len) {
		int c = (unsigned char)s[i++];

		if (c == '\\') {
			int v = 0;

			if (i + 5 > len || s[i] != 'u')
				return 0;
			for (size_t k = 1; k <= 4; k++)
				v = v * 16 + hex_digit((unsigned char)s[i + k]);
			c = v;
			i += 5;
		}
		if (n == sizeof(want) - 1 || c != want[n])
			return 0;
		n++;
	}
	return n == sizeof(want) - 1;
}

/*
 * The offset of the quote that ends the JSON string whose text starts at
 * body[i], or len. memchr finds the quotes; a quote counts as the end
 * when an even run of backslashes (none, or escaped ones) precedes it.
 */
static size_t
string_end(const char *body, size_t i, size_t len)
{
	for (;;) {
		const char *quote = memchr(body + i, '"', len - i);
		size_t at, run = 0;

		if (!quote)
			return len;
		at = (size_t)(quote - body);
		while (at - run > i && body[at - run - 1] == '\\')
			run++;
		if (run % 2 == 0)
			return at;
		i = at + 1;
	}
}

/*
 * Counts the top-level members named "event" in body, which json-c has
 * already accepted as one strict JSON object. json-c keeps only the last
 * of duplicate keys and reports nothing, and its tokener offers no hook
 * per key, so the keys are found here in a second pass over the text.
 * Strictness makes that pass simple: strings are the only place where
 * brackets, quotes and colons do not count, and a string at depth 1
 * followed by ":" is a key.
 */
static int
count_event_keys(const char *body, size_t len)
{
	int depth = 0, count = 0;

	for (size_t i = 0; i < len; i++) {
		size_t start, j;

		switch (body[i]) {
		case '{':
		case '[':
			depth++;
			continue;
		case '}':
		case ']':
			depth--;
			continue;
		case '"':
			break;
		default:
			continue;
		}
		start = ++i;
		i = string_end(body, start, len);
		/* Not after a parse that succeeded: kept never to overrun. */
		if (i >= len)
			break;
		if (depth != 1)
			continue;
		for (j = i + 1; j < len && (body[j] == ' ' || body[j] == '\t' ||
					    body[j] == '\r' || body[j] == '\n');
		     j++)
			;
		if (j < len && body[j] == ':' &&
		    key_is_event(body + start, i - start))
			count++;
	}
	return count;
}

/* Whether s holds only ASCII bytes, which are all valid UTF-8. */
static int
is_ascii(const unsigned char *s, size_t len)
{
	unsigned char any = 0;

	for (size_t i = 0; i < len; i++)
		any |= s[i];
	return any < 0x80;
}

enum status
event_parse(const void *body, size_t len, struct event *ev, struct reply *rep)
{
	static struct json_tokener *tok;
	struct json_object *root = NULL, *member;
	enum status status;
	int flags;

	if (!tok) {
		tok = json_tokener_new_ex(JSON_DEPTH_MAX);
		if (!tok)
			return reply_set(rep, STATUS_UNAVAILABLE,
					 "out of memory");
	}
	/* json-c checks UTF-8 byte by byte: only a body that needs it. */
	flags = JSON_TOKENER_STRICT;
	if (!is_ascii(body, len))
		flags |= JSON_TOKENER_VALIDATE_UTF8;
	json_tokener_set_flags(tok, flags);
	json_tokener_reset(tok);
	if (len <= (size_t)INT32_MAX)
		root = json_tokener_parse_ex(tok, body, (int)len);
	/*
	 * One complete value must fill the body, trailing blanks aside: the
	 * parser stops quietly at a NUL, so the end offset is checked too.
	 */
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(root, json_type_object)) {
		status = reply_set(rep, STATUS_BAD_REQUEST,
				   "body is not a JSON object");
		goto out;
	}
	if (count_event_keys((const char *)body, len) > 1) {
		status = reply_set(rep, STATUS_UNPROCESSABLE,
				   "ambiguous event");
		goto out;
	}
	if (!json_object_object_get_ex(root, "event", &member) ||
	    !json_object_is_type(member, json_type_string) ||
	    event_normalise(json_object_get_string(member),
			    (size_t)json_object_get_string_len(member),
			    ev) < 0) {
		status = reply_set(rep, STATUS_UNPROCESSABLE,
				   "no valid event name");
		goto out;
	}
	status = STATUS_OK;
out:
	json_object_put(root);
	return status;
}
