/* See LICENSE file for copyright and license details. */
/*
 * cgi-run: what a CGI invocation costs, without a web server around it.
 *
 *	cgi-run ROUNDS BODY PROGRAM...
 *
 * Each round runs every PROGRAM once as a web server runs a CGI program:
 * spawned with this process's environment (the caller sets the CGI
 * variables), BODY as standard input, standard output and error to
 * /dev/null, waited for. Odd rounds run the programs in the order given,
 * even rounds in reverse, so that a drift of the machine weighs on all of
 * them alike. A program that does not exit 0 ends the run: a receiver
 * that refuses the request would look fast.
 *
 * Prints one line per program:
 *	PROGRAM mean-ms median-ms cpu-ms
 * wall-clock milliseconds from spawn to reaped exit (mean and median over
 * the rounds) and the child's own user and system time, mean (wait4).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Runs PROG once; stores its wall-clock and CPU milliseconds. */
static int
run_once(const char *prog, const char *body, double *wall, double *cpu)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)prog, NULL };
	struct rusage ru;
	double start;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, body, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	start = now_ms();
	rc = posix_spawn(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		fprintf(stderr, "cgi-run: cannot run %s: %s\n", prog,
			strerror(rc));
		return -1;
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("cgi-run: wait4");
			return -1;
		}
	*wall = now_ms() - start;
	*cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "cgi-run: %s failed (status %d)\n", prog,
			status);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	double *wall, *cpu;
	long rounds;
	int nprog, i, p;

	if (argc < 4 || (rounds = strtol(argv[1], NULL, 10)) < 1) {
		fprintf(stderr, "usage: cgi-run ROUNDS BODY PROGRAM...\n");
		return 2;
	}
	nprog = argc - 3;
	wall = calloc((size_t)(nprog * rounds), sizeof(*wall));
	cpu = calloc((size_t)(nprog * rounds), sizeof(*cpu));
	if (wall == NULL || cpu == NULL) {
		perror("cgi-run");
		return 1;
	}
	for (i = 0; i < rounds; i++)
		for (p = 0; p < nprog; p++) {
			int k = i % 2 ? nprog - 1 - p : p;
			size_t at = (size_t)k * (size_t)rounds + (size_t)i;

			if (run_once(argv[3 + k], argv[2], &wall[at],
				     &cpu[at]) < 0)
				return 1;
		}
	for (p = 0; p < nprog; p++) {
		double *w = wall + (size_t)p * (size_t)rounds;
		double *c = cpu + (size_t)p * (size_t)rounds;
		double wsum = 0, csum = 0;

		for (i = 0; i < rounds; i++) {
			wsum += w[i];
			csum += c[i];
		}
		qsort(w, (size_t)rounds, sizeof(*w), cmp_double);
		printf("%s %.4f %.4f %.4f\n", argv[3 + p], wsum / rounds,
		       rounds % 2 ? w[rounds / 2]
				  : (w[rounds / 2 - 1] + w[rounds / 2]) / 2,
		       csum / rounds);
	}
	free(wall);
	free(cpu);
	return 0;
}
