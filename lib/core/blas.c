/* OpenBLAS through cblas: matrix products and the thread counts. */
#include <cblas.h>
#include <stdatomic.h>

#include "blas.h"
#include "error.h"

void gm_gemm_ld(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gm_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
             const float *A, const float *B, float beta, float *C)
{
    gm_gemm_ld(trans_a, trans_b, M, N, K, alpha, A, trans_a ? M : K, B, trans_b ? K : N, beta, C, N);
}

void gm_gemv(bool trans, int M, int N, float alpha, const float *A,
             const float *x, float beta, float *y)
{
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, M, N, alpha,
                A, N, x, 1, beta, y, 1);
}

/* 0 until gm_set_num_threads: then OpenBLAS's own count (from
 * OPENBLAS_NUM_THREADS or the cores) is the library's */
static atomic_int library_threads;

gm_status gm_set_num_threads(int32_t n)
{
    if (n < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_set_num_threads: n must be >= 1 (got %d)", (int)n);
    atomic_store(&library_threads, n);
    openblas_set_num_threads(n);
    return GM_OK;
}

int32_t gm_get_num_threads(void)
{
    return gm_threads();
}

int gm_threads(void)
{
    int n = atomic_load(&library_threads);
    if (n < 1)
        n = openblas_get_num_threads();
    return n > 1 ? n : 1;
}

int gm_blas_threads_solo(void)
{
    int saved = openblas_get_num_threads();
    if (saved != 1)
        openblas_set_num_threads(1);
    return saved;
}

void gm_blas_threads_restore(int saved)
{
    if (saved != 1)
        openblas_set_num_threads(saved);
}
