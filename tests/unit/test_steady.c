/*
 * test_steady.c - a warm worker's request path allocates nothing (issue
 * 21): after one request of each kind has grown the per-process buffers,
 * the next requests of every kind on the hot routes (the tutorial's 2-row
 * request and the 200-row one as split-orient JSON, raw float32 on /score,
 * V2 JSON and V2 binary on /v2/models/NAME/infer, the request log to a
 * file) call malloc, calloc, realloc and free not once, in app_handle or
 * app_after.
 *
 * The count comes from this program's own malloc family, which every call
 * in the process reaches (an executable's definitions come first) and which
 * hands on to glibc's __libc_malloc and friends.  The sanitizers bring
 * their own allocator, so under SAN=1 the test says SKIP.
 */
#include "tests/unit/unit.h"
#include "tests/unit/unit_app.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#else
#define COUNTING 1
#endif

static long allocs;   /* calls of the malloc family while counting */
static int counting;

#if COUNTING
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

void *malloc(size_t n)
{
	allocs += counting;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	allocs += counting;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	allocs += counting;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	allocs += counting && p;
	__libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	allocs += counting;
	*out = __libc_memalign(align, n);
	return *out ? 0 : 12;   /* ENOMEM */
}

void *aligned_alloc(size_t align, size_t n)
{
	allocs += counting;
	return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n)
{
	allocs += counting;
	return __libc_memalign(align, n);
}
#endif

static struct unit_tutorial tut;
static struct app app;

/* The response goes to a buffer of the test's, so that the carrier does
 * not allocate either. */
static char out[1 << 22];
static size_t out_len;
static const char *const *params;
static const char *body;
static size_t body_len, pos;

static const char *mem_param(struct io *io, const char *name)
{
	size_t n = strlen(name);
	(void)io;
	for (const char *const *p = params; *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

static long mem_read(struct io *io, char *buf, size_t n)
{
	(void)io;
	if (n > body_len - pos)
		n = body_len - pos;
	memcpy(buf, body + pos, n);
	pos += n;
	return (long)n;
}

static int mem_write(struct io *io, const char *buf, size_t n)
{
	(void)io;
	if (n > sizeof out - out_len)
		return -1;
	memcpy(out + out_len, buf, n);
	out_len += n;
	return 0;
}

struct kind {
	const char *name, *uri, *type, *path;
	char *body;
	size_t len;
	const char *extra;   /* one more parameter, or NULL */
};

/* One request of kind k; returns the calls of the malloc family it made. */
static long one(const struct kind *k)
{
	char cl[40];
	snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", k->len);
	const char *p[] = { "REQUEST_METHOD=POST", k->uri, k->type, cl, "HTTP_X_REQUEST_ID=steady-1",
			    k->extra, NULL };
	struct io io = { mem_param, mem_read, mem_write, NULL, 1, 0, 0 };
	params = p;
	body = k->body;
	body_len = k->len;
	pos = 0;
	out_len = 0;
	allocs = 0;
	counting = 1;
	app_handle(&app, &io);
	app_after(&app);
	counting = 0;
	return allocs;
}

/* The 2-row request's 1,568 values, read from the fixture. */
static float vals[2 * 784];

static int read_vals(void)
{
	size_t jn, n = 0;
	char *js = unit_slurp("fixtures/test_data/images_azureml.json", &jn);
	const char *d = js ? strstr(js, "\"data\"") : NULL;
	for (d = d ? strchr(d, '[') + 1 : NULL; d && *d && n < 2 * 784; d++)
		if (*d == '-' || (*d >= '0' && *d <= '9')) {
			char *e;
			vals[n++] = strtof(d, &e);
			d = e - 1;
		}
	free(js);
	return n == 2 * 784 ? 0 : -1;
}

/* A V2 request of the 2 rows: JSON "data", or (binary) a JSON header and
 * the raw values after it, whose length goes in the
 * Inference-Header-Content-Length parameter, kept in hdr. */
static char *v2_body(int binary, size_t *len, char *hdr, size_t hdrlen)
{
	size_t cap = 64 * 1024, o;
	char *b = malloc(cap);
	o = (size_t)snprintf(b, cap, "{\"inputs\": [{\"name\": \"input-0\", \"shape\": [2, 784], \"datatype\": \"FP32\", ");
	if (binary) {
		o += (size_t)snprintf(b + o, cap - o, "\"parameters\": {\"binary_data_size\": %zu}}]}", sizeof vals);
		snprintf(hdr, hdrlen, "HTTP_INFERENCE_HEADER_CONTENT_LENGTH=%zu", o);
		memcpy(b + o, vals, sizeof vals);
		*len = o + sizeof vals;
		return b;
	}
	o += (size_t)snprintf(b + o, cap - o, "\"data\": [");
	for (size_t i = 0; i < 2 * 784; i++)
		o += (size_t)snprintf(b + o, cap - o, "%s%.9g", i ? ", " : "", (double)vals[i]);
	o += (size_t)snprintf(b + o, cap - o, "]}]}");
	*len = o;
	return b;
}

static char *raw_f32(size_t *len)
{
	char *b = malloc(sizeof vals);
	memcpy(b, vals, sizeof vals);
	*len = sizeof vals;
	return b;
}

static void test_no_allocation_when_warm(void)
{
	char hdr[64];
	struct kind kinds[] = {
		{ "2-row JSON", "REQUEST_URI=/score", "CONTENT_TYPE=application/json",
		  "fixtures/test_data/images_azureml.json", NULL, 0, NULL },
		{ "200-row JSON", "REQUEST_URI=/score", "CONTENT_TYPE=application/json",
		  "fixtures/test_data/batch200_azureml_split.json", NULL, 0, NULL },
		{ "MLflow inputs", "REQUEST_URI=/invocations", "CONTENT_TYPE=application/json",
		  "fixtures/test_data/batch200_inputs.json", NULL, 0, NULL },
		{ "V2 JSON", "REQUEST_URI=/v2/models/tut/infer", "CONTENT_TYPE=application/json", NULL, NULL, 0, NULL },
		{ "V2 binary", "REQUEST_URI=/v2/models/tut/infer", "CONTENT_TYPE=application/octet-stream", NULL, NULL,
		  0, hdr },
		{ "raw float32", "REQUEST_URI=/score", "CONTENT_TYPE=application/octet-stream", NULL, NULL, 0, NULL },
	};
	size_t nk = sizeof kinds / sizeof kinds[0];
	if (read_vals() < 0) {
		CHECKF(0, "the 2-row fixture's values");
		return;
	}
	kinds[3].body = v2_body(0, &kinds[3].len, hdr, sizeof hdr);
	kinds[4].body = v2_body(1, &kinds[4].len, hdr, sizeof hdr);
	kinds[5].body = raw_f32(&kinds[5].len);
	for (size_t i = 0; i < 3; i++)
		kinds[i].body = unit_slurp(kinds[i].path, &kinds[i].len);
	for (size_t i = 0; i < nk; i++)
		CHECKF(kinds[i].body != NULL, "%s: no body", kinds[i].name);
	/* Warm: every kind once, the largest among them.  The first requests
	 * grow the buffers: the count sees them (it is not blind). */
	long cold = 0;
	for (size_t i = 0; i < nk; i++)
		if (kinds[i].body)
			cold += one(&kinds[i]);
	CHECKF(cold > 0, "the first requests allocated nothing: the count is blind");
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < nk; i++) {
			if (!kinds[i].body)
				continue;
			long n = one(&kinds[i]);
			CHECKF(out_len > 12 && memcmp(out, "Status: 200 ", 12) == 0, "%s: %.200s", kinds[i].name, out);
			CHECKF(n == 0, "%s (round %d): %ld calls of the malloc family", kinds[i].name, round, n);
		}
	for (size_t i = 0; i < nk; i++)
		free(kinds[i].body);
}

int main(void)
{
	char log[] = "/tmp/sp-test-steady-log-XXXXXX";
	int fd;

	if (!COUNTING) {
		printf("ok - test_no_allocation_when_warm # SKIP the sanitizers' allocator\n");
		return unit_done();
	}
	if ((fd = mkstemp(log)) < 0)
		return 2;
	close(fd);
	if (unit_tutorial_app(&app, &tut, "steady", (struct app_config){ .log_path = log }) < 0)
		return 1;
	RUN(test_no_allocation_when_warm);
	unit_tutorial_free(&app, &tut);
	unlink(log);
	return unit_done();
}
