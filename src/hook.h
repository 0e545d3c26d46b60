/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_HOOK_H
#define MAKINI_HOOK_H

#include <stddef.h>

#include "event.h"

#define HOOK_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define HOOK_KILL_GRACE 2 /* seconds between SIGTERM and SIGKILL */
/* What hook_call.tail keeps of the output: the last lines, each cut. */
#define HOOK_TAIL_LINES 5
#define HOOK_TAIL_LINE_MAX 160
#define HOOK_TAIL_MAX (HOOK_TAIL_LINES * (HOOK_TAIL_LINE_MAX + 1) + 1)

enum hook_result {
	HOOK_OK,       /* exited 0 */
	HOOK_FAILED,   /* exited non-zero, died of a signal, or never ran */
	HOOK_TIMEOUT,  /* outlived the timeout and was killed */
};

/* What a hook is told about its event, through its environment. */
struct hook_call {
	const struct event *event;
	const char *id; /* also MAKINI_DELIVERY_KEY: see hook_env.c */
	unsigned attempt;
	const char *event_file; /* queue mode: the spooled file, else NULL */
	/*
	 * When set, a buffer of HOOK_TAIL_MAX bytes that gets the last
	 * HOOK_TAIL_LINES lines of the hook's output, each cut to
	 * HOOK_TAIL_LINE_MAX bytes with control characters as '?', each
	 * ending in a newline: kept with the error of a failed attempt.
	 */
	char *tail;
	/* The failure hook's: the last error, as MAKINI_FAILURE_REASON. */
	const char *failure_reason;
	/*
	 * Called about every heartbeat_ms while the hook runs, when set. A
	 * return below 0 means the event is no longer ours: the hook is
	 * killed, and the run fails.
	 */
	int (*heartbeat)(void *ctx);
	void *heartbeat_ctx;
	unsigned heartbeat_ms;
	unsigned timeout; /* seconds the hook may run */
	/* MAKINI_WEBHOOK_HOOK_ENV's names, looked up in first, then second. */
	const char *const *env_names;
	char *const *env_first;
	char *const *env_second;
};

/*
 * Finds the hook for ev: the first regular executable file among
 * HOOKS/<entity>.<action>, HOOKS/<entity> and HOOKS/default. Writes its
 * path into path and returns 0; returns 1 when there is none, which only
 * ENOENT or ENOTDIR on every name means; returns -1 with errno set when a
 * name cannot be looked at (EACCES, ELOOP, EIO...), so that an unreadable
 * HOOKS never passes for an empty one. Event names are validated before
 * this, so no name reaches outside HOOKS.
 */
int hook_find(const char *hooks_dir, const struct event *ev, char *path,
	      size_t size);

/*
 * Runs the hook at path (fork and execve, no shell): standard input is
 * input_fd, the working directory hooks_dir, its own process group, and
 * an environment built from call (hook_env.h). Its standard output and
 * error go to the log, a line at a time, prefixed with the hook's name.
 * Past call->timeout seconds it and its group get SIGTERM, and SIGKILL
 * HOOK_KILL_GRACE seconds later; when the hook exits, whatever it left in
 * its group is killed. Reaps the hook before returning. On failure a short
 * description goes into why.
 */
enum hook_result hook_run(const char *hooks_dir, const char *path,
			  const struct hook_call *call, int input_fd,
			  char *why, size_t why_size);

/*
 * Copies len bytes into an anonymous in-memory file and rewinds it, to
 * serve as a hook's standard input. Returns the descriptor, or -1.
 */
int hook_input_from_memory(const void *data, size_t len);

#endif
