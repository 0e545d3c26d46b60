/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_SIG_H
#define MAKINI_SIG_H

#include <stddef.h>

/* HMAC-SHA256's length: the only one a received signature may decode to. */
#define SIG_LEN 32

/*
 * A configured secret. Its bytes are the HMAC key; the MAC context is opened
 * with the key on first use and kept, so that a request only resets it.
 * The owner releases both with secret_clear(), which wipes the bytes.
 */
struct secret {
	unsigned char *bytes;
	size_t len;
	void *mac; /* gcry_mac_hd_t, or NULL until first use */
};

/* Initialises libgcrypt once per process: 0, or -1 on a version mismatch. */
int sig_init(void);

/*
 * Decodes an X-Webhook-Signature value into out: 64 hex digits in either
 * case, or 44 characters of standard base64 ending in one "=", after an
 * optional "sha256=" prefix, with surrounding blanks allowed. Anything
 * else, and any value that does not decode to exactly SIG_LEN bytes, is
 * refused. Returns 0, or -1 when malformed.
 */
int sig_decode(const char *header, unsigned char out[SIG_LEN]);

/*
 * Returns 1 when sig is the HMAC-SHA256 of data under any of the n secrets,
 * else 0. Each comparison is libgcrypt's constant-time gcry_mac_verify on
 * full-length tags (SIG_LEN bytes, so no prefix matches), and every secret
 * is tried whatever the outcome of the others.
 */
int sig_verify(struct secret *secrets, size_t n, const void *data, size_t len,
	       const unsigned char sig[SIG_LEN]);

/* Computes HMAC-SHA256(key, data) into out. Returns 0, or -1 on error. */
int sig_hmac(const void *key, size_t key_len, const void *data, size_t len,
	     unsigned char out[SIG_LEN]);

/* Formats a signature as 64 lower-case hex digits plus a NUL. */
void sig_to_hex(const unsigned char sig[SIG_LEN], char out[2 * SIG_LEN + 1]);

/* Wipes and frees the secret's bytes and closes its MAC context. */
void secret_clear(struct secret *secret);

#endif
