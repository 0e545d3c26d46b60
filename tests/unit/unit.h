/* See LICENSE file for copyright and license details. */
/*
 * A tiny unit test runner, in the manner of redis's testhelp.h. A test file
 * defines its checks with CHECK(), which counts and reports each, and ends
 * main with return unit_report(); the last line printed is
 * "N passed, N failed".
 */
#ifndef MAKINI_UNIT_H
#define MAKINI_UNIT_H

#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(what, cond)                                                  \
	do {                                                               \
		if (cond) {                                                \
			unit_passed++;                                     \
		} else {                                                   \
			unit_failed++;                                     \
			printf("not ok - %s (%s:%d: %s)\n", (what),        \
			       __FILE__, __LINE__, #cond);                 \
		}                                                          \
	} while (0)

static inline int
unit_report(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
