#!/bin/sh
# See LICENSE file for copyright and license details.
# The binary as CGI: every status of the contract, and the bytes on disk.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"

printf '{"event":"workOrders.updated","body":["wo-1","wo-2"]}' >event.json
printf '{"event":"assets.inserted","body":["a-1"]}\n' >asset.json

test_expect_success 'a signed event is stored byte for byte and answered 200' '
	cgi_post event.json &&
	expect_status 200 &&
	id=$(answer_id) &&
	grep -q "\"status\":\"accepted\",\"event\":\"work_orders.updated\",\"id\":\"$id\"" body &&
	grep -q "^Content-Type: application/json" out &&
	test_cmp event.json "spool/work_orders/new/$id.json" &&
	test_no_tmp_leftovers spool &&
	case $id in *-updated) ;; *) false ;; esac
'

test_expect_success 'the log line names address, method, event, status and id' '
	cgi_post asset.json &&
	expect_status 200 &&
	id=$(answer_id) &&
	grep -q "^makini-webhook: 127.0.0.1 POST assets.inserted 200 $id [0-9.]*ms$" err &&
	test_cmp asset.json "spool/assets/new/$id.json"
'

test_expect_success 'event files are not world-readable and sort by arrival' '
	cgi_post asset.json && first=$(answer_id) &&
	cgi_post asset.json && second=$(answer_id) &&
	[ "$first" != "$second" ] &&
	[ "$(printf "%s\n%s\n" "$second" "$first" | sort | head -n 1)" = "$first" ] &&
	[ "$(stat -c %a "spool/assets/new/$first.json")" = 640 ]
'

test_expect_success 'base64, upper-case hex, a sha256= prefix and blanks are accepted' '
	sig=$(test_hmac_b64 "$SECRET" event.json) &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE="$sig" &&
	expect_status 200 &&
	hex=$(test_hmac_hex "$SECRET" event.json | tr a-f A-F) &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE=" sha256=$hex " &&
	expect_status 200
'

test_expect_success 'the previous secret is accepted during rotation' '
	sig=$(test_hmac_hex old-secret event.json) &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE="$sig" &&
	expect_status 401 &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE="$sig" \
		MAKINI_WEBHOOK_SECRET_PREVIOUS=old-secret &&
	expect_status 200
'

test_expect_success 'secrets may come from files, one trailing newline stripped' '
	printf "%s\n" "$SECRET" >secret.txt &&
	CGI_CONFIG="MAKINI_WEBHOOK_SECRET_FILE=$TRASH/secret.txt MAKINI_WEBHOOK_SPOOL=$TRASH/spool" &&
	cgi_post event.json &&
	expect_status 200
'

rm -rf spool

test_expect_success 'forged, missing and malformed signatures get 401 and store nothing' '
	sig=$(test_hmac_hex wrong-secret event.json) &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE="$sig" &&
	expect_status 401 && grep -q "signature mismatch" body &&
	cgi_request POST event.json &&
	expect_status 401 && grep -q "missing signature" body &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE="${sig%??}" &&
	expect_status 401 && grep -q "malformed signature" body &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE="sha256=sha256=$sig" &&
	expect_status 401 &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE= &&
	expect_status 401 &&
	grep -q "POST - 401 malformed signature" err &&
	expect_empty_spool spool
'

test_expect_success 'a valid signature for other bytes gets 401' '
	printf "{\"event\":\"assets.deleted\"}" >other.json &&
	cgi_request POST event.json \
		HTTP_X_WEBHOOK_SIGNATURE="$(test_hmac_hex "$SECRET" other.json)" &&
	expect_status 401 &&
	expect_empty_spool spool
'

test_expect_success 'a signed body that is not a JSON object gets 400' '
	printf "[1,2]" >array.json && cgi_post array.json && expect_status 400 &&
	printf "{\"event\":" >cut.json && cgi_post cut.json && expect_status 400 &&
	printf "{\"event\":\"a.b\",\"x\":\"\377\"}" >latin.json &&
	cgi_post latin.json && expect_status 400 &&
	grep -q "\"error\":\"body is not a JSON object\"" body &&
	expect_empty_spool spool
'

test_expect_success 'deep nesting gets 400' '
	python3 -c "print(\"{\\\"event\\\":\\\"a.b\\\",\\\"x\\\":\" + \"[\" * 5000 + \"]\" * 5000 + \"}\")" >deep.json &&
	cgi_post deep.json && expect_status 400 &&
	expect_empty_spool spool
'

test_expect_success 'event names that are missing, invalid or climb out get 422' '
	for name in "" "assets" "../../etc.updated" "a/b.updated" \
		"assets.up/dated" "..\\\\x.updated" "__.x"; do
		printf "{\"event\":\"%s\"}" "$name" >bad.json &&
		cgi_post bad.json && expect_status 422 || return 1
	done &&
	printf "{\"body\":[]}" >none.json && cgi_post none.json &&
	expect_status 422 && grep -q "no valid event name" body &&
	expect_empty_spool spool &&
	[ ! -e "$TRASH/etc" ]
'

test_expect_success 'Content-Length missing or not a number gets 411' '
	cgi_run REQUEST_METHOD=POST <event.json &&
	expect_status 411 &&
	for len in "" "abc" "-5" "1e3" " 10" "0x10" "10 "; do
		cgi_run REQUEST_METHOD=POST CONTENT_LENGTH="$len" <event.json &&
		expect_status 411 || return 1
	done
'

# Apache's mod_cgid passes a chunked body dechunked, up to end of file,
# with HTTP_TRANSFER_ENCODING=chunked and no CONTENT_LENGTH.
test_expect_success 'a dechunked body without Content-Length is read to its end' '
	sig=$(test_hmac_hex "$SECRET" event.json) &&
	cgi_run REQUEST_METHOD=POST HTTP_TRANSFER_ENCODING=chunked \
		HTTP_X_WEBHOOK_SIGNATURE="$sig" <event.json &&
	expect_status 200 &&
	test_cmp event.json "spool/work_orders/new/$(answer_id).json" &&
	cgi_run REQUEST_METHOD=POST CONTENT_LENGTH= \
		HTTP_TRANSFER_ENCODING=Chunked \
		HTTP_X_WEBHOOK_SIGNATURE="$sig" <event.json &&
	expect_status 200 &&
	test_cmp event.json "spool/work_orders/new/$(answer_id).json" &&
	rm -rf spool
'

test_expect_success 'a dechunked body gets 413 as soon as it passes MAX_BODY' '
	head -c 1001 /dev/zero >over &&
	cgi_run REQUEST_METHOD=POST HTTP_TRANSFER_ENCODING=chunked \
		MAKINI_WEBHOOK_MAX_BODY=1000 <over &&
	expect_status 413 &&
	head -c 1000 /dev/zero >limit &&
	cgi_run REQUEST_METHOD=POST HTTP_TRANSFER_ENCODING=chunked \
		MAKINI_WEBHOOK_MAX_BODY=1000 <limit &&
	expect_status 401 &&
	# A body that never ends is not waited for.
	timeout 5 env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 \
		REQUEST_METHOD=POST HTTP_TRANSFER_ENCODING=chunked $CGI_CONFIG \
		"$BIN" </dev/zero >out 2>err &&
	expect_status 413 &&
	expect_empty_spool spool
'

test_expect_success 'a body over MAX_BODY gets 413 before a byte is read' '
	# The body never arrives: the answer must not wait for it.
	(sleep 5; cat event.json) | (
		# shellcheck disable=SC2086
		timeout 3 env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 \
			REQUEST_METHOD=POST CONTENT_LENGTH=2000 $CGI_CONFIG \
			MAKINI_WEBHOOK_MAX_BODY=1000 "$BIN" >out 2>err
	) &&
	expect_status 413 &&
	cgi_run REQUEST_METHOD=POST CONTENT_LENGTH=99999999999999999999999999 \
		</dev/null &&
	expect_status 413 &&
	expect_empty_spool spool
'

test_expect_success 'a body shorter than Content-Length gets 400' '
	sig=$(test_hmac_hex "$SECRET" event.json) &&
	cgi_run REQUEST_METHOD=POST CONTENT_LENGTH=$(( $(wc -c <event.json) + 5 )) \
		HTTP_X_WEBHOOK_SIGNATURE="$sig" <event.json &&
	expect_status 400 && grep -q "shorter than Content-Length" body &&
	expect_empty_spool spool
'

test_expect_success 'only the first Content-Length bytes are signed and stored' '
	cat event.json >long.json && printf "TRAILING" >>long.json &&
	sig=$(test_hmac_hex "$SECRET" event.json) &&
	cgi_run REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <event.json) \
		HTTP_X_WEBHOOK_SIGNATURE="$sig" <long.json &&
	expect_status 200 &&
	test_cmp event.json "spool/work_orders/new/$(answer_id).json" &&
	rm -rf spool
'

test_expect_success 'methods other than GET, HEAD and POST get 405 with Allow' '
	for m in PUT DELETE OPTIONS PATCH get; do
		cgi_request "$m" event.json && expect_status 405 &&
		grep -q "^Allow: GET, HEAD, POST" out || return 1
	done
'

test_expect_success 'GET and HEAD answer the health check' '
	cgi_request GET /dev/null && expect_status 200 &&
	test_health_ok body &&
	cgi_request HEAD /dev/null && expect_status 200 &&
	[ ! -s body ] &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_SECRET= &&
	expect_status 503
'

test_expect_success 'ALLOW_FROM refuses other addresses with 403' '
	cgi_post event.json MAKINI_WEBHOOK_ALLOW_FROM=10.0.0.0/8 &&
	expect_status 403 &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_ALLOW_FROM=10.0.0.0/8 &&
	expect_status 403 &&
	cgi_post event.json MAKINI_WEBHOOK_ALLOW_FROM="10.0.0.0/8, 127.0.0.0/8" &&
	expect_status 200 &&
	rm -rf spool
'

test_expect_success 'the allow-list holds even when the rest is misconfigured' '
	cgi_post event.json MAKINI_WEBHOOK_ALLOW_FROM=10.0.0.0/8 \
		MAKINI_WEBHOOK_MAX_BODY=lots &&
	expect_status 403 &&
	cgi_post event.json MAKINI_WEBHOOK_ALLOW_FROM=127.0.0.1/40 &&
	expect_status 403 && grep -q MAKINI_WEBHOOK_ALLOW_FROM err &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_ALLOW_FROM=bogus &&
	expect_status 403 &&
	expect_empty_spool spool
'

test_expect_success 'no secret, or a bad variable, answers 500 and names the problem' '
	(CGI_CONFIG="MAKINI_WEBHOOK_SPOOL=$TRASH/spool" &&
	 cgi_run REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <event.json) \
		<event.json) &&
	expect_status 500 && grep -q "no secret" err &&
	cgi_post event.json MAKINI_WEBHOOK_MAX_BODY=lots &&
	expect_status 500 && grep -q "MAKINI_WEBHOOK_MAX_BODY" err &&
	grep -q "\"error\":\"server misconfigured\"" body &&
	cgi_post event.json MAKINI_WEBHOOK_FSINC=0 &&
	expect_status 500 && grep -q "unknown variable MAKINI_WEBHOOK_FSINC" err &&
	expect_empty_spool spool
'

# docs/operations.md's symptom table: "500 on every POST, 503 on GET".
test_expect_success 'a bad configuration: GET is 503, its line names the variable too' '
	cgi_request GET /dev/null MAKINI_WEBHOOK_FSINC=0 &&
	expect_status 503 &&
	grep -Ex "makini-webhook: 127\.0\.0\.1 GET - 503 server misconfigured \(unknown variable MAKINI_WEBHOOK_FSINC\) [0-9]+\.[0-9]{3}ms" err &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_MAX_BODY=lots &&
	expect_status 503 &&
	grep -q "GET - 503 server misconfigured (MAKINI_WEBHOOK_MAX_BODY is" err &&
	cgi_post event.json MAKINI_WEBHOOK_MAX_BODY=lots &&
	expect_status 500 &&
	grep -q "POST - 500 server misconfigured (MAKINI_WEBHOOK_MAX_BODY is" err &&
	expect_empty_spool spool
'

test_expect_success 'an unwritable spool answers 503 with Retry-After' '
	: >not-a-dir &&
	cgi_post event.json MAKINI_WEBHOOK_SPOOL="$TRASH/not-a-dir/spool" &&
	expect_status 503 && grep -q "^Retry-After: [0-9]" out &&
	grep -q "cannot store event (Not a directory)" err &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_SPOOL="$TRASH/not-a-dir/spool" &&
	expect_status 503
'

test_expect_success 'the health check creates nothing, and sees an unusable spool' '
	rm -rf fresh &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_SPOOL="$TRASH/fresh/spool" &&
	expect_status 200 && [ ! -e fresh ] &&
	mkdir fresh && echo x >fresh/spool &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_SPOOL="$TRASH/fresh/spool" &&
	expect_status 503 && grep -q "spool unavailable (Not a directory)" err &&
	rm -rf fresh
'

test_expect_success 'no answer or log line holds the secret, a signature or a path' '
	cgi_post event.json && cgi_post event.json MAKINI_WEBHOOK_MAX_BODY=x &&
	cgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE=deadbeef &&
	cgi_post event.json MAKINI_WEBHOOK_SPOOL="$TRASH/not-a-dir/spool" &&
	cat out err >all &&
	! grep -q "$SECRET" all &&
	! grep -q "$(test_hmac_hex "$SECRET" event.json)" all &&
	! grep -q deadbeef all &&
	! grep -q "$TRASH" all
'

test_expect_success 'under CGI the arguments never select a verb' '
	# shellcheck disable=SC2086
	env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
		$CGI_CONFIG "$BIN" sign >out 2>err </dev/null &&
	expect_status 200 &&
	# shellcheck disable=SC2086
	env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
		$CGI_CONFIG "$BIN" --help >out 2>err </dev/null &&
	expect_status 200
'

test_done
