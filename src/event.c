#include "event.h"

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
		if (!is_lower(c) && !is_digit(c))
			return -1;
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

/*
 * The body is checked by a strict JSON (RFC 8259) scanner that builds
 * nothing. A tree would cost memory in proportion to the body: json-c took
 * 2.5 MB of heap for a 1 MiB body of ids, 2.5 times the body. The scanner
 * walks the bytes once, with recursion bounded by JSON_DEPTH_MAX, and keeps
 * only the decoded value of the top-level object's last "event" member, as
 * a parser that lets a repeated name replace the earlier one would.
 */
struct scan {
	const unsigned char *p, *end;
	int event_is_string;            /* the last "event" member's value */
	char event[RAW_EVENT_MAX + 2];  /* decoded, cut past the limit */
	size_t event_len;
};

static int
scan_value(struct scan *sc, int depth, int top);

static void
skip_blanks(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' ||
				   *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

static int
hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Length of the UTF-8 sequence at p (before end), at least 2 bytes long,
 * or 0 when it is not valid UTF-8: overlong forms, surrogates and code
 * points past U+10FFFF are refused.
 */
static size_t
utf8_length(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Scans a string at sc->p (its opening quote). With out set, the decoded
 * bytes go there, at most max of them, and *out_len gets the full decoded
 * length; a \u escape past ASCII decodes to one byte 0x80, which no name
 * accepts. Returns 0, or -1 when the string is not valid JSON.
 */
static int
scan_string(struct scan *sc, char *out, size_t max, size_t *out_len)
{
	static unsigned char plain[256]; /* printable ASCII but '"' and '\\' */
	size_t n = 0;

	if (!plain['a']) {
		for (int c = 0x20; c < 0x80; c++)
			plain[c] = c != '"' && c != '\\';
	}

	sc->p++;
	while (sc->p < sc->end) {
		unsigned char c = *sc->p;
		unsigned u;

		/* Most bytes are plain: skip them in a tight loop. */
		if (!out) {
			const unsigned char *q = sc->p, *end = sc->end;

			while (q < end && plain[*q])
				q++;
			sc->p = q;
			if (q == end)
				break;
			c = *q;
		}
		if (c == '"') {
			sc->p++;
			if (out_len)
				*out_len = n;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c >= 0x80) {
			size_t len = utf8_length(sc->p, sc->end);

			if (len == 0)
				return -1;
			sc->p += len;
			if (out && n < max)
				out[n] = (char)0x80;
			n++;
			continue;
		}
		if (c == '\\') {
			if (sc->end - sc->p < 2)
				return -1;
			switch (sc->p[1]) {
			case '"': case '\\': case '/': c = sc->p[1]; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (sc->end - sc->p < 6 || hex4(sc->p + 2, &u) < 0)
					return -1;
				c = u < 0x80 ? (unsigned char)u : 0x80;
				sc->p += 4;
				break;
			default:
				return -1;
			}
			sc->p++;
		}
		sc->p++;
		if (out && n < max)
			out[n] = (char)c;
		n++;
	}
	return -1;
}

static int
scan_digits(struct scan *sc)
{
	const unsigned char *start = sc->p;

	while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
		sc->p++;
	return sc->p > start ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
scan_number(struct scan *sc)
{
	if (*sc->p == '-')
		sc->p++;
	if (sc->p < sc->end && *sc->p == '0')
		sc->p++;
	else if (scan_digits(sc) < 0)
		return -1;
	if (sc->p < sc->end && *sc->p == '.') {
		sc->p++;
		if (scan_digits(sc) < 0)
			return -1;
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		sc->p++;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sc->p++;
		if (scan_digits(sc) < 0)
			return -1;
	}
	return 0;
}

static int
scan_word(struct scan *sc, const char *word, size_t len)
{
	if ((size_t)(sc->end - sc->p) < len || memcmp(sc->p, word, len) != 0)
		return -1;
	sc->p += len;
	return 0;
}

/* Members of an object at sc->p (its "{"); top marks the body's own. */
static int
scan_object(struct scan *sc, int depth, int top)
{
	sc->p++;
	skip_blanks(sc);
	if (sc->p < sc->end && *sc->p == '}') {
		sc->p++;
		return 0;
	}
	for (;;) {
		char key[sizeof("event")];
		size_t key_len;
		int is_event;

		if (sc->p >= sc->end || *sc->p != '"' ||
		    scan_string(sc, top ? key : NULL, sizeof(key), &key_len) < 0)
			return -1;
		is_event = top && key_len == 5 && memcmp(key, "event", 5) == 0;
		skip_blanks(sc);
		if (sc->p >= sc->end || *sc->p != ':')
			return -1;
		sc->p++;
		skip_blanks(sc);
		if (is_event) {
			sc->event_is_string = sc->p < sc->end && *sc->p == '"';
			if (sc->event_is_string) {
				if (depth + 1 >= JSON_DEPTH_MAX ||
				    scan_string(sc, sc->event, sizeof(sc->event),
						&sc->event_len) < 0)
					return -1;
				if (sc->event_len > sizeof(sc->event))
					sc->event_len = sizeof(sc->event);
			} else if (scan_value(sc, depth + 1, 0) < 0) {
				return -1;
			}
		} else if (scan_value(sc, depth + 1, 0) < 0) {
			return -1;
		}
		skip_blanks(sc);
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			skip_blanks(sc);
			continue;
		}
		if (sc->p < sc->end && *sc->p == '}') {
			sc->p++;
			return 0;
		}
		return -1;
	}
}

static int
scan_array(struct scan *sc, int depth)
{
	sc->p++;
	skip_blanks(sc);
	if (sc->p < sc->end && *sc->p == ']') {
		sc->p++;
		return 0;
	}
	for (;;) {
		if (scan_value(sc, depth + 1, 0) < 0)
			return -1;
		skip_blanks(sc);
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			skip_blanks(sc);
			continue;
		}
		if (sc->p < sc->end && *sc->p == ']') {
			sc->p++;
			return 0;
		}
		return -1;
	}
}

/*
 * One value at sc->p, depth containers deep (the body's value is at 0).
 * As in json-c, a value JSON_DEPTH_MAX deep is refused, scalars included.
 */
static int
scan_value(struct scan *sc, int depth, int top)
{
	if (depth >= JSON_DEPTH_MAX || sc->p >= sc->end)
		return -1;
	switch (*sc->p) {
	case '{': return scan_object(sc, depth, top);
	case '[': return scan_array(sc, depth);
	case '"': return scan_string(sc, NULL, 0, NULL);
	case 't': return scan_word(sc, "true", 4);
	case 'f': return scan_word(sc, "false", 5);
	case 'n': return scan_word(sc, "null", 4);
	default:
		if (*sc->p == '-' || (*sc->p >= '0' && *sc->p <= '9'))
			return scan_number(sc);
		return -1;
	}
}

enum status
event_parse(const void *body, size_t len, struct event *ev, struct reply *rep)
{
	struct scan sc = { 0 };

	sc.p = body;
	sc.end = sc.p + len;
	skip_blanks(&sc);
	/* One object must fill the body, blanks aside. */
	if (sc.p >= sc.end || *sc.p != '{' || scan_value(&sc, 0, 1) < 0 ||
	    (skip_blanks(&sc), sc.p != sc.end))
		return reply_set(rep, STATUS_BAD_REQUEST,
				 "body is not a JSON object");
	if (!sc.event_is_string ||
	    event_normalise(sc.event, sc.event_len, ev) < 0)
		return reply_set(rep, STATUS_UNPROCESSABLE,
				 "no valid event name");
	return STATUS_OK;
}
