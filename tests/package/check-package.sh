#!/bin/sh
# See LICENSE file for copyright and license details.
#
# make check-package: the Debian package, from a clean copy of the tree
# to a purge. Builds it (and a second version, for the upgrade), lints it,
# installs it with apt-get, serves a signed event through lighttpd and
# then Apache as Debian's init scripts start them, upgrades it, purges it.
# It changes the machine, as root: everything it changed (the package,
# enabled snippets and modules, the servers' ports, started servers) is put
# back at exit, also when a case fails. Runs one at a time on a machine.
. "$(dirname "$0")/../test-lib.sh"

if ! test_have_prereq ROOT; then
	test_skip "not root: the package test installs a package"
	test_done
fi

exec 9>/run/lock/makini-webhook-check-package.lock
flock 9

PKG=makini-webhook
SECRET=package-secret-$$
LT_CONF=/etc/lighttpd/lighttpd.conf
LT_LINK=/etc/lighttpd/conf-enabled/50-makini-webhook.conf
AP_PORTS=/etc/apache2/ports.conf
STATE=$TRASH/state
mkdir -p "$STATE"

if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed; then
	echo "$PKG is installed: the package test installs and purges it" >&2
	exit 1
fi

# What the machine looks like before: the files outside the noise of logs
# and package managers, the servers running, the snippets and modules
# enabled, the two files that set the servers' ports.
snapshot() {
	find /etc /usr /lib /var /opt /srv -xdev \
		\( -path /var/log -o -path /var/cache -o -path /var/lib/dpkg \
		-o -path /var/lib/apt -o -path /var/tmp -o -path /var/backups \
		-o -path /var/lib/ucf -o -path /usr/lib/python3 \) -prune \
		-o -print 2>/dev/null | sort
}
running() {
	pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
snapshot >"$STATE/files-before"
ls /etc/lighttpd/conf-enabled >"$STATE/lt-enabled"
ls /etc/apache2/conf-enabled >"$STATE/ap-conf-enabled"
ls /etc/apache2/mods-enabled >"$STATE/ap-mods-enabled"
cp -p "$LT_CONF" "$STATE/lighttpd.conf"
cp -p "$AP_PORTS" "$STATE/ports.conf"
dpkg-statoverride --list /var/spool/makini-webhook >"$STATE/statoverride" || :
lt_was=stopped ap_was=stopped
running /run/lighttpd.pid && lt_was=running
running /run/apache2/apache2.pid && ap_was=running

# Puts back what the cases changed, whatever they reached.
restore() {
	command service makini-webhook stop
	# Receivers a removal left running (the init script gone with it).
	for pid in $(cat /run/makini-webhook/spawn-fcgi.pid 2>/dev/null); do
		case $(readlink "/proc/$pid/exe") in
		/usr/bin/makini-webhook*) kill "$pid" ;;
		esac
	done
	# Installed, or removed with its configuration left.
	if dpkg-query -W "$PKG" >/dev/null 2>&1; then
		dpkg --purge "$PKG"
	fi
	rm -f /run/makini-webhook/fcgi.sock /run/makini-webhook/spawn-fcgi.pid
	rmdir /run/makini-webhook 2>/dev/null
	unlink_new /etc/lighttpd/conf-enabled "$STATE/lt-enabled"
	unlink_new /etc/apache2/conf-enabled "$STATE/ap-conf-enabled"
	unlink_new /etc/apache2/mods-enabled "$STATE/ap-mods-enabled"
	rm -f /etc/apache2/conf-available/makini-webhook-proxy.conf
	if dpkg-statoverride --list /var/spool/makini-webhook >/dev/null &&
			! [ -s "$STATE/statoverride" ]; then
		dpkg-statoverride --remove /var/spool/makini-webhook
	fi
	apache_unstate
	cp -p "$STATE/lighttpd.conf" "$LT_CONF"
	cp -p "$STATE/ports.conf" "$AP_PORTS"
	if [ "$lt_was" = running ]; then
		command service lighttpd restart
	else
		command service lighttpd stop
	fi
	if [ "$ap_was" = running ]; then
		command service apache2 restart
	else
		command service apache2 stop
	fi
} >/dev/null 2>&1
test_at_exit restore

test_failure_hook() {
	tail -n 5 /var/log/lighttpd/error.log /var/log/apache2/error.log \
		/var/log/makini-webhook.log \
		2>/dev/null
}

# build DIR: the package from a clean copy of the committed tree in DIR.
build() {
	mkdir -p "$1/src" &&
	git -C "$SRCDIR" archive --format=tar HEAD | tar -xf - -C "$1/src" &&
	(cd "$1/src" && dpkg-buildpackage -us -uc -b) >"$1/build.log" 2>&1 || {
		tail -n 40 "$1/build.log"
		return 1
	}
}

# doc_block HEADING [N]: the first (or Nth) sh block after "## HEADING"
# in docs/install-debian.md, whose commands the cases run.
DOC=$SRCDIR/docs/install-debian.md
doc_block() {
	awk -v h="## $1" -v n="${2:-1}" '
		$0 == h { found = 1; next }
		found && /^```sh$/ { inblock = 1; seen++; next }
		inblock && /^```$/ { if (seen == n) exit; inblock = 0; next }
		inblock && seen == n { print }
	' "$DOC"
}

# The doc's commands run with these stand-ins. apt installs nothing here
# (no network): the packages must be there already (tools/deps.sh).
# editor writes the test's secret. service restarts a server that is
# running and starts one that is not, as Debian's apache2 script will not
# "restart" while other apache2 processes (of other tests) run beside it.
apt() {
	case $1 in
	remove | purge)
		apt-get -o DPkg::Lock::Timeout=900 -y -q "$@"
		return ;;
	install) ;;
	*) return 1 ;;
	esac
	shift
	for p; do
		dpkg-query -W -f='${Status}\n' "$p" | grep -q " installed$" ||
			{ echo "not installed: $p"; return 1; }
	done
}
editor() {
	printf "%s" "$SECRET" >"$1"
}
service() {
	case $1 in
	lighttpd) pidfile=/run/lighttpd.pid ;;
	apache2) pidfile=/run/apache2/apache2.pid ;;
	*) pidfile= ;;
	esac
	if [ "$2" = restart ] && [ -n "$pidfile" ] && ! running "$pidfile"; then
		command service "$1" start
	else
		command service "$@"
	fi
}

# apache_unstate: removes the markers a2enmod and a2enconf left in
# /var/lib/apache2 since the start, and the sockets mod_fcgid left there
# for processes (named by pid) that have ended: other Apache instances on
# the machine keep theirs there too.
apache_unstate() {
	find /var/lib/apache2/conf /var/lib/apache2/module \
		/var/lib/apache2/site -mindepth 1 -depth 2>/dev/null |
	while read -r f; do
		grep -qxF "$f" "$STATE/files-before" || rm -rf "$f"
	done
	for f in /var/lib/apache2/fcgid/sock/*; do
		[ -S "$f" ] || continue
		grep -qxF "$f" "$STATE/files-before" && continue
		pid=${f##*/}
		kill -0 "${pid%%.*}" 2>/dev/null || rm -f "$f"
	done
}

# unlink_new DIR LIST: removes the links in DIR that LIST did not name.
unlink_new() {
	for f in "$1"/*; do
		grep -qx "${f##*/}" "$2" || rm -f "$f"
	done
}

# post URL: posts a signed event; the answer in ./answer, the id in ./id.
post() {
	printf '{"event":"assets.updated","body":["a-%s"]}' "$$" >e.json &&
	sig=$(test_hmac_hex "$SECRET" e.json) &&
	status=$(curl -sS -o answer -w '%{http_code}' --max-time 10 \
		-H 'Content-Type: application/json' \
		-H "X-Webhook-Signature: $sig" --data-binary @e.json "$1") &&
	cat answer && echo &&
	[ "$status" = 200 ] &&
	sed -n 's/.*"id":"\([^"]*\)".*/\1/p' answer >id &&
	[ -s id ]
}

# stored: the event of the last post lies in the spool, byte for byte,
# owned by www-data.
stored() {
	f=/var/spool/makini-webhook/assets/new/$(cat id).json &&
	cmp e.json "$f" &&
	[ "$(stat -c %U "$f")" = www-data ] &&
	echo "stored: $f"
}

# up PORT: waits up to 10 s for the server's health check to answer.
up() {
	for _ in $(seq 50); do
		curl -sf -o /dev/null --max-time 2 \
			"http://127.0.0.1:$1/makini-webhook" && return 0
		sleep 0.2
	done
	echo "no answer on port $1"
	return 1
}

test_expect_success 'debian/copyright holds the text of LICENSE' '
	sed -n "/^Copyright (c) /s/^Copyright (c) //p" "$SRCDIR/LICENSE" >want-holder &&
	sed -n "/^Files: \*/,/^$/s/^Copyright: //p" "$SRCDIR/debian/copyright" >holder &&
	test_cmp want-holder holder &&
	sed -n "/^Permission/,\$p" "$SRCDIR/LICENSE" | sed "s/^$/./; s/^/ /" >want-text &&
	sed -n "/^License: ISC$/,\$p" "$SRCDIR/debian/copyright" | sed -n "/^ Permission/,\$p" >text &&
	test_cmp want-text text
'

test_expect_success 'dpkg-buildpackage builds the package from a clean copy of the tree' '
	build v1 &&
	ls v1/${PKG}_*.deb &&
	grep -q "dh_auto_test" v1/build.log &&
	# The hardening flags reach the compiler.
	grep -q -- "-D_FORTIFY_SOURCE=2" v1/build.log &&
	grep -q -- "-fstack-protector-strong" v1/build.log &&
	grep -q -- "-Wl,-z,now" v1/build.log &&
	! grep -q "apt-get" v1/build.log
'

test_expect_success 'a second version, for the upgrade' '
	mkdir -p v2 &&
	git -C "$SRCDIR" archive --format=tar HEAD | (mkdir v2/src && tar -xf - -C v2/src) &&
	v=$(cd v2/src && dpkg-parsechangelog -S Version) &&
	{
		printf "%s (%s+1) unstable; urgency=medium\n\n" "$PKG" "$v"
		printf "  * The upgrade of make check-package.\n\n"
		printf " -- %s  %s\n\n" "$(cd v2/src && dpkg-parsechangelog -S Maintainer)" "$(date -R)"
		cat v2/src/debian/changelog
	} >changelog && mv changelog v2/src/debian/changelog &&
	(cd v2/src && dpkg-buildpackage -us -uc -b) >v2/build.log 2>&1 &&
	ls v2/${PKG}_${v}+1_*.deb
'

test_expect_success 'lintian finds no error and no warning' '
	lintian --display-info --pedantic v1/${PKG}_*.changes >"$STATE/lintian" 2>&1 || :
	cat "$STATE/lintian" &&
	! grep -E "^[EW]: " "$STATE/lintian"
'

test_expect_success 'the build dependencies the doc names are those of debian/control, and here' '
	deps=$(doc_block "Building and installing it" | grep -v "\.deb$" |
		sed -n "s/^apt install //p") &&
	apt install $deps &&
	sed -n "/^Build-Depends:/,/^[A-Z]/p" "$SRCDIR/debian/control" |
		sed -e "s/^Build-Depends://" -e "/^[A-Z]/d" | tr -d " ," |
		sed -e "s/(.*//" -e "s/^debhelper-compat$/debhelper/" \
		    -e "s/^dh-apache2$/apache2-dev/" | grep . >build-deps &&
	cat build-deps &&
	for d in $(cat build-deps); do
		echo " $deps " | grep -q " $d " || { echo "not in the doc: $d"; exit 1; }
	done
'

test_expect_success 'apt installs it as the doc says; nothing is enabled or started' '
	doc_block "Building and installing it" | grep "^dpkg-buildpackage -us -uc -b$" &&
	line=$(doc_block "Building and installing it" | grep "^apt install \.\./") &&
	(cd v1/src && apt-get -o DPkg::Lock::Timeout=900 install -y -q ${line#apt install }) &&
	[ -x /usr/bin/makini-webhook ] &&
	[ -f /usr/share/man/man8/makini-webhook.8.gz ] &&
	[ -f /usr/share/man/man8/makini-webhook-spawn-fcgi.8.gz ] &&
	[ "$(stat -c "%U:%G %a" /etc/makini-webhook)" = "root:www-data 750" ] &&
	[ "$(stat -c "%U:%G %a %s" /etc/makini-webhook/secret)" = "root:www-data 640 0" ] &&
	[ "$(stat -c "%U:%G %a" /var/spool/makini-webhook)" = "www-data:www-data 750" ] &&
	[ -f /etc/lighttpd/conf-available/50-makini-webhook.conf ] &&
	[ ! -e "$LT_LINK" ] &&
	[ -f /etc/apache2/conf-available/makini-webhook.conf ] &&
	[ ! -e /etc/apache2/conf-enabled/makini-webhook.conf ] &&
	! ls /etc/rc?.d/S*makini-webhook 2>/dev/null &&
	! find /etc/systemd/system -name "makini-webhook*" | grep . &&
	grep -q "^#.* /usr/bin/makini-webhook drain" /etc/cron.d/makini-webhook &&
	! grep -q "^[^#]" /etc/cron.d/makini-webhook &&
	! pgrep -f /usr/bin/makini-webhook
'

test_expect_success 'the autopkgtest: check, sign and a CGI request by hand' '
	grep -qx "Tests: installed" "$SRCDIR/debian/tests/control" &&
	mkdir autopkgtest &&
	AUTOPKGTEST_TMP=$TRASH/autopkgtest sh "$SRCDIR/debian/tests/installed"
'

test_expect_success 'the secret written, check says usable as www-data' '
	eval "$(doc_block "The secret")" &&
	[ "$(cat /etc/makini-webhook/secret)" = "$SECRET" ]
'

test_expect_success 'lighty-enable-mod, service lighttpd start: a signed POST is stored' '
	port=$(test_free_port) &&
	sed -i "s/^server.port[ \t]*=.*/server.port = $port/" "$LT_CONF" &&
	grep -q "^server.port = $port" "$LT_CONF" &&
	eval "$(doc_block "lighttpd")" &&
	# Its depends: line enables mod_fastcgi too.
	[ -L "$LT_LINK" ] && [ -L /etc/lighttpd/conf-enabled/10-fastcgi.conf ] &&
	up "$port" &&
	post "http://127.0.0.1:$port/makini-webhook" &&
	stored &&
	cp id "$STATE/lighttpd-id" &&
	command service lighttpd stop &&
	unlink_new /etc/lighttpd/conf-enabled "$STATE/lt-enabled"
'

test_expect_success 'a2enconf, service apache2 start (mod_fcgid): a signed POST is stored' '
	port=$(test_free_port) &&
	sed -i "s/^Listen 80$/Listen 127.0.0.1:$port/" "$AP_PORTS" &&
	grep -q "^Listen 127.0.0.1:$port" "$AP_PORTS" &&
	eval "$(doc_block "Apache with mod_fcgid")" &&
	up "$port" &&
	post "http://127.0.0.1:$port/makini-webhook" &&
	stored &&
	command service apache2 stop &&
	unlink_new /etc/apache2/conf-enabled "$STATE/ap-conf-enabled" &&
	unlink_new /etc/apache2/mods-enabled "$STATE/ap-mods-enabled" &&
	apache_unstate
'

test_expect_success 'the init script and mod_proxy_fcgi: a signed POST is stored, its line logged' '
	port=$(sed -n "s/^Listen 127.0.0.1://p" "$AP_PORTS") &&
	eval "$(doc_block "Apache with mod_proxy_fcgi and spawn-fcgi")" &&
	ls /etc/rc2.d/S*makini-webhook &&
	command service makini-webhook status &&
	up "$port" &&
	post "http://127.0.0.1:$port/makini-webhook" &&
	stored &&
	grep -q "POST assets.updated 200 $(cat id)" /var/log/makini-webhook.log &&
	command service apache2 stop &&
	command service makini-webhook stop &&
	update-rc.d makini-webhook disable &&
	unlink_new /etc/apache2/conf-enabled "$STATE/ap-conf-enabled" &&
	unlink_new /etc/apache2/mods-enabled "$STATE/ap-mods-enabled" &&
	rm /etc/apache2/conf-available/makini-webhook-proxy.conf &&
	apache_unstate
'

test_expect_success 'an upgrade keeps a changed secret, configuration, the spool and its override' '
	printf "%s-changed" "$SECRET" >/etc/makini-webhook/secret &&
	chmod 0600 /etc/makini-webhook/secret &&
	echo "# changed here" >>/etc/lighttpd/conf-available/50-makini-webhook.conf &&
	echo "MAKINI_WEBHOOK_FSYNC=1" >>/etc/makini-webhook/env &&
	echo "# changed here" >>/etc/cron.d/makini-webhook &&
	for f in /etc/lighttpd/conf-available/50-makini-webhook.conf \
		/etc/makini-webhook/env /etc/cron.d/makini-webhook; do
		cp "$f" "$STATE/${f##*/}.changed" || exit 1
	done &&
	override=$(sed -n "s/^.*\(dpkg-statoverride --add [^\`]*\)\`.*/\1/p" "$DOC") &&
	[ -n "$override" ] && $override &&
	# The doc'"'"'s line, with the new version'"'"'s file.
	doc_block "Upgrading" | grep -q "^apt install \.\./${PKG}_.*\.deb$" &&
	(cd v2/src && apt-get -o DPkg::Lock::Timeout=900 install -y -q \
		../${PKG}_*.deb) &&
	dpkg-query -W -f="\${Version}\n" "$PKG" | grep -q "+1$" &&
	doc_block "Upgrading" | grep -qx "makini-webhook --version" &&
	makini-webhook --version | grep -x "makini-webhook [0-9.]*" &&
	[ "$(cat /etc/makini-webhook/secret)" = "$SECRET-changed" ] &&
	[ "$(stat -c "%U:%G %a" /etc/makini-webhook/secret)" = "root:www-data 600" ] &&
	for f in /etc/lighttpd/conf-available/50-makini-webhook.conf \
		/etc/makini-webhook/env /etc/cron.d/makini-webhook; do
		test_cmp "$STATE/${f##*/}.changed" "$f" || exit 1
	done &&
	[ "$(stat -c "%U:%G %a" /var/spool/makini-webhook)" = "www-data:www-data 700" ] &&
	[ -f "/var/spool/makini-webhook/assets/new/$(cat "$STATE/lighttpd-id").json" ] &&
	dpkg-statoverride --remove /var/spool/makini-webhook
'

test_expect_success 'apt remove keeps the configuration and the spool, apt purge leaves no file behind' '
	dpkg -L "$PKG" | sort >"$STATE/package-files" &&
	# Left enabled, the snippets are disabled by the removal, and the
	# spawn-fcgi service left running is stopped.
	lighty-enable-mod makini-webhook && a2enconf -q makini-webhook &&
	command service makini-webhook start &&
	pids=$(cat /run/makini-webhook/spawn-fcgi.pid) && [ -n "$pids" ] &&
	{ eval "$(doc_block "Removal and purge" 1)"; } >"$STATE/remove.out" 2>&1 &&
	cat "$STATE/remove.out" &&
	[ ! -e "$LT_LINK" ] && [ ! -e /etc/apache2/conf-enabled/makini-webhook.conf ] &&
	# Unless a policy-rc.d denies it, as a container'"'"'s does: then the
	# prerm asked, and the receivers are stopped here (their script went
	# with the package).
	if [ -x /usr/sbin/policy-rc.d ] &&
			! /usr/sbin/policy-rc.d makini-webhook stop >/dev/null 2>&1; then
		grep -q "policy-rc.d denied execution of stop" "$STATE/remove.out" &&
		kill $pids &&
		rm /run/makini-webhook/fcgi.sock /run/makini-webhook/spawn-fcgi.pid
	fi &&
	for pid in $pids; do
		test_process_gone "$pid" || exit 1
	done &&
	# A removal keeps the configuration, the secret and the spool.
	dpkg-query -W -f="\${Status}\n" "$PKG" | grep -q "config-files$" &&
	[ ! -e /usr/bin/makini-webhook ] &&
	[ -s /etc/makini-webhook/secret ] && [ -f /etc/makini-webhook/env ] &&
	[ -f "/var/spool/makini-webhook/assets/new/$(cat "$STATE/lighttpd-id").json" ] &&
	[ -f /etc/cron.d/makini-webhook ] &&
	# Its line, enabled, runs nothing now, and says nothing to cron.
	line=$(sed -n "s/^#\* \* \* \* \* www-data //p" /etc/cron.d/makini-webhook) &&
	[ -n "$line" ] && ! out=$(sh -c "$line" 2>&1) && [ -z "$out" ] &&
	eval "$(doc_block "Removal and purge" 2)" &&
	unlink_new /etc/lighttpd/conf-enabled "$STATE/lt-enabled" &&
	snapshot >"$STATE/files-after" &&
	comm -3 "$STATE/files-before" "$STATE/files-after" | sed "s/^\t//" |
	while read -r f; do
		# Another package may have been installed meanwhile.
		dpkg -S "$f" >/dev/null 2>&1 && continue
		# a2enconf and the package'"'"'s scripts keep Apache'"'"'s own
		# bookkeeping in /var/lib/apache2: its directories stay, empty.
		# mod_fcgid keeps the sockets of its processes, ours and those
		# of other Apache instances on the machine, in fcgid/sock.
		case $f in
		/var/lib/apache2/fcgid/sock/*) continue ;;
		/var/lib/apache2/*)
			[ -d "$f" ] && [ -z "$(ls -A "$f")" ] && continue ;;
		esac
		case $f in
		*makini* | /etc/lighttpd/* | /etc/apache2/* | /etc/cron.d/* | \
		/etc/logrotate.d/* | /etc/init.d/* | /etc/rc?.d/* | \
		/etc/systemd/* | /etc/default/* | /lib/systemd/* | /usr/bin/* | \
		/usr/sbin/* | /usr/share/doc/* | /usr/share/man/* | \
		/var/lib/apache2/* | /var/lib/systemd/* | /var/spool/*)
			echo "left: $f" ;;
		# Elsewhere, the work of other programs on the machine.
		*) echo "not ours: $f" >&2 ;;
		esac
	done >"$STATE/left" &&
	! grep . "$STATE/left" &&
	# Nor any of the files it held, nor a directory of its own.
	while read -r f; do
		if [ -e "$f" ] && { [ ! -d "$f" ] ||
				case $f in *makini-webhook*) true ;; *) false ;; esac; }; then
			echo "left: $f"
		fi
	done <"$STATE/package-files" >"$STATE/left-files" &&
	! grep . "$STATE/left-files" &&
	[ ! -e /etc/makini-webhook ] && [ ! -e /var/spool/makini-webhook ] &&
	[ ! -e /var/log/makini-webhook.log ] &&
	[ ! -e /run/makini-webhook ] &&
	! ls /etc/rc?.d/*makini-webhook 2>/dev/null
'

test_done
