/*
 * pth_state_dict.c - a state_dict (or a checkpoint's) to blob ops: its
 * tensors grouped by key prefix into Linear layers, a BatchNorm1d folded
 * into the Linear before it, and the activations between them from `arch`
 * ("linear,relu,linear"), or ReLU when none is given.  See pth.h.
 */
#include "tools/pth_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct group {
	char prefix[PTH_PATH_MAX];
	const struct pkl_node *weight, *bias, *mean, *var;
};

struct arch_op {
	uint32_t kind;
	float param;
};

static int parse_arch(struct pth_ctx *c, const char *arch, struct arch_op *ops,
		      size_t *n)
{
	const char *p = arch;

	*n = 0;
	for (;;) {
		char tok[64], *colon, *end;
		size_t len = strcspn(p, ",");
		int kind;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof tok)
			return pth_fail(c, "--arch: empty or overlong op name in '%.64s'",
					arch);
		memcpy(tok, p, len);
		tok[len] = '\0';
		colon = strchr(tok, ':');
		if (colon)
			*colon = '\0';
		kind = blob_op_parse(tok);
		if (kind < 0)
			return pth_fail(c, "--arch: unknown op '%s' (one of linear, relu, "
					"leaky_relu, tanh, sigmoid, gelu, gelu_tanh, "
					"elu, softmax, log_softmax)", tok);
		if (*n >= BLOB_MAX_OPS)
			return pth_fail(c, "--arch: more than %d ops", BLOB_MAX_OPS);
		ops[*n].kind = (uint32_t)kind;
		ops[*n].param = kind == BLOB_OP_LEAKY_RELU ? 0.01f :
				kind == BLOB_OP_ELU ? 1.0f : 0.0f;
		if (colon) {
			double v = strtod(colon + 1, &end);
			if (kind != BLOB_OP_LEAKY_RELU && kind != BLOB_OP_ELU)
				return pth_fail(c, "--arch: %s takes no parameter", tok);
			if (end == colon + 1 || *end != '\0' || !isfinite(v))
				return pth_fail(c, "--arch: bad parameter '%s' for %s",
						colon + 1, tok);
			ops[*n].param = (float)v;
		}
		(*n)++;
		p += strcspn(p, ",");
		if (*p == '\0')
			return 0;
		p++;
	}
}

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
			return pth_fail(c, "state_dict key '%.100s' is not a Linear or "
					"BatchNorm1d tensor (weight, bias, "
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

static int sd_group(struct pth_ctx *c, const struct group *g)
{
	char wkey[PTH_PATH_MAX + 16];
	struct pth_tensor w, b, mean, var;
	int rc = -1;

	memset(&w, 0, sizeof w);
	memset(&b, 0, sizeof b);
	memset(&mean, 0, sizeof mean);
	memset(&var, 0, sizeof var);
	key_of(wkey, g->prefix, "weight");
	if (g->mean != NULL || g->var != NULL) {
		if (g->mean == NULL || g->var == NULL)
			return pth_fail(c, "%s: BatchNorm1d needs both running_mean "
					"and running_var", pth_shown(g->prefix));
		if (pth_get_tensor(c, g->mean, g->prefix, &mean) != 0 ||
		    pth_get_tensor(c, g->var, g->prefix, &var) != 0 ||
		    pth_opt_tensor(c, g->weight, g->prefix, &w) != 0 ||
		    pth_opt_tensor(c, g->bias, g->prefix, &b) != 0)
			goto out;
		rc = pth_fold_bn(c, g->prefix, &mean, &var, w.v ? &w : NULL,
				 b.v ? &b : NULL, 1e-5);
		if (rc == 0)
			pth_note(c, "%s: BatchNorm1d folded with eps=1e-05 (a "
				 "state_dict does not store eps)", pth_shown(g->prefix));
		goto out;
	}
	if (g->weight == NULL)
		return pth_fail(c, "%s: bias without weight", pth_shown(g->prefix));
	if (pth_get_tensor(c, g->weight, wkey, &w) != 0)
		goto out;
	if (w.ndim == 1) {
		pth_fail(c, "%s is 1-D and there is no running_mean: LayerNorm or "
			 "another normalisation is not supported", wkey);
		goto out;
	}
	if (w.ndim != 2) {
		pth_fail(c, "%s is %d-D: only 2-D Linear weights are supported in a "
			 "state_dict (a convolution?)", wkey, w.ndim);
		goto out;
	}
	if (pth_opt_tensor(c, g->bias, g->prefix, &b) != 0)
		goto out;
	rc = pth_emit_linear(c, g->prefix, &w, &b, "weight");
out:
	pth_free_tensor(&w);
	pth_free_tensor(&b);
	pth_free_tensor(&mean);
	pth_free_tensor(&var);
	return rc;
}

/* The ops to lay the nlin Linear layers into: those of `arch`, which must
 * list as many linear ops, or (arch NULL) ReLU between them, noted. */
static int arch_ops(struct pth_ctx *c, const char *arch, size_t nlin, struct arch_op *aops, size_t *na)
{
	char assumed[BLOB_MAX_OPS * 12 + 1];
	size_t i, alin = 0, len = 0;

	*na = 0;
	if (arch != NULL) {
		if (parse_arch(c, arch, aops, na) != 0)
			return -1;
		for (i = 0; i < *na; i++)
			alin += aops[i].kind == BLOB_OP_LINEAR;
		if (alin != nlin)
			return pth_fail(c, "--arch lists %zu linear ops but the state_dict has "
					"%zu Linear layers", alin, nlin);
		return 0;
	}
	if (2 * nlin - 1 > BLOB_MAX_OPS)
		return pth_fail(c, "%zu Linear layers with ReLU between them need more "
				"than %d ops", nlin, BLOB_MAX_OPS);
	assumed[0] = '\0';
	for (i = 0; i < nlin; i++) {
		if (i > 0) {
			aops[*na].kind = BLOB_OP_RELU;
			aops[(*na)++].param = 0;
		}
		aops[*na].kind = BLOB_OP_LINEAR;
		aops[(*na)++].param = 0;
		len += (size_t)snprintf(assumed + len, sizeof assumed - len,
					"%slinear", i ? ",relu," : "");
	}
	pth_note(c, "no --arch given; assumed ReLU between layers: %s", assumed);
	return 0;
}

int pth_load_state_dict(struct pth_ctx *c, const struct pkl_node *sd, const char *arch)
{
	struct group *g = NULL;
	struct arch_op aops[BLOB_MAX_OPS];
	struct pth_op lin[BLOB_MAX_OPS];
	size_t ng = 0, na = 0, i, nlin, used = 0;
	int rc = -1;

	c->m->is_state_dict = 1;
	g = calloc(PTH_MAX_GROUPS, sizeof *g);
	if (g == NULL)
		return pth_fail(c, "out of memory");
	if (group_tensors(c, sd, g, &ng) != 0)
		goto out;
	for (i = 0; i < ng; i++)
		if (sd_group(c, &g[i]) != 0)
			goto out;
	/* The ops so far are the Linear layers, BatchNorms folded in. */
	nlin = c->m->nops;
	if (nlin == 0) {
		pth_fail(c, "state_dict holds no Linear layer");
		goto out;
	}
	if (arch_ops(c, arch, nlin, aops, &na) != 0)
		goto out;
	/* Interleave: move the Linear ops out, then lay the arch down. */
	memcpy(lin, c->m->ops, nlin * sizeof lin[0]);
	c->m->nops = 0;
	for (i = 0; i < na; i++) {
		struct pth_op *op;
		if (aops[i].kind == BLOB_OP_LINEAR) {
			c->m->ops[c->m->nops++] = lin[used++];
			continue;
		}
		op = pth_emit(c, aops[i].kind, "(arch)");
		if (op == NULL) {
			/* the Linear ops not yet placed are freed here */
			for (; used < nlin; used++) {
				free(lin[used].weight);
				free(lin[used].bias);
			}
			goto out;
		}
		op->param = aops[i].param;
	}
	rc = 0;
out:
	free(g);
	return rc;
}
