#!/bin/sh
# See LICENSE file for copyright and license details.
# Queue claims across hosts: each drain runs in a UTS namespace of its own,
# with its own host name, as drains on several hosts sharing one spool do.
# An event runs exactly once at a time; a claim whose runner died is taken
# up again after CLAIM_TIMEOUT, and one whose hook still runs never is.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

if ! test_have_prereq UNSHARE; then
	test_skip 'host names of their own need root and unshare -u'
	test_done
fi

# drain_on HOST [VAR=value ...]: a drain whose host name is HOST; its
# output is added to ./drain.out, its log to ./drain.err.
drain_on() {
	host=$1
	shift
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV "$@" unshare -u \
		sh -c 'hostname "$1" && shift && exec "$@"' sh "$host" \
		"$BIN" drain >>drain.out 2>>drain.err
}

# The same in the background, its pid (the drain's own) in $drain_pid.
drain_on_in_background() {
	host=$1
	shift
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV "$@" unshare -u \
		sh -c 'hostname "$1" && shift && exec "$@"' sh "$host" \
		"$BIN" drain >>drain.out 2>>drain.err &
	drain_pid=$!
}

test_expect_success 'two drains on two hosts racing over 200 events run each exactly once' '
	queue_fresh && : >drain.out && : >drain.err && recording_hook materials &&
	make_events 200 materials &&
	(drain_on host-a & drain_on host-b & wait) &&
	[ "$(wc -l <seen/runs)" = 200 ] &&
	[ "$(cut -d" " -f1 seen/runs | sort -u | wc -l)" = 200 ] &&
	[ "$(ls spool/materials/cur | wc -l)" = 200 ] &&
	[ -z "$(ls -A spool/materials/new)" ] &&
	grep -q "host-a" drain.err && grep -q "host-b" drain.err
'

test_expect_success 'a killed drain'"'"'s event runs again on another host only after CLAIM_TIMEOUT' '
	queue_fresh && : >drain.out && : >drain.err && recording_hook materials 3 &&
	make_events 1 materials && id=$(only_id spool/materials/new) &&
	drain_on_in_background host-a MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 &&
	pid=$drain_pid &&
	for _ in $(seq 100); do [ -s seen/runs ] && break; sleep 0.05; done &&
	kill -9 $pid && { wait $pid || :; } && killed=$(date +%s.%N) &&
	ls spool/materials/new | grep -q "^$id.json.claim.host-a\." &&
	drain_on host-b MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 &&
	grep -q "1 running elsewhere" drain.out &&
	[ "$(wc -l <seen/runs)" = 1 ] &&
	for _ in $(seq 60); do
		drain_on host-b MAKINI_WEBHOOK_CLAIM_TIMEOUT=2
		[ "$(wc -l <seen/runs)" -ge 2 ] && break; sleep 0.1
	done &&
	rerun=$(date +%s.%N) &&
	python3 -c "import sys; d = $rerun - $killed; print(\"# taken up %.2fs after the kill\" % d); sys.exit(d < 1.4)" &&
	printf "%s 1\n%s 2\n" "$id" "$id" >expect && test_cmp expect seen/runs &&
	grep -q "queue $id: claim of host-a\.[0-9]*\.[0-9a-f]* has had no heartbeat for [0-9]*s, returned to pending" drain.err &&
	grep -q "1 returned from dead runners" drain.out &&
	for _ in $(seq 60); do [ -f "spool/materials/cur/$id.json" ] && break; sleep 0.1; done &&
	[ -z "$(ls -A spool/materials/new)" ]
'

test_expect_success 'a claim whose hook still runs keeps its heartbeat and is never taken over' '
	queue_fresh && : >drain.out && : >drain.err && recording_hook materials 4 &&
	make_events 1 materials && id=$(only_id spool/materials/new) &&
	drain_on_in_background host-a MAKINI_WEBHOOK_CLAIM_TIMEOUT=1 \
		MAKINI_WEBHOOK_HOOK_TIMEOUT=10 &&
	pid=$drain_pid &&
	for _ in $(seq 100); do [ -s seen/runs ] && break; sleep 0.05; done &&
	# Four times CLAIM_TIMEOUT passes while host-b keeps looking.
	for _ in $(seq 12); do
		drain_on host-b MAKINI_WEBHOOK_CLAIM_TIMEOUT=1; sleep 0.25
	done &&
	wait $pid &&
	echo "$id 1" >expect && test_cmp expect seen/runs &&
	[ -f "spool/materials/cur/$id.json" ] &&
	! grep -q "returned to pending" drain.err &&
	! grep -q "taken over" drain.err &&
	[ "$(grep -c "1 running elsewhere" drain.out)" -ge 10 ]
'

test_expect_success 'a claim planted with an old time and no runner is returned, and its attempt counted' '
	queue_fresh && : >drain.out && : >drain.err && recording_hook materials &&
	make_events 1 materials && id=$(only_id spool/materials/new) &&
	mv "spool/materials/new/$id.json" "spool/materials/new/$id.json.claim.gone.1.00" &&
	touch -d "-20 minutes" "spool/materials/new/$id.json.claim.gone.1.00" &&
	drain && grep -q "1 done" drain.out &&
	echo "$id 2" >expect && test_cmp expect seen/runs &&
	[ -f "spool/materials/cur/$id.json" ] && [ -z "$(ls -A spool/materials/new)" ]
'

# More entries than one getdents call returns (glibc reads 32 KiB at a
# time), so that claims returned to new/<id>.json during the walk can be
# listed again under that name, which the pass must not run twice.
test_expect_success 'returned claims mixed with pending events: one pass runs each id once' '
	queue_fresh && : >drain.out && : >drain.err &&
	make_events 1 materials && id=$(only_id spool/materials/new) &&
	python3 - "$id" spool/materials/new <<-\EOF &&
	import os, sys
	first, new = sys.argv[1], sys.argv[2]
	body = open(os.path.join(new, first + ".json"), "rb").read()
	for i in range(4000):
	    name = "20261206T040000.%06dZ-%016x-00000001-updated.json" % (i, i)
	    if i % 2:
	        name += ".claim.gone.1.00"
	    with open(os.path.join(new, name), "wb") as f:
	        f.write(body)
	    os.utime(os.path.join(new, name), (0, 0))
	EOF
	drain && grep -q "^drain: 4001 done, .*, 0 running elsewhere, 2000 returned" drain.out &&
	[ "$(ls spool/materials/cur | wc -l)" = 4001 ] &&
	[ -z "$(ls -A spool/materials/new)" ]
'

test_done
