/* See LICENSE file for copyright and license details. */
/* The spool's free space: its measure, judgement and words. */
#include <string.h>

#include "spool_space.h"
#include "unit.h"

static int
says(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return 1;
	printf("# got \"%s\", want \"%s\"\n", got, want);
	return 0;
}

static void
test_words(void)
{
	char buf[32];

	CHECK("bytes", says(spool_space_bytes(512, buf, sizeof(buf)),
			    "512 bytes"));
	CHECK("KB", says(spool_space_bytes(1536, buf, sizeof(buf)), "1.5 KB"));
	CHECK("MB whole", says(spool_space_bytes(64ULL << 20, buf, sizeof(buf)),
			       "64 MB"));
	CHECK("cut, not rounded", says(spool_space_bytes((64ULL << 20) - 1, buf,
							 sizeof(buf)),
				       "63 MB"));
	CHECK("GB tenth", says(spool_space_bytes(2254857831ULL, buf,
						 sizeof(buf)),
			       "2.1 GB"));
	CHECK("no zero tenth", says(spool_space_bytes(2ULL << 30, buf,
						      sizeof(buf)),
				    "2 GB"));
	CHECK("count", says(spool_space_count(130000, buf, sizeof(buf)),
			    "130,000"));
	CHECK("small count", says(spool_space_count(150, buf, sizeof(buf)),
				  "150"));
	CHECK("large count", says(spool_space_count(1234567890, buf,
						    sizeof(buf)),
				  "1,234,567,890"));
}

static void
test_judge(void)
{
	struct spool_space sp = { 12ULL << 20, 150, 1 };
	char why[400];

	CHECK("room", spool_space_judge(&sp, 1 << 20, 100, why,
					sizeof(why)) == 0 && !why[0]);
	CHECK("under MIN_FREE",
	      spool_space_judge(&sp, 64ULL << 20, 100, why, sizeof(why)) < 0 &&
		      says(why, "12 MB free on the spool's file system, under "
				"MAKINI_WEBHOOK_MIN_FREE (64 MB)"));
	CHECK("under MIN_FREE_INODES",
	      spool_space_judge(&sp, 0, 1000, why, sizeof(why)) < 0 &&
		      says(why, "150 inodes free on the spool's file system, "
				"under MAKINI_WEBHOOK_MIN_FREE_INODES (1000)"));
	CHECK("both", spool_space_judge(&sp, 64ULL << 20, 1000, why,
					sizeof(why)) < 0 &&
			      strstr(why, "(64 MB); 150 inodes free"));
	CHECK("off", spool_space_judge(&sp, 0, 0, why, sizeof(why)) == 0);
	sp.inodes_counted = 0;
	CHECK("inodes not counted", spool_space_judge(&sp, 0, 1000, why,
						      sizeof(why)) == 0);
}

static void
test_measure(void)
{
	struct spool_space sp;

	CHECK("measure", spool_space_measure("/", &sp) == 0 &&
				 sp.free_bytes > 0);
	/* A spool not made yet is measured where it will be made. */
	CHECK("missing root", spool_space_measure("/tmp/no-such-dir/spool",
						  &sp) == 0);
	CHECK("not a directory", spool_space_measure("/dev/null/spool",
						     &sp) < 0);
}

int
main(void)
{
	test_words();
	test_judge();
	test_measure();
	return unit_report();
}
