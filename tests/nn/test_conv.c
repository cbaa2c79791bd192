/* Conv and transposed conv kernels: forward against direct convolution
 * loops in double, gradients against finite differences of those loops,
 * made as teams of 1, 2 and 3 members make them (uneven channel shares,
 * some empty, each writing only its own floats), PyTorch's Conv2d and
 * ConvTranspose2d on a checked-in fixture, and the geometry's checks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/conv.h"
#include "genmodel/common.h"
#include "gm_ref.h"
#include "gm_test.h"
#include "conv_fixture.h"

#define SLOPE 0.2

/* cmocka's assert_float_equal passes a NaN (both of its comparisons are
 * false): this one fails it */
#define assert_near(got, want, tol) assert_true(fabs((double)(got) - (double)(want)) <= (tol))

typedef struct conv_case {
    bool transposed;
    int N, in_c, in_h, in_w, out_c, k, stride, pad, out_pad, act;
} conv_case;

/* odd sizes, strides 1 to 3, padding 0 to 2, channel counts that 2 and 3
 * do not divide; the last transposed one has padding above output_padding,
 * so that its border taps fall outside the output */
static const conv_case cases[] = {
    { false, 2, 3, 7, 5, 5, 3, 1, 0, 0, GM_ACT_IDENTITY },
    { false, 2, 5, 9, 8, 7, 4, 2, 1, 0, GM_ACT_LEAKY_RELU },
    { false, 3, 1, 11, 10, 3, 3, 3, 2, 0, GM_ACT_TANH },
    { false, 1, 7, 6, 7, 1, 1, 2, 0, 0, GM_ACT_IDENTITY },
    { false, 2, 2, 5, 5, 5, 5, 2, 2, 0, GM_ACT_IDENTITY },
    /* channels enough for the product the usual way round (conv.c's FEW_CHANNELS) */
    { false, 2, 3, 5, 4, 17, 2, 2, 1, 0, GM_ACT_LEAKY_RELU },
    /* stride 1 into fewer channels: the input gradient as a correlation,
     * at "same" padding, none, and K-1 */
    { false, 3, 7, 6, 5, 3, 3, 1, 1, 0, GM_ACT_TANH },
    { false, 2, 8, 7, 6, 3, 3, 1, 0, 0, GM_ACT_LEAKY_RELU },
    { false, 2, 4, 3, 4, 2, 2, 1, 1, 0, GM_ACT_IDENTITY },
    { false, 1, 5, 5, 4, 2, 5, 1, 2, 0, GM_ACT_IDENTITY },
    { true, 2, 5, 4, 3, 3, 4, 2, 1, 0, GM_ACT_IDENTITY },
    { true, 2, 3, 3, 5, 7, 3, 3, 2, 2, GM_ACT_LEAKY_RELU },
    { true, 1, 1, 5, 4, 5, 3, 2, 0, 1, GM_ACT_TANH },
    { true, 3, 7, 2, 2, 2, 2, 1, 0, 0, GM_ACT_IDENTITY },
    { true, 2, 2, 3, 3, 5, 5, 2, 2, 1, GM_ACT_IDENTITY },
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Uneven shares of n for teams of 1 to 3 members, empty ones among them
 * where n is small: share i is [at[i], at[i + 1]). */
static void split(int n, int members, int at[4])
{
    at[0] = 0;
    at[members] = n;
    if (members == 2)
        at[1] = n / 3;
    if (members == 3) {
        at[1] = n < 1 ? n : 1;
        at[2] = (2 * n + 2) / 3 < n ? (2 * n + 2) / 3 : n;
    }
}

static float *alloc_floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static void fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
}

/* Fails unless now equals before (bit for bit) outside columns [c0, c1)
 * of a matrix of rows of ld floats: the share wrote nothing else. */
static void assert_only_columns(const float *now, const float *before, size_t rows, int ld, int c0, int c1,
                                const char *what)
{
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < ld; c++) {
            size_t i = r * ld + c;
            if ((c < c0 || c >= c1) && memcmp(&now[i], &before[i], sizeof now[i]))
                fail_msg("%s: wrote row %zu column %d, outside its share [%d, %d)", what, r, c, c0, c1);
        }
}

/* --- the direct reference, in double -------------------------------- */

static int out_size(const gm_conv_geom *g, int N) { return N * gm_conv_out_size(g); }
static int in_size(const gm_conv_geom *g, int N) { return N * gm_conv_in_size(g); }
static int weight_size(const gm_conv_geom *g) { return g->out_c * g->k * g->k * g->in_c; }

/* y = f(conv(x, W) + b), every layout as the kernels', computed from the
 * definition: a conv's output pixel sums its taps over the input; a
 * transposed conv's input pixel adds its taps into the output */
static void ref_forward(const gm_conv_geom *g, int N, int act, const double *W, const double *b, const double *x,
                        double *y)
{
    const int K = g->k, S = g->stride, P = g->pad, ci = g->in_c, co = g->out_c;
    for (int i = 0; i < out_size(g, N); i++)
        y[i] = b[i % co];
    for (int n = 0; n < N; n++)
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                /* (sy, sx) runs over the side the taps start from */
                const int sh = g->transposed ? g->in_h : g->out_h, sw = g->transposed ? g->in_w : g->out_w;
                const int bh = g->transposed ? g->out_h : g->in_h, bw = g->transposed ? g->out_w : g->in_w;
                for (int sy = 0; sy < sh; sy++)
                    for (int sx = 0; sx < sw; sx++) {
                        const int by = sy * S - P + kh, bx = sx * S - P + kw;
                        if (by < 0 || by >= bh || bx < 0 || bx >= bw)
                            continue;
                        const size_t small = ((size_t)n * sh + sy) * sw + sx, big = ((size_t)n * bh + by) * bw + bx;
                        const double *in = x + (g->transposed ? small : big) * ci;
                        double *out = y + (g->transposed ? big : small) * co;
                        for (int o = 0; o < co; o++)
                            for (int c = 0; c < ci; c++)
                                out[o] += W[(((size_t)o * K + kh) * K + kw) * ci + c] * in[c];
                    }
            }
    for (int i = 0; i < out_size(g, N); i++)
        y[i] = gm_ref_act(act, SLOPE, y[i]);
}

typedef struct grad_ctx {
    const gm_conv_geom *g;
    int N, act;
    const double *w;  /* the weights of the scalar: f = sum(w * y) */
    double *y;        /* scratch */
} grad_ctx;

/* p packs W, b, x */
static double weighted_output(const double *p, void *vc)
{
    const grad_ctx *c = vc;
    const int nw = weight_size(c->g);
    ref_forward(c->g, c->N, c->act, p, p + nw, p + nw + c->g->out_c, c->y);
    double s = 0;
    for (int i = 0; i < out_size(c->g, c->N); i++)
        s += c->w[i] * c->y[i];
    return s;
}

/* --- the kernels, as a team of members would call them ---------------- */

typedef struct bufs {
    float *col;      /* transposed: ycol / dycol (rows, out_c*K*K) */
    float *chunks;   /* conv: the members' scratch, gm_conv_chunk_floats each */
    size_t each;
    float *parts[3]; /* conv: the members' dcol parts; transposed: their dx parts */
} bufs;

static size_t col_floats(const gm_conv_geom *g, int N)
{
    return g->transposed ? (size_t)N * g->in_h * g->in_w * g->out_c * g->k * g->k
                         : (size_t)N * g->out_h * g->out_w * g->k * g->k * g->in_c;
}

static void team_forward(const gm_conv_geom *g, int N, int act, int members, const float *W, const float *b,
                         const float *x, float *y, bufs *B)
{
    const int kk = g->k * g->k, ny = out_size(g, N);
    int at[4];
    float *before = alloc_floats(col_floats(g, N) > (size_t)ny ? col_floats(g, N) : (size_t)ny);
    fill_nan(y, ny);
    fill_nan(B->col, col_floats(g, N));
    fill_nan(B->chunks, 3 * B->each);
    split(g->out_c, members, at);
    for (int m = 0; m < members; m++) {
        memcpy(before, y, ny * sizeof *before);
        if (g->transposed) {
            float *ycol_before = alloc_floats(col_floats(g, N));
            memcpy(ycol_before, B->col, col_floats(g, N) * sizeof *before);
            gm_convt_forward_share(y, B->col, x, W, b, g, N, at[m], at[m + 1], act, (float)SLOPE);
            assert_only_columns(B->col, ycol_before, (size_t)N * g->in_h * g->in_w, g->out_c * kk, at[m] * kk,
                                at[m + 1] * kk, "convt ycol");
            free(ycol_before);
        } else {
            gm_conv_forward_share(y, B->chunks + m * B->each, x, W, b, g, N, 0, N, at[m], at[m + 1], act,
                                  (float)SLOPE);
        }
        assert_only_columns(y, before, ny / g->out_c, g->out_c, at[m], at[m + 1], "forward share");
    }
    free(before);
}

/* grads packs dW, db, dx, as the reference's parameters; dy is consumed */
static void team_backward(const gm_conv_geom *g, int N, int act, int members, bool accumulate, const float *W,
                          const float *x, const float *y, float *dy, float *grads, bufs *B)
{
    const int kk = g->k * g->k, nw = weight_size(g), nx = in_size(g, N);
    float *dW = grads, *db = grads + nw, *dx = grads + nw + g->out_c;
    float *before = alloc_floats((size_t)nw + g->out_c);
    int at[4];
    split(g->out_c, members, at);
    if (g->transposed)
        fill_nan(B->col, col_floats(g, N));
    for (int m = 0; m < members; m++) {
        memcpy(before, grads, ((size_t)nw + g->out_c) * sizeof *before);
        fill_nan(B->parts[m], g->transposed ? (size_t)nx : col_floats(g, N));
        if (g->transposed)
            gm_convt_backward_share(B->parts[m], dW, db, accumulate, dy, B->col, x, W, y, g, N, at[m], at[m + 1],
                                    act, (float)SLOPE);
        else
            gm_conv_backward_share(B->parts[m], dW, db, accumulate, dy, B->chunks + m * B->each, x, W, y, g, N,
                                   at[m], at[m + 1], act, (float)SLOPE);
        assert_only_columns(dW, before, 1, nw, at[m] * kk * g->in_c, at[m + 1] * kk * g->in_c, "dW rows");
        assert_only_columns(db, before + nw, 1, g->out_c, at[m], at[m + 1], "db entries");
    }
    if (g->transposed) {
        for (int i = 0; i < nx; i++) {
            dx[i] = B->parts[0][i];
            for (int m = 1; m < members; m++)
                dx[i] += B->parts[m][i];
        }
    } else {
        /* the members' parts, folded by input channels */
        const float *parts[3] = { B->parts[0], B->parts[1], B->parts[2] };
        float *dx_before = alloc_floats(nx);
        fill_nan(dx, nx);
        split(g->in_c, members, at);
        for (int m = 0; m < members; m++) {
            memcpy(dx_before, dx, nx * sizeof *dx);
            gm_conv_col2im(dx, parts, members, g, N, at[m], at[m + 1]);
            assert_only_columns(dx, dx_before, nx / g->in_c, g->in_c, at[m], at[m + 1], "col2im channels");
        }
        free(dx_before);
    }
    free(before);
}

/* The input gradient as a correlation (gm_conv_dx_by_correlation), as a
 * team makes it: the members flip their channels' rows of W, then each
 * writes its samples of dx alone, from the pre-activation dy; against
 * want, the folded one's. False, checking nothing, for a geometry that
 * does not take it. */
static bool check_correlation(const gm_conv_geom *g, int N, int members, const float *W, const float *dy,
                              const float *want)
{
    if (!gm_conv_dx_by_correlation(g))
        return false;
    const int nx = in_size(g, N), sample = in_size(g, 1), nf = weight_size(g);
    float *Wf = alloc_floats(nf), *dx = alloc_floats(nx), *before = alloc_floats(nx);
    /* no larger than col (the layer's scratch) */
    float *dycol = alloc_floats(col_floats(g, N));
    double *f = malloc(nx * sizeof *f);
    assert_non_null(f);
    int at[4];
    fill_nan(Wf, nf);
    fill_nan(dx, nx);
    split(g->out_c, members, at);
    for (int m = 0; m < members; m++)
        gm_conv_flip_share(Wf, W, g, at[m], at[m + 1]);
    /* row (kh, kw, o) is W[o, K-1-kh, K-1-kw, :] */
    for (int r = 0; r < nf / g->in_c; r++) {
        const int kh = r / (g->k * g->out_c), kw = r / g->out_c % g->k, o = r % g->out_c;
        assert_memory_equal(Wf + (size_t)r * g->in_c,
                            W + (((size_t)o * g->k + g->k - 1 - kh) * g->k + g->k - 1 - kw) * g->in_c,
                            g->in_c * sizeof *Wf);
    }
    split(N, members, at);
    for (int m = 0; m < members; m++) {
        memcpy(before, dx, nx * sizeof *dx);
        gm_conv_dx_samples(dx, dycol, dy, Wf, g, at[m], at[m + 1]);
        assert_only_columns(dx, before, 1, nx, at[m] * sample, at[m + 1] * sample, "dx samples");
    }
    for (int i = 0; i < nx; i++)
        f[i] = want[i];
    gm_assert_close(dx, f, nx, 1e-5, 1e-5, "dx as a correlation");
    free(Wf), free(dx), free(before), free(dycol), free(f);
    return true;
}

/* true when the case took the input gradient as a correlation too */
static bool check_case(const conv_case *cs)
{
    gm_conv_geom g;
    assert_int_equal(gm_conv_geom_init(&g, cs->transposed, cs->in_c, cs->in_h, cs->in_w, cs->out_c, cs->k,
                                       cs->stride, cs->pad, cs->out_pad, "t"), GM_OK);
    const int N = cs->N, nw = weight_size(&g), nx = in_size(&g, N), ny = out_size(&g, N);
    const size_t np = (size_t)nw + g.out_c + nx;
    float *p = alloc_floats(np), *y = alloc_floats(ny), *dy = alloc_floats(ny), *dy0 = alloc_floats(ny);
    float *grads = alloc_floats(np), *first = alloc_floats(np);
    double *pd = malloc(np * sizeof *pd), *want = malloc(ny * sizeof *want), *w = malloc(ny * sizeof *w);
    assert_true(pd && want && w);
    gm_test_fill(p, np, -1.0f, 1.0f, 7 + cs->in_c);
    gm_test_fill(dy0, ny, -1.0f, 1.0f, 8 + cs->out_c);
    for (size_t i = 0; i < np; i++)
        pd[i] = p[i];
    for (int i = 0; i < ny; i++)
        w[i] = dy0[i];
    const float *W = p, *b = p + nw, *x = p + nw + g.out_c;
    const size_t each = g.transposed ? 0 : gm_conv_chunk_floats(&g, N);
    bufs B = { alloc_floats(col_floats(&g, N)), alloc_floats(3 * each), each, { 0 } };
    for (int m = 0; m < 3; m++)
        B.parts[m] = alloc_floats(g.transposed ? (size_t)nx : col_floats(&g, N));

    ref_forward(&g, N, cs->act, pd, pd + nw, pd + nw + g.out_c, want);
    bool correlated = false;
    for (int members = 1; members <= 3; members++) {
        team_forward(&g, N, cs->act, members, W, b, x, y, &B);
        gm_assert_close(y, want, ny, 1e-5, 1e-5, "forward");

        memcpy(dy, dy0, ny * sizeof *dy);
        fill_nan(grads, np);  /* written over, whatever they held */
        team_backward(&g, N, cs->act, members, false, W, x, y, dy, grads, &B);
        /* dy is the pre-activation's gradient now; the folded dx of one
         * member was checked against finite differences */
        correlated = check_correlation(&g, N, members, W, dy, (members == 1 ? grads : first) + nw + g.out_c);
        if (members == 1) {
            grad_ctx c = { &g, N, cs->act, w, malloc(ny * sizeof(double)) };
            assert_non_null(c.y);
            gm_check_gradient(weighted_output, &c, pd, np, grads, 1e-3, 1e-5, "backward");
            free(c.y);
            memcpy(first, grads, np * sizeof *first);
        } else {
            /* the same sums, added in another order */
            double *f = malloc(np * sizeof *f);
            assert_non_null(f);
            for (size_t i = 0; i < np; i++)
                f[i] = first[i];
            gm_assert_close(grads, f, np, 1e-5, 1e-5, "backward across teams");
            free(f);
        }
    }
    /* added to what the parameter gradients held */
    for (size_t i = 0; i < np; i++)
        grads[i] = 1.0f;
    memcpy(dy, dy0, ny * sizeof *dy);
    team_forward(&g, N, cs->act, 2, W, b, x, y, &B);
    team_backward(&g, N, cs->act, 2, true, W, x, y, dy, grads, &B);
    for (int i = 0; i < nw + g.out_c; i++)
        assert_near(grads[i] - 1.0f, first[i], 1e-5);

    free(B.col);
    free(B.chunks);
    for (int m = 0; m < 3; m++)
        free(B.parts[m]);
    free(p), free(y), free(dy), free(dy0), free(grads), free(first), free(pd), free(want), free(w);
    return correlated;
}

static void test_cases(void **state)
{
    (void)state;
    int correlated = 0;
    for (size_t i = 0; i < N_CASES; i++)
        correlated += check_case(&cases[i]);
    assert_int_equal(correlated, 4);
}

/* Convs large enough for several chunks (conv.h): samples cut into pieces
 * (24 x 24 pixels of 288 floats, 648 KB a sample), and groups of 16
 * samples with a short last one (5 x 5 pixels); and one of 17 channels,
 * whose product goes the usual way round. Against sums in double:
 * the forward (as in test_cases), the weights' gradient (sums of
 * N*out_h*out_w = 1728 products of values in [-1, 1], whose float rounding
 * stays some 1e-5 below 1e-4), and the input gradient as a correlation
 * against the folded one (sums of at most K*K*out_c = 72: 1e-5). Rows
 * split as gm_net_infer's and the input gradient's members split them, at
 * sample 16, make the same products as a caller alone, bit for bit. */
static void test_chunks(void **state)
{
    (void)state;
    static const conv_case big[] = {
        { false, 3, 32, 24, 24, 8, 3, 1, 1, 0, GM_ACT_TANH },
        { false, 20, 4, 5, 5, 3, 3, 1, 1, 0, GM_ACT_LEAKY_RELU },
        { false, 2, 20, 6, 6, 17, 3, 1, 1, 0, GM_ACT_TANH },
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        const conv_case *cs = &big[i];
        gm_conv_geom g;
        assert_int_equal(gm_conv_geom_init(&g, false, cs->in_c, cs->in_h, cs->in_w, cs->out_c, cs->k, cs->stride,
                                           cs->pad, 0, "t"), GM_OK);
        assert_true(gm_conv_dx_by_correlation(&g));
        const int N = cs->N, K = g.k, C = g.in_c, O = g.out_c, nw = weight_size(&g), nx = in_size(&g, N);
        const int ny = out_size(&g, N);
        const size_t np = (size_t)nw + O + nx, each = gm_conv_chunk_floats(&g, N);
        float *p = alloc_floats(np), *y = alloc_floats(ny), *y2 = alloc_floats(ny), *dy = alloc_floats(ny);
        float *grads = alloc_floats((size_t)nw + O), *dcol = alloc_floats(col_floats(&g, N));
        float *Wf = alloc_floats(nw), *dx = alloc_floats(nx), *dx2 = alloc_floats(nx);
        float *scratch = alloc_floats(2 * each);
        double *pd = malloc(np * sizeof *pd), *want = malloc(ny * sizeof *want);
        double *wg = calloc((size_t)nw + O, sizeof *wg), *wx = malloc(nx * sizeof *wx);
        assert_true(pd && want && wg && wx);
        gm_test_fill(p, np, -1.0f, 1.0f, 11);
        gm_test_fill(dy, ny, -1.0f, 1.0f, 12);
        for (size_t j = 0; j < np; j++)
            pd[j] = p[j];
        const float *W = p, *b = p + nw, *x = p + nw + O;
        ref_forward(&g, N, cs->act, pd, pd + nw, pd + nw + O, want);

        gm_conv_forward_share(y, scratch, x, W, b, &g, N, 0, N, 0, O, cs->act, (float)SLOPE);
        gm_assert_close(y, want, ny, 1e-5, 1e-5, "forward by chunks");
        fill_nan(y2, ny);
        gm_conv_forward_share(y2, scratch + each, x, W, b, &g, N, N > 16 ? 16 : 0, N, 0, O, cs->act, (float)SLOPE);
        gm_conv_forward_share(y2, scratch, x, W, b, &g, N, 0, N > 16 ? 16 : 0, 0, O, cs->act, (float)SLOPE);
        assert_memory_equal(y2, y, ny * sizeof *y);

        gm_conv_backward_share(dcol, grads, grads + nw, false, dy, scratch, x, W, y, &g, N, 0, O, cs->act,
                               (float)SLOPE);
        /* dy holds the pre-activation's gradient: dW and db from it and x */
        for (int n = 0; n < N; n++)
            for (int oy = 0; oy < g.out_h; oy++)
                for (int ox = 0; ox < g.out_w; ox++) {
                    const float *d = dy + (((size_t)n * g.out_h + oy) * g.out_w + ox) * O;
                    for (int o = 0; o < O; o++)
                        wg[nw + o] += d[o];
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++) {
                            const int iy = oy - g.pad + kh, ix = ox - g.pad + kw;
                            if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w)
                                continue;
                            const float *in = x + (((size_t)n * g.in_h + iy) * g.in_w + ix) * C;
                            for (int o = 0; o < O; o++)
                                for (int c = 0; c < C; c++)
                                    wg[(((size_t)o * K + kh) * K + kw) * C + c] += (double)d[o] * in[c];
                        }
                }
        gm_assert_close(grads, wg, (size_t)nw + O, 1e-4, 1e-5, "weight gradient by chunks");

        const float *parts[1] = { dcol };
        gm_conv_col2im(dx, parts, 1, &g, N, 0, C);
        gm_conv_flip_share(Wf, W, &g, 0, O);
        gm_conv_dx_samples(dx2, scratch, dy, Wf, &g, 0, N);
        for (int j = 0; j < nx; j++)
            wx[j] = dx[j];
        gm_assert_close(dx2, wx, nx, 1e-5, 1e-5, "dx as a correlation, by chunks");
        memcpy(dx, dx2, nx * sizeof *dx);
        fill_nan(dx2, nx);
        gm_conv_dx_samples(dx2, scratch + each, dy, Wf, &g, N > 16 ? 16 : 0, N);
        gm_conv_dx_samples(dx2, scratch, dy, Wf, &g, 0, N > 16 ? 16 : 0);
        assert_memory_equal(dx2, dx, nx * sizeof *dx);
        free(p), free(y), free(y2), free(dy), free(grads), free(dcol), free(Wf), free(dx), free(dx2), free(scratch);
        free(pd), free(want), free(wg), free(wx);
    }
}

/* --- PyTorch ----------------------------------------------------------- */

/* Float32 on both sides, summed in other orders. Each value is a sum of
 * at most 48 products (K*K*in_c terms, or N*out_h*out_w for dW and db),
 * whose float rounding grows about as sqrt(48) * 2^-24 times the sum of
 * the terms' sizes (at most ~15 here): some 1e-6 (the largest difference
 * seen is 1.7e-6, on a dW of 3.7). A wrong tap or a misplaced channel
 * moves values by 1e-2 or more. */
#define FX_TOL 1e-5

static void test_conv_matches_torch(void **state)
{
    (void)state;
    gm_conv_geom g;
    assert_int_equal(gm_conv_geom_init(&g, false, FXC_IN_C, FXC_H, FXC_W, FXC_OUT_C, FXC_K, FXC_S, FXC_P, 0, "t"),
                     GM_OK);
    const int rows = FXC_N * g.out_h * g.out_w, D = FXC_K * FXC_K * FXC_IN_C;
    float *scratch = alloc_floats(gm_conv_chunk_floats(&g, FXC_N)), *dcol = alloc_floats((size_t)rows * D);
    float y[sizeof fxc_y / sizeof *fxc_y], dy[sizeof fxc_dy / sizeof *fxc_dy];
    float dx[sizeof fxc_dx / sizeof *fxc_dx], dW[sizeof fxc_dw / sizeof *fxc_dw], db[FXC_OUT_C];
    assert_int_equal(sizeof y / sizeof *y, (size_t)out_size(&g, FXC_N));
    gm_conv_forward_share(y, scratch, fxc_x, fxc_w, fxc_b, &g, FXC_N, 0, FXC_N, 0, FXC_OUT_C, GM_ACT_IDENTITY, 0.0f);
    gm_assert_close_f(y, fxc_y, sizeof y / sizeof *y, FX_TOL, FX_TOL, "Conv2d output");
    memcpy(dy, fxc_dy, sizeof dy);
    gm_conv_backward_share(dcol, dW, db, false, dy, scratch, fxc_x, fxc_w, y, &g, FXC_N, 0, FXC_OUT_C,
                           GM_ACT_IDENTITY, 0.0f);
    const float *parts[1] = { dcol };
    gm_conv_col2im(dx, parts, 1, &g, FXC_N, 0, FXC_IN_C);
    gm_assert_close_f(dx, fxc_dx, sizeof dx / sizeof *dx, FX_TOL, FX_TOL, "Conv2d input gradient");
    gm_assert_close_f(dW, fxc_dw, sizeof dW / sizeof *dW, FX_TOL, FX_TOL, "Conv2d weight gradient");
    gm_assert_close_f(db, fxc_db, FXC_OUT_C, FX_TOL, FX_TOL, "Conv2d bias gradient");
    free(scratch);
    free(dcol);
}

static void test_convt_matches_torch(void **state)
{
    (void)state;
    gm_conv_geom g;
    assert_int_equal(gm_conv_geom_init(&g, true, FXT_IN_C, FXT_H, FXT_W, FXT_OUT_C, FXT_K, FXT_S, FXT_P, FXT_OP,
                                       "t"), GM_OK);
    float *ycol = alloc_floats(col_floats(&g, FXT_N));
    float y[sizeof fxt_y / sizeof *fxt_y], dy[sizeof fxt_dy / sizeof *fxt_dy];
    float dx[sizeof fxt_dx / sizeof *fxt_dx], dW[sizeof fxt_dw / sizeof *fxt_dw], db[FXT_OUT_C];
    assert_int_equal(sizeof y / sizeof *y, (size_t)out_size(&g, FXT_N));
    gm_convt_forward_share(y, ycol, fxt_x, fxt_w, fxt_b, &g, FXT_N, 0, FXT_OUT_C, GM_ACT_IDENTITY, 0.0f);
    gm_assert_close_f(y, fxt_y, sizeof y / sizeof *y, FX_TOL, FX_TOL, "ConvTranspose2d output");
    memcpy(dy, fxt_dy, sizeof dy);
    gm_convt_backward_share(dx, dW, db, false, dy, ycol, fxt_x, fxt_w, y, &g, FXT_N, 0, FXT_OUT_C, GM_ACT_IDENTITY,
                            0.0f);
    gm_assert_close_f(dx, fxt_dx, sizeof dx / sizeof *dx, FX_TOL, FX_TOL, "ConvTranspose2d input gradient");
    gm_assert_close_f(dW, fxt_dw, sizeof dW / sizeof *dW, FX_TOL, FX_TOL, "ConvTranspose2d weight gradient");
    gm_assert_close_f(db, fxt_db, FXT_OUT_C, FX_TOL, FX_TOL, "ConvTranspose2d bias gradient");
    free(ycol);
}

/* --- geometry ---------------------------------------------------------- */

static void test_geometry_sizes(void **state)
{
    (void)state;
    gm_conv_geom g;
    /* the DCGAN's: 28 -> 14 -> 7 and back */
    assert_int_equal(gm_conv_geom_init(&g, false, 1, 28, 28, 64, 4, 2, 1, 0, "t"), GM_OK);
    assert_int_equal(g.out_h, 14);
    assert_int_equal(g.out_w, 14);
    assert_int_equal(gm_conv_geom_init(&g, true, 128, 7, 7, 64, 4, 2, 1, 0, "t"), GM_OK);
    assert_int_equal(g.out_h, 14);
    assert_true(g.transposed && g.in_c == 128 && g.out_c == 64 && g.k == 4 && g.stride == 2 && g.pad == 1);
    /* floors, as PyTorch: (10 + 2 - 3) / 3 + 1 = 4, (11 + 4 - 5) / 2 + 1 = 6 */
    assert_int_equal(gm_conv_geom_init(&g, false, 2, 10, 11, 3, 3, 3, 1, 0, "t"), GM_OK);
    assert_int_equal(g.out_h, 4);
    assert_int_equal(g.out_w, 4);
    assert_int_equal(gm_conv_geom_init(&g, false, 2, 11, 11, 3, 5, 2, 2, 0, "t"), GM_OK);
    assert_int_equal(g.out_h, 6);
    /* (5 - 1) * 3 - 2 * 2 + 3 + 2 = 13; padding above output_padding trims */
    assert_int_equal(gm_conv_geom_init(&g, true, 2, 5, 4, 3, 3, 3, 2, 2, "t"), GM_OK);
    assert_int_equal(g.out_h, 13);
    assert_int_equal(g.out_w, 10);
    assert_int_equal(gm_conv_in_size(&g), 2 * 5 * 4);
    assert_int_equal(gm_conv_out_size(&g), 3 * 13 * 10);
    /* the kernel exactly as wide as the padded input: one pixel */
    assert_int_equal(gm_conv_geom_init(&g, false, 1, 3, 3, 1, 5, 4, 1, 0, "t"), GM_OK);
    assert_int_equal(g.out_h, 1);
}

static void expect_refused(bool tr, int in_c, int in_h, int in_w, int out_c, int k, int s, int p, int op,
                           const char *field)
{
    gm_conv_geom g, before;
    memset(&g, 0x5a, sizeof g);
    before = g;
    assert_int_equal(gm_conv_geom_init(&g, tr, in_c, in_h, in_w, out_c, k, s, p, op, "gm_test_conv"),
                     GM_ERR_INVALID_ARG);
    const char *msg = gm_last_error();
    if (strncmp(msg, "gm_test_conv: ", 14) || !strstr(msg, field))
        fail_msg("message \"%s\" does not begin with the caller or name \"%s\"", msg, field);
    assert_memory_equal(&g, &before, sizeof g);
}

static void test_geometry_refused(void **state)
{
    (void)state;
    expect_refused(false, 0, 5, 5, 1, 3, 1, 0, 0, "in_c");
    expect_refused(false, 1, 0, 5, 1, 3, 1, 0, 0, "in_h");
    expect_refused(false, 1, 5, -1, 1, 3, 1, 0, 0, "in_w");
    expect_refused(true, 1, 5, 5, 0, 3, 1, 0, 0, "out_c");
    expect_refused(false, 1, 5, 5, 1, 0, 1, 0, 0, "kernel");
    expect_refused(false, 1, 5, 5, 1, 3, 0, 0, 0, "stride");
    expect_refused(false, 1, 5, 5, 1, 3, 1, -1, 0, "padding");
    expect_refused(false, 1, GM_MAX_DIM + 1, 5, 1, 3, 1, 0, 0, "in_h");
    expect_refused(false, 1, 5, 5, 1, 3, 1, GM_MAX_DIM + 1, 0, "padding");
    /* output_padding: below the stride (PyTorch's rule), a conv's none */
    expect_refused(true, 1, 5, 5, 1, 3, 2, 0, 2, "output_padding");
    expect_refused(true, 1, 5, 5, 1, 3, 1, 0, 1, "output_padding");
    expect_refused(true, 1, 5, 5, 1, 3, 2, 0, -1, "output_padding");
    expect_refused(false, 1, 5, 5, 1, 3, 2, 0, 1, "output_padding");
    /* no output: a kernel wider than the padded input (which C's division
     * toward zero would round up to one pixel), or a transposed conv
     * padded away */
    expect_refused(false, 1, 4, 9, 1, 7, 2, 1, 0, "output would be 0x3");
    expect_refused(false, 1, 9, 4, 1, 7, 3, 1, 0, "output would be 2x0");
    expect_refused(true, 1, 1, 1, 1, 1, 1, 1, 0, "output would be -1x-1");
    expect_refused(true, 1, 3, 3, 1, 2, 1, 3, 0, "output would be -2x-2");
    /* sizes whose products would overflow an int */
    expect_refused(false, 4096, 4096, 4096, 1, 1, 1, 0, 0, "input sample");
    expect_refused(true, 1, 4096, 4096, 4096, 1, 1, 0, 0, "output sample");
    expect_refused(true, 1, 1 << 20, 1 << 20, 1, 1, 1, 0, 0, "input sample");
    expect_refused(false, 1 << 10, 1, 1, 1, 1 << 10, 1, 1 << 10, 0, "kernel x kernel x in_c");
    expect_refused(true, 1, 1, 1, 32, 1 << 10, 1, 500, 0, "kernel x kernel x out_c");
    expect_refused(false, GM_MAX_DIM, 1, 1, 128, 1, 1, 0, 0, "weights");
}

static void test_init_bounds(void **state)
{
    (void)state;
    gm_conv_geom conv, convt;
    /* fan_in 3*3*12 = 108 for the conv; 3*3*4 = 36 for the transposed one */
    assert_int_equal(gm_conv_geom_init(&conv, false, 12, 5, 5, 4, 3, 1, 0, 0, "t"), GM_OK);
    assert_int_equal(gm_conv_geom_init(&convt, true, 12, 5, 5, 4, 3, 1, 0, 0, "t"), GM_OK);
    enum { NW = 4 * 9 * 12 };
    float W[NW], b[4];
    const gm_conv_geom *gs[2] = { &conv, &convt };
    const double bound[2] = { 1 / sqrt(108.0), 1 / sqrt(36.0) };
    for (int i = 0; i < 2; i++) {
        gm_rng rng;
        gm_rng_init(&rng, 5);
        gm_conv_init(&rng, W, b, gs[i]);
        double top = 0;
        for (int j = 0; j < NW; j++) {
            assert_true(fabs(W[j]) <= bound[i]);
            top = fmax(top, fabs(W[j]));
        }
        for (int j = 0; j < 4; j++)
            assert_true(fabs(b[j]) <= bound[i]);
        assert_true(top > 0.9 * bound[i]);  /* the whole range is drawn from */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_conv_matches_torch),
        cmocka_unit_test(test_convt_matches_torch),
        cmocka_unit_test(test_geometry_sizes),
        cmocka_unit_test(test_geometry_refused),
        cmocka_unit_test(test_init_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
