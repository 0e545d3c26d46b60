#!/bin/sh
# See LICENSE file for copyright and license details.
# The room left on the spool's file system, on a small tmpfs of its own:
# the health check (GET, HEAD) answers 200 with the version and the free
# bytes and inodes while there is room, and 503 "spool almost full" with
# the reason in its log line under MAKINI_WEBHOOK_MIN_FREE or
# MAKINI_WEBHOOK_MIN_FREE_INODES, under CGI and FastCGI alike; check says
# the same and exits 1; deliveries are still stored while the disk allows.
# Settings that do not parse are configuration problems. Needs root for
# the mount; those cases are skipped otherwise.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_FSYNC=0"
VERSION=$("$BIN" --version | sed -n 's/^makini-webhook //p')

printf '{"event":"assets.updated","body":["a1"]}' >event.json

test_expect_success 'a MIN_FREE that is not a size: GET 503 with the version, POST 500' '
	test -n "$VERSION" &&
	cgi_request GET /dev/null MAKINI_WEBHOOK_MIN_FREE=64MB &&
	expect_retry_later &&
	printf "{\"status\":\"error\",\"error\":\"server misconfigured\",\"version\":\"%s\"}\n" \
		"$VERSION" >expect &&
	test_cmp expect body &&
	grep -q "GET - 503 server misconfigured (MAKINI_WEBHOOK_MIN_FREE is not a size such as 1048576, 512K, 64M or 1G)" err &&
	cgi_post event.json MAKINI_WEBHOOK_MIN_FREE=64MB &&
	expect_status 500 &&
	expect_empty_spool "$SPOOL"
'

test_expect_success 'a MIN_FREE_INODES that is not a count: GET 503, POST 500' '
	cgi_request GET /dev/null MAKINI_WEBHOOK_MIN_FREE_INODES=1k &&
	expect_retry_later &&
	grep -q "GET - 503 server misconfigured (MAKINI_WEBHOOK_MIN_FREE_INODES is not a whole number from 0 to 1000000000)" err &&
	cgi_post event.json MAKINI_WEBHOOK_MIN_FREE_INODES=-1 &&
	expect_status 500 &&
	expect_empty_spool "$SPOOL"
'

if ! test_have_prereq ROOT; then
	test_skip 'a spool on a small tmpfs needs root (mount)'
	test_done
fi

FS=$TRASH/fs
SPOOL=$FS/spool
THRESHOLDS="MAKINI_WEBHOOK_MIN_FREE=1M MAKINI_WEBHOOK_MIN_FREE_INODES=100"
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_SPOOL=$SPOOL $THRESHOLDS"
mkdir -p "$FS"
mount -t tmpfs -o size=4m,nr_inodes=400,mode=0755 tmpfs "$FS" || {
	test_skip 'cannot mount a tmpfs here'
	test_done
}
test_at_exit 'umount -l "$FS" 2>/dev/null'

# The reasons given with about 512 KB left under MIN_FREE=1M, and with 50
# inodes left under MIN_FREE_INODES=100 (extended regular expressions).
LOW_BYTES='5[0-9]{2} KB free on the spool.s file system, under MAKINI_WEBHOOK_MIN_FREE \(1 MB\)'
LOW_INODES='50 inodes free on the spool.s file system, under MAKINI_WEBHOOK_MIN_FREE_INODES \(100\)'

# The members the health check adds, as stat -f reads the file system:
# the blocks and inodes left to users other than root.
health_members() {
	# shellcheck disable=SC2046
	set -- $(stat -f -c "%a %S %d" "$FS") &&
	printf ",\"version\":\"%s\",\"free_bytes\":%s,\"free_inodes\":%s}\n" \
		"$VERSION" $(($1 * $2)) "$3"
}

# The last answer was the health check's 200, with today's figures.
expect_health_ok() {
	expect_status 200 &&
	{ printf "{\"status\":\"ok\"" && health_members; } >expect &&
	test_cmp expect body
}

# The last answer was 503 "spool almost full", with today's figures, and
# its log line gives the reason $1 (an extended regular expression).
expect_almost_full() {
	expect_retry_later &&
	{ printf "{\"status\":\"error\",\"error\":\"spool almost full\"" &&
	  health_members; } >expect &&
	test_cmp expect body &&
	grep -Eq "127\.0\.0\.1 GET - 503 spool almost full \($1\) [0-9]+\.[0-9]{3}ms$" err
}

# Stored byte for byte.
expect_stored() {
	expect_status 200 &&
	test_cmp "$1" "$SPOOL/assets/new/$(answer_id).json"
}

# fill_bytes KB: a filler that leaves about KB kilobytes free.
fill_bytes() {
	# shellcheck disable=SC2046
	set -- "$1" $(stat -f -c "%a %S" "$FS") &&
	dd if=/dev/zero of="$FS/filler" bs="$3" count=$(($2 - $1 * 1024 / $3)) \
		2>/dev/null
}

# fill_inodes N: empty files until N inodes are left.
fill_inodes() {
	mkdir "$FS/inodes" &&
	i=$(($(stat -f -c %d "$FS") - $1)) &&
	while [ "$i" -gt 0 ]; do
		: >"$FS/inodes/$i" || return 1
		i=$((i - 1))
	done &&
	test "$(stat -f -c %d "$FS")" = "$1"
}

check_run() {
	env -i PATH="$PATH" MAKINI_WEBHOOK_SECRET="$SECRET" \
		MAKINI_WEBHOOK_SPOOL="$SPOOL" $THRESHOLDS "$@" "$BIN" check >out
}

test_expect_success 'GET answers 200 with the version and the free bytes and inodes' '
	cgi_post event.json && expect_stored event.json &&
	cgi_request GET /dev/null &&
	expect_health_ok &&
	grep -Eq "127\.0\.0\.1 GET - 200 ok [0-9]+\.[0-9]{3}ms$" err &&
	cgi_request HEAD /dev/null &&
	expect_status 200 && test_cmp /dev/null body
'

test_expect_success 'a spool not made yet is measured where it will be made' '
	cgi_request GET /dev/null MAKINI_WEBHOOK_SPOOL=$FS/later/spool &&
	expect_health_ok &&
	! test -e "$FS/later"
'

test_expect_success 'check gives the room left, the thresholds and its version' '
	check_run &&
	head -n 1 out >first &&
	echo "makini-webhook $VERSION" >expect && test_cmp expect first &&
	grep -Eq "^space:   [0-9.]+ MB and [0-9,]+ inodes free \(thresholds 1 MB, 100 inodes\)$" out &&
	grep -qx "usable:  yes" out
'

test_expect_success 'under MIN_FREE: GET and HEAD 503 with the reason, yet a POST is stored' '
	fill_bytes 512 &&
	cgi_request GET /dev/null &&
	expect_almost_full "$LOW_BYTES" &&
	cgi_request HEAD /dev/null &&
	expect_retry_later && test_cmp /dev/null body &&
	cgi_post event.json &&
	expect_stored event.json
'

test_expect_success 'under MIN_FREE: check says why and exits 1' '
	test_must_fail check_run &&
	test "$test_exit" = 1 &&
	grep -Eq "^space:   5[0-9]{2} KB and [0-9,]+ inodes free \(thresholds 1 MB, 100 inodes\)$" out &&
	grep -Eq "^space:   almost full: 5[0-9]{2} KB free on the spool.s file system, under MAKINI_WEBHOOK_MIN_FREE \(1 MB\)$" out &&
	grep -qx "usable:  no" out
'

test_expect_success 'MIN_FREE is 64M unless set' '
	cgi_request GET /dev/null MAKINI_WEBHOOK_MIN_FREE= &&
	expect_almost_full "5[0-9]{2} KB free on the spool.s file system, under MAKINI_WEBHOOK_MIN_FREE \(64 MB\)"
'

test_expect_success 'MIN_FREE=0 and MIN_FREE_INODES=0 turn the checks off' '
	cgi_request GET /dev/null MAKINI_WEBHOOK_MIN_FREE=0 \
		MAKINI_WEBHOOK_MIN_FREE_INODES=0 &&
	expect_health_ok &&
	check_run MAKINI_WEBHOOK_MIN_FREE=0 MAKINI_WEBHOOK_MIN_FREE_INODES=0 &&
	grep -q "(thresholds space off, inodes off)$" out &&
	grep -qx "usable:  yes" out
'

test_expect_success 'room again: GET 200 without a restart' '
	rm "$FS/filler" &&
	cgi_request GET /dev/null &&
	expect_health_ok
'

test_expect_success 'under MIN_FREE_INODES: GET 503 with the reason, yet a POST is stored' '
	fill_inodes 50 &&
	cgi_request GET /dev/null &&
	expect_almost_full "$LOW_INODES" &&
	cgi_post event.json &&
	expect_stored event.json
'

test_expect_success 'under MIN_FREE_INODES: check says why and exits 1' '
	test_must_fail check_run &&
	test "$test_exit" = 1 &&
	grep -Eq "^space:   almost full: 49 inodes free on the spool.s file system, under MAKINI_WEBHOOK_MIN_FREE_INODES \(100\)$" out &&
	grep -qx "usable:  no" out
'

test_expect_success 'both: each reason is given' '
	fill_bytes 512 &&
	cgi_request GET /dev/null &&
	expect_almost_full "5[0-9]{2} KB free .*MIN_FREE \(1 MB\); 4[0-9] inodes free .*MIN_FREE_INODES \(100\)" &&
	rm -r "$FS/filler" "$FS/inodes"
'

test_expect_success 'FastCGI: one process answers 200, 503 when the disk fills, 200 again' '
	fcgi_start MAKINI_WEBHOOK_SECRET="$SECRET" MAKINI_WEBHOOK_SPOOL="$SPOOL" \
		MAKINI_WEBHOOK_FSYNC=0 $THRESHOLDS &&
	fcgi_request GET /dev/null &&
	expect_health_ok &&
	fill_bytes 512 &&
	fcgi_request GET /dev/null &&
	expect_almost_full "$LOW_BYTES" &&
	fcgi_post event.json &&
	expect_stored event.json &&
	rm "$FS/filler" &&
	fcgi_request GET /dev/null &&
	expect_health_ok
'

test_expect_success 'FastCGI: under MIN_FREE_INODES, 503 with the reason' '
	fill_inodes 50 &&
	fcgi_request GET /dev/null &&
	expect_almost_full "$LOW_INODES" &&
	rm -r "$FS/inodes" &&
	fcgi_request GET /dev/null &&
	expect_health_ok
'

test_done
