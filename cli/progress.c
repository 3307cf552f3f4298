#include "progress.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define REDRAW_NS 100000000 /* ten times a second */

struct asim_progress {
	FILE *out;
	uint32_t runs;
	asim_time duration;
	asim_time *at;  /* per run */
	double done;    /* sum of at[], in simulated ns */
	int64_t last;   /* wall clock of the last redraw, ns */
	bool drawn;
	char label[64];
	pthread_mutex_t lock;
};

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct asim_progress *asim_progress_create(FILE *out, uint32_t runs, asim_time duration)
{
	if (!out || !isatty(fileno(out)) || runs == 0 || duration <= 0)
		return NULL;
	struct asim_progress *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->at = calloc(runs, sizeof *p->at);
	if (!p->at) {
		free(p);
		return NULL;
	}
	p->out = out;
	p->runs = runs;
	p->duration = duration;
	p->last = wall_ns();
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static void draw(struct asim_progress *p)
{
	double share = p->done / ((double)p->duration * p->runs);
	if (share > 1)
		share = 1;
	int fill = (int)(share * BAR_WIDTH);
	char bar[BAR_WIDTH + 1];
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
	bar[BAR_WIDTH] = '\0';
	uint32_t finished = 0;
	for (uint32_t i = 0; i < p->runs; i++)
		finished += p->at[i] >= p->duration;
	/* \r and erase-to-end-of-line redraw the one line in place. */
	fprintf(p->out, "\r[%s] %3d%% simulated", bar, (int)(share * 100));
	if (p->runs > 1)
		fprintf(p->out, ", %u/%u replications done", finished, p->runs);
	if (p->label[0])
		fprintf(p->out, ", %s", p->label);
	fputs("\033[K", p->out);
	fflush(p->out);
	p->drawn = true;
}

void asim_progress_update(struct asim_progress *p, uint32_t run, asim_time t)
{
	if (!p || run >= p->runs)
		return;
	if (t > p->duration)
		t = p->duration;
	pthread_mutex_lock(&p->lock);
	p->done += (double)(t - p->at[run]);
	p->at[run] = t;
	int64_t now = wall_ns();
	if (now - p->last >= REDRAW_NS) {
		p->last = now;
		draw(p);
	}
	pthread_mutex_unlock(&p->lock);
}

void asim_progress_stage(struct asim_progress *p, const char *label)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	memset(p->at, 0, p->runs * sizeof *p->at);
	p->done = 0;
	snprintf(p->label, sizeof p->label, "%s", label ? label : "");
	pthread_mutex_unlock(&p->lock);
}

void asim_progress_destroy(struct asim_progress *p)
{
	if (!p)
		return;
	if (p->drawn) {
		fputs("\r\033[K", p->out);
		fflush(p->out);
	}
	pthread_mutex_destroy(&p->lock);
	free(p->at);
	free(p);
}
