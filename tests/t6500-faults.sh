#!/bin/sh
# See LICENSE file for copyright and license details.
# The spool's file system fails under the receiver, for real: full
# (ENOSPC, a small tmpfs), out of inodes, read-only (EROFS, remount), not
# writable by the worker (EACCES: the receiver runs as "nobody", which root
# is not, since root bypasses permissions) and immutable (chattr +i, EPERM
# even for root). Each refusal is 503 with Retry-After and leaves nothing
# in tmp/ or new/; once the fault is gone the next event is stored without
# a restart. Needs root for mount; skipped otherwise.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_FSYNC=0"

if [ "$(id -u)" != 0 ]; then
	test_skip 'spool fault injection needs root (mount, setpriv)'
	test_done
fi

FS=$TRASH/fs
SPOOL=$FS/spool
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_SPOOL=$SPOOL"
mkdir -p "$FS"
mount -t tmpfs -o size=256k,nr_inodes=64,mode=0755 tmpfs "$FS" || {
	test_skip 'cannot mount a tmpfs here'
	test_done
}
test_at_exit 'umount -l "$FS" 2>/dev/null'

printf '{"event":"assets.updated","body":["a1"]}' >event.json
python3 -c 'import sys
sys.stdout.write("{\"event\":\"assets.updated\",\"pad\":\"" + "x" * 20000 + "\"}")' >big.json

# Stored byte for byte, and the only file in new/.
expect_stored() {
	expect_status 200 &&
	test_cmp "$1" "$SPOOL/assets/new/$(answer_id).json" &&
	test_no_tmp_leftovers "$SPOOL"
}

expect_refused_clean() {
	expect_retry_later &&
	test_no_tmp_leftovers "$SPOOL" &&
	test -z "$(ls "$SPOOL/assets/new")"
}

test_expect_success 'setup: the first event creates the spool' '
	cgi_post event.json &&
	expect_stored event.json &&
	rm -f "$SPOOL"/assets/new/*
'

test_expect_success 'ENOSPC (file system full): 503, nothing left' '
	test_must_fail dd if=/dev/zero of="$FS/filler" bs=4k 2>/dev/null &&
	cgi_post event.json &&
	expect_refused_clean
'

test_expect_success 'ENOSPC in the middle of a write: 503, no partial file' '
	rm -f "$FS/filler" &&
	dd if=/dev/zero of="$FS/filler" bs=4k count=$(( $(stat -f -c %a "$FS") - 2 )) \
		2>/dev/null &&
	cgi_post big.json &&
	expect_refused_clean
'

test_expect_success 'space again: stored without a restart' '
	rm -f "$FS/filler" &&
	cgi_post big.json &&
	expect_stored big.json &&
	rm -f "$SPOOL"/assets/new/*
'

test_expect_success 'no inodes left: 503, nothing left' '
	mkdir "$FS/inodes" &&
	i=0 && while touch "$FS/inodes/$i" 2>/dev/null; do i=$((i + 1)); done &&
	cgi_post event.json &&
	expect_refused_clean &&
	rm -rf "$FS/inodes" &&
	cgi_post event.json &&
	expect_stored event.json &&
	rm -f "$SPOOL"/assets/new/*
'

test_expect_success 'EROFS (remounted read-only): 503, nothing left' '
	mount -o remount,ro "$FS" &&
	cgi_post event.json &&
	expect_refused_clean &&
	grep -q "Read-only file system" err
'

test_expect_success 'read-write again: stored without a restart' '
	mount -o remount,rw "$FS" &&
	cgi_post event.json &&
	expect_stored event.json &&
	rm -f "$SPOOL"/assets/new/*
'

test_expect_success 'a new type on a read-only spool: 503, no directory made' '
	mount -o remount,ro "$FS" &&
	printf "{\"event\":\"sites.updated\"}" >site.json &&
	cgi_post site.json &&
	expect_retry_later &&
	mount -o remount,rw "$FS" &&
	test_must_fail test -e "$SPOOL/sites"
'

if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	CGI_RUN_AS="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
	test_expect_success 'EACCES: tmp/ not writable by the worker (nobody)' '
		chown -R nobody:nogroup "$SPOOL" &&
		cgi_post event.json &&
		expect_stored event.json &&
		rm -f "$SPOOL"/assets/new/* &&
		chmod 0500 "$SPOOL/assets/tmp" &&
		cgi_post event.json &&
		expect_refused_clean &&
		grep -q "Permission denied" err
	'
	test_expect_success 'EACCES: new/ not writable, the tmp/ file is removed' '
		chmod 0750 "$SPOOL/assets/tmp" &&
		chmod 0500 "$SPOOL/assets/new" &&
		cgi_post event.json &&
		expect_refused_clean
	'
	test_expect_success 'permission back: stored without a restart' '
		chmod 0750 "$SPOOL/assets/new" &&
		cgi_post event.json &&
		expect_stored event.json &&
		test "$(stat -c %U "$SPOOL/assets/new/$(answer_id).json")" = nobody &&
		rm -f "$SPOOL"/assets/new/*
	'
	CGI_RUN_AS=
else
	test_skip 'EACCES cases need the user nobody and setpriv'
fi

# Without /proc (a chroot, say) the event is written as a named tmp/ file
# and renamed; an unshared mount namespace hides /proc from the receiver.
# Valgrind or ASan, when they wrap the binary, need /proc themselves.
cat >noproc.sh <<-\EOF
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs none /proc &&
	test ! -e /proc/self/fd && exec "$0" "$@"' "$@"
EOF
chmod +x noproc.sh
if ! ./noproc.sh "$BIN" --version >/dev/null 2>&1; then
	test_skip 'the binary cannot run without /proc here (sanitizer, valgrind or no unshare)'
else
	CGI_RUN_AS=$TRASH/noproc.sh
	test_expect_success 'without /proc: stored through a named tmp/ file' '
		cgi_post event.json &&
		expect_stored event.json &&
		rm -f "$SPOOL"/assets/new/*
	'
	test_expect_success 'without /proc, ENOSPC mid-write: the tmp/ file is removed' '
		dd if=/dev/zero of="$FS/filler" bs=4k \
			count=$(( $(stat -f -c %a "$FS") - 2 )) 2>/dev/null &&
		cgi_post big.json &&
		expect_refused_clean &&
		grep -q "No space left" err &&
		rm -f "$FS/filler" &&
		cgi_post big.json &&
		expect_stored big.json &&
		rm -f "$SPOOL"/assets/new/*
	'
	CGI_RUN_AS=
	rm -f "$FS/filler"
fi

if chattr +i "$SPOOL/assets/tmp" 2>/dev/null; then
	test_at_exit 'chattr -i "$SPOOL/assets/tmp" 2>/dev/null'
	test_expect_success 'immutable tmp/ (chattr +i, EPERM even for root): 503' '
		cgi_post event.json &&
		expect_refused_clean &&
		chattr -i "$SPOOL/assets/tmp" &&
		cgi_post event.json &&
		expect_stored event.json
	'
else
	test_skip 'chattr +i is not supported on this tmpfs'
fi

test_done
