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
 * A job too small to gain from the split runs on the caller alone: what
 * a split saves must pay for the members' meeting, about a microsecond on
 * an idle machine, and on a busy one a wake-up through the kernel, tens of
 * microseconds or more (see GM_TEAM_MIN_WORK).
 *
 * While any job runs, on a team or on the caller alone, OpenBLAS is at one
 * thread; its count comes back when the last one ends (core/blas.h). */
#ifndef GM_CORE_TEAM_H
#define GM_CORE_TEAM_H

#include <math.h>

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
 * *team is NULL for size 1. who, the public call, heads a failure's message. */
gm_status gm_team_create(int size, gm_team **team, const char *who);
void gm_team_free(gm_team *team);
/* Members of the team; 1 for NULL. */
int gm_team_size(const gm_team *team);

/* Make *team a team created for size members, replacing one created for
 * another size. On failure *team is NULL and the status says why. */
gm_status gm_team_fit(gm_team **team, int size, const char *who);

/* Work is counted in the multiply-adds of a matrix product (a core of
 * docs/performance.md's machine does about 20 a nanosecond). A team of p
 * members splits a job of at least p times GM_TEAM_MIN_WORK (about 13 us
 * of one core's work each); a smaller one runs on the caller alone. On an
 * idle machine a split pays from about a tenth of that, but on a busy one
 * a member's wake-up costs tens of microseconds, which only a share this
 * large pays back (genmodel-bench small --sweep and bench/load.sh,
 * bench/bench.c; docs/performance.md). */
#define GM_TEAM_MIN_WORK 262144
/* What an element of an elementwise pass costs in those units, measured:
 * the Bernoulli loss and its gradient (an exp and a log), a sigmoid (an
 * exp), and a pass of a few loads, stores and multiply-adds. */
#define GM_WORK_EXP_LOG 64
#define GM_WORK_EXP 24
#define GM_WORK_STREAM 4

/* Run job on every member, the caller being rank 0, when work (its cost,
 * as above) is worth splitting; else on the caller alone, as a member of
 * a team of one (NULL team). Returns when all are done, with their writes
 * visible, and gives the members that ran it: the same for the same work
 * and team. A NULL team runs it on the caller. */
int gm_team_run_sized(gm_team *team, gm_job *job, void *arg, double work);

/* The same for a job whose results do not depend on how many members
 * run it (a forward pass of one row, whose products are matrix-vector
 * products split at multiples of 16 rows). While the workers are awake
 * (none asleep on the team's futex: calls are following each other
 * within their spin time), meeting them costs about a microsecond, so
 * such a job is split from GM_TEAM_MIN_WORK / GM_TEAM_AWAKE_DIVISOR per
 * member; otherwise as gm_team_run_sized, but for a rare try to wake the
 * workers when such calls come in a close stream (team.c). Not for two
 * threads calling at once: a handle's caller alone. */
#define GM_TEAM_AWAKE_DIVISOR 8
int gm_team_run_eager(gm_team *team, gm_job *job, void *arg, double work);

/* The same for a job always split among the members. */
static inline void gm_team_run(gm_team *team, gm_job *job, void *arg)
{
    gm_team_run_sized(team, job, arg, HUGE_VAL);
}

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
