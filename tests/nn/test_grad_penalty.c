/* The gradient penalty: its value against a double-precision reference of
 * the input gradient, and its parameter gradient against finite
 * differences of that reference, for curved and piecewise-linear nets. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/grad_penalty.h"
#include "gm_ref.h"
#include "gm_test.h"

enum { N = 3, L = 3, WEIGHT = 10, COLS = 3 };
static const int widths[L + 1] = { 4, 6, 5, 1 };

typedef struct { int act; const float *x; } ctx_t;

static double penalty_ref(const double *p, void *vc)
{
    const ctx_t *c = vc;
    const int acts[L] = { c->act, c->act, GM_ACT_IDENTITY };
    const gm_ref_mlp ref = { L, widths, acts, 0.2 };
    double x[N * 4], g[N * 4], total = 0;
    for (int i = 0; i < N * 4; i++)
        x[i] = c->x[i];
    gm_ref_mlp_input_grad(&ref, p, x, N, g);
    /* the norm covers the first COLS inputs, as a conditional critic's does */
    for (int n = 0; n < N; n++) {
        double sq = 0;
        for (int d = 0; d < COLS; d++)
            sq += g[n * 4 + d] * g[n * 4 + d];
        total += (sqrt(sq) - 1) * (sqrt(sq) - 1);
    }
    return WEIGHT * total / N;
}

static void check(int act)
{
    const int acts[L] = { act, act, GM_ACT_IDENTITY };
    gm_param_table t = { 0 };
    gm_net mlp;
    gm_workspace ws = { 0 };
    gm_rng rng;
    gm_rng_init(&rng, 3);
    assert_int_equal(gm_net_init_mlp(&mlp, &t, "disc", L, widths, acts, 0.2f, "t"), GM_OK);
    assert_int_equal(gm_params_alloc(&t, 2, "t"), GM_OK);
    gm_net_init_weights(&mlp, &t, &rng);
    /* larger weights than the default make ||g|| differ from 1 */
    for (size_t i = 0; i < t.total; i++)
        t.data[i] *= 3.0f;
    assert_int_equal(gm_net_reserve(&mlp, N, true, "t"), GM_OK);
    float x[N * 4];
    gm_test_fill(x, N * 4, -1.0f, 1.0f, 4);

    gm_status s;
    memset(t.grad, 0, t.total * sizeof *t.grad);  /* the penalty adds to the gradients */
    double p = gm_grad_penalty(&mlp, &t, &ws, x, N, COLS, widths[0], (float)WEIGHT, &s, "t");
    assert_int_equal(s, GM_OK);

    size_t count = 0;
    for (int i = 0; i < t.count; i++)
        count += t.items[i].numel;
    double *pd = malloc(count * sizeof *pd);
    float *g = malloc(count * sizeof *g);
    for (int i = 0, k = 0; i < t.count; i++)
        for (size_t j = 0; j < t.items[i].numel; j++, k++) {
            pd[k] = gm_param_data(&t, i)[j];
            g[k] = gm_param_grad(&t, i)[j];
        }
    ctx_t c = { act, x };
    double want = penalty_ref(pd, &c);
    assert_true(want > 0.1);
    assert_float_equal(p, want, 1e-4 * want);
    gm_check_gradient(penalty_ref, &c, pd, count, g, 2e-3, 1e-4, "gradient penalty");
    free(pd);
    free(g);
    gm_ws_free(&ws);
    gm_net_free(&mlp);
    gm_params_free(&t);
}

static void test_tanh(void **s) { (void)s; check(GM_ACT_TANH); }
static void test_sigmoid(void **s) { (void)s; check(GM_ACT_SIGMOID); }
static void test_elu(void **s) { (void)s; check(GM_ACT_ELU); }
static void test_leaky_relu(void **s) { (void)s; check(GM_ACT_LEAKY_RELU); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_elu),
        cmocka_unit_test(test_leaky_relu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
