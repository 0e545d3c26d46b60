#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped apache fcgid setup, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

server_cases apache fcgid &&

test_expect_success 'a body past FcgidMaxRequestLen: 500, the log says so' '
	limit=$(sed -n "s/^FcgidMaxRequestLen //p" "$SERVER_DIR/conf/makini-webhook.conf") &&
	test -n "$limit" &&
	head -c $((limit + 1)) /dev/zero | tr "\0" x >huge.json &&
	sc_post "$URL" huge.json "$(test_hmac_hex "$SECRET" huge.json)" &&
	sc_expect_code 500 &&
	grep -F "mod_fcgid: HTTP request length $((limit + 1)) (so far) exceeds MaxRequestLen ($limit)" \
		"$SERVER_DIR/log/error.log"
' &&

# The receivers mod_fcgid runs for this server: processes of $BIN whose
# parent (mod_fcgid's process manager) is a child of Apache's main process.
fcgid_pool() {
	ps -eo pid=,ppid=,args= |
	awk -v bin="$BIN" -v main="$(head -n 1 "$SERVER_DIR/pids")" '
		{ parent[$1] = $2 }
		$3 == bin && NF == 3 { receiver[$1] = $2 }
		END { n = 0
			for (p in receiver) if (parent[receiver[p]] == main) n++
			print n }'
}

# The warm-up that docs/deploy-apache.md gives for after each start or
# reload (the first ab line of its sh blocks, less its comment; the
# shipped file quotes it), run as written but for the port, after a
# reload: the pool grows to nearly the 32 processes the file allows, and
# error.log gains a line per health check and no more. (The five-second
# burst it replaces wrote 15,000 to 29,000.)
WARMUP=$(sed -n '/^```sh$/,/^```$/p' "$SRCDIR/docs/deploy-apache.md" |
	grep -m 1 '^ab ' | sed 's/[[:space:]]*#.*//')
test_expect_success 'the documented warm-up after a reload: 28 or more processes, 128 lines at most' '
	test -n "$WARMUP" &&
	grep -qxF "#      $WARMUP" "$SRCDIR/apache/makini-webhook-fcgid.conf" &&
	curl -sS --max-time 20 -o /dev/null "$URL" && test "$(fcgid_pool)" -gt 0 &&
	kill -USR1 "$(head -n 1 "$SERVER_DIR/pids")" &&
	tries=100 &&
	while [ "$(fcgid_pool)" -gt 0 ]; do
		tries=$((tries - 1)) && [ $tries -gt 0 ] || exit 1
		sleep 0.1
	done &&
	sleep 1 &&
	lines=$(wc -l <"$SC_LOG") &&
	echo "$WARMUP" | sed "s|http://127.0.0.1/makini-webhook|$URL|" >warmup.sh &&
	grep -qF "$URL" warmup.sh &&
	sh warmup.sh &&
	pool=$(fcgid_pool) &&
	added=$(($(wc -l <"$SC_LOG") - lines)) &&
	echo "pool $pool, $added new lines in ${SC_LOG##*/}" &&
	[ "$pool" -ge 28 ] && [ "$added" -le 128 ]
' &&

server_cases_stop
test_done
