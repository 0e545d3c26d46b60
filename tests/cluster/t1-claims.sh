#!/bin/sh
# See LICENSE file for copyright and license details.
# Queue claims on a real distributed file system: two FUSE mounts of one
# GlusterFS volume (tests/cluster-lib.sh) stand in for two hosts sharing a
# spool, and each drain runs in a UTS namespace of its own, so that it has
# its own host name, as claims name their runner by it. Drains race over
# many events; a drain dies during a hook and its claim is taken over only
# once its heartbeat is older than MAKINI_WEBHOOK_CLAIM_TIMEOUT; a live
# claim is never taken over. Hook runs are logged on local disk, not on
# the volume under test.
. "$(dirname "$0")/../test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/cluster-lib.sh"

reason=$(cluster_skip_reason)
if [ -n "$reason" ]; then
	test_skip "the cluster tests: $reason"
	test_done
fi

# Figures worth quoting go to the script's output, also from inside a case,
# whose own output is kept only when it fails.
exec 3>&1
figure() {
	echo "# $*" >&3
}

cluster_up || {
	test_expect_success 'the volume comes up' 'false'
	test_done
}
test_failure_hook() {
	for f in drain-*.err; do
		[ -f "$f" ] && tail -n 3 "$f" | sed "s/^/#   ${f%.err}: /"
	done
	cluster_log_errors
}

mkdir hooks
CGI_CONFIG="MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_FSYNC=0"
QUEUE_ENV="MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=$TRASH/hooks"
RUNS=$TRASH/runs

# A hook that logs each run, with the host name and its own pid (also its
# process group's), then sleeps for HOOK_SLEEP seconds when asked to.
cat >hooks/materials <<HOOK
#!/bin/sh
read -r host </proc/sys/kernel/hostname
echo "\$MAKINI_EVENT_ID \$host \$\$" >>"$RUNS"
[ "\${HOOK_SLEEP:-0}" = 0 ] || exec sleep "\$HOOK_SLEEP"
HOOK
chmod +x hooks/materials
# shellcheck disable=SC2034 # used inside the cases
SLEEPY="MAKINI_WEBHOOK_HOOK_ENV=HOOK_SLEEP MAKINI_WEBHOOK_HOOK_TIMEOUT=60"

# store SPOOL N: N events stored through the receiver as CGI, signed by it
# too for speed (the signing is tested elsewhere); their ids in ./ids.
store() {
	: >ids
	for i in $(seq "$2"); do
		printf '{"event":"materials.updated","n":%d}' "$i" >m.json
		sig=$(MAKINI_WEBHOOK_SECRET=$SECRET "$BIN" sign <m.json) &&
			cgi_request POST m.json HTTP_X_WEBHOOK_SIGNATURE="$sig" \
				MAKINI_WEBHOOK_SPOOL="$1" &&
			expect_status 200 || return 1
		answer_id >>ids
	done
}

# drain HOST SPOOL [VAR=value ...]: one drain of SPOOL as host HOST, in a
# UTS namespace of its own. Its pid lands in drain-HOST.pid before it
# starts, its output in drain-HOST.out, its log is added to drain-HOST.err.
drain() {
	host=$1 spool=$2
	shift 2
	# shellcheck disable=SC2086
	unshare -u sh -c 'hostname "$1" && echo $$ >"$2" && shift 2 && exec "$@"' \
		sh "$host" "drain-$host.pid" \
		env -i PATH="$PATH" $QUEUE_ENV MAKINI_WEBHOOK_SPOOL="$spool" "$@" \
		"$BIN" drain >"drain-$host.out" 2>>"drain-$host.err"
}

# Starts a case afresh: no hook runs logged, no drain log kept.
begin_case() {
	: >"$RUNS"
	rm -f drain-*.err
}

# Waits up to ten seconds for at least $1 hook runs in the log, while the
# drain whose pid is $2 still runs.
wait_for_runs() {
	for _ in $(seq 100); do
		[ "$(wc -l <"$RUNS")" -ge "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	[ "$(wc -l <"$RUNS")" -ge "$1" ] && return 0
	echo "fewer than $1 hook runs:"
	cat "$RUNS"
	return 1
}

# Fails unless spool $1 holds its events in cur/ only: none pending, none
# claimed, nothing in tmp/.
expect_only_done() {
	left=$(find "$1/materials" -type f ! -path "$1/materials/cur/*")
	[ -z "$left" ] || { echo "left outside cur/: $left"; return 1; }
}

# Fails unless event $2 is in cur/ of spool $1, and nothing else is left.
expect_done() {
	[ -f "$1/materials/cur/$2.json" ] || { echo "$2 not in cur/"; return 1; }
	expect_only_done "$1"
}

test_expect_success 'two drains on two mounts racing over 200 events run each exactly once' '
	begin_case && started=$(cluster_now) &&
	store "$CLUSTER_M1/race" 200 &&
	figure "stored 200 events as CGI through one mount in" \
		"$(cluster_since "$started") s" &&
	started=$(cluster_now) &&
	{ drain host-a "$CLUSTER_M1/race" & a=$!; } &&
	{ drain host-b "$CLUSTER_M2/race" & b=$!; } &&
	wait $a && wait $b &&
	took=$(cluster_since "$started") &&
	ran_a=$(grep -c " host-a " "$RUNS") && ran_b=$(grep -c " host-b " "$RUNS") &&
	figure "race: 200 events drained by two hosts in $took s" \
		"($(awk -v t="$took" "BEGIN { printf \"%.0f\", 200 / t }") events/s;" \
		"host-a ran $ran_a, host-b $ran_b)" &&
	[ "$(wc -l <"$RUNS")" = 200 ] &&
	cut -d" " -f1 "$RUNS" | sort >ran && sort ids >expect && test_cmp expect ran &&
	[ "$ran_a" -gt 0 ] && [ "$ran_b" -gt 0 ] &&
	[ "$(ls "$CLUSTER_M2/race/materials/cur" | wc -l)" = 200 ] &&
	expect_only_done "$CLUSTER_M2/race"
'

# A claim is a rename, and a rename keeps the file's mtime: the event's
# own, from when it was received. A fresh claim on an event received long
# ago must not look dead to another host, even for a moment: five times,
# host-a claims such an event and host-b drains again and again meanwhile.
test_expect_success 'drains racing with a short CLAIM_TIMEOUT over events received long ago run each once' '
	begin_case && : >all-ids &&
	for round in 1 2 3 4 5; do
		store "$CLUSTER_M1/old" 1 && cat ids >>all-ids &&
		touch -d "1 hour ago" "$CLUSTER_M1/old/materials/new/"*.json &&
		{ drain host-a "$CLUSTER_M1/old" MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 \
			HOOK_SLEEP=1 $SLEEPY & a=$!; } &&
		wait_for_runs $round $a || exit 1
		for _ in $(seq 100); do
			kill -0 $a 2>/dev/null || break
			drain host-b "$CLUSTER_M2/old" MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 ||
				{ cat drain-host-b.err; exit 1; }
		done
		wait $a || exit 1
	done &&
	sed "s/\$/ host-a/" all-ids >expect &&
	cut -d" " -f1,2 "$RUNS" >ran && test_cmp expect ran &&
	[ "$(ls "$CLUSTER_M2/old/materials/cur" | wc -l)" = 5 ] &&
	expect_only_done "$CLUSTER_M2/old"
'

test_expect_success 'a claim whose drain was killed is taken over after CLAIM_TIMEOUT, not before' '
	begin_case && store "$CLUSTER_M1/crash" 1 && id=$(cat ids) &&
	{ drain host-a "$CLUSTER_M1/crash" MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 \
		HOOK_SLEEP=60 $SLEEPY & a=$!; } &&
	wait_for_runs 1 $a &&
	# host-a is lost: its drain dies, and the hook with it.
	hook=$(cut -d" " -f3 "$RUNS") &&
	kill -9 "$(cat drain-host-a.pid)" && kill -9 "-$hook" &&
	{ wait $a || :; } && killed=$(cluster_now) &&
	test_process_gone "$hook" &&
	drain host-b "$CLUSTER_M2/crash" MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 &&
	# Quick enough that the claim cannot be stale yet.
	took=$(cluster_since "$killed") &&
	{ awk -v t="$took" "BEGIN { exit !(t < 1.5) }" ||
		{ echo "the first drain took until $took s: too late to tell"; exit 1; }; } &&
	[ "$(wc -l <"$RUNS")" = 1 ] &&
	for _ in $(seq 50); do
		drain host-b "$CLUSTER_M2/crash" MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 &&
		[ -f "$CLUSTER_M2/crash/materials/cur/$id.json" ] && break
		sleep 0.2
	done &&
	figure "a dead claim was taken over $(cluster_since "$killed") s after" \
		"its drain was killed (CLAIM_TIMEOUT=2)" &&
	printf "%s host-a\n%s host-b\n" "$id" "$id" >expect &&
	cut -d" " -f1,2 "$RUNS" >ran && test_cmp expect ran &&
	expect_done "$CLUSTER_M2/crash" "$id"
'

test_expect_success 'a claim whose hook is still running is never taken over' '
	begin_case && store "$CLUSTER_M1/live" 1 && id=$(cat ids) &&
	{ drain host-a "$CLUSTER_M1/live" MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 \
		HOOK_SLEEP=7 $SLEEPY & a=$!; } &&
	wait_for_runs 1 $a && started=$(cluster_now) && tries=0 &&
	# Drains on the other host all through the hook, well past the
	# timeout: the heartbeat keeps the claim.
	for _ in $(seq 100); do
		kill -0 $a 2>/dev/null || break
		drain host-b "$CLUSTER_M2/live" MAKINI_WEBHOOK_CLAIM_TIMEOUT=2 ||
			{ cat drain-host-b.err; exit 1; }
		tries=$((tries + 1))
		sleep 0.2
	done &&
	wait $a && grep -q "1 done" drain-host-a.out &&
	figure "$tries drains on host-b left a live claim alone for" \
		"$(cluster_since "$started") s" &&
	[ "$tries" -ge 10 ] &&
	printf "%s host-a\n" "$id" >expect &&
	cut -d" " -f1,2 "$RUNS" >ran && test_cmp expect ran &&
	expect_done "$CLUSTER_M2/live" "$id"
'

test_done
