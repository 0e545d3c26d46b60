#!/bin/sh
# See LICENSE file for copyright and license details.
# A subset of the CGI shell tests again, with the binary under valgrind
# memcheck: any invalid access, uninitialised value or definite leak in
# any process fails. `make check-valgrind` runs all of them; this runs
# MAKINI_VALGRIND_TESTS, by default the spool-link and secret tests, which
# between them give every answer of the request path (200, 400, 401, 403,
# 405, 413, 422, 500, 503) and run drain.
. "$(dirname "$0")/test-lib.sh"

if ! command -v valgrind >/dev/null; then
	test_skip 'valgrind is not installed: run make deps'
	test_done
fi
# Valgrind cannot run a binary built with ASan (make SANITIZE=...).
if ldd "$BIN" 2>/dev/null | grep -q 'libasan\|libtsan\|libmsan'; then
	test_skip 'the binary is built with a sanitizer; valgrind cannot run it'
	test_done
fi
tests=
for t in ${MAKINI_VALGRIND_TESTS:-t6300 t6400}; do
	tests="$tests $(ls "$SRCDIR"/tests/$t-*.sh)"
done

test_expect_success "under valgrind:$(echo " $tests" | sed 's|[^ ]*/||g')" '
	sh "$SRCDIR/tests/reliability/valgrind.sh" $tests
'

test_done
