/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_HANDLE_H
#define MAKINI_HANDLE_H

#include "config.h"
#include "event.h"
#include "reply.h"
#include "request.h"

/*
 * Handles one request, running docs/CONTRACT.md's checks in order: allowed
 * address, method, configuration, Content-Length, body, signature, JSON,
 * event name, then the store or the hook. Fills rep (never exits, never
 * prints); the caller renders and logs it. ev is the verified event, its
 * id set once it is stored (or handed to a hook).
 */
void handle_request(struct request *req, const struct config *cfg,
		    struct event *ev, struct reply *rep);

/*
 * What follows the answer to a request handle_request() took: in queue
 * mode, a runner for the event just stored, so that no client waits for
 * a hook. finish() is called first, when there is anything to do: it ends
 * the answer and whatever depends on the request.
 */
void handle_after_answer(const struct config *cfg, const struct event *ev,
			 char *const *request_env, void (*finish)(void));

#endif
