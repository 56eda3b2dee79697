# tests/e2e/lib_servers.sh - start servers on loopback ephemeral ports, wait
# for them, stop them.  Sourced after lib.sh.
#
#   start_on_free_port START_FN [ARGS...]
#       runs START_FN ARGS... PORT (free_port, lib.sh), which starts a
#       server in the background on 127.0.0.1:PORT and sets SERVER_PID;
#       then waits (at most 15 s) until http://127.0.0.1:PORT/health
#       answers 200, and sets URL.  A
#       server that exits first (the port was taken) is tried again on
#       another port, five times.  The server is tracked (below).  Non-zero
#       if it never answered.
#   track_pid PID    stop_tracked will stop it (and so will the exit trap)
#   stop_pid PID     (lib.sh) SIGTERM, at most 5 s to exit, then SIGKILL
#   stop_tracked     stop_pid for every tracked process, newest first
#   wait_for CMD...  runs CMD every 0.1 s until it succeeds, at most 10 s
#   instantiate SRC DST [FROM TO]...
#       DST is SRC with every FROM (a literal string) replaced by TO; fails
#       naming a FROM that SRC lacks, so that a deploy file changed in shape
#       fails the test rather than being run with its real paths
#   apache_conf DIR PORT MODULES METRICS
#       writes DIR/httpd.conf: a minimal Apache (event MPM, authz_core and
#       MODULES from $MODS, run as $RUN_USER) on 127.0.0.1:PORT that
#       includes DIR/site.conf; mod_fcgid's sockets in DIR/fcgid, its
#       workers' metrics file METRICS
#   nginx_conf DIR   writes DIR/nginx.conf (master + one worker, as
#       $RUN_USER, temporary files under DIR/tmp) whose http block includes
#       DIR/site.conf, and copies fastcgi_params next to it

TRACKED_PIDS=
track_pid() { TRACKED_PIDS="$1 $TRACKED_PIDS"; }

stop_tracked() {
	for p in $TRACKED_PIDS; do stop_pid "$p"; done
	TRACKED_PIDS=
}
trap 'stop_tracked; rm -rf "$T"' EXIT INT TERM

wait_for() {
	i=0
	until "$@" 2>/dev/null; do
		[ $i -ge 100 ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

start_on_free_port() {
	for try in 1 2 3 4 5; do
		# A taken port makes the server exit; the next try picks another.
		port=$(free_port)
		SERVER_PID=
		"$@" "$port" || return 1
		track_pid "$SERVER_PID"
		URL="http://127.0.0.1:$port"
		end=$(($(date +%s) + 15))
		while [ "$(date +%s)" -lt $end ] && kill -0 "$SERVER_PID" 2>/dev/null; do
			curl -sf -o /dev/null --max-time 2 "$URL/health" && return 0
			sleep 0.1
		done
		# Up but not answering: another port would not help.
		kill -0 "$SERVER_PID" 2>/dev/null && return 1
		TRACKED_PIDS=${TRACKED_PIDS#"$SERVER_PID "}
	done
	return 1
}

apache_conf() {
	d=$1 port=$2 mods=$3 metrics=$4
	{
		echo "ServerRoot $d"
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$port"
		echo "PidFile $d/httpd.pid"
		echo "DefaultRuntimeDir $d"
		echo "ErrorLog $d/error.log"
		echo "LogLevel warn"
		echo "DocumentRoot $d/www"
		echo "User $RUN_USER"
		echo "Group $RUN_USER"
		for m in mpm_event authz_core $mods; do echo "LoadModule ${m}_module $MODS/mod_$m.so"; done
		echo "StartServers 1"
		echo "ServerLimit 2"
		echo "ThreadsPerChild 8"
		echo "MinSpareThreads 4"
		echo "MaxSpareThreads 16"
		echo "MaxRequestWorkers 16"
		echo "<IfModule fcgid_module>"
		echo "FcgidIPCDir $d/fcgid"
		echo "FcgidProcessTableFile $d/fcgid/shm"
		echo "FcgidInitialEnv SCOREPOINT_METRICS_FILE $metrics"
		echo "</IfModule>"
		echo "Include $d/site.conf"
	} >"$d/httpd.conf"
}

nginx_conf() {
	d=$1
	# "include fastcgi_params" is relative to nginx.conf's folder.
	cp /etc/nginx/fastcgi_params "$d/"
	cat >"$d/nginx.conf" <<CONF
user $RUN_USER;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	fastcgi_temp_path $d/tmp/fastcgi;
	proxy_temp_path $d/tmp/proxy;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	include $d/site.conf;
}
CONF
}

instantiate() {
	src=$1 dst=$2
	shift 2
	cp "$src" "$dst.tmp" || return 1
	while [ $# -ge 2 ]; do
		grep -qF -- "$1" "$dst.tmp" || { echo "# $src has no '$1'"; return 1; }
		FROM=$1 TO=$2 perl -pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/g' "$dst.tmp" || return 1
		shift 2
	done
	mv "$dst.tmp" "$dst"
}
