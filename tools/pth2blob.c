/*
 * pth2blob - convert a torch.save file or an MLflow model directory into a
 * scorepoint model blob, executing nothing from the input.
 *
 *   pth2blob [options] INPUT OUTPUT.blob
 *   pth2blob --inspect MODEL.blob
 */
#include "model/blob.h"
#include "tools/convert.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"usage: pth2blob [options] INPUT OUTPUT.blob\n"
	"       pth2blob --inspect MODEL.blob\n"
	"\n"
	"Convert a PyTorch model into a scorepoint blob, reading the pickle without\n"
	"executing anything.  INPUT is a .pth/.pt file written by torch.save (a whole\n"
	"nn.Module or a state_dict), an MLflow pytorch model directory, or an MLflow\n"
	"pyfunc wrapper directory whose PyTorch model sits under artifacts/.\n"
	"\n"
	"options:\n"
	"  --name NAME             model name (default: INPUT's base name)\n"
	"  --version N             model version (default: 1)\n"
	"  --labels FILE|a,b,...   output labels: a file with one per line, or a\n"
	"                          comma-separated list; one per model output\n"
	"  --postprocess KIND      default response: logits, probabilities or labels\n"
	"                          (default: logits; labels for a pyfunc wrapper given --labels)\n"
	"  --arch SPEC             a state_dict's layers and the ops between them, e.g.\n"
	"                          linear,relu,linear (default: ReLU between Linear layers)\n"
	"                          or unflatten(1,28,28),conv2d(padding=1),relu,maxpool2d(2),\n"
	"                          flatten,linear; for a whole module, the order its forward()\n"
	"                          runs its children in, e.g. fc1,relu,fc2 (checked against them)\n"
	"  --input-shape C,H,W     the shape of one input row, for a model whose first\n"
	"                          convolution or pooling gets x.view(-1, C, H, W) in forward()\n"
	"  --assume-registration-order\n"
	"                          run the children of a module whose forward() cannot be\n"
	"                          read in the order they were registered (marked in the blob)\n"
	"  --verify                load the original with torch and compare its outputs with\n"
	"                          the blob's (fails above 1e-4); this RUNS THE MODEL'S OWN\n"
	"                          PYTHON CODE with a python3 that imports torch\n"
	"  --verify-input FILE     the rows to compare on: a request body (JSON or CSV)\n"
	"  --inspect               print what a blob holds and verify it\n"
	"  -q, --quiet             print nothing on success\n"
	"  -h, --help              this text\n"
	"\n"
	"ops: linear relu leaky_relu tanh sigmoid gelu gelu_tanh elu softmax log_softmax\n"
	"     conv2d batchnorm1d batchnorm2d flatten unflatten dropout dropout2d identity\n"
	"     maxpool2d avgpool2d adaptive_avgpool2d adaptive_maxpool2d (see docs/cli.md)\n"
	"Exit status: 0 on success, 1 when the input is refused, 2 on a usage error.\n";

static int convert(const char *input, const char *output, const struct convert_opts *o, int quiet)
{
	char err[PATH_MAX + 1024], notes[2048];
	struct blob_map bm;

	if (convert_model(input, output, o, notes, sizeof notes, err, sizeof err) < 0) {
		fprintf(stderr, "pth2blob: %s\n", err);
		return 1;
	}
	if (quiet)
		return 0;
	char *save = NULL;
	for (char *l = strtok_r(notes, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "pth2blob: note: %s\n", l);
	/* Report what was written by reading it back, as the server will. */
	if (blob_map_file(output, &bm, err, sizeof err) < 0) {
		fprintf(stderr, "pth2blob: %s\n", err);
		return 1;
	}
	const struct blob_model *m = &bm.model;
	printf("%s: %s version %s, %u -> ", output, m->name, m->version, m->input_width);
	for (uint32_t i = 0; i < m->nops; i++)
		printf("%s%s", i ? "," : "", blob_op_name(m->ops[i].kind));
	printf(" -> %u, post-processing %s, %zu bytes\n", m->output_width,
	       blob_post_name(m->postprocess), bm.size);
	blob_unmap(&bm);
	return 0;
}


/* Print "a, b, c, ... z (N)" keeping long name lists to one line. */
static void print_names(const char *what, const char **v, uint32_t n)
{
	printf("%-14s", what);
	if (!n) {
		printf("(none)\n");
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (n > 8 && i == 3) {
			printf(", ...");
			i = n - 2;
			continue;
		}
		printf("%s%s", i ? ", " : "", v[i]);
	}
	printf(" (%u)\n", n);
}

/* A spatial op's geometry, one line: "1x28x28 -> 8x28x28, kernel 3x3, ..." */
static void print_geom(const struct blob_op *op)
{
	const struct blob_geom *g = &op->g;

	printf(" %ux%ux%u -> %ux%ux%u", g->c, g->h, g->w, g->oc, g->oh, g->ow);
	if (op->kind == BLOB_OP_CONV2D || op->kind == BLOB_OP_MAXPOOL2D || op->kind == BLOB_OP_AVGPOOL2D) {
		printf(", kernel %ux%u, stride %ux%u, padding %ux%u", g->kh, g->kw, g->sh, g->sw, g->ph, g->pw);
		if (g->dh > 1 || g->dw > 1)
			printf(", dilation %ux%u", g->dh, g->dw);
	}
	if (g->flags & BLOB_GEOM_CEIL_MODE)
		printf(", ceil_mode");
	if (op->kind == BLOB_OP_AVGPOOL2D && !(g->flags & BLOB_GEOM_COUNT_PAD))
		printf(", count_include_pad=False");
	if (g->divisor)
		printf(", divisor %u", g->divisor);
	if (op->kind == BLOB_OP_CONV2D && !op->bias)
		printf(" (no bias)");
	printf("\n");
}

static void print_op(uint32_t i, const struct blob_op *op)
{
	if (op->kind == BLOB_OP_LINEAR)
		printf("  %2u  linear       %u -> %u%s\n", i, op->in, op->out, op->bias ? "" : " (no bias)");
	else if (op->kind == BLOB_OP_LEAKY_RELU || op->kind == BLOB_OP_ELU)
		printf("  %2u  %-12s %u (%s %g)\n", i, blob_op_name(op->kind), op->out,
		       op->kind == BLOB_OP_ELU ? "alpha" : "slope", (double)op->param);
	else if (op->g.c) {
		printf("  %2u  %-12s", i, blob_op_name(op->kind));
		print_geom(op);
	} else
		printf("  %2u  %-12s %u\n", i, blob_op_name(op->kind), op->out);
}

static int inspect(const char *path)
{
	struct blob_map bm;
	char err[512];

	if (blob_map_file(path, &bm, err, sizeof err) < 0) {
		fprintf(stderr, "pth2blob: %s\n", err);
		return 1;
	}
	const struct blob_model *m = &bm.model;
	printf("%-14s%s\n", "file:", path);
	printf("%-14s%zu bytes\n", "size:", bm.size);
	printf("%-14s%08x (CRC-32, verified)\n", "checksum:", bm.crc32);
	printf("%-14s%s\n", "name:", m->name);
	printf("%-14s%s\n", "version:", m->version);
	printf("%-14s%s\n", "source:", m->source_digest);
	printf("%-14s%u\n", "inputs:", m->input_width);
	print_names("columns:", m->columns, m->ncolumns);
	printf("%-14s%u\n", "outputs:", m->output_width);
	print_names("labels:", m->labels, m->nlabels);
	printf("%-14s%s\n", "postprocess:", blob_post_name(m->postprocess));
	if (m->input_shape[0])
		printf("%-14s%u x %u x %u (C x H x W)\n", "input shape:", m->input_shape[0], m->input_shape[1],
		       m->input_shape[2]);
	if (m->flags & BLOB_MODEL_ASSUMED_ORDER)
		printf("execution order: assumed (registration order)\n");
	if (m->flags & BLOB_MODEL_VERIFIED) {
		char when[32];
		time_t at = (time_t)m->verify.at;
		struct tm tm;
		gmtime_r(&at, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%-14s%s, max |diff| %.3g, argmax %u/%u, torch %s\n", "verified:", when,
		       (double)m->verify.max_diff, m->verify.argmax_agree, m->verify.rows, m->verify.torch_version);
	}
	printf("layers:\n");
	for (uint32_t i = 0; i < m->nops; i++)
		print_op(i, &m->ops[i]);
	blob_unmap(&bm);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "version", required_argument, NULL, 'v' },
		{ "labels", required_argument, NULL, 'l' },
		{ "postprocess", required_argument, NULL, 'p' },
		{ "arch", required_argument, NULL, 'a' },
		{ "input-shape", required_argument, NULL, 's' },
		{ "assume-registration-order", no_argument, NULL, 'o' },
		{ "verify", no_argument, NULL, 'V' },
		{ "verify-input", required_argument, NULL, 'I' },
		{ "inspect", no_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct convert_opts o = { .postprocess = -1 };
	char err[256];
	int c, inspect_only = 0, quiet = 0;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.name = optarg; break;
		case 'v': o.version = optarg; break;
		case 'l': o.labels = optarg; break;
		case 'a': o.arch = optarg; break;
		case 'o': o.assume_order = 1; break;
		case 'V': o.verify = 1; break;
		case 'I': o.verify_input = optarg; o.verify = 1; break;
		case 's':
			if (convert_parse_shape(optarg, o.input_shape, err, sizeof err) < 0) {
				fprintf(stderr, "pth2blob: %s\n", err);
				return 2;
			}
			break;
		case 'i': inspect_only = 1; break;
		case 'q': quiet = 1; break;
		case 'p':
			o.postprocess = blob_post_parse(optarg);
			if (o.postprocess < 0) {
				fprintf(stderr, "pth2blob: --postprocess %s: use logits, probabilities or labels\n", optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (inspect_only) {
		if (argc - optind != 1) {
			fputs(usage, stderr);
			return 2;
		}
		return inspect(argv[optind]);
	}
	if (argc - optind != 2) {
		fputs(usage, stderr);
		return 2;
	}
	if ((o.name && (!*o.name || strlen(o.name) > 255)) || (o.version && (!*o.version || strlen(o.version) > 255))) {
		fprintf(stderr, "pth2blob: --name and --version take 1 to 255 characters\n");
		return 2;
	}
	return convert(argv[optind], argv[optind + 1], &o, quiet);
}
