#ifndef MAKINI_SPOOL_H
#define MAKINI_SPOOL_H

#include <stddef.h>

#include "reply.h"

/*
 * The spool, maildir-style: SPOOL/<type>/{tmp,new,cur,failed}/.
 * Directories are created on first use, 0750; event files are 0640.
 */

/*
 * Stores body as SPOOL/<type>/new/<id>.json: written in tmp/ as an unnamed
 * O_TMPFILE file (else as tmp/<id>.json, O_EXCL, O_NOFOLLOW), fsynced,
 * linked (or renamed) into new/, and new/ fsynced, so the event is whole
 * on disk or absent, and a killed process leaves nothing in tmp/. The
 * directories are opened below root without following links. With
 * durable 0 the fsyncs are skipped.
 * Returns STATUS_OK, or STATUS_UNAVAILABLE with rep's reason set and the
 * errno text in *why; then nothing is left in tmp/ or new/.
 */
enum status spool_store(const char *root, const char *type, const char *id,
			const void *body, size_t len, int durable,
			struct reply *rep, const char **why);

/*
 * Creates SPOOL and SPOOL/<type>/{tmp,new,cur,failed} where missing
 * (type may be NULL for the root alone). Returns 0, or -1 with errno set.
 */
int spool_prepare(const char *root, const char *type);

/*
 * Returns 0 when SPOOL/<type> is a real directory and none of its tmp/,
 * new/, cur/ and failed/ is a link or a file (missing ones are fine), else
 * -1 with errno set (ENOTDIR or ELOOP for a planted link). Code that works
 * in the spool by path checks a type with it before trusting it, so that
 * a link planted in the spool never leads it outside.
 */
int spool_type_sane(const char *root, const char *type);

#endif
