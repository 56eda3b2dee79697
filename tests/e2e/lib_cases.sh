# tests/e2e/lib_cases.sh - the one runner of the declarative request cases,
# tests/e2e/*/NAME.case, whose format tests/e2e/CASES.md describes.
# Sourced after lib.sh, by the script that starts the server the cases need.
#
#   run_cases DIR LABEL [AFTER [AUTH]]
#       sends every DIR/*.case to $URL and prints one TAP line per case,
#       "LABEL NAME: STATUS".  AFTER NAME, a function of the calling script,
#       runs after each case (say, that a valid request still gets the
#       right answer); AUTH KIND PATH prints the Authorization header value
#       for a case's "auth: KIND" (nothing for none).  Sets CASES_RUN.
#       With TEST_CASE=DIRNAME/NAME in the environment (tests/run.sh
#       T=bad/csv-empty), only that case runs, and only in the directory
#       whose last component is DIRNAME.
#   case_only DIR       true when TEST_CASE names a case of DIR: the script
#                       then runs that case after its set-up, and nothing else

case_only() { [ -n "${TEST_CASE:-}" ] && [ "${TEST_CASE%/*}" = "$(basename "$1")" ]; }

# case_has_header FILE LINE: a header line of FILE (curl -D) begins with
# LINE, compared without regard to case.
case_has_header() {
	tr -d '\r' <"$1" | awk -v w="$2" 'index(tolower($0), tolower(w)) == 1 { f = 1 } END { exit !f }'
}

# case_run FILE LABEL AUTH: one case; its TAP line.
case_run() {
	c_file=$1 c_label=$2 c_auth_fn=$3
	c_name="$c_label $(basename "$c_file" .case)"
	c_method=POST c_path= c_ctype= c_ctype_set=0 c_kind= c_bodyfile= c_want= c_frag= c_bad=
	: >"$T/case-want-hdr"
	set --
	sed '/^body:$/,$d' "$c_file" >"$T/case-head"
	while IFS= read -r c_line; do
		c_val=${c_line#*: }
		case $c_line in
		'#'* | '') ;;
		method:\ *) c_method=$c_val ;;
		path:\ *) c_path=$c_val ;;
		content-type:\ *) c_ctype=$c_val c_ctype_set=1 ;;
		header:\ *) set -- "$@" -H "$c_val" ;;
		auth:\ *) c_kind=$c_val ;;
		body-file:\ *) c_bodyfile=$c_val ;;
		status:\ *) c_want=$c_val ;;
		expect:\ *) c_frag=$c_val ;;
		expect-header:\ *) printf '%s\n' "$c_val" >>"$T/case-want-hdr" ;;
		*) c_bad="$c_bad '$c_line'" ;;
		esac
	done <"$T/case-head"
	[ -n "$c_bad" ] && { not_ok "$c_name" "unknown lines in $c_file:$c_bad (see tests/e2e/CASES.md)"; return; }
	[ -n "$c_path" ] && [ -n "$c_want" ] || { not_ok "$c_name" "$c_file lacks path: or status:"; return; }
	if [ -n "$c_bodyfile" ]; then
		cp "$c_bodyfile" "$T/case-body" || { not_ok "$c_name" "no body file $c_bodyfile"; return; }
	else
		sed '1,/^body:$/d' "$c_file" | head -c -1 >"$T/case-body"   # the body, without the file's last newline
	fi
	# No content-type line: no Content-Type header (curl's default removed).
	if [ $c_ctype_set = 1 ]; then set -- "$@" -H "Content-Type: $c_ctype"; else set -- "$@" -H "Content-Type:"; fi
	if [ -n "$c_kind" ]; then
		[ -n "$c_auth_fn" ] || { not_ok "$c_name" "auth: $c_kind, but this script makes no credentials"; return; }
		c_a=$($c_auth_fn "$c_kind" "$c_path")
		[ -n "$c_a" ] && set -- "$@" -H "Authorization: $c_a"
	fi
	c_code=$(curl -s -o "$T/out" -D "$T/case-hdr" -w '%{http_code}' -X "$c_method" "$@" \
		--data-binary @"$T/case-body" "$URL$c_path")
	c_missing=
	while IFS= read -r c_h; do
		case_has_header "$T/case-hdr" "$c_h" || c_missing="$c_missing
lacks header '$c_h'"
	done <"$T/case-want-hdr"
	if [ "$c_code" = "$c_want" ] && head -c 1 "$T/out" | grep -q '{' && grep -qF -- "$c_frag" "$T/out" &&
	   [ -z "$c_missing" ]; then
		ok "$c_name: $c_want"
	else
		not_ok "$c_name: $c_want" "got $c_code$c_missing" "$(head -c 300 "$T/out")"
	fi
}

run_cases() {
	c_dir=$1 c_label=$2 c_after=${3:-} c_auth=${4:-}
	CASES_RUN=0
	for c_c in "$c_dir"/*.case; do
		c_n=$(basename "$c_c" .case)
		[ -z "${TEST_CASE:-}" ] || [ "$TEST_CASE" = "$(basename "$c_dir")/$c_n" ] || continue
		case_run "$c_c" "$c_label" "$c_auth"
		[ -z "$c_after" ] || $c_after "$c_n"
		CASES_RUN=$((CASES_RUN + 1))
	done
	[ -z "${TEST_CASE:-}" ] || [ $CASES_RUN = 1 ] || not_ok "case $TEST_CASE" "no such case in $c_dir"
}
