# tests/e2e/lib.sh - sourced by every end-to-end script.
#
# Scripts run from the repository root with BUILD set to the build folder
# (build/release or build/san) and print TAP-style lines that tests/run.sh
# counts.  Each script gets a private scratch folder $T, removed on exit.

: "${BUILD:?BUILD must name the build folder}"
T=$(mktemp -d "${TMPDIR:-/tmp}/sp-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

ok() { echo "ok - $1"; }

# not_ok NAME [DIAGNOSTIC...]
not_ok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /' | head -n 20
	done
}

# check NAME CMD... : passes when CMD exits 0.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "failed: $*" "$out"; fi
}

# check_fails NAME FRAGMENT CMD... : passes when CMD exits non-zero and its
# output contains FRAGMENT.
check_fails() {
	name=$1 fragment=$2
	shift 2
	if out=$("$@" 2>&1); then
		not_ok "$name" "succeeded but should have failed: $*" "$out"
	elif printf '%s' "$out" | grep -qF -- "$fragment"; then
		ok "$name"
	else
		not_ok "$name" "output lacks '$fragment': $*" "$out"
	fi
}

# check_contains NAME FRAGMENT TEXT
check_contains() {
	if printf '%s' "$3" | grep -qF -- "$2"; then ok "$1"; else not_ok "$1" "lacks '$2'" "$3"; fi
}
