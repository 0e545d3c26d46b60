#!/bin/sh
# See LICENSE file for copyright and license details.
# Hostile event names: whatever the "event" member holds, the receiver
# answers 422 (or stores under a normalised [a-z0-9_] name) and never
# creates anything outside SPOOL/<type>/ with a safe type.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_FSYNC=0"

mkdir -p canary/etc
long=$(printf 'a%.0s' $(seq 1 300))
e64=$(printf 'e%.0s' $(seq 1 64))
a32=$(printf 'a%.0s' $(seq 1 32))

# Posts a body whose "event" member is the JSON text $1 (already quoted).
post_event() {
	rm -rf spool
	printf '{"event":%s,"body":["x"]}' "$1" >body.json
	cgi_post body.json
}

# Succeeds when spool holds nothing but directories named [a-z0-9_] and
# the maildir subdirectories, and the canary outside is untouched.
expect_contained() {
	bad=$(cd spool 2>/dev/null && find . -mindepth 1 -maxdepth 1 |
		grep -v -e '^\./[a-z0-9][a-z0-9_]*$' || true)
	[ -z "$bad" ] || { echo "unsafe names in the spool: $bad"; return 1; }
	[ -z "$(find canary -mindepth 1 -not -path canary/etc)" ]
}

check_refused() {
	test_expect_success "refused with 422: $1" "
		post_event '$2' &&
		expect_status 422 &&
		expect_empty_spool spool &&
		expect_contained
	"
}

check_refused 'path traversal' '"../../etc.updated"'
check_refused 'escaped traversal' '"\u002e\u002e/\u002e\u002e/canary/etc.updated"'
check_refused 'absolute path' '"/etc/passwd.updated"'
check_refused 'a slash in the entity' '"a/b.c"'
check_refused 'a slash in the action' '"assets.up/dated"'
check_refused 'a backslash' '"a\\b.c"'
check_refused 'a NUL alone' '"\u0000"'
check_refused 'a NUL inside' '"assets\u0000x.updated"'
check_refused 'a NUL after the name' '"assets.updated\u0000"'
check_refused 'a newline' '"assets\n.updated"'
check_refused 'no dot' '"assets"'
check_refused 'empty entity' '".updated"'
check_refused 'empty action' '"assets."'
check_refused 'separators only' '"-_- . _"'
check_refused 'dots only' '".."'
check_refused 'an empty name' '""'
check_refused 'non-ASCII letters' '"caf\u00e9.updated"'
check_refused 'raw UTF-8 letters' '"café.updated"'
check_refused 'a very long name' "\"$long.updated\""
check_refused 'a 65-character entity' "\"${e64}e.updated\""
check_refused 'a 33-character action' "\"assets.${a32}a\""
check_refused 'a number' '42'
check_refused 'null' 'null'
check_refused 'an array' '["assets.updated"]'
check_refused 'an object' '{"event":"assets.updated"}'
check_refused 'a glob' '"*.updated"'
check_refused 'a tilde' '"~root.updated"'

test_expect_success 'the longest allowed parts are stored (control)' '
	post_event "\"$e64.$a32\"" &&
	expect_status 200 &&
	test_cmp body.json "spool/$e64/new/$(answer_id).json" &&
	expect_contained
'

test_expect_success 'dots inside the entity become "_", at the last dot only' '
	post_event "\"..a..b...updated\"" &&
	expect_status 200 &&
	test_cmp body.json "spool/a_b/new/$(answer_id).json" &&
	expect_contained
'

test_expect_success 'hostile spacing and case normalise to a safe type' '
	post_event "\"  Work--Orders__.IN SERTED \"" &&
	expect_status 200 &&
	grep -q "\"event\":\"work_orders.in_serted\"" out &&
	test_cmp body.json "spool/work_orders/new/$(answer_id).json" &&
	expect_contained
'

# post_raw TEXT: posts TEXT, signed, as the whole body.
post_raw() {
	rm -rf spool
	printf '%s' "$1" >body.json
	cgi_post body.json
}

# json-c keeps the last of repeated keys, so which event was meant is not
# knowable: refused, whichever spelling repeats it.
test_expect_success 'a repeated "event" key is refused with 422' '
	post_raw "{\"event\":\"assets.updated\",\"event\":\"sites.deleted\"}" &&
	expect_status 422 &&
	grep -q "\"error\":\"ambiguous event\"" out &&
	expect_empty_spool spool &&
	post_raw "{\"event\":\"assets.updated\",\"ev\\u0065nt\":\"sites.deleted\"}" &&
	expect_status 422 &&
	grep -q "\"error\":\"ambiguous event\"" out &&
	expect_empty_spool spool
'

test_expect_success '"event" inside the body or as a value is not a repeat' '
	post_raw "{\"event\":\"sites.deleted\",\"body\":[{\"event\":\"x.y\"}],\"n\":\"event\"}" &&
	expect_status 200 &&
	test_cmp body.json "spool/sites/new/$(answer_id).json"
'

test_expect_success 'the id in the answer is a safe file name' '
	post_event "\"assets.updated\"" &&
	expect_status 200 &&
	id=$(answer_id) &&
	echo "$id" | grep -qx "[0-9A-Za-z._-]*-updated" &&
	case "$id" in */* | .*) false ;; esac
'

test_done
