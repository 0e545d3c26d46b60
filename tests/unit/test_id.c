/* See LICENSE file for copyright and license details. */
/* Event ids: shape, order, uniqueness within and across processes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "id.h"
#include "unit.h"

#define MANY 20000

static int
shaped(const char *id, const char *action)
{
	/* 20261129T071538.123456Z-3f9a1c2b7d4e5f60-00000001-updated */
	static const char pattern[] = "ddddddddTdddddd.ddddddZ-hhhhhhhhhhhhhhhh-hhhhhhhh-";
	size_t n = sizeof(pattern) - 1;

	if (strlen(id) != n + strlen(action) || strcmp(id + n, action) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		switch (pattern[i]) {
		case 'd':
			if (c < '0' || c > '9')
				return 0;
			break;
		case 'h':
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return 0;
			break;
		default:
			if (c != pattern[i])
				return 0;
		}
	}
	return 1;
}

/*
 * Counts id.c's fork handler registrations: this definition is linked in
 * place of glibc's pthread_atfork wrapper (libc_nonshared.a), and passes
 * each on to glibc as that wrapper does.
 */
extern void *__dso_handle;
extern int __register_atfork(void (*)(void), void (*)(void), void (*)(void),
			     void *);
static int atfork_calls;

int
pthread_atfork(void (*prepare)(void), void (*parent)(void),
	       void (*child)(void))
{
	atfork_calls++;
	return __register_atfork(prepare, parent, child, __dso_handle);
}

/*
 * A child and a grandchild each make an id, which draws their own random
 * part. Returns the registrations the grandchild ended with, or -1, and
 * whether the three random parts differ in *distinct.
 */
static int
registrations_in_grandchild(int *distinct)
{
	char ids[3][ID_LEN_MAX + 1];
	int pipefd[2], status;
	pid_t pid;

	id_make(ids[0], sizeof(ids[0]), "updated");
	if (pipe(pipefd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		pid_t grandchild;

		id_make(ids[1], sizeof(ids[1]), "updated");
		grandchild = fork();
		if (grandchild == 0) {
			id_make(ids[2], sizeof(ids[2]), "updated");
			if (write(pipefd[1], ids, sizeof(ids)) != sizeof(ids))
				_exit(255);
			_exit(atfork_calls);
		}
		if (grandchild < 0 || waitpid(grandchild, &status, 0) < 0 ||
		    !WIFEXITED(status))
			_exit(255);
		_exit(WEXITSTATUS(status));
	}
	close(pipefd[1]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    read(pipefd[0], ids, sizeof(ids)) != sizeof(ids)) {
		close(pipefd[0]);
		return -1;
	}
	close(pipefd[0]);
	*distinct = strncmp(ids[0] + 24, ids[1] + 24, 16) != 0 &&
		    strncmp(ids[1] + 24, ids[2] + 24, 16) != 0 &&
		    strncmp(ids[0] + 24, ids[2] + 24, 16) != 0;
	return WEXITSTATUS(status) == 255 ? -1 : WEXITSTATUS(status);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(void)
{
	static char ids[MANY][ID_LEN_MAX + 1];
	static char *sorted[2 * MANY];
	static char child_ids[MANY][ID_LEN_MAX + 1];
	int pipefd[2], in_order = 1, all_shaped = 1, unique = 1;
	pid_t pid;
	ssize_t got = 0;

	for (int i = 0; i < MANY; i++) {
		id_make(ids[i], sizeof(ids[i]), "updated");
		all_shaped &= shaped(ids[i], "updated");
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			in_order = 0;
	}
	CHECK("shape", all_shaped);
	CHECK("lexical order is generation order", in_order);

	/* Another process, started at the same moment, makes other ids. */
	if (pipe(pipefd) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		char id[ID_LEN_MAX + 1];

		for (int i = 0; i < MANY; i++) {
			id_make(id, sizeof(id), "updated");
			if (write(pipefd[1], id, sizeof(id)) != sizeof(id))
				_exit(1);
		}
		_exit(0);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n = read(pipefd[0], (char *)child_ids + got,
				 sizeof(child_ids) - (size_t)got);

		if (n <= 0)
			break;
		got += n;
	}
	waitpid(pid, NULL, 0);
	CHECK("child wrote its ids", got == (ssize_t)sizeof(child_ids));
	for (int i = 0; i < MANY; i++) {
		sorted[i] = ids[i];
		sorted[MANY + i] = child_ids[i];
	}
	qsort(sorted, 2 * MANY, sizeof(*sorted), cmp_str);
	for (int i = 1; i < 2 * MANY; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			unique = 0;
	CHECK("unique across processes", unique);
	CHECK("random part differs",
	      strncmp(ids[0] + 24, child_ids[0] + 24, 16) != 0);

	char id[ID_LEN_MAX + 1], before[16], after[16];
	time_t t0 = time(NULL), t1;
	struct tm tm;

	id_make(id, sizeof(id), "inserted");
	t1 = time(NULL);
	CHECK("action in id", shaped(id, "inserted"));
	/* The date and time are UTC, as gmtime_r gives them. */
	strftime(before, sizeof(before), "%Y%m%dT%H%M%S", gmtime_r(&t0, &tm));
	strftime(after, sizeof(after), "%Y%m%dT%H%M%S", gmtime_r(&t1, &tm));
	CHECK("UTC time in id", strncmp(id, before, 15) == 0 ||
					strncmp(id, after, 15) == 0);

	int distinct = 0;

	CHECK("the fork handler is registered once, not again in children",
	      atfork_calls == 1 && registrations_in_grandchild(&distinct) == 1);
	CHECK("a grandchild draws its own random part too", distinct);
	return unit_report();
}
