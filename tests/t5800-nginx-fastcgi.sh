#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped nginx FastCGI setup (nginx/makini-webhook-fastcgi.conf, the
# receivers started by the spawn-fcgi script), run by the real server; and
# nginx's real_ip lines, which give ALLOW_FROM the client's address behind
# a proxy.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

command -v nginx >/dev/null || { echo "nginx is needed: run make deps"; exit 1; }

server_cases nginx fastcgi &&

test_expect_success 'no request line in nginx error.log: no FastCGI stderr there' '
	test -s "$SERVER_DIR/log/makini-webhook.log" &&
	! grep -F "makini-webhook: " "$SERVER_DIR/log/error.log" &&
	! grep -F "FastCGI sent in stderr" "$SERVER_DIR/log/error.log"
' &&

test_expect_success 'with real_ip, ALLOW_FROM sees the forwarded address' '
	server_stop "$SERVER_DIR" &&
	MAKINI_WEBHOOK_ALLOW_FROM=192.0.2.0/24 SV_PASS=MAKINI_WEBHOOK_ALLOW_FROM \
		SV_REAL_IP=1 server_start nginx fastcgi "$PORT" "$SERVER_DIR" &&
	grep -x "	set_real_ip_from 127.0.0.1;" "$SERVER_DIR/conf/makini-webhook.conf" &&
	sc_log_mark &&
	sc_event forwarded >forwarded.json &&
	sig=$(test_hmac_hex "$SECRET" forwarded.json) &&
	sc_post "$URL" forwarded.json "$sig" -H "X-Forwarded-For: 192.0.2.7" &&
	sc_expect_code 200 &&
	id=$(sed -n "s/.*\"id\": *\"\([^\"]*\)\".*/\1/p" answer) &&
	test_cmp forwarded.json "$SPOOL/assets/new/$id.json" &&
	test_files_in "$SPOOL" >before &&
	sc_post "$URL" forwarded.json "$sig" -H "X-Forwarded-For: 198.51.100.9" &&
	sc_expect_code 403 &&
	sc_post "$URL" forwarded.json "$sig" &&
	sc_expect_code 403 &&
	test_files_in "$SPOOL" >after &&
	test_cmp before after &&
	sc_log_expect \
		"192\.0\.2\.7 POST assets\.updated 200 $(printf "%s" "$id" | sed "s/\./\\\\./g")" \
		"198\.51\.100\.9 POST - 403 address not allowed" \
		"127\.0\.0\.1 POST - 403 address not allowed"
' &&

test_expect_success 'docs/deploy-nginx.md quotes the shipped files' '
	sc_doc_excerpts "$SRCDIR/docs/deploy-nginx.md" \
		"$SRCDIR"/nginx/makini-webhook-*.conf
' &&

server_cases_stop
test_done
