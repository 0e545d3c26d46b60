/*
 * The answer: a status and reason rendered as a CGI response with a
 * JSON body.
 */
#include "reply.h"

#include <stdio.h>

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
 * The body only ever holds our own static reasons and validated event names
 * and ids ([a-z0-9_.:-]), so no JSON escaping is needed.
 */
static int
render_body(const struct reply *rep, char *buf, size_t size)
{
	if (rep->status != STATUS_OK)
		return snprintf(buf, size,
				"{\"status\":\"error\",\"error\":\"%s\"}\n",
				rep->reason);
	if (rep->id[0])
		return snprintf(buf, size,
				"{\"status\":\"%s\",\"event\":\"%s\","
				"\"id\":\"%s\"}\n",
				rep->reason, rep->event, rep->id);
	if (rep->event[0])
		return snprintf(buf, size,
				"{\"status\":\"%s\",\"event\":\"%s\"}\n",
				rep->reason, rep->event);
	return snprintf(buf, size, "{\"status\":\"%s\"}\n", rep->reason);
}

size_t
reply_render(const struct reply *rep, char *buf, size_t size)
{
	char body[512], extra[64] = "";
	int body_len, n;

	body_len = render_body(rep, body, sizeof(body));
	if (body_len < 0 || (size_t)body_len >= sizeof(body))
		return 0;
	if (rep->status == STATUS_METHOD_NOT_ALLOWED)
		snprintf(extra, sizeof(extra), "Allow: GET, HEAD, POST\r\n");
	else if (rep->status == STATUS_UNAVAILABLE)
		snprintf(extra, sizeof(extra), "Retry-After: %d\r\n",
			 RETRY_AFTER_SECONDS);
	n = snprintf(buf, size,
		     "Status: %d %s\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %d\r\n"
		     "Cache-Control: no-store\r\n"
		     "%s"
		     "\r\n%s",
		     (int)rep->status, status_text(rep->status), body_len,
		     extra, rep->head_only ? "" : body);
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}
