/* The row-major BLAS wrappers against naive loops, for every transpose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/blas.h"
#include "gm_test.h"

enum { M = 5, K = 7, NC = 3 };

static void test_gemm_all_transposes(void **state)
{
    (void)state;
    float A[M * K], B[K * NC], C[M * NC], C0[M * NC];
    double want[M * NC];
    gm_test_fill(A, M * K, -1.0f, 1.0f, 1);
    gm_test_fill(B, K * NC, -1.0f, 1.0f, 2);
    gm_test_fill(C0, M * NC, -1.0f, 1.0f, 3);
    for (int ta = 0; ta < 2; ta++) {
        for (int tb = 0; tb < 2; tb++) {
            /* the same logical product: stored transposed when asked */
            float As[M * K], Bs[K * NC];
            for (int i = 0; i < M; i++)
                for (int k = 0; k < K; k++)
                    As[ta ? k * M + i : i * K + k] = A[i * K + k];
            for (int k = 0; k < K; k++)
                for (int j = 0; j < NC; j++)
                    Bs[tb ? j * K + k : k * NC + j] = B[k * NC + j];
            for (int i = 0; i < M; i++)
                for (int j = 0; j < NC; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++)
                        s += (double)A[i * K + k] * B[k * NC + j];
                    want[i * NC + j] = 2.0 * s + 0.5 * C0[i * NC + j];
                    C[i * NC + j] = C0[i * NC + j];
                }
            gm_gemm(ta, tb, M, NC, K, 2.0f, As, Bs, 0.5f, C);
            gm_assert_close(C, want, M * NC, 1e-5, 1e-5, "gemm");
        }
    }
}

static void test_gemv(void **state)
{
    (void)state;
    float A[M * K], x[K], xt[M], y[M], yt[K];
    double want[M], want_t[K];
    gm_test_fill(A, M * K, -1.0f, 1.0f, 4);
    gm_test_fill(x, K, -1.0f, 1.0f, 5);
    gm_test_fill(xt, M, -1.0f, 1.0f, 6);
    for (int i = 0; i < M; i++) {
        want[i] = 0;
        for (int k = 0; k < K; k++)
            want[i] += (double)A[i * K + k] * x[k];
    }
    for (int k = 0; k < K; k++) {
        want_t[k] = 0;
        for (int i = 0; i < M; i++)
            want_t[k] += (double)A[i * K + k] * xt[i];
    }
    gm_gemv(false, M, K, 1.0f, A, x, 0.0f, y);
    gm_assert_close(y, want, M, 1e-5, 1e-5, "gemv");
    gm_gemv(true, M, K, 1.0f, A, xt, 0.0f, yt);
    gm_assert_close(yt, want_t, K, 1e-5, 1e-5, "gemv transposed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_all_transposes),
        cmocka_unit_test(test_gemv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
