/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_REPLY_H
#define MAKINI_REPLY_H

#include <stddef.h>

#include "spool_space.h"

/*
 * One status type carries the answer: its values are the HTTP codes, so an
 * error and its reply are one value. Request-handling code fills a struct
 * reply and returns; the request loop renders it and logs it.
 */
enum status {
	STATUS_OK = 200,
	STATUS_BAD_REQUEST = 400,
	STATUS_UNAUTHORIZED = 401,
	STATUS_FORBIDDEN = 403,
	STATUS_METHOD_NOT_ALLOWED = 405,
	STATUS_LENGTH_REQUIRED = 411,
	STATUS_PAYLOAD_TOO_LARGE = 413,
	STATUS_UNPROCESSABLE = 422,
	STATUS_INTERNAL_ERROR = 500,
	STATUS_BAD_GATEWAY = 502,
	STATUS_UNAVAILABLE = 503,
	STATUS_GATEWAY_TIMEOUT = 504,
};

/* Seconds a client should wait after a 503 before it tries again. */
#define RETRY_AFTER_SECONDS 30

#define EVENT_NAME_MAX 100 /* "<entity>.<action>" after normalisation */
#define EVENT_ID_MAX 100

struct reply {
	enum status status;
	/*
	 * For errors: a short static reason, the "error" member of the body
	 * and the log line. For 200: "accepted", "ignored" or "ok".
	 */
	const char *reason;
	/* For the log only: errno text or a configuration problem, or NULL. */
	const char *detail;
	char event[EVENT_NAME_MAX]; /* normalised name, or empty */
	char id[EVENT_ID_MAX];      /* spooled event id, or empty */
	int head_only;              /* HEAD: headers without a body */
	/*
	 * The health check's answer (GET, HEAD) carries the version, so that
	 * a probe tells which build answers, and the room left on the
	 * spool's file system once it was measured (space_measured).
	 */
	int health;
	int space_measured;
	struct spool_space space;
};

/* Sets status and reason, for one-line returns from handlers. */
enum status reply_set(struct reply *rep, enum status status,
		      const char *reason);

/*
 * Renders the whole CGI response (Status, headers, blank line, JSON body)
 * into buf. Returns its length, or 0 if buf is too small.
 */
size_t reply_render(const struct reply *rep, char *buf, size_t size);

const char *status_text(enum status status);

#endif
