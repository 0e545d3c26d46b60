/* See LICENSE file for copyright and license details. */
/* The records beside queued events: new/<id>.state, failed/<id>.error. */
#include "queue_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool_rename.h"
#include "spool_type.h"

/* The longest line: "output " and a tail line, or "error " and an error. */
#define RECORD_LINE_MAX (HOOK_TAIL_LINE_MAX + RECORD_ERROR_MAX + 16)

static void
add_output(struct queue_record *r, const char *line)
{
	size_t len = strlen(r->output), n = strlen(line);

	if (len + n + 2 > sizeof(r->output))
		return;
	memcpy(r->output + len, line, n);
	r->output[len + n] = '\n';
	r->output[len + n + 1] = '\0';
}

int
record_read(int dir_fd, const char *name, struct queue_record *r)
{
	char buf[RECORD_LINE_MAX], digits[10];
	FILE *f;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = spool_open_regular(dir_fd, name);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (!(f = fdopen(fd, "r"))) {
		close(fd);
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		/* Digits only: "attempts -1" would wrap to a fresh count. */
		if (sscanf(buf, "attempts %9[0-9]", digits) == 1) {
			r->attempts = (unsigned)strtoul(digits, NULL, 10);
			r->has_attempts = 1;
		} else if (sscanf(buf, "next %lld", &r->next) == 1) {
			r->has_next = 1;
		} else if (strncmp(buf, "error ", 6) == 0) {
			snprintf(r->error, sizeof(r->error), "%.*s",
				 RECORD_ERROR_MAX, buf + 6);
			r->has_error = 1;
		} else if (strncmp(buf, "output ", 7) == 0) {
			add_output(r, buf + 7);
		}
	}
	if (ferror(f)) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	if (!r->has_attempts) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

int
record_write(int dir_fd, const char *name, const struct queue_record *r,
	     int with_next, int durable)
{
	char text[64 + RECORD_ERROR_MAX + 2 * HOOK_TAIL_MAX];
	const char *line = r->output;
	size_t len;

	len = (size_t)snprintf(text, sizeof(text), "attempts %u\n",
			       r->attempts);
	if (with_next)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"next %lld\n", r->next);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "error %.*s\n",
				RECORD_ERROR_MAX, r->error);
	while (*line) {
		size_t n = strcspn(line, "\n");

		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"output %.*s\n", (int)n, line);
		line += n + (line[n] == '\n');
	}
	return spool_replace_file(dir_fd, name, text, len, durable);
}
