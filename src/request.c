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
		       take(e, "HTTP_X_WEBHOOK_SIGNATURE=", &req->signature));
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

enum status
request_read_body(struct request *req, size_t max, struct reply *rep)
{
	size_t want, got = 0;

	switch (parse_length(req->content_length, max, &want)) {
	case -1:
		return reply_set(rep, STATUS_LENGTH_REQUIRED,
				 "Content-Length missing or not a number");
	case 1:
		return reply_set(rep, STATUS_PAYLOAD_TOO_LARGE,
				 "body too large");
	}
	if (want + 1 > body_cap) {
		unsigned char *grown = realloc(body_buf, want + 1);

		if (!grown)
			return reply_set(rep, STATUS_UNAVAILABLE, "out of memory");
		body_buf = grown;
		body_cap = want + 1;
	}
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
