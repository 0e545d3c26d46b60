#!/bin/sh
# See LICENSE file for copyright and license details.
# make check-cluster: the queue's race and crash tests on a real
# distributed file system (tests/cluster/t*.sh, on GlusterFS through
# tests/cluster-lib.sh and tests/cluster-hosts.sh), or the scripts named
# as arguments, each script with its own "N passed, N failed"
# line, then one closing line for all. Cases skipped (no root, no FUSE,
# no GlusterFS) are counted apart, with the reason each script gave.
cd "$(dirname "$0")/../.." || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
started=$(date +%s)
passed=0
failed=0
skipped=0
failing=
[ $# -gt 0 ] || set -- tests/cluster/t[0-9]*.sh
for t in "$@"; do
	echo "== $t"
	sh "$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(tail -n 1 "$out")
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + $(grep -c '^ok [0-9]* # skip' "$out")))
	if [ "$rc" != 0 ] || [ -z "$p" ]; then
		failing="$failing $t"
		[ -n "$f" ] && [ "$f" != 0 ] || failed=$((failed + 1))
	fi
done
echo
echo "# cluster tests took $(($(date +%s) - started)) s"
[ "$skipped" = 0 ] || echo "$skipped skipped"
[ -z "$failing" ] || echo "failing:$failing"
echo "$passed passed, $failed failed"
[ -z "$failing" ]
