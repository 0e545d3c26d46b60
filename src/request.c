#include "request.h"

#include <stdlib.h>
#include <string.h>

/* Sets *value to the part after "NAME=" when entry is that variable. */
static int
take(const char *entry, const char *name_eq, const char **value)
{
	size_t len = strlen(name_eq);

	if (strncmp(entry, name_eq, len) != 0)
		return 0;
	*value = entry + len;
	return 1;
}

void
request_from_env(struct request *req, char *const *env)
{
	memset(req, 0, sizeof(*req));
	req->env = env;
	for (; env && *env; env++) {
		const char *e = *env;

		(void)(take(e, "REQUEST_METHOD=", &req->method) ||
		       take(e, "CONTENT_LENGTH=", &req->content_length) ||
		       take(e, "REMOTE_ADDR=", &req->remote_addr) ||
		       take(e, "HTTP_X_WEBHOOK_SIGNATURE=", &req->signature) ||
		       take(e, "HTTP_TRANSFER_ENCODING=", &req->transfer_encoding));
	}
}

/*
 * Parses CONTENT_LENGTH: decimal digits only. Returns 0 with *len set, 1
 * when the number exceeds max (however many digits), -1 when not decimal.
 */
static int
parse_length(const char *s, size_t max, size_t *len)
{
	size_t v = 0;
	int over = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (!over) {
			v = v * 10 + (size_t)(*s - '0');
			over = v > max;
		}
	}
	*len = v;
	return over;
}

/* One buffer per process, grown to the largest body seen. */
static unsigned char *body_buf;
static size_t body_cap;

/* Makes the body buffer hold at least need bytes. */
static int
reserve(size_t need)
{
	unsigned char *grown;

	if (need <= body_cap)
		return 0;
	grown = realloc(body_buf, need);
	if (!grown)
		return -1;
	body_buf = grown;
	body_cap = need;
	return 0;
}

/*
 * A CGI server passes the request's Transfer-Encoding as a header
 * variable. With "chunked" and no CONTENT_LENGTH, RFC 3875 has the server
 * dechunk the body and pass it on up to its end: Apache's mod_cgid does
 * so, and lighttpd buffers the body and sets CONTENT_LENGTH. Without
 * either, a CGI program cannot tell the end of the body from a stalled
 * client, so that stays 411.
 */
static int
end_known(const struct request *req)
{
	return req->end_marked || (req->transfer_encoding &&
				   strcasestr(req->transfer_encoding, "chunked"));
}

/*
 * Reads a body of unknown length to its end, growing the buffer as it
 * comes, and gives up as soon as it holds more than max bytes: a body that
 * never ends is never held whole.
 */
static enum status
read_to_end(struct request *req, size_t max, struct reply *rep)
{
	size_t got = 0, n;

	for (;;) {
		/* Room for one byte past max, to see it, and the NUL. */
		if (got + 1 >= body_cap) {
			size_t cap = body_cap < 4096 ? 4096 : body_cap * 2;

			if (reserve(cap < max + 2 ? cap : max + 2) < 0)
				return reply_set(rep, STATUS_UNAVAILABLE,
						 "out of memory");
		}
		n = req->read_body(body_buf + got, body_cap - 1 - got,
				   req->read_ctx);
		if (n == 0)
			break;
		got += n;
		if (got > max)
			return reply_set(rep, STATUS_PAYLOAD_TOO_LARGE,
					 "body too large");
	}
	body_buf[got] = '\0';
	req->body = body_buf;
	req->body_len = got;
	return STATUS_OK;
}

enum status
request_read_body(struct request *req, size_t max, struct reply *rep)
{
	size_t want, got = 0;

	if ((!req->content_length || !*req->content_length) && end_known(req))
		return read_to_end(req, max, rep);
	switch (parse_length(req->content_length, max, &want)) {
	case -1:
		return reply_set(rep, STATUS_LENGTH_REQUIRED,
				 "Content-Length missing or not a number");
	case 1:
		return reply_set(rep, STATUS_PAYLOAD_TOO_LARGE,
				 "body too large");
	}
	if (reserve(want + 1) < 0)
		return reply_set(rep, STATUS_UNAVAILABLE, "out of memory");
	while (got < want) {
		size_t n = req->read_body(body_buf + got, want - got,
					  req->read_ctx);

		if (n == 0)
			break;
		got += n;
	}
	if (got < want)
		return reply_set(rep, STATUS_BAD_REQUEST,
				 "body shorter than Content-Length");
	body_buf[want] = '\0';
	req->body = body_buf;
	req->body_len = want;
	return STATUS_OK;
}
