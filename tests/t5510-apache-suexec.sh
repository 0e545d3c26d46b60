#!/bin/sh
# See LICENSE file for copyright and license details.
# Shared hosting under the real thing: Apache with Debian's suEXEC wrapper
# (apache2-suexec-pristine) and mod_userdir with Debian's stock
# userdir.conf, a user's ~/public_html set up as the steps of
# docs/deploy-shared-hosting.md say, with the static receiver, the
# shipped .htaccess and makini-webhook.env.
# suEXEC passes the program none of SetEnv's variables; the env file
# configures it. The host's one addition is CGI for public_html (Apache's
# CGI tutorial, "User Directories"): Options +ExecCGI; then the same with a
# per-user cgi-bin instead; then a host without suEXEC, where CGI programs
# run as www-data and the user shares the secret and the spool with
# setfacl. Needs root (a test user, suEXEC); skipped without.
. "$(dirname "$0")/test-lib.sh"

if ! test_have_prereq ROOT; then
	test_skip "suEXEC and a test user need root"
	test_done
fi
if ! test_have_prereq APACHE || ! test_have_prereq SUEXEC; then
	test_skip "needs apache2, apache2-suexec-pristine and mod_userdir"
	test_done
fi
SUEXEC_BIN=/usr/lib/apache2/suexec
suexec_param() {
	"$SUEXEC_BIN" -V 2>&1 | sed -n "s/^ *-D $1=\"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p"
}
UID_MIN=$(suexec_param AP_UID_MIN)
if [ "$(suexec_param AP_USERDIR_SUFFIX)" != public_html ] ||
   [ "$(suexec_param AP_HTTPD_USER)" != www-data ] || [ -z "$UID_MIN" ]; then
	test_skip "$SUEXEC_BIN is not built for ~/public_html and www-data"
	test_done
fi
SUEXEC_LOG=$(suexec_param AP_LOG_EXEC)

. "$SRCDIR/tests/server-cases.sh"

# The receiver shared hosting gets: the static build (make static).
if LC_ALL=C ldd "$BIN" 2>&1 | grep -q 'not a dynamic executable'; then
	UPLOAD=$BIN
elif ${MAKE:-make} -C "$SRCDIR" --no-print-directory static \
	STATIC_BIN="$TRASH/static/makini-webhook.cgi" >static.log 2>&1 &&
     LC_ALL=C ldd "$TRASH/static/makini-webhook.cgi" 2>&1 |
	grep -q 'not a dynamic executable'; then
	UPLOAD=$TRASH/static/makini-webhook.cgi
else
	sed 's/^/# /' static.log
	echo "# make static failed: the dynamic $BIN is uploaded instead"
	UPLOAD=$BIN
fi

# The homes: in the trash when every directory above it lets other users
# through (the test user and www-data must reach them), else in /home.
HOMES=$TRASH/home
HOMES_TMP=
mkdir -p "$HOMES" && chmod 0755 "$HOMES"
if ! runuser -u www-data -- test -x "$HOMES"; then
	HOMES_TMP=$(mktemp -d /home/makini-t5510.XXXXXX) &&
	chmod 0755 "$HOMES_TMP" &&
	HOMES=$HOMES_TMP
fi
TUSER=makini-t5510-$$
H=$HOMES/$TUSER
W=$H/public_html/makini-webhook
SECRET_FILE=$H/makini-webhook/secret
SPOOL=$H/makini-webhook/spool
SITE=http://127.0.0.1:$PORT/~$TUSER
URL=$SITE/makini-webhook/makini-webhook.cgi
LOG=$SERVER_DIR/log/error.log

t_cleanup() {
	server_stop "$SERVER_DIR"
	if id "$TUSER" >/dev/null 2>&1; then
		userdel "$TUSER" || echo "could not remove user $TUSER" >&2
	fi
	if getent group "$TUSER" >/dev/null; then
		groupdel "$TUSER"
	fi
	[ -z "$HOMES_TMP" ] || rm -rf "$HOMES_TMP"
}
test_at_exit t_cleanup
test_failure_hook() {
	{
		server_logs "$SERVER_DIR"
		echo "--- $SUEXEC_LOG (this test's user)"
		grep -F -e "$TUSER" -e "$H/" "$SUEXEC_LOG" 2>/dev/null | tail -n 10
	} | sed 's/^/#   /'
}

# as_user COMMAND...: runs COMMAND as the test user, the way the user's
# own shell over ssh would, with the umask of Debian's login.defs.
as_user() {
	runuser -u "$TUSER" -- sh -c 'umask 022 && cd "$1" && shift && "$@"' \
		sh "$H" "$@"
}

# get_code URL: the status of a GET (000 when there was no answer); the
# body goes to ./answer. Never fails, so that a case can undo what it
# changed before it asserts.
get_code() {
	curl -sS --max-time 20 -o answer -w '%{http_code}' "$1" || :
}

# t_apache_start VARIANT: starts Apache as root (so that its children are
# www-data and may call suEXEC) on $PORT, with Debian's stock userdir.conf
# for $HOMES and what a host adds to let CGI run there:
#	execcgi	Options +ExecCGI for public_html
#	cgibin	a per-user cgi-bin: Options ExecCGI, SetHandler cgi-script
#	www-data	execcgi with Suexec Off: CGI programs run as www-data
t_apache_start() {
	server_stop "$SERVER_DIR"
	rm -rf "$SERVER_DIR/conf"
	mkdir -p "$SERVER_DIR/conf" "$SERVER_DIR/log" "$SERVER_DIR/htdocs" ||
		return 1
	t_run=$SERVER_DIR/run
	if [ ${#t_run} -gt 80 ]; then
		t_run=$(mktemp -d /tmp/makini-webhook-run.XXXXXX) || return 1
	else
		mkdir -p "$t_run" || return 1
	fi
	echo "$t_run" >"$SERVER_DIR/rundir"
	: >"$SERVER_DIR/pids"
	: >"$LOG"
	{
		echo "ServerRoot \"$SERVER_DIR\""
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$PORT"
		echo "PidFile \"$t_run/httpd.pid\""
		echo "DefaultRuntimeDir \"$t_run\""
		echo "Mutex file:$t_run default"
		echo "ScriptSock \"$t_run/cgid.sock\""
		echo "ErrorLog \"$LOG\""
		echo "LogLevel warn"
		# Debian's default modules that matter here, and CGI.
		for m in mpm_event authz_core authz_host authn_core alias \
			autoindex dir env mime negotiation setenvif userdir \
			suexec cgid; do
			echo "LoadModule ${m}_module $SV_APACHE_MODULES/mod_$m.so"
		done
		echo "User www-data"
		echo "Group www-data"
		echo "TypesConfig /etc/mime.types"
		echo "DirectoryIndex index.html"
		echo "DocumentRoot \"$SERVER_DIR/htdocs\""
		echo "<Directory />"
		echo "	AllowOverride None"
		echo "	Require all denied"
		echo "</Directory>"
		echo "# Debian's /etc/apache2/mods-available/userdir.conf:"
		sed "s|/home/\*/public_html|$(sv_sed_escape "$HOMES")/*/public_html|" \
			/etc/apache2/mods-available/userdir.conf
		echo "# What the host adds:"
		case $1 in
		execcgi | www-data)
			echo "<Directory $HOMES/*/public_html>"
			echo "	Options +ExecCGI"
			echo "</Directory>" ;;
		cgibin)
			echo "<Directory $HOMES/*/public_html/cgi-bin>"
			echo "	Options ExecCGI"
			echo "	SetHandler cgi-script"
			echo "</Directory>" ;;
		esac
		[ "$1" != www-data ] || echo "Suexec Off"
	} >"$SERVER_DIR/conf/httpd.conf"
	apache2 -t -d "$SERVER_DIR" -f "$SERVER_DIR/conf/httpd.conf" ||
		return 1
	apache2 -DFOREGROUND -d "$SERVER_DIR" -f "$SERVER_DIR/conf/httpd.conf" \
		</dev/null >"$SERVER_DIR/log/stderr.log" 2>&1 &
	echo $! >>"$SERVER_DIR/pids"
	sv_wait_port "$PORT" "$!"
}

# docs/deploy-shared-hosting.md's steps 2 to 4, as the user.
t_readme_steps() {
	as_user mkdir -p makini-webhook/spool &&
	as_user sh -c 'printf "%s" "$1" >makini-webhook/secret' sh "$SECRET" &&
	as_user chmod 600 makini-webhook/secret &&
	as_user mkdir -p public_html/makini-webhook &&
	# The upload.
	as_user cp "$UPLOAD" public_html/makini-webhook/makini-webhook.cgi &&
	as_user cp "$SRCDIR/apache/htaccess" public_html/makini-webhook/ &&
	as_user cp "$SRCDIR/apache/makini-webhook.env.example" \
		public_html/makini-webhook/ &&
	as_user sh -c 'cd public_html/makini-webhook &&
		mv htaccess .htaccess &&
		mv makini-webhook.env.example makini-webhook.env &&
		chmod 755 . makini-webhook.cgi &&
		chmod 644 .htaccess makini-webhook.env' &&
	# Step 4: the two EDIT paths, from `cd ~/makini-webhook && pwd`.
	as_user sed -i "s|/home/example/makini-webhook|$H/makini-webhook|" \
		public_html/makini-webhook/makini-webhook.env
}

test_expect_success 'setup: a user with the receiver in ~/public_html, as docs/deploy-shared-hosting.md says' '
	grep -qx "	AllowOverride FileInfo AuthConfig Limit Indexes" \
		/etc/apache2/mods-available/userdir.conf &&
	useradd -m -d "$H" -U -s /usr/sbin/nologin "$TUSER" &&
	chmod 0755 "$H" &&
	test "$(id -u "$TUSER")" -ge "$UID_MIN" &&
	test "$(id -g "$TUSER")" -ge "$(suexec_param AP_GID_MIN)" &&
	t_readme_steps &&
	! grep -v "^#" "$W/makini-webhook.env" | grep /home/example &&
	grep -qx "MAKINI_WEBHOOK_SPOOL=$SPOOL" "$W/makini-webhook.env" &&
	test "$(stat -c "%U %a" "$W" "$W/makini-webhook.cgi" \
		"$W/makini-webhook.env" "$W/.htaccess" "$SECRET_FILE")" = \
	"$TUSER 755
$TUSER 755
$TUSER 644
$TUSER 644
$TUSER 600"
'

test_expect_success 'over ssh, check and sign in the directory read makini-webhook.env beside it' '
	as_user sh -c "cd public_html/makini-webhook && ./makini-webhook.cgi check" \
		>check.out 2>&1 || { cat check.out; false; } &&
	grep "^usable: *yes" check.out &&
	grep -F "$SPOOL" check.out &&
	sc_event signed >signed.json &&
	as_user sh -c "cd public_html/makini-webhook && ./makini-webhook.cgi sign" \
		<signed.json >sign.out &&
	test_hmac_hex "$SECRET" signed.json >expect &&
	test_cmp expect sign.out
'

test_expect_success 'Apache with stock userdir and ExecCGI starts, suEXEC enabled' '
	t_apache_start execcgi &&
	grep "suEXEC mechanism enabled" "$LOG"
'

test_expect_success 'the stock userdir refuses Options in a .htaccess: 500' '
	as_user cp -p public_html/makini-webhook/.htaccess htaccess.saved &&
	as_user sh -c "echo \"Options +ExecCGI\" >>public_html/makini-webhook/.htaccess" &&
	code=$(get_code "$URL") &&
	as_user mv htaccess.saved public_html/makini-webhook/.htaccess &&
	test "$code" = 500 &&
	grep "Options not allowed here" "$LOG" &&
	test "$(get_code "$URL")" = 200
'

test_expect_success 'GET is the health check: 200 {"status":"ok",...}' '
	test "$(get_code "$URL")" = 200 &&
	test_health_ok answer
'

# t_owned_by_user ID: the stored event, and the directories the receiver
# made for it, belong to the test user.
t_owned_by_user() {
	test "$(stat -c %U "$SPOOL/assets/new/$1.json" "$SPOOL/assets/new" \
		"$SPOOL/assets")" = "$TUSER
$TUSER
$TUSER"
}

test_expect_success 'a signed event: 200, stored byte for byte, owned by the user, outside public_html' '
	sc_accepted "$URL" suexec &&
	t_owned_by_user "$sc_id" &&
	case $SPOOL in "$H/public_html"/*) false ;; esac &&
	test -z "$(find "$H/public_html" -name "*.json")" &&
	grep -F "($(id -u "$TUSER")/$TUSER)" "$SUEXEC_LOG" |
		grep -F "cmd: makini-webhook.cgi"
'

test_expect_success 'a chunked delivery (no Content-Length): 200, stored, owned by the user' '
	sc_chunked "$URL" suexec-chunked &&
	t_owned_by_user "$sc_id"
'

test_expect_success 'a forged event, and an unsigned one: 401, nothing stored' '
	sc_forged "$URL"
'

test_expect_success 'makini-webhook.env, the .htaccess and the directory are not served: 403' '
	for f in makini-webhook.env .htaccess ""; do
		test "$(get_code "$SITE/makini-webhook/$f")" = 403 &&
		! grep -e MAKINI_WEBHOOK -e "$H" answer || return 1
	done &&
	echo "MultiViews: $(get_code "$SITE/makini-webhook/makini-webhook")" &&
	! grep -e MAKINI_WEBHOOK -e "$H" answer
'

test_expect_success 'a secret and a spool inside the directory are not served: 403' '
	env_file=public_html/makini-webhook/makini-webhook.env &&
	as_user cp -p "$env_file" env.saved &&
	as_user cp -p makini-webhook/secret public_html/makini-webhook/secret &&
	as_user sed -i "s|$H/makini-webhook/|$W/|" "$env_file" &&
	(SPOOL=$W/spool && sc_accepted "$URL" in-dir) &&
	as_user mv env.saved "$env_file" &&
	test "$(get_code "$SITE/makini-webhook/secret")" = 403 &&
	! grep -F "$SECRET" answer &&
	stored=$(cd "$W" && find spool -path "*/new/*" -type f) &&
	test -n "$stored" &&
	test "$(get_code "$SITE/makini-webhook/$stored")" = 403 &&
	! grep -F "in-dir" answer &&
	test "$(get_code "$SITE/makini-webhook/spool/")" = 403 &&
	test "$(get_code "$SITE/makini-webhook/spool/assets/new/")" = 403 &&
	as_user rm -r public_html/makini-webhook/secret \
		public_html/makini-webhook/spool
'

test_expect_success 'without makini-webhook.env, SetEnv never reaches the receiver: 503, "no secret"' '
	as_user mv public_html/makini-webhook/makini-webhook.env env.saved &&
	as_user cp -p public_html/makini-webhook/.htaccess htaccess.saved &&
	as_user sh -c "printf \"SetEnv MAKINI_WEBHOOK_SECRET_FILE %s\nSetEnv MAKINI_WEBHOOK_SPOOL %s\n\" \
		\"\$1\" \"\$2\" >>public_html/makini-webhook/.htaccess" sh \
		"$SECRET_FILE" "$SPOOL" &&
	: >"$LOG" &&
	code=$(get_code "$URL") &&
	as_user mv htaccess.saved public_html/makini-webhook/.htaccess &&
	as_user mv env.saved public_html/makini-webhook/makini-webhook.env &&
	test "$code" = 503 &&
	grep "GET - 503 .*no secret" "$LOG" &&
	test "$(get_code "$URL")" = 200
'

test_expect_success 'a world-writable makini-webhook.env is refused: POST 500, GET 503, the log says why' '
	as_user chmod 666 public_html/makini-webhook/makini-webhook.env &&
	sc_event refused >refused.json &&
	test_files_in "$SPOOL" >before &&
	: >"$LOG" &&
	: >empty &&
	{ sc_post "$URL" empty || :; } &&
	cp code empty.code && cp answer empty.answer &&
	# A signed event too, answered before its body is read, which the
	# receiver then reads and drops so that the answer arrives whole.
	sc_post "$URL" refused.json "$(test_hmac_hex "$SECRET" refused.json)" &&
	get_code "$URL" >get.code &&
	as_user chmod 644 public_html/makini-webhook/makini-webhook.env &&
	test "$(cat empty.code)" = 500 &&
	grep "\"server misconfigured\"" empty.answer &&
	sc_expect_code 500 &&
	grep "\"server misconfigured\"" answer &&
	test "$(cat get.code)" = 503 &&
	test "$(grep -c "POST - 500 .*makini-webhook.env can be written by another user" "$LOG")" = 2 &&
	test_files_in "$SPOOL" >after &&
	test_cmp before after &&
	test "$(get_code "$URL")" = 200
'

test_expect_success 'suEXEC refuses a group-writable program: 500' '
	lines=$(wc -l <"$SUEXEC_LOG") &&
	as_user chmod 775 public_html/makini-webhook/makini-webhook.cgi &&
	code=$(get_code "$URL") &&
	as_user chmod 755 public_html/makini-webhook/makini-webhook.cgi &&
	test "$code" = 500 &&
	tail -n +$((lines + 1)) "$SUEXEC_LOG" |
		grep -F "file is writable by others: ($W/makini-webhook.cgi)" &&
	test "$(get_code "$URL")" = 200
'

# A host that runs only ~/public_html/cgi-bin as CGI (Apache's other
# recipe for user directories): the same directory, moved there.
CGIBIN_URL=$SITE/cgi-bin/makini-webhook/makini-webhook.cgi

test_expect_success 'a per-user cgi-bin instead: 200, stored, owned by the user; env file 403' '
	as_user mkdir -p public_html/cgi-bin &&
	as_user cp -pr public_html/makini-webhook public_html/cgi-bin/ &&
	t_apache_start cgibin &&
	sc_accepted "$CGIBIN_URL" cgibin &&
	t_owned_by_user "$sc_id" &&
	test "$(get_code "$SITE/cgi-bin/makini-webhook/makini-webhook.env")" = 403 &&
	! grep MAKINI_WEBHOOK answer &&
	test "$(get_code "$URL")" = 403
'

# A host without suEXEC: CGI programs run as the server's user.
test_expect_success 'without suEXEC, as www-data: 503 until the secret is shared' '
	t_apache_start www-data &&
	! grep "suEXEC mechanism enabled" "$LOG" &&
	: >"$LOG" &&
	test "$(get_code "$URL")" = 503 &&
	grep "GET - 503 .*MAKINI_WEBHOOK_SECRET_FILE.*Permission denied" "$LOG"
'

if ! test_have_prereq SETFACL; then
	test_skip "the www-data host cases: no setfacl (package acl)"
	t_stop_case
	test_done
fi

# docs/deploy-shared-hosting.md's commands for such a host, run as they
# are written there.
sed -n '/^cd ~\/makini-webhook$/,/^```$/p' \
	"$SRCDIR/docs/deploy-shared-hosting.md" | sed '$d' >readme-setfacl.sh

test_expect_success 'as www-data, after the setfacl lines of docs/deploy-shared-hosting.md: 200, the user can read and take the event' '
	grep "^setfacl -d" readme-setfacl.sh &&
	as_user rm -rf makini-webhook/spool &&
	as_user mkdir -p makini-webhook/spool &&
	as_user env HOME="$H" sh -e "$TRASH/readme-setfacl.sh" &&
	test "$(get_code "$URL")" = 200 &&
	sc_accepted "$URL" www-data &&
	test "$(stat -c %U "$SPOOL/assets/new/$sc_id.json")" = www-data &&
	as_user cat "$SPOOL/assets/new/$sc_id.json" >copy &&
	test_cmp www-data.json copy &&
	as_user mv "$SPOOL/assets/new/$sc_id.json" "$SPOOL/assets/cur/" &&
	test_cmp www-data.json "$SPOOL/assets/cur/$sc_id.json"
'

test_expect_success 'as www-data, a forged event gets 401; makini-webhook.env is still 403' '
	sc_forged "$URL" &&
	test "$(get_code "$SITE/makini-webhook/makini-webhook.env")" = 403
'

t_stop_case() {
	server_cases_stop
	test_expect_success 'no process of the test user is left' '
		test -z "$(ps -o pid= -u "$(id -u "$TUSER")")"
	'
}

t_stop_case
test_done
