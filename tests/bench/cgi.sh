#!/bin/sh
# See LICENSE file for copyright and license details.
# CGI start-up, without a web server: what one CGI invocation of the
# receiver costs against the empty CGI program (tests/bench/empty.c, the
# ceiling of bench.sh's CGI rows, linked against the shared libfcgi). A web
# server adds the same fork, pipes and parsing to both; here only the
# programs differ. tests/trash/bench-cgi-run (tests/bench/cgi-run.c) runs
# each program in turn, alternating the order every round, with the same
# environment (a signed POST of a small event) and standard input.
#
# The programs run as installed copies read back from disk, as on a host
# that has booted since `make install`. A program as the linker wrote it,
# or as freshly copied, sits in the page cache in other folio sizes: the
# same static receiver started up to 0.2 ms later or sooner that way. The receiver stores
# each event, with MAKINI_WEBHOOK_FSYNC=0 and its spool on tmpfs
# (/dev/shm) where there is one, so that the comparison is of CPU work
# and not of the disk. RUNS runs of ROUNDS rounds each give a ratio each;
# the table shows their median and range. Then callgrind counts each
# program's instructions (repeatable, unlike the times) and, where perf
# works, perf stat its page faults.
#
# Usage: tests/bench/cgi.sh [ROUNDS [RUNS]] (2000, 3); `make bench` builds
# what it runs. BENCH_MARKDOWN=FILE appends the result to FILE as a section;
# BENCH_CGI_FRESH=1 runs the copies as freshly installed instead.
set -eu
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${1:-2000}
RUNS=${2:-3}
RUN=$SRCDIR/tests/trash/bench-cgi-run

# name | label | program
programs="empty|empty.c, libfcgi shared (ceiling)|$SRCDIR/tests/trash/bench-empty
dynamic|makini-webhook, \`make\` (libraries shared)|$SRCDIR/cgi/makini-webhook.cgi
mixed|makini-webhook, libraries static, glibc shared|$SRCDIR/tests/trash/bench-mixed
static|makini-webhook, \`make static\`|$SRCDIR/tests/trash/bench-static"

for f in "$RUN" $(echo "$programs" | cut -d'|' -f3); do
	[ -x "$f" ] || {
		echo "cgi.sh: $f is missing: run 'make bench'" >&2
		exit 1
	}
done

if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
	WORK=$(mktemp -d /dev/shm/makini-webhook-cgi.XXXXXX)
	where="tmpfs (/dev/shm)"
else
	WORK=$(mktemp -d "$SRCDIR/tests/trash/bench-cgi.XXXXXX")
	where="$(stat -f -c %T "$WORK") (no tmpfs)"
fi
BINS=$SRCDIR/tests/trash/bench-cgi-bin
trap 'rm -rf "$WORK" "$BINS"' EXIT

# The installed copies, their pages dropped from the page cache once on
# disk: only those of these files, the rest of the machine keeps its own.
rm -rf "$BINS"
mkdir -p "$BINS"
installed=
for prog in $(echo "$programs" | cut -d'|' -f3); do
	install -m 0755 "$prog" "$BINS/"
	installed="$installed $BINS/$(basename "$prog")"
done
state="installed copies read back from disk"
if [ "${BENCH_CGI_FRESH:-0}" = 1 ]; then
	state="freshly installed copies"
else
	sync $installed
	python3 -c 'import os, sys
for f in sys.argv[1:]:
    fd = os.open(f, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)' $installed
fi
programs=$(echo "$programs" | while IFS='|' read -r name label prog; do
	echo "$name|$label|$BINS/$(basename "$prog")"
done)

printf 'bench secret %s' "$$" >"$WORK/secret"
printf '{"event":"assets.updated","body":["0b7a4a3e-4f1d-4e0a-9c8e-1c2d3e4f5a6b"]}' \
	>"$WORK/body.json"
sig=$(python3 -c 'import hashlib, hmac, sys
print(hmac.new(open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(),
	       hashlib.sha256).hexdigest())' "$WORK/secret" "$WORK/body.json")

# The fixed environment of every invocation, as a web server's CGI sets it.
cgi_env() {
	env -i PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 \
		SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=POST \
		SCRIPT_NAME=/makini-webhook REMOTE_ADDR=127.0.0.1 \
		CONTENT_TYPE=application/json \
		CONTENT_LENGTH="$(wc -c <"$WORK/body.json")" \
		HTTP_X_WEBHOOK_SIGNATURE="$sig" \
		MAKINI_WEBHOOK_SECRET_FILE="$WORK/secret" \
		MAKINI_WEBHOOK_SPOOL="$WORK/spool" MAKINI_WEBHOOK_FSYNC=0 "$@"
}

# Each receiver must really accept the event, or its time means nothing.
echo "$programs" | while IFS='|' read -r name label prog; do
	[ "$name" = empty ] && continue
	cgi_env "$prog" <"$WORK/body.json" >"$WORK/answer" 2>/dev/null
	id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$WORK/answer")
	grep -q '^Status: 200' "$WORK/answer" &&
	cmp -s "$WORK/body.json" "$WORK/spool/assets/new/$id.json" || {
		echo "cgi.sh: $name did not store the event:" >&2
		cat "$WORK/answer" >&2
		exit 1
	}
done

echo "cgi: $RUNS runs of $ROUNDS rounds of $(echo "$programs" | wc -l) programs ($state), spool on $where"
cgi_env "$RUN" 200 "$WORK/body.json" $installed >/dev/null # warm-up
: >"$WORK/times"
r=1
while [ $r -le "$RUNS" ]; do
	cgi_env "$RUN" "$ROUNDS" "$WORK/body.json" $installed |
		sed "s/^/$r /" >>"$WORK/times"
	r=$((r + 1))
done

# summary PROGRAM: the median over the runs of the program's median time,
# of its mean, of its CPU time, and of its ratio to the ceiling; then the
# lowest and the highest ratio.
summary() {
	awk -v prog="$1" -v ceiling="$ceiling" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$2 == ceiling { c[$1] = $4 }
	$2 == prog { n++; run[n] = $1; med[n] = $4; mean[n] = $3; cpu[n] = $5 }
	END {
		for (i = 1; i <= n; i++) {
			q[i] = c[run[i]] / med[i]
			if (i == 1 || q[i] < lo) lo = q[i]
			if (i == 1 || q[i] > hi) hi = q[i]
		}
		printf "%.3f %.3f %.3f %.2f %.2f %.2f\n", median(med, n),
			median(mean, n), median(cpu, n), median(q, n), lo, hi
	}' "$WORK/times"
}
ceiling=$(echo "$programs" | head -n 1 | cut -d'|' -f3)

# Instructions, loader included: callgrind starts at the first one.
instructions() {
	cgi_env valgrind --tool=callgrind --callgrind-out-file="$WORK/cg" \
		"$1" <"$WORK/body.json" >/dev/null 2>&1 &&
	sed -n 's/^summary: *//p' "$WORK/cg"
}
# Those in the dynamic loader (ld-linux), from the same profile.
loader_instructions() {
	callgrind_annotate --threshold=100 "$WORK/cg" 2>/dev/null |
		awk '$NF ~ /ld-linux/ { gsub(",", "", $1); n += $1 }
		     END { print n + 0 }'
}
faults() {
	cgi_env perf stat -x, -r 100 -e page-faults "$1" \
		<"$WORK/body.json" 2>&1 >/dev/null |
		awk -F, '$3 == "page-faults" { print $1 }'
}
have_perf=no
if command -v perf >/dev/null &&
    [ -n "$(faults "$(echo "$programs" | head -n 1 | cut -d'|' -f3)")" ]; then
	have_perf=yes
fi

table=$WORK/table
{
	echo "| program | ms per invocation (median) | mean | CPU ms (mean) | ratio to the ceiling (range) | instructions | in the loader |$([ $have_perf = yes ] && echo " page faults |")"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |$([ $have_perf = yes ] && echo " ---: |")"
	echo "$programs" | while IFS='|' read -r name label prog; do
		set -- $(summary "$prog")
		echo "$name $4" >>"$WORK/ratios"
		ir=$(instructions "$prog")
		ld=$(loader_instructions)
		printf '| %s | %s | %s | %s | %s (%s–%s) | %s | %s |' "$label" \
			"$1" "$2" "$3" "$4" "$5" "$6" "$ir" "$ld"
		[ $have_perf = no ] || printf ' %s |' "$(faults "$prog")"
		echo
	done
} >"$table"
static_ratio=$(awk '$1 == "static" { print $2 }' "$WORK/ratios")
verdict=$(awk -v r="$static_ratio" 'BEGIN { print (r >= 0.95 ? "met" : "missed") }')
target="| CGI, \`make static\` (what the CGI setups install): ≥ 0.95 of the empty program | $static_ratio | $verdict |"

cat "$table"
echo
echo "$target"

if [ -n "${BENCH_MARKDOWN:-}" ]; then
	{
		echo
		echo "## CGI start-up"
		echo
		echo "\`tests/bench/cgi.sh $ROUNDS $RUNS\`: each program run as a CGI program (fork,"
		echo "exec, wait) with the same environment and standard input, a signed"
		echo "POST of a $(wc -c <"$WORK/body.json")-byte event, in alternating order, $ROUNDS times in each"
		echo "of $RUNS runs; no web server. The programs are $state."
		echo "The receiver stores every event, with"
		echo "\`MAKINI_WEBHOOK_FSYNC=0\` and its spool on $where."
		echo "Each run's ratio is the ceiling's median time over the program's;"
		echo "the table shows the median over the runs, and the lowest and highest."
		echo "Instructions are callgrind's count for one invocation, from the"
		echo "first instruction of the dynamic loader on."
		echo
		cat "$table"
		echo
		echo "| target | measured | |"
		echo "| --- | --- | --- |"
		echo "$target"
	} >>"$BENCH_MARKDOWN"
fi
