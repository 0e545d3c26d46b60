#ifndef MAKINI_HANDLE_H
#define MAKINI_HANDLE_H

#include "config.h"
#include "event.h"
#include "reply.h"
#include "request.h"

/*
 * Handles one request, running CONTRACT.md's checks in order: allowed
 * address, method, configuration, Content-Length, body, signature, JSON,
 * event name, then the store or the hook. Fills rep (never exits, never
 * prints); the caller renders and logs it. In queue mode a stored event is
 * left in new/ for the caller to run after the answer is sent, and ev
 * describes it.
 */
void handle_request(struct request *req, struct config *cfg, struct event *ev,
		    struct reply *rep);

#endif
