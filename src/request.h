#ifndef MAKINI_REQUEST_H
#define MAKINI_REQUEST_H

#include <stddef.h>

#include "reply.h"

/*
 * Reads up to n bytes of request body into buf; returns how many were read,
 * 0 at the end. The request loop supplies libfcgi's reader; tests and
 * fuzzers supply their own.
 */
typedef size_t body_reader_fn(void *buf, size_t n, void *ctx);

/* The CGI variables a request needs, read once from its environment. */
struct request {
	const char *method;
	const char *content_length;
	const char *remote_addr;
	const char *signature; /* HTTP_X_WEBHOOK_SIGNATURE */
	char *const *env;      /* the whole request environment */

	body_reader_fn *read_body;
	void *read_ctx;

	/* Filled by request_read_body(); owned by this module. */
	const unsigned char *body;
	size_t body_len;
};

/* Fills req's variables from a CGI environment; pointers point into env. */
void request_from_env(struct request *req, char *const *env);

/*
 * Checks CONTENT_LENGTH against max before reading a byte, then reads
 * exactly that many bytes. Returns STATUS_OK, or the error status with
 * rep's reason set: 411 missing or not decimal, 413 over max, 400 short.
 * The body stays valid until the next call.
 */
enum status request_read_body(struct request *req, size_t max,
			      struct reply *rep);

#endif
