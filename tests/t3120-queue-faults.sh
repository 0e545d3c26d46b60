#!/bin/sh
# See LICENSE file for copyright and license details.
# Queue mode against an administrator's mistakes and a hostile spool: no
# failure consumes an event or lets it leave the spool, and every one is
# logged. Run as root, drains work as the spool's owner. Needs root (the
# drains run as nobody through setpriv; tmpfs mounts).
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

if ! test_have_prereq SETPRIV; then
	test_skip 'queue faults need root, setpriv and the user nobody'
	test_done
fi
AS_NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
test_at_exit 'umount "$TRASH/spool" 2>/dev/null'

# An empty spool owned by nobody, with one pending materials event, whose
# id is in $id.
one_event() {
	umount "$TRASH/spool" 2>/dev/null
	queue_fresh && chmod 755 hooks && chmod 777 seen &&
	make_events 1 materials && id=$(only_id spool/materials/new) &&
	chown -R nobody:nogroup spool
}

test_expect_success 'an unsearchable HOOKS consumes nothing: the event waits with backoff, check says why' '
	one_event && recording_hook materials && chmod 0600 hooks &&
	DRAIN_WRAP=$AS_NOBODY && drain MAKINI_WEBHOOK_RETRY_DELAY=60 &&
	DRAIN_WRAP= &&
	grep -q "1 to retry" drain.out && ! grep -q "1 done" drain.out &&
	grep -q "queue $id: attempt 1 failed, next try in 60s: cannot look up its hook: Permission denied" drain.err &&
	[ -f "spool/materials/new/$id.json" ] && [ ! -e seen/runs ] &&
	grep -qx "attempts 1" "spool/materials/new/$id.state" &&
	[ -z "$(ls -A spool/materials/cur)" ] &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV MAKINI_WEBHOOK_SECRET=s \
		$AS_NOBODY "$BIN" check >out &&
	grep -q "^hooks: .*cannot be searched: Permission denied" out &&
	grep -q "^usable:  no" out &&
	chmod 0755 hooks
'

test_expect_success 'in hook mode, an unsearchable HOOKS is 503 with Retry-After, not ignored' '
	queue_fresh && chmod 0600 hooks &&
	printf "{\"event\":\"assets.updated\"}" >a.json &&
	MAKINI_TEST_WRAP=$AS_NOBODY cgi_post a.json MAKINI_WEBHOOK_MODE=hook &&
	expect_status 503 && grep -q "^Retry-After: [0-9]" out &&
	grep -q " 503 cannot look up hook (Permission denied)" err &&
	[ ! -e spool ]
'

test_expect_success 'a hook name that cannot be looked at keeps the event pending, with backoff' '
	one_event && ln -s materials.updated hooks/materials.updated &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=60 && grep -q "1 to retry" drain.out &&
	[ -f "spool/materials/new/$id.json" ] &&
	grep -qx "attempts 1" "spool/materials/new/$id.state" &&
	grep -q "^error cannot look up its hook: Too many levels of symbolic links" \
		"spool/materials/new/$id.state" &&
	grep -q "queue $id: attempt 1 failed, next try in 60s: cannot look up its hook" drain.err &&
	[ -z "$(ls -A spool/materials/cur)" ]
'

test_expect_success 'in hook mode, a hook name that cannot be looked at is 503 with Retry-After' '
	queue_fresh && ln -s assets.updated hooks/assets.updated &&
	printf "{\"event\":\"assets.updated\"}" >a.json &&
	cgi_post a.json MAKINI_WEBHOOK_MODE=hook && expect_status 503 &&
	grep -q "^Retry-After: [0-9]" out &&
	grep -q "\"error\":\"cannot look up hook\"" body &&
	grep -q " 503 cannot look up hook (Too many levels of symbolic links)" err
'

# A hook that swaps cur/ for a link to a directory outside the spool.
swapping_hook() {
	mkdir -p outside && rm -rf outside/* && chmod 777 outside &&
	write_hook materials <<-HOOK
	#!/bin/sh
	cd "$TRASH/spool/materials" && $1 && ln -s "$TRASH/outside" cur
	HOOK
}

test_expect_success 'cur/ swapped for a link during the hook: the event stays in the spool' '
	one_event && swapping_hook "mv cur cur.old" &&
	drain && grep -q "1 done" drain.out &&
	[ -z "$(ls -A outside)" ] &&
	[ -f "spool/materials/cur.old/$id.json" ] &&
	[ -z "$(ls -A spool/materials/new)" ]
'

test_expect_success 'cur/ removed and replaced by a link: the event is pending again, loudly' '
	one_event && swapping_hook "rmdir cur" &&
	test_must_fail drain &&
	grep -q "1 errors" drain.out &&
	grep -q "queue $id: the hook succeeded, but the event cannot move to cur/" drain.err &&
	[ -z "$(ls -A outside)" ] &&
	[ -f "spool/materials/new/$id.json" ]
'

test_expect_success 'drains of spools of all kinds see links planted at type and cur/ level' '
	one_event && recording_hook materials && mkdir -p outside &&
	rmdir spool/materials/cur && ln -s "$TRASH/outside" spool/materials/cur &&
	test_must_fail drain &&
	[ -f "spool/materials/new/$id.json" ] && [ -z "$(ls -A outside)" ] &&
	grep -q "spool type materials skipped: a link or a file where a directory belongs" drain.err
'

test_expect_success 'a state file that cannot be read stops the event, never restarts it at 1' '
	one_event && recording_hook materials &&
	printf "attempts 4\nnext 0\nerror earlier\n" >"spool/materials/new/$id.state" &&
	chmod 0600 "spool/materials/new/$id.state" &&
	chown root:root "spool/materials/new/$id.state" &&
	DRAIN_WRAP=$AS_NOBODY && test_must_fail drain && DRAIN_WRAP= &&
	grep -q "queue $id: not run: cannot read its state: Permission denied" drain.err &&
	[ ! -e seen/runs ] && [ -f "spool/materials/new/$id.json" ] &&
	grep -qx "attempts 4" "spool/materials/new/$id.state"
'

test_expect_success 'a state file that cannot be written is said, and the event stays pending' '
	one_event && recording_hook materials && echo "exit 1" >>hooks/materials &&
	mkdir -p keep && cp -a spool/. keep/ && rm -rf spool/* &&
	mount -t tmpfs -o nr_inodes=16,mode=0755 tmpfs spool &&
	cp -a keep/. spool/ && chown nobody:nogroup spool &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && rm -f spool/materials/new/*.state &&
	i=0 && while touch "spool/fill.$i" 2>/dev/null; do i=$((i + 1)); done &&
	test_must_fail drain &&
	grep -q "queue $id: cannot record attempt 1 (hook materials exited with status 1): No space left on device" drain.err &&
	grep -q "1 errors" drain.out &&
	[ -f "spool/materials/new/$id.json" ] &&
	[ -z "$(ls spool/materials/new | grep -v "^$id.json$")" ] &&
	umount spool
'

test_expect_success 'a hard link planted where a state might be written truncates nothing' '
	one_event && recording_hook materials && echo "exit 1" >>hooks/materials &&
	echo precious >victim &&
	ln victim "spool/materials/new/$id.state.tmp" &&
	drain && echo precious >expect && test_cmp expect victim &&
	grep -qx "attempts 1" "spool/materials/new/$id.state"
'

test_expect_success 'run as root, drain works as the spool'"'"'s owner' '
	one_event && write_hook materials <<-HOOK &&
	#!/bin/sh
	id -un >"$TRASH/seen/user"
	exit 1
	HOOK
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && grep -q "1 to retry" drain.out &&
	echo nobody >expect && test_cmp expect seen/user &&
	[ "$(stat -c %U "spool/materials/new/$id.state")" = nobody ] &&
	[ "$(stat -c %U spool/.locks)" = nobody ] &&
	[ -z "$(find spool ! -user nobody)" ] &&
	rm hooks/materials && drain && [ -f "spool/materials/cur/$id.json" ] &&
	[ -z "$(find spool ! -user nobody)" ]
'

test_expect_success 'FIFOs planted as an event, a state file and queue.log block nothing' '
	one_event && recording_hook materials &&
	fifo=20260101T000000.000000Z-0000000000000000-00000001-updated &&
	mkfifo -m 0666 "spool/materials/new/$fifo.json" \
		"spool/materials/new/$id.state" spool/queue.log &&
	rc=0 && timeout 20 env -i PATH="$PATH" $QUEUE_ENV "$BIN" drain \
		>drain.out 2>drain.err || rc=$? &&
	cat drain.out drain.err && [ "$rc" = 1 ] &&
	grep -q "queue $id: not run: cannot read its state: Invalid argument" drain.err &&
	grep -q "cannot write queue.log in the spool: No such device or address" drain.err &&
	[ -f "spool/materials/new/$id.json" ] && [ ! -e seen/runs ]
'

test_expect_success 'HOOKS gone during a drain: the other events wait, none goes to cur/ unrun' '
	one_event && make_events 2 materials && chown -R root:root spool &&
	write_hook materials <<-HOOK &&
	#!/bin/sh
	mv "$TRASH/hooks" "$TRASH/hooks.gone"
	HOOK
	drain MAKINI_WEBHOOK_RETRY_DELAY=60 &&
	mv hooks.gone hooks &&
	grep -q "1 done, 2 to retry" drain.out &&
	[ "$(ls spool/materials/cur | wc -l)" = 1 ] &&
	[ "$(grep -c "cannot look up its hook: No such file or directory" drain.err)" = 2 ]
'

test_expect_success 'a state file with a negative count is refused, not wrapped round' '
	one_event && recording_hook materials &&
	printf "attempts -1\nnext 0\nerror x\n" >"spool/materials/new/$id.state" &&
	test_must_fail drain &&
	grep -q "queue $id: not run: its state file cannot be parsed" drain.err &&
	[ ! -e seen/runs ]
'

test_expect_success 'replay of an event that is pending leaves its state alone' '
	one_event && recording_hook materials && echo "exit 1" >>hooks/materials &&
	drain MAKINI_WEBHOOK_RETRY_DELAY=0 && drain MAKINI_WEBHOOK_RETRY_DELAY=0 &&
	grep -qx "attempts 2" "spool/materials/new/$id.state" &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" replay "$id" 2>err &&
	grep -qx "attempts 2" "spool/materials/new/$id.state"
'

test_expect_success 'retry of an event that a runner holds leaves it to the runner' '
	one_event && write_hook materials <<-HOOK &&
	#!/bin/sh
	touch "$TRASH/seen/running"; sleep 3; exit 1
	HOOK
	drain MAKINI_WEBHOOK_RETRY_DELAY=3600 &&
	grep -qx "attempts 1" "spool/materials/new/$id.state" && rm seen/running &&
	(env -i PATH="$PATH" $QUEUE_ENV "$BIN" drain --now >/dev/null 2>&1 &) &&
	for _ in $(seq 50); do [ -e seen/running ] && break; sleep 0.1; done &&
	rc=0 && env -i PATH="$PATH" $QUEUE_ENV "$BIN" retry "$id" >out 2>err || rc=$? &&
	for _ in $(seq 100); do
		[ -f "spool/materials/new/$id.json" ] && break; sleep 0.1
	done &&
	[ "$rc" = 1 ] && grep -q "no failed or waiting event $id" err &&
	grep -qx "attempts 2" "spool/materials/new/$id.state"
'

test_expect_success 'a hook that leaves its group and ignores SIGTERM is still killed at the timeout' '
	one_event && write_hook materials <<-"HOOK" &&
	#!/usr/bin/python3
	import os, signal, time
	signal.signal(signal.SIGTERM, signal.SIG_IGN)
	os.setpgid(0, os.getpgid(os.getppid()))
	time.sleep(1000)
	HOOK
	rc=0 && timeout 20 env -i PATH="$PATH" $QUEUE_ENV MAKINI_WEBHOOK_HOOK_TIMEOUT=1 \
		"$BIN" drain >drain.out 2>drain.err || rc=$? &&
	[ "$rc" = 0 ] && grep -q "1 to retry" drain.out &&
	grep -q "hook materials timed out after 1s" drain.err
'

test_expect_success 'standard descriptors closed at start: the hook still gets the whole event' '
	one_event && write_hook materials <<-HOOK &&
	#!/bin/sh
	cat >"$TRASH/seen/stdin"
	HOOK
	cp "spool/materials/new/$id.json" expect &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" drain <&- >&- 2>&- &&
	test_cmp expect seen/stdin && [ -f "spool/materials/cur/$id.json" ]
'

test_expect_success 'a runner stopped past CLAIM_TIMEOUT finds its event taken over and kills its hook' '
	one_event && : >drain.err && write_hook materials <<-HOOK &&
	#!/bin/sh
	echo "start \$\$" >>"$TRASH/seen/runs"
	sleep 3
	echo "end \$\$" >>"$TRASH/seen/runs"
	HOOK
	DRAIN_WRAP= && drain_a_pid= &&
	{ env -i PATH="$PATH" $QUEUE_ENV MAKINI_WEBHOOK_CLAIM_TIMEOUT=1 \
		MAKINI_WEBHOOK_HOOK_CONCURRENCY=2 "$BIN" drain >a.out 2>a.err & }
	drain_a_pid=$!
	for _ in $(seq 50); do [ -s seen/runs ] && break; sleep 0.1; done
	kill -STOP "$drain_a_pid" && sleep 1.5
	{ drain MAKINI_WEBHOOK_CLAIM_TIMEOUT=1 MAKINI_WEBHOOK_HOOK_CONCURRENCY=2 & }
	drain_b_pid=$!
	sleep 0.5 && kill -CONT "$drain_a_pid" &&
	rc=0 && { wait "$drain_a_pid" || rc=$?; } && wait "$drain_b_pid" &&
	[ "$rc" = 1 ] && grep -q "its claim was taken over while the hook ran" a.err &&
	[ "$(grep -c "^start" seen/runs)" = 2 ] && [ "$(grep -c "^end" seen/runs)" = 1 ] &&
	[ -f "spool/materials/cur/$id.json" ] && [ -z "$(ls -A spool/materials/new)" ]
'

test_done
