# See LICENSE file for copyright and license details.
# A real distributed file system for the cluster tests (tests/cluster/):
# one GlusterFS volume, v0, replicated over two bricks in $TRASH and
# mounted twice through FUSE, at $CLUSTER_M1 and $CLUSTER_M2. The two
# mounts stand in for two hosts sharing one spool. Sourced after
# test-lib.sh:
#
#	reason=$(cluster_skip_reason) && [ -n "$reason" ] && ... skip
#	cluster_up || ...	# at the top level: it registers its teardown
#
# glusterd, its bricks and the FUSE clients run in a network namespace of
# the test's own, holding loopback and one address on it: Gluster refuses
# 127.0.0.1 and localhost as brick hosts, and this way nothing of it
# listens outside the namespace. glusterd keeps its state in $TRASH
# through its own volfile, so a run killed before its teardown leaves no
# volume behind for the next glusterd to bring back.

CLUSTER_NS=makini-cluster-$$
CLUSTER_ADDR=10.88.0.1
CLUSTER_DIR=$TRASH/gluster
CLUSTER_M1=$TRASH/m1
CLUSTER_M2=$TRASH/m2
# Seconds any one step may take before the test gives up on it.
CLUSTER_STEP_TIMEOUT=30
# Directories that glusterd writes to whatever its volfile says.
CLUSTER_SYSTEM_DIRS="/var/lib/glusterd /run/gluster"

# Prints why the cluster tests cannot run here; nothing when they can.
cluster_skip_reason() {
	if [ "$(id -u)" != 0 ]; then
		echo "the cluster tests need root (FUSE mounts, a network namespace)"
	elif [ ! -c /dev/fuse ]; then
		echo "no /dev/fuse: the cluster tests need FUSE"
	elif ! command -v glusterd >/dev/null ||
		! command -v mount.glusterfs >/dev/null; then
		echo "GlusterFS is not installed: run 'make deps'"
	elif pgrep -x -r D,R,S,T glusterd >/dev/null; then
		# It would share /run/gluster and /var/lib/glusterd with ours. (A
		# zombie, such as one of ours not yet reaped, does not count.)
		echo "a glusterd is already running here; the cluster tests start their own"
	fi
}

cluster_ns() {
	nsenter --net="/run/netns/$CLUSTER_NS" "$@"
}

cluster_gluster() {
	timeout "$CLUSTER_STEP_TIMEOUT" nsenter --net="/run/netns/$CLUSTER_NS" \
		gluster --mode=script --glusterd-sock="$CLUSTER_DIR/glusterd.socket" \
		--log-file="$CLUSTER_DIR/log/cli.log" "$@"
}

# Seconds since the epoch, with fractions, and the difference of two.
cluster_now() {
	date +%s.%N
}
cluster_since() {
	awk -v a="$1" -v b="$(cluster_now)" 'BEGIN { printf "%.1f", b - a }'
}

# Brings the volume up and mounts it twice; fails, saying which step
# failed, when it cannot. Call it at the top level of a script: its
# teardown is registered with test_at_exit before anything starts, so
# that a failure halfway is cleaned up too.
cluster_up() {
	test_at_exit 'cluster_down'
	cluster_started=$(cluster_now)
	mkdir -p "$CLUSTER_DIR/work" "$CLUSTER_DIR/run" "$CLUSTER_DIR/log" \
		"$CLUSTER_DIR/b1" "$CLUSTER_DIR/b2" "$CLUSTER_M1" "$CLUSTER_M2"
	# What is there already, so that the teardown removes only the rest.
	for d in $CLUSTER_SYSTEM_DIRS; do
		before=$CLUSTER_DIR/before.$(echo "$d" | tr / _)
		if [ -d "$d" ]; then
			ls -A "$d" >"$before"
		else
			: >"$before.absent"
		fi
	done
	ip netns add "$CLUSTER_NS" || return 1
	echo "$CLUSTER_NS" >"$CLUSTER_DIR/netns"
	ip -n "$CLUSTER_NS" link set lo up &&
		ip -n "$CLUSTER_NS" addr add "$CLUSTER_ADDR/32" dev lo || return 1

	cat >"$CLUSTER_DIR/glusterd.vol" <<-EOF
	volume management
	    type mgmt/glusterd
	    option working-directory $CLUSTER_DIR/work
	    option run-directory $CLUSTER_DIR/run
	    option logging-directory $CLUSTER_DIR/log
	    option glusterd-sockfile $CLUSTER_DIR/glusterd.socket
	    option transport-type socket
	    option ping-timeout 0
	    option event-threads 1
	end-volume
	EOF
	cluster_ns glusterd -f "$CLUSTER_DIR/glusterd.vol" \
		-p "$CLUSTER_DIR/glusterd.pid" -l "$CLUSTER_DIR/log/glusterd.log" || {
		echo "glusterd did not start"
		return 1
	}
	for _ in $(seq 100); do
		cluster_gluster pool list >/dev/null 2>&1 && break
		sleep 0.1
	done
	cluster_gluster pool list >/dev/null || {
		echo "glusterd does not answer"
		return 1
	}
	# "force": the bricks lie on the root file system, which Gluster
	# refuses by default. Without stat-prefetch a name renamed away on one
	# mount stops resolving on the other at once (with the mount options).
	cluster_gluster volume create v0 replica 2 \
		"$CLUSTER_ADDR:$CLUSTER_DIR/b1" "$CLUSTER_ADDR:$CLUSTER_DIR/b2" \
		force >/dev/null &&
		cluster_gluster volume set v0 performance.stat-prefetch off \
			>/dev/null &&
		cluster_gluster volume start v0 >/dev/null || return 1
	for m in 1 2; do
		timeout "$CLUSTER_STEP_TIMEOUT" nsenter --net="/run/netns/$CLUSTER_NS" \
			mount -t glusterfs -o "entry-timeout=0,attribute-timeout=0,negative-timeout=0,log-file=$CLUSTER_DIR/log/m$m.log" \
			"$CLUSTER_ADDR:/v0" "$TRASH/m$m" || {
			echo "cannot mount v0 at $TRASH/m$m"
			return 1
		}
	done
	# One volume, two mounts: what one writes the other reads.
	echo up >"$CLUSTER_M1/.up"
	for _ in $(seq 50); do
		[ "$(cat "$CLUSTER_M2/.up" 2>/dev/null)" = up ] && break
		sleep 0.1
	done
	[ "$(cat "$CLUSTER_M2/.up" 2>/dev/null)" = up ] || {
		echo "the two mounts do not show the same volume"
		return 1
	}
	rm "$CLUSTER_M1/.up"
	echo "# volume up, two mounts, in $(cluster_since "$cluster_started") s"
}

# The pids on standard input that belong to a live process of this
# volume: each of them names a file of ours on its command line. A pidfile
# left behind by a process that ended may name a pid reused since.
cluster_ours() {
	while read -r pid; do
		grep -qaF "$CLUSTER_DIR/" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
	done
	return 0
}

# Undoes cluster_up, as far as it got; every step is bounded and the next
# runs even when one fails.
cluster_down() {
	[ -d "$CLUSTER_DIR" ] || return 0
	down_started=$(cluster_now)
	for m in "$CLUSTER_M1" "$CLUSTER_M2"; do
		mountpoint -q "$m" || continue
		# A file still open on it (a hook's standard input) makes it busy
		# for a moment.
		for _ in $(seq 50); do
			umount "$m" 2>/dev/null && break
			sleep 0.2
		done
		mountpoint -q "$m" && {
			echo "# $m still busy: detached lazily"
			umount -l "$m"
		}
	done
	if [ -s "$CLUSTER_DIR/glusterd.pid" ] &&
		[ -n "$(cluster_ours <"$CLUSTER_DIR/glusterd.pid")" ]; then
		cluster_gluster volume stop v0 >/dev/null 2>&1
		cluster_gluster volume delete v0 >/dev/null 2>&1
	fi
	# glusterd, and whatever it did not stop (bricks, the self-heal
	# daemon), found through the pidfiles under our run directory.
	pids=$({ cat "$CLUSTER_DIR/glusterd.pid"
		find "$CLUSTER_DIR/run" -name '*.pid' -exec cat {} +; } 2>/dev/null |
		cluster_ours)
	for pid in $pids; do
		kill "$pid" 2>/dev/null
	done
	for pid in $pids; do
		test_process_gone "$pid" >/dev/null || kill -9 "$pid" 2>/dev/null
	done
	[ -f "$CLUSTER_DIR/netns" ] && ip netns del "$(cat "$CLUSTER_DIR/netns")"
	for d in $CLUSTER_SYSTEM_DIRS; do
		before=$CLUSTER_DIR/before.$(echo "$d" | tr / _)
		if [ -f "$before.absent" ]; then
			rm -rf "$d"
			continue
		fi
		[ -f "$before" ] || continue
		ls -A "$d" 2>/dev/null | while read -r entry; do
			grep -qxF "$entry" "$before" || rm -rf "${d:?}/$entry"
		done
	done
	echo "# volume down in $(cluster_since "$down_started") s"
	rm -rf "$CLUSTER_DIR"
}

# The last errors of the FUSE clients, for a failing case.
cluster_log_errors() {
	for m in 1 2; do
		grep -h '\] E \[' "$CLUSTER_DIR/log/m$m.log" 2>/dev/null | tail -n 5 |
			sed "s/^/#   m$m: /"
	done
}
