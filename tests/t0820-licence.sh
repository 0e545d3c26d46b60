#!/bin/sh
# See LICENSE file for copyright and license details.
# The licence: LICENSE holds the ISC licence, and every source file of the
# tree points at it in its first line, or its second after a #! line
# (documents, test data and packaging data aside).
. "$(dirname "$0")/test-lib.sh"

if ! git -C "$SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
	test_skip 'the tree is not a git checkout'
	test_done
fi

test_expect_success 'LICENSE is the ISC licence of the makini-webhook authors' '
	grep -qx "ISC License" "$SRCDIR/LICENSE" &&
	grep -qx "Copyright (c) 2026 the makini-webhook authors" "$SRCDIR/LICENSE" &&
	grep -q "^Permission to use, copy, modify, and distribute this software for any$" \
		"$SRCDIR/LICENSE"
'

test_expect_success 'every source file points at LICENSE' '
	git -C "$SRCDIR" ls-files >files &&
	while read -r f; do
		case $f in
		*.md | LICENSE | tests/README | tests/fuzz/corpus/*) continue ;;
		esac
		[ -f "$SRCDIR/$f" ] || continue
		# debian/ holds data in formats of their own; its scripts count.
		case $f in
		debian/*) head -c 2 "$SRCDIR/$f" | grep -q "^#!" || continue ;;
		esac
		case $(sed -n 1p "$SRCDIR/$f") in
		"#!"*) line=$(sed -n 2p "$SRCDIR/$f") ;;
		*) line=$(sed -n 1p "$SRCDIR/$f") ;;
		esac
		case $line in
		"/* See LICENSE file for copyright and license details. */" | \
		"# See LICENSE file for copyright and license details." | \
		"-- See LICENSE file for copyright and license details." | \
		".\\\" See LICENSE file for copyright and license details.") ;;
		*) echo "$f: $line" ;;
		esac
	done <files >missing &&
	test_cmp /dev/null missing
'

test_done
