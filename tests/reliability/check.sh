#!/bin/sh
# See LICENSE file for copyright and license details.
# make check-reliability: the security and fault tests, the long no-loss
# audit, the queue's chaos test with many events, 50 power cuts per file
# system and mode, every CGI shell test under valgrind and a fuzz smoke,
# each with its own "N passed, N failed" line, then the totals.
cd "$(dirname "$0")/../.." || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0
failed=0
failing=
step() {
	name=$1
	shift
	echo "== $name"
	"$@" >"$out" 2>&1
	rc=$?
	grep -v 'FastCGI-stderr' "$out"
	line=$(tail -n 1 "$out")
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" != 0 ] || [ -z "$p" ]; then
		failing="$failing $name"
		[ -n "$f" ] && [ "$f" != 0 ] || failed=$((failed + 1))
	fi
}
for t in tests/t6[0-5]*.sh; do
	step "$t" sh "$t"
done
step "tests/t6600-no-loss.sh (${RELIABILITY_SECONDS:-20}s phases)" \
	env MAKINI_RELIABILITY_LONG=1 sh tests/t6600-no-loss.sh
step "tests/t3150-queue-chaos.sh (${QUEUE_CHAOS_EVENTS:-300} events)" \
	env QUEUE_CHAOS_EVENTS="${QUEUE_CHAOS_EVENTS:-300}" sh tests/t3150-queue-chaos.sh
step "tests/t6700-power-cut.sh (50 cuts per file system and mode)" \
	env MAKINI_POWER_CUTS=50 MAKINI_POWER_CUTS_QUEUE=50 \
	MAKINI_POWER_CUTS_TEETH=5 sh tests/t6700-power-cut.sh
step "valgrind (all CGI shell tests)" sh tests/reliability/valgrind.sh
step "fuzz smoke" sh tests/t6800-fuzz-smoke.sh
echo
[ -z "$failing" ] || echo "failing:$failing"
echo "$passed passed, $failed failed"
[ -z "$failing" ]
