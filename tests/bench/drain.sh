#!/bin/sh
# See LICENSE file for copyright and license details.
# Drain throughput: events per second through `drain` with a trivial hook,
# against a shell loop that runs the same hook once per file. The fork and
# exec of the hook dominate both; the ratio shows what claiming, state and
# moving files add. Usage: tests/bench/drain.sh [EVENTS] [ROUNDS]; with
# BENCH_MARKDOWN=FILE the result is also appended to FILE as a section.
set -eu
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MAKINI_TEST_BIN:-$SRCDIR/cgi/makini-webhook.cgi}
EVENTS=${1:-1000}
ROUNDS=${2:-3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

mkdir "$WORK/hooks"
printf '#!/bin/sh\ncat >/dev/null\n' >"$WORK/hooks/default"
chmod +x "$WORK/hooks/default"

# EVENTS pending events of one type, named as the receiver names them.
fill_spool() {
	rm -rf "$WORK/spool"
	mkdir -p "$WORK/spool/assets/tmp" "$WORK/spool/assets/new" \
		"$WORK/spool/assets/cur" "$WORK/spool/assets/failed"
	python3 - "$WORK/spool/assets/new" "$EVENTS" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    name = "20261129T000000.%06dZ-00000000000000aa-%08x-updated.json" % (i, i)
    with open(f"{d}/{name}", "w") as f:
        f.write('{"event":"assets.updated","body":["a-%d"]}' % i)
PY
}

now() { date +%s.%N; }
rate() { awk -v n="$EVENTS" -v a="$1" -v b="$2" 'BEGIN { print n / (b - a) }'; }

run_drain() {
	env -i PATH="$PATH" MAKINI_WEBHOOK_MODE=queue \
		MAKINI_WEBHOOK_HOOKS="$WORK/hooks" MAKINI_WEBHOOK_SPOOL="$WORK/spool" \
		"$BIN" drain >"$WORK/drain.out" 2>&1
	grep -q "^drain: $EVENTS done" "$WORK/drain.out" || {
		cat "$WORK/drain.out" >&2
		exit 1
	}
}

run_loop() {
	cd "$WORK/hooks"
	for f in "$WORK"/spool/assets/new/*.json; do
		./default <"$f"
	done
	cd - >/dev/null
}

best_drain=0
best_loop=0
for round in $(seq "$ROUNDS"); do
	fill_spool
	t0=$(now); run_drain; t1=$(now)
	drain_rate=$(rate "$t0" "$t1")
	fill_spool
	t0=$(now); run_loop; t1=$(now)
	loop_rate=$(rate "$t0" "$t1")
	printf 'round %d: drain %.0f events/s, shell loop %.0f events/s\n' \
		"$round" "$drain_rate" "$loop_rate"
	best_drain=$(awk -v a="$drain_rate" -v b="$best_drain" 'BEGIN { print (a > b ? a : b) }')
	best_loop=$(awk -v a="$loop_rate" -v b="$best_loop" 'BEGIN { print (a > b ? a : b) }')
done
summary=$(printf 'drain: best %.0f events/s, shell loop best %.0f events/s, ratio %.2f' \
	"$best_drain" "$best_loop" "$(awk -v a="$best_drain" -v b="$best_loop" 'BEGIN { print a / b }')")
echo "$summary"
if [ -n "${BENCH_MARKDOWN:-}" ]; then
	{
		echo
		echo "## Drain"
		echo
		echo "\`tests/bench/drain.sh $EVENTS $ROUNDS\`: $EVENTS pending events, each run"
		echo "by a trivial hook (\`cat >/dev/null\`), through \`drain\` and through a"
		echo "shell loop that runs the same hook once per file; best of $ROUNDS rounds."
		echo "Target: drain within 20% of the loop (a ratio of at least 0.80)."
		echo
		echo "$summary"
	} >>"$BENCH_MARKDOWN"
fi
