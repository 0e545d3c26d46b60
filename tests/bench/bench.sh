#!/bin/sh
# See LICENSE file for copyright and license details.
# The side-by-side benchmark behind `make bench`. Every setup answers the
# same signed Makini payload of about 1 KB, posted by wrk over loopback
# (wrk -t2 -c16, tests/bench/post.lua). The setups run one after the other,
# in alternating order, for several rounds; each round gives every setup's
# ratio to its references measured seconds apart, and the tables show the
# median over the rounds. The ratios are what to compare across machines;
# the req/s figures move with the machine and its neighbours.
#
# makini-webhook is measured against three programs run under the same
# shipped config with the same processes: the empty ceiling
# (tests/bench/empty.c: read the body, answer), and two floors
# (tests/bench/floor.c): the durable floor stores each event with the
# contract's file operations and nothing else, the no-sync floor does the
# same without its syncs. The ratios to the floors are what the
# receiver's code controls; the ratio to the ceiling mostly measures the
# disk. Each is taken with the spool on the tree's own file system (ext4
# here), on XFS (a loop device made for the run) and on tmpfs; a file
# system that cannot be made (not root, no mkfs.xfs) is skipped with a
# line saying why. A sweep of lighttpd's max-procs, durable, on the tree's
# own file system, is what the shipped worker counts are chosen from. A
# syscall count per request (strace -c on the FastCGI processes over a
# fixed number of requests) closes the run.
#
# The shared sync of new/ (src/spool_sync.c: deliveries whose links are
# made while a sync of new/ runs share the next one, across processes) is
# what lets makini-webhook pass the durable floor, which syncs new/ once
# per event: its table sets the two side by side with 1, 4, 8 and 16
# processes on each file system.
#
# Environment: BENCH_ROUNDS (5), BENCH_DURATION (seconds per run, 1),
# BENCH_SWEEP (the max-procs values, "1 4 8 16 32"; the shipped value is
# always added), BENCH_STRACE_REQUESTS (1000), BENCH_PREFILL (100000),
# BENCH_OUT (the Markdown report, BENCHMARKS.md at the top of the tree;
# empty for none).
set -eu

cd "$(dirname "$0")/../.."
SRCDIR=$(pwd)
ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_DURATION:-1}
SWEEP=${BENCH_SWEEP:-1 4 8 16 32}
# The process counts of the shared sync's table, on every file system.
GROUP_PROCS="1 4 8 16"
STRACE_REQUESTS=${BENCH_STRACE_REQUESTS:-1000}
OUT=${BENCH_OUT-$SRCDIR/BENCHMARKS.md}
THREADS=2
CONNS=16
BIN=$SRCDIR/cgi/makini-webhook.cgi
EMPTY=$SRCDIR/tests/trash/bench-empty
FLOOR=$SRCDIR/tests/trash/bench-floor-durable
FLOOR_NOSYNC=$SRCDIR/tests/trash/bench-floor-nosync
STATIC=$SRCDIR/tests/trash/bench-static
BENCH_DIR=$SRCDIR/tests/trash/bench
SECRET_FILE=$BENCH_DIR/secret
RESULTS=$BENCH_DIR/results
PREFILL=${BENCH_PREFILL:-100000}
XFS_IMAGE=$SRCDIR/tests/trash/bench-xfs.img
# The shipped lighttpd config's processes: the main rows run it as it is.
PROCS=$(sed -n 's/^[^#]*"max-procs" => \([0-9]*\).*/\1/p' \
	"$SRCDIR/lighttpd/makini-webhook-fastcgi.conf")

. "$SRCDIR/tests/bench/serve.sh"

for tool in wrk lighttpd apache2 gunicorn curl python3 ab findmnt; do
	command -v $tool >/dev/null || {
		echo "bench: $tool is missing: run 'make deps'" >&2
		exit 1
	}
done
for f in "$BIN" "$EMPTY" "$FLOOR" "$FLOOR_NOSYNC" "$STATIC"; do
	[ -x "$f" ] || {
		echo "bench: $f is missing: run 'make bench'" >&2
		exit 1
	}
done

started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# The file systems this run mounts below BENCH_DIR, unmounted (deepest
# first) at the end and before a new run, also after one that was killed.
unmount_all() {
	awk -v d="$BENCH_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m"
		done
	if [ -f "$XFS_IMAGE" ]; then
		for dev in $(losetup --list -n -O NAME -j "$XFS_IMAGE"); do
			losetup -d "$dev"
		done
		rm -f "$XFS_IMAGE"
	fi
}
cleanup() {
	serve_stop_all || :
	unmount_all || :
}
unmount_all
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The secret, a Makini-shaped payload of about 1 KB and its signature.
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

# The cache flushes the tree's disk completed (the 16th field of its stat
# in /sys, Linux 5.5 on; with a partition, the disk's own), or nothing
# where they cannot be read. Each row's flushes per request are counted
# from it: the durable rows' syncs end in flushes, and the block layer
# merges flushes that wait at once, so this count is what shows how many
# syncs a disk really paid for.
FLUSH_STAT=
flush_dev=$(findmnt -n -o SOURCE --target "$SRCDIR")
flush_parent=$(lsblk -ndo PKNAME "$flush_dev" 2>/dev/null || true)
flush_dev=${flush_parent:-${flush_dev#/dev/}}
[ "$(awk '{ print NF }' "/sys/class/block/$flush_dev/stat" 2>/dev/null)" -ge 17 ] 2>/dev/null &&
	FLUSH_STAT=/sys/class/block/$flush_dev/stat
flushes() {
	if [ -n "$FLUSH_STAT" ]; then awk '{ print $16 }' "$FLUSH_STAT"; else echo 0; fi
}

# The spool file systems: the tree's own (ext4 here), XFS on a loop device
# and tmpfs, each a directory in which every setup gets a spool of its own.
# fs_dir KEY, fs_skip KEY (why it is missing, empty when it is there).
FS_KEYS="disk xfs tmpfs"
ROOT_FS=$(findmnt -n -o FSTYPE --target "$BENCH_DIR")
skip_xfs=
skip_tmpfs=
fs_dir() {
	case $1 in
	disk) echo "$BENCH_DIR" ;;
	*) echo "$BENCH_DIR/mnt-$1" ;;
	esac
}
fs_name() {
	case $1 in
	disk) echo "$ROOT_FS" ;;
	*) echo "$1" ;;
	esac
}
fs_skip() {
	case $1 in
	xfs) echo "$skip_xfs" ;;
	tmpfs) echo "$skip_tmpfs" ;;
	esac
}
if [ "$(id -u)" != 0 ]; then
	skip_xfs="not root: no loop device can be set up"
	skip_tmpfs="not root: no tmpfs can be mounted"
else
	# An image on the tree's own disk, so that XFS's flushes reach the
	# same device as the other rows' (through the loop device and the
	# image's file). It is written in full first and used with direct
	# I/O, so that it behaves more as a partition would: with a sparse
	# image each flush would also wait for ext4 to allocate the image's
	# blocks, and through the page cache for it to write them (a durable
	# event took about twice as long so). The size leaves room
	# for the events of every run: the no-sync rows store up to some
	# 20,000 a second, about 5 KB each on XFS.
	xfs_dio=off
	xfs_mb=$((1024 + (ROUNDS + 1) * DURATION * 200))
	if ! command -v mkfs.xfs >/dev/null; then
		skip_xfs="mkfs.xfs is missing (xfsprogs: make deps)"
	elif ! { mkdir -p "$(fs_dir xfs)" &&
		dd if=/dev/zero of="$XFS_IMAGE" bs=1M count="$xfs_mb" \
			oflag=direct status=none &&
		mkfs.xfs -q -f "$XFS_IMAGE" &&
		{ xfs_dev=$(losetup --find --show --direct-io=on "$XFS_IMAGE") ||
		  xfs_dev=$(losetup --find --show "$XFS_IMAGE"); } &&
		mount "$xfs_dev" "$(fs_dir xfs)"; } >"$BENCH_DIR/xfs.log" 2>&1
	then
		skip_xfs="the loop device could not be made: $(tail -n 1 "$BENCH_DIR/xfs.log")"
	else
		case $(losetup --list -n -O DIO "$xfs_dev" | tr -d ' ') in
		1) xfs_dio=on ;;
		*) xfs_dio=off ;;
		esac
	fi
	if ! { mkdir -p "$(fs_dir tmpfs)" &&
		mount -t tmpfs -o size=6g,mode=0755 tmpfs "$(fs_dir tmpfs)"; } \
		>"$BENCH_DIR/tmpfs.log" 2>&1
	then
		skip_tmpfs="tmpfs could not be mounted: $(tail -n 1 "$BENCH_DIR/tmpfs.log")"
	fi
fi

# What the disk does, for the report: a journal or not, and where.
fs_journal() {
	d=$(fs_dir "$1")
	case $(findmnt -n -o FSTYPE --target "$d") in
	ext3|ext4)
		dev=$(basename "$(findmnt -n -o SOURCE --target "$d")")
		if ls /proc/fs/jbd2 2>/dev/null | grep -q "^$dev-"; then
			echo "jbd2 journal ($dev in /proc/fs/jbd2): each fsync waits for a journal commit, which concurrent fsyncs share"
		else
			echo "no journal (no $dev entry in /proc/fs/jbd2): each fsync writes its own blocks and flushes the disk's cache"
		fi ;;
	xfs)
		echo "XFS log ($(xfs_info "$d" 2>/dev/null | sed -n 's/^log *=\([a-z]*\).*/\1/p') log), on a loop device (direct I/O $xfs_dio) over a $xfs_mb MB file on the $ROOT_FS disk: each fsync forces the log, which concurrent fsyncs share" ;;
	tmpfs)
		echo "memory only: fdatasync and fsync return at once" ;;
	*)
		findmnt -n -o FSTYPE --target "$d" ;;
	esac
}
for k in $FS_KEYS; do
	if [ -n "$(fs_skip $k)" ]; then
		echo "bench: skipping the $k rows: $(fs_skip $k)"
	else
		eval "journal_$k=\$(fs_journal $k)"
	fi
done

# name | label | server start | URL path | ceiling name | spool | floor
setups=$BENCH_DIR/setups
: >"$setups"
setup() {
	echo "$1|$2|$3|$4|$5|$6|${7:-}" >>"$setups"
	mkdir -p "$6"
}
p() { free_port; }
# lighttpd FastCGI, the shipped config: lf NAME LABEL PROGRAM FS [VAR=VALUE]
# (with lf_procs set, that many processes instead of the shipped ones).
lf_procs=
lf() {
	name=$1 label=$2 prog=$3 spool=$(fs_dir "$4")/spool-$1
	shift 4
	floor=
	case $prog in "$FLOOR"|"$FLOOR_NOSYNC") floor=1 ;; esac
	setup "$name" "$label" \
		"SERVE_PROCS=$lf_procs serve $name lighttpd fastcgi $prog $(p) $spool $*" \
		/makini-webhook lf-empty "$spool" "$floor"
}
# The names of the rows of file system $1, for program $2 (floor,
# floor-nosync, lf, lf-nofsync).
fs_row() {
	case $1 in
	disk) echo "lf-$2" | sed 's/^lf-lf/lf/' ;;
	*) echo "$1-$2" ;;
	esac
}
# The name of the durable row of $1 (lf or floor) with $2 processes.
sweep_row() {
	if [ "$2" = "$PROCS" ]; then
		fs_row disk "$1"
	else
		echo "w$2-$1"
	fi
}
# The same on file system $3.
group_row() {
	if [ "$3" = disk ] || [ "$2" = "$PROCS" ]; then
		case $3 in
		disk) sweep_row "$1" "$2" ;;
		*) fs_row "$3" "$1" ;;
		esac
	else
		echo "g$2-$3-$1"
	fi
}
sweep=$(for n in $SWEEP $PROCS; do echo "$n"; done | sort -n -u)

# Rows compared with each other run next to each other, as the disk's
# flush time, which bounds the durable ones, drifts: each floor beside
# makini-webhook on the same file system, the sweep beside the shipped
# count.
setup lf-empty "lighttpd FastCGI: empty.c (ceiling)" \
	"SERVE_PROCS= serve lf-empty lighttpd fastcgi $EMPTY $(p) $BENCH_DIR/spool-lf-empty" \
	/makini-webhook lf-empty "$BENCH_DIR/spool-lf-empty"
lf lf-floor "lighttpd FastCGI: durable floor, $ROOT_FS" "$FLOOR" disk
lf lf "lighttpd FastCGI: makini-webhook, $ROOT_FS" "$BIN" disk
lf lf-full "lighttpd FastCGI: makini-webhook, $ROOT_FS, $PREFILL events in new/" \
	"$BIN" disk
setup flask "gunicorn -w 4: Flask receiver (durable too), $ROOT_FS" \
	"serve_gunicorn flask $SRCDIR/tests/bench $(p) $BENCH_DIR/spool-flask" \
	/webhook - "$BENCH_DIR/spool-flask"
for n in $sweep; do
	[ "$n" != "$PROCS" ] || continue
	lf_procs=$n
	lf "w$n-lf" \
		"lighttpd FastCGI, $n processes: makini-webhook, $ROOT_FS" "$BIN" disk
	lf "w$n-floor" \
		"lighttpd FastCGI, $n processes: durable floor, $ROOT_FS" "$FLOOR" disk
	lf_procs=
done
lf lf-nofsync "lighttpd FastCGI: makini-webhook, $ROOT_FS, FSYNC=0 (not durable)" \
	"$BIN" disk FSYNC=0
lf lf-floor-nosync "lighttpd FastCGI: no-sync floor, $ROOT_FS" "$FLOOR_NOSYNC" disk
for k in xfs tmpfs; do
	[ -z "$(fs_skip $k)" ] || continue
	lf $k-floor "lighttpd FastCGI: durable floor, $k" "$FLOOR" $k
	lf $k-lf "lighttpd FastCGI: makini-webhook, $k" "$BIN" $k
	lf $k-lf-nofsync "lighttpd FastCGI: makini-webhook, $k, FSYNC=0 (not durable)" \
		"$BIN" $k FSYNC=0
	lf $k-floor-nosync "lighttpd FastCGI: no-sync floor, $k" "$FLOOR_NOSYNC" $k
	# The shared sync's rows that the main ones and the sweep lack.
	for n in $GROUP_PROCS; do
		[ "$n" != "$PROCS" ] || continue
		lf_procs=$n
		lf "g$n-$k-lf" \
			"lighttpd FastCGI, $n processes: makini-webhook, $k" "$BIN" $k
		lf "g$n-$k-floor" \
			"lighttpd FastCGI, $n processes: durable floor, $k" "$FLOOR" $k
		lf_procs=
	done
done
setup ap-empty "Apache mod_fcgid: empty.c (ceiling)" \
	"serve ap-empty apache fcgid $EMPTY $(p) $BENCH_DIR/spool-ap" \
	/makini-webhook ap-empty "$BENCH_DIR/spool-ap"
setup ap "Apache mod_fcgid: makini-webhook" \
	"serve ap apache fcgid $BIN $(p) $BENCH_DIR/spool-ap" \
	/makini-webhook ap-empty "$BENCH_DIR/spool-ap"
setup cgi-empty "lighttpd CGI: empty.c (ceiling)" \
	"serve cgi-empty lighttpd cgi $EMPTY $(p) $BENCH_DIR/spool-cgi" \
	/makini-webhook cgi-empty "$BENCH_DIR/spool-cgi"
setup cgi "lighttpd CGI: makini-webhook" \
	"serve cgi lighttpd cgi $BIN $(p) $BENCH_DIR/spool-cgi" \
	/makini-webhook cgi-empty "$BENCH_DIR/spool-cgi"
setup cgi-static "lighttpd CGI: makini-webhook, make static" \
	"serve cgi-static lighttpd cgi $STATIC $(p) $BENCH_DIR/spool-cgi" \
	/makini-webhook cgi-empty "$BENCH_DIR/spool-cgi"

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

field() {
	grep "^$1|" "$setups" | cut -d'|' -f"$2"
}
port_of() {
	field "$1" 3 | awk '{ for (i = 1; i <= NF; i++)
		if ($i == "serve") { print $(i + 5); exit }
		else if ($i == "serve_gunicorn") { print $(i + 3); exit } }'
}
# The FastCGI processes of lighttpd setup $1: lighttpd's children.
workers_of() {
	pgrep -P "$(head -n 1 "$(serve_dir "$1")/pids")" || :
}

echo "starting servers ($(($(date +%s) - started)) s)"
while IFS='|' read -r name label start path ceiling spool floor; do
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

# Moves the events a run of setup $1 stored out of the way, so that every
# run starts from the same spool: empty, or the prefilled one. They are
# deleted only at the end: ext4 scans past recently deleted inodes when it
# allocates new ones, which slowed the next run by up to a half. A floor
# keeps its directories open, and opens them again on SIGHUP.
rotated=0
reset_spool() {
	rotated=$((rotated + 1))
	spool=$(field "$1" 6)
	if [ "$1" = lf-full ]; then
		full="$spool/assets"
		mkdir "$full/added$rotated"
		find "$full/new" -name '2*' -exec mv -t "$full/added$rotated" {} +
		return 0
	fi
	for new in "$spool"/*/new "$spool"/new; do
		[ -d "$new" ] || continue
		mv "$new" "$new.old$rotated"
		# A request that lighttpd still had in hand when wrk stopped
		# may make it again (as the receiver does) before we do.
		mkdir -p "$new"
		chown --reference="$new.old$rotated" "$new"
		chmod --reference="$new.old$rotated" "$new"
	done
	if [ -n "$(field "$1" 7)" ]; then
		for pid in $(workers_of "$1"); do
			kill -HUP "$pid"
		done
	fi
}

# run NAME SECONDS: one wrk run, appending "name round rps p50 p99 errors
# flushes-per-request" to RESULTS when ROUND is set.
run() {
	url="http://127.0.0.1:$(port_of "$1")$(field "$1" 4)"
	flushes_before=$(flushes)
	# A long timeout: a request that waits (mod_fcgid's spawn throttle)
	# counts in the latencies rather than as an error.
	line=$(wrk -t$THREADS -c$CONNS -d"$2"s --timeout 10s \
		-s "$SRCDIR/tests/bench/post.lua" "$url" | grep '^BENCH ') || {
		echo "bench: wrk failed on $1" >&2
		exit 1
	}
	set -- "$1" $line
	fpr=$(awk -v a="$flushes_before" -v b="$(flushes)" -v n="$7" \
		'BEGIN { printf "%.2f", (n > 0 ? (b - a) / n : 0) }')
	[ -n "$FLUSH_STAT" ] || fpr=-
	if [ "$6" != 0 ]; then
		echo "bench: $1: $6 of $7 answers were errors" >&2
		exit 1
	fi
	[ -n "${ROUND:-}" ] &&
		echo "$1 $ROUND $3 $4 $5 $8 $fpr" >>"$RESULTS"
	[ -n "${ROUND:-}" ] &&
		printf '  %-18s %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms%s\n' \
			"$1" "$3" "$4" "$5" \
			"$([ "$8" = 0 ] || echo "  ($8 socket errors)")"
	return 0
}

names=$(cut -d'|' -f1 "$setups")
reversed=$(echo "$names" | awk '{ l[NR] = $0 } END { for (i = NR; i; i--) print l[i] }')

# What one event costs each file system alone, one at a time, with the
# floor's operations: create in tmp/, write, fdatasync, link into new/,
# fsync new/. It runs well after the start's deletes, which would slow
# its inode allocations.
for k in $FS_KEYS; do
	[ -z "$(fs_skip $k)" ] || continue
	probe=$(python3 "$SRCDIR/tests/bench/disk.py" "$(fs_dir $k)/probe" "$BENCH_BODY")
	eval "probe_plain_$k=\${probe% *} probe_durable_$k=\${probe#* }"
	echo "disk, $(fs_name $k): one event stored in ${probe% *} us, durably in ${probe#* } us"
done

echo "warming up ($(($(date +%s) - started)) s)"
for name in $names; do
	ROUND= run "$name" 1
	reset_spool "$name"
done
sync

: >"$RESULTS"
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "round $r of $ROUNDS ($(($(date +%s) - started)) s)"
	# Alternate the order, so that a drift of the machine during a round
	# weighs on references and receivers alike.
	if [ $((r % 2)) = 1 ]; then order=$names; else order=$reversed; fi
	for name in $order; do
		ROUND=$r run "$name" "$DURATION"
		reset_spool "$name"
		# Only these runs leave dirty pages behind; written back later,
		# they would slow the next runs.
		case $name in
		tmpfs-*) ;;
		*nofsync|*nosync) sync ;;
		esac
	done
	r=$((r + 1))
done
echo "rounds done ($(($(date +%s) - started)) s)"

# Syscalls per request: strace -c attached to every FastCGI process of a
# setup while ab posts a fixed number of events, four at a time. Counts
# only, so strace's slowness does not matter; lighttpd's own calls are not
# counted.
strace_count() {
	sname=$1
	out=$BENCH_DIR/strace-$sname
	url="http://127.0.0.1:$(port_of "$sname")$(field "$sname" 4)"
	set --
	for pid in $(workers_of "$sname"); do
		set -- "$@" -p "$pid"
	done
	# A few requests first, so that what a process does once (a floor
	# opening its directories after the last SIGHUP) is not counted.
	ab -q -n 100 -c 4 -p "$BENCH_BODY" -T application/json \
		-H "X-Webhook-Signature: $(cat "$BENCH_SIG")" "$url" >/dev/null 2>&1 ||
		:
	strace -c -f -q -o "$out.raw" "$@" &
	st=$!
	# Time to attach to every process before the first request.
	sleep 1
	ab -q -n "$STRACE_REQUESTS" -c 4 -p "$BENCH_BODY" \
		-T application/json -H "X-Webhook-Signature: $(cat "$BENCH_SIG")" \
		"$url" >"$out.ab" 2>&1 || {
		kill -INT $st 2>/dev/null || :; wait $st || :
		echo "bench: ab failed on $sname" >&2
		cat "$out.ab" >&2
		exit 1
	}
	kill -INT $st 2>/dev/null || :
	wait $st || :
	if grep -q '^Non-2xx responses' "$out.ab" ||
	    ! grep -q "^Complete requests: *$STRACE_REQUESTS\$" "$out.ab"; then
		echo "bench: ab on $sname did not get $STRACE_REQUESTS answers of 2xx" >&2
		cat "$out.ab" >&2
		exit 1
	fi
	# "% time seconds usecs/call calls [errors] syscall": calls is
	# the fourth column, the name the last.
	awk -v n="$STRACE_REQUESTS" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
		printf "%s %.2f\n", $NF, $4 / n }' "$out.raw" >"$out"
	grep -q '^total ' "$out" || {
		skip_strace="strace counted nothing: $(head -n 1 "$out.raw" 2>/dev/null)"
		return 1
	}
}
strace_names="lf lf-floor lf-empty"
skip_strace=
if ! command -v strace >/dev/null; then
	skip_strace="strace is missing (apt-get install strace)"
else
	for name in $strace_names; do
		strace_count "$name" || break
	done
fi
if [ -n "$skip_strace" ]; then
	echo "bench: no syscall counts: $skip_strace"
else
	echo "syscalls counted ($(($(date +%s) - started)) s)"
fi

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
for i in $(seq $((PROCS + 2))); do
	curl -s -o /dev/null -H "X-Webhook-Signature: $(cat "$BENCH_DIR/big.sig")" \
		--data-binary "@$BENCH_DIR/big.json" "$big_url"
done
big_size=$(wc -c <"$BENCH_DIR/big.json")
rss_kb=0
for pid in $(workers_of lf); do
	kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
	[ "$kb" -gt "$rss_kb" ] && rss_kb=$kb
done
serve_stop_all || :
# The shared syncs' files in /dev/shm, one for each new/ directory the
# receivers stored into (each run's new/ is a fresh one).
find "$BENCH_DIR" -type d -name 'new*' 2>/dev/null | while read -r d; do
	stat -c '%d %i' "$d" |
		xargs printf '/dev/shm/makini-webhook.sync.%x.%x\n'
done | xargs rm -f
# Hundreds of thousands of event files: deleting them took a minute or
# more, so they go in the background, out of the scratch directory the
# next run wipes. The other file systems go with their unmounting.
unmount_all
old=$SRCDIR/tests/trash/bench-spools.$$
mkdir "$old"
mv "$BENCH_DIR"/spool-* "$old"
(nice rm -rf "$old" </dev/null >/dev/null 2>&1 &)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# The report. med NAME COLUMN (3 req/s, 4 p50, 5 p99): the median over
# the rounds; ratio A B: the median of the per-round ratios of A's req/s
# to B's, or "-" when either did not run.
med() {
	awk -v s="$1" -v c="$2" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == s { a[++n] = $c }
	END { if (!n) print "-"; else printf(c == 3 ? "%.0f\n" : "%.2f\n", median(a, n)) }
	' "$RESULTS"
}
ratio() {
	awk -v a="$1" -v b="$2" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == a { x[$2] = $3 } $1 == b { y[$2] = $3 }
	END {
		for (r in x) if (r in y && y[r] > 0) q[++n] = x[r] / y[r]
		if (!n) print "-"; else printf "%.2f\n", median(q, n)
	}' "$RESULTS"
}
sockerr() {
	awk -v s="$1" '$1 == s { e += $6 } END { print e + 0 }' "$RESULTS"
}
verdict() {
	case $1 in -) echo "not measured"; return ;; esac
	if awk "BEGIN { exit !($1 $2) }"; then echo met; else echo missed; fi
}

# Every row.
table=$BENCH_DIR/table
{
	echo "| setup | req/s | p50 ms | p99 ms | ratio to its ceiling | socket errors |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	while IFS='|' read -r s label start path ceiling spool floor; do
		if [ "$ceiling" = - ]; then q=-; else q=$(ratio "$s" "$ceiling"); fi
		echo "| $label | $(med "$s" 3) | $(med "$s" 4) | $(med "$s" 5) | $q | $(sockerr "$s") |"
	done <"$setups"
} >"$table"

# makini-webhook against the floors and the ceiling, per file system.
floors=$BENCH_DIR/floors
{
	echo "| spool on | durable floor req/s | makini-webhook req/s | p99 ms | **to the durable floor** | to the ceiling | no-sync floor req/s | makini-webhook FSYNC=0 req/s | p99 ms | **to the no-sync floor** | to the ceiling |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for k in $FS_KEYS; do
		if [ -n "$(fs_skip $k)" ]; then
			echo "| $k | skipped: $(fs_skip $k) | | | | | | | | | |"
			continue
		fi
		fl=$(fs_row $k floor) mw=$(fs_row $k lf)
		fln=$(fs_row $k floor-nosync) mwn=$(fs_row $k lf-nofsync)
		echo "| $(fs_name $k) | $(med "$fl" 3) | $(med "$mw" 3) | $(med "$mw" 5) | **$(ratio "$mw" "$fl")** | $(ratio "$mw" lf-empty) | $(med "$fln" 3) | $(med "$mwn" 3) | $(med "$mwn" 5) | **$(ratio "$mwn" "$fln")** | $(ratio "$mwn" lf-empty) |"
	done
} >"$floors"

# The shared sync of new/ against the durable floor's sync per event.
group=$BENCH_DIR/group
{
	echo "| spool on | processes | durable floor req/s | p99 ms | disk flushes per request | makini-webhook req/s | p99 ms | disk flushes per request | **to the durable floor** |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for k in $FS_KEYS; do
		if [ -n "$(fs_skip $k)" ]; then
			echo "| $k | skipped: $(fs_skip $k) | | | | | | | |"
			continue
		fi
		for n in $GROUP_PROCS; do
			fl=$(group_row floor "$n" $k) mw=$(group_row lf "$n" $k)
			mark=
			[ "$n" != "$PROCS" ] || mark=" (shipped)"
			echo "| $(fs_name $k) | $n$mark | $(med "$fl" 3) | $(med "$fl" 5) | $(med "$fl" 7) | $(med "$mw" 3) | $(med "$mw" 5) | $(med "$mw" 7) | **$(ratio "$mw" "$fl")** |"
		done
	done
} >"$group"

# The file systems.
disks=$BENCH_DIR/disks
{
	echo "| spool on | what a sync does | one event alone, µs | durably, µs |"
	echo "| --- | --- | ---: | ---: |"
	for k in $FS_KEYS; do
		if [ -n "$(fs_skip $k)" ]; then
			echo "| $k | skipped: $(fs_skip $k) | | |"
			continue
		fi
		eval "pp=\$probe_plain_$k pd=\$probe_durable_$k j=\$journal_$k"
		echo "| $(fs_name $k) | $j | $pp | $pd |"
	done
} >"$disks"

# The sweep of processes.
sweeptab=$BENCH_DIR/sweep
{
	echo "| max-procs | makini-webhook req/s | p50 ms | p99 ms | to 4 processes | durable floor req/s | p99 ms | makini-webhook to the floor |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for n in $sweep; do
		mw=$(sweep_row lf "$n") fl=$(sweep_row floor "$n")
		mark=
		[ "$n" != "$PROCS" ] || mark=" (shipped)"
		echo "| $n$mark | $(med "$mw" 3) | $(med "$mw" 4) | $(med "$mw" 5) | $(ratio "$mw" "$(sweep_row lf 4)") | $(med "$fl" 3) | $(med "$fl" 5) | $(ratio "$mw" "$fl") |"
	done
} >"$sweeptab"

# Syscalls per request.
syscalls=$BENCH_DIR/syscalls
if [ -n "$skip_strace" ]; then
	echo "Skipped: $skip_strace." >"$syscalls"
else {
	echo "| syscall | makini-webhook | durable floor | empty.c |"
	echo "| --- | ---: | ---: | ---: |"
	cat "$BENCH_DIR"/strace-lf "$BENCH_DIR"/strace-lf-floor \
		"$BENCH_DIR"/strace-lf-empty | awk '{ print $1 }' | sort -u |
	while read -r sc; do
		[ "$sc" = total ] && continue
		row="$sc"
		for name in $strace_names; do
			v=$(awk -v s="$sc" '$1 == s { print $2 }' "$BENCH_DIR/strace-$name")
			row="$row ${v:-0}"
		done
		echo "$row"
	done | sort -k2,2nr -k1,1 | awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
	row="| **total** |"
	for name in $strace_names; do
		row="$row **$(awk '$1 == "total" { print $2 }' "$BENCH_DIR/strace-$name")** |"
	done
	echo "$row"
} >"$syscalls"
fi

# The targets.
targets=$BENCH_DIR/targets
{
	echo "| target | measured | |"
	echo "| --- | --- | --- |"
	for k in $FS_KEYS; do
		if [ -n "$(fs_skip $k)" ]; then
			echo "| $k: fsync on, ≥ 0.95 of the durable floor; FSYNC=0, ≥ 0.92 of the no-sync floor | skipped: $(fs_skip $k) | |"
			continue
		fi
		q=$(ratio "$(fs_row $k lf)" "$(fs_row $k floor)")
		if [ $k = disk ]; then
			echo "| lighttpd FastCGI, fsync on, $(fs_name $k): ≥ 1.5× the durable floor (the shared sync of new/), $PROCS processes each | ${q}× | $(verdict "$q" ">= 1.5") |"
			continue
		fi
		echo "| lighttpd FastCGI, fsync on, $(fs_name $k): ≥ 0.95 of the durable floor, $PROCS processes each | $q | $(verdict "$q" ">= 0.95") |"
	done
	for k in $FS_KEYS; do
		[ -z "$(fs_skip $k)" ] || continue
		q=$(ratio "$(fs_row $k lf-nofsync)" "$(fs_row $k floor-nosync)")
		echo "| lighttpd FastCGI, FSYNC=0, $(fs_name $k): ≥ 0.92 of the no-sync floor | $q | $(verdict "$q" ">= 0.92") |"
	done
	q=$(ratio lf "$(sweep_row lf 4)")
	echo "| durable, shipped lighttpd config ($PROCS processes): ≥ 1.6× 4 processes | ${q}× | $(verdict "$q" ">= 1.6") |"
	q=$(ratio lf flask)
	echo "| lighttpd FastCGI ≥ 3× the Flask receiver (gunicorn -w 4, the same fsyncs) | ${q}× | $(verdict "$q" ">= 3") |"
	q=$(ratio lf lf-empty)
	echo "| lighttpd FastCGI, fsync on: ≥ 0.70 of its ceiling (bound by the disk: see the floors) | $q | $(verdict "$q" ">= 0.70") |"
	q=$(ratio cgi cgi-empty)
	echo "| lighttpd CGI: ≥ 0.85 of its ceiling | $q | $(verdict "$q" ">= 0.85") |"
	q=$(ratio cgi-static cgi-empty)
	echo "| lighttpd CGI, \`make static\` build: ≥ 0.85 of its ceiling | $q | $(verdict "$q" ">= 0.85") |"
	q=$(med lf 5)
	echo "| lighttpd FastCGI p99 ≤ 2 ms at $CONNS connections | $q ms | $(verdict "$q" "<= 2") |"
	rss_mb=$(awk "BEGIN { printf \"%.1f\", $rss_kb / 1024 }")
	echo "| peak RSS of a FastCGI worker after $big_size-byte bodies ≤ 4 MB | $rss_mb MB (VmHWM) | $(verdict "$rss_kb" "<= 4096") |"
	# Faster by more than 10% with a full spool says the runs drifted.
	q=$(ratio lf-full lf)
	full_verdict=$(verdict "$q" ">= 0.90")
	awk "BEGIN { exit !($q > 1.10) }" &&
		full_verdict="unsettled: the empty-spool runs were the slow ones"
	echo "| $PREFILL events in new/: within 10% of an empty spool | $q | $full_verdict |"
} >"$targets"

echo
cat "$disks"
echo
cat "$floors"
echo
cat "$group"
echo
cat "$sweeptab"
echo
cat "$syscalls"
echo
cat "$table"
echo
cat "$targets"

elapsed=$(($(date +%s) - started))
[ -n "$OUT" ] || { echo "done ($elapsed s)"; exit 0; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
disk_dev=$(findmnt -n -o SOURCE --target "$SRCDIR")
disk_what="$disk_dev, $ROOT_FS"
cache=$(cat "/sys/block/${disk_dev#/dev/}/queue/write_cache" 2>/dev/null) &&
	disk_what="$disk_what, its write cache in $cache mode (so that every sync ends with a cache flush)"
{
	echo "# Benchmarks"
	echo
	echo "Produced by \`make bench\` (tests/bench/bench.sh); rerun it to"
	echo "refresh this file. Every setup answers the same signed Makini"
	echo "payload of $(wc -c <"$BENCH_BODY") bytes, posted over loopback by"
	echo "\`wrk -t$THREADS -c$CONNS -d${DURATION}s -s tests/bench/post.lua\`."
	echo "The setups run in turn, in alternating order, for $ROUNDS rounds;"
	echo "each figure is the median over the rounds, and each ratio the"
	echo "median of the per-round ratios to its reference measured in the"
	echo "same round, seconds apart. Every lighttpd FastCGI row runs the"
	echo "shipped \`lighttpd/makini-webhook-fastcgi.conf\` ($PROCS processes"
	echo "unless the row says otherwise), with the program named in the row"
	echo "as its \`bin-path\`. makini-webhook runs in spool mode with fsync"
	echo "on unless the row says otherwise. Compare ratios across machines,"
	echo "not req/s."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM; load average $load_start at the start, $load_end at the end"
	echo "- disk: $disk_what; the XFS rows on a loop device over a file on it, the tmpfs rows in memory"
	echo "- system: $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)"
	echo "- servers: $(lighttpd -v | head -n 1 | cut -d' ' -f1), $(apache2 -v | sed -n 's/^Server version: //p') with mod_fcgid, gunicorn $(gunicorn --version 2>&1 | awk "{ gsub(/[()]/, \"\"); print \$NF }")"
	echo "- command: \`make bench\` (BENCH_ROUNDS=$ROUNDS BENCH_DURATION=$DURATION BENCH_SWEEP=\"$SWEEP\"); tests/bench/bench.sh took $elapsed s"
	# The load at the end is the benchmark's own: only the start's tells
	# of other work.
	if awk -v a="${load_start%% *}" -v n="$(nproc)" \
	    'BEGIN { exit !(a > n) }'; then
		echo "- note: the machine was busy with other work when the run started (a load average above its $(nproc) CPUs), so these figures are noisier than an idle machine's"
	fi
	echo
	echo "## What the figures are measured against"
	echo
	echo "- **The durable floor** (\`tests/bench/floor.c\`, built with"
	echo "  \`FLOOR_SYNC=1\`): the least a receiver can do and still keep the"
	echo "  contract's promise that a 200 means the event is on disk. Per"
	echo "  request it reads the body, creates an unnamed file in"
	echo "  \`SPOOL/assets/tmp/\` (O_TMPFILE), writes the body, fdatasyncs it,"
	echo "  links it into \`new/<name>.json\` (linkat through /proc/self/fd),"
	echo "  fsyncs the file (its inode, with the link counted) and \`new/\`,"
	echo "  and answers 200 with the name; \`tmp/\` and \`new/\`"
	echo "  are opened once per process. No signature, no JSON, no"
	echo "  configuration, no log line. No receiver that stores events this"
	echo "  way, one sync of \`new/\` per event, can be faster on the same"
	echo "  disk, server config and processes."
	echo "- **The no-sync floor** (\`FLOOR_SYNC=0\`): the same program without"
	echo "  its syncs, against makini-webhook with"
	echo "  \`MAKINI_WEBHOOK_FSYNC=0\`. With the disk's flushes out of the way"
	echo "  this ratio shows the receiver's per-request work (signature,"
	echo "  JSON, id, opening the spool's directories, the log line) most"
	echo "  plainly."
	echo "- **The shared sync of new/.** The durable floor syncs \`new/\`"
	echo "  once per event, as makini-webhook did. One fsync of a directory"
	echo "  makes durable every link made in it before the fsync began, so"
	echo "  makini-webhook's deliveries share it (\`src/spool_sync.c\`): each"
	echo "  takes a ticket after its link and answers once a sync that began"
	echo "  after that has ended, run by whichever process got the lock of a"
	echo "  small file in \`/dev/shm\` that they all map; the others sleep"
	echo "  until it ends. Its own file's fdatasync stays its own. Where"
	echo "  every sync costs the disk a flush of its own, that leaves one"
	echo "  flush per event instead of two, and a ratio above 1.00 to the"
	echo "  durable floor. Where the kernel's block layer already merges the"
	echo "  flushes that wait at the same moment into one, the floor's"
	echo "  concurrent syncs pay about one flush per event too (the disk"
	echo "  flushes per request in the shared sync's table below say which"
	echo "  case a run met). Either way each delivery waits for two flushes"
	echo "  one after the other, its data's and then its link's (the file's"
	echo "  inode and \`new/\`, synced at once), since a link must not reach"
	echo "  the disk before the data it names; sharing only cuts how many"
	echo "  flushes the disk does, not that wait. XFS shares"
	echo "  one log force among concurrent fsyncs, and on tmpfs a sync costs"
	echo "  nothing, so there nothing is shared. One process at a time pays"
	echo "  two more system calls (a lock and its release)."
	echo "- **The ceiling** (\`tests/bench/empty.c\`): reads the body and"
	echo "  answers 204; the server and the transport alone. A durable"
	echo "  receiver's ratio to it mostly measures the disk."
	echo
	echo "## The spool's file systems"
	echo
	echo "Storing one event at a time with the floor's operations"
	echo "(\`tests/bench/disk.py\`, 200 events without and with the syncs):"
	echo
	cat "$disks"
	echo
	echo "## makini-webhook against the floors"
	echo
	echo "lighttpd FastCGI, $PROCS processes for every program; the ratios"
	echo "in bold are the ones that count. On tmpfs the syncs cost nothing,"
	echo "so both of its ratios show the receiver's own work per request"
	echo "against the floor's; on a disk the durable ratio shows how much of"
	echo "that work still counts once every request also waits for its syncs."
	echo
	cat "$floors"
	echo
	echo "## The shared sync of new/ against the durable floor"
	echo
	echo "lighttpd FastCGI with its \`max-procs\` set to each count, the"
	echo "durable floor and makini-webhook side by side on each file system."
	echo "wrk keeps $CONNS requests in flight, so with fewer processes"
	echo "requests queue in lighttpd, and only that many deliveries can"
	echo "ever wait for one sync together."
	echo
	cat "$group"
	echo
	echo "## Processes"
	echo
	echo "The shipped lighttpd config with its \`max-procs\` changed, durable,"
	echo "spool on $ROOT_FS. Each process serves one request at a time and"
	echo "waits for the disk during its syncs, so more processes keep more"
	echo "syncs in flight, which is where the durable rate comes from until"
	echo "the disk or the CPUs are saturated; wrk keeps $CONNS requests in"
	echo "flight, so counts past $CONNS cannot add. The shipped worker counts"
	echo "(lighttpd \`max-procs\`, spawn-fcgi \`children\`, mod_fcgid's limits)"
	echo "are chosen from this table; their comments say why."
	echo
	cat "$sweeptab"
	echo
	echo "## Syscalls per request"
	echo
	echo "\`strace -c -f\` attached to every FastCGI process of the $ROOT_FS"
	echo "setups, fsync on, while \`ab -n $STRACE_REQUESTS -c 4\` posts the same event:"
	echo "calls divided by $STRACE_REQUESTS. lighttpd's own calls are not counted."
	echo
	cat "$syscalls"
	echo
	echo "## Every row"
	echo
	cat "$table"
	echo
	echo "## Targets"
	echo
	cat "$targets"
} >"$OUT"
echo
echo "wrote $OUT ($elapsed s)"
BENCH_MARKDOWN=$OUT sh "$SRCDIR/tests/bench/cgi.sh"
