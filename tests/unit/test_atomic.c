/*
 * test_atomic.c - atomic replacement reached through a directory fd: a
 * link in the file's place is replaced, never followed; no temporary is
 * left; the clean-ups remove only the names they are given, as regular
 * files, and follow no link.
 */
#include "tests/unit/unit.h"
#include "model/atomic.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/sp-test-atomic-XXXXXX";
static char err[1024];

static void put(const char *d, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", d, name);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The bytes of d/name as a string ("" when unreadable), in a static buffer. */
static const char *text(const char *d, const char *name)
{
	static char buf[256];
	char p[512];
	snprintf(p, sizeof p, "%s/%s", d, name);
	FILE *f = fopen(p, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static int exists(const char *d, const char *name)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", d, name);
	return lstat(p, &st) == 0;
}

static void test_writeat_replaces_a_link(void)
{
	char d[300], link[400];
	struct stat st;

	snprintf(d, sizeof d, "%s/w", dir);
	CHECK(mkdir(d, 0700) == 0);
	put(dir, "victim", "keep");
	snprintf(link, sizeof link, "%s/state", d);
	CHECK(symlink("../victim", link) == 0);
	int fd = open(d, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	CHECK_INT(atomic_write_bufat(fd, "state", link, 0600, "new", 3, err, sizeof err), 0);
	CHECK_STR(text(dir, "victim"), "keep");
	CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
	CHECK_STR(text(d, "state"), "new");
	CHECK_INT(atomic_write_bufat(fd, "blob", "shown/blob", 0644, "b", 1, err, sizeof err), 0);
	snprintf(link, sizeof link, "%s/blob", d);
	CHECK(lstat(link, &st) == 0 && (st.st_mode & 0777) == 0644);
	CHECK_INT(unit_temp_files(d), 0);
	/* A failing write names the file as shown and leaves no temporary. */
	CHECK_INT(atomic_write_bufat(-1, "x", "shown/x", 0600, "x", 1, err, sizeof err), -1);
	CHECK_CONTAINS(err, "shown/x: cannot create a temporary file");
	close(fd);
	/* The path API still works, through the same code. */
	snprintf(link, sizeof link, "%s/by-path", d);
	CHECK_INT(atomic_write_buf(link, 0644, "p", 1, err, sizeof err), 0);
	CHECK_STR(text(d, "by-path"), "p");
	CHECK_INT(unit_temp_files(d), 0);
}

static void test_clean_names_removes_only_its_own(void)
{
	char d[300], p[400];

	snprintf(d, sizeof d, "%s/c", dir);
	CHECK(mkdir(d, 0700) == 0);
	put(d, "model.blob", "x");
	put(d, "model.blob.tmpAbC123", "x");
	put(d, "model.blob.tmpshort", "x");
	put(d, "MLmodel", "x");
	put(d, "MLmodel.tmpQwE456", "x");
	put(d, "notes.txt", "x");
	snprintf(p, sizeof p, "%s/model.blob.tmpXyZ789", d);
	CHECK(symlink("../victim", p) == 0);
	snprintf(p, sizeof p, "%s/model.blob.tmpDir000", d);
	CHECK(mkdir(p, 0700) == 0);
	int fd = open(d, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	atomic_clean_names(fd, "model.blob", 1);
	atomic_clean_names(fd, "MLmodel", 0);
	close(fd);
	CHECK(!exists(d, "model.blob"));
	CHECK(!exists(d, "model.blob.tmpAbC123"));
	CHECK(!exists(d, "MLmodel.tmpQwE456"));
	CHECK(exists(d, "MLmodel"));                 /* also_name 0 */
	CHECK(exists(d, "model.blob.tmpshort"));     /* not a temporary's name */
	CHECK(exists(d, "notes.txt"));
	CHECK(exists(d, "model.blob.tmpXyZ789"));    /* a link */
	CHECK(exists(d, "model.blob.tmpDir000"));    /* a folder */
	CHECK_STR(text(dir, "victim"), "keep");
}

static void test_clean_follows_no_link(void)
{
	char d[300], link[400];

	snprintf(d, sizeof d, "%s/target", dir);
	CHECK(mkdir(d, 0700) == 0);
	put(d, "file", "keep");
	snprintf(link, sizeof link, "%s/link", dir);
	CHECK(symlink("target", link) == 0);
	atomic_clean(link, "");
	CHECK_STR(text(d, "file"), "keep");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 2;
	RUN(test_writeat_replaces_a_link);
	RUN(test_clean_names_removes_only_its_own);
	RUN(test_clean_follows_no_link);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 2;
	return unit_done();
}
