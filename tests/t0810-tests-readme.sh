#!/bin/sh
# See LICENSE file for copyright and license details.
# tests/README's commands, as written: make check-unit and check-shell run
# their half of the tests, and a shell test file runs whole, or only the
# cases its --run list selects.
. "$(dirname "$0")/test-lib.sh"

# The caller's make (-j, its jobserver) is not this one's.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKINI_TESTS

# The README's indented command lines, their comments left out.
sed -n 's/^\t\(make[^#]*\|sh tests\/[^#]*\)#*.*$/\1/p' "$SRCDIR/tests/README" |
	sed 's/ *$//' >commands || exit 1

# run COMMAND: runs a README command in the source tree, output in out.
run() {
	echo "+ $1" >>all.out
	(cd "$SRCDIR" && eval "$1") >out 2>&1
	rc=$?
	cat out >>all.out
	return $rc
}
# result: the closing count line of out.
result() {
	tail -n 1 out
}
test_failure_hook() { echo "# the commands said:"; tail -n 20 all.out | sed 's/^/#   /'; }

test_expect_success 'the README holds the commands this test runs' '
	grep -qx "make check-unit" commands &&
	grep -qx "make check-shell" commands &&
	grep -qx "make check-shell MAKINI_TESTS=tests/t1100-verbs.sh" commands &&
	grep -qx "sh tests/t1100-verbs.sh --run=3" commands &&
	[ $(grep -c "^sh tests/" commands) = 5 ]
'

test_expect_success 'make check-unit runs every unit test and no shell test' '
	run "make check-unit" &&
	for u in "$SRCDIR"/tests/unit/test_*.c; do
		grep -qx "== tests/unit/$(basename "$u" .c)" out || exit 1
	done &&
	! grep -q "^== tests/t" out &&
	result | grep -Eq "^[1-9][0-9]* passed, 0 failed, 0 skipped$"
'

test_expect_success 'make check-shell MAKINI_TESTS= runs the shell tests named' '
	run "make check-shell MAKINI_TESTS=tests/t1100-verbs.sh" &&
	grep -x "== tests/t[0-9].*" out >ran &&
	echo "== tests/t1100-verbs.sh" >expect && test_cmp expect ran &&
	result | grep -Eq "^[1-9][0-9]* passed, 0 failed, 0 skipped$"
'

test_expect_success 'a shell test file runs whole, one case, a range, a word' '
	while read -r cmd; do
		case $cmd in sh\ tests/*) ;; *) continue ;; esac
		run "$cmd" || exit 1
		all=$(grep -c "^ok [0-9]* - " out)
		case $cmd in
		*--run=3) want="^1 passed, 0 failed, [1-9][0-9]* skipped$" ;;
		*--run=1-4,9) want="^5 passed, 0 failed, [1-9][0-9]* skipped$" ;;
		*--run=sign)
			# Each case whose title holds "sign", and no other.
			grep "^ok [0-9]* - .*sign" out >ok &&
			[ $all = $(wc -l <ok) ] || exit 1
			want="^[1-9][0-9]* passed, 0 failed, [1-9][0-9]* skipped$" ;;
		*) want="^$all passed, 0 failed$" ;;
		esac
		result | grep -Eq "$want" || { echo "$cmd: $(result)"; exit 1; }
	done <commands
'

test_done
