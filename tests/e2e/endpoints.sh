# A workspace served end to end: the tutorial's four endpoints, made with
# the scorepoint CLI from their own YAML files, behind a real lighttpd
# (mod_fastcgi, 2 processes) on a loopback ephemeral port: key and token
# auth, traffic split, the deployment pin, mirror traffic, changes served
# without a restart or a failed request, logs and metrics per deployment.
. tests/e2e/lib.sh
. tests/e2e/lib_httpd.sh
. tests/e2e/lib_cases.sh
. tests/e2e/lib_ws.sh
head -c -1 fixtures/expected/images_labels.json >"$T/labels.json"

quiet() { "$@" >/dev/null 2>"$T/cli-err" || { echo "# $*: $(cat "$T/cli-err")"; return 1; }; }
make_tutorial_endpoints && ok "the tutorial's four endpoints made with the CLI" || { not_ok "the tutorial's four endpoints made with the CLI"; exit 1; }
start_lighttpd "--workspace $W" 2 || { not_ok "lighttpd serves the workspace"; exit 1; }
ok "lighttpd serves the workspace with score.fcgi --workspace"

# score ENDPOINT [CREDENTIAL] [curl args...]: body to $T/out, headers to
# $T/hdr, status to stdout.
score() {
	ep=$1 cred=$2
	shift 2
	set -- -H "Content-Type: application/json" --data-binary @$REQ "$@"
	[ -n "$cred" ] && set -- -H "Authorization: Bearer $cred" "$@"
	curl -s -o "$T/out" -D "$T/hdr" -w '%{http_code}' "$@" "$URL/$ep/score"
}
deployment_of() { sed -n 's/^azureml-model-deployment: \([a-z0-9-]*\).*/\1/p' "$T/hdr"; }
key() { "$SP" online-endpoint get-credentials --name "$1" --query "${2:-primaryKey}" -o tsv; }

# The credentials of the bad-auth cases (tests/e2e/bad-auth, run below).
b64url() { base64 -w0 | tr -d '=' | tr '/+' '_-'; }
secret3() { sed -n '/name: endpoint-online-3$/,/token_secret:/s/.*token_secret: //p' "$W/state.yaml" | head -1; }
# jwt DGST HEADER PAYLOAD: a token signed with endpoint 3's secret by openssl
jwt() {
	hex=$(secret3 | tr '_-' '/+' | sed 's/$/=/' | base64 -d | od -An -tx1 | tr -d ' \n')
	hp=$(printf '%s' "$2" | b64url).$(printf '%s' "$3" | b64url)
	printf '%s.%s' "$hp" "$(printf '%s' "$hp" | openssl dgst -"$1" -mac HMAC -macopt hexkey:"$hex" -binary | b64url)"
}
cred() {   # cred KIND PATH: the Authorization header value for PATH's endpoint, or nothing
	e=${2#/}
	set -- "$1" "${e%%/*}"
	now=$(date +%s)
	case $1 in
	none) ;;
	empty-bearer) printf 'Bearer ' ;;
	basic) printf 'Basic dXNlcjpwYXNzd29yZA==' ;;
	key) printf 'Bearer %s' "$(key "$2")" ;;
	random-key) printf 'Bearer %s' "$(head -c 32 /dev/urandom | b64url)" ;;
	truncated-key) k=$(key "$2"); printf 'Bearer %s' "${k%?}" ;;
	key-suffix) printf 'Bearer %sA' "$(key "$2")" ;;
	other-endpoint-key) printf 'Bearer %s' "$(key endpoint-online-2)" ;;
	token) printf 'Bearer %s' "$(key endpoint-online-3 accessToken)" ;;
	token-expired) printf 'Bearer %s' "$(jwt sha256 '{"alg":"HS256","typ":"JWT"}' \
		"{\"aud\":\"$2\",\"iat\":$((now - 7200)),\"exp\":$((now - 3600))}")" ;;
	token-future) printf 'Bearer %s' "$(jwt sha256 '{"alg":"HS256","typ":"JWT"}' \
		"{\"aud\":\"$2\",\"iat\":$((now + 3600)),\"exp\":$((now + 7200))}")" ;;
	token-wrong-audience) printf 'Bearer %s' "$(jwt sha256 '{"alg":"HS256","typ":"JWT"}' \
		"{\"aud\":\"endpoint-online-1\",\"iat\":$now,\"exp\":$((now + 3600))}")" ;;
	token-alg-hs384) printf 'Bearer %s' "$(jwt sha384 '{"alg":"HS384","typ":"JWT"}' \
		"{\"aud\":\"$2\",\"iat\":$now,\"exp\":$((now + 3600))}")" ;;
	token-alg-none) printf 'Bearer %s.%s.' "$(printf '{"alg":"none","typ":"JWT"}' | b64url)" \
		"$(printf '{"aud":"%s","iat":%d,"exp":%d}' "$2" $now $((now + 3600)) | b64url)" ;;
	token-tampered-payload)
		t=$(key "$2" accessToken)
		printf 'Bearer %s.%s.%s' "${t%%.*}" "$(printf '{"iss":"scorepoint","aud":"%s","iat":%d,"exp":%d}' "$2" $now \
			$((now + 999999)) | b64url)" "${t##*.}" ;;
	token-tampered-signature)
		t=$(key "$2" accessToken); sg=${t##*.}
		case $sg in A*) f=B ;; *) f=A ;; esac
		printf 'Bearer %s.%s%s' "${t%.*}" "$f" "${sg#?}" ;;
	token-other-endpoint) printf 'Bearer %s' "$(key endpoint-online-3b accessToken)" ;;
	token-garbage) printf 'Bearer abc.def.ghi' ;;
	token-two-segments) t=$(key "$2" accessToken); printf 'Bearer %s' "${t%.*}" ;;
	token-oversize) printf 'Bearer %s' "$(head -c 3600 /dev/zero | base64 -w0 | tr -d '=' | tr '/+' '_-')" ;;
	esac
}
# After each: endpoint 1's valid request still gets the right answer.
valid_after_auth() {
	code=$(score endpoint-online-1 "$(key endpoint-online-1)")
	[ "$code" = 200 ] && cmp -s "$T/out" "$T/want.json" || not_ok "valid request after $1" "status $code"
}
# One case alone (tests/run.sh T=bad-auth/NAME): the endpoints the cases
# name and the answer to compare with, then the case.
if case_only tests/e2e/bad-auth; then
	quiet "$SP" online-endpoint create -f $EX/endpoint_3/cloud/endpoint.yml --name endpoint-online-3b
	score endpoint-online-1 "$(key endpoint-online-1)" >/dev/null && cp "$T/out" "$T/want.json"
	run_cases tests/e2e/bad-auth "bad credentials or route" valid_after_auth cred
	exit 0
fi

# ---- endpoint 1: invoke.sh with az ml replaced, against this server ----
SCORING_URI=$("$SP" online-endpoint show --name endpoint-online-1 --query scoring_uri -o tsv | sed "s|http://127.0.0.1:8080|$URL|")
PRIMARY_KEY=$(key endpoint-online-1)
OUTPUT=$(curl -s --location --request POST "$SCORING_URI" --header "Authorization: Bearer $PRIMARY_KEY" \
	--header "Content-Type: application/json" --data @$REQ)
printf '%s' "$OUTPUT" >"$T/invoke.json"
logits_like "$T/invoke.json" fixtures/expected/images_logits.json && ok "invoke.sh: torch's logits from endpoint-online-1" ||
	not_ok "invoke.sh: torch's logits from endpoint-online-1" "$OUTPUT"
cp "$T/invoke.json" "$T/want.json"

code=$(score endpoint-online-1 "$PRIMARY_KEY")
[ "$code" = 200 ] && [ "$(deployment_of)" = blue ] && ok "azureml-model-deployment names blue" ||
	not_ok "azureml-model-deployment names blue" "$code" "$(cat "$T/hdr")"
code=$(score endpoint-online-1 "$(key endpoint-online-1 secondaryKey)")
[ "$code" = 200 ] && cmp -s "$T/out" "$T/want.json" && ok "the secondary key works too" || not_ok "the secondary key works too" "$code"
code=$(score endpoint-online-1 "")
[ "$code" = 401 ] && grep -q '"error_code": "UNAUTHORIZED"' "$T/out" && grep -qi '^WWW-Authenticate: Bearer realm="endpoint-online-1"' "$T/hdr" &&
	ok "no credentials: 401 JSON with WWW-Authenticate" || not_ok "no credentials: 401 JSON with WWW-Authenticate" "$code" "$(cat "$T/out")"
code=$(score endpoint-online-1 "$(key endpoint-online-2)")
[ "$code" = 401 ] && grep -q 'invalid_token' "$T/hdr" && ok "another endpoint's key: 401" || not_ok "another endpoint's key: 401" "$code"
code=$(score endpoint-online-1 "${PRIMARY_KEY%?}x")
[ "$code" = 401 ] && ok "a key with one character changed: 401" || not_ok "a key with one character changed: 401" "$code"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$URL/health")
[ "$code" = 200 ] && ok "health needs no credentials" || not_ok "health needs no credentials" "$code"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$URL/endpoint-online-1/swagger.json")
[ "$code" = 401 ] && ok "swagger.json needs credentials" || not_ok "swagger.json needs credentials" "$code"
code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $PRIMARY_KEY" "$URL/endpoint-online-1/swagger.json")
[ "$code" = 200 ] && grep -q '"/endpoint-online-1/score"' "$T/out" && ok "swagger.json with the key: the endpoint's paths" ||
	not_ok "swagger.json with the key: the endpoint's paths" "$code" "$(head -c 300 "$T/out")"
code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Content-Type: application/json" -H "Authorization: Bearer $PRIMARY_KEY" \
	--data-binary @fixtures/test_data/batch200_dataframe_split.json "$URL/endpoint-online-1/invocations")
[ "$code" = 200 ] && head -c 16 "$T/out" | grep -q '^{"predictions": ' && ok "/invocations under the endpoint" ||
	not_ok "/invocations under the endpoint" "$code"
code=$(score no-such-endpoint "$PRIMARY_KEY")
[ "$code" = 404 ] && grep -q ENDPOINT_NOT_FOUND "$T/out" && ok "an unknown endpoint: 404" || not_ok "an unknown endpoint: 404" "$code"
code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $PRIMARY_KEY" --data-binary @$REQ "$URL/score")
[ "$code" = 404 ] && grep -q 'serves a workspace' "$T/out" && ok "/score at the root: 404 saying where to go" ||
	not_ok "/score at the root: 404 saying where to go" "$code" "$(cat "$T/out")"

# regenerate-keys: the old key stops at once, without a restart.
pids_before=$(pgrep -f "score.fcgi --workspace $W" | sort | tr '\n' ' ')
quiet "$SP" online-endpoint regenerate-keys --name endpoint-online-1 --key-type primary
code=$(score endpoint-online-1 "$PRIMARY_KEY")
code2=$(score endpoint-online-1 "$(key endpoint-online-1)")
[ "$code" = 401 ] && [ "$code2" = 200 ] && ok "regenerate-keys: old key 401, new key 200 at once" ||
	not_ok "regenerate-keys: old key 401, new key 200 at once" "$code $code2"
[ "$(pgrep -f "score.fcgi --workspace $W" | sort | tr '\n' ' ')" = "$pids_before" ] && ok "... with the same worker processes" ||
	not_ok "... with the same worker processes"

# ---- endpoint 2: labels ----
code=$(score endpoint-online-2 "$(key endpoint-online-2)")
[ "$code" = 200 ] && cmp -s "$T/out" "$T/labels.json" && ok "endpoint-online-2: [\"Ankle Boot\", \"Pullover\"]" ||
	not_ok "endpoint-online-2: labels" "$code" "$(cat "$T/out")"

# ---- endpoint 3: aml_token ----
# invoke.sh of endpoint 3, with az ml replaced
ENDPOINT_NAME=endpoint-online-3
SCORING_URI=$("$SP" online-endpoint show --name $ENDPOINT_NAME --query scoring_uri -o tsv | sed "s|http://127.0.0.1:8080|$URL|")
ACCESS_TOKEN=$("$SP" online-endpoint get-credentials --name $ENDPOINT_NAME --query accessToken -o tsv)
OUTPUT=$(curl -s --location --request POST "$SCORING_URI" --header "Authorization: Bearer $ACCESS_TOKEN" \
	--header "Content-Type: application/json" --data @$REQ)
[ "$OUTPUT" = "$(cat "$T/want.json")" ] && ok "invoke.sh of endpoint 3: the same OUTPUT with an access token" ||
	not_ok "invoke.sh of endpoint 3" "$OUTPUT"
TOKEN=$(key endpoint-online-3 accessToken)
code=$(score endpoint-online-3 "$TOKEN")
[ "$code" = 200 ] && cmp -s "$T/out" "$T/want.json" && ok "endpoint-online-3: the access token works" || not_ok "endpoint-online-3: the access token works" "$code"
sig=${TOKEN##*.}
case $sig in A*) flip=B ;; *) flip=A ;; esac
code=$(score endpoint-online-3 "${TOKEN%.*}.$flip${sig#?}")
[ "$code" = 401 ] && grep -q 'signature' "$T/out" && ok "a tampered signature: 401" || not_ok "a tampered signature: 401" "$code" "$(cat "$T/out")"
hdr=$(printf '{"alg":"none","typ":"JWT"}' | base64 | tr -d '=\n' | tr '/+' '_-')
code=$(score endpoint-online-3 "$hdr.$(printf '%s' "$TOKEN" | cut -d. -f2).")
[ "$code" = 401 ] && ok "alg none: 401" || not_ok "alg none: 401" "$code"
code=$(score endpoint-online-1 "$TOKEN")
[ "$code" = 401 ] && ok "endpoint 3's token on endpoint 1 (a key endpoint): 401" || not_ok "endpoint 3's token on endpoint 1: 401" "$code"
quiet "$SP" online-endpoint create -f $EX/endpoint_3/cloud/endpoint.yml --name endpoint-online-3b
code=$(score endpoint-online-3 "$(key endpoint-online-3b accessToken)")
[ "$code" = 401 ] && ok "another token endpoint's token: 401" || not_ok "another token endpoint's token: 401" "$code"

# An expired token, signed with the endpoint's real secret (openssl, not
# our code, computes the HMAC): exp one second in the past.
secret=$(sed -n '/name: endpoint-online-3$/,/token_secret:/s/.*token_secret: //p' "$W/state.yaml" | head -1)
hexkey=$(printf '%s' "$secret" | tr '_-' '/+' | sed 's/$/=/' | base64 -d | od -An -tx1 | tr -d ' \n')
now=$(date +%s)
hp=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url).$(printf '{"aud":"endpoint-online-3","iat":%d,"exp":%d}' $((now - 3601)) $((now - 1)) | b64url)
sig=$(printf '%s' "$hp" | openssl dgst -sha256 -mac HMAC -macopt hexkey:"$hexkey" -binary | b64url)
code=$(score endpoint-online-3 "$hp.$sig")
[ "$code" = 401 ] && grep -q 'expired' "$T/out" && ok "an expired token (HMAC by openssl): 401 token expired" ||
	not_ok "an expired token: 401" "$code" "$(cat "$T/out")"
hp=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url).$(printf '{"aud":"endpoint-online-3","iat":%d,"exp":%d}' $now $((now + 3600)) | b64url)
sig=$(printf '%s' "$hp" | openssl dgst -sha256 -mac HMAC -macopt hexkey:"$hexkey" -binary | b64url)
code=$(score endpoint-online-3 "$hp.$sig")
[ "$code" = 200 ] && ok "... the same token valid for an hour: 200 (the check above is the expiry)" ||
	not_ok "... the same token valid for an hour: 200" "$code" "$(cat "$T/out")"
quiet "$SP" online-endpoint regenerate-keys --name endpoint-online-3 --key-type primary
code=$(score endpoint-online-3 "$TOKEN")
code2=$(score endpoint-online-3 "$(key endpoint-online-3 accessToken)")
[ "$code" = 401 ] && [ "$code2" = 200 ] && ok "regenerate-keys on a token endpoint: old token 401, new token 200" ||
	not_ok "regenerate-keys on a token endpoint: old token 401, new token 200" "$code $code2"

# ---- bad credentials and routes: tests/e2e/bad-auth/*.case ----
# Each case (tests/e2e/CASES.md) names a path under an endpoint, a kind of
# credential made here (cred) from the workspace's current secrets, the
# status and a fragment of the JSON error; the body is the tutorial's valid
# request.  After each, a valid request still gets the right answer.
run_cases tests/e2e/bad-auth "bad credentials or route" valid_after_auth cred
total=$((CASES_RUN + $(ls tests/e2e/bad/*.case | wc -l)))
[ "$total" -ge 60 ] && ok "at least 60 declarative bad cases ($total: tests/e2e/bad and bad-auth)" ||
	not_ok "at least 60 declarative bad cases ($total)"

# ---- endpoint 4: blue/green ----
K4=$(key endpoint-online-4)
n_green() {   # n_green N: how many of N requests green answered
	g=0 i=0
	while [ $i -lt "$1" ]; do
		[ "$(score endpoint-online-4 "$K4")" = 200 ] && [ "$(deployment_of)" = green ] && g=$((g + 1))
		i=$((i + 1))
	done
	echo $g
}
g=$(n_green 20)
[ "$g" = 0 ] && ok "blue=100: green answers none of 20" || not_ok "blue=100: green answers none of 20" "$g"
code=$(score endpoint-online-4 "$K4" -H "azureml-model-deployment: green")
[ "$code" = 200 ] && [ "$(deployment_of)" = green ] && ok "the azureml-model-deployment header pins green at 0 %" ||
	not_ok "the header pins green at 0 %" "$code"
code=$(score endpoint-online-4 "$K4" -H "azureml-model-deployment: purple")
[ "$code" = 404 ] && grep -q DEPLOYMENT_NOT_FOUND "$T/out" && ok "pinning an unknown deployment: 404" || not_ok "pinning an unknown deployment: 404" "$code"
quiet "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=90 green=10"
# At least 10,000 requests: 3-second wrk runs until there are (at most 20).
blue=0 green=0 bad=0 runs=0
while [ $((blue + green)) -lt 10000 ] && [ $runs -lt 20 ]; do
	BODY=$REQ KEY=$K4 wrk -t2 -c8 -d3s -s tests/e2e/split.lua "$URL/endpoint-online-4/score" >"$T/wrk.txt"
	blue=$((blue + $(sed -n 's/^DEPLOYMENT blue //p' "$T/wrk.txt" | grep . || echo 0)))
	green=$((green + $(sed -n 's/^DEPLOYMENT green //p' "$T/wrk.txt" | grep . || echo 0)))
	bad=$((bad + $(sed -n 's/^BAD //p' "$T/wrk.txt")))
	runs=$((runs + 1))
done
total=$((blue + green))
if [ "$total" -ge 10000 ] && [ "$bad" = 0 ] &&
	awk -v g="$green" -v t="$total" 'BEGIN { exit !(g / t >= 0.08 && g / t <= 0.12) }'; then
	ok "blue=90 green=10: green answered $green of $total requests (within 10 % +- 2)"
else
	not_ok "blue=90 green=10 over 10,000 requests" "$(cat "$T/wrk.txt")"
fi

# A traffic update and a new model version while wrk keeps 16 connections
# busy for 10 s: no request fails.
BODY=$REQ KEY=$K4 wrk -t2 -c16 -d10s -s tests/e2e/split.lua "$URL/endpoint-online-4/score" >"$T/wrk.txt" &
loader=$!
sleep 2
quiet "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=50 green=50"
sleep 1
quiet "$SP" model create --path fixtures/model --name model-online-4 --version 2 --type mlflow_model
quiet "$SP" online-deployment update -n green -e endpoint-online-4 --set model=azureml:model-online-4:2
sleep 1
quiet "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=0 green=100"
wait $loader
if [ "$(sed -n 's/^BAD //p' "$T/wrk.txt")" = 0 ] && [ "$(sed -n 's/^ERRORS //p' "$T/wrk.txt")" = 0 ] &&
	grep -q '^DEPLOYMENT green' "$T/wrk.txt"; then
	ok "traffic update and a new model version under 10 s of load: zero non-200 ($(grep DEPLOYMENT "$T/wrk.txt" | tr '\n' ' '))"
else
	not_ok "traffic update and a new model version under load: zero non-200" "$(cat "$T/wrk.txt")"
fi
out=$("$SP" online-deployment show -n green -e endpoint-online-4 --query model -o tsv)
[ "$out" = azureml:model-online-4:2 ] && ok "green now serves model-online-4 version 2" || not_ok "green serves version 2" "$out"

quiet "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=0 green=0"
code=$(score endpoint-online-4 "$K4")
[ "$code" = 404 ] && grep -q 'No valid deployments to route to' "$T/out" && ok "no deployment with traffic: 404" ||
	not_ok "no deployment with traffic: 404" "$code" "$(cat "$T/out")"
code=$(score endpoint-online-4 "$K4" -H "azureml-model-deployment: blue")
[ "$code" = 200 ] && ok "... a pinned deployment still answers" || not_ok "... a pinned deployment still answers" "$code"

# Mirror: green gets copies of half of blue's requests; the answers stay blue's.
quiet "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=100 green=0"
quiet "$SP" online-endpoint update --name endpoint-online-4 --mirror-traffic "green=50"
before=$(grep -c '"endpoint": "endpoint-online-4", "deployment": "green"' "$W/logs/requests.log")
g=$(n_green 40)
after=$(grep -c '"endpoint": "endpoint-online-4", "deployment": "green"' "$W/logs/requests.log")
m=$((after - before))
[ "$g" = 0 ] && [ "$m" -ge 5 ] && [ "$m" -le 35 ] && ok "mirror green=50: green scored $m copies of 40, answered none" ||
	not_ok "mirror green=50: copies scored, none answered" "answered $g, mirrored $m"

before=$(grep -c '"endpoint": "endpoint-online-4", "deployment": "green"' "$W/logs/requests.log")
i=0
while [ $i -lt 10 ]; do score endpoint-online-4 "$K4" -H "azureml-model-deployment: blue" >/dev/null; i=$((i + 1)); done
after=$(grep -c '"endpoint": "endpoint-online-4", "deployment": "green"' "$W/logs/requests.log")
[ "$after" = "$before" ] && ok "pinned requests are never mirrored" || not_ok "pinned requests are never mirrored" "$before -> $after"

# request_timeout_ms is the 408 limit of each deployment.
quiet "$SP" online-deployment update -n blue -e endpoint-online-1 --set request_settings.request_timeout_ms=1
code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Content-Type: application/json" -H "Authorization: Bearer $(key endpoint-online-1)" \
	--data-binary @fixtures/test_data/batch200_dataframe_split.json "$URL/endpoint-online-1/invocations")
[ "$code" = 408 ] && grep -q 'request_timeout_ms (1 ms)' "$T/out" && ok "request_timeout_ms=1: 408 for 200 rows" ||
	not_ok "request_timeout_ms=1: 408" "$code" "$(cat "$T/out")"
quiet "$SP" online-deployment update -n blue -e endpoint-online-1 --set request_settings.request_timeout_ms=5000

# ---- logs, metrics, invoke ----
out=$("$SP" online-deployment get-logs -e endpoint-online-4 -n green --lines 3)
[ "$(printf '%s\n' "$out" | grep -c '"deployment": "green"')" = 3 ] && ok "get-logs: green's last 3 request lines" ||
	not_ok "get-logs: green's last 3 request lines" "$out"
grep -q -e "$PRIMARY_KEY" -e Bearer "$W/logs/requests.log" && not_ok "the log holds no credential" || ok "the log holds no credential"
curl -s "$URL/metrics" >"$T/metrics.txt"
grep -q 'scorepoint_requests_total{route="score",status="200",deployment="endpoint-online-4/blue"}' "$T/metrics.txt" &&
	grep -q 'deployment="endpoint-online-3/blue"' "$T/metrics.txt" && ok "/metrics counts per endpoint/deployment" ||
	not_ok "/metrics counts per endpoint/deployment" "$(grep requests_total "$T/metrics.txt" | head -5)"
"$SP" online-endpoint invoke --name endpoint-online-1 --request-file $REQ >"$T/inv.json" 2>"$T/cli-err"
logits_like "$T/inv.json" fixtures/expected/images_logits.json && ok "scorepoint online-endpoint invoke (score.fcgi as CGI)" ||
	not_ok "scorepoint online-endpoint invoke" "$(cat "$T/cli-err")" "$(head -c 200 "$T/inv.json")"
"$SP" online-endpoint invoke --name endpoint-online-4 --deployment-name green --request-file $REQ >"$T/inv.json" 2>"$T/cli-err" &&
	logits_like "$T/inv.json" fixtures/expected/images_logits.json && ok "invoke --deployment-name green" ||
	not_ok "invoke --deployment-name green" "$(cat "$T/cli-err")"
stop_lighttpd
