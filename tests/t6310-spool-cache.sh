#!/bin/sh
# See LICENSE file for copyright and license details.
# A FastCGI process keeps each type's tmp/ and new/ open between events.
# What happens to the spool meanwhile is still honoured: a type removed,
# renamed or replaced, by a link too, is opened afresh, and a planted link
# still refuses the event (503) rather than leading it out of the spool.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"

printf '{"event":"assets.updated","body":["a1"]}' >event.json
mkdir outside outside/new outside/tmp

test_expect_success 'start one FastCGI process' '
	fcgi_start MAKINI_WEBHOOK_SECRET="$SECRET" \
		MAKINI_WEBHOOK_SPOOL="$TRASH/spool"
'

# Posts the event and checks it landed in spool/assets/new, byte for byte.
stored() {
	fcgi_post event.json && expect_status 200 &&
	test_cmp event.json "spool/assets/new/$(answer_id).json"
}

test_expect_success 'events of a type in a row are stored' '
	stored && stored && stored &&
	test "$(ls spool/assets/new | wc -l)" = 3
'

test_expect_success 'a type directory removed meanwhile is made again' '
	rm -rf spool/assets &&
	stored &&
	test "$(ls spool/assets/new | wc -l)" = 1 &&
	test -d spool/assets/cur && test -d spool/assets/failed
'

test_expect_success 'a type renamed away: the event goes to the new one' '
	mv spool/assets spool/assets.old &&
	stored &&
	test "$(ls spool/assets.old/new | wc -l)" = 1 &&
	test "$(ls spool/assets/new | wc -l)" = 1
'

test_expect_success 'a type replaced by a link: refused, nothing outside' '
	stored &&
	mv spool/assets spool/assets.moved &&
	ln -s "$TRASH/spool/assets.moved" spool/assets &&
	fcgi_post event.json && expect_status 503 &&
	grep -q "cannot store event" err &&
	test "$(ls spool/assets.moved/new | wc -l)" = 2 &&
	rm spool/assets && mv spool/assets.moved spool/assets &&
	stored
'

test_expect_success 'new/ replaced by a link: refused, nothing outside' '
	stored &&
	mv spool/assets/new spool/assets/new.real &&
	ln -s "$TRASH/outside/new" spool/assets/new &&
	fcgi_post event.json && expect_status 503 &&
	test "$(ls outside/new | wc -l)" = 0 &&
	test "$(ls spool/assets/tmp | wc -l)" = 0 &&
	rm spool/assets/new && mv spool/assets/new.real spool/assets/new &&
	stored
'

test_expect_success 'a failure to store is not remembered: the next one works' '
	mv spool/assets/new spool/assets/new.real &&
	: >spool/assets/new &&
	fcgi_post event.json && expect_status 503 &&
	rm spool/assets/new && mv spool/assets/new.real spool/assets/new &&
	stored
'

test_expect_success 'another spool given per request has its own directories' '
	fcgi_post event.json MAKINI_WEBHOOK_SPOOL="$TRASH/other" &&
	expect_status 200 &&
	test_cmp event.json "other/assets/new/$(answer_id).json" &&
	stored
'

test_done
