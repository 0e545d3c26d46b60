#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped apache/makini-webhook-spawn-fcgi and apache/init.d/makini-webhook:
# start twice gives exactly $children receivers, stop leaves none and no
# socket, status answers as LSB init scripts do, and a pid file whose pids
# are dead or belong to other processes is neither counted nor killed.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"

command -v spawn-fcgi >/dev/null && command -v cgi-fcgi >/dev/null || {
	echo "spawn-fcgi and cgi-fcgi are needed: run make deps"
	exit 1
}

SCRIPT=$SRCDIR/apache/makini-webhook-spawn-fcgi
# A copy of the receiver of its own, so that its processes are told from
# any other test's by their executable alone.
PROG=$TRASH/bin/makini-webhook
mkdir -p bin spool &&
cp "$BIN" "$PROG" &&
printf '%s' "$SECRET" >secret &&
printf '{"event":"sites.updated","body":["s-1"]}' >event.json &&
printf 'MAKINI_WEBHOOK_SECRET_FILE=%s\nMAKINI_WEBHOOK_SPOOL=%s\n' \
	"$TRASH/secret" "$TRASH/spool" >env || exit 1
if test_have_prereq ROOT; then
	# As shipped: the receiver runs as www-data.
	chmod 0755 "$TRASH" bin && chmod 0644 secret &&
	chown www-data spool || exit 1
fi
# Unix socket paths must stay under about 100 bytes.
RUN=$TRASH/run
[ ${#RUN} -le 80 ] || RUN=$(mktemp -d /tmp/makini-webhook-t5460.XXXXXX)
CHILDREN=3
export MAKINI_FCGI_PROGRAM="$PROG" MAKINI_FCGI_ENV="$TRASH/env" \
	MAKINI_FCGI_SOCKET="$RUN/fcgi.sock" MAKINI_FCGI_PIDFILE="$RUN/pid" \
	MAKINI_FCGI_LOG="$TRASH/makini-webhook.log" \
	MAKINI_FCGI_CHILDREN=$CHILDREN
FCGI_SOCKET=$MAKINI_FCGI_SOCKET

# The receiver processes running $PROG, one pid a line, sorted.
receivers() {
	for dir in /proc/[0-9]*; do
		[ "$(readlink "$dir/exe" 2>/dev/null)" = "$PROG" ] &&
			echo "${dir#/proc/}"
	done | sort -n
}
# Whatever the cases leave running is stopped at the end.
test_at_exit 'for pid in $(receivers); do kill -9 "$pid"; done
	rm -rf /tmp/makini-webhook-t5460.*'
test_failure_hook() {
	echo "# receivers: $(receivers | tr "\n" " ")"
	echo "# pid file: $(tr "\n" " " 2>/dev/null <"$RUN/pid")"
	echo "# the script said:"
	sed 's/^/#   /' out.txt
}

spawn() {
	sh "$SCRIPT" "$@" >out.txt 2>&1
}
# spawn_status: the exit status of the script's status verb.
spawn_status() {
	if spawn status; then echo 0; else echo $?; fi
}
sorted_pidfile() {
	sort -n "$RUN/pid"
}

test_expect_success "start: exactly $CHILDREN receivers, the pid file holds them" '
	spawn start &&
	grep "started $CHILDREN processes" out.txt &&
	receivers >pids.first &&
	[ "$(wc -l <pids.first)" = $CHILDREN ] &&
	sorted_pidfile >recorded &&
	test_cmp pids.first recorded &&
	test -S "$RUN/fcgi.sock"
'

if test_have_prereq ROOT; then
	test_expect_success 'as root: the receivers run as www-data, the socket is Apache'"'"'s' '
		for pid in $(receivers); do
			[ "$(stat -c %U "/proc/$pid")" = www-data ] || return 1
		done &&
		[ "$(stat -c %U:%G:%a "$RUN/fcgi.sock")" = www-data:www-data:660 ]
	'
else
	test_skip "running as www-data and the socket's owner need root"
fi

test_expect_success 'they serve: a signed event is stored' '
	fcgi_post event.json && expect_status 200 &&
	test_cmp event.json "spool/sites/new/$(answer_id).json"
'

test_expect_success 'an Apache request leaves its line in the receiver log' '
	fcgi_post event.json SERVER_SOFTWARE=Apache/2.4.62 &&
	expect_status 200 &&
	grep -q "^makini-webhook: 127.0.0.1 POST sites.updated 200 $(answer_id) [0-9.]*ms$" \
		makini-webhook.log &&
	! grep -q "$(answer_id)" err
'

test_expect_success "start again: nothing started, still $CHILDREN, the same ones" '
	spawn start &&
	grep "already running, $CHILDREN of $CHILDREN" out.txt &&
	receivers >pids.now &&
	test_cmp pids.first pids.now &&
	spawn &&
	grep "already running" out.txt &&
	receivers >pids.now &&
	test_cmp pids.first pids.now
'

test_expect_success 'status: 0, and how many run' '
	spawn status &&
	grep "running, $CHILDREN of $CHILDREN processes" out.txt
'

test_expect_success 'stop: none left, no socket, no pid file; status 3' '
	spawn stop &&
	[ -z "$(receivers)" ] &&
	! test -e "$RUN/fcgi.sock" &&
	! test -e "$RUN/pid" &&
	[ "$(spawn_status)" = 3 ] &&
	grep "not running" out.txt
'

test_expect_success 'stop when stopped: 0, nothing to do' '
	spawn stop && grep "not running" out.txt
'

test_expect_success "restart: new receivers, still $CHILDREN" '
	spawn start && receivers >pids.first &&
	spawn restart &&
	receivers >pids.now &&
	[ "$(wc -l <pids.now)" = $CHILDREN ] &&
	[ -z "$(comm -12 pids.first pids.now)" ] &&
	sorted_pidfile >recorded && test_cmp pids.now recorded
'

test_expect_success 'a pid file lost under running receivers: start refuses' '
	receivers >pids.first &&
	rm "$RUN/pid" &&
	test_must_fail spawn start &&
	grep "served by processes not in" out.txt &&
	receivers >pids.now &&
	test_cmp pids.first pids.now &&
	# They are not ours to stop any more; end them by hand.
	kill $(cat pids.first) &&
	for pid in $(cat pids.first); do test_process_gone "$pid" || return 1; done
'

test_expect_success 'a stale pid file with a dead pid: status 1, start starts' '
	sh -c "echo \$\$" >dead.pid &&
	mkdir -p "$RUN" && cp dead.pid "$RUN/pid" &&
	test_process_gone "$(cat dead.pid)" &&
	[ "$(spawn_status)" = 1 ] &&
	grep "stale pid file" out.txt &&
	spawn start &&
	[ "$(receivers | wc -l)" = $CHILDREN ] &&
	! grep -x "$(cat dead.pid)" "$RUN/pid" &&
	spawn stop && [ -z "$(receivers)" ]
'

test_expect_success 'a pid reused by another process: not counted, not killed' '
	sleep 300 </dev/null >/dev/null 2>&1 &
	other=$! &&
	echo "$other" >"$RUN/pid" &&
	[ "$(spawn_status)" = 1 ] &&
	spawn start &&
	[ "$(receivers | wc -l)" = $CHILDREN ] &&
	spawn stop &&
	[ -z "$(receivers)" ] &&
	kill -0 "$other" &&
	kill "$other"
'

test_expect_success 'a pid reused by the same program on another socket: not ours' '
	env -i PATH="$PATH" spawn-fcgi -s "$RUN/other.sock" -F 1 \
		-P "$TRASH/other.pid" -- "$PROG" >/dev/null 2>&1 &&
	other=$(cat other.pid) &&
	for _ in $(seq 50); do
		[ "$(receivers)" = "$other" ] && break
		sleep 0.1
	done &&
	[ "$(receivers)" = "$other" ] &&
	spawn start &&
	{ echo; cat "$TRASH/other.pid"; } >>"$RUN/pid" &&
	spawn status &&
	grep "running, $CHILDREN of $CHILDREN processes" out.txt &&
	spawn stop &&
	[ "$(receivers)" = "$other" ] &&
	kill "$other" && test_process_gone "$other"
'

# The init script, pointed at the script under test and at no defaults
# file, passes the verbs and their statuses on.
sed -e "s|^script=.*|script=$SCRIPT|" \
    -e "s|^defaults=.*|defaults=$TRASH/default|" \
	"$SRCDIR/apache/init.d/makini-webhook" >init.sh
echo "MAKINI_FCGI_CHILDREN=2" >default

test_expect_success 'init.d: start and status with /etc/default settings, stop' '
	sh init.sh start >out.txt &&
	[ "$(receivers | wc -l)" = 2 ] &&
	sh init.sh status >out.txt &&
	grep "running, 2 of 2 processes" out.txt &&
	sh init.sh force-reload >out.txt &&
	[ "$(receivers | wc -l)" = 2 ] &&
	sh init.sh stop >out.txt &&
	[ -z "$(receivers)" ] &&
	if sh init.sh status >out.txt; then rc=0; else rc=$?; fi &&
	[ "$rc" = 3 ]
'

test_expect_success 'init.d: an unknown verb is 2, a missing script 5' '
	if sh init.sh reload 2>err.txt; then rc=0; else rc=$?; fi &&
	[ "$rc" = 2 ] && grep usage err.txt &&
	sed "s|^script=.*|script=$TRASH/nowhere|" init.sh >gone.sh &&
	if sh gone.sh start 2>err.txt; then rc=0; else rc=$?; fi &&
	[ "$rc" = 5 ]
'

test_done
