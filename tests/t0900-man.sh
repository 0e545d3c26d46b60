#!/bin/sh
# See LICENSE file for copyright and license details.
# The man pages render without a warning under groff and mandoc, and they,
# docs/CONTRACT.md and the README name every variable the code reads, so
# that the documents cannot drift from the code.
. "$(dirname "$0")/test-lib.sh"

PAGES="$SRCDIR/man/makini-webhook.8 $SRCDIR/man/makini-webhook-spawn-fcgi.8"

# The variables the code reads: the names config.c accepts, with their
# prefix, and every MAKINI_WEBHOOK_* and MAKINI_* name written out in src/.
sed -n '/known_names\[\] = {/,/};/p' "$SRCDIR/src/config.c" |
	grep -o '"[A-Z_]*"' | tr -d '"' | sed 's/^/MAKINI_WEBHOOK_/' >known
grep -oh 'MAKINI_WEBHOOK_[A-Z_]*' "$SRCDIR"/src/*.c | cat known - >vars
sed -n '/hook_own_names\[\] = {/,/};/p' "$SRCDIR/src/hook_env.c" |
	grep -o '"MAKINI_[A-Z_]*"' | tr -d '"' >hook-vars
sort -u vars hook-vars >all-vars

# missing FILE LIST: prints the names of LIST that FILE does not hold.
missing() {
	while read -r name; do
		grep -qw -- "$name" "$1" || echo "$name"
	done <"$2"
}

test_expect_success 'the code reads the variables this test looks for' '
	grep -qx MAKINI_WEBHOOK_SECRET_FILE known &&
	grep -qx MAKINI_WEBHOOK_CLAIM_TIMEOUT vars &&
	grep -qx MAKINI_DELIVERY_KEY hook-vars &&
	test "$(wc -l <all-vars)" -ge 20
'

test_expect_success 'groff -ww renders each page without a word' '
	for page in $PAGES; do
		groff -ww -z -mandoc "$page" >out 2>&1 &&
		test_cmp /dev/null out || { echo "$page"; cat out; exit 1; }
	done
'

# Cross references to a page not installed yet, and a stale mandoc.db of
# the machine, are not the pages' fault: every other message is.
test_expect_success 'mandoc -Tlint finds nothing in either page' '
	command -v mandoc &&
	{ mandoc -Tlint $PAGES 2>&1 || :; } |
		grep -v -e "STYLE: referenced manual not found: Xr makini-webhook" \
			-e "outdated mandoc.db lacks" >out || : &&
	test_cmp /dev/null out &&
	mandoc -Tlint -W warning $PAGES
'

test_expect_success 'the page has the sections a man page must' '
	for s in NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES "EXIT STATUS" \
		EXAMPLES "SEE ALSO"; do
		grep -qx "\.Sh $s" "$SRCDIR/man/makini-webhook.8" || exit 1
	done &&
	for verb in sign check drain status retry replay; do
		grep -qx "\.Cm $verb" "$SRCDIR/man/makini-webhook.8" || exit 1
	done
'

test_expect_success 'every variable is in the man page' '
	missing "$SRCDIR/man/makini-webhook.8" all-vars >absent &&
	test_cmp /dev/null absent
'

test_expect_success 'every variable is in docs/CONTRACT.md' '
	missing "$SRCDIR/docs/CONTRACT.md" all-vars >absent &&
	test_cmp /dev/null absent
'

test_expect_success 'every MAKINI_WEBHOOK_* variable is in the README' '
	missing "$SRCDIR/README.md" known >absent &&
	test_cmp /dev/null absent
'

test_expect_success 'the spawn-fcgi page names every setting of the script' '
	grep -o "MAKINI_FCGI_[A-Z_]*" \
		"$SRCDIR/apache/makini-webhook-spawn-fcgi" | sort -u >fcgi-vars &&
	test "$(wc -l <fcgi-vars)" -ge 9 &&
	missing "$SRCDIR/man/makini-webhook-spawn-fcgi.8" fcgi-vars >absent &&
	test_cmp /dev/null absent
'

test_expect_success '--help and a usage error point at the man page' '
	"$BIN" --help >out &&
	grep -qx "See man makini-webhook." out &&
	test_must_fail "$BIN" frobnicate 2>err &&
	grep -qx "See man makini-webhook." err
'

test_done
