/* See LICENSE file for copyright and license details. */
/*
 * Fuzzes sig_decode(), the X-Webhook-Signature parser, with any bytes as
 * a header value, against a reference decoder written below from the
 * contract in src/sig.h alone: 64 hex digits in either case, or 44
 * characters of standard base64 ending in one "=" that decode to exactly
 * 32 bytes, after an optional "sha256=" prefix, with blanks (spaces and
 * tabs) allowed around the whole. Both must accept the same values and
 * decode them to the same bytes; any difference aborts.
 *
 * The reference is written to be plainly right, not fast, and shares no
 * code with src/sig.c: each digit is looked up in its alphabet with
 * strchr(), and base64 is decoded one bit at a time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";
static const char base64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The index of c in alphabet, or -1; never a match for the NUL. */
static int
index_in(const char *alphabet, char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int)(p - alphabet) : -1;
}

static int
ref_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether s begins with "sha256=", letters in any case. */
static int
ref_prefixed(const char *s)
{
	static const char lower[] = "sha256=", upper[] = "SHA256=";

	for (size_t i = 0; i < sizeof(lower) - 1; i++)
		if (s[i] != lower[i] && s[i] != upper[i])
			return 0;
	return 1;
}

/* 64 hex digits, two to a byte, the high half first. */
static int
ref_hex(const char *s, unsigned char out[SIG_LEN])
{
	for (size_t i = 0; i < 2 * SIG_LEN; i++) {
		int v = index_in(hex_lower, s[i]);

		if (v < 0)
			v = index_in(hex_upper, s[i]);
		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v * 16);
		else
			out[i / 2] = (unsigned char)(out[i / 2] + v);
	}
	return 0;
}

/*
 * 43 base64 digits carry 258 bits, the first of each digit its most
 * significant: bits 0 to 255 are the 32 bytes, each byte's most
 * significant bit first, and bits 256 and 257 must be zero, so that one
 * string only stands for each signature. The 44th character is the "=".
 */
static int
ref_base64(const char *s, unsigned char out[SIG_LEN])
{
	int digit[43];

	if (s[43] != '=')
		return -1;
	for (size_t i = 0; i < 43; i++) {
		digit[i] = index_in(base64, s[i]);
		if (digit[i] < 0)
			return -1;
	}
	memset(out, 0, SIG_LEN);
	for (size_t bit = 0; bit < 6 * 43; bit++) {
		int set = (digit[bit / 6] >> (5 - bit % 6)) & 1;

		if (bit >= 8 * SIG_LEN) {
			if (set)
				return -1;
		} else if (set) {
			out[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
		}
	}
	return 0;
}

/* Returns 0 with the 32 bytes in out when header is a valid signature. */
static int
ref_decode(const char *header, unsigned char out[SIG_LEN])
{
	size_t first = 0, last = strlen(header);

	while (first < last && ref_blank(header[first]))
		first++;
	if (last - first >= 7 && ref_prefixed(header + first))
		first += 7;
	while (last > first && ref_blank(header[last - 1]))
		last--;
	if (last - first == 64)
		return ref_hex(header + first, out);
	if (last - first == 44)
		return ref_base64(header + first, out);
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char got[SIG_LEN], want[SIG_LEN];
	char *header = malloc(size + 1);
	int got_rc, want_rc;

	if (!header)
		return 0;
	/*
	 * The header is a C string, as the CGI environment and FastCGI's
	 * params give it: both decoders read it up to its first NUL.
	 */
	memcpy(header, data, size);
	header[size] = '\0';
	got_rc = sig_decode(header, got);
	want_rc = ref_decode(header, want);
	if (got_rc != want_rc) {
		fprintf(stderr, "sig_decode returns %d, the reference %d\n",
			got_rc, want_rc);
		abort();
	}
	if (got_rc == 0 && memcmp(got, want, SIG_LEN) != 0) {
		fprintf(stderr, "sig_decode and the reference decode to "
			"different bytes\n");
		abort();
	}
	free(header);
	return 0;
}
