/* The backends that run the matrix products: one table of functions per
 * implementation, one of them in use at a time (gm_set_backend, else the
 * GM_BACKEND environment variable, else the build's default). core/blas.c
 * is the only caller; everything else multiplies through core/blas.h.
 *
 * Every function is called single-threaded, from the caller's thread or a
 * team member's (core/team.h), and must start no threads of its own: the
 * team is the library's only parallelism. Matrices are row-major, as in
 * core/blas.h; lda, ldb, ldc are the floats from one stored row to the next. */
#ifndef GM_CORE_BACKEND_H
#define GM_CORE_BACKEND_H

#include <stdbool.h>

typedef struct gm_backend {
    const char *name;  /* as gm_set_backend takes it */
    /* C (M, N) = alpha * op(A) * op(B) + beta * C; A stored (K, M) when
     * trans_a, B (N, K) when trans_b */
    void (*sgemm)(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc);
    /* y = alpha * op(A) * x + beta * y, A stored (M, N) densely: the
     * batch-1 forward */
    void (*sgemv)(bool trans, int M, int N, float alpha, const float *A, const float *x, float beta,
                  float *y);
} gm_backend;

extern const gm_backend gm_backend_openblas;
#ifdef GM_HAVE_ONEDNN
extern const gm_backend gm_backend_onednn;
#endif

/* The backend in use; the first call reads GM_BACKEND. */
const gm_backend *gm_backend_current(void);

/* Put table b in use, as gm_set_backend puts a named one: for the
 * benchmark harness, whose table records the products of a step on their
 * way to the backend (bench/bench.c). Not thread-safe against products in
 * flight. */
void gm_backend_install(const gm_backend *b);

#endif
