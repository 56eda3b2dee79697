/*
 * pickle_globals.h - the allow-list of Python globals: what a pickle's
 * GLOBAL module.name becomes in the machine of pickle.h.
 *
 * The list itself is the table of pickle_globals.c, one row per global (or
 * per pattern of them), first match wins.  A module.name that no row matches
 * is a class (PKL_G_CLASS): it may only be instantiated by NEWOBJ as an
 * inert object whose state is kept, never called.
 */
#ifndef SCOREPOINT_PICKLE_GLOBALS_H
#define SCOREPOINT_PICKLE_GLOBALS_H

#include "tools/pickle.h"

struct pkl_global_rule {
	const char *module;     /* "collections"; "os.*": os and every module under it */
	const char *name;       /* "OrderedDict"; "*" any; "_rebuild_*" a prefix, "*Storage" a suffix */
	enum pkl_global what;   /* what the GLOBAL becomes; PKL_G_REFUSED: the pickle is refused */
	const char *why;        /* PKL_G_REFUSED: the reason its one-line error gives; else NULL */
};

/* The first row that module.name matches (a module known under another name,
 * such as __builtin__, looked up as its usual one), or NULL: a class. */
const struct pkl_global_rule *pkl_global_rule(const char *module, const char *name);

#endif
