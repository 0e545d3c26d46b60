# See LICENSE file for copyright and license details.
# Helpers for the queue tests, sourced after test-lib.sh and cgi-lib.sh.
#
#	queue_fresh         an empty spool, hooks/ and seen/ for one case
#	drain [VAR=value]   runs the drain verb as cron would: no secret;
#	                    its output in ./drain.out, its log in ./drain.err
#	make_events N TYPE  N signed events of TYPE.updated stored through
#	                    the receiver, numbered in their "n" member

QUEUE_ENV="MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=$TRASH/hooks MAKINI_WEBHOOK_SPOOL=$TRASH/spool"
# Events are posted in spool mode, which stores them exactly as queue mode
# does but starts no runner, so that a case decides when hooks run (with
# drain); t3130 tests the runner. QUEUE_POST="$QUEUE_ENV" posts in queue
# mode.
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_HOOKS=$TRASH/hooks"

# Runners a case started (queue mode's detached processes, whose command
# line is the bare binary) are ended first: they would write on into the
# next case's spool.
queue_fresh() {
	pkill -KILL -f "^$BIN\$" 2>/dev/null
	for _ in $(seq 50); do
		pgrep -f "^$BIN\$" >/dev/null || break
		sleep 0.1
	done
	rm -rf "$TRASH/spool" "$TRASH/hooks" "$TRASH/seen" &&
	mkdir "$TRASH/hooks" "$TRASH/seen"
}
test_at_exit 'pkill -KILL -f "^$BIN\$" 2>/dev/null'


drain() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV "$@" ${DRAIN_WRAP:-} "$BIN" drain \
		>drain.out 2>drain.err
}

# The one event file of a directory, without its .json.
only_id() {
	ls "$1" | sed -n 's/\.json$//p'
}

# Writes hook $1 in hooks/, from standard input, executable.
write_hook() {
	cat >"$TRASH/hooks/$1" && chmod +x "$TRASH/hooks/$1"
}

# Signed by the receiver itself, for speed: signing is tested elsewhere.
make_events() {
	for i in $(seq "$1"); do
		printf '{"event":"%s.updated","n":%d}' "$2" "$i" >m.json
		sig=$(MAKINI_WEBHOOK_SECRET=$SECRET "$BIN" sign <m.json) &&
		cgi_request POST m.json HTTP_X_WEBHOOK_SIGNATURE="$sig" \
			MAKINI_WEBHOOK_FSYNC=0 &&
		expect_status 200 || return 1
	done
}

# recording_hook NAME [SECONDS]: a hook that records each run's id and
# attempt in seen/runs, then sleeps.
recording_hook() {
	write_hook "$1" <<HOOK
#!/bin/sh
echo "\$MAKINI_EVENT_ID \$MAKINI_ATTEMPT" >>"$TRASH/seen/runs"
sleep ${2:-0}
HOOK
}
