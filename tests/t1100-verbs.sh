#!/bin/sh
# The verbs run from a shell: --help, --version, sign, check.
. "$(dirname "$0")/test-lib.sh"

SECRET=verb-secret
printf '{"event":"sites.updated","body":["s-1"]}' >event.json

test_expect_success '--help and --version answer on standard output' '
	"$BIN" --help >out && grep -q "^usage: makini-webhook.cgi" out &&
	grep -q "sign" out && grep -q "check" out &&
	"$BIN" --version >out && grep -qx "makini-webhook [0-9.]*" out
'

test_expect_success 'no verb, or an unknown one, is a usage error' '
	test_must_fail "$BIN" </dev/null 2>err && grep -q usage err &&
	test_must_fail "$BIN" frobnicate 2>err && grep -q "unknown verb" err
'

test_expect_success 'sign prints the HMAC of standard input as hex' '
	MAKINI_WEBHOOK_SECRET=$SECRET "$BIN" sign <event.json >out &&
	test_hmac_hex "$SECRET" event.json >expect &&
	test_cmp expect out
'

test_expect_success 'sign uses a secret file and needs a secret' '
	printf "%s\n" "$SECRET" >secret &&
	MAKINI_WEBHOOK_SECRET_FILE=$TRASH/secret "$BIN" sign <event.json >out &&
	test_hmac_hex "$SECRET" event.json >expect &&
	test_cmp expect out &&
	test_must_fail env -u MAKINI_WEBHOOK_SECRET "$BIN" sign <event.json 2>err &&
	grep -q "no secret" err
'

test_expect_success 'check passes for a usable setup and creates the spool' '
	MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$TRASH/spool \
		"$BIN" check >out &&
	grep -q "^usable:  yes" out && [ -d spool ] &&
	! grep -q "$SECRET" out
'

test_expect_success 'check fails, saying why, without a secret' '
	test_must_fail env MAKINI_WEBHOOK_SPOOL=$TRASH/spool "$BIN" check >out &&
	grep -q "no secret" out && grep -q "^usable:  no" out
'

test_expect_success 'check fails for a spool that cannot be created' '
	: >file &&
	test_must_fail env MAKINI_WEBHOOK_SECRET=$SECRET \
		MAKINI_WEBHOOK_SPOOL=$TRASH/file/spool "$BIN" check >out &&
	grep -q "cannot create" out
'

test_expect_success 'check fails for a bad variable and names it' '
	test_must_fail env MAKINI_WEBHOOK_SECRET=$SECRET \
		MAKINI_WEBHOOK_SPOOL=$TRASH/spool MAKINI_WEBHOOK_HOOK_TIMEOUT=0 \
		"$BIN" check >out &&
	grep -q "MAKINI_WEBHOOK_HOOK_TIMEOUT" out
'

test_done
