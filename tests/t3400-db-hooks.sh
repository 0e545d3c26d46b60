#!/bin/sh
# The example hooks hooks/postgresql and hooks/redis-stream, as shipped, in
# queue mode against a real PostgreSQL and a real Redis started here, each
# listening on a Unix socket in $TRASH only.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/cgi-lib.sh"
. "$SRCDIR/tests/fcgi-lib.sh"

PG_BIN=/usr/lib/postgresql/15/bin
PGDIR=$TRASH/pg
REDIS_DIR=$TRASH/redis

test_failure_hook() {
	for log in drain.err "$PGDIR/log" "$REDIS_DIR/log"; do
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

delivery_key() {
	sha256sum <"$1" | cut -d" " -f1
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

# Fails unless event $2 of type $1 waits in $3/<type>/new/ after $4
# attempts.
expect_pending() {
	[ -f "$3/$1/new/$2.json" ] || { echo "$2 not in new/"; return 1; }
	grep -qx "attempts $4" "$3/$1/new/$2.state" || {
		echo "$2: want attempts $4"; cat "$3/$1/new/$2.state"; return 1
	}
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
pg_post() {
	# shellcheck disable=SC2086
	post "$1" $PG_QUEUE
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
# The number of rows whose delivery key is that of file $1.
pg_rows_of() {
	sql "SELECT count(*) FROM makini_events WHERE delivery_key = '$(delivery_key "$1")'"
}
# expect_row FILE ID "event|entity|action": row ID holds FILE's delivery
# key, those names, and FILE's JSON value.
expect_row() {
	printf '%s|%s\n' "$(delivery_key "$1")" "$3" >expect &&
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

test_expect_success 'postgres: events of several types become rows, bodies intact' '
	id1=$(pg_post wo-1.json) && id2=$(pg_post asset.json) &&
	id3=$(pg_post tricky.json) && id4=$(pg_post wo-del.json) &&
	pg_drain && grep -q "4 done" drain.out &&
	expect_row wo-1.json "$id1" "work_orders.updated|work_orders|updated" &&
	expect_row asset.json "$id2" "assets.inserted|assets|inserted" &&
	expect_row tricky.json "$id3" \
		"purchase_orders.inserted|purchase_orders|inserted" &&
	expect_row wo-del.json "$id4" "work_orders.deleted|work_orders|deleted" &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 4 ] &&
	[ ! -e hooks-pg/pwned ] &&
	expect_done purchase_orders "$id3" spool-pg
'

test_expect_success 'postgres: a body of almost 1 MiB is stored whole' '
	[ "$(wc -c <big.json)" -gt 900000 ] &&
	id=$(pg_post big.json) &&
	pg_drain && grep -q "1 done" drain.out &&
	expect_row big.json "$id" "materials.updated|materials|updated"
'

test_expect_success 'postgres: the same bytes delivered twice give one row' '
	sql "TRUNCATE makini_events" &&
	id1=$(pg_post wo-2.json) && id2=$(pg_post wo-2.json) &&
	[ "$id1" != "$id2" ] &&
	pg_drain && grep -q "2 done" drain.out &&
	expect_done work_orders "$id1" spool-pg &&
	expect_done work_orders "$id2" spool-pg &&
	expect_row wo-2.json "$id1" "work_orders.updated|work_orders|updated" &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 1 ]
'

test_expect_success 'postgres: under FastCGI the variables may come from the process environment' '
	sql "TRUNCATE makini_events" &&
	# As lighttpd bin-environment and mod_fcgid FcgidInitialEnv pass them.
	# shellcheck disable=SC2086
	fcgi_start MAKINI_WEBHOOK_SECRET="$SECRET" $PG_QUEUE $PG_ENV &&
	fcgi_post asset-2.json && expect_status 200 && id=$(answer_id) &&
	for _ in $(seq 50); do
		[ -f "spool-pg/assets/cur/$id.json" ] && break; sleep 0.1
	done &&
	fcgi_stop &&
	expect_done assets "$id" spool-pg &&
	expect_row asset-2.json "$id" "assets.updated|assets|updated"
'

test_expect_success 'postgres: stopped midway, events wait; back, each is stored once' '
	sql "TRUNCATE makini_events" &&
	# The hook for work_orders.deleted stops the server first.
	cat >hooks-pg/work_orders.deleted <<-EOF &&
	#!/bin/sh
	$AS_DB_USER $PG_BIN/pg_ctl -D "$PGDIR/data" -s -m fast stop
	exec "$SRCDIR/hooks/postgresql"
	EOF
	chmod +x hooks-pg/work_orders.deleted &&
	id1=$(pg_post wo-1.json) && id2=$(pg_post wo-del.json) &&
	id3=$(pg_post asset.json) && id4=$(pg_post wo-1.json) &&
	id5=$(pg_post tricky.json) &&
	pg_drain MAKINI_WEBHOOK_RETRY_DELAY=0 &&
	grep -q "1 done, 4 to retry" drain.out &&
	expect_pending work_orders "$id2" spool-pg 1 &&
	expect_pending assets "$id3" spool-pg 1 &&
	expect_pending work_orders "$id4" spool-pg 1 &&
	expect_pending purchase_orders "$id5" spool-pg 1 &&
	grep -q "^error hook default exited with status 2" \
		"spool-pg/assets/new/$id3.state" &&
	grep -q "hook default: psql: error: connection to server" drain.err &&
	rm hooks-pg/work_orders.deleted &&
	pg_ctl -w -l "$PGDIR/log" start &&
	pg_drain MAKINI_WEBHOOK_RETRY_DELAY=0 && grep -q "4 done" drain.out &&
	for e in "work_orders $id1" "work_orders $id2" "assets $id3" \
		"work_orders $id4" "purchase_orders $id5"; do
		expect_done $e spool-pg || exit 1
	done &&
	for f in wo-1.json wo-del.json asset.json tricky.json; do
		[ "$(pg_rows_of $f)" = 1 ] || { echo "not one row: $f"; exit 1; }
	done &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 4 ] &&
	expect_row wo-1.json "$id1" "work_orders.updated|work_orders|updated" &&
	expect_row tricky.json "$id5" \
		"purchase_orders.inserted|purchase_orders|inserted"
'

test_expect_success 'postgres: a bad connection setting fails the hook, nothing stored' '
	sql "TRUNCATE makini_events" &&
	id=$(pg_post asset-2.json) &&
	pg_drain PGHOST="$TRASH/nowhere" && grep -q "1 to retry" drain.out &&
	grep -q "^error hook default exited with status 2" \
		"spool-pg/assets/new/$id.state" &&
	test_must_fail env -i PATH="$PATH" PGHOST="$PGDIR" PGUSER=makini_hook \
		PGDATABASE=no_such_db MAKINI_EVENT=assets.updated \
		MAKINI_ENTITY=assets MAKINI_ACTION=updated MAKINI_EVENT_ID=x \
		MAKINI_DELIVERY_KEY=k "$SRCDIR/hooks/postgresql" <asset-2.json &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 0 ] &&
	rm "spool-pg/assets/new/$id.state" &&
	pg_drain && grep -q "1 done" drain.out &&
	expect_row asset-2.json "$id" "assets.updated|assets|updated"
'

test_expect_success 'postgres: a body jsonb cannot hold (\u0000) fails the hook' '
	sql "TRUNCATE makini_events" &&
	printf "{\"event\":\"assets.updated\",\"x\":\"a\\\\u0000b\"}" >nul.json &&
	grep -q "u0000" nul.json &&
	id=$(pg_post nul.json) &&
	pg_drain && grep -q "1 to retry" drain.out &&
	grep -q "^error hook default exited with status 3" \
		"spool-pg/assets/new/$id.state" &&
	[ "$(sql "SELECT count(*) FROM makini_events")" = 0 ] &&
	rm "spool-pg/assets/new/$id.json" "spool-pg/assets/new/$id.state"
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
# expect_entry FILE STREAM ID "event|entity|action": its fields, and the
# body byte for byte (redis-cli adds a newline).
expect_entry() {
	printf '%s|%s|%s\n' "$3" "$4" "$(delivery_key "$1")" >expect &&
	redis_entry "$2" "$3" >actual && test_cmp expect actual &&
	{ cat "$1" && echo; } >expect &&
	redis_entry "$2" "$3" body >actual && test_cmp expect actual
}

REDIS_QUEUE="MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=$TRASH/hooks-redis MAKINI_WEBHOOK_SPOOL=$TRASH/spool-redis"
REDIS_ENV="MAKINI_WEBHOOK_HOOK_ENV=REDIS_SOCKET,REDIS_HOST,REDIS_PORT,MAKINI_REDIS_PREFIX REDIS_SOCKET=$REDIS_DIR/sock"
redis_post() {
	# shellcheck disable=SC2086
	post "$1" $REDIS_QUEUE
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
	id1=$(redis_post wo-1.json) && id2=$(redis_post asset.json) &&
	id3=$(redis_post tricky.json) && id4=$(redis_post wo-del.json) &&
	redis_drain && grep -q "4 done" drain.out &&
	expect_entry wo-1.json makini:work_orders "$id1" "work_orders.updated|work_orders|updated" &&
	expect_entry asset.json makini:assets "$id2" "assets.inserted|assets|inserted" &&
	expect_entry tricky.json makini:purchase_orders "$id3" \
		"purchase_orders.inserted|purchase_orders|inserted" &&
	expect_entry wo-del.json makini:work_orders "$id4" "work_orders.deleted|work_orders|deleted" &&
	[ "$(rcli XLEN makini:work_orders)" = 2 ] &&
	[ "$(rcli XLEN makini:assets)" = 1 ] &&
	[ "$(rcli XLEN makini:purchase_orders)" = 1 ] &&
	grep -q "hook default: makini:assets: added [0-9]*-[0-9]*$" drain.err &&
	expect_done purchase_orders "$id3" spool-redis
'

test_expect_success 'redis: a body of almost 1 MiB is added whole' '
	id=$(redis_post big.json) &&
	redis_drain && grep -q "1 done" drain.out &&
	expect_entry big.json makini:materials "$id" "materials.updated|materials|updated"
'

test_expect_success 'redis: the same bytes delivered twice give one entry' '
	rcli FLUSHALL >/dev/null &&
	id1=$(redis_post wo-2.json) && id2=$(redis_post wo-2.json) &&
	[ "$id1" != "$id2" ] &&
	redis_drain && grep -q "2 done" drain.out &&
	expect_done work_orders "$id1" spool-redis &&
	expect_done work_orders "$id2" spool-redis &&
	expect_entry wo-2.json makini:work_orders "$id1" "work_orders.updated|work_orders|updated" &&
	[ "$(rcli XLEN makini:work_orders)" = 1 ] &&
	grep -q "already added as" drain.err
'

test_expect_success 'redis: the key prefix is MAKINI_REDIS_PREFIX' '
	rcli FLUSHALL >/dev/null &&
	id=$(redis_post asset.json) &&
	redis_drain MAKINI_REDIS_PREFIX="{mk}:" && grep -q "1 done" drain.out &&
	expect_entry asset.json "{mk}:assets" "$id" "assets.inserted|assets|inserted" &&
	[ "$(rcli EXISTS "{mk}:seen:$(delivery_key asset.json)")" = 1 ] &&
	[ "$(rcli EXISTS makini:assets)" = 0 ]
'

test_expect_success 'redis: shut down midway, events wait; back, each is added once' '
	rcli FLUSHALL >/dev/null &&
	# The hook for work_orders.deleted shuts the server down first.
	cat >hooks-redis/work_orders.deleted <<-EOF &&
	#!/bin/sh
	redis-cli -s "$REDIS_DIR/sock" SHUTDOWN >/dev/null 2>&1
	while redis-cli -s "$REDIS_DIR/sock" PING >/dev/null 2>&1; do sleep 0.1; done
	exec "$SRCDIR/hooks/redis-stream"
	EOF
	chmod +x hooks-redis/work_orders.deleted &&
	id1=$(redis_post wo-1.json) && id2=$(redis_post wo-del.json) &&
	id3=$(redis_post asset.json) && id4=$(redis_post wo-1.json) &&
	id5=$(redis_post tricky.json) &&
	redis_drain MAKINI_WEBHOOK_RETRY_DELAY=0 &&
	grep -q "1 done, 4 to retry" drain.out &&
	expect_pending work_orders "$id2" spool-redis 1 &&
	expect_pending assets "$id3" spool-redis 1 &&
	expect_pending work_orders "$id4" spool-redis 1 &&
	expect_pending purchase_orders "$id5" spool-redis 1 &&
	grep -q "^error hook default exited with status 1" \
		"spool-redis/assets/new/$id3.state" &&
	grep -q "hook default: Could not connect to Redis" drain.err &&
	rm hooks-redis/work_orders.deleted &&
	redis_start &&
	redis_drain MAKINI_WEBHOOK_RETRY_DELAY=0 && grep -q "4 done" drain.out &&
	for e in "work_orders $id1" "work_orders $id2" "assets $id3" \
		"work_orders $id4" "purchase_orders $id5"; do
		expect_done $e spool-redis || exit 1
	done &&
	{ delivery_key wo-1.json && delivery_key wo-del.json; } | sort >expect &&
	redis_keys makini:work_orders | sort >actual && test_cmp expect actual &&
	delivery_key asset.json >expect &&
	redis_keys makini:assets >actual && test_cmp expect actual &&
	delivery_key tricky.json >expect &&
	redis_keys makini:purchase_orders >actual && test_cmp expect actual &&
	expect_entry wo-1.json makini:work_orders "$id1" "work_orders.updated|work_orders|updated" &&
	expect_entry tricky.json makini:purchase_orders "$id5" \
		"purchase_orders.inserted|purchase_orders|inserted"
'

test_expect_success 'redis: a bad connection setting fails the hook, nothing added' '
	rcli FLUSHALL >/dev/null &&
	id=$(redis_post asset-2.json) &&
	port=$(test_free_port) &&
	redis_drain REDIS_SOCKET= REDIS_HOST=127.0.0.1 REDIS_PORT="$port" &&
	grep -q "1 to retry" drain.out &&
	grep -q "^error hook default exited with status 1" \
		"spool-redis/assets/new/$id.state" &&
	grep -q "Could not connect to Redis at 127.0.0.1:$port" drain.err &&
	[ "$(rcli DBSIZE)" = 0 ] &&
	rm "spool-redis/assets/new/$id.state" &&
	redis_drain && grep -q "1 done" drain.out &&
	expect_entry asset-2.json makini:assets "$id" "assets.updated|assets|updated"
'

test_expect_success 'redis: an error reply fails the hook, and leaves no seen key' '
	rcli FLUSHALL >/dev/null && rcli SET makini:assets not-a-stream >/dev/null &&
	id=$(redis_post asset.json) &&
	redis_drain && grep -q "1 to retry" drain.out &&
	grep -q "hook default: redis: WRONGTYPE" drain.err &&
	[ "$(rcli DBSIZE)" = 1 ] &&
	rcli DEL makini:assets >/dev/null &&
	rm "spool-redis/assets/new/$id.state" &&
	redis_drain && grep -q "1 done" drain.out &&
	expect_entry asset.json makini:assets "$id" "assets.inserted|assets|inserted"
'

test_expect_success 'redis: without MAKINI_DELIVERY_KEY the hook exits 2' '
	expect_needs_delivery_key "$SRCDIR/hooks/redis-stream"
'
else
	test_skip "redis: no redis-server or redis-cli (apt-get install redis-server redis-tools)"
fi

test_done
