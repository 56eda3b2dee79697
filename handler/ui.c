/*
 * ui.c - /_ui (ui.h): the Studio page's files, compiled into score.fcgi,
 * the headers every /_ui answer carries, and the table of /_ui routes.
 *
 * The files are the .html, .css, .js and .svg files of handler/ui/, as
 * the Makefile embedded them (tools/embed.sh): each is served at
 * /_ui/NAME, index.html at /_ui/ too, with Cache-Control: no-cache and an
 * ETag, so that a browser asks again each time and is answered 304 while
 * the binary is the same.  The ETag
 * is a hash of the bytes, the same in every process of the same build; it
 * is computed at the first request for a file, so a CGI process that
 * answers /score never pays for it.
 */
#include "handler/ui.h"

#include <stdio.h>
#include <string.h>

struct embedded {
	const char *name;
	const char *bytes;
	size_t len;
};
#include "ui_assets.h"

#define NASSETS (sizeof embedded / sizeof embedded[0])

/* What the page may do: only its own files and its own server's API, no
 * inline script or style, no frame around it, no form sent anywhere. */
#define UI_SECURITY_HEADERS                                                                          \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "          \
	"img-src 'self' data: blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; " \
	"base-uri 'none'\r\n"                                                                         \
	"X-Content-Type-Options: nosniff\r\n"                                                         \
	"Referrer-Policy: no-referrer\r\n"

/* The data routes' (and every error's): never stored by a cache. */
static const char api_headers[] = UI_SECURITY_HEADERS "Cache-Control: no-store\r\n";

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
};

/* "\"<16 lowercase hex>\"" of each file, made on first use. */
static char etags[NASSETS][19];
static int etags_made;

/* ---- the files ---- */

/* FNV-1a 64: stable across processes and builds of the same bytes. */
static uint64_t hash64(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void make_etags(void)
{
	for (size_t i = 0; i < NASSETS; i++)
		snprintf(etags[i], sizeof etags[i], "\"%016llx\"",
			 (unsigned long long)hash64(embedded[i].bytes, embedded[i].len));
	etags_made = 1;
}

static const char *type_of(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

/* The file named name (a whole path component), or -1. */
static int asset(const char *name)
{
	for (size_t i = 0; i < NASSETS; i++)
		if (strcmp(embedded[i].name, name) == 0 && type_of(name))
			return (int)i;
	return -1;
}

/* If-None-Match h names etag (or is "*"): a list of entity tags, each
 * maybe weak (W/"..."), compared weakly as RFC 9110 asks for GET. */
static int none_match(const char *h, const char *etag)
{
	size_t n = strlen(etag);

	while (h && *(h += strspn(h, " \t,"))) {
		if (*h == '*')
			return 1;
		if (strncmp(h, "W/", 2) == 0)
			h += 2;
		if (strncmp(h, etag, n) == 0 && strchr(" \t,", h[n]))   /* h[n] == '\0' too */
			return 1;
		h += strcspn(h, ",");
	}
	return 0;
}

static void no_file(struct call *c)
{
	call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s", c->path);
}

static void send_asset(struct call *c, int i)
{
	static char head[sizeof api_headers + 64];

	if (!etags_made)
		make_etags();
	snprintf(head, sizeof head, UI_SECURITY_HEADERS "Cache-Control: no-cache\r\nETag: %s\r\n", etags[i]);
	c->headers = head;
	enc_reset(&c->a->out);
	if (none_match(c->io->param(c->io, "HTTP_IF_NONE_MATCH"), etags[i])) {
		call_send(c, 304, NULL);
		return;
	}
	enc_raw(&c->a->out, embedded[i].bytes, embedded[i].len);
	call_send(c, 200, type_of(embedded[i].name));
}

/* ---- the routes ---- */

static void to_slash(struct call *c, const char *rest)
{
	static char head[sizeof api_headers + 32];

	(void)rest;
	snprintf(head, sizeof head, "%sLocation: /_ui/\r\n", api_headers);
	c->headers = head;
	enc_reset(&c->a->out);
	call_send(c, 301, "text/plain; charset=utf-8");
}

static void index_file(struct call *c, const char *rest)
{
	int i = asset("index.html");

	(void)rest;
	if (i < 0)
		no_file(c);
	else
		send_asset(c, i);
}

/* /_ui/NAME: one of the files, no folders. */
static void file(struct call *c, const char *rest)
{
	int i = strchr(rest, '/') ? -1 : asset(rest);

	if (i < 0)
		no_file(c);
	else
		send_asset(c, i);
}

static void no_api_route(struct call *c, const char *rest)
{
	(void)rest;
	call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s; the Studio's data routes are /_ui/api/endpoints "
		  "and /_ui/api/endpoints/NAME[/metrics|/logs]", c->path);
}

#define EXACT(p) p, sizeof p - 1, 0
#define PREFIX(p) p, sizeof p - 1, 1
#define GETS (M_GET | M_HEAD)

/* After /_ui; every row GET and HEAD only, counted as "ui". */
static const struct route ui_routes[] = {
	{ EXACT(""), GETS, 0, 0, MR_UI, P_AZURE, to_slash },
	{ EXACT("/"), GETS, 0, 0, MR_UI, P_AZURE, index_file },
	{ EXACT("/api/endpoints"), GETS, 0, 0, MR_UI, P_AZURE, view_list },
	{ PREFIX("/api/endpoints/"), GETS, 0, 0, MR_UI, P_AZURE, view_endpoint },
	{ PREFIX("/api/"), GETS, 0, 0, MR_UI, P_AZURE, no_api_route },
	{ PREFIX("/"), GETS, 0, 0, MR_UI, P_AZURE, file },
	{ NULL, 0, 0, 0, 0, 0, MR_UI, P_AZURE, NULL },
};

void ui_route(struct call *c, const char *rest)
{
	c->headers = api_headers;
	c->bodyless = c->method_bit == M_HEAD;
	if (*rest && *rest != '/') {   /* /_uiX: no route of ours, and no endpoint's */
		no_file(c);
		return;
	}
	route_run(c, route_find(c, ui_routes, rest), rest);
}
