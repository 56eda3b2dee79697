# The deploy/ files for Apache, nginx, spawn-fcgi and systemd, each run as
# written but for its paths and port: one workspace (the tutorial's
# endpoint 1, made with the CLI) served on loopback ephemeral ports by
#   (i)   Apache + mod_fcgid           deploy/apache/scorepoint-fcgid.conf
#   (ii)  Apache + mod_proxy_fcgi      deploy/apache/scorepoint-proxy-fcgi.conf
#         + spawn-fcgi                 deploy/spawn-fcgi/scorepoint-spawn-fcgi
#   (iii) nginx + spawn-fcgi           deploy/nginx/scorepoint.conf
#   (iv)  nginx + socket activation    deploy/systemd/ (emulated: no systemd
#         runs as PID 1 here; systemd-socket-activate passes the socket)
# each with the same answers: the tutorial's request 200 with the key and
# the same bytes from every server, 401 without, a 200-row request (1.75 MB:
# past mod_fcgid's and nginx's default body limits) 200, a body over 64 MiB
# refused, and the azureml-model-deployment and x-request-id headers.
#
# Each server gets a configuration of the test's own (modules, port, pid,
# log and temporary paths under $T) that includes the instantiated deploy
# file; nothing of the system's configuration is used but nginx's
# fastcgi_params.  Running as root, the servers' workers and score.fcgi run
# as www-data, which owns the test's workspace (state.yaml stays 0600).
. tests/e2e/lib.sh
. tests/e2e/lib_servers.sh
SP=$BUILD/scorepoint
W=$T/ws
REQ=fixtures/test_data/images_azureml.json
BIG=fixtures/test_data/batch200_azureml_split.json
RUN_USER=www-data
MODS=/usr/lib/apache2/modules
trap 'stop_tracked; pkill -f "^$T/bin/score.fcgi" 2>/dev/null; rm -rf "$T"' EXIT INT TERM

# ---- what the test needs: root, the servers, the tools ----
missing=
for c in apache2 nginx spawn-fcgi systemd-socket-activate systemd-analyze systemd-sysusers setpriv unshare perl; do
	command -v $c >/dev/null 2>&1 || missing="$missing $c"
done
for m in fcgid proxy proxy_fcgi mpm_event authz_core; do
	[ -f $MODS/mod_$m.so ] || missing="$missing $MODS/mod_$m.so"
done
if [ "$(id -u)" != 0 ] || [ -n "$missing" ]; then
	not_ok "servers.sh needs root and the test packages (make deps)" "uid $(id -u); missing:$missing"
	exit 1
fi
ok "root, Apache, nginx, spawn-fcgi and systemd's tools are here"

# ---- the workspace: the tutorial's endpoint 1, made with the CLI ----
export SCOREPOINT_WORKSPACE="$W"
quiet() { "$@" >/dev/null 2>"$T/cli-err" || { echo "# $*: $(cat "$T/cli-err")"; return 1; }; }
if quiet "$SP" model create --path fixtures/model --name model-online-1 --version 1 --type mlflow_model &&
	quiet "$SP" online-endpoint create -f deploy/examples/endpoint_1/cloud/endpoint.yml &&
	quiet "$SP" online-deployment create -f deploy/examples/endpoint_1/cloud/deployment.yml --all-traffic; then
	ok "endpoint-online-1 made with the CLI"
else
	not_ok "endpoint-online-1 made with the CLI"
	exit 1
fi
KEY=$("$SP" online-endpoint get-credentials --name endpoint-online-1 --query primaryKey -o tsv)
# score.fcgi runs as www-data everywhere below: it owns the workspace, and
# reaches it and the binary through $T.
mkdir -p "$T/bin" "$T/shm"
# One byte over score.fcgi's --max-body, and every server's limit.
head -c 67108865 /dev/zero >"$T/huge"
cp "$BUILD/score.fcgi" "$T/bin/score.fcgi"
chmod 0711 "$T"
chown -R "$RUN_USER:" "$W" "$T/shm"
[ "$(stat -c '%a %U' "$W/state.yaml")" = "600 $RUN_USER" ] && ok "state.yaml: 0600, owned by $RUN_USER" ||
	not_ok "state.yaml: 0600, owned by $RUN_USER" "$(ls -l "$W/state.yaml")"

# ---- the servers ----

# start_apache NAME SITE MODULES PAIRS PORT: apache2 in the foreground with
# a minimal httpd.conf that loads MODULES (and the MPM and authz_core that
# any Debian Apache has) and includes SITE, a deploy file instantiated for
# PORT and PAIRS ("FROM TO ...", paths without spaces: see instantiate).
start_apache() {
	name=$1 d=$T/$1 site=$2 mods=$3 pairs=$4 port=$5
	mkdir -p "$d/www" "$d/fcgid"
	# mod_fcgid's sockets, made by Apache's user.
	chown "$RUN_USER:" "$d/fcgid"
	# shellcheck disable=SC2086 # PAIRS is split on purpose
	instantiate "$site" "$d/site.conf" '<VirtualHost *:80>' "<VirtualHost 127.0.0.1:$port>" $pairs || return 1
	apache_conf "$d" "$port" "$mods" "$T/shm/$name.metrics"
	apache2 -f "$d/httpd.conf" -DFOREGROUND 2>>"$d/error.log" &
	SERVER_PID=$!
}

# start_nginx NAME RUNDIR PORT: nginx in the foreground (master + one
# worker) with an nginx.conf of the test's own whose http block includes
# deploy/nginx/scorepoint.conf instantiated for PORT, with RUNDIR for
# /run/scorepoint (the backend's socket).
start_nginx() {
	d=$T/$1 run=$2 port=$3
	mkdir -p "$d/tmp"
	instantiate deploy/nginx/scorepoint.conf "$d/site.conf" 'listen 80;' "listen 127.0.0.1:$port;" \
		/run/scorepoint "$run" || return 1
	nginx_conf "$d"
	nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' 2>>"$d/error.log" &
	SERVER_PID=$!
}

# start_spawn_fcgi NAME: deploy/spawn-fcgi/scorepoint-spawn-fcgi, for the
# test's score.fcgi, workspace and user, with its socket and pid file in
# $T/NAME/run; its processes are tracked.
start_spawn_fcgi() {
	d=$T/$1
	mkdir -p "$d"
	instantiate deploy/spawn-fcgi/scorepoint-spawn-fcgi "$d/spawn" \
		SCORE_FCGI=/usr/local/bin/score.fcgi "SCORE_FCGI=$T/bin/score.fcgi" \
		WORKSPACE=/srv/scorepoint "WORKSPACE=$W" RUN_AS=scorepoint "RUN_AS=$RUN_USER" \
		/run/scorepoint "$d/run" || return 1
	# The metrics file: the test's, so that none is left in /dev/shm.
	SCOREPOINT_METRICS_FILE=$T/shm/$1.metrics sh "$d/spawn" >"$d/spawn.log" 2>&1 || {
		sed 's/^/# /' "$d/spawn.log"
		return 1
	}
	[ -s "$d/run/spawn-fcgi.pid" ] || { echo "# no pid file: $(cat "$d/spawn.log")"; return 1; }
	for p in $(cat "$d/run/spawn-fcgi.pid"); do track_pid "$p"; done
	[ -S "$d/run/fcgi.sock" ] && [ "$(stat -c '%a %G' "$d/run/fcgi.sock")" = "660 $RUN_USER" ] || {
		echo "# socket: $(ls -l "$d/run/fcgi.sock" 2>&1)"
		return 1
	}
}

# unit_value FILE KEY: the values of KEY= in a unit file, one a line.
unit_value() { sed -n "s/^$2=//p" "$1"; }

# start_socket_activation NAME: deploy/systemd's units instantiated for the
# test's paths and user, checked by systemd-analyze verify, then run the
# way systemd runs them, from their own settings:
#   scorepoint.socket   ListenStream= made and listened on by
#                       systemd-socket-activate, which execs the service on
#                       the first connection with the socket on fd 3,
#                       LISTEN_FDS=1 and LISTEN_PID=its pid; SocketUser=,
#                       SocketGroup=, SocketMode= applied before that;
#   scorepoint@.service ExecStart=, Environment=, User=, Group=,
#                       NoNewPrivileges= (setpriv), ReadOnlyPaths= and
#                       ReadWritePaths= (bind mounts in a mount namespace of
#                       its own), MemoryDenyWriteExecute= (the kernel's
#                       prctl(PR_SET_MDWE), which systemd >= 253 uses too).
# The rest of the sandbox (ProtectSystem=, SystemCallFilter=, ...) is
# systemd's alone and is not run here.
start_socket_activation() {
	name=$1 d=$T/$1
	mkdir -p "$d/root/etc"
	instantiate deploy/systemd/scorepoint.socket "$d/scorepoint.socket" /run/scorepoint "$d/run" &&
		instantiate deploy/systemd/scorepoint@.service "$d/scorepoint@.service" \
			/usr/local/bin/score.fcgi "$T/bin/score.fcgi" /var/lib/scorepoint "$W" \
			User=scorepoint "User=$RUN_USER" Group=scorepoint "Group=$RUN_USER" || return 1
	ln -s scorepoint@.service "$d/scorepoint@1.service"
	out=$(cd "$d" && systemd-analyze verify ./scorepoint.socket ./scorepoint@1.service 2>&1)
	[ $? = 0 ] && [ -z "$out" ] && ok "systemd-analyze verify: the units load with no complaint" ||
		not_ok "systemd-analyze verify: the units load with no complaint" "$out"
	out=$(systemd-sysusers --root="$d/root" "$PWD/deploy/systemd/scorepoint.sysusers" 2>&1)
	grep -q '^scorepoint:x:[0-9]*:[0-9]*:[^:]*:/var/lib/scorepoint:/usr/sbin/nologin$' "$d/root/etc/passwd" 2>/dev/null &&
		ok "systemd-sysusers: scorepoint.sysusers makes the system user" ||
		not_ok "systemd-sysusers: scorepoint.sysusers makes the system user" "$out"

	s=$d/scorepoint.socket u=$d/scorepoint@.service
	sock=$(unit_value "$s" ListenStream)
	mkdir -p -m "$(unit_value "$s" DirectoryMode)" "$(dirname "$sock")"
	set -- systemd-socket-activate -l "$sock"
	for e in $(unit_value "$u" Environment); do set -- "$@" -E "$e"; done
	set -- "$@" -E "SCOREPOINT_METRICS_FILE=$T/shm/$name.metrics"
	ro=$(unit_value "$u" ReadOnlyPaths) rw=$(unit_value "$u" ReadWritePaths)
	set -- "$@" unshare -m sh -c 'mount --bind -o ro "$1" "$1" && mount --bind "$2" "$2" &&
		mount -o remount,bind,rw "$2" && shift 2 && exec "$@"' sh "$ro" "$rw"
	set -- "$@" setpriv --reuid="$(unit_value "$u" User)" --regid="$(unit_value "$u" Group)" --init-groups
	[ "$(unit_value "$u" NoNewPrivileges)" = yes ] && set -- "$@" --no-new-privs
	[ "$(unit_value "$u" MemoryDenyWriteExecute)" = yes ] && set -- "$@" perl -e 'require "syscall.ph";
		# PR_SET_MDWE (65), PR_MDWE_REFUSE_EXEC_GAIN (1); kept across exec
		syscall(&SYS_prctl, 65, 1, 0, 0, 0) == 0 or die "PR_SET_MDWE: $!\n";
		exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n"'
	# ExecStart= is split on spaces, as systemd does for a line without quotes.
	set -- "$@" $(unit_value "$u" ExecStart)
	"$@" >>"$d/service.log" 2>&1 &
	SD_PID=$!
	track_pid $SD_PID
	wait_for test -S "$sock" || { echo "# no socket $sock: $(cat "$d/service.log")"; return 1; }
	chown "$(unit_value "$s" SocketUser):$(unit_value "$s" SocketGroup)" "$sock" &&
		chmod "$(unit_value "$s" SocketMode)" "$sock"
}

# ---- the same checks on every server ----
FIRST= SD_PID=
# score NAME FILE [CREDENTIAL]: POST FILE to endpoint-online-1's scoring
# URI; body to $T/NAME.out, headers to $T/NAME.hdr, status to stdout.
score() {
	set -- "$1" "$2" "${3:-}"
	set -- -H "Content-Type: application/json" -H "x-request-id: servers-$1" --data-binary "@$2" \
		-o "$T/$1.out" -D "$T/$1.hdr" ${3:+-H "Authorization: Bearer $3"}
	curl -s --max-time 30 -w '%{http_code}' "$@" "$URL/endpoint-online-1/score"
}
log_lines() { wc -l <"$W/logs/requests.log" 2>/dev/null || echo 0; }

check_server() {
	name=$1
	before=$(log_lines)
	code=$(score "$name" $REQ "$KEY")
	cp "$T/$name.out" "$T/$name.tutorial"
	if [ "$code" != 200 ]; then
		not_ok "$name: the tutorial's request with the key: 200" "$code" "$(head -c 400 "$T/$name.out")"
	elif [ -z "$FIRST" ]; then
		FIRST=$name
		logits_like "$T/$name.tutorial" fixtures/expected/images_logits.json &&
			ok "$name: the tutorial's request with the key: 200, torch's logits" ||
			not_ok "$name: the tutorial's request with the key: 200, torch's logits" "$(cat "$T/$name.tutorial")"
	else
		cmp -s "$T/$FIRST.tutorial" "$T/$name.tutorial" && ok "$name: the tutorial's request: 200, the same bytes as $FIRST" ||
			not_ok "$name: the tutorial's request: 200, the same bytes as $FIRST" "$(cat "$T/$FIRST.tutorial")" "$(cat "$T/$name.tutorial")"
	fi
	grep -qi '^azureml-model-deployment: blue' "$T/$name.hdr" && grep -qi "^x-request-id: servers-$name" "$T/$name.hdr" &&
		ok "$name: azureml-model-deployment and x-request-id come back" ||
		not_ok "$name: azureml-model-deployment and x-request-id come back" "$(cat "$T/$name.hdr")"
	code=$(score "$name" $REQ)
	[ "$code" = 401 ] && grep -q UNAUTHORIZED "$T/$name.out" && ok "$name: no key: 401" ||
		not_ok "$name: no key: 401" "$code" "$(head -c 400 "$T/$name.out")"
	code=$(score "$name" $BIG "$KEY")
	[ "$code" = 200 ] && [ "$(values "$T/$name.out" | wc -l)" = 2000 ] &&
		ok "$name: a 200-row request (1.75 MB): 200, 200 x 10 logits" ||
		not_ok "$name: a 200-row request (1.75 MB): 200, 200 x 10 logits" "$code" "$(head -c 400 "$T/$name.out")"
	# mod_fcgid answers an oversized body with a 500 of its own
	# (deploy/apache/README.md); the others with 413.
	case $name in apache-fcgid) want=500 ;; *) want=413 ;; esac
	code=$(score "$name" "$T/huge" "$KEY")
	[ "$code" = $want ] && ok "$name: a body over 64 MiB: $want" ||
		not_ok "$name: a body over 64 MiB: $want" "$code" "$(head -c 400 "$T/$name.out")"
	[ "$(log_lines)" -ge $((before + 3)) ] && ok "$name: score.fcgi logged the requests in the workspace" ||
		not_ok "$name: score.fcgi logged the requests in the workspace" "$before -> $(log_lines)"
	[ -z "$SD_PID" ] || check_activated "$name"
}

# check_activated NAME: the socket-activated process is the one that
# answered (its pid is LISTEN_PID: the exec chain kept it), and it runs
# with the unit's User=, NoNewPrivileges= and read-only workspace.
check_activated() {
	grep -q "\"request_id\": \"servers-$1\"" "$W/logs/requests.log" &&
		! grep "\"request_id\": \"servers-$1\"" "$W/logs/requests.log" | grep -vq "\"pid\": $SD_PID," &&
		ok "$1: every answer came from the activated process (pid = LISTEN_PID)" ||
		not_ok "$1: every answer came from the activated process (pid = LISTEN_PID)" "pid $SD_PID" \
			"$(grep "servers-$1" "$W/logs/requests.log")"
	st=/proc/$SD_PID/status mi=/proc/$SD_PID/mountinfo
	[ "$(awk '/^Uid:/ { print $2 }' $st)" = "$(id -u $RUN_USER)" ] && grep -q '^NoNewPrivs:[[:space:]]*1' $st &&
		awk -v w="$W" '$5 == w { split($6, o, ","); if (o[1] == "ro") r++ } $5 == w "/logs" { split($6, o, ","); if (o[1] == "rw") l++ }
			END { exit !(r && l) }' $mi &&
		ok "$1: it runs as $RUN_USER, no new privileges, the workspace read-only but logs/" ||
		not_ok "$1: it runs as $RUN_USER, no new privileges, the workspace read-only but logs/" \
			"$(grep -E '^(Uid|NoNewPrivs):' $st 2>&1)" "$(grep -F " $W" $mi 2>&1)"
}

# stop_server NAME: stop everything started for it, and make sure that no
# score.fcgi outlives its server.
stop_server() {
	stop_tracked
	SD_PID=
	if wait_for sh -c "! pgrep -f '^$T/bin/score.fcgi' >/dev/null"; then
		ok "$1: stopped, no score.fcgi left"
	else
		not_ok "$1: stopped, no score.fcgi left" "$(pgrep -af "^$T/bin/score.fcgi")"
		pkill -9 -f "^$T/bin/score.fcgi"
	fi
}

# serve NAME BACKEND FRONT...: BACKEND NAME ('-': none), then the front end
# on a free port, then the checks, then stop both.  A server that does not
# come up is a failure (with its error log), never a skip.
serve() {
	name=$1 backend=$2
	shift 2
	if { [ "$backend" = - ] || $backend "$name"; } && start_on_free_port "$@"; then
		ok "$name: up on $URL"
		check_server "$name"
	else
		not_ok "$name: up on a loopback port" "$(cat "$T/$name"/*.log 2>/dev/null | tail -20)"
	fi
	stop_server "$name"
}

serve apache-fcgid - start_apache apache-fcgid deploy/apache/scorepoint-fcgid.conf fcgid \
	"/usr/local/bin/score.fcgi $T/bin/score.fcgi /srv/scorepoint $W"
serve apache-proxy-fcgi start_spawn_fcgi start_apache apache-proxy-fcgi deploy/apache/scorepoint-proxy-fcgi.conf \
	"proxy proxy_fcgi" "/run/scorepoint $T/apache-proxy-fcgi/run"
serve nginx-spawn-fcgi start_spawn_fcgi start_nginx nginx-spawn-fcgi "$T/nginx-spawn-fcgi/run"
serve nginx-systemd start_socket_activation start_nginx nginx-systemd "$T/nginx-systemd/run"
