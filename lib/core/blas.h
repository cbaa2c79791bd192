/* Row-major matrix products: the only door to BLAS, so that a second
 * backend (GPU) can stand beside this one. Matrices are row-major; the
 * plain forms take dense ones, whose leading dimension is the row length. */
#ifndef GM_CORE_BLAS_H
#define GM_CORE_BLAS_H

#include <stdbool.h>

/* C (M, N) = alpha * op(A) * op(B) + beta * C, where op(A) is (M, K) and
 * op(B) is (K, N); A is stored (K, M) when trans_a, B (N, K) when trans_b. */
void gm_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
             const float *A, const float *B, float beta, float *C);
/* The same on blocks of wider matrices: lda, ldb, ldc are the floats from
 * one stored row to the next. */
void gm_gemm_ld(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc);

/* y = alpha * op(A) * x + beta * y, A stored (M, N); op(A) = A^T when trans. */
void gm_gemv(bool trans, int M, int N, float alpha, const float *A,
             const float *x, float beta, float *y);

/* The library's thread count (gm_set_num_threads), in [1, GM_MAX_THREADS]. */
int gm_threads(void);
/* OpenBLAS at one thread while the library's own threads call it: each
 * begin is paired with an end; the count is restored after the last end. */
void gm_blas_solo_begin(void);
void gm_blas_solo_end(void);

#endif
