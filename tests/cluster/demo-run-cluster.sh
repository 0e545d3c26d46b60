#!/bin/sh
# See LICENSE file for copyright and license details.
# make run-cluster (tools/run-cluster.sh) as a person uses it: it starts
# the hosts and prints how to post and how to see the rows; the printed
# curl line, run as printed, stores an event that the printed psql line
# shows as a row; Ctrl-C (SIGINT) then stops everything: no namespace,
# mount, process or state of it is left. Run by make check-cluster-long.
. "$(dirname "$0")/../test-lib.sh"
SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"
HOSTS_DIR=$TRASH/unused
. "$SRCDIR/tests/cluster-hosts.sh"

reason=$(hosts_skip_reason)
if [ -n "$reason" ]; then
	test_skip "make run-cluster: $reason"
	test_done
fi

# A background job of a script ignores SIGINT, and so would the demo's
# shell: python puts the default back before it starts the demo.
python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' env RUN_STATE="$TRASH/var" \
	sh "$SRCDIR/tools/run-cluster.sh" >out 2>&1 &
demo=$!
test_at_exit 'kill -TERM $demo 2>/dev/null; wait $demo'

test_expect_success 'make run-cluster starts the hosts and says how to post' '
	for _ in $(seq 300); do
		grep -q "^Ctrl-C stops everything" out && break
		kill -0 $demo || break
		sleep 1
	done &&
	grep -q "^Ctrl-C stops everything" out &&
	grep -q "web1 UP, web2 UP" out
'

test_expect_success 'the printed curl line stores an event, the psql line shows it' '
	sed -n "/^  ip netns exec /,/^\$/p" out >post.sh &&
	[ -s post.sh ] &&
	sh post.sh >answer && cat answer &&
	grep -q "\"status\":\"accepted\"" answer &&
	id=$(sed -n "s/.*\"id\":\"\([^\"]*\)\".*/\1/p" answer) &&
	sed -n "s/^  \(psql .*\)/\1/p" out >rows.sh &&
	[ -s rows.sh ] &&
	for _ in $(seq 60); do
		sh rows.sh >rows && grep -q "$id" rows && break
		sleep 1
	done &&
	grep -q "$id.*assets.updated" rows
'

test_expect_success 'Ctrl-C stops everything: no namespace, mount, process, state' '
	kill -INT $demo &&
	for _ in $(seq 120); do
		kill -0 $demo 2>/dev/null || break
		sleep 0.5
	done &&
	! kill -0 $demo 2>/dev/null &&
	grep -q "^stopping the hosts" out &&
	[ -z "$(ip netns list | grep "^mk-[a-z0-9]*-$demo\\b")" ] &&
	! grep -q "$TRASH/var/" /proc/self/mounts &&
	[ -z "$(pgrep -f "$TRASH/var/")" ] &&
	[ ! -e "$TRASH/var/cluster" ]
'

test_done
