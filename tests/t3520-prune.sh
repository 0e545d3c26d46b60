#!/bin/sh
# See LICENSE file for copyright and license details.
#
# prune: old events leave cur/ and failed/, by age and by type; new/,
# claims, state files, links and FIFOs stay; a dry run changes nothing;
# MAKINI_WEBHOOK_PRUNE_AGE gives the default age; a drain runs meanwhile.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

prune() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV "$@" "$BIN" prune \
		${PRUNE_ARGS:-} >prune.out 2>prune.err
}

# age_events TYPE DIR N WHEN: moves N pending events of TYPE to DIR,
# their time set to WHEN (touch -d).
age_events() {
	for f in $(ls "$SPOOL/$1/new" | grep "\.json$" | head -n "$3"); do
		mv "$SPOOL/$1/new/$f" "$SPOOL/$1/$2/$f" &&
		touch -d "$4" "$SPOOL/$1/$2/$f" || return 1
	done
}

# A spool with, for assets and sites: 2 old and 1 recent event in cur/,
# 1 old and 1 recent in failed/ (with .error files), 1 old pending event
# with its state, 1 old claim.
fill() {
	queue_fresh &&
	for type in assets sites; do
		make_events 7 $type &&
		age_events $type cur 2 "3 days ago" &&
		age_events $type cur 1 "1 hour ago" &&
		age_events $type failed 1 "3 days ago" &&
		age_events $type failed 1 "1 hour ago" || return 1
		for f in "$SPOOL/$type"/failed/*.json; do
			echo "attempts 10" >"${f%.json}.error" &&
			touch -d "3 days ago" "${f%.json}.error" || return 1
		done
		set -- $(ls "$SPOOL/$type/new")
		echo "attempts 1" >"$SPOOL/$type/new/${1%.json}.state" &&
		mv "$SPOOL/$type/new/$2" "$SPOOL/$type/new/$2.claim.gone.1.00" &&
		touch -d "3 days ago" "$SPOOL/$type/new/"* || return 1
	done
}

test_expect_success 'prune --older-than: old events of cur/ and failed/ go, with their errors' '
	fill &&
	find "$SPOOL" -path "*/new/*" | sort >new.before &&
	PRUNE_ARGS="--older-than 2d" prune &&
	grep -q "^prune: 6 events removed$" prune.out &&
	test "$(grep -c "^assets/cur/" prune.out)" = 2 &&
	test "$(grep -c "^sites/failed/" prune.out)" = 1 &&
	for type in assets sites; do
		test "$(ls "$SPOOL/$type/cur" | wc -l)" = 1 &&
		test "$(ls "$SPOOL/$type/failed" | grep -c "\.json$")" = 1 &&
		test "$(ls "$SPOOL/$type/failed" | grep -c "\.error$")" = 1 || return 1
	done &&
	find "$SPOOL" -path "*/new/*" | sort >new.after &&
	test_cmp new.before new.after
'

test_expect_success 'prune TYPE touches that type alone' '
	fill &&
	PRUNE_ARGS="--older-than 2d sites" prune &&
	grep -q "^prune: 3 events removed$" prune.out &&
	test "$(ls "$SPOOL/assets/cur" | wc -l)" = 3 &&
	test "$(ls "$SPOOL/sites/cur" | wc -l)" = 1
'

test_expect_success 'a dry run lists what would go and changes nothing' '
	fill &&
	(cd "$SPOOL" && find . | sort) >before &&
	PRUNE_ARGS="--dry-run --older-than 2d" prune &&
	grep -q "^prune: 6 events would be removed (dry run)$" prune.out &&
	test "$(grep -c "^[a-z]*/\(cur\|failed\)/.*\.json$" prune.out)" = 6 &&
	(cd "$SPOOL" && find . | sort) >after &&
	test_cmp before after
'

test_expect_success 'MAKINI_WEBHOOK_PRUNE_AGE is the default; no age at all is refused' '
	fill &&
	test_must_fail prune &&
	grep -q "prune needs an age" prune.err &&
	test "$(ls "$SPOOL/assets/cur" | wc -l)" = 3 &&
	test_must_fail prune MAKINI_WEBHOOK_PRUNE_AGE=soon &&
	PRUNE_ARGS=--older-than test_must_fail prune &&
	PRUNE_ARGS="--older-than 1x" test_must_fail prune &&
	prune MAKINI_WEBHOOK_PRUNE_AGE=48h &&
	grep -q "^prune: 6 events removed$" prune.out &&
	fill &&
	PRUNE_ARGS="--older-than 5d" prune MAKINI_WEBHOOK_PRUNE_AGE=1h &&
	grep -q "^prune: 0 events removed$" prune.out
'

test_expect_success 'links and FIFOs planted in cur/ and failed/ stay, and what they point at' '
	queue_fresh &&
	mkdir -p "$SPOOL/assets/cur" "$SPOOL/assets/failed" &&
	echo keep >outside.json &&
	touch -d "3 days ago" outside.json &&
	old=20200101T000000.000000Z-0000000000000000-00000001-updated &&
	ln -s "$TRASH/outside.json" "$SPOOL/assets/cur/$old.json" &&
	touch -h -d "3 days ago" "$SPOOL/assets/cur/$old.json" &&
	mkfifo "$SPOOL/assets/failed/$old.json" &&
	touch -d "3 days ago" "$SPOOL/assets/failed/$old.json" &&
	mkdir "$SPOOL/assets/cur/${old%1-updated}2-updated.json" &&
	touch -d "3 days ago" "$SPOOL/assets/cur/${old%1-updated}2-updated.json" &&
	PRUNE_ARGS="--older-than 1d" prune &&
	grep -q "^prune: 0 events removed$" prune.out &&
	test -L "$SPOOL/assets/cur/$old.json" &&
	test -p "$SPOOL/assets/failed/$old.json" &&
	test -d "$SPOOL/assets/cur/${old%1-updated}2-updated.json" &&
	test "$(cat outside.json)" = keep
'

test_expect_success 'prune while a drain runs: the drain finishes its events, prune takes only the old' '
	queue_fresh &&
	make_events 6 assets &&
	age_events assets cur 3 "3 days ago" &&
	recording_hook assets 1
	(drain) &
	dpid=$! &&
	for _ in $(seq 50); do [ -s seen/runs ] && break; sleep 0.1; done &&
	PRUNE_ARGS="--older-than 2d" prune &&
	grep -q "^prune: 3 events removed$" prune.out &&
	wait $dpid &&
	test "$(wc -l <seen/runs)" = 3 &&
	test "$(ls "$SPOOL/assets/new" | wc -l)" = 0 &&
	test "$(ls "$SPOOL/assets/cur" | wc -l)" = 3
'

test_done
