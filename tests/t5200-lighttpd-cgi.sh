#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped lighttpd cgi setup, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

# lighttpd started as Debian's init script starts it: no -D, so it
# detaches, and its own standard error becomes /dev/null.
DAEMON_PID=$TRASH/lighttpd.pid
test_at_exit '[ -s "$DAEMON_PID" ] && kill "$(cat "$DAEMON_PID")" 2>/dev/null'

server_cases lighttpd cgi &&

test_expect_success 'started as the init script does, the request lines still reach log/makini-webhook.log' '
	server_stop "$SERVER_DIR" &&
	conf=$SERVER_DIR/conf/lighttpd.conf &&
	grep -v "^server.pid-file" "$conf" >daemon.conf &&
	echo "server.pid-file = \"$DAEMON_PID\"" >>daemon.conf &&
	lighttpd -f daemon.conf </dev/null >daemon.out 2>&1 &&
	test_cmp /dev/null daemon.out &&
	test -s "$DAEMON_PID" &&
	pid=$(cat "$DAEMON_PID") &&
	ls -l "/proc/$pid/fd/2" | grep -- "-> /dev/null\$" &&
	sv_wait_port "$PORT" "$pid" &&
	sc_request_lines "$URL" &&
	kill "$pid" &&
	test_process_gone "$pid"
' &&

server_cases_stop
test_done
