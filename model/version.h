/*
 * version.h - the version every program reports: score.fcgi's GET /version
 * and /v2, `scorepoint --version`.  Header-only, so any program may say it
 * without linking anything.
 */
#ifndef SCOREPOINT_VERSION_H
#define SCOREPOINT_VERSION_H

#define SCOREPOINT_VERSION "0.1.0"

#endif
