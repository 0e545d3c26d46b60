#!/bin/sh
# See LICENSE file for copyright and license details.
# The verbs run from a shell: --help, --version, sign, check.
. "$(dirname "$0")/test-lib.sh"

SECRET=verb-secret
printf '{"event":"sites.updated","body":["s-1"]}' >event.json

test_expect_success '--help and --version answer on standard output' '
	"$BIN" --help >out && grep -q "^usage: makini-webhook \[--help" out &&
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

test_expect_success 'sign refuses when only the previous secret is set' '
	test_must_fail env -u MAKINI_WEBHOOK_SECRET \
		MAKINI_WEBHOOK_SECRET_PREVIOUS=$SECRET "$BIN" sign \
		<event.json >out 2>err &&
	test_cmp /dev/null out &&
	grep -q "cannot sign: only the previous secret is set" err &&
	printf "%s\n" other >previous &&
	MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SECRET_PREVIOUS_FILE=$TRASH/previous \
		"$BIN" sign <event.json >out &&
	test_hmac_hex "$SECRET" event.json >expect &&
	test_cmp expect out
'

test_expect_success 'check passes for a usable setup and creates nothing' '
	MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$TRASH/spool \
		"$BIN" check >out &&
	grep -q "^usable:  yes" out && ! [ -e spool ] &&
	grep -q "^spool:   $TRASH/spool: missing; the first event creates it" out &&
	! grep -q "$SECRET" out
'

test_expect_success 'check begins with the version, as --version says it' '
	MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$TRASH/spool \
		"$BIN" check >out &&
	head -n 1 out >first &&
	"$BIN" --version >expect &&
	test_cmp expect first
'

test_expect_success 'check gives the room left where the spool will be' '
	MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$TRASH/spool \
		"$BIN" check >out &&
	grep -Eq "^space:   [0-9.]+ (bytes|[KMGTPE]B) (and [0-9,]+ inodes )?free" out &&
	grep -Eq "\(thresholds? 64 MB(, 1000 inodes)?\)$" out &&
	test_must_fail env MAKINI_WEBHOOK_SECRET=$SECRET \
		MAKINI_WEBHOOK_SPOOL=$TRASH/spool MAKINI_WEBHOOK_MIN_FREE=1048576G \
		"$BIN" check >out &&
	grep -q "^space:   almost full: .* free on the spool.s file system, under MAKINI_WEBHOOK_MIN_FREE (1 PB)$" out &&
	grep -q "^usable:  no" out && ! [ -e spool ]
'

test_expect_success 'check says which user it ran as' '
	MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$TRASH/spool \
		"$BIN" check >out &&
	grep -q "^user:    $(id -un) (uid $(id -u), gid $(id -g))$" out
'

test_expect_success 'check of an existing spool names its owner and leaves it as it was' '
	mkdir -p spool/assets/tmp spool/assets/new spool/assets/cur &&
	find spool | sort >before &&
	MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$TRASH/spool \
		"$BIN" check >out &&
	grep -q "^spool:   $TRASH/spool: writable, owned by $(id -un)$" out &&
	grep -q "^spool:   1 event type checked$" out &&
	find spool | sort >after && test_cmp before after &&
	rm -rf spool
'

test_expect_success 'check fails, saying why, without a secret' '
	test_must_fail env MAKINI_WEBHOOK_SPOOL=$TRASH/spool "$BIN" check >out &&
	grep -q "no secret" out && grep -q "^usable:  no" out
'

test_expect_success 'check fails for a spool that cannot be made' '
	: >file &&
	test_must_fail env MAKINI_WEBHOOK_SECRET=$SECRET \
		MAKINI_WEBHOOK_SPOOL=$TRASH/file/spool "$BIN" check >out &&
	grep -q "^spool:   $TRASH/file/spool: cannot be used: Not a directory$" out &&
	! [ -e file/spool ]
'

test_expect_success 'check refuses a relative spool' '
	test_must_fail env MAKINI_WEBHOOK_SECRET=$SECRET \
		MAKINI_WEBHOOK_SPOOL=spool "$BIN" check >out &&
	grep -q "SPOOL is a relative path" out && ! [ -e spool ]
'

test_expect_success 'check lists every problem at once, with the paths' '
	test_must_fail env MAKINI_WEBHOOK_SECRET_FILE=$TRASH/no-such-secret \
		MAKINI_WEBHOOK_SPOOL=$TRASH/spool MAKINI_WEBHOOK_HOOK_TIMEOUT=0 \
		MAKINI_WEBHOOK_FSYNC=yes MAKINI_WEBHOOK_MODE=queue \
		MAKINI_WEBHOOK_HOOKS=$TRASH/no-such-hooks "$BIN" check >out &&
	grep -q "^config:  MAKINI_WEBHOOK_HOOK_TIMEOUT is not a whole number" out &&
	grep -q "^config:  MAKINI_WEBHOOK_FSYNC is not a whole number" out &&
	grep -q "^config:  cannot use MAKINI_WEBHOOK_HOOKS: No such file or directory ($TRASH/no-such-hooks)$" out &&
	grep -q "^secret:  cannot read the file named by MAKINI_WEBHOOK_SECRET_FILE: No such file or directory ($TRASH/no-such-secret)$" out &&
	grep -q "^usable:  no" out
'

test_expect_success 'check warns about white space around the secret' '
	printf "%s\n\n" "$SECRET" >secret-nl &&
	MAKINI_WEBHOOK_SECRET_FILE=$TRASH/secret-nl \
		MAKINI_WEBHOOK_SPOOL=$TRASH/spool "$BIN" check >out &&
	grep -q "^warning: the secret.s file has more than one trailing newline.*($TRASH/secret-nl)$" out &&
	MAKINI_WEBHOOK_SECRET=" $SECRET" MAKINI_WEBHOOK_SPOOL=$TRASH/spool \
		"$BIN" check >out &&
	grep -q "^warning: the secret begins or ends with white space" out &&
	MAKINI_WEBHOOK_SECRET=$SECRET MAKINI_WEBHOOK_SPOOL=$TRASH/spool \
		"$BIN" check >out &&
	! grep -q "^warning" out &&
	! grep -q "$SECRET" out
'

test_expect_success 'check calls a lone previous secret so, and warns' '
	env -u MAKINI_WEBHOOK_SECRET MAKINI_WEBHOOK_SECRET_PREVIOUS=" $SECRET" \
		MAKINI_WEBHOOK_SPOOL=$TRASH/spool "$BIN" check >out &&
	grep -qx "secret:  previous only" out &&
	grep -q "^warning: only the previous secret is set" out &&
	grep -q "^warning: the previous secret begins or ends with white space" out &&
	! grep -q "current" out && ! grep -q "$SECRET" out
'

test_expect_success 'check fails for a bad variable and names it' '
	test_must_fail env MAKINI_WEBHOOK_SECRET=$SECRET \
		MAKINI_WEBHOOK_SPOOL=$TRASH/spool MAKINI_WEBHOOK_HOOK_TIMEOUT=0 \
		"$BIN" check >out &&
	grep -q "MAKINI_WEBHOOK_HOOK_TIMEOUT" out
'

test_done
