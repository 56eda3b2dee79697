#!/bin/sh
# tools/container_base.sh [IMAGE] - make the Debian 12 base image that
# `make container` and tests/container build on, without an image registry:
# debootstrap --variant=minbase bookworm from the Debian mirror apt already
# uses, imported with `podman import` as IMAGE (scorepoint-base:bookworm).
#
# Both are cached: the image is made only when `podman image exists` says it
# is missing, from the root folder build/container/bookworm (made once; a
# half-made one, without its .done mark, is made again).  Prints IMAGE.
#
# Environment:
#   CONTAINER_BUILD  the folder for the cache (build/container)
#   DEBIAN_MIRROR    the mirror (the first Debian URI in /etc/apt/sources.list*,
#                    else http://deb.debian.org/debian)
#   CONTAINERS_CONF  podman's settings (deploy/container/containers.conf:
#                    runc, cgroupfs, no default ulimits; what works here)
#
# Needs root (debootstrap), podman and debootstrap (the Makefile's
# DEPS_CONTAINER).
set -eu
cd "$(dirname "$0")/.."
image=${1:-scorepoint-base:bookworm}
dir=${CONTAINER_BUILD:-build/container}
root=$dir/bookworm
: "${CONTAINERS_CONF:=$PWD/deploy/container/containers.conf}"
export CONTAINERS_CONF

fail() {
	echo "container_base: $*" >&2
	exit 1
}

# The first Debian archive among apt's sources (one-line and deb822 forms),
# not the security archive; deb.debian.org when there is none.
mirror() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}:[^ ]*\/debian\/\{0,1\}\) .*/\2/p' \
			-e 's/^URIs: *\(https\{0,1\}:[^ ]*\/debian\/\{0,1\}\)$/\1/p' |
		head -n 1 | grep . || echo http://deb.debian.org/debian
}

if podman image exists "$image"; then
	echo "$image"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "debootstrap needs root"
command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"
if [ ! -e "$root/.done" ]; then
	m=${DEBIAN_MIRROR:-$(mirror)}
	echo "container_base: debootstrap --variant=minbase bookworm $root $m" >&2
	rm -rf "$root"
	mkdir -p "$root"
	debootstrap --variant=minbase bookworm "$root" "$m" >"$dir/debootstrap.log" 2>&1 ||
		fail "debootstrap failed: $dir/debootstrap.log"
	# The image keeps no package lists or downloaded .debs: a build stage
	# runs apt-get update itself.
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	: >"$root/.done"
fi
# .done is left out of the image.
tar -C "$root" --exclude ./.done -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$image" >/dev/null ||
	fail "podman import $image failed"
echo "$image"
