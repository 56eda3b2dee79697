/*
 * pth_state_dict.c - a state_dict (or a checkpoint's) to ops: its tensors
 * grouped by key prefix into Linear (2-D weight), Conv2d (4-D weight) and
 * BatchNorm (running statistics) layers; the order and the ops between
 * them from --arch (tools/arch.h), or for Linear layers alone ReLU between
 * them, noted.  A BatchNorm right after a Linear or Conv2d is folded into
 * it.  See pth.h and docs/pth-format.md.
 */
#include "tools/arch.h"
#include "tools/pth_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define G_BN 1000u   /* a group's kind besides BLOB_OP_LINEAR and BLOB_OP_CONV2D */

struct group {
	char prefix[PTH_PATH_MAX];
	const struct pkl_node *weight, *bias, *mean, *var;
	uint32_t kind;
	int used;
	struct pth_tensor w, b, mean_t, var_t;   /* read by read_group; emitting takes w and b */
};

static int group_tensors(struct pth_ctx *c, const struct pkl_node *sd,
			 struct group *g, size_t *ng)
{
	size_t i;

	*ng = 0;
	for (i = 0; i + 1 < sd->u.dict.n; i += 2) {
		const struct pkl_node *k = sd->u.dict.v[i], *v = sd->u.dict.v[i + 1];
		const char *key, *dot, *leaf;
		size_t plen;
		struct group *cur;

		if (k->kind != PKL_STR || strlen(k->u.str.s) != k->u.str.len)
			return pth_fail(c, "state_dict key is %s, not a string",
					pkl_kind_name(k->kind));
		key = k->u.str.s;
		if (!pth_is_tensorish(v))
			return pth_fail(c, "state_dict entry '%.100s' is %s, not a "
					"tensor", key, pkl_kind_name(v->kind));
		dot = strrchr(key, '.');
		leaf = dot ? dot + 1 : key;
		plen = dot ? (size_t)(dot - key) : 0;
		if (plen >= PTH_PATH_MAX)
			return pth_fail(c, "state_dict key too long");
		if (strcmp(leaf, "num_batches_tracked") == 0)
			continue;
		if (strcmp(leaf, "weight") && strcmp(leaf, "bias") &&
		    strcmp(leaf, "running_mean") && strcmp(leaf, "running_var"))
			return pth_fail(c, "state_dict key '%.100s' is not a Linear, Conv2d or "
					"BatchNorm tensor (weight, bias, "
					"running_mean, running_var)", key);
		cur = *ng ? &g[*ng - 1] : NULL;
		if (cur == NULL || strlen(cur->prefix) != plen ||
		    memcmp(cur->prefix, key, plen) != 0) {
			if (*ng >= PTH_MAX_GROUPS)
				return pth_fail(c, "state_dict has more than %d layers",
						PTH_MAX_GROUPS);
			cur = &g[(*ng)++];
			memset(cur, 0, sizeof *cur);
			memcpy(cur->prefix, key, plen);
		}
		if (!strcmp(leaf, "weight"))
			cur->weight = v;
		else if (!strcmp(leaf, "bias"))
			cur->bias = v;
		else if (!strcmp(leaf, "running_mean"))
			cur->mean = v;
		else
			cur->var = v;
	}
	return 0;
}

static void key_of(char *out, const char *prefix, const char *leaf)
{
	snprintf(out, PTH_PATH_MAX + 16, "%s%s%s", prefix, prefix[0] ? "." : "",
		 leaf);
}

/* Read a group's tensors and say what layer it is. */
static int read_group(struct pth_ctx *c, struct group *g)
{
	char wkey[PTH_PATH_MAX + 16];

	key_of(wkey, g->prefix, "weight");
	if (g->mean != NULL || g->var != NULL) {
		if (g->mean == NULL || g->var == NULL)
			return pth_fail(c, "%s: BatchNorm needs both running_mean "
					"and running_var", pth_shown(g->prefix));
		g->kind = G_BN;
		return pth_get_tensor(c, g->mean, g->prefix, &g->mean_t) != 0 ||
		       pth_get_tensor(c, g->var, g->prefix, &g->var_t) != 0 ||
		       pth_opt_tensor(c, g->weight, g->prefix, &g->w) != 0 ||
		       pth_opt_tensor(c, g->bias, g->prefix, &g->b) != 0 ? -1 : 0;
	}
	if (g->weight == NULL)
		return pth_fail(c, "%s: bias without weight", pth_shown(g->prefix));
	if (pth_get_tensor(c, g->weight, wkey, &g->w) != 0)
		return -1;
	if (g->w.ndim == 1)
		return pth_fail(c, "%s is 1-D and there is no running_mean: LayerNorm or "
				"another normalisation is not supported", wkey);
	if (g->w.ndim != 2 && g->w.ndim != 4)
		return pth_fail(c, "%s is %d-D: only 2-D Linear and 4-D Conv2d weights are supported in a "
				"state_dict", wkey, g->w.ndim);
	g->kind = g->w.ndim == 2 ? BLOB_OP_LINEAR : BLOB_OP_CONV2D;
	return pth_opt_tensor(c, g->bias, g->prefix, &g->b);
}

static void free_group(struct group *g)
{
	pth_free_tensor(&g->w);
	pth_free_tensor(&g->b);
	pth_free_tensor(&g->mean_t);
	pth_free_tensor(&g->var_t);
}

static const char *group_what(const struct group *g)
{
	return g->kind == BLOB_OP_LINEAR ? "Linear" : g->kind == BLOB_OP_CONV2D ? "Conv2d" : "BatchNorm";
}

/* Emit the group's op; it (NULL: defaults) gives a Conv2d's window, a
 * BatchNorm's eps and dimensions. */
static int emit_group(struct pth_ctx *c, struct group *g, const struct arch_item *it)
{
	static const struct blob_geom unit = { .sh = 1, .sw = 1, .dh = 1, .dw = 1 };
	char wkey[PTH_PATH_MAX + 16];
	uint32_t before = c->m->nops;
	double eps = it && it->kind != ARCH_NAME_ONLY ? it->eps : 1e-5;
	int dims = it && it->kind == ARCH_BATCHNORM2D ? 2 : it && it->kind == ARCH_BATCHNORM1D ? 1 : 0;

	g->used = 1;
	key_of(wkey, g->prefix, "weight");
	if (g->kind == BLOB_OP_LINEAR)
		return pth_emit_linear(c, g->prefix, &g->w, &g->b, "weight");
	if (g->kind == BLOB_OP_CONV2D)
		return pth_emit_conv(c, g->prefix, &g->w, &g->b, wkey, it && it->kind ? &it->g : &unit,
				     it ? it->pflags : 0);
	if (pth_emit_bn(c, g->prefix, &g->mean_t, &g->var_t, g->w.v ? &g->w : NULL, g->b.v ? &g->b : NULL, eps,
			dims) != 0)
		return -1;
	if (dims == 0)
		dims = c->m->nops > before ? ((c->m->ops[before].pflags & PTH_BN2D) ? 2 : 1)
					   : c->m->ops[before - 1].kind == BLOB_OP_CONV2D ? 2 : 1;
	pth_note(c, "%s: BatchNorm%dd %s with eps=%g (a state_dict does not store eps)", pth_shown(g->prefix), dims,
		 c->m->nops > before ? "applied as a scale and shift" : "folded", eps);
	return 0;
}

/* Without --arch: Linear layers with ReLU between them, each BatchNorm
 * folded into the Linear before it. */
static int default_ops(struct pth_ctx *c, struct group *g, size_t ng)
{
	char assumed[BLOB_MAX_OPS * 12 + 1];
	size_t i, nlin = 0, len = 0;

	for (i = 0; i < ng; i++)
		if (g[i].kind == BLOB_OP_CONV2D)
			return pth_fail(c, "%s: the state_dict holds Conv2d layers, and a state_dict stores no "
					"strides, padding or pools: give the architecture with --arch, e.g. --arch "
					"'unflatten(1,28,28),conv2d(padding=1),relu,maxpool2d(2),flatten,linear'",
					pth_shown(g[i].prefix));
	assumed[0] = '\0';
	for (i = 0; i < ng; i++) {
		if (g[i].kind == BLOB_OP_LINEAR) {
			if (nlin && !pth_emit(c, BLOB_OP_RELU, "(arch)"))
				return -1;
			if (len < sizeof assumed)
				len += (size_t)snprintf(assumed + len, sizeof assumed - len, "%slinear",
							nlin ? ",relu," : "");
			nlin++;
		}
		if (emit_group(c, &g[i], NULL) != 0)
			return -1;
	}
	if (nlin == 0)
		return pth_fail(c, "state_dict holds no Linear layer");
	pth_note(c, "no --arch given; assumed ReLU between layers: %s", assumed);
	return 0;
}

static struct group *find_group(struct group *g, size_t ng, const char *name)
{
	for (size_t i = 0; i < ng; i++)
		if (strcmp(g[i].prefix, name) == 0)
			return &g[i];
	return NULL;
}

static void group_list(const struct group *g, size_t ng, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < ng && at + 48 < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%s%.40s", i ? ", " : "", pth_shown(g[i].prefix));
}

static int no_such_layer(struct pth_ctx *c, const struct group *g, size_t ng, const struct arch_item *it)
{
	char list[256];

	group_list(g, ng, list, sizeof list);
	if (it->kind == ARCH_NAME_ONLY)
		return pth_fail(c, "--arch: unknown op '%s' (one of %s) and the state_dict has no layer '%s' (its "
				"layers: %s)", it->name, arch_op_list, it->name, list);
	return pth_fail(c, "--arch: the state_dict has no layer '%s' (its layers: %s)", it->name, list);
}

static int kind_matches(uint32_t item, uint32_t group)
{
	return item == group || (group == G_BN && (item == ARCH_BATCHNORM1D || item == ARCH_BATCHNORM2D));
}

/* The group an item that takes tensors uses: NAME's, or the next unused. */
static struct group *item_group(struct pth_ctx *c, struct group *g, size_t ng, const struct arch_item *it)
{
	struct group *gr = NULL;

	if (!it->name[0]) {
		for (size_t i = 0; i < ng && !gr; i++)
			if (!g[i].used)
				gr = &g[i];
		if (gr && !kind_matches(it->kind, gr->kind))
			pth_fail(c, "--arch: '%s' would take %s, a %s (the next unused layer in key order): name "
				 "the layers, e.g. %s=%s", it->word, pth_shown(gr->prefix), group_what(gr),
				 pth_shown(gr->prefix), gr->kind == G_BN ? "batchnorm2d" : arch_kind_name(gr->kind));
		else if (!gr)
			pth_fail(c, "--arch: '%s' finds no unused layer left in the state_dict", it->word);
		return gr && kind_matches(it->kind, gr->kind) ? gr : NULL;
	}
	if ((gr = find_group(g, ng, it->name)) == NULL) {
		no_such_layer(c, g, ng, it);
		return NULL;
	}
	if (gr->used) {
		pth_fail(c, "--arch uses state_dict layer %s twice", it->name);
		return NULL;
	}
	if (it->kind != ARCH_NAME_ONLY && !kind_matches(it->kind, gr->kind)) {
		pth_fail(c, "--arch: %s is a %s, not a %s", it->name, group_what(gr), it->word);
		return NULL;
	}
	return gr;
}

/* Compare what --arch lists with what the state_dict holds. */
static int check_counts(struct pth_ctx *c, const struct arch *a, struct group *g, size_t ng, int *bn_named)
{
	static const uint32_t kinds[3] = { BLOB_OP_LINEAR, BLOB_OP_CONV2D, G_BN };
	static const char *const words[3] = { "linear", "conv2d", "batchnorm" };
	size_t listed[3] = { 0 }, held[3] = { 0 };

	for (size_t i = 0; i < a->n; i++) {
		const struct arch_item *it = &a->items[i];
		const struct group *gr = it->name[0] ? find_group(g, ng, it->name) : NULL;
		uint32_t k = gr && it->kind == ARCH_NAME_ONLY ? gr->kind : it->kind;
		if (it->name[0] && !gr)
			return no_such_layer(c, g, ng, it);
		for (int j = 0; j < 3; j++)
			listed[j] += kind_matches(k, kinds[j]);
	}
	for (size_t i = 0; i < ng; i++)
		for (int j = 0; j < 3; j++)
			held[j] += g[i].kind == kinds[j];
	*bn_named = listed[2] > 0;
	for (int j = 0; j < 3; j++)
		if (listed[j] != held[j] && (j < 2 || *bn_named))
			return pth_fail(c, "--arch lists %zu %s ops but the state_dict has %zu %s layers", listed[j],
					words[j], held[j], j == 0 ? "Linear" : j == 1 ? "Conv2d" : "BatchNorm");
	return 0;
}

static int arch_ops(struct pth_ctx *c, const char *spec, struct group *g, size_t ng)
{
	struct arch *a = malloc(sizeof *a);
	int bn_named = 0, rc = -1;

	if (a == NULL)
		return pth_fail(c, "out of memory");
	if (arch_parse(spec, a, c->err, c->errlen) != 0 || check_counts(c, a, g, ng, &bn_named) != 0)
		goto out;
	for (size_t i = 0; i < a->n; i++) {
		const struct arch_item *it = &a->items[i];
		struct group *gr;
		if (!it->name[0] && !arch_takes_tensors(it->kind)) {
			if (pth_emit_item(c, it, "(arch)") != 0)
				goto out;
			continue;
		}
		if (it->name[0] && it->kind != ARCH_NAME_ONLY && !arch_takes_tensors(it->kind)) {
			pth_fail(c, "--arch: %s=%s: %s takes no tensors", it->name, it->word, it->word);
			goto out;
		}
		if ((gr = item_group(c, g, ng, it)) == NULL || emit_group(c, gr, it) != 0)
			goto out;
		/* A BatchNorm the arch does not name folds into its layer. */
		if (!bn_named && gr->kind != G_BN && gr + 1 < g + ng && gr[1].kind == G_BN && !gr[1].used &&
		    emit_group(c, gr + 1, NULL) != 0)
			goto out;
	}
	for (size_t i = 0; i < ng; i++)
		if (!g[i].used) {
			pth_fail(c, "--arch leaves state_dict layer %s (%s) unused", pth_shown(g[i].prefix),
				 group_what(&g[i]));
			goto out;
		}
	rc = 0;
out:
	free(a);
	return rc;
}

int pth_load_state_dict(struct pth_ctx *c, const struct pkl_node *sd, const char *arch)
{
	struct group *g;
	size_t ng = 0, i;
	int rc = -1;

	c->m->is_state_dict = 1;
	g = calloc(PTH_MAX_GROUPS, sizeof *g);
	if (g == NULL)
		return pth_fail(c, "out of memory");
	if (group_tensors(c, sd, g, &ng) != 0)
		goto out;
	for (i = 0; i < ng; i++)
		if (read_group(c, &g[i]) != 0)
			goto out;
	if (ng == 0) {
		pth_fail(c, "state_dict holds no Linear layer");
		goto out;
	}
	rc = arch ? arch_ops(c, arch, g, ng) : default_ops(c, g, ng);
out:
	for (i = 0; i < ng; i++)
		free_group(&g[i]);
	free(g);
	return rc;
}
