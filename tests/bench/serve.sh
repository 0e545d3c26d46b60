# Server start-up for the benchmark, kept in one place: each function fills
# in a configuration for one setup, starts the server in the foreground of
# a background job on 127.0.0.1:PORT, and waits until it answers. Sourced by
# tests/bench/bench.sh, which sets BENCH_DIR (scratch) and SECRET_FILE.
#
# The FastCGI, CGI and mod_fcgid blocks mirror the shipped lighttpd and
# Apache configs: the same max-procs, the same mod_fcgid process and spawn
# settings, configuration passed the same way.
#
#	serve_lighttpd_fastcgi NAME PROGRAM PORT SPOOL [VAR=VALUE...]
#	serve_lighttpd_cgi NAME PROGRAM PORT SPOOL [VAR=VALUE...]
#	serve_apache_fcgid NAME PROGRAM PORT SPOOL [VAR=VALUE...]
#	serve_gunicorn NAME APPDIR PORT SPOOL
#	serve_stop_all
#
# The extra VAR=VALUE pairs become more MAKINI_WEBHOOK_* variables.

serve_pids=

# Waits until 127.0.0.1:$1 accepts a GET on $2, at most about 10 s.
serve_wait() {
	i=0
	while [ $i -lt 100 ]; do
		curl -s -o /dev/null -m 1 "http://127.0.0.1:$1$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "server on port $1 did not come up" >&2
	return 1
}

serve_started() {
	serve_pids="$serve_pids $1"
}

serve_stop_all() {
	for p in $serve_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $serve_pids; do
		wait "$p" 2>/dev/null
	done
	serve_pids=
}

# lighttpd's part shared by both lighttpd setups.
serve_lighttpd_head() {
	cat <<EOF
server.document-root = "$1"
server.bind = "127.0.0.1"
server.port = $2
server.errorlog = "$1/../error.log"
server.max-request-size = 2048
EOF
}

serve_lighttpd_fastcgi() {
	name=$1 program=$2 port=$3 spool=$4
	shift 4
	d="$BENCH_DIR/$name"
	mkdir -p "$d/www"
	env=
	for kv in "$@"; do
		env="$env		\"MAKINI_WEBHOOK_${kv%%=*}\" => \"${kv#*=}\",
"
	done
	{
		serve_lighttpd_head "$d/www" "$port"
		cat <<EOF
server.modules += ( "mod_fastcgi" )
fastcgi.server += (
	"/makini-webhook" => ((
		"bin-path" => "$program",
		"socket" => "$d/fcgi.sock",
		"max-procs" => 2,
		"check-local" => "disable",
		"bin-environment" => (
			"MAKINI_WEBHOOK_SECRET_FILE" => "$SECRET_FILE",
			"MAKINI_WEBHOOK_SPOOL" => "$spool",
$env		),
	)),
)
EOF
	} >"$d/lighttpd.conf"
	lighttpd -D -f "$d/lighttpd.conf" 2>>"$d/error.log" &
	serve_started $!
	serve_wait "$port" /makini-webhook
}

serve_lighttpd_cgi() {
	name=$1 program=$2 port=$3 spool=$4
	shift 4
	d="$BENCH_DIR/$name"
	mkdir -p "$d/www"
	env=
	for kv in "$@"; do
		env="$env		\"MAKINI_WEBHOOK_${kv%%=*}\" => \"${kv#*=}\",
"
	done
	{
		serve_lighttpd_head "$d/www" "$port"
		cat <<EOF
server.modules += ( "mod_alias", "mod_cgi", "mod_setenv" )
alias.url += ( "/makini-webhook" => "$program" )
\$HTTP["url"] == "/makini-webhook" {
	cgi.assign = ( "" => "" )
	setenv.add-environment = (
		"MAKINI_WEBHOOK_SECRET_FILE" => "$SECRET_FILE",
		"MAKINI_WEBHOOK_SPOOL" => "$spool",
$env	)
}
EOF
	} >"$d/lighttpd.conf"
	lighttpd -D -f "$d/lighttpd.conf" 2>>"$d/error.log" &
	serve_started $!
	serve_wait "$port" /makini-webhook
}

# Apache refuses to serve as root: it runs as www-data, which must reach
# the program, the secret and the spool.
serve_apache_fcgid() {
	name=$1 program=$2 port=$3 spool=$4
	shift 4
	d="$BENCH_DIR/$name"
	mkdir -p "$d/www" "$d/fcgid"
	user=
	if [ "$(id -u)" = 0 ]; then
		user="User www-data
Group www-data"
		chown www-data "$d/fcgid"
	fi
	env=
	for kv in "$@"; do
		env="${env}FcgidInitialEnv MAKINI_WEBHOOK_${kv%%=*} ${kv#*=}
"
	done
	m=/usr/lib/apache2/modules
	cat >"$d/apache.conf" <<EOF
ServerRoot "$d"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$d/apache.pid"
ErrorLog "$d/error.log"
LogLevel warn
DefaultRuntimeDir "$d"
Mutex file:$d default
$user
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule alias_module $m/mod_alias.so
LoadModule fcgid_module $m/mod_fcgid.so
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
DocumentRoot "$d/www"
FcgidIPCDir "$d/fcgid"
FcgidProcessTableFile "$d/fcgid/shm"

ScriptAlias /makini-webhook $program
FcgidInitialEnv MAKINI_WEBHOOK_SECRET_FILE $SECRET_FILE
FcgidInitialEnv MAKINI_WEBHOOK_SPOOL $spool
$env
FcgidMaxProcessesPerClass 32
FcgidMinProcessesPerClass 32
FcgidSpawnScoreUpLimit 256
FcgidSpawnScore 1
FcgidTerminationScore 2
FcgidTimeScore 1
FcgidIdleTimeout 0
FcgidProcessLifeTime 0
FcgidIOTimeout 30
FcgidMaxRequestLen 1048576
<Location /makini-webhook>
	SetHandler fcgid-script
	Require all granted
	LimitRequestBody 1048576
</Location>
EOF
	apache2 -f "$d/apache.conf" -DFOREGROUND 2>>"$d/error.log" &
	serve_started $!
	serve_wait "$port" /makini-webhook
}

serve_gunicorn() {
	name=$1 appdir=$2 port=$3 spool=$4
	d="$BENCH_DIR/$name"
	mkdir -p "$d"
	MAKINI_WEBHOOK_SECRET_FILE=$SECRET_FILE MAKINI_WEBHOOK_SPOOL=$spool \
		gunicorn --workers 4 --bind "127.0.0.1:$port" \
		--chdir "$appdir" --error-logfile "$d/error.log" \
		receiver:app 2>>"$d/error.log" &
	serve_started $!
	serve_wait "$port" /webhook
}
