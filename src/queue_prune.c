/* See LICENSE file for copyright and license details. */
/* prune: old events removed from cur/ and failed/ (queue_prune.h). */
#include "queue_prune.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool_type.h"

struct prune {
	const char *type; /* NULL for every type */
	time_t before;    /* files last changed before this go */
	int dry_run;
	FILE *out;
	long removed;
	int error;
};

static void
prune_dir(const char *type, int dir, const char *dir_name, struct prune *p)
{
	struct dirent *de;
	DIR *list;

	if (dir < 0 || !(list = spool_list(dir)))
		return;
	while ((de = readdir(list))) {
		char id[ID_LEN_MAX + 1], error[NAME_MAX + 1];
		struct stat st;

		if (!spool_event_id(de->d_name, id))
			continue;
		/* Never through a link; a FIFO or a directory is not ours. */
		if (fstatat(dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= p->before)
			continue;
		fprintf(p->out, "%s/%s/%s\n", type, dir_name, de->d_name);
		p->removed++;
		if (p->dry_run)
			continue;
		if (unlinkat(dir, de->d_name, 0) < 0) {
			if (errno == ENOENT) { /* retried or replayed meanwhile */
				p->removed--;
				continue;
			}
			p->error = errno;
			log_line("prune %s: cannot remove it: %s", id,
				 strerror(errno));
			p->removed--;
			continue;
		}
		snprintf(error, sizeof(error), "%s.error", id);
		if (strcmp(dir_name, "failed") == 0 &&
		    fstatat(dir, error, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			unlinkat(dir, error, 0);
	}
	closedir(list);
}

static int
prune_type(const char *type, struct spool_type *t, void *ctx)
{
	struct prune *p = ctx;

	if (!t || (p->type && strcmp(p->type, type) != 0))
		return 0;
	prune_dir(type, t->cur, "cur", p);
	prune_dir(type, t->failed, "failed", p);
	return 0;
}

long
queue_prune(const struct config *cfg, const char *type,
	    unsigned long long age, int dry_run, FILE *out)
{
	struct prune p = { type, time(NULL) - (time_t)age, dry_run, out, 0,
			   0 };

	if (spool_each_type(cfg->spool, 0, prune_type, &p) < 0)
		return errno == ENOENT ? 0 : -1;
	if (p.error) {
		errno = p.error;
		return -1;
	}
	return p.removed;
}
