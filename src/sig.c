/* See LICENSE file for copyright and license details. */
/*
 * Signatures: the header decoded, HMAC-SHA256 through libgcrypt compared
 * in constant time.
 */
#include "sig.h"

#include <errno.h>
#include <gcrypt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hex.h"

#define HEX_LEN (2 * SIG_LEN)
#define BASE64_LEN 44 /* 4 * ceil(32 / 3), with one "=" of padding */

int
sig_init(void)
{
	if (!gcry_check_version(GCRYPT_VERSION))
		return -1;
	/*
	 * Secure memory would need mlock and a privileged pool; the secrets
	 * live in ordinary memory and are wiped when released instead.
	 */
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	return 0;
}

static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
decode_hex(const char *s, unsigned char out[SIG_LEN])
{
	for (size_t i = 0; i < SIG_LEN; i++) {
		int hi = hex_digit((unsigned char)s[2 * i]);
		int lo = hex_digit((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/*
 * 32 bytes are 43 base64 digits (258 bits) and one "=". The last digit's
 * two low bits carry nothing and must be zero, so that exactly one string
 * encodes each signature.
 */
static int
decode_base64(const char *s, unsigned char out[SIG_LEN])
{
	unsigned long acc = 0;
	size_t bits = 0, n = 0;

	if (s[BASE64_LEN - 1] != '=')
		return -1;
	for (size_t i = 0; i < BASE64_LEN - 1; i++) {
		int v = base64_value((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	return n == SIG_LEN && acc == 0 ? 0 : -1;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
sig_decode(const char *header, unsigned char out[SIG_LEN])
{
	const char *start, *end;
	size_t len;

	if (!header)
		return -1;
	start = header;
	while (is_blank(*start))
		start++;
	if (strncasecmp(start, "sha256=", 7) == 0)
		start += 7;
	end = start + strlen(start);
	while (end > start && is_blank(end[-1]))
		end--;
	len = (size_t)(end - start);
	if (len == HEX_LEN)
		return decode_hex(start, out);
	if (len == BASE64_LEN)
		return decode_base64(start, out);
	return -1;
}

static gcry_mac_hd_t
secret_mac(struct secret *secret)
{
	gcry_mac_hd_t hd;

	if (secret->mac)
		return secret->mac;
	if (gcry_mac_open(&hd, GCRY_MAC_HMAC_SHA256, 0, NULL))
		return NULL;
	if (gcry_mac_setkey(hd, secret->bytes, secret->len)) {
		gcry_mac_close(hd);
		return NULL;
	}
	secret->mac = hd;
	return hd;
}

int
sig_verify(struct secret *secrets, size_t n, const void *data, size_t len,
	   const unsigned char sig[SIG_LEN])
{
	int matched = 0;

	for (size_t i = 0; i < n; i++) {
		gcry_mac_hd_t hd;

		if (secrets[i].len == 0)
			continue; /* dropped: its file is gone */
		hd = secret_mac(&secrets[i]);
		if (!hd)
			continue;
		gcry_mac_reset(hd);
		if (gcry_mac_write(hd, data, len) == 0 &&
		    gcry_mac_verify(hd, sig, SIG_LEN) == 0)
			matched = 1;
	}
	return matched;
}

int
sig_hmac(const void *key, size_t key_len, const void *data, size_t len,
	 unsigned char out[SIG_LEN])
{
	gcry_mac_hd_t hd;
	size_t out_len = SIG_LEN;
	int rc = -1;

	if (gcry_mac_open(&hd, GCRY_MAC_HMAC_SHA256, 0, NULL))
		return -1;
	if (gcry_mac_setkey(hd, key, key_len) == 0 &&
	    gcry_mac_write(hd, data, len) == 0 &&
	    gcry_mac_read(hd, out, &out_len) == 0 && out_len == SIG_LEN)
		rc = 0;
	gcry_mac_close(hd);
	return rc;
}

void
sig_to_hex(const unsigned char sig[SIG_LEN], char out[2 * SIG_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < SIG_LEN; i++) {
		out[2 * i] = digits[sig[i] >> 4];
		out[2 * i + 1] = digits[sig[i] & 0xf];
	}
	out[2 * SIG_LEN] = '\0';
}

void
secret_clear(struct secret *secret)
{
	if (secret->mac)
		gcry_mac_close(secret->mac);
	if (secret->bytes) {
		explicit_bzero(secret->bytes, secret->len);
		free(secret->bytes);
	}
	memset(secret, 0, sizeof(*secret));
}
