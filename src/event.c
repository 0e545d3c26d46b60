#include "event.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

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

/*
 * Normalises s[0..len) into out (at most max characters plus a NUL).
 * Returns 0 when the result matches [a-z0-9][a-z0-9_]{0,max-1}, else -1.
 */
static int
normalise_part(const char *s, size_t len, char *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (is_separator(c) || starts_hump(s, i, len)) {
			/* One "_" for any run, none at the start. */
			if (n > 0 && out[n - 1] != '_') {
				if (n == max)
					return -1;
				out[n++] = '_';
			}
			if (is_separator(c))
				continue;
		}
		if (is_upper(c))
			c = (char)(c - 'A' + 'a');
		if (!is_lower(c) && !is_digit(c))
			return -1;
		if (n == max)
			return -1;
		out[n++] = c;
	}
	if (n > 0 && out[n - 1] == '_')
		n--;
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

int
event_normalise(const char *raw, size_t len, struct event *ev)
{
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
	snprintf(ev->name, sizeof(ev->name), "%s.%s", ev->entity, ev->action);
	return 0;
}

enum status
event_parse(const void *body, size_t len, struct event *ev, struct reply *rep)
{
	static struct json_tokener *tok;
	struct json_object *root = NULL, *member;
	enum status status;

	if (!tok) {
		tok = json_tokener_new_ex(JSON_DEPTH_MAX);
		if (!tok)
			return reply_set(rep, STATUS_UNAVAILABLE, "out of memory");
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
					    JSON_TOKENER_VALIDATE_UTF8);
	}
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
	if (!json_object_object_get_ex(root, "event", &member) ||
	    !json_object_is_type(member, json_type_string) ||
	    event_normalise(json_object_get_string(member),
			    (size_t)json_object_get_string_len(member), ev) < 0) {
		status = reply_set(rep, STATUS_UNPROCESSABLE,
				   "no valid event name");
		goto out;
	}
	status = STATUS_OK;
out:
	json_object_put(root);
	return status;
}
