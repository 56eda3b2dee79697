# deploy/k8s and deploy/knative validated offline: `kubectl kustomize`
# renders each (Debian's kubernetes-client 1.20 or a newer kubectl, no
# cluster), and tools/manifest_schema.js checks every rendered object
# against the API schemas of npm's kubernetes-models packages (versions
# pinned by tools/manifest_schema/package-lock.json, installed with `npm ci`
# into $BUILD/manifest-schema, not committed), plus the Knative Service's
# fit with the container; broken copies are refused.  Then `scorepoint
# serve` and PORT: PORT=N listens on N, --port wins, a bad PORT is one line.
. tests/e2e/lib.sh
SP=$BUILD/scorepoint
NM=$BUILD/manifest-schema/node_modules

SERVE_PID=
trap 'stop_pid "$SERVE_PID"; rm -rf "$T"' EXIT
trap 'exit 1' HUP INT PIPE TERM

# ---- render ----
if ! command -v kubectl >/dev/null; then
	not_ok "kubectl is installed (apt-get install kubernetes-client)"
	exit 1
fi
# render DIR KINDS: kubectl kustomize DIR into $T/DIR.yaml, whose kinds
# (sorted, one a line) must be KINDS.
render() {
	out=$T/$(basename "$1").yaml
	if ! kubectl kustomize "$1" >"$out" 2>"$T/err"; then
		not_ok "kubectl kustomize $1" "$(cat "$T/err")"
		return
	fi
	kinds=$(sed -n 's/^kind: //p' "$out" | sort | tr '\n' ' ')
	[ "$kinds" = "$2" ] && ok "kubectl kustomize $1: $kinds" || not_ok "kubectl kustomize $1" "kinds: $kinds" "want: $2"
}
render deploy/k8s "Deployment Deployment HTTPRoute HorizontalPodAutoscaler HorizontalPodAutoscaler \
PersistentVolumeClaim PersistentVolumeClaim Service Service "
render deploy/knative "PersistentVolumeClaim Service "

# ---- the schemas, from npm ----
# installed BUILD/manifest-schema: node_modules installed from the lock file
# as it is now (reused while the lock is unchanged).
installed() {
	[ -d "$NM" ] && cmp -s tools/manifest_schema/package-lock.json "$BUILD/manifest-schema/package-lock.json"
}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	not_ok "node and npm are installed (apt-get install npm)"
	exit 1
fi
if ! installed; then
	rm -rf "$BUILD/manifest-schema"
	mkdir -p "$BUILD/manifest-schema"
	cp tools/manifest_schema/package.json tools/manifest_schema/package-lock.json "$BUILD/manifest-schema/"
	if ! (cd "$BUILD/manifest-schema" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund) >"$T/npm" 2>&1; then
		rm -rf "$BUILD/manifest-schema"
		if timeout 60 npm ping >/dev/null 2>&1; then
			not_ok "npm ci of tools/manifest_schema" "$(tail -5 "$T/npm")"
			exit 1
		fi
		echo "ok - the schema checks # SKIP the npm registry is unreachable"
		exit 0
	fi
fi

# schema NAME FILE: manifest_schema.js accepts every object of FILE.
schema() {
	if node tools/manifest_schema.js "$NM" "$2" >"$T/out" 2>&1; then
		ok "$1: $(grep -c '^ok ' "$T/out") objects match their schemas"
	else
		not_ok "$1: every object matches its schema" "$(cat "$T/out")"
	fi
}
# refused NAME FRAGMENT SED FILE: FILE edited by SED is refused, naming FRAGMENT.
refused() {
	sed "$3" "$4" >"$T/broken.yaml"
	if cmp -s "$T/broken.yaml" "$4"; then
		not_ok "refused: $1" "the edit $3 changed nothing"
	elif node tools/manifest_schema.js "$NM" "$T/broken.yaml" >"$T/out" 2>&1; then
		not_ok "refused: $1" "accepted"
	elif grep -qF -- "$2" "$T/out"; then
		ok "refused: $1"
	else
		not_ok "refused: $1" "no \"$2\" in:" "$(cat "$T/out")"
	fi
}
K8S=$T/k8s.yaml KN=$T/knative.yaml
schema "deploy/k8s rendered" "$K8S"
schema "deploy/knative rendered" "$KN"
refused "a containerPort that is not a number" "containerPort must be integer" \
	's/containerPort: 8080/containerPort: eighty/' "$K8S"
refused "an unknown kind" "no schema for Deploymint" 's/^kind: Deployment$/kind: Deploymint/' "$K8S"
refused "an HPA target that is not a number" "averageUtilization must be integer" \
	's/averageUtilization: 60/averageUtilization: sixty/' "$K8S"
refused "a Knative containerConcurrency that is not a number" "containerConcurrency must be integer" \
	's/containerConcurrency: 2$/containerConcurrency: two/' "$KN"
refused "containerConcurrency other than WORKERS" "containerConcurrency equals the container's WORKERS" \
	's/containerConcurrency: 2$/containerConcurrency: 8/' "$KN"
refused "a PORT of the Service's own" "no PORT in env" 's/- name: WORKERS/- name: PORT/' "$KN"
refused "the workspace mounted writable" "persistentVolumeClaim read-only" 's/readOnly: true/readOnly: false/' "$KN"

# ---- scorepoint serve and PORT ----
# serve_up PORT [ARGS...]: PORT=PORT scorepoint serve ARGS on an empty
# workspace; 0 when GET /health answers 200 within 20 s on $WHERE.
mkdir -p "$T/tmp"
serve_up() {
	su_port=$1
	shift
	env PORT="$su_port" TMPDIR="$T/tmp" "$SP" serve --workspace "$T/ws" "$@" >"$T/serve.out" 2>"$T/serve.err" </dev/null &
	SERVE_PID=$!
	i=0
	while [ $i -lt 200 ] && kill -0 "$SERVE_PID" 2>/dev/null; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$WHERE/health")" = 200 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
stop_serve() {
	stop_pid "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}
P=$(free_port)
WHERE=$P
if serve_up "$P"; then
	# serve prints its banner once its own GET /health has answered: a tick after ours, at most.
	i=0
	while [ $i -lt 50 ] && ! grep -q "^scorepoint serve: http://127.0.0.1:$P/" "$T/serve.out"; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q "^scorepoint serve: http://127.0.0.1:$P/" "$T/serve.out" && ok "PORT=$P: serve listens there" ||
		not_ok "PORT=$P: serve says where it listens" "$(cat "$T/serve.out")"
else
	not_ok "PORT=$P: serve listens there" "$(cat "$T/serve.err")"
fi
stop_serve
P2=$(free_port)
WHERE=$P2
if serve_up "$P" --port "$P2"; then
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$P/health")
	[ "$code" = 000 ] && ok "PORT=$P --port $P2: --port wins" || not_ok "--port wins" "PORT's $P answered $code"
else
	not_ok "PORT=$P --port $P2: --port wins" "$(cat "$T/serve.err")"
fi
stop_serve
for bad in abc 0 65536 -1 8080x; do
	# (timeout: a serve that took it would serve on and on)
	PORT=$bad timeout 20 "$SP" serve --workspace "$T/ws" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	[ $rc = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && [ ! -s "$T/out" ] &&
		grep -qF "PORT=$bad in the environment: expected a whole number" "$T/err" &&
		ok "PORT=$bad: refused in one line" || not_ok "PORT=$bad: refused in one line" "rc=$rc" "$(cat "$T/err")"
done
