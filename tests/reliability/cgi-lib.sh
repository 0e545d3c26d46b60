# Helpers for the security and fault tests (tests/t6*.sh), sourced after
# tests/test-lib.sh. They drive the binary as a CGI program: environment
# variables and standard input in, the response on standard output.
#
#	cgi_post BODY [SIGNATURE] [VAR=value...]
#
# posts file BODY, signed with $SECRET unless SIGNATURE is given ("-" signs,
# "none" sends no header), and leaves the response in $TRASH/out, its log
# line in $TRASH/err. The variables given override the defaults.

SECRET=${SECRET:-s3cr3t-Do-Not-Print-4f1d9}
SPOOL=${SPOOL:-$TRASH/spool}

cgi_run() {
	env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST \
		REMOTE_ADDR=127.0.0.1 MAKINI_WEBHOOK_SECRET="$SECRET" \
		MAKINI_WEBHOOK_SPOOL="$SPOOL" MAKINI_WEBHOOK_FSYNC=0 \
		"$@" ${CGI_RUN_AS:-} ${MAKINI_TEST_WRAP:-} "$BIN"
}

cgi_post() {
	body=$1
	sig=${2--}
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] && shift
	[ "$sig" = - ] && sig=$(test_hmac_hex "$SECRET" "$body")
	if [ "$sig" = none ]; then
		cgi_run CONTENT_LENGTH=$(wc -c <"$body") "$@" \
			<"$body" >"$TRASH/out" 2>"$TRASH/err"
	else
		cgi_run CONTENT_LENGTH=$(wc -c <"$body") \
			HTTP_X_WEBHOOK_SIGNATURE="$sig" "$@" \
			<"$body" >"$TRASH/out" 2>"$TRASH/err"
	fi
}

# The status code of the last response.
cgi_status() {
	sed -n 's/^Status: \([0-9][0-9]*\).*/\1/p' "$TRASH/out" | tr -d '\r'
}

# Succeeds when the last response had status $1; shows it when not.
expect_status() {
	got=$(cgi_status)
	[ "$got" = "$1" ] || {
		echo "expected status $1, got '$got'"
		cat "$TRASH/out" "$TRASH/err"
		return 1
	}
}

# The id of the last response, empty when there was none.
cgi_id() {
	sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$TRASH/out"
}

# Succeeds when nothing at all is stored below spool $1 (directories aside).
expect_nothing_stored() {
	left=$(find "$1" -type f -o -type l 2>/dev/null || :)
	[ -z "$left" ] || { echo "stored: $left"; return 1; }
}

# Succeeds when the last response was 503 with a Retry-After header.
expect_retry_later() {
	expect_status 503 || return 1
	grep -q '^Retry-After: [0-9][0-9]*' "$TRASH/out" || {
		echo "no Retry-After:"; cat "$TRASH/out"; return 1; }
}
