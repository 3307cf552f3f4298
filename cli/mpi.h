/* Replications over MPI ranks (built with meson -Dmpi=true).
 *
 * `mpirun -n K archsim run FILE --reps N` runs replication i on rank i % K;
 * each rank sends the results of its replications to rank 0, which folds
 * them in replication order exactly as a serial run does, so its output is
 * byte-identical to `archsim run FILE --reps N` (on ranks of one
 * architecture: numbers travel as their bytes). Only rank 0 prints and
 * writes files; every rank exits with rank 0's code.
 *
 * Without MPI in the build, or when the process was not started by mpirun,
 * there is one rank and every function here is a no-op. */
#ifndef ARCHSIM_CLI_MPI_H
#define ARCHSIM_CLI_MPI_H

#include <stdint.h>

#include "archsim/diag.h"
#include "archsim/results.h"
#include "scenario.h"
#include "series.h"

/* Joins the MPI job when started by mpirun (and built with MPI). */
void asim_mpi_start(int *argc, char ***argv);

/* This process's rank, and the number of ranks (1 without MPI). */
int asim_mpi_rank(void);
int asim_mpi_size(void);

/* Runs this rank's replications (i % size == rank, in order, one at a
 * time) and gathers all n into reps[0..n-1] on rank 0; other ranks keep
 * only their own. Returns, on rank 0, the first status other than
 * ASIM_RUN_DONE in replication order, as asim_replicate_runs does. */
enum asim_run_status asim_mpi_replicate_runs(const struct asim_scenario *s, uint32_t n,
                                             struct asim_series *series,
                                             struct asim_results *reps, struct asim_diag *d);

/* Leaves the MPI job; returns rank 0's code on every rank (code itself
 * without MPI). */
int asim_mpi_finish(int code);

#endif
