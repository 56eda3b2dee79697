/*
 * lambda.h - score.fcgi as an AWS Lambda custom runtime (docs/lambda.md).
 *
 * When AWS_LAMBDA_RUNTIME_API (HOST:PORT) is set, score.fcgi speaks the
 * Runtime API 2018-06-01 instead of FastCGI or CGI: it asks for the next
 * event, turns it into one request for app_handle() through the memory
 * carrier, and posts the answer back, until Lambda freezes or ends the
 * process.  Four files:
 *
 *   lambda.c         the loop: the model's defaults under LAMBDA_TASK_ROOT,
 *                    init/error, the deadline, the trace id, the answers
 *   lambda_event.c   events in (API Gateway payload 2.0 and function URLs,
 *                    payload 1.0, ALB, a direct invocation)
 *   lambda_answer.c  the handler's CGI output out; strict base64
 *   lambda_http.c    a small blocking HTTP/1.1 client for the Runtime API
 *
 * The event is trusted no more than an HTTP request: Authorization, the
 * deployment pin and the body are checked by the handler exactly as over
 * FastCGI.  The Runtime API endpoint itself is trusted (it is Lambda).
 */
#ifndef SCOREPOINT_LAMBDA_H
#define SCOREPOINT_LAMBDA_H

#include <stddef.h>

#include "handler/app.h"
#include "model/enc.h"
#include "model/json.h"

/* True when AWS_LAMBDA_RUNTIME_API is set and not empty. */
int lambda_wanted(void);

/* Run the runtime loop with cfg (the command line's and the environment's
 * options; the model defaults to LAMBDA_TASK_ROOT's).  Returns the exit
 * status: 1 after an init error (posted to .../runtime/init/error) or when
 * the Runtime API fails; it does not return while Lambda sends events. */
int lambda_main(struct app_config *cfg);

/* ---- events (lambda_event.c, lambda_answer.c): lambda.c's and the tests' ---- */

enum lambda_kind {
	LAMBDA_DIRECT,    /* anything else: the scoring JSON itself, POSTed to /score */
	LAMBDA_HTTP_V2,   /* API Gateway HTTP API payload 2.0, function URLs */
	LAMBDA_HTTP_V1,   /* API Gateway REST, HTTP API payload 1.0 */
	LAMBDA_ALB,       /* an Application Load Balancer's target group */
};

/* Headers an HTTP event may carry (API Gateway's own limit is 10 KB of
 * them); one more is a 400. */
#define LAMBDA_MAX_HEADERS 100
#define LAMBDA_MAX_PARAMS (LAMBDA_MAX_HEADERS + 8)
/* Events are this much larger than the body they carry, at most: the
 * request context, headers, the JSON around them. */
#define LAMBDA_EVENT_OVERHEAD ((size_t)1 << 20)

/*
 * One event as a CGI request.  params and body point into r's own buffers
 * (or, for a direct invocation, into the event text) and live until the
 * next lambda_event() on r.  Buffers are reused from event to event.
 */
struct lambda_req {
	enum lambda_kind kind;
	int multi;                /* ALB with multi-value headers on: answer in kind */
	const char *path;         /* the path asked for, for the shape of a made-up error */
	const char *params[LAMBDA_MAX_PARAMS + 1];   /* "NAME=value", NULL-terminated */
	const char *body;
	size_t body_len;
	/* storage */
	struct enc_buf text;      /* the params' bytes, each NUL-terminated */
	size_t off[LAMBDA_MAX_PARAMS];
	size_t nparams;
	int headers;              /* how many of them are headers */
	char *buf;                /* the decoded body */
	size_t buf_cap;
	jsmntok_t *tok;
	size_t tok_cap;
};

void lambda_req_init(struct lambda_req *r);
void lambda_req_free(struct lambda_req *r);

/*
 * Read event js[0, len) into r.  An object that is an HTTP event (payload
 * 2.0: "version": "2.0" with "rawPath"; 1.0 and ALB: "httpMethod" and
 * "path", ALB with requestContext.elb) becomes that request: method, path
 * and query (REQUEST_URI, SCRIPT_NAME, PATH_INFO, QUERY_STRING), headers
 * as HTTP_* (Content-Type as CONTENT_TYPE), the body base64-decoded when
 * isBase64Encoded.  Anything else is a direct invocation: POST
 * direct_path with the event as its JSON body.  0, or -1 with one line in
 * err (r->kind says which answer the event gets: a 400).
 */
int lambda_event(struct lambda_req *r, const char *js, size_t len, const char *direct_path, char *err,
		 size_t errlen);

/*
 * The handler's CGI output out[0, n) ("Status: ...", headers, blank line,
 * body) as the answer to an HTTP event of kind, appended to b:
 * {"statusCode", "headers" (or ALB's "multiValueHeaders" when multi),
 * "body", "isBase64Encoded"}, ALB's "statusDescription" too.  A body that
 * is not well-formed UTF-8 text (or holds a NUL) goes base64.  out[n]
 * must be a NUL (io_memory's output has it).  0, or -1 when out is not
 * CGI output.
 */
int lambda_http_answer(struct enc_buf *b, const char *out, size_t n, enum lambda_kind kind, int multi);

/* The status of CGI output out[0, n) and its body (pointing into out);
 * 0, or -1 when out is not CGI output. */
int lambda_cgi_split(const char *out, size_t n, int *status, const char **body, size_t *body_len);

/* Base64 (RFC 4648 section 4, with padding) of p[0, n), appended to b. */
void lambda_b64_encode(struct enc_buf *b, const void *p, size_t n);

/* Strict base64: s[0, n) in groups of four of the standard alphabet, '='
 * only as the last one or two, the bits a pad leaves over zero, no
 * whitespace.  Writes at most n / 4 * 3 bytes to out; their count, or -1. */
long lambda_b64_decode(const char *s, size_t n, unsigned char *out);

/* ---- the Runtime API client (lambda_http.c) ---- */

struct lambda_http;   /* one Runtime API endpoint */

/* What a Runtime API answer said.  body points into the client's buffer
 * and lives until its next call. */
struct lambda_reply {
	int status;
	char *body;               /* NUL-terminated */
	size_t body_len;
	int too_large;            /* the body was over the cap: not read */
	char request_id[128];     /* Lambda-Runtime-Aws-Request-Id */
	char trace_id[512];       /* Lambda-Runtime-Trace-Id */
	long long deadline_ms;    /* Lambda-Runtime-Deadline-Ms; 0: none */
};

/* Resolve api ("HOST:PORT", "[V6]:PORT") once; body_max caps what a
 * reply's body may hold.  NULL with one line in err. */
struct lambda_http *lambda_http_open(const char *api, size_t body_max, char *err, size_t errlen);
void lambda_http_close(struct lambda_http *h);

/* One request: GET when body is NULL, else POST of body[0, n) as JSON
 * with, when error_type is set, Lambda-Runtime-Function-Error-Type.  The
 * connection is new and closed after the reply.  0 with *rep, or -1 with
 * one line in err (connection, a malformed or oversized head). */
int lambda_http_call(struct lambda_http *h, const char *path, const char *body, size_t n, const char *error_type,
		     struct lambda_reply *rep, char *err, size_t errlen);

#endif
