/* See LICENSE file for copyright and license details. */
/*
 * Fuzzes the whole request handler: handle_request() with a request built
 * from the input (method, CONTENT_LENGTH, signature, REMOTE_ADDR), a
 * configuration loaded by config_load() from a synthetic environment
 * (ALLOW_FROM and MAX_BODY from the input), and a body read in chunks
 * through the read_body callback. The spool is a scratch directory.
 *
 * Input: one flags byte, then six fields each ended by "\n" (method,
 * content length, signature, remote address, ALLOW_FROM, MAX_BODY), then
 * the body. Flags bit 0 replaces the signature with the body's valid HMAC
 * (bit 1: as base64, bit 2: with "sha256="), so that the fuzzer reaches
 * the JSON parser and the spool; bit 3 adds a previous secret; bits 4-7
 * set the read chunk size. A content length "@" stands for the body's size.
 *
 * Oracles, else abort(): a 200 has an id and its file in new/ holds the
 * body byte for byte; a refusal leaves nothing in new/ or tmp/; the
 * rendered answer never holds a secret or a valid signature.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "handle.h"
#include "request.h"
#include "sig.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "fuzz-secret-7Hq2"
#define PREVIOUS "fuzz-previous-9Zx4"
#define FIELDS 6

static char spool[64];

struct input {
	const uint8_t *p;
	size_t n;
	size_t chunk;
};

static size_t
read_input(void *buf, size_t n, void *ctx)
{
	struct input *in = ctx;

	if (n > in->n)
		n = in->n;
	if (n > in->chunk)
		n = in->chunk;
	memcpy(buf, in->p, n);
	in->p += n;
	in->n -= n;
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sig_init() < 0)
		abort();
	snprintf(spool, sizeof(spool), "/tmp/makini-fuzz-XXXXXX");
	if (!mkdtemp(spool))
		abort();
	return 0;
}

static void
base64(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | in[i + 1] << 8 |
				  in[i + 2];

		out[o++] = digits[v >> 18 & 63];
		out[o++] = digits[v >> 12 & 63];
		out[o++] = digits[v >> 6 & 63];
		out[o++] = digits[v & 63];
	}
	if (n - i == 2) {
		unsigned long v = (unsigned long)in[i] << 16 | in[i + 1] << 8;

		out[o++] = digits[v >> 18 & 63];
		out[o++] = digits[v >> 12 & 63];
		out[o++] = digits[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* "NAME=" followed by len bytes of value, as a C string (NUL ends it). */
static char *
entry(const char *name, const uint8_t *value, size_t len)
{
	size_t nlen = strlen(name);
	char *e = malloc(nlen + len + 1);

	if (!e)
		abort();
	memcpy(e, name, nlen);
	memcpy(e + nlen, value, len);
	e[nlen + len] = '\0';
	return e;
}

/* Removes dir/<name> for every entry, then dir itself; returns the count. */
static int
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) < 0 && rmdir(path) < 0)
			abort();
		n++;
	}
	closedir(d);
	rmdir(dir);
	return n;
}

/* Counts the files below every type's tmp/ and new/, removing them all. */
static int
sweep(void)
{
	static const char *const subdirs[] = { "tmp", "new", "cur", "failed" };
	DIR *d = opendir(spool);
	struct dirent *de;
	char path[4096];
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/%s/%s", spool,
				 de->d_name, subdirs[i]);
			n += empty_dir(path);
		}
		snprintf(path, sizeof(path), "%s/%s", spool, de->d_name);
		if (rmdir(path) < 0)
			abort();
	}
	closedir(d);
	return n;
}

static void
check_stored(const char *entity, const char *id, const uint8_t *body,
	     size_t len)
{
	char path[4096];
	uint8_t *got = malloc(len + 1);
	ssize_t n;
	int fd;

	if (!got)
		abort();
	snprintf(path, sizeof(path), "%s/%s/new/%s.json", spool, entity, id);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		abort();
	n = read(fd, got, len + 1);
	close(fd);
	if (n < 0 || (size_t)n != len || memcmp(got, body, len) != 0)
		abort();
	unlink(path);
	free(got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *field[FIELDS], *p, *nl, *body;
	size_t flen[FIELDS], body_len, i;
	unsigned flags;
	char *renv[6] = { 0 }, *cenv[7] = { 0 }, sigbuf[80], lenbuf[24];
	unsigned char mac[SIG_LEN];
	char out[2048];
	size_t out_len, nc = 0;
	struct request req;
	struct config cfg;
	struct event ev;
	struct reply rep;
	struct input in;

	if (size < 1)
		return 0;
	flags = data[0];
	p = data + 1;
	for (i = 0; i < FIELDS; i++) {
		nl = memchr(p, '\n', (size_t)(data + size - p));
		if (!nl)
			return 0;
		field[i] = p;
		flen[i] = (size_t)(nl - p);
		p = nl + 1;
	}
	body = p;
	body_len = (size_t)(data + size - p);

	renv[0] = entry("REQUEST_METHOD=", field[0], flen[0]);
	if (flen[1] == 1 && field[1][0] == '@') {
		snprintf(lenbuf, sizeof(lenbuf), "%zu", body_len);
		renv[1] = entry("CONTENT_LENGTH=", (const uint8_t *)lenbuf,
				strlen(lenbuf));
	} else {
		renv[1] = entry("CONTENT_LENGTH=", field[1], flen[1]);
	}
	if (flags & 1) {
		if (sig_hmac(SECRET, strlen(SECRET), body, body_len, mac) < 0)
			abort();
		strcpy(sigbuf, flags & 4 ? "sha256=" : "");
		if (flags & 2)
			base64(mac, SIG_LEN, sigbuf + strlen(sigbuf));
		else
			sig_to_hex(mac, sigbuf + strlen(sigbuf));
		renv[2] = entry("HTTP_X_WEBHOOK_SIGNATURE=",
				(const uint8_t *)sigbuf, strlen(sigbuf));
	} else {
		renv[2] = entry("HTTP_X_WEBHOOK_SIGNATURE=", field[2], flen[2]);
	}
	renv[3] = entry("REMOTE_ADDR=", field[3], flen[3]);

	cenv[nc++] = strdup("MAKINI_WEBHOOK_SECRET=" SECRET);
	cenv[nc++] = entry("MAKINI_WEBHOOK_SPOOL=", (const uint8_t *)spool,
			   strlen(spool));
	cenv[nc++] = strdup("MAKINI_WEBHOOK_FSYNC=0");
	if (flen[4])
		cenv[nc++] = entry("MAKINI_WEBHOOK_ALLOW_FROM=", field[4],
				   flen[4]);
	if (flen[5])
		cenv[nc++] = entry("MAKINI_WEBHOOK_MAX_BODY=", field[5],
				   flen[5]);
	if (flags & 8)
		cenv[nc++] = strdup("MAKINI_WEBHOOK_SECRET_PREVIOUS=" PREVIOUS);

	config_load(&cfg, NULL, cenv);
	request_from_env(&req, renv);
	in.p = body;
	in.n = body_len;
	in.chunk = (flags >> 4) ? (flags >> 4) : SIZE_MAX;
	req.read_body = read_input;
	req.read_ctx = &in;
	handle_request(&req, &cfg, &ev, &rep);

	out_len = reply_render(&rep, out, sizeof(out));
	if (out_len == 0 || !rep.reason)
		abort();
	out[out_len] = '\0';
	if (strstr(out, SECRET) || strstr(out, PREVIOUS) ||
	    ((flags & 1) && strstr(out, sigbuf + (flags & 4 ? 7 : 0))))
		abort();
	if (rep.status == STATUS_OK && rep.id[0]) {
		if (strcmp(rep.reason, "accepted") != 0)
			abort();
		check_stored(ev.entity, rep.id, req.body, req.body_len);
	}
	/* Whatever the answer, nothing else may remain in the spool. */
	if (sweep() != 0)
		abort();

	config_free(&cfg);
	for (i = 0; i < 6; i++)
		free(renv[i]);
	for (i = 0; i < nc; i++)
		free(cenv[i]);
	return 0;
}
