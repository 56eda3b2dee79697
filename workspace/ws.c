/*
 * ws.c - the workspace directory: where it is, its lock, reading a
 * consistent snapshot of DIR/state.yaml, and committing a change to it.
 * Everything under DIR is reached from its fd, never following a link.
 */
#define _GNU_SOURCE   /* O_PATH */
#include "workspace/ws.h"
#include "model/atomic.h"
#include "model/err.h"
#include "model/file.h"
#include "workspace/name.h"
#include "workspace/ws_spec.h"
#include "workspace/ws_yaml.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_HEADER "# scorepoint workspace state (docs/workspace.md): written by the scorepoint CLI\n"

/* A folder under DIR: an fd only to reach what is inside, never followed. */
#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define MODELS_DIR "models"
#define LOGS_DIR "logs"
#define LOG_NAME "requests.log"
#define BLOB_NAME "model.blob"

/* What `model create` writes in DIR/models/NAME/VERSION: all the clean-up removes. */
static const char *const model_files[] = { BLOB_NAME, "MLmodel" };

/* ---- paths ---- */

int ws_dir(const char *given, char *out, size_t len, char *err, size_t errlen)
{
	const char *env = getenv(WS_ENV_DIR);
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	size_t n;

	if (given && *given)
		n = (size_t)snprintf(out, len, "%s", given);
	else if (env && *env)
		n = (size_t)snprintf(out, len, "%s", env);
	else if (xdg && xdg[0] == '/')   /* the XDG spec ignores a relative one */
		n = (size_t)snprintf(out, len, "%s/scorepoint", xdg);
	else if (home && *home)
		n = (size_t)snprintf(out, len, "%s/.local/share/scorepoint", home);
	else
		return err_set(err, errlen, "no workspace: give --workspace DIR or set %s (HOME is not set)",
			       WS_ENV_DIR);
	if (n >= len)
		return err_set(err, errlen, "the workspace path is too long");
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return 0;
}

static int join(char *out, size_t len, const char *dir, const char *file)
{
	return (size_t)snprintf(out, len, "%s/%s", dir, file) < len ? 0 : -1;
}

int ws_path_log(const char *dir, char *out, size_t len)
{
	return join(out, len, dir, WS_LOG_FILE);
}

int ws_path_model(const char *dir, const char *name, const char *version, char *out, size_t len)
{
	return (size_t)snprintf(out, len, "%s/models/%s/%s", dir, name, version) < len ? 0 : -1;
}

/* An absolute form of dir, without following what does not exist yet. */
static char *absolute(const char *dir)
{
	char *real = realpath(dir, NULL);
	if (real || dir[0] == '/')
		return real ? real : strdup(dir);
	char cwd[PATH_MAX], *out;
	if (!getcwd(cwd, sizeof cwd))
		return NULL;
	size_t n = strlen(cwd) + strlen(dir) + 2;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%s/%s", cwd, dir);
	return out;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
	char p[PATH_MAX];
	if ((size_t)snprintf(p, sizeof p, "%s", dir) >= sizeof p)
		return err_set(err, errlen, "%s: path too long", dir);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return err_set(err, errlen, "%s: cannot create it: %s", p, strerror(errno));
		*s = c;
		if (c == '\0')
			break;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(err, errlen, "%s: not a directory", dir);
	return 0;
}

/* ---- who may use the workspace, and reaching files under it ---- */

/* "owned by uid 1001 (alice), not by you (root): run as that user, or chown -R root DIR" */
static int refuse_owner(const char *path, const char *dir, uid_t found, uid_t want, char *err, size_t errlen)
{
	char owner[300], wanted[256];
	const struct passwd *pw = getpwuid(found);
	int me = want == geteuid();

	if (pw)
		snprintf(owner, sizeof owner, "uid %lu (%s)", (unsigned long)found, pw->pw_name);
	else
		snprintf(owner, sizeof owner, "uid %lu", (unsigned long)found);
	pw = getpwuid(want);
	if (pw)
		snprintf(wanted, sizeof wanted, "%s", pw->pw_name);
	else
		snprintf(wanted, sizeof wanted, "%lu", (unsigned long)want);
	return err_set(err, errlen, "%s: owned by %s, not by %s (%s): %schown -R %s %s", path, owner,
		       me ? "you" : "the workspace's owner", wanted, me ? "run as that user, or " : "run ", wanted,
		       dir);
}

/*
 * st (of path, in the workspace dir) must be owned by `want` and writable
 * by nobody else; fix is the mode to suggest ("700").  0, or -1 with the
 * command to run in err.
 */
static int check_safe(const struct stat *st, const char *path, const char *dir, uid_t want, const char *fix,
		      char *err, size_t errlen)
{
	if (st->st_uid != want)
		return refuse_owner(path, dir, st->st_uid, want, err, errlen);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return err_set(err, errlen, "%s: writable by %s (mode %04o): run chmod %s %s", path,
			       st->st_mode & S_IWOTH ? "others" : "group", (unsigned)(st->st_mode & 07777), fix, path);
	return 0;
}

/* Why at/name (shown) could not be opened as a `want` (S_IFDIR, S_IFREG):
 * a link, another kind of file, or strerror(e) for target. */
static int refuse_open(int at, const char *name, const char *shown, const char *target, int e, mode_t want,
		       char *err, size_t errlen)
{
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		err_set(err, errlen, "%s: a symbolic link, which is not followed here", shown);
	else if (e != ENOENT && e != EACCES && fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		 (st.st_mode & S_IFMT) != want)
		err_set(err, errlen, "%s: not a %s (%s)", shown, want == S_IFDIR ? "directory" : "regular file",
			file_kind(st.st_mode));
	else
		err_set(err, errlen, "%s: %s", target, strerror(e));
	errno = e;
	return -1;
}

/* One component of a path under DIR: no slash, not "." or "..". */
static int part_ok(const char *p)
{
	return *p && !strchr(p, '/') && strcmp(p, ".") != 0 && strcmp(p, "..") != 0;
}

/* mkdir at/name 0700 unless it exists; a folder made here and now (never
 * one found) is given to `give` when that is not us.  0, or -1 with errno. */
static int made(int at, const char *name, uid_t give)
{
	if (mkdirat(at, name, 0700) < 0)
		return errno == EEXIST ? 0 : -1;
	if (give != geteuid())
		(void)!fchownat(at, name, give, (gid_t)-1, AT_SYMLINK_NOFOLLOW);   /* the file's check sees it */
	return 0;
}

/*
 * dirfd/parts[0]/.../parts[n - 1] as an O_PATH fd, each component opened
 * from the one before with O_NOFOLLOW; the missing ones made 0700 when
 * create, and given to `give` when that is not us (root serving another
 * user's workspace).  shown is dirfd's path, target what the caller is
 * reaching (named in a strerror message, as open() of the whole path
 * would).  The fd, or -1 with err and errno.
 */
static int walk(int dirfd, const char *shown, const char *const *parts, size_t n, int create, uid_t give,
		const char *target, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t len = (size_t)snprintf(path, sizeof path, "%s", shown);
	int fd = dirfd;

	for (size_t i = 0; i < n; i++) {
		int at = fd, e = 0;
		if (len < sizeof path)
			len += (size_t)snprintf(path + len, sizeof path - len, "/%s", parts[i]);
		if (len >= sizeof path || !part_ok(parts[i])) {
			e = len >= sizeof path ? ENAMETOOLONG : EINVAL;
			err_set(err, errlen, "%s: %s", target, strerror(e));
		} else if (create && made(at, parts[i], give) < 0) {
			e = errno;
			err_set(err, errlen, "%s: cannot create it: %s", path, strerror(e));
		} else if ((fd = openat(at, parts[i], DIR_FLAGS)) < 0) {
			e = errno;
			refuse_open(at, parts[i], path, target, e, S_IFDIR, err, errlen);
		}
		if (at != dirfd)
			close(at);
		if (e) {
			errno = e;
			return -1;
		}
	}
	return fd;
}

int ws_open_model_dir(const struct ws *w, const char *name, const char *version, int create, char *err,
		      size_t errlen)
{
	const char *parts[] = { MODELS_DIR, name, version };
	char target[PATH_MAX];

	if (ws_path_model(w->dir, name, version, target, sizeof target) < 0)
		return err_set(err, errlen, "%s: path too long", w->dir);
	if (w->dirfd < 0)
		return err_set(err, errlen, "%s: %s", target, strerror(ENOENT));
	return walk(w->dirfd, w->dir, parts, 3, create, w->owner, target, err, errlen);
}

int ws_open_blob(const struct ws *w, const struct ws_model *m, char *err, size_t errlen)
{
	const char *parts[] = { MODELS_DIR, m->name, m->version };
	char why[PATH_MAX + 128];
	struct stat st;
	int dfd, fd;

	if (w->dirfd < 0)
		return err_set(err, errlen, "%s: %s", m->blob, strerror(ENOENT));
	if ((dfd = walk(w->dirfd, w->dir, parts, 3, 0, w->owner, m->blob, err, errlen)) < 0)
		return -1;
	fd = file_open_regular(dfd, BLOB_NAME, FILE_NOFOLLOW, &st, why, sizeof why);
	close(dfd);
	if (fd < 0)   /* why names BLOB_NAME: put the folder in front */
		return err_set(err, errlen, "%.*s%s", (int)(strlen(m->blob) - strlen(BLOB_NAME)), m->blob, why);
	if (check_safe(&st, m->blob, w->dir, w->owner, "644", err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Open the file name (shown as path) in the folder dfd as ws_open_log()
 * opens the log: created with mode when append, fix the mode a refusal
 * suggests. */
static int open_in(const struct ws *w, int dfd, const char *name, int append, mode_t mode, const char *fix,
		   const char *path, char *err, size_t errlen)
{
	int fd, e, flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	struct stat st;

	if (append) {
		/* Only a file made here and now is given away (by root): never
		 * one found, which may be a hard link to anything. */
		fd = openat(dfd, name, flags | O_WRONLY | O_APPEND | O_CREAT | O_EXCL, mode);
		if (fd >= 0 && w->owner != geteuid() && fchown(fd, w->owner, (gid_t)-1) < 0) {
			e = errno;
			close(fd);
			return err_set(err, errlen, "%s: cannot give it to uid %lu: %s", path, (unsigned long)w->owner,
				       strerror(e));
		}
		if (fd < 0 && errno == EEXIST)
			fd = openat(dfd, name, flags | O_WRONLY | O_APPEND);
	} else {
		fd = openat(dfd, name, flags | O_RDONLY);
	}
	if (fd < 0)
		return refuse_open(dfd, name, path, path, errno, S_IFREG, err, errlen);
	if (fstat(fd, &st) < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		err_set(err, errlen, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		err_set(err, errlen, "%s: not a regular file (%s)", path, file_kind(st.st_mode));
	else if (check_safe(&st, path, w->dir, w->owner, fix, err, errlen) == 0)
		return fd;
	close(fd);
	errno = EINVAL;
	return -1;
}

int ws_open_log(const struct ws *w, int append, char *err, size_t errlen)
{
	const char *parts[] = { LOGS_DIR };
	char path[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	int dfd, fd;

	if (ws_path_log(w->dir, path, sizeof path) < 0 || join(dir, sizeof dir, w->dir, LOGS_DIR) < 0)
		return err_set(err, errlen, "%s: path too long", w->dir);
	if (w->dirfd < 0) {
		err_set(err, errlen, "%s: %s", path, strerror(ENOENT));
		return errno = ENOENT, -1;
	}
	if (append && mkdirat(w->dirfd, LOGS_DIR, 0700) == 0 && w->owner != geteuid())
		(void)!fchownat(w->dirfd, LOGS_DIR, w->owner, (gid_t)-1, AT_SYMLINK_NOFOLLOW);   /* checked below */
	if ((dfd = walk(w->dirfd, w->dir, parts, 1, 0, w->owner, path, err, errlen)) < 0)
		return -1;
	if (fstat(dfd, &st) < 0 || check_safe(&st, dir, w->dir, w->owner, "700", err, errlen) < 0) {
		close(dfd);
		errno = EACCES;
		return -1;
	}
	fd = open_in(w, dfd, LOG_NAME, append, 0640, "640", path, err, errlen);
	int e = errno;
	close(dfd);
	errno = e;
	return fd;
}

int ws_open_file(const struct ws *w, const char *const *parts, size_t n, int append, mode_t mode, char *err,
		 size_t errlen)
{
	char path[PATH_MAX], fix[8];
	size_t len = (size_t)snprintf(path, sizeof path, "%s", w->dir);
	int dfd, fd, e;

	for (size_t i = 0; i < n && len < sizeof path; i++)
		len += (size_t)snprintf(path + len, sizeof path - len, "/%s", parts[i]);
	if (n == 0 || len >= sizeof path || !part_ok(parts[n - 1]))
		return err_set(err, errlen, "%s: path too long or not a file name", w->dir);
	if (w->dirfd < 0) {
		err_set(err, errlen, "%s: %s", path, strerror(ENOENT));
		return errno = ENOENT, -1;
	}
	if ((dfd = walk(w->dirfd, w->dir, parts, n - 1, append, w->owner, path, err, errlen)) < 0)
		return -1;
	snprintf(fix, sizeof fix, "%o", (unsigned)(mode & 0755));
	fd = open_in(w, dfd, parts[n - 1], append, mode, fix, path, err, errlen);
	e = errno;
	if (dfd != w->dirfd)
		close(dfd);
	errno = e;
	return fd;
}

/* ---- stamps ---- */

static void stamp_of(const struct stat *s, struct ws_stamp *st)
{
	memset(st, 0, sizeof *st);
	st->exists = 1;
	st->dev = s->st_dev;
	st->ino = s->st_ino;
	st->size = s->st_size;
	st->mtim = s->st_mtim;
	st->ctim = s->st_ctim;
}

int ws_stat(const char *dir, struct ws_stamp *st)
{
	char p[PATH_MAX];
	struct stat s;

	memset(st, 0, sizeof *st);
	if (join(p, sizeof p, dir, WS_STATE_FILE) < 0)
		return -1;
	if (fstatat(AT_FDCWD, p, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	stamp_of(&s, st);
	return 0;
}

int ws_stamp_equal(const struct ws_stamp *a, const struct ws_stamp *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
	       a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

/* ---- lookups ---- */

const struct ws_endpoint *ws_endpoint(const struct ws *w, const char *name, size_t len)
{
	for (size_t i = 0; i < w->nendpoints; i++)
		if (strlen(w->endpoints[i].name) == len && memcmp(w->endpoints[i].name, name, len) == 0)
			return &w->endpoints[i];
	return NULL;
}

const struct ws_deployment *ws_deployment(const struct ws_endpoint *e, const char *name, size_t len)
{
	for (size_t i = 0; i < e->ndeployments; i++)
		if (strlen(e->deployments[i].name) == len && memcmp(e->deployments[i].name, name, len) == 0)
			return &e->deployments[i];
	return NULL;
}

const struct ws_model *ws_model(const struct ws *w, const char *name, const char *version)
{
	for (size_t i = 0; i < w->nmodels; i++)
		if (strcmp(w->models[i].name, name) == 0 && strcmp(w->models[i].version, version) == 0)
			return &w->models[i];
	return NULL;
}

struct ws_node *ws_seq(struct ws_node *map, const char *key)
{
	struct ws_node *s = ws_node_get(map, key);
	if (s && s->type == WS_SEQ)
		return s;
	if (ws_node_set(map, key, ws_node_new(WS_SEQ, NULL)) < 0)
		return NULL;
	return ws_node_get(map, key);
}

long ws_find(const struct ws_node *seq, const char *name)
{
	for (size_t i = 0; seq && i < seq->n; i++) {
		const char *n = ws_node_text(ws_node_get(seq->v[i], "name"));
		if (n && strcmp(n, name) == 0)
			return (long)i;
	}
	return -1;
}

/* ---- building a snapshot from the tree ---- */

void ws_free(struct ws *w)
{
	for (size_t i = 0; i < w->nmodels; i++)
		free((char *)w->models[i].blob);
	for (size_t i = 0; i < w->nendpoints; i++) {
		for (size_t j = 0; j < w->endpoints[i].ndeployments; j++)
			free((void *)w->endpoints[i].deployments[j].env);
		free(w->endpoints[i].deployments);
	}
	free(w->models);
	free(w->endpoints);
	ws_node_free(w->root);
	if (w->dir && w->dirfd >= 0)
		close(w->dirfd);
	free(w->dir);
	memset(w, 0, sizeof *w);
}

static int bad(const char *file, unsigned line, char *err, size_t errlen, const char *what, const char *name)
{
	return err_set(err, errlen, "%s:%u: %s \"%s\"", file, line, what, name);
}

static int build_models(struct ws *w, const char *file, char *err, size_t errlen)
{
	const struct ws_node *seq = ws_node_get(w->root, "models");
	size_t n = seq && seq->type == WS_SEQ ? seq->n : 0;
	char p[PATH_MAX];

	if (n > WS_MAX_MODELS)
		return err_set(err, errlen, "%s: more than %d models", file, WS_MAX_MODELS);
	w->models = calloc(n ? n : 1, sizeof *w->models);
	if (!w->models)
		return err_set(err, errlen, "%s: out of memory", file);
	for (size_t i = 0; i < n; i++) {
		struct ws_model *m = &w->models[i];
		struct ws_node *rec = seq->v[i];
		if (ws_spec_check(WS_KIND_MODEL, rec, 1, m, file, err, errlen) < 0)
			return -1;
		m->node = rec;
		m->type = ws_node_text(ws_node_get(rec, "type"));
		if (ws_model(w, m->name, m->version))
			return bad(file, rec->line, err, errlen, "a second model", m->name);
		w->nmodels = i + 1;
		if ((size_t)snprintf(p, sizeof p, "%s/models/%s/%s/model.blob", w->dir, m->name, m->version) >= sizeof p)
			return err_set(err, errlen, "%s: path too long", file);
		if (!(m->blob = strdup(p)))
			return err_set(err, errlen, "%s: out of memory", file);
	}
	return 0;
}

static int build_deployment(struct ws *w, struct ws_endpoint *e, struct ws_deployment *d,
			    struct ws_node *rec, const char *file, char *err, size_t errlen)
{
	char name[MODEL_NAME_MAX_LEN + 1], version[WS_VERSION_MAX + 1], msg[600];
	int latest;

	if (ws_spec_check(WS_KIND_DEPLOYMENT, rec, 1, d, file, err, errlen) < 0)
		return -1;
	d->node = rec;
	if (strcmp(d->endpoint_name, e->name) != 0)
		return bad(file, rec->line, err, errlen, "a deployment of another endpoint", d->endpoint_name);
	const char *ref = ws_node_text(ws_node_get(rec, "model"));
	if (ws_model_ref(ref, name, version, &latest, msg, sizeof msg) < 0)
		return err_set(err, errlen, "%s:%u: %s", file, rec->line, msg);
	d->model = ws_model(w, name, version);
	if (!d->model)
		return err_set(err, errlen, "%s:%u: deployment \"%s\" uses model %s:%s, which is not registered",
			       file, rec->line, d->name, name, version);
	d->model_name = d->model->name;
	d->model_version = d->model->version;
	d->blob = d->model->blob;
	const struct ws_node *env = ws_node_get(rec, "environment_variables");
	if (env && env->type == WS_MAP && env->n) {
		struct ws_env *v = calloc(env->n, sizeof *v);
		if (!v)
			return err_set(err, errlen, "%s: out of memory", file);
		for (size_t i = 0; i < env->n; i++) {
			v[i].name = env->keys[i];
			v[i].value = env->v[i]->s;
		}
		d->env = v;
		d->nenv = env->n;
	}
	return 0;
}

/* Traffic names existing deployments; the sum rules; no deployment both
 * live and mirrored. */
static int check_traffic(const struct ws_endpoint *e, const char *file, char *err, size_t errlen)
{
	char msg[256];
	const struct traffic *t[2] = { &e->traffic, &e->mirror };

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < t[k]->n; i++)
			if (!ws_deployment(e, t[k]->e[i].name, strlen(t[k]->e[i].name)))
				return err_set(err, errlen, "%s:%u: endpoint \"%s\": %s names deployment \"%s\", "
					       "which does not exist", file, e->node->line, e->name,
					       k ? "mirror_traffic" : "traffic", t[k]->e[i].name);
	if (traffic_check_live(&e->traffic, msg, sizeof msg) < 0 ||
	    traffic_check_mirror(&e->mirror, msg, sizeof msg) < 0)
		return err_set(err, errlen, "%s:%u: endpoint \"%s\": %s", file, e->node->line, e->name, msg);
	for (size_t i = 0; i < e->mirror.n; i++)
		if (e->mirror.e[i].percent && traffic_get(&e->traffic, e->mirror.e[i].name))
			return err_set(err, errlen, "%s:%u: endpoint \"%s\": deployment \"%s\" has both live and "
				       "mirror traffic", file, e->node->line, e->name, e->mirror.e[i].name);
	return 0;
}

static int build_endpoints(struct ws *w, const char *file, char *err, size_t errlen)
{
	const struct ws_node *seq = ws_node_get(w->root, "endpoints");
	size_t n = seq && seq->type == WS_SEQ ? seq->n : 0;

	if (n > WS_MAX_ENDPOINTS)
		return err_set(err, errlen, "%s: more than %d endpoints", file, WS_MAX_ENDPOINTS);
	w->endpoints = calloc(n ? n : 1, sizeof *w->endpoints);
	if (!w->endpoints)
		return err_set(err, errlen, "%s: out of memory", file);
	for (size_t i = 0; i < n; i++) {
		struct ws_endpoint *e = &w->endpoints[i];
		struct ws_node *rec = seq->v[i];
		if (ws_spec_check(WS_KIND_ENDPOINT, rec, 1, e, file, err, errlen) < 0)
			return -1;
		e->node = rec;
		if (ws_endpoint(w, e->name, strlen(e->name)))
			return bad(file, rec->line, err, errlen, "a second endpoint", e->name);
		w->nendpoints = i + 1;
		const struct ws_node *ds = ws_node_get(rec, "deployments");
		size_t nd = ds && ds->type == WS_SEQ ? ds->n : 0;
		if (nd > WS_MAX_DEPLOYMENTS)
			return err_set(err, errlen, "%s:%u: endpoint \"%s\" has more than %d deployments", file,
				       rec->line, e->name, WS_MAX_DEPLOYMENTS);
		e->deployments = calloc(nd ? nd : 1, sizeof *e->deployments);
		if (!e->deployments)
			return err_set(err, errlen, "%s: out of memory", file);
		for (size_t j = 0; j < nd; j++) {
			struct ws_deployment *d = &e->deployments[j];
			if (build_deployment(w, e, d, ds->v[j], file, err, errlen) < 0)
				return -1;
			if (ws_deployment(e, d->name, strlen(d->name)))
				return bad(file, ds->v[j]->line, err, errlen, "a second deployment", d->name);
			e->ndeployments = j + 1;
		}
		if (check_traffic(e, file, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Fill w from w->root (owned by w); on failure w holds what it had. */
static int build(struct ws *w, const char *file, char *err, size_t errlen)
{
	if (ws_spec_check(WS_KIND_STATE, w->root, 1, w, file, err, errlen) < 0)
		return -1;
	const char *host = ws_node_text(ws_node_path(w->root, "config.host"));
	if (!host || ws_node_get(ws_node_get(w->root, "config"), "host")->type == WS_NULL)
		host = WS_DEFAULT_HOST;
	if (strlen(host) >= sizeof w->host || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					       "0123456789.-:[]") != strlen(host))
		return err_set(err, errlen, "%s: config.host \"%.60s\" is not a host name or address", file, host);
	snprintf(w->host, sizeof w->host, "%s", host);
	if (build_models(w, file, err, errlen) < 0)
		return -1;
	return build_endpoints(w, file, err, errlen);
}

/* The state of a workspace nobody has written to yet. */
static struct ws_node *empty_state(void)
{
	struct ws_node *r = ws_node_new(WS_MAP, NULL);
	if (r && (ws_node_set(r, "format", ws_node_int(WS_FORMAT)) < 0 ||
		  ws_node_set(r, "config", ws_node_new(WS_MAP, NULL)) < 0 ||
		  ws_node_set(r, "models", ws_node_new(WS_SEQ, NULL)) < 0 ||
		  ws_node_set(r, "endpoints", ws_node_new(WS_SEQ, NULL)) < 0)) {
		ws_node_free(r);
		return NULL;
	}
	return r;
}

/* w->root set (taken) and w->dir set: build, or free everything. */
static int finish(struct ws *w, const char *file, char *err, size_t errlen)
{
	if (!w->root) {
		ws_free(w);
		return err_set(err, errlen, "%s: out of memory", file);
	}
	if (build(w, file, err, errlen) < 0) {
		ws_free(w);
		return -1;
	}
	return 0;
}

/* Open w->dir as w->dirfd (left -1 when a reader finds no DIR) and check
 * who may use it: its owner, or root reading (see ws.h). */
static int open_workspace(struct ws *w, int writer, char *err, size_t errlen)
{
	struct stat st;
	uid_t me = geteuid();

	if ((w->dirfd = open(w->dir, DIR_FLAGS)) < 0) {
		if (errno == ENOENT && !writer)
			return 0;
		return refuse_open(AT_FDCWD, w->dir, w->dir, w->dir, errno, S_IFDIR, err, errlen);
	}
	if (fstat(w->dirfd, &st) < 0)
		return err_set(err, errlen, "%s: %s", w->dir, strerror(errno));
	w->owner = st.st_uid;
	return check_safe(&st, w->dir, w->dir, me == 0 && !writer ? st.st_uid : me, "700", err, errlen);
}

/* w emptied, w->dir made absolute and opened; on failure w needs no ws_free(). */
static int start(const char *dir, struct ws *w, int writer, char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	w->dirfd = -1;
	if (!(w->dir = absolute(dir)))
		return err_set(err, errlen, "%s: path too long or no memory", dir);
	if (open_workspace(w, writer, err, errlen) < 0) {
		ws_free(w);
		return -1;
	}
	return 0;
}

/* Read the state file of the opened w (none: the empty state).  Either
 * way as finish(): on failure w is freed. */
static int load_state(struct ws *w, char *err, size_t errlen)
{
	char file[PATH_MAX], why[PATH_MAX + 128];
	struct stat st;
	int fd = -1;

	if (join(file, sizeof file, w->dir, WS_STATE_FILE) < 0) {
		err_set(err, errlen, "%s: path too long", w->dir);
		ws_free(w);
		return -1;
	}
	/* Never opened through a link, and never waited on (a FIFO): an error
	 * can only quote a file of the workspace's owner. */
	if (w->dirfd >= 0)
		fd = file_open_regular(w->dirfd, WS_STATE_FILE, FILE_NOFOLLOW, &st, why, sizeof why);
	if (fd < 0 && (w->dirfd < 0 || errno == ENOENT)) {
		w->root = empty_state();
		return finish(w, file, err, errlen);
	}
	if (fd < 0 || check_safe(&st, file, w->dir, w->owner, "600", err, errlen) < 0) {
		if (fd < 0)
			err_set(err, errlen, "%s/%s", w->dir, why);
		else
			close(fd);
		ws_free(w);
		return -1;
	}
	stamp_of(&st, &w->stamp);
	int rc = ws_yaml_load_fd(fd, file, WS_STATE_MAX_BYTES, &w->root, err, errlen);
	close(fd);
	if (rc < 0) {
		ws_free(w);
		return -1;
	}
	return finish(w, file, err, errlen);
}

int ws_load(const char *dir, struct ws *w, char *err, size_t errlen)
{
	if (start(dir, w, 0, err, errlen) < 0)
		return -1;
	return load_state(w, err, errlen);
}

/* ---- changes ---- */

DIR *ws_listdir(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0)
		close(fd);
	return d;
}

/* Remove model_files from the folder nfd/version, then the folder if that
 * emptied it.  A link there is not opened; what else it holds stays. */
static void remove_version(int nfd, const char *version)
{
	int vfd = part_ok(version) ? openat(nfd, version, DIR_FLAGS) : -1;

	if (vfd < 0)
		return;
	for (size_t i = 0; i < sizeof model_files / sizeof model_files[0]; i++)
		atomic_clean_names(vfd, model_files[i], 1);
	close(vfd);
	unlinkat(nfd, version, AT_REMOVEDIR);   /* fails, harmlessly, on what is left */
}

void ws_remove_model(const struct ws *w, const char *name, const char *version)
{
	int mfd = w->dirfd >= 0 ? openat(w->dirfd, MODELS_DIR, DIR_FLAGS) : -1;
	int nfd = mfd >= 0 && part_ok(name) ? openat(mfd, name, DIR_FLAGS) : -1;

	if (nfd >= 0) {
		remove_version(nfd, version);
		close(nfd);
		unlinkat(mfd, name, AT_REMOVEDIR);   /* fails while other versions remain */
	}
	if (mfd >= 0) {
		close(mfd);
		unlinkat(w->dirfd, MODELS_DIR, AT_REMOVEDIR);   /* likewise */
	}
}

/*
 * Remove DIR/models/NAME/VERSION folders that no registered model names:
 * what a `model create` killed before its commit left behind (a
 * model.blob.tmpXXXXXX, the folders).  Only writers call it, under the
 * lock, so no conversion is in progress.  Only what model create writes
 * goes (ws_remove_model()); a link in DIR/models is never entered.
 */
static void clean_models(const struct ws *w)
{
	int mfd = openat(w->dirfd, MODELS_DIR, DIR_FLAGS);
	DIR *d = mfd >= 0 ? ws_listdir(mfd, ".") : NULL;
	struct dirent *e, *v;

	while (d && (e = readdir(d)) != NULL) {
		int nfd = e->d_name[0] == '.' ? -1 : openat(mfd, e->d_name, DIR_FLAGS);
		DIR *dn = nfd >= 0 ? ws_listdir(nfd, ".") : NULL;
		while (dn && (v = readdir(dn)) != NULL)
			if (v->d_name[0] != '.' && !ws_model(w, e->d_name, v->d_name))
				remove_version(nfd, v->d_name);
		if (dn)
			closedir(dn);
		if (nfd >= 0) {
			close(nfd);
			unlinkat(mfd, e->d_name, AT_REMOVEDIR);   /* fails, harmlessly, while versions remain */
		}
	}
	if (d)
		closedir(d);
	if (mfd >= 0) {
		close(mfd);
		unlinkat(w->dirfd, MODELS_DIR, AT_REMOVEDIR);
	}
}

/* DIR/.lock, opened from t->w.dirfd and locked: 0, or -1 with err. */
static int lock(struct ws_txn *t, char *err, size_t errlen)
{
	char p[PATH_MAX];
	struct stat st;

	if (join(p, sizeof p, t->w.dir, WS_LOCK_FILE) < 0)
		return err_set(err, errlen, "%s: path too long", t->w.dir);
	t->lock_fd = openat(t->w.dirfd, WS_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (t->lock_fd < 0)
		return refuse_open(t->w.dirfd, WS_LOCK_FILE, p, p, errno, S_IFREG, err, errlen);
	if (fstat(t->lock_fd, &st) < 0)
		return err_set(err, errlen, "%s: %s", p, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(err, errlen, "%s: not a regular file (%s)", p, file_kind(st.st_mode));
	while (flock(t->lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_set(err, errlen, "%s: cannot lock: %s", p, strerror(errno));
	return 0;
}

int ws_begin(const char *dir, struct ws_txn *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->lock_fd = -1;
	t->w.dirfd = -1;
	if (make_dirs(dir, err, errlen) < 0 || start(dir, &t->w, 1, err, errlen) < 0)
		return -1;
	if (lock(t, err, errlen) < 0) {
		ws_end(t);
		return -1;
	}
	atomic_clean_names(t->w.dirfd, WS_STATE_FILE, 0);
	if (load_state(&t->w, err, errlen) < 0) {
		ws_end(t);
		return -1;
	}
	clean_models(&t->w);
	return 0;
}

static void unlock(struct ws_txn *t)
{
	if (t->lock_fd >= 0) {
		close(t->lock_fd);   /* releases the flock */
		t->lock_fd = -1;
	}
}

int ws_commit(struct ws_txn *t, char *err, size_t errlen)
{
	struct enc_buf b;
	struct ws next;
	char file[PATH_MAX], why[512];
	struct stat st;
	int rc = -1;

	memset(&next, 0, sizeof next);
	next.dirfd = -1;
	enc_init(&b, WS_STATE_MAX_BYTES);
	if (join(file, sizeof file, t->w.dir, WS_STATE_FILE) < 0) {
		err_set(err, errlen, "%s: path too long", t->w.dir);
		goto out;
	}
	enc_cstr(&b, STATE_HEADER);
	if (ws_yaml_emit(t->w.root, &b) < 0) {
		err_set(err, errlen, "%s: the new state is larger than %zu bytes", file, WS_STATE_MAX_BYTES);
		goto out;
	}
	/* Nothing a reader would refuse is ever written. */
	snprintf(why, sizeof why, "out of memory");
	next.dir = strdup(t->w.dir);
	if (!next.dir || ws_yaml_parse(b.p, b.len, file, &next.root, why, sizeof why) < 0 ||
	    finish(&next, file, why, sizeof why) < 0) {
		err_set(err, errlen, "refusing to write an invalid state: %s", why);
		ws_free(&next);
		goto out;
	}
	if (atomic_write_bufat(t->w.dirfd, WS_STATE_FILE, file, 0600, b.p, b.len, err, errlen) < 0) {
		ws_free(&next);
		goto out;
	}
	if (fstatat(t->w.dirfd, WS_STATE_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0)
		stamp_of(&st, &next.stamp);
	next.dirfd = t->w.dirfd;   /* the same DIR, now the new snapshot's */
	next.owner = t->w.owner;
	t->w.dirfd = -1;
	ws_free(&t->w);
	t->w = next;
	rc = 0;
out:
	enc_free(&b);
	unlock(t);
	return rc;
}

void ws_end(struct ws_txn *t)
{
	unlock(t);
	ws_free(&t->w);
}
