#include "id.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t process_tag;
static int have_tag;
static uint32_t counter;
static struct timespec last;

static void
draw_tag(void)
{
	if (getrandom(&process_tag, sizeof(process_tag), 0) !=
	    (ssize_t)sizeof(process_tag)) {
		/* No entropy yet: the pid and clock still separate processes. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		process_tag = (uint64_t)getpid() << 40 ^
			      (uint64_t)ts.tv_nsec << 8 ^ (uint64_t)ts.tv_sec;
	}
	have_tag = 1;
}

void
id_reset(void)
{
	have_tag = 0;
}

void
id_make(char *out, size_t size, const char *action)
{
	struct timespec now;
	struct tm tm;

	if (!have_tag)
		draw_tag();
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec < last.tv_sec ||
	    (now.tv_sec == last.tv_sec && now.tv_nsec < last.tv_nsec))
		now = last; /* the clock was stepped back */
	last = now;
	gmtime_r(&now.tv_sec, &tm);
	snprintf(out, size,
		 "%04d%02d%02dT%02d%02d%02d.%06ldZ-%016llx-%08x-%s",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, now.tv_nsec / 1000,
		 (unsigned long long)process_tag, (unsigned)++counter, action);
}
