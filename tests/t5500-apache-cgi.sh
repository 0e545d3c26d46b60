#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped Apache CGI setups, run by the real server: the server
# configuration (ScriptAlias), and the shared-hosting .htaccess and
# makini-webhook.env with the secret and the spool inside the web root,
# where they must not be served. (t5510 runs the shared-hosting setup under
# suEXEC and a stock userdir.)
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

SHARED=$(server_htaccess_dir "$SERVER_DIR")
SECRET_FILE=$SHARED/secret
SPOOL=$SHARED/spool
HTACCESS_URL=$(server_htaccess_url "$PORT")
SHARED_URL=${HTACCESS_URL%/*}

# sc_get_code URL: prints the status of a GET.
sc_get_code() {
	curl -sS --max-time 20 -o answer -w '%{http_code}' "$1"
}

server_cases apache cgi &&

test_expect_success '.htaccess: a signed event is accepted and spooled' '
	sc_accepted "$HTACCESS_URL" shared
' &&

test_expect_success '.htaccess: a chunked delivery (no Content-Length) is accepted' '
	sc_chunked "$HTACCESS_URL" shared-chunked &&
	sc_pipelined "$HTACCESS_URL" shared-pipelined
' &&

test_expect_success '.htaccess: slow and idle clients hold up no delivery' '
	sc_slow_clients "$HTACCESS_URL" shared-slow
' &&

test_expect_success '.htaccess: a forged event gets 401, nothing stored' '
	sc_forged "$HTACCESS_URL"
' &&

test_expect_success '.htaccess: the secret file is not served' '
	test "$(sc_get_code "$SHARED_URL/secret")" = 403 &&
	! grep -F "$SECRET" answer
' &&

test_expect_success '.htaccess: the spool is not served' '
	stored=$(cd "$SHARED" && find spool -path "*/new/*" -type f | head -n 1) &&
	test -n "$stored" &&
	test "$(sc_get_code "$SHARED_URL/$stored")" = 403 &&
	test "$(sc_get_code "$SHARED_URL/spool/")" = 403 &&
	test "$(sc_get_code "$SHARED_URL/spool/assets/new/")" = 403
' &&

test_expect_success '.htaccess: makini-webhook.env is not served' '
	test -s "$SHARED/makini-webhook.env" &&
	test "$(sc_get_code "$SHARED_URL/makini-webhook.env")" = 403 &&
	! grep -F "MAKINI_WEBHOOK" answer
' &&

test_expect_success '.htaccess: the .htaccess itself is not served' '
	test "$(sc_get_code "$SHARED_URL/.htaccess")" = 403 &&
	test "$(sc_get_code "$SHARED_URL/")" = 403
' &&

test_expect_success 'a binary for another architecture: 500, log says Exec format error' '
	# An ELF header the kernel refuses, as for a binary of another CPU.
	{ printf "\177ELF\002\001\001" && head -c 4089 /dev/zero; } \
		>"$SHARED/makini-webhook.cgi.new" &&
	chmod 0755 "$SHARED/makini-webhook.cgi.new" &&
	mv "$SHARED/makini-webhook.cgi.new" "$SHARED/makini-webhook.cgi" &&
	test "$(sc_get_code "$HTACCESS_URL")" = 500 &&
	grep -F "(8)Exec format error: AH01241: exec of '"'"'$SHARED/makini-webhook.cgi'"'"' failed" \
		"$SERVER_DIR/log/error.log"
' &&

server_cases_stop
test_done
