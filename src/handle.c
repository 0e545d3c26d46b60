/* See LICENSE file for copyright and license details. */
/*
 * One request, from its variables to its outcome: request -> verified
 * event -> store or hook -> reply; and what follows the answer.
 */
#include "handle.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "hook.h"
#include "hook_env.h"
#include "id.h"
#include "metrics.h"
#include "queue_runner.h"
#include "sig.h"
#include "spool.h"
#include "spool_space.h"

_Static_assert(sizeof(((struct event *)0)->name) <=
		       sizeof(((struct reply *)0)->event),
	       "a normalised event name fits the reply");

/*
 * GET and HEAD: whether events could be stored now, and the room left for
 * them. Under a threshold the answer is 503, so that monitoring sees a
 * disk fill up before deliveries fail; deliveries themselves are stored
 * while the disk allows.
 */
static void
health(const struct config *cfg, struct reply *rep)
{
	/* Static: rep->detail points here until the caller has logged it. */
	static char why[400];

	rep->health = 1;
	if (config_problem(cfg)) {
		reply_set(rep, STATUS_UNAVAILABLE, "server misconfigured");
		rep->detail = config_problem(cfg);
		return;
	}
	if (spool_ready(cfg->spool) < 0 ||
	    spool_space_measure(cfg->spool, &rep->space) < 0) {
		reply_set(rep, STATUS_UNAVAILABLE, "spool unavailable");
		rep->detail = strerror(errno);
		return;
	}
	rep->space_measured = 1;
	if (spool_space_judge(&rep->space, cfg->min_free, cfg->min_free_inodes,
			      why, sizeof(why)) < 0) {
		reply_set(rep, STATUS_UNAVAILABLE, "spool almost full");
		rep->detail = why;
		return;
	}
	reply_set(rep, STATUS_OK, "ok");
}

static enum status
verify(const struct request *req, const struct config *cfg, struct reply *rep)
{
	unsigned char sig[SIG_LEN];
	int ok;

	if (!req->signature)
		return reply_set(rep, STATUS_UNAUTHORIZED, "missing signature");
	if (sig_decode(req->signature, sig) < 0)
		return reply_set(rep, STATUS_UNAUTHORIZED,
				 "malformed signature");
	ok = secrets_verify(cfg->secrets, req->body, req->body_len, sig);
	explicit_bzero(sig, sizeof(sig));
	if (!ok)
		return reply_set(rep, STATUS_UNAUTHORIZED,
				 "signature mismatch");
	return STATUS_OK;
}

/* Hook mode: the hook runs now, on the body, and its exit is the answer. */
static void
run_hook(const struct request *req, const struct config *cfg,
	 const struct event *ev, struct reply *rep)
{
	/* Static: rep->detail points here until the caller has logged it. */
	static char why[256];
	char path[4096];
	struct hook_call call = {
		.event = ev, .id = ev->id, .attempt = 1,
		.timeout = cfg->hook_timeout, .env_names = cfg->hook_env_names,
		.env_first = req->env, .env_second = env_process(),
	};
	int input, found = hook_find(cfg->hooks, ev, path, sizeof(path));
	struct timespec start, end;
	enum hook_result result;

	if (found < 0) {
		/* An unreadable HOOKS is not an empty one: Makini retries. */
		reply_set(rep, STATUS_UNAVAILABLE, "cannot look up hook");
		rep->detail = strerror(errno);
		return;
	}
	if (found > 0) {
		reply_set(rep, STATUS_OK, "ignored");
		rep->detail = "no hook";
		return;
	}
	input = hook_input_from_memory(req->body, req->body_len);
	if (input < 0) {
		reply_set(rep, STATUS_UNAVAILABLE, "cannot run hook");
		rep->detail = strerror(errno);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	result = hook_run(cfg->hooks, path, &call, input, why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &end);
	metrics_count_hook(cfg, ev->entity,
			   result == HOOK_OK ? METRICS_DONE : METRICS_FAILED,
			   (long long)(end.tv_sec - start.tv_sec) * 1000000 +
				   (end.tv_nsec - start.tv_nsec) / 1000);
	switch (result) {
	case HOOK_OK:
		reply_set(rep, STATUS_OK, "accepted");
		memcpy(rep->id, ev->id, sizeof(rep->id));
		break;
	case HOOK_FAILED:
		reply_set(rep, STATUS_BAD_GATEWAY, "hook failed");
		rep->detail = why;
		break;
	case HOOK_TIMEOUT:
		reply_set(rep, STATUS_GATEWAY_TIMEOUT, "hook timed out");
		rep->detail = why;
		break;
	}
	close(input);
}

void
handle_request(struct request *req, const struct config *cfg,
	       struct event *ev, struct reply *rep)
{
	const char *method = req->method ? req->method : "";
	char id[EVENT_ID_MAX];

	memset(rep, 0, sizeof(*rep));
	memset(ev, 0, sizeof(*ev));
	/* The allow-list holds whatever else is wrong, and fails closed. */
	if (cfg->allow_from == ALLOW_NONE ||
	    (cfg->allow_from == ALLOW_LISTED &&
	     !allow_match(&cfg->allow, req->remote_addr))) {
		reply_set(rep, STATUS_FORBIDDEN, "address not allowed");
		if (cfg->allow_from == ALLOW_NONE)
			rep->detail = config_problem(cfg);
		return;
	}
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		rep->head_only = method[0] == 'H';
		health(cfg, rep);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		reply_set(rep, STATUS_METHOD_NOT_ALLOWED, "method not allowed");
		return;
	}
	/* A secret file removed a moment ago revokes its secret now. */
	secrets_recheck(cfg->secrets);
	if (config_problem(cfg)) {
		reply_set(rep, STATUS_INTERNAL_ERROR, "server misconfigured");
		rep->detail = config_problem(cfg);
		return;
	}
	if (request_read_body(req, cfg->max_body, rep) != STATUS_OK ||
	    verify(req, cfg, rep) != STATUS_OK ||
	    event_parse(req->body, req->body_len, ev, rep) != STATUS_OK)
		return;
	memcpy(rep->event, ev->name, sizeof(ev->name));

	id_make(id, sizeof(id), ev->action);
	if (cfg->mode == MODE_HOOK) {
		memcpy(ev->id, id, sizeof(id));
		run_hook(req, cfg, ev, rep);
		return;
	}
	if (spool_store(cfg->spool, ev->entity, id, req->body, req->body_len,
			cfg->fsync) < 0) {
		reply_set(rep, STATUS_UNAVAILABLE, "cannot store event");
		rep->detail = strerror(errno);
		return;
	}
	memcpy(ev->id, id, sizeof(id));
	memcpy(rep->id, id, sizeof(id));
	reply_set(rep, STATUS_OK, "accepted");
}

void
handle_after_answer(const struct config *cfg, const struct event *ev,
		    char *const *request_env, void (*finish)(void))
{
	char **kept;

	if (cfg->mode != MODE_QUEUE || !ev->id[0])
		return;
	/* Finishing a FastCGI request frees its parameters. */
	kept = hook_env_keep(cfg->hook_env_names, request_env);
	finish();
	runner_start(cfg, ev->entity, kept, env_process());
	hook_env_free(kept);
}
