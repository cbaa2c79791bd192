/* The matrix products, on the backend in use, and the thread counts. */
#include <cblas.h>
#include <pthread.h>

#include "backend.h"
#include "blas.h"
#include "error.h"

void gm_gemm_ld(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc)
{
    gm_backend_current()->sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gm_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
             const float *A, const float *B, float beta, float *C)
{
    gm_gemm_ld(trans_a, trans_b, M, N, K, alpha, A, trans_a ? M : K, B, trans_b ? K : N, beta, C, N);
}

void gm_gemv(bool trans, int M, int N, float alpha, const float *A,
             const float *x, float beta, float *y)
{
    gm_backend_current()->sgemv(trans, M, N, alpha, A, x, beta, y);
}

/* The library's thread count: set by gm_set_num_threads, else OpenBLAS's
 * count when first asked (later readings of OpenBLAS's count would see
 * the 1 a working team sets). */
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static int library_threads;
/* teams working now, and the OpenBLAS count to give back when none is */
static int solo_teams, blas_threads_after;

gm_status gm_set_num_threads(int32_t n)
{
    if (n < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_set_num_threads: n must be >= 1 (got %d)", (int)n);
    if (n > GM_MAX_THREADS)
        n = GM_MAX_THREADS;
    pthread_mutex_lock(&threads_lock);
    library_threads = n;
    if (solo_teams)
        blas_threads_after = n;
    else
        openblas_set_num_threads(n);
    pthread_mutex_unlock(&threads_lock);
    return GM_OK;
}

int32_t gm_get_num_threads(void)
{
    return gm_threads();
}

int gm_threads(void)
{
    pthread_mutex_lock(&threads_lock);
    if (library_threads < 1) {
        int n = solo_teams ? blas_threads_after : openblas_get_num_threads();
        library_threads = n < 1 ? 1 : n > GM_MAX_THREADS ? GM_MAX_THREADS : n;
    }
    int n = library_threads;
    pthread_mutex_unlock(&threads_lock);
    return n;
}

/* Counted, so that handles working at once in the host's threads share one
 * setting: OpenBLAS is at 1 thread from the first team's start to the last
 * team's end. */
void gm_blas_solo_begin(void)
{
    pthread_mutex_lock(&threads_lock);
    if (solo_teams++ == 0) {
        blas_threads_after = openblas_get_num_threads();
        if (blas_threads_after != 1)
            openblas_set_num_threads(1);
    }
    pthread_mutex_unlock(&threads_lock);
}

void gm_blas_solo_end(void)
{
    pthread_mutex_lock(&threads_lock);
    if (--solo_teams == 0 && blas_threads_after != 1)
        openblas_set_num_threads(blas_threads_after);
    pthread_mutex_unlock(&threads_lock);
}
