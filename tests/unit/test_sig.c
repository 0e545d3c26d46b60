/* See LICENSE file for copyright and license details. */
/* Signature decoding and HMAC-SHA256, against RFC 4231's vectors. */
#include <stdlib.h>
#include <string.h>

#include "sig.h"
#include "unit.h"

static void
unhex(const char *hex, unsigned char *out, size_t *len)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = (unsigned char)v;
	}
	*len = n;
}

/* RFC 4231 section 4: HMAC-SHA-256 test cases 1-4, 6, 7 (5 is truncated). */
static const struct {
	const char *key_hex, *data_hex, *mac_hex;
} rfc4231[] = {
	{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "4a656665",
	  "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "dddddddddddddddddddddddddddddddddddddddddddddddddd"
	  "dddddddddddddddddddddddddddddddddddddddddddddddddd",
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "0102030405060708090a0b0c0d0e0f10111213141516171819",
	  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaa",
	  "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
	  "65204b6579202d2048617368204b6579204669727374",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaa",
	  "5468697320697320612074657374207573696e672061206c6172676572207468"
	  "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
	  "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
	  "647320746f20626520686173686564206265666f7265206265696e6720757365"
	  "642062792074686520484d414320616c676f726974686d2e",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static void
test_rfc4231(void)
{
	for (size_t i = 0; i < sizeof(rfc4231) / sizeof(*rfc4231); i++) {
		unsigned char key[200], data[200], want[SIG_LEN], got[SIG_LEN];
		size_t key_len, data_len, want_len;
		struct secret secret = { 0 };

		unhex(rfc4231[i].key_hex, key, &key_len);
		unhex(rfc4231[i].data_hex, data, &data_len);
		unhex(rfc4231[i].mac_hex, want, &want_len);
		CHECK("rfc4231 hmac", sig_hmac(key, key_len, data, data_len,
					       got) == 0 &&
				      memcmp(got, want, SIG_LEN) == 0);

		/* The kept MAC context gives the same answer twice running. */
		secret.bytes = malloc(key_len);
		memcpy(secret.bytes, key, key_len);
		secret.len = key_len;
		CHECK("rfc4231 verify", sig_verify(&secret, 1, data, data_len,
						   want) == 1);
		CHECK("rfc4231 verify again",
		      sig_verify(&secret, 1, data, data_len, want) == 1);
		want[SIG_LEN - 1] ^= 1;
		CHECK("rfc4231 one bit off",
		      sig_verify(&secret, 1, data, data_len, want) == 0);
		secret_clear(&secret);
		CHECK("secret wiped", secret.bytes == NULL && secret.len == 0);
	}
}

/* The signature of RFC 4231 case 2 in every accepted spelling. */
#define CASE2_HEX "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
#define CASE2_HEX_UPPER "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
#define CASE2_B64 "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="

static void
test_decode(void)
{
	static const char *const good[] = {
		CASE2_HEX, CASE2_HEX_UPPER, CASE2_B64,
		"sha256=" CASE2_HEX, "SHA256=" CASE2_B64, "  " CASE2_HEX "\t",
		" sha256=" CASE2_B64 " ",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964EC3843",
	};
	static const char *const bad[] = {
		"", " ", "sha256=", CASE2_HEX "0", CASE2_HEX "00",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384",
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38",
		"sha256=sha256=" CASE2_HEX, "sha1=" CASE2_HEX,
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec38zz",
		"0x" CASE2_HEX, CASE2_HEX " x",
		/* base64: unpadded, doubly padded, url-safe, non-canonical */
		"W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM",
		"W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOE==",
		"W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEN=",
		"W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTs-_M=",
		/* 31 and 33 bytes in base64 */
		"W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOA==",
		"W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEMA",
		"sha256 =" CASE2_HEX,
	};
	unsigned char want[SIG_LEN], got[SIG_LEN];
	size_t want_len;
	char hex[2 * SIG_LEN + 1];

	unhex(CASE2_HEX, want, &want_len);
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		memset(got, 0, sizeof(got));
		CHECK(good[i], sig_decode(good[i], got) == 0 &&
				       memcmp(got, want, SIG_LEN) == 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(bad[i], sig_decode(bad[i], got) == -1);
	CHECK("null header", sig_decode(NULL, got) == -1);

	/* Every length from 0 to 100 but 64 and 44 is refused. */
	for (size_t len = 0; len <= 100; len++) {
		char s[101];

		memset(s, 'A', len);
		s[len] = '\0';
		if (len == 44)
			s[43] = '=';
		CHECK("length", (sig_decode(s, got) == 0) ==
					(len == 64 || len == 44));
	}

	sig_to_hex(want, hex);
	CHECK("to hex", strcmp(hex, CASE2_HEX) == 0);
}

static void
test_two_secrets(void)
{
	struct secret secrets[2] = { 0 };
	unsigned char mac[SIG_LEN];
	const char *body = "{\"event\":\"assets.updated\"}";

	secrets[0].bytes = (unsigned char *)strdup("new-secret");
	secrets[0].len = 10;
	secrets[1].bytes = (unsigned char *)strdup("old-secret");
	secrets[1].len = 10;
	sig_hmac("old-secret", 10, body, strlen(body), mac);
	CHECK("previous secret accepted",
	      sig_verify(secrets, 2, body, strlen(body), mac) == 1);
	CHECK("previous secret alone required",
	      sig_verify(secrets, 1, body, strlen(body), mac) == 0);
	sig_hmac("other", 5, body, strlen(body), mac);
	CHECK("unknown secret refused",
	      sig_verify(secrets, 2, body, strlen(body), mac) == 0);
	secret_clear(&secrets[0]);
	secret_clear(&secrets[1]);
}

int
main(void)
{
	sig_init();
	test_rfc4231();
	test_decode();
	test_two_secrets();
	return unit_report();
}
