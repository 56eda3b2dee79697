#!/bin/sh
# tools/embed.sh FILE... - C on stdout: each FILE's bytes as a NUL-ended
# array, then `embedded[]`, a table of {"BASENAME", bytes, length} in the
# order given.  The file that includes it defines struct embedded
# { const char *name; const char *bytes; size_t len; }.  od is coreutils:
# no xxd needed.
set -eu
i=0
for f in "$@"; do
	echo "static const char embed_$i[] = {"
	od -An -v -tx1 "$f" | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'
	echo "0 };"
	i=$((i + 1))
done
echo "static const struct embedded embedded[] = {"
i=0
for f in "$@"; do
	echo "	{ \"$(basename "$f")\", embed_$i, sizeof embed_$i - 1 },"
	i=$((i + 1))
done
echo "};"
