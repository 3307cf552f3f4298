/* The yardstick: an M/M/1 queue in bare C, as fast as a hand-written
 * simulation gets, to compare the simulator's cost per event against.
 *
 * lambda = 0.9, mu = 1.0; a binary heap of (time, type) events; GSL
 * exponential draws; FIFO service. Prints "key: value" lines.
 *
 * Usage: bench_bare_mm1 [customers [draw]]   (default 5000000 gsl)
 * draw: gsl, GSL's mt19937 and gsl_ran_exponential (-mu log1p(-u): the
 * yardstick the issues define), or archsim, archsim's stream (GSL's taus2,
 * asim_rng_create) and asim_ran_exponential (a ziggurat), to compare
 * archsim with a loop that draws as it does. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archsim/dist.h"
#include "archsim/rng.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

enum { ARRIVAL, DEPARTURE };

struct ev {
	double time;
	int type;
};

struct heap {
	struct ev *h;
	size_t n, cap;
};

static int heap_push(struct heap *q, double time, int type)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		struct ev *h = realloc(q->h, cap * sizeof(*h));
		if (!h)
			return -1;
		q->h = h;
		q->cap = cap;
	}
	struct ev e = {time, type};
	size_t i = q->n++;
	while (i > 0 && e.time < q->h[(i - 1) / 2].time) {
		q->h[i] = q->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->h[i] = e;
	return 0;
}

static struct ev heap_pop(struct heap *q)
{
	struct ev top = q->h[0], last = q->h[--q->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && q->h[c + 1].time < q->h[c].time)
			c++;
		if (!(q->h[c].time < last.time))
			break;
		q->h[i] = q->h[c];
		i = c;
	}
	q->h[i] = last;
	return top;
}

/* Arrival times of waiting customers, a growable ring. */
struct ring {
	double *a;
	size_t head, n, cap;
};

static int ring_push(struct ring *r, double t)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 1024;
		double *a = malloc(cap * sizeof(*a));
		if (!a)
			return -1;
		for (size_t i = 0; i < r->n; i++)
			a[i] = r->a[(r->head + i) % r->cap];
		free(r->a);
		r->a = a;
		r->head = 0;
		r->cap = cap;
	}
	r->a[(r->head + r->n++) % r->cap] = t;
	return 0;
}

static double ring_pop(struct ring *r)
{
	double t = r->a[r->head];
	r->head = (r->head + 1) % r->cap;
	r->n--;
	return t;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time leaves out the time other processes had the core, which on a
 * shared machine is most of the noise in wall time. */
static double cpu_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* The branch is the same every time, so it costs nothing measurable. */
static inline double draw(const gsl_rng *r, double mean, bool archsim_draw)
{
	return archsim_draw ? asim_ran_exponential(r, mean) : gsl_ran_exponential(r, mean);
}

int main(int argc, char **argv)
{
	const double lambda = 0.9, mu = 1.0;
	uint64_t customers = 5000000;
	bool archsim_draw = false;
	if (argc > 1) {
		char *end;
		unsigned long long v = strtoull(argv[1], &end, 10);
		if (*end || v == 0 || argc > 3 ||
		    (argc == 3 && strcmp(argv[2], "gsl") != 0 && strcmp(argv[2], "archsim") != 0)) {
			fprintf(stderr, "usage: %s [customers [gsl|archsim]]\n", argv[0]);
			return 2;
		}
		customers = v;
		archsim_draw = argc == 3 && strcmp(argv[2], "archsim") == 0;
	}
	gsl_rng *r = archsim_draw ? asim_rng_create(42, 0, "bare", NULL) : gsl_rng_alloc(gsl_rng_mt19937);
	struct heap q = {0};
	struct ring waiting = {0};
	if (!r)
		return 1;
	if (!archsim_draw)
		gsl_rng_set(r, 42);

	double t0 = now_s(), c0 = cpu_s();
	uint64_t arrived = 0, departed = 0, events = 0;
	bool busy = false;
	double sum_response = 0, in_service_arrival = 0;
	int rc = heap_push(&q, draw(r, 1 / lambda, archsim_draw), ARRIVAL);
	arrived = 1;
	while (rc == 0 && q.n) {
		struct ev e = heap_pop(&q);
		events++;
		if (e.type == ARRIVAL) {
			if (arrived < customers) {
				rc |= heap_push(&q, e.time + draw(r, 1 / lambda, archsim_draw), ARRIVAL);
				arrived++;
			}
			if (!busy) {
				busy = true;
				in_service_arrival = e.time;
				rc |= heap_push(&q, e.time + draw(r, 1 / mu, archsim_draw), DEPARTURE);
			} else {
				rc |= ring_push(&waiting, e.time);
			}
		} else {
			sum_response += e.time - in_service_arrival;
			departed++;
			if (waiting.n) {
				in_service_arrival = ring_pop(&waiting);
				rc |= heap_push(&q, e.time + draw(r, 1 / mu, archsim_draw), DEPARTURE);
			} else {
				busy = false;
			}
		}
	}
	double wall = now_s() - t0, cpu = cpu_s() - c0;
	if (rc) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("draw: %s\n", archsim_draw ? "archsim" : "gsl");
	printf("customers: %llu\n", (unsigned long long)departed);
	printf("events: %llu\n", (unsigned long long)events);
	printf("wall_s: %.3f\n", wall);
	printf("ns_per_event: %.1f\n", wall * 1e9 / (double)events);
	printf("cpu_s: %.3f\n", cpu);
	printf("cpu_ns_per_event: %.1f\n", cpu * 1e9 / (double)events);
	printf("mean_response: %.4f\n", sum_response / (double)departed);
	printf("theory_response: %.4f\n", 1 / (mu - lambda));
	free(q.h);
	free(waiting.a);
	gsl_rng_free(r);
	return 0;
}
