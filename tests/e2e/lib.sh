# tests/e2e/lib.sh - sourced by every end-to-end script.
#
# Scripts run from the repository root with BUILD set to the build folder
# (build/release or build/san) and print TAP-style lines that tests/run.sh
# counts.  Each script gets a private scratch folder $T, removed on exit.
# bench/lib.sh and tests/soak source it too, for $T, free_port and stop_pid.

: "${BUILD:?BUILD must name the build folder}"
T=$(mktemp -d "${TMPDIR:-/tmp}/sp-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

ok() { echo "ok - $1"; }

# free_port: a loopback port for a server to try, at random below the
# kernel's ephemeral range (ip_local_port_range: 32768 by default), so that
# no client's outgoing connection holds it (SO_REUSEADDR does not help
# against one), and one where nothing answers a connection (curl's exit 7)
# if ten draws find one.  Every server of the tests and of bench/ takes its
# port from here; one bound in between makes the server exit, and its
# starter tries again.
free_port() {
	read -r fp_low fp_high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || fp_low= fp_high=
	case $fp_low$fp_high in '' | *[!0-9]*) fp_low=32768 fp_high=60999 ;; esac
	if [ "$fp_low" -ge 12000 ]; then
		fp_base=10000 fp_span=$((fp_low - 10000))
	else   # a range that starts low: draw above it
		fp_base=$((fp_high + 1)) fp_span=$((65536 - fp_high - 1))
	fi
	for fp_try in 1 2 3 4 5 6 7 8 9 10; do
		fp_port=$(( ($(od -An -N2 -tu2 /dev/urandom) % fp_span) + fp_base ))
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$fp_port/" || [ $? -ne 7 ] || break
	done
	echo "$fp_port"
}

# stop_pid PID: SIGTERM, at most 5 s to exit, then SIGKILL.
stop_pid() {
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null
	return 0
}

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

# values FILE: the numbers after ": " in a JSON response, one per line.
values() { grep -oE ': -?[0-9][-+.0-9eE]*' "$1" | cut -c3-; }

# close_to FILE_A FILE_B: the same count of numbers, every pair within 1e-4.
close_to() {
	paste "$1" "$2" | awk -F'\t' 'NF != 2 || $1 == "" || $2 == "" { bad = 1 }
		{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-4) bad = 1 } END { exit bad || NR == 0 }'
}

# logits_like OUT WANT.json: OUT is WANT (torch's json.dumps text) but for
# the numbers' last bits, which depend on the BLAS kernels: the same layout
# and every number within 1e-4.  That each number is printed as json.dumps
# prints that float32 value is test_num's check over 10,110 values.
logits_like() {
	values "$1" >"$T/.ll-got"
	values "$2" >"$T/.ll-want"
	[ "$(sed -E 's/-?[0-9][-+.0-9eE]*/N/g' "$1")" = "$(sed -E 's/-?[0-9][-+.0-9eE]*/N/g' "$2")" ] &&
		close_to "$T/.ll-got" "$T/.ll-want"
}
