#!/bin/sh
# See LICENSE file for copyright and license details.
# Signature bypass attempts: every malformed, truncated, overlong or
# foreign signature is refused with 401 and leaves nothing in the spool.
# The decoded signature must be exactly 32 bytes: 31- and 33-byte decodes
# of the true MAC (a prefix match would pass gcry_mac_verify) are refused.
. "$(dirname "$0")/test-lib.sh"
# A fixed secret: the url-safe base64 of the MAC is foreign only when the
# standard one holds a "+" or a "/", as this secret's MAC of event.json
# does; about one secret in four has none.
SECRET=s3cr3t-Do-Not-Print-4f1d9
. "$SRCDIR/tests/cgi-lib.sh"
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_FSYNC=0"

printf '{"event":"assets.updated","body":["a1"]}' >event.json
printf '{"event":"assets.updated","body":["a2"]}' >other.json

# Prints a variant of the true MAC of file $2 under $SECRET: kind $1.
mac() {
	python3 - "$1" "$SECRET" "$2" <<-'PY'
	import base64, hashlib, hmac, sys
	kind, secret, path = sys.argv[1:]
	m = hmac.new(secret.encode(), open(path, "rb").read(), hashlib.sha256).digest()
	h, b = m.hex(), base64.b64encode(m).decode()
	print({
	    "hex": h, "HEX": h.upper(), "b64": b,
	    "mixedcase": "".join(c.upper() if i % 2 else c for i, c in enumerate(h)),
	    "prefixed": "sha256=" + h, "Prefixed": "SHA256=" + b,
	    "blanks": " \t sha256=" + h + " \t",
	    "hex31": m[:31].hex(), "hex33": (m + b"\0").hex(),
	    "b64-31": base64.b64encode(m[:31]).decode(),
	    "b64-33": base64.b64encode(m + b"\0").decode(),
	    "hex63": h[:63], "hex65": h + "0", "hex-twice": h + h,
	    "b64-unpadded": b.rstrip("="), "b64-extra-pad": b + "=",
	    "b64url": base64.urlsafe_b64encode(m).decode(),
	    "hex-half-b64": h[:32] + b[22:],
	    "double-prefix": "sha256=sha256=" + h,
	    "prefix-only": "sha256=",
	    "inner-blank": h[:32] + " " + h[32:],
	    "hex-as-b64": base64.b64encode(h.encode()).decode(),
	    "b64-bits": b[:42] + chr(ord(b[42]) ^ 1) + "=",
	    "prefix-after": h + "sha256=",
	    "colon-prefix": "sha256:" + h,
	    "zero": "0" * 64,
	    "long": "a" * 100000,
	}[kind])
	PY
}

# post FILE SIGNATURE [VAR=value...]: cgi_post_signature from an empty
# spool, as each case starts.
post() {
	rm -rf spool
	cgi_post_signature "$@"
}

expect_refused() {
	expect_status 401 &&
	grep -q '"status":"error"' out &&
	expect_empty_spool spool
}

test_expect_success 'the true signature is accepted (control)' '
	post event.json - &&
	expect_status 200 &&
	test_cmp event.json "spool/assets/new/$(answer_id).json"
'

for kind in HEX b64 mixedcase prefixed Prefixed blanks; do
	test_expect_success "accepted as the contract allows: $kind" "
		post event.json \"\$(mac $kind event.json)\" &&
		expect_status 200
	"
done

test_expect_success 'no signature header: 401' '
	post event.json none &&
	expect_refused
'

test_expect_success 'an empty signature: 401' '
	post event.json "" &&
	expect_refused
'

test_expect_success 'blanks only: 401' '
	post event.json "   " &&
	expect_refused
'

for kind in hex31 hex33 b64-31 b64-33; do
	test_expect_success "a $kind-byte decode of the true MAC is refused" "
		post event.json \"\$(mac $kind event.json)\" &&
		expect_refused
	"
done

for kind in hex63 hex65 hex-twice b64-unpadded b64-extra-pad b64url \
	hex-half-b64 double-prefix prefix-only inner-blank hex-as-b64 \
	b64-bits prefix-after colon-prefix zero long; do
	test_expect_success "malformed or foreign: $kind" "
		post event.json \"\$(mac $kind event.json)\" &&
		expect_refused
	"
done

test_expect_success 'a valid signature for other bytes: 401' '
	post event.json "$(mac hex other.json)" &&
	expect_refused
'

test_expect_success 'a signature under another secret: 401' '
	post event.json "$(test_hmac_hex other-secret event.json)" &&
	expect_refused
'

test_expect_success 'a body cut short by CONTENT_LENGTH fails the signature' '
	post event.json - CONTENT_LENGTH=30 &&
	expect_refused
'

test_expect_success 'the signed bytes plus a trailing newline: 401' '
	cp event.json longer.json && echo >>longer.json &&
	post longer.json "$(mac hex event.json)" &&
	expect_refused
'

test_expect_success 'the previous secret is accepted, a third is not' '
	post event.json "$(test_hmac_hex old-secret event.json)" \
		MAKINI_WEBHOOK_SECRET_PREVIOUS=old-secret &&
	expect_status 200 &&
	post event.json "$(test_hmac_hex older-secret event.json)" \
		MAKINI_WEBHOOK_SECRET_PREVIOUS=old-secret &&
	expect_refused
'

test_expect_success 'no secret configured: 500, never an unauthenticated accept' '
	post event.json "$(test_hmac_hex "" event.json)" \
		MAKINI_WEBHOOK_SECRET= &&
	expect_status 500 &&
	expect_empty_spool spool
'

test_done
