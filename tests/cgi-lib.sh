# Helpers for tests that run the binary as CGI: sourced after test-lib.sh.
#
#	cgi_request METHOD BODY_FILE [VAR=value ...]
#
# runs $BIN in a clean environment holding the CGI variables, $CGI_CONFIG
# and the extra assignments, with BODY_FILE on standard input. The answer
# lands in ./out (headers and body), the log in ./err, and the body alone
# in ./body. cgi_post FILE [VAR=value ...] signs FILE with $SECRET first.

SECRET=${SECRET:-test-secret-$$}
CGI_CONFIG="MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$TRASH/spool"

# Runs $BIN as CGI in a clean environment: the assignments given, then
# $CGI_CONFIG. Standard input is the caller's; ./out, ./err, ./body as above.
# MAKINI_TEST_WRAP (valgrind, say) is put before the binary when set.
cgi_run() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 \
		$CGI_CONFIG "$@" ${MAKINI_TEST_WRAP:-} "$BIN" >out 2>err
	rc=$?
	sed '1,/^\r$/d' out >body
	return $rc
}

cgi_request() {
	method=$1 file=$2
	shift 2
	cgi_run REQUEST_METHOD="$method" CONTENT_LENGTH="$(wc -c <"$file")" \
		"$@" <"$file"
}

cgi_post() {
	file=$1
	shift
	cgi_request POST "$file" \
		HTTP_X_WEBHOOK_SIGNATURE="$(test_hmac_hex "$SECRET" "$file")" "$@"
}

# The status code of the last answer.
cgi_status() {
	sed -n '1s/^Status: \([0-9]*\).*/\1/p' out
}

# Fails unless the last answer had status $1, printing the answer if not.
expect_status() {
	got=$(cgi_status)
	[ "$got" = "$1" ] || {
		echo "expected status $1, got '$got'"
		cat out err
		return 1
	}
}

# The "id" member of the last answer's JSON body.
answer_id() {
	sed -n 's/.*"id":"\([^"]*\)".*/\1/p' body
}

# Fails unless spool $1 holds no event at all, in tmp/ or new/.
expect_empty_spool() {
	left=$(find "$1" -type f 2>/dev/null || :)
	[ -z "$left" ] || { echo "spool not empty: $left"; return 1; }
}
