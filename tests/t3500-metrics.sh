#!/bin/sh
# See LICENSE file for copyright and license details.
#
# The metrics verb and its counters: values that deliveries, hook runs and
# a dead claim imply, read back through a real prometheus-node-exporter's
# textfile collector; and exact counts while 8 posters and 2 drains run at
# once.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

VERSION=$(sed -n 's/^VERSION := //p' "$SRCDIR/Makefile")
NODE_EXPORTER=/usr/bin/prometheus-node-exporter

# metric NAME{LABELS} [FILE]: the value of one sample, or nothing.
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "${2:-metrics.out}"
}

# expect_metric SAMPLE VALUE [FILE]
expect_metric() {
	got=$(metric "$1" "${3:-metrics.out}")
	[ "$got" = "$2" ] || {
		echo "$1: expected $2, got '${got}'"
		return 1
	}
}

metrics() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $QUEUE_ENV "$@" "$BIN" metrics >metrics.out
}

host=$(hostname | tr -c 'A-Za-z0-9.\n-' '_')

test_expect_success 'metrics on an empty spool: build_info and no error' '
	queue_fresh &&
	metrics &&
	expect_metric "makini_webhook_build_info{version=\"$VERSION\"}" 1 &&
	grep -q "^# TYPE makini_webhook_requests_total counter$" metrics.out &&
	test_must_fail "$BIN" metrics --output &&
	test_must_fail "$BIN" metrics extra
'

test_expect_success 'a refused request counts, and makes no spool' '
	queue_fresh &&
	printf "{\"event\":\"assets.updated\"}" >e.json &&
	cgi_post_signature e.json 00 &&
	expect_status 401 &&
	! test -e "$SPOOL"
'

mounted=
test_at_exit 'test -z "$mounted" || umount -l "$mounted" 2>/dev/null'

test_expect_success 'deliveries, hook runs and a dead claim, as node_exporter reads them' '
	test "$(id -u)" = 0 || { echo "needs root (a read-only bind mount)"; return 1; }
	queue_fresh &&
	write_hook assets <<-\EOF &&
	#!/bin/sh
	exit 0
	EOF
	write_hook orders <<-\EOF &&
	#!/bin/sh
	echo "the warehouse said no"
	exit 1
	EOF
	make_events 3 assets &&
	make_events 1 orders &&
	cgi_post_signature m.json 00 && expect_status 401 &&
	cgi_post_signature m.json none && expect_status 401 &&
	mount --bind "$SPOOL/assets" "$SPOOL/assets" &&
	mounted=$SPOOL/assets &&
	mount -o remount,bind,ro "$SPOOL/assets" &&
	printf "{\"event\":\"assets.updated\"}" >e.json &&
	cgi_post e.json && expect_retry_later &&
	cgi_request GET /dev/null && expect_status 200 &&
	cgi_request HEAD /dev/null MAKINI_WEBHOOK_MIN_FREE=1000000G &&
	expect_status 503 &&
	umount "$SPOOL/assets" && mounted= &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 &&
	grep -q "3 done, 0 to retry, 1 failed for good" drain.out &&
	make_events 1 assets &&
	id=$(only_id "$SPOOL/assets/new") &&
	mv "$SPOOL/assets/new/$id.json" \
		"$SPOOL/assets/new/$id.json.claim.gone.1.0011223344556677" &&
	touch -d "1 hour ago" \
		"$SPOOL/assets/new/$id.json.claim.gone.1.0011223344556677" &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=2 &&
	grep -q "1 done, .* 1 returned from dead runners" drain.out &&

	mkdir -p textfile &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" metrics \
		--output textfile/makini-webhook.prom &&
	! ls textfile | grep -v "^makini-webhook.prom$" &&
	port=$(test_free_port) &&
	{ "$NODE_EXPORTER" --web.listen-address=127.0.0.1:$port \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$TRASH/textfile" \
		>node.log 2>&1 & echo $! >node.pid; } &&
	for _ in $(seq 50); do
		curl -fsS "http://127.0.0.1:$port/metrics" >scrape.out 2>/dev/null &&
			break
		sleep 0.1
	done &&
	kill "$(cat node.pid)" &&
	expect_metric node_textfile_scrape_error 0 scrape.out &&
	expect_metric "makini_webhook_build_info{version=\"$VERSION\"}" 1 scrape.out &&
	expect_metric "makini_webhook_requests_total{receiver=\"$host\",status=\"200\"}" 5 scrape.out &&
	expect_metric "makini_webhook_requests_total{receiver=\"$host\",status=\"401\"}" 2 scrape.out &&
	expect_metric "makini_webhook_requests_total{receiver=\"$host\",status=\"503\"}" 1 scrape.out &&
	expect_metric "makini_webhook_events{state=\"done\",type=\"assets\"}" 4 scrape.out &&
	expect_metric "makini_webhook_events{state=\"pending\",type=\"assets\"}" 0 scrape.out &&
	expect_metric "makini_webhook_events{state=\"running\",type=\"assets\"}" 0 scrape.out &&
	expect_metric "makini_webhook_events{state=\"failed\",type=\"orders\"}" 1 scrape.out &&
	expect_metric "makini_webhook_events{state=\"done\",type=\"orders\"}" 0 scrape.out &&
	expect_metric "makini_webhook_hook_runs_total{outcome=\"done\",type=\"assets\"}" 4 scrape.out &&
	expect_metric "makini_webhook_hook_runs_total{outcome=\"retry\",type=\"assets\"}" 0 scrape.out &&
	expect_metric "makini_webhook_hook_runs_total{outcome=\"failed\",type=\"orders\"}" 1 scrape.out &&
	expect_metric "makini_webhook_hook_duration_seconds_count{type=\"assets\"}" 4 scrape.out &&
	expect_metric "makini_webhook_hook_duration_seconds_bucket{type=\"orders\",le=\"+Inf\"}" 1 scrape.out &&
	expect_metric "makini_webhook_claims_returned_total{type=\"assets\"}" 1 scrape.out &&
	expect_metric "makini_webhook_claims_returned_total{type=\"orders\"}" 0 scrape.out &&
	! grep "makini_webhook_oldest_pending" scrape.out | grep -v "^#"
'

test_expect_success 'the oldest pending event: its time and age' '
	queue_fresh &&
	make_events 2 sites &&
	first=$(ls "$SPOOL/sites/new" | sort | head -n 1) &&
	old=20200101T000000.000000Z-0000000000000000-00000001-updated &&
	mv "$SPOOL/sites/new/$first" "$SPOOL/sites/new/$old.json" &&
	metrics &&
	expect_metric "makini_webhook_oldest_pending_timestamp_seconds{type=\"sites\"}" 1577836800 &&
	age=$(metric "makini_webhook_oldest_pending_age_seconds{type=\"sites\"}") &&
	test "$age" -ge $(( $(date +%s) - 1577836800 - 5 )) &&
	expect_metric "makini_webhook_events{type=\"sites\",state=\"pending\"}" 2
'

test_expect_success 'metrics --output replaces the file whole, leaving no temporary' '
	queue_fresh &&
	mkdir -p prom && echo stale >prom/m.prom &&
	env -i PATH="$PATH" $QUEUE_ENV "$BIN" metrics --output prom/m.prom &&
	grep -q "^makini_webhook_build_info" prom/m.prom &&
	test "$(ls prom)" = m.prom &&
	test_must_fail env -i PATH="$PATH" $QUEUE_ENV "$BIN" metrics \
		--output "$TRASH/no/such/dir/m.prom"
'

# 8 posters, each counting its own answers, and 2 drains at once; the
# hook fails about one first attempt in three and writes down each run.
test_expect_success '8 posters and 2 drains at once: the counters equal the outcomes' '
	queue_fresh &&
	write_hook assets <<-EOF &&
	#!/bin/sh
	if [ "\$MAKINI_ATTEMPT" = 1 ] && [ \$((\$\$ % 3)) = 0 ]; then
		echo "\$MAKINI_EVENT_ID retry" >>"$TRASH/seen/runs"
		exit 1
	fi
	echo "\$MAKINI_EVENT_ID done" >>"$TRASH/seen/runs"
	EOF
	printf "{\"event\":\"assets.updated\",\"body\":[\"1\"]}" >load.json &&
	good=$(test_hmac_hex "$SECRET" load.json) &&
	len=$(wc -c <load.json) &&
	posters= &&
	for p in 1 2 3 4 5 6 7 8; do
		(
			for i in $(seq 30); do
				sig=$good
				[ $((i % 5)) = 0 ] && sig=00$good
				env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 \
					REMOTE_ADDR=127.0.0.1 REQUEST_METHOD=POST \
					CONTENT_LENGTH=$len MAKINI_WEBHOOK_FSYNC=0 \
					HTTP_X_WEBHOOK_SIGNATURE=$sig $CGI_CONFIG \
					"$BIN" <load.json 2>/dev/null |
					sed -n "1s/^Status: \([0-9]*\).*/\1/p"
			done >poster.$p
		) &
		posters="$posters $!"
	done &&
	for d in 1 2; do
		(
			while ! test -e stop; do
				env -i PATH="$PATH" $QUEUE_ENV \
					MAKINI_WEBHOOK_RETRY_DELAY=0 \
					MAKINI_WEBHOOK_MAX_ATTEMPTS=3 \
					"$BIN" drain >/dev/null 2>&1
			done
		) &
		echo $! >drain.$d
	done &&
	wait $posters
	touch stop &&
	for d in 1 2; do
		while kill -0 "$(cat drain.$d)" 2>/dev/null; do sleep 0.1; done
	done &&
	for _ in 1 2 3 4; do
		drain MAKINI_WEBHOOK_RETRY_DELAY=0 MAKINI_WEBHOOK_MAX_ATTEMPTS=3
	done &&
	test "$(cat poster.* | wc -l)" = 240 &&
	ok=$(cat poster.* | grep -c "^200$") &&
	refused=$(cat poster.* | grep -c "^401$") &&
	test "$ok" = 192 && test "$refused" = 48 &&
	test "$(ls "$SPOOL/assets/cur" | wc -l)" = "$ok" &&
	metrics &&
	expect_metric "makini_webhook_requests_total{receiver=\"$host\",status=\"200\"}" "$ok" &&
	expect_metric "makini_webhook_requests_total{receiver=\"$host\",status=\"401\"}" "$refused" &&
	expect_metric "makini_webhook_hook_runs_total{type=\"assets\",outcome=\"done\"}" \
		"$(grep -c " done$" seen/runs)" &&
	expect_metric "makini_webhook_hook_runs_total{type=\"assets\",outcome=\"retry\"}" \
		"$(grep -c " retry$" seen/runs)" &&
	expect_metric "makini_webhook_hook_runs_total{type=\"assets\",outcome=\"done\"}" "$ok" &&
	expect_metric "makini_webhook_hook_duration_seconds_count{type=\"assets\"}" \
		"$(wc -l <seen/runs)" &&
	expect_metric "makini_webhook_events{type=\"assets\",state=\"done\"}" "$ok"
'

test_done
