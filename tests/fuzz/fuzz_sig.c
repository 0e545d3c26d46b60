/*
 * Fuzzes sig_decode(), the X-Webhook-Signature parser, with any bytes as
 * a header value. A value it accepts must be what CONTRACT.md allows, and
 * must decode to the bytes a reference decoder finds: else abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Reference: the 64-hex-digit case, written for clarity, not speed. */
static int
ref_hex(const char *s, size_t len, unsigned char out[SIG_LEN])
{
	static const char digits[] = "0123456789abcdef0123456789ABCDEF";

	if (len != 2 * SIG_LEN)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *p = s[i] ? strchr(digits, s[i]) : NULL;
		int v;

		if (!p)
			return -1;
		v = (int)((p - digits) % 16);
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char got[SIG_LEN], want[SIG_LEN];
	char *header = malloc(size + 1);
	const char *core, *end;
	size_t len;

	if (!header)
		return 0;
	memcpy(header, data, size);
	header[size] = '\0';
	if (sig_decode(header, got) == 0) {
		/* Accepted: blanks, an optional prefix, then 64 or 44 chars. */
		core = header;
		while (blank(*core))
			core++;
		if (strncasecmp(core, "sha256=", 7) == 0)
			core += 7;
		end = core + strlen(core);
		while (end > core && blank(end[-1]))
			end--;
		len = (size_t)(end - core);
		if (len != 64 && len != 44)
			abort();
		if (len == 64 && (ref_hex(core, len, want) != 0 ||
				  memcmp(got, want, SIG_LEN) != 0))
			abort();
		if (len == 44 && core[43] != '=')
			abort();
	}
	free(header);
	return 0;
}
