/* The MLP: gradients of a whole stack against finite differences, a real
 * (XOR-like) task learned to low loss, the same passes on a team of
 * threads as on the caller alone (small passes exactly so: they are not
 * split), no allocation in a repeated step, stacked batches that batch
 * norm takes apart, and every allocation failure reported cleanly. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nn/net.h"
#include "core/adam.h"
#include "core/loss.h"
#include "gm_test.h"
#include "gm_ref.h"

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

/* ---- gradient check: 5 -> 8 (tanh) -> 6 (elu) -> 3 (identity) ---- */

enum { GN = 3, L = 3 };
static const int widths[L + 1] = { 5, 8, 6, 3 };
static const int acts[L] = { GM_ACT_TANH, GM_ACT_ELU, GM_ACT_IDENTITY };

typedef struct { const gm_param_table *t; const double *w; } ctx_t;

/* x packs every parameter in table order, then the input (GN, 5) */
static double weighted_output(const double *x, void *vc)
{
    const ctx_t *c = vc;
    const gm_ref_mlp ref = { L, widths, acts, 0.0 };
    double out[GN * 3], s = 0;
    size_t n_params = 0;
    for (int i = 0; i < c->t->count; i++)
        n_params += c->t->items[i].numel;
    gm_ref_mlp_forward(&ref, x, x + n_params, GN, out);
    for (int i = 0; i < GN * widths[L]; i++)
        s += c->w[i] * out[i];
    return s;
}

/* an MLP with weights from seed, on team, its workspace carved for N rows */
static void build(gm_net *mlp, gm_param_table *t, int layers, const int *w, const int *a, uint64_t seed,
                  gm_team *team, int N)
{
    gm_rng rng;
    gm_rng_init(&rng, seed);
    assert_int_equal(gm_net_init_mlp(mlp, t, "net", layers, w, a, 0.0f, "t"), GM_OK);
    assert_int_equal(gm_params_alloc(t, 1, "t"), GM_OK);
    gm_net_init_weights(mlp, t, &rng);
    mlp->team = team;
    assert_int_equal(gm_net_reserve(mlp, N, true, "t"), GM_OK);
}

static void test_gradients(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    gm_net mlp;
    build(&mlp, &t, L, widths, acts, 1, NULL, GN);

    float x[GN * 5], dout[GN * 3], dx[GN * 5], grad[200];
    double all[200], w[GN * 3];
    gm_test_fill(x, GN * 5, -1.0f, 1.0f, 2);
    gm_test_fill(dout, GN * 3, -1.0f, 1.0f, 3);
    for (int i = 0; i < GN * 3; i++)
        w[i] = dout[i];
    /* written over whatever the gradients held, NaN included */
    for (size_t i = 0; i < t.total; i++)
        t.grad[i] = NAN;
    float dout0[GN * 3], dout2[GN * 3], dx2[GN * 5];
    memcpy(dout0, dout, sizeof dout);  /* backward overwrites dout */
    gm_net_forward(&mlp, &t, x, GN);
    gm_net_backward(&mlp, &t, x, dout, dx, GN, GM_GRADS_SET);

    size_t n = 0;
    for (int i = 0; i < t.count; i++)
        for (size_t j = 0; j < t.items[i].numel; j++, n++) {
            all[n] = gm_param_data(&t, i)[j];
            grad[n] = gm_param_grad(&t, i)[j];
        }
    for (int i = 0; i < GN * 5; i++, n++) {
        all[n] = x[i];
        grad[n] = dx[i];
    }
    assert_true(n <= 200);
    ctx_t c = { &t, w };
    gm_check_gradient(weighted_output, &c, all, n, grad, 1e-3, 1e-5, "mlp backward");

    /* a second pass adding to them doubles them (up to the rounding of the
     * bias sums); one skipping them leaves them, and both give dx again */
    float twice[200];
    const gm_grads modes[2] = { GM_GRADS_ADD, GM_GRADS_SKIP };
    for (int m = 0; m < 2; m++) {
        memcpy(dout2, dout0, sizeof dout0);
        gm_net_backward(&mlp, &t, x, dout2, dx2, GN, modes[m]);
        assert_memory_equal(dx2, dx, sizeof dx);
        for (int i = 0, k = 0; i < t.count; i++)
            for (size_t j = 0; j < t.items[i].numel; j++, k++)
                twice[k] = gm_param_grad(&t, i)[j];
        for (size_t k = 0; k < n - GN * 5; k++)
            assert_float_equal(twice[k], 2.0f * grad[k], 1e-6f * (1.0f + fabsf(grad[k])));
    }
    assert_string_equal(t.items[4].name, "net.2.weight");
    gm_net_free(&mlp);
    gm_params_free(&t);
}

/* ---- a real task: XOR of the signs of two coordinates ---- */

enum { BATCH = 64 };

typedef struct {
    gm_param_table t;
    gm_net mlp;
    gm_optimizer_config opt;
} classifier;

static gm_status classifier_create(classifier *c, uint64_t seed)
{
    static const int w[4] = { 2, 16, 16, 2 };
    static const int a[3] = { GM_ACT_RELU, GM_ACT_RELU, GM_ACT_IDENTITY };
    gm_rng rng;
    gm_rng_init(&rng, seed);
    gm_optimizer_config_default(&c->opt, 1e-2f);
    gm_status s = gm_net_init_mlp(&c->mlp, &c->t, "clf", 3, w, a, 0.0f, "t");
    if (s == GM_OK)
        s = gm_params_alloc(&c->t, 2, "t");
    if (s == GM_OK)
        gm_net_init_weights(&c->mlp, &c->t, &rng);
    return s;
}

static void classifier_free(classifier *c)
{
    gm_net_free(&c->mlp);
    gm_params_free(&c->t);
}

static gm_status classifier_step(classifier *c, const float *x, const int32_t *y, int n, double *mean_loss)
{
    float dlogits[BATCH * 2];
    double loss[BATCH];
    gm_status s = gm_net_reserve(&c->mlp, n, true, "t");
    if (s != GM_OK)
        return s;
    const float *logits = gm_net_forward(&c->mlp, &c->t, x, n);
    gm_softmax_xent_forward(loss, logits, y, n, 2);
    gm_softmax_xent_backward(dlogits, logits, y, 1.0f / n, n, 2);
    gm_net_backward(&c->mlp, &c->t, x, dlogits, NULL, n, GM_GRADS_SET);
    gm_params_adam_step(&c->t, &c->opt, NULL, NULL);
    *mean_loss = 0;
    for (int i = 0; i < n; i++)
        *mean_loss += loss[i] / n;
    return GM_OK;
}

typedef struct {
    float x[BATCH * 2];
    int32_t y[BATCH];
} xor_data;

static void xor_batch(gm_rng *rng, float *x, int32_t *y, int n)
{
    gm_rng_uniform(rng, x, (size_t)2 * n, -1.0f, 1.0f);
    for (int i = 0; i < n; i++)
        y[i] = (x[2 * i] > 0) != (x[2 * i + 1] > 0);
}

static void test_learns_xor(void **state)
{
    (void)state;
    classifier c = { 0 };
    assert_int_equal(classifier_create(&c, 5), GM_OK);
    gm_rng data;
    gm_rng_init(&data, 99);
    float x[BATCH * 2];
    int32_t y[BATCH];
    double loss = 0, first = 0;
    for (int step = 0; step < 3000; step++) {
        xor_batch(&data, x, y, BATCH);
        assert_int_equal(classifier_step(&c, x, y, BATCH, &loss), GM_OK);
        if (step == 0)
            first = loss;
    }
    int correct = 0;
    for (int round = 0; round < 16; round++) {
        xor_batch(&data, x, y, BATCH);
        const float *logits = gm_net_forward(&c.mlp, &c.t, x, BATCH);
        for (int i = 0; i < BATCH; i++)
            correct += (logits[2 * i + 1] > logits[2 * i]) == y[i];
    }
    assert_true(first > 0.6);         /* chance is log 2 */
    assert_true(loss < 0.1);
    assert_true(correct >= 16 * BATCH * 97 / 100);
    classifier_free(&c);
}

static void test_repeated_step_allocates_nothing(void **state)
{
    (void)state;
    classifier c = { 0 };
    assert_int_equal(classifier_create(&c, 5), GM_OK);
    gm_rng data;
    gm_rng_init(&data, 1);
    float x[BATCH * 2];
    int32_t y[BATCH];
    double loss;
    xor_batch(&data, x, y, BATCH);
    assert_int_equal(classifier_step(&c, x, y, BATCH, &loss), GM_OK);
    size_t after_first = gm_test_alloc.allocs;
    assert_int_equal(classifier_step(&c, x, y, BATCH, &loss), GM_OK);
    assert_int_equal(classifier_step(&c, x, y, BATCH / 2, &loss), GM_OK);
    assert_int_equal(gm_test_alloc.allocs, after_first);
    classifier_free(&c);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

/* ---- a team computes what the caller alone does ---- */

/* widths whose shares are uneven, one of them (the width-1 layer) empty
 * for some member; enough rows for gm_net_infer to split rows on 3 */
enum { TN = 400, TL = 4 };
static const int team_widths[TL + 1] = { 37, 40, 17, 1, 23 };
static const int team_acts[TL] = { GM_ACT_RELU, GM_ACT_TANH, GM_ACT_IDENTITY, GM_ACT_SIGMOID };

typedef struct {
    float out[TN * 23], infer[TN * 23], dx[TN * 37], grad[4096];
} pass_result;

/* the multiply-adds of a forward pass over N rows */
static double pass_work(int N)
{
    double per_row = 0.0;
    for (int i = 0; i < TL; i++)
        per_row += (double)team_widths[i] * team_widths[i + 1];
    return per_row * N;
}

/* the passes over the first N rows */
static void passes_on(gm_team *team, int N, pass_result *r)
{
    gm_param_table t = { 0 };
    gm_net mlp;
    build(&mlp, &t, TL, team_widths, team_acts, 7, team, N);
    assert_true(t.total <= sizeof r->grad / sizeof *r->grad);

    static float x[TN * 37], dout[TN * 23];
    gm_test_fill(x, TN * 37, -1.0f, 1.0f, 11);
    gm_test_fill(dout, TN * 23, -1.0f, 1.0f, 12);
    memset(r, 0, sizeof *r);
    memcpy(r->infer, gm_net_infer(&mlp, &t, x, N), (size_t)N * 23 * sizeof *r->infer);
    memcpy(r->out, gm_net_forward(&mlp, &t, x, N), (size_t)N * 23 * sizeof *r->out);
    gm_net_backward(&mlp, &t, x, dout, r->dx, N, GM_GRADS_SET);
    memcpy(r->grad, t.grad, t.total * sizeof *t.grad);
    gm_net_free(&mlp);
    gm_params_free(&t);
}

static void as_double(const float *x, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = x[i];
}

static void test_team_matches_the_caller_alone(void **state)
{
    (void)state;
    static pass_result alone, shared;
    static double want[TN * 37];  /* the largest: dx, more than the 4096 gradients */
    /* enough work that even the forward pass is split on 3 */
    assert_true(pass_work(TN) >= 3 * GM_TEAM_MIN_WORK);
    passes_on(NULL, TN, &alone);
    for (int size = 2; size <= 3; size++) {
        gm_team *team;
        assert_int_equal(gm_team_create(size, &team, "test"), GM_OK);
        passes_on(team, TN, &shared);
        gm_team_free(team);
        /* the products split by outputs, so only dx's sum over them is
         * added in another order */
        as_double(alone.out, want, TN * 23);
        gm_assert_close(shared.out, want, TN * 23, 1e-6, 1e-6, "forward");
        gm_assert_close(shared.infer, want, TN * 23, 1e-6, 1e-6, "forward by rows");
        as_double(alone.dx, want, TN * 37);
        gm_assert_close(shared.dx, want, TN * 37, 1e-6, 1e-5, "dx");
        as_double(alone.grad, want, 4096);
        gm_assert_close(shared.grad, want, 4096, 1e-6, 1e-5, "parameter gradients");
    }
}

/* a few rows are too little work to split: the passes run on the caller
 * alone, bit for bit as without a team (split, dx would be the sum of the
 * members' parts, added in another order) */
static void test_small_passes_run_on_the_caller_alone(void **state)
{
    (void)state;
    enum { FEW = 4 };
    static pass_result alone, shared;
    assert_true(2 * pass_work(FEW) < 2 * GM_TEAM_MIN_WORK);
    passes_on(NULL, FEW, &alone);
    for (int size = 2; size <= 3; size++) {
        gm_team *team;
        assert_int_equal(gm_team_create(size, &team, "test"), GM_OK);
        passes_on(team, FEW, &shared);
        gm_team_free(team);
        assert_memory_equal(shared.out, alone.out, sizeof alone.out);
        assert_memory_equal(shared.infer, alone.infer, sizeof alone.infer);
        assert_memory_equal(shared.dx, alone.dx, sizeof alone.dx);
        assert_memory_equal(shared.grad, alone.grad, sizeof alone.grad);
    }
}

/* One row's inference may be split among the workers while they are
 * awake (gm_team_run_eager), and must then give the caller's result bit
 * for bit: its products are matrix-vector ones split at multiples of 16
 * rows. Repeated calls keep the workers awake, so most are split. */
static void test_one_row_inference_is_the_callers_bit_for_bit(void **state)
{
    (void)state;
    enum { L1 = 3 };
    static const int w1[L1 + 1] = { 400, 300, 61, 150 };
    static const int a1[L1] = { GM_ACT_RELU, GM_ACT_TANH, GM_ACT_SIGMOID };
    double work = 0.0;
    for (int i = 0; i < L1; i++)
        work += (double)w1[i] * w1[i + 1];
    assert_true(work >= 3.0 * GM_TEAM_MIN_WORK / GM_TEAM_AWAKE_DIVISOR && work < 2.0 * GM_TEAM_MIN_WORK);
    static float x[400], alone[150];
    gm_test_fill(x, 400, -1.0f, 1.0f, 5);
    gm_param_table t = { 0 };
    gm_net net;
    build(&net, &t, L1, w1, a1, 3, NULL, 1);
    memcpy(alone, gm_net_infer(&net, &t, x, 1), sizeof alone);
    for (int size = 2; size <= 3; size++) {
        gm_team *team;
        assert_int_equal(gm_team_create(size, &team, "test"), GM_OK);
        net.team = team;
        assert_int_equal(gm_net_reserve(&net, 1, false, "t"), GM_OK);
        for (int call = 0; call < 200; call++)
            assert_memory_equal(gm_net_infer(&net, &t, x, 1), alone, sizeof alone);
        net.team = NULL;
        gm_team_free(team);
    }
    gm_net_free(&net);
    gm_params_free(&t);
}

/* a pass no backward follows reserves no gradients, whatever the team */
static void test_inference_reserves_no_gradients(void **state)
{
    (void)state;
    gm_team *team;
    assert_int_equal(gm_team_create(3, &team, "test"), GM_OK);
    gm_param_table t = { 0 };
    gm_net mlp;
    build(&mlp, &t, TL, team_widths, team_acts, 7, NULL, 1);
    mlp.team = team;
    assert_int_equal(gm_net_reserve(&mlp, 100, false, "t"), GM_OK);
    assert_int_equal(mlp.batch, 100);
    assert_int_equal(mlp.backward_batch, 1);
    assert_int_equal(mlp.members, 1);
    assert_int_equal(gm_net_reserve(&mlp, 50, true, "t"), GM_OK);
    assert_int_equal(mlp.batch, 100);
    assert_int_equal(mlp.backward_batch, 50);
    assert_int_equal(mlp.members, 3);
    gm_net_free(&mlp);
    gm_params_free(&t);
    gm_team_free(team);
}

/* build, one step at BATCH, free: every allocation an MLP's life makes */
static gm_status life_cycle(void *ctx)
{
    const xor_data *d = ctx;
    classifier c = { 0 };
    double loss;
    gm_status s = classifier_create(&c, 5);
    if (s == GM_OK)
        s = classifier_step(&c, d->x, d->y, BATCH, &loss);
    classifier_free(&c);
    return s;
}

static void test_every_allocation_failure(void **state)
{
    (void)state;
    xor_data d;
    gm_rng rng;
    gm_rng_init(&rng, 1);
    xor_batch(&rng, d.x, d.y, BATCH);
    /* the names table, one block of parameters, one workspace */
    assert_int_equal(gm_test_alloc_sweep(life_cycle, &d), 3);
}

/* ---- stacked batches: batch norm takes each batch alone ---- */

enum { SN = 5, SD = 4, SH = 6 };

static void stacked_net(gm_net *net, gm_param_table *t)
{
    const gm_layer_spec specs[] = {
        { .ops = &gm_layer_dense, .out = SH, .act = GM_ACT_IDENTITY, .no_bias = true },
        { .ops = &gm_layer_batchnorm, .out = SH, .act = GM_ACT_TANH },
        { .ops = &gm_layer_dense, .out = 2, .act = GM_ACT_IDENTITY },
    };
    gm_rng rng;
    gm_rng_init(&rng, 5);
    assert_int_equal(gm_net_init(net, t, "net", (gm_shape){ SD, 1, 1 }, 3, specs, 0.0f, "t"), GM_OK);
    assert_int_equal(gm_params_alloc(t, 1, "t"), GM_OK);
    gm_net_init_weights(net, t, &rng);
    /* gamma and beta away from 1 and 0, so that they show in every gradient */
    gm_test_fill(gm_param_data(t, 1), SH, 0.5f, 1.5f, 6);
    gm_test_fill(gm_param_data(t, 2), SH, -0.5f, 0.5f, 7);
    assert_int_equal(gm_net_reserve(net, 2 * SN, true, "t"), GM_OK);
}

static void test_stacked_batches_are_normalized_apart(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    gm_net net;
    stacked_net(&net, &t);
    float x[2 * SN * SD], dout[2 * SN * 2], dy[2 * SN * 2], dx[2 * SN * SD], out[2 * SN * 2];
    gm_test_fill(x, 2 * SN * SD, -1.0f, 1.0f, 8);
    /* the second batch elsewhere: pooled statistics would differ from each batch's */
    for (int i = SN * SD; i < 2 * SN * SD; i++)
        x[i] = 3.0f * x[i] + 2.0f;
    gm_test_fill(dout, 2 * SN * 2, -1.0f, 1.0f, 9);

    /* each batch in a pass of its own; the running statistics follow both */
    gm_net_begin_step(&net, &t);
    double want_grad[128], want_dx[2 * SN * SD], want_out[2 * SN * 2];
    assert_true(t.total <= 128);
    for (int b = 0; b < 2; b++) {
        as_double(gm_net_forward(&net, &t, x + b * SN * SD, SN), want_out + b * SN * 2, SN * 2);
        memcpy(dy, dout + b * SN * 2, SN * 2 * sizeof *dy);
        gm_net_backward(&net, &t, x + b * SN * SD, dy, dx, SN, b ? GM_GRADS_ADD : GM_GRADS_SET);
        as_double(dx, want_dx + b * SN * SD, SN * SD);
    }
    as_double(t.grad, want_grad, t.total);
    gm_net_commit(&net, &t);
    const float *mean = gm_param_data(&t, 3), *var = gm_param_data(&t, 4);
    double want_stats[2 * SH];
    as_double(mean, want_stats, SH);
    as_double(var, want_stats + SH, SH);

    /* the same two batches stacked */
    for (int j = 0; j < SH; j++) {
        gm_param_data(&t, 3)[j] = 0.0f;
        gm_param_data(&t, 4)[j] = 1.0f;
    }
    gm_net_begin_step(&net, &t);
    memcpy(out, gm_net_forward_stacked(&net, &t, x, 2 * SN, 2), sizeof out);
    memcpy(dy, dout, sizeof dy);
    gm_net_backward(&net, &t, x, dy, dx, 2 * SN, GM_GRADS_SET);
    gm_net_commit(&net, &t);
    gm_assert_close(out, want_out, 2 * SN * 2, 1e-6, 1e-6, "outputs");
    gm_assert_close(dx, want_dx, 2 * SN * SD, 1e-6, 1e-6, "input gradients");
    gm_assert_close(t.grad, want_grad, t.total, 1e-6, 1e-6, "parameter gradients");
    float stats[2 * SH];
    memcpy(stats, mean, SH * sizeof *stats);
    memcpy(stats + SH, var, SH * sizeof *stats);
    gm_assert_close(stats, want_stats, 2 * SH, 1e-7, 1e-7, "running statistics");

    /* and not as one batch: its output differs */
    gm_net_forward(&net, &t, x, 2 * SN);
    double differ = 0.0;
    for (int i = 0; i < 2 * SN * 2; i++)
        differ = fmax(differ, fabs(gm_net_output(&net)[i] - out[i]));
    assert_true(differ > 0.1);
    gm_net_free(&net);
    gm_params_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gradients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_learns_xor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_team_matches_the_caller_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_passes_run_on_the_caller_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_row_inference_is_the_callers_bit_for_bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inference_reserves_no_gradients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_step_allocates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stacked_batches_are_normalized_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_allocation_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
