#!/bin/sh
# bench/container.sh [BUILD_DIR] - the container images' cold start: for the
# full image (deploy/container/Dockerfile) and the slim one
# (Containerfile.slim), the time from `podman run` to the first 200 on
# GET /health and, in other runs, on the tutorial's scoring request with
# its key (median, min and max of 5 runs each), the share of it that
# `podman run -d` takes to return (the container made and its entry point
# started: podman and runc), and each image's size.
# Podman as tests/container runs it (tests/container/lib.sh: runc, host
# network, 127.0.0.1, WORKERS=2, the workspace mounted read-only), the
# images built first by tools/container_build.sh (cached: seconds when the
# sources are unchanged).  Markdown on stdout; "name": value lines for
# results.json on fd 3 when it is open.  Without podman it says so and
# exits 0.
set -eu
build=${1:-build/release}
cd "$(dirname "$0")/.."
RUNS=5
if ! command -v podman >/dev/null; then
	echo "podman is not installed: no container figures (make deps-container)."
	exit 0
fi
BUILD=$build
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
. tests/container/lib.sh
IMAGE=${SCOREPOINT_IMAGE:-scorepoint}
SLIM=${SCOREPOINT_SLIM_IMAGE:-scorepoint-slim}
sh tools/container_build.sh >"$T/build.log" 2>&1 || { tail -n 20 "$T/build.log" >&2; exit 1; }
make_endpoint_1 >&2 || exit 1
chown -R 10001:10001 "$W"
if { : >&3; } 2>/dev/null; then lines=3; else lines=; fi
C=sp-bench-$$
CTR_POLL=0.01

# The scoring request as curl's options, from a file (a header holds a space).
printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\n' \
	"$KEY" "$REQ" >"$T/score.curl"

# ready IMAGE [PATH CURL-CONFIG]: READY_MS of RUNS starts, one a line,
# sorted; /health, or PATH asked with CURL-CONFIG's options.  Their RUN_MS
# go to $T/run.ms.
ready() {
	for i in $(seq $RUNS); do
		CTR_PROBE=${2:-} CTR_PROBE_OPTS=${3:+-K $3} ctr_start "$C" "$1" -v "$W:/workspace:ro" ||
			{ sed 's/^/# /' "$T/$C.log" >&2; exit 1; }
		echo "$READY_MS"
		echo "$RUN_MS" >>"$T/run.ms"
		ctr_rm "$C"
	done | sort -n
}
# stats: "median min max" of sorted numbers, one a line.
stats() { awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'; }

echo "| image | size (MB) | podman run to /health 200 (ms) | podman run to a scored 200 (ms) |" \
	"of which podman run -d (ms) |"
echo "|---|---:|---:|---:|---:|"
for kind in full slim; do
	image=$IMAGE
	[ $kind = full ] || image=$SLIM
	size=$(podman image inspect --format '{{.Size}}' "$image")
	h=$(ready "$image" | stats)
	s=$(ready "$image" /endpoint-online-1/score "$T/score.curl" | stats)
	f=$(sort -n "$T/run.ms" | stats)
	rm -f "$T/run.ms"
	echo "$kind $image $size $h $s $f" | awk '{
		printf "| %s (%s) | %.1f | %s (%s-%s) | %s (%s-%s) | %s (%s-%s) |\n",
		$1, $2, $3 / 1e6, $4, $5, $6, $7, $8, $9, $10, $11, $12 }'
	[ -z "$lines" ] || echo "$kind $size $h $s $f" | awk '{ k = "\"container_" $1
		printf "%s_bytes\": %s,\n%s_health_ms\": %s,\n", k, $2, k, $3
		printf "%s_score_ms\": %s,\n%s_podman_run_ms\": %s,\n", k, $6, k, $9 }' >&3
done
echo
echo "Median (min-max) of $RUNS runs each; podman $(podman version --format '{{.Client.Version}}') with runc," \
	"host network, WORKERS=2."
