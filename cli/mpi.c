/* Replications over MPI ranks; see mpi.h. Compiled as no-ops unless the
 * build defines ASIM_MPI (meson -Dmpi=true). */
#include "mpi.h"

#include "replicate.h"

#ifndef ASIM_MPI

void asim_mpi_start(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
}

int asim_mpi_rank(void)
{
	return 0;
}

int asim_mpi_size(void)
{
	return 1;
}

enum asim_run_status asim_mpi_replicate_runs(const struct asim_scenario *s, uint32_t n,
                                             struct asim_series *series,
                                             struct asim_results *reps, struct asim_diag *d)
{
	return asim_replicate_runs(s, n, 1, series, reps, d);
}

int asim_mpi_finish(int code)
{
	return code;
}

#else

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

static int rank, size = 1;
static bool started;

void asim_mpi_start(int *argc, char ***argv)
{
	/* Only a process that mpirun started joins a job: a plain run of an
	 * MPI build stays a plain run (no singleton start-up). */
	if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK"))
		return;
	if (MPI_Init(argc, argv) != MPI_SUCCESS)
		return;
	started = true;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
}

int asim_mpi_rank(void)
{
	return rank;
}

int asim_mpi_size(void)
{
	return size;
}

/* A replication's results travel as bytes: per value its kind, whether it
 * is a placeholder, numbers and two strings (length-prefixed), then the oom
 * flag. */
struct buf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + len)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
}

static void put_str(struct buf *b, const char *s)
{
	uint32_t len = s ? (uint32_t)strlen(s) + 1 : 0; /* 0: NULL */
	put(b, &len, sizeof len);
	if (len)
		put(b, s, len);
}

static void pack(const struct asim_results *r, enum asim_run_status st, struct buf *b)
{
	int32_t status = st, oom = r->oom;
	uint64_t n = r->n;
	put(b, &status, sizeof status);
	put(b, &oom, sizeof oom);
	put(b, &n, sizeof n);
	for (size_t i = 0; i < r->n; i++) {
		const struct asim_value *v = &r->v[i];
		int32_t kind = v->kind, unmeasured = v->unmeasured;
		put(b, &kind, sizeof kind);
		put(b, &unmeasured, sizeof unmeasured);
		put(b, &v->num, sizeof v->num);
		put(b, &v->lo, sizeof v->lo);
		put(b, &v->hi, sizeof v->hi);
		put_str(b, v->path);
		put_str(b, v->str);
	}
}

struct reader {
	const char *p, *end;
	bool bad;
};

static void get(struct reader *rd, void *out, size_t len)
{
	if (rd->bad || (size_t)(rd->end - rd->p) < len) {
		rd->bad = true;
		memset(out, 0, len);
		return;
	}
	memcpy(out, rd->p, len);
	rd->p += len;
}

static const char *get_str(struct reader *rd)
{
	uint32_t len;
	get(rd, &len, sizeof len);
	if (!len || rd->bad)
		return NULL;
	if ((size_t)(rd->end - rd->p) < len || rd->p[len - 1]) {
		rd->bad = true;
		return NULL;
	}
	const char *s = rd->p;
	rd->p += len;
	return s;
}

/* Rebuilds results from pack()'s bytes through the ordinary setters, so
 * the copy owns its strings like any other. Returns false on bad bytes. */
static bool unpack(const char *p, size_t len, struct asim_results *r, enum asim_run_status *st)
{
	struct reader rd = {p, p + len, false};
	int32_t status, oom;
	uint64_t n;
	get(&rd, &status, sizeof status);
	get(&rd, &oom, sizeof oom);
	get(&rd, &n, sizeof n);
	*st = (enum asim_run_status)status;
	for (uint64_t i = 0; i < n && !rd.bad; i++) {
		int32_t kind, unmeasured;
		double num, lo, hi;
		get(&rd, &kind, sizeof kind);
		get(&rd, &unmeasured, sizeof unmeasured);
		get(&rd, &num, sizeof num);
		get(&rd, &lo, sizeof lo);
		get(&rd, &hi, sizeof hi);
		const char *path = get_str(&rd);
		const char *str = get_str(&rd);
		if (rd.bad || !path)
			return false;
		switch ((enum asim_value_kind)kind) {
		case ASIM_VAL_COUNT: asim_results_count(r, (uint64_t)num, "%s", path); break;
		case ASIM_VAL_REAL: asim_results_real(r, num, "%s", path); break;
		case ASIM_VAL_STRING: asim_results_string(r, str ? str : "", "%s", path); break;
		case ASIM_VAL_BOOL: asim_results_bool(r, num != 0, "%s", path); break;
		case ASIM_VAL_CI: asim_results_ci(r, num, lo, hi, "%s", path); break;
		case ASIM_VAL_LIST: asim_results_list(r, "%s", path); break;
		default: return false;
		}
		if (unmeasured)
			asim_results_unmeasured(r, "%s", path);
	}
	r->oom |= oom != 0;
	return !rd.bad;
}

enum asim_run_status asim_mpi_replicate_runs(const struct asim_scenario *s, uint32_t n,
                                             struct asim_series *series,
                                             struct asim_results *reps, struct asim_diag *d)
{
	struct asim_mark top = {.file = s->doc->file, .line = 0, .col = 0};
	enum asim_run_status first = ASIM_RUN_DONE;
	for (uint32_t i = 0; i < n; i++) {
		int owner = (int)(i % (uint32_t)size);
		if (owner == rank) {
			/* Diagnostics of a run are printed where it ran. */
			struct asim_diag own;
			asim_diag_init(&own);
			enum asim_run_status st = asim_replicate_one(s, i, series, &reps[i], &own);
			asim_diag_print(&own, stderr);
			if (rank == 0) {
				for (size_t e = 0; e < own.n; e++)
					asim_diag_error(d, own.v[e].mark, "%s", own.v[e].msg);
			} else {
				/* A failed run's diagnostics make rank 0 fail too. */
				if (own.n)
					st = ASIM_RUN_NOMEM;
				struct buf b = {0};
				pack(&reps[i], st, &b);
				uint64_t len = b.oom ? UINT64_MAX : b.n;
				MPI_Send(&len, 1, MPI_UINT64_T, 0, (int)i, MPI_COMM_WORLD);
				if (!b.oom)
					MPI_Send(b.p, (int)b.n, MPI_BYTE, 0, (int)i, MPI_COMM_WORLD);
				free(b.p);
			}
			asim_diag_finish(&own);
			if (first == ASIM_RUN_DONE && st != ASIM_RUN_DONE)
				first = st;
		} else if (rank == 0) {
			uint64_t len;
			MPI_Recv(&len, 1, MPI_UINT64_T, owner, (int)i, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			enum asim_run_status st = ASIM_RUN_NOMEM;
			char *p = len == UINT64_MAX || len > INT32_MAX ? NULL : malloc(len ? len : 1);
			if (p) {
				MPI_Recv(p, (int)len, MPI_BYTE, owner, (int)i, MPI_COMM_WORLD,
				         MPI_STATUS_IGNORE);
				if (!unpack(p, len, &reps[i], &st)) {
					asim_diag_error(d, top, "replication %u: bad results from rank %d", i,
					                owner);
					st = ASIM_RUN_NOMEM;
				}
				free(p);
			} else {
				asim_diag_error(d, top, "replication %u: no results from rank %d", i, owner);
			}
			if (first == ASIM_RUN_DONE && st != ASIM_RUN_DONE)
				first = st;
		}
	}
	return first;
}

int asim_mpi_finish(int code)
{
	if (!started)
		return code;
	MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
	MPI_Finalize();
	started = false;
	return code;
}

#endif
