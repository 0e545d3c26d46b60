#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped Caddy setup (caddy/Caddyfile, the receivers started by the
# spawn-fcgi script), run by the real server: Caddy 2.6 sends a chunked
# body with CONTENT_LENGTH=-1, which the receiver reads to the end of the
# FastCGI stream; the request lines reach the receiver's own log, which
# Caddy's FastCGI transport would otherwise drop.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

command -v caddy >/dev/null || { echo "caddy is needed: run make deps"; exit 1; }

server_cases caddy fastcgi &&

test_expect_success 'Caddy listens on 127.0.0.1 alone, and logs no request line' '
	test -s "$SERVER_DIR/log/makini-webhook.log" &&
	! grep -F "makini-webhook: " "$SERVER_DIR/log/caddy.log" &&
	! grep -F "\"level\":\"error\"" "$SERVER_DIR/log/caddy.log" &&
	! curl -s -o /dev/null --max-time 2 "http://[::1]:$PORT/makini-webhook"
' &&

test_expect_success 'a trickled chunked body is read to its end and stored' '
	sc_event trickled >trickled.json &&
	python3 - "$URL" trickled.json \
		"$(test_hmac_hex "$SECRET" trickled.json)" >answer <<-\EOF &&
	import socket, sys, time, urllib.parse
	url = urllib.parse.urlsplit(sys.argv[1])
	body = open(sys.argv[2], "rb").read()
	s = socket.create_connection((url.hostname, url.port), timeout=20)
	s.sendall(("POST %s HTTP/1.1\r\nHost: %s\r\nX-Webhook-Signature: %s\r\n"
	           "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	           % (url.path, url.netloc, sys.argv[3])).encode())
	for i in range(0, len(body), 300):
	    part = body[i:i + 300]
	    s.sendall(b"%x\r\n%s\r\n" % (len(part), part))
	    time.sleep(0.05)
	s.sendall(b"0\r\n\r\n")
	got = b""
	while True:
	    data = s.recv(65536)
	    if not data:
	        break
	    got += data
	sys.stdout.write(got.decode("utf-8", "replace"))
	EOF
	head -n 1 answer | grep "^HTTP/1.1 200" &&
	id=$(sed -n "s/.*\"id\": *\"\([^\"]*\)\".*/\1/p" answer) &&
	test_cmp trickled.json "$SPOOL/assets/new/$id.json"
' &&

# buffer_requests forwards a body cut at max_size as a whole one: past
# max_size it must still be the receiver's 413.
test_expect_success 'a chunked body past max_size gets 413, nothing stored' '
	test_files_in "$SPOOL" >before &&
	head -c 3000000 /dev/zero | tr "\0" x >huge.json &&
	sc_post "$URL" huge.json "$(test_hmac_hex "$SECRET" huge.json)" \
		-H "Transfer-Encoding: chunked" &&
	sc_expect_code 413 &&
	grep "\"error\": *\"body too large\"" answer &&
	test_files_in "$SPOOL" >after &&
	test_cmp before after
' &&

test_expect_success 'with the X-Real-IP line, ALLOW_FROM sees the forwarded address' '
	server_stop "$SERVER_DIR" &&
	MAKINI_WEBHOOK_ALLOW_FROM=192.0.2.0/24 SV_PASS=MAKINI_WEBHOOK_ALLOW_FROM \
		SV_REAL_IP=1 server_start caddy fastcgi "$PORT" "$SERVER_DIR" &&
	grep -x "				env REMOTE_ADDR {http.request.header.X-Real-IP}" \
		"$SERVER_DIR/conf/Caddyfile" &&
	sc_log_mark &&
	sc_event forwarded >forwarded.json &&
	sig=$(test_hmac_hex "$SECRET" forwarded.json) &&
	sc_post "$URL" forwarded.json "$sig" -H "X-Real-IP: 192.0.2.7" &&
	sc_expect_code 200 &&
	id=$(sed -n "s/.*\"id\": *\"\([^\"]*\)\".*/\1/p" answer) &&
	test_cmp forwarded.json "$SPOOL/assets/new/$id.json" &&
	test_files_in "$SPOOL" >before &&
	sc_post "$URL" forwarded.json "$sig" -H "X-Real-IP: 198.51.100.9" &&
	sc_expect_code 403 &&
	sc_post "$URL" forwarded.json "$sig" &&
	sc_expect_code 403 &&
	test_files_in "$SPOOL" >after &&
	test_cmp before after &&
	sc_log_expect \
		"192\.0\.2\.7 POST assets\.updated 200 $(printf "%s" "$id" | sed "s/\./\\\\./g")" \
		"198\.51\.100\.9 POST - 403 address not allowed" \
		"- POST - 403 address not allowed"
' &&

test_expect_success 'docs/deploy-caddy.md quotes the shipped Caddyfile' '
	sc_doc_excerpts "$SRCDIR/docs/deploy-caddy.md" "$SRCDIR/caddy/Caddyfile"
' &&

server_cases_stop
test_done
