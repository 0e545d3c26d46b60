#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped systemd units for drain: the service's settings and command,
# filled in for this scratch directory, drain a real queue.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"

SERVICE=$SRCDIR/apache/systemd/makini-webhook-drain.service
TIMER=$SRCDIR/apache/systemd/makini-webhook-drain.timer

mkdir hooks seen
printf '#!/bin/sh\ncat >"%s/seen/$MAKINI_EVENT_ID"\n' "$TRASH" >hooks/default
chmod +x hooks/default

test_expect_success 'the timer starts the service every minute' '
	grep -qx "OnUnitActiveSec=1min" "$TIMER" &&
	grep -qx "WantedBy=timers.target" "$TIMER" &&
	grep -qx "Type=oneshot" "$SERVICE"
'

test_expect_success 'the service, as shipped but for its paths, drains the queue' '
	# The service environment, pointed at this directory.
	env_args=$(sed -n "s/^Environment=//p" "$SERVICE" |
		sed -e "s|^MAKINI_WEBHOOK_SPOOL=.*|MAKINI_WEBHOOK_SPOOL=$TRASH/spool|" \
		    -e "s|^MAKINI_WEBHOOK_HOOKS=.*|MAKINI_WEBHOOK_HOOKS=$TRASH/hooks|") &&
	command=$(sed -n "s/^ExecStart=//p" "$SERVICE" |
		sed "s|^/usr/local/bin/makini-webhook|$BIN|") &&
	[ "$command" = "$BIN drain" ] &&
	CGI_CONFIG="$CGI_CONFIG $env_args" &&
	printf "{\"event\":\"sites.updated\"}" >e.json &&
	# Stored in spool mode, which starts no runner: the drain runs it.
	cgi_post e.json MAKINI_WEBHOOK_MODE=spool && expect_status 200 &&
	id=$(answer_id) &&
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $env_args $command >out &&
	grep -q "1 done" out &&
	test_cmp e.json "seen/$id" &&
	[ -f "spool/sites/cur/$id.json" ]
'

test_done
