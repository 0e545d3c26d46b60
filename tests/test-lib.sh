# See LICENSE file for copyright and license details.
# Shell test library, sourced by tests/t*.sh. In the manner of git's
# t/test-lib.sh: each case is one paragraph,
#
#	test_expect_success 'what it shows' '
#		commands that must all succeed
#	'
#
# and the script ends with test_done, which prints "N passed, N failed"
# and, when some were skipped, ", N skipped". Each script works in its own
# scratch directory, $TRASH, wiped at start.

set -u
TEST_NAME=$(basename "$0" .sh)
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
# Scripts one level further down (tests/cluster/) find the root above.
[ -f "$SRCDIR/Makefile" ] || SRCDIR=$(dirname "$SRCDIR")
TRASH="$SRCDIR/tests/trash/$TEST_NAME"
BIN=${MAKINI_TEST_BIN:-$SRCDIR/cgi/makini-webhook.cgi}
rm -rf "$TRASH"
mkdir -p "$TRASH"
cd "$TRASH" || exit 1

test_passed=0
test_failed=0
test_skipped=0
test_cleanups=

# Options, as git's: -v (--verbose) shows every case's output, -i
# (--immediate) stops at the first failing case, and --run=LIST (-r LIST)
# runs only the cases LIST selects (see test_selected), the others counted
# as skipped.
test_verbose=0
test_immediate=0
test_run_list=
test_run_next=0
for test_arg in "$@"; do
	if [ "$test_run_next" = 1 ]; then
		test_run_list=$test_arg
		test_run_next=0
		continue
	fi
	case $test_arg in
	-v | --verbose) test_verbose=1 ;;
	-i | --immediate) test_immediate=1 ;;
	-r | --run) test_run_next=1 ;;
	--run=*) test_run_list=${test_arg#--run=} ;;
	esac
done
if [ "$test_run_next" = 1 ]; then
	echo "$TEST_NAME: $test_arg needs a list of cases" >&2
	exit 1
fi

# Commands registered here run at exit, even when a case fails, so that
# servers started by a test are always stopped. Register at the top level
# of a script: each case runs in a subshell, which would forget it.
test_at_exit() {
	test_cleanups="$1
$test_cleanups"
}
test_run_cleanups() {
	eval "$test_cleanups"
	test_cleanups=
}
trap 'test_run_cleanups' EXIT

# The receivers' shared syncs of new/ (src/spool_sync.c) leave a small
# file in /dev/shm for each new/ directory they stored into, named after
# its device and inode, also for directories a test removed, and their
# counters (src/metrics.c) a directory for each spool: those that
# appeared while the test ran go with it. (One taken from a run beside
# this one costs that run nothing but a sync shared less.) Registered
# first, so that it runs last, once the servers have stopped.
test_shm_before=$TRASH/.shm-before
ls /dev/shm 2>/dev/null | grep '^makini-webhook\.\(sync\|metrics\)\.' \
	>"$test_shm_before"
test_shm_cleanup() {
	ls /dev/shm 2>/dev/null | grep '^makini-webhook\.\(sync\|metrics\)\.' |
		grep -v -x -F -f "$test_shm_before" | sed 's|^|/dev/shm/|' |
		xargs rm -rf
}
test_at_exit 'test_shm_cleanup'
trap 'exit 130' INT TERM

# test_selected NUMBER TITLE: whether --run selects case NUMBER. LIST is
# selectors separated by commas: a number (3), a range (3-5, or -3 and 5-
# open at one end), or any other word, which selects the cases whose title
# holds it. A "!" before a selector deselects what it names. Each case is
# judged by the last selector that names it; one that none names is left
# out, unless LIST begins with a "!": then it runs. Without --run, every
# case runs.
test_selected() {
	[ -n "$test_run_list" ] || return 0
	case $test_run_list in
	!*) test_sel_in=1 ;;
	*) test_sel_in=0 ;;
	esac
	test_sel_rest=$test_run_list,
	while [ -n "$test_sel_rest" ]; do
		test_sel=${test_sel_rest%%,*}
		test_sel_rest=${test_sel_rest#*,}
		test_sel_want=1
		case $test_sel in
		!*) test_sel_want=0 test_sel=${test_sel#!} ;;
		esac
		test_sel_lo=${test_sel%%-*} test_sel_hi=${test_sel#*-}
		case $test_sel in
		"") continue ;;
		*[!0-9]*) ;;
		*)
			[ "$1" -ne "$test_sel" ] || test_sel_in=$test_sel_want
			continue
			;;
		esac
		case $test_sel_lo$test_sel_hi in
		# Exactly one "-", digits on at least one side: a range.
		*[!0-9]* | "") ;;
		*)
			if [ "$1" -ge "${test_sel_lo:-1}" ] &&
			   { [ -z "$test_sel_hi" ] || [ "$1" -le "$test_sel_hi" ]; }; then
				test_sel_in=$test_sel_want
			fi
			continue
			;;
		esac
		case $2 in
		*"$test_sel"*) test_sel_in=$test_sel_want ;;
		esac
	done
	[ "$test_sel_in" = 1 ]
}

test_expect_success() {
	if ! test_selected $(($(test_count) + 1)) "$1"; then
		test_skip "$1 (--run)"
		return 0
	fi
	test_log="$TRASH/.case.log"
	# Not in an if: there set -e would be ignored inside the subshell too.
	(eval "set -e; $2") >"$test_log" 2>&1
	test_rc=$?
	if [ "$test_rc" = 0 ]; then
		test_passed=$((test_passed + 1))
		echo "ok $(test_count) - $1"
		[ "$test_verbose" = 0 ] || sed 's/^/#   /' "$test_log"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $(test_count) - $1"
		sed 's/^/#   /' "$test_log"
		test_failure_hook
		[ "$test_immediate" = 0 ] || test_done
	fi
}

test_count() {
	echo $((test_passed + test_failed + test_skipped))
}

# Scripts that run a server redefine this to print its error log.
test_failure_hook() { :; }

# test_skip WHY: one case that cannot run here, counted and named.
test_skip() {
	test_skipped=$((test_skipped + 1))
	echo "ok $(test_count) # skip $1"
}

# test_have_prereq NAME: whether this machine has what cases marked NAME
# need; a script skips those cases with test_skip when it has not.
test_have_prereq() {
	case $1 in
	ROOT) [ "$(id -u)" = 0 ] ;;
	APACHE) [ -x /usr/sbin/apache2 ] ;;
	# Debian's suEXEC wrapper (apache2-suexec-pristine or -custom),
	# mod_userdir and its stock configuration.
	SUEXEC) [ -u /usr/lib/apache2/suexec ] &&
		[ -f /usr/lib/apache2/modules/mod_userdir.so ] &&
		[ -f /etc/apache2/mods-available/userdir.conf ] ;;
	SETFACL) command -v setfacl >/dev/null ;;
	LIGHTTPD) command -v lighttpd >/dev/null ;;
	XFS) command -v mkfs.xfs >/dev/null && grep -qw xfs /proc/filesystems ;;
	UNSHARE) [ "$(id -u)" = 0 ] && unshare -u true 2>/dev/null ;;
	SETPRIV) [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
		id nobody >/dev/null 2>&1 ;;
	*) echo "test_have_prereq: no prerequisite '$1'" >&2; return 1 ;;
	esac
}

test_done() {
	test_run_cleanups
	if [ "$test_skipped" = 0 ]; then
		echo "$test_passed passed, $test_failed failed"
	else
		echo "$test_passed passed, $test_failed failed, $test_skipped skipped"
	fi
	[ "$test_failed" = 0 ]
	exit $?
}

test_cmp() {
	cmp "$1" "$2" || { diff -u "$1" "$2" || true; return 1; }
}

# test_must_fail COMMAND...: COMMAND must fail, but in an orderly way, as
# git's does: a death by signal (a segfault, a sanitizer's abort) or a
# command that could not run is no failure the program chose.
test_must_fail() {
	# In an if, so that set -e in a case does not end it on the failure.
	if "$@"; then
		test_exit=0
	else
		test_exit=$?
	fi
	if [ "$test_exit" = 0 ]; then
		echo "expected failure: $*"
		return 1
	elif [ "$test_exit" -gt 128 ] && [ "$test_exit" -le 192 ]; then
		echo "died of signal $((test_exit - 128)): $*"
		return 1
	elif [ "$test_exit" = 126 ] || [ "$test_exit" = 127 ]; then
		echo "could not run: $*"
		return 1
	fi
	return 0
}

# Prints a signature: HMAC-SHA256 of file $2 under secret $1, as hex. Python
# computes it, so the tests do not trust the binary under test to sign.
test_hmac_hex() {
	python3 -c 'import hmac,hashlib,sys
print(hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).hexdigest())' "$1" "$2"
}

test_hmac_b64() {
	python3 -c 'import hmac,hashlib,sys,base64
print(base64.b64encode(hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).digest()).decode())' "$1" "$2"
}

# Files found below directory $1, one per line, sorted; nothing when empty.
test_files_in() {
	(cd "$1" 2>/dev/null && find . -type f | sort)
}

# Succeeds when no file lies in any tmp/ below spool $1.
test_no_tmp_leftovers() {
	left=$(cd "$1" 2>/dev/null && find . -path './*/tmp/*' -type f || :)
	[ -z "$left" ] || { echo "left in tmp/: $left"; return 1; }
}

# Succeeds when file $1 holds the health check's 200 body: the status
# first, the version $BIN reports, and the spool's free bytes and inodes.
test_health_ok() {
	test_version=$("$BIN" --version | sed -n 's/^makini-webhook //p')
	[ -n "$test_version" ] &&
	grep -Eqx "\{\"status\":\"ok\",\"version\":\"$(echo "$test_version" |
		sed 's/\./\\./g')\",\"free_bytes\":[0-9]+,\"free_inodes\":([0-9]+|null)\}" "$1" ||
		{ echo "not version $test_version's health answer:"; cat "$1"; return 1; }
}

# test_doc_block FILE HEADING N: the Nth fenced block (```) below the
# line "## HEADING" of FILE and before the next "## ", without its fences;
# for tests that run a document's commands as written.
test_doc_block() {
	awk -v h="## $2" -v n="$3" '
		/^## / { inside = ($0 == h); next }
		inside && /^```/ {
			if (open) { open = 0; if (seen == n) exit; next }
			open = 1; seen++; next
		}
		inside && open && seen == n { print }
	' "$1"
}

# A free TCP port on 127.0.0.1, chosen by the kernel.
test_free_port() {
	python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Succeeds once process $1 has ended (a zombie awaiting its reaper counts as
# ended), waiting up to two seconds for a signal already sent to land.
test_process_gone() {
	for _ in $(seq 20); do
		state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || :)
		case $state in "" | Z | X) return 0 ;; esac
		sleep 0.1
	done
	echo "process $1 still running"
	return 1
}
