/* See LICENSE file for copyright and license details. */
/* Event ids: sortable on one host, never reused across processes or hosts. */
#include "id.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "text.h"

static uint64_t process_tag;
static int have_tag;
static uint32_t counter;
static struct timespec last;

/*
 * A forked child must not reuse its parent's random part and counter, or
 * the two could mint the same id: the child draws its own on its first id.
 */
static void
forget_tag(void)
{
	have_tag = 0;
}

static void
draw_tag(void)
{
	/*
	 * Not have_tag, which forget_tag clears in every child: the handler,
	 * inherited across fork, is registered once per program.
	 */
	static int registered;

	if (getrandom(&process_tag, sizeof(process_tag), 0) !=
	    (ssize_t)sizeof(process_tag)) {
		/* No entropy yet: pid and clock still set processes apart. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		process_tag = (uint64_t)getpid() << 40 ^
			      (uint64_t)ts.tv_nsec << 8 ^ (uint64_t)ts.tv_sec;
	}
	if (!registered && pthread_atfork(NULL, NULL, forget_tag) == 0)
		registered = 1;
	have_tag = 1;
}

/*
 * The UTC calendar date and time of t, as gmtime_r gives them. glibc's
 * gmtime_r loads the time zone first (it opens and reads /etc/localtime:
 * seven system calls), which a CGI process pays on every request. Days to
 * a civil date after Howard Hinnant's days_from_civil inverse.
 */
static void
utc_time(time_t t, struct tm *tm)
{
	long long days = t / 86400, secs = t % 86400, era, doe, yoe, doy, mp;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	days += 719468; /* from 1970-01-01 to 0000-03-01 */
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	tm->tm_year = (int)(yoe + era * 400 + (tm->tm_mon < 2)) - 1900;
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
}

/* v as width lower-case hex digits, leading zeros kept. */
static void
add_hex(struct text *t, unsigned long long v, int width)
{
	static const char digits[] = "0123456789abcdef";
	char hex[16];

	for (int i = width - 1; i >= 0; i--, v >>= 4)
		hex[i] = digits[v & 15];
	text_add_mem(t, hex, (size_t)width);
}

/*
 * "%04d%02d%02dT%02d%02d%02d.%06ldZ-%016llx-%08x-%s", put together by
 * hand: snprintf took a tenth of a FastCGI request's instructions for
 * this one line. An out too small gets the id cut short.
 */
void
id_make(char *out, size_t size, const char *action)
{
	struct timespec now;
	struct text t;
	struct tm tm;

	if (size == 0)
		return;
	if (!have_tag)
		draw_tag();
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec < last.tv_sec ||
	    (now.tv_sec == last.tv_sec && now.tv_nsec < last.tv_nsec))
		now = last; /* the clock was stepped back */
	last = now;
	utc_time(now.tv_sec, &tm);
	text_init(&t, out, size);
	text_add_uint(&t, (unsigned long long)tm.tm_year + 1900, 4);
	text_add_uint(&t, (unsigned long long)tm.tm_mon + 1, 2);
	text_add_uint(&t, (unsigned long long)tm.tm_mday, 2);
	text_add(&t, "T");
	text_add_uint(&t, (unsigned long long)tm.tm_hour, 2);
	text_add_uint(&t, (unsigned long long)tm.tm_min, 2);
	text_add_uint(&t, (unsigned long long)tm.tm_sec, 2);
	text_add(&t, ".");
	text_add_uint(&t, (unsigned long long)now.tv_nsec / 1000, 6);
	text_add(&t, "Z-");
	add_hex(&t, process_tag, 16);
	text_add(&t, "-");
	add_hex(&t, ++counter, 8);
	text_add(&t, "-");
	text_add_mem(&t, action, strnlen(action, 32));
	text_done_cut(&t);
}

time_t
id_time(const char *id)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(id, "%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}
