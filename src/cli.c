/* See LICENSE file for copyright and license details. */
/*
 * The verbs run from a shell: their dispatch, and sign, drain, status,
 * retry and replay (check has its own file).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "queue_admin.h"
#include "queue_drain.h"
#include "queue_prune.h"
#include "queue_status.h"
#include "sig.h"

#ifndef MAKINI_VERSION
#define MAKINI_VERSION "unknown"
#endif

#define SIGN_MAX (256UL << 20)

static void
usage(FILE *out)
{
	fputs("usage: makini-webhook [--help | --version | sign | check |\n"
	      "                       drain [--now] | status [--json] |\n"
	      "                       retry [ID | TYPE] | replay ID |\n"
	      "                       metrics [--output FILE] |\n"
	      "                       prune [--dry-run] [--older-than AGE]\n"
	      "                             [TYPE]]\n"
	      "\n"
	      "Receives Makini webhooks when a web server runs it as CGI or\n"
	      "FastCGI: verifies each request's X-Webhook-Signature and\n"
	      "stores the event in the spool. From a shell:\n"
	      "\n"
	      "  sign     print the signature of standard input, as hex, for\n"
	      "           the configured secret\n"
	      "  check    check the configuration, secret and spool; exit 0\n"
	      "           when usable, 1 when not\n"
	      "  drain    queue mode: run the hooks of all due pending\n"
	      "           events, oldest first (for cron or a systemd timer);\n"
	      "           --now: all pending events, whatever their backoff\n"
	      "  status   per event type, the events in new/, cur/ and\n"
	      "           failed/ and the age of the oldest pending one;\n"
	      "           each failed attempt's next try, error and output;\n"
	      "           exit 1 when an event failed for good or waits too\n"
	      "           long; --json for JSON\n"
	      "  retry    failed events (all, one id, or one type's) back to\n"
	      "           pending, and pending ones waiting for their next\n"
	      "           try due now, their error and attempts cleared\n"
	      "  replay   a finished event (in cur/) queued again\n"
	      "  metrics  the queue and the counters in Prometheus's text\n"
	      "           format; --output FILE writes them atomically\n"
	      "  prune    remove events older than AGE (3600, 90m, 12h, 30d;\n"
	      "           default MAKINI_WEBHOOK_PRUNE_AGE) from cur/ and\n"
	      "           failed/; --dry-run lists them and removes nothing\n"
	      "\n"
	      "Configuration comes from MAKINI_WEBHOOK_* environment\n"
	      "variables, or makini-webhook.env beside the program. Run as\n"
	      "root, drain, retry and replay work as the spool's owner.\n"
	      "See man makini-webhook.\n", out);
}

static int
sign(char *const *env)
{
	const struct secret *key;
	struct config cfg;
	unsigned char *buf = NULL, mac[SIG_LEN];
	char hex[2 * SIG_LEN + 1];
	size_t len = 0, cap = 0;
	int rc = 1;

	config_load(&cfg, env, NULL);
	if (cfg.secrets->state != SECRETS_READY) {
		fprintf(stderr, "makini-webhook: cannot sign: %s\n",
			cfg.secrets->problem);
		goto out;
	}
	/* Makini signs with the current secret; the previous one is past. */
	key = secrets_current(cfg.secrets);
	if (!key) {
		fputs("makini-webhook: cannot sign: only the previous secret "
		      "is set: set " CONFIG_PREFIX "SECRET or " CONFIG_PREFIX
		      "SECRET_FILE\n", stderr);
		goto out;
	}
	for (;;) {
		if (len == cap) {
			unsigned char *grown;

			cap = cap ? 2 * cap : 65536;
			grown = cap <= SIGN_MAX ? realloc(buf, cap) : NULL;
			if (!grown) {
				fputs("makini-webhook: input too large\n",
				      stderr);
				goto out;
			}
			buf = grown;
		}
		size_t n = fread(buf + len, 1, cap - len, stdin);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(stdin)) {
		fprintf(stderr, "makini-webhook: cannot read standard "
			"input: %s\n", strerror(errno));
		goto out;
	}
	if (sig_hmac(key->bytes, key->len, buf, len, mac) < 0) {
		fprintf(stderr, "makini-webhook: cannot compute the HMAC\n");
		goto out;
	}
	sig_to_hex(mac, hex);
	printf("%s\n", hex);
	rc = 0;
out:
	free(buf);
	config_free(&cfg);
	return rc;
}

/*
 * Run as root, the verbs that change the spool work as its owner, so that
 * every file they create keeps the spool's ownership and the receiver can
 * still read and move it. Returns 0, or -1 after saying why.
 */
static int
become_spool_owner(const char *spool)
{
	struct passwd *pw;
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (stat(spool, &st) < 0) {
		fprintf(stderr, "makini-webhook: cannot use the spool %s: %s\n",
			spool, strerror(errno));
		return -1;
	}
	if (st.st_uid == 0)
		return 0;
	/* The owner's own groups too, so that hooks can reach what it can. */
	pw = getpwuid(st.st_uid);
	if ((pw ? initgroups(pw->pw_name, st.st_gid)
		: setgroups(0, NULL)) < 0 ||
	    setgid(st.st_gid) < 0 || setuid(st.st_uid) < 0) {
		fprintf(stderr, "makini-webhook: cannot switch to the spool's "
			"owner (uid %ld): %s\n", (long)st.st_uid,
			strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * drain, status, retry and replay need no secret: cron need not know it.
 * The configuration is read after the switch to the spool's owner, so
 * that HOOKS is checked as the hooks will see it.
 */
static int
load_for_queue(struct config *cfg, char *const *env, int need_hooks,
	       int writes)
{
	config_load(cfg, env, NULL);
	if (writes && cfg->spool && become_spool_owner(cfg->spool) < 0)
		return -1;
	if (writes) {
		config_free(cfg);
		config_load(cfg, env, NULL);
		/* What a drain decides is kept where runners keep theirs. */
		if (cfg->spool && log_to_file(cfg->spool, "queue.log") < 0 &&
		    errno != ENOENT)
			fprintf(stderr, "makini-webhook: cannot write "
				"queue.log in the spool: %s\n",
				strerror(errno));
	}
	/* No secret is fine here; a broken one is still a mistake. */
	if (cfg->problem_count > 0 || (cfg->secrets->state != SECRETS_READY &&
				       cfg->secrets->state != SECRETS_NONE)) {
		fprintf(stderr, "makini-webhook: %s\n", config_problem(cfg));
		return -1;
	}
	if (need_hooks && cfg->mode != MODE_QUEUE) {
		fputs("makini-webhook: drain runs hooks in queue mode: set "
		      "MAKINI_WEBHOOK_MODE=queue and MAKINI_WEBHOOK_HOOKS\n",
		      stderr);
		return -1;
	}
	return 0;
}

static int
drain(char *const *env, int now)
{
	struct config cfg;
	struct drain_counts c;
	int rc = 1;

	if (load_for_queue(&cfg, env, 1, 1) < 0)
		goto out;
	if (queue_drain(&cfg, NULL, now, env, NULL, &c) < 0) {
		fprintf(stderr, "makini-webhook: cannot read the spool: %s\n",
			strerror(errno));
		goto out;
	}
	printf("drain: %u done, %u to retry, %u failed for good, %u not due "
	       "yet, %u running elsewhere, %u returned from dead runners, "
	       "%u errors\n", c.done, c.retried, c.failed, c.not_due, c.busy,
	       c.returned, c.errors);
	rc = c.errors ? 1 : 0;
out:
	config_free(&cfg);
	return rc;
}

/*
 * Exits 0 when nothing needs attention, 1 when an event failed for good
 * or waits longer than OVERDUE_AGE, 2 when the spool cannot be read: a
 * cron line or a monitoring check can act on it.
 */
static int
status(char *const *env, int json)
{
	struct config cfg;
	int rc = 2, found;

	if (load_for_queue(&cfg, env, 0, 0) < 0)
		goto out;
	found = queue_status(&cfg, json, stdout);
	if (found < 0) {
		fprintf(stderr, "makini-webhook: cannot read the spool: %s\n",
			strerror(errno));
		goto out;
	}
	rc = found;
out:
	config_free(&cfg);
	return rc;
}

/* retry [ID|TYPE] and replay ID: events moved back to pending. */
static int
requeue(char *const *env, const char *verb, const char *what)
{
	int is_retry = strcmp(verb, "retry") == 0, rc = 1;
	struct config cfg;
	long moved, due = 0;

	if (load_for_queue(&cfg, env, 0, 1) < 0)
		goto out;
	moved = is_retry ? queue_retry(&cfg, what, &due)
			 : queue_replay(&cfg, what);
	if (moved < 0) {
		fprintf(stderr, "makini-webhook: %s: %s\n", verb,
			strerror(errno));
		goto out;
	}
	if (moved == 0 && due == 0 && what) {
		fprintf(stderr, "makini-webhook: %s: no %s event %s\n", verb,
			is_retry ? "failed or waiting" : "finished", what);
		goto out;
	}
	printf("%s: %ld event%s back to pending", verb, moved,
	       moved == 1 ? "" : "s");
	if (due > 0)
		printf(", %ld waiting event%s due now", due,
		       due == 1 ? "" : "s");
	putchar('\n');
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}

static int
metrics(char *const *env, const char *file)
{
	struct config cfg;
	int rc = 1;

	if (load_for_queue(&cfg, env, 0, 0) < 0)
		goto out;
	if (file ? metrics_output(&cfg, file) < 0
		 : metrics_print(&cfg, stdout) < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "makini-webhook: metrics: %s\n",
			strerror(errno));
		goto out;
	}
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}

/* prune [--dry-run] [--older-than AGE] [TYPE]; argv past the verb. */
static int
prune(char *const *env, int argc, char **argv)
{
	unsigned long long age = 0;
	const char *type = NULL, *given = NULL;
	int dry_run = 0, rc = 2;
	struct config cfg;
	long n;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0) {
			dry_run = 1;
		} else if (strcmp(argv[i], "--older-than") == 0 &&
			   i + 1 < argc) {
			given = argv[++i];
			if (config_parse_age(given, &age) < 0) {
				fprintf(stderr, "makini-webhook: prune: '%s' "
					"is not an age such as 3600, 90m, 12h "
					"or 30d\n", given);
				return 2;
			}
		} else if (!type && argv[i][0] != '-') {
			type = argv[i];
		} else {
			fprintf(stderr, "makini-webhook: prune: unexpected "
				"argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (load_for_queue(&cfg, env, 0, !dry_run) < 0) {
		rc = 1;
		goto out;
	}
	if (!given)
		age = cfg.prune_age;
	if (!given && !age) {
		fputs("makini-webhook: prune needs an age: --older-than AGE "
		      "or MAKINI_WEBHOOK_PRUNE_AGE\n", stderr);
		goto out;
	}
	n = queue_prune(&cfg, type, age, dry_run, stdout);
	if (n < 0) {
		fprintf(stderr, "makini-webhook: prune: %s\n",
			strerror(errno));
		rc = 1;
		goto out;
	}
	printf("prune: %ld event%s %s\n", n, n == 1 ? "" : "s",
	       dry_run ? "would be removed (dry run)" : "removed");
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}

static int
too_many(int argc, int most, char **argv)
{
	if (argc <= most)
		return 0;
	fprintf(stderr, "makini-webhook: %s: unexpected argument '%s'\n",
		argv[1], argv[most]);
	usage(stderr);
	return 1;
}

int
cli_main(int argc, char **argv, char *const *env)
{
	/*
	 * Telling a shell from a gateway asked libfcgi, which installed its
	 * own SIGTERM and SIGPIPE handlers: a drain must stop when told to.
	 */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("makini-webhook %s\n", MAKINI_VERSION);
		return 0;
	}
	if (sig_init() < 0) {
		fprintf(stderr, "makini-webhook: libgcrypt version mismatch\n");
		return 1;
	}
	if (strcmp(argv[1], "sign") == 0)
		return too_many(argc, 2, argv) ? 2 : sign(env);
	if (strcmp(argv[1], "check") == 0)
		return too_many(argc, 2, argv) ? 2 : check_main(env);
	if (strcmp(argv[1], "drain") == 0) {
		int now = argc > 2 && strcmp(argv[2], "--now") == 0;

		return too_many(argc, 2 + now, argv) ? 2 : drain(env, now);
	}
	if (strcmp(argv[1], "status") == 0) {
		int json = argc > 2 && strcmp(argv[2], "--json") == 0;

		return too_many(argc, 2 + json, argv) ? 2 : status(env, json);
	}
	if (strcmp(argv[1], "retry") == 0)
		return too_many(argc, 3, argv) ? 2
					       : requeue(env, "retry", argv[2]);
	if (strcmp(argv[1], "replay") == 0) {
		if (argc < 3) {
			fprintf(stderr, "makini-webhook: replay needs an id\n");
			usage(stderr);
			return 2;
		}
		return too_many(argc, 3, argv)
			       ? 2
			       : requeue(env, "replay", argv[2]);
	}
	if (strcmp(argv[1], "prune") == 0)
		return prune(env, argc - 2, argv + 2);
	if (strcmp(argv[1], "metrics") == 0) {
		int output = argc > 2 && strcmp(argv[2], "--output") == 0;

		if (output && argc < 4) {
			fprintf(stderr, "makini-webhook: --output needs a "
				"file\n");
			return 2;
		}
		return too_many(argc, output ? 4 : 2, argv)
			       ? 2
			       : metrics(env, output ? argv[3] : NULL);
	}
	fprintf(stderr, "makini-webhook: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
