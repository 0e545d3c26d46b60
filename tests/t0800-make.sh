#!/bin/sh
# See LICENSE file for copyright and license details.
# The Makefile's products, built in a copy of the tree: `make` and `make
# static` each give their own kind of binary under their own name, in
# either order, and never the other's; `make install` and `install-static`
# install the program and the man pages, honouring PREFIX, BINDIR, MANDIR
# and DESTDIR, and uninstall leaves no file of theirs behind (the
# directories stay); CPPFLAGS and LDFLAGS reach the compiles and links;
# a new VERSION or DEFAULT_SPOOL, given to make or edited in the Makefile,
# builds every object again, once.
. "$(dirname "$0")/test-lib.sh"

# Nothing of the caller's make (SANITIZE=, DEVELOPER=, -j) reaches the
# copy: a sanitizer build cannot be linked statically.
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE DEVELOPER STATIC_BIN PREFIX \
	BINDIR DESTDIR CPPFLAGS CFLAGS LDFLAGS LDLIBS
mk() {
	echo "+ make $*" >>"$TRASH/make.log"
	make -C "$TRASH/tree" --no-print-directory "$@" >>"$TRASH/make.log" 2>&1
}
test_failure_hook() { echo "# make said:"; tail -n 20 make.log | sed 's/^/#   /'; }

DYN=tree/cgi/makini-webhook.cgi
STATIC=tree/cgi/makini-webhook-static.cgi

# dynamic FILE: linked against the shared libraries, libgcrypt among them.
dynamic() {
	LC_ALL=C readelf -d "$1" >elf.txt 2>&1 &&
	grep -q 'NEEDED.*\[libgcrypt\.so' elf.txt || {
		echo "$1 is not the dynamic build:"; cat elf.txt; return 1
	}
}
# static FILE: needs no shared library at all.
static() {
	! LC_ALL=C readelf -d "$1" 2>&1 | grep NEEDED &&
	LC_ALL=C ldd "$1" 2>&1 | grep -q 'not a dynamic executable' || {
		echo "$1 is not the static build"; return 1
	}
}
# Files (and links) below directory $1, one per line; nothing when none.
files_in() {
	(cd "$1" && find . ! -type d | sort)
}

mkdir tree &&
cp -R "$SRCDIR/Makefile" "$SRCDIR/cgi" "$SRCDIR/src" "$SRCDIR/man" tree/ &&
rm -f tree/cgi/*.o tree/src/*.o tree/cgi/*.cgi || exit 1

test_expect_success 'make, then make static: the static build, also in the dynamic one.s place' '
	mk all && dynamic $DYN &&
	mk static && static $STATIC && static $DYN &&
	test -e tree/cgi/.static-in-place
'

test_expect_success 'make after make static links the dynamic one again, once' '
	mk all && dynamic $DYN && static $STATIC &&
	! test -e tree/cgi/.static-in-place &&
	cp -p $DYN dyn.before &&
	mk all && cmp $DYN dyn.before
'

test_expect_success 'make static, then make and make install: the dynamic one is installed' '
	mk static && static $DYN &&
	mk all && mk install DESTDIR="$TRASH/after-static" &&
	dynamic after-static/usr/local/bin/makini-webhook &&
	rm -rf after-static &&
	mk static && mk install DESTDIR="$TRASH/after-static" &&
	dynamic after-static/usr/local/bin/makini-webhook &&
	dynamic $DYN
'

test_expect_success 'the other order, from a clean tree: make static, then make' '
	mk clean && ! test -e $DYN && ! test -e $STATIC &&
	mk static && static $STATIC && static $DYN &&
	mk all && dynamic $DYN && static $STATIC
'

test_expect_success 'a static build elsewhere leaves the dynamic one alone' '
	cp -p $DYN dyn.before &&
	mk static STATIC_BIN="$TRASH/elsewhere.cgi" && static elsewhere.cgi &&
	cmp $DYN dyn.before && ! test -e tree/cgi/.static-in-place
'

test_expect_success 'a static binary an older Makefile left under the dynamic name is relinked' '
	cp $STATIC $DYN && sleep 1 && touch tree/Makefile &&
	mk all && dynamic $DYN
'

test_expect_success 'make static refuses the dynamic name, and leaves it alone' '
	cp -p $DYN dyn.before &&
	test_must_fail mk static STATIC_BIN=cgi/makini-webhook.cgi &&
	test_must_fail mk static STATIC_BIN=./cgi/../cgi/makini-webhook.cgi &&
	cmp $DYN dyn.before
'

test_expect_success 'install honours DESTDIR and PREFIX; uninstall removes it' '
	mk install DESTDIR="$TRASH/dest" PREFIX=/opt/mw &&
	cat >expect <<-\EOF &&
	./opt/mw/bin/makini-webhook
	./opt/mw/share/man/man8/makini-webhook-spawn-fcgi.8
	./opt/mw/share/man/man8/makini-webhook.8
	EOF
	files_in dest >actual && test_cmp expect actual &&
	[ "$(stat -c %a dest/opt/mw/bin/makini-webhook)" = 755 ] &&
	[ "$(stat -c %a dest/opt/mw/share/man/man8/makini-webhook.8)" = 644 ] &&
	cmp $DYN dest/opt/mw/bin/makini-webhook &&
	cmp tree/man/makini-webhook.8 dest/opt/mw/share/man/man8/makini-webhook.8 &&
	mk uninstall DESTDIR="$TRASH/dest" PREFIX=/opt/mw &&
	files_in dest >actual && test_cmp /dev/null actual &&
	test -d dest/opt/mw/bin
'

test_expect_success 'install and uninstall honour BINDIR and MANDIR' '
	rm -rf dest &&
	mk install DESTDIR="$TRASH/dest" BINDIR=/usr/lib/cgi-bin \
		MANDIR=/usr/share/man &&
	cat >expect <<-\EOF &&
	./usr/lib/cgi-bin/makini-webhook
	./usr/share/man/man8/makini-webhook-spawn-fcgi.8
	./usr/share/man/man8/makini-webhook.8
	EOF
	files_in dest >actual && test_cmp expect actual &&
	mk uninstall DESTDIR="$TRASH/dest" BINDIR=/usr/lib/cgi-bin \
		MANDIR=/usr/share/man &&
	files_in dest >actual && test_cmp /dev/null actual
'

test_expect_success 'install-static installs the static build; uninstall removes it' '
	rm -rf dest &&
	mk install-static DESTDIR="$TRASH/dest" PREFIX=/opt/mw &&
	cat >expect <<-\EOF &&
	./opt/mw/bin/makini-webhook
	./opt/mw/share/man/man8/makini-webhook-spawn-fcgi.8
	./opt/mw/share/man/man8/makini-webhook.8
	EOF
	files_in dest >actual && test_cmp expect actual &&
	static dest/opt/mw/bin/makini-webhook &&
	mk uninstall DESTDIR="$TRASH/dest" PREFIX=/opt/mw &&
	files_in dest >actual && test_cmp /dev/null actual
'

test_expect_success 'uninstall when nothing is installed is no error' '
	rm -rf dest &&
	mk uninstall DESTDIR="$TRASH/dest" &&
	! test -e dest/usr
'

test_expect_success 'CPPFLAGS reach every compile, LDFLAGS every link: _FORTIFY_SOURCE is in' '
	mk clean &&
	make -C tree --no-print-directory V=1 CPPFLAGS=-D_FORTIFY_SOURCE=2 \
		LDFLAGS=-Wl,-z,now >flags.log 2>&1 &&
	grep -e " -c " flags.log >compiles &&
	[ $(wc -l <compiles) = $(ls tree/src/*.c tree/cgi/*.c | wc -l) ] &&
	! grep -v -e "-D_FORTIFY_SOURCE=2" compiles &&
	grep -e " -o cgi/makini-webhook.cgi " flags.log | grep -q -e "-Wl,-z,now" &&
	nm -D $DYN | grep -q "U __.*_chk@" &&
	LC_ALL=C readelf -d $DYN | grep -q "BIND_NOW\|FLAGS.*NOW"
'

# mtimes: each object's and the binary's modification time, to the
# nanosecond.
mtimes() {
	stat -c '%n %y' tree/cgi/*.o tree/src/*.o $DYN
}

test_expect_success 'make VERSION=... builds everything again, then nothing' '
	mk all && mtimes >before &&
	mk VERSION=9.9.9 && mtimes >after &&
	! grep -Fxf before after &&
	echo "makini-webhook 9.9.9" >expect &&
	$DYN --version >actual && test_cmp expect actual &&
	grep -q "MAKINI_VERSION=.*9\.9\.9" tree/MAKINI-CFLAGS &&
	make -C tree --no-print-directory VERSION=9.9.9 >again.log 2>&1 &&
	! grep -E "^  (GEN|CC|LINK) " again.log &&
	mtimes >again && test_cmp after again
'

test_expect_success 'make install DEFAULT_SPOOL=...: check names it in the installed build' '
	rm -rf dest && mk all &&
	mk install DESTDIR="$TRASH/dest" DEFAULT_SPOOL="$TRASH/default spool" &&
	for bin in dest/usr/local/bin/makini-webhook $DYN; do
		env -i MAKINI_WEBHOOK_SECRET=s "$bin" check >check.out
		grep -F "spool:   $TRASH/default spool: " check.out ||
			{ cat check.out; exit 1; }
	done
'

test_expect_success 'an edit of the Makefile.s VERSION line builds everything again' '
	mk all && cp tree/Makefile Makefile.orig &&
	sed "s/^VERSION := .*/VERSION := 9.9.8/" Makefile.orig >tree/Makefile &&
	! cmp -s Makefile.orig tree/Makefile &&
	mtimes >before && mk all && mtimes >after &&
	cp Makefile.orig tree/Makefile &&
	! grep -Fxf before after &&
	echo "makini-webhook 9.9.8" >expect &&
	$DYN --version >actual && test_cmp expect actual
'

test_expect_success 'make clean removes MAKINI-CFLAGS, which git ignores' '
	mk all && test -f tree/MAKINI-CFLAGS &&
	mk clean && ! test -e tree/MAKINI-CFLAGS &&
	if [ -d "$SRCDIR/.git" ]; then
		git -C "$SRCDIR" check-ignore -q MAKINI-CFLAGS
	fi
'

test_done
