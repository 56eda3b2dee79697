/*
 * coldstart.c - exec to complete response of a CGI program, with no shell
 * in the measurement: posix_spawn() with the request body on stdin and the
 * response read from a pipe, until the child has exited.  The CGI
 * variables come from this program's own environment.  Prints the median,
 * 10th and 90th percentile in milliseconds and checks every response
 * begins with "Status: 200".
 *
 *   coldstart RUNS BODY_FILE PROGRAM [ARGS...]
 */
#include "bench/timing.h"
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* One run: seconds from spawn to exit, or -1 when the answer was not 200. */
static double once(const char *body, char **argv)
{
	int out[2];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char head[16], buf[65536];
	size_t got = 0;
	ssize_t r;
	int status;

	if (pipe(out) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, body, O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	double t0 = bench_now();
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	if (rc != 0) {
		close(out[0]);
		return -1;
	}
	while ((r = read(out[0], buf, sizeof buf)) > 0) {
		if (got < sizeof head)
			memcpy(head + got, buf, (size_t)r < sizeof head - got ? (size_t)r : sizeof head - got);
		got += (size_t)r;
	}
	close(out[0]);
	waitpid(pid, &status, 0);
	double t = bench_now() - t0;
	if (got < 11 || memcmp(head, "Status: 200", 11) != 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return t;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: coldstart RUNS BODY_FILE PROGRAM [ARGS...]\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	if (runs < 1 || runs > 100000)
		runs = 100;
	double *t = malloc((size_t)runs * sizeof *t);
	if (!t)
		return 1;
	for (int i = 0; i < 10; i++)   /* warm the page cache */
		once(argv[2], argv + 3);
	for (int i = 0; i < runs; i++) {
		t[i] = once(argv[2], argv + 3);
		if (t[i] < 0) {
			fprintf(stderr, "coldstart: run %d did not answer 200\n", i);
			return 1;
		}
	}
	qsort(t, (size_t)runs, sizeof *t, bench_cmp_double);
	printf("median_ms=%.3f p10_ms=%.3f p90_ms=%.3f runs=%d\n", t[runs / 2] * 1e3, t[runs / 10] * 1e3,
	       t[runs * 9 / 10] * 1e3, runs);
	free(t);
	return 0;
}
