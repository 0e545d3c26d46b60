#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped HAProxy config's health check (haproxy/makini-webhook.cfg),
# run by the real HAProxy against the receiver's own health answers: a
# host that can store is up, also when its spool is almost full (a warning
# for the monitoring: hosts sharing a spool would all leave at once); a
# host whose spool or configuration is unusable is down. The cluster test
# (make check-cluster) runs the rest of the config.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"

command -v haproxy >/dev/null || { echo "haproxy is needed: run make deps"; exit 1; }

test_at_exit '[ -f "$TRASH/haproxy.pid" ] && kill $(cat "$TRASH/haproxy.pid") 2>/dev/null; pkill -f "^/usr/bin/python3 $TRASH/answer.py" 2>/dev/null'

# answer.py PORT STATUS BODY: answers every request with that status and
# body, as the receiver answered its GET.
cat >answer.py <<-\EOF
import http.server, sys
port, status, body = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Answer).serve_forever()
EOF

# health NAME [VAR=value ...]: the receiver's health answer under that
# configuration, kept as NAME.status and NAME.body.
health() {
	name=$1 && shift &&
	cgi_request GET /dev/null "$@" &&
	cgi_status >"$name.status" && cp body "$name.body"
}

test_expect_success 'the receiver answers its health checks: ok, almost full, unusable' '
	mkdir spool &&
	health ok MAKINI_WEBHOOK_SPOOL="$TRASH/spool" &&
	health full MAKINI_WEBHOOK_SPOOL="$TRASH/spool" MAKINI_WEBHOOK_MIN_FREE=1000000G &&
	: >not-a-directory &&
	health broken MAKINI_WEBHOOK_SPOOL="$TRASH/not-a-directory" &&
	health misconfigured MAKINI_WEBHOOK_SPOOL="$TRASH/spool" MAKINI_WEBHOOK_FSINC=1 &&
	cat *.status *.body &&
	[ "$(cat ok.status)" = 200 ] && [ "$(cat full.status)" = 503 ] &&
	[ "$(cat broken.status)" = 503 ] && [ "$(cat misconfigured.status)" = 503 ] &&
	grep -q "spool almost full" full.body && grep -q "spool unavailable" broken.body &&
	grep -q "server misconfigured" misconfigured.body
'

test_expect_success 'HAProxy keeps hosts that can store, almost full or not, and drops the others' '
	sed -e "/^[[:space:]]*server web/d" \
		-e "s/bind 192\\.0\\.2\\.10:80/bind 127.0.0.1:$(test_free_port)/" \
		"$SRCDIR/haproxy/makini-webhook.cfg" >haproxy.cfg &&
	stats=$(test_free_port) &&
	for name in ok full broken misconfigured; do
		port=$(test_free_port) &&
		{ /usr/bin/python3 "$TRASH/answer.py" "$port" "$(cat $name.status)" $name.body & } &&
		printf "\tserver %s 127.0.0.1:%s check inter 200ms fall 1 rise 1\n" "$name" "$port" >>haproxy.cfg ||
		return 1
	done &&
	cat >>haproxy.cfg <<-EOF &&
	listen stats
		mode http
		bind 127.0.0.1:$stats
		timeout client 5s
		timeout server 5s
		timeout connect 2s
		stats enable
		stats uri /stats
	EOF
	haproxy -c -f haproxy.cfg &&
	haproxy -f haproxy.cfg -D -p "$TRASH/haproxy.pid" &&
	for _ in $(seq 50); do
		curl -fsS "http://127.0.0.1:$stats/stats;csv" |
			awk -F, "\$1 == \"makini_receivers\" && \$2 != \"BACKEND\" { print \$2, \$18, \$37 }" |
			sort >checked &&
		[ "$(grep -c " L[0-9][A-Z]*$" checked)" = 4 ] && break
		sleep 0.2
	done &&
	cat checked && cut -d" " -f1,2 checked >states &&
	printf "broken DOWN\nfull UP\nmisconfigured DOWN\nok UP\n" >expect &&
	test_cmp expect states
'

test_done
