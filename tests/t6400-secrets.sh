#!/bin/sh
# See LICENSE file for copyright and license details.
# No answer and no log line holds a secret, the received or the expected
# signature, or a file path: checked over every kind of outcome, answers
# and logs gathered in one file and searched.
. "$(dirname "$0")/test-lib.sh"
# A secret of our own: a part of it is searched for below, case-blind.
SECRET=s3cr3t-Do-Not-Print-4f1d9
. "$SRCDIR/tests/cgi-lib.sh"
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_FSYNC=0"

PREVIOUS=prev-Secret-Never-Shown-77c2
printf '{"event":"assets.updated","body":["a1"]}' >event.json
printf '{"event":"sites.updated","body":["s1"]}' >other.json
printf '%s\n' "$SECRET" >secret.file
: >all

# run FILE [SIGNATURE [VAR=value...]]: runs cgi_post_signature (SIGNATURE
# "-" when not given) and appends answer and log to the file "all".
run() {
	body=$1 sig=${2--}
	shift
	[ $# -gt 0 ] && shift
	cgi_post_signature "$body" "$sig" \
		MAKINI_WEBHOOK_SECRET_PREVIOUS="$PREVIOUS" "$@"
	cat out err >>all
}

test_expect_success 'gather answers and logs of every outcome' '
	run event.json &&
	expect_status 200 &&
	run event.json "$(test_hmac_hex "$SECRET" other.json)" &&
	expect_status 401 &&
	run event.json "sha256=$(test_hmac_b64 wrong event.json)" &&
	expect_status 401 &&
	run event.json none &&
	expect_status 401 &&
	run event.json - MAKINI_WEBHOOK_MAX_BODY=10 &&
	expect_status 413 &&
	run event.json - CONTENT_LENGTH=4000 &&
	expect_status 400 &&
	printf "{\"event\":\"../x\"}" >bad.json &&
	run bad.json &&
	expect_status 422 &&
	printf "not json" >notjson &&
	run notjson &&
	expect_status 400 &&
	run event.json - MAKINI_WEBHOOK_SECRET_FILE="$TRASH/secret.file" &&
	expect_status 500 &&
	run event.json - MAKINI_WEBHOOK_SECRET= \
		MAKINI_WEBHOOK_SECRET_FILE="$TRASH/missing/secret.file" &&
	expect_status 500 &&
	run event.json - MAKINI_WEBHOOK_SECRT="$SECRET" &&
	expect_status 500 &&
	run event.json - MAKINI_WEBHOOK_FSYNC="$SECRET" &&
	expect_status 500 &&
	run event.json - MAKINI_WEBHOOK_ALLOW_FROM="$SECRET" &&
	expect_status 403 &&
	run event.json - MAKINI_WEBHOOK_ALLOW_FROM=10.0.0.0/8 &&
	expect_status 403 &&
	run event.json - REQUEST_METHOD=PUT &&
	expect_status 405 &&
	run event.json - REQUEST_METHOD=GET &&
	expect_status 200 &&
	mkdir -p spool && rm -rf spool/assets && echo x >spool/assets &&
	run event.json &&
	expect_status 503 &&
	run event.json - REQUEST_METHOD=GET MAKINI_WEBHOOK_SPOOL="$TRASH/event.json/x" &&
	expect_status 503 &&
	test $(grep -c "^Status:" all) = 18
'

test_expect_success 'no secret in any answer or log line' '
	test_must_fail grep -F "$SECRET" all &&
	test_must_fail grep -F "$PREVIOUS" all &&
	test_must_fail grep -iF "s3cr3t" all
'

test_expect_success 'no received or expected signature, in hex or base64' '
	for f in event.json other.json bad.json notjson; do
		for k in "$SECRET" "$PREVIOUS" wrong; do
			h=$(test_hmac_hex "$k" $f) &&
			b=$(test_hmac_b64 "$k" $f) &&
			test_must_fail grep -iF "$h" all &&
			test_must_fail grep -F "$b" all &&
			test_must_fail grep -iF "$(echo $h | cut -c1-16)" all ||
			return 1
		done
	done
'

test_expect_success 'no file path in any answer or log line' '
	test_must_fail grep -F "$TRASH" all &&
	test_must_fail grep -F "secret.file" all &&
	test_must_fail grep -F "/spool" all
'

test_done
