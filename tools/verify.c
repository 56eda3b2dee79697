/*
 * verify.c - pth2blob --verify: the blob's ops, run here, against torch's
 * answer on the same rows (docs/verify.md).
 *
 * torch runs in a child: the python3 chosen below, spawned without a shell
 * as `PYTHON -I -B -c SCRIPT DIR`, SCRIPT being tools/verify_torch.py
 * (embedded at build time), stdin /dev/null, stdout and stderr into a log.
 * DIR is a private mkdtemp() folder: the plan (what was converted, as
 * JSON) and the rows go in, torch's answer comes back, all as little-endian
 * float32; the folder is removed before returning, whatever happened.  A
 * child still running at the timeout is killed.
 */
#include "tools/verify.h"
#include "model/enc.h"
#include "model/err.h"
#include "model/file.h"
#include "model/fwd.h"
#include "model/req.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verify_torch.h"   /* verify_torch_py[]: tools/verify_torch.py, made by the Makefile */

extern char **environ;

#define VERIFY_TIMEOUT_S 120.0        /* $SCOREPOINT_VERIFY_TIMEOUT overrides (seconds) */
#define VERIFY_RANDOM_ROWS 64         /* plus the all-zero and all-one rows */
#define VERIFY_MAX_ROWS ((size_t)10000)   /* rows an input file may hold */
#define VERIFY_MAX_PYTHONS 2
#define VERIFY_SYSTEM_PYTHON "/usr/bin/python3"

/* struct blob_geom as the plan spells it. */
static const struct {
	const char *name;
	size_t off;
} geom_fields[] = {
	{ "c", offsetof(struct blob_geom, c) },   { "h", offsetof(struct blob_geom, h) },
	{ "w", offsetof(struct blob_geom, w) },   { "oc", offsetof(struct blob_geom, oc) },
	{ "oh", offsetof(struct blob_geom, oh) }, { "ow", offsetof(struct blob_geom, ow) },
	{ "kh", offsetof(struct blob_geom, kh) }, { "kw", offsetof(struct blob_geom, kw) },
	{ "sh", offsetof(struct blob_geom, sh) }, { "sw", offsetof(struct blob_geom, sw) },
	{ "ph", offsetof(struct blob_geom, ph) }, { "pw", offsetof(struct blob_geom, pw) },
	{ "dh", offsetof(struct blob_geom, dh) }, { "dw", offsetof(struct blob_geom, dw) },
	{ "flags", offsetof(struct blob_geom, flags) }, { "divisor", offsetof(struct blob_geom, divisor) },
};

/* MLflow writes an input example as a bare split-orient frame or a bare
 * list; score.fcgi's bodies wrap them: the example is tried as is, then so. */
static const char *const example_wraps[][2] = { { "{\"dataframe_split\": ", "}" }, { "{\"inputs\": ", "}" } };

/* One verification: the rows, the folder, what torch said. */
struct vrun {
	float *x;                 /* [n][w] */
	size_t n, w;
	char rows_from[PATH_MAX + 64];
	char dir[PATH_MAX];       /* the mkdtemp folder, "" before */
	int dirfd;
	char how[256];            /* how torch was called (result.txt) */
};

/* ---- the rows ---- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int decode_rows(const char *body, size_t len, const struct blob_model *bm, struct vrun *r,
		       struct req_error *e)
{
	struct req_limits lim = { REQ_DEFAULT_MAX_BYTES, REQ_DEFAULT_MAX_TOKENS, VERIFY_MAX_ROWS,
				  REQ_DEFAULT_MAX_VALUES };
	struct req_schema s;
	struct req_ctx c;
	struct req_result res;
	size_t i = 0;
	int rc;

	memset(e, 0, sizeof *e);
	if (req_schema_init(&s, bm) < 0) {
		snprintf(e->msg, sizeof e->msg, "out of memory");
		return -1;
	}
	req_ctx_init(&c, &lim);
	while (i < len && is_blank(body[i]))
		i++;
	/* score.fcgi goes by Content-Type; a file has none: JSON starts so. */
	rc = i < len && (body[i] == '{' || body[i] == '[') ?
		req_decode_json(&c, &s, body, len, 0, &res, e) : req_decode_csv(&c, &s, body, len, &res, e);
	if (rc == 0 && res.rows == 0) {
		snprintf(e->msg, sizeof e->msg, "no rows");
		rc = -1;
	}
	if (rc == 0 && !(r->x = malloc(res.rows * bm->input_width * sizeof *r->x))) {
		snprintf(e->msg, sizeof e->msg, "out of memory");
		rc = -1;
	}
	if (rc == 0) {
		memcpy(r->x, res.x, res.rows * bm->input_width * sizeof *r->x);
		r->n = res.rows;
	}
	req_ctx_free(&c);
	req_schema_free(&s);
	return rc;
}

static char *read_small_file(const char *path, size_t *len, char *err, size_t errlen)
{
	char why[PATH_MAX + 128];
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd = file_open_regular(AT_FDCWD, path, 0, &st, why, sizeof why);

	if (fd < 0) {
		err_set(err, errlen, "verify: %s", why);
		return NULL;
	}
	if ((size_t)st.st_size > REQ_DEFAULT_MAX_BYTES) {
		err_set(err, errlen, "verify: %s: larger than %zu MiB", path, REQ_DEFAULT_MAX_BYTES >> 20);
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		err_set(err, errlen, "verify: %s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k <= 0) {
			err_set(err, errlen, "verify: %s: %s", path, k < 0 ? strerror(errno) : "shorter than its size");
			free(buf);
			buf = NULL;
			goto out;
		}
		got += (size_t)k;
	}
	buf[got] = '\0';
	*len = got;
out:
	close(fd);
	return buf;
}

/* The rows of a request body file; an MLflow example also in its wraps. */
static int rows_from_file(const char *path, int example, const struct blob_model *bm, struct vrun *r,
			  char *err, size_t errlen)
{
	struct req_error e;
	size_t len = 0;
	char *body = read_small_file(path, &len, err, errlen);
	int rc;

	if (!body)
		return -1;
	rc = decode_rows(body, len, bm, r, &e);
	for (size_t i = 0; rc < 0 && example && i < sizeof example_wraps / sizeof example_wraps[0]; i++) {
		struct req_error e2;
		size_t a = strlen(example_wraps[i][0]), z = strlen(example_wraps[i][1]);
		char *wrapped = malloc(a + len + z);
		if (!wrapped)
			break;
		memcpy(wrapped, example_wraps[i][0], a);
		memcpy(wrapped + a, body, len);
		memcpy(wrapped + a + len, example_wraps[i][1], z);
		rc = decode_rows(wrapped, a + len + z, bm, r, &e2);
		free(wrapped);
	}
	free(body);
	if (rc < 0)
		return err_set(err, errlen, "verify: %s: %s", path, e.msg);
	snprintf(r->rows_from, sizeof r->rows_from, "%s %s", example ? "the input example" : "the rows of", path);
	return 0;
}

/* VERIFY_RANDOM_ROWS rows in [0, 1) from a fixed seed (splitmix64), then a
 * row of zeros and a row of ones. */
static int rows_random(const struct blob_model *bm, struct vrun *r, char *err, size_t errlen)
{
	size_t w = bm->input_width, n = VERIFY_RANDOM_ROWS + 2;
	uint64_t state = 20220719;

	if (!(r->x = malloc(n * w * sizeof *r->x)))
		return err_set(err, errlen, "verify: out of memory for %zu rows of %zu", n, w);
	for (size_t i = 0; i < VERIFY_RANDOM_ROWS * w; i++) {
		uint64_t z = (state += 0x9E3779B97F4A7C15u);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
		r->x[i] = (float)((z ^ (z >> 31)) >> 40) * 0x1p-24f;
	}
	for (size_t j = 0; j < w; j++) {
		r->x[VERIFY_RANDOM_ROWS * w + j] = 0.0f;
		r->x[(VERIFY_RANDOM_ROWS + 1) * w + j] = 1.0f;
	}
	r->n = n;
	snprintf(r->rows_from, sizeof r->rows_from, "%d random rows in [0, 1), all zeros, all ones",
		 VERIFY_RANDOM_ROWS);
	return 0;
}

static int get_rows(const struct verify_source *src, const struct blob_model *bm, const struct verify_opts *o,
		    struct vrun *r, char *err, size_t errlen)
{
	r->w = bm->input_width;
	if (o && o->inputs)
		return rows_from_file(o->inputs, 0, bm, r, err, errlen);
	if (src->example)
		return rows_from_file(src->example, 1, bm, r, err, errlen);
	return rows_random(bm, r, err, errlen);
}

/* ---- the folder ---- */

static int write_at(int dirfd, const char *name, const void *p, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	const char *c = p;
	int rc = fd < 0 ? -1 : 0;

	while (rc == 0 && len > 0) {
		ssize_t k = write(fd, c, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			rc = -1;
		else {
			c += k;
			len -= (size_t)k;
		}
	}
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	return rc;
}

/* The bytes of DIR/name, NUL-terminated, at most max; NULL if absent. */
static char *read_at(int dirfd, const char *name, size_t max, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	char *buf = fd < 0 ? NULL : malloc(max + 1);
	ssize_t k = 0;
	size_t got = 0;

	while (buf && got < max && (k = read(fd, buf + got, max - got)) > 0)
		got += (size_t)k;
	if (buf)
		buf[got] = '\0';
	if (fd >= 0)
		close(fd);
	*len = got;
	return buf;
}

/* The last non-empty line of text, printable ASCII only, into out. */
static void last_line(const char *text, size_t len, char *out, size_t outlen)
{
	size_t end = len, start, k = 0;

	while (end > 0 && is_blank(text[end - 1]))
		end--;
	start = end;
	while (start > 0 && text[start - 1] != '\n')
		start--;
	for (size_t i = start; i < end && k + 1 < outlen; i++)
		out[k++] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
	if (outlen)
		out[k] = '\0';
}

static void log_tail(const struct vrun *r, char *out, size_t outlen)
{
	size_t len = 0;
	char *log = read_at(r->dirfd, "log.txt", 1 << 20, &len);

	last_line(log ? log : "", len, out, outlen);
	free(log);
}

static void folder_remove(struct vrun *r)
{
	DIR *d;
	struct dirent *e;

	if (!r->dir[0])
		return;
	if (r->dirfd >= 0 && (d = fdopendir(dup(r->dirfd))) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				if (unlinkat(r->dirfd, e->d_name, 0) < 0 && errno == EISDIR)
					unlinkat(r->dirfd, e->d_name, AT_REMOVEDIR);
		closedir(d);
	}
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->dirfd = -1;
	rmdir(r->dir);
	r->dir[0] = '\0';
}

static int folder_make(struct vrun *r, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(r->dir, sizeof r->dir, "%s/scorepoint-verify.XXXXXX", tmp);
	if (!mkdtemp(r->dir)) {
		err_set(err, errlen, "verify: cannot make a folder in %s: %s", tmp, strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	if ((r->dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_set(err, errlen, "verify: %s: %s", r->dir, strerror(errno));
		rmdir(r->dir);
		r->dir[0] = '\0';
		return -1;
	}
	return 0;
}

static int write_rows(const struct vrun *r, char *err, size_t errlen)
{
	size_t count = r->n * r->w;
	unsigned char *le = malloc(count * 4 + 1);
	int rc;

	if (!le)
		return err_set(err, errlen, "verify: out of memory");
	for (size_t i = 0; i < count; i++) {
		uint32_t u;
		memcpy(&u, &r->x[i], 4);
		for (int k = 0; k < 4; k++)
			le[4 * i + k] = (unsigned char)(u >> (8 * k));
	}
	rc = write_at(r->dirfd, "in.f32", le, count * 4);
	free(le);
	return rc == 0 ? 0 : err_set(err, errlen, "verify: cannot write %s/in.f32", r->dir);
}

/* ---- the plan: what torch needs to know, as JSON ---- */

static void enc_path(struct enc_buf *b, const char *path)
{
	char abs[PATH_MAX];

	enc_string(b, realpath(path, abs) ? abs : path);
}

/* sys.path for unpickling: src->code_dirs, then the .pth file's folder
 * and, in an MLflow pytorch model (data/model.pth next to code/), its
 * code/ folder: a pyfunc wrapper's inner model keeps its classes there. */
static void plan_sys_path(struct enc_buf *b, const struct verify_source *src)
{
	char dir[PATH_MAX], code[PATH_MAX + 8];
	const char *slash = strrchr(src->pth_path, '/');
	struct stat st;

	enc_cstr(b, "\"sys_path\": [");
	for (size_t i = 0; src->code_dirs && src->code_dirs[i]; i++) {
		enc_path(b, src->code_dirs[i]);
		enc_cstr(b, ", ");
	}
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - src->pth_path) : 1, slash ? src->pth_path : ".");
	if (!dir[0])
		snprintf(dir, sizeof dir, "/");
	snprintf(code, sizeof code, "%s/../code", dir);
	if (stat(code, &st) == 0 && S_ISDIR(st.st_mode)) {
		enc_path(b, code);
		enc_cstr(b, ", ");
	}
	enc_path(b, dir);
	/* python runs with -I, which ignores $PYTHONPATH: where the user's
	 * classes live is still theirs to say, so its folders come last. */
	const char *pp = getenv("PYTHONPATH");
	while (pp && *pp) {
		size_t n = strcspn(pp, ":");
		if (n && n < sizeof dir) {
			memcpy(dir, pp, n);
			dir[n] = '\0';
			enc_cstr(b, ", ");
			enc_path(b, dir);
		}
		pp += n + (pp[n] == ':');
	}
	enc_cstr(b, "], ");
}

/* The BatchNorm applied after op i: folded into a linear or conv2d (its
 * key prefix and eps), or a scale_shift's own (pth_op.path). */
static const char *op_bn(const struct pth_model *pm, uint32_t i, double *eps)
{
	const struct pth_op *p = i < pm->nops ? &pm->ops[i] : NULL;

	*eps = p && p->folded_eps > 0 ? p->folded_eps : 1e-5;
	return p && p->folded[0] ? p->folded : NULL;
}

static void plan_op(struct enc_buf *b, const struct pth_model *pm, const struct blob_model *bm, uint32_t i)
{
	const struct blob_op *op = &bm->ops[i];
	double eps;
	const char *bn = op_bn(pm, i, &eps);

	enc_cstr(b, i ? ", {\"kind\": " : "{\"kind\": ");
	enc_string(b, blob_op_name(op->kind));
	enc_cstr(b, ", \"path\": ");
	enc_string(b, i < pm->nops ? pm->ops[i].path : "");
	enc_cstr(b, ", \"in\": ");
	enc_uint(b, op->in);
	enc_cstr(b, ", \"out\": ");
	enc_uint(b, op->out);
	enc_cstr(b, ", \"param\": ");
	enc_number(b, op->param);
	enc_cstr(b, ", \"eps\": ");
	enc_number(b, eps);
	if (bn) {
		enc_cstr(b, ", \"folded\": ");
		enc_string(b, bn);
	}
	enc_cstr(b, ", \"g\": {");
	for (size_t k = 0; k < sizeof geom_fields / sizeof geom_fields[0]; k++) {
		uint32_t v;
		memcpy(&v, (const char *)&op->g + geom_fields[k].off, sizeof v);
		enc_cstr(b, k ? ", \"" : "\"");
		enc_cstr(b, geom_fields[k].name);
		enc_cstr(b, "\": ");
		enc_uint(b, v);
	}
	enc_cstr(b, "}}");
}

static int plan_write(const struct vrun *r, const struct verify_source *src, const struct pth_model *pm,
		      const struct blob_model *bm, char *err, size_t errlen)
{
	struct enc_buf b;
	int rc;

	enc_init(&b, (size_t)16 << 20);
	enc_cstr(&b, "{\"pth\": ");
	enc_path(&b, src->pth_path);
	enc_cstr(&b, ", ");
	plan_sys_path(&b, src);
	enc_cstr(&b, "\"state_dict\": ");
	enc_uint(&b, pm->is_state_dict != 0);
	enc_cstr(&b, ", \"rows\": ");
	enc_uint(&b, r->n);
	enc_cstr(&b, ", \"width\": ");
	enc_uint(&b, bm->input_width);
	enc_cstr(&b, ", \"out_width\": ");
	enc_uint(&b, bm->output_width);
	enc_cstr(&b, ", \"input_shape\": [");
	for (int k = 0; bm->input_shape[0] && k < 3; k++) {
		enc_cstr(&b, k ? ", " : "");
		enc_uint(&b, bm->input_shape[k]);
	}
	enc_cstr(&b, "], \"ops\": [");
	for (uint32_t i = 0; i < bm->nops; i++)
		plan_op(&b, pm, bm, i);
	enc_cstr(&b, "]}\n");
	rc = enc_status(&b) == ENC_OK && write_at(r->dirfd, "plan.json", b.p, b.len) == 0 ? 0 :
		err_set(err, errlen, "verify: cannot write %s/plan.json", r->dir);
	enc_free(&b);
	return rc;
}

/* ---- the child ---- */

static double timeout_seconds(void)
{
	const char *s = getenv("SCOREPOINT_VERIFY_TIMEOUT");
	char *end;
	double t = s ? strtod(s, &end) : 0;

	return s && end != s && *end == '\0' && t > 0 && t < 1e6 ? t : VERIFY_TIMEOUT_S;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for pid, killing it once timeout seconds have passed.  1: it was
 * killed. */
static int wait_child(pid_t pid, double timeout, int *status)
{
	double deadline = now() + timeout;
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			return 0;
		if (now() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return 1;
		}
		nanosleep(&tick, NULL);
	}
}

static int spawn_child(const char *py, const struct vrun *r, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	/* -B: no __pycache__ written into the user's code folders. */
	char *const argv[] = { (char *)py, "-I", "-B", "-c", (char *)verify_torch_py, (char *)r->dir, NULL };
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log = openat(r->dirfd, "log.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = in < 0 || log < 0 ? errno : 0;

	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	if (rc == 0) {
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, in, 0);
		posix_spawn_file_actions_adddup2(&fa, log, 1);
		posix_spawn_file_actions_adddup2(&fa, log, 2);
		posix_spawnattr_init(&at);
		posix_spawnattr_setsigmask(&at, &none);
		posix_spawnattr_setsigdefault(&at, &def);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
		rc = posix_spawnp(pid, py, &fa, &at, argv, environ);
		posix_spawnattr_destroy(&at);
		posix_spawn_file_actions_destroy(&fa);
	}
	if (in >= 0)
		close(in);
	if (log >= 0)
		close(log);
	return rc;
}

enum child_result { CHILD_OK, CHILD_NO_TORCH, CHILD_FAILED };

/* Run the script with python py.  CHILD_NO_TORCH (why in err) when py
 * cannot be run or did not get as far as importing torch. */
static enum child_result run_child(const char *py, struct vrun *r, char *err, size_t errlen)
{
	static const char *const outputs[] = { "torch.txt", "out.f32", "result.txt", "log.txt" };
	char tail[200];
	double timeout = timeout_seconds();
	size_t len;
	pid_t pid;
	int status = 0, rc, killed, torch;

	for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++)
		unlinkat(r->dirfd, outputs[i], 0);
	if ((rc = spawn_child(py, r, &pid)) != 0) {
		err_set(err, errlen, "%s (%s)", py, strerror(rc));
		return CHILD_NO_TORCH;
	}
	killed = wait_child(pid, timeout, &status);
	log_tail(r, tail, sizeof tail);
	if (killed) {
		err_set(err, errlen, "verify: %s did not finish within %g s and was killed%s%s", py, timeout,
			tail[0] ? "; its last line: " : "", tail);
		return CHILD_FAILED;
	}
	/* The script writes torch.txt as soon as torch imports. */
	char *ver = read_at(r->dirfd, "torch.txt", 63, &len);
	torch = ver != NULL;
	free(ver);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && torch)
		return CHILD_OK;
	if (!torch) {
		if (tail[0])
			err_set(err, errlen, "%s (%s)", py, tail);
		else if (WIFEXITED(status))
			err_set(err, errlen, "%s (exit status %d)", py, WEXITSTATUS(status));
		else
			err_set(err, errlen, "%s (killed by signal %d)", py, WTERMSIG(status));
		return CHILD_NO_TORCH;
	}
	if (WIFSIGNALED(status))
		err_set(err, errlen, "verify: torch's side (%s) was killed by signal %d%s%s", py, WTERMSIG(status),
			tail[0] ? "; its last line: " : "", tail);
	else
		err_set(err, errlen, "verify: torch's side (%s) failed: %s", py, tail[0] ? tail : "no message");
	return CHILD_FAILED;
}

/* The pythons to try: o->python or $SCOREPOINT_PYTHON alone, else python3
 * on PATH and /usr/bin/python3 (once if they are the same file). */
static size_t pythons(const struct verify_opts *o, char py[][PATH_MAX])
{
	const char *env = getenv("SCOREPOINT_PYTHON"), *path = getenv("PATH");
	char a[PATH_MAX], b[PATH_MAX];
	size_t n = 0;

	if ((o && o->python) || (env && *env)) {
		snprintf(py[0], PATH_MAX, "%s", o && o->python ? o->python : env);
		return 1;
	}
	for (const char *p = path ? path : ""; *p && !n; p += *p == ':') {
		size_t len = strcspn(p, ":");
		snprintf(py[0], PATH_MAX, "%.*s/python3", (int)(len ? len : 1), len ? p : ".");
		if (access(py[0], X_OK) == 0)
			n = 1;
		p += len;
	}
	if (!n || !realpath(py[0], a) || !realpath(VERIFY_SYSTEM_PYTHON, b) || strcmp(a, b) != 0)
		snprintf(py[n++], PATH_MAX, "%s", VERIFY_SYSTEM_PYTHON);
	return n;
}

/* Run torch with the first python that imports it: 0, -1 or -2. */
static int run_torch(const struct verify_opts *o, struct vrun *r, char *err, size_t errlen)
{
	char py[VERIFY_MAX_PYTHONS][PATH_MAX], tried[VERIFY_MAX_PYTHONS][400];
	size_t n = pythons(o, py);

	for (size_t i = 0; i < n; i++) {
		enum child_result c = run_child(py[i], r, tried[i], sizeof tried[i]);
		if (c == CHILD_OK)
			return 0;
		if (c == CHILD_FAILED)
			return err_set(err, errlen, "%s", tried[i]);
	}
	err_set(err, errlen, "verify: no python3 that imports torch: tried %s%s%s; install python3-torch or "
		"set SCOREPOINT_PYTHON", tried[0], n > 1 ? ", " : "", n > 1 ? tried[1] : "");
	return -2;
}

/* ---- the comparison ---- */

static float abs_diff(float a, float b)
{
	if (a == b || (isnan(a) && isnan(b)))
		return 0.0f;
	return isnan(a) || isnan(b) ? INFINITY : fabsf(a - b);
}

static void compare(const float *y, const float *t, size_t n, size_t w, struct blob_verify *out)
{
	out->max_diff = 0.0f;
	out->argmax_agree = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < w; j++) {
			float d = abs_diff(y[i * w + j], t[i * w + j]);
			if (!(d <= out->max_diff))
				out->max_diff = d;
		}
		out->argmax_agree += fwd_argmax(y + i * w, w) == fwd_argmax(t + i * w, w);
	}
	out->rows = (uint32_t)n;
}

static float *torch_answer(struct vrun *r, size_t count, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf = read_at(r->dirfd, "out.f32", count * sizeof(float) + 1, &len);

	if (!buf || len != count * sizeof(float)) {
		err_set(err, errlen, "verify: torch's answer has %zu bytes, expected %zu", len, count * sizeof(float));
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < count; i++) {   /* little-endian on disk */
		const unsigned char *p = (const unsigned char *)buf + 4 * i;
		uint32_t u = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		memcpy(buf + 4 * i, &u, 4);
	}
	return (float *)buf;
}

static void torch_how(struct vrun *r)
{
	size_t len = 0;
	char *how = read_at(r->dirfd, "result.txt", sizeof r->how - 1, &len);

	last_line(how ? how : "", len, r->how, sizeof r->how);
	free(how);
}

int verify_model(const struct verify_source *src, const struct pth_model *pm, const struct blob_model *bm,
		 const struct verify_opts *o, struct blob_verify *out, char *report, size_t reportlen, char *err,
		 size_t errlen)
{
	static char version[64];
	struct vrun r = { .dirfd = -1 };
	struct fwd_scratch s;
	float *t = NULL;
	const float *y;
	size_t len;
	char *ver;
	int rc = -1;

	memset(&s, 0, sizeof s);
	memset(out, 0, sizeof *out);
	out->torch_version = "";
	if (reportlen)
		report[0] = '\0';
	if (pm->is_state_dict && pm->nops != bm->nops)
		return err_set(err, errlen, "verify: the converter read %u ops but the blob has %u", pm->nops, bm->nops);
	if (get_rows(src, bm, o, &r, err, errlen) < 0)
		goto out;
	if (!(y = fwd_run(bm, r.x, r.n, &s))) {
		err_set(err, errlen, "verify: the blob's forward pass over %zu rows failed (memory)", r.n);
		goto out;
	}
	if (folder_make(&r, err, errlen) < 0 || write_rows(&r, err, errlen) < 0 ||
	    plan_write(&r, src, pm, bm, err, errlen) < 0)
		goto out;
	if ((rc = run_torch(o, &r, err, errlen)) != 0)
		goto out;
	rc = -1;
	if (!(t = torch_answer(&r, r.n * bm->output_width, err, errlen)))
		goto out;
	ver = read_at(r.dirfd, "torch.txt", sizeof version - 1, &len);
	last_line(ver ? ver : "", len, version, sizeof version);
	free(ver);
	torch_how(&r);
	compare(y, t, r.n, bm->output_width, out);
	out->at = (int64_t)time(NULL);
	out->torch_version = version;
	rc = out->max_diff <= VERIFY_TOLERANCE && out->argmax_agree == out->rows ? 0 : -1;
	snprintf(report, reportlen, "verify: torch %s: max |logit difference| %.1e %s %.0e over %u rows (%s); "
		 "argmax agrees on %u/%u; torch ran %s", version, (double)out->max_diff,
		 out->max_diff <= VERIFY_TOLERANCE ? "<=" : ">", VERIFY_TOLERANCE, out->rows, r.rows_from,
		 out->argmax_agree, out->rows, r.how);
	if (rc < 0)
		err_set(err, errlen, "verify: max |logit difference| %.1e %s %.0e over %u rows; argmax agrees on %u/%u",
			(double)out->max_diff, out->max_diff <= VERIFY_TOLERANCE ? "<=" : ">", VERIFY_TOLERANCE,
			out->rows, out->argmax_agree, out->rows);
out:
	folder_remove(&r);
	fwd_scratch_free(&s);
	free(t);
	free(r.x);
	return rc;
}
