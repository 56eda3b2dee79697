/*
 * zip.h - a reader for the zip archives torch.save writes, over a read-only
 * mapping or a caller's memory buffer.  Nothing is copied or inflated: entry
 * data is handed out as pointers into the archive bytes.
 *
 * Every offset and size read from the archive is checked against the buffer
 * with overflow-safe arithmetic before use, so hostile input yields an error
 * message, never a read outside the buffer (docs/pth-format.md section 2).
 */
#ifndef SCOREPOINT_ZIP_H
#define SCOREPOINT_ZIP_H

#include <stddef.h>
#include <stdint.h>

#define ZIP_MAX_ENTRIES (1u << 20)   /* central-directory entries */
#define ZIP_PREFIX_MAX 256           /* the archive folder, "sd/" */

struct zip_entry {
	const char *name;        /* into the archive; NOT NUL-terminated */
	size_t name_len;
	uint64_t size;           /* uncompressed, from the central directory */
	uint64_t csize;          /* compressed (== size when stored) */
	uint64_t lfh_offset;     /* local file header */
	uint64_t data_offset;    /* lfh + 30 + local name and extra lengths */
	uint32_t crc32;
	uint16_t method;         /* 0 stored, 8 deflate, ... */
	uint16_t flags;
};

struct zip {
	const unsigned char *base;   /* the archive bytes */
	size_t len;
	void *map;                   /* non-NULL when zip_open mapped a file */
	size_t map_len;
	struct zip_entry *entries;   /* in central-directory order */
	size_t nentries;
	const struct zip_entry **by_name;  /* sorted by name, for zip_find */
	char prefix[ZIP_PREFIX_MAX]; /* archive folder with its '/', "sd/" */
	size_t prefix_len;
};

/*
 * Tell a torch.save zip apart from the other things a .pth can be (section 1
 * of the spec).  Returns 0 when buf starts like a zip archive; otherwise -1
 * with one line in err saying what the file is and how to re-save it.
 */
int zip_sniff(const void *buf, size_t len, char *err, size_t errlen);

/*
 * Parse the archive in buf[0..len): end records (ZIP64 too), central
 * directory, local headers, archive prefix.  buf is borrowed and must
 * outlive z.  Returns 0, or -1 with one line in err.  On failure z holds
 * nothing to free; on success release it with zip_close().
 */
int zip_open_mem(struct zip *z, const void *buf, size_t len,
		 char *err, size_t errlen);

/* The same over a read-only mmap of the file at path, which must be a
 * regular file: a FIFO or a device is refused at once, never waited on. */
int zip_open(struct zip *z, const char *path, char *err, size_t errlen);

/* Release what zip_open/zip_open_mem allocated or mapped; safe on a zeroed z. */
void zip_close(struct zip *z);

/* Look an entry up by its full name ("sd/data/0"); NULL when absent. */
const struct zip_entry *zip_find(const struct zip *z, const char *name);

/* Look up "<prefix><rec>", e.g. zip_record(z, "data.pkl"). */
const struct zip_entry *zip_record(const struct zip *z, const char *rec);

/*
 * Point *data at the bytes of e (e->size of them), checking that the entry
 * is stored (method 0) and that its CRC-32 matches, whatever the stored
 * value (0 included: an entry is never taken on trust).  *data stays valid
 * until zip_close.  Returns 0 or -1.
 */
int zip_data(const struct zip *z, const struct zip_entry *e,
	     const unsigned char **data, char *err, size_t errlen);

/*
 * Refuse archives that are zips but not torch.save output: TorchScript
 * (code/ or constants.pkl entries), torch.export programs (.pt2), and
 * archives without <prefix>data.pkl.  Returns 0 or -1 with err.
 */
int zip_check_torch_save(const struct zip *z, char *err, size_t errlen);

/*
 * Copy an untrusted entry name into out (NUL-terminated), replacing bytes
 * that are not printable ASCII with '?' and truncating long names with
 * "...", so that it can go into a one-line message.
 */
void zip_name_for_msg(const char *name, size_t len, char *out, size_t outlen);

#endif
