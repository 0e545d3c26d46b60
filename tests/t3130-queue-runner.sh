#!/bin/sh
# See LICENSE file for copyright and license details.
# Queue mode's runner: after the answer an event's hook runs in a detached
# process, under CGI and FastCGI alike, so no answer and no accept waits for
# a hook; HOOK_CONCURRENCY caps one hook's instances on a host; every line
# of a hook and of the runner lands in SPOOL/queue.log.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"
CGI_CONFIG="$CGI_CONFIG $QUEUE_ENV"

printf '{"event":"locations.updated"}' >loc.json

# wait_for COMMAND...: up to twenty seconds for COMMAND to succeed.
wait_for() {
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $*"
	return 1
}

# The FastCGI worker a case started ends with it, like its runners.
queue_fresh_runner() {
	fcgi_stop
	queue_fresh
}

# count_in DIR: how many event files DIR holds.
count_in() {
	ls "$1" 2>/dev/null | grep -c '\.json$'
}

test_expect_success 'under CGI the answer and its pipes close while the hook still runs' '
	queue_fresh_runner && recording_hook locations 3 &&
	start=$(date +%s.%N) &&
	# shellcheck disable=SC2086
	env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 \
		$CGI_CONFIG REQUEST_METHOD=POST CONTENT_LENGTH=$(wc -c <loc.json) \
		HTTP_X_WEBHOOK_SIGNATURE=$(test_hmac_hex "$SECRET" loc.json) \
		"$BIN" <loc.json 2>&1 | cat >out &&
	end=$(date +%s.%N) &&
	grep -q "^Status: 200" out &&
	python3 -c "import sys; d = $end - $start; print(\"# answered in %.3fs\" % d); sys.exit(d > 1.5)" &&
	wait_for test -s seen/runs &&
	[ "$(count_in spool/locations/cur)" = 0 ] &&
	wait_for test -f "spool/locations/cur/$(cut -d" " -f1 seen/runs).json"
'

test_expect_success 'under FastCGI the hook runs after the answer, with HOOK_ENV from the request, and leaves no zombie' '
	queue_fresh_runner && write_hook locations <<-HOOK &&
	#!/bin/sh
	sleep 1
	echo "\$SITE_NAME" >"$TRASH/seen/location-done"
	HOOK
	# shellcheck disable=SC2086
	fcgi_start MAKINI_WEBHOOK_SECRET="$SECRET" $QUEUE_ENV &&
	fcgi_post loc.json SITE_NAME=north MAKINI_WEBHOOK_HOOK_ENV=SITE_NAME &&
	expect_status 200 && id=$(answer_id) &&
	[ ! -e seen/location-done ] &&
	fcgi_post loc.json && expect_status 200 &&
	wait_for test -f "spool/locations/cur/$id.json" &&
	echo north >expect && test_cmp expect seen/location-done &&
	test_cmp loc.json "spool/locations/cur/$id.json" &&
	! ps -o stat= --ppid "$(cat fcgi.pid)" | grep -q Z &&
	wait_for sh -c "[ \$(ls spool/locations/cur | wc -l) = 2 ]"
'

test_expect_success 'every hook line and runner decision is in SPOOL/queue.log' '
	queue_fresh_runner && write_hook locations <<-"HOOK" &&
	#!/bin/sh
	echo "marker from the hook for $MAKINI_EVENT_ID"
	exit 1
	HOOK
	cgi_post loc.json MAKINI_WEBHOOK_MAX_ATTEMPTS=1 && id=$(answer_id) &&
	wait_for test -f "spool/locations/failed/$id.json" &&
	wait_for grep -q "gave up after 1 attempts" spool/queue.log &&
	grep -q "^20[0-9T:.-]*Z \[[0-9]*\] makini-webhook: queue $id: claimed on" spool/queue.log &&
	grep -q "makini-webhook: hook locations: marker from the hook for $id$" spool/queue.log &&
	grep -q "queue $id: gave up after 1 attempts, moved to failed/: hook locations exited with status 1" spool/queue.log &&
	! grep -q " POST " spool/queue.log
'

test_expect_success 'a daemonised spawn-fcgi (standard error /dev/null) still logs to queue.log' '
	queue_fresh_runner && recording_hook locations &&
	echo "echo spawn-fcgi marker" >>hooks/locations &&
	# shellcheck disable=SC2086
	env -i PATH="$PATH" MAKINI_WEBHOOK_SECRET="$SECRET" $QUEUE_ENV \
		spawn-fcgi -s "$FCGI_SOCKET" -F 1 -P "$TRASH/spawn.pid" -- "$BIN" \
		>/dev/null 2>&1 &&
	test_at_exit_pid=$(cat spawn.pid) &&
	fcgi_post loc.json && expect_status 200 && id=$(answer_id) &&
	wait_for grep -q "hook locations: spawn-fcgi marker" spool/queue.log &&
	wait_for test -f "spool/locations/cur/$id.json" &&
	kill "$test_at_exit_pid"
'

# A hook that records how many of its instances run at once, in
# seen/concurrency, one line per run.
counting_hook() {
	mkdir -p seen/running && chmod 777 seen seen/running &&
	write_hook "$1" <<-HOOK
	#!/bin/sh
	touch "$TRASH/seen/running/\$\$"
	ls "$TRASH/seen/running" | wc -l >>"$TRASH/seen/concurrency"
	sleep 0.4
	rm "$TRASH/seen/running/\$\$"
	HOOK
}

test_expect_success 'HOOK_CONCURRENCY=1 (the default): one instance at a time, oldest first' '
	queue_fresh_runner && counting_hook default &&
	echo "echo \$MAKINI_EVENT_ID >>$TRASH/seen/order" >>hooks/default &&
	for i in 1 2 3 4 5; do
		cgi_post loc.json && echo "$(answer_id)" >>seen/posted || return 1
	done &&
	(drain & drain & wait) &&
	wait_for sh -c "[ \$(ls spool/locations/cur | wc -l) = 5 ]" &&
	[ "$(sort -n seen/concurrency | tail -n 1)" = 1 ] &&
	test_cmp seen/posted seen/order
'

test_expect_success 'HOOK_CONCURRENCY=2 holds across runners and drains, and is reached' '
	queue_fresh_runner && counting_hook default &&
	printf "{\"event\":\"sites.updated\"}" >site.json &&
	# Six wait, stored without a runner, for three drains to start on at
	# once; two more come in queue mode meanwhile, with their runners.
	for i in 1 2 3; do
		cgi_post loc.json MAKINI_WEBHOOK_MODE=spool &&
		cgi_post site.json MAKINI_WEBHOOK_MODE=spool || return 1
	done &&
	(drain MAKINI_WEBHOOK_HOOK_CONCURRENCY=2 & drain MAKINI_WEBHOOK_HOOK_CONCURRENCY=2 &
	 drain MAKINI_WEBHOOK_HOOK_CONCURRENCY=2 &
	 cgi_post loc.json MAKINI_WEBHOOK_HOOK_CONCURRENCY=2 &&
	 cgi_post site.json MAKINI_WEBHOOK_HOOK_CONCURRENCY=2; wait) &&
	wait_for sh -c "[ \$(ls spool/locations/cur spool/sites/cur | grep -c json) = 8 ]" &&
	[ "$(wc -l <seen/concurrency)" = 8 ] &&
	[ "$(sort -n seen/concurrency | tail -n 1)" = 2 ]
'

test_expect_success 'a runner killed during its hook loses nothing: the next delivery takes it up' '
	queue_fresh_runner && recording_hook locations 30 &&
	cgi_post loc.json MAKINI_WEBHOOK_CLAIM_TIMEOUT=1 && first=$(answer_id) &&
	wait_for test -s seen/runs &&
	runner=$(pgrep -f "^$BIN" | head -n 1) && [ -n "$runner" ] &&
	kill -9 "$runner" && pkill -f "sleep 30" ; sleep 1.2 &&
	recording_hook locations &&
	cgi_post loc.json MAKINI_WEBHOOK_CLAIM_TIMEOUT=1 && second=$(answer_id) &&
	wait_for test -f "spool/locations/cur/$first.json" &&
	wait_for test -f "spool/locations/cur/$second.json" &&
	grep -q "^$first 2$" seen/runs &&
	[ "$(count_in spool/locations/new)" = 0 ]
'

test_expect_success 'a hook named like a runner slot (<type>.runner) does not lock its runner out' '
	queue_fresh_runner && recording_hook locations.runner &&
	printf "{\"event\":\"locations.runner\"}" >runner.json &&
	cgi_post runner.json && id=$(answer_id) &&
	wait_for test -f "spool/locations/cur/$id.json" &&
	echo "$id 1" >expect && test_cmp expect seen/runs
'

test_expect_success 'a runner with nothing left to do exits' '
	queue_fresh_runner && recording_hook locations &&
	cgi_post loc.json && id=$(answer_id) &&
	wait_for test -f "spool/locations/cur/$id.json" &&
	wait_for sh -c "! pgrep -f \"^$BIN\\\$\" >/dev/null"
'

test_done
