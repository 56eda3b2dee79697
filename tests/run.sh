#!/bin/sh
# tests/run.sh BUILD_DIR - run every unit test program and every e2e script,
# print each failure with its diagnostics, and close with one line
# "N passed, N failed".  Exit status is non-zero when anything failed.
#
# Each program or script prints TAP-style lines ("ok - name",
# "not ok - name", "#   diagnostic").  A program that dies or exits non-zero
# without reporting a failure (a sanitizer abort, a crash) counts as one
# failure of its own.
set -u
build=${1:?usage: tests/run.sh BUILD_DIR}
cd "$(dirname "$0")/.." || exit 2
export BUILD="$build"
# One kernel choice for every server the suite starts: lighttpd and nginx
# pass their environment to FastCGI programs, Apache's mod_fcgid and the
# CGI modules do not, so a machine-wide OPENBLAS_CORETYPE would reach some
# score.fcgi processes and not others, and their answers differ in the
# last digits.  Unset, each names the kernels from the CPU, alike;
# tests/e2e/handler.sh sets it by hand to check that it wins.
unset OPENBLAS_CORETYPE
passed=0
failed=0
logdir="$build/test-logs"
mkdir -p "$logdir"

run_one() {
	name=$1; shift
	log="$logdir/$(basename "$name").log"
	start=$(date +%s)
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc without reporting a failure" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-36s %4d passed %3d failed  %ss\n' "$name" "$p" "$f" "$(($(date +%s) - start))"
	if [ "$f" -ne 0 ]; then
		grep -v '^ok - ' "$log" | sed 's/^/    /' | tail -n 60
	fi
}

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for t in tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	case $t in */lib.sh|*/lib_*.sh) continue ;; esac
	run_one "e2e/$(basename "$t" .sh)" sh "$t"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
