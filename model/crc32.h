/*
 * crc32.h - CRC-32 (ISO-HDLC: the zip/zlib/PNG polynomial 0xEDB88320).
 * Used for the blob checksum and for zip entries; crc32(0, "123456789", 9)
 * is 0xCBF43926.
 */
#ifndef SCOREPOINT_CRC32_H
#define SCOREPOINT_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: pass 0 to start, then the previous result. */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

#endif
