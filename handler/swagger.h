/*
 * swagger.h - GET /swagger.json: an OpenAPI 3 document generated from the
 * model's signature, so a caller learns the routes, the input columns, the
 * output shape and a ready example without reading our docs.
 */
#ifndef SCOREPOINT_SWAGGER_H
#define SCOREPOINT_SWAGGER_H

#include "model/blob.h"
#include "model/enc.h"

/* Append the document for model m, served at base_path ("" for the root,
 * "/endpoints/NAME" in a workspace) to b. */
void swagger_render(struct enc_buf *b, const struct blob_model *m, const char *base_path);

#endif
