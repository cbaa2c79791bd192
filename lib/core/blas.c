/* OpenBLAS through cblas: matrix products and the BLAS thread count. */
#include <cblas.h>

#include "blas.h"
#include "error.h"

void gm_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
             const float *A, const float *B, float beta, float *C)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                A, trans_a ? M : K, B, trans_b ? K : N, beta, C, N);
}

void gm_gemv(bool trans, int M, int N, float alpha, const float *A,
             const float *x, float beta, float *y)
{
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, M, N, alpha,
                A, N, x, 1, beta, y, 1);
}

gm_status gm_set_num_threads(int32_t n)
{
    if (n < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_set_num_threads: n must be >= 1 (got %d)", (int)n);
    openblas_set_num_threads(n);
    return GM_OK;
}

int32_t gm_get_num_threads(void)
{
    return openblas_get_num_threads();
}
