#!/bin/sh
# See LICENSE file for copyright and license details.
# Power cuts: every acknowledged event survives a crash of the file system,
# on XFS and on ext4. Each file system is made on a loop device (a file in
# the trash directory) and holds the spool. The shipped lighttpd FastCGI
# setup (4 workers) serves the receiver while six client threads post
# signed events of mixed sizes; at a random moment the file system is shut
# down without a log flush (xfs_io -x -c shutdown), which loses whatever
# had not reached the device, as a power cut does. Then the server stops,
# and unmounting and mounting again replays the journal. Every answer of
# 200 that ended before the cut must have its event in new/, byte for
# byte; every file in new/ must be a whole event signed with the secret;
# tmp/ must hold nothing.
#
# Queue mode likewise: events stored first, then drains run in a loop and
# the cut falls during them; each event must afterwards be in exactly one
# of new/ (pending or claimed), cur/ or failed/.
#
# The teeth: with MAKINI_WEBHOOK_FSYNC=0 the same check must find lost
# events; receivers built without the file's fdatasync or without the
# directory's fsync (make's test builds) are run too and their losses
# reported.
#
# The shared sync of new/ (src/spool_sync.c): sixteen clients post events
# of one type, so that deliveries wait for each other's syncs, on XFS,
# ext4 and ext4 without a journal; the shared file's counters must show
# that syncs were shared. Then a process takes the shared sync's lock and
# stops (SIGSTOP), and is killed (SIGKILL) half-way: every answer must
# still come within 2 s and nothing acknowledged may be lost. Without a
# journal nothing but the sync of new/ writes its links (on XFS and ext4
# the next event's fdatasync commits them too), so there a build that
# answers while another process's sync still runs (make's early-ack test
# build, which also leaves out its file's fsync), against a stopped
# holder, must lose events; the power cut there is a copy of the loop
# device's image taken at the cut (powercut.py), checked by e2fsck as the
# next boot would (the early-ack build's is read without). Without a journal the file's
# own inode, with the link counted, must be synced too, or e2fsck clears
# the entry: a build without that fsync (skip-inode-fsync) must lose
# events there.
#
# Cuts per file system: MAKINI_POWER_CUTS (3) with the real receiver,
# MAKINI_POWER_CUTS_QUEUE (2) in queue mode, MAKINI_POWER_CUTS_TEETH (1)
# for each of FSYNC=0 and the two test builds. make check-reliability
# runs 50, 50 and 5. MAKINI_POWER_CUT_FS (xfs ext4) picks the file
# systems. Needs root.

# As root, in a mount namespace of its own: a namespace that other work on
# the machine makes meanwhile would otherwise copy our mounts and keep a
# cut file system alive after we unmount it, and the remount would find
# the cut one again. Our mounts also go with the namespace.
if [ "$(id -u)" = 0 ] && [ -z "${MAKINI_T6700_NS:-}" ] &&
    unshare -m --propagation private true 2>/dev/null; then
	MAKINI_T6700_NS=1 exec unshare -m --propagation private \
		sh "$0" "$@"
fi
. "$(dirname "$0")/test-lib.sh"

CUTS=${MAKINI_POWER_CUTS:-3}
QUEUE_CUTS=${MAKINI_POWER_CUTS_QUEUE:-2}
TEETH_CUTS=${MAKINI_POWER_CUTS_TEETH:-1}
# Seconds of posting within which the cut falls.
SEND_SECONDS=1
# Seconds of draining within which the queue's cut falls.
DRAIN_SECONDS=0.8
FILESYSTEMS=${MAKINI_POWER_CUT_FS:-xfs ext4}

if [ "$(id -u)" != 0 ]; then
	test_skip 'power cuts need root (loop devices, mount)'
	test_done
fi
for cmd in lighttpd losetup xfs_io mkfs.xfs mkfs.ext4; do
	if ! command -v $cmd >/dev/null; then
		test_skip "$cmd is not installed"
		test_done
	fi
done

SECRET=power-cut-secret-$$
PC="python3 $SRCDIR/tests/reliability/powercut.py"
SUMMARY=$TRASH/summary.jsonl
SKIP_FDATASYNC=$SRCDIR/tests/trash/skip-fdatasync/makini-webhook.cgi
SKIP_DIR_FSYNC=$SRCDIR/tests/trash/skip-dir-fsync/makini-webhook.cgi
SKIP_INODE_FSYNC=$SRCDIR/tests/trash/skip-inode-fsync/makini-webhook.cgi
EARLY_ACK=$SRCDIR/tests/trash/early-ack/makini-webhook.cgi
printf '%s\n' "$SECRET" >secret
SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"
SV_SECRET_FILE=$TRASH/secret

test_failure_hook() {
	echo "# server logs (last lines):"
	server_logs "$TRASH/server" 2>&1 | grep -v FastCGI-stderr |
		tail -n 20 | sed 's/^/#   /'
}

# The loop devices and mounts are this script's own, recorded as they are
# made, and undone at exit whatever happened.
: >loops
cleanup_filesystems() {
	for fs in $FILESYSTEMS ext4nj; do
		mountpoint -q "$TRASH/mnt-$fs" 2>/dev/null &&
			{ umount "$TRASH/mnt-$fs" 2>/dev/null ||
			  umount -l "$TRASH/mnt-$fs"; }
	done
	while read -r dev; do
		losetup -d "$dev" 2>/dev/null
	done <"$TRASH/loops"
	: >"$TRASH/loops"
}
test_at_exit 'cleanup_filesystems'
test_at_exit 'server_stop "$TRASH/server"'
test_at_exit '[ -n "${DRAINS:-}" ] && kill $DRAINS 2>/dev/null'
test_at_exit '[ -n "${HOLDER:-}" ] && kill -KILL $HOLDER 2>/dev/null'

for fs in $FILESYSTEMS; do
	truncate -s 320M "$TRASH/$fs.img" &&
	dev=$(losetup -f --show "$TRASH/$fs.img") || exit 1
	echo "$dev" >>loops
	eval "DEV_$fs=\$dev"
	mkdir -p "mnt-$fs"
	case $fs in
	xfs) mkfs.xfs -q -f "$dev" ;;
	ext4) mkfs.ext4 -q -F "$dev" ;;
	esac || exit 1
done
# ext4 without a journal, small, as its image is copied at each cut.
truncate -s 64M "$TRASH/ext4nj.img" &&
DEV_ext4nj=$(losetup -f --show "$TRASH/ext4nj.img") || exit 1
echo "$DEV_ext4nj" >>loops
mkdir -p mnt-ext4nj
mkfs.ext4 -q -F -O ^has_journal "$DEV_ext4nj" || exit 1

# Unmounts file system $1 (waiting up to 5 s for the last user to go) and
# mounts it again, which replays its journal.
remount() {
	dev=$(eval echo "\$DEV_$1")
	for _ in $(seq 50); do
		umount "$TRASH/mnt-$1" 2>/dev/null && break
		sleep 0.1
	done
	! mountpoint -q "$TRASH/mnt-$1" || { echo "cannot unmount $1"; return 1; }
	mount "$dev" "$TRASH/mnt-$1"
}

# A fresh, empty spool on file system $1, its removal made durable first
# so that no event of an earlier round comes back in the next cut.
fresh_spool() {
	mountpoint -q "$TRASH/mnt-$1" || mount "$(eval echo "\$DEV_$1")" \
		"$TRASH/mnt-$1" || return 1
	SPOOL=$TRASH/mnt-$1/spool
	rm -rf "$SPOOL" && mkdir "$SPOOL" && sync -f "$TRASH/mnt-$1"
}

# start_server BIN FSYNC: the shipped lighttpd FastCGI setup on SPOOL.
start_server() {
	PORT=$(test_free_port)
	URL=$(server_url lighttpd fastcgi "$PORT")
	SV_BIN=$1 SV_SPOOL=$SPOOL SV_PASS=MAKINI_WEBHOOK_FSYNC \
		MAKINI_WEBHOOK_FSYNC=$2 \
		server_start lighttpd fastcgi "$PORT" "$TRASH/server"
}

# cut_round FS LABEL BIN FSYNC: posts under load, cuts the power at a
# random moment, remounts and checks; the counts go to SUMMARY.
cut_round() {
	fresh_spool "$1" && rm -f results.jsonl cut.json &&
	start_server "$3" "$4" || return 1
	$PC send --url "$URL" --secret "$SECRET" --out results.jsonl \
		--seconds $SEND_SECONDS --threads 6 --cut "$TRASH/mnt-$1" \
		--cut-file cut.json || { echo "the cut failed"; return 1; }
	server_stop "$TRASH/server"
	remount "$1" &&
	$PC check --results results.jsonl --spool "$SPOOL" --secret "$SECRET" \
		--cut-file cut.json --label "$2" --summary "$SUMMARY"
}

# queue_round FS LABEL FSYNC: events stored (spool mode, fsynced), then drains
# run one after another (hooks: most succeed, sites fail for good at the
# first attempt; FSYNC for the drains) and the power is cut during them.
queue_round() {
	fresh_spool "$1" && rm -f results.jsonl cut.json stop-drains &&
	start_server "$BIN" 1 &&
	$PC send --url "$URL" --secret "$SECRET" --out results.jsonl \
		--seconds 0.6 --threads 6 || return 1
	server_stop "$TRASH/server"
	(
		while [ ! -f stop-drains ]; do
			env -i PATH="$PATH" MAKINI_WEBHOOK_MODE=queue \
				MAKINI_WEBHOOK_HOOKS="$TRASH/hooks" \
				MAKINI_WEBHOOK_SPOOL="$SPOOL" \
				MAKINI_WEBHOOK_MAX_ATTEMPTS=1 \
				MAKINI_WEBHOOK_FSYNC="$3" \
				"$BIN" drain >>drain.log 2>&1
		done
	) &
	DRAINS=$!
	$PC cut --mount "$TRASH/mnt-$1" --cut-file cut.json \
		--seconds $DRAIN_SECONDS
	cut_rc=$?
	touch stop-drains
	for _ in $(seq 100); do
		kill -0 $DRAINS 2>/dev/null || break
		sleep 0.1
	done
	kill $DRAINS 2>/dev/null
	wait $DRAINS 2>/dev/null
	DRAINS=
	[ $cut_rc = 0 ] || { echo "the cut failed"; return 1; }
	remount "$1" &&
	$PC check --queue --results results.jsonl --spool "$SPOOL" \
		--secret "$SECRET" --cut-file cut.json --label "$2" \
		--summary "$SUMMARY"
}

# shared_round FS LABEL BIN HOLDER: sixteen clients post events of one
# type, and the power is cut at a random moment. HOLDER: none; stop (a
# process holds the shared sync's lock, stopped); kill (the same, killed
# after 0.5 s). Every answer must come within 2 s. SHARED gets the shared
# sync's counters, "linked N synced N syncs N".
shared_round() {
	fresh_spool "$1" && rm -f results.jsonl cut.json held snap.img &&
	for d in tmp new cur failed; do
		mkdir -p "$SPOOL/assets/$d" || return 1
	done
	sync -f "$SPOOL" &&
	shm=$(stat -c '%d %i' "$SPOOL/assets/new" |
		xargs printf '/dev/shm/makini-webhook.sync.%x.%x') &&
	start_server "$3" 1 || return 1
	if [ "$4" != none ]; then
		$PC hold --new "$SPOOL/assets/new" --owner "$(id -u www-data)" \
			>held &
		HOLDER=$!
		for _ in $(seq 100); do
			grep -q held held && break
			sleep 0.05
		done
		grep -q held held || { echo "no holder"; return 1; }
		[ "$4" = stop ] || (sleep 0.5; kill -KILL $HOLDER) &
	fi
	copy=
	[ "$1" != ext4nj ] ||
		copy="--image $TRASH/ext4nj.img --copy $TRASH/snap.img"
	$PC send --url "$URL" --secret "$SECRET" --out results.jsonl \
		--seconds $SEND_SECONDS --threads 16 --types assets \
		--cut "$TRASH/mnt-$1" --cut-file cut.json $copy ||
		{ echo "the cut failed"; return 1; }
	server_stop "$TRASH/server"
	[ -z "${HOLDER:-}" ] || { kill -KILL $HOLDER; wait $HOLDER; } 2>/dev/null
	HOLDER=
	SHARED=$($PC shared --file "$shm")
	echo "$2: $SHARED"
	if [ "$1" = ext4nj ]; then
		# The image as the cut left it, checked by e2fsck as a boot
		# after a power cut would (without a journal every mount after
		# an unclean stop needs it), then read with debugfs: the entries
		# of new/ that fsck kept, and each file through its inode.
		# fsck exits 1 when it fixed something, which a cut leaves.
		# The early-ack build, which leaves its file's fsync out as
		# well, is read without e2fsck: what it loses is then only the
		# entries that no sync of new/ wrote.
		remount ext4nj && umount "$TRASH/mnt-ext4nj" || return 1
		if [ "$3" != "$EARLY_ACK" ]; then
			fsck_rc=0
			e2fsck -fy "$TRASH/snap.img" >fsck.out 2>&1 ||
				fsck_rc=$?
			[ $fsck_rc -le 1 ] || { cat fsck.out; return 1; }
			echo "$2: e2fsck cleared $(grep -c "has deleted/unused inode" fsck.out) entries"
		fi
		rm -rf snap && mkdir snap &&
		debugfs -R "rdump /spool $TRASH/snap" "$TRASH/snap.img" \
			>debugfs.out 2>&1 || { cat debugfs.out; return 1; }
		$PC check --results results.jsonl --spool "$TRASH/snap/spool" \
			--secret "$SECRET" --cut-file cut.json --label "$2" \
			--summary "$SUMMARY" --max-seconds 2
		return
	fi
	remount "$1" &&
	$PC check --results results.jsonl --spool "$SPOOL" --secret "$SECRET" \
		--cut-file cut.json --label "$2" --summary "$SUMMARY" \
		--max-seconds 2
}

# Whether SHARED shows a shared sync in use: tickets taken, and (with
# $1 set) fewer syncs than links.
shared_in_use() {
	set -- "${1:-}" $SHARED
	[ "$3" -gt 0 ] && { [ -z "$1" ] || [ "$7" -lt "$3" ]; }
}

mkdir hooks
printf '#!/bin/sh\nexec cat >/dev/null\n' >hooks/default
printf '#!/bin/sh\nexit 1\n' >hooks/sites
chmod 0755 hooks/default hooks/sites

# Sums a column of SUMMARY over the rows whose label starts with $1.
total() {
	python3 - "$SUMMARY" "$1" "$2" <<-'PY'
	import json, sys
	rows = [json.loads(l) for l in open(sys.argv[1])]
	print(sum(r[sys.argv[3]] for r in rows if r["label"] == sys.argv[2]))
	PY
}

for fs in $FILESYSTEMS; do
	test_expect_success "$fs: $CUTS power cuts under load, nothing acknowledged lost" '
		for i in $(seq $CUTS); do
			cut_round $fs "$fs" "$BIN" 1 || exit 1
		done
	'
done

for fs in $FILESYSTEMS; do
	test_expect_success "$fs: $QUEUE_CUTS power cuts during drains, each event in one place" '
		for i in $(seq $QUEUE_CUTS); do
			queue_round $fs "$fs-queue" 1 || exit 1
		done
	'
done

for fs in $FILESYSTEMS ext4nj; do
	test_expect_success "$fs: 16 writers of one type share syncs, nothing acknowledged lost" '
		shared_round $fs "$fs-shared" "$BIN" none &&
		shared_in_use shared
	'
	test_expect_success "$fs: a stopped, then killed, holder of the shared sync delays answers by a bounded time, and loses nothing" '
		shared_round $fs "$fs-holder" "$BIN" kill &&
		shared_in_use
	'
done

test_expect_success 'ext4 without a journal: against a stopped holder the receiver syncs new/ itself' '
	shared_round ext4nj ext4nj-stopped "$BIN" stop &&
	shared_in_use
'

test_expect_success 'ext4 without a journal: a build that answers before the shared sync ends loses events' '
	shared_round ext4nj ext4nj-early-ack "$EARLY_ACK" stop >early.out 2>&1 || :
	cat early.out &&
	shared_in_use &&
	lost=$(total ext4nj-early-ack lost) &&
	echo "lost by the early-ack build: $lost" &&
	test "$lost" -gt 0
'

test_expect_success 'ext4 without a journal: a build that leaves the link count of its file unsynced loses events to e2fsck' '
	[ -x "$SKIP_INODE_FSYNC" ] || { echo "no $SKIP_INODE_FSYNC: make check builds it"; exit 1; }
	shared_round ext4nj ext4nj-skip-inode-fsync "$SKIP_INODE_FSYNC" none >inode.out 2>&1 || :
	cat inode.out &&
	lost=$(total ext4nj-skip-inode-fsync lost) &&
	echo "lost by the build without the fsync of its file: $lost" &&
	test "$lost" -gt 0
'

# The teeth. A round that loses events fails its check, so here the
# failures are counted, not the successes.
for fs in $FILESYSTEMS; do
	for i in $(seq $TEETH_CUTS); do
		cut_round $fs "$fs-fsync=0" "$BIN" 0 >>teeth.out 2>&1
		queue_round $fs "$fs-queue-fsync=0" 0 >>teeth.out 2>&1
		if [ -x "$SKIP_FDATASYNC" ] && [ -x "$SKIP_DIR_FSYNC" ]; then
			cut_round $fs "$fs-skip-fdatasync" "$SKIP_FDATASYNC" 1 \
				>>teeth.out 2>&1
			cut_round $fs "$fs-skip-dir-fsync" "$SKIP_DIR_FSYNC" 1 \
				>>teeth.out 2>&1
		fi
	done
done
sed -n '/acknowledged/s/^/# /p' teeth.out

test_expect_success 'with MAKINI_WEBHOOK_FSYNC=0 the check finds lost events' '
	lost=$(( $(total xfs-fsync=0 lost) + $(total ext4-fsync=0 lost) )) &&
	echo "lost with FSYNC=0: $lost" &&
	test "$lost" -gt 0
'

# The figures, whatever the outcome; queue rows show where the events
# were after the cut.
python3 - "$SUMMARY" <<'PY' | sed 's/^/# /'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
labels = []
for r in rows:
    if r["label"] not in labels:
        labels.append(r["label"])
print("%-20s %4s %6s %5s %5s %7s %16s" % ("", "cuts", "acked", "lost",
      "torn", "doubled", "200s after cut"))
for l in labels:
    rs = [r for r in rows if r["label"] == l]
    s = lambda k: sum(r.get(k, 0) for r in rs)
    line = "%-20s %4d %6d %5d %5d %7d %6d (%d missing)" % (
        l, len(rs), s("acknowledged"), s("lost"), s("torn"), s("doubled"),
        s("late"), s("late_missing"))
    if "cur" in rs[0]:
        line += "  pending %d, claimed %d, cur %d, failed %d" % (
            s("new"), s("claim"), s("cur"), s("failed"))
    print(line)
PY

test_done
