#!/bin/sh
# See LICENSE file for copyright and license details.
# make run: serves the receiver through a real web server, in the
# foreground, until SIGINT or SIGTERM stops everything it started.
#
#	SERVER=lighttpd|apache|nginx|caddy	the server (lighttpd)
#	VIA=fastcgi|cgi|proxy|systemd
#				the setup: the server's FastCGI one by
#				default (mod_fastcgi, mod_fcgid, nginx to the
#				spawn-fcgi script's receivers); proxy is
#				Apache's mod_proxy_fcgi to a spawn-fcgi socket,
#				systemd the same to the shipped systemd units'
#				service, started as systemd would; cgi under
#				nginx goes through fcgiwrap; caddy has
#				fastcgi alone (to spawn-fcgi)
#	PORT=N			the port on 127.0.0.1 (8080)
#	TLS=1			HTTPS (and HTTP/2 where the setup takes it)
#				through the server's shipped TLS lines, with a
#				self-signed certificate for 127.0.0.1 made once
#				in ./var/tls (TLS_CERT= and TLS_KEY= give a
#				certificate and key of your own instead)
#
# The state lives in ./var (RUN_STATE=dir moves it): the demo secret
# (generated once, kept), the spool, and the server's configuration and
# logs. MAKINI_WEBHOOK_*
# variables in the environment are passed on to the receiver; a secret or a
# spool given that way is used as is.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
SV_SRCDIR=$SRCDIR
. "$SRCDIR/tests/servers.sh"

SERVER=${SERVER:-lighttpd}
PORT=${PORT:-8080}
case $SERVER in
lighttpd) VIA=${VIA:-fastcgi} ;;
apache) VIA=${VIA:-fcgid} ;;
nginx|caddy) VIA=${VIA:-fastcgi} ;;
*) echo "make run: SERVER is lighttpd, apache, nginx or caddy, not '$SERVER'" >&2
   exit 2 ;;
esac
case $SERVER/$VIA in
lighttpd/fastcgi|lighttpd/cgi) ;;
apache/fcgid|apache/fastcgi|apache/proxy|apache/systemd|apache/cgi) ;;
nginx/fastcgi|nginx/cgi|caddy/fastcgi) ;;
*) echo "make run: VIA for $SERVER is one of" \
	"$(case $SERVER in
	   apache) echo 'fcgid (or fastcgi), proxy, systemd, cgi' ;;
	   caddy) echo 'fastcgi' ;;
	   *) echo 'fastcgi, cgi' ;;
	   esac), not '$VIA'" >&2
   exit 2 ;;
esac
TLS=${TLS:-0}
case $TLS in
0|1) ;;
*) echo "make run: TLS is 0 or 1, not '$TLS'" >&2; exit 2 ;;
esac
case $PORT in
''|*[!0-9]*) echo "make run: PORT must be a number, not '$PORT'" >&2; exit 2 ;;
esac

VAR=${RUN_STATE:-$SRCDIR/var}
mkdir -p "$VAR" && VAR=$(cd "$VAR" && pwd) || exit 1
# Paths as the ready command line shows them: relative to the source tree,
# where make runs.
case $VAR in
"$SRCDIR"/*) SHOWN_VAR=${VAR#"$SRCDIR"/} ;;
*) SHOWN_VAR=$VAR ;;
esac
DIR=$VAR/$SERVER-$VIA
mkdir -p "$VAR" && chmod 0755 "$VAR" || exit 1

SV_BIN=$SRCDIR/cgi/makini-webhook.cgi
[ -x "$SV_BIN" ] || { echo "make run: build $SV_BIN first (make)" >&2; exit 1; }

# The variables to pass on: every MAKINI_WEBHOOK_* but the spool, which is
# filled into the configuration as a path.
SV_PASS=
for name in $(env | sed -n 's/^\(MAKINI_WEBHOOK_[A-Z0-9_]*\)=.*/\1/p' | sort -u)
do
	[ "$name" = MAKINI_WEBHOOK_SPOOL ] || SV_PASS="$SV_PASS $name"
done
SV_PASS=${SV_PASS# }

# The secret: the caller's, else the demo secret in ./var/secret.
if [ -n "${MAKINI_WEBHOOK_SECRET:-}${MAKINI_WEBHOOK_SECRET_FILE:-}" ]; then
	SV_DROP_SECRET_FILE=1
	SV_SECRET_FILE=
	demo_secret=
else
	SV_DROP_SECRET_FILE=0
	SV_SECRET_FILE=$VAR/secret
	if ! [ -s "$SV_SECRET_FILE" ]; then
		(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' \
			>"$SV_SECRET_FILE") || exit 1
	fi
	demo_secret=$(cat "$SV_SECRET_FILE")
fi

# The spool: the caller's as is, else ./var/spool.
if [ -n "${MAKINI_WEBHOOK_SPOOL:-}" ]; then
	SV_SPOOL=$MAKINI_WEBHOOK_SPOOL
	SV_SPOOL_AS_IS=1
else
	SV_SPOOL=$VAR/spool
	SV_SPOOL_AS_IS=0
fi
export SV_BIN SV_SECRET_FILE SV_SPOOL SV_SPOOL_AS_IS SV_PASS SV_DROP_SECRET_FILE

if python3 -c 'import socket,sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$PORT" 2>/dev/null; then :; else
	echo "make run: 127.0.0.1:$PORT is in use; pick another with PORT=" >&2
	exit 1
fi

# The FastCGI receivers spawn-fcgi starts outlive it, so only this shell
# stops them. Once stopping has begun, a second Ctrl-C or SIGTERM (a
# process manager often sends one right after the first), or a SIGPIPE from
# a reader already gone, must not kill the shell halfway: all are ignored
# until everything is stopped.
stop() {
	trap '' INT TERM HUP PIPE
	echo
	echo "stopping $SERVER"
	server_stop "$DIR"
	exit "$1"
}
trap 'stop 0' INT TERM HUP

# HTTPS: the caller's certificate (which may not name 127.0.0.1, hence
# curl -k), else a self-signed one for 127.0.0.1 that curl can check.
tls=
cacert=
if [ "$TLS" = 1 ]; then
	tls=tls
	if [ -n "${TLS_CERT:-}${TLS_KEY:-}" ]; then
		[ -r "${TLS_CERT:-}" ] && [ -r "${TLS_KEY:-}" ] || {
			echo "make run: TLS_CERT and TLS_KEY name a readable" \
				"certificate and key" >&2
			exit 2
		}
		SV_TLS_DIR=$VAR/tls-given
		mkdir -p "$SV_TLS_DIR" &&
		ln -sf "$(cd "$(dirname "$TLS_CERT")" && pwd)/$(basename "$TLS_CERT")" \
			"$SV_TLS_DIR/cert.pem" &&
		ln -sf "$(cd "$(dirname "$TLS_KEY")" && pwd)/$(basename "$TLS_KEY")" \
			"$SV_TLS_DIR/key.pem" || exit 1
		cacert="-k "
	else
		SV_TLS_DIR=$VAR/tls
		server_tls_cert "$SV_TLS_DIR" || exit 1
		cacert="--cacert $SHOWN_VAR/tls/cert.pem "
	fi
	export SV_TLS_DIR
fi

server_start "$SERVER" "$VIA" "$PORT" "$DIR" $tls || exit 1
server_pid=$(head -n 1 "$DIR/pids")

# A sample event and a ready command line, relative to the source tree.
event=$VAR/event.json
printf '{"event": "assets.updated", "body": ["%s"]}\n' \
	"3f2504e0-4f89-11d3-9a0c-0305e82c3301" >"$event"
url=$(server_url "$SERVER" "$VIA" "$PORT" $tls)
if [ -n "$demo_secret" ]; then
	sign="MAKINI_WEBHOOK_SECRET_FILE=$SHOWN_VAR/secret ./cgi/makini-webhook.cgi sign"
else
	sign="./cgi/makini-webhook.cgi sign"
fi
case $SERVER/$VIA in
lighttpd/fastcgi) how="lighttpd + mod_fastcgi" ;;
lighttpd/cgi) how="lighttpd + mod_cgi" ;;
apache/proxy) how="Apache + mod_proxy_fcgi + spawn-fcgi" ;;
apache/systemd) how="Apache + mod_proxy_fcgi + the systemd units' service" ;;
apache/cgi) how="Apache + mod_cgid" ;;
apache/*) how="Apache + mod_fcgid" ;;
nginx/fastcgi) how="nginx + FastCGI to spawn-fcgi" ;;
nginx/cgi) how="nginx + fcgiwrap" ;;
caddy/fastcgi) how="Caddy + FastCGI to spawn-fcgi" ;;
esac
cat <<EOF
makini-webhook: serving $url
  through $how, as $(sv_user)
  spool:  $SV_SPOOL
  logs:   $DIR/log/
EOF
if [ -n "$demo_secret" ]; then
	cat <<EOF
  demo secret (in $SHOWN_VAR/secret): $demo_secret
EOF
else
	cat <<EOF
  secret: from MAKINI_WEBHOOK_SECRET${MAKINI_WEBHOOK_SECRET_FILE:+_FILE} (export it for the sign command below)
EOF
fi
cat <<EOF

Post a signed event:
  curl -i ${cacert}-H "X-Webhook-Signature: \$($sign < $SHOWN_VAR/event.json)" --data-binary @$SHOWN_VAR/event.json $url

Stop with Ctrl-C.
EOF

# Wait in short sleeps, so that a signal is handled at once.
while sv_alive "$server_pid"; do
	sleep 1 &
	wait $! 2>/dev/null
done
echo "make run: $SERVER exited" >&2
server_logs "$DIR" >&2
server_stop "$DIR"
exit 1
