#!/bin/sh
# slim_stage.sh DIR - run in Containerfile.slim's stage step (as root, in a
# Debian 12 with lighttpd and binutils installed and score.fcgi and the entry
# point copied in): puts into DIR exactly the files the slim image runs, and
# nothing else, for a `COPY --from=stage DIR/ /` onto `FROM scratch`.
#
#   the programs   score.fcgi (static), lighttpd, dash as /bin/sh and the
#                  few coreutils the entry point calls
#   their libraries  every one ldd lists for them (ldd resolves the whole
#                  tree), copied as files under the paths ld.so looks in,
#                  and an ld.so.cache for them
#   the rest       the entry point, /etc/passwd and /etc/group (root and
#                  scorepoint, uid 10001), /workspace (0700, 10001),
#                  /run/scorepoint and /tmp (1777), Debian's /bin, /sbin,
#                  /lib and /lib64 links into /usr
#
# lighttpd loads no module for this configuration: Debian 12's build has
# mod_fastcgi, mod_indexfile and mod_staticfile built in, and
# mod_dirlisting.so is opened only when dir-listing is on.  Prints one line
# per file, with its size.
set -eu
out=${1:?usage: slim_stage.sh DIR}

fail() {
	echo "slim_stage: $*" >&2
	exit 1
}

# The programs, by their path in the stage image.  The entry point runs
# cat, mkdir and mv at every start, nproc to count CPUs without a cgroup
# quota, id and stat in its error message.
SCORE=/usr/local/bin/score.fcgi
PROGRAMS="$SCORE /usr/sbin/lighttpd /usr/bin/dash /usr/bin/cat /usr/bin/mkdir /usr/bin/mv /usr/bin/nproc /usr/bin/id
	/usr/bin/stat"

for p in $PROGRAMS; do
	[ -x "$p" ] || fail "$p: missing"
done
# score.fcgi must be linked statically (make does): a FaaS cold start then
# pays no dynamic linking, and the image needs none of its libraries.
if readelf -d "$SCORE" 2>/dev/null | grep -q '(NEEDED)'; then
	fail "$SCORE is linked dynamically ($(readelf -d "$SCORE" |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')): the slim image wants make's static build"
fi

rm -rf "$out"
mkdir -p "$out/usr/bin" "$out/usr/sbin" "$out/usr/lib" "$out/usr/lib64" "$out/usr/local/bin" "$out/etc"
for d in bin sbin lib lib64; do
	ln -s "usr/$d" "$out/$d"
done

# put PATH: the file PATH (a link followed) at the same path in $out, its
# folder as the merged /usr names it (/lib/x/libc.so.6 lands in /usr/lib/x).
put() {
	dir=$(readlink -f "$(dirname "$1")")
	mkdir -p "$out$dir"
	cp -L "$1" "$out$dir/$(basename "$1")"
}

# ldd's "NAME => PATH (ADDR)" and "/lib64/ld-linux-x86-64.so.2 (ADDR)"
# lines; a static program has none.
for p in $PROGRAMS; do
	put "$p"
	ldd "$p" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u >"$out.libs"
while read -r lib; do
	put "$lib"
done <"$out.libs"
rm -f "$out.libs"
# Debug sections are most of score.fcgi's size; its symbols stay.
strip --strip-debug "$out$SCORE"
ln -s dash "$out/usr/bin/sh"
install -m 0755 /usr/local/bin/scorepoint-entrypoint "$out/usr/local/bin/scorepoint-entrypoint"
ldconfig -r "$out"

printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
	'scorepoint:x:10001:10001:scorepoint:/nonexistent:/usr/sbin/nologin' >"$out/etc/passwd"
printf '%s\n' 'root:x:0:' 'scorepoint:x:10001:' >"$out/etc/group"
install -d -m 0700 -o 10001 -g 10001 "$out/workspace"
mkdir -p "$out/run"
install -d -m 1777 "$out/run/scorepoint" "$out/tmp"

(cd "$out" && find . -type f -printf '%9s %p\n' | sort -k2)
