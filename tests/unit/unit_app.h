/*
 * unit_app.h - the tutorial's model served by handler/app.c in process, for
 * the tests that drive it: fixtures/model converted (name "tut", version
 * "3") into a fresh folder under /tmp, with the metrics file beside it.
 * Include after unit.h.
 */
#ifndef SCOREPOINT_UNIT_APP_H
#define SCOREPOINT_UNIT_APP_H

#include "handler/app.h"
#include "tools/convert.h"

#include <errno.h>
#include <unistd.h>

struct unit_tutorial {
	char dir[48], blob[64], metrics[64];
};

/* Convert the model into /tmp/sp-test-TAG-XXXXXX and start a with cfg,
 * whose model_path and metrics_path are filled in.  0, or -1 with a
 * "not ok" line printed. */
static int unit_tutorial_app(struct app *a, struct unit_tutorial *t, const char *tag, struct app_config cfg)
{
	char err[512], notes[512];
	struct convert_opts o = { .name = "tut", .version = "3", .postprocess = -1 };

	snprintf(t->dir, sizeof t->dir, "/tmp/sp-test-%s-XXXXXX", tag);
	if (!mkdtemp(t->dir)) {
		printf("not ok - mkdtemp %s: %s\n", t->dir, strerror(errno));
		return -1;
	}
	snprintf(t->blob, sizeof t->blob, "%s/m.blob", t->dir);
	snprintf(t->metrics, sizeof t->metrics, "%s/metrics", t->dir);
	if (convert_model("fixtures/model", t->blob, &o, notes, sizeof notes, err, sizeof err) < 0) {
		printf("not ok - convert: %s\n", err);
		return -1;
	}
	cfg.model_path = t->blob;
	cfg.metrics_path = t->metrics;
	if (app_init(a, &cfg, err, sizeof err) < 0) {
		printf("not ok - app_init: %s\n", err);
		return -1;
	}
	return 0;
}

/* app_free(a), then the blob, the metrics file and the folder (which the
 * test leaves with nothing else in it). */
static void unit_tutorial_free(struct app *a, struct unit_tutorial *t)
{
	app_free(a);
	unlink(t->blob);
	unlink(t->metrics);
	rmdir(t->dir);
}

#endif
