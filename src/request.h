/* See LICENSE file for copyright and license details. */
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
	const char *transfer_encoding; /* HTTP_TRANSFER_ENCODING */
	const char *server_software; /* SERVER_SOFTWARE */
	char *const *env;      /* the whole request environment */

	/*
	 * Set by the caller when the transport itself marks the body's end,
	 * as FastCGI's empty stdin record does; under CGI only a dechunked
	 * body's end of file does (see request_read_body()).
	 */
	int end_marked;

	body_reader_fn *read_body;
	void *read_ctx;

	/* Filled by request_read_body(); owned by this module. */
	const unsigned char *body;
	size_t body_len;
	size_t taken; /* bytes read from the body stream so far */
	int ended;    /* the stream said it ended */
};

/* Fills req's variables from a CGI environment; pointers point into env. */
void request_from_env(struct request *req, char *const *env);

/*
 * Checks CONTENT_LENGTH against max before reading a byte, then reads
 * exactly that many bytes. Without CONTENT_LENGTH (unset, empty, or -1 as
 * Caddy sends it), a body whose end the transport marks (end_marked, or
 * a chunked body, which a CGI server dechunks and ends with end of file)
 * is read to its end, and refused as soon as it passes max. Returns STATUS_OK, or the error status
 * with rep's reason set: 411 not decimal, or missing where the end cannot
 * be known; 413 over max; 400 short. The body stays valid until the next
 * call.
 */
enum status request_read_body(struct request *req, size_t max,
			      struct reply *rep);

/*
 * Reads and drops what is left of the body, at most max bytes: the part
 * of CONTENT_LENGTH not read yet, or, where the transport marks the end,
 * up to it. A CGI server writes the whole body to the program's standard
 * input; one that exits without reading it (an early 403, 405, 413 or
 * 500) breaks the answer under Apache, which then fails to write it.
 */
void request_discard_body(struct request *req, size_t max);

/* Whether some of the body may not have been read yet. */
int request_body_unread(const struct request *req);

#endif
