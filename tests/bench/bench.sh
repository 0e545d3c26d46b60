#!/bin/sh
# The side-by-side benchmark behind `make bench`. Every setup answers the
# same signed Makini payload of about 1 KB, posted by wrk over loopback
# (wrk -t2 -c16, tests/bench/post.lua). The setups run one after the other,
# in alternating order, for several rounds; each round gives every setup's
# ratio to its ceiling measured minutes apart at most, and the table shows
# the median over the rounds. The ratios are what to compare across
# machines; the req/s figures move with the machine and its neighbours.
#
# Environment: BENCH_ROUNDS (4), BENCH_DURATION (seconds per run, 3),
# BENCH_OUT (the Markdown report, BENCHMARKS.md at the top of the tree;
# empty for none).
set -eu

cd "$(dirname "$0")/../.."
SRCDIR=$(pwd)
ROUNDS=${BENCH_ROUNDS:-4}
DURATION=${BENCH_DURATION:-3}
OUT=${BENCH_OUT-$SRCDIR/BENCHMARKS.md}
THREADS=2
CONNS=16
BIN=$SRCDIR/cgi/makini-webhook.cgi
EMPTY=$SRCDIR/tests/trash/bench-empty
STATIC=$SRCDIR/tests/trash/bench-static
BENCH_DIR=$SRCDIR/tests/trash/bench
SECRET_FILE=$BENCH_DIR/secret
RESULTS=$BENCH_DIR/results
PREFILL=${BENCH_PREFILL:-100000}

. "$SRCDIR/tests/bench/serve.sh"

for tool in wrk lighttpd apache2 gunicorn curl python3; do
	command -v $tool >/dev/null || {
		echo "bench: $tool is missing: run 'make deps'" >&2
		exit 1
	}
done

started=$(date +%s)
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
trap 'serve_stop_all || :' EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The secret, a Makini-shaped payload of about 1 KB and its signature. The

python3 - "$BENCH_DIR" <<'EOF'
import hashlib, hmac, json, os, sys, uuid
d = sys.argv[1]
secret = os.urandom(24).hex().encode()
open(os.path.join(d, "secret"), "wb").write(secret + b"\n")
ids = [str(uuid.UUID(int=(i * 0x9e3779b97f4a7c15) % (1 << 128), version=4))
       for i in range(1, 27)]
body = json.dumps({"event": "assets.updated", "body": ids}).encode()
open(os.path.join(d, "body.json"), "wb").write(body)
sig = hmac.new(secret, body, hashlib.sha256).hexdigest()
open(os.path.join(d, "body.sig"), "w").write(sig + "\n")
EOF
export BENCH_BODY="$BENCH_DIR/body.json" BENCH_SIG="$BENCH_DIR/body.sig"

# Spools, one per setup; tests/servers.sh hands them to the receiver's user.
for s in lf lf-nofsync lf-full ap cgi flask; do
	mkdir -p "$BENCH_DIR/spool-$s"
done

# The full spool: PREFILL events already waiting in assets/new/.
python3 - "$BENCH_DIR/spool-lf-full" "$BENCH_DIR/body.json" "$PREFILL" <<'EOF'
import os, sys
root, body, n = sys.argv[1], open(sys.argv[2], "rb").read(), int(sys.argv[3])
for sub in ("tmp", "new", "cur", "failed"):
    os.makedirs(os.path.join(root, "assets", sub), exist_ok=True)
new = os.path.join(root, "assets", "new")
for i in range(n):
    with open(os.path.join(new, "00000000T000000.%06dZ-prefill.json" % i),
              "wb") as f:
        f.write(body)
EOF

# name | label | server start | URL path | ceiling name
setups=$BENCH_DIR/setups
: >"$setups"
setup() {
	echo "$1|$2|$3|$4|$5" >>"$setups"
}
p() { free_port; }
# The durable rows that are compared with each other (the receiver, the
# full spool, Flask) run next to each other: the disk's flush time, which
# bounds them, drifts.
setup lf-empty "lighttpd FastCGI: empty.c (ceiling)" \
	"serve lf-empty lighttpd fastcgi $EMPTY $(p) $BENCH_DIR/spool-lf" \
	/makini-webhook lf-empty
setup lf "lighttpd FastCGI: makini-webhook" \
	"serve lf lighttpd fastcgi $BIN $(p) $BENCH_DIR/spool-lf" \
	/makini-webhook lf-empty
setup lf-full "lighttpd FastCGI: makini-webhook, $PREFILL events in new/" \
	"serve lf-full lighttpd fastcgi $BIN $(p) $BENCH_DIR/spool-lf-full" \
	/makini-webhook lf-empty
setup flask "gunicorn -w 4: Flask receiver (durable too)" \
	"serve_gunicorn flask $SRCDIR/tests/bench $(p) $BENCH_DIR/spool-flask" \
	/webhook -
setup lf-nofsync "lighttpd FastCGI: makini-webhook, FSYNC=0 (not durable)" \
	"serve lf-nofsync lighttpd fastcgi $BIN $(p) $BENCH_DIR/spool-lf-nofsync FSYNC=0" \
	/makini-webhook lf-empty
setup ap-empty "Apache mod_fcgid: empty.c (ceiling)" \
	"serve ap-empty apache fcgid $EMPTY $(p) $BENCH_DIR/spool-ap" \
	/makini-webhook ap-empty
setup ap "Apache mod_fcgid: makini-webhook" \
	"serve ap apache fcgid $BIN $(p) $BENCH_DIR/spool-ap" \
	/makini-webhook ap-empty
setup cgi-empty "lighttpd CGI: empty.c (ceiling)" \
	"serve cgi-empty lighttpd cgi $EMPTY $(p) $BENCH_DIR/spool-cgi" \
	/makini-webhook cgi-empty
setup cgi "lighttpd CGI: makini-webhook" \
	"serve cgi lighttpd cgi $BIN $(p) $BENCH_DIR/spool-cgi" \
	/makini-webhook cgi-empty
setup cgi-static "lighttpd CGI: makini-webhook, make static" \
	"serve cgi-static lighttpd cgi $STATIC $(p) $BENCH_DIR/spool-cgi" \
	/makini-webhook cgi-empty

field() {
	grep "^$1|" "$setups" | cut -d'|' -f"$2"
}
port_of() {
	field "$1" 3 | awk '{ print $1 == "serve" ? $6 : $4 }'
}

echo "starting servers ($(($(date +%s) - started)) s)"
while IFS='|' read -r name label start path ceiling; do
	eval "$start" || { echo "bench: $name did not start" >&2; exit 1; }
done <"$setups"

# Checks that each server really accepts the payload before timing it.
for name in $(cut -d'|' -f1 "$setups"); do
	url="http://127.0.0.1:$(port_of "$name")$(field "$name" 4)"
	code=$(curl -s -o "$BENCH_DIR/answer" -w '%{http_code}' \
		-H "X-Webhook-Signature: $(cat "$BENCH_SIG")" \
		--data-binary "@$BENCH_BODY" "$url")
	case $code in
	200|204) ;;
	*)
		echo "bench: $name answered $code: $(cat "$BENCH_DIR/answer")" >&2
		exit 1 ;;
	esac
done

# Moves the events a run stored out of the way, so that every run of a
# setup starts from the same spool: empty, or the prefilled one. They are
# deleted only at the end: ext4 scans past recently deleted inodes when it
# allocates new ones, which slowed the next run by up to a half.
rotated=0
reset_spools() {
	rotated=$((rotated + 1))
	for new in "$BENCH_DIR"/spool-*/*/new "$BENCH_DIR"/spool-flask/new; do
		[ -d "$new" ] || continue
		case $new in */spool-lf-full/*) continue ;; esac
		mv "$new" "$new.old$rotated"
		mkdir "$new"
		chown --reference="$new.old$rotated" "$new"
		chmod --reference="$new.old$rotated" "$new"
	done
	full="$BENCH_DIR/spool-lf-full/assets"
	mkdir "$full/added$rotated"
	find "$full/new" -name '2*' -exec mv -t "$full/added$rotated" {} +
}

# run NAME SECONDS: one wrk run, appending "name round rps p50 p99" to
# RESULTS when ROUND is set.
run() {
	url="http://127.0.0.1:$(port_of "$1")$(field "$1" 4)"
	# A long timeout: a request that waits (mod_fcgid's spawn throttle)
	# counts in the latencies rather than as an error.
	line=$(wrk -t$THREADS -c$CONNS -d"$2"s --timeout 10s \
		-s "$SRCDIR/tests/bench/post.lua" "$url" | grep '^BENCH ') || {
		echo "bench: wrk failed on $1" >&2
		exit 1
	}
	set -- "$1" $line
	if [ "$6" != 0 ]; then
		echo "bench: $1: $6 of $7 answers were errors" >&2
		exit 1
	fi
	[ -n "${ROUND:-}" ] &&
		echo "$1 $ROUND $3 $4 $5 $8" >>"$RESULTS"
	[ -n "${ROUND:-}" ] &&
		printf '  %-12s %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms%s\n' \
			"$1" "$3" "$4" "$5" \
			"$([ "$8" = 0 ] || echo "  ($8 socket errors)")"
	return 0
}

names=$(cut -d'|' -f1 "$setups")
reversed=$(echo "$names" | awk '{ l[NR] = $0 } END { for (i = NR; i; i--) print l[i] }')

# What one event costs the disk alone, one at a time, as the receiver
# stores it: create in tmp/, write, fdatasync, rename into new/, fsync
# new/. Each fsync waits for a journal commit, which bounds what a few
# workers can store durably however little else they do. It runs well
# after the start's deletes, which would slow its inode allocations.
probe=$(python3 "$SRCDIR/tests/bench/disk.py" "$BENCH_DIR/probe" "$BENCH_BODY")
probe_plain=${probe% *}
probe_durable=${probe#* }
echo "disk: one event stored in $probe_plain us, durably in $probe_durable us"

echo "warming up"
for name in $names; do
	ROUND= run "$name" 1
done
reset_spools

: >"$RESULTS"
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "round $r of $ROUNDS ($(($(date +%s) - started)) s)"
	# Alternate the order, so that a drift of the machine during a round
	# weighs on ceilings and receivers alike.
	if [ $((r % 2)) = 1 ]; then order=$names; else order=$reversed; fi
	for name in $order; do
		ROUND=$r run "$name" "$DURATION"
		reset_spools
		# Only this run leaves dirty pages behind; written back later,
		# they would slow the next runs.
		[ "$name" != lf-nofsync ] || sync
	done
	r=$((r + 1))
done

# Peak memory of a FastCGI worker that has received a 1 MiB body.
python3 - "$BENCH_DIR" <<'EOF'
import hashlib, hmac, json, os, sys, uuid
d = sys.argv[1]
secret = open(os.path.join(d, "secret"), "rb").read().rstrip(b"\n")
ids, size = [], 0
while size < 1048576 - 200:
    ids.append(str(uuid.uuid4()))
    size += 40
body = json.dumps({"event": "assets.updated", "body": ids}).encode()
body = body[:1048576]
while len(body) > 1048576 - 0:
    ids.pop()
    body = json.dumps({"event": "assets.updated", "body": ids}).encode()
open(os.path.join(d, "big.json"), "wb").write(body)
open(os.path.join(d, "big.sig"), "w").write(
    hmac.new(secret, body, hashlib.sha256).hexdigest())
EOF
big_url="http://127.0.0.1:$(port_of lf)/makini-webhook"
for i in 1 2 3 4 5 6; do
	curl -s -o /dev/null -H "X-Webhook-Signature: $(cat "$BENCH_DIR/big.sig")" \
		--data-binary "@$BENCH_DIR/big.json" "$big_url"
done
big_size=$(wc -c <"$BENCH_DIR/big.json")
rss_kb=0
lf_pid=$(pgrep -f "$(serve_dir lf)/conf/lighttpd.conf" | head -n 1)
for pid in $(pgrep -P "$lf_pid"); do
	kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
	[ "$kb" -gt "$rss_kb" ] && rss_kb=$kb
done
serve_stop_all || :
# Some 300,000 event files: deleting them took a minute or more, so they
# go in the background, out of the scratch directory the next run wipes.
old=$SRCDIR/tests/trash/bench-spools.$$
mkdir "$old"
mv "$BENCH_DIR"/spool-* "$old"
(nice rm -rf "$old" </dev/null >/dev/null 2>&1 &)

# The report.
summary=$BENCH_DIR/summary
awk -v setups="$setups" -v results="$RESULTS" '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN {
	FS = "|"
	while ((getline < setups) > 0) {
		order[++ns] = $1; label[$1] = $2; ceil[$1] = $5
	}
	FS = " "
	while ((getline < results) > 0) {
		rps[$1, $2] = $3; p50[$1, $2] = $4; p99[$1, $2] = $5
		sockerr[$1] += $6
		if ($2 > rounds) rounds = $2
	}
	for (i = 1; i <= ns; i++) {
		s = order[i]
		for (r = 1; r <= rounds; r++) {
			a[r] = rps[s, r]; b[r] = p50[s, r]; c[r] = p99[s, r]
			q[r] = ceil[s] == "-" ? 0 : rps[s, r] / rps[ceil[s], r]
			f[r] = rps[s, r] / rps["flask", r]
			e[r] = rps[s, r] / rps["lf", r]
		}
		printf "%s|%s|%.0f|%.2f|%.2f|%s|%.2f|%.2f|%d\n", s, label[s],
			median(a, rounds), median(b, rounds), median(c, rounds),
			ceil[s] == "-" ? "-" : sprintf("%.2f", median(q, rounds)),
			median(f, rounds), median(e, rounds), sockerr[s]
	}
}' >"$summary"

col() {
	grep "^$1|" "$summary" | cut -d'|' -f"$2"
}
verdict() {
	if awk "BEGIN { exit !($1) }"; then echo met; else echo missed; fi
}

table=$BENCH_DIR/table
{
	echo "| setup | req/s | p50 ms | p99 ms | ratio to its ceiling | socket errors |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	while IFS='|' read -r s label rps p50 p99 ratio vsflask vslf errs; do
		echo "| $label | $rps | $p50 | $p99 | $ratio | $errs |"
	done <"$summary"
} >"$table"

lf_ratio=$(col lf 6)
cgi_ratio=$(col cgi 6)
static_ratio=$(col cgi-static 6)
lf_p99=$(col lf 5)
vs_flask=$(col lf 7)
full_vs_empty=$(col lf-full 8)
rss_mb=$(awk "BEGIN { printf \"%.1f\", $rss_kb / 1024 }")
targets=$BENCH_DIR/targets
{
	echo "| target | measured | |"
	echo "| --- | --- | --- |"
	echo "| lighttpd FastCGI, fsync on: ≥ 0.70 of its ceiling | $lf_ratio | $(verdict "$lf_ratio >= 0.70") |"
	echo "| lighttpd CGI: ≥ 0.85 of its ceiling | $cgi_ratio | $(verdict "$cgi_ratio >= 0.85") |"
	echo "| lighttpd CGI, \`make static\` build: ≥ 0.85 of its ceiling | $static_ratio | $(verdict "$static_ratio >= 0.85") |"
	echo "| lighttpd FastCGI p99 ≤ 2 ms at $CONNS connections | $lf_p99 ms | $(verdict "$lf_p99 <= 2") |"
	echo "| lighttpd FastCGI ≥ 3× the Flask receiver | ${vs_flask}× | $(verdict "$vs_flask >= 3") |"
	echo "| peak RSS of a FastCGI worker after $big_size-byte bodies ≤ 4 MB | $rss_mb MB (VmHWM) | $(verdict "$rss_kb <= 4096") |"
	# Faster by more than 10% with a full spool says the runs drifted.
	full_verdict=$(verdict "$full_vs_empty >= 0.90")
	awk "BEGIN { exit !($full_vs_empty > 1.10) }" &&
		full_verdict="unsettled: the empty-spool runs were the slow ones"
	echo "| $PREFILL events in new/: within 10% of an empty spool | $full_vs_empty | $full_verdict |"
} >"$targets"

echo
cat "$table"
echo
cat "$targets"

[ -n "$OUT" ] || exit 0
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
procs=$(sed -n 's/^[^#]*"max-procs" => \([0-9]*\).*/\1/p' \
	"$SRCDIR/lighttpd/makini-webhook-fastcgi.conf")
fs=$(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }')
{
	echo "# Benchmarks"
	echo
	echo "Produced by \`make bench\` (tests/bench/bench.sh); rerun it to"
	echo "refresh this file. Every setup answers the same signed Makini"
	echo "payload of $(wc -c <"$BENCH_BODY") bytes, posted over loopback by"
	echo "\`wrk -t$THREADS -c$CONNS -d${DURATION}s -s tests/bench/post.lua\`."
	echo "The setups run in turn, in alternating order, for $ROUNDS rounds;"
	echo "each figure is the median over the rounds, and each ratio the"
	echo "median of the per-round ratios to the ceiling measured in the same"
	echo "round. The ceilings run tests/bench/empty.c, a libfcgi program that"
	echo "reads the body and answers 204, under the same server config as"
	echo "the receiver. makini-webhook runs in spool mode with fsync on"
	echo "unless the row says otherwise. Compare ratios across machines, not"
	echo "req/s."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, spool on $fs"
	echo "- system: $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)"
	echo "- servers: $(lighttpd -v | head -n 1 | cut -d' ' -f1), $(apache2 -v | sed -n 's/^Server version: //p') with mod_fcgid, gunicorn $(gunicorn --version 2>&1 | awk "{ gsub(/[()]/, \"\"); print \$NF }")"
	echo "- disk: one event stored alone in $probe_plain µs, durably (fdatasync, rename, fsync of new/) in $probe_durable µs (tests/bench/disk.py)"
	echo "- command: \`make bench\` (BENCH_ROUNDS=$ROUNDS BENCH_DURATION=$DURATION)"
	echo
	cat "$table"
	echo
	echo "## Targets"
	echo
	cat "$targets"
	echo
	echo "## Reading the durable rows"
	echo
	echo "A 200 means the event file and new/ were fsynced: two journal"
	echo "commits, which on this machine took $probe_durable µs per event"
	echo "stored alone, against $probe_plain µs without them. The shipped"
	echo "lighttpd config runs $procs receiver processes, so the durable rows"
	echo "are bounded by the disk's flush time and by how many fsyncs run at"
	echo "once (the kernel commits concurrent ones together), not by the"
	echo "receiver's own work; the FSYNC=0 row shows that work against the"
	echo "same ceiling. Flask's four workers keep four fsyncs in flight,"
	echo "and Apache's mod_fcgid config up to 32."
} >"$OUT"
echo
echo "wrote $OUT ($(($(date +%s) - started)) s)"
