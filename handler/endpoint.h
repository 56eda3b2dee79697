/*
 * endpoint.h - score.fcgi --workspace: with endpoint_view.c (ui.h) and
 * collect.c (the data collector's writer), the only files of handler/ that
 * talk to workspace/.  It serves a snapshot of
 * the workspace's state file and the blobs it names, follows the CLI's
 * commits, routes /NAME/... to an endpoint, checks the credentials and
 * chooses the deployment (the azureml-model-deployment header, else a
 * weighted draw over the live traffic, and maybe a mirror copy it scores
 * after the answer).
 *
 * struct endpoints is opaque: struct app holds a pointer, so the rest of
 * handler/ never sees a workspace/ type.  Internal to handler/.
 */
#ifndef SCOREPOINT_ENDPOINT_H
#define SCOREPOINT_ENDPOINT_H

#include <stddef.h>

#include "handler/call.h"

/* Load the workspace at dir (made absolute) and map every blob it names.
 * NULL with one line in err naming the file and the problem. */
struct endpoints *endpoints_load(const char *dir, char *err, size_t errlen);
void endpoints_free(struct endpoints *eps);

/* The workspace's absolute path, as long as eps lives. */
const char *endpoints_dir(const struct endpoints *eps);

/*
 * For endpoint_view.c, which shows what is served (struct ws and its
 * parts are workspace/ws.h's, which only these two files include): the
 * snapshot served now, and the mapped blob of a deployment (d->blob), or
 * NULL; both valid until the next endpoints_begin().
 */
struct ws;
struct ws_endpoint;
const struct ws *endpoints_ws(const struct endpoints *eps);
const struct app_model *endpoints_model(const struct endpoints *eps, const char *blob);

/* Authorization: Bearer <key or token> for endpoint e, as /NAME/score
 * takes it.  1 when allowed; 0 with the 401 sent (its WWW-Authenticate
 * naming e). */
int endpoints_authorized(struct call *c, const struct ws_endpoint *e);

/* The workspace's request log (DIR/logs/requests.log), opened for appending
 * without following a link: the fd, or -1 with err. */
int endpoints_open_log(const struct endpoints *eps, char *err, size_t errlen);

/*
 * At the start of each request: drop a mirror copy app_after() did not
 * run, then serve what the CLI committed (traffic, keys, deployments) from
 * this request on: one stat() of the state file.  A state that cannot be
 * loaded or mapped leaves the current one serving, with one line on
 * stderr, and is not retried until the file changes again.
 */
void endpoints_begin(struct endpoints *eps);

/* The route of every path not the server's own: /NAME/score,
 * /NAME/invocations, /NAME/swagger.json, /NAME/v2/...; path is c->path. */
route_fn endpoint_route;

/* After the answer (app_after), first: the data collector's lines of the
 * request answered, if its deployment collects and the draw of its
 * sampling_rate picked it (handler/collect.h, docs/collect.md). */
void endpoints_collect(struct app *a);

/* After the answer (app_after): score the pending mirror copy, if any,
 * counted and logged under the mirror deployment. */
void endpoints_mirror(struct app *a);

#endif
