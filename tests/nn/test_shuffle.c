/* Pixel shuffle: the kernels as permutations (every element moved once, to
 * where PyTorch's NCHW formula puts it, and the backward their inverse,
 * over uneven shares of rows), the layer alone and an ESPCN-style conv ->
 * shuffle stack against PyTorch on a checked-in fixture, that stack's
 * gradients against finite differences, a team against the caller alone,
 * and the factors and channel counts a declaration refuses. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/net.h"
#include "nn/shuffle.h"
#include "genmodel/common.h"
#include "gm_ref.h"
#include "gm_test.h"
#include "shuffle_fixture.h"

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static float *alloc_floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* Where y's element (n, hh, ww, c) of a (C, H*r, W*r) output comes from in
 * x, NHWC (N, H, W, C*r*r): PyTorch's out[c][h*r + i][w*r + j] =
 * in[c*r*r + i*r + j][h][w], written out independently of the kernels. */
static size_t source_of(size_t k, int C, int H, int W, int r)
{
    const size_t c = k % C, ww = k / C % ((size_t)W * r), hh = k / C / ((size_t)W * r) % ((size_t)H * r);
    const size_t n = k / C / ((size_t)W * r) / ((size_t)H * r);
    const size_t ch = c * r * r + hh % r * r + ww % r;
    return ((n * H + hh / r) * W + ww / r) * ((size_t)C * r * r) + ch;
}

/* ---- the kernels as permutations ---- */

static void check_permutation(int N, int C, int H, int W, int r)
{
    const size_t n = (size_t)N * C * r * r * H * W;
    float *x = alloc_floats(n), *y = alloc_floats(n), *dx = alloc_floats(n);
    int *seen = calloc(n, sizeof *seen);
    assert_non_null(seen);
    for (size_t k = 0; k < n; k++)
        x[k] = (float)k;  /* exact below 2^24: each value names its place */
    /* teams of 1 to 3 with uneven shares of the N*H input rows, some empty */
    for (int members = 1; members <= 3; members++) {
        const int rows = N * H;
        const int at[4] = { 0, members == 1 ? rows : members == 2 ? rows / 3 : rows < 1 ? rows : 1,
                            members == 3 ? (2 * rows + 2) / 3 : rows, rows };
        for (size_t k = 0; k < n; k++)
            y[k] = dx[k] = NAN;
        for (int m = 0; m < members; m++)
            gm_shuffle_forward(y, x, C, W, r, at[m], at[m + 1]);
        memset(seen, 0, n * sizeof *seen);
        for (size_t k = 0; k < n; k++) {
            assert_false(isnan(y[k]));
            seen[(size_t)y[k]]++;
            if ((size_t)y[k] != source_of(k, C, H, W, r))
                fail_msg("r %d: y[%zu] came from x[%zu], not x[%zu]", r, k, (size_t)y[k], source_of(k, C, H, W, r));
        }
        for (size_t k = 0; k < n; k++)
            assert_int_equal(seen[k], 1);
        /* the backward takes each gradient back where it came from */
        for (int m = members - 1; m >= 0; m--)
            gm_shuffle_backward(dx, y, C, W, r, at[m], at[m + 1]);
        assert_memory_equal(dx, x, n * sizeof *x);
    }
    free(x), free(y), free(dx), free(seen);
}

static void test_kernels_are_inverse_permutations(void **state)
{
    (void)state;
    for (int r = 2; r <= 8; r++)
        check_permutation(2, 1 + r % 3, 3, 2 + r % 2, r);
    check_permutation(1, 3, 1, 1, 3);   /* a single pixel */
    check_permutation(3, 2, 5, 4, 2);
}

/* ---- a network of one kind or two ---- */

static void build(gm_net *net, gm_param_table *t, gm_shape in, int n, const gm_layer_spec *specs, int N)
{
    gm_rng rng;
    gm_rng_init(&rng, 3);
    memset(t, 0, sizeof *t);
    assert_int_equal(gm_net_init(net, t, "sr", in, n, specs, 0.2f, "t"), GM_OK);
    assert_int_equal(gm_params_alloc(t, 1, "t"), GM_OK);
    gm_net_init_weights(net, t, &rng);
    assert_int_equal(gm_net_reserve(net, N, true, "t"), GM_OK);
}

static void release(gm_net *net, gm_param_table *t)
{
    gm_net_free(net);
    gm_params_free(t);
}

/* the ESPCN tail: a conv to C*r*r channels (k x k, same size), then the shuffle */
static void espcn(gm_layer_spec specs[2], int mid_c, int k, int r, int conv_act, int shuffle_act)
{
    specs[0] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = mid_c, .act = conv_act, .k = k, .stride = 1,
                                .pad = k / 2 };
    specs[1] = (gm_layer_spec){ .ops = &gm_layer_shuffle, .act = shuffle_act, .factor = r };
}

/* ---- PyTorch ---- */

/* A permutation moves floats without arithmetic: exact. */
static void test_shuffle_matches_torch(void **state)
{
    (void)state;
    const gm_layer_spec spec = { .ops = &gm_layer_shuffle, .act = GM_ACT_IDENTITY, .factor = FXP_R };
    gm_param_table t;
    gm_net net;
    build(&net, &t, (gm_shape){ FXP_IN_C, FXP_H, FXP_W }, 1, &spec, FXP_N);
    assert_int_equal(t.count, 0);
    assert_true(net.layer[0].out.c == FXP_IN_C / (FXP_R * FXP_R) && net.layer[0].out.h == FXP_H * FXP_R &&
                net.layer[0].out.w == FXP_W * FXP_R);
    float dy[sizeof fxp_dy / sizeof *fxp_dy], dx[sizeof fxp_dx / sizeof *fxp_dx];
    assert_memory_equal(gm_net_forward(&net, &t, fxp_x, FXP_N), fxp_y, sizeof fxp_y);
    memcpy(dy, fxp_dy, sizeof dy);
    gm_net_backward(&net, &t, fxp_x, dy, dx, FXP_N, GM_GRADS_SET);
    assert_memory_equal(dx, fxp_dx, sizeof dx);
    release(&net, &t);
}

/* PyTorch's conv weights, permuted to (out, kh, kw, in) alone, give its
 * output: the channel order ports. Sums of 36 products in float, added
 * in other orders (test_conv.c's FX_TOL). */
#define FX_TOL 1e-5

static void test_espcn_tail_matches_torch(void **state)
{
    (void)state;
    gm_layer_spec specs[2];
    espcn(specs, FXE_MID_C, FXE_K, FXE_R, GM_ACT_IDENTITY, GM_ACT_IDENTITY);
    gm_param_table t;
    gm_net net;
    build(&net, &t, (gm_shape){ FXE_IN_C, FXE_H, FXE_W }, 2, specs, FXE_N);
    memcpy(gm_param_data(&t, 0), fxe_w, sizeof fxe_w);
    memcpy(gm_param_data(&t, 1), fxe_b, sizeof fxe_b);
    enum { NY = sizeof fxe_y / sizeof *fxe_y, NX = sizeof fxe_x / sizeof *fxe_x };
    assert_int_equal(NY, FXE_N * gm_net_out(&net));
    float dy[NY], dx[NX];
    gm_assert_close_f(gm_net_forward(&net, &t, fxe_x, FXE_N), fxe_y, NY, FX_TOL, FX_TOL, "output");
    memcpy(dy, fxe_dy, sizeof dy);
    gm_net_backward(&net, &t, fxe_x, dy, dx, FXE_N, GM_GRADS_SET);
    gm_assert_close_f(dx, fxe_dx, NX, FX_TOL, FX_TOL, "input gradient");
    gm_assert_close_f(gm_param_grad(&t, 0), fxe_dw, sizeof fxe_dw / sizeof *fxe_dw, FX_TOL, FX_TOL, "weight gradient");
    gm_assert_close_f(gm_param_grad(&t, 1), fxe_db, FXE_MID_C, FX_TOL, FX_TOL, "bias gradient");
    release(&net, &t);
}

/* ---- gradients of conv -> shuffle against finite differences ---- */

enum { GN = 2, GC = 3, GH = 3, GW = 4, GR = 2, GK = 3, GM = 2 * GR * GR };  /* GM: the conv's channels */
#define G_SLOPE 0.2
enum { G_NW = GM * GK * GK * GC, G_NX = GN * GH * GW * GC, G_NY = GN * GH * GW * GM };

typedef struct { const double *w; int act; } fd_ctx;

/* p packs W (GM, GK, GK, GC), b (GM), x (GN, GH, GW, GC): a direct "same"
 * conv, then the shuffle by source_of and the shuffle's activation; the
 * sum of the output weighted by w */
static double stack_ref(const double *p, void *vc)
{
    const fd_ctx *c = vc;
    const double *W = p, *b = p + G_NW, *x = p + G_NW + GM;
    double mid[G_NY], s = 0;
    for (int n = 0; n < GN; n++)
        for (int h = 0; h < GH; h++)
            for (int w = 0; w < GW; w++)
                for (int o = 0; o < GM; o++) {
                    double a = b[o];
                    for (int kh = 0; kh < GK; kh++)
                        for (int kw = 0; kw < GK; kw++) {
                            const int ih = h + kh - GK / 2, iw = w + kw - GK / 2;
                            if (ih < 0 || ih >= GH || iw < 0 || iw >= GW)
                                continue;
                            for (int ci = 0; ci < GC; ci++)
                                a += W[((o * GK + kh) * GK + kw) * GC + ci] * x[((n * GH + ih) * GW + iw) * GC + ci];
                        }
                    mid[((n * GH + h) * GW + w) * GM + o] = a;
                }
    for (size_t k = 0; k < G_NY; k++)
        s += c->w[k] * gm_ref_act(c->act, G_SLOPE, mid[source_of(k, GM / (GR * GR), GH, GW, GR)]);
    return s;
}

static void test_stack_gradients(void **state)
{
    (void)state;
    static const int acts[] = { GM_ACT_IDENTITY, GM_ACT_TANH, GM_ACT_LEAKY_RELU };
    for (size_t a = 0; a < sizeof acts / sizeof *acts; a++) {
        gm_layer_spec specs[2];
        espcn(specs, GM, GK, GR, GM_ACT_IDENTITY, acts[a]);
        gm_param_table t;
        gm_net net;
        build(&net, &t, (gm_shape){ GC, GH, GW }, 2, specs, GN);
        assert_true(t.count == 2 && t.items[0].numel == G_NW && t.items[1].numel == GM);
        float x[G_NX], dout[G_NY], dx[G_NX], grads[G_NW + GM + G_NX];
        double p[G_NW + GM + G_NX], w[G_NY];
        gm_test_fill(x, G_NX, -1.0f, 1.0f, 4);
        gm_test_fill(dout, G_NY, -1.0f, 1.0f, 5);
        for (int i = 0; i < G_NY; i++)
            w[i] = dout[i];
        const size_t allocs = gm_test_alloc.allocs;
        gm_net_forward(&net, &t, x, GN);
        gm_net_backward(&net, &t, x, dout, dx, GN, GM_GRADS_SET);
        assert_int_equal(gm_test_alloc.allocs, allocs);  /* reserved: the passes allocate nothing */
        /* packed as stack_ref takes them: the table aligns its tensors */
        const float *from[3] = { gm_param_data(&t, 0), gm_param_data(&t, 1), x };
        const float *grad_of[3] = { gm_param_grad(&t, 0), gm_param_grad(&t, 1), dx };
        const int count[3] = { G_NW, GM, G_NX };
        for (int part = 0, at = 0; part < 3; at += count[part++])
            for (int i = 0; i < count[part]; i++) {
                p[at + i] = from[part][i];
                grads[at + i] = grad_of[part][i];
            }
        fd_ctx c = { w, acts[a] };
        gm_check_gradient(stack_ref, &c, p, G_NW + GM + G_NX, grads, 1e-3, 1e-5, "conv -> shuffle backward");
        release(&net, &t);
    }
}

/* ---- a team divides the rows and computes what the caller alone does ---- */

enum { TN = 96, TC = 4, TH = 8, TW = 6, TR = 3, TM = 2 * TR * TR };

typedef struct {
    float out[TN * TH * TW * TM], infer[TN * TH * TW * TM], dx[TN * TH * TW * TC], grad[TM * 9 * TC + TM];
} pass_result;

static void passes_on(gm_team *team, pass_result *r)
{
    static float x[TN * TH * TW * TC], dout[TN * TH * TW * TM];
    gm_test_fill(x, sizeof x / sizeof *x, -1.0f, 1.0f, 6);
    gm_test_fill(dout, sizeof dout / sizeof *dout, -1.0f, 1.0f, 7);
    gm_layer_spec specs[2];
    espcn(specs, TM, 3, TR, GM_ACT_RELU, GM_ACT_SIGMOID);
    gm_param_table t;
    gm_net net;
    build(&net, &t, (gm_shape){ TC, TH, TW }, 2, specs, TN);
    net.team = team;
    assert_int_equal(gm_net_reserve(&net, TN, true, "t"), GM_OK);
    memcpy(r->infer, gm_net_infer(&net, &t, x, TN), sizeof r->infer);
    memcpy(r->out, gm_net_forward(&net, &t, x, TN), sizeof r->out);
    gm_net_backward(&net, &t, x, dout, r->dx, TN, GM_GRADS_SET);
    memcpy(r->grad, t.grad, sizeof r->grad);
    release(&net, &t);
}

static void test_team_matches_the_caller_alone(void **state)
{
    (void)state;
    static pass_result alone, shared;
    passes_on(NULL, &alone);
    for (int size = 2; size <= 3; size++) {
        gm_team *team;
        assert_int_equal(gm_team_create(size, &team, "test"), GM_OK);
        passes_on(team, &shared);
        gm_team_free(team);
        /* the conv's products split by channels and its dx by samples,
         * the shuffle by rows: nothing is added in another order. But the
         * weight gradient's product over a member's share of the channels
         * may block its long reduction otherwise on OpenBLAS (bit-equal on
         * oneDNN): held to float rounding */
        assert_memory_equal(shared.out, alone.out, sizeof alone.out);
        assert_memory_equal(shared.infer, alone.infer, sizeof alone.infer);
        assert_memory_equal(shared.dx, alone.dx, sizeof alone.dx);
        gm_assert_close_f(shared.grad, alone.grad, sizeof alone.grad / sizeof *alone.grad, 1e-6, 1e-5,
                          "the weight gradient");
    }
}

/* ---- what a declaration refuses ---- */

static void expect_refused(gm_shape in, int factor, const char *words)
{
    const gm_layer_spec spec = { .ops = &gm_layer_shuffle, .act = GM_ACT_IDENTITY, .factor = factor };
    gm_param_table t = { 0 };
    gm_net net;
    assert_int_equal(gm_net_init(&net, &t, "sr", in, 1, &spec, 0.0f, "gm_test_shuffle"), GM_ERR_INVALID_ARG);
    const char *msg = gm_last_error();
    if (strncmp(msg, "gm_test_shuffle: sr's layer 0", 29) || !strstr(msg, words))
        fail_msg("message \"%s\" does not name the caller, the layer or \"%s\"", msg, words);
    gm_params_free(&t);
}

static void test_refused(void **state)
{
    (void)state;
    expect_refused((gm_shape){ 4, 2, 2 }, 0, "factor 0 is outside [2, 8]");
    expect_refused((gm_shape){ 4, 2, 2 }, 1, "factor 1 is outside [2, 8]");
    expect_refused((gm_shape){ 81, 2, 2 }, 9, "factor 9 is outside [2, 8]");
    expect_refused((gm_shape){ 12, 2, 2 }, 3, "channels divisible by 9, not 12");
    expect_refused((gm_shape){ 2, 2, 2 }, 2, "channels divisible by 4, not 2");
    expect_refused((gm_shape){ 4, 1 << 30, 1 }, 2, "too large");
    /* the bounds themselves are taken */
    for (int r = 2; r <= 8; r += 6) {
        const gm_layer_spec spec = { .ops = &gm_layer_shuffle, .act = GM_ACT_IDENTITY, .factor = r };
        gm_param_table t = { 0 };
        gm_net net;
        assert_int_equal(gm_net_init(&net, &t, "sr", (gm_shape){ r * r, 1, 2 }, 1, &spec, 0.0f, "t"), GM_OK);
        assert_true(net.layer[0].out.c == 1 && net.layer[0].out.h == r && net.layer[0].out.w == 2 * r);
        gm_params_free(&t);
    }
}

/* ---- one network on any image size ---- */

/* an upscaler's stack: conv, batch norm, conv, shuffle */
static void upscaler(gm_layer_spec specs[4])
{
    specs[0] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = 6, .act = GM_ACT_IDENTITY, .k = 5, .stride = 1,
                                .pad = 2, .no_bias = true };
    specs[1] = (gm_layer_spec){ .ops = &gm_layer_batchnorm, .act = GM_ACT_TANH };
    espcn(specs + 2, 2 * 4, 3, 2, GM_ACT_IDENTITY, GM_ACT_SIGMOID);
}

/* A network resized to another image size computes what one declared at
 * that size does, with the same weights; a smaller size after a larger
 * one takes the block it has. */
static void test_resize_runs_any_size(void **state)
{
    (void)state;
    enum { N = 3, C = 2 };
    static const int sizes[3][2] = { { 9, 4 }, { 5, 7 }, { 1, 1 } };
    gm_layer_spec specs[4];
    upscaler(specs);
    gm_param_table t, u;
    gm_net net, fresh;
    build(&net, &t, (gm_shape){ C, 5, 7 }, 4, specs, N);
    gm_team *team;
    assert_int_equal(gm_team_create(2, &team, "t"), GM_OK);
    for (int k = 0; k < 3; k++) {
        const int H = sizes[k][0], W = sizes[k][1];
        assert_int_equal(gm_net_resize(&net, H, W, "t"), GM_OK);
        net.team = team;
        assert_int_equal(gm_net_reserve(&net, N, true, "t"), GM_OK);
        build(&fresh, &u, (gm_shape){ C, H, W }, 4, specs, N);
        fresh.team = team;
        assert_int_equal(gm_net_reserve(&fresh, N, true, "t"), GM_OK);
        assert_true(net.layer[3].out.c == 2 && net.layer[3].out.h == 2 * H && net.layer[3].out.w == 2 * W);
        const size_t nx = (size_t)N * C * H * W, ny = (size_t)N * 2 * 4 * H * W;
        float *x = alloc_floats(nx), *d1 = alloc_floats(ny), *d2 = alloc_floats(ny);
        float *dx1 = alloc_floats(nx), *dx2 = alloc_floats(nx);
        gm_test_fill(x, nx, -1.0f, 1.0f, 11 + k);
        gm_test_fill(d1, ny, -1.0f, 1.0f, 21 + k);
        memcpy(d2, d1, ny * sizeof *d2);
        gm_net_begin_step(&net, &t);
        gm_net_begin_step(&fresh, &u);
        assert_memory_equal(gm_net_forward(&net, &t, x, N), gm_net_forward(&fresh, &u, x, N), ny * sizeof(float));
        gm_net_backward(&net, &t, x, d1, dx1, N, GM_GRADS_SET);
        gm_net_backward(&fresh, &u, x, d2, dx2, N, GM_GRADS_SET);
        assert_memory_equal(dx1, dx2, nx * sizeof *dx1);
        assert_memory_equal(t.grad, u.grad, t.total * sizeof *t.grad);
        assert_memory_equal(gm_net_infer(&net, &t, x, N), gm_net_infer(&fresh, &u, x, N), ny * sizeof(float));
        release(&fresh, &u);
        free(x), free(d1), free(d2), free(dx1), free(dx2);
    }
    gm_team_free(team);
    release(&net, &t);
}

/* A layer whose shape is fixed refuses, naming it, and the network stays
 * as it was and still runs. */
static void test_resize_refused(void **state)
{
    (void)state;
    const gm_layer_spec dense[2] = {
        { .ops = &gm_layer_conv, .out = 2, .act = GM_ACT_RELU, .k = 3, .stride = 2, .pad = 1 },
        { .ops = &gm_layer_dense, .out = 3, .act = GM_ACT_IDENTITY },
    };
    gm_param_table t;
    gm_net net;
    build(&net, &t, (gm_shape){ 1, 4, 4 }, 2, dense, 2);
    assert_int_equal(gm_net_resize(&net, 8, 8, "gm_test_resize"), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "layer 1 (dense) takes only its input of (2, 2, 2)"));
    assert_true(net.layer[0].in.h == 4 && net.layer[0].out.h == 2 && net.layer[1].in.h == 2);
    assert_int_equal(gm_net_resize(&net, 0, 8, "gm_test_resize"), GM_ERR_INVALID_ARG);
    float x[2 * 16];
    gm_test_fill(x, 32, 0.0f, 1.0f, 5);
    assert_non_null(gm_net_infer(&net, &t, x, 2));
    release(&net, &t);
    /* a reshape fixes the size after it */
    gm_layer_spec reshaped[2];
    espcn(reshaped, 4, 3, 2, GM_ACT_IDENTITY, GM_ACT_IDENTITY);
    reshaped[0].reshape = (gm_shape){ 1, 4, 4 * 4 };
    reshaped[1] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = 1, .act = GM_ACT_IDENTITY, .k = 1, .stride = 1 };
    build(&net, &t, (gm_shape){ 1, 4, 4 }, 2, reshaped, 2);
    assert_int_equal(gm_net_resize(&net, 3, 3, "gm_test_resize"), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "layer 0 (conv) takes only its input of (1, 4, 4)"));
    release(&net, &t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_are_inverse_permutations),
        cmocka_unit_test(test_shuffle_matches_torch),
        cmocka_unit_test(test_espcn_tail_matches_torch),
        cmocka_unit_test_setup_teardown(test_stack_gradients, setup, teardown),
        cmocka_unit_test(test_team_matches_the_caller_alone),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_resize_runs_any_size),
        cmocka_unit_test(test_resize_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
