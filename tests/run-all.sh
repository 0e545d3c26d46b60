#!/bin/sh
# See LICENSE file for copyright and license details.
# Runs the unit test binaries given as arguments, then every shell test
# tests/t*.sh, and prints one closing line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
passed=0
failed=0
skipped=0
failed_names=
count() {
	# Each runner prints its own "N passed, N failed" line last.
	line=$(tail -n 1 "$1")
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	k=$(echo "$line" | sed -n 's/^.* failed, \([0-9]*\) skipped$/\1/p')
	skipped=$((skipped + ${k:-0}))
	if [ -z "$p" ]; then
		failed=$((failed + 1))
		failed_names="$failed_names $2"
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" != 0 ] || [ "$3" != 0 ]; then
		failed_names="$failed_names $2"
	fi
}
out=$(mktemp)
for t in "$@"; do
	echo "== $t"
	"./$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	count "$out" "$t" $rc
done
# MAKINI_TESTS, when set, names the shell tests to run instead of all;
# "none" runs none (make check-unit).
for t in ${MAKINI_TESTS:-tests/t[0-9]*.sh}; do
	[ -f "$t" ] || continue
	echo "== $t"
	sh "$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	count "$out" "$t" $rc
done
rm -f "$out"
echo
[ -z "$failed_names" ] || echo "failing:$failed_names"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ -z "$failed_names" ]
