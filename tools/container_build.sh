#!/bin/sh
# tools/container_build.sh [full|slim]... - what `make container` runs: builds
# deploy/container/Dockerfile (full: tagged scorepoint) and
# deploy/container/Containerfile.slim (slim: scorepoint-slim) with podman,
# offline: FROM the Debian 12 base that tools/container_base.sh makes (passed
# as --build-arg BASE), the build steps on the host's network (apt-get in
# the build stage reaches the Debian mirror).  Both by default; podman's
# layer cache makes a second build of unchanged sources take seconds, and
# the slim image reuses the full one's build stage.
#
# Environment: SCOREPOINT_IMAGE, SCOREPOINT_SLIM_IMAGE (the tags),
# CONTAINERS_CONF (deploy/container/containers.conf), and
# tools/container_base.sh's.
set -eu
cd "$(dirname "$0")/.."
: "${CONTAINERS_CONF:=$PWD/deploy/container/containers.conf}"
export CONTAINERS_CONF
command -v podman >/dev/null || { echo "container_build: podman is not installed" >&2; exit 1; }
base=$(sh tools/container_base.sh)
for kind in ${*:-full slim}; do
	case $kind in
	# --format docker: the full image keeps its HEALTHCHECK (OCI has no field
	# for it), and the slim one shares its build stage (layers of one format).
	full) file=Dockerfile tag=${SCOREPOINT_IMAGE:-scorepoint} format=docker ;;
	slim) file=Containerfile.slim tag=${SCOREPOINT_SLIM_IMAGE:-scorepoint-slim} format=docker ;;
	*) echo "container_build: $kind: full or slim" >&2; exit 2 ;;
	esac
	echo "container_build: $tag from deploy/container/$file on $base" >&2
	podman build --network host --format $format --build-arg BASE="$base" -f "deploy/container/$file" -t "$tag" .
done
