/* The backends of the products (core/backend.h): each one's sgemm against
 * naive loops, on blocks of wider matrices (gemv, on OpenBLAS under both,
 * is core/test_blas.c's, run in each build); the choice by name and
 * by GM_BACKEND, read once; a 2-thread run on each that starts no threads
 * but the team's; a checkpoint saved under one backend resumed under the
 * other. Run with the argument "child" it only prints the backend's names
 * (a fresh process: the environment test's). */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#ifdef GM_HAVE_ONEDNN
#  include <omp.h>
#endif

#include "core/blas.h"
#include "genmodel/checkpoint.h"
#include "models/vae_internal.h"
#include "gm_test.h"

static const char *const names[] = { "openblas", "onednn" };
enum { N_NAMES = sizeof names / sizeof *names };

#ifdef GM_HAVE_ONEDNN
static const char default_name[] = "onednn";
#else
static const char default_name[] = "openblas";
#endif

/* Set the backend called name; false when this build lacks it. */
static bool use(const char *name)
{
    gm_status s = gm_set_backend(name);
    if (s == GM_ERR_UNSUPPORTED)
        return false;
    assert_int_equal(s, GM_OK);
    assert_string_equal(gm_backend_name(), name);
    return true;
}

/* ---- the products ---- */

/* Every transpose, alpha and beta, on an (M, N) block of a C with wider
 * rows, from blocks of wider A and B: what a member's share of a layer
 * looks like. Beta 0 must clear whatever C held, NaN included; the floats
 * beside the block must stay as they were. */
static void check_gemm(int M, int N, int K, float alpha, float beta)
{
    const int pad = 3, lda_max = (M > K ? M : K) + pad, ldb_max = (N > K ? N : K) + pad, ldc = N + pad;
    float *A = malloc((size_t)(M > K ? M : K) * lda_max * sizeof *A);
    float *B = malloc((size_t)(N > K ? N : K) * ldb_max * sizeof *B);
    float *C = malloc((size_t)M * ldc * sizeof *C), *C0 = malloc((size_t)M * ldc * sizeof *C0);
    double *want = malloc((size_t)M * ldc * sizeof *want);
    float *a = malloc((size_t)M * K * sizeof *a), *b = malloc((size_t)K * N * sizeof *b);
    gm_test_fill(a, (size_t)M * K, -1.0f, 1.0f, 11);
    gm_test_fill(b, (size_t)K * N, -1.0f, 1.0f, 12);
    gm_test_fill(C0, (size_t)M * ldc, -1.0f, 1.0f, 13);
    if (beta == 0.0f)
        for (int i = 0; i < M; i++)
            C0[(size_t)i * ldc] = NAN;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad;
            for (int i = 0; i < M; i++)
                for (int k = 0; k < K; k++)
                    A[ta ? (size_t)k * lda + i : (size_t)i * lda + k] = a[(size_t)i * K + k];
            for (int k = 0; k < K; k++)
                for (int j = 0; j < N; j++)
                    B[tb ? (size_t)j * ldb + k : (size_t)k * ldb + j] = b[(size_t)k * N + j];
            for (int i = 0; i < M; i++)
                for (int j = 0; j < ldc; j++) {
                    double s = 0;
                    for (int k = 0; k < K && j < N; k++)
                        s += (double)a[(size_t)i * K + k] * b[(size_t)k * N + j];
                    const float c = C0[(size_t)i * ldc + j];
                    want[(size_t)i * ldc + j] = j >= N ? c : alpha * s + (beta == 0.0f ? 0.0 : beta * (double)c);
                    C[(size_t)i * ldc + j] = c;
                }
            gm_gemm_ld(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            char what[96];
            snprintf(what, sizeof what, "%s gemm %c%c M=%d N=%d K=%d beta=%g", gm_backend_name(), ta ? 'T' : 'N',
                     tb ? 'T' : 'N', M, N, K, (double)beta);
            gm_assert_close(C, want, (size_t)M * ldc, 1e-4, 1e-5, what);
        }
    free(A);
    free(B);
    free(C);
    free(C0);
    free(want);
    free(a);
    free(b);
}

static void test_products_on_each_backend(void **state)
{
    (void)state;
    const char *before = gm_backend_name();
    /* thin, square and degenerate shapes, and one large enough for blocked kernels */
    const int shapes[][3] = { { 1, 1, 1 }, { 1, 29, 53 }, { 37, 1, 53 }, { 37, 29, 1 }, { 37, 29, 53 },
                              { 70, 20, 128 }, { 128, 48, 100 }, { 130, 97, 211 } };
    for (int n = 0; n < N_NAMES; n++) {
        if (!use(names[n]))
            continue;
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], 1.0f, 0.0f);
            check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], 2.0f, 0.5f);
            check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], 1.0f, 1.0f);
        }
    }
    assert_int_equal(gm_set_backend(before), GM_OK);
}

/* ---- choosing one ---- */

static void test_set_backend_by_name(void **state)
{
    (void)state;
    const char *before = gm_backend_name();
    assert_int_equal(gm_set_backend(NULL), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_set_backend("mkl"), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "'mkl'"));
    assert_int_equal(gm_set_backend("OpenBLAS"), GM_ERR_INVALID_ARG);
    assert_string_equal(gm_backend_name(), before);
    assert_true(use("openblas"));
#ifdef GM_HAVE_ONEDNN
    assert_true(use("onednn"));
#else
    assert_int_equal(gm_set_backend("onednn"), GM_ERR_UNSUPPORTED);
    assert_non_null(strstr(gm_last_error(), "oneDNN"));
    assert_string_equal(gm_backend_name(), "openblas");
#endif
    assert_int_equal(gm_set_backend(before), GM_OK);
}

/* What a fresh process with GM_BACKEND=value (NULL: unset) prints: its
 * backend, the same after GM_BACKEND changes, then after gm_set_backend. */
static void child_says(const char *value, char *out, size_t size)
{
    char self[4096], cmd[4200];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(len > 0);
    self[len] = '\0';
    snprintf(cmd, sizeof cmd, "%s%s '%s' child", value ? "GM_BACKEND=" : "unset GM_BACKEND;",
             value ? value : "", self);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, size - 1, p);
    out[got] = '\0';
    assert_int_equal(pclose(p), 0);
}

static int child_main(void)
{
    printf("%s ", gm_backend_name());
    setenv("GM_BACKEND", strcmp(gm_backend_name(), "openblas") ? "openblas" : "onednn", 1);
    printf("%s ", gm_backend_name());
    if (gm_set_backend("openblas") != GM_OK)
        return 1;
    printf("%s\n", gm_backend_name());
    return 0;
}

static void test_environment_is_read_once(void **state)
{
    (void)state;
    char out[128], want[128];
    child_says(NULL, out, sizeof out);
    snprintf(want, sizeof want, "%s %s openblas\n", default_name, default_name);
    assert_string_equal(out, want);
    child_says("openblas", out, sizeof out);
    assert_string_equal(out, "openblas openblas openblas\n");
    /* a name this build lacks leaves the default */
    child_says("bogus", out, sizeof out);
    assert_string_equal(out, want);
    child_says("onednn", out, sizeof out);
#ifdef GM_HAVE_ONEDNN
    assert_string_equal(out, "onednn onednn openblas\n");
#else
    assert_string_equal(out, want);
#endif
}

/* ---- threads ---- */

static int threads_running(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

enum { TD = 784, TZ = 20, TN = 128 };

/* A VAE D-hidden-Z-hidden-D (the default hidden width when hidden is 0) */
static gm_vae_config vae_config(int D, int Z, int hidden, uint64_t seed)
{
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    cfg.input_dim = D;
    cfg.latent_dim = Z;
    if (hidden)
        cfg.enc_hidden[0] = cfg.dec_hidden[0] = hidden;
    cfg.seed = seed;
    return cfg;
}

/* The VAE of the benchmarks, trained on 2 threads and on 1: the process
 * runs the team's one thread more and no other; OpenMP's pool, which lives
 * until the process ends once started, would show here. The host's own
 * OpenMP setting is left as it was. */
static void test_threads_stay_ours(void **state)
{
    (void)state;
    const char *before = gm_backend_name();
    const int threads_before = gm_get_num_threads();
    static float x[TN * TD];
    gm_test_fill(x, TN * TD, 0.0f, 1.0f, 8);
#ifdef GM_HAVE_ONEDNN
    const int host_omp = omp_get_max_threads();
    omp_set_num_threads(4);  /* a host that wants OpenMP's threads for itself */
#endif
    const int idle = threads_running();
    for (int n = 0; n < N_NAMES; n++) {
        if (!use(names[n]))
            continue;
        for (int threads = 2; threads >= 1; threads--) {
            assert_int_equal(gm_set_num_threads(threads), GM_OK);
            const gm_vae_config cfg = vae_config(TD, TZ, 0, 7);
            gm_vae *vae;
            assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
            gm_vae_losses losses;
            for (int step = 0; step < 3; step++)
                assert_int_equal(gm_vae_train_step(vae, x, NULL, TN, &losses), GM_OK);
            static float out[TN * TD];
            assert_int_equal(gm_vae_reconstruct(vae, x, NULL, TN, out), GM_OK);
            assert_int_equal(gm_vae_reconstruct(vae, x, NULL, 1, out), GM_OK);
            if (threads_running() != idle + threads - 1)
                fail_msg("%s on %d threads: %d threads run, %d before and the team's %d", names[n], threads,
                         threads_running(), idle, threads - 1);
            gm_vae_free(vae);
            assert_int_equal(threads_running(), idle);
        }
    }
#ifdef GM_HAVE_ONEDNN
    assert_int_equal(omp_get_max_threads(), 4);
    omp_set_num_threads(host_omp);
#endif
    gm_set_num_threads(threads_before);
    assert_int_equal(gm_set_backend(before), GM_OK);
}

/* ---- checkpoints ---- */

enum { CD = 100, CN = 70, CSTEPS = 4 };

static gm_vae *resumed(const void *buf, size_t size, const char *backend, const float *x, gm_vae_losses *l)
{
    assert_true(use(backend));
    gm_vae *vae;
    assert_int_equal(gm_vae_load_buffer(buf, size, &vae), GM_OK);
    for (int step = 0; step < CSTEPS; step++)
        assert_int_equal(gm_vae_train_step(vae, x, NULL, CN, l), GM_OK);
    return vae;
}

/* Saved under one backend, a checkpoint resumes under the other: the
 * continued run ends where it would have on the first, up to rounding;
 * on the same backend, exactly there. */
static void test_checkpoint_resumes_on_the_other_backend(void **state)
{
    (void)state;
    const char *before = gm_backend_name();
    if (gm_set_backend("onednn") == GM_ERR_UNSUPPORTED)
        skip();
    const int threads_before = gm_get_num_threads();
    assert_int_equal(gm_set_num_threads(2), GM_OK);
    static float x[CN * CD];
    gm_test_fill(x, CN * CD, 0.0f, 1.0f, 9);
    const gm_vae_config cfg = vae_config(CD, 5, 48, 3);
    for (int saved = 0; saved < N_NAMES; saved++) {
        const char *other = names[1 - saved];
        assert_true(use(names[saved]));
        gm_vae *vae;
        gm_vae_losses l;
        assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
        for (int step = 0; step < CSTEPS; step++)
            assert_int_equal(gm_vae_train_step(vae, x, NULL, CN, &l), GM_OK);
        void *buf;
        size_t size;
        assert_int_equal(gm_vae_save_buffer(vae, &buf, &size), GM_OK);
        gm_vae_losses same_l, again_l, other_l;
        gm_vae *same = resumed(buf, size, names[saved], x, &same_l);
        gm_vae *again = resumed(buf, size, names[saved], x, &again_l);
        gm_vae *moved = resumed(buf, size, other, x, &other_l);
        assert_int_equal(gm_vae_step_count(moved), 2 * CSTEPS);
        const gm_param_table *want = gm_vae_param_table(same), *got = gm_vae_param_table(moved);
        assert_memory_equal(gm_vae_param_table(again)->data, want->data, want->total * sizeof(float));
        assert_true(again_l.recon == same_l.recon && again_l.kl == same_l.kl);
        assert_float_equal(other_l.recon, same_l.recon, 1e-5 * fabs(same_l.recon));
        assert_float_equal(other_l.kl, same_l.kl, 1e-5 * fabs(same_l.kl) + 1e-7);
        double *w = malloc(want->total * sizeof *w);
        for (size_t i = 0; i < want->total; i++)
            w[i] = want->data[i];
        gm_assert_close(got->data, w, want->total, 1e-5, 1e-4, "weights resumed on the other backend");
        free(w);
        gm_buffer_free(buf);
        gm_vae_free(vae);
        gm_vae_free(same);
        gm_vae_free(again);
        gm_vae_free(moved);
    }
    gm_set_num_threads(threads_before);
    assert_int_equal(gm_set_backend(before), GM_OK);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "child"))
        return child_main();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_products_on_each_backend),
        cmocka_unit_test(test_set_backend_by_name),
        cmocka_unit_test(test_environment_is_read_once),
        cmocka_unit_test(test_threads_stay_ours),
        cmocka_unit_test(test_checkpoint_resumes_on_the_other_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
