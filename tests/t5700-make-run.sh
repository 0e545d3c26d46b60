#!/bin/sh
# See LICENSE file for copyright and license details.
# make run (tools/run.sh): the demo serves, its printed curl line works,
# MAKINI_WEBHOOK_* variables reach the receiver in every kind of setup, a
# busy port is refused, and SIGTERM stops everything it started.
. "$(dirname "$0")/test-lib.sh"
SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"

server_env_clear

# run_start NAME [VAR=value ...]: starts tools/run.sh with its state in
# ./NAME and the assignments in its environment, and waits until it serves.
# Its output goes to NAME.out, its process id to NAME.pid.
run_start() {
	name=$1
	shift
	rm -f "$name.out"
	env RUN_STATE="$TRASH/$name" SV_BIN= "$@" \
		sh "$SRCDIR/tools/run.sh" </dev/null >"$name.out" 2>&1 &
	echo $! >"$name.pid"
	tries=150
	until grep -q "^Stop with Ctrl-C" "$name.out" 2>/dev/null; do
		if ! kill -0 "$(cat "$name.pid")" 2>/dev/null ||
		   [ $tries = 0 ]; then
			cat "$name.out"
			return 1
		fi
		sleep 0.1
		tries=$((tries - 1))
	done
}

# run_stop NAME: SIGTERM, then check that no process of it is left.
run_stop() {
	pid=$(cat "$1.pid") &&
	kill -TERM "$pid" &&
	tries=100 &&
	while kill -0 "$pid" 2>/dev/null; do
		[ $tries != 0 ] || { echo "run.sh did not exit"; return 1; }
		sleep 0.1
		tries=$((tries - 1))
	done &&
	grep -q "^stopping" "$1.out" &&
	! ps -eo args= | grep -F "$TRASH/$1/" | grep -v grep
}

for name in demo given cgi apache-fcgid apache-proxy apache-systemd twice \
	nginx-fastcgi nginx-cgi caddy; do
	test_at_exit "kill -TERM \$(cat $name.pid 2>/dev/null) 2>/dev/null"
done
# What a run.sh cut short would leave behind.
test_at_exit 'server_stop "$TRASH/twice/apache-proxy"'
test_failure_hook() {
	for out in *.out; do
		[ -f "$out" ] && sed "s/^/#   $out: /" "$out"
	done
}

printf 'given secret' >given-secret
printf '{"event":"sites.deleted","body":["s-9"]}' >event.json

test_expect_success 'make run serves a demo with a generated secret' '
	PORT=$(test_free_port) &&
	run_start demo PORT="$PORT" &&
	test -s demo/secret &&
	grep "demo secret (in .*demo/secret): $(cat demo/secret)$" demo.out &&
	grep -F "http://127.0.0.1:$PORT/makini-webhook" demo.out
'

test_expect_success 'the printed curl line delivers the sample event' '
	line=$(grep "^  curl " demo.out) &&
	(cd "$SRCDIR" && eval "$line") >answer &&
	grep "^HTTP/1.1 200" answer &&
	id=$(sed -n "s/.*\"id\":\"\([^\"]*\)\".*/\1/p" answer) &&
	test_cmp demo/event.json "demo/spool/assets/new/$id.json"
'

test_expect_success 'a busy port is refused with a message' '
	PORT=$(sed -n "s|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p" demo.out | head -n 1) &&
	test_must_fail env RUN_STATE="$TRASH/busy" PORT="$PORT" \
		sh "$SRCDIR/tools/run.sh" >busy.out 2>&1 &&
	grep "in use" busy.out
'

test_expect_success 'SIGTERM stops the demo and all it started' '
	run_stop demo
'

# given NAME SERVER VIA: a secret and a spool given in the environment are
# used as is, and MAKINI_WEBHOOK_ALLOW_FROM reaches the receiver.
given() {
	mkdir -p "$1-spool" &&
	if [ "$(id -u)" = 0 ]; then chown www-data "$1-spool" given-secret; fi &&
	PORT=$(test_free_port) &&
	run_start "$1" SERVER="$2" VIA="$3" PORT="$PORT" \
		MAKINI_WEBHOOK_SECRET_FILE="$TRASH/given-secret" \
		MAKINI_WEBHOOK_SPOOL="$TRASH/$1-spool" &&
	! test -e "$1/secret" &&
	url=$(server_url "$2" "$3" "$PORT") &&
	curl -sS -o answer -w "%{http_code}" \
		-H "X-Webhook-Signature: $(test_hmac_hex "given secret" event.json)" \
		--data-binary @event.json "$url" >code &&
	test "$(cat code)" = 200 &&
	id=$(sed -n "s/.*\"id\":\"\([^\"]*\)\".*/\1/p" answer) &&
	test_cmp event.json "$1-spool/sites/new/$id.json" &&
	run_stop "$1" &&
	run_start "$1" SERVER="$2" VIA="$3" PORT="$PORT" \
		MAKINI_WEBHOOK_SECRET="given secret" \
		MAKINI_WEBHOOK_SPOOL="$TRASH/$1-spool" \
		MAKINI_WEBHOOK_ALLOW_FROM=192.0.2.0/24 &&
	curl -sS -o answer -w "%{http_code}" \
		-H "X-Webhook-Signature: $(test_hmac_hex "given secret" event.json)" \
		--data-binary @event.json "$url" >code &&
	test "$(cat code)" = 403 &&
	run_stop "$1"
}

test_expect_success 'lighttpd FastCGI: given variables reach the receiver' '
	given given lighttpd fastcgi
'

test_expect_success 'lighttpd CGI: given variables reach the receiver' '
	given cgi lighttpd cgi
'

test_expect_success 'Apache mod_fcgid: given variables reach the receiver' '
	given apache-fcgid apache fcgid
'

test_expect_success 'Apache mod_proxy_fcgi: given variables reach the receiver' '
	given apache-proxy apache proxy
'

# The FastCGI receivers spawn-fcgi starts outlive it (their parent is
# init), so only run.sh stopping them stops them; a second signal while it
# stops everything must not cut that short.
test_expect_success 'two SIGTERMs 2 ms apart still stop every receiver' '
	run_start twice SERVER=apache VIA=proxy PORT="$(test_free_port)" &&
	pidfile=$(cat twice/apache-proxy/rundir)/spawn-fcgi.pid &&
	receivers=$(cat "$pidfile") &&
	test -n "$receivers" &&
	python3 -c "import os, signal, sys, time
pid = int(sys.argv[1])
os.kill(pid, signal.SIGTERM)
time.sleep(0.002)
os.kill(pid, signal.SIGTERM)" "$(cat twice.pid)" &&
	tries=100 &&
	while kill -0 "$(cat twice.pid)" 2>/dev/null; do
		[ $tries != 0 ] || { echo "run.sh did not exit"; exit 1; }
		sleep 0.1
		tries=$((tries - 1))
	done &&
	for pid in $receivers; do
		test_process_gone "$pid" || exit 1
	done &&
	! ps -eo args= | grep -F "$TRASH/twice/" | grep -v grep
'

if command -v multiwatch >/dev/null; then
	test_expect_success 'Apache + systemd units: given variables reach the receiver' '
		given apache-systemd apache systemd
	'
fi

test_expect_success 'nginx FastCGI: given variables reach the receiver' '
	given nginx-fastcgi nginx fastcgi
'

test_expect_success 'nginx + fcgiwrap: given variables reach the receiver' '
	given nginx-cgi nginx cgi
'

test_expect_success 'Caddy: given variables reach the receiver' '
	given caddy caddy fastcgi
'

test_done
