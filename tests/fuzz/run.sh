#!/bin/sh
# tests/fuzz/run.sh FUZZ_BUILD SECONDS - run every libFuzzer target built in
# FUZZ_BUILD (by `make fuzz`) for SECONDS each, one after the other.
#
# Each target starts from a scratch copy of tests/fuzz/corpus/TARGET (the
# committed seeds are never modified) with its dictionary when there is one,
# and prints "ok - TARGET: N runs in S s" or "not ok - ..." with the
# fuzzer's report.  A crash, a leak, a timeout (-timeout=10) or running out
# of memory (-rss_limit_mb=2048) fails the target and leaves the input in
# FUZZ_BUILD/crashes/.  Closes with "fuzz: N passed, N failed"; the exit
# status is non-zero when a target failed.
set -u
build=${1:?usage: tests/fuzz/run.sh FUZZ_BUILD SECONDS}
secs=${2:?usage: tests/fuzz/run.sh FUZZ_BUILD SECONDS}
cd "$(dirname "$0")/../.." || exit 2
crashes="$build/crashes"
mkdir -p "$crashes"
passed=0
failed=0

# The dictionary of a target: its input language.
dict_of() {
	case $1 in
	fuzz_req|fuzz_v2|fuzz_v2_binary|fuzz_json|fuzz_auth|fuzz_lambda) echo tests/fuzz/json.dict ;;
	fuzz_ws_yaml|fuzz_mlmodel) echo tests/fuzz/yaml.dict ;;
	fuzz_pickle|fuzz_pth) echo tests/fuzz/pickle.dict ;;
	esac
}

for bin in "$build"/fuzz_*; do
	[ -x "$bin" ] || continue
	t=$(basename "$bin")
	work="$build/work/$t"
	rm -rf "$work"
	mkdir -p "$work/corpus"
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null
	fi
	d=$(dict_of "$t")
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/$t-" ${d:+-dict="$d"} "$work/corpus" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	took=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok - %s: %s runs in %s s, corpus %s\n' "$t" "${runs:-?}" "$took" \
			"$(ls "$work/corpus" | wc -l)"
	else
		failed=$((failed + 1))
		printf 'not ok - %s: exit status %s after %s runs in %s s\n' "$t" "$rc" "${runs:-?}" "$took"
		grep -E 'ERROR|SUMMARY|property broken|Test unit written|^    #[0-5] ' "$work/log" |
			grep -v -E 'in (fuzzer::|__sanitizer|raise|abort|__pthread)| \(/lib' | head -n 14 | sed 's/^/#   /'
		for f in "$crashes/$t"-*; do
			[ -f "$f" ] && echo "#   reproduce: $bin $f"
		done
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
