#!/bin/sh
# See LICENSE file for copyright and license details.
# Queue mode under the shipped FastCGI setups: a burst of 20 deliveries with
# a hook that takes 3 s is answered as fast as the same burst with no hook,
# since hooks run in runners, never in a worker's accept loop.
. "$(dirname "$0")/test-lib.sh"
SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"

server_env_clear
SECRET=burst-secret
printf '%s' "$SECRET" >secret
SV_BIN=$BIN SV_SPOOL=$TRASH/spool SV_SECRET_FILE=$TRASH/secret
export MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS="$TRASH/hooks"
SV_PASS="MAKINI_WEBHOOK_MODE MAKINI_WEBHOOK_HOOKS"
mkdir hooks seen && chmod 777 seen
test_at_exit 'server_stop "$TRASH/server"; pkill -KILL -f "^$BIN\$" 2>/dev/null'
test_failure_hook() {
	server_logs "$TRASH/server" | sed 's/^/#   /'
}

# burst URL: 20 signed deliveries at once; prints the slowest answer's
# seconds. Every one must be a 200.
burst() {
	rm -f times codes
	for i in $(seq 20); do
		printf '{"event":"assets.updated","n":%d}' "$i" >"e$i.json"
		sig=$(test_hmac_hex "$SECRET" "e$i.json")
		curl -sS --max-time 30 -o /dev/null \
			-w '%{http_code} %{time_total}\n' \
			-H "X-Webhook-Signature: $sig" \
			--data-binary "@e$i.json" "$1" >>times &
	done
	wait
	[ "$(grep -c '^200 ' times)" = 20 ] || { cat times; return 1; }
	cut -d' ' -f2 times | sort -n | tail -n 1
}

for setup in "lighttpd fastcgi" "apache fcgid"; do
	server=${setup% *} via=${setup#* }
	test_expect_success "$setup: 20 deliveries with a 3-s hook are answered as fast as with none" '
		rm -rf spool hooks/* && port=$(test_free_port) &&
		server_start $server $via "$port" "$TRASH/server" &&
		url=$(server_url $server $via "$port") &&
		curl -sS -o /dev/null "$url" &&
		none=$(burst "$url") &&
		printf "#!/bin/sh\necho \$MAKINI_EVENT_ID >>$TRASH/seen/runs\nsleep 3\n" \
			>hooks/assets && chmod 755 hooks/assets &&
		slow=$(burst "$url") &&
		echo "# $server $via: slowest answer ${none}s without a hook, ${slow}s with a 3-s hook" >>figures &&
		python3 -c "import sys; sys.exit(not ($slow < $none + 0.5 and $slow < 1.5))" &&
		for _ in $(seq 50); do [ -s seen/runs ] && break; sleep 0.1; done &&
		[ -s seen/runs ] &&
		server_stop "$TRASH/server" && { pkill -KILL -f "^$BIN\$" || :; }
	'
done
cat figures 2>/dev/null

test_done
