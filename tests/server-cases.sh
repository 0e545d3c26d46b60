# See LICENSE file for copyright and license details.
# Cases every server setup must pass, sourced by tests/t5*.sh after
# test-lib.sh. server_cases SERVER VIA starts the shipped setup with
# tests/servers.sh on a free loopback port, posts signed and forged events
# with curl and checks the answers and the spool. The server is stopped at
# exit, whatever happens; a failing case prints the server's logs.

SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"

# The tests must not pick up a configuration from the caller's environment.
server_env_clear

SERVER_DIR=$TRASH/server
SECRET='test secret with spaces & symbols'
# A script may move these before it calls server_cases.
SECRET_FILE=$TRASH/secret
SPOOL=$TRASH/spool
PORT=$(test_free_port)

test_at_exit 'server_stop "$SERVER_DIR"; server_stop "$TRASH/busy"'
test_failure_hook() {
	server_logs "$SERVER_DIR" | sed 's/^/#   /'
}

# sc_post URL BODY-FILE [SIGNATURE [CURL-OPTION ...]]: posts the file and
# writes the answer's status code to ./code and its body to ./answer.
sc_post() {
	sc_url=$1 sc_body=$2
	shift 2
	if [ $# -ge 1 ]; then
		sc_sig=$1
		shift
		set -- -H "X-Webhook-Signature: $sc_sig" "$@"
	fi
	curl -sS --max-time 20 -o answer -w '%{http_code}' \
		-H 'Content-Type: application/json' "$@" \
		--data-binary "@$sc_body" "$sc_url" >code
}

# sc_expect_code N: the last answer had status N.
sc_expect_code() {
	[ "$(cat code)" = "$1" ] || {
		echo "expected status $1, got $(cat code): $(cat answer)"
		return 1
	}
}

# An event of about 1 KB, like Makini's, with bytes a careless receiver
# would change: no trailing newline, tabs, non-ASCII.
sc_event() {
	python3 -c 'import sys
ids = ",".join("\"%08d-aaaa-bbbb-cccc-%012d\"" % (i, i) for i in range(20))
sys.stdout.write("{\"event\": \"assets.updated\",\t\"body\": [%s], \"note\": \"caf\u00e9\", \"name\": \"%s\"}" % (ids, sys.argv[1]))' "$1"
}

# sc_accepted URL NAME: posts a signed event and checks that it is stored,
# byte for byte, under the id the answer gives.
sc_accepted() {
	sc_event "$2" >"$2.json" &&
	sc_post "$1" "$2.json" "$(test_hmac_hex "$SECRET" "$2.json")" &&
	sc_expect_code 200 &&
	sc_id=$(python3 -c 'import json,sys
a = json.load(open("answer"))
assert a["status"] == "accepted", a
assert a["event"] == "assets.updated", a
print(a["id"])') &&
	test_cmp "$2.json" "$SPOOL/assets/new/$sc_id.json" &&
	(cd "$SPOOL" && test_no_tmp_leftovers .)
}

# sc_forged URL: a wrong signature, and none at all, get 401 and leave the
# spool as it was.
sc_forged() {
	sc_event forged >forged.json &&
	test_files_in "$SPOOL" >before &&
	sc_post "$1" forged.json "$(test_hmac_hex "not the secret" forged.json)" &&
	sc_expect_code 401 &&
	sc_post "$1" forged.json &&
	sc_expect_code 401 &&
	test_files_in "$SPOOL" >after &&
	test_cmp before after
}

# sc_chunked URL NAME: posts a signed event of about 100 KB with
# Transfer-Encoding: chunked (so no Content-Length) and checks that it is
# stored byte for byte. (Apache's mod_proxy_fcgi sets CONTENT_LENGTH for a
# small chunked body, and streams a larger one without.)
sc_chunked() {
	sc_event "$2-$(head -c 100000 /dev/zero | tr "\0" x)" >"$2.json" &&
	sc_post "$1" "$2.json" "$(test_hmac_hex "$SECRET" "$2.json")" \
		-H "Transfer-Encoding: chunked" &&
	sc_expect_code 200 &&
	sc_id=$(sed -n "s/.*\"id\": *\"\([^\"]*\)\".*/\1/p" answer) &&
	test_cmp "$2.json" "$SPOOL/assets/new/$sc_id.json"
}

# sc_pipelined URL NAME: two signed chunked deliveries written at once on
# one connection, the second closing it; both must be answered 200 and
# stored byte for byte.
sc_pipelined() {
	sc_event "$2-1" >"$2-1.json" && sc_event "$2-2" >"$2-2.json" &&
	python3 - "$1" "$2-1.json" "$(test_hmac_hex "$SECRET" "$2-1.json")" \
		"$2-2.json" "$(test_hmac_hex "$SECRET" "$2-2.json")" >answer <<-\EOF &&
	import socket, sys, urllib.parse
	url = urllib.parse.urlsplit(sys.argv[1])
	def request(path, sig, last):
	    body = open(path, "rb").read()
	    head = ("POST %s HTTP/1.1\r\nHost: %s\r\nX-Webhook-Signature: %s\r\n"
	            "Content-Type: application/json\r\n"
	            "Transfer-Encoding: chunked\r\n%s\r\n"
	            % (url.path, url.netloc, sig,
	               "Connection: close\r\n" if last else "")).encode()
	    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 100]), body[i:i + 100])
	                      for i in range(0, len(body), 100))
	    return head + chunks + b"0\r\n\r\n"
	s = socket.create_connection((url.hostname, url.port), timeout=20)
	s.sendall(request(sys.argv[2], sys.argv[3], False) +
	          request(sys.argv[4], sys.argv[5], True))
	got = b""
	while True:
	    data = s.recv(65536)
	    if not data:
	        break
	    got += data
	sys.stdout.write(got.decode("utf-8", "replace"))
	EOF
	[ "$(grep -c "^HTTP/1.1 200" answer)" = 2 ] &&
	for i in 1 2; do
		grep -l -F "\"name\": \"$2-$i\"" "$SPOOL"/assets/new/*.json >found &&
		test_cmp "$2-$i.json" "$(cat found)" || return 1
	done
}

# sc_slow_clients URL NAME: with 64 clients trickling their bodies and 64
# idle connections open (tests/slow-clients.py), a signed delivery gets
# its 200 within a second and is stored byte for byte.
sc_slow_clients() {
	sc_event "$2" >"$2.json" &&
	python3 "$SRCDIR/tests/slow-clients.py" "$1" "$2.json" \
		"$(test_hmac_hex "$SECRET" "$2.json")" >"$2.out" &&
	cat "$2.out" &&
	read -r sc_code sc_seconds <"$2.out" &&
	[ "$sc_code" = 200 ] &&
	python3 -c "import sys; sys.exit(float(sys.argv[1]) >= 1)" \
		"$sc_seconds" &&
	grep -l -F "\"name\": \"$2\"" "$SPOOL"/assets/new/*.json >found &&
	test_cmp "$2.json" "$(cat found)"
}

# sc_log_prefix SERVER VIA: what stands before "makini-webhook: " on a
# request's log line, as an extended regular expression. lighttpd stamps
# the lines of the FastCGI stream, and the receiver its lines in a file
# MAKINI_WEBHOOK_LOG names (nginx with fcgiwrap); every other setup leaves
# them as the receiver wrote them.
sc_log_prefix() {
	case $1-$2 in
	lighttpd-fastcgi)
		printf '%s' '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}: \(mod_fastcgi\.c\.[0-9]+\) FastCGI-stderr:' ;;
	nginx-cgi)
		printf '%s' '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z \[[0-9]+\] ' ;;
	esac
}

# sc_log_mark: notes how many lines the setup's request log ($SC_LOG)
# holds, for sc_log_expect.
sc_log_mark() {
	sc_mark=$(cat "$SC_LOG" 2>/dev/null | wc -l)
}

# sc_log_expect RE...: exactly one line per RE was written to $SC_LOG since
# sc_log_mark, each $SC_PREFIX then the receiver's line matching RE (an
# extended regular expression for the part after "makini-webhook: "
# and before the duration), in order.
sc_log_expect() {
	sc_want=$#
	: >expect.re
	for sc_re in "$@"; do
		printf '%smakini-webhook: %s [0-9]+\.[0-9]{3}ms\n' \
			"$SC_PREFIX" "$sc_re" >>expect.re
	done
	# A server may write a line a moment after its answer.
	for _ in $(seq 50); do
		tail -n +$((sc_mark + 1)) "$SC_LOG" >lines 2>/dev/null
		[ "$(wc -l <lines)" -ge "$sc_want" ] && break
		sleep 0.1
	done
	sleep 0.2
	tail -n +$((sc_mark + 1)) "$SC_LOG" >lines
	cat lines
	[ "$(wc -l <lines)" = "$sc_want" ] || {
		echo "expected $sc_want new lines in $SC_LOG"
		return 1
	}
	sc_i=0
	while [ $sc_i -lt "$sc_want" ]; do
		sc_i=$((sc_i + 1))
		sed -n "${sc_i}p" lines |
			grep -Exq -- "$(sed -n "${sc_i}p" expect.re)" || {
			echo "line $sc_i does not match: $(sed -n "${sc_i}p" expect.re)"
			return 1
		}
	done
}

# sc_request_lines URL: a signed event, a forged one and a health check
# leave exactly their three lines in the setup's request log, in order;
# no other log of the server holds the event's id.
sc_request_lines() {
	sc_log_mark
	sc_event logged >logged.json &&
	sc_post "$1" logged.json "$(test_hmac_hex "$SECRET" logged.json)" &&
	sc_expect_code 200 &&
	sc_id=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' answer) &&
	test -n "$sc_id" &&
	sc_post "$1" logged.json \
		"$(test_hmac_hex "not the secret" logged.json)" &&
	sc_expect_code 401 &&
	curl -sS --max-time 20 -o answer -w '%{http_code}' "$1" >code &&
	sc_expect_code 200 &&
	sc_log_expect \
		"127\.0\.0\.1 POST assets\.updated 200 $(printf '%s' "$sc_id" | sed 's/\./\\./g')" \
		"127\.0\.0\.1 POST - 401 signature mismatch" \
		"127\.0\.0\.1 GET - 200 ok" &&
	grep -lF "$sc_id" "$SERVER_DIR"/log/* >holders &&
	echo "$SC_LOG" >expect &&
	test_cmp expect holders
}

# sc_spool_unwritable URL: with the spool not writable by the receiver's
# user, GET and a signed POST get 503 (the POST with Retry-After), an
# unsigned POST 401, and each line says why. Run as root only: the
# receiver runs as www-data, the spool is given to root meanwhile.
sc_spool_unwritable() {
	sc_log_mark
	chown root:root "$SPOOL" && chmod 0700 "$SPOOL" &&
	curl -sS --max-time 20 -o answer -w '%{http_code}' "$1" >code &&
	sc_expect_code 503 &&
	sc_event unwritable >unwritable.json &&
	sc_post "$1" unwritable.json \
		"$(test_hmac_hex "$SECRET" unwritable.json)" -D head &&
	sc_expect_code 503 &&
	grep -qi "^Retry-After: [0-9]" head &&
	sc_post "$1" unwritable.json &&
	sc_expect_code 401 &&
	chown -R www-data:www-data "$SPOOL" && chmod 0750 "$SPOOL" &&
	sc_log_expect \
		"127\.0\.0\.1 GET - 503 spool unavailable \(Permission denied\)" \
		"127\.0\.0\.1 POST assets\.updated 503 cannot store event \(Permission denied\)" \
		"127\.0\.0\.1 POST - 401 missing signature" &&
	curl -sS --max-time 20 -o answer -w '%{http_code}' "$1" >code &&
	sc_expect_code 200
}

# sc_backend_gone: mod_proxy_fcgi with its FastCGI service out of reach
# answers 503, and Apache's error log says why: a socket Apache's user
# cannot open, then none at all (the service not running).
sc_backend_gone() {
	sc_sock=$(cat "$SERVER_DIR/rundir")/fcgi.sock
	chown root:root "$sc_sock" && chmod 0600 "$sc_sock" &&
	curl -sS --max-time 20 -o answer -w '%{http_code}' "$URL" >code &&
	sc_expect_code 503 &&
	grep -F "(13)Permission denied: AH02454: FCGI: attempt to connect to Unix domain socket $sc_sock" \
		"$SERVER_DIR/log/error.log" &&
	rm "$sc_sock" &&
	curl -sS --max-time 20 -o answer -w '%{http_code}' "$URL" >code &&
	sc_expect_code 503 &&
	grep -F "(2)No such file or directory: AH02454: FCGI: attempt to connect to Unix domain socket $sc_sock" \
		"$SERVER_DIR/log/error.log"
}

server_cases() {
	sc_server=$1 sc_via=$2
	URL=$(server_url "$sc_server" "$sc_via" "$PORT")
	mkdir -p "$(dirname "$SECRET_FILE")" &&
	printf '%s' "$SECRET" >"$SECRET_FILE" || return 1
	SV_BIN=$BIN SV_SECRET_FILE=$SECRET_FILE SV_SPOOL=$SPOOL
	export SV_BIN SV_SECRET_FILE SV_SPOOL

	rm -f "$TRASH/.before"
	sc_leftovers >"$TRASH/.before.new"
	mv "$TRASH/.before.new" "$TRASH/.before"
	test_expect_success "$sc_server $sc_via starts on 127.0.0.1:$PORT" '
		server_start "$sc_server" "$sc_via" "$PORT" "$SERVER_DIR"
	'
	# Without a server the other cases would only repeat its log.
	if ! [ -f "$SERVER_DIR/pids" ]; then
		test_skip "the other cases: the server did not start"
		return 1
	fi

	test_expect_success 'a server that cannot start is reported with its log' '
		test_must_fail server_start "$sc_server" "$sc_via" "$PORT" \
			"$TRASH/busy" 2>err &&
		grep "Address already in use" err &&
		! ps -eo args= | grep -F "$TRASH/busy/" | grep -v grep
	'

	test_expect_success 'GET is the health check' '
		curl -sS --max-time 20 -o answer -w "%{http_code}" "$URL" >code &&
		sc_expect_code 200 &&
		test_health_ok answer
	'

	SC_LOG=$(server_request_log "$sc_server" "$sc_via" "$SERVER_DIR")
	SC_PREFIX=$(sc_log_prefix "$sc_server" "$sc_via")
	test_expect_success "each request leaves its one line in log/${SC_LOG##*/}" '
		sc_request_lines "$URL"
	'

	test_expect_success 'a signed event is accepted and spooled byte for byte' '
		sc_accepted "$URL" first
	'

	test_expect_success 'a base64 signature with sha256= is accepted' '
		sc_event b64 >b64.json &&
		sc_post "$URL" b64.json "sha256=$(test_hmac_b64 "$SECRET" b64.json)" &&
		sc_expect_code 200
	'

	test_expect_success 'forged and unsigned events get 401, nothing stored' '
		sc_forged "$URL"
	'

	test_expect_success 'a body over the limit gets 413, nothing stored' '
		test_files_in "$SPOOL" >before &&
		head -c 1048577 /dev/zero | tr "\0" x >big.json &&
		sc_post "$URL" big.json "$(test_hmac_hex "$SECRET" big.json)" &&
		sc_expect_code 413 &&
		test_files_in "$SPOOL" >after &&
		test_cmp before after
	'

	test_expect_success 'a chunked delivery (no Content-Length) is accepted' '
		sc_chunked "$URL" chunked
	'

	test_expect_success 'a chunked body over the limit gets 413, nothing stored' '
		test_files_in "$SPOOL" >before &&
		sc_post "$URL" big.json "$(test_hmac_hex "$SECRET" big.json)" \
			-H "Transfer-Encoding: chunked" &&
		sc_expect_code 413 &&
		test_files_in "$SPOOL" >after &&
		test_cmp before after
	'

	# A CGI program that answers before reading the body must still read
	# it, or Apache fails to write it and breaks the answer.
	test_expect_success 'answers given before the body is read arrive whole' '
		head -c 200000 /dev/zero | tr "\0" y >early.json &&
		for i in 1 2 3 4 5 6 7 8 9 10; do
			curl -sS --max-time 20 -o answer -w "%{http_code}" \
				-X PUT --data-binary @early.json "$URL" >code &&
			sc_expect_code 405 &&
			grep "\"error\": *\"method not allowed\"" answer || exit 1
		done
	'

	test_expect_success 'two chunked deliveries pipelined on one connection' '
		sc_pipelined "$URL" pipelined
	'

	test_expect_success 'concurrent deliveries are all stored' '
		for i in 1 2 3 4 5 6 7 8; do
			sc_event "c$i" >"c$i.json" || exit 1
			curl -sS --max-time 20 -o "c$i.answer" -w "%{http_code}\n" \
				-H "X-Webhook-Signature: $(test_hmac_hex "$SECRET" "c$i.json")" \
				--data-binary "@c$i.json" "$URL" >"c$i.code" &
		done &&
		wait &&
		cat c?.code | sort | uniq -c >codes &&
		echo "      8 200" >expect &&
		test_cmp expect codes &&
		for i in 1 2 3 4 5 6 7 8; do
			grep -l -F "\"name\": \"c$i\"" "$SPOOL"/assets/new/*.json >found &&
			test_cmp "c$i.json" "$(cat found)" || exit 1
		done
	'

	# (A FastCGI process reads the file again on a signature mismatch, so
	# one that has not met the new secret yet still takes the old one:
	# only the new secret's acceptance is checked.)
	test_expect_success 'a secret file rewritten in place is used at once' '
		printf "%s" "rotated secret" >"$SECRET_FILE" &&
		sc_event rotated >rotated.json &&
		sc_post "$URL" rotated.json \
			"$(test_hmac_hex "rotated secret" rotated.json)" &&
		sc_expect_code 200 &&
		printf "%s" "$SECRET" >"$SECRET_FILE" &&
		sc_post "$URL" rotated.json "$(test_hmac_hex "$SECRET" rotated.json)" &&
		sc_expect_code 200
	'

	test_expect_success '64 trickling and 64 idle clients hold up no delivery' '
		sc_slow_clients "$URL" slow
	'

	if [ "$(id -u)" = 0 ]; then
		test_expect_success 'run as root, the receiver runs as www-data' '
			find "$SPOOL" -path "*/new/*" -type f >stored &&
			test -s stored &&
			find "$SPOOL" -path "*/new/*" -type f ! -user www-data >wrong &&
			test_cmp /dev/null wrong
		'

		test_expect_success 'a spool the receiver cannot write: 503 on GET and signed POST' '
			sc_spool_unwritable "$URL"
		'
	fi
}

# Succeeds, listing them ("pid args"), when processes of this setup run:
# receivers (started from $BIN or from below $SERVER_DIR) or servers
# configured there. Those already running before the server started (other
# tests' receivers, say) are left out.
sc_leftovers() {
	ps -eo pid=,args= | awk -v bin="$BIN" -v dir="$SERVER_DIR" \
		-v before="$(cat "$TRASH/.before" 2>/dev/null)" '
		BEGIN { n = split(before, b, "\n")
			for (i = 1; i <= n; i++) { split(b[i], f, " "); old[f[1]] = 1 } }
		{ pid = $1; args = $0; sub(/^ *[0-9]+ /, "", args); split(args, a, " ") }
		old[pid] { next }
		index(args, bin) == 1 || index(args, dir) == 1 ||
		(a[1] ~ /(lighttpd|apache2|spawn-fcgi|nginx:|caddy)$/ && index(args, dir)) {
			print pid " " args; found = 1
		}
		END { exit !found }'
}

# sc_doc_excerpts DOC FILE...: every line of DOC's fenced blocks (```sh,
# ```nginx, ```caddyfile) stands in one of the shipped FILEs, as a line of
# its own or of a comment there, leading blanks and "#" aside: the
# document quotes what the tests run.
sc_doc_excerpts() {
	sc_doc=$1
	shift
	awk '/^```(sh|nginx|caddyfile)$/ { on = 1; next } /^```/ { on = 0 }
		on && NF' "$sc_doc" | sed 's/^[[:space:]#]*//' >excerpts &&
	test -s excerpts &&
	cat "$@" | sed 's/^[[:space:]#]*//' >shipped &&
	while IFS= read -r sc_line; do
		grep -qxF -- "$sc_line" shipped || {
			echo "not in $*: $sc_line"
			return 1
		}
	done <excerpts
}

# server_cases_stop: the last case; stopping leaves no process of the setup
# behind (server, backends, receivers).
server_cases_stop() {
	test_expect_success 'stopping the server leaves no process behind' '
		server_stop "$SERVER_DIR" &&
		tries=50 &&
		while sc_leftovers >left; do
			tries=$((tries - 1))
			if [ $tries = 0 ]; then cat left; exit 1; fi
			sleep 0.1
		done
	'
}
