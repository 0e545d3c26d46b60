# See LICENSE file for copyright and license details.
# Server start-up for the benchmark, kept in one place. The web servers
# come from tests/servers.sh, so that the benchmark runs the shipped
# lighttpd and Apache configs, filled in for a scratch directory and a
# loopback port; gunicorn is started here. Sourced by tests/bench/bench.sh,
# which sets SRCDIR, BENCH_DIR (scratch) and SECRET_FILE.
#
#	serve NAME SERVER VIA PROGRAM PORT SPOOL [VAR=VALUE...]
#		SERVER and VIA as for server_start (lighttpd fastcgi,
#		lighttpd cgi, apache fcgid); PROGRAM takes the receiver's
#		place in the shipped config. Each VAR=VALUE becomes one more
#		MAKINI_WEBHOOK_VAR for the receiver. With SERVE_PROCS=N set,
#		lighttpd FastCGI runs N processes instead of the shipped
#		max-procs, the rest of the shipped file unchanged.
#	serve_gunicorn NAME APPDIR PORT SPOOL
#	serve_stop_all

SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"

serve_dirs=
serve_pids=

# The server directory of setup $1.
serve_dir() {
	echo "$BENCH_DIR/server-$1"
}

serve() {
	name=$1 server=$2 via=$3 program=$4 port=$5 spool=$6
	shift 6
	pass=
	for kv in "$@"; do
		export "MAKINI_WEBHOOK_${kv%%=*}=${kv#*=}"
		pass="$pass MAKINI_WEBHOOK_${kv%%=*}"
	done
	d=$(serve_dir "$name")
	serve_dirs="$serve_dirs $d"
	src=$SV_SRCDIR
	if [ -n "${SERVE_PROCS:-}" ] && [ "$server $via" = "lighttpd fastcgi" ]
	then
		# tests/servers.sh reads the shipped files below SV_SRCDIR.
		src=$BENCH_DIR/src-procs-$SERVE_PROCS
		mkdir -p "$src/lighttpd"
		sed 's/^\([^#]*"max-procs" => \)[0-9]*/\1'"$SERVE_PROCS"'/' \
			"$SRCDIR/lighttpd/makini-webhook-fastcgi.conf" \
			>"$src/lighttpd/makini-webhook-fastcgi.conf"
		grep -q "\"max-procs\" => $SERVE_PROCS," \
			"$src/lighttpd/makini-webhook-fastcgi.conf" || {
			echo "serve: no max-procs line to change" >&2
			return 1
		}
	fi
	SV_SRCDIR=$src SV_BIN=$program SV_SECRET_FILE=$SECRET_FILE \
		SV_SPOOL=$spool SV_PASS=${pass# } \
		server_start "$server" "$via" "$port" "$d"
	rc=$?
	SV_SRCDIR=$SRCDIR
	for kv in "$@"; do
		unset "MAKINI_WEBHOOK_${kv%%=*}"
	done
	return $rc
}

# The Flask receiver under gunicorn's default sync workers, four of them.
serve_gunicorn() {
	name=$1 appdir=$2 port=$3 spool=$4
	d="$BENCH_DIR/$name"
	mkdir -p "$d"
	MAKINI_WEBHOOK_SECRET_FILE=$SECRET_FILE MAKINI_WEBHOOK_SPOOL=$spool \
		gunicorn --workers 4 --bind "127.0.0.1:$port" \
		--chdir "$appdir" --error-logfile "$d/error.log" \
		receiver:app </dev/null >>"$d/error.log" 2>&1 &
	serve_pids="$serve_pids $!"
	i=0
	while [ $i -lt 100 ]; do
		curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/webhook" &&
			return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "gunicorn did not answer on port $port" >&2
	cat "$d/error.log" >&2
	return 1
}

serve_stop_all() {
	for d in $serve_dirs; do
		server_stop "$d"
	done
	for p in $serve_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $serve_pids; do
		wait "$p" 2>/dev/null
	done
	serve_dirs=
	serve_pids=
}
