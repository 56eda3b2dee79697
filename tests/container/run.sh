#!/bin/sh
# tests/container/run.sh [BUILD_DIR] - what `make test-container` runs, on
# its own (not in `make test`: it needs podman and root, and takes minutes
# the first time): builds both images with tools/container_build.sh, then
# runs tests/container/serve.sh against each and the slim image's own
# checks.  Prints TAP lines and closes with "N passed, N failed", like
# tests/run.sh; exit status non-zero when anything failed.
#
# BUILD_DIR (build/release) holds the scorepoint CLI that makes the tests'
# workspace.  Disk: the base image, the build stage's layers and both images
# stay in podman's storage (/var/lib/containers) between runs, and the
# debootstrap folder in build/container.
set -u
build=${1:-build/release}
cd "$(dirname "$0")/../.." || exit 2
export BUILD="$build"
# As tests/run.sh: every worker names its kernels from the CPU.
unset OPENBLAS_CORETYPE
: "${CONTAINERS_CONF:=$PWD/deploy/container/containers.conf}"
export CONTAINERS_CONF
IMAGE=${SCOREPOINT_IMAGE:-scorepoint}
SLIM=${SCOREPOINT_SLIM_IMAGE:-scorepoint-slim}
export SCOREPOINT_IMAGE="$IMAGE" SCOREPOINT_SLIM_IMAGE="$SLIM"
log=$build/test-logs/container
mkdir -p "$log"
passed=0
failed=0

# count NAME LOG RC: adds LOG's TAP lines; prints the failures.
count() {
	p=$(grep -c '^ok - ' "$2")
	f=$(grep -c '^not ok - ' "$2")
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $1 exited with status $3 without reporting a failure" >>"$2"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	grep -E '^(ok|not ok) - |^#' "$2"
}

if [ ! -x "$build/scorepoint" ]; then
	echo "not ok - $build/scorepoint is built (make all)"
	echo "0 passed, 1 failed"
	exit 1
fi
start=$(date +%s)
if sh tools/container_build.sh >"$log/build.log" 2>&1; then
	echo "ok - make container: $IMAGE and $SLIM build ($(($(date +%s) - start)) s)"
	passed=$((passed + 1))
else
	echo "not ok - make container: $IMAGE and $SLIM build"
	tail -n 30 "$log/build.log" | sed 's/^/#   /'
	echo "0 passed, 1 failed"
	exit 1
fi

for kind in full slim; do
	image=$IMAGE
	[ $kind = full ] || image=$SLIM
	IMAGE=$image KIND=$kind sh tests/container/serve.sh >"$log/$kind.log" 2>&1 </dev/null
	count "serve.sh ($kind)" "$log/$kind.log" $?
done
sh tests/container/slim.sh >"$log/slim-image.log" 2>&1 </dev/null
count slim.sh "$log/slim-image.log" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
