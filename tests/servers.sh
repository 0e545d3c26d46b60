# See LICENSE file for copyright and license details.
# Starts and stops the shipped server setups on a loopback port, for the
# server tests, `make run` and the benchmark. Sourced; POSIX sh.
#
#	server_start SERVER VIA PORT DIR [tls]
#		SERVER is lighttpd, apache or nginx; VIA is fastcgi or cgi
#		for lighttpd, fcgid, proxy, systemd or cgi for Apache,
#		fastcgi (to the spawn-fcgi script's receivers) or cgi
#		(through fcgiwrap) for nginx; caddy has fastcgi alone (to
#		the spawn-fcgi script's receivers). Fills in
#		the shipped
#		configuration for paths and the port, writes a minimal main
#		configuration around it in DIR, starts the server on
#		127.0.0.1:PORT and returns once the port answers. proxy and
#		systemd are both mod_proxy_fcgi: the FastCGI backend comes from
#		the shipped spawn-fcgi script, or from the shipped systemd units
#		started the way systemd would start them. On failure
#		it prints the logs, stops what it started and returns 1.
#		With tls, the port speaks HTTPS, through the shipped TLS
#		lines (server_tls_conf), with the certificate and key that
#		server_tls_cert made in SV_TLS_DIR.
#	server_tls_cert DIR
#		Makes DIR/cert.pem, a self-signed certificate for 127.0.0.1,
#		and its key DIR/key.pem with openssl, unless both are there.
#	server_tls_conf SERVER
#		Prints the shipped file with the server's TLS lines.
#	server_stop DIR
#		Stops every process server_start started in DIR; safe to call
#		twice, or when nothing was started.
#	server_logs DIR
#		Prints the server's and the backend's logs.
#	server_url SERVER VIA PORT [tls]
#		Prints the receiver's URL for a setup (https with tls).
#	server_request_log SERVER VIA DIR
#		Prints the file where each request's log line lands, the one
#		docs/operations.md names for the setup (for systemd, a file stands
#		in for the journal).
#	server_htaccess_url PORT
#	server_htaccess_dir DIR
#		The URL and the directory of the shared-hosting receiver
#		(apache/htaccess, apache/makini-webhook.env.example and a
#		copy of SV_BIN) that the Apache cgi setup also serves.
#
# The receiver's configuration comes from these variables:
#	SV_BIN		the receiver executable (required)
#	SV_SECRET_FILE	the secret file (required unless SV_PASS gives a secret)
#	SV_SPOOL	the spool (required)
#	SV_PASS		names of MAKINI_WEBHOOK_* variables to pass on from the
#			environment, beyond the secret file and the spool
#	SV_DROP_SECRET_FILE=1	leave the shipped secret-file setting out, for
#			a secret given through SV_PASS
#	SV_APACHE_LOGLEVEL	Apache's LogLevel (warn)
#	SV_BIND		lighttpd's address (127.0.0.1); 0.0.0.0 inside a
#			network namespace a test made
#	SV_SPOOL_AS_IS=1	leave the spool's ownership alone (otherwise,
#			run as root, it is handed to www-data)
#	SV_REAL_IP=1	uncomment the shipped lines that restore the client's
#			address behind a proxy: from X-Forwarded-For sent by
#			127.0.0.1 (nginx), from X-Real-IP (Caddy)
#	SV_TLS_DIR	the directory of cert.pem and key.pem, for tls
#
# Run as root, both servers run the receiver as www-data, as Debian's
# packages do (Apache refuses to run it as root), and the spool, the secret
# and the socket directory are handed to www-data. Otherwise everything runs
# as the current user.

SV_SRCDIR=${SV_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
SV_APACHE_MODULES=/usr/lib/apache2/modules

# Seconds to wait for a server to accept, or to exit once told to stop.
SV_START_TIMEOUT=${SV_START_TIMEOUT:-15}
SV_STOP_TIMEOUT=${SV_STOP_TIMEOUT:-10}

# Unsets every MAKINI_WEBHOOK_* variable of the caller's environment: a
# test must not pick up a configuration from whoever runs it.
server_env_clear() {
	for sv_var in $(env | sed -n 's/^\(MAKINI_WEBHOOK_[A-Z_]*\)=.*/\1/p'); do
		unset "$sv_var"
	done
}

# The user the receiver runs as.
sv_user() {
	if [ "$(id -u)" = 0 ]; then echo www-data; else id -un; fi
}

# Escapes $1 for the replacement side of a sed s||| command.
sv_sed_escape() {
	printf '%s\n' "$1" | sed 's/[\\|&]/\\&/g'
}

# sv_fill SRC DEST DIR: copies a shipped file, replacing the default paths it
# names with this run's, and fails if a default path is left in a
# non-comment line (a shipped file naming a path this harness does not
# know would otherwise send the test to the real /etc or /var).
sv_fill() {
	sv_src=$1 sv_dest=$2 sv_dir=$3
	sv_run=$(cat "$sv_dir/rundir")
	if [ "${SV_DROP_SECRET_FILE:-0}" = 1 ]; then
		sed '/^[^#]*MAKINI_WEBHOOK_SECRET_FILE/d' "$sv_src"
	else
		cat "$sv_src"
	fi |
	sed -e "s|/usr/local/bin/makini-webhook|$(sv_sed_escape "$SV_BIN")|g" \
	    -e "s|/etc/makini-webhook/secret|$(sv_sed_escape "${SV_SECRET_FILE:-}")|g" \
	    -e "s|/etc/makini-webhook/env|$(sv_sed_escape "$sv_dir/conf/env")|g" \
	    -e "s|/var/spool/makini-webhook|$(sv_sed_escape "$SV_SPOOL")|g" \
	    -e "s|/run/makini-webhook|$(sv_sed_escape "$sv_run")|g" \
	    -e "s|/run/lighttpd|$(sv_sed_escape "$sv_run")|g" \
	    -e "s|/run/fcgiwrap.socket|$(sv_sed_escape "$sv_run/fcgiwrap.socket")|g" \
	    -e "s|/var/log/lighttpd|$(sv_sed_escape "$sv_dir/log")|g" \
	    -e "s|/var/log/makini-webhook|$(sv_sed_escape "$sv_dir/log/makini-webhook")|g" \
	    -e "s|/home/example/makini-webhook/secret|$(sv_sed_escape "${SV_SECRET_FILE:-}")|g" \
	    -e "s|/home/example/makini-webhook/spool|$(sv_sed_escape "$SV_SPOOL")|g" \
	    -e "s|/etc/letsencrypt/live/webhook.example.com/fullchain.pem|$(sv_sed_escape "${SV_TLS_DIR:-}/cert.pem")|g" \
	    -e "s|/etc/letsencrypt/live/webhook.example.com/privkey.pem|$(sv_sed_escape "${SV_TLS_DIR:-}/key.pem")|g" \
	    >"$sv_dest" || return 1
	if grep -v '^[[:space:]]*#' "$sv_dest" |
	    grep -E '(^|[[:space:]"'"'"'=:])(/etc/makini-webhook|/var/spool/makini-webhook|/run/makini-webhook|/run/lighttpd|/var/log/lighttpd|/var/log/makini-webhook|/home/example|/usr/local/bin/makini-webhook|/etc/letsencrypt)' >&2
	then
		echo "$sv_src: a default path above was not filled in" >&2
		return 1
	fi
}

# sv_lighttpd_pass FILE: after each line setting MAKINI_WEBHOOK_SPOOL, adds
# one line per SV_PASS variable that takes its value from lighttpd's own
# environment (lighttpd's env.NAME), in the same block.
sv_lighttpd_pass() {
	[ -n "${SV_PASS:-}" ] || return 0
	awk -v names="$SV_PASS" '
		{ print }
		/^[^#]*"MAKINI_WEBHOOK_SPOOL"[[:space:]]*=>/ {
			indent = $0
			sub(/[^[:space:]].*/, "", indent)
			n = split(names, name, " ")
			for (i = 1; i <= n; i++)
				printf "%s\"%s\" => env.%s,\n", indent, name[i], name[i]
		}' "$1" >"$1.new" && mv "$1.new" "$1"
}

# Hands the spool, the secret and the run directory to the user the
# receiver runs as, when that is not us.
sv_share_paths() {
	sv_dir=$1
	[ "$(id -u)" = 0 ] || return 0
	chown -R www-data:www-data "$(cat "$sv_dir/rundir")" "$sv_dir/log" ||
		return 1
	if [ "${SV_SPOOL_AS_IS:-0}" != 1 ]; then
		mkdir -p "$SV_SPOOL" &&
		chown -R www-data:www-data "$SV_SPOOL" || return 1
	fi
	if [ -n "${SV_SECRET_FILE:-}" ] && [ -f "$SV_SECRET_FILE" ]; then
		chgrp www-data "$SV_SECRET_FILE" && chmod 0640 "$SV_SECRET_FILE"
	fi
}

server_tls_cert() {
	[ -s "$1/cert.pem" ] && [ -s "$1/key.pem" ] && return 0
	mkdir -p "$1" &&
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$1/key.pem" -out "$1/cert.pem" 2>"$1/openssl.log") || {
		cat "$1/openssl.log" >&2
		return 1
	}
	chmod 0644 "$1/cert.pem"
}

server_tls_conf() {
	case $1 in
	lighttpd) echo "$SV_SRCDIR/lighttpd/makini-webhook-tls.conf" ;;
	apache) echo "$SV_SRCDIR/apache/makini-webhook-ssl.conf" ;;
	nginx) echo "$SV_SRCDIR/nginx/makini-webhook-tls.conf" ;;
	caddy) echo "$SV_SRCDIR/caddy/Caddyfile" ;;
	*) echo "no TLS lines for '$1'" >&2; return 1 ;;
	esac
}

# sv_tls_fill SERVER DEST DIR PORT: the server's shipped TLS lines, with this
# run's certificate, and port 443 moved to 127.0.0.1:PORT.
sv_tls_fill() {
	: "${SV_TLS_DIR:?SV_TLS_DIR: the directory of cert.pem and key.pem}"
	sv_fill "$(server_tls_conf "$1")" "$2.new" "$3" || return 1
	case $1 in
	lighttpd) sed "s|\":443\"|\"127.0.0.1:$4\"|" ;;
	nginx) sed "s|^listen 443 |listen 127.0.0.1:$4 |" ;;
	*) sed "s|:443>|:$4>|" ;;
	esac <"$2.new" >"$2" && rm -f "$2.new" || return 1
	grep -q ":$4[\"> ]" "$2" || {
		echo "$2: no socket of port 443 to move to $4" >&2
		return 1
	}
}

sv_lighttpd_conf() {
	sv_via=$1 sv_port=$2 sv_dir=$3
	case $sv_via in
	fastcgi|cgi) ;;
	*) echo "lighttpd: no setup '$sv_via' (fastcgi, cgi)" >&2; return 1 ;;
	esac
	sv_fill "$SV_SRCDIR/lighttpd/makini-webhook-$sv_via.conf" \
		"$sv_dir/conf/makini-webhook.conf" "$sv_dir" || return 1
	sv_lighttpd_pass "$sv_dir/conf/makini-webhook.conf" || return 1
	if [ "$sv_tls" = tls ]; then
		sv_tls_fill lighttpd "$sv_dir/conf/tls.conf" "$sv_dir" \
			"$sv_port" || return 1
	fi
	{
		echo "# Written by tests/servers.sh around the shipped file."
		echo "server.document-root = \"$sv_dir/htdocs\""
		echo "server.bind = \"${SV_BIND:-127.0.0.1}\""
		echo "server.port = $sv_port"
		echo "server.errorlog = \"$sv_dir/log/error.log\""
		echo "server.upload-dirs = ( \"$sv_dir/tmp\" )"
		echo "server.modules = ( \"mod_access\" )"
		if [ "$(id -u)" = 0 ]; then
			echo 'server.username = "www-data"'
			echo 'server.groupname = "www-data"'
		fi
		echo "include \"$sv_dir/conf/makini-webhook.conf\""
		if [ "$sv_tls" = tls ]; then
			echo "include \"$sv_dir/conf/tls.conf\""
		fi
	} >"$sv_dir/conf/lighttpd.conf"
	chmod 1777 "$sv_dir/tmp"
}

sv_apache_conf() {
	sv_via=$1 sv_port=$2 sv_dir=$3
	sv_run=$(cat "$sv_dir/rundir")
	case $sv_via in
	fastcgi) sv_via=fcgid ;;
	esac
	case $sv_via in
	fcgid) sv_file=makini-webhook-fcgid.conf
		sv_mods="fcgid" ;;
	proxy|systemd) sv_file=makini-webhook-proxy-fcgi.conf
		sv_mods="proxy proxy_fcgi buffer" ;;
	cgi) sv_file=makini-webhook-cgi.conf
		sv_mods="cgid" ;;
	*) echo "apache: no setup '$sv_via' (fcgid, proxy, systemd, cgi)" >&2
		return 1 ;;
	esac
	sv_fill "$SV_SRCDIR/apache/$sv_file" \
		"$sv_dir/conf/makini-webhook.conf" "$sv_dir" || return 1
	if [ "$sv_tls" = tls ]; then
		sv_tls_fill apache "$sv_dir/conf/ssl.conf" "$sv_dir" \
			"$sv_port" || return 1
		sv_mods="$sv_mods socache_shmcb ssl http2"
	fi
	{
		echo "# Written by tests/servers.sh around the shipped file."
		echo "ServerRoot \"$sv_dir\""
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$sv_port"
		echo "PidFile \"$sv_run/httpd.pid\""
		echo "DefaultRuntimeDir \"$sv_run\""
		# No Mutex line: Debian's apache2.conf leaves "Mutex file:"
		# commented out, and with that file-based (fcntl) mechanism
		# mod_fcgid's spawn bursts sometimes failed with "Resource
		# deadlock avoided" (docs/deploy-apache.md).
		echo "ErrorLog \"$sv_dir/log/error.log\""
		echo "LogLevel ${SV_APACHE_LOGLEVEL:-warn}"
		for m in mpm_event authz_core alias env mime $sv_mods; do
			echo "LoadModule ${m}_module $SV_APACHE_MODULES/mod_$m.so"
		done
		if [ "$(id -u)" = 0 ]; then
			echo "User www-data"
			echo "Group www-data"
		fi
		# Debian's mpm_event.conf.
		echo "StartServers 2"
		echo "MinSpareThreads 25"
		echo "MaxSpareThreads 75"
		echo "ThreadLimit 64"
		echo "ThreadsPerChild 25"
		echo "MaxRequestWorkers 150"
		echo "TypesConfig /etc/mime.types"
		case $sv_via in
		fcgid)
			echo "FcgidIPCDir \"$sv_run/fcgid\""
			echo "FcgidProcessTableFile \"$sv_run/fcgid_shm\"" ;;
		cgi)
			echo "ScriptSock \"$sv_run/cgid.sock\"" ;;
		esac
		echo "DocumentRoot \"$sv_dir/htdocs\""
		echo "<Directory />"
		echo "	AllowOverride None"
		echo "	Require all denied"
		echo "</Directory>"
		# The overrides of Debian's stock userdir.conf, which the
		# shared-hosting .htaccess must live with; and CGI allowed in
		# the web space, which only a host can give.
		echo "<Directory \"$sv_dir/htdocs\">"
		echo "	AllowOverride FileInfo AuthConfig Limit Indexes"
		echo "	Options +ExecCGI"
		echo "	Require all granted"
		echo "</Directory>"
		echo "Include \"$sv_dir/conf/makini-webhook.conf\""
		if [ "$sv_tls" = tls ]; then
			echo "SSLSessionCache \"shmcb:$sv_run/ssl_scache(512000)\""
			echo "Include \"$sv_dir/conf/ssl.conf\""
		fi
		if [ -n "${SV_PASS:-}" ]; then
			echo "PassEnv $SV_PASS"
		fi
	} >"$sv_dir/conf/httpd.conf"

	case $sv_via in
	cgi)
		# The shared-hosting setup: the .htaccess, makini-webhook.env
		# and a copy of the receiver in a directory of the document
		# root. (Not below /makini-webhook, which the ScriptAlias
		# takes.) The receiver refuses an env file in a directory
		# others can write, so the modes are set, whatever the umask.
		sv_hosted=$(server_htaccess_dir "$sv_dir")
		mkdir -p "$sv_hosted" &&
		chmod 0755 "$sv_hosted" &&
		sv_fill "$SV_SRCDIR/apache/htaccess" "$sv_hosted/.htaccess" \
			"$sv_dir" &&
		sv_fill "$SV_SRCDIR/apache/makini-webhook.env.example" \
			"$sv_hosted/makini-webhook.env" "$sv_dir" &&
		chmod 0644 "$sv_hosted/makini-webhook.env" &&
		cp "$SV_BIN" "$sv_hosted/makini-webhook.cgi" &&
		chmod 0755 "$sv_hosted/makini-webhook.cgi" || return 1 ;;
	proxy)
		sv_fill "$SV_SRCDIR/apache/env.example" "$sv_dir/conf/env" \
			"$sv_dir" &&
		sv_fill "$SV_SRCDIR/apache/makini-webhook-spawn-fcgi" \
			"$sv_dir/conf/makini-webhook-spawn-fcgi" "$sv_dir" ||
			return 1 ;;
	systemd)
		sv_fill "$SV_SRCDIR/apache/env.example" "$sv_dir/conf/env" \
			"$sv_dir" &&
		sv_fill "$SV_SRCDIR/apache/systemd/makini-webhook.socket" \
			"$sv_dir/conf/makini-webhook.socket" "$sv_dir" &&
		sv_fill "$SV_SRCDIR/apache/systemd/makini-webhook.service" \
			"$sv_dir/conf/makini-webhook.service" "$sv_dir" ||
			return 1 ;;
	esac
}

# sv_nginx_pass FILE: after the line setting MAKINI_WEBHOOK_LOG, one
# fastcgi_param line per SV_PASS variable, with its value from our
# environment (nginx passes no environment to FastCGI parameters).
sv_nginx_pass() {
	[ -n "${SV_PASS:-}" ] || return 0
	for sv_name in $SV_PASS; do
		eval "sv_value=\${$sv_name:-}"
		printf '%s\n' "$sv_value" | grep -q '["\\$;]' && {
			echo "nginx: $sv_name: a value with \", \\, \$ or ;" >&2
			return 1
		}
		printf '\tfastcgi_param %s "%s";\n' "$sv_name" "$sv_value"
	done >"$1.pass" &&
	sed "/^[^#]*fastcgi_param MAKINI_WEBHOOK_LOG /r $1.pass" "$1" \
		>"$1.new" && mv "$1.new" "$1" && rm -f "$1.pass"
}

sv_nginx_conf() {
	sv_via=$1 sv_port=$2 sv_dir=$3
	sv_run=$(cat "$sv_dir/rundir")
	case $sv_via in
	fastcgi) sv_file=makini-webhook-fastcgi.conf ;;
	cgi|fcgiwrap) sv_file=makini-webhook-fcgiwrap.conf ;;
	*) echo "nginx: no setup '$sv_via' (fastcgi, cgi)" >&2; return 1 ;;
	esac
	sv_fill "$SV_SRCDIR/nginx/$sv_file" \
		"$sv_dir/conf/makini-webhook.conf" "$sv_dir" &&
	sv_nginx_pass "$sv_dir/conf/makini-webhook.conf" || return 1
	if [ "$sv_tls" = tls ]; then
		sv_tls_fill nginx "$sv_dir/conf/tls.conf" "$sv_dir" \
			"$sv_port" || return 1
	fi
	if [ "${SV_REAL_IP:-0}" = 1 ]; then
		sed 's/^\([[:space:]]*\)#\(set_real_ip_from\|real_ip_header\)/\1\2/' \
			"$sv_dir/conf/makini-webhook.conf" >"$sv_dir/conf/new" &&
		mv "$sv_dir/conf/new" "$sv_dir/conf/makini-webhook.conf"
	fi
	# The shipped file includes Debian's fastcgi_params, which nginx
	# looks for beside its main configuration.
	cp /etc/nginx/fastcgi_params "$sv_dir/conf/" || return 1
	{
		echo "# Written by tests/servers.sh around the shipped file."
		echo "daemon off;"
		echo "worker_processes 2;"
		echo "pid $sv_run/nginx.pid;"
		echo "error_log $sv_dir/log/error.log;"
		if [ "$(id -u)" = 0 ]; then
			echo "user www-data www-data;"
		fi
		echo "events { worker_connections 512; }"
		echo "http {"
		echo "	include /etc/nginx/mime.types;"
		echo "	default_type application/octet-stream;"
		echo "	access_log $sv_dir/log/access.log;"
		for t in client_body fastcgi proxy uwsgi scgi; do
			echo "	${t}_temp_path $sv_dir/tmp/$t;"
		done
		echo "	server {"
		if [ "$sv_tls" = tls ]; then
			echo "		include $sv_dir/conf/tls.conf;"
		else
			echo "		listen 127.0.0.1:$sv_port;"
		fi
		echo "		root $sv_dir/htdocs;"
		echo "		include $sv_dir/conf/makini-webhook.conf;"
		echo "	}"
		echo "}"
	} >"$sv_dir/conf/nginx.conf"
	chmod 1777 "$sv_dir/tmp"
	case $sv_via in
	fastcgi)
		sv_fill "$SV_SRCDIR/apache/env.example" "$sv_dir/conf/env" \
			"$sv_dir" &&
		sv_fill "$SV_SRCDIR/apache/makini-webhook-spawn-fcgi" \
			"$sv_dir/conf/makini-webhook-spawn-fcgi" "$sv_dir" ;;
	esac
}

# The shipped Caddyfile with its site address made http://127.0.0.1:PORT
# and its bind line uncommented, after global options that keep Caddy's
# admin endpoint and state to this run.
sv_caddy_conf() {
	sv_via=$1 sv_port=$2 sv_dir=$3
	case $sv_via in
	fastcgi) ;;
	*) echo "caddy: no setup '$sv_via' (fastcgi)" >&2; return 1 ;;
	esac
	sv_fill "$SV_SRCDIR/caddy/Caddyfile" "$sv_dir/conf/Caddyfile.shipped" \
		"$sv_dir" || return 1
	{
		echo "# Written by tests/servers.sh around the shipped file."
		echo "{"
		echo "	admin off"
		echo "	grace_period 1s"
		echo "	storage file_system $sv_dir/caddy"
		# No redirecting listener on port 80 beside the test's.
		[ "$sv_tls" != tls ] || echo "	auto_https disable_redirects"
		echo "}"
		if [ "$sv_tls" = tls ]; then
			# The given certificate of the shipped tls line.
			sed -e "s|^webhook\.example\.com {|https://127.0.0.1:$sv_port {|" \
			    -e 's|^\([[:space:]]*\)#\(tls [^ ]*/cert\.pem [^ ]*/key\.pem\)$|\1\2|'
		else
			sed -e "s|^webhook\.example\.com {|http://127.0.0.1:$sv_port {|"
		fi <"$sv_dir/conf/Caddyfile.shipped" |
		sed -e 's|^\([[:space:]]*\)#bind 127\.0\.0\.1$|\1bind 127.0.0.1|' |
		if [ "${SV_REAL_IP:-0}" = 1 ]; then
			sed 's|^\([[:space:]]*\)#\(env REMOTE_ADDR \)|\1\2|'
		else
			cat
		fi
	} >"$sv_dir/conf/Caddyfile"
	grep -q "^https\{0,1\}://127.0.0.1:$sv_port {" "$sv_dir/conf/Caddyfile" &&
	{ [ "$sv_tls" != tls ] ||
	  grep -q "^[[:space:]]*tls [^#]*/cert.pem" "$sv_dir/conf/Caddyfile"; } &&
	grep -q "^[[:space:]]*bind 127.0.0.1$" "$sv_dir/conf/Caddyfile" || {
		echo "caddy/Caddyfile: no site address or bind line to fill in" >&2
		return 1
	}
	sv_fill "$SV_SRCDIR/apache/env.example" "$sv_dir/conf/env" "$sv_dir" &&
	sv_fill "$SV_SRCDIR/apache/makini-webhook-spawn-fcgi" \
		"$sv_dir/conf/makini-webhook-spawn-fcgi" "$sv_dir"
}

# Starts fcgiwrap as Debian's fcgiwrap.socket and .service do: the socket
# (mode 0660, www-data's) as its standard input, run as www-data, with -f.
sv_fcgiwrap_backend() {
	sv_dir=$1
	sv_listen=$(cat "$sv_dir/rundir")/fcgiwrap.socket
	set -- -n -s "$sv_listen" -M 0660
	if [ "$(id -u)" = 0 ]; then
		set -- "$@" -u www-data -g www-data -U www-data -G www-data
	fi
	rm -f "$sv_listen"
	spawn-fcgi "$@" -- /usr/sbin/fcgiwrap -f </dev/null \
		>"$sv_dir/log/fcgiwrap.log" 2>&1 &
	echo $! >>"$sv_dir/pids"
	sv_tries=50
	until [ -S "$sv_listen" ]; do
		if ! sv_alive "$(tail -n 1 "$sv_dir/pids")" || [ $sv_tries = 0 ]
		then
			echo "fcgiwrap did not open $sv_listen" >&2
			return 1
		fi
		sleep 0.1
		sv_tries=$((sv_tries - 1))
	done
}

# sv_unit_value FILE KEY: the last value of KEY= in a systemd unit.
sv_unit_value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# Starts the FastCGI backend of the systemd units in $1/conf as systemd
# would: the socket of makini-webhook.socket (owner, mode) as standard
# input of the service's ExecStart, run as its User, with its
# EnvironmentFile. spawn-fcgi -n binds the socket and execs the command in
# place, as systemd's StandardInput=socket does. (The sandboxing settings
# are systemd's own and are not reproduced.)
sv_systemd_backend() {
	sv_dir=$1
	sv_svc=$sv_dir/conf/makini-webhook.service
	sv_sock=$sv_dir/conf/makini-webhook.socket
	sv_listen=$(sv_unit_value "$sv_sock" ListenStream)
	sv_exec=$(sv_unit_value "$sv_svc" ExecStart)
	sv_envfile=$(sv_unit_value "$sv_svc" EnvironmentFile)
	grep -qx 'StandardInput=socket' "$sv_svc" || {
		echo "$sv_svc: expected StandardInput=socket" >&2
		return 1
	}
	set -- -n -s "$sv_listen" -M "$(sv_unit_value "$sv_sock" SocketMode)"
	if [ "$(id -u)" = 0 ]; then
		set -- "$@" -u "$(sv_unit_value "$sv_svc" User)" \
			-g "$(sv_unit_value "$sv_svc" Group)" \
			-U "$(sv_unit_value "$sv_sock" SocketUser)" \
			-G "$(sv_unit_value "$sv_sock" SocketGroup)"
	fi
	rm -f "$sv_listen"
	(
		set -a
		. "$sv_envfile"
		set +a
		# shellcheck disable=SC2086
		exec spawn-fcgi "$@" -- $sv_exec
	) </dev/null >"$sv_dir/log/service.log" 2>&1 &
	echo $! >>"$sv_dir/pids"
	sv_tries=50
	until [ -S "$sv_listen" ]; do
		if ! sv_alive "$(tail -n 1 "$sv_dir/pids")" || [ $sv_tries = 0 ]
		then
			echo "the service did not open $sv_listen" >&2
			return 1
		fi
		sleep 0.1
		sv_tries=$((sv_tries - 1))
	done
}

server_url() {
	if [ "${4:-}" = tls ]; then
		echo "https://127.0.0.1:$3/makini-webhook"
	else
		echo "http://127.0.0.1:$3/makini-webhook"
	fi
}

server_request_log() {
	case $1-$2 in
	lighttpd-cgi | apache-proxy | nginx-* | caddy-*)
		echo "$3/log/makini-webhook.log" ;;
	apache-systemd) echo "$3/log/service.log" ;;
	*) echo "$3/log/error.log" ;;
	esac
}

server_htaccess_url() {
	echo "http://127.0.0.1:$1/hosted/makini-webhook.cgi"
}

server_htaccess_dir() {
	echo "$1/htdocs/hosted"
}

server_logs() {
	for sv_log in "$1"/log/*; do
		[ -s "$sv_log" ] || continue
		echo "--- $sv_log"
		tail -n 50 "$sv_log"
	done
}

# Succeeds while process $1 runs (a zombie counts as gone).
sv_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	sv_state=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) ||
		return 1
	[ -n "$sv_state" ] && [ "$sv_state" != Z ]
}

# Succeeds when process $2 holds the socket listening on TCP port $1, so
# that another server already on the port is not taken for ours. Without
# /proc/net/tcp it cannot tell, and succeeds.
sv_listens() {
	[ -r /proc/net/tcp ] || return 0
	sv_inodes=$(awk -v port=":$(printf '%04X' "$1")" \
		'$4 == "0A" && substr($2, length($2) - 4) == port { print $10 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null)
	for sv_inode in $sv_inodes; do
		ls -l "/proc/$2/fd" 2>/dev/null |
			grep -q "socket:\[$sv_inode\]" && return 0
	done
	return 1
}

# Succeeds when something listens on TCP port $1, on any address.
sv_port_taken() {
	awk -v port=":$(printf '%04X' "$1")" '
		$4 == "0A" && substr($2, length($2) - 4) == port { found = 1 }
		END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Succeeds once process $2 listens on 127.0.0.1:$1 and the port answers
# HTTP (HTTPS with $3 tls); fails if the process exits first or
# SV_START_TIMEOUT passes.
sv_wait_port() {
	sv_tries=$((SV_START_TIMEOUT * 10))
	sv_scheme=http
	[ "${3:-}" != tls ] || sv_scheme=https
	while [ "$sv_tries" -gt 0 ]; do
		sv_code=$(curl -s -k -o /dev/null -w '%{http_code}' --max-time 2 \
			"$sv_scheme://127.0.0.1:$1/" 2>/dev/null) || true
		case $sv_code in
		[1-5]??) sv_listens "$1" "$2" && return 0 ;;
		esac
		if ! sv_alive "$2"; then
			echo "server exited before accepting on port $1" >&2
			return 1
		fi
		sleep 0.1
		sv_tries=$((sv_tries - 1))
	done
	echo "server did not accept on port $1 within ${SV_START_TIMEOUT}s" >&2
	return 1
}

# Process ids this harness started in $1: the server and any backends.
sv_pids() {
	cat "$1/pids" 2>/dev/null
	sv_run=$(cat "$1/rundir" 2>/dev/null) || return 0
	cat "$sv_run/spawn-fcgi.pid" 2>/dev/null
}

server_start() {
	sv_server=$1 sv_via=$2 sv_port=$3 sv_dir=$4 sv_tls=${5:-}
	case $sv_tls in
	''|tls) ;;
	*) echo "server_start: '$sv_tls' is not tls" >&2; return 1 ;;
	esac
	: "${SV_BIN:?SV_BIN: the receiver to serve}" "${SV_SPOOL:?SV_SPOOL}"
	mkdir -p "$sv_dir" || return 1
	sv_dir=$(cd "$sv_dir" && pwd)
	rm -rf "$sv_dir/conf" "$sv_dir/log" "$sv_dir/tmp" "$sv_dir/run" \
		"$sv_dir/pids"
	mkdir -p "$sv_dir/conf" "$sv_dir/log" "$sv_dir/htdocs" "$sv_dir/tmp" ||
		return 1
	# Unix socket paths must stay under about 100 bytes; a deep checkout
	# gets its run directory in /tmp instead.
	sv_run=$sv_dir/run
	if [ ${#sv_run} -gt 80 ]; then
		sv_run=$(mktemp -d /tmp/makini-webhook-run.XXXXXX) || return 1
	else
		mkdir -p "$sv_run" || return 1
	fi
	chmod 0755 "$sv_run"
	echo "$sv_run" >"$sv_dir/rundir"
	: >"$sv_dir/pids"

	case $sv_server in
	lighttpd)
		sv_lighttpd_conf "$sv_via" "$sv_port" "$sv_dir" &&
		sv_share_paths "$sv_dir" &&
		lighttpd -tt -f "$sv_dir/conf/lighttpd.conf" \
			>"$sv_dir/log/configtest.log" 2>&1 || {
			cat "$sv_dir/log/configtest.log" 2>/dev/null >&2
			server_stop "$sv_dir"
			return 1
		}
		lighttpd -D -f "$sv_dir/conf/lighttpd.conf" </dev/null \
			>"$sv_dir/log/stderr.log" 2>&1 &
		echo $! >>"$sv_dir/pids"
		;;
	apache)
		sv_apache_conf "$sv_via" "$sv_port" "$sv_dir" &&
		sv_share_paths "$sv_dir" &&
		apache2 -t -d "$sv_dir" -f "$sv_dir/conf/httpd.conf" \
			>"$sv_dir/log/configtest.log" 2>&1 || {
			cat "$sv_dir/log/configtest.log" 2>/dev/null >&2
			server_stop "$sv_dir"
			return 1
		}
		case $sv_via in
		proxy)
			sh "$sv_dir/conf/makini-webhook-spawn-fcgi" \
				>"$sv_dir/log/spawn-fcgi.log" 2>&1 ;;
		systemd)
			sv_systemd_backend "$sv_dir" ;;
		esac || {
			server_logs "$sv_dir" >&2
			server_stop "$sv_dir"
			return 1
		}
		apache2 -DFOREGROUND -d "$sv_dir" -f "$sv_dir/conf/httpd.conf" \
			</dev/null >"$sv_dir/log/stderr.log" 2>&1 &
		echo $! >>"$sv_dir/pids"
		;;
	nginx)
		sv_nginx_conf "$sv_via" "$sv_port" "$sv_dir" &&
		sv_share_paths "$sv_dir" &&
		nginx -t -q -e "$sv_dir/log/error.log" -c "$sv_dir/conf/nginx.conf" \
			>"$sv_dir/log/configtest.log" 2>&1 || {
			cat "$sv_dir/log/configtest.log" "$sv_dir/log/error.log" \
				2>/dev/null >&2
			server_stop "$sv_dir"
			return 1
		}
		case $sv_via in
		fastcgi)
			sh "$sv_dir/conf/makini-webhook-spawn-fcgi" \
				>"$sv_dir/log/spawn-fcgi.log" 2>&1 ;;
		*)
			sv_fcgiwrap_backend "$sv_dir" ;;
		esac || {
			server_logs "$sv_dir" >&2
			server_stop "$sv_dir"
			return 1
		}
		nginx -e "$sv_dir/log/error.log" -c "$sv_dir/conf/nginx.conf" \
			</dev/null >"$sv_dir/log/stderr.log" 2>&1 &
		echo $! >>"$sv_dir/pids"
		;;
	caddy)
		# Caddy opens its listeners with SO_REUSEPORT: started on a
		# port another server holds, it shares it rather than fail.
		if sv_port_taken "$sv_port"; then
			echo "caddy: 127.0.0.1:$sv_port: Address already in use" >&2
			server_stop "$sv_dir"
			return 1
		fi
		sv_caddy_conf "$sv_via" "$sv_port" "$sv_dir" &&
		sv_share_paths "$sv_dir" &&
		XDG_DATA_HOME=$sv_dir/caddy XDG_CONFIG_HOME=$sv_dir/caddy \
		caddy validate --adapter caddyfile \
			--config "$sv_dir/conf/Caddyfile" \
			>"$sv_dir/log/configtest.log" 2>&1 || {
			cat "$sv_dir/log/configtest.log" 2>/dev/null >&2
			server_stop "$sv_dir"
			return 1
		}
		sh "$sv_dir/conf/makini-webhook-spawn-fcgi" \
			>"$sv_dir/log/spawn-fcgi.log" 2>&1 || {
			server_logs "$sv_dir" >&2
			server_stop "$sv_dir"
			return 1
		}
		XDG_DATA_HOME=$sv_dir/caddy XDG_CONFIG_HOME=$sv_dir/caddy \
		caddy run --adapter caddyfile --config "$sv_dir/conf/Caddyfile" \
			</dev/null >"$sv_dir/log/caddy.log" 2>&1 &
		echo $! >>"$sv_dir/pids"
		;;
	*)
		echo "no server '$sv_server' (lighttpd, apache, nginx, caddy)" >&2
		return 1
		;;
	esac
	sv_wait_port "$sv_port" "$(tail -n 1 "$sv_dir/pids")" "$sv_tls" || {
		server_logs "$sv_dir" >&2
		server_stop "$sv_dir"
		return 1
	}
}

server_stop() {
	sv_dir=$1
	[ -f "$sv_dir/pids" ] || return 0
	sv_list=$(sv_pids "$sv_dir")
	for sv_pid in $sv_list; do
		kill -TERM "$sv_pid" 2>/dev/null
	done
	sv_tries=$((SV_STOP_TIMEOUT * 10))
	while [ "$sv_tries" -gt 0 ]; do
		sv_running=
		for sv_pid in $sv_list; do
			sv_alive "$sv_pid" && sv_running=1
		done
		[ -n "$sv_running" ] || break
		sleep 0.1
		sv_tries=$((sv_tries - 1))
	done
	for sv_pid in $sv_list; do
		kill -KILL "$sv_pid" 2>/dev/null
	done
	sv_run=$(cat "$sv_dir/rundir" 2>/dev/null)
	case $sv_run in
	/tmp/makini-webhook-run.*) rm -rf "$sv_run" ;;
	esac
	rm -f "$sv_dir/pids"
	return 0
}
