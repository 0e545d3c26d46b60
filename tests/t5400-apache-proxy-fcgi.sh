#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped apache proxy setup, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

server_cases apache proxy &&

# The comment on LimitRequestBody in the shipped file says so.
test_expect_success 'a body over LimitRequestBody reaches the receiver: its 413' '
	sc_log_mark &&
	head -c 3000000 /dev/zero | tr "\0" x >huge.json &&
	sc_post "$URL" huge.json "$(test_hmac_hex "$SECRET" huge.json)" &&
	sc_expect_code 413 &&
	grep "\"error\": *\"body too large\"" answer &&
	sc_log_expect "127\.0\.0\.1 POST - 413 body too large"
' &&

test_expect_success 'with the FastCGI service out of reach, 503 and the log says why' '
	sc_backend_gone
' &&

server_cases_stop
test_done
