#!/bin/sh
# See LICENSE file for copyright and license details.
# make check: every test against the build, then the CGI tests against a
# static build, as shared hosting runs it; one closing line counts both.
cd "$(dirname "$0")/.." || exit 1
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# run NAME COMMAND...: runs a test pass, keeping its output and status.
run() {
	name=$1
	shift
	{ "$@"; echo $? >"$logs/$name.rc"; } 2>&1 | tee "$logs/$name.log"
}

run dynamic sh tests/run-all.sh "$@"
run static ${MAKE:-make} --no-print-directory check-static

passed=0
failed=0
skipped=0
rc=0
for name in dynamic static; do
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$logs/$name.log" | tail -n 1)
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	k=$(echo "$line" | sed -n 's/^.* failed, \([0-9]*\) skipped$/\1/p')
	skipped=$((skipped + ${k:-0}))
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-1}))
	[ "$(cat "$logs/$name.rc")" = 0 ] || rc=1
done
echo
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $rc
