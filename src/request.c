/* See LICENSE file for copyright and license details. */
/* The request: its CGI variables, and the body read within its bounds. */
#include "request.h"

#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "env.h"

void
request_from_env(struct request *req, char *const *env)
{
	memset(req, 0, sizeof(*req));
	req->env = env;
	req->method = env_find(env, "REQUEST_METHOD");
	req->content_length = env_find(env, "CONTENT_LENGTH");
	req->remote_addr = env_find(env, "REMOTE_ADDR");
	req->signature = env_find(env, "HTTP_X_WEBHOOK_SIGNATURE");
	req->transfer_encoding = env_find(env, "HTTP_TRANSFER_ENCODING");
	req->server_software = env_find(env, "SERVER_SOFTWARE");
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
	const char *te = req->transfer_encoding;

	return req->end_marked || (te && strcasestr(te, "chunked"));
}

/*
 * No length given: CONTENT_LENGTH unset, empty, or "-1", which Caddy
 * sends for a body of unknown length (chunked, or HTTP/2 without one).
 * Where the transport marks the end, such a body is read to it;
 * elsewhere it is 411, as a missing length is.
 */
static int
no_length(const struct request *req)
{
	const char *cl = req->content_length;

	return !cl || !*cl || strcmp(cl, "-1") == 0;
}

/*
 * What a body over MAX_BODY gets, decided from Content-Length before a
 * byte is read, or as soon as a body without one passes the limit.
 */
static enum status
too_large(struct reply *rep)
{
	return reply_set(rep, STATUS_PAYLOAD_TOO_LARGE, "body too large");
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
		if (n == 0) {
			req->ended = 1;
			break;
		}
		got += n;
		req->taken += n;
		if (got > max)
			return too_large(rep);
	}
	body_buf[got] = '\0';
	req->body = body_buf;
	req->body_len = got;
	return STATUS_OK;
}

enum status
request_read_body(struct request *req, size_t max, struct reply *rep)
{
	unsigned long long length = 0;
	size_t want, got = 0;

	if (no_length(req) && end_known(req))
		return read_to_end(req, max, rep);
	switch (decimal_parse(req->content_length, max, &length)) {
	case -1:
		return reply_set(rep, STATUS_LENGTH_REQUIRED,
				 "Content-Length missing or not a number");
	case 1:
		return too_large(rep);
	}
	want = (size_t)length;
	if (reserve(want + 1) < 0)
		return reply_set(rep, STATUS_UNAVAILABLE, "out of memory");
	while (got < want) {
		size_t n = req->read_body(body_buf + got, want - got,
					  req->read_ctx);

		if (n == 0) {
			req->ended = 1;
			break;
		}
		got += n;
		req->taken += n;
	}
	if (got < want)
		return reply_set(rep, STATUS_BAD_REQUEST,
				 "body shorter than Content-Length");
	body_buf[want] = '\0';
	req->body = body_buf;
	req->body_len = want;
	return STATUS_OK;
}

int
request_body_unread(const struct request *req)
{
	unsigned long long length;

	if (req->ended || !req->read_body)
		return 0;
	if (decimal_parse(req->content_length, ~0ULL, &length) == 0)
		return length > req->taken;
	return end_known(req); /* without a known end, none to read to */
}

void
request_discard_body(struct request *req, size_t max)
{
	unsigned char buf[4096];
	unsigned long long length;
	size_t left = max;

	if (!request_body_unread(req))
		return;
	if (decimal_parse(req->content_length, ~0ULL, &length) == 0 &&
	    length - req->taken < left)
		left = (size_t)(length - req->taken);
	while (left > 0) {
		size_t n = req->read_body(buf, left < sizeof(buf) ? left
							       : sizeof(buf),
					  req->read_ctx);

		if (n == 0) {
			req->ended = 1;
			return;
		}
		req->taken += n;
		left -= n;
	}
}
