# Keyless uploads and idle clients against every web-server configuration
# we generate or ship, each started on a loopback ephemeral port:
#   scorepoint serve                 (cli/cli_serve.c)
#   lighttpd + FastCGI               deploy/lighttpd/scorepoint-fastcgi.conf
#   lighttpd + CGI                   deploy/lighttpd/scorepoint-cgi.conf
#   the container's lighttpd         deploy/container/entrypoint.sh
#   Apache + mod_proxy_fcgi          deploy/apache/scorepoint-proxy-fcgi.conf
#   Apache + mod_fcgid               deploy/apache/scorepoint-fcgid.conf
#   nginx                            deploy/nginx/scorepoint.conf
# (the last three with deploy/spawn-fcgi's backend or mod_fcgid, as root,
# as tests/e2e/servers.sh runs them).
#
# A 50 MB POST without a key to a key endpoint's /score, as curl sends it
# (Expect: 100-continue) and without Expect (the body follows the headers at
# once): the 401 arrives within a second, curl sends under 10 MB of the
# body, and the server's temporary folders (lighttpd's server.upload-dirs,
# nginx's client_body_temp_path, Apache's TMPDIR; the test's own) never
# hold more than 4 MiB (MAX_DISK).  mod_fcgid cannot meet that: it reads
# every body whole before score.fcgi sees the request, so for it the test
# asserts what it does (the whole body sent, spooled to TMPDIR past 64 KiB,
# then the 401, the spool removed) and scorepoint-fcgid.conf says so.
#
# Idle clients: each configuration's idle/read timeout, set to 2 s here in
# place of the shipped 20 s (the only change made to the files), closes a
# connection that sent half a request's headers within a few seconds; the
# configuration `scorepoint serve` writes holds its caps.
. tests/e2e/lib.sh
. tests/e2e/lib_servers.sh
SP=$BUILD/scorepoint
W=$T/ws
RUN_USER=www-data
MODS=/usr/lib/apache2/modules
BIG=$T/50MB
MAX_UP=10000000      # bytes curl may send of the 50 MB
# Bytes the temporary folders may hold at once: what is in flight when the
# 401 comes may pass through lighttpd's temporary files (1.3 MB seen here),
# where the configurations before streaming spooled 24 to 48 MB of it.
MAX_DISK=4194304
# Apache's and nginx's workers, should their master be killed, and
# score.fcgi: every path names $T.
trap 'stop_tracked; pkill -KILL -f "^(apache2|nginx: [a-z]+ process|$T/bin/score.fcgi).*$T/" 2>/dev/null;
	pkill -KILL -f "^$T/bin/score.fcgi" 2>/dev/null; rm -rf "$T"' EXIT INT TERM

quiet() { "$@" >/dev/null 2>"$T/cli-err" || { echo "# $*: $(cat "$T/cli-err")"; return 1; }; }

export SCOREPOINT_WORKSPACE="$W"
if quiet "$SP" model create --path fixtures/model --name model-online-1 --version 1 --type mlflow_model &&
	quiet "$SP" online-endpoint create -f deploy/examples/endpoint_1/cloud/endpoint.yml &&
	quiet "$SP" online-deployment create -f deploy/examples/endpoint_1/cloud/deployment.yml --all-traffic; then
	ok "endpoint-online-1 (key auth) made with the CLI"
else
	not_ok "endpoint-online-1 (key auth) made with the CLI"
	exit 1
fi
head -c 50000000 /dev/zero >"$BIG"
mkdir -p "$T/bin"
cp "$BUILD/score.fcgi" "$T/bin/score.fcgi"

# ---- the checks ----

# watch_start DIR...: in the background, the most bytes the regular files
# under DIR... hold at once (polled every 20 ms), into $T/watch.max.
watch_start() {
	rm -f "$T/watch.stop" "$T/watch.max"
	(
		max=0
		while [ ! -e "$T/watch.stop" ]; do
			n=$(find "$@" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
			[ "$n" -gt "$max" ] && max=$n
			sleep 0.02
		done
		echo "$max" >"$T/watch.max"
	) &
	WATCH_PID=$!
}
# watch_stop: the most bytes seen, into PEAK (not in a $(...): the
# watcher is this shell's child).
watch_stop() {
	: >"$T/watch.stop"
	wait "$WATCH_PID"
	PEAK=$(cat "$T/watch.max")
}
on_disk() { find "$@" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

# post50 [CURL-ARGS...]: the keyless 50 MB POST; "CODE SECONDS BYTES-SENT".
post50() {
	curl -s -o "$T/post.out" -w '%{http_code} %{time_total} %{size_upload}' --max-time 30 "$@" \
		-H "Content-Type: application/json" --data-binary "@$BIG" "$URL/endpoint-online-1/score"
}

# keyless NAME DIR...: the 50 MB POST without a key, with and without
# Expect: 100-continue, while DIR... (the server's temporary folders, paths
# without blanks) are watched.
keyless() {
	name=$1
	shift
	dirs=$*
	for how in "Expect: 100-continue" "no Expect"; do
		# shellcheck disable=SC2086 # $dirs is split on purpose
		watch_start $dirs
		if [ "$how" = "no Expect" ]; then res=$(post50 -H "Expect:"); else res=$(post50); fi
		watch_stop
		peak=$PEAK
		# shellcheck disable=SC2086
		after=$(on_disk $dirs)
		code=${res%% *} sent=${res##* } secs=$(echo "$res" | cut -d' ' -f2)
		if [ "$code" = 401 ] && awk -v t="$secs" 'BEGIN { exit !(t < 1.0) }' && [ "$sent" -lt $MAX_UP ] &&
			[ "$peak" -le $MAX_DISK ] && [ "$after" -le $MAX_DISK ]; then
			ok "$name: keyless 50 MB POST ($how): 401 in $secs s, $sent bytes sent, at most $peak bytes on disk"
		else
			not_ok "$name: keyless 50 MB POST ($how): 401 within 1 s, under $MAX_UP bytes sent, nothing spooled" \
				"status $code after $secs s, $sent bytes sent; temporary files: $peak bytes at most, $after after" \
				"$(head -c 300 "$T/post.out")"
		fi
	done
}

# idle NAME SECONDS: a connection that sends half a request's headers and
# then nothing is closed by the server after about SECONDS (at most 4 s
# later: lighttpd checks once a second).
idle() {
	got=$(perl -MIO::Socket::INET -MTime::HiRes=time -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or die "connect: $!\n";
		my $t0 = time;
		syswrite($s, "POST /endpoint-online-1/score HTTP/1.1\r\nHost: 127.0.0.1\r\n");
		my $rin = ""; vec($rin, fileno($s), 1) = 1;
		my ($buf, $n) = ("", 0);
		while (select(my $r = $rin, undef, undef, 30) > 0) { $n = sysread($s, $buf, 4096, length $buf); last if !$n; }
		printf "%.1f %s\n", time - $t0, !defined $n ? "reset" : $n == 0 ? "closed" : "open";
	' "${URL##*:}" 2>&1)
	secs=${got%% *}
	# Closed or reset (nginx's reset_timedout_connection).
	if { [ "${got#* }" = closed ] || [ "${got#* }" = reset ]; } &&
		awk -v t="$secs" -v s="$2" 'BEGIN { exit !(t >= s - 0.5 && t <= s + 4) }'; then
		ok "$1: a client idle halfway through its headers is dropped (${got#* }) after $secs s (idle timeout $2 s)"
	else
		not_ok "$1: a client idle halfway through its headers is dropped after about $2 s" "$got"
	fi
}

# shorten NAME FILE FROM TO: the shipped idle timeout FROM, in the
# instantiated FILE, set to TO for the idle check; SHORT=1 when it was
# there (the check runs), else a failure.
shorten() {
	SHORT=
	if grep -qF -- "$3" "$2"; then
		FROM=$3 TO=$4 perl -pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/g' "$2" && SHORT=1
		ok "$1: the shipped file sets '$3' (here '$4')"
	else
		not_ok "$1: the shipped file sets '$3'"
	fi
}

# run NAME START_FN [ARGS...]: START_FN ARGS... PORT on a free port, or a
# failure with NAME's logs.
run() {
	name=$1
	shift
	start_on_free_port "$@" && ok "$name: up on $URL" && return 0
	not_ok "$name: up on a loopback port" "$(cat "$T/$name"/*.log 2>/dev/null | tail -20)"
	return 1
}

# ---- scorepoint serve ----
serve_start() {
	mkdir -p "$T/serve/tmp"
	TMPDIR=$T/serve/tmp "$SP" serve --port "$1" --workers 2 >"$T/serve/serve.log" 2>&1 </dev/null &
	SERVER_PID=$!
}
if run serve serve_start; then
	conf=$(cat "$T"/serve/tmp/scorepoint-serve-*/lighttpd.conf)
	missing=
	for line in 'server.stream-request-body = 2' 'server.max-request-size = 65536' 'server.max-connections = 512' \
		'server.max-read-idle = 20' 'server.max-write-idle = 60' 'server.max-keep-alive-idle = 5'; do
		printf '%s\n' "$conf" | grep -qxF "$line" || missing="$missing
$line"
	done
	[ -z "$missing" ] && ok "serve: its lighttpd.conf streams bodies and caps connections and idle time" ||
		not_ok "serve: its lighttpd.conf streams bodies and caps connections and idle time" "missing:$missing"
	keyless serve "$T/serve/tmp"
fi
stop_tracked

# ---- deploy/lighttpd ----
# lighttpd_start NAME INCLUDED PORT: a lighttpd.conf of the test's own
# (address, port, logs, server.upload-dirs in $T/NAME/up) including the
# instantiated file.
lighttpd_start() {
	d=$T/$1
	cat >"$d/main.conf" <<CONF
server.bind = "127.0.0.1"
server.port = $3
server.document-root = "$d/www"
server.errorlog = "$d/error.log"
server.upload-dirs = ( "$d/up" )
include "$2"
CONF
	lighttpd -D -f "$d/main.conf" </dev/null 2>>"$d/error.log" &
	SERVER_PID=$!
}
for kind in fastcgi cgi; do
	name=lighttpd-$kind d=$T/lighttpd-$kind
	mkdir -p "$d/www" "$d/up"
	sock=
	[ $kind = fastcgi ] && sock="/run/lighttpd/scorepoint.sock $d/fcgi.sock"
	# shellcheck disable=SC2086 # $sock is split on purpose
	if instantiate "deploy/lighttpd/scorepoint-$kind.conf" "$d/site.conf" /usr/local/bin/score.fcgi "$T/bin/score.fcgi" \
		/srv/scorepoint "$W" $sock; then
		shorten "$name" "$d/site.conf" 'server.max-read-idle = 20' 'server.max-read-idle = 2'
		if run "$name" lighttpd_start "$name" "$d/site.conf"; then
			keyless "$name" "$d/up"
			[ -z "$SHORT" ] || idle "$name" 2
		fi
		stop_tracked
	else
		not_ok "$name: the shipped file, instantiated"
	fi
done

# ---- the container's entry point ----
ep_start() {
	d=$T/container
	mkdir -p "$d/tmp"
	env PORT="$1" WORKERS=2 SCOREPOINT_BIND=127.0.0.1 SCOREPOINT_WORKSPACE="$W" SCOREPOINT_RUN_DIR="$d/run" \
		SCOREPOINT_SCORE_FCGI="$T/bin/score.fcgi" SCOREPOINT_LOG=- SCOREPOINT_IDLE_TIMEOUT=2 TMPDIR="$d/tmp" \
		sh deploy/container/entrypoint.sh >>"$d/entrypoint.log" 2>&1 &
	SERVER_PID=$!
}
mkdir -p "$T/container"
if run container ep_start; then
	conf=$(cat "$T/container/run/lighttpd.conf")
	missing=
	for line in 'server.stream-request-body = 2' 'server.max-connections = 512' 'server.max-read-idle = 2' \
		'server.max-write-idle = 60' 'server.max-keep-alive-idle = 5'; do
		printf '%s\n' "$conf" | grep -qxF "$line" || missing="$missing
$line"
	done
	[ -z "$missing" ] && ok "container: its lighttpd.conf streams bodies and caps connections and idle time" ||
		not_ok "container: its lighttpd.conf streams bodies and caps connections and idle time" "missing:$missing"
	keyless container "$T/container/tmp"
	idle container 2
fi
stop_tracked

# ---- Apache and nginx: root, as tests/e2e/servers.sh runs them ----
missing=
for c in apache2 nginx spawn-fcgi perl; do command -v $c >/dev/null 2>&1 || missing="$missing $c"; done
for m in fcgid proxy proxy_fcgi headers reqtimeout mpm_event authz_core; do
	[ -f $MODS/mod_$m.so ] || missing="$missing $MODS/mod_$m.so"
done
if [ "$(id -u)" != 0 ] || [ -n "$missing" ]; then
	not_ok "Apache and nginx need root and the test packages (make deps)" "uid $(id -u); missing:$missing"
	exit 1
fi
# score.fcgi runs as www-data from here on: it owns the workspace.
chmod 0711 "$T"
chown -R "$RUN_USER:" "$W"

# spawn NAME: deploy/spawn-fcgi's script for the test's paths, socket in
# $T/NAME/run; its processes are tracked.
spawn() {
	d=$T/$1
	instantiate deploy/spawn-fcgi/scorepoint-spawn-fcgi "$d/spawn" \
		SCORE_FCGI=/usr/local/bin/score.fcgi "SCORE_FCGI=$T/bin/score.fcgi" \
		WORKSPACE=/srv/scorepoint "WORKSPACE=$W" RUN_AS=scorepoint "RUN_AS=$RUN_USER" \
		/run/scorepoint "$d/run" || return 1
	mkdir -p "$d/shm"
	chown "$RUN_USER:" "$d/shm"
	SCOREPOINT_METRICS_FILE=$d/shm/metrics sh "$d/spawn" >"$d/spawn.log" 2>&1 || return 1
	for p in $(cat "$d/run/spawn-fcgi.pid"); do track_pid "$p"; done
}

# apache_start NAME MODULES PORT: apache2 in the foreground with a minimal
# httpd.conf loading MODULES and including $T/NAME/site.conf for PORT;
# TMPDIR (where mod_fcgid spools bodies) is $T/NAME/tmp.
apache_start() {
	d=$T/$1 mods=$2 port=$3
	sed -i "s/<VirtualHost [^>]*>/<VirtualHost 127.0.0.1:$port>/" "$d/site.conf"
	apache_conf "$d" "$port" "$mods" "$d/fcgid/metrics"
	env TMPDIR="$d/tmp" apache2 -f "$d/httpd.conf" -DFOREGROUND 2>>"$d/error.log" &
	SERVER_PID=$!
}
apache_dirs() {
	mkdir -p "$T/$1/www" "$T/$1/fcgid" "$T/$1/tmp"
	chown "$RUN_USER:" "$T/$1/fcgid" "$T/$1/tmp"
}

name=apache-proxy-fcgi
apache_dirs $name
if instantiate deploy/apache/scorepoint-proxy-fcgi.conf "$T/$name/site.conf" /run/scorepoint "$T/$name/run"; then
	shorten $name "$T/$name/site.conf" header=20-40 header=2
	if spawn $name && run $name apache_start $name "proxy proxy_fcgi headers reqtimeout"; then
		keyless $name "$T/$name/tmp"
		[ -z "$SHORT" ] || idle $name 2
	fi
else
	not_ok "$name: the shipped file, instantiated"
fi
stop_tracked

# mod_fcgid: the whole body is read (and past 64 KiB written to TMPDIR)
# before score.fcgi sees the request.  Sent at 25 MB/s, so that the spool
# is seen.
name=apache-fcgid
apache_dirs $name
if instantiate deploy/apache/scorepoint-fcgid.conf "$T/$name/site.conf" /usr/local/bin/score.fcgi "$T/bin/score.fcgi" \
	/srv/scorepoint "$W"; then
	shorten $name "$T/$name/site.conf" header=20-40 header=2
	if run $name apache_start $name "fcgid reqtimeout"; then
		watch_start "$T/$name/tmp"
		res=$(post50 --limit-rate 25M)
		watch_stop
		peak=$PEAK
		after=$(on_disk "$T/$name/tmp")
		code=${res%% *} sent=${res##* }
		[ "$code" = 401 ] && [ "$sent" = 50000000 ] && [ "$peak" -gt $MAX_UP ] && [ "$after" = 0 ] &&
			ok "$name: keyless 50 MB POST: 401 only after all of it is sent and spooled to TMPDIR ($peak $(
				)bytes seen), removed after (mod_fcgid cannot stream)" ||
			not_ok "$name: keyless 50 MB POST: 401 after all of it, spooled to TMPDIR, removed after" \
				"$res; temporary files: $peak bytes at most, $after after"
		[ -z "$SHORT" ] || idle $name 2
	fi
else
	not_ok "$name: the shipped file, instantiated"
fi
stop_tracked

# nginx: its own nginx.conf, the shipped server block included, temporary
# paths in $T/nginx/tmp.
nginx_start() {
	d=$T/nginx
	sed -i "s/listen [^;]*;/listen 127.0.0.1:$1;/" "$d/site.conf"
	nginx_conf "$d"
	nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' 2>>"$d/error.log" &
	SERVER_PID=$!
}
mkdir -p "$T/nginx/tmp"
if instantiate deploy/nginx/scorepoint.conf "$T/nginx/site.conf" /run/scorepoint "$T/nginx/run"; then
	shorten nginx "$T/nginx/site.conf" 'client_header_timeout 20s;' 'client_header_timeout 2s;'
	if spawn nginx && run nginx nginx_start; then
		keyless nginx "$T/nginx/tmp"
		[ -z "$SHORT" ] || idle nginx 2
	fi
else
	not_ok "nginx: the shipped file, instantiated"
fi
stop_tracked
