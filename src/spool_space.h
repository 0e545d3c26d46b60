/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_SPOOL_SPACE_H
#define MAKINI_SPOOL_SPACE_H

#include <stddef.h>

/*
 * The room left on the spool's file system, for the health check and
 * check: what a receiver that is not root may still use there, judged
 * against MIN_FREE and MIN_FREE_INODES. Deliveries never ask: they are
 * stored while the disk allows, and refused only when the store fails.
 */
struct spool_space {
	unsigned long long free_bytes;  /* f_bavail * f_frsize */
	unsigned long long free_inodes; /* f_favail */
	/* 0 where the file system counts no inodes (f_files 0, as Btrfs) */
	int inodes_counted;
};

/*
 * Measures the file system of root or, while root does not exist, of the
 * nearest directory above it, with one statvfs. Returns 0, or -1 with
 * errno set.
 */
int spool_space_measure(const char *root, struct spool_space *sp);

/*
 * Judges sp against the thresholds (0 turns one off; inodes are not
 * judged where they are not counted). Returns 0 when there is room
 * enough; else -1, with why (size bytes) saying each threshold that is
 * passed, as "12 MB free on the spool's file system, under
 * MAKINI_WEBHOOK_MIN_FREE (64 MB)". No value in it is a path or a secret.
 */
int spool_space_judge(const struct spool_space *sp,
		      unsigned long long min_free,
		      unsigned long long min_free_inodes, char *why,
		      size_t size);

/*
 * bytes for a person, in units of 1024 and cut, never rounded up: "512
 * bytes", "12 MB", "2.1 GB". Returns buf.
 */
const char *spool_space_bytes(unsigned long long bytes, char *buf,
			      size_t size);

/* n with a comma between each group of three digits: "130,000". */
const char *spool_space_count(unsigned long long n, char *buf, size_t size);

#endif
