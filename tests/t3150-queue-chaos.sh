#!/bin/sh
# See LICENSE file for copyright and license details.
# Killing a runner, a drain or a hook at any moment loses nothing: events
# are delivered in queue mode while runners and drains are SIGKILLed at
# random, hooks fail at random, and afterwards every acknowledged event
# ends in cur/ exactly once. QUEUE_CHAOS_EVENTS sets how many (default 20;
# make check-reliability runs more).
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

EVENTS=${QUEUE_CHAOS_EVENTS:-20}
CHAOS_ENV="MAKINI_WEBHOOK_RETRY_DELAY=0 MAKINI_WEBHOOK_MAX_ATTEMPTS=1000 MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 MAKINI_WEBHOOK_HOOK_CONCURRENCY=2"
queue_fresh

# A hook that takes up to 0.3 s, fails one run in five, and records each
# success.
write_hook materials <<HOOK
#!/bin/sh
sleep 0.\$(( \$(od -An -N1 -tu1 /dev/urandom) % 4 ))
[ \$(( \$(od -An -N1 -tu1 /dev/urandom) % 5 )) = 0 ] && exit 1
echo "\$MAKINI_EVENT_ID" >>"$TRASH/seen/ok"
HOOK

# Our runners and drains: the bare binary, or the binary and "drain".
ours() {
	pgrep -f "^$BIN( drain)?\$"
}
test_at_exit 'for p in $(ours); do kill -9 "$p"; done'

test_expect_success "$EVENTS deliveries while runners and drains are killed at random" '
	n=0 &&
	while [ "$n" -lt "$EVENTS" ]; do
		n=$((n + 1))
		printf "{\"event\":\"materials.updated\",\"n\":%d}" "$n" >e.json
		cgi_post e.json $QUEUE_ENV $CHAOS_ENV MAKINI_WEBHOOK_FSYNC=0 &&
		expect_status 200 && answer_id >>acknowledged || return 1
		r=$(od -An -N1 -tu1 /dev/urandom | tr -d " ")
		if [ $((r % 3)) = 0 ]; then
			drain $CHAOS_ENV &
		fi
		if [ $((r % 2)) = 0 ]; then
			victim=$(ours | shuf -n 1)
			[ -z "$victim" ] || kill -9 "$victim" 2>/dev/null || :
		fi
		sleep "0.0$((r % 10))"
	done &&
	[ "$(wc -l <acknowledged)" = "$EVENTS" ]
'

test_expect_success 'then, after CLAIM_TIMEOUT, drains finish every event exactly once' '
	for p in $(ours); do kill -9 "$p" 2>/dev/null || :; done
	wait
	for _ in $(seq 12); do
		sleep 2.5
		drain $CHAOS_ENV || :
		[ -z "$(ls -A spool/materials/new)" ] && break
	done &&
	[ -z "$(ls -A spool/materials/new)" ] &&
	[ -z "$(ls -A spool/materials/failed)" ] &&
	ls spool/materials/cur | sed "s/\.json$//" | sort >done &&
	sort acknowledged >expect && test_cmp expect done &&
	sort -u seen/ok >ran && test_cmp expect ran &&
	[ -z "$(find spool/materials/tmp -name "*.json")" ] &&
	echo "# $(wc -l <seen/ok) successful hook runs for $EVENTS events, $(grep -c "returned to pending" spool/queue.log) claims returned from killed runners" >>figures
'
cat figures 2>/dev/null

test_done
