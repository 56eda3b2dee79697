/*
 * ui.h - the Studio (docs/studio.md): a page for every endpoint of a
 * workspace, served by score.fcgi --workspace under /_ui.  Internal to
 * handler/.
 *
 *   ui.c             /_ui itself: the page's files, compiled in (the
 *                    Makefile embeds the files of handler/ui/ through
 *                    tools/embed.sh),
 *                    with their types, ETag and 304; the headers every
 *                    /_ui answer carries (a strict Content-Security-Policy
 *                    and the like); the table of /_ui routes
 *   endpoint_view.c  the data routes under /_ui/api/, JSON from what
 *                    endpoint.c serves: the list of endpoints, and behind
 *                    the endpoint's own credential its details, counters
 *                    and request log lines
 *
 * Every /_ui answer is GET or HEAD only (405 otherwise) and counted under
 * the metrics route "ui".  None holds a key, a token or a secret.
 */
#ifndef SCOREPOINT_UI_H
#define SCOREPOINT_UI_H

#include "handler/call.h"

/* The log lines GET /_ui/api/endpoints/NAME/logs sends at most, and the
 * tail of the request log it reads them from. */
#define UI_LOG_LINES 50
#define UI_LOG_TAIL ((size_t)256 << 10)

/* ---- ui.c ---- */

/* /_ui and /_ui/...: route_request() runs it for every such path unless
 * score.fcgi --ui off. */
route_fn ui_route;

/* ---- endpoint_view.c ---- */

route_fn view_list;       /* GET /_ui/api/endpoints */
route_fn view_endpoint;   /* GET /_ui/api/endpoints/NAME[/metrics|/logs] */

#endif
