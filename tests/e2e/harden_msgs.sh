# Issue 15, weakness 4 (hE): duplicate JSON keys, request text in messages
# and invalid UTF-8 out, through score.fcgi run as CGI (no server needed).
. tests/e2e/lib.sh
P=$BUILD/pth2blob
S=$BUILD/score.fcgi

"$P" -q --name m fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }

# cgi ROUTE FILE CONTENT-TYPE: the whole CGI answer (headers, body) to $T/out
cgi() {
	REQUEST_METHOD=POST REQUEST_URI=$1 CONTENT_TYPE=$3 CONTENT_LENGTH=$(wc -c <"$2") \
		"$S" --model "$T/m.blob" --metrics-file "$T/metrics" --log - <"$2" >"$T/out" 2>"$T/err"
}

# expect NAME STATUS FRAGMENT: the last answer has STATUS and FRAGMENT.
expect() {
	if head -1 "$T/out" | grep -q "^Status: $2 " && grep -qF -- "$3" "$T/out"; then ok "$1"
	else not_ok "$1" "want $2 and '$3'" "$(head -c 400 "$T/out")"; fi
}

zeros=$(awk 'BEGIN { for (i = 0; i < 784; i++) printf "%s0", (i ? "," : "") }')

# A key given twice, nested, in each decoder: refused and named, never a
# guess at which value was meant.
printf '{"input_data": {"data": [[%s]], "data": [[%s]]}}' "$zeros" "$zeros" >"$T/dup.json"
cgi /score "$T/dup.json" application/json
expect "/score: a nested key given twice is a 400 naming it" 400 'key \"data\" is given twice (at byte 1597)'
printf '{"dataframe_records": [{"col_0": 1, "col_0": 2}]}' >"$T/dup.json"
cgi /invocations "$T/dup.json" application/json
expect "/invocations: a record's key given twice is a 400 naming it" 400 'key \"col_0\" is given twice'
printf '{"inputs": [{"name": "x", "shape": [1, 784], "datatype": "FP32", "data": [%s], "shape": [784]}]}' "$zeros" \
	>"$T/dup.json"
cgi /v2/models/m/infer "$T/dup.json" application/json
expect "V2: a tensor's key given twice is a 400 naming it" 400 'key \"shape\" is given twice'

# A CSV cell holding terminal escapes: quoted as \xNN, cut, never raw.
{
	head -1 fixtures/test_data/images.csv
	awk 'BEGIN { for (i = 0; i < 784; i++) printf "%s%s", (i ? "," : ""), (i == 3 ? "\033[2J\033]0;pwned\007x" : "0"); print "" }'
} >"$T/bad.csv"
cgi /score "$T/bad.csv" text/csv
expect "CSV: a bad cell is quoted with control characters as \\xNN" 400 \
	"column col_3: '\\\\x1b[2J\\\\x1b]0;pwned\\\\x07x' is not a number"

# A V2 id whose bytes are not UTF-8 (an encoded surrogate) comes back as
# U+FFFD, not as the surrogate it spells.
awk 'BEGIN { printf "{\"id\": \"a\355\240\200z\", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 784], \"datatype\": \"FP32\", \"data\": [" }' >"$T/v2.json"
printf '%s]}]}' "$zeros" >>"$T/v2.json"
cgi /v2/models/m/infer "$T/v2.json" application/json
expect "V2: an id of ill-formed UTF-8 is answered with U+FFFD" 200 '"id": "a\ufffd\ufffd\ufffdz"'
