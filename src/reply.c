/* See LICENSE file for copyright and license details. */
/*
 * The answer: a status and reason rendered as a CGI response with a
 * JSON body.
 */
#include "reply.h"

#include "text.h"

#ifndef MAKINI_VERSION
#define MAKINI_VERSION "unknown"
#endif

enum status
reply_set(struct reply *rep, enum status status, const char *reason)
{
	rep->status = status;
	rep->reason = reason;
	return status;
}

const char *
status_text(enum status status)
{
	switch (status) {
	case STATUS_OK: return "OK";
	case STATUS_BAD_REQUEST: return "Bad Request";
	case STATUS_UNAUTHORIZED: return "Unauthorized";
	case STATUS_FORBIDDEN: return "Forbidden";
	case STATUS_METHOD_NOT_ALLOWED: return "Method Not Allowed";
	case STATUS_LENGTH_REQUIRED: return "Length Required";
	case STATUS_PAYLOAD_TOO_LARGE: return "Payload Too Large";
	case STATUS_UNPROCESSABLE: return "Unprocessable Entity";
	case STATUS_INTERNAL_ERROR: return "Internal Server Error";
	case STATUS_BAD_GATEWAY: return "Bad Gateway";
	case STATUS_UNAVAILABLE: return "Service Unavailable";
	case STATUS_GATEWAY_TIMEOUT: return "Gateway Timeout";
	}
	return "Unknown";
}

/*
 * The health check's members: the version, which the Makefile sets and
 * which holds no character JSON would escape, and the free bytes and
 * inodes (null where the file system counts none).
 */
static void
render_health(const struct reply *rep, struct text *t)
{
	text_add(t, ",\"version\":\"" MAKINI_VERSION "\"");
	if (!rep->space_measured)
		return;
	text_add(t, ",\"free_bytes\":");
	text_add_uint(t, rep->space.free_bytes, 0);
	text_add(t, ",\"free_inodes\":");
	if (rep->space.inodes_counted)
		text_add_uint(t, rep->space.free_inodes, 0);
	else
		text_add(t, "null");
}

/*
 * The body only ever holds our own static reasons and validated event names
 * and ids ([a-z0-9_.:-]), so no JSON escaping is needed. The status comes
 * first, as it always has.
 */
static size_t
render_body(const struct reply *rep, char *buf, size_t size)
{
	struct text t;

	text_init(&t, buf, size);
	if (rep->status != STATUS_OK) {
		text_add(&t, "{\"status\":\"error\",\"error\":\"");
		text_add(&t, rep->reason);
	} else {
		text_add(&t, "{\"status\":\"");
		text_add(&t, rep->reason);
		if (rep->id[0] || rep->event[0]) {
			text_add(&t, "\",\"event\":\"");
			text_add(&t, rep->event);
		}
		if (rep->id[0]) {
			text_add(&t, "\",\"id\":\"");
			text_add(&t, rep->id);
		}
	}
	text_add(&t, "\"");
	if (rep->health)
		render_health(rep, &t);
	text_add(&t, "}\n");
	return text_done(&t);
}

size_t
reply_render(const struct reply *rep, char *buf, size_t size)
{
	char body[512];
	size_t body_len = render_body(rep, body, sizeof(body));
	struct text t;

	if (body_len == 0)
		return 0;
	text_init(&t, buf, size);
	text_add(&t, "Status: ");
	text_add_uint(&t, (unsigned)rep->status, 0);
	text_add(&t, " ");
	text_add(&t, status_text(rep->status));
	text_add(&t, "\r\nContent-Type: application/json\r\n"
		     "Content-Length: ");
	text_add_uint(&t, body_len, 0);
	text_add(&t, "\r\nCache-Control: no-store\r\n");
	if (rep->status == STATUS_METHOD_NOT_ALLOWED) {
		text_add(&t, "Allow: GET, HEAD, POST\r\n");
	} else if (rep->status == STATUS_UNAVAILABLE) {
		text_add(&t, "Retry-After: ");
		text_add_uint(&t, RETRY_AFTER_SECONDS, 0);
		text_add(&t, "\r\n");
	}
	text_add(&t, "\r\n");
	if (!rep->head_only)
		text_add_mem(&t, body, body_len);
	return text_done(&t);
}
