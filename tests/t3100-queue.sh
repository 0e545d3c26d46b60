#!/bin/sh
# See LICENSE file for copyright and license details.
# Queue mode: events are stored and acknowledged first, then their hooks run
# from the spool, with retries, backoff, failed/, and the operator's verbs.
# Every case starts from an empty spool and sets up what it needs, so that
# any one runs alone (--run=N).
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

printf '{"event":"workOrders.updated","body":["wo-9"]}' >event.json

# A hook that logs its attempt and event, and fails while seen/fail-<N>
# exists for its attempt N.
work_orders_hook() {
	write_hook work_orders <<-HOOK
	#!/bin/sh
	echo "\$MAKINI_EVENT_ID \$MAKINI_ATTEMPT" >>"$TRASH/seen/runs"
	cat >"$TRASH/seen/stdin"
	echo "\$MAKINI_EVENT_FILE" >"$TRASH/seen/file"
	echo "\$MAKINI_DELIVERY_KEY" >"$TRASH/seen/key"
	[ ! -e "$TRASH/seen/fail-\$MAKINI_ATTEMPT" ]
	HOOK
}

test_expect_success 'the event is stored and acknowledged before its hook runs' '
	queue_fresh && work_orders_hook && echo "sleep 1" >>hooks/work_orders &&
	cgi_post event.json $QUEUE_ENV && expect_status 200 && id=$(answer_id) &&
	test_cmp event.json "$(ls spool/work_orders/new/$id.json*)" &&
	for _ in $(seq 50); do
		[ -f "spool/work_orders/cur/$id.json" ] && break; sleep 0.1
	done &&
	test_cmp event.json "spool/work_orders/cur/$id.json" &&
	echo "$id 1" >expect && test_cmp expect seen/runs
'

test_expect_success 'drain runs it from its claim in new/ and moves it to cur/' '
	queue_fresh && work_orders_hook &&
	cgi_post event.json && id=$(answer_id) &&
	drain && grep -q "^drain: 1 done" drain.out &&
	echo "$id 1" >expect && test_cmp expect seen/runs &&
	test_cmp event.json seen/stdin &&
	grep -qx "$TRASH/spool/work_orders/new/$id.json.claim.$(hostname).[0-9]*.[0-9a-f]*" seen/file &&
	test_cmp event.json "spool/work_orders/cur/$id.json" &&
	[ -z "$(ls -A spool/work_orders/new)" ] &&
	grep -q "queue $id: claimed on $(hostname) (pid [0-9]*), attempt 1, hook work_orders" drain.err &&
	grep -q "queue $id: done, moved to cur/" drain.err
'

test_expect_success 'the delivery key names the stored event: equal bytes stored twice, two keys' '
	queue_fresh && work_orders_hook &&
	cgi_post event.json && id1=$(answer_id) && drain && cp seen/key key1 &&
	cgi_post event.json && id2=$(answer_id) && drain && cp seen/key key2 &&
	[ "$id1" != "$id2" ] &&
	echo "$id1" >expect && test_cmp expect key1 &&
	echo "$id2" >expect && test_cmp expect key2 &&
	[ "$(wc -l <seen/runs)" = 2 ]
'

test_expect_success 'the delivery key is the same on every attempt of one stored event' '
	queue_fresh && work_orders_hook && touch seen/fail-1 &&
	cgi_post event.json && id=$(answer_id) &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && cp seen/key key1 &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && cp seen/key key2 &&
	echo "$id" >expect && test_cmp expect key1 && test_cmp expect key2 &&
	printf "%s 1\n%s 2\n" "$id" "$id" >expect && test_cmp expect seen/runs
'

test_expect_success 'a hook that fails twice is retried, then the event is done' '
	queue_fresh && work_orders_hook && touch seen/fail-1 seen/fail-2 &&
	cgi_post event.json && id=$(answer_id) &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && grep -q "1 to retry" drain.out &&
	grep -qx "attempts 1" "spool/work_orders/new/$id.state" &&
	grep -q "^error hook work_orders exited with status 1" "spool/work_orders/new/$id.state" &&
	grep -q "queue $id: attempt 1 failed, next try in 0s" drain.err &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 &&
	grep -qx "attempts 2" "spool/work_orders/new/$id.state" &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && grep -q "1 done" drain.out &&
	printf "%s 1\n%s 2\n%s 3\n" "$id" "$id" "$id" >expect &&
	test_cmp expect seen/runs &&
	test_cmp event.json "spool/work_orders/cur/$id.json" &&
	[ -z "$(ls -A spool/work_orders/new)" ]
'

test_expect_success 'a failed attempt waits for its backoff, and drain says not due yet' '
	queue_fresh && work_orders_hook && touch seen/fail-1 &&
	cgi_post event.json && id=$(answer_id) &&
	before=$(date +%s) &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=100 &&
	next=$(sed -n "s/^next //p" "spool/work_orders/new/$id.state") &&
	[ "$next" -ge $((before + 100)) ] && [ "$next" -le $(($(date +%s) + 100)) ] &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=100 &&
	grep -q "^drain: 0 done, 0 to retry, 0 failed for good, 1 not due yet" drain.out &&
	[ "$(wc -l <seen/runs)" = 1 ]
'

test_expect_success 'after MAX_ATTEMPTS the event moves to failed/ with its error' '
	queue_fresh && work_orders_hook && touch seen/fail-1 seen/fail-2 &&
	cgi_post event.json && id=$(answer_id) &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 MAKINI_WEBHOOK_MAX_ATTEMPTS=2 &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 MAKINI_WEBHOOK_MAX_ATTEMPTS=2 &&
	grep -q "1 failed for good" drain.out &&
	test_cmp event.json "spool/work_orders/failed/$id.json" &&
	grep -q "exited with status 1" "spool/work_orders/failed/$id.error" &&
	grep -q "gave up after 2 attempts, moved to failed/" drain.err &&
	[ -z "$(ls -A spool/work_orders/new)" ]
'

# Two failed events of work_orders and one of sites, for the retry cases.
make_failed() {
	queue_fresh && work_orders_hook && touch seen/fail-1 &&
	write_hook sites <<-"HOOK" &&
	#!/bin/sh
	exit 3
	HOOK
	cgi_post event.json && cgi_post event.json &&
	printf "{\"event\":\"sites.updated\"}" >site.json && cgi_post site.json &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 && grep -q "3 failed for good" drain.out &&
	rm seen/fail-1 seen/runs
}

test_expect_success 'retry moves every failed event back, its error and state gone' '
	make_failed &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry >out &&
	echo "retry: 3 events back to pending" >expect && test_cmp expect out &&
	[ -z "$(ls -A spool/work_orders/failed)$(ls -A spool/sites/failed)" ] &&
	[ "$(ls spool/work_orders/new | wc -l)" = 2 ] &&
	[ "$(ls spool/sites/new)" = "$(only_id spool/sites/new).json" ] &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 &&
	[ "$(wc -l <seen/runs)" = 2 ] && grep -q " 1$" seen/runs &&
	[ "$(ls spool/work_orders/cur | wc -l)" = 2 ]
'

test_expect_success 'retry TYPE and retry ID move only what they name' '
	make_failed &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry sites >out &&
	grep -qx "retry: 1 event back to pending" out &&
	[ "$(ls spool/work_orders/failed | wc -l)" = 4 ] &&
	id=$(ls spool/work_orders/failed | sed -n "s/\.json$//p" | head -n 1) &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry "$id" >out &&
	grep -qx "retry: 1 event back to pending" out &&
	[ -f "spool/work_orders/new/$id.json" ] &&
	[ ! -e "spool/work_orders/failed/$id.error" ] &&
	[ "$(ls spool/work_orders/failed | wc -l)" = 2 ] &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry no-such-id 2>err &&
	grep -q "no failed or waiting event no-such-id" err
'

test_expect_success 'replay ID queues a finished event again' '
	queue_fresh && work_orders_hook &&
	cgi_post event.json && id=$(answer_id) && drain &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" replay "$id" >out &&
	grep -qx "replay: 1 event back to pending" out &&
	test_cmp event.json "spool/work_orders/new/$id.json" &&
	[ -z "$(ls -A spool/work_orders/cur)" ] &&
	drain && printf "%s 1\n%s 1\n" "$id" "$id" >expect &&
	test_cmp expect seen/runs &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" replay 2>err &&
	grep -q "replay needs an id" err &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" replay work_orders 2>err &&
	[ -f "spool/work_orders/cur/$id.json" ]
'

test_expect_success 'an event without a hook moves to cur/ untouched' '
	queue_fresh &&
	printf "{\"event\":\"sites.updated\"}" >site.json &&
	cgi_post site.json && id=$(answer_id) &&
	drain && grep -q "no hook, moved to cur/" drain.err &&
	test_cmp site.json "spool/sites/cur/$id.json"
'

test_expect_success 'status counts new, cur and failed per type, with dates and ages, and exits 1 for the failed one' '
	queue_fresh && work_orders_hook && touch seen/fail-1 &&
	cgi_post event.json && drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 &&
	rm seen/fail-1 && cgi_post event.json && drain &&
	cgi_post event.json &&
	printf "{\"event\":\"sites.updated\"}" >site.json &&
	cgi_post site.json && drain &&
	cgi_post event.json &&
	{ env -i PATH="$PATH" $QUEUE_ENV "$BIN" status >out; [ $? = 1 ]; } &&
	cat out &&
	grep -q "^type  *new  *running  *cur  *failed  *oldest pending$" out &&
	grep -q "^work_orders  *1  *0  *2  *1  *20[0-9-]* [0-9:]*Z ([0-9]*s ago)$" out &&
	grep -q "^sites  *0  *0  *1  *0  *-$" out &&
	{ env -i PATH="$PATH" $QUEUE_ENV "$BIN" status --json >out; [ $? = 1 ]; } &&
	python3 -c "import json,time
t = json.load(open(\"out\"))[\"types\"]
w = t[\"work_orders\"]
assert (w[\"new\"], w[\"running\"], w[\"cur\"], w[\"failed\"]) == (1, 0, 2, 1), w
assert 0 <= w[\"oldest_pending_seconds\"] < 60, w
assert abs(w[\"oldest_pending\"] - time.time()) < 60, w
assert t[\"sites\"] == {\"new\": 0, \"running\": 0, \"cur\": 1, \"failed\": 0, \"oldest_pending\": None, \"oldest_pending_seconds\": None}, t"
'

# An event pending, so that the spool exists: drain would refuse a missing
# spool before it looked at the mode.
test_expect_success 'drain refuses to run outside queue mode' '
	queue_fresh && cgi_post event.json && expect_status 200 &&
	test_must_fail env -i PATH="$PATH" MAKINI_WEBHOOK_SPOOL="$TRASH/spool" \
		"$BIN" drain 2>err &&
	grep -q "queue mode" err
'

test_expect_success 'check warns of a HOOK_ENV name that is not set' '
	queue_fresh &&
	env -i PATH="$PATH" $QUEUE_ENV MAKINI_WEBHOOK_SECRET=s SET_ONE=1 \
		MAKINI_WEBHOOK_HOOK_ENV=SET_ONE,PGHOST "$BIN" check >out &&
	grep -qx "warning: PGHOST, named in MAKINI_WEBHOOK_HOOK_ENV, is not set here, so hooks will not get it" out &&
	! grep -q "warning: SET_ONE" out
'

test_expect_success 'unknown arguments are errors with a usage line' '
	queue_fresh &&
	printf x >x.json &&
	test_must_fail env -i PATH="$PATH" MAKINI_WEBHOOK_SECRET=s "$BIN" sign x.json <x.json >out 2>err &&
	grep -q "sign: unexpected argument .x.json." err && grep -q "^usage:" err &&
	[ ! -s out ] &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" drain --later 2>err &&
	grep -q "unexpected argument .--later." err &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" status --yaml 2>err &&
	grep -q "unexpected argument .--yaml." err &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry a b 2>err &&
	grep -q "unexpected argument .b." err
'

test_done
