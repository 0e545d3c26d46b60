#!/bin/sh
# See LICENSE file for copyright and license details.
# A fuzz smoke: builds the libFuzzer targets (tests/fuzz/) with clang,
# ASan and UBSan, replays every input that once crashed them, and runs
# each target a few seconds (FUZZ_SMOKE_SECONDS, default 4). `make fuzz`
# runs them for FUZZ_SECONDS each.
. "$(dirname "$0")/test-lib.sh"

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
	test_skip 'clang is not installed: run make deps'
	test_done
fi

test_expect_success 'the fuzz targets build with clang -fsanitize=fuzzer,address,undefined' '
	make -s -C "$SRCDIR" --no-print-directory fuzz-build >build.log 2>&1 ||
	{ cat build.log; false; }
'

test_expect_success "each target runs ${FUZZ_SMOKE_SECONDS:-4}s without a crash" '
	FUZZ_WORK="$TRASH/work" sh "$SRCDIR/tests/fuzz/run.sh" \
		"${FUZZ_SMOKE_SECONDS:-4}" sig event handle >runs ||
	{ cat runs; false; }
'

# The figures, whatever the outcome.
[ -f runs ] && sed -n 's/^fuzz_/# fuzz_/p' runs

test_done
