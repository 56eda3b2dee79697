#!/bin/sh
# tools/deps.sh PACKAGE... - make sure Debian packages are installed.
# Installs exactly the missing ones with apt-get when run as root; otherwise
# prints the apt-get line to run and fails.  Used by `make deps`.  A word
# A|B names alternatives: any one installed will do, else A is installed
# (e.g. kubernetes-client|kubectl: Debian's, or a machine's own kubectl
# package, which owns the same /usr/bin/kubectl).
set -eu
installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]; }
missing=
for alts in "$@"; do
	found=
	for p in $(echo "$alts" | tr '|' ' '); do
		if installed "$p"; then
			found=1
			break
		fi
	done
	[ -n "$found" ] || missing="$missing ${alts%%|*}"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# An install against a stale or empty package list fails; refresh once.
	apt-get install -y -q --no-install-recommends $missing ||
		{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; }
else
	echo "deps: missing packages; run as root:" >&2
	echo "  apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
