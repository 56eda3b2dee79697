#!/bin/sh
# tests/run.sh BUILD_DIR [NAME...] - run every unit test program and every
# e2e script, print each failure with its diagnostics, and close with one
# line "N passed, N failed".  Exit status is non-zero when anything failed.
#
# NAMEs (or $T, as `make test T=...` passes it) run a subset instead:
#   test_req or unit/test_req       one unit test program
#   handler or e2e/handler          one e2e script, tests/e2e/handler.sh
#   bad/csv-empty                   one declarative case, tests/e2e/bad/
#                                   csv-empty.case, run by the script that
#                                   runs its directory (run_cases) after
#                                   that script's set-up and nothing else
#
# Each program or script prints TAP-style lines ("ok - name",
# "not ok - name", "#   diagnostic").  A program that dies or exits non-zero
# without reporting a failure (a sanitizer abort, a crash) counts as one
# failure of its own.
set -u
build=${1:?usage: tests/run.sh BUILD_DIR [NAME...]}
shift
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
skipped=0
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
	k=$(grep -c '^ok - .* # SKIP' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + k))
	printf '%-36s %4d passed %3d failed  %ss%s\n' "$name" "$p" "$f" "$(($(date +%s) - start))" \
		"$([ "$k" -eq 0 ] || echo "  ($k skipped)")"
	[ "$k" -eq 0 ] || grep '^ok - .* # SKIP' "$log" | sed 's/^/    /' | head -n 5
	if [ "$f" -ne 0 ]; then
		grep -v '^ok - ' "$log" | sed 's/^/    /' | tail -n 60
	fi
}

# run_named NAME: the one unit test, e2e script or case NAME names.
run_named() {
	n=${1#unit/}
	n=${n#e2e/}
	if [ -f "tests/e2e/$n.case" ]; then
		# The script whose run_cases line names the case's directory.
		s=$(grep -l "^[[:space:]]*run_cases tests/e2e/${n%/*} " tests/e2e/*.sh | head -1)
		[ -n "$s" ] || { echo "tests/run.sh: no script runs tests/e2e/${n%/*}" >&2; exit 2; }
		TEST_CASE=$n
		export TEST_CASE
		run_one "$n" sh "$s"
		unset TEST_CASE
	elif case $n in test_*) true ;; *) false ;; esac && [ -x "$build/tests/$n" ]; then
		run_one "unit/$n" "$build/tests/$n"
	elif [ -f "tests/e2e/$n.sh" ] && case $n in lib | lib_*) false ;; *) true ;; esac; then
		run_one "e2e/$n" sh "tests/e2e/$n.sh"
	else
		echo "tests/run.sh: no test named '$1': a unit test (test_req), an e2e script (handler) or a case (bad/csv-empty)" >&2
		exit 2
	fi
}

names=${*:-${T:-}}
if [ -n "$names" ]; then
	for want in $names; do run_named "$want"; done
else
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" "$t"
	done
	for t in tests/e2e/*.sh; do
		[ -f "$t" ] || continue
		case $t in */lib.sh|*/lib_*.sh) continue ;; esac
		run_one "e2e/$(basename "$t" .sh)" sh "$t"
	done
fi

# Skipped checks count as passed (TAP); they are listed above and here.
[ "$skipped" -eq 0 ] || echo "$skipped of them skipped (see the '# SKIP' lines above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
