#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "config.h"
#include "queue.h"
#include "sig.h"
#include "spool.h"

#ifndef MAKINI_VERSION
#define MAKINI_VERSION "unknown"
#endif

#define SIGN_MAX (256UL << 20)

static void
usage(FILE *out)
{
	fputs("usage: makini-webhook.cgi [--help | --version | sign | check |\n"
	      "                           drain | status [--json]]\n"
	      "\n"
	      "Receives Makini webhooks when a web server runs it as CGI or\n"
	      "FastCGI: verifies each request's X-Webhook-Signature and\n"
	      "stores the event in the spool. From a shell:\n"
	      "\n"
	      "  sign     print the signature of standard input, as hex, for\n"
	      "           the configured secret\n"
	      "  check    check the configuration, secret and spool; exit 0\n"
	      "           when usable, 1 when not\n"
	      "  drain    queue mode: run the hooks of all due pending events,\n"
	      "           oldest first (for cron or a systemd timer)\n"
	      "  status   per event type, the events in new/, cur/ and failed/\n"
	      "           and the age of the oldest pending one; --json for JSON\n"
	      "\n"
	      "Configuration comes from MAKINI_WEBHOOK_* environment\n"
	      "variables; see the README.\n", out);
}

static int
sign(char *const *env)
{
	struct config cfg;
	unsigned char *buf = NULL, mac[SIG_LEN];
	char hex[2 * SIG_LEN + 1];
	size_t len = 0, cap = 0;
	int rc = 1;

	config_load(&cfg, env, NULL);
	if (cfg.secret_count == 0) {
		fprintf(stderr, "makini-webhook: cannot sign: %s\n",
			cfg.usable ? "no secret" : cfg.problem);
		goto out;
	}
	for (;;) {
		if (len == cap) {
			unsigned char *grown;

			cap = cap ? 2 * cap : 65536;
			grown = cap <= SIGN_MAX ? realloc(buf, cap) : NULL;
			if (!grown) {
				fprintf(stderr, "makini-webhook: input too large\n");
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
		fprintf(stderr, "makini-webhook: cannot read standard input: %s\n",
			strerror(errno));
		goto out;
	}
	if (sig_hmac(cfg.secrets[0].bytes, cfg.secrets[0].len, buf, len, mac) < 0) {
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

/* Creates and removes a file in dir: proof that events can be written. */
static int
probe_write(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/.check-%ld", dir, (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -1;
	close(fd);
	return unlink(path);
}

/*
 * tmp/ and new/ of every type must share a file system, or the rename
 * that publishes an event would fail.
 */
static int
check_types(const char *root)
{
	DIR *dir = opendir(root);
	struct dirent *de;
	int bad = 0, types = 0;

	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		char tmp[4096], new[4096];
		struct stat st_tmp, st_new;

		if (de->d_name[0] == '.')
			continue;
		snprintf(tmp, sizeof(tmp), "%s/%s/tmp", root, de->d_name);
		snprintf(new, sizeof(new), "%s/%s/new", root, de->d_name);
		if (stat(tmp, &st_tmp) < 0 || stat(new, &st_new) < 0)
			continue;
		types++;
		if (st_tmp.st_dev != st_new.st_dev) {
			printf("spool:   %s: tmp/ and new/ are on different "
			       "file systems\n", de->d_name);
			bad = 1;
		} else if (probe_write(tmp) < 0) {
			printf("spool:   %s/tmp: not writable: %s\n",
			       de->d_name, strerror(errno));
			bad = 1;
		}
	}
	closedir(dir);
	printf("spool:   %d event type%s checked\n", types,
	       types == 1 ? "" : "s");
	return bad ? -1 : 0;
}

static int
check(char *const *env)
{
	static const char *const mode_names[] = { "spool", "hook", "queue" };
	struct config cfg;
	struct stat st;
	int usable = 1;

	config_load(&cfg, env, NULL);
	printf("makini-webhook %s\n", MAKINI_VERSION);
	if (!cfg.usable) {
		printf("config:  %s\n", cfg.problem);
		usable = 0;
	} else {
		printf("config:  ok, mode %s, max body %zu bytes, fsync %s\n",
		       mode_names[cfg.mode], cfg.max_body,
		       cfg.fsync ? "on" : "off");
		printf("secret:  %s\n", cfg.secret_count == 2
				? "current and previous" : "current");
	}
	if (cfg.spool) {
		if (spool_prepare(cfg.spool, NULL) < 0) {
			printf("spool:   %s: cannot create: %s\n", cfg.spool,
			       strerror(errno));
			usable = 0;
		} else if (probe_write(cfg.spool) < 0) {
			printf("spool:   %s: not writable: %s\n", cfg.spool,
			       strerror(errno));
			usable = 0;
		} else {
			printf("spool:   %s: writable\n", cfg.spool);
			if (check_types(cfg.spool) < 0)
				usable = 0;
		}
	}
	if (cfg.hooks && cfg.mode != MODE_SPOOL) {
		if (stat(cfg.hooks, &st) < 0 || !S_ISDIR(st.st_mode)) {
			printf("hooks:   %s: not a directory\n", cfg.hooks);
			usable = 0;
		} else {
			printf("hooks:   %s\n", cfg.hooks);
		}
	}
	printf("usable:  %s\n", usable ? "yes" : "no");
	config_free(&cfg);
	return usable ? 0 : 1;
}

/* drain and status need no secret: cron need not know it. */
static int
load_for_queue(struct config *cfg, char *const *env, int need_hooks)
{
	config_load(cfg, env, NULL);
	if (!cfg->usable && !cfg->only_secret_missing) {
		fprintf(stderr, "makini-webhook: %s\n", cfg->problem);
		return -1;
	}
	if (need_hooks && cfg->mode != MODE_QUEUE) {
		fprintf(stderr, "makini-webhook: drain runs hooks in queue mode: "
			"set MAKINI_WEBHOOK_MODE=queue and MAKINI_WEBHOOK_HOOKS\n");
		return -1;
	}
	return 0;
}

static int
drain(char *const *env)
{
	struct config cfg;
	struct drain_counts c;
	int rc = 1;

	if (load_for_queue(&cfg, env, 1) < 0)
		goto out;
	if (queue_drain(&cfg, env, &c) < 0) {
		fprintf(stderr, "makini-webhook: cannot read the spool: %s\n",
			strerror(errno));
		goto out;
	}
	printf("drain: %u done, %u to retry, %u failed for good, %u skipped, "
	       "%u errors\n", c.done, c.retried, c.failed, c.skipped, c.errors);
	rc = c.errors ? 1 : 0;
out:
	config_free(&cfg);
	return rc;
}

static int
status(char *const *env, int json)
{
	struct config cfg;
	int rc = 1;

	if (load_for_queue(&cfg, env, 0) < 0)
		goto out;
	if (queue_status(&cfg, json, stdout) < 0) {
		fprintf(stderr, "makini-webhook: cannot read the spool: %s\n",
			strerror(errno));
		goto out;
	}
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}

int
cli_main(int argc, char **argv, char *const *env)
{
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
		return sign(env);
	if (strcmp(argv[1], "check") == 0)
		return check(env);
	if (strcmp(argv[1], "drain") == 0)
		return drain(env);
	if (strcmp(argv[1], "status") == 0)
		return status(env, argc > 2 && strcmp(argv[2], "--json") == 0);
	fprintf(stderr, "makini-webhook: unknown verb '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
