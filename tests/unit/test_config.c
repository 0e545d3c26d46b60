/* See LICENSE file for copyright and license details. */
/* Configuration from the environment, secret files, and the allow-list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "decimal.h"
#include "unit.h"

#define ENV(...) ((char *[]){ __VA_ARGS__, NULL })

static int
usable(char **base, char **overlay)
{
	struct config cfg;
	int ok;

	config_load(&cfg, base, overlay);
	ok = config_problem(&cfg) == NULL;
	config_free(&cfg);
	return ok;
}

static void
test_values(void)
{
	struct config cfg;

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s"), NULL);
	CHECK("defaults", config_problem(&cfg) == NULL && cfg.mode == MODE_SPOOL &&
				  cfg.max_body == 1048576 && cfg.hook_timeout == 8 &&
				  cfg.max_attempts == 10 && cfg.fsync == 1 &&
				  cfg.allow_from == ALLOW_ANY && cfg.secrets->count == 1 &&
				  strcmp(cfg.spool, MAKINI_DEFAULT_SPOOL) == 0);
	config_free(&cfg);

	config_load(&cfg, ENV("OTHER=1"), NULL);
	CHECK("no secret is unusable", config_problem(&cfg) != NULL &&
		      strstr(config_problem(&cfg), "no secret") != NULL);
	config_free(&cfg);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
			      "MAKINI_WEBHOOK_MAX_BODY=12k"), NULL);
	CHECK("bad number names its variable",
	      config_problem(&cfg) != NULL && strstr(config_problem(&cfg), "MAKINI_WEBHOOK_MAX_BODY"));
	config_free(&cfg);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
			      "MAKINI_WEBHOOK_SECERT=x"), NULL);
	CHECK("unknown variable named", config_problem(&cfg) != NULL &&
		      strstr(config_problem(&cfg), "MAKINI_WEBHOOK_SECERT") &&
		      !strstr(config_problem(&cfg), "=x"));
	config_free(&cfg);

	/* Under CGI the request's variables are the process's own. */
	{
		char **env = ENV("MAKINI_WEBHOOK_SECRET=s",
				 "MAKINI_WEBHOOK_SECERT=x",
				 "MAKINI_WEBHOOK_SPOLL=/tmp");

		config_load(&cfg, env, env);
		CHECK("an unknown variable in both is named once",
		      cfg.problem_count == 2 &&
		      strstr(cfg.problems[0].text, "SECERT") &&
		      strstr(cfg.problems[1].text, "SPOLL"));
		config_free(&cfg);
		config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
				      "MAKINI_WEBHOOK_SECERT=x"),
			    ENV("MAKINI_WEBHOOK_SECERT=y",
				"MAKINI_WEBHOOK_SPOLL=/tmp"));
		CHECK("and once when the request gives it another value",
		      cfg.problem_count == 2 &&
		      strstr(cfg.problems[0].text, "SECERT") &&
		      strstr(cfg.problems[1].text, "SPOLL"));
		config_free(&cfg);
	}

	CHECK("max body 1", usable(ENV("MAKINI_WEBHOOK_SECRET=s",
				       "MAKINI_WEBHOOK_MAX_BODY=1"), NULL));
	CHECK("max body 0", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
					"MAKINI_WEBHOOK_MAX_BODY=0"), NULL));
	CHECK("max body negative", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
					       "MAKINI_WEBHOOK_MAX_BODY=-5"), NULL));
	CHECK("max body huge", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
					   "MAKINI_WEBHOOK_MAX_BODY=99999999999999999999999"), NULL));
	CHECK("max body blank", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
					    "MAKINI_WEBHOOK_MAX_BODY= 10"), NULL));
	CHECK("fsync 0", usable(ENV("MAKINI_WEBHOOK_SECRET=s",
				    "MAKINI_WEBHOOK_FSYNC=0"), NULL));
	CHECK("fsync 2", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
				     "MAKINI_WEBHOOK_FSYNC=2"), NULL));
	CHECK("fsync yes", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
				       "MAKINI_WEBHOOK_FSYNC=yes"), NULL));
	CHECK("mode other", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
					"MAKINI_WEBHOOK_MODE=spooler"), NULL));
	CHECK("hook mode needs HOOKS", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
						   "MAKINI_WEBHOOK_MODE=hook"), NULL));
	CHECK("hook mode with HOOKS", usable(ENV("MAKINI_WEBHOOK_SECRET=s",
						 "MAKINI_WEBHOOK_MODE=hook",
						 "MAKINI_WEBHOOK_HOOKS=/tmp"), NULL));
	CHECK("empty secret", !usable(ENV("MAKINI_WEBHOOK_SECRET="), NULL));
	/* An empty variable is an unset one. */
	CHECK("empty spool is the default", usable(ENV("MAKINI_WEBHOOK_SECRET=s",
						      "MAKINI_WEBHOOK_SPOOL="), NULL));
	CHECK("empty secret beside a secret file",
	      usable(ENV("MAKINI_WEBHOOK_SECRET=",
			 "MAKINI_WEBHOOK_SECRET_FILE=/etc/hostname"), NULL));
	CHECK("empty overlay leaves the base's value",
	      usable(ENV("MAKINI_WEBHOOK_SECRET=s"),
		     ENV("MAKINI_WEBHOOK_SECRET=")));
	CHECK("secret and file", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
					     "MAKINI_WEBHOOK_SECRET_FILE=/x"), NULL));
	CHECK("missing secret file",
	      !usable(ENV("MAKINI_WEBHOOK_SECRET_FILE=/nonexistent/secret"), NULL));
	CHECK("bad allow-list", !usable(ENV("MAKINI_WEBHOOK_SECRET=s",
					    "MAKINI_WEBHOOK_ALLOW_FROM=10.0.0.0/33"), NULL));
	CHECK("empty allow-list is none", usable(ENV("MAKINI_WEBHOOK_SECRET=s",
						    "MAKINI_WEBHOOK_ALLOW_FROM="), NULL));

	/* The overlay (a request's variables) wins over the base. */
	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s", "MAKINI_WEBHOOK_SPOOL=/a"),
		    ENV("MAKINI_WEBHOOK_SPOOL=/b"));
	CHECK("overlay wins", config_problem(&cfg) == NULL && strcmp(cfg.spool, "/b") == 0 &&
				      cfg.secrets->count == 1);
	config_free(&cfg);
}

static void
test_space_thresholds(void)
{
	unsigned long long n = 7;
	struct config cfg;

	CHECK("size in bytes", config_parse_size("1048576", &n) == 0 &&
				       n == 1048576);
	CHECK("size 0", config_parse_size("0", &n) == 0 && n == 0);
	CHECK("size K", config_parse_size("512K", &n) == 0 && n == 512 << 10);
	CHECK("size m", config_parse_size("64m", &n) == 0 && n == 64 << 20);
	CHECK("size G", config_parse_size("2G", &n) == 0 &&
				n == 2ULL << 30);
	n = 7;
	CHECK("size refused", config_parse_size("", &n) < 0 &&
				      config_parse_size("M", &n) < 0 &&
				      config_parse_size("12X", &n) < 0 &&
				      config_parse_size("-1", &n) < 0 &&
				      config_parse_size(" 1M", &n) < 0 &&
				      config_parse_size("1MB", &n) < 0 &&
				      config_parse_size("17179869184G", &n) < 0 &&
				      n == 7);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s"), NULL);
	CHECK("space defaults", cfg.min_free == 64ULL << 20 &&
					cfg.min_free_inodes == 1000);
	config_free(&cfg);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s", "MAKINI_WEBHOOK_MIN_FREE=0",
			      "MAKINI_WEBHOOK_MIN_FREE_INODES=0"), NULL);
	CHECK("space checks off", config_problem(&cfg) == NULL &&
					  cfg.min_free == 0 &&
					  cfg.min_free_inodes == 0);
	config_free(&cfg);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
			      "MAKINI_WEBHOOK_MIN_FREE=1G"), NULL);
	CHECK("MIN_FREE read", config_problem(&cfg) == NULL &&
				       cfg.min_free == 1ULL << 30);
	config_free(&cfg);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
			      "MAKINI_WEBHOOK_MIN_FREE=64MB"), NULL);
	CHECK("bad MIN_FREE named", config_problem(&cfg) &&
		      strstr(config_problem(&cfg), "MAKINI_WEBHOOK_MIN_FREE is"));
	config_free(&cfg);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
			      "MAKINI_WEBHOOK_MIN_FREE_INODES=1k"), NULL);
	CHECK("bad MIN_FREE_INODES named", config_problem(&cfg) &&
		      strstr(config_problem(&cfg), "MAKINI_WEBHOOK_MIN_FREE_INODES"));
	config_free(&cfg);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void
test_secret_files(void)
{
	char dir[] = "/tmp/makini-unit-XXXXXX", cur[64], prev[64];
	char var_cur[128], var_prev[128];
	struct config cfg;

	if (!mkdtemp(dir))
		return;
	snprintf(cur, sizeof(cur), "%s/current", dir);
	snprintf(prev, sizeof(prev), "%s/previous", dir);
	snprintf(var_cur, sizeof(var_cur), "MAKINI_WEBHOOK_SECRET_FILE=%s", cur);
	snprintf(var_prev, sizeof(var_prev),
		 "MAKINI_WEBHOOK_SECRET_PREVIOUS_FILE=%s", prev);
	write_file(cur, "alpha\n");
	write_file(prev, "beta\r\n");

	config_load(&cfg, ENV(var_cur, var_prev), NULL);
	CHECK("two secret files", config_problem(&cfg) == NULL && cfg.secrets->count == 2 &&
		      cfg.secrets->secret[0].len == 5 &&
		      memcmp(cfg.secrets->secret[0].bytes, "alpha", 5) == 0 &&
		      cfg.secrets->secret[1].len == 4 &&
		      memcmp(cfg.secrets->secret[1].bytes, "beta", 4) == 0);
	CHECK("unchanged file not reloaded", secrets_reload(cfg.secrets) == 0);

	/* Rotation by rename, as editors and deploy tools do. */
	write_file(cur, "gamma-longer\n\n");
	CHECK("changed file reloaded", secrets_reload(cfg.secrets) == 1 &&
		      cfg.secrets->secret[0].len == 13 &&
		      memcmp(cfg.secrets->secret[0].bytes, "gamma-longer\n", 13) == 0);
	config_free(&cfg);

	write_file(cur, "\n");
	CHECK("empty secret file", !usable(ENV(var_cur), NULL));

	unlink(cur);
	unlink(prev);
	rmdir(dir);
}

/* A secret file gone revokes its secret; back again, it is accepted. */
static void
test_secret_lost(void)
{
	char dir[] = "/tmp/makini-unit-XXXXXX", file[64], var[128];
	struct config cfg;

	if (!mkdtemp(dir))
		return;
	snprintf(file, sizeof(file), "%s/secret", dir);
	snprintf(var, sizeof(var), "MAKINI_WEBHOOK_SECRET_FILE=%s", file);

	config_load(&cfg, ENV(var), NULL);
	CHECK("missing at start: lost", cfg.secrets->state == SECRETS_LOST &&
		      strstr(config_problem(&cfg), "SECRET_FILE") &&
		      !strstr(config_problem(&cfg), dir) &&
		      strcmp(cfg.secrets->problem_path, file) == 0);
	write_file(file, "late\n");
	secrets_reload(cfg.secrets);
	CHECK("appears later: ready", cfg.secrets->state == SECRETS_READY &&
		      config_problem(&cfg) == NULL &&
		      cfg.secrets->secret[0].len == 4);
	unlink(file);
	secrets_reload(cfg.secrets);
	CHECK("removed: lost again", cfg.secrets->state == SECRETS_LOST &&
		      cfg.secrets->secret[0].len == 0 &&
		      config_problem(&cfg) != NULL);
	config_free(&cfg);
	rmdir(dir);
}

static void
test_problems(void)
{
	struct config cfg;

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
			      "MAKINI_WEBHOOK_FSYNC=2", "MAKINI_WEBHOOK_MODE=x",
			      "MAKINI_WEBHOOK_MAX_BODY=0"), NULL);
	CHECK("every problem listed", cfg.problem_count == 3 &&
		      strstr(cfg.problems[0].text, "MODE") &&
		      strstr(cfg.problems[1].text, "MAX_BODY") &&
		      strstr(cfg.problems[2].text, "FSYNC") &&
		      strstr(config_problem(&cfg), "MODE"));
	config_free(&cfg);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
			      "MAKINI_WEBHOOK_SECRET_PREVIOUS=p",
			      "MAKINI_WEBHOOK_SECRET_PREVIOUS_FILE=/x"), NULL);
	CHECK("a broken secret is the problem", cfg.problem_count == 0 &&
		      cfg.secrets->state == SECRETS_BROKEN &&
		      strstr(config_problem(&cfg), "not both"));
	config_free(&cfg);

	config_load(&cfg, ENV("MAKINI_WEBHOOK_SECRET=s",
			      "MAKINI_WEBHOOK_SPOOL=relative/spool"), NULL);
	CHECK("a relative spool is made absolute, and said so",
	      cfg.spool_relative && cfg.spool[0] == '/' &&
	      strstr(cfg.spool, "/relative/spool"));
	config_free(&cfg);
}

static void
test_decimal(void)
{
	unsigned long long v = 7;

	CHECK("decimal", decimal_parse("123", 1000, &v) == 0 && v == 123);
	CHECK("decimal at max", decimal_parse("1000", 1000, &v) == 0 &&
				v == 1000);
	CHECK("decimal over max", decimal_parse("1001", 1000, &v) == 1 &&
				  v == 1000);
	CHECK("decimal with many digits is over",
	      decimal_parse("99999999999999999999999999", 1000, &v) == 1);
	CHECK("decimal max 0", decimal_parse("0", 0, &v) == 0 && v == 0 &&
			       decimal_parse("5", 0, &v) == 1);
	CHECK("decimal to the type's limit",
	      decimal_parse("18446744073709551615", ~0ULL, &v) == 0 &&
	      v == ~0ULL &&
	      decimal_parse("18446744073709551616", ~0ULL, &v) == 1);
	CHECK("not decimal", decimal_parse("", 10, &v) < 0 &&
			     decimal_parse("-1", 10, &v) < 0 &&
			     decimal_parse(" 1", 10, &v) < 0 &&
			     decimal_parse("1x", 10, &v) < 0 &&
			     decimal_parse(NULL, 10, &v) < 0);
}

static void
test_allow(void)
{
	struct allow_list list;
	const char *why;

	CHECK("parse", allow_parse(&list, "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::1",
				   &why) == 0 && list.count == 4);
	CHECK("in v4 net", allow_match(&list, "10.200.3.4"));
	CHECK("exact v4", allow_match(&list, "192.0.2.7"));
	CHECK("v4 neighbour", !allow_match(&list, "192.0.2.8"));
	CHECK("v4 outside", !allow_match(&list, "11.0.0.1"));
	CHECK("v6 net", allow_match(&list, "2001:db8:1::5"));
	CHECK("v6 outside", !allow_match(&list, "2001:db9::1"));
	CHECK("v6 loopback", allow_match(&list, "::1"));
	CHECK("v4-mapped", allow_match(&list, "::ffff:10.1.2.3"));
	CHECK("garbage addr", !allow_match(&list, "10.0.0.1x"));
	CHECK("no addr", !allow_match(&list, NULL));

	CHECK("odd prefix", allow_parse(&list, "192.168.4.0/23", &why) == 0);
	CHECK("odd prefix in", allow_match(&list, "192.168.5.255"));
	CHECK("odd prefix out", !allow_match(&list, "192.168.6.0"));
	CHECK("all v4", allow_parse(&list, "0.0.0.0/0", &why) == 0 &&
				allow_match(&list, "203.0.113.9") &&
				!allow_match(&list, "::2"));

	CHECK("bad entry", allow_parse(&list, "10.0.0.0/8,bogus", &why) < 0);
	CHECK("empty entry", allow_parse(&list, "10.0.0.1,", &why) < 0);
	CHECK("bad prefix", allow_parse(&list, "10.0.0.0/x", &why) < 0);
	CHECK("signed prefix", allow_parse(&list, "10.0.0.0/+8", &why) < 0);
	CHECK("v6 prefix too long", allow_parse(&list, "::1/129", &why) < 0);
}

int
main(void)
{
	test_values();
	test_space_thresholds();
	test_secret_files();
	test_secret_lost();
	test_problems();
	test_decimal();
	test_allow();
	return unit_report();
}
