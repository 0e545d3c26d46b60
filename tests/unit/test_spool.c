/* See LICENSE file for copyright and license details. */
/*
 * The spool's one check of a type name, shared by the store and the walk
 * over the types, and the random part of the names nobody can plant.
 * Works in a directory of its own below tests/trash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "spool.h"
#include "spool_rename.h"
#include "spool_type.h"
#include "unit.h"

static char root[256];

static int
exists(const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	return lstat(path, &st) == 0;
}

static int
count_type(const char *type, struct spool_type *t, void *ctx)
{
	(void)type;
	(void)t;
	(*(int *)ctx)++;
	return 0;
}

static int
is_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

int
main(void)
{
	static const struct {
		const char *name;
		int valid;
	} names[] = {
		{ "assets", 1 },          { "work_orders", 1 },
		{ "a", 1 },               { "0", 1 },
		{ "", 0 },                { "_x", 0 },
		{ ".", 0 },               { "..", 0 },
		{ "Assets", 0 },          { "work-orders", 0 },
		{ "a/b", 0 },             { "a.b", 0 },
		{ ".hidden", 0 },         { "caf\xc3\xa9", 0 },
	};
	char long_name[ENTITY_MAX + 2], r1[SPOOL_RANDOM_HEX + 1],
		r2[SPOOL_RANDOM_HEX + 1];
	int ok = 1, types = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (event_part_valid(names[i].name, ENTITY_MAX) !=
		    names[i].valid) {
			printf("# %s: %d\n", names[i].name, !names[i].valid);
			ok = 0;
		}
	CHECK("the type names a normalised event gives, and no other", ok);
	memset(long_name, 'a', ENTITY_MAX);
	long_name[ENTITY_MAX] = '\0';
	CHECK("ENTITY_MAX characters", event_part_valid(long_name, ENTITY_MAX));
	long_name[ENTITY_MAX] = 'a';
	long_name[ENTITY_MAX + 1] = '\0';
	CHECK("one more", !event_part_valid(long_name, ENTITY_MAX));

	mkdir("tests/trash", 0755);
	snprintf(root, sizeof(root), "tests/trash/unit-spool.%ld",
		 (long)getpid());
	/* The store takes only what the walk would list, and makes nothing. */
	ok = 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		int rc = spool_store(root, names[i].name, "id-1", "{}", 2, 0);

		if (names[i].valid ? rc != 0
				   : rc != -1 || errno != EINVAL ||
					     (names[i].name[0] &&
					      strcmp(names[i].name, ".") &&
					      strcmp(names[i].name, "..") &&
					      exists(names[i].name)))
			ok = 0;
	}
	CHECK("the store refuses a type that is not a name, with EINVAL", ok);
	CHECK("and stores under one that is",
	      exists("assets/new/id-1.json") && exists("a/new/id-1.json"));
	CHECK("the walk lists the types stored",
	      spool_each_type(root, 0, count_type, &types) == 0 &&
		      types == 4);

	CHECK("a random part is 16 hex digits, another each time",
	      spool_random_hex(r1) == 0 && spool_random_hex(r2) == 0 &&
		      is_hex(r1, SPOOL_RANDOM_HEX) &&
		      is_hex(r2, SPOOL_RANDOM_HEX) && strcmp(r1, r2) != 0);

	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return 1;
	return unit_report();
}
