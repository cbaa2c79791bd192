/* The convolution layer on a team: at stride 1 a team divides its passes
 * by samples (gm_layer_ops.by_samples), each member every channel of its
 * samples, and adds up the members' partial weight gradients. An ESPCN
 * stack and a conv -> batch norm -> conv stack (whose batch norm reads
 * channels that other members' samples wrote: the net must meet before
 * it) on teams of 2 and 3 against the caller alone; a strided conv keeps
 * the division by channels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/net.h"
#include "genmodel/common.h"
#include "gm_test.h"

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

/* N is a multiple of 16 (the members' samples start where a caller
 * alone's chunks do) and large enough for three members to go by samples */
enum { N = 64, H = 9, W = 7, MAX_LAYERS = 4 };

typedef struct stack {
    gm_shape in;
    int n;
    gm_layer_spec specs[MAX_LAYERS];
} stack;

static stack espcn(void)
{
    stack s = { { 1, H, W }, 3, { { 0 } } };
    s.specs[0] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = 24, .act = GM_ACT_TANH, .k = 5, .stride = 1,
                                  .pad = 2 };
    s.specs[1] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = 18, .act = GM_ACT_TANH, .k = 3, .stride = 1,
                                  .pad = 1 };
    s.specs[2] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = 4, .act = GM_ACT_IDENTITY, .k = 3, .stride = 1,
                                  .pad = 1 };
    return s;
}

/* the batch norm reads its own channels: after a conv by samples those
 * were written by every member */
static stack normed(void)
{
    stack s = { { 3, H, W }, 3, { { 0 } } };
    s.specs[0] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = 40, .act = GM_ACT_IDENTITY, .k = 3, .stride = 1,
                                  .pad = 1, .no_bias = true };
    s.specs[1] = (gm_layer_spec){ .ops = &gm_layer_batchnorm, .out = 40, .act = GM_ACT_LEAKY_RELU };
    s.specs[2] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = 8, .act = GM_ACT_SIGMOID, .k = 3, .stride = 1,
                                  .pad = 0 };
    return s;
}

/* a strided conv before a batch norm: by channels, as before */
static stack strided(void)
{
    stack s = { { 3, H, W }, 2, { { 0 } } };
    s.specs[0] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = 32, .act = GM_ACT_IDENTITY, .k = 4, .stride = 2,
                                  .pad = 1, .no_bias = true };
    s.specs[1] = (gm_layer_spec){ .ops = &gm_layer_batchnorm, .out = 32, .act = GM_ACT_RELU };
    return s;
}

enum { MAX_OUT = N * H * W * 40, MAX_IN = N * H * W * 3, MAX_GRAD = 1 << 15 };

typedef struct pass_result {
    float out[MAX_OUT], infer[MAX_OUT], dx[MAX_IN], grad[MAX_GRAD], added[MAX_GRAD];
    size_t n_out, n_in, n_grad;
} pass_result;

/* a training step (forward, backward setting the gradients), a second
 * backward adding to them, and a row-split inference, on team */
static void passes_on(const stack *s, gm_team *team, pass_result *r)
{
    gm_param_table t;
    gm_net net;
    gm_rng rng;
    gm_rng_init(&rng, 5);
    memset(&t, 0, sizeof t);
    assert_int_equal(gm_net_init(&net, &t, "s", s->in, s->n, s->specs, 0.2f, "t"), GM_OK);
    assert_int_equal(gm_params_alloc(&t, 1, "t"), GM_OK);
    gm_net_init_weights(&net, &t, &rng);
    net.team = team;
    const int size = gm_team_size(team);
    for (int i = 0; i < s->n; i++) {
        const gm_layer *l = &net.layer[i];
        const bool want = size > 1 && l->ops == &gm_layer_conv && l->geom.stride == 1;
        assert_int_equal(gm_layer_by_samples(l, N, size), want);
    }
    r->n_in = (size_t)N * gm_shape_size(s->in);
    r->n_out = (size_t)N * gm_net_out(&net);
    r->n_grad = gm_params_trained_span(&t);
    assert_true(r->n_in <= MAX_IN && r->n_out <= MAX_OUT && r->n_grad <= MAX_GRAD);
    float *x = malloc(r->n_in * sizeof *x), *dout = malloc(r->n_out * sizeof *dout);
    assert_true(x && dout);
    assert_int_equal(gm_net_reserve(&net, N, true, "t"), GM_OK);
    for (int step = 0; step < 2; step++) {  /* the second allocates nothing */
        const size_t allocs = gm_test_alloc.allocs;
        /* another input each step: what a member read too early would be
         * the last step's values, not the same ones */
        gm_test_fill(x, r->n_in, -1.0f, 1.0f, 6 + (uint32_t)step);
        gm_test_fill(dout, r->n_out, -1.0f, 1.0f, 7);
        memcpy(r->out, gm_net_forward(&net, &t, x, N), r->n_out * sizeof *r->out);
        gm_net_backward(&net, &t, x, dout, r->dx, N, GM_GRADS_SET);
        memcpy(r->grad, t.grad, r->n_grad * sizeof *r->grad);
        gm_test_fill(dout, r->n_out, -1.0f, 1.0f, 8);
        gm_net_backward(&net, &t, x, dout, r->dx, N, GM_GRADS_ADD);
        memcpy(r->added, t.grad, r->n_grad * sizeof *r->added);
        if (step)
            assert_int_equal(gm_test_alloc.allocs, allocs);
    }
    memcpy(r->infer, gm_net_infer(&net, &t, x, N), r->n_out * sizeof *r->infer);
    free(x);
    free(dout);
    gm_net_free(&net);
    gm_params_free(&t);
}

/* Bit-equal on oneDNN. OpenBLAS may run a product of a member's share
 * (fewer rows, or fewer output channels) through another kernel than the
 * whole one (its small-matrix path, seen on AMD Zen 4), adding in another
 * order: float rounding there. */
static void same_products(const float *got, const float *want, size_t n, const char *what)
{
    if (!strcmp(gm_backend_name(), "openblas"))
        gm_assert_close_f(got, want, n, 1e-6, 1e-5, what);
    else
        assert_memory_equal(got, want, n * sizeof *got);
}

static void check_stack(const stack *s)
{
    static pass_result alone, shared;
    passes_on(s, NULL, &alone);
    for (int size = 2; size <= 3; size++) {
        gm_team *team;
        assert_int_equal(gm_team_create(size, &team, "test"), GM_OK);
        passes_on(s, team, &shared);
        gm_team_free(team);
        /* outputs and input gradients: each member computes its samples
         * (or channels) as the caller does, the same chunks, products and
         * order of additions */
        same_products(shared.out, alone.out, alone.n_out, "the output");
        same_products(shared.infer, alone.infer, alone.n_out, "the inference");
        same_products(shared.dx, alone.dx, alone.n_in, "the input gradient");
        /* the weight and bias gradients by samples are the members' partial
         * sums over their samples added up: a float sum of N*H*W = 4032
         * terms of up to about 1 (dy through the activation, times x in
         * [-1, 1]) in another grouping. Its running sum grows to tens, so
         * each regrouped addition may round differently by ~1e-6, and the
         * sum's rounding errors, a random walk of some thousands of steps,
         * reach ~1e-5 where the terms cancel to a small gradient (seen:
         * 1.2e-5 on a bias entry of 0.36): held to 1e-4 absolute */
        gm_assert_close_f(shared.grad, alone.grad, alone.n_grad, 1e-4, 1e-5, "the parameter gradients");
        gm_assert_close_f(shared.added, alone.added, alone.n_grad, 1e-4, 1e-5, "the added parameter gradients");
    }
}

static void test_espcn_by_samples(void **state)
{
    (void)state;
    const stack s = espcn();
    check_stack(&s);
}

static void test_conv_batchnorm_conv(void **state)
{
    (void)state;
    const stack s = normed();
    check_stack(&s);
}

static void test_strided_by_channels(void **state)
{
    (void)state;
    const stack s = strided();
    check_stack(&s);
}

/* a batch too small for every member's share of samples goes by channels */
static void test_small_batch_by_channels(void **state)
{
    (void)state;
    const stack s = espcn();
    gm_param_table t = { 0 };
    gm_net net;
    assert_int_equal(gm_net_init(&net, &t, "s", s.in, s.n, s.specs, 0.2f, "t"), GM_OK);
    assert_true(gm_layer_by_samples(&net.layer[0], 32, 2));
    assert_false(gm_layer_by_samples(&net.layer[0], 31, 2));
    assert_false(gm_layer_by_samples(&net.layer[0], 32, 3));
    assert_false(gm_layer_by_samples(&net.layer[0], 1024, 1));
    gm_params_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_espcn_by_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conv_batchnorm_conv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strided_by_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_batch_by_channels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
