/* See LICENSE file for copyright and license details. */
/*
 * The room left on the spool's file system: one statvfs, judged against
 * the thresholds, and said in words a person reads at a glance.
 */
#include "spool_space.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/statvfs.h>

#include "spool.h"

int
spool_space_measure(const char *root, struct spool_space *sp)
{
	char path[PATH_MAX];
	struct statvfs vfs;
	struct stat st;

	/* A spool not made yet will be made on the nearest file system. */
	if (statvfs(root, &vfs) < 0 &&
	    (errno != ENOENT ||
	     spool_nearest(root, path, sizeof(path), &st) < 0 ||
	     statvfs(path, &vfs) < 0))
		return -1;
	/* The blocks and inodes left to users other than root. */
	sp->free_bytes = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	sp->free_inodes = vfs.f_favail;
	sp->inodes_counted = vfs.f_files != 0;
	return 0;
}

int
spool_space_judge(const struct spool_space *sp, unsigned long long min_free,
		  unsigned long long min_free_inodes, char *why, size_t size)
{
	char have[32], want[32];
	int len = 0;

	why[0] = '\0';
	if (min_free && sp->free_bytes < min_free)
		len = snprintf(why, size, "%s free on the spool's file system, "
			       "under MAKINI_WEBHOOK_MIN_FREE (%s)",
			       spool_space_bytes(sp->free_bytes, have,
						 sizeof(have)),
			       spool_space_bytes(min_free, want, sizeof(want)));
	if (len < 0 || (size_t)len >= size)
		return -1;
	if (min_free_inodes && sp->inodes_counted &&
	    sp->free_inodes < min_free_inodes)
		snprintf(why + len, size - (size_t)len, "%s%s inodes free on "
			 "the spool's file system, under "
			 "MAKINI_WEBHOOK_MIN_FREE_INODES (%llu)",
			 len ? "; " : "",
			 spool_space_count(sp->free_inodes, have, sizeof(have)),
			 min_free_inodes);
	return why[0] ? -1 : 0;
}

const char *
spool_space_bytes(unsigned long long bytes, char *buf, size_t size)
{
	static const char *const units[] = { "bytes", "KB", "MB", "GB",
					     "TB",    "PB", "EB" };
	unsigned shift = 0, u = 0;
	unsigned long long whole, tenth;

	while (u + 1 < sizeof(units) / sizeof(*units) &&
	       bytes >> (shift + 10) > 0) {
		shift += 10;
		u++;
	}
	whole = bytes >> shift;
	/* Cut, not rounded: 63.99 MB free is not "64 MB", the threshold. */
	tenth = ((bytes - (whole << shift)) * 10) >> shift;
	if (u > 0 && whole < 10 && tenth > 0)
		snprintf(buf, size, "%llu.%llu %s", whole, tenth, units[u]);
	else
		snprintf(buf, size, "%llu %s", whole, units[u]);
	return buf;
}

const char *
spool_space_count(unsigned long long n, char *buf, size_t size)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%llu", n);
	size_t out = 0;

	for (int i = 0; i < len && out + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	buf[out] = '\0';
	return buf;
}
