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
	"  --arch SPEC             ops of a bare state_dict, e.g. linear,relu,linear\n"
	"                          (default: ReLU between Linear layers)\n"
	"  --inspect               print what a blob holds and verify it\n"
	"  -q, --quiet             print nothing on success\n"
	"  -h, --help              this text\n"
	"\n"
	"ops: linear relu leaky_relu tanh sigmoid gelu gelu_tanh elu softmax log_softmax\n"
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
	printf("layers:\n");
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		if (op->kind == BLOB_OP_LINEAR)
			printf("  %2u  linear       %u -> %u%s\n", i, op->in, op->out, op->bias ? "" : " (no bias)");
		else if (op->kind == BLOB_OP_LEAKY_RELU || op->kind == BLOB_OP_ELU)
			printf("  %2u  %-12s %u (%s %g)\n", i, blob_op_name(op->kind), op->out,
			       op->kind == BLOB_OP_ELU ? "alpha" : "slope", (double)op->param);
		else
			printf("  %2u  %-12s %u\n", i, blob_op_name(op->kind), op->out);
	}
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
		{ "inspect", no_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct convert_opts o = { .postprocess = -1 };
	int c, inspect_only = 0, quiet = 0;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.name = optarg; break;
		case 'v': o.version = optarg; break;
		case 'l': o.labels = optarg; break;
		case 'a': o.arch = optarg; break;
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
