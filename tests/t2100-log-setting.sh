#!/bin/sh
# See LICENSE file for copyright and license details.
# Where request lines go (MAKINI_WEBHOOK_LOG), and a body whose length is
# given as -1 (Caddy's CONTENT_LENGTH for a body of unknown length), under
# FastCGI and CGI.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"

test_failure_hook() { echo "# application log:"; sed 's/^/#   /' "$TRASH/fcgi.log"; }

printf '{"event":"assets.updated","body":["a-1"]}' >event.json
printf '%s\n' "$SECRET" >secret.txt
LINE='makini-webhook: 127\.0\.0\.1 POST assets\.updated 200'
STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z \[[0-9]+\] '

test_expect_success 'start one FastCGI process' '
	fcgi_start MAKINI_WEBHOOK_SECRET_FILE="$TRASH/secret.txt" \
		MAKINI_WEBHOOK_SPOOL="$TRASH/spool"
'

test_expect_success 'LOG=stderr: the process standard error, whatever the server' '
	fcgi_post event.json SERVER_SOFTWARE=nginx/1.22.1 \
		MAKINI_WEBHOOK_LOG=stderr &&
	expect_status 200 &&
	test_cmp /dev/null err &&
	grep -Ex "$LINE $(answer_id) [0-9]+\.[0-9]{3}ms" "$TRASH/fcgi.log"
'

test_expect_success 'LOG=fastcgi: the FastCGI stream, even under Apache' '
	fcgi_post event.json SERVER_SOFTWARE=Apache/2.4.71 \
		MAKINI_WEBHOOK_LOG=fastcgi &&
	expect_status 200 &&
	grep -Ex "$LINE $(answer_id) [0-9]+\.[0-9]{3}ms" err &&
	! grep -F "$(answer_id)" "$TRASH/fcgi.log"
'

test_expect_success 'LOG=FILE: stamped lines there, created 0640, none elsewhere' '
	fcgi_post event.json MAKINI_WEBHOOK_LOG="$TRASH/requests.log" &&
	expect_status 200 &&
	id1=$(answer_id) &&
	fcgi_request GET /dev/null MAKINI_WEBHOOK_LOG="$TRASH/requests.log" &&
	expect_status 200 &&
	test_cmp /dev/null err &&
	! grep -F "$id1" "$TRASH/fcgi.log" &&
	[ "$(stat -c %a requests.log)" = 640 ] &&
	grep -Ex "${STAMP}$LINE $id1 [0-9]+\.[0-9]{3}ms" requests.log &&
	tail -n 1 requests.log |
		grep -Ex "${STAMP}makini-webhook: 127\.0\.0\.1 GET - 200 ok [0-9]+\.[0-9]{3}ms" &&
	[ "$(wc -l <requests.log)" = 2 ]
'

# Opened once per process, with O_APPEND: logrotate's copytruncate leaves
# the next line at the start of the emptied file, not past a hole.
test_expect_success 'the file stays open: truncated or removed, lines follow it' '
	: >requests.log &&
	fcgi_post event.json MAKINI_WEBHOOK_LOG="$TRASH/requests.log" &&
	expect_status 200 &&
	[ "$(wc -l <requests.log)" = 1 ] &&
	head -c 4 requests.log | grep -Ex "[0-9]{4}" &&
	mv requests.log requests.log.1 &&
	fcgi_post event.json MAKINI_WEBHOOK_LOG="$TRASH/requests.log" &&
	expect_status 200 &&
	! test -e requests.log &&
	grep -F "$(answer_id)" requests.log.1
'

test_expect_success 'another path is opened in its place' '
	fcgi_post event.json MAKINI_WEBHOOK_LOG="$TRASH/other.log" &&
	expect_status 200 &&
	grep -F "$(answer_id)" other.log &&
	! grep -F "$(answer_id)" requests.log.1
'

test_expect_success 'a file that cannot be opened: the event is stored, the lines say why' '
	fcgi_post event.json MAKINI_WEBHOOK_LOG="$TRASH/no/such/dir/x.log" &&
	expect_status 200 &&
	test_cmp event.json "spool/assets/new/$(answer_id).json" &&
	grep -Fx "makini-webhook: cannot open the file named by MAKINI_WEBHOOK_LOG: No such file or directory" err &&
	grep -Ex "$LINE $(answer_id) [0-9]+\.[0-9]{3}ms" err &&
	! grep -F "no/such" err
'

test_expect_success 'a relative path or another word is refused: 500, named' '
	for v in relative.log syslog; do
		fcgi_post event.json MAKINI_WEBHOOK_LOG=$v &&
		expect_status 500 &&
		grep -F "MAKINI_WEBHOOK_LOG must be stderr, fastcgi or an absolute file path" err ||
		return 1
	done &&
	! test -e relative.log
'

test_expect_success 'FastCGI: CONTENT_LENGTH=-1 is no length, read to the end of stdin' '
	head -c 100000 /dev/zero | tr "\0" x >pad &&
	{ printf "{\"event\":\"assets.updated\",\"pad\":\"" &&
	  cat pad && printf "\"}"; } >long.json &&
	python3 "$SRCDIR/tests/fcgi-stream.py" "$FCGI_SOCKET" --record 999 \
		REQUEST_METHOD=POST REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=-1 \
		GATEWAY_INTERFACE=CGI/1.1 \
		HTTP_X_WEBHOOK_SIGNATURE="$(test_hmac_hex "$SECRET" long.json)" \
		<long.json >out 2>err &&
	sed "1,/^\r$/d" out >body &&
	expect_status 200 &&
	test_cmp long.json "spool/assets/new/$(answer_id).json"
'

test_expect_success 'FastCGI: CONTENT_LENGTH=-1 past MAX_BODY is 413' '
	python3 "$SRCDIR/tests/fcgi-stream.py" "$FCGI_SOCKET" \
		REQUEST_METHOD=POST REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=-1 \
		GATEWAY_INTERFACE=CGI/1.1 MAKINI_WEBHOOK_MAX_BODY=50000 \
		HTTP_X_WEBHOOK_SIGNATURE="$(test_hmac_hex "$SECRET" long.json)" \
		<long.json >out 2>err &&
	expect_status 413
'

test_expect_success 'FastCGI: another negative length is still 411' '
	python3 "$SRCDIR/tests/fcgi-stream.py" "$FCGI_SOCKET" \
		REQUEST_METHOD=POST REMOTE_ADDR=127.0.0.1 CONTENT_LENGTH=-2 \
		GATEWAY_INTERFACE=CGI/1.1 <event.json >out 2>err &&
	expect_status 411
'

CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_FSYNC=0"

test_expect_success 'CGI: CONTENT_LENGTH=-1 without a marked end stays 411' '
	test_files_in spool >before &&
	cgi_post event.json CONTENT_LENGTH=-1 &&
	expect_status 411 &&
	test_files_in spool >after &&
	test_cmp before after
'

test_expect_success 'CGI: CONTENT_LENGTH=-1 with a dechunked body reads to its end' '
	cgi_post long.json CONTENT_LENGTH=-1 HTTP_TRANSFER_ENCODING=chunked &&
	expect_status 200 &&
	test_cmp long.json "spool/assets/new/$(answer_id).json"
'

test_expect_success 'CGI: LOG=FILE takes the line, standard error stays empty' '
	cgi_post event.json MAKINI_WEBHOOK_LOG="$TRASH/cgi.log" &&
	expect_status 200 &&
	test_cmp /dev/null err &&
	grep -Ex "${STAMP}$LINE $(answer_id) [0-9]+\.[0-9]{3}ms" cgi.log
'

test_done
