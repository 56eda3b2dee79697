/*
 * test_arch.c - the --arch grammar of tools/arch.c: every form of item,
 * each op's arguments by position and by key with their defaults, and a
 * one-line refusal for each kind of mistake.
 */
#include "tests/unit/unit.h"
#include "tools/arch.h"
#include "tools/shape.h"

static struct arch a;
static char err[1024];

static int parse(const char *s)
{
	err[0] = '\0';
	return arch_parse(s, &a, err, sizeof err);
}

static void test_old_forms(void)
{
	CHECK_INT(parse("linear,relu,linear"), 0);
	CHECK_INT(a.n, 3);
	CHECK(a.items[0].kind == BLOB_OP_LINEAR && a.items[1].kind == BLOB_OP_RELU && !a.items[0].name[0]);
	CHECK_INT(parse(" linear , leaky_relu:0.2 ,elu:0.7, leaky_relu, elu"), 0);
	CHECK(a.items[1].kind == BLOB_OP_LEAKY_RELU && a.items[1].param == 0.2f);
	CHECK(a.items[2].kind == BLOB_OP_ELU && a.items[2].param == 0.7f);
	CHECK(a.items[3].param == 0.01f && a.items[4].param == 1.0f);
	CHECK_INT(parse("leaky_relu(0.3),elu(alpha=2),leaky_relu(negative_slope=0.5)"), 0);
	CHECK(a.items[0].param == 0.3f && a.items[1].param == 2.0f && a.items[2].param == 0.5f);
}

static void test_spatial_ops(void)
{
	const struct blob_geom *g;

	CHECK_INT(parse("conv2d, conv2d(stride=2, padding=same, dilation=2x1), conv2d(padding=1x2), "
			"conv2d(padding=valid)"), 0);
	g = &a.items[0].g;
	CHECK(g->sh == 1 && g->sw == 1 && g->dh == 1 && g->ph == 0 && a.items[0].pflags == 0);
	g = &a.items[1].g;
	CHECK(g->sh == 2 && g->sw == 2 && g->dh == 2 && g->dw == 1 && a.items[1].pflags == PTH_PAD_SAME);
	CHECK(a.items[2].g.ph == 1 && a.items[2].g.pw == 2);
	CHECK(a.items[3].g.ph == 0 && a.items[3].pflags == 0);
	/* a pool's stride defaults to its kernel; positional in torch's order */
	CHECK_INT(parse("maxpool2d(3), maxpool2d(3,1,1,2), maxpool2d(2x3, stride=1x2, ceil_mode=true)"), 0);
	CHECK(a.items[0].g.kh == 3 && a.items[0].g.sh == 3 && a.items[0].g.sw == 3 && a.items[0].g.dh == 1);
	CHECK(a.items[1].g.sh == 1 && a.items[1].g.ph == 1 && a.items[1].g.dh == 2);
	g = &a.items[2].g;
	CHECK(g->kh == 2 && g->kw == 3 && g->sh == 1 && g->sw == 2 && (g->flags & BLOB_GEOM_CEIL_MODE));
	CHECK_INT(parse("avgpool2d(2), avgpool2d(2, count_include_pad=0, divisor_override=3, ceil_mode=1)"), 0);
	CHECK(a.items[0].g.flags == BLOB_GEOM_COUNT_PAD && a.items[0].g.sh == 2);
	CHECK(a.items[1].g.flags == BLOB_GEOM_CEIL_MODE && a.items[1].g.divisor == 3);
	CHECK_INT(parse("adaptive_avgpool2d(3x4),adaptive_maxpool2d(output_size=5),unflatten(1,28,28)"), 0);
	CHECK(a.items[0].g.oh == 3 && a.items[0].g.ow == 4 && a.items[0].g.sh == 0);
	CHECK(a.items[1].g.oh == 5 && a.items[1].g.ow == 5);
	CHECK(a.items[2].kind == PTH_OP_UNFLATTEN && a.items[2].g.c == 1);
	CHECK(a.items[2].g.h == 28 && a.items[2].g.w == 28);
	CHECK_INT(parse("flatten,dropout,dropout2d,identity,batchnorm1d,batchnorm2d(eps=1e-3)"), 0);
	CHECK(a.items[0].kind == PTH_OP_FLATTEN && a.items[1].kind == ARCH_IDENTITY);
	CHECK(a.items[2].kind == ARCH_IDENTITY && a.items[3].kind == ARCH_IDENTITY);
	CHECK(a.items[4].kind == ARCH_BATCHNORM1D && a.items[4].eps == 1e-5);
	CHECK(a.items[5].kind == ARCH_BATCHNORM2D && a.items[5].eps == 1e-3);
	CHECK(arch_takes_tensors(BLOB_OP_CONV2D) && arch_takes_tensors(ARCH_BATCHNORM1D));
	CHECK(!arch_takes_tensors(BLOB_OP_MAXPOOL2D) && !arch_takes_tensors(PTH_OP_FLATTEN));
	CHECK_STR(arch_kind_name(BLOB_OP_ADAPTIVE_MAXPOOL2D), "adaptive_maxpool2d");
}

static void test_names(void)
{
	CHECK_INT(parse("fc1, relu, fc2=linear, features.0, bn = batchnorm2d(eps=0.01), relu=relu, "
			"0=conv2d(padding=1)"), 0);
	CHECK_INT(a.n, 7);
	CHECK(a.items[0].kind == ARCH_NAME_ONLY && strcmp(a.items[0].name, "fc1") == 0);
	CHECK(a.items[1].kind == BLOB_OP_RELU && !a.items[1].name[0]);   /* an op word is the op */
	CHECK(a.items[2].kind == BLOB_OP_LINEAR && strcmp(a.items[2].name, "fc2") == 0);
	CHECK_STR(a.items[3].name, "features.0");
	CHECK(a.items[4].kind == ARCH_BATCHNORM2D && a.items[4].eps == 0.01 && !strcmp(a.items[4].name, "bn"));
	CHECK(a.items[5].kind == BLOB_OP_RELU && !strcmp(a.items[5].name, "relu"));
	CHECK(a.items[6].kind == BLOB_OP_CONV2D && a.items[6].g.ph == 1 && a.items[6].has_args);
}

static void refused(const char *s, const char *msg)
{
	CHECKF(parse(s) == -1, "'%s' parsed", s);
	CHECKF(strstr(err, msg) != NULL, "'%s': \"%s\" lacks \"%s\"", s, err, msg);
	CHECK(strchr(err, '\n') == NULL);
}

static void test_refusals(void)
{
	refused("linear,,linear", "--arch: empty item");
	refused("linear,", "--arch: empty item");
	refused("conv2d(padding=1", "--arch: missing ')'");
	refused("conv2d(padding=1))", "--arch: unbalanced ')'");
	refused("maxpool2d((2))", "--arch: nested parentheses");
	refused("conv2d(groups=2)", "--arch: conv2d has no argument 'groups'");
	refused("conv2d(3)", "--arch: conv2d takes at most 0 positional values");
	refused("maxpool2d", "--arch: maxpool2d needs its kernel size, e.g. maxpool2d(2)");
	refused("maxpool2d(stride=2)", "--arch: maxpool2d needs its kernel size");
	refused("adaptive_avgpool2d", "--arch: adaptive_avgpool2d needs its output size");
	refused("unflatten(1,28)", "--arch: unflatten needs C,H,W, e.g. unflatten(1,28,28)");
	refused("relu(1)", "--arch: relu takes no arguments");
	refused("maxpool2d(0)", "--arch: bad value '0' for kernel_size of maxpool2d");
	refused("maxpool2d(2x)", "--arch: bad value '2x' for kernel_size of maxpool2d");
	refused("conv2d(padding=full)", "--arch: bad value 'full' for padding of conv2d");
	refused("maxpool2d(2,stride=2,3)", "--arch: maxpool2d: a positional value after a key=value");
	refused("avgpool2d(2,ceil_mode=maybe)", "--arch: bad value 'maybe' for ceil_mode of avgpool2d");
	refused("batchnorm2d(eps=0)", "--arch: bad value '0' for eps of batchnorm2d");
	refused("relu:0.3", "--arch: relu takes no parameter");
	refused("elu:x", "--arch: bad parameter 'x' for elu");
	refused("fc1=swish", "--arch: unknown op 'swish' (one of linear, relu,");
	refused("swish(1)", "--arch: unknown op 'swish'");
	refused("fc-1", "--arch: 'fc-1' is neither an op nor a layer name");
	refused(".fc=linear", "--arch: '.fc' is not a layer name");
	refused("maxpool2d(70000)", "--arch: bad value '70000'");
	char big[ARCH_MAX_LEN + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	refused(big, "--arch: longer than 8192 bytes");
	char many[ARCH_MAX_ITEMS * 5 + 8] = "";
	for (int i = 0; i <= ARCH_MAX_ITEMS; i++)
		strcat(many, "relu,");
	many[strlen(many) - 1] = '\0';
	refused(many, "--arch: more than 128 items");
}

/* The shape pass's output size against torch 1.13's MaxPool2d, including
 * ceil_mode's rule that the last window starts inside the input or its
 * left padding (n, k, s, p, d, ceil_mode, torch's size). */
static void test_torch_output_sizes(void)
{
	static const uint32_t t[][7] = {
		{ 2, 1, 2, 0, 1, 1, 1 }, { 7, 3, 3, 1, 1, 1, 3 }, { 5, 2, 2, 0, 1, 1, 3 }, { 4, 2, 2, 1, 1, 1, 3 },
		{ 9, 3, 2, 1, 2, 0, 4 }, { 9, 3, 2, 1, 2, 1, 4 }, { 10, 3, 4, 1, 1, 1, 3 }, { 28, 2, 2, 0, 1, 0, 14 },
		{ 1, 3, 1, 1, 1, 1, 1 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		CHECKF(shape_pool_out(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], (int)t[i][5]) == t[i][6],
		       "case %zu: %u, torch %u", i,
		       shape_pool_out(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], (int)t[i][5]), t[i][6]);
	CHECK_INT(shape_pool_out(2, 3, 1, 0, 1, 0), 0);   /* the window does not fit */
}

int main(void)
{
	RUN(test_torch_output_sizes);
	RUN(test_old_forms);
	RUN(test_spatial_ops);
	RUN(test_names);
	RUN(test_refusals);
	return unit_done();
}
