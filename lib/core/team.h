/* A team of threads that run one job together, each member on its own
 * share of the data: the library's parallelism, in place of OpenBLAS's.
 *
 * Why not let OpenBLAS split every product: it splits each one afresh, so
 * both cores read every weight matrix and write parts of every gradient,
 * and the passes between the products (activations, losses, Adam) then
 * pull lines the other core holds, at ~10 ns a line. A member instead owns
 * the same share of every layer's outputs for the whole step (its rows of
 * W, of dW and of Adam's moments, its columns of each activation) and runs
 * single-threaded products on them; only activations and the members'
 * parts of each input gradient cross cores.
 *
 * While any team's job runs, OpenBLAS is at one thread; its count comes
 * back when the last one ends (core/blas.h). */
#ifndef GM_CORE_TEAM_H
#define GM_CORE_TEAM_H

#include "genmodel/common.h"

typedef struct gm_team gm_team;

/* What a job's function is told: its rank in [0, size). */
typedef struct gm_member {
    gm_team *team;  /* NULL for a job run on the caller alone */
    int rank, size;
} gm_member;

typedef void gm_job(const gm_member *self, void *arg);

/* A team of size members: the caller and size - 1 threads; fewer when the
 * system refuses a thread (down to the caller alone, which still works).
 * *team is NULL for size 1. */
gm_status gm_team_create(int size, gm_team **team);
void gm_team_free(gm_team *team);
/* Members of the team; 1 for NULL. */
int gm_team_size(const gm_team *team);

/* Make *team a team created for size members, replacing one created for
 * another size. On failure *team is NULL and the status says why. */
gm_status gm_team_fit(gm_team **team, int size);

/* Run job on every member, the caller being rank 0; returns when all are
 * done, with their writes visible. A NULL team runs it on the caller. */
void gm_team_run(gm_team *team, gm_job *job, void *arg);

/* Wait until every member of the job has reached this point. */
void gm_team_sync(const gm_member *self);

/* The member's share [*begin, *end) of n columns (or rows): contiguous,
 * split at multiples of 16, so that the members' runs of a vector of n
 * floats, or of rows of a matrix, meet on cache-line bounds (columns of a
 * matrix whose rows are not a multiple of 16 floats long share a line at
 * the edges: harmless, if slower). The same n gives the same shares in
 * every job; a small n leaves the first members' shares empty. */
void gm_team_share(const gm_member *self, int n, int *begin, int *end);

#endif
