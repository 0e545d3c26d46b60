#!/bin/sh
# See LICENSE file for copyright and license details.
# Hook mode: the hook runs on the body while the client waits, and its exit
# is the answer. Lookup, standard input, built environment, timeouts.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"

mkdir hooks seen
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_MODE=hook MAKINI_WEBHOOK_HOOKS=$TRASH/hooks"
printf '{"event":"assets.updated","body":["a-1"]}' >asset.json
printf '{"event":"sites.inserted","body":["s-1"]}' >site.json

# make_hook NAME: a hook that records its stdin, exact environment and
# working directory under seen/NAME.*, then exits with $EXIT (default 0).
make_hook() {
	cat >"hooks/$1" <<HOOK
#!/usr/bin/python3
import os, sys
out = "$TRASH/seen/$1"
open(out + ".stdin", "wb").write(sys.stdin.buffer.read())
open(out + ".env", "wb").write(open("/proc/self/environ", "rb").read().replace(b"\0", b"\n"))
open(out + ".cwd", "w").write(os.getcwd() + "\n")
print("hook $1 says hello")
sys.exit(int(os.environ.get("EXIT", "0")))
HOOK
	chmod +x "hooks/$1"
}

test_expect_success 'the first executable of <entity>.<action>, <entity>, default runs' '
	make_hook default && make_hook assets && make_hook assets.updated &&
	cgi_post asset.json && expect_status 200 &&
	[ -f seen/assets.updated.stdin ] && [ ! -f seen/assets.stdin ] &&
	chmod -x hooks/assets.updated && rm -f seen/* &&
	cgi_post asset.json && expect_status 200 &&
	[ -f seen/assets.stdin ] && [ ! -f seen/default.stdin ] &&
	rm hooks/assets && mkdir hooks/assets && rm -f seen/* &&
	cgi_post asset.json && expect_status 200 &&
	[ -f seen/default.stdin ] &&
	rmdir hooks/assets && rm hooks/assets.updated
'

test_expect_success 'the hook reads the body on stdin and runs in HOOKS' '
	rm -f seen/* &&
	cgi_post site.json && expect_status 200 &&
	test_cmp site.json seen/default.stdin &&
	echo "$TRASH/hooks" >expect && test_cmp expect seen/default.cwd
'

test_expect_success 'its environment is built: event variables only, no secret' '
	rm -f seen/* &&
	cgi_post asset.json MY_TOKEN=t0k3n HTTP_USER_AGENT=curl &&
	expect_status 200 && id=$(answer_id) &&
	cat >expect <<-EOF &&
	MAKINI_ACTION=updated
	MAKINI_ATTEMPT=1
	MAKINI_DELIVERY_KEY=$id
	MAKINI_ENTITY=assets
	MAKINI_EVENT=assets.updated
	MAKINI_EVENT_ID=$id
	PATH=/usr/local/bin:/usr/bin:/bin
	EOF
	sort seen/default.env >actual && test_cmp expect actual
'

test_expect_success 'MAKINI_WEBHOOK_HOOK_ENV passes the variables it names' '
	rm -f seen/* &&
	cgi_post asset.json MY_TOKEN=t0k3n OTHER=x MAKINI_WEBHOOK_HOOK_ENV=MY_TOKEN,UNSET_ONE &&
	expect_status 200 &&
	grep -qx MY_TOKEN=t0k3n seen/default.env &&
	! grep -q OTHER seen/default.env && ! grep -q UNSET_ONE seen/default.env &&
	! grep -q "$SECRET" seen/default.env
'

test_expect_success 'HOOK_ENV may not name our own variables, the secret among them' '
	cgi_post asset.json MAKINI_WEBHOOK_HOOK_ENV=MAKINI_WEBHOOK_SECRET &&
	expect_status 500 && grep -q MAKINI_WEBHOOK_HOOK_ENV err &&
	cgi_post asset.json MAKINI_WEBHOOK_HOOK_ENV=HTTP_X_WEBHOOK_SIGNATURE &&
	expect_status 500 &&
	cgi_post asset.json MAKINI_WEBHOOK_HOOK_ENV=MAKINI_EVENT_ID &&
	expect_status 500 &&
	cgi_post asset.json "MAKINI_WEBHOOK_HOOK_ENV=A B" && expect_status 500
'

test_expect_success 'a missing HOOKS directory is a configuration error, not "no hook"' '
	cgi_post asset.json MAKINI_WEBHOOK_HOOKS="$TRASH/nowhere" &&
	expect_status 500 && grep -q "MAKINI_WEBHOOK_HOOKS" err &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_HOOKS="$TRASH/asset.json" &&
	expect_status 503
'

test_expect_success 'a relative HOOKS directory works' '
	rm -f seen/* &&
	(cd "$TRASH" && cgi_post asset.json MAKINI_WEBHOOK_HOOKS=hooks) &&
	expect_status 200 && [ -f seen/default.stdin ]
'

test_expect_success 'hooks are waited for even when SIGCHLD came ignored' '
	rm -f seen/* &&
	cat >ignore-sigchld <<-EOF &&
	#!/usr/bin/python3
	import os, signal, sys
	signal.signal(signal.SIGCHLD, signal.SIG_IGN)
	os.execv(sys.argv[1], sys.argv[1:])
	EOF
	chmod +x ignore-sigchld &&
	MAKINI_TEST_WRAP=$TRASH/ignore-sigchld &&
	cgi_post asset.json EXIT=0 MAKINI_WEBHOOK_HOOK_ENV=EXIT &&
	expect_status 200 && [ -f seen/default.stdin ]
'

test_expect_success 'the hook output goes to the log, prefixed with its name' '
	cgi_post asset.json && expect_status 200 &&
	grep -qx "makini-webhook: hook default: hook default says hello" err
'

test_expect_success 'long lines are cut at 512 bytes, an unfinished last line still logged' '
	cat >hooks/assets.updated <<-EOF &&
	#!/usr/bin/python3
	print("x" * 1200)
	print("tail", end="")
	EOF
	chmod +x hooks/assets.updated &&
	cgi_post asset.json && expect_status 200 &&
	sed -n "s/^makini-webhook: hook assets.updated: //p" err >lines &&
	awk "{ print length(\$0) }" lines >lengths &&
	printf "512\n512\n176\n4\n" >expect && test_cmp expect lengths &&
	tail -n 1 lines | grep -qx tail &&
	rm hooks/assets.updated
'

test_expect_success 'exit 0 is 200 accepted, another exit 502; nothing is stored' '
	cgi_post asset.json EXIT=0 MAKINI_WEBHOOK_HOOK_ENV=EXIT &&
	expect_status 200 && grep -q "\"status\":\"accepted\"" body &&
	cgi_post asset.json EXIT=3 MAKINI_WEBHOOK_HOOK_ENV=EXIT &&
	expect_status 502 && grep -q "hook failed" body &&
	grep -q "exited with status 3" err &&
	expect_empty_spool spool
'

test_expect_success 'no hook at all is 200 ignored' '
	rm hooks/default &&
	cgi_post asset.json && expect_status 200 &&
	grep -qx "{\"status\":\"ignored\",\"event\":\"assets.updated\"}" body
'

test_expect_success 'a hook past its timeout is 504, and its group is gone' '
	cat >hooks/default <<-EOF &&
	#!/bin/sh
	sleep 60 &
	echo \$! >"$TRASH/seen/child.pid"
	echo \$\$ >"$TRASH/seen/hook.pid"
	sleep 60
	EOF
	chmod +x hooks/default &&
	cgi_post asset.json MAKINI_WEBHOOK_HOOK_TIMEOUT=1 &&
	expect_status 504 && grep -q "hook timed out" body &&
	test_process_gone "$(cat seen/hook.pid)" &&
	test_process_gone "$(cat seen/child.pid)"
'

test_expect_success 'a hook that ignores SIGTERM is killed' '
	cat >hooks/default <<-EOF &&
	#!/bin/sh
	trap "" TERM
	echo \$\$ >"$TRASH/seen/hook.pid"
	sleep 60
	EOF
	chmod +x hooks/default &&
	cgi_post asset.json MAKINI_WEBHOOK_HOOK_TIMEOUT=1 &&
	expect_status 504 &&
	test_process_gone "$(cat seen/hook.pid)"
'

test_expect_success 'what a finished hook leaves in its group does not hold the answer' '
	cat >hooks/default <<-EOF &&
	#!/bin/sh
	sleep 60 &
	echo \$! >"$TRASH/seen/child.pid"
	exit 0
	EOF
	chmod +x hooks/default &&
	cgi_post asset.json MAKINI_WEBHOOK_HOOK_TIMEOUT=30 &&
	expect_status 200 &&
	test_process_gone "$(cat seen/child.pid)"
'

test_expect_success 'a hook that cannot be executed is 502' '
	printf "#!/nonexistent/interpreter\n" >hooks/default &&
	chmod +x hooks/default &&
	cgi_post asset.json && expect_status 502 &&
	grep -q "cannot run hook default" err
'

test_done
