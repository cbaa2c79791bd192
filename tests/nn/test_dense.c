/* The dense layer: forward against a double reference, and the gradients
 * of W, b and x against finite differences, for every activation, made as
 * two team members make them (each its share of the outputs). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "nn/dense.h"
#include "genmodel/common.h"
#include "gm_test.h"
#include "gm_ref.h"

enum { N = 4, D = 6, O = 3, NW = O * D, NP = O * D + O + N * D };
#define SLOPE 0.1

typedef struct { int act; const double *w; } ctx_t;

/* p packs W (O, D), b (O), x (N, D), as a one-layer reference MLP reads them */
static void forward_ref(const double *p, int act, double *y)
{
    static const int widths[2] = { D, O };
    const int acts[1] = { act };
    const gm_ref_mlp ref = { 1, widths, acts, SLOPE };
    gm_ref_mlp_forward(&ref, p, p + NW + O, N, y);
}

static double weighted_output(const double *p, void *vc)
{
    const ctx_t *c = vc;
    double y[N * O], s = 0;
    forward_ref(p, c->act, y);
    for (int i = 0; i < N * O; i++)
        s += c->w[i] * y[i];
    return s;
}

/* backward over the outputs [0, 1) and [1, O), their parts of dx added */
static void backward_in_two_shares(float *dx, float *dW, float *db, bool accumulate, float *dy, const float *x,
                                   const float *W, const float *y, int act)
{
    float part[N * D];
    gm_dense_backward_share(dx, dW, db, accumulate, dy, x, W, y, N, D, O, 0, 1, act, (float)SLOPE);
    gm_dense_backward_share(part, dW, db, accumulate, dy, x, W, y, N, D, O, 1, O, act, (float)SLOPE);
    for (int i = 0; i < N * D; i++)
        dx[i] += part[i];
}

static void check_layer(int act)
{
    float p[NP], y[N * O], dy[N * O], grad[NP];
    double pd[NP], w[N * O], want[N * O];
    gm_test_fill(p, NP, -1.0f, 1.0f, 11);
    gm_test_fill(dy, N * O, -1.0f, 1.0f, 12);
    for (int i = 0; i < NP; i++)
        pd[i] = p[i];
    for (int i = 0; i < N * O; i++)
        w[i] = dy[i];
    const float *W = p, *b = p + NW, *x = p + NW + O;

    gm_dense_forward(y, x, W, b, N, D, O, act, (float)SLOPE);
    forward_ref(pd, act, want);
    gm_assert_close(y, want, N * O, 1e-5, 1e-5, "dense forward");

    /* written over what dW and db held, or added to it */
    float dy2[N * O], added[NP];
    memcpy(dy2, dy, sizeof dy);
    for (int i = 0; i < NW + O; i++)
        grad[i] = NAN, added[i] = 1.0f;
    backward_in_two_shares(grad + NW + O, grad, grad + NW, false, dy, x, W, y, act);
    ctx_t c = { act, w };
    gm_check_gradient(weighted_output, &c, pd, NP, grad, 1e-3, 1e-5, "dense backward");
    backward_in_two_shares(added + NW + O, added, added + NW, true, dy2, x, W, y, act);
    for (int i = 0; i < NW + O; i++)
        assert_float_equal(added[i] - 1.0f, grad[i], 1e-6);
}

static void test_identity(void **s) { (void)s; check_layer(GM_ACT_IDENTITY); }
static void test_relu(void **s) { (void)s; check_layer(GM_ACT_RELU); }
static void test_leaky(void **s) { (void)s; check_layer(GM_ACT_LEAKY_RELU); }
static void test_elu(void **s) { (void)s; check_layer(GM_ACT_ELU); }
static void test_tanh(void **s) { (void)s; check_layer(GM_ACT_TANH); }
static void test_sigmoid(void **s) { (void)s; check_layer(GM_ACT_SIGMOID); }

static void test_batch_of_one_matches(void **state)
{
    (void)state;
    /* N = 1 takes the gemv path; it must agree with the gemm path */
    float W[NW], b[O], x[D], y1[O], y2[2 * O], x2[2 * D];
    gm_test_fill(W, NW, -1.0f, 1.0f, 5);
    gm_test_fill(b, O, -1.0f, 1.0f, 6);
    gm_test_fill(x, D, -1.0f, 1.0f, 7);
    memcpy(x2, x, sizeof x);
    memcpy(x2 + D, x, sizeof x);
    gm_dense_forward(y1, x, W, b, 1, D, O, GM_ACT_TANH, 0.0f);
    gm_dense_forward(y2, x2, W, b, 2, D, O, GM_ACT_TANH, 0.0f);
    double want[O];
    for (int o = 0; o < O; o++)
        want[o] = y2[o];
    gm_assert_close(y1, want, O, 1e-6, 1e-6, "gemv vs gemm");
}

static void test_init_bounds(void **state)
{
    (void)state;
    gm_rng rng;
    gm_rng_init(&rng, 0);
    float W[400 * 25], b[400];
    gm_dense_init(&rng, W, b, 25, 400);
    double mean = 0;
    for (int i = 0; i < 400 * 25; i++) {
        assert_true(W[i] >= -0.2f && W[i] < 0.2f);
        mean += W[i];
    }
    for (int i = 0; i < 400; i++)
        assert_true(b[i] >= -0.2f && b[i] < 0.2f);
    assert_float_equal(mean / (400 * 25), 0.0, 0.005);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity), cmocka_unit_test(test_relu),
        cmocka_unit_test(test_leaky),    cmocka_unit_test(test_elu),
        cmocka_unit_test(test_tanh),     cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_batch_of_one_matches),
        cmocka_unit_test(test_init_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
