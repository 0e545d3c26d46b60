#!/bin/sh
# See LICENSE file for copyright and license details.
#
# docs/monitoring.md's commands, as written but for their paths, against a
# test spool: metrics and --output, the alert rules' promtool commands,
# the three prune lines, the failure hook's install and settings reaching
# a chat server on loopback, the cron lines run as cron runs them, and the
# systemd units, read by systemd-analyze and their commands run as systemd
# would. Also the drain's cron line of docs/hooks.md, which the Debian
# package's cron file must match.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/queue-lib.sh"

DOC=$SRCDIR/docs/monitoring.md
VERSION=$(sed -n 's/^VERSION := //p' "$SRCDIR/Makefile")
# What cron gives a command (cron(8)): no more than this PATH.
CRON_PATH=/usr/bin:/bin

# No configuration of the caller's reaches the commands.
for var in $(env | sed -n 's/^\(MAKINI_WEBHOOK_[A-Z_]*\)=.*/\1/p'); do
	unset "$var"
done

# The program as `makini-webhook`, on PATH, as after `make install`.
mkdir bin etc textfile share &&
ln -s "$BIN" bin/makini-webhook || exit 1
PATH=$TRASH/bin:$PATH

# Whatever a case started in the background, ended at exit.
: >pids
test_at_exit 'for p in $(cat "$TRASH/pids"); do kill "$p" 2>/dev/null; done'

# doc_block HEADING N: the Nth fenced block below "## HEADING" of
# docs/monitoring.md.
doc_block() {
	test_doc_block "$DOC" "$1" "$2"
}

# fill: the documents' paths, pointed at this directory; fails when one
# of the host's is left.
fill() {
	sed -e "s|/usr/local/bin/makini-webhook|$BIN|g" \
	    -e "s|/usr/bin/makini-webhook|$BIN|g" \
	    -e "s|/var/lib/prometheus/node-exporter|$TRASH/textfile|g" \
	    -e "s|/etc/makini-webhook|$TRASH/etc|g" \
	    -e "s|/var/spool/makini-webhook|$TRASH/spool|g" \
	    -e "s|/usr/local/share/makini-webhook|$TRASH/share|g" \
	    -e "s|https://chat.example.com/hooks/abc|http://127.0.0.1:${CHAT_PORT:-0}/hooks/abc|g" \
	    >filled &&
	cat filled &&
	! grep -E "(/usr/local/|/usr/bin/makini|/var/lib/prom|/var/spool/|/etc/makini|example\.com)" filled >&2
}

# spool_with_old: pending events of assets and orders, and in cur/ and
# failed/ (with its .error) one event of each 40 days old and one fresh.
spool_with_old() {
	queue_fresh &&
	for type in assets orders; do
		make_events 5 $type &&
		mkdir -p "$SPOOL/$type/cur" "$SPOOL/$type/failed" &&
		set -- $(ls "$SPOOL/$type/new") &&
		mv "$SPOOL/$type/new/$1" "$SPOOL/$type/cur/" &&
		mv "$SPOOL/$type/new/$2" "$SPOOL/$type/cur/" &&
		mv "$SPOOL/$type/new/$3" "$SPOOL/$type/failed/" &&
		echo "attempts 10" >"$SPOOL/$type/failed/${3%.json}.error" &&
		touch -d "40 days ago" "$SPOOL/$type/cur/$1" \
			"$SPOOL/$type/failed/$3" \
			"$SPOOL/$type/failed/${3%.json}.error" \
			"$SPOOL/$type/new/$4" &&
		echo "$type/cur/$1 $type/failed/$3" >>old ||
		return 1
	done
}

# old_left: how many of the old events of cur/ and failed/ are left.
old_left() {
	for f in $(cat old); do
		[ ! -e "$SPOOL/$f" ] || echo "$f"
	done | wc -l
}

test_expect_success 'Metrics: the verb prints them, --output writes the collector.s file' '
	queue_fresh && make_events 2 assets &&
	doc_block Metrics 1 | fill >metrics.sh &&
	grep -q "^makini-webhook metrics$" metrics.sh &&
	grep -q "^makini-webhook metrics --output $TRASH/textfile/makini-webhook.prom$" metrics.sh &&
	MAKINI_WEBHOOK_SPOOL=$SPOOL sh -e metrics.sh >metrics.out &&
	grep -qx "makini_webhook_build_info{version=\"$VERSION\"} 1" metrics.out &&
	grep -qx "makini_webhook_events{type=\"assets\",state=\"pending\"} 2" metrics.out &&
	# The file holds the same, but for its time; nothing else is left.
	test "$(ls textfile)" = makini-webhook.prom &&
	grep -v timestamp_seconds metrics.out >printed &&
	grep -v timestamp_seconds textfile/makini-webhook.prom >written &&
	test_cmp printed written &&
	test "$(stat -c %a textfile/makini-webhook.prom)" = 644
'

test_expect_success 'Metrics: every metric of the table is in the text, and no other' '
	sed -n "s/^| \`\(makini_webhook_[a-z_]*\)\` |.*/\1/p" "$DOC" | sort >table &&
	test "$(wc -l <table)" -ge 10 &&
	sed -n "s/^# TYPE \([a-z_]*\) .*/\1/p" metrics.out | sort >typed &&
	test_cmp table typed
'

test_expect_success 'Alert rules: the two promtool commands pass' '
	command -v promtool >/dev/null || { echo "no promtool: make deps"; exit 1; }
	doc_block "Alert rules" 1 >promtool.sh &&
	test "$(grep -c "^promtool " promtool.sh)" = 2 &&
	(cd "$SRCDIR" && sh -e "$TRASH/promtool.sh") >promtool.out 2>&1 &&
	grep -q SUCCESS promtool.out
'

test_expect_success 'Prune: the dry run removes nothing, then by type, then by the setting' '
	spool_with_old &&
	doc_block Prune 1 | fill >prune.sh &&
	test "$(wc -l <prune.sh)" = 3 &&
	find "$SPOOL" | sort >before &&
	export MAKINI_WEBHOOK_SPOOL="$SPOOL" &&
	eval "$(sed -n 1p prune.sh)" >dry.out &&
	find "$SPOOL" | sort >after && test_cmp before after &&
	for f in $(cat old); do grep -q "$f" dry.out || exit 1; done &&
	eval "$(sed -n 2p prune.sh)" &&
	test "$(old_left)" = 2 &&
	for f in $(cat old); do
		case $f in
		assets/*) ! test -e "$SPOOL/$f" ;;
		*) test -e "$SPOOL/$f" ;;
		esac || exit 1
	done &&
	! ls "$SPOOL"/assets/failed/*.error &&
	eval "$(sed -n 3p prune.sh)" &&
	test "$(old_left)" = 0 &&
	# The fresh ones and every pending event stay.
	test "$(ls "$SPOOL/assets/cur" "$SPOOL/orders/cur" | grep -c json)" = 2 &&
	test "$(ls "$SPOOL/assets/new" | grep -c "\.json$")" = 2 &&
	test "$(ls "$SPOOL/orders/new" | grep -c "\.json$")" = 2
'

test_expect_success 'The failure hook: installed and set as written, it reaches a chat server' '
	queue_fresh &&
	write_hook orders <<-\EOF &&
	#!/bin/sh
	echo "the warehouse said no"
	exit 1
	EOF
	# Apart: an and-list ending in & runs in the background whole.
	CHAT_PORT=$(test_free_port) || exit 1
	timeout 20 python3 -c "
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers[\"Content-Length\"])
        open(\"chat.path\", \"w\").write(self.path)
        open(\"chat.json\", \"wb\").write(self.rfile.read(n))
        self.send_response(200); self.end_headers(); self.wfile.write(b\"ok\")
    def log_message(self, *a): pass
s = http.server.HTTPServer((\"127.0.0.1\", $CHAT_PORT), H)
open(\"ready\", \"w\").close()
s.handle_request()
" &
	server=$! && echo $server >>pids &&
	for _ in $(seq 100); do [ -e ready ] && break; sleep 0.1; done &&
	test -e ready &&
	doc_block "The failure hook" 1 | fill >install.sh &&
	(cd "$SRCDIR" && sh -e "$TRASH/install.sh") &&
	test -x share/failed-chat && cmp share/failed-chat "$SRCDIR/hooks/failed-chat" &&
	doc_block "The failure hook" 2 | fill >settings &&
	test "$(grep -c "^MAKINI_[A-Z_]*=" settings)" = 3 &&
	make_events 1 orders && id=$(only_id "$SPOOL/orders/new") &&
	drain MAKINI_WEBHOOK_MAX_ATTEMPTS=1 $(cat settings) &&
	wait $server &&
	test -f "$SPOOL/orders/failed/$id.json" &&
	test "$(cat chat.path)" = /hooks/abc &&
	jq -e --arg id "$id" ".text | contains(\$id) and contains(\"orders.updated\")" chat.json
'

# hooks_crontab: the cron block of docs/hooks.md, the drain's line.
hooks_crontab() {
	sed -n '/^```cron$/,/^```$/p' "$SRCDIR/docs/hooks.md" | grep -v '^```'
}

# cron_lines FILE: the lines of a crontab text that are entries.
cron_lines() {
	grep -v -e "^#" -e "^[[:space:]]*$" -e "^[A-Z_]*=" "$1"
}

# cron_run LINE: checks the schedule and the user of a line of
# /etc/cron.d (five time fields, then a user this host knows), then runs
# its command as cron would: with sh -c, cron's PATH and nothing else.
cron_run() {
	set -f
	# shellcheck disable=SC2086
	set -- $1
	set +f
	[ $# -gt 6 ] || { echo "not a cron.d line: $*"; return 1; }
	for field in "$1" "$2" "$3" "$4" "$5"; do
		echo "$field" | grep -Eqx "[0-9*/,-]+" ||
			{ echo "not a time field: $field"; return 1; }
	done
	getent passwd "$6" >/dev/null || { echo "no user $6"; return 1; }
	shift 6
	case "$*" in *%*) echo "a bare % ends cron's command"; return 1 ;; esac
	env -i PATH=$CRON_PATH SHELL=/bin/sh HOME=/ LOGNAME=root \
		/bin/sh -c "$*"
}

test_expect_success 'Cron: in /etc/cron.d/makini-webhook, with queue.env, the lines write the metrics and prune' '
	grep -q "\`/etc/cron.d/makini-webhook\`" "$DOC" &&
	grep -q "apt install cron" "$DOC" &&
	doc_block Cron 1 | fill >etc/queue.env &&
	grep -qx "MAKINI_WEBHOOK_SPOOL=$TRASH/spool" etc/queue.env &&
	doc_block Cron 2 | fill >crontab &&
	test "$(cron_lines crontab | wc -l)" = 2 &&
	spool_with_old && make_events 1 sites && rm -f textfile/* &&
	cron_lines crontab >lines &&
	while read -r line; do cron_run "$line" || exit 1; done <lines &&
	grep -qx "makini_webhook_build_info{version=\"$VERSION\"} 1" textfile/makini-webhook.prom &&
	grep -qx "makini_webhook_events{type=\"sites\",state=\"pending\"} 1" textfile/makini-webhook.prom &&
	test "$(old_left)" = 0 &&
	test "$(ls "$SPOOL/sites/new" | grep -c "\.json$")" = 1
'

test_expect_success 'systemd timers: each timer has its service, and the services run as systemd would' '
	doc_block "systemd timers" 1 | fill >units.txt &&
	mkdir units &&
	awk -v d=units "
		/^# .*\/etc\/systemd\/system\// { n = \$0; sub(/.*\//, \"\", n); f = d \"/\" n; next }
		f { print > f }
	" units.txt &&
	test "$(ls units | wc -l)" = 4 &&
	for t in units/*.timer; do
		test -f "${t%.timer}.service" &&
		grep -qx "WantedBy=timers.target" "$t" || exit 1
		if command -v systemd-analyze >/dev/null; then
			sed -n "s/^OnCalendar=//p" "$t" | while read -r c; do
				systemd-analyze calendar "$c" >/dev/null || exit 1
			done || exit 1
		fi
	done &&
	spool_with_old && rm -f textfile/* &&
	doc_block Cron 1 | fill >etc/queue.env &&
	# systemd reads them (without running): no key it does not know.
	if command -v systemd-analyze >/dev/null; then
		timeout 30 systemd-analyze verify units/* >verify.out 2>&1 &&
		! grep . verify.out
	fi &&
	for s in units/*.service; do
		grep -qx "Type=oneshot" "$s" &&
		envfile=$(sed -n "s/^EnvironmentFile=//p" "$s") &&
		test "$envfile" = "$TRASH/etc/queue.env" &&
		cmd=$(sed -n "s/^ExecStart=//p" "$s") &&
		# shellcheck disable=SC2046
		env -i PATH=/usr/bin:/bin $(grep "^[A-Z_]*=" "$envfile") $cmd ||
			exit 1
	done &&
	grep -qx "makini_webhook_build_info{version=\"$VERSION\"} 1" textfile/makini-webhook.prom &&
	test "$(old_left)" = 0
'

test_expect_success 'the drain.s cron line of docs/hooks.md, run as cron would, and the package.s file agree' '
	hooks_crontab >hooks-crontab &&
	hooks_line=$(cron_lines hooks-crontab) &&
	test "$(echo "$hooks_line" | wc -l)" = 1 &&
	grep -q "\`/etc/cron.d/makini-webhook\`" "$SRCDIR/docs/hooks.md" &&
	grep -q "apt install cron" "$SRCDIR/docs/hooks.md" &&
	# The package ships it commented out, with the package.s path.
	shipped=$(sed -n "s/^#\([0-9*].*\)$/\1/p" "$SRCDIR/debian/makini-webhook.cron.d") &&
	test "$shipped" = "$(echo "$hooks_line" | sed "s|/usr/local/bin/|/usr/bin/|g")" &&
	queue_fresh && recording_hook default &&
	mkdir -p etc/hooks && cp hooks/default etc/hooks/ &&
	make_events 2 assets &&
	cron_run "$(echo "$hooks_line" | fill)" &&
	test "$(wc -l <seen/runs)" = 2 &&
	test "$(ls "$SPOOL/assets/cur" | grep -c "\.json$")" = 2
'

test_expect_success 'every cron line runs nothing, silently, once the program is gone' '
	{ doc_block Cron 2 && hooks_crontab; } | fill |
		sed "s|$BIN|$TRASH/gone/makini-webhook|g" >gone-crontab &&
	test "$(cron_lines gone-crontab | wc -l)" = 3 &&
	queue_fresh && make_events 1 assets && rm -f textfile/* &&
	cron_lines gone-crontab >lines &&
	while read -r line; do
		! cron_run "$line" >out 2>&1 && ! test -s out || exit 1
	done <lines &&
	test -z "$(ls textfile)"
'

test_done
