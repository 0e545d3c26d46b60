#!/bin/sh
# See LICENSE file for copyright and license details.
#
# docs/operations.md's upgrade and removal, as written but for their
# paths: `make && make install` of a new version (9.9.9, built in a copy
# of the tree) over the one the real servers run, then the reload the
# document names for each setup: after it, the health answer names the new
# version and the FastCGI processes are new ones, running the new file.
# Under CGI (mod_cgid, fcgiwrap) the next request runs it with no reload,
# and `check` names it. Then the removal's commands and `make uninstall`.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

DOC=$SRCDIR/docs/operations.md
OLD=$(sed -n 's/^VERSION := //p' "$SRCDIR/Makefile")
NEW=9.9.9
DEST=$TRASH/dest
PROG=$DEST/usr/local/bin/makini-webhook
SV_BIN=$PROG SV_SECRET_FILE=$SECRET_FILE SV_SPOOL=$SPOOL
export SV_BIN SV_SECRET_FILE SV_SPOOL
URL=
printf '%s' "$SECRET" >"$SECRET_FILE" && mkdir -p "$SPOOL" || exit 1

unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE DEVELOPER PREFIX BINDIR MANDIR \
	DESTDIR
test_failure_hook() {
	server_logs "$SERVER_DIR" | sed 's/^/#   /'
	echo "# make said:"; tail -n 10 make.log | sed 's/^/#   /'
}

# Two copies of the built tree: old/ as it is (the Makefile's version),
# new/ for 9.9.9, which make builds again (MAKINI-CFLAGS changes).
for t in old new; do
	mkdir "$t" &&
	cp -pR "$SRCDIR/Makefile" "$SRCDIR/MAKINI-CFLAGS" "$SRCDIR/cgi" \
		"$SRCDIR/src" "$SRCDIR/man" "$t/" ||
		exit 1
done

# make: the document's make, in new/, as version 9.9.9, into DEST.
make() {
	command make -C "$TRASH/new" --no-print-directory VERSION=$NEW \
		DESTDIR="$DEST" "$@" >>"$TRASH/make.log" 2>&1
}
# install_old: the old version in DEST, as the first `make install`.
install_old() {
	command make -C "$TRASH/old" --no-print-directory DESTDIR="$DEST" \
		install >>"$TRASH/make.log" 2>&1 &&
	"$PROG" --version | grep -qx "makini-webhook $OLD"
}

# service NAME VERB: the document's service, on this test's server, the
# one SERVING names (apache, lighttpd, or proxy for the spawn-fcgi
# script's receivers); calls for the others are only noted in ./calls.
SERVING=
service() {
	echo "service $*" >>"$TRASH/calls"
	case $1 in
	apache2) [ "$SERVING" = apache ] || return 0 ;;
	lighttpd) [ "$SERVING" = lighttpd ] || return 0 ;;
	makini-webhook) [ "$SERVING" = proxy ] || return 0 ;;
	esac
	case $1-$2 in
	apache2-reload)
		apache2 -k graceful -d "$SERVER_DIR" \
			-f "$SERVER_DIR/conf/httpd.conf" ;;
	# As Debian's init script: a stop, then a start.
	lighttpd-restart)
		server_stop "$SERVER_DIR" &&
		server_start lighttpd fastcgi "$PORT" "$SERVER_DIR" ;;
	# As systemd's lighttpd.service: lighttpd's graceful restart.
	lighttpd-reload)
		kill -USR1 "$(head -n 1 "$SERVER_DIR/pids")" ;;
	makini-webhook-restart | makini-webhook-stop)
		sh "$SERVER_DIR/conf/makini-webhook-spawn-fcgi" "$2" ;;
	*) echo "service $*: not this test's"; return 1 ;;
	esac
}
update_rc_d() {
	echo "update-rc.d $*" >>"$TRASH/calls"
}
alias update-rc.d=update_rc_d

# doc_block HEADING N: the Nth fenced block below "## HEADING" of the
# document, its paths pointed at this directory.
doc_block() {
	test_doc_block "$DOC" "$1" "$2" |
	sed -e "s|/usr/local/bin/makini-webhook|$PROG|g" \
	    -e "s|/var/spool/makini-webhook|$SPOOL|g" \
	    -e "s|/etc/makini-webhook|$TRASH/etc|g" \
	    -e "s|/var/log/makini-webhook|$TRASH/log/makini-webhook|g" \
	    -e "s|/etc/cron.d/makini-webhook|$TRASH/cron.d/makini-webhook|g" \
	    -e "s|/dev/shm/makini-webhook\.\*|$TRASH/shm/makini-webhook.*|g" \
	    -e "s|http://127.0.0.1/makini-webhook|$URL|g"
}

# workers: the processes running the installed program, new or replaced.
workers() {
	for dir in /proc/[0-9]*; do
		case $(readlink "$dir/exe" 2>/dev/null) in
		"$PROG" | "$PROG (deleted)") echo "${dir#/proc/}" ;;
		esac
	done | sort -n
}
test_at_exit 'for pid in $(workers); do kill -9 "$pid" 2>/dev/null; done'

# health: the version the health answer names.
health() {
	curl -sS --max-time 5 "$URL" | jq -r .version
}

# busy: a few health checks at once, so that a server runs several
# receivers.
busy() {
	busy_pids=
	for _ in 1 2 3 4; do
		curl -s -o /dev/null --max-time 5 "$URL" &
		busy_pids="$busy_pids $!"
	done
	# Not a bare wait: the server is a child of this shell too.
	for pid in $busy_pids; do wait "$pid"; done
}

# gone PIDS: each has ended, within 10 s.
gone() {
	for pid in "$@"; do
		for _ in $(seq 100); do
			sv_alive "$pid" || break
			sleep 0.1
		done
		! sv_alive "$pid" || { echo "process $pid still runs"; return 1; }
	done
}

# upgrade SERVER VIA RELOAD SERVING BETWEEN: the old version served; the
# document's `make && make install`; the old processes still run, their
# file deleted, and version BETWEEN answers; the document's RELOAD; then
# only new processes run, the new file, and the new version answers.
upgrade() {
	SERVING=$4 &&
	server_stop "$SERVER_DIR" &&
	rm -f "$PROG" && install_old &&
	server_start "$1" "$2" "$PORT" "$SERVER_DIR" &&
	URL=$(server_url "$1" "$2" "$PORT") &&
	busy && test "$(health)" = "$OLD" &&
	workers >before && test -s before &&
	eval "$(doc_block Upgrading 1)" >version &&
	grep -qx "makini-webhook $NEW" version &&
	for pid in $(cat before); do
		readlink "/proc/$pid/exe" | grep -qF "(deleted)" || exit 1
	done &&
	test "$(health)" = "$5" &&
	for pid in $(cat before); do sv_alive "$pid" || exit 1; done &&
	grep -qF "\`service $3\`" "$DOC" &&
	service $3 &&
	gone $(cat before) &&
	busy && test "$(health)" = "$NEW" &&
	sc_accepted "$URL" upgraded &&
	workers >after && test -s after &&
	! grep -xF -f before after &&
	for pid in $(cat after); do
		test "$(readlink "/proc/$pid/exe")" = "$PROG" || exit 1
	done &&
	{ server_stop "$SERVER_DIR" || :; }
}

test_expect_success 'the document names the installed file and the health answer' '
	doc_block Upgrading 1 >block &&
	grep -qx "make && make install" block &&
	grep -qx "$PROG --version" block &&
	URL=http://x && doc_block Upgrading 3 | grep -qx "curl -s http://x" &&
	grep -F "{\"status\":\"ok\",\"version\":\"$OLD\"," "$DOC"
'

test_expect_success 'Apache with mod_fcgid: service apache2 reload ends the old receivers' '
	doc_block Upgrading 2 | grep -qx "service apache2 reload" &&
	# mod_fcgid tells programs apart by their file: the next requests
	# start processes of the new one, the old ones stay until the reload.
	upgrade apache fcgid "apache2 reload" apache "$NEW"
'

test_expect_success 'lighttpd with mod_fastcgi: service lighttpd restart' '
	doc_block Upgrading 2 | grep -qx "service lighttpd restart" &&
	upgrade lighttpd fastcgi "lighttpd restart" lighttpd "$OLD"
'

test_expect_success 'lighttpd with mod_fastcgi: a reload, lighttpd.s graceful restart, too' '
	upgrade lighttpd fastcgi "lighttpd reload" lighttpd "$OLD"
'

test_expect_success 'mod_proxy_fcgi and the spawn-fcgi script: service makini-webhook restart' '
	doc_block Upgrading 2 | grep -qx "service makini-webhook restart" &&
	upgrade apache proxy "makini-webhook restart" proxy "$OLD"
'

# cgi SERVER VIA: under CGI the next request after the document's `make
# && make install` runs the new version, with no reload; `check` names it
# on its first line.
cgi() {
	server_stop "$SERVER_DIR" &&
	rm -f "$PROG" && install_old &&
	server_start "$1" "$2" "$PORT" "$SERVER_DIR" &&
	URL=$(server_url "$1" "$2" "$PORT") &&
	test "$(health)" = "$OLD" &&
	eval "$(doc_block Upgrading 1)" >version &&
	grep -qx "makini-webhook $NEW" version &&
	test "$(health)" = "$NEW" &&
	sc_accepted "$URL" "$2" &&
	{ env -i MAKINI_WEBHOOK_SECRET_FILE="$SECRET_FILE" \
		MAKINI_WEBHOOK_SPOOL="$SPOOL" "$PROG" check >check.out || :; } &&
	head -n 1 check.out | grep -qx "makini-webhook $NEW" &&
	{ server_stop "$SERVER_DIR" || :; }
}

test_expect_success 'CGI (mod_cgid): the next request runs the new version, no reload' '
	cgi apache cgi
'

test_expect_success 'nginx and fcgiwrap: the next request runs the new version, no reload' '
	cgi nginx cgi
'

# lighty-disable-mod, Debian's, on a conf-enabled/ of this test: in a
# mount namespace of its own, where that directory's parent stands in for
# /etc/lighttpd.
lighty_disable_mod() {
	unshare -m sh -c 'mount --bind "$1" /etc/lighttpd &&
		lighty-disable-mod "$2"' - "$TRASH/lighttpd" "$@"
}
alias lighty-disable-mod=lighty_disable_mod

if test_have_prereq UNSHARE; then
test_expect_success 'Uninstalling: snippets disabled, servers reloaded, make uninstall, the rest removed' '
	SERVING=apache &&
	server_stop "$SERVER_DIR" &&
	rm -f "$PROG" calls && install_old &&
	server_start apache fcgid "$PORT" "$SERVER_DIR" &&
	URL=$(server_url apache fcgid "$PORT") &&
	# Apache reads the snippet from a conf-enabled/ of this test, where
	# Debian'"'"'s a2enconf and a2disconf work.
	export APACHE_CONFDIR="$TRASH/apache2" \
		APACHE_STATE_DIRECTORY="$TRASH/apache2/state" &&
	mkdir -p apache2/conf-available apache2/conf-enabled apache2/state &&
	mv "$SERVER_DIR/conf/makini-webhook.conf" apache2/conf-available/ &&
	sed -i "s|^Include \"$SERVER_DIR/conf/makini-webhook.conf\"\$|IncludeOptional \"$TRASH/apache2/conf-enabled/*.conf\"|" \
		"$SERVER_DIR/conf/httpd.conf" &&
	grep -q "^IncludeOptional" "$SERVER_DIR/conf/httpd.conf" &&
	a2enconf -q makini-webhook && service apache2 reload &&
	busy && workers >before && test -s before &&
	test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$URL")" = 200 &&
	# lighttpd'"'"'s snippet, enabled as lighty-enable-mod does.
	mkdir -p lighttpd/conf-available lighttpd/conf-enabled cron.d &&
	cp "$SRCDIR/lighttpd/makini-webhook-fastcgi.conf" \
		lighttpd/conf-available/50-makini-webhook.conf &&
	ln -s ../conf-available/50-makini-webhook.conf lighttpd/conf-enabled/ &&
	echo "* * * * * www-data true" >cron.d/makini-webhook &&
	eval "$(doc_block Uninstalling 1)" &&
	! test -e apache2/conf-enabled/makini-webhook.conf &&
	gone $(cat before) &&
	test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$URL")" = 404 &&
	test -z "$(workers)" &&
	! test -e lighttpd/conf-enabled/50-makini-webhook.conf &&
	test -f lighttpd/conf-available/50-makini-webhook.conf &&
	! test -e cron.d/makini-webhook &&
	grep -qx "service makini-webhook stop" calls &&
	grep -qx "update-rc.d makini-webhook remove" calls &&
	test -n "$(test_files_in dest)" &&
	eval "$(doc_block Uninstalling 2)" &&
	test -z "$(test_files_in dest)" &&
	mkdir -p etc log shm/makini-webhook.metrics.1.2 &&
	touch etc/secret log/makini-webhook.log log/makini-webhook.log.1 \
		shm/makini-webhook.sync.1.2 log/other.log &&
	test -d "$SPOOL" &&
	eval "$(doc_block Uninstalling 3)" &&
	! test -e "$SPOOL" && ! test -e etc &&
	test "$(ls log shm)" = "$(printf "log:\nother.log\n\nshm:")" &&
	{ server_stop "$SERVER_DIR" || :; }
'
else
	test_skip "Uninstalling: not root, or no unshare (lighty-disable-mod)"
fi

test_done
