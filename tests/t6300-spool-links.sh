#!/bin/sh
# See LICENSE file for copyright and license details.
# The spool never leads a write out of itself: a symbolic link or a file
# planted in place of a type directory, tmp/ or new/ is refused with 503,
# and the place it points to stays untouched. Files and directories are
# created without world access, whatever the umask.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
CGI_CONFIG="$CGI_CONFIG MAKINI_WEBHOOK_FSYNC=0"

printf '{"event":"assets.updated","body":["a1"]}' >event.json
printf '{"event":"sites.inserted","body":["s1"]}' >site.json
mkdir outside

expect_outside_untouched() {
	left=$(find outside -mindepth 1)
	[ -z "$left" ] || { echo "written outside the spool: $left"; return 1; }
}

test_expect_success 'a type directory linked out of the spool is refused' '
	rm -rf spool outside && mkdir outside &&
	mkdir spool &&
	ln -s ../outside spool/assets &&
	cgi_post event.json &&
	expect_retry_later &&
	expect_outside_untouched &&
	test -L spool/assets
'

test_expect_success 'a dangling link as type directory is refused' '
	rm -rf spool outside && mkdir outside &&
	mkdir spool &&
	ln -s ../outside/missing spool/assets &&
	cgi_post event.json &&
	expect_retry_later &&
	expect_outside_untouched
'

test_expect_success 'tmp/ linked out of the spool is refused' '
	rm -rf spool outside && mkdir outside &&
	mkdir -p spool/assets/new &&
	ln -s ../../outside spool/assets/tmp &&
	cgi_post event.json &&
	expect_retry_later &&
	expect_outside_untouched &&
	test_must_fail test -e spool/assets/new/*.json
'

test_expect_success 'new/ linked out of the spool is refused, tmp/ stays empty' '
	rm -rf spool outside && mkdir outside &&
	mkdir -p spool/assets/tmp &&
	ln -s ../../outside spool/assets/new &&
	cgi_post event.json &&
	expect_retry_later &&
	expect_outside_untouched &&
	test_no_tmp_leftovers spool
'

test_expect_success 'a file in place of the type directory is refused and kept' '
	rm -rf spool outside && mkdir outside &&
	mkdir spool &&
	echo precious >spool/assets && cp spool/assets expected &&
	cgi_post event.json &&
	expect_retry_later &&
	test_cmp expected spool/assets
'

test_expect_success 'other types still work beside a planted link' '
	rm -rf spool outside && mkdir outside &&
	mkdir spool &&
	ln -s ../outside spool/assets &&
	cgi_post site.json &&
	expect_status 200 &&
	test_cmp site.json "spool/sites/new/$(answer_id).json" &&
	expect_outside_untouched
'

test_expect_success 'a spool root that is itself a link is followed (it is configuration)' '
	rm -rf spool real && mkdir real && ln -s real spool &&
	cgi_post event.json &&
	expect_status 200 &&
	test_cmp event.json "real/assets/new/$(answer_id).json"
'

# Queue mode: drain works in the spool by path. It must neither read
# events through a planted link nor move or write anything through one.
mkdir hooks
printf '#!/bin/sh\necho ran >>"$MAKINI_HOOK_LOG"\nexit %s\n' 0 >hooks/default
chmod +x hooks/default
drain() {
	env -i PATH="$PATH" MAKINI_WEBHOOK_SECRET="$SECRET" \
		MAKINI_WEBHOOK_SPOOL="$SPOOL" MAKINI_WEBHOOK_MODE=queue \
		MAKINI_WEBHOOK_HOOKS="$TRASH/hooks" MAKINI_WEBHOOK_HOOK_ENV=MAKINI_HOOK_LOG \
		MAKINI_HOOK_LOG="$TRASH/hook.log" "$BIN" drain >drain.out 2>&1
}
planted=20260101T000000.000000Z-0000000000000000-00000001-updated.json

test_expect_success 'drain never runs a hook on events behind a linked type, and fails' '
	rm -rf spool outside hook.log && mkdir -p spool outside/new outside/cur &&
	cp event.json outside/new/$planted &&
	ln -s ../outside spool/assets &&
	test_must_fail drain &&
	test_must_fail test -e hook.log &&
	test "$(find outside -type f)" = outside/new/$planted &&
	grep -q "assets skipped" drain.out &&
	test_must_fail grep -F "$TRASH" drain.out
'

test_expect_success 'drain never moves an event through a linked cur/, and fails' '
	rm -rf spool outside hook.log && mkdir outside &&
	# Stored as queue mode stores it, without a runner: drain runs it.
	cgi_post event.json MAKINI_WEBHOOK_HOOKS="$TRASH/hooks" &&
	expect_status 200 &&
	id=$(answer_id) &&
	rmdir spool/assets/cur && ln -s ../../outside spool/assets/cur &&
	test_must_fail drain &&
	expect_outside_untouched &&
	test_cmp event.json spool/assets/new/$id.json &&
	rm spool/assets/cur && mkdir spool/assets/cur &&
	drain &&
	test_cmp event.json spool/assets/cur/$id.json &&
	test "$(cat hook.log)" = ran
'

for mask in 077 022 000; do
	test_expect_success "umask $mask: stored, nothing world-accessible" "
		rm -rf spool &&
		(umask $mask && cgi_post event.json) &&
		expect_status 200 &&
		f=spool/assets/new/\$(answer_id).json &&
		test_cmp event.json \$f &&
		perms=\$(find spool -perm /o=rwx) &&
		test -z \"\$perms\" || { ls -lR spool; false; }
	"
done

test_expect_success 'umask 077: nothing readable by the group either' '
	rm -rf spool &&
	(umask 077 && cgi_post event.json) &&
	expect_status 200 &&
	test -z "$(find spool -perm /g=rwx,o=rwx)"
'

test_done
