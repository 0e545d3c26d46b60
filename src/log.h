#ifndef MAKINI_LOG_H
#define MAKINI_LOG_H

#include <stddef.h>

/*
 * One logging shim. Lines go to a sink: standard error by default; under
 * FastCGI the request loop points it at the request's error stream, which
 * the web server writes to its error log. Messages never hold a secret, a
 * signature value or a file path.
 */
typedef void log_sink_fn(const char *line, size_t len);

void log_set_sink(log_sink_fn *sink);

/* Formats one line, prefixes "makini-webhook: ", appends a newline. */
void log_line(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));

#endif
