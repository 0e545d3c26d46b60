#!/bin/sh
# See LICENSE file for copyright and license details.
# No-loss audit through a real server: lighttpd + FastCGI with the shipped
# configuration (tests/servers.sh; without it, a minimal one of our own),
# with clients posting signed events concurrently and recording the id of
# every 200, while faults hit the receiver: its FastCGI workers killed with
# SIGKILL again and again, the spool's own tmpfs filled up, remounted
# read-only, unwritable for the worker (which runs as www-data, or nobody,
# so that permissions hold even when the test runs as root), and all of it
# at once. After each phase: every acknowledged id is in new/, byte for
# byte; every refusal was 503 with Retry-After (for killed workers also
# the server's own 5xx), never a hang; tmp/ is empty; and events sent
# after the fault was lifted were acknowledged, with no restart.
#
# Each phase lasts 2 s, and 2 s more to recover, in `make check`;
# `make check-reliability` sets MAKINI_RELIABILITY_LONG=1 and
# RELIABILITY_SECONDS (default 20).
. "$(dirname "$0")/test-lib.sh"

if ! command -v lighttpd >/dev/null; then
	test_skip 'lighttpd is not installed'
	test_done
fi
if [ "${MAKINI_RELIABILITY_LONG:-0}" = 1 ]; then
	T=${RELIABILITY_SECONDS:-20}
else
	T=2
fi
THREADS=${RELIABILITY_THREADS:-6}
SECRET=audit-secret-$$
CLIENT="python3 $SRCDIR/tests/reliability/client.py"
RESULTS=$TRASH/results.jsonl
SUMMARY=$TRASH/summary.jsonl
PORT=$(test_free_port)
is_root=0
[ "$(id -u)" = 0 ] && is_root=1

# The spool: a tmpfs of its own when root, so that it can fill up and be
# remounted read-only; a plain directory otherwise.
FS=$TRASH/fs
SPOOL=$FS/spool
mkdir -p "$FS" www
if [ $is_root = 1 ]; then
	mount -t tmpfs -o size=256m,mode=0755 tmpfs "$FS" || exit 1
	test_at_exit 'umount -l "$FS" 2>/dev/null'
fi
mkdir -p "$SPOOL"

if [ -f "$SRCDIR/tests/servers.sh" ]; then
	# The shipped lighttpd FastCGI configuration, through the servers
	# harness. As root, lighttpd and so the receiver run as www-data,
	# and the spool is handed to it, so that permissions hold (root
	# would bypass them).
	SV_SRCDIR=$SRCDIR
	. "$SRCDIR/tests/servers.sh"
	printf '%s\n' "$SECRET" >secret
	SV_BIN=$BIN
	SV_SECRET_FILE=$TRASH/secret
	SV_SPOOL=$SPOOL
	test_at_exit 'server_stop "$TRASH/server"'
	server_start lighttpd fastcgi "$PORT" "$TRASH/server" >start.log 2>&1 ||
		cat start.log
	LPID=$(head -n 1 "$TRASH/server/pids" 2>/dev/null)
	URL=$(server_url lighttpd fastcgi "$PORT")
	test_failure_hook() {
		echo "# server logs (last lines):"
		server_logs "$TRASH/server" 2>&1 | grep -v FastCGI-stderr |
			tail -n 20 | sed 's/^/#   /'
	}
else
	# A minimal lighttpd.conf of our own, max-procs 2. As root the worker
	# runs as nobody (setpriv), or EACCES could not happen.
	URL=http://127.0.0.1:$PORT/hook
	if [ $is_root = 1 ]; then
		chown nobody:nogroup "$SPOOL"
		RUN_AS="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
	else
		RUN_AS=
	fi
	cat >worker.sh <<-WORKER
	#!/bin/sh
	exec $RUN_AS "$BIN"
	WORKER
	chmod 0755 worker.sh
	cat >lighttpd.conf <<-CONF
	server.document-root = "$TRASH/www"
	server.bind = "127.0.0.1"
	server.port = $PORT
	server.errorlog = "$TRASH/error.log"
	server.modules = ( "mod_fastcgi" )
	fastcgi.server = ( "/hook" => ((
		"socket" => "$TRASH/fcgi.sock",
		"bin-path" => "$TRASH/worker.sh",
		"max-procs" => 2,
		"check-local" => "disable",
		"bin-environment" => (
			"MAKINI_WEBHOOK_SECRET" => "$SECRET",
			"MAKINI_WEBHOOK_SPOOL" => "$SPOOL"
		)
	)))
	CONF
	test_failure_hook() {
		echo "# lighttpd error log (last lines):"
		grep -v FastCGI-stderr "$TRASH/error.log" 2>/dev/null |
			tail -n 20 | sed 's/^/#   /'
	}
	lighttpd -D -f lighttpd.conf >lighttpd.out 2>&1 &
	LPID=$!
	test_at_exit 'kill $LPID 2>/dev/null; wait $LPID 2>/dev/null'
fi

# The FastCGI workers: lighttpd's children, found by its pid.
workers() {
	ps -o pid= --ppid $LPID 2>/dev/null
}

# Kills a worker with SIGKILL every 0.1 s while the file "killing" exists.
killer() {
	while [ -f killing ]; do
		w=$(workers | shuf -n 1)
		[ -n "$w" ] && kill -9 $w 2>/dev/null && echo $w >>kills
		sleep 0.1
	done
}

# Runs one phase: the client posts for T seconds and 2 more; $2 applies a
# fault after a fifth of T and $3 lifts it after seven tenths, recording
# the time. The 2 s leave lighttpd time to try a backend it had disabled.
phase() {
	name=$1 apply=$2 lift=$3
	rm -f lifted
	$CLIENT send --url "$URL" --secret "$SECRET" --phase "$name" \
		--seconds "$((T + 2))" --threads "$THREADS" --out "$RESULTS" &
	cpid=$!
	sleep $(awk "BEGIN { print $T * 0.2 }")
	$apply
	sleep $(awk "BEGIN { print $T * 0.5 }")
	$lift
	date +%s.%N >lifted
	wait $cpid
}

# Verifies phase $1 (extra options follow), then takes every event out of
# new/ as a consumer would, so that the next phase starts empty.
audit() {
	name=$1
	shift
	kills=0
	[ -f kills ] && kills=$(wc -l <kills) && rm -f kills
	$CLIENT verify --results "$RESULTS" --spool "$SPOOL" --phase "$name" \
		--summary "$SUMMARY" --kills $kills "$@" >verify.$name || {
		cat verify.$name
		return 1
	}
	cat verify.$name
	test_no_tmp_leftovers "$SPOOL" &&
	find "$SPOOL" -path '*/new/*' -type f -delete
}

none() { :; }
start_kills() { touch killing; killer & KILLER=$!; }
stop_kills() { rm -f killing; wait $KILLER; }

# ENOSPC: a filler takes every free block of the tmpfs.
fill() { dd if=/dev/zero of="$FS/filler" bs=64k 2>/dev/null || true; }
unfill() { rm -f "$FS/filler"; }

# EROFS: remount fails with EBUSY while a worker has a file open for
# writing, so it is retried.
readonly_on() {
	i=0
	until mount -o remount,ro "$FS" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 500 ] || { echo "cannot remount read-only"; return 1; }
		sleep 0.01
	done
}
readonly_off() { mount -o remount,rw "$FS"; }

# EACCES: tmp/ of every type not writable by the worker.
deny() { chmod 0500 "$SPOOL"/*/tmp; }
allow() { chmod 0750 "$SPOOL"/*/tmp; }

everything_on() { start_kills; fill; }
everything_off() {
	unfill
	readonly_on
	sleep 0.5
	readonly_off
	stop_kills
}

test_expect_success 'lighttpd starts the receiver as FastCGI' '
	test -n "$LPID" &&
	for i in $(seq 1 50); do
		curl -sf "$URL" >health 2>/dev/null && break
		sleep 0.1
	done &&
	test_health_ok health &&
	test $(workers | wc -l) -ge 1
'

# A header value cannot hold a NUL through CGI or FastCGI (both pass C
# strings); through HTTP the server must refuse it before the receiver.
test_expect_success 'a NUL inside the signature header never gets in' '
	python3 "$SRCDIR/tests/reliability/nul-header.py" $PORT "$SECRET" \
		"${URL#http://127.0.0.1:$PORT}" >nul.out &&
	cat nul.out &&
	test $(grep -c "^HTTP/1.1 [45]" nul.out) = 5 &&
	test -z "$(find "$SPOOL" -type f)"
'

test_expect_success "baseline: every acknowledged event stored (${T}s)" '
	phase baseline none none &&
	audit baseline
'

test_expect_success 'workers killed with SIGKILL again and again: nothing lost' '
	phase kill start_kills stop_kills &&
	audit kill --expect-gateway-errors --lifted $(cat lifted)
'

if [ $is_root = 1 ]; then
	test_expect_success 'file system full (ENOSPC): 503, then recovery' '
		phase enospc fill unfill &&
		audit enospc --lifted $(cat lifted)
	'
	test_expect_success 'remounted read-only (EROFS): 503, then recovery' '
		phase erofs readonly_on readonly_off &&
		audit erofs --lifted $(cat lifted)
	'
else
	test_skip 'ENOSPC and EROFS need root (tmpfs, remount)'
fi

test_expect_success 'tmp/ not writable by the worker (EACCES): 503, then recovery' '
	phase eacces deny allow &&
	audit eacces --lifted $(cat lifted)
'

if [ $is_root = 1 ]; then
	test_expect_success 'kills, a full and a read-only file system at once' '
		phase mixed everything_on everything_off &&
		audit mixed --expect-gateway-errors --lifted $(cat lifted)
	'
fi

test_expect_success 'totals: nothing acknowledged was lost' '
	python3 - "$SUMMARY" <<-PY
	import json, sys
	rows = [json.loads(l) for l in open(sys.argv[1])]
	t = {k: sum(r[k] for r in rows) for k in rows[0] if k != "phase"}
	print("total    sent %(sent)d acknowledged %(acknowledged)d "
	      "refused %(refused)d gateway-errors %(gateway_errors)d "
	      "lost %(lost)d" % t)
	sys.exit(t["lost"] or t["corrupt"] or t["hung"] or t["other"])
	PY
'

# The figures, whatever the outcome.
for phase in baseline kill enospc erofs eacces mixed; do
	[ -f verify.$phase ] && sed -n 1p verify.$phase | sed 's/^/# /'
done

test_done
