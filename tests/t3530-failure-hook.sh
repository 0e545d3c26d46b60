#!/bin/sh
# See LICENSE file for copyright and license details.
#
# The failure hook: run once for each event moved to failed/, with the
# event on standard input and the reason and attempts in its environment;
# its own failure moves nothing; a runner killed while it runs does not
# run it again (at most once); the shipped example reaches a loopback
# HTTP server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

fail_hook() {
	write_hook "$1" <<-\EOF
	#!/bin/sh
	echo "the warehouse said no"
	exit 1
	EOF
}

notifier() {
	cat >"$TRASH/notify" <<-EOF &&
	#!/bin/sh
	{
		echo "\$MAKINI_EVENT_ID \$MAKINI_EVENT \$MAKINI_ATTEMPTS [\$MAKINI_FAILURE_REASON]"
		cat
		echo
	} >>"$TRASH/seen/notified"
	sleep ${1:-0}
	exit ${2:-0}
	EOF
	chmod +x "$TRASH/notify"
}

test_expect_success 'once per event moved to failed/, with its body, reason and attempts' '
	queue_fresh && fail_hook assets && notifier &&
	make_events 2 assets &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=2 MAKINI_WEBHOOK_RETRY_DELAY=0 \
		MAKINI_WEBHOOK_FAILURE_HOOK="$TRASH/notify" &&
	test ! -e seen/notified &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=2 MAKINI_WEBHOOK_RETRY_DELAY=0 \
		MAKINI_WEBHOOK_FAILURE_HOOK="$TRASH/notify" &&
	grep -q "2 failed for good" drain.out &&
	test "$(grep -c "^20.* assets.updated 2 \[hook assets exited with status 1\]$" seen/notified)" = 2 &&
	test "$(grep -c "^{\"event\":\"assets.updated\",\"n\":[12]}$" seen/notified)" = 2 &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=2 MAKINI_WEBHOOK_FAILURE_HOOK="$TRASH/notify" &&
	test "$(grep -c "^20" seen/notified)" = 2 &&
	test "$(ls "$SPOOL/assets/failed" | grep -c "\.json$")" = 2
'

test_expect_success 'a failing failure hook is logged and moves nothing' '
	queue_fresh && fail_hook assets && notifier 0 3 &&
	make_events 1 assets && id=$(only_id "$SPOOL/assets/new") &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 MAKINI_WEBHOOK_FAILURE_HOOK="$TRASH/notify" &&
	grep -q "failure hook failed (the event stays in failed/)" drain.err &&
	test -f "$SPOOL/assets/failed/$id.json" &&
	test -f "$SPOOL/assets/failed/$id.error" &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" metrics >metrics.out &&
	grep -q "^makini_webhook_failure_hook_runs_total{type=\"assets\",outcome=\"error\"} 1$" metrics.out
'

test_expect_success 'a dead claim written off runs it too' '
	queue_fresh && fail_hook assets && notifier &&
	make_events 1 assets && id=$(only_id "$SPOOL/assets/new") &&
	mv "$SPOOL/assets/new/$id.json" "$SPOOL/assets/new/$id.json.claim.gone.1.00" &&
	touch -d "1 hour ago" "$SPOOL/assets/new/$id.json.claim.gone.1.00" &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 MAKINI_WEBHOOK_FAILURE_HOOK="$TRASH/notify" &&
	grep -q "^$id assets.updated 1 \[its runner gone.1.00 stopped during the hook\]" seen/notified
'

test_expect_success 'killed while the failure hook runs: the event stays failed, and it does not run again' '
	queue_fresh && fail_hook assets && notifier 30 &&
	make_events 1 assets && id=$(only_id "$SPOOL/assets/new")
	(drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 MAKINI_WEBHOOK_FAILURE_HOOK="$TRASH/notify") &
	for _ in $(seq 100); do [ -s seen/notified ] && break; sleep 0.1; done &&
	test -s seen/notified &&
	pkill -KILL -f "^$BIN drain\$" &&
	pkill -KILL -f "$TRASH/notify" || :
	test -f "$SPOOL/assets/failed/$id.json" &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 MAKINI_WEBHOOK_FAILURE_HOOK="$TRASH/notify" &&
	test "$(grep -c "^$id" seen/notified)" = 1
'

test_expect_success 'the example posts a short message to a chat webhook on loopback' '
	queue_fresh && fail_hook orders &&
	port=$(test_free_port)
	python3 -c "
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers[\"Content-Length\"])
        open(\"chat.json\", \"wb\").write(self.rfile.read(n))
        self.send_response(200); self.end_headers(); self.wfile.write(b\"ok\")
    def log_message(self, *a): pass
s = http.server.HTTPServer((\"127.0.0.1\", $port), H)
s.timeout = 20
open(\"ready\", \"w\").close()
s.handle_request()
" &
	server=$!
	for _ in $(seq 100); do [ -e ready ] && break; sleep 0.1; done &&
	make_events 1 orders && id=$(only_id "$SPOOL/orders/new") &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 \
		MAKINI_WEBHOOK_FAILURE_HOOK="$SRCDIR/hooks/failed-chat" \
		MAKINI_WEBHOOK_HOOK_ENV=MAKINI_CHAT_WEBHOOK_URL \
		MAKINI_CHAT_WEBHOOK_URL="http://127.0.0.1:$port/hooks/abc" &&
	wait $server &&
	grep -q "failure hook done" drain.err &&
	jq -e --arg id "$id" ".text | contains(\$id) and contains(\"orders.updated\") and contains(\"after 1 attempts: hook orders exited with status 1\")" chat.json
'

test_done
