#!/bin/sh
# Queue mode: events are stored and acknowledged first, then their hooks run
# from the spool, through drain or after the answer under FastCGI, with
# retries, backoff, failed/, and claims that survive killed runners.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"

mkdir hooks seen
QUEUE_ENV="MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=$TRASH/hooks MAKINI_WEBHOOK_SPOOL=$TRASH/spool"
CGI_CONFIG="$CGI_CONFIG $QUEUE_ENV"
printf '{"event":"workOrders.updated","body":["wo-9"]}' >event.json

# drain: the verb as cron would run it, without the secret.
drain() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV "$@" "$BIN" drain >drain.out 2>drain.err
}

# A hook that logs its attempt and event, and fails while seen/fail-<N>
# exists for its attempt N.
cat >hooks/work_orders <<HOOK
#!/bin/sh
echo "\$MAKINI_EVENT_ID \$MAKINI_ATTEMPT" >>"$TRASH/seen/runs"
cat >"$TRASH/seen/stdin"
echo "\$MAKINI_EVENT_FILE" >"$TRASH/seen/file"
[ ! -e "$TRASH/seen/fail-\$MAKINI_ATTEMPT" ]
HOOK
chmod +x hooks/work_orders

test_expect_success 'the event is stored and acknowledged before its hook runs' '
	cgi_post event.json && expect_status 200 && id=$(answer_id) &&
	test_cmp event.json "spool/work_orders/new/$id.json" &&
	[ ! -e seen/runs ]
'

test_expect_success 'drain runs it from the spool and moves it to cur/' '
	id=$(ls spool/work_orders/new | sed "s/\.json$//") &&
	drain && grep -q "1 done" drain.out &&
	echo "$id 1" >expect && test_cmp expect seen/runs &&
	test_cmp event.json seen/stdin &&
	echo "$TRASH/spool/work_orders/new/$id.json" >expect &&
	test_cmp expect seen/file &&
	test_cmp event.json "spool/work_orders/cur/$id.json" &&
	[ -z "$(ls spool/work_orders/new)" ]
'

test_expect_success 'a hook that fails twice is retried, then the event is done' '
	rm -f seen/runs && touch seen/fail-1 seen/fail-2 &&
	cgi_post event.json && id=$(answer_id) &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && grep -q "1 to retry" drain.out &&
	grep -qx "attempts 1" "spool/work_orders/new/$id.state" &&
	grep -q "^error hook work_orders exited with status 1" "spool/work_orders/new/$id.state" &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 &&
	grep -qx "attempts 2" "spool/work_orders/new/$id.state" &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && grep -q "1 done" drain.out &&
	printf "%s 1\n%s 2\n%s 3\n" "$id" "$id" "$id" >expect &&
	test_cmp expect seen/runs &&
	test_cmp event.json "spool/work_orders/cur/$id.json" &&
	[ -z "$(ls spool/work_orders/new)" ] &&
	rm seen/fail-1 seen/fail-2
'

test_expect_success 'a failed attempt waits for its backoff' '
	rm -f seen/runs && touch seen/fail-1 &&
	cgi_post event.json && id=$(answer_id) &&
	before=$(date +%s) &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=100 &&
	next=$(sed -n "s/^next //p" "spool/work_orders/new/$id.state") &&
	[ "$next" -ge $((before + 100)) ] && [ "$next" -le $(($(date +%s) + 100)) ] &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=100 && grep -q "0 done.*1 skipped" drain.out &&
	[ "$(wc -l <seen/runs)" = 1 ] &&
	rm seen/fail-1 && rm "spool/work_orders/new/$id.state" &&
	drain && grep -q "1 done" drain.out
'

test_expect_success 'after MAX_ATTEMPTS the event moves to failed/ with its error' '
	touch seen/fail-1 seen/fail-2 &&
	cgi_post event.json && id=$(answer_id) &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 MAKINI_WEBHOOK_MAX_ATTEMPTS=2 &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 MAKINI_WEBHOOK_MAX_ATTEMPTS=2 &&
	grep -q "1 failed for good" drain.out &&
	test_cmp event.json "spool/work_orders/failed/$id.json" &&
	grep -q "exited with status 1" "spool/work_orders/failed/$id.error" &&
	[ -z "$(ls spool/work_orders/new)" ] &&
	rm seen/fail-1 seen/fail-2
'

test_expect_success 'a failed event moved back to new/ runs again' '
	id=$(ls spool/work_orders/failed | sed -n "s/\.json$//p") &&
	mv "spool/work_orders/failed/$id.json" spool/work_orders/new/ &&
	drain && grep -q "1 done" drain.out &&
	[ -f "spool/work_orders/cur/$id.json" ]
'

test_expect_success 'an event without a hook moves to cur/ untouched' '
	printf "{\"event\":\"sites.updated\"}" >site.json &&
	cgi_post site.json && id=$(answer_id) &&
	drain && grep -q "no hook, moved to cur/" drain.err &&
	test_cmp site.json "spool/sites/cur/$id.json"
'

test_expect_success 'status counts new, cur and failed per type' '
	touch seen/fail-1 &&
	cgi_post event.json &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 && rm seen/fail-1 &&
	cgi_post event.json &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" status >out &&
	grep -q "^work_orders  *1  *4  *1  *[0-9]*s$" out &&
	grep -q "^sites  *0  *1  *0  *-$" out &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" status --json >out &&
	python3 -c "import json,sys
t = json.load(open(\"out\"))[\"types\"]
assert t[\"work_orders\"][\"new\"] == 1 and t[\"work_orders\"][\"cur\"] == 4, t
assert t[\"work_orders\"][\"failed\"] == 1 and t[\"work_orders\"][\"oldest_pending_seconds\"] >= 0, t
assert t[\"sites\"] == {\"new\": 0, \"cur\": 1, \"failed\": 0, \"oldest_pending_seconds\": None}, t" &&
	drain
'

test_expect_success 'drain refuses to run outside queue mode' '
	test_must_fail env -i PATH="$PATH" MAKINI_WEBHOOK_SPOOL="$TRASH/spool" \
		"$BIN" drain 2>err &&
	grep -q "queue mode" err
'

# Many events for the race tests, stored through the receiver itself and
# signed by it too, for speed: the signing itself is tested elsewhere.
make_events() {
	rm -rf spool seen/runs
	for i in $(seq "$1"); do
		printf "{\"event\":\"materials.updated\",\"n\":%d}" "$i" >m.json
		sig=$(MAKINI_WEBHOOK_SECRET=$SECRET "$BIN" sign <m.json) &&
		cgi_request POST m.json HTTP_X_WEBHOOK_SIGNATURE="$sig" \
			MAKINI_WEBHOOK_FSYNC=0 &&
		expect_status 200 || return 1
	done
}

cat >hooks/materials <<HOOK
#!/bin/sh
echo "\$MAKINI_EVENT_ID" >>"$TRASH/seen/runs"
sleep \${HOOK_SLEEP:-0}
HOOK
chmod +x hooks/materials

test_expect_success 'two drains racing over 200 events run each exactly once' '
	make_events 200 &&
	(drain & drain & wait) &&
	[ "$(wc -l <seen/runs)" = 200 ] &&
	[ "$(sort -u seen/runs | wc -l)" = 200 ] &&
	[ "$(ls spool/materials/cur | wc -l)" = 200 ] &&
	[ -z "$(ls spool/materials/new)" ]
'

test_expect_success 'a drain killed mid-run loses nothing; the next one finishes' '
	make_events 30
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV HOOK_SLEEP=0.1 \
		MAKINI_WEBHOOK_HOOK_ENV=HOOK_SLEEP "$BIN" drain >/dev/null 2>&1 &
	pid=$! &&
	# Kill it while its third hook runs.
	for _ in $(seq 100); do
		[ "$(cat seen/runs 2>/dev/null | wc -l)" -ge 3 ] && break
		sleep 0.05
	done &&
	kill -9 $pid && { wait $pid || :; } &&
	ran_before=$(wc -l <seen/runs) &&
	[ "$ran_before" -ge 3 ] && [ "$ran_before" -lt 30 ] &&
	# The orphaned hook still holds its claim until it ends.
	sleep 0.3 && drain && drain &&
	[ "$(ls spool/materials/cur | wc -l)" = 30 ] &&
	[ -z "$(ls spool/materials/new)" ] &&
	[ "$(sort -u seen/runs | wc -l)" = 30 ]
'

test_expect_success 'under FastCGI the hook runs after the answer is sent' '
	cat >hooks/locations <<-HOOK &&
	#!/bin/sh
	sleep 1
	touch "$TRASH/seen/location-done"
	HOOK
	chmod +x hooks/locations &&
	# shellcheck disable=SC2086
	fcgi_start MAKINI_WEBHOOK_SECRET="$SECRET" $QUEUE_ENV &&
	printf "{\"event\":\"locations.updated\"}" >loc.json &&
	fcgi_post loc.json && expect_status 200 && id=$(answer_id) &&
	[ ! -e seen/location-done ] &&
	for _ in $(seq 50); do
		[ -f "spool/locations/cur/$id.json" ] && break; sleep 0.1
	done &&
	[ -e seen/location-done ] &&
	test_cmp loc.json "spool/locations/cur/$id.json" &&
	fcgi_post loc.json && expect_status 200
'

test_done
