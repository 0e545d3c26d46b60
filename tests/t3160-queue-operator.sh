#!/bin/sh
# See LICENSE file for copyright and license details.
# Queue mode from the operator's side, after a hook was broken and fixed:
# waiting events run now (retry, drain --now), status tells per event
# what failed, when it runs next and what the hook said, and exits
# non-zero for a cron line or a monitoring check; a failed event keeps
# the hook's last lines of output.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

printf '{"event":"workOrders.updated","body":["wo-9"]}' >event.json
VERSION=$("$BIN" --version | sed 's/^makini-webhook //')

# A hook that records each attempt and fails, saying why on several
# lines, while seen/broken exists.
broken_hook() {
	write_hook work_orders <<-HOOK
	#!/bin/sh
	echo "\$MAKINI_EVENT_ID \$MAKINI_ATTEMPT" >>"$TRASH/seen/runs"
	[ -e "$TRASH/seen/broken" ] || exit 0
	for i in 1 2 3 4 5 6 7; do echo "line \$i of the hook's complaint"; done
	printf 'connect: refused\\tport 5432\\033[31m\\n' >&2
	exit 3
	HOOK
	touch "$TRASH/seen/broken"
}

# One stored event whose first attempt failed with the next try an hour
# away; its id in ./id.
one_waiting() {
	queue_fresh && broken_hook &&
	cgi_post event.json && id=$(answer_id) && echo "$id" >id &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=3600 &&
	grep -q "^drain: 0 done, 1 to retry" drain.out
}

# expect_code N COMMAND...: COMMAND exits with N.
expect_code() {
	want=$1 && shift
	"$@"
	got=$?
	[ "$got" = "$want" ] || { echo "exit $got, expected $want" >&2; return 1; }
}

# status [VAR=value...] [--json]: the status verb as cron would run it.
status() {
	json=
	for a; do [ "$a" = --json ] && json=--json; done
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV $(printf "%s\n" "$@" | grep =) \
		"$BIN" status $json
}

test_expect_success 'retry makes an event waiting for its backoff due now, its attempts cleared' '
	one_waiting && rm seen/broken &&
	drain && grep -q "^drain: 0 done, 0 to retry, 0 failed for good, 1 not due yet" drain.out &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry >out 2>err &&
	echo "retry: 0 events back to pending, 1 waiting event due now" >expect &&
	test_cmp expect out &&
	[ ! -e "spool/work_orders/new/$id.state" ] &&
	grep -q "queue $id: due now, its failed attempts cleared" spool/queue.log &&
	drain && grep -q "^drain: 1 done" drain.out &&
	printf "%s 1\n%s 1\n" "$id" "$id" >expect && test_cmp expect seen/runs &&
	test_cmp event.json "spool/work_orders/cur/$id.json"
'

test_expect_success 'retry ID and retry TYPE reach waiting events; another id is still an error' '
	one_waiting &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry "$id" >out &&
	grep -qx "retry: 0 events back to pending, 1 waiting event due now" out &&
	drain && grep -q "^drain: 0 done, 1 to retry, 0 failed for good, 0 not due yet" drain.out &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry work_orders >out &&
	grep -qx "retry: 0 events back to pending, 1 waiting event due now" out &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry 20990101T000000.000000Z-0000000000000000-00000001-updated 2>err &&
	grep -q "no failed or waiting event" err
'

test_expect_success 'drain --now runs waiting events whatever their backoff, and their attempts count' '
	one_waiting && rm seen/broken &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" drain --now >drain.out 2>drain.err &&
	grep -q "^drain: 1 done, 0 to retry, 0 failed for good, 0 not due yet" drain.out &&
	printf "%s 1\n%s 2\n" "$id" "$id" >expect && test_cmp expect seen/runs &&
	[ -f "spool/work_orders/cur/$id.json" ] &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" drain --later 2>err &&
	grep -q "unexpected argument" err
'

test_expect_success 'drain --now still moves an event to failed/ at MAX_ATTEMPTS' '
	one_waiting &&
	env -i PATH="$PATH" $QUEUE_ENV MAKINI_WEBHOOK_MAX_ATTEMPTS=2 "$BIN" drain --now >drain.out 2>drain.err &&
	grep -q "^drain: 0 done, 0 to retry, 1 failed for good" drain.out &&
	[ -f "spool/work_orders/failed/$id.json" ]
'

test_expect_success 'a failed event keeps the last lines of its hook output with its error' '
	one_waiting &&
	env -i PATH="$PATH" $QUEUE_ENV MAKINI_WEBHOOK_MAX_ATTEMPTS=2 "$BIN" drain --now >drain.out 2>drain.err &&
	cat >expect <<-EOF &&
	attempts 2
	error hook work_orders exited with status 3
	output line 4 of the hook'"'"'s complaint
	output line 5 of the hook'"'"'s complaint
	output line 6 of the hook'"'"'s complaint
	output line 7 of the hook'"'"'s complaint
	output connect: refused?port 5432?[31m
	EOF
	test_cmp expect "spool/work_orders/failed/$id.error"
'

test_expect_success 'a waiting event keeps them in its state, one line each, cut when long' '
	queue_fresh &&
	write_hook work_orders <<-HOOK &&
	#!/bin/sh
	head -c 600 /dev/zero | tr "\\\\0" x; echo
	printf "no newline at the end"
	exit 1
	HOOK
	cgi_post event.json && id=$(answer_id) &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=3600 &&
	sed -n "s/^output //p" "spool/work_orders/new/$id.state" >got &&
	cat got &&
	[ "$(wc -l <got)" -ge 2 ] &&
	[ "$(awk "{ if (length > n) n = length } END { print n }" got)" = 160 ] &&
	tail -n 1 got >last && echo "no newline at the end" >expect &&
	test_cmp expect last &&
	grep -qx "attempts 1" "spool/work_orders/new/$id.state" &&
	grep -q "^next [0-9]*$" "spool/work_orders/new/$id.state"
'

test_expect_success 'status lists a waiting event: attempts, next try as a date, last error, output' '
	one_waiting &&
	status >out &&
	cat out &&
	grep -qx "makini-webhook $VERSION, spool $TRASH/spool" out &&
	grep -q "^work_orders  *1  *0  *0  *0  " out &&
	grep -qx "failed attempts, to be tried again:" out &&
	grep -Eqx "  work_orders $id: 1 attempt, next try 20[0-9-]{8} [0-9:]{8}Z \\(in (59m [0-9]+s|1h 0m)\\)" out &&
	grep -qx "    error: hook work_orders exited with status 3" out &&
	grep -qx "    output: line 7 of the hook'"'"'s complaint" out &&
	! grep -q "^attention" out
'

test_expect_success 'status --json gives each such event with its fields, and the version' '
	one_waiting &&
	status --json >out &&
	python3 -c "import json, sys, time
s = json.load(open(\"out\"))
assert s[\"version\"] == sys.argv[1], s
assert s[\"attention\"] == [], s
[e] = s[\"events\"]
assert e[\"type\"] == \"work_orders\" and e[\"id\"] == sys.argv[2], e
assert e[\"state\"] == \"waiting\" and e[\"attempts\"] == 1, e
assert abs(e[\"next_try\"] - time.time() - 3600) < 60, e
assert 3500 < e[\"next_try_seconds\"] <= 3600, e
assert e[\"error\"] == \"hook work_orders exited with status 3\", e
assert e[\"output\"][-1] == \"connect: refused?port 5432?[31m\", e
assert len(e[\"output\"]) == 5, e
assert s[\"types\"][\"work_orders\"][\"new\"] == 1, s" "$VERSION" "$id"
'

test_expect_success 'status exits 1 and says why when an event failed for good' '
	one_waiting &&
	env -i PATH="$PATH" $QUEUE_ENV MAKINI_WEBHOOK_MAX_ATTEMPTS=2 "$BIN" drain --now >/dev/null 2>&1 &&
	[ -f "spool/work_orders/failed/$id.json" ] &&
	expect_code 1 status >out &&
	cat out &&
	grep -qx "failed for good:" out &&
	grep -qx "  work_orders $id: 2 attempts" out &&
	grep -qx "attention: 1 event failed for good: once the cause is fixed, '"'"'makini-webhook retry'"'"' queues it again" out &&
	expect_code 1 status --json >out &&
	python3 -c "import json
s = json.load(open(\"out\"))
[e] = s[\"events\"]
assert e[\"state\"] == \"failed\" and e[\"attempts\"] == 2 and e[\"next_try\"] is None, e
assert len(s[\"attention\"]) == 1, s" &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry >/dev/null &&
	status >out
'

test_expect_success 'status exits 1 when a pending event waits longer than OVERDUE_AGE' '
	queue_fresh &&
	cgi_post event.json && id=$(answer_id) &&
	status MAKINI_WEBHOOK_OVERDUE_AGE=1h >out &&
	sleep 2 &&
	expect_code 1 status MAKINI_WEBHOOK_OVERDUE_AGE=1 >out &&
	cat out &&
	grep -Eqx "attention: work_orders: the oldest pending event has waited [0-9]+s, longer than MAKINI_WEBHOOK_OVERDUE_AGE \\(1s\\)" out &&
	status MAKINI_WEBHOOK_OVERDUE_AGE=0 >out &&
	expect_code 2 status MAKINI_WEBHOOK_OVERDUE_AGE=soon 2>err &&
	grep -q "MAKINI_WEBHOOK_OVERDUE_AGE is not an age" err
'

test_expect_success 'status exits 2 when the spool cannot be read' '
	queue_fresh &&
	expect_code 2 env -i PATH="$PATH" MAKINI_WEBHOOK_MODE=queue \
		MAKINI_WEBHOOK_HOOKS="$TRASH/hooks" \
		MAKINI_WEBHOOK_SPOOL="$TRASH/no-such-spool" "$BIN" status 2>err &&
	grep -q "cannot read the spool" err
'

# The daily cron line of docs/operations.md, its command run by sh as cron
# would, the spool and the program swapped for the test's.
test_expect_success 'the documented cron line says nothing while all is well, and all when not' '
	queue_fresh &&
	sed -n "s/^  0 8 \* \* \* www-data //p" "$SRCDIR/docs/operations.md" >line &&
	[ "$(wc -l <line)" = 1 ] &&
	sed -e "s|/var/spool/makini-webhook|$TRASH/spool|" \
		-e "s|/usr/local/bin/makini-webhook|$BIN|" line >cron.sh &&
	cgi_post event.json &&
	env -i PATH="$PATH" sh cron.sh >out &&
	[ ! -s out ] &&
	mkdir -p spool/work_orders/failed &&
	mv spool/work_orders/new/*.json spool/work_orders/failed/ &&
	env -i PATH="$PATH" sh cron.sh >out &&
	grep -q "^attention: 1 event failed for good" out
'

test_done
