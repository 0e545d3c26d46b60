#!/bin/sh
# See LICENSE file for copyright and license details.
# make run-cluster: the topology of tests/cluster/t2-balancer.sh, for a
# person to look at, in the foreground until SIGINT or SIGTERM stops
# everything it started: HAProxy in front of two web hosts (lighttpd
# FastCGI, queue mode, fsync on) sharing one spool on a GlusterFS volume
# replicated over three bricks, and PostgreSQL as the sink of
# hooks/postgresql, each host a network namespace (tests/cluster-hosts.sh).
# It prints where to post and how to see the rows. As root; the state
# lives in ./var/cluster (RUN_STATE=dir moves it) and is removed at the
# end, with the namespaces, the mounts and the servers.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"
VAR=${RUN_STATE:-$SRCDIR/var}
mkdir -p "$VAR" && VAR=$(cd "$VAR" && pwd) || exit 1
HOSTS_DIR=$VAR/cluster
. "$SRCDIR/tests/cluster-hosts.sh"
server_env_clear

reason=$(hosts_skip_reason)
if [ -n "$reason" ]; then
	echo "make run-cluster: $reason" >&2
	exit 1
fi
[ -x "$HOSTS_BIN" ] || {
	echo "make run-cluster: build $HOSTS_BIN first (make)" >&2
	exit 1
}
if [ -e "$HOSTS_DIR" ]; then
	echo "make run-cluster: $HOSTS_DIR exists: another run-cluster, or one" \
		"that did not finish; remove it first" >&2
	exit 1
fi

# Once stopping has begun, a second Ctrl-C or SIGTERM must not kill the
# shell halfway.
stop() {
	trap '' INT TERM HUP PIPE
	echo
	echo "stopping the hosts"
	hosts_down
	rm -rf "$HOSTS_DIR"
	exit "$1"
}
trap 'stop 0' INT TERM HUP

echo "starting 8 hosts (this takes a minute or two)"
hosts_up || stop 1

event=$HOSTS_DIR/event.json
printf '{"event": "assets.updated", "body": ["%s"]}\n' \
	"3f2504e0-4f89-11d3-9a0c-0305e82c3301" >"$event"
sig=$(MAKINI_WEBHOOK_SECRET_FILE=$HOSTS_DIR/secret "$HOSTS_BIN" sign <"$event")
cat <<EOF

HAProxy listens on $(lb_url), inside the hosts' network
(no address outside it). Post a signed event from the host "maker":

  ip netns exec $(host_ns maker) curl -s -H 'Content-Type: application/json' \\
    -H 'X-Webhook-Signature: $sig' \\
    --data-binary @$event $(lb_url)

Sign another body with
  MAKINI_WEBHOOK_SECRET_FILE=$HOSTS_DIR/secret $HOSTS_BIN sign <FILE

The rows hooks/postgresql stored (each web host drains every $DRAIN_PERIOD s):
  psql -h $HOSTS_DIR/db -U makini -d makini -c 'SELECT id, event, received_at FROM makini_events'

The spool, as the web hosts share it: $HOSTS_DIR/web1/spool
HAProxy's view of the receivers: web1 $(lb_state web1), web2 $(lb_state web2)

Ctrl-C stops everything.
EOF
while :; do
	sleep 1
done
