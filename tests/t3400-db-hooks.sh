#!/bin/sh
# See LICENSE file for copyright and license details.
# The example hooks hooks/postgresql and hooks/redis-stream, as shipped, in
# queue mode against a real PostgreSQL and a real Redis started here, each
# listening on a Unix socket in $TRASH only. Events are delivered as a
# server delivers them: each CGI request carries MAKINI_WEBHOOK_HOOK_ENV and
# the hook's variables (as Apache's SetEnv passes them), and the runner the
# receiver starts after the answer runs the hook; drain only where a case
# needs one.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"

PG_BIN=/usr/lib/postgresql/15/bin
PGDIR=$TRASH/pg
REDIS_DIR=$TRASH/redis

test_failure_hook() {
	for log in drain.err spool-pg/queue.log spool-redis/queue.log \
		"$PGDIR/log" "$REDIS_DIR/log"; do
		[ -f "$log" ] || continue
		echo "#   --- $log"
		tail -n 15 "$log" | sed 's/^/#   /'
	done
}

# A body with what could break quoting: quotes, backslashes, SQL, psql
# variables and backquotes, escaped and raw non-ASCII, a line break
# between members and a final newline.
cat >tricky.json <<'EOF'
{"event": "purchaseOrders.inserted", "body": ["po-1"],
 "note": "it's \"quoted\", C:\\path\\ and \\\\ two", "sql": "'); DROP TABLE makini_events; --",
 "psql": ":'id' :id `touch pwned` \\set x", "text": "é ☃ 😀 \u00e9 \ud83d\ude00 日本語", "nl": "line\nbreak\ttab"}
EOF
printf '{"event":"workOrders.updated","body":["wo-1"]}' >wo-1.json
printf '{"event":"workOrders.updated","body":["wo-2"]}' >wo-2.json
printf '{"event":"workOrders.deleted","body":["wo-3"]}' >wo-del.json
printf '{"event":"assets.inserted","body":["a-1"]}' >asset.json
printf '{"event":"assets.updated","body":["a-2"]}' >asset-2.json
# Near MAX_BODY, far over what one command-line argument may hold (128 KiB).
python3 -c 'import json
print(json.dumps({"event": "materials.updated", "blob": "a\"b\\é" * 120000},
    ensure_ascii=False))' >big.json

# post FILE [VAR=value...]: delivers FILE and prints the id it was given.
post() {
	file=$1
	shift
	cgi_post "$file" "$@" && expect_status 200 >&2 && answer_id
}

# wait_for COMMAND...: up to ten seconds for COMMAND to succeed; when it
# never does, its output of a last try says why.
wait_for() {
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" && return 0
	echo "timed out after 10 s waiting for: $*"
	return 1
}

# The runners the deliveries of this script started (and its FastCGI
# worker): $BIN without arguments, working in $TRASH.
runner_pids() {
	for pid in $(pgrep -f "^$BIN\$"); do
		[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$TRASH" ] ||
			echo "$pid"
	done
}
no_runner() {
	[ -z "$(runner_pids)" ]
}
# Ends the runners left, so that none runs a later event with the
# variables of the request that started it (a runner keeps those it was
# started with). Only while no event is due: none is then mid-hook.
stop_runners() {
	for pid in $(runner_pids); do
		kill -KILL "$pid" 2>/dev/null
	done
	wait_for no_runner
}
test_at_exit 'for pid in $(runner_pids); do kill -KILL "$pid"; done 2>/dev/null'

# case_start SPOOL: no runner of an earlier case is left, and
# SPOOL/queue.log will hold this case's lines only.
case_start() {
	stop_runners && rm -f "$1/queue.log"
}

# log_has SPOOL PATTERN N: exactly N lines of SPOOL/queue.log match.
log_has() {
	n=$(grep -c -- "$2" "$1/queue.log" 2>/dev/null || :)
	[ "${n:-0}" = "$3" ] || {
		echo "$1/queue.log: ${n:-0} lines match \"$2\", want $3"; return 1
	}
}
# done_lines SPOOL N: waits until the log says exactly N events moved to
# cur/ (each line is written just after its move).
done_lines() {
	wait_for log_has "$1" ": done, moved to cur/$" "$2"
}

# kill_after_hook DIR SINK: HOOKS directory DIR whose default hook records
# each run's attempt, delivery key and host name in ./keys, runs the
# shipped hook SINK, and on a first attempt that succeeded SIGKILLs its
# runner: the sink has committed, but the event never reached cur/.
kill_after_hook() {
	mkdir -p "$1" && cat >"$1/default" <<-EOF && chmod +x "$1/default"
	#!/bin/sh
	echo "\$MAKINI_ATTEMPT \$MAKINI_DELIVERY_KEY \$(hostname)" >>"$TRASH/keys"
	"$SRCDIR/hooks/$2" || exit
	[ "\$MAKINI_ATTEMPT" != 1 ] || kill -KILL "\$PPID"
	EOF
}
# drain_as HOST VAR=value...: a drain whose host name is HOST, as one on
# another host sharing the spool; output in drain.out, log in drain.err.
drain_as() {
	host=$1
	shift
	env -i PATH="$PATH" "$@" unshare -u \
		sh -c 'hostname "$1" && shift && exec "$@"' sh "$host" \
		"$BIN" drain >drain.out 2>drain.err
}
# expect_rerun_keeps_key TYPE ID SPOOL: after kill_after_hook's runner
# died, a drain on host-b took the claim over and ran the hook again, with
# the same delivery key, the event's id.
expect_rerun_keeps_key() {
	grep -q "1 done" drain.out && grep -q "1 returned from dead runners" drain.out &&
	grep -q "queue $2: claim of .* has had no heartbeat" drain.err &&
	printf "1 %s\n2 %s host-b\n" "$2" "$2" >expect &&
	sed "1s/ [^ ]*\$//" keys >actual && test_cmp expect actual &&
	expect_done "$1" "$2" "$3"
}

# Succeeds when JSON files $1 and $2 hold the same value.
same_json() {
	python3 -c 'import json, sys
a, b = (json.load(open(f, encoding="utf-8")) for f in sys.argv[1:])
if a != b:
    sys.exit("%r\n!= %r" % (a, b))' "$1" "$2"
}

# Fails unless event $2 of type $1 lies in $3/<type>/cur/ and nothing
# of it is left in new/.
expect_done() {
	[ -f "$3/$1/cur/$2.json" ] || { echo "$2 not in cur/"; return 1; }
	for f in "$3/$1/new/$2".*; do
		[ ! -e "$f" ] || { echo "left in new/: $f"; return 1; }
	done
}

# wait_done TYPE ID SPOOL: waits until expect_done holds.
wait_done() {
	wait_for expect_done "$@"
}

# Fails unless event $2 of type $1 waits in $3/<type>/new/ after $4
# attempts.
expect_pending() {
	[ -f "$3/$1/new/$2.json" ] || { echo "$2 not in new/"; return 1; }
	grep -qx "attempts $4" "$3/$1/new/$2.state" || {
		echo "$2: want attempts $4"; cat "$3/$1/new/$2.state"; return 1
	}
}

# wait_pending TYPE ID SPOOL N: waits until expect_pending holds.
wait_pending() {
	wait_for expect_pending "$@"
}

# Fails unless event $2 of type $1 lies in $3/<type>/failed/ after $4
# attempts, and nothing of it is left in new/.
expect_failed() {
	[ -f "$3/$1/failed/$2.json" ] || { echo "$2 not in failed/"; return 1; }
	grep -qx "attempts $4" "$3/$1/failed/$2.error" || {
		echo "$2: want attempts $4"; cat "$3/$1/failed/$2.error"; return 1
	}
	for f in "$3/$1/new/$2".*; do
		[ ! -e "$f" ] || { echo "left in new/: $f"; return 1; }
	done
}

# The hook refuses to guess a delivery key when the receiver gives none.
expect_needs_delivery_key() {
	rc=0
	env -i PATH="$PATH" MAKINI_EVENT=assets.inserted MAKINI_ENTITY=assets \
		MAKINI_ACTION=inserted MAKINI_EVENT_ID=x "$1" <asset.json \
		2>err || rc=$?
	[ "$rc" = 2 ] || { echo "exit $rc, want 2"; return 1; }
	grep -q "MAKINI_DELIVERY_KEY is not set" err
}

# initdb and postgres refuse to run as root: as root, they run as
# postgres (or nobody). AS_DB_USER is the command prefix that does it.
DB_USER=$(id -un)
AS_DB_USER=
if [ "$(id -u)" = 0 ]; then
	DB_USER=postgres
	id postgres >/dev/null 2>&1 || DB_USER=nobody
	AS_DB_USER="$(command -v runuser) -u $DB_USER --"
fi
pg_ctl() {
	$AS_DB_USER "$PG_BIN/pg_ctl" -D "$PGDIR/data" -s "$@"
}
# A cluster in $PGDIR/data whose only socket is in $PGDIR: no TCP.
pg_init() {
	$AS_DB_USER test -w "$PGDIR" || {
		echo "$DB_USER cannot write $PGDIR: a parent directory is closed to it"
		return 1
	}
	$AS_DB_USER "$PG_BIN/initdb" -D "$PGDIR/data" -U makini -A trust \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$PGDIR/initdb.log" || return 1
	cat >>"$PGDIR/data/postgresql.conf" <<-EOF
	listen_addresses = ''
	unix_socket_directories = '$PGDIR'
	fsync = off
	EOF
}
sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PGDIR" -U makini -d makini \
		-c "$1"
}

PG_QUEUE="MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=$TRASH/hooks-pg MAKINI_WEBHOOK_SPOOL=$TRASH/spool-pg"
PG_ENV="MAKINI_WEBHOOK_HOOK_ENV=PGHOST,PGDATABASE,PGUSER PGHOST=$PGDIR PGDATABASE=makini PGUSER=makini_hook"
# pg_post FILE [VAR=value...]: delivers FILE in queue mode, the request
# carrying the hook's variables as SetEnv would; later assignments win, so
# pg_post FILE PGHOST=... overrides PG_ENV.
pg_post() {
	pg_file=$1
	shift
	# shellcheck disable=SC2086
	post "$pg_file" $PG_QUEUE $PG_ENV "$@"
}
# Later assignments win, so pg_drain PGHOST=... overrides PG_ENV.
pg_drain() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $PG_QUEUE $PG_ENV "$@" "$BIN" drain \
		>drain.out 2>drain.err
}
# Prints the delivery key, event, entity and action of row $1.
pg_row() {
	sql "SELECT delivery_key, event, entity, action FROM makini_events WHERE id = '$1'"
}
# The number of rows whose delivery key is $1.
pg_rows_of() {
	sql "SELECT count(*) FROM makini_events WHERE delivery_key = '$1'"
}
rows_are() {
	[ "$(pg_rows_of "$1")" = "$2" ]
}
# expect_row FILE ID "event|entity|action": row ID holds the delivery key
# of stored event ID (its id), those names, and FILE's JSON value.
expect_row() {
	printf '%s|%s\n' "$2" "$3" >expect &&
	pg_row "$2" >actual && test_cmp expect actual &&
	sql "SELECT body FROM makini_events WHERE id = '$2'" >actual.json &&
	same_json "$1" actual.json
}

if [ -x "$PG_BIN/initdb" ] && command -v psql >/dev/null; then
mkdir -p "$PGDIR" hooks-pg
[ "$(id -u)" != 0 ] || chown "$DB_USER" "$PGDIR"
ln -s "$SRCDIR/hooks/postgresql" hooks-pg/default
test_at_exit 'pg_ctl -m immediate stop >/dev/null 2>&1'

test_expect_success 'postgres: a server of our own starts, with the shipped table' '
	pg_init && pg_ctl -w -l "$PGDIR/log" start &&
	psql -X -q -h "$PGDIR" -U makini -d postgres -c "CREATE DATABASE makini" &&
	psql -X -q -v ON_ERROR_STOP=1 -h "$PGDIR" -U makini -d makini \
		-f "$SRCDIR/hooks/postgresql.sql" &&
	sql "CREATE ROLE makini_hook LOGIN" &&
	sql "GRANT INSERT ON makini_events TO makini_hook" &&
	# A hook that did not say its bytes are UTF-8 would see them taken
	# as Latin-1 and garbled.
	sql "ALTER ROLE makini_hook SET client_encoding TO LATIN1"
'

test_expect_success 'postgres: the table in the hook is the one in postgresql.sql' '
	sed -n "/^CREATE TABLE/,/^);/p" "$SRCDIR/hooks/postgresql.sql" >expect &&
	sed -n "/^# CREATE TABLE/,/^# );/s/^# //p" "$SRCDIR/hooks/postgresql" >actual &&
	[ -s expect ] && test_cmp expect actual
'

# The one statement that migrates a table made by an older version, as
# hooks/postgresql.sql and the documents give it.
test_expect_success 'postgres: the documented migration drops the old UNIQUE on delivery_key' '
	stmt=$(sed -n "s/^--   \(ALTER TABLE makini_events .*;\)$/\1/p" \
		"$SRCDIR/hooks/postgresql.sql") &&
	[ -n "$stmt" ] && q=$(printf "\047") &&
	grep -rqF "${stmt%;}" "$SRCDIR/README.md" $(ls -d "$SRCDIR/docs" 2>/dev/null) &&
	grep -qF "$stmt" "$SRCDIR/hooks/postgresql" &&
	psql -X -q -h "$PGDIR" -U makini -d postgres -c "CREATE DATABASE legacy" &&
	psql -X -q -v ON_ERROR_STOP=1 -h "$PGDIR" -U makini -d legacy \
		-c "CREATE TABLE makini_events (id text PRIMARY KEY,
			delivery_key text UNIQUE, event text NOT NULL,
			entity text NOT NULL, action text NOT NULL,
			body jsonb NOT NULL)" \
		-c "INSERT INTO makini_events VALUES (1, ${q}k$q, ${q}a.b$q, ${q}a$q, ${q}b$q, ${q}{}$q)" \
		-c "$stmt" \
		-c "INSERT INTO makini_events VALUES (2, ${q}k$q, ${q}a.b$q, ${q}a$q, ${q}b$q, ${q}{}$q)" &&
	[ "$(psql -X -A -t -h "$PGDIR" -U makini -d legacy \
		-c "SELECT count(*) FROM makini_events")" = 2 ]
'

test_expect_success 'postgres: events of several types become rows, bodies intact' '
	case_start spool-pg &&
	id1=$(pg_post wo-1.json) && id2=$(pg_post asset.json) &&
	id3=$(pg_post tricky.json) && id4=$(pg_post wo-del.json) &&
	wait_done work_orders "$id1" spool-pg &&
	wait_done assets "$id2" spool-pg &&
	wait_done purchase_orders "$id3" spool-pg &&
	wait_done work_orders "$id4" spool-pg &&
	# Each ran once, at once: no attempt failed.
	done_lines spool-pg 4 &&
	log_has spool-pg "failed" 0 &&
	expect_row wo-1.json "$id1" "work_orders.updated|work_orders|updated" &&
	expect_row asset.json "$id2" "assets.inserted|assets|inserted" &&
	expect_row tricky.json "$id3" \
		"purchase_orders.inserted|purchase_orders|inserted" &&
	expect_row wo-del.json "$id4" "work_orders.deleted|work_orders|deleted" &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 4 ] &&
	[ ! -e hooks-pg/pwned ]
'

test_expect_success 'postgres: a body of almost 1 MiB is stored whole' '
	case_start spool-pg &&
	[ "$(wc -c <big.json)" -gt 900000 ] &&
	id=$(pg_post big.json) &&
	wait_done materials "$id" spool-pg &&
	done_lines spool-pg 1 &&
	expect_row big.json "$id" "materials.updated|materials|updated"
'

# A record changed twice: Makini sends the same bytes twice, and both are
# real changes.
test_expect_success 'postgres: the same bytes twice, the first done before the second arrives, give two rows' '
	case_start spool-pg &&
	sql "TRUNCATE makini_events" &&
	id1=$(pg_post wo-2.json) && wait_done work_orders "$id1" spool-pg &&
	id2=$(pg_post wo-2.json) && wait_done work_orders "$id2" spool-pg &&
	[ "$id1" != "$id2" ] &&
	done_lines spool-pg 2 &&
	expect_row wo-2.json "$id1" "work_orders.updated|work_orders|updated" &&
	expect_row wo-2.json "$id2" "work_orders.updated|work_orders|updated" &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 2 ]
'

if test_have_prereq UNSHARE; then
test_expect_success 'postgres: a runner killed after the commit; the rerun by a drain on another host keeps the key, one row' '
	case_start spool-pg &&
	sql "TRUNCATE makini_events" && rm -f keys &&
	kill_after_hook "$TRASH/hooks-pg-kill" postgresql &&
	id=$(pg_post asset.json MAKINI_WEBHOOK_HOOKS="$TRASH/hooks-pg-kill") &&
	wait_for rows_are "$id" 1 && wait_for no_runner &&
	ls "spool-pg/assets/new/$id.json.claim."* &&
	sleep 2 &&
	drain_as host-b $PG_QUEUE $PG_ENV \
		MAKINI_WEBHOOK_HOOKS="$TRASH/hooks-pg-kill" \
		MAKINI_WEBHOOK_CLAIM_TIMEOUT=1 &&
	expect_rerun_keeps_key assets "$id" spool-pg &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 1 ] &&
	expect_row asset.json "$id" "assets.inserted|assets|inserted"
'
else
	test_skip 'postgres: a runner killed after the commit; the rerun by a drain on another host keeps the key, one row (needs root and unshare -u)'
fi

test_expect_success 'postgres: under FastCGI the variables may come from the process environment' '
	case_start spool-pg &&
	sql "TRUNCATE makini_events" &&
	# As lighttpd bin-environment and mod_fcgid FcgidInitialEnv pass them.
	# shellcheck disable=SC2086
	fcgi_start MAKINI_WEBHOOK_SECRET="$SECRET" $PG_QUEUE $PG_ENV &&
	fcgi_post asset-2.json && expect_status 200 && id=$(answer_id) &&
	wait_done assets "$id" spool-pg &&
	fcgi_stop &&
	expect_row asset-2.json "$id" "assets.updated|assets|updated"
'

# The deliveries say MAKINI_WEBHOOK_RETRY_DELAY=6: the runners retry by
# themselves, soon, but late enough for the checks of the waiting events
# to see their first attempt while the server is down.
test_expect_success 'postgres: stopped midway, events wait; back, each is stored once' '
	case_start spool-pg &&
	sql "TRUNCATE makini_events" &&
	# Every delivery carries the delay, as a server passes the same
	# variables to all: the runner the first one starts may run the rest.
	retry=MAKINI_WEBHOOK_RETRY_DELAY=6 &&
	id1=$(pg_post wo-1.json $retry) && wait_done work_orders "$id1" spool-pg &&
	pg_ctl -w -m fast stop &&
	id2=$(pg_post wo-del.json $retry) && id3=$(pg_post asset.json $retry) &&
	id4=$(pg_post wo-1.json $retry) && id5=$(pg_post tricky.json $retry) &&
	wait_pending work_orders "$id2" spool-pg 1 &&
	wait_pending assets "$id3" spool-pg 1 &&
	wait_pending work_orders "$id4" spool-pg 1 &&
	wait_pending purchase_orders "$id5" spool-pg 1 &&
	grep -q "^error hook default exited with status 2" \
		"spool-pg/assets/new/$id3.state" &&
	grep -q "hook default: psql: error: connection to server" \
		spool-pg/queue.log &&
	done_lines spool-pg 1 &&
	pg_ctl -w -l "$PGDIR/log" start &&
	# The runners retry by themselves once the delay is over.
	for e in "work_orders $id1" "work_orders $id2" "assets $id3" \
		"work_orders $id4" "purchase_orders $id5"; do
		wait_done $e spool-pg || exit 1
	done &&
	done_lines spool-pg 5 &&
	for id in "$id1" "$id2" "$id3" "$id4" "$id5"; do
		[ "$(pg_rows_of "$id")" = 1 ] || { echo "not one row: $id"; exit 1; }
	done &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 5 ] &&
	expect_row wo-1.json "$id4" "work_orders.updated|work_orders|updated" &&
	expect_row wo-1.json "$id1" "work_orders.updated|work_orders|updated" &&
	expect_row tricky.json "$id5" \
		"purchase_orders.inserted|purchase_orders|inserted"
'

test_expect_success 'postgres: a bad connection setting fails the hook, nothing stored' '
	case_start spool-pg &&
	sql "TRUNCATE makini_events" &&
	# A delay far beyond how long a runner stays: it tries once only.
	id=$(pg_post asset-2.json PGHOST="$TRASH/nowhere" \
		MAKINI_WEBHOOK_RETRY_DELAY=3600) &&
	wait_pending assets "$id" spool-pg 1 &&
	grep -q "^error hook default exited with status 2" \
		"spool-pg/assets/new/$id.state" &&
	grep -q "hook default: psql: error: connection to server on socket \"$TRASH/nowhere/" \
		spool-pg/queue.log &&
	test_must_fail env -i PATH="$PATH" PGHOST="$PGDIR" PGUSER=makini_hook \
		PGDATABASE=no_such_db MAKINI_EVENT=assets.updated \
		MAKINI_ENTITY=assets MAKINI_ACTION=updated MAKINI_EVENT_ID=x \
		MAKINI_DELIVERY_KEY=k "$SRCDIR/hooks/postgresql" <asset-2.json &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 0 ] &&
	# The setting fixed (the runner with the bad one ended), a drain
	# runs the event once it is due: removing its state stands for the
	# wait.
	stop_runners &&
	rm "spool-pg/assets/new/$id.state" &&
	pg_drain && grep -q "1 done" drain.out &&
	expect_done assets "$id" spool-pg &&
	expect_row asset-2.json "$id" "assets.updated|assets|updated"
'

test_expect_success 'postgres: a body jsonb cannot hold (\u0000) fails the hook, each attempt' '
	case_start spool-pg &&
	sql "TRUNCATE makini_events" &&
	printf "{\"event\":\"assets.updated\",\"x\":\"a\\\\u0000b\"}" >nul.json &&
	grep -q "u0000" nul.json &&
	id=$(pg_post nul.json MAKINI_WEBHOOK_MAX_ATTEMPTS=2 \
		MAKINI_WEBHOOK_RETRY_DELAY=0) &&
	wait_for expect_failed assets "$id" spool-pg 2 &&
	grep -q "^error hook default exited with status 3" \
		"spool-pg/assets/failed/$id.error" &&
	log_has spool-pg "queue $id: attempt 1 failed" 1 &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 0 ]
'

test_expect_success 'postgres: without MAKINI_DELIVERY_KEY the hook exits 2' '
	expect_needs_delivery_key "$SRCDIR/hooks/postgresql"
'
else
	test_skip "postgres: no $PG_BIN/initdb or psql (apt-get install postgresql)"
fi

rcli() {
	redis-cli -s "$REDIS_DIR/sock" "$@"
}
# Starts Redis on its socket, with an append-only file so that what it
# held comes back after a shutdown, and waits until it answers.
redis_start() {
	redis-server --port 0 --unixsocket "$REDIS_DIR/sock" --dir "$REDIS_DIR" \
		--save "" --appendonly yes --daemonize no \
		>>"$REDIS_DIR/log" 2>&1 &
	echo $! >"$REDIS_DIR/pid"
	for _ in $(seq 50); do
		[ "$(rcli PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.1
	done
	echo "redis did not start"
	cat "$REDIS_DIR/log"
	return 1
}
# redis_entry STREAM EVENT_ID [FIELD]: of the entry for that event, the
# field FIELD, else "id|event|entity|action|delivery_key".
REDIS_FIND='
for _, e in ipairs(redis.call("XRANGE", KEYS[1], "-", "+")) do
	local f = {}
	for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end
	if f.id == ARGV[1] then
		if ARGV[2] then return f[ARGV[2]] end
		return table.concat({f.id, f.event, f.entity, f.action,
			f.delivery_key}, "|")
	end
end
return "no entry for " .. ARGV[1]'
redis_entry() {
	rcli EVAL "$REDIS_FIND" 1 "$@"
}
# The delivery keys in stream $1, one a line.
redis_keys() {
	rcli EVAL 'local keys = {}
for _, e in ipairs(redis.call("XRANGE", KEYS[1], "-", "+")) do
	for i = 1, #e[2], 2 do
		if e[2][i] == "delivery_key" then keys[#keys + 1] = e[2][i + 1] end
	end
end
return keys' 1 "$1"
}
entries_are() {
	[ "$(rcli XLEN "$1")" = "$2" ]
}
# expect_entry FILE STREAM ID "event|entity|action": its fields, and the
# body byte for byte (redis-cli adds a newline).
expect_entry() {
	printf '%s|%s|%s\n' "$3" "$4" "$3" >expect &&
	redis_entry "$2" "$3" >actual && test_cmp expect actual &&
	{ cat "$1" && echo; } >expect &&
	redis_entry "$2" "$3" body >actual && test_cmp expect actual
}

REDIS_QUEUE="MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=$TRASH/hooks-redis MAKINI_WEBHOOK_SPOOL=$TRASH/spool-redis"
REDIS_ENV="MAKINI_WEBHOOK_HOOK_ENV=REDIS_SOCKET,REDIS_HOST,REDIS_PORT,MAKINI_REDIS_PREFIX REDIS_SOCKET=$REDIS_DIR/sock"
# redis_post FILE [VAR=value...]: as pg_post, with REDIS_ENV.
redis_post() {
	redis_file=$1
	shift
	# shellcheck disable=SC2086
	post "$redis_file" $REDIS_QUEUE $REDIS_ENV "$@"
}
redis_drain() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $REDIS_QUEUE $REDIS_ENV "$@" "$BIN" drain \
		>drain.out 2>drain.err
}

if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
mkdir -p "$REDIS_DIR" hooks-redis
ln -s "$SRCDIR/hooks/redis-stream" hooks-redis/default
test_at_exit 'kill "$(cat "$REDIS_DIR/pid" 2>/dev/null)" 2>/dev/null'

test_expect_success 'redis: a server of our own starts' '
	redis_start
'

test_expect_success 'redis: events of several types become stream entries, bytes intact' '
	case_start spool-redis &&
	id1=$(redis_post wo-1.json) && id2=$(redis_post asset.json) &&
	id3=$(redis_post tricky.json) && id4=$(redis_post wo-del.json) &&
	wait_done work_orders "$id1" spool-redis &&
	wait_done assets "$id2" spool-redis &&
	wait_done purchase_orders "$id3" spool-redis &&
	wait_done work_orders "$id4" spool-redis &&
	done_lines spool-redis 4 &&
	log_has spool-redis "failed" 0 &&
	expect_entry wo-1.json makini:work_orders "$id1" "work_orders.updated|work_orders|updated" &&
	expect_entry asset.json makini:assets "$id2" "assets.inserted|assets|inserted" &&
	expect_entry tricky.json makini:purchase_orders "$id3" \
		"purchase_orders.inserted|purchase_orders|inserted" &&
	expect_entry wo-del.json makini:work_orders "$id4" "work_orders.deleted|work_orders|deleted" &&
	[ "$(rcli XLEN makini:work_orders)" = 2 ] &&
	[ "$(rcli XLEN makini:assets)" = 1 ] &&
	[ "$(rcli XLEN makini:purchase_orders)" = 1 ] &&
	grep -q "hook default: makini:assets: added [0-9]*-[0-9]*$" \
		spool-redis/queue.log
'

test_expect_success 'redis: a body of almost 1 MiB is added whole' '
	case_start spool-redis &&
	id=$(redis_post big.json) &&
	wait_done materials "$id" spool-redis &&
	done_lines spool-redis 1 &&
	expect_entry big.json makini:materials "$id" "materials.updated|materials|updated"
'

test_expect_success 'redis: the same bytes twice, the first done before the second arrives, give two entries' '
	case_start spool-redis &&
	rcli FLUSHALL >/dev/null &&
	id1=$(redis_post wo-2.json) && wait_done work_orders "$id1" spool-redis &&
	id2=$(redis_post wo-2.json) && wait_done work_orders "$id2" spool-redis &&
	[ "$id1" != "$id2" ] &&
	done_lines spool-redis 2 &&
	expect_entry wo-2.json makini:work_orders "$id1" "work_orders.updated|work_orders|updated" &&
	expect_entry wo-2.json makini:work_orders "$id2" "work_orders.updated|work_orders|updated" &&
	[ "$(rcli XLEN makini:work_orders)" = 2 ] &&
	log_has spool-redis "already added as" 0
'

if test_have_prereq UNSHARE; then
test_expect_success 'redis: a runner killed after the add; the rerun by a drain on another host keeps the key, one entry' '
	case_start spool-redis &&
	rcli FLUSHALL >/dev/null && rm -f keys &&
	kill_after_hook "$TRASH/hooks-redis-kill" redis-stream &&
	id=$(redis_post asset.json MAKINI_WEBHOOK_HOOKS="$TRASH/hooks-redis-kill") &&
	wait_for entries_are makini:assets 1 && wait_for no_runner &&
	ls "spool-redis/assets/new/$id.json.claim."* &&
	sleep 2 &&
	drain_as host-b $REDIS_QUEUE $REDIS_ENV \
		MAKINI_WEBHOOK_HOOKS="$TRASH/hooks-redis-kill" \
		MAKINI_WEBHOOK_CLAIM_TIMEOUT=1 &&
	expect_rerun_keeps_key assets "$id" spool-redis &&
	grep -q "hook default: makini:assets: $id already added as" drain.err &&
	[ "$(rcli XLEN makini:assets)" = 1 ] &&
	expect_entry asset.json makini:assets "$id" "assets.inserted|assets|inserted"
'
else
	test_skip 'redis: a runner killed after the add; the rerun by a drain on another host keeps the key, one entry (needs root and unshare -u)'
fi

test_expect_success 'redis: the key prefix is MAKINI_REDIS_PREFIX' '
	case_start spool-redis &&
	rcli FLUSHALL >/dev/null &&
	id=$(redis_post asset.json MAKINI_REDIS_PREFIX="{mk}:") &&
	wait_done assets "$id" spool-redis &&
	expect_entry asset.json "{mk}:assets" "$id" "assets.inserted|assets|inserted" &&
	[ "$(rcli EXISTS "{mk}:seen:$id")" = 1 ] &&
	[ "$(rcli EXISTS makini:assets)" = 0 ]
'

# MAKINI_WEBHOOK_RETRY_DELAY=6 as for postgres.
test_expect_success 'redis: shut down midway, events wait; back, each is added once' '
	case_start spool-redis &&
	rcli FLUSHALL >/dev/null &&
	retry=MAKINI_WEBHOOK_RETRY_DELAY=6 &&
	id1=$(redis_post wo-1.json $retry) &&
	wait_done work_orders "$id1" spool-redis &&
	{ rcli SHUTDOWN >/dev/null 2>&1 || :; } &&
	wait_for test_must_fail rcli PING &&
	id2=$(redis_post wo-del.json $retry) && id3=$(redis_post asset.json $retry) &&
	id4=$(redis_post wo-1.json $retry) && id5=$(redis_post tricky.json $retry) &&
	wait_pending work_orders "$id2" spool-redis 1 &&
	wait_pending assets "$id3" spool-redis 1 &&
	wait_pending work_orders "$id4" spool-redis 1 &&
	wait_pending purchase_orders "$id5" spool-redis 1 &&
	grep -q "^error hook default exited with status 1" \
		"spool-redis/assets/new/$id3.state" &&
	grep -q "hook default: Could not connect to Redis" spool-redis/queue.log &&
	done_lines spool-redis 1 &&
	redis_start &&
	# The runners retry by themselves once the delay is over.
	for e in "work_orders $id1" "work_orders $id2" "assets $id3" \
		"work_orders $id4" "purchase_orders $id5"; do
		wait_done $e spool-redis || exit 1
	done &&
	done_lines spool-redis 5 &&
	printf "%s\n" "$id1" "$id2" "$id4" | sort >expect &&
	redis_keys makini:work_orders | sort >actual && test_cmp expect actual &&
	echo "$id3" >expect &&
	redis_keys makini:assets >actual && test_cmp expect actual &&
	echo "$id5" >expect &&
	redis_keys makini:purchase_orders >actual && test_cmp expect actual &&
	expect_entry wo-1.json makini:work_orders "$id1" "work_orders.updated|work_orders|updated" &&
	expect_entry tricky.json makini:purchase_orders "$id5" \
		"purchase_orders.inserted|purchase_orders|inserted"
'

test_expect_success 'redis: a bad connection setting fails the hook, nothing added' '
	case_start spool-redis &&
	rcli FLUSHALL >/dev/null &&
	port=$(test_free_port) &&
	# A delay far beyond how long a runner stays: it tries once only.
	id=$(redis_post asset-2.json REDIS_SOCKET= REDIS_HOST=127.0.0.1 \
		REDIS_PORT="$port" MAKINI_WEBHOOK_RETRY_DELAY=3600) &&
	wait_pending assets "$id" spool-redis 1 &&
	grep -q "^error hook default exited with status 1" \
		"spool-redis/assets/new/$id.state" &&
	grep -q "Could not connect to Redis at 127.0.0.1:$port" \
		spool-redis/queue.log &&
	[ "$(rcli DBSIZE)" = 0 ] &&
	# As for postgres: the setting fixed, a drain runs it once due.
	stop_runners &&
	rm "spool-redis/assets/new/$id.state" &&
	redis_drain && grep -q "1 done" drain.out &&
	expect_done assets "$id" spool-redis &&
	expect_entry asset-2.json makini:assets "$id" "assets.updated|assets|updated"
'

test_expect_success 'redis: an error reply fails the hook, and leaves no seen key' '
	case_start spool-redis &&
	rcli FLUSHALL >/dev/null && rcli SET makini:assets not-a-stream >/dev/null &&
	id=$(redis_post asset.json MAKINI_WEBHOOK_RETRY_DELAY=3600) &&
	wait_pending assets "$id" spool-redis 1 &&
	grep -q "^error hook default exited with status 1" \
		"spool-redis/assets/new/$id.state" &&
	grep -q "hook default: redis: WRONGTYPE" spool-redis/queue.log &&
	[ "$(rcli DBSIZE)" = 1 ] &&
	rcli DEL makini:assets >/dev/null &&
	# The stream fixed, a drain runs the event once it is due.
	stop_runners &&
	rm "spool-redis/assets/new/$id.state" &&
	redis_drain && grep -q "1 done" drain.out &&
	expect_done assets "$id" spool-redis &&
	expect_entry asset.json makini:assets "$id" "assets.inserted|assets|inserted"
'

test_expect_success 'redis: without MAKINI_DELIVERY_KEY the hook exits 2' '
	expect_needs_delivery_key "$SRCDIR/hooks/redis-stream"
'
else
	test_skip "redis: no redis-server or redis-cli (apt-get install redis-server redis-tools)"
fi

test_done
