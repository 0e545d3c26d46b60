#include "handle.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "hook.h"
#include "id.h"
#include "sig.h"
#include "spool.h"

_Static_assert(sizeof(((struct event *)0)->name) <=
		       sizeof(((struct reply *)0)->event),
	       "a normalised event name fits the reply");

static void
health(const struct config *cfg, struct reply *rep)
{
	if (!cfg->usable) {
		reply_set(rep, STATUS_UNAVAILABLE, "server misconfigured");
		rep->detail = cfg->problem;
	} else if (spool_ready(cfg->spool) < 0) {
		reply_set(rep, STATUS_UNAVAILABLE, "spool unavailable");
		rep->detail = strerror(errno);
	} else {
		reply_set(rep, STATUS_OK, "ok");
	}
}

static enum status
verify(const struct request *req, struct config *cfg, struct reply *rep)
{
	unsigned char sig[SIG_LEN];
	int ok;

	if (!req->signature)
		return reply_set(rep, STATUS_UNAUTHORIZED, "missing signature");
	if (sig_decode(req->signature, sig) < 0)
		return reply_set(rep, STATUS_UNAUTHORIZED,
				 "malformed signature");
	ok = sig_verify(cfg->secrets, cfg->secret_count, req->body,
			req->body_len, sig);
	/* A secret file may have been rotated since it was read. */
	if (!ok && config_reload_secrets(cfg))
		ok = sig_verify(cfg->secrets, cfg->secret_count, req->body,
				req->body_len, sig);
	explicit_bzero(sig, sizeof(sig));
	if (!ok)
		return reply_set(rep, STATUS_UNAUTHORIZED, "signature mismatch");
	return STATUS_OK;
}

/* Hook mode: the hook runs now, on the body, and its exit is the answer. */
static void
run_hook(const struct request *req, const struct config *cfg,
	 const struct event *ev, struct reply *rep)
{
	/* Static: rep->detail points here until the caller has logged it. */
	static char why[256];
	char path[4096], key[DELIVERY_KEY_LEN + 1];
	struct hook_call call = {
		.event = ev, .id = rep->id, .attempt = 1, .delivery_key = key,
		.env_first = req->env, .env_second = env_process(),
	};
	int input, found = hook_find(cfg->hooks, ev, path, sizeof(path));

	if (found < 0) {
		/* An unreadable HOOKS is not an empty one: Makini retries. */
		reply_set(rep, STATUS_UNAVAILABLE, "cannot look up hook");
		rep->detail = strerror(errno);
		return;
	}
	if (found > 0) {
		rep->id[0] = '\0';
		reply_set(rep, STATUS_OK, "ignored");
		rep->detail = "no hook";
		return;
	}
	sig_delivery_key(req->body, req->body_len, key);
	input = hook_input_from_memory(req->body, req->body_len);
	if (input < 0) {
		reply_set(rep, STATUS_UNAVAILABLE, "cannot run hook");
		rep->detail = strerror(errno);
		return;
	}
	switch (hook_run(cfg, path, &call, input, why, sizeof(why))) {
	case HOOK_OK:
		reply_set(rep, STATUS_OK, "accepted");
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
handle_request(struct request *req, struct config *cfg, struct event *ev,
	       struct reply *rep)
{
	const char *method = req->method ? req->method : "";

	memset(rep, 0, sizeof(*rep));
	memset(ev, 0, sizeof(*ev));
	/* The allow-list holds whatever else is wrong, and fails closed. */
	if (cfg->allow_set && (cfg->allow_bad ||
			       !allow_match(&cfg->allow, req->remote_addr))) {
		reply_set(rep, STATUS_FORBIDDEN, "address not allowed");
		if (cfg->allow_bad)
			rep->detail = cfg->problem;
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
	config_recheck_secrets(cfg);
	if (!cfg->usable) {
		reply_set(rep, STATUS_INTERNAL_ERROR, "server misconfigured");
		rep->detail = cfg->problem;
		return;
	}
	if (request_read_body(req, cfg->max_body, rep) != STATUS_OK ||
	    verify(req, cfg, rep) != STATUS_OK ||
	    event_parse(req->body, req->body_len, ev, rep) != STATUS_OK)
		return;
	memcpy(rep->event, ev->name, sizeof(ev->name));

	id_make(rep->id, sizeof(rep->id), ev->action);
	if (cfg->mode == MODE_HOOK) {
		run_hook(req, cfg, ev, rep);
		return;
	}
	if (spool_store(cfg->spool, ev->entity, rep->id, req->body,
			req->body_len, cfg->fsync, rep,
			&rep->detail) != STATUS_OK) {
		rep->id[0] = '\0';
		return;
	}
	reply_set(rep, STATUS_OK, "accepted");
}
