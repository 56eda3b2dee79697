/*
 * blob.h - the scorepoint model blob: write, map, validate.
 *
 * A blob is one flat little-endian file (docs/blob-format.md) that holds a
 * feed-forward model as a sequence of ops: Linear layers, whose float32
 * weights sit 64-byte aligned in exactly the [out][in] row-major layout that
 * cblas_sgemm reads, element-wise activations, and (format version 2)
 * convolutions, pooling and scale-shift over [C][H][W] rows.  score.fcgi
 * maps it once, read-only and shared between its processes; nothing is
 * copied at start-up.  The writer writes version 1 for a model that needs
 * nothing of version 2, byte for byte as before; the reader reads both.
 */
#ifndef SCOREPOINT_BLOB_H
#define SCOREPOINT_BLOB_H

#include <stddef.h>
#include <stdint.h>

#define BLOB_MAGIC "SPBLOB\r\n"          /* 8 bytes; \r\n catches text-mode damage */
#define BLOB_FORMAT_VERSION 2            /* what this build writes when a model needs it */
#define BLOB_FORMAT_VERSION_MIN 1        /* oldest version this build reads */
#define BLOB_ALIGN 64
#define BLOB_HEADER_MIN 128              /* a version 1 header: no blob is shorter */

/* Limits that bound every allocation a hostile blob could ask for. */
#define BLOB_MAX_OPS 64
#define BLOB_MAX_WIDTH (1u << 20)         /* features in or out of one layer */
#define BLOB_MAX_COLUMNS BLOB_MAX_WIDTH
#define BLOB_MAX_LABELS 65536
#define BLOB_MAX_STRING 4096              /* one name, label or column name */
/* Format version 2's spatial ops (struct blob_geom).  A convolution's
 * dot product, c*kh*kw, is bounded by BLOB_MAX_WIDTH like a Linear's in. */
#define BLOB_MAX_KERNEL 64                /* kh, kw; also stride and dilation */
#define BLOB_MAX_PAD 2048                 /* ph, pw: "same" padding of the widest dilated kernel */

enum blob_op_kind {
	BLOB_OP_LINEAR = 1,    /* y = x W^T + b; in, out, weight, bias */
	BLOB_OP_RELU,
	BLOB_OP_LEAKY_RELU,    /* param = negative_slope */
	BLOB_OP_TANH,
	BLOB_OP_SIGMOID,
	BLOB_OP_GELU,          /* exact (erf) form */
	BLOB_OP_GELU_TANH,     /* tanh approximation */
	BLOB_OP_ELU,           /* param = alpha */
	BLOB_OP_SOFTMAX,       /* over the last dimension */
	BLOB_OP_LOG_SOFTMAX,   /* over the last dimension */
	/* Format version 2: spatial ops.  Between ops a row is one sample's
	 * [C][H][W] tensor flattened in that order (torch's NCHW), so a Flatten
	 * costs nothing and a Linear after a convolution reads torch's order. */
	BLOB_OP_CONV2D,        /* weight [oc][c*kh*kw] (torch's [oc][c][kh][kw]), bias [oc] or none */
	BLOB_OP_MAXPOOL2D,     /* window kh,kw stride sh,sw pad ph,pw dilation dh,dw; padding never wins */
	BLOB_OP_AVGPOOL2D,     /* as torch: BLOB_GEOM_COUNT_PAD, divisor (divisor_override, 0: none) */
	BLOB_OP_ADAPTIVE_AVGPOOL2D,  /* windows [floor(i*H/OH), ceil((i+1)*H/OH)) */
	BLOB_OP_ADAPTIVE_MAXPOOL2D,
	BLOB_OP_SCALE_SHIFT,   /* y[c][p] = x[c][p]*weight[c] + bias[c]: a BatchNorm that cannot be folded */
	BLOB_OP_KIND_END
};

/* A spatial op's shapes and window (format version 2; all zero for the
 * others).  The output size is stored, not derived: the padding after
 * (bottom, right) is whatever oh/ow imply, as torch's asymmetric "same"
 * padding and ceil_mode need.  Input positions outside [0,h) x [0,w) are
 * zeros for a convolution, ignored by max pooling, and counted by average
 * pooling only with BLOB_GEOM_COUNT_PAD (torch's count_include_pad), up to
 * h+ph / w+pw as torch does. */
#define BLOB_GEOM_COUNT_PAD 1u
#define BLOB_GEOM_CEIL_MODE 2u   /* recorded for --inspect; oh/ow already say it */
struct blob_geom {
	uint32_t c, h, w;      /* input: channels, height, width */
	uint32_t oc, oh, ow;   /* output; oc == c but for a convolution */
	uint32_t kh, kw;       /* kernel (window) */
	uint32_t sh, sw;       /* stride, >= 1 */
	uint32_t ph, pw;       /* padding before (top, left) */
	uint32_t dh, dw;       /* dilation, >= 1 (convolution, max pooling) */
	uint32_t flags;        /* BLOB_GEOM_* */
	uint32_t divisor;      /* average pooling's divisor_override; 0: none */
};

enum blob_post {
	BLOB_POST_LOGITS = 0,
	BLOB_POST_PROBABILITIES,
	BLOB_POST_LABELS,
	BLOB_POST_END
};

/* One op, in memory.  For a Linear the pointers point into the mapping (or
 * into the caller's arrays when writing); for activations they are NULL. */
struct blob_op {
	uint32_t kind;         /* enum blob_op_kind */
	uint32_t in, out;      /* widths; equal for activations */
	float param;
	const float *weight;   /* [out][in] row-major, 64-byte aligned when mapped */
	const float *bias;     /* [out], or NULL */
	struct blob_geom g;    /* spatial ops only; zero otherwise */
};

/* What the converter knew about the model (blob_model.flags). */
#define BLOB_MODEL_ASSUMED_ORDER 1u   /* --assume-registration-order: forward() not known */
#define BLOB_MODEL_VERIFIED 2u        /* --verify compared it with torch: see verify */

/* The result of pth2blob --verify, recorded in the blob. */
struct blob_verify {
	int64_t at;                  /* Unix seconds of the check; 0: never verified */
	float max_diff;              /* largest |logit - torch's logit| */
	uint32_t rows;               /* input rows compared */
	uint32_t argmax_agree;       /* rows whose argmax matched torch's */
	const char *torch_version;   /* e.g. "1.13.1"; "" when not verified */
};

/* A model as the writer takes it and the loader gives it back. */
struct blob_model {
	const char *name;
	const char *version;
	const char *source_digest;   /* "sha256:<hex>" of the converted input */
	uint32_t postprocess;        /* enum blob_post */
	uint32_t input_width;        /* columns the first op reads */
	uint32_t output_width;       /* values the last op writes */
	uint32_t nops;
	struct blob_op ops[BLOB_MAX_OPS];
	uint32_t ncolumns;           /* 0 or input_width */
	const char **columns;        /* input column names, or NULL */
	uint32_t nlabels;            /* 0 or output_width */
	const char **labels;         /* output labels, or NULL */
	/* Format version 2 (all zero in a version 1 blob): */
	uint32_t input_shape[3];     /* C, H, W of one input row, or zeros: a flat row */
	uint32_t flags;              /* BLOB_MODEL_* */
	struct blob_verify verify;
};

/* A mapped blob.  model's pointers point into the read-only mapping and
 * stay valid until blob_unmap(). */
struct blob_map {
	struct blob_model model;
	const unsigned char *base;
	size_t size;
	uint32_t crc32;              /* the payload checksum, as stored and verified */
	const char **names;          /* backing array of model.columns/labels */
};

/*
 * Map `path` read-only, check every field (magic, version, sizes, offsets,
 * alignment, op chain, strings, checksum) and fill bm.  On failure returns
 * -1 with one line in err, e.g.
 * "model.blob: truncated: header says 65536 bytes, file has 4000".
 *
 * What is mapped never changes, whatever happens to the file afterwards:
 * after blob_guard_init() the file is mapped shared (pre-faulted, one copy
 * in the page cache for every process) under a read lease, and copied into
 * private memory at the same address the moment anyone opens it for
 * writing or truncates it; without a lease (and without blob_guard_init())
 * it is read into private memory.
 */
int blob_map_file(const char *path, struct blob_map *bm, char *err, size_t errlen);
/* The same for an fd the caller opened (read-only, a regular file: see
 * model/file.h); the fd is taken over, closed on failure and when the
 * map is released.  `path` only names the file in err. */
int blob_map_fd(int fd, const char *path, struct blob_map *bm, char *err, size_t errlen);
void blob_unmap(struct blob_map *bm);

/*
 * Share blobs between processes: install the SIGIO handler that answers
 * lease breaks (SA_RESTART, so no system call sees EINTR).  Call it once,
 * from the thread that will map blobs, before the first blob_map_file().
 * If copying a blob fails for want of memory the handler raises SIGTERM,
 * keeping the lease (the writer waits) until the process exits.
 */
int blob_guard_init(char *err, size_t errlen);

/*
 * Check a blob image in memory and fill m with pointers into it (and
 * m->verify.torch_version: into it, or "" for a version 1 blob).  names
 * receives a malloc'd array backing m->columns and m->labels (free() it).
 * Returns 0, or -1 with the first problem in err (no file name prefix).
 * Weight pointers are 64-byte aligned only if `buf` is.
 */
int blob_check(const void *buf, size_t size, struct blob_model *m,
	       const char ***names, char *err, size_t errlen);

/*
 * Write m to `path` atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory.  The same model gives byte-identical
 * output.  Returns 0, or -1 with err set and nothing left behind.
 */
int blob_write(const char *path, const struct blob_model *m, char *err, size_t errlen);
/* The same as the file `name` of the folder dirfd (atomic_writeat(): no
 * link of that name is followed); `shown` names it in err. */
int blob_writeat(int dirfd, const char *name, const char *shown, const struct blob_model *m, char *err,
		 size_t errlen);

const char *blob_op_name(uint32_t kind);     /* "linear", "relu", ... */
const char *blob_post_name(uint32_t post);   /* "logits", ... */
int blob_post_parse(const char *s);          /* -1 when unknown */
int blob_op_parse(const char *s);            /* -1 when unknown */

#endif
