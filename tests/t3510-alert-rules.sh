#!/bin/sh
# See LICENSE file for copyright and license details.
#
# The example alert rules in prometheus/: promtool (Debian's prometheus
# package) checks them and runs their unit tests, and every metric they
# name is one that the metrics verb writes.
. "$(dirname "$0")/test-lib.sh"

RULES=$SRCDIR/prometheus/makini-webhook.rules.yml
RULE_TESTS=$SRCDIR/prometheus/makini-webhook.test.yml

command -v promtool >/dev/null || {
	test_skip 'promtool is missing (make deps installs prometheus)'
	test_done
}

test_expect_success 'promtool check rules accepts the rules' '
	promtool check rules "$RULES" >check.out &&
	grep -q "SUCCESS: 5 rules found" check.out
'

test_expect_success 'promtool test rules: cases that fire and cases that do not' '
	cp "$RULES" "$RULE_TESTS" . &&
	promtool test rules makini-webhook.test.yml
'

test_expect_success 'the unit tests catch a rule that never fires' '
	sed "s/> 3600/> 360000/" "$RULES" >makini-webhook.rules.yml &&
	test_must_fail promtool test rules makini-webhook.test.yml
'

test_expect_success 'every metric the rules name is one the metrics verb writes' '
	env -i PATH="$PATH" MAKINI_WEBHOOK_SPOOL="$TRASH/spool" "$BIN" metrics \
		>metrics.out &&
	grep -o "makini_webhook_[a-z_]*" "$RULES" | sort -u >named &&
	test -s named &&
	while read -r m; do
		grep -q "^# TYPE $m " metrics.out || { echo "not written: $m"; exit 1; }
	done <named
'

test_done
