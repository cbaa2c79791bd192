/* The portable backend: OpenBLAS through cblas. Its thread count is held
 * at 1 while a team works (core/blas.c), so each call runs on its caller. */
#include <cblas.h>

#include "backend.h"

static void openblas_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                           int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static void openblas_sgemv(bool trans, int M, int N, float alpha, const float *A, const float *x, float beta,
                           float *y)
{
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, M, N, alpha, A, N, x, 1, beta, y, 1);
}

const gm_backend gm_backend_openblas = { "openblas", openblas_sgemm, openblas_sgemv };
