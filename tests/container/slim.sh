# tests/container/slim.sh - the slim image itself (SCOREPOINT_SLIM_IMAGE,
# built): at most 50 MB, its score.fcgi static, no shell but dash and no
# package manager, every file one of slim_stage.sh's; and
# deploy/container/Dockerfile.workspace on it (a workspace baked in, the
# Cloud Run shape) serves torch's logits with no volume.  BUILD is the
# build folder whose scorepoint CLI makes the workspace.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
. tests/container/lib.sh
SLIM=${SCOREPOINT_SLIM_IMAGE:-scorepoint-slim}
WANT=fixtures/expected/images_logits.json
C=sp-ctest-slimfiles-$$
BAKED=localhost/sp-ctest-baked-$$
MAX_MB=50

size=$(podman image inspect --format '{{.Size}}' "$SLIM")
echo "# $SLIM: $size bytes ($((size / 1000000)) MB)"
[ "$size" -le $((MAX_MB * 1000000)) ] && ok "slim: the image is at most $MAX_MB MB ($((size / 1000000)) MB)" ||
	not_ok "slim: the image is at most $MAX_MB MB" "$size bytes"

# Its files, from a container made and never started.
CTR_NAMES=$C
podman create --name "$C" "$SLIM" >/dev/null &&
	podman export "$C" | tar -C "$T" -x --one-top-level=root --no-same-owner &&
	find "$T/root" -type f | sed "s|^$T/root||" | sort >"$T/files" && [ -s "$T/files" ] ||
	{ not_ok "slim: its files can be listed"; exit 1; }
echo "# slim: $(wc -l <"$T/files") files: $(tr '\n' ' ' <"$T/files")"
needed=$(readelf -d "$T/root/usr/local/bin/score.fcgi" 2>&1 | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -f "$T/root/usr/local/bin/score.fcgi" ] && [ -z "$needed" ] && ok "slim: its score.fcgi is linked statically" ||
	not_ok "slim: its score.fcgi is linked statically" "needs: $(echo $needed)"
extra=$(grep -E '/(bash|apt|apt-get|dpkg|perl|python3[^/]*|busybox|su|sudo|login)$' "$T/files")
[ -z "$extra" ] && ok "slim: no shell but dash, no package manager, no interpreter" ||
	not_ok "slim: no shell but dash, no package manager, no interpreter" "$extra"
# Every file is a program slim_stage.sh names, a shared library, the
# entry point, ld.so.cache, passwd or group.
progs=$(sed -n '/^PROGRAMS="/,/"$/p' deploy/container/slim_stage.sh | tr -d '"' | sed 's/^PROGRAMS=//' |
	sed 's|\$SCORE|/usr/local/bin/score.fcgi|' | tr -s ' \t\n' '\n' | grep .)
known=$(printf '%s\n' $progs /usr/local/bin/scorepoint-entrypoint /etc/ld.so.cache /etc/passwd /etc/group)
lib='^/usr/lib(64)?/(x86_64-linux-gnu/)?(ld-linux-x86-64|lib[^/]*)\.so[.0-9]*$'
other=$(grep -v -x -F "$known" "$T/files" | grep -v -E "$lib")
[ -z "$other" ] && ok "slim: every file is a program it runs, a library they load, the entry point or /etc" ||
	not_ok "slim: every file is a program it runs, a library they load, the entry point or /etc" "$other"
ctr_rm "$C"

# Dockerfile.workspace on the slim image: the workspace baked in.
if make_endpoint_1 && podman build -q --network host -f deploy/container/Dockerfile.workspace \
	--build-arg BASE="$SLIM" --build-arg WORKSPACE=ws -t "$BAKED" "$T" >"$T/baked.log" 2>&1; then
	ok "slim: Dockerfile.workspace bakes a workspace made with the CLI into it"
else
	not_ok "slim: Dockerfile.workspace bakes a workspace made with the CLI into it" "$(tail -n 10 "$T/baked.log")"
	exit 1
fi
C=sp-ctest-baked-$$
if ctr_start "$C" "$BAKED"; then
	code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $KEY" \
		-H "Content-Type: application/json" --data-binary @$REQ "$URL/endpoint-online-1/score")
	[ "$code" = 200 ] && logits_like "$T/out" $WANT &&
		ok "slim, baked in: the tutorial's request with the key: torch's logits" ||
		not_ok "slim, baked in: the tutorial's request with the key: torch's logits" \
			"$code $(head -c 300 "$T/out")"
else
	not_ok "slim, baked in: the tutorial's request with the key: torch's logits" "$(tail -n 20 "$T/$C.log")"
fi
ctr_rm "$C"
podman rmi -f "$BAKED" >/dev/null 2>&1
