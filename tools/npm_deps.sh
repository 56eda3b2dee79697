#!/bin/sh
# tools/npm_deps.sh DIR... - install each DIR's npm packages exactly as its
# package-lock.json pins them (npm ci, no install scripts) into
# DIR/node_modules, unless that tree was already installed from the same
# lock file (a copy kept as DIR/node_modules/.scorepoint-lock).  Used by
# `make deps`; needs node and npm (Debian's npm package).
set -eu
for d in "$@"; do
	stamp=$d/node_modules/.scorepoint-lock
	cmp -s "$d/package-lock.json" "$stamp" 2>/dev/null && continue
	echo "deps: npm ci in $d"
	rm -rf "$d/node_modules"
	(cd "$d" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
	cp "$d/package-lock.json" "$stamp"
done
