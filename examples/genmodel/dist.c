/* The tool's MPI: see dist.h. Compiled with GM_HAVE_MPI when meson found
 * MPI; else every rank function says "rank 0 of 1". */
#include <stdlib.h>

#include "dist.h"

#ifdef GM_HAVE_MPI
#include <mpi.h>
#endif

static int rank, size = 1, started;

/* the variables a launcher sets: OpenMPI's mpirun, PMI (MPICH, Slurm), PMIx */
static int launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

void cli_dist_begin(int *argc, char ***argv)
{
#ifdef GM_HAVE_MPI
    if (!launched() || MPI_Init(argc, argv) != MPI_SUCCESS)
        return;
    started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
#else
    (void)argc, (void)argv, (void)launched;
#endif
}

int cli_dist_end(int rc)
{
#ifdef GM_HAVE_MPI
    if (started)
        MPI_Finalize();
#endif
    return rc;
}

int cli_dist_built(void)
{
#ifdef GM_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

int cli_dist_rank(void) { return rank; }
int cli_dist_size(void) { return size; }

gm_status cli_dist_allreduce(float *buf, size_t count, void *ctx)
{
    (void)ctx;
#ifdef GM_HAVE_MPI
    /* MPI counts in int: a large buffer goes in pieces */
    for (size_t at = 0; at < count; at += (size_t)1 << 30) {
        const size_t n = count - at < (size_t)1 << 30 ? count - at : (size_t)1 << 30;
        if (MPI_Allreduce(MPI_IN_PLACE, buf + at, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return GM_ERR_IO;
    }
    const float inv = 1.0f / (float)size;
    for (size_t i = 0; i < count; i++)
        buf[i] *= inv;
#else
    (void)buf, (void)count;
#endif
    return GM_OK;
}

int cli_dist_abort(int rc)
{
#ifdef GM_HAVE_MPI
    if (size > 1)
        MPI_Abort(MPI_COMM_WORLD, rc);
#endif
    return rc;
}

int cli_dist_same(const void *bytes, size_t n, uint64_t *hash)
{
    /* FNV-1a */
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)bytes)[i]) * 0x100000001b3u;
    *hash = h;
#ifdef GM_HAVE_MPI
    if (size > 1) {
        unsigned long long mine = h, lo, hi;
        MPI_Allreduce(&mine, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
        MPI_Allreduce(&mine, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
        return lo == hi;
    }
#endif
    return 1;
}
