/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_SECRETS_H
#define MAKINI_SECRETS_H

#include <stddef.h>
#include <sys/stat.h>

#include "sig.h"

#define SECRETS_MAX 2    /* the current secret and the previous one */
#define SECRET_MAX 4096  /* bytes in one secret */

enum secrets_state {
	SECRETS_NONE,   /* none configured */
	SECRETS_READY,  /* every configured secret is held */
	SECRETS_BROKEN, /* one was wrong when configured: for good */
	SECRETS_LOST,   /* a secret file read before cannot be read now */
};

/* Which secret it is: the one Makini signs with, or the one before. */
enum secret_role {
	SECRET_CURRENT,  /* SECRET or SECRET_FILE */
	SECRET_PREVIOUS, /* SECRET_PREVIOUS or SECRET_PREVIOUS_FILE */
};

/* Where a secret came from, so that a changed secret file can be re-read. */
struct secret_origin {
	enum secret_role role;
	char *file;      /* NULL when the secret came from the environment */
	const char *var; /* the variable that named the file */
	struct stat seen;
};

/*
 * The accepted secrets, read from the environment or from files. Files
 * are re-read when they change, so that rotating or revoking a secret
 * takes effect without a restart: this is the one part of a process's
 * configuration that changes while it runs.
 */
struct secrets {
	enum secrets_state state;
	/* When not READY: why, naming the variable, never a value or path. */
	char problem[160];
	const char *problem_path; /* the file involved, for check; or NULL */
	size_t count;
	struct secret secret[SECRETS_MAX];
	struct secret_origin origin[SECRETS_MAX];
	long long checked; /* monotonic second of the last look at the files */
};

/*
 * Adds the secret of role given as value (variable var) or in the file
 * named by file (variable file_var); either may be NULL, not both set. A
 * problem makes the state BROKEN. Start from a zeroed struct; finish with
 * secrets_finish(), release with secrets_free().
 */
void secrets_add(struct secrets *s, enum secret_role role, const char *var,
		 const char *value, const char *file_var, const char *file);

/*
 * The current secret, the one to sign with; NULL when only the previous
 * one is configured.
 */
const struct secret *secrets_current(const struct secrets *s);

/* Decides the state once every secret is added: NONE when none was. */
void secrets_finish(struct secrets *s);

void secrets_free(struct secrets *s);

/*
 * Returns 1 when sig is the HMAC-SHA256 of data under a held secret,
 * else 0. Secret files are looked at at most once a second; on a
 * mismatch, a changed file is re-read and the check repeated, so a
 * rotation made a moment ago is honoured.
 */
int secrets_verify(struct secrets *s, const void *data, size_t len,
		   const unsigned char sig[SIG_LEN]);

/*
 * Looks at the secret files at most once a second (one stat() each):
 * a file that can no longer be read drops its secret and makes the
 * state LOST until it can be read again.
 */
void secrets_recheck(struct secrets *s);

/*
 * Re-reads secret files whose inode, size or time changed since they
 * were read. Returns 1 when a secret was (re)read, else 0.
 */
int secrets_reload(struct secrets *s);

/*
 * Succeeds when secret i begins or ends with white space, which a
 * copy and paste often adds and which makes every delivery fail.
 */
int secrets_padded(const struct secrets *s, size_t i);

#endif
