#!/bin/sh
# See LICENSE file for copyright and license details.
# docs/hooks.md's example hook, exactly as written, in queue mode against a
# local stand-in for the Makini API.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"

mkdir hooks api export
sed -n '/^<!-- example-hook -->$/,/^<!-- \/example-hook -->$/p' \
	"$SRCDIR/docs/hooks.md" | sed '1,2d;$d' | sed '$d' >hooks/work_orders
chmod +x hooks/work_orders
printf '{"id":"wo-1","title":"Replace pump seal"}' >api/wo-1
printf '{"id":"wo-2","title":"Inspect valve"}' >api/wo-2

# The stand-in answers GET /work_orders/<id> with api/<id> when the bearer
# token is right, 401 when not, 404 for unknown records.
cat >api.py <<'PY'
import http.server, os, sys
class Api(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        path = os.path.join("api", parts[-1])
        if self.headers.get("Authorization") != "Bearer t0ken":
            self.send_response(401); self.end_headers(); return
        if len(parts) != 2 or parts[0] != "work_orders" or not os.path.isfile(path):
            self.send_response(404); self.end_headers(); return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Api)
server.serve_forever()
PY
port=$(test_free_port)
python3 api.py "$port" &
echo $! >api.pid
test_at_exit 'kill "$(cat "$TRASH/api.pid")" 2>/dev/null'

QUEUE_ENV="MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=$TRASH/hooks MAKINI_WEBHOOK_SPOOL=$TRASH/spool MAKINI_WEBHOOK_HOOK_ENV=MAKINI_API_URL,MAKINI_API_TOKEN,EXPORT_DIR"
# Posted in spool mode, which stores events as queue mode does but starts
# no runner: the cases choose when the hook runs, through drain.
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_HOOKS=$TRASH/hooks"
drain() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV MAKINI_API_URL="http://127.0.0.1:$port" \
		EXPORT_DIR="$TRASH/export" "$@" "$BIN" drain >drain.out 2>drain.err
}

test_expect_success 'the example hook was taken from docs/hooks.md' '
	head -n 1 hooks/work_orders | grep -qx "#!/bin/sh" &&
	grep -q "jq -r" hooks/work_orders
'

test_expect_success 'the stand-in API is up' '
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1
	done
'

test_expect_success 'it fetches every record of the event' '
	printf "{\"event\":\"workOrders.updated\",\"body\":[\"wo-1\",\"wo-2\"]}" >e.json &&
	cgi_post e.json && expect_status 200 && id=$(answer_id) &&
	drain MAKINI_API_TOKEN=t0ken && grep -q "1 done" drain.out &&
	test_cmp api/wo-1 export/work_orders/wo-1.json &&
	test_cmp api/wo-2 export/work_orders/wo-2.json &&
	grep -q "hook work_orders: fetched work_orders.updated $id" drain.err &&
	[ -f "spool/work_orders/cur/$id.json" ]
'

test_expect_success 'an API refusal fails the attempt, and the event waits' '
	printf "{\"event\":\"workOrders.inserted\",\"body\":[\"wo-1\"]}" >e.json &&
	cgi_post e.json && id=$(answer_id) &&
	drain MAKINI_API_TOKEN=wrong && grep -q "1 to retry" drain.out &&
	grep -q "exited with status" "spool/work_orders/new/$id.state" &&
	drain MAKINI_API_TOKEN=t0ken MAKINI_WEBHOOK_RETRY_DELAY=0 &&
	grep -q "0 done" drain.out &&
	rm "spool/work_orders/new/$id.state" &&
	drain MAKINI_API_TOKEN=t0ken && grep -q "1 done" drain.out
'

test_done
