#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped apache fcgid setup, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

server_cases apache fcgid &&

test_expect_success 'a body past FcgidMaxRequestLen: 500, the log says so' '
	limit=$(sed -n "s/^FcgidMaxRequestLen //p" "$SERVER_DIR/conf/makini-webhook.conf") &&
	test -n "$limit" &&
	head -c $((limit + 1)) /dev/zero | tr "\0" x >huge.json &&
	sc_post "$URL" huge.json "$(test_hmac_hex "$SECRET" huge.json)" &&
	sc_expect_code 500 &&
	grep -F "mod_fcgid: HTTP request length $((limit + 1)) (so far) exceeds MaxRequestLen ($limit)" \
		"$SERVER_DIR/log/error.log"
' &&

server_cases_stop
test_done
