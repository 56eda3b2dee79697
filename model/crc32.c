/*
 * crc32.c - slicing-by-8 CRC-32: eight table lookups per 8 input bytes,
 * several GB/s, so checking a 100 MB blob at start-up costs tens of ms.
 */
#include "model/crc32.h"

#include <string.h>

/* crc32_table[8][256], made by tools/crc32_table.sh at build time: data
 * in the program's file, not computed by every process at start-up. */
#include "crc32_table.h"

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	crc = ~crc;
	while (len >= 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);      /* little-endian hosts only (checked in blob.c) */
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = crc32_table[7][lo & 0xFF] ^ crc32_table[6][(lo >> 8) & 0xFF] ^
		      crc32_table[5][(lo >> 16) & 0xFF] ^ crc32_table[4][lo >> 24] ^
		      crc32_table[3][hi & 0xFF] ^ crc32_table[2][(hi >> 8) & 0xFF] ^
		      crc32_table[1][(hi >> 16) & 0xFF] ^ crc32_table[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc32_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}
