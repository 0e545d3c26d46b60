#!/bin/sh
# See LICENSE file for copyright and license details.
# Runs CGI shell tests with the binary under valgrind memcheck:
#
#	tests/reliability/valgrind.sh [tests/tNN-name.sh...]
#
# Without arguments: every tests/t*.sh that drives the binary as CGI (not
# the real-server tests t5*, nor t6600, t6800, t6900). A wrapper script takes the
# binary's place through MAKINI_TEST_BIN; each process writes its own
# valgrind log, and any memcheck error (invalid access, uninitialised
# value, definite or indirect leak) fails the run even when the test that
# started the process passed. Two tests run at a time.
#
# Two limits of valgrind itself are reported, not failed: it warns about
# system calls it does not know (pidfd_open, which the hook runner then
# does without), and a child that valgrind follows through a failing
# execve dies instead of reporting the error, so the cases listed in
# KNOWN_LIMITS below (test:case title) may fail when such a log exists.
KNOWN_LIMITS="t3000-hooks:a hook that cannot be executed is 502"
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=$(pwd)
BIN=$SRCDIR/cgi/makini-webhook.cgi
OUT=$SRCDIR/tests/trash/valgrind
if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed: run 'make deps'"
	exit 1
fi
[ -x "$BIN" ] || { echo "build first: make"; exit 1; }
if ldd "$BIN" 2>/dev/null | grep -q "libasan\|libtsan\|libmsan"; then
	echo "the binary is built with a sanitizer; valgrind cannot run it: make clean all"
	exit 1
fi
if [ $# -eq 0 ]; then
	for t in tests/t[0-9]*.sh; do
		case $t in
		tests/t5* | tests/t66* | tests/t68* | tests/t69*) ;;
		*) set -- "$@" "$t" ;;
		esac
	done
fi

rm -rf "$OUT"
mkdir -p "$OUT/logs"
# Tests may run the binary as another user (nobody): logs must be writable.
chmod 1777 "$OUT/logs"
cat >"$OUT/makini-webhook.cgi" <<EOF
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect \\
	--log-file="$OUT/logs/vg.%p.log" "$BIN" "\$@"
EOF
chmod 0755 "$OUT" "$OUT/makini-webhook.cgi"

run_one() {
	name=$(basename "$1" .sh)
	MAKINI_TEST_BIN="$OUT/makini-webhook.cgi" sh "$1" >"$OUT/$name.out" 2>&1
	echo $? >"$OUT/$name.rc"
}
# Two at a time: start a pair, wait for both.
set -- "$@"
while [ $# -gt 0 ]; do
	run_one "$1" &
	first=$!
	shift
	if [ $# -gt 0 ]; then
		run_one "$1"
		shift
	fi
	wait $first
done

status=0
passed=0
failed=0
limits=0
for out in "$OUT"/*.out; do
	name=$(basename "$out" .out)
	line=$(tail -n 1 "$out")
	echo "$name under valgrind: $line"
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	passed=$((passed + ${p:-0}))
	if [ "$(cat "$OUT/$name.rc")" = 0 ]; then
		continue
	fi
	# Failures all among the known limits, with valgrind's execve
	# message in some log, are that limit; anything else fails.
	unknown=$(sed -n 's/^not ok [0-9]* - //p' "$out" | while read -r title; do
		case "
$KNOWN_LIMITS
" in
		*"
$name:$title
"*) ;;
		*) echo "$title" ;;
		esac
	done)
	if [ -z "$unknown" ] && [ -n "$f" ] &&
	   grep -lq "EXEC FAILED" "$OUT"/logs/* 2>/dev/null; then
		echo "  ($f case(s) failed only through valgrind's failing-execve limit)"
		limits=$((limits + f))
		continue
	fi
	failed=$((failed + ${f:-1}))
	grep -v '^ok' "$out" | head -n 40
	status=1
done

processes=$(ls "$OUT/logs" | wc -l)
warned=$(grep -l '^--[0-9]*-- WARNING: unhandled' "$OUT"/logs/* 2>/dev/null | wc -l)
execs=$(grep -l 'EXEC FAILED' "$OUT"/logs/* 2>/dev/null | wc -l)
bad=$(for f in $(find "$OUT/logs" -type f -size +0 | sort); do
	grep -q 'EXEC FAILED' "$f" && continue
	grep -q '^==[0-9]*==' "$f" && echo "$f"
done)
[ "$warned" = 0 ] ||
	echo "valgrind: $warned processes warned of a system call it does not know"
[ "$execs" = 0 ] ||
	echo "valgrind: $execs processes died in a failing execve (valgrind's limit)"
if [ -n "$bad" ]; then
	echo "valgrind reported errors in $(echo "$bad" | wc -l) of $processes processes:"
	for f in $bad; do
		echo "== $f"
		head -n 40 "$f"
	done
	status=1
	failed=$((failed + 1))
else
	echo "valgrind: $processes processes, no memcheck errors"
	passed=$((passed + 1))
fi
echo "$passed passed, $failed failed"
exit $status
