/* Activations: forward against double references, backward against finite
 * differences of those references, and the fused bias-gradient sum. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/act.h"
#include "gm_test.h"
#include "gm_ref.h"

#define N 3
#define D 7
#define SLOPE 0.2

static double act_ref(int kind, double x)
{
    return gm_ref_act(kind, SLOPE, x);
}

typedef struct { int kind; const double *w; } weighted_ctx;

/* sum_i w_i f(x_i + b_(i mod D)) with x then b packed in one vector */
static double weighted_sum(const double *xb, void *p)
{
    const weighted_ctx *c = p;
    double s = 0;
    for (int i = 0; i < N * D; i++)
        s += c->w[i] * act_ref(c->kind, xb[i] + xb[N * D + i % D]);
    return s;
}

static void test_forward_backward(int kind)
{
    float x[N * D], b[D], y[N * D], dy[N * D], db[D] = { 0 }, grad[N * D + D];
    double xb[N * D + D], w[N * D], want[N * D];
    gm_test_fill(x, N * D, -2.0f, 2.0f, 1);
    gm_test_fill(b, D, -0.5f, 0.5f, 2);
    gm_test_fill(dy, N * D, -1.0f, 1.0f, 3);
    /* keep x + b away from the kinks of relu and leaky relu */
    for (int i = 0; i < N * D; i++)
        if (fabsf(x[i] + b[i % D]) < 0.05f)
            x[i] += 0.1f;
    for (int i = 0; i < N * D; i++) {
        xb[i] = x[i];
        w[i] = dy[i];
        y[i] = x[i];
        want[i] = act_ref(kind, (double)x[i] + b[i % D]);
    }
    for (int d = 0; d < D; d++)
        xb[N * D + d] = b[d];

    gm_act_forward(y, b, N, D, kind, (float)SLOPE);
    gm_assert_close(y, want, N * D, 1e-6, 1e-6, "forward");

    gm_act_backward(dy, db, y, N, D, kind, (float)SLOPE);
    for (int i = 0; i < N * D; i++)
        grad[i] = dy[i];
    for (int d = 0; d < D; d++)
        grad[N * D + d] = db[d];
    weighted_ctx c = { kind, w };
    gm_check_gradient(weighted_sum, &c, xb, N * D + D, grad, 1e-4, 1e-6, "backward");
}

static void test_identity(void **s) { (void)s; test_forward_backward(GM_ACT_IDENTITY); }
static void test_relu(void **s) { (void)s; test_forward_backward(GM_ACT_RELU); }
static void test_leaky_relu(void **s) { (void)s; test_forward_backward(GM_ACT_LEAKY_RELU); }
static void test_elu(void **s) { (void)s; test_forward_backward(GM_ACT_ELU); }
static void test_tanh(void **s) { (void)s; test_forward_backward(GM_ACT_TANH); }
static void test_sigmoid(void **s) { (void)s; test_forward_backward(GM_ACT_SIGMOID); }

/* g * f''(x) from y = f(x), for every kind, against a second difference
 * of the double reference: zero wherever f is piecewise linear, and
 * gm_act_curved says which kinds those are. */
static void test_curvature(void **state)
{
    (void)state;
    static const int kinds[] = { GM_ACT_IDENTITY, GM_ACT_RELU, GM_ACT_LEAKY_RELU, GM_ACT_ELU, GM_ACT_TANH,
                                 GM_ACT_SIGMOID };
    const double h = 1e-4;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const int kind = kinds[k];
        float x[N * D], y[N * D], g[N * D];
        double want[N * D], most = 0.0;
        gm_test_fill(x, N * D, -2.0f, 2.0f, 4);
        gm_test_fill(g, N * D, -1.0f, 1.0f, 5);
        for (int i = 0; i < N * D; i++) {
            if (fabsf(x[i]) < 0.05f)   /* away from the kinks at 0 */
                x[i] += 0.1f;
            y[i] = x[i];
            double f2 = (act_ref(kind, x[i] + h) - 2 * act_ref(kind, x[i]) + act_ref(kind, x[i] - h)) / (h * h);
            want[i] = g[i] * f2;
            most = fmax(most, fabs(f2));
        }
        gm_act_forward(y, NULL, N, D, kind, (float)SLOPE);
        gm_act_curvature(g, y, N * D, kind);
        gm_assert_close(g, want, N * D, 1e-5, 1e-4, "curvature");
        assert_int_equal(gm_act_curved(kind), most > 0.01);
    }
}

static void test_sigmoid_extremes(void **state)
{
    (void)state;
    float y[4] = { -1e4f, 1e4f, -90.0f, 90.0f };
    gm_act_forward(y, NULL, 1, 4, GM_ACT_SIGMOID, 0.0f);
    assert_true(y[0] == 0.0f && y[1] == 1.0f);
    assert_true(y[2] >= 0.0f && y[2] < 1e-30f && y[3] == 1.0f);
}

/* The rational tanh within 7 ulp of tanh over the whole line (a grid of
 * 2.4 million points across [-12, 12], where it saturates), odd, exact at
 * 0 and the tails, and NaN through. */
static void test_tanh_accuracy(void **state)
{
    (void)state;
    enum { CHUNK = 4096 };
    static float x[CHUNK];
    double worst = 0.0;
    for (int at = 0; at < 2400000; at += CHUNK) {
        for (int i = 0; i < CHUNK; i++)
            x[i] = (float)(-12.0 + 1e-5 * (at + i));
        float y[CHUNK];
        memcpy(y, x, sizeof y);
        gm_act_forward(y, NULL, 1, CHUNK, GM_ACT_TANH, 0.0f);
        for (int i = 0; i < CHUNK; i++) {
            const float want = (float)tanh((double)x[i]);
            const double ulp = nextafterf(fabsf(want), 2.0f) - fabsf(want);
            worst = fmax(worst, fabs((double)y[i] - tanh((double)x[i])) / ulp);
        }
    }
    if (worst > 7.0)
        fail_msg("tanh is %.2f ulp off", worst);
    float y[6] = { 0.0f, -1e-6f, 1e-6f, 30.0f, -INFINITY, NAN };
    gm_act_forward(y, NULL, 1, 6, GM_ACT_TANH, 0.0f);
    assert_true(y[0] == 0.0f && y[1] == -1e-6f && y[2] == 1e-6f && y[3] == 1.0f && y[4] == -1.0f && isnan(y[5]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),   cmocka_unit_test(test_relu),
        cmocka_unit_test(test_leaky_relu), cmocka_unit_test(test_elu),
        cmocka_unit_test(test_tanh),       cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_curvature),
        cmocka_unit_test(test_sigmoid_extremes),
        cmocka_unit_test(test_tanh_accuracy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
