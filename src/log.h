/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_LOG_H
#define MAKINI_LOG_H

#include <stddef.h>

/*
 * One logging shim. Lines go to a sink: standard error by default; under
 * FastCGI the request loop points it at the request's error stream, which
 * the web server writes to its error log (except under Apache, which would
 * tag every line: see cgi/main.c). Queue runners and the verbs
 * that run hooks also write them to the spool's queue.log. Messages never
 * hold a secret, a signature value or a file path.
 */
typedef void log_sink_fn(const char *line, size_t len);

void log_set_sink(log_sink_fn *sink);

/*
 * Also writes every line to dir/name (the queue's log in the spool: it
 * exists on every host, also without systemd and on shared hosting),
 * stamped with the UTC time and the pid, opened with O_APPEND and
 * rotated to name.1 past a megabyte. Returns 0, or -1 with errno set.
 */
int log_to_file(const char *dir, const char *name);
void log_close_file(void);

/*
 * The request log named by MAKINI_WEBHOOK_LOG: path is opened with
 * O_APPEND, created 0640 when missing, and kept open for the process's
 * life (rotate it with logrotate's copytruncate); a later call opens it
 * again only for another path. Returns 0, or -1 with errno set, the file
 * open before kept. log_request_file_sink() writes each line there,
 * stamped as queue.log's, in one write.
 */
int log_open_request_file(const char *path);
log_sink_fn log_request_file_sink;

/* Formats one line, prefixes "makini-webhook: ", appends a newline. */
void log_line(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));

/* log_line() for a message already formatted, len bytes of msg. */
void log_text(const char *msg, size_t len);

#endif
