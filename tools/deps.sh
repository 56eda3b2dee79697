#!/bin/sh
# tools/deps.sh PACKAGE... - make sure Debian packages are installed.
# Installs exactly the missing ones with apt-get when run as root; otherwise
# prints the apt-get line to run and fails.  Used by `make deps`.
set -eu
missing=
for p in "$@"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
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
