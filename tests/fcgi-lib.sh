# See LICENSE file for copyright and license details.
# Helpers for tests that run the binary as a FastCGI application through
# libfcgi's own tools: spawn-fcgi starts it on a unix socket, cgi-fcgi sends
# one request. Sourced after test-lib.sh.

FCGI_SOCKET=$TRASH/fcgi.sock
# Registered here, at the top level: a test case runs in a subshell, where
# a registration would be lost.
test_at_exit 'fcgi_stop'

# fcgi_start VAR=value ...: starts one FastCGI process whose process
# environment holds the assignments; its pid is in $TRASH/fcgi.pid.
fcgi_start() {
	env -i PATH="$PATH" "$@" spawn-fcgi -n -s "$FCGI_SOCKET" -- \
		${MAKINI_TEST_WRAP:-} "$BIN" 2>"$TRASH/fcgi.log" &
	echo $! >"$TRASH/fcgi.pid"
	for _ in $(seq 50); do
		[ -S "$FCGI_SOCKET" ] && return 0
		sleep 0.1
	done
	echo "FastCGI application did not start:"
	cat "$TRASH/fcgi.log"
	return 1
}

fcgi_stop() {
	[ -f "$TRASH/fcgi.pid" ] || return 0
	pid=$(cat "$TRASH/fcgi.pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	rm -f "$TRASH/fcgi.pid" "$FCGI_SOCKET"
}

# fcgi_request METHOD BODY_FILE [VAR=value ...]: the request's params are
# the CGI variables and the assignments, nothing else. The answer lands in
# ./out and ./body, the application's log lines in ./err.
fcgi_request() {
	method=$1 file=$2
	shift 2
	env -i REQUEST_METHOD="$method" CONTENT_LENGTH="$(wc -c <"$file")" \
		REMOTE_ADDR=127.0.0.1 GATEWAY_INTERFACE=CGI/1.1 "$@" \
		cgi-fcgi -bind -connect "$FCGI_SOCKET" <"$file" >out 2>err
	sed '1,/^\r$/d' out >body
}

fcgi_post() {
	file=$1
	shift
	fcgi_request POST "$file" \
		HTTP_X_WEBHOOK_SIGNATURE="$(test_hmac_hex "$SECRET" "$file")" "$@"
}
