/* A PMPI shim that times every MPI_Allreduce of a run (bench/scaling.sh).
 * Build: mpicc -O2 -shared -fPIC bench/allreduce_time.c -o allreduce_time.so
 * Use:   mpirun -x LD_PRELOAD=./allreduce_time.so ... genmodel vae train ...
 * At MPI_Finalize each rank prints to stderr, per distinct element count,
 *   ALLREDUCE rank=R count=FLOATS calls=C seconds=S
 * The time is what the caller spends in the call: the transfer and the
 * reduction, plus any wait for a rank that arrives later. */
#include <mpi.h>
#include <stdio.h>
#include <time.h>

#define MAX_COUNTS 16

static struct {
    int count;
    long calls;
    double seconds;
} seen[MAX_COUNTS];
static int n_seen;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
    const double started = now();
    const int rc = PMPI_Allreduce(sendbuf, recvbuf, count, type, op, comm);
    const double took = now() - started;
    int i = 0;
    while (i < n_seen && seen[i].count != count)
        i++;
    if (i == n_seen && n_seen < MAX_COUNTS)
        seen[n_seen++].count = count;
    if (i < n_seen) {
        seen[i].calls++;
        seen[i].seconds += took;
    }
    return rc;
}

int MPI_Finalize(void)
{
    int rank = 0;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (int i = 0; i < n_seen; i++)
        fprintf(stderr, "ALLREDUCE rank=%d count=%d calls=%ld seconds=%.6f\n", rank, seen[i].count,
                seen[i].calls, seen[i].seconds);
    return PMPI_Finalize();
}
