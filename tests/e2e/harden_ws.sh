# Hardening of the workspace (issue 15): nothing inside it is followed, the
# clean-up removes only what the workspace writes, and an unsafe workspace
# is refused.
#
#   1. DIR/models/evil, a link to a victim folder, and DIR/models/NAME/VERSION
#      links: after every CLI writer the victims are byte for byte as they
#      were; an unknown file in a stale model folder stays, with its folder;
#   2. state.yaml a link to a file that is not ours, or a FIFO: the CLI and
#      score.fcgi refuse it in one line at once, never quoting that file; a
#      running server keeps serving (/health too) and says once why;
#   3. links where score.fcgi reads a blob or appends to its log: refused;
#   4. a workspace writable by others, a state.yaml writable by group, a
#      workspace of another user: refused with the chmod or chown to run
#      (root may still read another user's workspace: score.fcgi as root).
. tests/e2e/lib.sh
. tests/e2e/lib_httpd.sh
. tests/e2e/lib_ws.sh

FCGI=$BUILD/score.fcgi
# snapshot DIR: every file, folder and link of DIR with its type, mode and
# link target, and every file's checksum.
snapshot() {
	(cd "$1" && find . -printf '%y %m %p %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
# victim DIR: a folder with files, subfolders named as model versions and
# files named as the workspace names its own.
victim() {
	mkdir -p "$1/sub" "$1/1" "$1/deep/er"
	echo "keep me" >"$1/a.txt"
	echo "not a blob" >"$1/sub/model.blob"
	echo "flavors: {}" >"$1/sub/MLmodel"
	echo tmp >"$1/sub/model.blob.tmpAbC123"
	echo one >"$1/1/model.blob"
	echo x >"$1/1/x"
	echo deeper >"$1/deep/er/MLmodel"
}
# cgi DIR PATH [score.fcgi options]: one CGI GET of PATH by score.fcgi
# --workspace DIR, at most 5 s; status in $rc, output in $T/out, $T/err.
cgi() {
	dir=$1 uri=$2
	shift 2
	REQUEST_METHOD=GET REQUEST_URI=$uri timeout 5 "$FCGI" --cgi --workspace "$dir" --metrics-file "$T/metrics" "$@" \
		</dev/null >"$T/out" 2>"$T/err"
	rc=$?
}
# refused NAME FRAGMENT: the last command ($rc, $T/err) failed at once (not
# killed by timeout 5) with one line holding FRAGMENT and nothing of the
# victim file's first line.
refused() {
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF -- "$2" "$T/err" &&
		! grep -q VICTIM "$T/err" "$T/out"; then
		ok "$1: refused at once in one line ($(cat "$T/err"))"
	else
		not_ok "$1: refused at once in one line holding '$2'" "rc=$rc" "$(cat "$T/err")" "$(head -3 "$T/out")"
	fi
}
# sp [ARGS...]: the CLI, at most 5 s; status in $rc, stderr in $T/err
sp() {
	timeout 5 "$SP" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

make_endpoint_1 || { not_ok "endpoint 1 made with the CLI"; exit 1; }
ok "endpoint 1 made with the CLI"
cp -a "$W" "$T/ws-clean"

# ---- 1. links in DIR/models: every writer leaves the victims alone ----
victim "$T/victim"
victim "$T/victim2"
victim "$T/victim3"
snapshot "$T/victim" >"$T/v1.before"
snapshot "$T/victim2" >"$T/v2.before"
snapshot "$T/victim3" >"$T/v3.before"
ln -s "$T/victim" "$W/models/evil"
# An unregistered version of a registered name, as a link.
ln -s "$T/victim2" "$W/models/model-online-1/2"
# A stale folder (a killed model create) holding a file scorepoint never writes.
mkdir -p "$W/models/model-x/3"
echo "mine" >"$W/models/model-x/3/notes.txt"
echo "stale" >"$W/models/model-x/3/model.blob"
echo "stale" >"$W/models/model-x/3/model.blob.tmpXyZ789"
echo "stale" >"$W/models/model-x/3/MLmodel"

untouched() {
	snapshot "$T/victim" | cmp -s - "$T/v1.before" && snapshot "$T/victim2" | cmp -s - "$T/v2.before" &&
		snapshot "$T/victim3" | cmp -s - "$T/v3.before" && [ -L "$W/models/evil" ] &&
		[ -L "$W/models/model-online-1/2" ]
}
# writer NAME ARGS...: the CLI writer succeeds and every victim is as it was.
writer() {
	name=$1
	shift
	sp "$@"
	if [ $rc -eq 0 ] && untouched; then
		ok "$name: done, every victim folder untouched"
	else
		not_ok "$name: done, every victim folder untouched" "rc=$rc $(cat "$T/err")" \
			"$(snapshot "$T/victim" | diff "$T/v1.before" - | head -5)" \
			"$(snapshot "$T/victim2" | diff "$T/v2.before" - | head -5)"
	fi
}
EX4=$EX/endpoint_4/cloud
writer "model create" model create --path fixtures/model --name model-online-4 --version 1 --type mlflow_model
[ -f "$W/models/model-x/3/notes.txt" ] && [ ! -e "$W/models/model-x/3/model.blob" ] &&
	[ ! -e "$W/models/model-x/3/model.blob.tmpXyZ789" ] && [ ! -e "$W/models/model-x/3/MLmodel" ] &&
	ok "a stale model folder: its model.blob, MLmodel and temporary gone, an unknown file and the folder kept" ||
	not_ok "a stale model folder: only what scorepoint writes removed" "$(ls -la "$W/models/model-x/3" 2>&1)"
writer "online-endpoint create" online-endpoint create -f $EX4/endpoint.yml
writer "online-deployment create (blue)" online-deployment create -f $EX4/deployment-blue.yml --all-traffic
writer "online-deployment create (green)" online-deployment create -f $EX4/deployment-green.yml
writer "online-endpoint update --traffic" online-endpoint update --name endpoint-online-4 --traffic "blue=90 green=10"
writer "online-deployment update --set" online-deployment update -n green -e endpoint-online-4 \
	--set request_settings.request_timeout_ms=10000
writer "online-endpoint regenerate-keys" online-endpoint regenerate-keys --name endpoint-online-4 --key-type primary
writer "online-endpoint update (back to blue)" online-endpoint update --name endpoint-online-4 --traffic "blue=100 green=0"
writer "online-deployment delete" online-deployment delete --name green --endpoint-name endpoint-online-4 --yes
writer "online-endpoint delete" online-endpoint delete --name endpoint-online-4 --yes
writer "model create (version 2)" model create --path fixtures/model --name model-online-4 --version 2 --type mlflow_model
# A registered version whose folder became a link: delete leaves the target.
rm -rf "$W/models/model-online-4/2"
ln -s "$T/victim3" "$W/models/model-online-4/2"
writer "model delete (its folder a link)" model delete --name model-online-4 --version 2
[ -L "$W/models/model-online-4/2" ] && ok "... the link itself stays" || not_ok "... the link itself stays"
sp model create --path fixtures/nonexistent --name model-online-5 --version 1
[ $rc = 1 ] && untouched && ok "a failed model create: refused, every victim folder untouched" ||
	not_ok "a failed model create: refused, every victim folder untouched" "rc=$rc $(cat "$T/err")"
sp model create --path fixtures/model --name model-online-1 --version 2 --type mlflow_model
refused "model create into a version folder that is a link" "$W/models/model-online-1/2: a symbolic link"
untouched && ok "... the victim untouched" || not_ok "... the victim untouched"
sp online-endpoint show --name endpoint-online-1
[ $rc = 0 ] && ok "endpoint 1 still there" || not_ok "endpoint 1 still there" "$(cat "$T/err")"

# ---- 2. state.yaml a link or a FIFO ----
# A file not ours, whose first line an error about state.yaml would quote.
printf 'VICTIM_first_line_secret: 1\n' >"$T/secret"
chmod 600 "$T/secret"
cp "$T/secret" "$T/secret.before"
cp -a "$T/ws-clean" "$T/wl"
rm "$T/wl/state.yaml"
ln -s "$T/secret" "$T/wl/state.yaml"
sp online-endpoint list --workspace "$T/wl"
refused "CLI reader, state.yaml a link to a file not ours" "$T/wl/state.yaml: a symbolic link"
sp online-endpoint regenerate-keys --name endpoint-online-1 --key-type primary --workspace "$T/wl"
refused "CLI writer, state.yaml a link" "$T/wl/state.yaml: a symbolic link"
cgi "$T/wl" /health --log -
refused "score.fcgi, state.yaml a link" "$T/wl/state.yaml: a symbolic link"
cmp -s "$T/secret" "$T/secret.before" && [ -L "$T/wl/state.yaml" ] && ok "... the linked file untouched" ||
	not_ok "... the linked file untouched"

cp -a "$T/ws-clean" "$T/wf"
rm "$T/wf/state.yaml"
mkfifo -m 600 "$T/wf/state.yaml"
sp online-endpoint list --workspace "$T/wf"
refused "CLI reader, state.yaml a FIFO" "$T/wf/state.yaml: not a regular file (a FIFO)"
sp online-endpoint update --name endpoint-online-1 --traffic "blue=100" --workspace "$T/wf"
refused "CLI writer, state.yaml a FIFO" "$T/wf/state.yaml: not a regular file (a FIFO)"
cgi "$T/wf" /health --log -
refused "score.fcgi, state.yaml a FIFO" "$T/wf/state.yaml: not a regular file (a FIFO)"

# A running server: state.yaml replaced by a FIFO, then by a link.
cp -a "$T/ws-clean" "$T/wr"
rm -f "$T/metrics"
start_lighttpd "--workspace $T/wr" 2 || { not_ok "lighttpd serves the workspace"; exit 1; }
score() {
	curl -s -o "$T/out" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $KEY" \
		-H "Content-Type: application/json" --data-binary @$REQ "$URL/endpoint-online-1/score"
}
health() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/health"; }
[ "$(score)" = 200 ] && ok "lighttpd serves endpoint 1" || not_ok "lighttpd serves endpoint 1" "$(cat "$T/out")"
mkfifo -m 600 "$T/wr/state.fifo" && mv "$T/wr/state.fifo" "$T/wr/state.yaml"
n=0
for _ in 1 2 3 4; do [ "$(health)" = 200 ] && [ "$(score)" = 200 ] && n=$((n + 1)); done
[ $n = 4 ] && ok "state.yaml made a FIFO under a running server: /health and scoring answer, 4 of 4" ||
	not_ok "state.yaml made a FIFO under a running server: still answering" "$n of 4"
grep -q "workspace change not served: $T/wr/state.yaml: not a regular file (a FIFO)" "$T/lighttpd-error.log" &&
	ok "... which says why it does not reload" ||
	not_ok "... says why it does not reload" "$(tail -3 "$T/lighttpd-error.log")"
ln -s "$T/secret" "$T/wr/state.link" && mv -T "$T/wr/state.link" "$T/wr/state.yaml"
n=0
for _ in 1 2 3 4; do [ "$(score)" = 200 ] && n=$((n + 1)); done
[ $n = 4 ] && grep -q "workspace change not served: $T/wr/state.yaml: a symbolic link" "$T/lighttpd-error.log" &&
	! grep -q VICTIM "$T/lighttpd-error.log" &&
	ok "state.yaml made a link under a running server: still served, says why, quotes nothing of the target" ||
	not_ok "state.yaml made a link under a running server" "$n of 4" "$(tail -3 "$T/lighttpd-error.log")"
stop_lighttpd

# ---- 3. links where score.fcgi reads a blob or writes its log ----
cp -a "$T/ws-clean" "$T/wb"
mv "$T/wb/models/model-online-1/1/model.blob" "$T/other.blob"
ln -s "$T/other.blob" "$T/wb/models/model-online-1/1/model.blob"
cgi "$T/wb" /health --log -
refused "score.fcgi, a model.blob that is a link" "$T/wb/models/model-online-1/1/model.blob: a symbolic link"
cp -a "$T/ws-clean" "$T/wn"
mv "$T/wn/models/model-online-1" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/wn/models/model-online-1"
cgi "$T/wn" /health --log -
refused "score.fcgi, a model folder that is a link" "$T/wn/models/model-online-1: a symbolic link"
cp -a "$T/ws-clean" "$T/wg"
rm -rf "$T/wg/logs"
mkdir -m 700 "$T/wg/logs"
echo "VICTIM log" >"$T/victim.log"
cp "$T/victim.log" "$T/victim.log.before"
ln -s "$T/victim.log" "$T/wg/logs/requests.log"
cgi "$T/wg" /health
refused "score.fcgi, its request log a link" "$T/wg/logs/requests.log: a symbolic link"
rm -rf "$T/wg/logs"
mkdir -m 700 "$T/victimlogs"
ln -s "$T/victimlogs" "$T/wg/logs"
cgi "$T/wg" /health
refused "score.fcgi, its logs folder a link" "$T/wg/logs: a symbolic link"
cmp -s "$T/victim.log" "$T/victim.log.before" && [ -z "$(ls -A "$T/victimlogs")" ] &&
	ok "... the victims untouched" || not_ok "... the victims untouched"

# ---- 4. who may use a workspace ----
cp -a "$T/ws-clean" "$T/wp"
chmod 777 "$T/wp"
sp online-endpoint list --workspace "$T/wp"
refused "CLI reader, a workspace mode 0777" "$T/wp: writable by others (mode 0777): run chmod 700 $T/wp"
sp online-endpoint regenerate-keys --name endpoint-online-1 --key-type primary --workspace "$T/wp"
refused "CLI writer, a workspace mode 0777" "$T/wp: writable by others (mode 0777): run chmod 700 $T/wp"
cgi "$T/wp" /health --log -
refused "score.fcgi, a workspace mode 0777" "$T/wp: writable by others (mode 0777): run chmod 700 $T/wp"
chmod 700 "$T/wp"
chmod 660 "$T/wp/state.yaml"
sp online-endpoint list --workspace "$T/wp"
refused "CLI, a state.yaml mode 0660" \
	"$T/wp/state.yaml: writable by group (mode 0660): run chmod 600 $T/wp/state.yaml"
cgi "$T/wp" /health --log -
refused "score.fcgi, a state.yaml mode 0660" \
	"$T/wp/state.yaml: writable by group (mode 0660): run chmod 600 $T/wp/state.yaml"
chmod 600 "$T/wp/state.yaml"
cgi "$T/wp" /health --log -
[ $rc = 0 ] && grep -q '^Status: 200' "$T/out" && ok "... served again once the modes are back" ||
	not_ok "... served again once the modes are back" "$(cat "$T/err")"

if [ "$(id -u)" != 0 ]; then
	echo "ok - another user's workspace # SKIP not root"
else
	cp -a "$T/ws-clean" "$T/wo"
	rm -rf "$T/wo/logs"
	chown -R nobody "$T/wo"
	sp online-endpoint regenerate-keys --name endpoint-online-1 --key-type primary --workspace "$T/wo"
	refused "CLI writer as root, a workspace owned by nobody" \
		"$T/wo: owned by uid $(id -u nobody) (nobody), not by you (root): run as that user, or chown -R root $T/wo"
	sp model create --path fixtures/model --name model-online-9 --workspace "$T/wo"
	refused "CLI model create as root, a workspace owned by nobody" "not by you (root)"
	[ ! -e "$T/wo/models/model-online-9" ] && ok "... nothing written there" || not_ok "... nothing written there"
	sp online-endpoint list --workspace "$T/wo"
	[ $rc = 0 ] && grep -q endpoint-online-1 "$T/out" && ok "CLI reader as root reads nobody's workspace" ||
		not_ok "CLI reader as root reads nobody's workspace" "$(cat "$T/err")"
	cgi "$T/wo" /health
	[ $rc = 0 ] && grep -q '^Status: 200' "$T/out" &&
		[ "$(stat -c %U "$T/wo/logs" "$T/wo/logs/requests.log" | sort -u)" = nobody ] &&
		ok "score.fcgi as root serves nobody's workspace; the log it made is nobody's" ||
		not_ok "score.fcgi as root serves nobody's workspace" "$(cat "$T/err")" "$(ls -la "$T/wo/logs" 2>&1)"
	# A file of root's in nobody's workspace is not read by root either.
	cp "$T/wo/state.yaml" "$T/wo/state.root" && mv "$T/wo/state.root" "$T/wo/state.yaml"
	cgi "$T/wo" /health --log -
	refused "score.fcgi as root, nobody's workspace holding a state.yaml of root's" \
		"$T/wo/state.yaml: owned by uid 0 (root), not by the workspace's owner (nobody): run chown -R nobody $T/wo"
	# nobody, on root's workspace: refused, with the chown to run.
	chmod 711 "$T"
	REQUEST_METHOD=GET REQUEST_URI=/health timeout 5 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$FCGI" --cgi --workspace "$T/ws-clean" --metrics-file "$T/metrics-nobody" --log - \
		</dev/null >"$T/out" 2>"$T/err"
	rc=$?
	chmod 700 "$T"
	refused "score.fcgi as nobody, root's workspace" \
		"$T/ws-clean: owned by uid 0 (root), not by you (nobody): run as that user, or chown -R nobody $T/ws-clean"
fi
