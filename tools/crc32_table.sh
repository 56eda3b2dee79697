#!/bin/sh
# tools/crc32_table.sh - C on stdout: the eight 256-entry tables of
# slicing-by-8 CRC-32 (the reflected polynomial 0xEDB88320, zlib's), as
# `static const uint32_t crc32_table[8][256]`, for model/crc32.c.  Made at
# build time so the table is read-only data in the program's file (shared,
# never computed nor written by a process at start-up).  POSIX sh
# arithmetic only.
set -eu
i=0
while [ $i -lt 256 ]; do
	c=$i k=0
	while [ $k -lt 8 ]; do
		if [ $((c & 1)) -eq 1 ]; then c=$(( (c >> 1) ^ 0xEDB88320 )); else c=$((c >> 1)); fi
		k=$((k + 1))
	done
	eval "t0_$i=$c"
	i=$((i + 1))
done
echo "static const uint32_t crc32_table[8][256] = {"
t=0
while [ $t -lt 8 ]; do
	echo "	{"
	i=0
	while [ $i -lt 256 ]; do
		eval "v=\$t${t}_$i"
		if [ $((t + 1)) -lt 8 ]; then
			eval "n=\$t0_$((v & 255))"
			eval "t$((t + 1))_$i=$(( (v >> 8) ^ n ))"
		fi
		i=$((i + 1))
		if [ $((i % 8)) -eq 1 ]; then printf '\t0x%08x,' "$v"; else printf ' 0x%08x,' "$v"; fi
		[ $((i % 8)) -ne 0 ] || echo
	done
	echo "	},"
	t=$((t + 1))
done
echo "};"
