# The deploy files that cannot run here in full: the container image
# (no Docker daemon), checked for structure, its build stage replayed in a
# scratch folder, and its entry point run outside a container against a
# workspace made with the CLI, on a loopback port, then stopped by SIGTERM
# (idle, and with a request in flight); deploy/k8s/README.md's blue and
# green workspaces; the man pages (groff -ww, every option of every
# --help); make install and uninstall into a DESTDIR, and the installed CLI
# finding the installed score.fcgi.  The Kubernetes manifests are checked
# by tests/unit/test_deploy_yaml.c.
. tests/e2e/lib.sh
DF=deploy/container/Dockerfile
EP=deploy/container/entrypoint.sh
SP=$BUILD/scorepoint
REQ=fixtures/test_data/images_azureml.json
WANT=fixtures/expected/images_logits.json

# ---- the Dockerfile --------------------------------------------------------
# One logical line per instruction (continuations joined), comments dropped.
sed -e '/^[[:space:]]*#/d' "$DF" | awk '/\\$/ { sub(/\\$/, ""); buf = buf $0; next } { print buf $0; buf = "" }' >"$T/df"
# stage N: the instructions of the Nth FROM (1-based).
stage() { awk -v n="$1" 'toupper($1) == "FROM" { s++ } s == n' "$T/df"; }
instr() { awk -v i="$1" 'toupper($1) == i { $1 = ""; sub(/^ /, ""); print }'; }

# Both stages are FROM ${BASE}, whose default (the global ARG before the
# first FROM) is debian:12-slim; tests/container passes a local base.
froms=$(instr FROM <"$T/df" | awk '{ print $1 }' | tr '\n' ' ')
base=$(awk 'toupper($1) == "FROM" { exit } toupper($1) == "ARG" { print $2 }' "$T/df" | sed -n 's/^BASE=//p')
[ "$froms" = '${BASE} ${BASE} ' ] && [ "$base" = debian:12-slim ] &&
	ok "Dockerfile: two stages, both FROM debian:12-slim" ||
	not_ok "Dockerfile: two stages, both FROM debian:12-slim" "FROM images: $froms, ARG BASE=$base"
# Containerfile.slim's build stage is the Dockerfile's, line for line, so
# that a builder reuses its layers (tools/container_build.sh).
build_stage() { sed -n '/^# ---- build:/,/^RUN make -j/p' "$1"; }
[ -n "$(build_stage "$DF")" ] && [ "$(build_stage "$DF")" = "$(build_stage deploy/container/Containerfile.slim)" ] &&
	ok "Containerfile.slim: its build stage is the Dockerfile's" ||
	not_ok "Containerfile.slim: its build stage is the Dockerfile's" \
		"$(build_stage "$DF" >"$T/b1"; build_stage deploy/container/Containerfile.slim | diff "$T/b1" -)"
user=$(stage 2 | instr USER | tail -n 1)
case ${user%%:*} in
'' | 0 | root | *[!0-9]*) not_ok "Dockerfile: the runtime runs as a numeric non-root USER" "USER: '$user'" ;;
*) ok "Dockerfile: the runtime runs as a numeric non-root USER ($user)" ;;
esac
dfw=$(sed -e '/^[[:space:]]*#/d' deploy/container/Dockerfile.workspace)
chown=$(printf '%s\n' "$dfw" | instr COPY | sed -n 's/.*--chown=\([^ ]*\) .* \/workspace\/$/\1/p')
[ "$chown" = "$user" ] && stage 2 | instr ENV | grep -q 'SCOREPOINT_WORKSPACE=/workspace' &&
	ok "Dockerfile.workspace: the workspace is copied to /workspace owned by the runtime USER" ||
	not_ok "Dockerfile.workspace: the workspace is copied to /workspace owned by the runtime USER" "--chown=$chown, USER $user"
stage 2 | instr EXPOSE | grep -qw 8080 && stage 2 | instr ENV | grep -q 'PORT=8080' &&
	ok "Dockerfile: EXPOSE 8080 and ENV PORT=8080" || not_ok "Dockerfile: EXPOSE 8080 and ENV PORT=8080"
health=$(stage 2 | instr HEALTHCHECK | sed 's/.* CMD //')
[ -n "$health" ] && ok "Dockerfile: a HEALTHCHECK command" || not_ok "Dockerfile: a HEALTHCHECK command"
stage 1 | instr RUN | grep -q 'make deps DEPS_TEST=' && ok "Dockerfile: the build stage installs the Makefile's DEPS_BUILD" ||
	not_ok "Dockerfile: the build stage installs the Makefile's DEPS_BUILD"

# COPY sources from the build context exist in the repository.
missing=
for src in $(instr COPY <"$T/df" | grep -v -- '--from' | awk '{ for (i = 1; i < NF; i++) print $i }'); do
	[ -e "$src" ] || missing="$missing $src"
done
[ -z "$missing" ] && ok "Dockerfile: every COPY source is in the repository" ||
	not_ok "Dockerfile: every COPY source is in the repository" "missing:$missing"
entry=$(stage 2 | instr ENTRYPOINT | tr -d '[]" ')
dest=$(stage 2 | instr COPY | awk -v ep="$EP" '$1 == ep { print $2 }')
[ -n "$entry" ] && [ "$entry" = "$dest" ] && [ -x "$EP" ] &&
	ok "Dockerfile: ENTRYPOINT is $EP, copied executable" || not_ok "Dockerfile: ENTRYPOINT is $EP, copied executable" "$entry / $dest"

# The build stage, replayed: its COPYs into a scratch /src, then its make.
mkdir -p "$T/src"
stage 1 | instr COPY | while read -r line; do
	set -- $line
	eval "d=\${$#}"
	while [ $# -gt 1 ]; do
		mkdir -p "$T/src/$d"
		if [ -d "$1" ]; then cp -R "$1/." "$T/src/$d"; else cp "$1" "$T/src/$d"; fi
		shift
	done
done
# As the Dockerfile runs it: a release build, whatever SAN this suite has.
if out=$(cd "$T/src" && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -j2 SAN= all 2>&1); then
	ok "Dockerfile: the build stage's COPYs are enough for make"
else
	not_ok "Dockerfile: the build stage's COPYs are enough for make" "$out"
fi
missing=
for src in $(stage 2 | instr COPY | grep -- '--from=build' | awk '{ for (i = 2; i < NF; i++) print $i }'); do
	[ -e "$T/src/${src#/src/}" ] || missing="$missing $src"
done
[ -z "$missing" ] && ok "Dockerfile: every COPY --from=build source is built by that stage" ||
	not_ok "Dockerfile: every COPY --from=build source is built by that stage" "missing:$missing"

# The runtime packages: real Debian 12 packages, and they cover every
# library the programs the build stage made load (their DT_NEEDED; OpenBLAS
# is linked in), libc6 being in every Debian image.
pkgs=$(stage 2 | instr RUN | sed -n 's/.*apt-get install -y --no-install-recommends \([^&]*\).*/\1/p')
apt_cache_works=$(apt-cache show --no-all-versions libc6 >/dev/null 2>&1 && echo 1)
unknown=
for p in $pkgs; do
	if [ -n "$apt_cache_works" ]; then
		apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || unknown="$unknown $p"
	else
		# No package lists (offline): the names make deps installed.
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || unknown="$unknown $p"
	fi
done
[ -n "$pkgs" ] && [ -z "$unknown" ] && ok "Dockerfile: the runtime packages are Debian 12's ($(echo $pkgs))" ||
	not_ok "Dockerfile: the runtime packages are Debian 12's" "unknown:$unknown" "list: $pkgs"
# "LIB PATH" for every library the programs link (as ldd resolves it).  The
# programs are the replayed build stage's: a release build, whatever SAN
# this suite has.
{
	for b in pth2blob scorepoint score.fcgi; do
		p=$T/src/build/release/$b
		needed=$(readelf -d "$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
		ldd "$p" 2>/dev/null | awk -v n=" $(echo $needed) " '$2 == "=>" && index(n, " " $1 " ") { print $1, $3 }'
	done
} | sort -u >"$T/libs"
uncovered=
while read -r lib path; do
	# dpkg knows a file by the path its package ships, before or after /usr merging.
	owner=$({ dpkg -S "$path" || dpkg -S "$(readlink -f "$path")"; } 2>/dev/null | head -n 1 | cut -d: -f1)
	case " $pkgs libc6 " in
	*" ${owner:-?} "*) ;;
	*) uncovered="$uncovered $lib(${owner:-no package})" ;;
	esac
done <"$T/libs"
[ "$(wc -l <"$T/libs")" -ge 4 ] || uncovered="$uncovered (only $(wc -l <"$T/libs") libraries found)"
[ -z "$uncovered" ] && ok "Dockerfile: the runtime packages hold every library the programs load" ||
	not_ok "Dockerfile: the runtime packages hold every library the programs load" "not covered:$uncovered"

# ---- the entry point, outside a container ----------------------------------
# The paths the image fixes are overridden; everything else is the script
# as the image runs it.
ep_env() {
	env PORT="$PORT" WORKERS=2 SCOREPOINT_BIND=127.0.0.1 SCOREPOINT_WORKSPACE="$T/ws" \
		SCOREPOINT_RUN_DIR="$T/run" SCOREPOINT_SCORE_FCGI="$PWD/$BUILD/score.fcgi" TMPDIR="$T/tmp" "$@"
}
EP_PID= LIGHTTPD_PID= WORKER_PIDS=
cleanup() {
	for p in $EP_PID $LIGHTTPD_PID $WORKER_PIDS; do kill -s KILL "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# start_entrypoint: runs the entry point on a free loopback port; sets URL,
# EP_PID (the script), LIGHTTPD_PID (its child) and WORKER_PIDS (lighttpd's
# score.fcgi children), READY_MS (start to the first /health answer).
start_entrypoint() {
	for try in 1 2 3 4 5 6 7 8; do
		PORT=$(free_port)
		URL="http://127.0.0.1:$PORT"
		: >"$T/ep.log"
		start_ns=$(date +%s%N)
		# Not ep_env: a function run in the background is a subshell of its
		# own, while env execs sh, so $! is the script.  >> so that every
		# writer appends.
		env PORT="$PORT" WORKERS=2 SCOREPOINT_BIND=127.0.0.1 SCOREPOINT_WORKSPACE="$T/ws" \
			SCOREPOINT_RUN_DIR="$T/run" SCOREPOINT_SCORE_FCGI="$PWD/$BUILD/score.fcgi" TMPDIR="$T/tmp" \
			sh "$EP" >>"$T/ep.log" 2>&1 &
		EP_PID=$!
		i=0
		while [ $i -lt 100 ] && kill -0 "$EP_PID" 2>/dev/null; do
			if curl -s -o /dev/null --max-time 2 "$URL/health"; then
				READY_MS=$((($(date +%s%N) - start_ns) / 1000000))
				LIGHTTPD_PID=$(pgrep -P "$EP_PID")
				# lighttpd starts its min-procs workers before it listens.
				WORKER_PIDS=$(pgrep -P "$LIGHTTPD_PID" | tr '\n' ' ')
				return 0
			fi
			sleep 0.05
			i=$((i + 1))
		done
		for p in $(pgrep -P "$EP_PID") $EP_PID; do kill -s KILL "$p" 2>/dev/null; done
		wait "$EP_PID" 2>/dev/null
		EP_PID=
	done
	echo "# the entry point did not serve:" && sed 's/^/#   /' "$T/ep.log" | tail -20
	return 1
}
# stop_entrypoint SIGNAL: sends it to the script; its exit status in EP_RC.
stop_entrypoint() {
	kill -s "$1" "$EP_PID"
	wait "$EP_PID"
	EP_RC=$?
	EP_PID=
}
# gone PIDS...: none of them is alive.
gone() {
	for p in "$@"; do
		[ -e "/proc/$p" ] && [ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" != Z ] && return 1
	done
	return 0
}
# check_gone NAME: lighttpd and its workers are gone within 5 s.
check_gone() {
	i=0
	while [ $i -lt 50 ] && ! gone $LIGHTTPD_PID $WORKER_PIDS; do sleep 0.1; i=$((i + 1)); done
	if gone $LIGHTTPD_PID $WORKER_PIDS; then
		ok "$1"
		LIGHTTPD_PID= WORKER_PIDS=
	else
		not_ok "$1" "alive: $(ps -o pid=,args= -p "$(echo $LIGHTTPD_PID $WORKER_PIDS | tr ' ' ,)")"
	fi
}

out=$(env PORT=http sh "$EP" 2>&1)
rc=$?
[ $rc = 2 ] && check_contains "entrypoint: PORT=http is refused" "PORT=http: not a whole number" "$out" ||
	not_ok "entrypoint: PORT=http is refused" "exit $rc: $out"
PORT=8080
out=$(ep_env WORKERS=0 sh "$EP" 2>&1)
rc=$?
[ $rc = 2 ] && check_contains "entrypoint: WORKERS=0 is refused" "WORKERS=0: use 1 to 256" "$out" ||
	not_ok "entrypoint: WORKERS=0 is refused" "exit $rc: $out"
out=$(ep_env SCOREPOINT_WORKSPACE="$T/my ws" sh "$EP" 2>&1)
rc=$?
[ $rc = 2 ] && check_contains "entrypoint: a path lighttpd would split is refused" "SCOREPOINT_WORKSPACE='$T/my ws'" "$out" ||
	not_ok "entrypoint: a path lighttpd would split is refused" "exit $rc: $out"
[ "$(sh "$EP" echo passed through)" = "passed through" ] && ok "entrypoint: arguments run instead (docker run IMAGE scorepoint ...)" ||
	not_ok "entrypoint: arguments run instead (docker run IMAGE scorepoint ...)"

# The tutorial's endpoint 1, made with the CLI.
export SCOREPOINT_WORKSPACE="$T/ws"
if "$SP" model create --path fixtures/model --name model-online-1 --version 1 --type mlflow_model >/dev/null &&
	"$SP" online-endpoint create -f deploy/examples/endpoint_1/cloud/endpoint.yml >/dev/null &&
	"$SP" online-deployment create -f deploy/examples/endpoint_1/cloud/deployment.yml --all-traffic >/dev/null; then
	ok "a workspace with the tutorial's endpoint 1, made with the CLI"
else
	not_ok "a workspace with the tutorial's endpoint 1, made with the CLI"
fi
KEY=$("$SP" online-endpoint get-credentials --name endpoint-online-1 --query primaryKey -o tsv)

start_entrypoint || { not_ok "entrypoint: lighttpd serves on \$PORT"; exit 1; }
ok "entrypoint: lighttpd serves on \$PORT"
echo "# cold start, entry point to the first /health answer: $READY_MS ms"
conf=$T/run/lighttpd.conf
grep -q "^server.bind = \"127.0.0.1\"" "$conf" && grep -q "^server.port = $PORT\$" "$conf" &&
	grep -q '"max-procs" => 2,' "$conf" && ok "entrypoint: the config binds \$SCOREPOINT_BIND:\$PORT with \$WORKERS processes" ||
	not_ok "entrypoint: the config binds \$SCOREPOINT_BIND:\$PORT with \$WORKERS processes" "$(cat "$conf")"
n=0
for p in $WORKER_PIDS; do
	tr '\0' ' ' <"/proc/$p/cmdline" | grep -q "score.fcgi --workspace $T/ws " && n=$((n + 1))
done
[ $n = 2 ] && ok "entrypoint: WORKERS=2 score.fcgi --workspace processes under lighttpd" ||
	not_ok "entrypoint: WORKERS=2 score.fcgi --workspace processes under lighttpd" "children: $WORKER_PIDS"

code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
	--data-binary @$REQ "$URL/endpoint-online-1/score")
[ "$code" = 200 ] && logits_like "$T/out" $WANT && ok "entrypoint: the tutorial's request with the key: torch's logits" ||
	not_ok "entrypoint: the tutorial's request with the key: torch's logits" "$code" "$(head -c 300 "$T/out")"
echo "# the first scored request after the start: $(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $KEY" \
	-H "Content-Type: application/json" --data-binary @$REQ "$URL/endpoint-online-1/score") s (the second one)"
# of-watchdog's http mode may forward a body chunked.
code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
	-H "Transfer-Encoding: chunked" --data-binary @$REQ "$URL/endpoint-online-1/score")
[ "$code" = 200 ] && logits_like "$T/out" $WANT && ok "entrypoint: a chunked request body is scored too" ||
	not_ok "entrypoint: a chunked request body is scored too" "$code" "$(head -c 300 "$T/out")"
code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Content-Type: application/json" --data-binary @$REQ "$URL/endpoint-online-1/score")
[ "$code" = 401 ] && ok "entrypoint: without the key, 401" || not_ok "entrypoint: without the key, 401" "$code"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$URL/health")
[ "$code" = 200 ] && ok "entrypoint: GET /health 200" || not_ok "entrypoint: GET /health 200" "$code"
if out=$(env PORT=$PORT sh -c "$health" 2>&1); then
	ok "the image's HEALTHCHECK command passes against it"
else
	not_ok "the image's HEALTHCHECK command passes against it" "$health" "$out"
fi
if env PORT=$((PORT == 65535 ? 1 : PORT + 1)) sh -c "$health" >/dev/null 2>&1; then
	not_ok "the HEALTHCHECK command fails where nothing listens"
else
	ok "the HEALTHCHECK command fails where nothing listens"
fi
grep -q '"endpoint": "endpoint-online-1", "deployment": "blue", "route": "score", "method": "POST", "status": 200' "$T/ep.log" &&
	ok "entrypoint: score.fcgi's request log goes to the container's stderr" ||
	not_ok "entrypoint: score.fcgi's request log goes to the container's stderr" "$(tail -n 5 "$T/ep.log")"

stop_entrypoint TERM
[ "$EP_RC" = 0 ] && ok "SIGTERM: the entry point exits 0" || not_ok "SIGTERM: the entry point exits 0" "exit $EP_RC" "$(tail -n 5 "$T/ep.log")"
check_gone "SIGTERM: no lighttpd or score.fcgi process is left"

# SIGTERM while a request is still uploading (curl at 8 KB/s, about 3 s):
# it is answered before the entry point exits 0.
start_entrypoint || { not_ok "entrypoint: starts again"; exit 1; }
curl -s -o "$T/slow" -w '%{http_code}' --limit-rate 8k -H "Authorization: Bearer $KEY" \
	-H "Content-Type: application/json" --data-binary @$REQ "$URL/endpoint-online-1/score" >"$T/slow.code" &
curl_pid=$!
sleep 1
stop_entrypoint TERM
wait $curl_pid
[ "$EP_RC" = 0 ] && ok "SIGTERM in flight: the entry point exits 0" ||
	not_ok "SIGTERM in flight: the entry point exits 0" "exit $EP_RC" "$(tail -n 5 "$T/ep.log")"
[ "$(cat "$T/slow.code")" = 200 ] && logits_like "$T/slow" $WANT &&
	ok "SIGTERM in flight: the request is answered first" ||
	not_ok "SIGTERM in flight: the request is answered first" "$(cat "$T/slow.code")" "$(head -c 300 "$T/slow")"
check_gone "SIGTERM in flight: no lighttpd or score.fcgi process is left"

# An empty workspace (a volume not filled yet) is served, with a warning.
out=$(ep_env SCOREPOINT_WORKSPACE="$T/empty" LIGHTTPD=true sh "$EP" 2>&1)
rc=$?
[ $rc = 0 ] && check_contains "entrypoint: a workspace without state.yaml is served, with a warning" \
	"has no state.yaml" "$out" || not_ok "entrypoint: a workspace without state.yaml is served, with a warning" "exit $rc: $out"

# ---- deploy/k8s/README.md's blue and green workspaces -----------------------
# One workspace with endpoint 4's two deployments, copied; green's copy sends
# the endpoint's traffic to green.  One key serves both; each copy answers
# from its own deployment (score.fcgi as CGI).
W=$T/ws4
if "$SP" model create --path fixtures/model --name model-online-4 --version 1 --type mlflow_model --workspace "$W" >/dev/null &&
	"$SP" online-endpoint create -f deploy/examples/endpoint_4/cloud/endpoint.yml --workspace "$W" >/dev/null &&
	"$SP" online-deployment create -f deploy/examples/endpoint_4/cloud/deployment-blue.yml --all-traffic --workspace "$W" >/dev/null &&
	"$SP" online-deployment create -f deploy/examples/endpoint_4/cloud/deployment-green.yml --workspace "$W" >/dev/null &&
	cp -a "$W" "$T/ws-blue" && cp -a "$W" "$T/ws-green" &&
	"$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=0 green=100" --workspace "$T/ws-green" >/dev/null; then
	ok "blue/green: two workspaces made as deploy/k8s/README.md says"
else
	not_ok "blue/green: two workspaces made as deploy/k8s/README.md says"
fi
KEY4=$("$SP" online-endpoint get-credentials --name endpoint-online-4 --query primaryKey -o tsv --workspace "$W")
for color in blue green; do
	REQUEST_METHOD=POST REQUEST_URI=/endpoint-online-4/score CONTENT_TYPE=application/json \
		CONTENT_LENGTH=$(wc -c <$REQ) HTTP_AUTHORIZATION="Bearer $KEY4" \
		"$BUILD/score.fcgi" --cgi --workspace "$T/ws-$color" --log - <$REQ >"$T/cgi-$color"
	sed '1,/^\r*$/d' "$T/cgi-$color" >"$T/body-$color"
	head -n 1 "$T/cgi-$color" | grep -q '^Status: 200' && grep -q "^azureml-model-deployment: $color" "$T/cgi-$color" &&
		logits_like "$T/body-$color" $WANT && ok "blue/green: the $color workspace answers the key from $color" ||
		not_ok "blue/green: the $color workspace answers the key from $color" "$(head -c 400 "$T/cgi-$color")"
done

# ---- man pages --------------------------------------------------------------
# groff's every warning (-ww) fails; every long option and every verb of
# each program's --help is in its page.
for m in man/*.1; do
	warnings=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
	[ -z "$warnings" ] && ok "$m: groff -man -ww renders it without a warning" ||
		not_ok "$m: groff -man -ww renders it without a warning" "$warnings"
done
# The page's text with \- as - and no font changes.
page() { sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\(dq/"/g' "man/$1.1"; }
# covers PAGE HELP-TEXT: the long options of HELP-TEXT missing from PAGE.
covers() {
	for o in $(printf '%s\n' "$2" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		page "$1" | grep -qE -- "$o([^a-z0-9-]|\$)" || printf ' %s' "$o"
	done
}
help=$("$BUILD/score.fcgi" --help)
missing=$(covers score.fcgi "$help")
for v in $(printf '%s\n' "$help" | grep -oE '\[SCOREPOINT_[A-Z_]+\]' | tr -d '[]'); do
	page score.fcgi | grep -qw "$v" || missing="$missing $v"
done
[ -z "$missing" ] && ok "score.fcgi.1: every option and variable of score.fcgi --help" ||
	not_ok "score.fcgi.1: every option and variable of score.fcgi --help" "missing:$missing"
missing=$(covers pth2blob "$("$BUILD/pth2blob" --help)")
[ -z "$missing" ] && ok "pth2blob.1: every option of pth2blob --help" ||
	not_ok "pth2blob.1: every option of pth2blob --help" "missing:$missing"
missing=
verbs=$("$SP" --help | awk '/^  [a-z]/ { print $1 ($2 ~ /^[A-Z]/ ? "" : ":" $2) }')
for gv in $verbs; do
	g=${gv%%:*} v=
	[ "$gv" = "$g" ] || v=${gv#*:}
	page scorepoint | grep -qx "\.SS $g${v:+ $v}" || missing="$missing [section $g $v]"
	missing="$missing$(covers scorepoint "$("$SP" $g $v --help)")"
done
[ -n "$verbs" ] && [ -z "$missing" ] && ok "scorepoint.1: a section and every option of each verb's --help ($(echo $verbs | wc -w) verbs)" ||
	not_ok "scorepoint.1: a section and every option of each verb's --help" "missing:$missing"

# ---- make install / uninstall -----------------------------------------------
case $BUILD in *san) san=1 ;; *) san= ;; esac
R=$T/root
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory SAN=$san PREFIX=/usr DESTDIR="$R" "$@"; }
if out=$(mk install 2>&1); then ok "make install PREFIX=/usr DESTDIR=..."; else not_ok "make install PREFIX=/usr DESTDIR=..." "$out"; fi
bad=
for f in bin/pth2blob bin/scorepoint bin/score.fcgi; do
	[ "$(stat -c %a "$R/usr/$f" 2>/dev/null)" = 755 ] && cmp -s "$R/usr/$f" "$BUILD/${f#bin/}" || bad="$bad $f"
done
for f in share/man/man1/score.fcgi.1 share/man/man1/pth2blob.1 share/man/man1/scorepoint.1 \
	share/doc/scorepoint/README.md share/doc/scorepoint/docs/cli.md share/doc/scorepoint/docs/workspace.md \
	share/doc/scorepoint/examples/endpoint_4/cloud/deployment-green.yml; do
	[ "$(stat -c %a "$R/usr/$f" 2>/dev/null)" = 644 ] || bad="$bad $f"
done
for d in bin share/man/man1 share/doc/scorepoint share/doc/scorepoint/examples/endpoint_1/cloud; do
	[ "$(stat -c %a "$R/usr/$d" 2>/dev/null)" = 755 ] || bad="$bad $d/"
done
[ -z "$bad" ] && ok "make install: programs 0755 in bin, man pages and docs 0644" ||
	not_ok "make install: programs 0755 in bin, man pages and docs 0644" "wrong or missing:$bad" "$(cd "$R" && find . | sort)"
grep -q '/usr/share/doc/scorepoint' "$R/usr/share/man/man1/scorepoint.1" && ! grep -q /usr/local "$R/usr/share/man/man1/"*.1 &&
	[ -z "$(groff -man -Tutf8 -ww -z "$R/usr/share/man/man1/score.fcgi.1" 2>&1)" ] &&
	ok "make install: the man pages name PREFIX's docs" || not_ok "make install: the man pages name PREFIX's docs"

# The installed CLI runs the installed score.fcgi, next to itself.
out=$(env -u SCOREPOINT_SCORE_FCGI "$R/usr/bin/scorepoint" online-endpoint invoke --name endpoint-online-1 \
	--request-file $REQ --workspace "$T/ws" 2>&1 >"$T/invoked")
[ $? = 0 ] && logits_like "$T/invoked" $WANT && ok "installed: scorepoint online-endpoint invoke scores through score.fcgi" ||
	not_ok "installed: scorepoint online-endpoint invoke scores through score.fcgi" "$out" "$(head -c 300 "$T/invoked")"
mv "$R/usr/bin/score.fcgi" "$T/score.fcgi.away"
out=$(env -u SCOREPOINT_SCORE_FCGI "$R/usr/bin/scorepoint" online-endpoint invoke --name endpoint-online-1 \
	--request-file $REQ --workspace "$T/ws" 2>&1)
rc=$?
mv "$T/score.fcgi.away" "$R/usr/bin/score.fcgi"
[ $rc = 1 ] && check_contains "installed: ... the score.fcgi in its own bin, not another" "$R/usr/bin/score.fcgi" "$out" ||
	not_ok "installed: ... the score.fcgi in its own bin, not another" "exit $rc: $out"

if out=$(mk uninstall 2>&1); then
	left=$(find "$R" -type f; [ -d "$R/usr/share/doc/scorepoint" ] && echo "$R/usr/share/doc/scorepoint/")
	[ -z "$left" ] && ok "make uninstall removes every file and the doc folder" ||
		not_ok "make uninstall removes every file and the doc folder" "left: $left"
else
	not_ok "make uninstall removes every file and the doc folder" "$out"
fi
