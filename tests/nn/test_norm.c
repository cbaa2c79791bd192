/* Batch norm, spectral norm and the minibatch standard deviation: each
 * against a double-precision reference, with finite-difference gradients,
 * made as teams of 1, 2 and 3 members make them (uneven shares, some
 * empty, each writing only its own floats), and batch norm and spectral
 * norm against PyTorch on the checked-in fixture. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nn/norm.h"
#include "genmodel/common.h"
#include "gm_ref.h"
#include "gm_test.h"
#include "conv_fixture.h"

#define SLOPE 0.2

/* cmocka's assert_float_equal passes a NaN (both of its comparisons are
 * false): this one fails it */
#define assert_near(got, want, tol) assert_true(fabs((double)(got) - (double)(want)) <= (tol))

/* Float32 against float32 summed in other orders, over at most 36 rows of
 * values below ~10: the roundings differ by some 1e-6 (as in test_conv.c);
 * a wrong statistic moves values by 1e-3 or more. */
#define FX_TOL 1e-5

/* share i of n is [at[i], at[i + 1]): uneven, some empty */
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

static void fill_nan(float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
}

/* now equals before bit for bit outside columns [c0, c1) of rows of ld */
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

static double *to_double(const float *x, size_t n)
{
    double *d = malloc(n * sizeof *d);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* --- batch norm -------------------------------------------------------- */

enum { BR = 18, BC = 5, BP = BR * BC + 2 * BC };  /* R = 2 samples of 3x3 */

/* y = f(gamma * (x - mean) / sqrt(var + eps) + beta), batch statistics;
 * mean and var (biased) returned when not NULL */
static void ref_bn(const double *x, const double *gamma, const double *beta, int R, int C, int act, double *y,
                   double *mean, double *var)
{
    for (int c = 0; c < C; c++) {
        double m = 0, v = 0;
        for (int r = 0; r < R; r++)
            m += x[r * C + c];
        m /= R;
        for (int r = 0; r < R; r++)
            v += (x[r * C + c] - m) * (x[r * C + c] - m);
        v /= R;
        for (int r = 0; r < R; r++)
            y[r * C + c] = gm_ref_act(act, SLOPE, gamma[c] * (x[r * C + c] - m) / sqrt(v + 1e-5) + beta[c]);
        if (mean)
            mean[c] = m, var[c] = v;
    }
}

typedef struct { int act; const double *w; } bn_ctx;

/* p packs x (BR, BC), gamma, beta */
static double bn_weighted(const double *p, void *vc)
{
    const bn_ctx *c = vc;
    double y[BR * BC], s = 0;
    ref_bn(p, p + BR * BC, p + BR * BC + BC, BR, BC, c->act, y, NULL, NULL);
    for (int i = 0; i < BR * BC; i++)
        s += c->w[i] * y[i];
    return s;
}

static void check_bn(int act)
{
    float p[BP], dy0[BR * BC];
    gm_test_fill(p, BP, -1.0f, 1.0f, 21);
    gm_test_fill(dy0, BR * BC, -1.0f, 1.0f, 22);
    for (int i = 0; i < BR * BC; i++)  /* channels off zero, of unequal spreads */
        p[i] = p[i] * (1.0f + i % BC) + 2.0f * (i % BC) - 3.0f;
    const float *x = p, *gamma = p + BR * BC, *beta = gamma + BC;
    double *pd = to_double(p, BP), *w = to_double(dy0, BR * BC);
    double want[BR * BC], mean[BC], var[BC];
    ref_bn(pd, pd + BR * BC, pd + BR * BC + BC, BR, BC, act, want, mean, var);

    float first[BP];
    for (int members = 1; members <= 3; members++) {
        int at[4];
        split(BC, members, at);
        float y[BR * BC], mu[BC], istd[BC], rm[BC], rv[BC], before[BP], dy[BR * BC], grads[BP];
        float stats[4][BC], stats_before[4][BC];
        for (int c = 0; c < BC; c++)
            rm[c] = 0.5f * c, rv[c] = 1.0f + c;
        fill_nan(y, BR * BC);
        fill_nan(mu, BC);
        fill_nan(istd, BC);
        for (int m = 0; m < members; m++) {
            memcpy(before, y, sizeof y);
            memcpy(stats_before[0], mu, sizeof mu), memcpy(stats_before[1], istd, sizeof istd);
            memcpy(stats_before[2], rm, sizeof rm), memcpy(stats_before[3], rv, sizeof rv);
            gm_bn_forward_train(y, mu, istd, rm, rv, x, gamma, beta, BR, BC, at[m], at[m + 1], act, (float)SLOPE);
            assert_only_columns(y, before, BR, BC, at[m], at[m + 1], "bn forward");
            memcpy(stats[0], mu, sizeof mu), memcpy(stats[1], istd, sizeof istd);
            memcpy(stats[2], rm, sizeof rm), memcpy(stats[3], rv, sizeof rv);
            assert_only_columns(stats[0], stats_before[0], 4, BC, at[m], at[m + 1], "bn statistics");
        }
        gm_assert_close(y, want, BR * BC, 1e-5, 1e-5, "bn forward");
        double want_istd[BC], want_rm[BC], want_rv[BC];
        for (int c = 0; c < BC; c++) {
            want_istd[c] = 1 / sqrt(var[c] + 1e-5);
            want_rm[c] = 0.9 * 0.5 * c + 0.1 * mean[c];
            want_rv[c] = 0.9 * (1.0 + c) + 0.1 * var[c] * BR / (BR - 1);
        }
        gm_assert_close(mu, mean, BC, 1e-6, 1e-6, "bn mean");
        gm_assert_close(istd, want_istd, BC, 1e-6, 1e-6, "bn inverse std");
        gm_assert_close(rm, want_rm, BC, 1e-6, 1e-6, "bn running mean");
        gm_assert_close(rv, want_rv, BC, 1e-6, 1e-6, "bn running variance (unbiased)");

        /* dx packed before dgamma and dbeta, as the reference's inputs */
        memcpy(dy, dy0, sizeof dy);
        fill_nan(grads, BP);
        for (int m = 0; m < members; m++) {
            memcpy(before, grads, BP * sizeof *before);
            gm_bn_backward(grads, grads + BR * BC, grads + BR * BC + BC, false, dy, x, y, mu, istd, gamma, BR, BC,
                           at[m], at[m + 1], act, (float)SLOPE);
            assert_only_columns(grads, before, BR, BC, at[m], at[m + 1], "bn dx");
            assert_only_columns(grads + BR * BC, before + BR * BC, 2, BC, at[m], at[m + 1], "bn dgamma, dbeta");
        }
        if (members == 1) {
            bn_ctx c = { act, w };
            gm_check_gradient(bn_weighted, &c, pd, BP, grads, 1e-3, 1e-5, "bn backward");
            memcpy(first, grads, sizeof first);
        } else {
            double *f = to_double(first, BP);
            gm_assert_close(grads, f, BP, 1e-6, 1e-6, "bn backward across teams");
            free(f);
        }
        if (members == 2) {
            /* added to the parameters' gradients; dx in place over dy */
            float again[BP];
            for (int i = 0; i < BP; i++)
                again[i] = 1.0f;
            memcpy(again, dy0, sizeof dy0);
            for (int m = 0; m < members; m++)
                gm_bn_backward(again, again + BR * BC, again + BR * BC + BC, true, again, x, y, mu, istd, gamma,
                               BR, BC, at[m], at[m + 1], act, (float)SLOPE);
            for (int i = 0; i < BP; i++)
                assert_near(again[i] - (i < BR * BC ? 0.0f : 1.0f), first[i], 1e-6);
        }
    }
    free(pd);
    free(w);
}

static void test_bn_identity(void **s) { (void)s; check_bn(GM_ACT_IDENTITY); }
static void test_bn_leaky(void **s) { (void)s; check_bn(GM_ACT_LEAKY_RELU); }
static void test_bn_tanh(void **s) { (void)s; check_bn(GM_ACT_TANH); }

static void test_bn_infer(void **state)
{
    (void)state;
    float x[BR * BC], gamma[BC], beta[BC], rm[BC], rv[BC], y[BR * BC], before[BR * BC];
    gm_test_fill(x, BR * BC, -3.0f, 3.0f, 31);
    gm_test_fill(gamma, BC, 0.5f, 1.5f, 32);
    gm_test_fill(beta, BC, -1.0f, 1.0f, 33);
    gm_test_fill(rm, BC, -1.0f, 1.0f, 34);
    gm_test_fill(rv, BC, 0.5f, 2.0f, 35);
    double want[BR * BC];
    for (int i = 0; i < BR * BC; i++) {
        int c = i % BC;
        want[i] = gm_ref_act(GM_ACT_RELU, 0, gamma[c] * (x[i] - rm[c]) / sqrt(rv[c] + 1e-5) + beta[c]);
    }
    for (int members = 1; members <= 3; members++) {
        int at[4];
        split(BC, members, at);
        fill_nan(y, BR * BC);
        for (int m = 0; m < members; m++) {
            memcpy(before, y, sizeof y);
            gm_bn_forward_infer(y, x, gamma, beta, rm, rv, BR, BC, at[m], at[m + 1], GM_ACT_RELU, 0.0f);
            assert_only_columns(y, before, BR, BC, at[m], at[m + 1], "bn infer");
        }
        gm_assert_close(y, want, BR * BC, 1e-5, 1e-5, "bn infer");
    }
}

/* More channels than one block of the kernels' sums (150 > 64, the last
 * block partial), and means far above the spreads, where a variance taken
 * in one float pass (E[x^2] - E[x]^2, rounding 1e4 * 2^-24 = 6e-4 against
 * variances of 3e-3) would be far off. */
static void test_bn_wide_and_offset(void **state)
{
    (void)state;
    enum { R = 40, C = 150 };
    static float x[R * C], y[R * C];
    float gamma[C], beta[C], mu[C], istd[C], rm[C], rv[C];
    gm_test_fill(x, R * C, -1.0f, 1.0f, 41);
    for (int i = 0; i < R * C; i++)
        x[i] = 100.0f + x[i] * 0.1f * (1 + i % C % 7);
    for (int c = 0; c < C; c++)
        gamma[c] = 1.0f, beta[c] = 0.0f, rm[c] = 0.0f, rv[c] = 1.0f;
    gm_bn_forward_train(y, mu, istd, rm, rv, x, gamma, beta, R, C, 0, C, GM_ACT_IDENTITY, 0.0f);
    double *xd = to_double(x, R * C), *want = malloc(R * C * sizeof *want), g[C], b[C], mean[C], var[C];
    double want_istd[C];
    assert_non_null(want);
    for (int c = 0; c < C; c++)
        g[c] = 1, b[c] = 0;
    ref_bn(xd, g, b, R, C, GM_ACT_IDENTITY, want, mean, var);
    for (int c = 0; c < C; c++)
        want_istd[c] = 1 / sqrt(var[c] + 1e-5);
    gm_assert_close(mu, mean, C, 0.0, 1e-7, "bn mean on offset data");
    gm_assert_close(istd, want_istd, C, 0.0, 1e-5, "bn inverse std on offset data");
    /* the mean is kept as a float, as PyTorch keeps it: rounded by up to
     * 2^-18 at 100 (3.8e-6), it shifts y by that times inv_std (below 17) */
    gm_assert_close(y, want, R * C, 1e-4, 1e-5, "bn on offset data");
    free(xd);
    free(want);
}

static void test_bn_matches_torch(void **state)
{
    (void)state;
    enum { R = FXB_N * FXB_H * FXB_W, C = FXB_C };
    float y[R * C], dy[R * C], dx[R * C], mu[C], istd[C], rm[C], rv[C], dgamma[C], dbeta[C];
    memcpy(rm, fxb_run_mean0, sizeof rm);
    memcpy(rv, fxb_run_var0, sizeof rv);
    gm_bn_forward_train(y, mu, istd, rm, rv, fxb_x, fxb_gamma, fxb_beta, R, C, 0, C, GM_ACT_IDENTITY, 0.0f);
    gm_assert_close_f(y, fxb_y, R * C, FX_TOL, FX_TOL, "BatchNorm2d output");
    gm_assert_close_f(rm, fxb_run_mean, C, FX_TOL, FX_TOL, "BatchNorm2d running mean");
    gm_assert_close_f(rv, fxb_run_var, C, FX_TOL, FX_TOL, "BatchNorm2d running variance");
    memcpy(dy, fxb_dy, sizeof dy);
    gm_bn_backward(dx, dgamma, dbeta, false, dy, fxb_x, y, mu, istd, fxb_gamma, R, C, 0, C, GM_ACT_IDENTITY, 0.0f);
    gm_assert_close_f(dx, fxb_dx, R * C, FX_TOL, FX_TOL, "BatchNorm2d input gradient");
    gm_assert_close_f(dgamma, fxb_dgamma, C, FX_TOL, FX_TOL, "BatchNorm2d weight gradient");
    gm_assert_close_f(dbeta, fxb_dbeta, C, FX_TOL, FX_TOL, "BatchNorm2d bias gradient");
    gm_bn_forward_infer(y, fxb_x_eval, fxb_gamma, fxb_beta, rm, rv, R, C, 0, C, GM_ACT_IDENTITY, 0.0f);
    gm_assert_close_f(y, fxb_y_eval, R * C, FX_TOL, FX_TOL, "BatchNorm2d eval output");
}

/* --- spectral norm ----------------------------------------------------- */

enum { SO = 7, SI = 11 };

static void test_sn_power_step(void **state)
{
    (void)state;
    float W[SO * SI], u[SO], v[SI];
    gm_test_fill(W, SO * SI, -1.0f, 1.0f, 51);
    gm_test_fill(u, SO, -1.0f, 1.0f, 52);
    double ud[SO], vd[SI], wv[SO], n = 0, sigma = 0;
    for (int i = 0; i < SI; i++) {
        vd[i] = 0;
        for (int o = 0; o < SO; o++)
            vd[i] += W[o * SI + i] * (double)u[o];
        n += vd[i] * vd[i];
    }
    for (int i = 0; i < SI; i++)
        vd[i] /= sqrt(n);
    n = 0;
    for (int o = 0; o < SO; o++) {
        wv[o] = 0;
        for (int i = 0; i < SI; i++)
            wv[o] += W[o * SI + i] * vd[i];
        n += wv[o] * wv[o];
    }
    for (int o = 0; o < SO; o++)
        ud[o] = wv[o] / sqrt(n), sigma += ud[o] * wv[o];
    float s = gm_sn_power_step(u, v, W, SO, SI);
    gm_assert_close(u, ud, SO, 1e-6, 1e-6, "sn u");
    gm_assert_close(v, vd, SI, 1e-6, 1e-6, "sn v");
    assert_near(s, sigma, 1e-5 * sigma);
}

/* W = 3 a b^T (a, b unit) has the one singular value 3: a single step
 * from any u not orthogonal to a finds it, with u = +-a and v = +-b, the
 * sign that of a.u at the start */
static void test_sn_rank_one(void **state)
{
    (void)state;
    float a[SO], b[SI], W[SO * SI], u[SO], v[SI];
    gm_test_fill(a, SO, -1.0f, 1.0f, 53);
    gm_test_fill(b, SI, -1.0f, 1.0f, 54);
    double na = 0, nb = 0;
    for (int o = 0; o < SO; o++)
        na += a[o] * a[o];
    for (int i = 0; i < SI; i++)
        nb += b[i] * b[i];
    for (int o = 0; o < SO; o++)
        for (int i = 0; i < SI; i++)
            W[o * SI + i] = (float)(3.0 * a[o] * b[i] / sqrt(na * nb));
    double sign = 0;
    for (int o = 0; o < SO; o++)
        u[o] = (o == 0), sign += a[o] * u[o];
    sign = sign > 0 ? 1 : -1;
    assert_near(gm_sn_power_step(u, v, W, SO, SI), 3.0f, 1e-5);
    double ua[SO], vb[SI];
    for (int o = 0; o < SO; o++)
        ua[o] = sign * a[o] / sqrt(na);
    for (int i = 0; i < SI; i++)
        vb[i] = sign * b[i] / sqrt(nb);
    gm_assert_close(u, ua, SO, 1e-6, 1e-6, "rank one u");
    gm_assert_close(v, vb, SI, 1e-6, 1e-6, "rank one v");
}

/* a zero weight: the eps keeps u and v finite (zero), and sigma 0 */
static void test_sn_zero_weight(void **state)
{
    (void)state;
    float W[SO * SI] = { 0 }, u[SO], v[SI];
    gm_test_fill(u, SO, -1.0f, 1.0f, 55);
    assert_near(gm_sn_power_step(u, v, W, SO, SI), 0.0f, 0.0);
    for (int o = 0; o < SO; o++)
        assert_near(u[o], 0.0f, 0.0);
    for (int i = 0; i < SI; i++)
        assert_near(v[i], 0.0f, 0.0);
}

typedef struct { const double *u, *v, *G; } sn_ctx;

/* sum(G * W / sigma(W)), sigma = u.(W v) with u and v held */
static double sn_weighted(const double *W, void *vc)
{
    const sn_ctx *c = vc;
    double sigma = 0, s = 0;
    for (int o = 0; o < SO; o++)
        for (int i = 0; i < SI; i++)
            sigma += c->u[o] * W[o * SI + i] * c->v[i];
    for (int j = 0; j < SO * SI; j++)
        s += c->G[j] * W[j] / sigma;
    return s;
}

static void test_sn_backward(void **state)
{
    (void)state;
    float W[SO * SI], G[SO * SI], u[SO], v[SI], first[SO * SI];
    gm_test_fill(W, SO * SI, -1.0f, 1.0f, 56);
    gm_test_fill(G, SO * SI, -1.0f, 1.0f, 57);
    gm_test_fill(u, SO, -1.0f, 1.0f, 58);
    const float sigma = gm_sn_power_step(u, v, W, SO, SI);
    double *Wd = to_double(W, SO * SI), *ud = to_double(u, SO), *vd = to_double(v, SI), *Gd = to_double(G, SO * SI);
    for (int members = 1; members <= 3; members++) {
        int at[4];
        split(SO, members, at);
        float Wsn[SO * SI], dW[SO * SI], before[SO * SI];
        fill_nan(Wsn, SO * SI);
        fill_nan(dW, SO * SI);
        double dot = 0;
        for (int m = 0; m < members; m++) {
            memcpy(before, Wsn, sizeof Wsn);
            gm_sn_weight(Wsn, W, sigma, SI, at[m], at[m + 1]);
            assert_only_columns(Wsn, before, 1, SO * SI, at[m] * SI, at[m + 1] * SI, "sn weight rows");
            dot += gm_sn_backward_dot(G, W, SI, at[m], at[m + 1]);
        }
        for (int j = 0; j < SO * SI; j++)
            assert_near(Wsn[j], W[j] / sigma, 0.0);
        for (int m = 0; m < members; m++) {
            memcpy(before, dW, sizeof dW);
            gm_sn_backward_rows(dW, false, G, u, v, sigma, dot, SI, at[m], at[m + 1]);
            assert_only_columns(dW, before, 1, SO * SI, at[m] * SI, at[m + 1] * SI, "sn gradient rows");
        }
        if (members == 1) {
            sn_ctx c = { ud, vd, Gd };
            gm_check_gradient(sn_weighted, &c, Wd, SO * SI, dW, 1e-4, 1e-5, "sn backward");
            memcpy(first, dW, sizeof first);
        } else {
            double *f = to_double(first, SO * SI);
            gm_assert_close(dW, f, SO * SI, 1e-6, 1e-6, "sn backward across teams");
            free(f);
        }
    }
    /* added to what dW held; written over G itself */
    float acc[SO * SI], in_place[SO * SI];
    double dot = gm_sn_backward_dot(G, W, SI, 0, SO);
    for (int j = 0; j < SO * SI; j++)
        acc[j] = 1.0f;
    memcpy(in_place, G, sizeof G);
    gm_sn_backward_rows(acc, true, G, u, v, sigma, dot, SI, 0, SO);
    gm_sn_backward_rows(in_place, false, in_place, u, v, sigma, dot, SI, 0, SO);
    for (int j = 0; j < SO * SI; j++) {
        assert_near(acc[j] - 1.0f, first[j], 1e-6);
        assert_near(in_place[j], first[j], 0.0);
    }
    free(Wd), free(ud), free(vd), free(Gd);
}

static void test_sn_matches_torch(void **state)
{
    (void)state;
    float u[FXS_O], v[FXS_I], Wsn[FXS_O * FXS_I], dW[FXS_O * FXS_I];
    memcpy(u, fxs_u0, sizeof u);
    const float sigma = gm_sn_power_step(u, v, fxs_w, FXS_O, FXS_I);
    assert_near(sigma, fxs_sigma, FX_TOL * fxs_sigma);
    gm_assert_close_f(u, fxs_u, FXS_O, FX_TOL, FX_TOL, "spectral_norm u");
    gm_assert_close_f(v, fxs_v, FXS_I, FX_TOL, FX_TOL, "spectral_norm v");
    gm_sn_weight(Wsn, fxs_w, sigma, FXS_I, 0, FXS_O);
    gm_assert_close_f(Wsn, fxs_w_sn, FXS_O * FXS_I, FX_TOL, FX_TOL, "spectral_norm weight");
    double dot = gm_sn_backward_dot(fxs_g, fxs_w, FXS_I, 0, FXS_O);
    gm_sn_backward_rows(dW, false, fxs_g, u, v, sigma, dot, FXS_I, 0, FXS_O);
    gm_assert_close_f(dW, fxs_dw, FXS_O * FXS_I, FX_TOL, FX_TOL, "spectral_norm weight gradient");
}

/* --- minibatch standard deviation -------------------------------------- */

enum { MN = 6 };

typedef struct { int P, C, G; const double *w; } mb_ctx;

/* y (MN, P, C + 1) from x (MN, P, C), in double */
static void ref_mbstd(const double *x, int P, int C, int G, double *y)
{
    const int F = P * C;
    for (int g0 = 0; g0 < MN; g0 += G) {
        double s = 0;
        for (int f = 0; f < F; f++) {
            double m = 0, v = 0;
            for (int j = 0; j < G; j++)
                m += x[(g0 + j) * F + f] / G;
            for (int j = 0; j < G; j++)
                v += (x[(g0 + j) * F + f] - m) * (x[(g0 + j) * F + f] - m) / G;
            s += sqrt(v + 1e-8) / F;
        }
        for (int j = g0; j < g0 + G; j++)
            for (int p = 0; p < P; p++) {
                for (int c = 0; c < C; c++)
                    y[(j * P + p) * (C + 1) + c] = x[j * F + p * C + c];
                y[(j * P + p) * (C + 1) + C] = s;
            }
    }
}

static double mb_weighted(const double *x, void *vc)
{
    const mb_ctx *c = vc;
    double y[MN * 4 * 4], s = 0;
    ref_mbstd(x, c->P, c->C, c->G, y);
    for (int i = 0; i < MN * c->P * (c->C + 1); i++)
        s += c->w[i] * y[i];
    return s;
}

static float *alloc_floats(size_t n)
{
    float *p = malloc(n * sizeof *p);
    assert_non_null(p);
    return p;
}

static void check_mbstd(int P, int C, int G)
{
    /* on the heap, of their exact sizes: the sanitizer sees a read past x */
    const int F = P * C, ny = MN * P * (C + 1);
    float *x = alloc_floats(MN * F), *y = alloc_floats(ny), *dy = alloc_floats(ny), *dx = alloc_floats(MN * F);
    float *before = alloc_floats(ny), *first = alloc_floats(MN * F);
    gm_test_fill(x, MN * F, -1.0f, 1.0f, 61 + P);
    gm_test_fill(dy, ny, -1.0f, 1.0f, 62 + C);
    double *xd = to_double(x, MN * F), *w = to_double(dy, ny), want[MN * 4 * 4];
    ref_mbstd(xd, P, C, G, want);
    for (int members = 1; members <= 3; members++) {
        int at[4];
        split(C + 1, members, at);
        fill_nan(y, ny);
        for (int m = 0; m < members; m++) {
            memcpy(before, y, ny * sizeof *y);
            gm_mbstd_forward(y, x, MN, P, C, G, at[m], at[m + 1]);
            assert_only_columns(y, before, (size_t)MN * P, C + 1, at[m], at[m + 1], "mbstd forward");
        }
        gm_assert_close(y, want, ny, 1e-6, 1e-6, "mbstd forward");
        split(C, members, at);
        fill_nan(dx, MN * F);
        for (int m = 0; m < members; m++) {
            memcpy(before, dx, MN * F * sizeof *dx);
            gm_mbstd_backward(dx, dy, x, MN, P, C, G, at[m], at[m + 1]);
            assert_only_columns(dx, before, (size_t)MN * P, C, at[m], at[m + 1], "mbstd backward");
        }
        if (members == 1) {
            mb_ctx c = { P, C, G, w };
            gm_check_gradient(mb_weighted, &c, xd, MN * F, dx, 1e-4, 1e-5, "mbstd backward");
            memcpy(first, dx, MN * F * sizeof *dx);
        } else {
            for (int i = 0; i < MN * F; i++)
                assert_near(dx[i], first[i], 0.0);  /* no sum crosses a share */
        }
    }
    free(x), free(y), free(dy), free(dx), free(before), free(first), free(xd), free(w);
}

static void test_mbstd_flat(void **state)
{
    (void)state;
    /* (N, F) input: one pixel of F channels, one column appended */
    for (int G = 1; G <= MN; G++)
        if (MN % G == 0)
            check_mbstd(1, 5, G);
}

static void test_mbstd_nhwc(void **state)
{
    (void)state;
    for (int G = 1; G <= MN; G++)
        if (MN % G == 0)
            check_mbstd(4, 3, G);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bn_identity),      cmocka_unit_test(test_bn_leaky),
        cmocka_unit_test(test_bn_tanh),          cmocka_unit_test(test_bn_infer),
        cmocka_unit_test(test_bn_wide_and_offset), cmocka_unit_test(test_bn_matches_torch),
        cmocka_unit_test(test_sn_power_step),    cmocka_unit_test(test_sn_rank_one),
        cmocka_unit_test(test_sn_zero_weight),   cmocka_unit_test(test_sn_backward),
        cmocka_unit_test(test_sn_matches_torch), cmocka_unit_test(test_mbstd_flat),
        cmocka_unit_test(test_mbstd_nhwc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
