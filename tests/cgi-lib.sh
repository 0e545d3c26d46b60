# See LICENSE file for copyright and license details.
# Helpers for tests that run the binary as CGI: sourced after test-lib.sh.
#
#	cgi_request METHOD BODY_FILE [VAR=value ...]
#
# runs $BIN in a clean environment holding the CGI variables, $CGI_CONFIG
# and the extra assignments, with BODY_FILE on standard input. The answer
# lands in ./out (headers and body), the log in ./err, and the body alone
# in ./body. cgi_post FILE [VAR=value ...] signs FILE with $SECRET first;
# cgi_post_signature FILE SIGNATURE [VAR=value ...] sends the signature
# given instead ("-" signs with $SECRET, "none" sends no header).
#
# $CGI_CONFIG is split into words, as a shell would split it: a value with
# a blank in it goes among the assignments of a call instead, quoted.
# $SPOOL is the spool it names. A test that moves the spool sets both.
# Tests that are not about durability add MAKINI_WEBHOOK_FSYNC=0 to it for
# speed; an assignment in a call overrides it, as any other.
#
# $CGI_RUN_AS, when set, is a command put before the binary (setpriv, to
# run it as another user, say); MAKINI_TEST_WRAP (valgrind, say) comes
# after it, just before the binary.

SECRET=${SECRET:-test-secret-$$}
SPOOL=$TRASH/spool
CGI_CONFIG="MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$SPOOL"
CGI_RUN_AS=

# Runs $BIN as CGI in a clean environment: the assignments given, then
# $CGI_CONFIG. Standard input is the caller's; ./out, ./err, ./body as above.
cgi_run() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 \
		$CGI_CONFIG "$@" ${CGI_RUN_AS:-} ${MAKINI_TEST_WRAP:-} "$BIN" \
		>out 2>err
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

# cgi_post_signature FILE SIGNATURE [VAR=value ...]: posts FILE with the
# header X-Webhook-Signature: SIGNATURE, which may be empty or anything at
# all; "-" is FILE's true signature under $SECRET, and "none" sends no
# header.
cgi_post_signature() {
	file=$1 cgi_sig=$2
	shift 2
	case $cgi_sig in
	none) cgi_request POST "$file" "$@" ;;
	-) cgi_post "$file" "$@" ;;
	*) cgi_request POST "$file" HTTP_X_WEBHOOK_SIGNATURE="$cgi_sig" "$@" ;;
	esac
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

# Fails unless the last answer was 503 with a Retry-After header.
expect_retry_later() {
	expect_status 503 || return 1
	grep -q '^Retry-After: [0-9][0-9]*' out || {
		echo "no Retry-After:"
		cat out
		return 1
	}
}

# The "id" member of the last answer's JSON body.
answer_id() {
	sed -n 's/.*"id":"\([^"]*\)".*/\1/p' body
}

# Fails unless spool $1 holds no event at all, in tmp/ or new/, nor any
# file or symbolic link elsewhere below it (directories aside). A spool
# never made is empty.
expect_empty_spool() {
	left=$(find "$1" -type f -o -type l 2>/dev/null || :)
	[ -z "$left" ] || { echo "spool not empty: $left"; return 1; }
}
