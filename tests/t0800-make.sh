#!/bin/sh
# The Makefile's products, built in a copy of the tree: `make` and `make
# static` each give their own kind of binary under their own name, in
# either order, and never the other's.
. "$(dirname "$0")/test-lib.sh"

# Nothing of the caller's make (SANITIZE=, DEVELOPER=, -j) reaches the
# copy: a sanitizer build cannot be linked statically.
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE DEVELOPER STATIC_BIN PREFIX \
	BINDIR DESTDIR
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
mkdir tree &&
cp -R "$SRCDIR/Makefile" "$SRCDIR/cgi" "$SRCDIR/src" tree/ &&
rm -f tree/cgi/*.o tree/src/*.o tree/cgi/*.cgi || exit 1

test_expect_success 'make, then make static: each kind under its own name' '
	mk all && dynamic $DYN &&
	mk static && static $STATIC && dynamic $DYN
'

test_expect_success 'make after make static relinks nothing: both stay their kind' '
	cp -p $DYN dyn.before && cp -p $STATIC static.before &&
	mk all && mk static &&
	cmp $DYN dyn.before && cmp $STATIC static.before &&
	dynamic $DYN && static $STATIC
'

test_expect_success 'the other order, from a clean tree: make static, then make' '
	mk clean && ! test -e $DYN && ! test -e $STATIC &&
	mk static && static $STATIC && ! test -e $DYN &&
	mk all && dynamic $DYN && static $STATIC &&
	mk static && static $STATIC && dynamic $DYN
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

test_done
