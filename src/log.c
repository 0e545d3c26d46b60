#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void
stderr_sink(const char *line, size_t len)
{
	fwrite(line, 1, len, stderr);
	fflush(stderr);
}

static log_sink_fn *current_sink = stderr_sink;

void
log_set_sink(log_sink_fn *sink)
{
	current_sink = sink ? sink : stderr_sink;
}

void
log_line(const char *fmt, ...)
{
	static const char prefix[] = "makini-webhook: ";
	char line[1024];
	size_t len = sizeof(prefix) - 1;
	va_list ap;
	int n;

	memcpy(line, prefix, len);
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len += (size_t)n < sizeof(line) - len - 1 ? (size_t)n
						  : sizeof(line) - len - 2;
	line[len++] = '\n';
	current_sink(line, len);
}
