# See LICENSE file for copyright and license details.
# Several hosts on one machine, for the balancer test
# (tests/cluster/t2-balancer.sh) and the demo (make run-cluster). Sourced,
# POSIX sh, after setting HOSTS_DIR (a directory of its own) and sourcing
# tests/servers.sh.
#
# Each host is a network namespace of the run's own, holding loopback and
# one address on a veth pair whose other end sits on a bridge in one more
# namespace, the switch; every process of a host runs in a UTS namespace
# with the host's name. Nothing listens or sends outside these namespaces.
#
#	gl1 gl2 gl3	glusterd and one brick each: volume v0, replica 3
#	web1 web2	the volume mounted as the spool, lighttpd with the
#			shipped FastCGI setup, a drain every DRAIN_PERIOD s
#	lb		HAProxy (haproxy/makini-webhook.cfg), port 80
#	db		PostgreSQL, the sink of hooks/postgresql
#	maker		where the sender runs, as Makini would
#
# The glusterds run in mount namespaces of their own too, with
# /var/lib/glusterd and /run/gluster bound to directories under
# HOSTS_DIR, so that three of them live side by side and none leaves state
# in the system's directories.
#
#	hosts_up		builds all of it; fails saying which step
#	hosts_down		undoes all of it, as far as it got
#	host_run HOST CMD...	runs CMD on HOST
#	web_start HOST, web_kill HOST
#				a web host comes up (mount, lighttpd, drain
#				loop), or dies whole: SIGKILL of every process
#				in it, its FUSE client included
#	brick_kill HOST, brick_start
#				one brick's glusterfsd dies; volume start
#				force brings it back
#	db_sql SQL		a query on the sink, unaligned output

HOSTS_ID=${HOSTS_ID:-$$}
HOSTS_NET=10.88.7
HOSTS_SWITCH=mk-sw-$HOSTS_ID
# Seconds any one step may take before the run gives up on it.
HOSTS_STEP_TIMEOUT=${HOSTS_STEP_TIMEOUT:-30}
# The drain loop's period, as the timer's would be (it says 1 min).
DRAIN_PERIOD=${DRAIN_PERIOD:-2}
# Seconds after which a claim without heartbeat is taken over.
CLAIM_TIMEOUT=${CLAIM_TIMEOUT:-6}
WEB_PORT=8080
LB_PORT=80
PG_BIN=/usr/lib/postgresql/15/bin
HOSTS_SRCDIR=${HOSTS_SRCDIR:-$SV_SRCDIR}
HOSTS_BIN=${HOSTS_BIN:-$HOSTS_SRCDIR/cgi/makini-webhook.cgi}
GLUSTER_MOUNT_OPTIONS=entry-timeout=0,attribute-timeout=0,negative-timeout=0

host_addr() {
	case $1 in
	lb) echo "$HOSTS_NET.2" ;;
	gl1) echo "$HOSTS_NET.11" ;;
	gl2) echo "$HOSTS_NET.12" ;;
	gl3) echo "$HOSTS_NET.13" ;;
	web1) echo "$HOSTS_NET.21" ;;
	web2) echo "$HOSTS_NET.22" ;;
	db) echo "$HOSTS_NET.30" ;;
	maker) echo "$HOSTS_NET.40" ;;
	*) echo "no host $1" >&2; return 1 ;;
	esac
}
HOSTS="gl1 gl2 gl3 web1 web2 lb db maker"
GLUSTER_HOSTS="gl1 gl2 gl3"

# Prints why the hosts cannot be built here; nothing when they can.
hosts_skip_reason() {
	if [ "$(id -u)" != 0 ]; then
		echo "needs root (network namespaces, FUSE mounts)"
	elif [ ! -c /dev/fuse ]; then
		echo "no /dev/fuse"
	elif ! command -v glusterd >/dev/null ||
		! command -v mount.glusterfs >/dev/null; then
		echo "GlusterFS is not installed: run 'make deps'"
	elif ! command -v haproxy >/dev/null; then
		echo "HAProxy is not installed: run 'make deps'"
	elif ! command -v lighttpd >/dev/null; then
		echo "lighttpd is not installed: run 'make deps'"
	elif [ ! -x "$PG_BIN/initdb" ] || ! command -v psql >/dev/null; then
		echo "PostgreSQL 15 is not installed: run 'make deps'"
	fi
}

host_ns() {
	echo "mk-$1-$HOSTS_ID"
}

# host_run HOST CMD...: CMD in HOST's network namespace, with HOST's name.
host_run() {
	hr_host=$1
	shift
	nsenter --net="/run/netns/$(host_ns "$hr_host")" \
		unshare --uts sh -c 'hostname "$0" && exec "$@"' "$hr_host" "$@"
}

hosts_net_up() {
	ip netns add "$HOSTS_SWITCH" || return 1
	echo "$HOSTS_SWITCH" >>"$HOSTS_DIR/netns"
	ip -n "$HOSTS_SWITCH" link add br0 type bridge &&
		ip -n "$HOSTS_SWITCH" link set br0 up || return 1
	for h in $HOSTS; do
		ns=$(host_ns "$h")
		ip netns add "$ns" || return 1
		echo "$ns" >>"$HOSTS_DIR/netns"
		ip -n "$HOSTS_SWITCH" link add "v-$h" type veth \
			peer name eth0 netns "$ns" &&
			ip -n "$HOSTS_SWITCH" link set "v-$h" master br0 &&
			ip -n "$HOSTS_SWITCH" link set "v-$h" up &&
			ip -n "$ns" link set lo up &&
			ip -n "$ns" addr add "$(host_addr "$h")/24" dev eth0 &&
			ip -n "$ns" link set eth0 up || return 1
	done
}

# gl_run HOST CMD...: CMD in HOST's namespaces and its own mount namespace,
# where /var/lib/glusterd and /run/gluster are HOST's.
gl_run() {
	gr_host=$1
	shift
	gr_dir=$HOSTS_DIR/$gr_host
	nsenter --net="/run/netns/$(host_ns "$gr_host")" \
		unshare --uts --mount --propagation private sh -c '
		hostname "$0" &&
		mount --bind "$1/var-lib" /var/lib/glusterd &&
		mount --bind "$1/run" /run/gluster && shift && exec "$@"' \
		"$gr_host" "$gr_dir" "$@"
}

# gl_cli HOST ARGS...: the gluster command against HOST's glusterd, in a
# mount namespace as gl_run's (it writes in /var/lib/glusterd too).
gl_cli() {
	gc_host=$1
	shift
	timeout "$HOSTS_STEP_TIMEOUT" \
		nsenter --net="/run/netns/$(host_ns "$gc_host")" \
		unshare --mount --propagation private sh -c '
		mount --bind "$0/var-lib" /var/lib/glusterd &&
		mount --bind "$0/run" /run/gluster && exec "$@"' \
		"$HOSTS_DIR/$gc_host" gluster --mode=script \
		--glusterd-sock="$HOSTS_DIR/$gc_host/glusterd.socket" \
		--log-file="$HOSTS_DIR/$gc_host/log/cli.log" "$@"
}

gl_start() {
	d=$HOSTS_DIR/$1
	mkdir -p "$d/work" "$d/run" "$d/log" "$d/var-lib" "$d/brick" &&
		mkdir -p /var/lib/glusterd /run/gluster || return 1
	cat >"$d/glusterd.vol" <<-EOF
	volume management
	    type mgmt/glusterd
	    option working-directory $d/work
	    option run-directory $d/run
	    option logging-directory $d/log
	    option glusterd-sockfile $d/glusterd.socket
	    option transport-type socket
	    option transport.socket.keepalive-time 10
	    option transport.socket.keepalive-interval 2
	    option transport.socket.read-fail-log off
	    option transport.socket.listen-port 24007
	    option ping-timeout 0
	    option event-threads 1
	    option max-port 60999
	end-volume
	EOF
	gl_run "$1" glusterd -f "$d/glusterd.vol" -p "$d/glusterd.pid" \
		-l "$d/log/glusterd.log" || return 1
	for _ in $(seq 100); do
		gl_cli "$1" pool list >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "glusterd on $1 does not answer"
	return 1
}

gluster_up() {
	for h in $GLUSTER_HOSTS; do
		gl_start "$h" || return 1
	done
	for h in gl2 gl3; do
		gl_cli gl1 peer probe "$(host_addr "$h")" >/dev/null ||
			return 1
	done
	for _ in $(seq 100); do
		n=$(gl_cli gl1 pool list 2>/dev/null | grep -c Connected)
		[ "$n" = 3 ] && break
		sleep 0.2
	done
	[ "$n" = 3 ] || { echo "the pool did not connect: $n of 3"; return 1; }
	# "force": the bricks lie on the root file system. stat-prefetch
	# off: a name renamed away on one host stops resolving on the other
	# at once (see tests/cluster-lib.sh).
	gl_cli gl1 volume create v0 replica 3 \
		"$(host_addr gl1):$HOSTS_DIR/gl1/brick" \
		"$(host_addr gl2):$HOSTS_DIR/gl2/brick" \
		"$(host_addr gl3):$HOSTS_DIR/gl3/brick" force >/dev/null &&
		gl_cli gl1 volume set v0 performance.stat-prefetch off \
			>/dev/null &&
		gl_cli gl1 volume set v0 cluster.quorum-type auto >/dev/null &&
		gl_cli gl1 volume start v0 >/dev/null || {
		echo "volume v0 did not start"
		return 1
	}
}

# The pid of HOST's brick server, glusterfsd, from glusterd's pidfile.
brick_pid() {
	find "$HOSTS_DIR/$1/run" -path '*/vols/v0/*.pid' -exec cat {} + 2>/dev/null |
		head -n 1
}

brick_kill() {
	bk_pid=$(brick_pid "$1")
	[ -n "$bk_pid" ] || { echo "no brick server on $1"; return 1; }
	kill -KILL "$bk_pid"
}

# Brings every stopped brick of v0 back (glusterd restarts them).
brick_start() {
	gl_cli gl1 volume start v0 force >/dev/null
}

# The number of bricks online, as glusterd sees them.
bricks_online() {
	gl_cli gl1 volume status v0 detail 2>/dev/null |
		grep -c '^Online.*: Y'
}

# The entries waiting for self-heal, over all bricks.
heal_pending() {
	gl_cli gl1 volume heal v0 info 2>/dev/null |
		awk '/^Number of entries:/ { n += $4 } END { print n + 0 }'
}

web_mount() {
	m=$HOSTS_DIR/$1/spool
	mkdir -p "$m" || return 1
	timeout "$HOSTS_STEP_TIMEOUT" \
		nsenter --net="/run/netns/$(host_ns "$1")" mount -t glusterfs \
		-o "$GLUSTER_MOUNT_OPTIONS,log-file=$HOSTS_DIR/$1/mount.log" \
		"$(host_addr gl1):/v0" "$m"
}

# Whether HOST's spool is mounted, alive or not (mountpoint(1) cannot
# tell a mount whose FUSE client died).
web_mounted() {
	awk -v m="$HOSTS_DIR/$1/spool" '$2 == m { found = 1 } END { exit !found }' \
		/proc/self/mounts
}

# Unmounts HOST's spool, lazily when it is busy or its client is dead.
web_umount() {
	web_mounted "$1" || return 0
	for _ in $(seq 20); do
		umount "$HOSTS_DIR/$1/spool" 2>/dev/null && return 0
		sleep 0.2
	done
	umount -l "$HOSTS_DIR/$1/spool"
}

# The receivers' configuration, beyond the spool and the secret file,
# as lighttpd's environment passes it on (SV_PASS).
web_env() {
	echo "MAKINI_WEBHOOK_MODE=queue"
	echo "MAKINI_WEBHOOK_FSYNC=1"
	echo "MAKINI_WEBHOOK_HOOKS=$HOSTS_DIR/hooks"
	echo "MAKINI_WEBHOOK_CLAIM_TIMEOUT=$CLAIM_TIMEOUT"
	# Every type runs hooks/postgresql: more than one at a time per host.
	echo "MAKINI_WEBHOOK_HOOK_CONCURRENCY=4"
	echo "MAKINI_WEBHOOK_HOOK_ENV=PGHOST,PGDATABASE,PGUSER"
	echo "PGHOST=$(host_addr db)"
	echo "PGDATABASE=makini"
	echo "PGUSER=makini_hook"
}

# The drain loop: what makini-webhook-drain.timer does, every
# DRAIN_PERIOD seconds, as the spool's user.
web_drain_loop() {
	# shellcheck disable=SC2046
	while :; do
		runuser -u www-data -- env -i PATH=/usr/bin:/bin $(web_env) \
			MAKINI_WEBHOOK_SPOOL="$HOSTS_DIR/$1/spool" \
			"$HOSTS_BIN" drain \
			>>"$HOSTS_DIR/$1/drain.out" 2>&1
		sleep "$DRAIN_PERIOD"
	done
}

web_start() {
	d=$HOSTS_DIR/$1
	mkdir -p "$d" || return 1
	web_umount "$1" && web_mount "$1" || {
		echo "cannot mount v0 on $1"
		return 1
	}
	# lighttpd, started in the host by the same harness as the other
	# server tests, bound to the host's own address space.
	# The volume's root is the spool, the receivers' user's already.
	chown www-data:www-data "$d/spool" || return 1
	# shellcheck disable=SC2046
	host_run "$1" env $(web_env) SV_BIND=0.0.0.0 SV_SPOOL_AS_IS=1 \
		SV_PASS="$(web_env | sed 's/=.*//' | tr '\n' ' ')" \
		SV_BIN="$HOSTS_BIN" SV_SPOOL="$d/spool" \
		SV_SECRET_FILE="$HOSTS_DIR/secret" SV_SRCDIR="$HOSTS_SRCDIR" \
		sh -c '. "$SV_SRCDIR/tests/servers.sh" &&
		server_start lighttpd fastcgi "$0" "$1"' \
		"$WEB_PORT" "$d/lighttpd" >"$d/start.log" 2>&1 || {
		echo "lighttpd did not start on $1:"
		cat "$d/start.log"
		return 1
	}
	host_run "$1" sh -c '. "$0"; HOSTS_DIR=$1 HOSTS_BIN=$2
		CLAIM_TIMEOUT=$3 DRAIN_PERIOD=$4 HOSTS_NET=$5
		web_drain_loop "$6"' "$HOSTS_SRCDIR/tests/cluster-hosts.sh" \
		"$HOSTS_DIR" "$HOSTS_BIN" "$CLAIM_TIMEOUT" "$DRAIN_PERIOD" \
		"$HOSTS_NET" "$1" </dev/null >/dev/null 2>&1 &
}

# Every process in HOST's network namespace.
host_pids() {
	ip netns pids "$(host_ns "$1")" 2>/dev/null
}

# HOST dies whole: SIGKILL of every process in it, until none is left
# (a runner may fork while it is being killed). Stopping them first
# (SIGSTOP) would leave a stopped FUSE client holding up every process
# blocked on the mount, and the listing of the host's processes with them.
web_kill() {
	for _ in $(seq 50); do
		pids=$(host_pids "$1")
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
		sleep 0.1
	done
	echo "processes left on $1: $(host_pids "$1")"
	return 1
}

db_up() {
	d=$HOSTS_DIR/db
	mkdir -p "$d" && chown postgres "$d" || return 1
	runuser -u postgres -- "$PG_BIN/initdb" -D "$d/data" -U makini \
		-A trust -E UTF8 --locale=C.UTF-8 --no-sync \
		>"$d/initdb.log" 2>&1 || { cat "$d/initdb.log"; return 1; }
	cat >>"$d/data/postgresql.conf" <<-EOF
	listen_addresses = '$(host_addr db)'
	unix_socket_directories = '$d'
	max_connections = 100
	fsync = off
	# Its shared memory in the data directory, not in /dev/shm, where a
	# server killed at the end would leave it.
	dynamic_shared_memory_type = mmap
	EOF
	echo "host makini makini_hook $HOSTS_NET.0/24 trust" \
		>>"$d/data/pg_hba.conf"
	host_run db runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$d/data" -s \
		-w -l "$d/log" start || { cat "$d/log"; return 1; }
	psql -X -q -h "$d" -U makini -d postgres -c "CREATE DATABASE makini" &&
		psql -X -q -v ON_ERROR_STOP=1 -h "$d" -U makini -d makini \
			-f "$HOSTS_SRCDIR/hooks/postgresql.sql" &&
		db_sql "CREATE ROLE makini_hook LOGIN" >/dev/null &&
		db_sql "GRANT INSERT ON makini_events TO makini_hook" >/dev/null
}

db_sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$HOSTS_DIR/db" -U makini \
		-d makini -c "$1"
}

# HAProxy with the shipped sections, their example addresses replaced by
# the hosts', after a global and a defaults section of the run's own (as
# Debian's haproxy.cfg has them, less logging, chroot and user).
lb_up() {
	d=$HOSTS_DIR/lb
	mkdir -p "$d" || return 1
	{
		echo "global"
		echo "	stats socket $d/stats.sock mode 600 level admin"
		echo "	maxconn 512"
		echo "defaults"
		echo "	mode http"
		echo "	timeout connect 5s"
		echo "	timeout client 50s"
		echo "	timeout server 50s"
		sed -e "s/192\.0\.2\.10:80/$(host_addr lb):$LB_PORT/" \
		    -e "s/192\.0\.2\.21:80/$(host_addr web1):$WEB_PORT/" \
		    -e "s/192\.0\.2\.22:80/$(host_addr web2):$WEB_PORT/" \
		    "$HOSTS_SRCDIR/haproxy/makini-webhook.cfg"
	} >"$d/haproxy.cfg" || return 1
	if grep -n '192\.0\.2\.' "$d/haproxy.cfg"; then
		echo "haproxy/makini-webhook.cfg: an address above was not filled in"
		return 1
	fi
	haproxy -c -q -f "$d/haproxy.cfg" || return 1
	host_run lb haproxy -W -db -f "$d/haproxy.cfg" \
		</dev/null >"$d/haproxy.log" 2>&1 &
	echo $! >"$d/pid"
}

# The state HAProxy gives receiver $1 (UP, DOWN...), from its stats socket.
lb_state() {
	python3 - "$HOSTS_DIR/lb/stats.sock" "$1" <<-'EOF' 2>/dev/null
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.settimeout(2)
	s.connect(sys.argv[1])
	s.sendall(b"show stat\n")
	out = b""
	while True:
	    b = s.recv(65536)
	    if not b:
	        break
	    out += b
	for line in out.decode().splitlines():
	    f = line.split(",")
	    if len(f) > 17 and f[0] == "makini_receivers" and f[1] == sys.argv[2]:
	        print(f[17].split()[0])
	EOF
}

# Succeeds while HAProxy sees both receivers up.
lb_servers_up() {
	[ "$(lb_state web1)" = UP ] && [ "$(lb_state web2)" = UP ]
}

# The URL the sender posts to.
lb_url() {
	echo "http://$(host_addr lb):$LB_PORT/makini-webhook"
}

hosts_up() {
	mkdir -p "$HOSTS_DIR" || return 1
	: >"$HOSTS_DIR/netns"
	: >"$HOSTS_DIR/made-dirs"
	for d in /var/lib/glusterd /run/gluster; do
		[ -e "$d" ] || echo "$d" >>"$HOSTS_DIR/made-dirs"
	done
	ls -A /var/lib/glusterd >"$HOSTS_DIR/var-lib-before" 2>/dev/null
	hosts_net_up || { echo "the network did not come up"; return 1; }
	(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' \
		>"$HOSTS_DIR/secret") || return 1
	mkdir -p "$HOSTS_DIR/hooks" &&
		ln -s "$HOSTS_SRCDIR/hooks/postgresql" "$HOSTS_DIR/hooks/default" ||
		return 1
	db_up || { echo "PostgreSQL did not start"; return 1; }
	gluster_up || return 1
	for h in web1 web2; do
		web_start "$h" || return 1
	done
	lb_up || { echo "HAProxy did not start"; return 1; }
	for _ in $(seq 100); do
		lb_servers_up && return 0
		sleep 0.1
	done
	echo "HAProxy does not see both receivers up"
	cat "$HOSTS_DIR/lb/haproxy.log"
	return 1
}

# Undoes hosts_up, as far as it got: every step bounded, the next one run
# even when one fails. The processes of each host are ended with its
# namespace, whatever started them.
hosts_down() {
	[ -f "$HOSTS_DIR/netns" ] || return 0
	for h in web1 web2; do
		# Its processes first, so that nothing holds the mount busy.
		host_run "$h" true 2>/dev/null || continue
		web_kill "$h" >/dev/null 2>&1
		web_umount "$h"
	done
	if [ -s "$HOSTS_DIR/gl1/glusterd.pid" ] && [ -n "$(host_pids gl1)" ]
	then
		gl_cli gl1 volume stop v0 >/dev/null 2>&1
		gl_cli gl1 volume delete v0 >/dev/null 2>&1
	fi
	if [ -n "$(host_pids db)" ]; then
		timeout "$HOSTS_STEP_TIMEOUT" runuser -u postgres -- \
			"$PG_BIN/pg_ctl" -D "$HOSTS_DIR/db/data" -s -m fast stop \
			>/dev/null 2>&1
	fi
	while read -r ns; do
		for _ in $(seq 50); do
			pids=$(ip netns pids "$ns" 2>/dev/null)
			[ -n "$pids" ] || break
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null
			sleep 0.1
		done
		ip netns del "$ns" 2>/dev/null
	done <"$HOSTS_DIR/netns"
	rm -f "$HOSTS_DIR/netns"
	# The glusterds had their own; these were made only as mount points.
	# What else appeared in /var/lib/glusterd (the gluster command's
	# geo-replication directory) goes too.
	ls -A /var/lib/glusterd 2>/dev/null | while read -r e; do
		grep -qxF "$e" "$HOSTS_DIR/var-lib-before" 2>/dev/null ||
			rm -rf "/var/lib/glusterd/${e:?}"
	done
	touch "$HOSTS_DIR/made-dirs"
	while read -r d; do
		rmdir "$d" 2>/dev/null
	done <"$HOSTS_DIR/made-dirs"
	rm -f "$HOSTS_DIR/made-dirs"
}
