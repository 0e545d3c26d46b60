#!/bin/sh
# See LICENSE file for copyright and license details.
# Oversized and lying CONTENT_LENGTH, non-UTF-8 and deeply nested JSON:
# each gets its status from the contract and leaves nothing in the spool.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_FSYNC=0"

printf '{"event":"assets.updated","body":["a1"]}' >event.json
size=$(wc -c <event.json)

post() {
	rm -rf spool
	cgi_post "$@"
}

for cl in "" " 41" "41 " "+41" "-1" "0x29" "4e1" "41;" "４１"; do
	test_expect_success "CONTENT_LENGTH '$cl' is not a decimal: 411" "
		post event.json CONTENT_LENGTH='$cl' &&
		expect_status 411 &&
		expect_empty_spool spool
	"
done

test_expect_success 'no CONTENT_LENGTH at all: 411' '
	rm -rf spool &&
	env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST \
		MAKINI_WEBHOOK_SECRET="$SECRET" MAKINI_WEBHOOK_SPOOL="$SPOOL" \
		HTTP_X_WEBHOOK_SIGNATURE=$(test_hmac_hex "$SECRET" event.json) \
		"$BIN" <event.json >out 2>err &&
	expect_status 411 &&
	expect_empty_spool spool
'

test_expect_success 'over MAX_BODY: 413, decided before reading the body' '
	post /dev/null CONTENT_LENGTH=101 MAKINI_WEBHOOK_MAX_BODY=100 &&
	expect_status 413 &&
	expect_empty_spool spool
'

test_expect_success 'over MAX_BODY with a stdin that never ends: 413, no hang' '
	rm -rf spool &&
	cgi_run REQUEST_METHOD=POST CONTENT_LENGTH=2000000 \
		HTTP_X_WEBHOOK_SIGNATURE=00 </dev/zero &&
	expect_status 413
'

for cl in 18446744073709551616 99999999999999999999999999999999 \
	00000000000000000000000000000000000000000000002000000; do
	test_expect_success "a huge CONTENT_LENGTH ($cl): 413" "
		post event.json CONTENT_LENGTH=$cl &&
		expect_status 413 &&
		expect_empty_spool spool
	"
done

test_expect_success 'leading zeros are still the same number' '
	post event.json CONTENT_LENGTH=000$size &&
	expect_status 200
'

test_expect_success 'exactly MAX_BODY is accepted' '
	post event.json MAKINI_WEBHOOK_MAX_BODY=$size &&
	expect_status 200 &&
	test_cmp event.json "spool/assets/new/$(answer_id).json"
'

test_expect_success 'one byte over MAX_BODY: 413' '
	post event.json MAKINI_WEBHOOK_MAX_BODY=$((size - 1)) &&
	expect_status 413 &&
	expect_empty_spool spool
'

test_expect_success 'CONTENT_LENGTH larger than the body: 400' '
	post event.json CONTENT_LENGTH=$((size + 1)) &&
	expect_status 400 &&
	expect_empty_spool spool
'

test_expect_success 'CONTENT_LENGTH far larger than the body: 400' '
	post event.json CONTENT_LENGTH=1000000 &&
	expect_status 400 &&
	expect_empty_spool spool
'

test_expect_success 'CONTENT_LENGTH smaller than the body: only those bytes count' '
	head -c 20 event.json >prefix &&
	rm -rf spool &&
	cgi_post_signature event.json "$(test_hmac_hex "$SECRET" prefix)" \
		CONTENT_LENGTH=20 &&
	expect_status 400 &&
	expect_empty_spool spool
'

test_expect_success 'CONTENT_LENGTH 0 with the signature of nothing: 400' '
	post /dev/null CONTENT_LENGTH=0 &&
	expect_status 400 &&
	expect_empty_spool spool
'

# Signed bodies that are not one valid JSON object: 400.
bad_json() {
	test_expect_success "not a JSON object: $1" "
		printf '%b' '$2' >bad.json &&
		post bad.json &&
		expect_status 400 &&
		expect_empty_spool spool
	"
}
bad_json 'invalid UTF-8 byte' '{"event":"assets.updated","x":"\\377"}'
bad_json 'overlong UTF-8 for "."' '{"event":"assets\\300\\256updated"}'
bad_json 'a UTF-16 surrogate in UTF-8' '{"event":"assets.updated","x":"\\355\\240\\200"}'
bad_json 'a truncated UTF-8 sequence' '{"event":"assets.updated","x":"\\342\\202"}'
bad_json 'Latin-1 text' '{"event":"assets.updated","x":"caf\\351"}'
bad_json 'a UTF-16 body' '\\377\\376{\\000"\\000}\\000'
bad_json 'trailing garbage' '{"event":"assets.updated"}x'
bad_json 'two objects' '{"event":"assets.updated"}{"event":"assets.updated"}'
bad_json 'a top-level array' '[{"event":"assets.updated"}]'
bad_json 'a top-level string' '"assets.updated"'
bad_json 'single quotes' "{\\047event\\047:\\047assets.updated\\047}"
bad_json 'a comment' '{"event":"assets.updated"/* c */}'
bad_json 'a trailing comma' '{"event":"assets.updated",}'
bad_json 'an unterminated object' '{"event":"assets.updated"'
bad_json 'a raw control character in a string' '{"event":"assets.updated","x":"\\001"}'
bad_json 'a NUL byte after the object' '{"event":"assets.updated"}\\000'
bad_json 'an empty body' ''

nest() {
	python3 -c 'import sys; n=int(sys.argv[1])
sys.stdout.write("{\"event\":\"assets.updated\",\"x\":" + "[" * n + "]" * n + "}")' "$1"
}

test_expect_success 'nesting within the limit is accepted' '
	nest 30 >nested.json &&
	post nested.json &&
	expect_status 200 &&
	test_cmp nested.json "spool/assets/new/$(answer_id).json"
'

for depth in 40 1000 100000; do
	test_expect_success "nesting $depth deep: 400, no crash" "
		nest $depth >nested.json &&
		post nested.json &&
		expect_status 400 &&
		expect_empty_spool spool
	"
done

test_expect_success 'deeply nested objects, 200000 deep: 400, no crash' '
	python3 -c "import sys; n=200000
sys.stdout.write(\"{\\\"a\\\":\" * n + \"1\" + \"}\" * n)" >deep.json &&
	post deep.json MAKINI_WEBHOOK_MAX_BODY=10000000 &&
	expect_status 400 &&
	expect_empty_spool spool
'

test_expect_success 'valid UTF-8 outside the name is stored byte for byte' '
	printf "{\"event\":\"assets.updated\",\"x\":\"caf\\303\\251 \\360\\237\\230\\200\"}" >utf8.json &&
	post utf8.json &&
	expect_status 200 &&
	test_cmp utf8.json "spool/assets/new/$(answer_id).json"
'

test_done
