/* Runs a command and prints its wall time, CPU time and peak memory:
 *   bench_rusage_run CMD [ARG...]
 * prints "wall_s cpu_s maxrss_kib exit_code" on stderr, one line.
 *
 * Why not measure from the Python in bench/run.sh: a child forked from a
 * process starts with that process's resident size as its high-water mark
 * (fork copies the mapped pages' count, and exec keeps the old mark in the
 * process's maximum), so ru_maxrss of anything forked from Python is at
 * least Python's own 10-15 MB. This launcher is small, so the mark it hands
 * on is about 1 MB, below archsim's own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_rusage_run CMD [ARG...]\n");
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(stderr, "%.6f %.6f %ld %d\n", wall, cpu, ru.ru_maxrss, code);
	return 0;
}
