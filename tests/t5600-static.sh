#!/bin/sh
# See LICENSE file for copyright and license details.
# A static build (make static: cgi/makini-webhook-static.cgi) runs where
# none of its libraries are: in an empty root directory it signs, checks and
# serves a request as CGI. make check-static runs it against that build;
# skipped for a dynamic build, and when not root (chroot needs root).
. "$(dirname "$0")/test-lib.sh"

if ! LC_ALL=C ldd "$BIN" 2>&1 | grep -q 'not a dynamic executable'; then
	test_skip "$BIN is dynamically linked (make check-static runs this against cgi/makini-webhook-static.cgi)"
	test_done
fi

test_expect_success 'the static build needs no shared library' '
	LC_ALL=C ldd "$BIN" 2>&1 | grep "not a dynamic executable" &&
	! LC_ALL=C readelf -d "$BIN" 2>&1 | grep NEEDED
'

if [ "$(id -u)" != 0 ]; then
	test_skip "the empty-root cases: chroot needs root"
	test_done
fi

# The empty root: the receiver, a secret, an event; no /lib, no /etc.
SECRET='static secret'
mkdir root &&
cp "$BIN" root/makini-webhook.cgi &&
printf '%s' "$SECRET" >root/secret &&
printf '{"event":"workOrders.inserted","body":["w-1"]}' >root/event.json

CHROOT=$(command -v chroot)
in_root() {
	env -i MAKINI_WEBHOOK_SECRET_FILE=/secret MAKINI_WEBHOOK_SPOOL=/spool \
		"$@"
}

test_expect_success 'in an empty root, sign matches the expected HMAC' '
	in_root "$CHROOT" root /makini-webhook.cgi sign <root/event.json >out &&
	test_hmac_hex "$SECRET" root/event.json >expect &&
	test_cmp expect out
'

test_expect_success 'in an empty root, check passes' '
	in_root "$CHROOT" root /makini-webhook.cgi check >out 2>&1 ||
		{ cat out; false; }
'

test_expect_success 'in an empty root, a signed CGI request is stored' '
	in_root GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST \
		REMOTE_ADDR=127.0.0.1 \
		CONTENT_LENGTH=$(wc -c <root/event.json) \
		HTTP_X_WEBHOOK_SIGNATURE=$(test_hmac_hex "$SECRET" root/event.json) \
		"$CHROOT" root /makini-webhook.cgi <root/event.json >out 2>err &&
	grep "^Status: 200" out &&
	id=$(sed -n "s/.*\"id\":\"\([^\"]*\)\".*/\1/p" out) &&
	test -n "$id" &&
	test_cmp root/event.json "root/spool/work_orders/new/$id.json"
'

test_done
