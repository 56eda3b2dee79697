/*
 * test_deploy_yaml.c - the Kubernetes manifests in deploy/k8s, read with the
 * project's own YAML reader (workspace/ws_yaml.h: one document a file, no
 * duplicate keys) since no kubectl runs here.  Each file is one object with
 * apiVersion, kind and metadata.name; the objects must fit together: probes
 * on /health at the container's port, the port the entry point is told, the
 * image's user, emptyDirs where the image writes, Services that select a
 * Deployment's pods, HPAs that target a Deployment, an HTTPRoute whose
 * weights sum to 100 over existing Services, a kustomization naming every
 * file.
 */
#include "tests/unit/unit.h"
#include "workspace/ws_yaml.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K8S_DIR "deploy/k8s"
#define MAX_DOCS 64

struct doc {
	char file[256];              /* e.g. "deployment-blue.yaml" */
	const char *api, *kind, *name;
	struct ws_node *root;
};
static struct doc docs[MAX_DOCS];
static size_t ndocs;

/* For messages: never a NULL for %s. */
static const char *str(const char *s)
{
	return s ? s : "(none)";
}

static const char *text(const struct ws_node *n, const char *path)
{
	const struct ws_node *v = ws_node_path(n, path);
	return v ? ws_node_text(v) : NULL;
}

static int is_text(const struct ws_node *n, const char *path, const char *want)
{
	const char *t = text(n, path);
	return t && strcmp(t, want) == 0;
}

static const struct ws_node *seq(const struct ws_node *n, const char *path)
{
	const struct ws_node *v = ws_node_path(n, path);
	return v && v->type == WS_SEQ ? v : NULL;
}

/* The next object of `kind` from docs[*i] on, advancing *i past it; NULL
 * at the end.  for (size_t i = 0; (o = each("Service", &i));) ... */
static const struct doc *each(const char *kind, size_t *i)
{
	while (*i < ndocs) {
		const struct doc *o = &docs[(*i)++];
		if (o->kind && o->name && strcmp(o->kind, kind) == 0)
			return o;
	}
	return NULL;
}

/* The object of `kind` named `name` (any name if NULL), or NULL. */
static const struct doc *find(const char *kind, const char *name)
{
	const struct doc *o;
	for (size_t i = 0; (o = each(kind, &i));)
		if (!name || strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* Every pair of the map `sel` is in the map `labels`. */
static int selects(const struct ws_node *sel, const struct ws_node *labels)
{
	if (!sel || sel->type != WS_MAP || sel->n == 0 || !labels)
		return 0;
	for (size_t i = 0; i < sel->n; i++) {
		const char *want = ws_node_text(sel->v[i]);
		const struct ws_node *got = ws_node_get(labels, sel->keys[i]);
		if (!want || !got || !ws_node_text(got) || strcmp(want, ws_node_text(got)) != 0)
			return 0;
	}
	return 1;
}

/* A port reference (a name or a number) that names one of the container's
 * ports. */
static int container_port(const struct ws_node *container, const char *ref)
{
	const struct ws_node *ports = seq(container, "ports");
	for (size_t i = 0; ref && ports && i < ports->n; i++)
		if (is_text(ports->v[i], "name", ref) || is_text(ports->v[i], "containerPort", ref))
			return 1;
	return 0;
}

static const char *env(const struct ws_node *container, const char *name)
{
	const struct ws_node *e = seq(container, "env");
	for (size_t i = 0; e && i < e->n; i++)
		if (is_text(e->v[i], "name", name))
			return text(e->v[i], "value");
	return NULL;
}

static const struct ws_node *volume(const struct ws_node *pod, const char *name)
{
	const struct ws_node *v = seq(pod, "volumes");
	for (size_t i = 0; name && v && i < v->n; i++)
		if (is_text(v->v[i], "name", name))
			return v->v[i];
	return NULL;
}

/* The volume mounted at `path` in the container, or NULL. */
static const struct ws_node *mounted(const struct ws_node *pod, const struct ws_node *c, const char *path,
				     int *read_only)
{
	const struct ws_node *m = seq(c, "volumeMounts");
	for (size_t i = 0; m && i < m->n; i++)
		if (is_text(m->v[i], "mountPath", path)) {
			*read_only = is_text(m->v[i], "readOnly", "true");
			return volume(pod, text(m->v[i], "name"));
		}
	return NULL;
}

/* A default the entry point gives a variable, "${NAME:-default}", from
 * deploy/container/entrypoint.sh; "" if it is not there. */
static void entrypoint_default(const char *name, char *out, size_t len)
{
	size_t n;
	char *sh = unit_slurp("deploy/container/entrypoint.sh", &n), pat[64];
	snprintf(pat, sizeof pat, "${%s:-", name);
	const char *p = sh ? strstr(sh, pat) : NULL;
	out[0] = '\0';
	if (p) {
		p += strlen(pat);
		size_t k = strcspn(p, "}\n");
		snprintf(out, len, "%.*s", (int)k, p);
	}
	free(sh);
}

/* The uid of the runtime image's last USER line. */
static long image_uid(void)
{
	size_t n;
	char *df = unit_slurp("deploy/container/Dockerfile", &n);
	long uid = -1;
	for (char *p = df; p && (p = strstr(p, "\nUSER ")); p++)
		uid = strtol(p + 6, NULL, 10);
	free(df);
	return uid;
}

static void test_every_file_is_one_object(void)
{
	DIR *d = opendir(K8S_DIR);
	struct dirent *e;
	char err[512], path[512];

	CHECK(d != NULL);
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		CHECK(ndocs < MAX_DOCS);
		if (ndocs >= MAX_DOCS)
			break;
		struct doc *o = &docs[ndocs++];
		snprintf(o->file, sizeof o->file, "%s", e->d_name);
		snprintf(path, sizeof path, "%s/%s", K8S_DIR, e->d_name);
		int rc = ws_yaml_load(path, WS_YAML_MAX_BYTES, &o->root, err, sizeof err);
		CHECKF(rc == 0, "%s", err);
		o->api = text(o->root, "apiVersion");
		o->kind = text(o->root, "kind");
		o->name = text(o->root, "metadata.name");
		/* kustomize v2 (Debian 12's kubectl 1.20) refuses a Kustomization's metadata. */
		if (o->kind && strcmp(o->kind, "Kustomization") == 0) {
			CHECKF(!ws_node_get(o->root, "metadata"), "%s: a Kustomization without metadata", o->file);
			o->name = "kustomization";
		}
		CHECKF(o->api && o->kind && o->name && *o->name, "%s: apiVersion, kind and metadata.name", o->file);
	}
	if (d)
		closedir(d);
	CHECKF(ndocs >= 10, "%zu files", ndocs);
	for (size_t i = 0; i < ndocs; i++)
		for (size_t j = i + 1; j < ndocs; j++)
			CHECKF(!docs[i].kind || !docs[j].kind || strcmp(docs[i].kind, docs[j].kind) != 0 ||
				       strcmp(docs[i].name, docs[j].name) != 0,
			       "%s and %s: the same %s", docs[i].file, docs[j].file, docs[i].kind);
}

static void check_probe(const struct doc *o, const struct ws_node *c, const char *probe, int required)
{
	const struct ws_node *p = ws_node_get(c, probe);
	if (!p) {
		CHECKF(!required, "%s: no %s", o->file, probe);
		return;
	}
	CHECKF(is_text(p, "httpGet.path", "/health"), "%s: %s is not GET /health", o->file, probe);
	CHECKF(container_port(c, text(p, "httpGet.port")), "%s: %s's port is not a container port", o->file,
	       probe);
}

static void check_container(const struct doc *o, const struct ws_node *pod, const struct ws_node *c,
			    long uid)
{
	char run_dir[128], ws_dir[128];
	int ro = 0;

	check_probe(o, c, "readinessProbe", 1);
	check_probe(o, c, "livenessProbe", 1);
	check_probe(o, c, "startupProbe", 0);
	/* The entry point listens on $PORT: it must be the container's port. */
	CHECKF(container_port(c, env(c, "PORT")), "%s: env PORT is not a containerPort", o->file);
	CHECKF(env(c, "OPENBLAS_NUM_THREADS") && strcmp(env(c, "OPENBLAS_NUM_THREADS"), "1") == 0,
	       "%s: OPENBLAS_NUM_THREADS=1", o->file);
	static const char *const res[] = { "requests.cpu", "requests.memory", "limits.cpu", "limits.memory" };
	for (size_t i = 0; i < sizeof res / sizeof res[0]; i++) {
		char key[64];
		snprintf(key, sizeof key, "resources.%s", res[i]);
		CHECKF(text(c, key) != NULL, "%s: no %s", o->file, key);
	}
	CHECKF(is_text(c, "securityContext.readOnlyRootFilesystem", "true"), "%s: readOnlyRootFilesystem",
	       o->file);
	CHECKF(is_text(c, "securityContext.allowPrivilegeEscalation", "false"), "%s: allowPrivilegeEscalation",
	       o->file);
	CHECKF(is_text(pod, "securityContext.runAsNonRoot", "true") ||
		       is_text(c, "securityContext.runAsNonRoot", "true"),
	       "%s: runAsNonRoot", o->file);
	const char *u = text(c, "securityContext.runAsUser");
	if (!u)
		u = text(pod, "securityContext.runAsUser");
	CHECKF(u && strtol(u, NULL, 10) == uid && uid > 0, "%s: runAsUser %s, the image's USER %ld", o->file,
	       str(u), uid);

	/* Every mount names a volume; the image writes only to /tmp and its run
	 * dir, which must be emptyDirs under a read-only root; the workspace is
	 * a volume of its own. */
	const struct ws_node *m = seq(c, "volumeMounts");
	for (size_t i = 0; m && i < m->n; i++)
		CHECKF(volume(pod, text(m->v[i], "name")) != NULL, "%s: mount %s names no volume", o->file,
		       str(text(m->v[i], "mountPath")));
	entrypoint_default("SCOREPOINT_RUN_DIR", run_dir, sizeof run_dir);
	entrypoint_default("SCOREPOINT_WORKSPACE", ws_dir, sizeof ws_dir);
	CHECK(run_dir[0] == '/' && ws_dir[0] == '/');
	const char *const writable[] = { "/tmp", run_dir };
	for (size_t i = 0; i < 2; i++) {
		const struct ws_node *v = mounted(pod, c, writable[i], &ro);
		CHECKF(v && ws_node_get(v, "emptyDir") && !ro, "%s: %s is not a writable emptyDir", o->file,
		       writable[i]);
	}
	const struct ws_node *w = mounted(pod, c, ws_dir, &ro);
	CHECKF(w && !ws_node_get(w, "emptyDir") && ro, "%s: %s is not a read-only volume", o->file, ws_dir);
	const char *claim = w ? text(w, "persistentVolumeClaim.claimName") : NULL;
	CHECKF(!claim || find("PersistentVolumeClaim", claim), "%s: claim %s is not in %s", o->file, str(claim),
	       K8S_DIR);
}

static void test_deployments(void)
{
	long uid = image_uid();
	const struct doc *o;
	size_t n = 0;

	for (size_t i = 0; (o = each("Deployment", &i)); n++) {
		CHECKF(strcmp(o->api, "apps/v1") == 0, "%s: %s", o->file, o->api);
		const struct ws_node *pod = ws_node_path(o->root, "spec.template.spec");
		CHECKF(selects(ws_node_path(o->root, "spec.selector.matchLabels"),
			       ws_node_path(o->root, "spec.template.metadata.labels")),
		       "%s: the selector does not match the pod labels", o->file);
		const struct ws_node *cs = seq(pod, "containers");
		CHECKF(cs && cs->n == 1, "%s: one container", o->file);
		for (size_t k = 0; cs && k < cs->n; k++)
			check_container(o, pod, cs->v[k], uid);
	}
	CHECKF(n == 2, "%zu Deployments (blue and green)", n);
}

/* The Deployment whose pods the Service selects; NULL if none. */
static const struct doc *selected(const struct doc *svc)
{
	const struct doc *o;
	for (size_t i = 0; (o = each("Deployment", &i));)
		if (selects(ws_node_path(svc->root, "spec.selector"),
			    ws_node_path(o->root, "spec.template.metadata.labels")))
			return o;
	return NULL;
}

static void test_services(void)
{
	const struct doc *o;
	for (size_t i = 0; (o = each("Service", &i));) {
		const struct doc *dep = selected(o);
		CHECKF(dep != NULL, "%s selects no Deployment's pods", o->file);
		const struct ws_node *cs = dep ? seq(dep->root, "spec.template.spec.containers") : NULL;
		const struct ws_node *ports = seq(o->root, "spec.ports");
		CHECKF(ports && ports->n > 0, "%s: no ports", o->file);
		for (size_t k = 0; cs && cs->n && ports && k < ports->n; k++)
			CHECKF(container_port(cs->v[0], text(ports->v[k], "targetPort")),
			       "%s: targetPort %s is not a port of %s", o->file, str(text(ports->v[k], "targetPort")),
			       dep->file);
	}
}

static void test_autoscalers(void)
{
	const struct doc *o;
	size_t n = 0;

	for (size_t i = 0; (o = each("HorizontalPodAutoscaler", &i)); n++) {
		CHECKF(strcmp(o->api, "autoscaling/v2") == 0, "%s: %s", o->file, o->api);
		CHECKF(is_text(o->root, "spec.scaleTargetRef.kind", "Deployment") &&
			       is_text(o->root, "spec.scaleTargetRef.apiVersion", "apps/v1"),
		       "%s: scaleTargetRef", o->file);
		const char *target = text(o->root, "spec.scaleTargetRef.name");
		const struct doc *dep = target ? find("Deployment", target) : NULL;
		CHECKF(dep != NULL, "%s targets no Deployment of %s", o->file, K8S_DIR);
		/* Replicas in the Deployment would fight the HPA at every apply. */
		CHECKF(!dep || !ws_node_path(dep->root, "spec.replicas"), "%s sets replicas", dep->file);
		const char *lo = text(o->root, "spec.minReplicas"), *hi = text(o->root, "spec.maxReplicas");
		CHECKF(lo && hi && atol(lo) >= 1 && atol(lo) <= atol(hi), "%s: replicas %s to %s", o->file, str(lo), str(hi));
		const struct ws_node *ms = seq(o->root, "spec.metrics");
		int cpu = 0;
		for (size_t k = 0; ms && k < ms->n; k++) {
			const char *u = text(ms->v[k], "resource.target.averageUtilization");
			cpu |= is_text(ms->v[k], "type", "Resource") && is_text(ms->v[k], "resource.name", "cpu") &&
			       is_text(ms->v[k], "resource.target.type", "Utilization") && u && atol(u) > 0 &&
			       atol(u) <= 100;
		}
		CHECKF(cpu, "%s: no CPU utilization target", o->file);
	}
	CHECKF(n == 2, "%zu HorizontalPodAutoscalers", n);
}

static void test_route(void)
{
	const struct doc *o = find("HTTPRoute", NULL);
	CHECK(o != NULL);
	if (!o)
		return;
	CHECK_STR(o->api, "gateway.networking.k8s.io/v1");
	CHECKF(seq(o->root, "spec.parentRefs") && seq(o->root, "spec.parentRefs")->n > 0, "no parentRefs");
	const struct ws_node *rules = seq(o->root, "spec.rules");
	CHECK(rules && rules->n > 0);
	for (size_t r = 0; rules && r < rules->n; r++) {
		const struct ws_node *b = seq(rules->v[r], "backendRefs");
		const struct doc *deps[8] = { 0 };
		long sum = 0;
		CHECKF(b && b->n >= 2 && b->n <= 8, "rule %zu: two backends or more", r);
		for (size_t k = 0; b && k < b->n && k < 8; k++) {
			const char *name = text(b->v[k], "name"), *w = text(b->v[k], "weight");
			const char *port = text(b->v[k], "port");
			const struct doc *svc = name ? find("Service", name) : NULL;
			CHECKF(svc != NULL, "backend %s is not a Service of %s", str(name), K8S_DIR);
			CHECKF(!text(b->v[k], "kind") || is_text(b->v[k], "kind", "Service"), "backend %s", str(name));
			CHECKF(w != NULL, "backend %s has no weight", str(name));
			sum += w ? atol(w) : 0;
			int has_port = 0;
			const struct ws_node *ports = svc ? seq(svc->root, "spec.ports") : NULL;
			for (size_t p = 0; port && ports && p < ports->n; p++)
				has_port |= is_text(ports->v[p], "port", port);
			CHECKF(has_port, "backend %s: port %s is not the Service's", str(name), str(port));
			deps[k] = svc ? selected(svc) : NULL;
			for (size_t j = 0; j < k; j++)
				CHECKF(deps[j] != deps[k], "backends %zu and %zu reach the same Deployment", j, k);
		}
		CHECKF(sum == 100, "rule %zu: weights sum to %ld", r, sum);
	}
}

static void test_kustomization_names_every_file(void)
{
	const struct doc *o = find("Kustomization", NULL);
	CHECK(o != NULL);
	const struct ws_node *res = o ? seq(o->root, "resources") : NULL;
	CHECK(res != NULL);
	size_t listed = 0;
	for (size_t i = 0; res && i < ndocs; i++) {
		if (&docs[i] == o)
			continue;
		int found = 0;
		for (size_t k = 0; k < res->n; k++)
			found |= ws_node_text(res->v[k]) && strcmp(ws_node_text(res->v[k]), docs[i].file) == 0;
		CHECKF(found, "kustomization.yaml does not list %s", docs[i].file);
		listed += found;
	}
	CHECKF(res && listed == res->n, "kustomization.yaml lists %zu files, %zu exist", res ? res->n : 0, listed);
}

int main(void)
{
	RUN(test_every_file_is_one_object);
	RUN(test_deployments);
	RUN(test_services);
	RUN(test_autoscalers);
	RUN(test_route);
	RUN(test_kustomization_names_every_file);
	for (size_t i = 0; i < ndocs; i++)
		ws_node_free(docs[i].root);
	return unit_done();
}
