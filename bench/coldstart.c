/*
 * coldstart.c - exec to complete response of a CGI program, with no shell
 * in the measurement: posix_spawn() with the request body on stdin and the
 * response read from a pipe, until the child has exited.  The CGI
 * variables come from this program's own environment.  Prints the median,
 * 10th and 90th percentile in milliseconds and checks every response
 * begins with "Status: 200".  Also the child's peak RSS and its page
 * faults (wait4's rusage), medians too: a fault costs the same on a busy
 * machine, so they explain a time that the noise hides.
 *
 *   coldstart RUNS BODY_FILE PROGRAM [ARGS...] [--vs BASELINE [ARGS...]]
 *
 * With --vs, the two programs run turn about, RUNS times each, so a
 * shared machine's noise falls on both alike; the baseline's figures
 * follow as base_median_ms... and ratio= the two medians' quotient.
 */
#include "bench/timing.h"
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* One run: seconds from spawn to exit, or -1 when the answer was not 200;
 * the child's peak RSS (KiB) and minor page faults in *ru. */
static double once(const char *body, char **argv, struct rusage *ru)
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
	wait4(pid, &status, 0, ru);
	double t = bench_now() - t0;
	if (got < 11 || memcmp(head, "Status: 200", 11) != 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return t;
}

struct series {
	char **argv;
	double *t, *rss, *faults;
};

static double median(double *v, int runs)
{
	qsort(v, (size_t)runs, sizeof *v, bench_cmp_double);
	return v[runs / 2];
}

static void report(const char *prefix, struct series *s, int runs)
{
	median(s->t, runs);   /* sorted before the percentiles are read */
	printf("%smedian_ms=%.3f %sp10_ms=%.3f %sp90_ms=%.3f %srss_kib=%.0f %sfaults=%.0f", prefix,
	       median(s->t, runs) * 1e3, prefix, s->t[runs / 10] * 1e3, prefix, s->t[runs * 9 / 10] * 1e3,
	       prefix, median(s->rss, runs), prefix, median(s->faults, runs));
}

int main(int argc, char **argv)
{
	struct series s[2] = { { argv + 3, NULL, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	struct rusage ru;
	int n = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: coldstart RUNS BODY_FILE PROGRAM [ARGS...] [--vs BASELINE [ARGS...]]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++)
		if (strcmp(argv[i], "--vs") == 0 && i + 1 < argc) {
			argv[i] = NULL;   /* ends the first program's arguments */
			s[1].argv = argv + i + 1;
			n = 2;
			break;
		}
	int runs = atoi(argv[1]);
	if (runs < 1 || runs > 100000)
		runs = 100;
	for (int k = 0; k < n; k++) {
		s[k].t = malloc((size_t)runs * sizeof *s[k].t);
		s[k].rss = malloc((size_t)runs * sizeof *s[k].rss);
		s[k].faults = malloc((size_t)runs * sizeof *s[k].faults);
		if (!s[k].t || !s[k].rss || !s[k].faults)
			return 1;
	}
	for (int i = 0; i < 10; i++)   /* warm the page cache */
		for (int k = 0; k < n; k++)
			once(argv[2], s[k].argv, &ru);
	for (int i = 0; i < runs; i++)
		for (int k = 0; k < n; k++) {
			s[k].t[i] = once(argv[2], s[k].argv, &ru);
			s[k].rss[i] = (double)ru.ru_maxrss;
			s[k].faults[i] = (double)ru.ru_minflt;
			if (s[k].t[i] < 0) {
				fprintf(stderr, "coldstart: %s, run %d: no 200 answer\n", s[k].argv[0], i);
				return 1;
			}
		}
	report("", &s[0], runs);
	if (n == 2) {
		putchar(' ');
		report("base_", &s[1], runs);
		printf(" ratio=%.2f", s[0].t[runs / 2] / s[1].t[runs / 2]);   /* both sorted by report() */
	}
	printf(" runs=%d\n", runs);
	for (int k = 0; k < n; k++) {
		free(s[k].t);
		free(s[k].rss);
		free(s[k].faults);
	}
	return 0;
}
