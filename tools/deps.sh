#!/bin/sh
# See LICENSE file for copyright and license details.
# Installs the Debian packages that the build, the tests, the demo and the
# benchmark need, and only those missing: a no-op when all are there.
# (mod_ssl and mod_http2, for the HTTPS tests, ship in apache2 itself.)
set -eu

packages="gcc make pkg-config libfcgi-dev libfcgi-bin libjson-c-dev
libgcrypt20-dev libgpg-error-dev curl lighttpd apache2 libapache2-mod-fcgid
apache2-suexec-pristine acl
spawn-fcgi multiwatch jq clang libclang-rt-14-dev valgrind wrk python3 python3-flask gunicorn
postgresql redis-server redis-tools glusterfs-server glusterfs-client
xfsprogs e2fsprogs strace mandoc
nginx fcgiwrap caddy haproxy iproute2
dpkg-dev debhelper apache2-dev lintian
prometheus prometheus-node-exporter
openssl lighttpd-mod-openssl python3-h2"

missing=
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
