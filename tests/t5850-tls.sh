#!/bin/sh
# See LICENSE file for copyright and license details.
# Every shipped setup over HTTPS, with its shipped TLS lines, through
# HTTP/1.1 and HTTP/2 (curl, and tests/h2-client.py for what curl cannot
# send): signed events with a length, without one and chunked, over the
# limit, forged; GET and HEAD; 200 events multiplexed on two connections;
# a stream reset mid-body; stalled streams and trickling clients beside a
# signed delivery; where the request lines land. One server start per
# setup serves all its cases.
#
# TLS_SETUPS="SERVER/VIA ..." runs only those setups. TLS_SOAK=1 (make
# check-h2-soak) holds the stalled and trickling clients past the
# servers' stream timeouts and times several deliveries among them.
. "$(dirname "$0")/test-lib.sh"
SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"

server_env_clear

SECRET='tls test secret'
SECRET_FILE=$TRASH/secret
printf '%s' "$SECRET" >"$SECRET_FILE"
SV_TLS_DIR=$TRASH/tls
CA=$SV_TLS_DIR/cert.pem
SV_BIN=$BIN SV_SECRET_FILE=$SECRET_FILE
export SV_BIN SV_SECRET_FILE SV_TLS_DIR

# Python with the h2 module (Debian's python3-h2): the first python3 on
# PATH may be another build without it.
H2PY=
for py in /usr/bin/python3 python3; do
	if "$py" -c 'import h2' 2>/dev/null; then H2PY=$py; break; fi
done

if [ "${TLS_SOAK:-0}" = 1 ]; then
	# Past H2StreamTimeout, so that the streams it resets and those
	# queued behind them are in play too.
	TLS_SETTLE=8 TLS_ROUNDS=10
else
	TLS_SETTLE=2 TLS_ROUNDS=1
fi

# The setups, each with the HTTP version clients end up speaking when
# they offer HTTP/2 (see docs/https.md for why some stay at 1.1).
tls_setups() {
	echo "lighttpd/fastcgi 1.1"
	echo "lighttpd/cgi 1.1"
	echo "apache/fcgid 1.1"
	echo "apache/proxy 2"
	echo "apache/cgi 2"
	echo "nginx/fastcgi 2"
	echo "nginx/cgi 2"
	echo "caddy/fastcgi 2"
}

test_failure_hook() {
	[ -n "${DIR:-}" ] && server_logs "$DIR" | sed 's/^/#   /'
}

# tls_event NAME [PAD]: an event of about 1 KB (PAD bytes more) with bytes a
# careless receiver would change, named NAME, in NAME.json.
tls_event() {
	"$H2PY" -c 'import sys
ids = ",".join("\"%08d-aaaa-bbbb-cccc-%012d\"" % (i, i) for i in range(20))
sys.stdout.write("{\"event\": \"assets.updated\",\t\"body\": [%s], \"note\": \"caf\u00e9\", \"name\": \"%s\", \"pad\": \"%s\"}" % (ids, sys.argv[1], "x" * int(sys.argv[2])))' \
		"$1" "${2:-0}" >"$1.json"
}

tls_sig() {
	"$H2PY" -c 'import hmac, hashlib, sys
print(hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(),
               hashlib.sha256).hexdigest())' "$SECRET" "$1"
}

# tls_many DIR N: N signed events, DIR/mI.json and DIR/mI.sig, in one go.
tls_many() {
	"$H2PY" -c 'import hmac, hashlib, os, sys
d, n, key = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
ids = ",".join("\"%08d-aaaa-bbbb-cccc-%012d\"" % (i, i) for i in range(20))
for i in range(1, n + 1):
    body = ("{\"event\": \"assets.updated\",\t\"body\": [%s], "
            "\"note\": \"caf\u00e9\", \"name\": \"m%d\"}" % (ids, i)).encode()
    open(os.path.join(d, "m%d.json" % i), "wb").write(body)
    open(os.path.join(d, "m%d.sig" % i), "w").write(
        hmac.new(key, body, hashlib.sha256).hexdigest())' "$1" "$2" "$SECRET"
}

# tls_curl OUT [CURL-OPTION ...]: curl over TLS with the test's CA; the
# answer's body goes to OUT, "VERSION STATUS" to ./code.
tls_curl() {
	tc_out=$1
	shift
	curl -sS --max-time 20 --cacert "$CA" -o "$tc_out" \
		-w '%{http_version} %{http_code}' "$@" >code
}

# tls_stored NAME ANSWER: the answer is 200 with an id, and NAME.json is
# stored under it byte for byte.
tls_stored() {
	ts_id=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' "$2")
	[ -n "$ts_id" ] || { echo "no id in: $(cat "$2")"; return 1; }
	test_cmp "$1.json" "$SPOOL/assets/new/$ts_id.json"
}

# tls_stored_once DIR N: each DIR/mI.json is stored once, byte for byte.
tls_stored_once() {
	"$H2PY" -c 'import os, sys
d, n, new = sys.argv[1], int(sys.argv[2]), sys.argv[3]
stored = {}
for f in os.listdir(new):
    b = open(os.path.join(new, f), "rb").read()
    stored[b] = stored.get(b, 0) + 1
bad = [i for i in range(1, n + 1)
       if stored.get(open(os.path.join(d, "m%d.json" % i), "rb").read()) != 1]
if bad:
    sys.exit("not stored once, byte for byte: %s" % bad)' \
		"$1" "$2" "$SPOOL/assets/new"
}

# tls_expect VERSION STATUS: what ./code holds.
tls_expect() {
	[ "$(cat code)" = "$1 $2" ] || {
		echo "expected HTTP/$1 $2, got $(cat code)"
		return 1
	}
}

# tls_note KEY VALUE: one cell of this setup's row in the summary.
tls_note() {
	printf '%s\t%s\t%s\n' "$SETUP" "$1" "$2" >>"$TRASH/matrix"
}

tls_cases() {
	SETUP=$1 H2=$2
	server=${SETUP%/*} via=${SETUP#*/}
	name=$server-$via
	DIR=$TRASH/$name
	SPOOL=$TRASH/$name-spool
	SV_SPOOL=$SPOOL
	export SV_SPOOL
	PORT=$(test_free_port)
	URL=$(server_url "$server" "$via" "$PORT" tls)
	test_at_exit "server_stop '$DIR'"

	test_expect_success "$SETUP: starts with TLS on 127.0.0.1:$PORT" '
		server_start "$server" "$via" "$PORT" "$DIR" tls
	'
	if ! [ -s "$DIR/pids" ]; then
		test_skip "$SETUP: the other cases: the server did not start"
		return 0
	fi

	test_expect_success "$SETUP: GET and HEAD over HTTP/1.1, and offered HTTP/2 (HTTP/$H2 spoken)" '
		tls_curl answer --http1.1 "$URL" &&
		tls_expect 1.1 200 &&
		test_health_ok answer &&
		tls_curl answer --http2 "$URL" &&
		tls_expect "$H2" 200 &&
		test_health_ok answer &&
		tls_curl answer --http1.1 -I "$URL" &&
		tls_expect 1.1 200 &&
		tls_curl head --http2 -I "$URL" &&
		tls_expect "$H2" 200 &&
		! grep -q "{" head
	'

	test_expect_success "$SETUP: signed events over HTTP/1.1, with a length and chunked" '
		tls_event h1len &&
		tls_curl answer --http1.1 --data-binary @h1len.json \
			-H "X-Webhook-Signature: $(tls_sig h1len.json)" "$URL" &&
		tls_expect 1.1 200 && tls_stored h1len answer &&
		tls_note "h1 TLS" "$(cat code)" &&
		tls_event h1chunked 100000 &&
		tls_curl answer --http1.1 --data-binary @h1chunked.json \
			-H "Transfer-Encoding: chunked" \
			-H "X-Webhook-Signature: $(tls_sig h1chunked.json)" "$URL" &&
		tls_expect 1.1 200 && tls_stored h1chunked answer &&
		tls_note chunked "$(cat code)"
	'

	test_expect_success "$SETUP: offered HTTP/2, clients speak HTTP/$H2: a signed event with a length" '
		tls_event h2len &&
		tls_curl answer --http2 --data-binary @h2len.json \
			-H "X-Webhook-Signature: $(tls_sig h2len.json)" "$URL" &&
		tls_expect "$H2" 200 && tls_stored h2len answer &&
		tls_note "h2 with length" "$(cat code)" &&
		tls_event h2big 200000 &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" post "$URL" "$CA" \
			h2big.json "$(tls_sig h2big.json)" >out &&
		head -n 1 out >code2 && tail -n +2 out >answer &&
		echo "$( [ "$H2" = 2 ] && echo h2 || echo http/1.1) 200" >expect &&
		test_cmp expect code2 && tls_stored h2big answer
	'

	test_expect_success "$SETUP: offered HTTP/2, clients speak HTTP/$H2: a signed event without a length" '
		tls_event h2nolen &&
		curl -sS --max-time 20 --cacert "$CA" -o answer \
			-w "%{http_version} %{http_code}" --http2 -X POST -T - \
			-H "X-Webhook-Signature: $(tls_sig h2nolen.json)" \
			"$URL" <h2nolen.json >code &&
		tls_expect "$H2" 200 && tls_stored h2nolen answer &&
		tls_note "h2 without length" "$(cat code)" &&
		tls_event h2nolenbig 300000 &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" post "$URL" "$CA" \
			h2nolenbig.json "$(tls_sig h2nolenbig.json)" nolength >out &&
		head -n 1 out >code2 && tail -n +2 out >answer &&
		echo "$( [ "$H2" = 2 ] && echo h2 || echo http/1.1) 200" >expect &&
		test_cmp expect code2 && tls_stored h2nolenbig answer
	'

	test_expect_success "$SETUP: over the limit: 413 with and without a length, nothing stored" '
		test_files_in "$SPOOL" >before &&
		head -c 1048577 /dev/zero | tr "\0" x >big.json &&
		sig=$(tls_sig big.json) &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" post "$URL" "$CA" \
			big.json "$sig" >out &&
		head -n 1 out | grep " 413$" &&
		tls_curl answer --http1.1 --data-binary @big.json \
			-H "X-Webhook-Signature: $sig" "$URL" &&
		tls_expect 1.1 413 &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" post "$URL" "$CA" \
			big.json "$sig" nolength >out &&
		head -n 1 out | grep " 413$" &&
		test_files_in "$SPOOL" >after &&
		test_cmp before after
	'

	test_expect_success "$SETUP: forged and unsigned: 401 on both, nothing stored" '
		test_files_in "$SPOOL" >before &&
		tls_event forged &&
		for v in --http1.1 --http2; do
			tls_curl answer "$v" --data-binary @forged.json \
				-H "X-Webhook-Signature: $(tls_sig big.json)" \
				"$URL" &&
			grep " 401$" code &&
			tls_curl answer "$v" --data-binary @forged.json "$URL" &&
			grep " 401$" code || exit 1
		done &&
		test_files_in "$SPOOL" >after &&
		test_cmp before after
	'

	test_expect_success "$SETUP: 200 events multiplexed on two connections, each stored once" '
		rm -rf many && mkdir many &&
		tls_many many 200 &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" many "$URL" "$CA" many 2 >out &&
		grep -v "^m[0-9]" out &&
		grep "^m[0-9]" out | cut -d " " -f 2- | sort | uniq -c >codes &&
		echo "    200 $( [ "$H2" = 2 ] && echo h2 || echo http/1.1) 200" >expect &&
		test_cmp expect codes &&
		tls_stored_once many 200 &&
		tls_note multiplexed "$(sed -n "s/^streams-at-once //p" out) streams at once"
	'

	test_expect_success "$SETUP: a stream reset mid-body leaves nothing stored" '
		test_files_in "$SPOOL" >before &&
		tls_event reset 50000 &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" reset "$URL" "$CA" \
			reset.json "$(tls_sig reset.json)" &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" reset "$URL" "$CA" \
			reset.json "$(tls_sig reset.json)" nolength &&
		sleep 1 &&
		test_files_in "$SPOOL" >after &&
		test_cmp before after
	'

	test_expect_success "$SETUP: request lines in $(basename "$(server_request_log "$server" "$via" "$DIR")"), none at error level" '
		log=$(server_request_log "$server" "$via" "$DIR") &&
		tls_event logged &&
		tls_curl answer --http2 --data-binary @logged.json \
			-H "X-Webhook-Signature: $(tls_sig logged.json)" "$URL" &&
		tls_expect "$H2" 200 &&
		id=$(sed -n "s/.*\"id\": *\"\([^\"]*\)\".*/\1/p" answer) &&
		for _ in $(seq 50); do
			grep -qF "$id" "$log" && break
			sleep 0.1
		done &&
		grep -F "$id" "$log" |
			grep -E "makini-webhook: 127\.0\.0\.1 POST assets\.updated 200 " &&
		grep -lF "$id" "$DIR"/log/* >holders &&
		echo "$log" >expect &&
		test_cmp expect holders &&
		! grep -hE "makini-webhook: .*(\[error\]|:error\])|(\[error\]|:error\]).*makini-webhook: " \
			"$DIR"/log/*
	'

	test_expect_success "$SETUP: a signed delivery within 2 s beside 16 connections of stalled streams (100 each, or the server's bound)" '
		tls_event stalled &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" stall "$URL" "$CA" 16 100 \
			stalled.json "$(tls_sig stalled.json)" \
			"$TLS_SETTLE" "$TLS_ROUNDS" >out 2>held &&
		cat out held &&
		[ "$(wc -l <out)" = "$TLS_ROUNDS" ] &&
		! grep -v " 200 " out &&
		awk "\$3 >= 2 { exit 1 }" out &&
		tls_note "stalled streams" "$(sort -k 3 -n out | tail -n 1 | cut -d " " -f 3) s; $(cut -d , -f 1 held)" &&
		[ "$(grep -rlF "\"name\": \"stalled\"" "$SPOOL/assets/new" | wc -l)" = "$TLS_ROUNDS" ]
	'

	test_expect_success "$SETUP: a signed delivery within 2 s beside 16 trickling HTTP/1.1 clients" '
		tls_event trickled &&
		"$H2PY" "$SRCDIR/tests/h2-client.py" trickle "$URL" "$CA" 16 \
			trickled.json "$(tls_sig trickled.json)" \
			"$TLS_SETTLE" "$TLS_ROUNDS" >out &&
		cat out &&
		[ "$(wc -l <out)" = "$TLS_ROUNDS" ] &&
		! grep -v " 200 " out &&
		awk "\$3 >= 2 { exit 1 }" out &&
		tls_note "trickling clients" "$(sort -k 3 -n out | tail -n 1 | cut -d " " -f 3) s"
	'

	test_expect_success "$SETUP: stops, leaving no process behind" '
		server_stop "$DIR" &&
		! test -f "$DIR/pids" &&
		! ps -eo args= | grep -F "$DIR/" | grep -v grep
	'
}

if [ -z "$H2PY" ]; then
	test_skip "every case: no Python h2 module (python3-h2)"
	test_done
fi
test_expect_success 'a self-signed certificate for 127.0.0.1' '
	server_tls_cert "$SV_TLS_DIR" &&
	openssl x509 -in "$CA" -noout -text | grep "IP Address:127.0.0.1"
'

# make run TLS=1: HTTPS with a self-signed certificate made in ./var/tls,
# and the printed curl line (with --cacert) delivers the sample event.
test_expect_success 'make run TLS=1 serves HTTPS; its curl line delivers' '
	port=$(test_free_port)
	: >run.out
	env RUN_STATE="$TRASH/run" SV_BIN= TLS=1 PORT="$port" \
		sh "$SRCDIR/tools/run.sh" </dev/null >run.out 2>&1 &
	echo $! >run.pid
	for _ in $(seq 300); do
		grep -q "^Stop with Ctrl-C" run.out && break
		kill -0 "$(cat run.pid)" || break
		sleep 0.1
	done &&
	cat run.out &&
	grep -F "serving https://127.0.0.1:$port/makini-webhook" run.out &&
	test -s run/tls/cert.pem && test -s run/tls/key.pem &&
	line=$(grep "^  curl " run.out) &&
	case $line in *"--cacert "*"/run/tls/cert.pem "*) ;; *) false ;; esac &&
	(cd "$SRCDIR" && eval "$line") >answer &&
	grep "^HTTP/1.1 200" answer &&
	id=$(sed -n "s/.*\"id\":\"\([^\"]*\)\".*/\1/p" answer) &&
	test_cmp run/event.json "run/spool/assets/new/$id.json" &&
	kill -TERM "$(cat run.pid)" &&
	for _ in $(seq 100); do
		kill -0 "$(cat run.pid)" 2>/dev/null || break
		sleep 0.1
	done &&
	! kill -0 "$(cat run.pid)" 2>/dev/null &&
	! ps -eo args= | grep -F "$TRASH/run/" | grep -v grep
'
test_at_exit 'kill -TERM $(cat "$TRASH/run.pid" 2>/dev/null) 2>/dev/null'

test_expect_success 'docs/https.md quotes the shipped TLS lines' '
	awk "/^\`\`\`(lighttpd|apache|nginx|caddyfile)\$/ { on = 1; next }
		/^\`\`\`/ { on = 0 } on && NF" "$SRCDIR/docs/https.md" |
		sed "s/^[[:space:]#]*//" >excerpts &&
	test "$(wc -l <excerpts)" -ge 15 &&
	for server in lighttpd apache nginx caddy; do
		cat "$(server_tls_conf "$server")" || exit 1
	done | sed "s/^[[:space:]#]*//" >shipped &&
	while IFS= read -r line; do
		grep -qxF -- "$line" shipped || {
			echo "not shipped: $line"
			exit 1
		}
	done <excerpts
'

: >"$TRASH/matrix"
tls_setups | while read -r setup h2; do
	case " ${TLS_SETUPS:-$setup} " in
	*" $setup "*) echo "$setup $h2" ;;
	esac
done >"$TRASH/setups"
while read -r setup h2; do
	case $setup in
	lighttpd/*) test_have_prereq LIGHTTPD ;;
	apache/*) test_have_prereq APACHE ;;
	*) command -v "${setup%/*}" >/dev/null ;;
	esac || { test_skip "$setup: not installed"; continue; }
	tls_cases "$setup" "$h2"
done <"$TRASH/setups"

# What was measured, one line per setup and case.
sed 's/^/# /' "$TRASH/matrix"
test_done
