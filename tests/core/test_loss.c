/* Losses: values against hand-computed numbers, gradients against finite
 * differences of double references, and finiteness at extreme logits. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/loss.h"
#include "gm_test.h"

#define N 3
#define D 5
#define SCALE 0.5
#define M_PI 3.14159265358979323846

static double total(const double *loss, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += loss[i];
    return s;
}

static void test_hand_values(void **state)
{
    (void)state;
    double loss[2];
    float logits[2] = { 0.0f, 2.0f }, target[2] = { 1.0f, 0.25f };
    gm_bce_logits(loss, NULL, logits, target, 1.0f, 2, 1);
    assert_float_equal(loss[0], log(2.0), 1e-7);
    assert_float_equal(loss[1], 2.0 - 0.5 + log1p(exp(-2.0)), 1e-6);

    float mu[2] = { 1.0f, 0.0f }, logvar[2] = { 0.0f, (float)log(2.0) };
    gm_kl_normal_forward(loss, mu, logvar, 1, 2, 1);
    assert_float_equal(loss[0], 0.5, 1e-7);
    assert_float_equal(loss[1], 0.5 * (1.0 - log(2.0)), 1e-6);

    float mean[1] = { 0.0f }, one[1] = { 1.0f };
    gm_gaussian_nll(loss, NULL, NULL, mean, NULL, one, 1.0f, 1, 1);
    assert_float_equal(loss[0], 0.5 * log(2.0 * M_PI) + 0.5, 1e-7);
    gm_gaussian_nll(loss, NULL, NULL, mean, logvar + 1, one, 1.0f, 1, 1); /* variance 2 */
    assert_float_equal(loss[0], 0.5 * log(4.0 * M_PI) + 0.25, 1e-6);

    float pred[2] = { 1.0f, 2.0f }, zero[2] = { 0.0f, 0.0f };
    gm_mse_forward(loss, pred, zero, 1, 2);
    assert_float_equal(loss[0], 2.5, 1e-7);

    float flat[3] = { 0.0f, 0.0f, 0.0f };
    int32_t label = 1;
    gm_softmax_xent_forward(loss, flat, &label, 1, 3);
    assert_float_equal(loss[0], log(3.0), 1e-7);
}

/* ---- gradient checks: x packs every differentiated input ---- */

static float target[N * D];
static int32_t labels[N] = { 2, 0, 4 };

static double bce_ref(const double *l, void *c)
{
    (void)c;
    double s = 0;
    for (int i = 0; i < N * D; i++) {
        double p = 1.0 / (1.0 + exp(-l[i]));
        s -= target[i] * log(p) + (1.0 - target[i]) * log(1.0 - p);
    }
    return SCALE * s;
}

static double gauss_ref(const double *x, void *c)
{
    (void)c;
    const double *mean = x, *logvar = x + N * D;
    double s = 0;
    for (int i = 0; i < N * D; i++) {
        double diff = target[i] - mean[i];
        s += 0.5 * log(2 * M_PI) + 0.5 * logvar[i] + 0.5 * diff * diff / exp(logvar[i]);
    }
    return SCALE * s;
}

static double mse_ref(const double *x, void *c)
{
    (void)c;
    double s = 0;
    for (int i = 0; i < N * D; i++)
        s += (x[i] - target[i]) * (x[i] - target[i]) / D;
    return SCALE * s;
}

static double xent_ref(const double *l, void *c)
{
    (void)c;
    double s = 0;
    for (int n = 0; n < N; n++) {
        double z = 0;
        for (int k = 0; k < D; k++)
            z += exp(l[n * D + k]);
        s += log(z) - l[n * D + labels[n]];
    }
    return SCALE * s;
}

static double kl_ref(const double *x, void *c)
{
    (void)c;
    const double *mu = x, *logvar = x + N * D;
    double s = 0;
    for (int i = 0; i < N * D; i++)
        s += 0.5 * (exp(logvar[i]) + mu[i] * mu[i] - 1.0 - logvar[i]);
    return SCALE * s;
}

static void to_double(double *out, const float *in, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = in[i];
}

/* forward agrees with the reference, backward with its finite differences */
static void check_pair(gm_scalar_fn ref, const double *loss, const float *x, const float *grad, int n,
                       const char *what)
{
    double xd[2 * N * D];
    to_double(xd, x, n);
    assert_float_equal(SCALE * total(loss, N), ref(xd, NULL), 1e-5 * fabs(ref(xd, NULL)) + 1e-6);
    gm_check_gradient(ref, NULL, xd, n, grad, 1e-4, 1e-6, what);
}

static void test_gradients(void **state)
{
    (void)state;
    double loss[N];
    float a[2 * N * D], grad[2 * N * D];
    gm_test_fill(target, N * D, 0.0f, 1.0f, 7);
    gm_test_fill(a, 2 * N * D, -2.0f, 2.0f, 8);

    gm_bce_logits(loss, grad, a, target, (float)SCALE, N, D);
    check_pair(bce_ref, loss, a, grad, N * D, "bce");

    gm_gaussian_nll(loss, grad, grad + N * D, a, a + N * D, target, (float)SCALE, N, D);
    check_pair(gauss_ref, loss, a, grad, 2 * N * D, "gaussian nll");

    gm_mse_forward(loss, a, target, N, D);
    gm_mse_backward(grad, a, target, (float)SCALE, N, D);
    check_pair(mse_ref, loss, a, grad, N * D, "mse");

    gm_softmax_xent_forward(loss, a, labels, N, D);
    gm_softmax_xent_backward(grad, a, labels, (float)SCALE, N, D);
    check_pair(xent_ref, loss, a, grad, N * D, "softmax xent");

    gm_kl_normal_forward(loss, a, a + N * D, D, N, D);
    gm_kl_normal_backward(grad, grad + N * D, a, a + N * D, D, (float)SCALE, N, D);
    check_pair(kl_ref, loss, a, grad, 2 * N * D, "kl");

    /* the packed layout: row n is [mu | logvar], 2D floats */
    float packed[2 * N * D], dpacked[2 * N * D], unpacked[2 * N * D];
    double loss2[N];
    for (int n = 0; n < N; n++)
        for (int d = 0; d < D; d++) {
            packed[n * 2 * D + d] = a[n * D + d];
            packed[n * 2 * D + D + d] = a[N * D + n * D + d];
        }
    gm_kl_normal_forward(loss2, packed, packed + D, 2 * D, N, D);
    gm_kl_normal_backward(dpacked, dpacked + D, packed, packed + D, 2 * D, (float)SCALE, N, D);
    assert_memory_equal(loss, loss2, sizeof loss);
    for (int n = 0; n < N; n++)
        for (int d = 0; d < D; d++) {
            unpacked[n * D + d] = dpacked[n * 2 * D + d];
            unpacked[N * D + n * D + d] = dpacked[n * 2 * D + D + d];
        }
    assert_memory_equal(unpacked, grad, sizeof unpacked);
}

static void test_extreme_logits(void **state)
{
    (void)state;
    float l[6] = { 1e4f, -1e4f, 1e4f, -1e4f, 1e4f, -1e4f };
    float t[6] = { 0.0f, 1.0f, 1.0f, 0.0f, 0.5f, 0.5f }, g[6];
    double loss[6];
    gm_bce_logits(loss, g, l, t, 1.0f, 6, 1);
    for (int i = 0; i < 6; i++)
        assert_true(isfinite(loss[i]) && isfinite(g[i]));
    assert_float_equal(loss[0], 1e4, 1e-3);   /* confidently wrong costs the logit */
    assert_float_equal(loss[2], 0.0, 1e-12);  /* confidently right costs nothing */

    int32_t lab[2] = { 1, 0 };
    float sl[6] = { 1e4f, -1e4f, 0.0f, -1e4f, 1e4f, 0.0f };
    gm_softmax_xent_forward(loss, sl, lab, 2, 3);
    gm_softmax_xent_backward(g, sl, lab, 1.0f, 2, 3);
    for (int i = 0; i < 6; i++)
        assert_true(isfinite(g[i]));
    assert_float_equal(loss[0], 2e4, 1e-2);
    assert_float_equal(loss[1], 2e4, 1e-2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_extreme_logits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
