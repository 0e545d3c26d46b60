#!/bin/sh
# See LICENSE file for copyright and license details.
# The binary as a FastCGI application: many requests on one process, the
# configuration captured from the process environment before the first
# accept and overlaid by each request's params.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"

command -v spawn-fcgi >/dev/null && command -v cgi-fcgi >/dev/null || {
	echo "spawn-fcgi and cgi-fcgi are needed: run make deps"
	exit 1
}
test_failure_hook() { echo "# application log:"; sed 's/^/#   /' "$TRASH/fcgi.log"; }

printf '{"event":"purchaseOrders.updated","body":["po-1"]}' >event.json
printf '%s\n' "$SECRET" >secret.txt

test_expect_success 'start one FastCGI process, configured by its environment' '
	fcgi_start MAKINI_WEBHOOK_SECRET_FILE="$TRASH/secret.txt" \
		MAKINI_WEBHOOK_SPOOL="$TRASH/spool"
'

test_expect_success 'requests without config params use the captured environment' '
	for i in 1 2 3 4 5; do
		fcgi_post event.json && expect_status 200 &&
		test_cmp event.json "spool/purchase_orders/new/$(answer_id).json" ||
		return 1
	done &&
	[ "$(ls spool/purchase_orders/new | wc -l)" = 5 ] &&
	test_no_tmp_leftovers spool
'

test_expect_success 'one process served them all, and logged each' '
	# The id holds a per-process random part: one process, one value.
	[ "$(ls spool/purchase_orders/new | cut -d- -f2 | sort -u | wc -l)" = 1 ] &&
	fcgi_post event.json && grep -q "POST purchase_orders.updated 200" err
'

test_expect_success 'a request param overlays the process environment' '
	fcgi_post event.json MAKINI_WEBHOOK_SPOOL="$TRASH/other" &&
	expect_status 200 &&
	test_cmp event.json "other/purchase_orders/new/$(answer_id).json" &&
	fcgi_post event.json && expect_status 200 &&
	test_cmp event.json "spool/purchase_orders/new/$(answer_id).json"
'

test_expect_success 'a bad request param gives 500, and the next request is fine' '
	fcgi_post event.json MAKINI_WEBHOOK_FSYNC=maybe &&
	expect_status 500 && grep -q MAKINI_WEBHOOK_FSYNC err &&
	fcgi_post event.json && expect_status 200
'

test_expect_success 'refusals leave the process serving: 401, 413, 400, 405' '
	fcgi_request POST event.json HTTP_X_WEBHOOK_SIGNATURE=00 &&
	expect_status 401 &&
	head -c 3000 /dev/zero >big &&
	fcgi_request POST big MAKINI_WEBHOOK_MAX_BODY=2000 &&
	expect_status 413 &&
	fcgi_request POST event.json CONTENT_LENGTH=500 \
		HTTP_X_WEBHOOK_SIGNATURE="$(test_hmac_hex "$SECRET" event.json)" &&
	expect_status 400 &&
	fcgi_request DELETE event.json && expect_status 405 &&
	fcgi_request GET /dev/null && expect_status 200 &&
	fcgi_post event.json && expect_status 200
'

# fcgi_stream BODY_FILE [VAR=value ...]: a request without CONTENT_LENGTH,
# its body sent in records of 7 bytes and ended by the empty stdin record.
fcgi_stream() {
	file=$1
	shift
	python3 "$SRCDIR/tests/fcgi-stream.py" "$FCGI_SOCKET" --record 7 \
		REQUEST_METHOD=POST REMOTE_ADDR=127.0.0.1 \
		GATEWAY_INTERFACE=CGI/1.1 "$@" <"$file" >out 2>err
	sed '1,/^\r$/d' out >body
}

test_expect_success 'without CONTENT_LENGTH the empty stdin record ends the body' '
	fcgi_stream event.json \
		HTTP_X_WEBHOOK_SIGNATURE="$(test_hmac_hex "$SECRET" event.json)" &&
	expect_status 200 &&
	test_cmp event.json "spool/purchase_orders/new/$(answer_id).json" &&
	head -c 2001 /dev/zero >over &&
	fcgi_stream over MAKINI_WEBHOOK_MAX_BODY=2000 &&
	expect_status 413 &&
	head -c 2000 /dev/zero >limit &&
	fcgi_stream limit MAKINI_WEBHOOK_MAX_BODY=2000 &&
	expect_status 401 &&
	fcgi_post event.json && expect_status 200
'

test_expect_success 'a rotated secret file takes effect without a restart' '
	printf "rotated-secret\n" >secret.txt.new && mv secret.txt.new secret.txt &&
	SECRET=rotated-secret fcgi_post event.json && expect_status 200 &&
	fcgi_post event.json && expect_status 401
'

test_expect_success 'a secret revoked in its file is refused within a second' '
	SECRET=rotated-secret fcgi_post event.json && expect_status 200 &&
	printf "third-secret\n" >secret.txt.new && mv secret.txt.new secret.txt &&
	sleep 1.1 &&
	SECRET=rotated-secret fcgi_post event.json && expect_status 401 &&
	SECRET=third-secret fcgi_post event.json && expect_status 200
'

test_expect_success 'a secret file emptied or removed revokes its secret' '
	: >secret.txt && sleep 1.1 &&
	SECRET=third-secret fcgi_post event.json && expect_status 500 &&
	grep -q "cannot read the file named by MAKINI_WEBHOOK_SECRET_FILE" err &&
	rm secret.txt && sleep 1.1 &&
	SECRET=third-secret fcgi_post event.json && expect_status 500 &&
	printf "fourth-secret\n" >secret.txt && sleep 1.1 &&
	SECRET=fourth-secret fcgi_post event.json && expect_status 200 &&
	SECRET=third-secret fcgi_post event.json && expect_status 401
'

test_expect_success 'with no secret anywhere, POST gets 500 and GET 503' '
	fcgi_stop &&
	fcgi_start MAKINI_WEBHOOK_SPOOL="$TRASH/spool" &&
	fcgi_post event.json && expect_status 500 &&
	grep -q "no secret" err &&
	fcgi_request GET /dev/null && expect_status 503 &&
	fcgi_post event.json MAKINI_WEBHOOK_SECRET="$SECRET" &&
	expect_status 200
'

# Under Apache a request's line goes to the process's own standard error
# (mod_fcgid's is the error log itself, where Apache would otherwise tag
# each line of the stream as a warning), unless that is /dev/null.
test_expect_success 'under Apache the line goes to standard error, one line' '
	fcgi_stop &&
	fcgi_start MAKINI_WEBHOOK_SECRET_FILE="$TRASH/secret.txt" \
		MAKINI_WEBHOOK_SPOOL="$TRASH/spool" &&
	SECRET=fourth-secret fcgi_post event.json \
		SERVER_SOFTWARE="Apache/2.4.71 (Debian)" &&
	expect_status 200 &&
	test_cmp /dev/null err &&
	grep -F "$(answer_id)" "$TRASH/fcgi.log" >line &&
	grep -Ex "makini-webhook: 127\.0\.0\.1 POST purchase_orders\.updated 200 $(answer_id) [0-9]+\.[0-9]{3}ms" line &&
	fcgi_request GET /dev/null SERVER_SOFTWARE=Apache && expect_status 200 &&
	test_cmp /dev/null err &&
	tail -n 1 "$TRASH/fcgi.log" >line &&
	grep -Ex "makini-webhook: 127\.0\.0\.1 GET - 200 ok [0-9]+\.[0-9]{3}ms" line
'

test_expect_success 'under lighttpd, or none named, it stays in the FastCGI stream' '
	SECRET=fourth-secret fcgi_post event.json \
		SERVER_SOFTWARE=lighttpd/1.4.69 &&
	expect_status 200 &&
	grep -Ex "makini-webhook: 127\.0\.0\.1 POST purchase_orders\.updated 200 $(answer_id) [0-9]+\.[0-9]{3}ms" err &&
	! grep -F "$(answer_id)" "$TRASH/fcgi.log" &&
	SECRET=fourth-secret fcgi_post event.json && expect_status 200 &&
	[ "$(grep -c "POST purchase_orders.updated 200 $(answer_id)" err)" = 1 ] &&
	! grep -F "$(answer_id)" "$TRASH/fcgi.log"
'

test_expect_success 'under Apache with standard error /dev/null, it stays in the stream' '
	fcgi_stop || :
	env -i PATH="$PATH" MAKINI_WEBHOOK_SECRET_FILE="$TRASH/secret.txt" \
		MAKINI_WEBHOOK_SPOOL="$TRASH/spool" \
		spawn-fcgi -n -s "$FCGI_SOCKET" -- ${MAKINI_TEST_WRAP:-} "$BIN" \
		2>/dev/null &
	echo $! >"$TRASH/fcgi.pid" &&
	for _ in $(seq 50); do [ -S "$FCGI_SOCKET" ] && break; sleep 0.1; done &&
	SECRET=fourth-secret fcgi_post event.json SERVER_SOFTWARE=Apache &&
	expect_status 200 &&
	grep -Ex "makini-webhook: 127\.0\.0\.1 POST purchase_orders\.updated 200 $(answer_id) [0-9]+\.[0-9]{3}ms" err
'

test_done
