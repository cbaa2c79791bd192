/* Row-major matrix products: the only door to BLAS, so that a second
 * backend (GPU) can stand beside this one. Matrices are dense: the leading
 * dimension is the row length. */
#ifndef GM_CORE_BLAS_H
#define GM_CORE_BLAS_H

#include <stdbool.h>

/* C (M, N) = alpha * op(A) * op(B) + beta * C, where op(A) is (M, K) and
 * op(B) is (K, N); A is stored (K, M) when trans_a, B (N, K) when trans_b. */
void gm_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
             const float *A, const float *B, float beta, float *C);

/* y = alpha * op(A) * x + beta * y, A stored (M, N); op(A) = A^T when trans. */
void gm_gemv(bool trans, int M, int N, float alpha, const float *A,
             const float *x, float beta, float *y);

#endif
