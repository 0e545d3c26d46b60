#!/bin/sh
# See LICENSE file for copyright and license details.
# Several hosts behind a balancer, one spool on GlusterFS, end to end
# (tests/cluster-hosts.sh builds them, each host a network namespace of
# its own): a sender that behaves as Makini does posts changes through
# HAProxy to two web hosts running the shipped lighttpd FastCGI setup in
# queue mode, fsync on, their spool a GlusterFS volume replicated over
# three bricks on three hosts; hooks/postgresql stores the events in
# PostgreSQL. Midway one web host dies whole (SIGKILL of every process in
# it) and comes back, and one brick's server dies and comes back. Once the
# drains have settled: every change that got a 200 is a row, each stored
# event is a row exactly once, nothing is left pending, claimed or failed,
# and every change without a 200 is one the sender counted undelivered.
#
# CLUSTER_LONG=1 (make check-cluster-long) sends more changes, for longer,
# and loses each web host and two bricks in turn.
. "$(dirname "$0")/../test-lib.sh"
SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"
# Short: Unix sockets (PostgreSQL's, HAProxy's) live below it.
HOSTS_DIR=$TRASH/h
if [ ${#HOSTS_DIR} -gt 60 ]; then
	HOSTS_DIR=$(mktemp -d /tmp/makini-hosts.XXXXXX) &&
		chmod 0755 "$HOSTS_DIR" || exit 1
	# shellcheck disable=SC2016 # at exit
	test_at_exit 'rm -rf "$HOSTS_DIR"'
fi
HOSTS_BIN=$BIN
. "$SRCDIR/tests/cluster-hosts.sh"

reason=$(hosts_skip_reason)
if [ -n "$reason" ]; then
	test_skip "the balancer test: $reason"
	test_done
fi
server_env_clear

# BURST changes sent at once, then RATE a second for DURATION s, with the
# FAULTS ("seconds into the stream: what is lost"); SETTLE s at most for
# the drains to run what is left once the stream has ended.
if [ "${CLUSTER_LONG:-0}" = 1 ]; then
	BURST=400 RATE=6 DURATION=300 SETTLE=1800
	FAULTS="20 web1
80 gl2
140 web2
200 gl3
250 web1"
else
	BURST=100 RATE=5 DURATION=40 SETTLE=300
	FAULTS="8 web1
24 gl2"
fi
# Seconds a lost host or brick stays away.
DOWN=8
# Seconds the sender keeps trying one change (Makini's budget is longer).
BUDGET=90

exec 3>&1
figure() {
	echo "# $*" >&3
	echo "$*" >>"$TRASH/figures"
}
: >"$TRASH/figures"

test_failure_hook() {
	for f in "$HOSTS_DIR"/web*/lighttpd/log/error.log \
		"$HOSTS_DIR"/web*/drain.out "$HOSTS_DIR/lb/haproxy.log" \
		"$HOSTS_DIR"/web*/mount.log; do
		[ -s "$f" ] && tail -n 5 "$f" | sed "s|^|#   ${f#"$HOSTS_DIR"/}: |"
	done
	return 0
}

test_at_exit 'hosts_down'
test_expect_success 'the hosts come up: 3 bricks, 2 web hosts, HAProxy, PostgreSQL' '
	started=$(date +%s) &&
	hosts_up &&
	figure "hosts up in $(($(date +%s) - started)) s" &&
	[ "$(bricks_online)" = 3 ]
'
# Without the hosts, nothing else can be shown.
[ "$test_failed" = 0 ] || test_done

# The spool, as web2 sees it (web1's mount dies with web1).
SPOOL=$HOSTS_DIR/web2/spool

send() {
	mkdir -p "$1" &&
	host_run maker python3 "$SRCDIR/tests/cluster/sender.py" send \
		"$(lb_url)" "$HOSTS_DIR/secret" "$@" --budget "$BUDGET" \
		>"$1/summary" 2>"$1/err"
}
summary() {
	jq -r ".$2" "$1/summary"
}

test_expect_success 'a burst through the balancer: every change gets a 200' '
	send "$TRASH/burst" "$BURST" 0 --prefix burst &&
	figure "burst: $(summary burst delivered) changes, 16 at a time," \
		"$(summary burst per_second) events/s through HAProxy, fsync on" &&
	[ "$(summary burst delivered)" = "$BURST" ]
'

# web_down HOST N: HOST dies whole, once it holds a claim (within a few
# seconds); the time in killed-N.
web_down() {
	for _ in $(seq 50); do
		ls "$SPOOL"/*/new 2>/dev/null | grep "\.claim\.$1\." >"held-$2" &&
			break
		sleep 0.1
	done
	cluster_clock >"killed-$2"
	web_kill "$1"
}

# Runs the faults of FAULTS against the stream started at $1, each lost
# for DOWN s, writing "N what start back" lines to $TRASH/faults.
run_faults() {
	t0=$1 fault=0
	echo "$FAULTS" | while read -r at what; do
		fault=$((fault + 1))
		while [ "$(date +%s)" -lt $((t0 + at)) ]; do sleep 0.2; done
		start=$(cluster_clock)
		case $what in
		web*)
			web_down "$what" $fault || return 1
			start=$(cat "killed-$fault")
			sleep "$DOWN"
			web_start "$what" || return 1 ;;
		gl*)
			brick_kill "$what" && sleep "$DOWN" && brick_start ||
				return 1 ;;
		esac
		echo "$fault $what $start $(cluster_clock)"
	done >"$TRASH/faults"
}

cluster_clock() {
	date +%s.%N
}
# calc EXPR: EXPR's value, to one decimal.
calc() {
	awk "BEGIN { printf \"%.1f\", $1 }"
}

test_expect_success 'a steady stream, a web host and a brick lost and back midway' '
	n=$((RATE * DURATION)) &&
	{ send "$TRASH/stream" "$n" "$RATE" --prefix stream & sender=$!; } &&
	run_faults "$(date +%s)" &&
	wait $sender &&
	figure "stream: $n changes at $RATE/s, $(summary stream delivered)" \
		"delivered, $(summary stream undelivered) undelivered," \
		"$(summary stream attempts) attempts" &&
	[ "$(wc -l <"$TRASH/faults")" = "$(echo "$FAULTS" | wc -l)" ] &&
	for _ in $(seq 100); do
		[ "$(bricks_online)" = 3 ] && break
		sleep 0.2
	done &&
	[ "$(bricks_online)" = 3 ] && lb_servers_up
'

# Waits until nothing is pending or claimed, at most $1 seconds.
settled() {
	for _ in $(seq $(($1 * 2))); do
		[ -z "$(find "$SPOOL"/*/new -type f 2>/dev/null | head -n 1)" ] &&
			return 0
		sleep 0.5
	done
	echo "still pending after $1 s:"
	find "$SPOOL"/*/new -type f | head
	return 1
}

test_expect_success 'the drains settle: nothing left in new/, no claim, nothing in failed/' '
	started=$(date +%s) &&
	settled "$SETTLE" &&
	figure "drains settled $(($(date +%s) - started)) s after the stream ended" &&
	left=$(find "$SPOOL"/*/new "$SPOOL"/*/failed -type f 2>/dev/null) &&
	[ -z "$left" ] &&
	[ -z "$(find "$SPOOL" -name "*.claim.*" | head -n 1)" ] &&
	tmp=$(find "$SPOOL"/*/tmp -type f | wc -l) &&
	figure "files left in tmp/ by receivers killed mid-write: $tmp"
'

# takeovers HOST FROM TO: of the claims of HOST returned to pending by a
# live host between FROM and TO (epoch seconds), as queue.log says, the
# number and the time of the last.
takeovers() {
	cat "$SPOOL"/queue.log* | python3 -c 'import sys, datetime
host, since, until = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
n, last = 0, 0.0
for line in sys.stdin:
    if "claim of %s." % host not in line or "returned to pending" not in line:
        continue
    t = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
    if since <= t < until:
        n, last = n + 1, max(last, t)
print(n, last)' "$@"
}

# The figures of each fault: the longest time without any 200 from its
# start to 10 s after it was undone, and how long until a dead host's
# claims were returned to pending by a live host.
test_expect_success 'the pause each fault caused, and the claims taken over' '
	awk "{ print \$3 }" "$TRASH/faults" | sed 1d >next && echo 9e9 >>next &&
	paste "$TRASH/faults" next >faults-next &&
	while read -r n what start back until; do
		set -- $(python3 "$SRCDIR/tests/cluster/sender.py" gaps \
			"$TRASH/stream" "$start" "$(calc "$back + 10")") &&
		line="$what lost for $(calc "$back - $start") s:" &&
		line="$line longest time without a 200 $1 s" &&
		case $what in
		web*)
			set -- $(takeovers "$what" "$start" "$until") &&
			if [ "$1" = 0 ]; then
				line="$line; none of its claims was left to take over"
			else
				line="$line; its $1 dead claims taken over by" &&
				line="$line $(calc "$2 - $start") s after the kill" &&
				line="$line (CLAIM_TIMEOUT=$CLAIM_TIMEOUT)"
			fi ;;
		esac &&
		figure "$line" || exit 1
	done <faults-next &&
	figure "longest any one change waited for its 200:" \
		"$(summary stream longest_wait) s"
'

test_expect_success 'every change that got a 200 is in makini_events, each stored event exactly once' '
	cat "$TRASH/burst/changes.tsv" "$TRASH/stream/changes.tsv" >changes &&
	db_sql "SELECT id, delivery_key, body->\$\$body\$\$->>0 FROM makini_events" |
		tr "|" "\t" >rows &&
	# Each stored event is one row: its id and its delivery key once.
	cut -f1 rows | sort >row-ids && [ -z "$(uniq -d row-ids)" ] &&
	cut -f2 rows | sort | uniq -d >dup-keys && [ ! -s dup-keys ] &&
	find "$SPOOL"/*/cur -name "*.json" | sed "s|.*/||; s|\.json$||" |
		sort >stored && test_cmp stored row-ids &&
	# Every 200 named an event that became a row, and its change is there.
	awk -F"\t" "\$2 == \"delivered\" { print \$6 }" changes | sort >answered &&
	[ -z "$(comm -23 answered row-ids)" ] &&
	awk -F"\t" "\$2 == \"delivered\" { print \$1 }" changes | sort >delivered &&
	cut -f3 rows | sort >row-changes &&
	[ -z "$(comm -23 delivered row-changes)" ] &&
	# No row is of a change never sent.
	cut -f1 changes | sort >sent &&
	[ -z "$(sort -u row-changes | comm -23 - sent)" ] &&
	repeats=$(($(wc -l <row-changes) - $(sort -u row-changes | wc -l))) &&
	rerun=$(cat "$SPOOL"/queue.log* | grep -c "returned to pending" || :) &&
	figure "$(wc -l <rows) rows for $(wc -l <delivered) changes with a 200:" \
		"$repeats stored twice (a 200 lost, the change sent again)," \
		"$rerun hook runs repeated after a takeover"
'

test_expect_success 'every change without a 200 is one the sender counted undelivered' '
	awk -F"\t" "\$3 == 200 { print \$2 }" "$TRASH/burst/attempts.tsv" \
		"$TRASH/stream/attempts.tsv" | sort -u >got-200 &&
	sort -u delivered >delivered-u && test_cmp got-200 delivered-u &&
	awk -F"\t" "\$2 != \"delivered\" && \$2 != \"undelivered\"" changes >odd &&
	[ ! -s odd ] &&
	awk -F"\t" "\$2 == \"undelivered\" { print \$1 }" changes | sort >undelivered &&
	[ -z "$(comm -12 undelivered got-200)" ] &&
	[ "$(($(wc -l <undelivered) + $(wc -l <delivered)))" = "$(wc -l <changes)" ] &&
	figure "$(wc -l <undelivered) changes undelivered after a budget of $BUDGET s" &&
	figure "self-heal entries left: $(heal_pending)"
'

test_done
