/* The gradient penalty: its value against a double-precision reference of
 * the input gradient, and its parameter gradient against finite
 * differences of that reference, for curved and piecewise-linear nets. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "nn/grad_penalty.h"
#include "gm_ref.h"
#include "gm_test.h"

enum { N = 3, L = 3, WEIGHT = 10 };
static const int widths[L + 1] = { 4, 6, 5, 1 };

typedef struct { int act; const float *x; } ctx_t;

/* dD(x)/dx of the double reference, by backpropagating a unit output:
 * with y the layer outputs, dy/da comes from y as in the float kernels */
static void input_grad_ref(const double *p, int act, const double *x, double *g)
{
    double y[L][8], u[8], v[8];
    const double *W[L], *b[L];
    for (int i = 0, at = 0; i < L; i++) {
        W[i] = p + at;
        b[i] = W[i] + widths[i + 1] * widths[i];
        at += widths[i + 1] * widths[i] + widths[i + 1];
    }
    for (int i = 0; i < L; i++) {
        const double *in = i ? y[i - 1] : x;
        for (int o = 0; o < widths[i + 1]; o++) {
            double s = b[i][o];
            for (int d = 0; d < widths[i]; d++)
                s += W[i][o * widths[i] + d] * in[d];
            y[i][o] = i < L - 1 ? gm_ref_act(act, 0.2, s) : s;
        }
    }
    u[0] = 1.0;
    for (int i = L - 1; i >= 0; i--) {
        for (int o = 0; o < widths[i + 1]; o++) {
            double yo = y[i][o], slope = 1.0;
            if (i < L - 1) {
                switch (act) {
                case GM_ACT_TANH: slope = 1 - yo * yo; break;
                case GM_ACT_SIGMOID: slope = yo * (1 - yo); break;
                case GM_ACT_ELU: slope = yo > 0 ? 1 : yo + 1; break;
                case GM_ACT_LEAKY_RELU: slope = yo > 0 ? 1 : 0.2; break;
                default: break;
                }
            }
            v[o] = u[o] * slope;
        }
        for (int d = 0; d < widths[i]; d++) {
            u[d] = 0;
            for (int o = 0; o < widths[i + 1]; o++)
                u[d] += v[o] * W[i][o * widths[i] + d];
        }
    }
    for (int d = 0; d < widths[0]; d++)
        g[d] = u[d];
}

static double penalty_ref(const double *p, void *vc)
{
    const ctx_t *c = vc;
    double total = 0;
    for (int n = 0; n < N; n++) {
        double x[8], g[8], sq = 0;
        for (int d = 0; d < widths[0]; d++)
            x[d] = c->x[n * widths[0] + d];
        input_grad_ref(p, c->act, x, g);
        for (int d = 0; d < widths[0]; d++)
            sq += g[d] * g[d];
        total += (sqrt(sq) - 1) * (sqrt(sq) - 1);
    }
    return WEIGHT * total / N;
}

static void check(int act)
{
    const int acts[L] = { act, act, GM_ACT_IDENTITY };
    gm_param_table t = { 0 };
    gm_mlp mlp;
    gm_workspace ws = { 0 };
    gm_rng rng;
    gm_rng_init(&rng, 3);
    assert_int_equal(gm_mlp_init(&mlp, &t, "disc", L, widths, acts, 0.2f), GM_OK);
    assert_int_equal(gm_params_alloc(&t), GM_OK);
    gm_mlp_init_weights(&mlp, &t, &rng);
    /* larger weights than the default make ||g|| differ from 1 */
    for (size_t i = 0; i < t.total; i++)
        t.data[i] *= 3.0f;
    assert_int_equal(gm_mlp_reserve(&mlp, N), GM_OK);
    float x[N * 4];
    gm_test_fill(x, N * 4, -1.0f, 1.0f, 4);

    gm_status s;
    gm_params_zero_grad(&t);
    double p = gm_grad_penalty(&mlp, &t, &ws, x, N, (float)WEIGHT, &s);
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
    gm_mlp_free(&mlp);
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
