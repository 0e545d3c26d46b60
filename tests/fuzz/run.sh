#!/bin/sh
# See LICENSE file for copyright and license details.
# Runs each fuzz target for a set time: tests/fuzz/run.sh SECONDS TARGET...
# First every file in tests/fuzz/regressions/<target>/ is replayed (inputs
# that once crashed), then the target fuzzes from its seed corpus,
# tests/fuzz/corpus/<target>/, into a scratch corpus, $FUZZ_WORK/<target>/
# (default tests/fuzz/work; the seeds are never written). A crash leaves
# its input in $FUZZ_WORK/crash-<target>-*. Prints one line per target
# with the executions and crashes, and exits non-zero when any crashed.
cd "$(dirname "$0")" || exit 1
seconds=$1
shift
status=0
work=${FUZZ_WORK:-work}
mkdir -p "$work"
for t in "$@"; do
	bin=./fuzz_$t
	mkdir -p "$work/$t" "corpus/$t"
	log=$work/$t.log
	if [ -d "regressions/$t" ] && [ -n "$(ls "regressions/$t")" ]; then
		if ! "$bin" -runs=0 regressions/"$t"/* >"$log" 2>&1; then
			echo "fuzz_$t: a regression input crashes again:"
			tail -n 40 "$log"
			status=1
			continue
		fi
	fi
	# Each target gets the whole time; -timeout catches hangs.
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$work/crash-$t-" "$work/$t" "corpus/$t" \
		>"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	crashes=$(ls "$work"/crash-"$t"-* 2>/dev/null | wc -l)
	echo "fuzz_$t: ${runs:-?} executions in ${seconds}s, $crashes crashes," \
		"corpus $(ls "$work/$t" | wc -l) inputs"
	if [ "$rc" != 0 ] || [ "$crashes" != 0 ] || [ -z "$runs" ]; then
		grep -a -A 30 'ERROR\|==ABORTING\|deadly signal' "$log" | head -n 60
		status=1
	fi
done
exit $status
