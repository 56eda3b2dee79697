/*
 * err.h - the one-line error messages every module returns: the caller
 * passes a buffer, the callee fills it and returns -1.
 */
#ifndef SCOREPOINT_ERR_H
#define SCOREPOINT_ERR_H

#include <stddef.h>

/* Format a message into err[errlen] (truncated if need be); returns -1. */
int err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
