/* Data-parallel training across MPI ranks, when the tool is built with MPI
 * (-Dmpi, OpenMPI's libopenmpi-dev): every rank holds the whole model and
 * takes its share of every batch, and the library's reduction hook
 * averages the gradients with MPI_Allreduce. Without MPI, or when not
 * started by mpirun (or srun), the tool is a single process of rank 0. */
#ifndef GENMODEL_CLI_DIST_H
#define GENMODEL_CLI_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "genmodel.h"

/* Start MPI when a launcher started this process; call once, first. */
void cli_dist_begin(int *argc, char ***argv);
/* Finish MPI (a no-op without it); rc is the process's exit code. */
int cli_dist_end(int rc);
/* Whether this build has MPI. */
int cli_dist_built(void);
int cli_dist_rank(void);
int cli_dist_size(void);
/* The hook for gm_*_set_allreduce: MPI_Allreduce over every rank, then 1 / size. */
gm_status cli_dist_allreduce(float *buf, size_t count, void *ctx);
/* With more than one rank, end every rank at once with rc (MPI_Abort):
 * after a failure that the other ranks may not share. Returns rc otherwise. */
int cli_dist_abort(int rc);
/* Whether every rank holds the same n bytes (compared by a 64-bit hash);
 * *hash gets this rank's. Collective. */
int cli_dist_same(const void *bytes, size_t n, uint64_t *hash);

#endif
