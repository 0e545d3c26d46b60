#!/bin/sh
# See LICENSE file for copyright and license details.
# makini-webhook.env beside the executable configures the receiver where
# the server passes no variables (suEXEC): read, overridden by the
# environment, and refused, with a 500 and a log line, when someone else
# could have written it.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"

mkdir bin &&
cp "$BIN" bin/makini-webhook.cgi &&
chmod 755 bin bin/makini-webhook.cgi
BIN=$TRASH/bin/makini-webhook.cgi
ENV_FILE=$TRASH/bin/makini-webhook.env
CGI_CONFIG=
printf '{"event":"assets.updated","body":["a1"]}' >event.json

# Writes the env file from standard input, mode 0600.
env_file() {
	rm -f "$ENV_FILE" &&
	cat >"$ENV_FILE" &&
	chmod 600 "$ENV_FILE"
}

test_expect_success 'the env file alone configures a signed POST' '
	env_file <<-EOF &&
	# the receiver of the test
	MAKINI_WEBHOOK_SECRET="$SECRET"

	  MAKINI_WEBHOOK_SPOOL=$TRASH/spool
	EOF
	cgi_post event.json &&
	expect_status 200 &&
	test_cmp event.json "spool/assets/new/$(answer_id).json"
'

test_expect_success 'lines may end in CRLF, and single quotes go too' '
	printf "MAKINI_WEBHOOK_SECRET=%s\r\nMAKINI_WEBHOOK_SPOOL=%s\r\n" \
		"'\''$SECRET'\''" "$TRASH/spool-crlf" | env_file &&
	cgi_post event.json &&
	expect_status 200 &&
	test_cmp event.json "spool-crlf/assets/new/$(answer_id).json"
'

test_expect_success 'the environment wins over the file; empty counts as unset' '
	env_file <<-EOF &&
	MAKINI_WEBHOOK_SECRET=$SECRET
	MAKINI_WEBHOOK_SPOOL=$TRASH/spool-file
	EOF
	cgi_post event.json MAKINI_WEBHOOK_SPOOL=$TRASH/spool-env \
		MAKINI_WEBHOOK_SECRET= &&
	expect_status 200 &&
	test_cmp event.json "spool-env/assets/new/$(answer_id).json" &&
	! [ -e spool-file ]
'

test_expect_success 'a wrong secret in the environment overrides the file' '
	cgi_post event.json MAKINI_WEBHOOK_SECRET=other &&
	expect_status 401
'

# Each refused file: POST 500, GET 503, a log line saying why, nothing stored.
expect_refused() {
	rm -rf spool-file &&
	cgi_post event.json &&
	expect_status 500 &&
	grep "server misconfigured ($1)" err &&
	! [ -e spool-file ] &&
	cgi_request GET /dev/null &&
	expect_status 503 &&
	! grep -F "$TRASH" out err
}

good_file() {
	env_file <<-EOF
	MAKINI_WEBHOOK_SECRET=$SECRET
	MAKINI_WEBHOOK_SPOOL=$TRASH/spool-file
	EOF
}

test_expect_success 'a file others can write is refused' '
	good_file && chmod 620 "$ENV_FILE" &&
	expect_refused "makini-webhook.env can be written by another user than the program.s owner or root" &&
	chmod 602 "$ENV_FILE" &&
	expect_refused "makini-webhook.env can be written by another user than the program.s owner or root"
'

if test_have_prereq ROOT; then
	test_expect_success 'a file owned by another user is refused' '
		good_file && chown nobody "$ENV_FILE" &&
		expect_refused "makini-webhook.env can be written by another user than the program.s owner or root"
	'
else
	test_skip "a file owned by another user: chown needs root"
fi

test_expect_success 'a file in a directory others can write is refused' '
	good_file && chmod 777 bin &&
	expect_refused "the directory of makini-webhook.env can be written by another user than the program.s owner or root" &&
	chmod 755 bin
'

test_expect_success 'a symbolic link is refused' '
	good_file && mv "$ENV_FILE" real.env &&
	ln -s "$TRASH/real.env" "$ENV_FILE" &&
	expect_refused "makini-webhook.env is a symbolic link" &&
	rm "$ENV_FILE"
'

test_expect_success 'a variable outside MAKINI_WEBHOOK_* is refused' '
	good_file && echo "PATH=/tmp" >>"$ENV_FILE" &&
	expect_refused "makini-webhook.env line 3: not a MAKINI_WEBHOOK_\* variable"
'

test_expect_success 'a line that is not NAME=value is refused' '
	good_file && echo "MAKINI_WEBHOOK_FSYNC = 0" >>"$ENV_FILE" &&
	expect_refused "makini-webhook.env line 3: not NAME=value"
'

test_expect_success 'a variable set twice is refused' '
	good_file && echo "MAKINI_WEBHOOK_SPOOL=/elsewhere" >>"$ENV_FILE" &&
	expect_refused "makini-webhook.env line 3: MAKINI_WEBHOOK_SPOOL is set twice"
'

test_expect_success 'an unknown MAKINI_WEBHOOK_ name in the file is refused' '
	good_file && echo "MAKINI_WEBHOOK_SPOL=/x" >>"$ENV_FILE" &&
	expect_refused "unknown variable MAKINI_WEBHOOK_SPOL"
'

test_expect_success 'check names the file it read, or refused' '
	good_file &&
	env -i "$BIN" check >out &&
	grep -q "^env:     $ENV_FILE: read$" out &&
	grep -q "^usable:  yes$" out &&
	chmod 666 "$ENV_FILE" &&
	test_must_fail env -i "$BIN" check >out &&
	grep -q "^env:     $ENV_FILE: refused$" out &&
	grep -q "^config:  makini-webhook.env can be written by another user than the program.s owner or root ($ENV_FILE)$" out
'

test_expect_success 'no file: nothing is read, and nothing is said of it' '
	rm -f "$ENV_FILE" &&
	test_must_fail env -i "$BIN" check >out &&
	! grep -q "^env:" out &&
	grep -q "^secret:  no secret" out
'

test_expect_success 'a FastCGI process reads the file once, when it starts' '
	good_file &&
	fcgi_start &&
	fcgi_post event.json && expect_status 200 &&
	test_cmp event.json "spool-file/assets/new/$(answer_id).json" &&
	chmod 666 "$ENV_FILE" &&
	sed -i "s|spool-file|spool-later|" "$ENV_FILE" &&
	# Other request variables load the configuration again, not the file.
	fcgi_post event.json MAKINI_WEBHOOK_MAX_BODY=5000 &&
	expect_status 200 &&
	test_cmp event.json "spool-file/assets/new/$(answer_id).json" &&
	! [ -e spool-later ] &&
	{ fcgi_stop || :; } &&
	fcgi_start &&
	fcgi_post event.json && expect_status 500 &&
	grep -q "makini-webhook.env can be written by another user" err
'

test_done
