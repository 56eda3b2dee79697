/*
 * fuzz_zip.c - the zip reader of tools/zip.h over a memory buffer.
 *
 * The input is the archive.  Every entry is looked up by name and its data
 * fetched (ASan checks that the pointers stay inside the buffer, which the
 * target copies to a block of exactly its size); the torch.save checks and
 * the message helpers run too.  Properties: zip_find finds an entry of
 * every name listed; entry data lies inside the archive.
 */
#include "tools/zip.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = (unsigned char *)fuzz_copy(data, size);
	char err[256], name[ZIP_PREFIX_MAX + 64];
	struct zip z;

	zip_sniff(buf, size, err, sizeof err);
	if (zip_open_mem(&z, buf, size, err, sizeof err) == 0) {
		FUZZ_CHECK(z.prefix_len < ZIP_PREFIX_MAX, "prefix of %zu bytes", z.prefix_len);
		for (size_t i = 0; i < z.nentries; i++) {
			const struct zip_entry *e = &z.entries[i];
			const unsigned char *d;
			FUZZ_CHECK(e->name >= (const char *)buf && e->name_len <= size &&
				   e->name + e->name_len <= (const char *)buf + size, "entry %zu: name outside", i);
			zip_name_for_msg(e->name, e->name_len, name, sizeof name);
			FUZZ_CHECK(strlen(name) < sizeof name, "zip_name_for_msg overflow");
			if (e->name_len < sizeof name && !memchr(e->name, '\0', e->name_len)) {
				memcpy(name, e->name, e->name_len);
				name[e->name_len] = '\0';
				const struct zip_entry *f = zip_find(&z, name);
				FUZZ_CHECK(f != NULL && f->name_len == e->name_len &&
					   memcmp(f->name, e->name, e->name_len) == 0, "entry %zu not found by name", i);
			}
			if (zip_data(&z, e, &d, err, sizeof err) == 0) {
				FUZZ_CHECK(e->size <= size && d >= buf && d + e->size <= buf + size,
					   "entry %zu: data outside the archive", i);
				volatile unsigned char sum = 0;
				for (uint64_t k = 0; k < e->size; k++)
					sum ^= d[k];
				(void)sum;
			}
		}
		zip_record(&z, "data.pkl");
		zip_record(&z, "version");
		zip_find(&z, "");
		zip_check_torch_save(&z, err, sizeof err);
		zip_close(&z);
	}
	FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL, "err not terminated");
	free(buf);
	return 0;
}
