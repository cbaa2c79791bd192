/* The upscaler (gm_sr): the config's refusals by field, the first step's
 * loss gradient against finite differences of the loss, training that
 * learns, tiles that give what the whole image gives, the luminance path's
 * colour, patches that are crops and their bicubic downscales, the
 * measure against bicubic by hand, checkpoints that resume bit-exactly
 * (with and without a discriminator), failed steps that change nothing,
 * and a second step that allocates nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "genmodel.h"
#include "io/quality.h"
#include "io/resample.h"
#include "io/ycbcr.h"
#include "models/sr_internal.h"
#include "gm_ref.h"
#include "gm_test.h"

/* the counting allocator from the start, so that a test can count a call's allocations */
static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static float *floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* a small upscaler: fast enough for finite differences */
static gm_sr_config small_config(int scale, int channels)
{
    gm_sr_config c;
    gm_sr_config_init(&c);
    c.scale = scale;
    c.channels = channels;
    c.body_channels[0] = 6;
    c.body_channels[1] = 4;
    c.patch = 6;
    c.seed = 7;
    return c;
}

static gm_sr *make(const gm_sr_config *c)
{
    gm_sr *sr;
    assert_int_equal(gm_sr_create(c, &sr), GM_OK);
    return sr;
}

/* smooth images in [0.1, 0.9]: n of h x w x c */
static void smooth(float *x, int n, int h, int w, int c, uint32_t seed)
{
    float phase[8];
    gm_test_fill(phase, 8, 0.0f, 6.0f, seed);
    for (int k = 0; k < n; k++)
        for (int y = 0; y < h; y++)
            for (int i = 0; i < w; i++)
                for (int ch = 0; ch < c; ch++)
                    x[(((size_t)k * h + y) * w + i) * c + ch] =
                        0.5f + 0.2f * sinf(0.35f * i + phase[(k + ch) % 8]) + 0.2f * cosf(0.27f * y + phase[(k * 3) % 8]);
}

/* pairs: hi smooth, lo its bicubic downscale */
static void pairs(float *lo, float *hi, int n, int p, int s, int c, uint32_t seed)
{
    smooth(hi, n, p * s, p * s, c, seed);
    for (int k = 0; k < n; k++)
        assert_int_equal(gm_resample_bicubic("t", hi + (size_t)k * p * s * p * s * c, p * s, p * s, c,
                                             lo + (size_t)k * p * p * c, p, p), GM_OK);
}

/* ---- the config ---- */

static void refused(void (*change)(gm_sr_config *), const char *field)
{
    gm_sr_config c = small_config(2, 1);
    change(&c);
    gm_sr *sr = (gm_sr *)&c;
    gm_test_expect_fail(gm_sr_create(&c, &sr), GM_ERR_INVALID_ARG, "gm_sr_create", field);
    assert_null(sr);
}

static void scale_5(gm_sr_config *c) { c->scale = 5; }
static void channels_2(gm_sr_config *c) { c->channels = 2; }
static void even_kernel(gm_sr_config *c) { c->body_kernel[1] = 4; }
static void no_body(gm_sr_config *c) { c->n_body = 0; }
static void big_patch(gm_sr_config *c) { c->patch = GM_SR_MAX_PATCH; }
static void wgan(gm_sr_config *c) { c->adv_weight = 0.1f, c->adv_loss = GM_GAN_WGAN_GP; }
static void negative_weight(gm_sr_config *c) { c->adv_weight = -1.0f; }
static void batch_norm_d(gm_sr_config *c) { c->adv_weight = 0.1f, c->disc_norm = GM_NORM_BATCH; }
static void l3_loss(gm_sr_config *c) { c->pixel_loss = 2; }

static void test_config_refusals(void **state)
{
    (void)state;
    refused(scale_5, "scale");
    refused(channels_2, "channels");
    refused(even_kernel, "body_kernel[1]");
    refused(no_body, "n_body");
    refused(big_patch, "patch");
    refused(wgan, "adv_loss");
    refused(negative_weight, "adv_weight");
    refused(batch_norm_d, "disc_norm");
    refused(l3_loss, "pixel_loss");
    /* the defaults: the ESPCN on Y */
    gm_sr_config c;
    gm_sr_config_init(&c);
    assert_true(c.scale == 2 && c.channels == 1 && c.n_body == 2 && c.body_channels[0] == 64 &&
                c.body_channels[1] == 32 && c.body_kernel[0] == 5 && c.activation == GM_ACT_TANH && c.patch == 17);
}

/* ---- the first step's gradient ---- */

typedef struct {
    const gm_param_table *t;
    const gm_sr_config *cfg;
    const float *lo, *hi;
    int n, p;
} loss_ctx;

/* a "same" convolution in double: x (N, H, W, I) -> y (N, H, W, O), then act */
static void ref_conv(double *y, const double *x, const double *w, const double *b, int N, int H, int W, int I, int O,
                     int K, int act)
{
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++)
            for (int v = 0; v < W; v++)
                for (int o = 0; o < O; o++) {
                    double a = b[o];
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++) {
                            const int ih = h + kh - K / 2, iw = v + kw - K / 2;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                continue;
                            for (int i = 0; i < I; i++)
                                a += w[((o * K + kh) * K + kw) * I + i] * x[((n * H + ih) * W + iw) * I + i];
                        }
                    y[((n * H + h) * W + v) * O + o] = gm_ref_act(act, 0.2, a);
                }
}

/* the pixel loss in double at parameters x (laid out as the table's
 * data): the body's convolutions, the output one, the shuffle */
static double loss_at(const double *x, void *vc)
{
    const loss_ctx *c = vc;
    const gm_sr_config *g = c->cfg;
    const int N = c->n, P = c->p, S = g->scale, C = g->channels;
    enum { MOST = 3 * 5 * 5 * 64 };
    static double buf[2][MOST];
    for (int i = 0; i < N * P * P * C; i++)
        buf[0][i] = c->lo[i];
    int in = C, at = 0;
    for (int l = 0; l <= g->n_body; l++) {
        const bool last = l == g->n_body;
        const int out = last ? C * S * S : g->body_channels[l], k = last ? g->out_kernel : g->body_kernel[l];
        assert_true(N * P * P * out <= MOST);
        ref_conv(buf[(at + 1) % 2], buf[at % 2], x + c->t->items[2 * l].offset, x + c->t->items[2 * l + 1].offset, N,
                 P, P, in, out, k, last ? GM_ACT_IDENTITY : g->activation);
        in = out;
        at++;
    }
    const double *deep = buf[at % 2];
    const int HS = P * S;
    double sum = 0.0;
    for (int n = 0; n < N; n++)
        for (int hh = 0; hh < HS; hh++)
            for (int ww = 0; ww < HS; ww++)
                for (int ch = 0; ch < C; ch++) {
                    const double v = deep[((n * P + hh / S) * P + ww / S) * C * S * S + ch * S * S + hh % S * S + ww % S];
                    const double d = v - c->hi[((n * HS + hh) * HS + ww) * C + ch];
                    sum += g->pixel_loss == GM_SR_MSE ? d * d : fabs(d);
                }
    return sum / ((double)N * HS * HS * C);
}

/* The step's gradient (what Adam is handed, left in the table) equals
 * the finite differences of the pixel loss at the weights the step began
 * from, MSE and L1, through conv -> tanh -> conv -> tanh -> conv ->
 * shuffle. */
static void test_step_gradient(void **state)
{
    (void)state;
    enum { N = 3, P = 5, S = 2 };
    for (int kind = GM_SR_MSE; kind <= GM_SR_L1; kind++) {
        gm_sr_config cfg = small_config(S, 1);
        cfg.pixel_loss = kind;
        gm_sr *sr = make(&cfg);
        float lo[N * P * P], hi[N * P * S * P * S];
        pairs(lo, hi, N, P, S, 1, 3);
        /* a noisier target, so no output sits at |d| = 0 for L1 */
        for (size_t i = 0; i < sizeof hi / sizeof *hi; i++)
            hi[i] = fminf(1.0f, hi[i] + 0.05f * sinf(7.0f * (float)i));
        gm_param_table *t = gm_sr_gen_table(sr);
        double *x = malloc(t->total * sizeof *x);
        assert_non_null(x);
        for (size_t i = 0; i < t->total; i++)
            x[i] = t->data[i];
        gm_sr_losses l;
        assert_int_equal(gm_sr_train_step(sr, lo, hi, N, P, P, &l), GM_OK);
        float *g = floats(t->total);
        memcpy(g, t->grad, t->total * sizeof *g);
        loss_ctx c = { t, &cfg, lo, hi, N, P };
        const double at_start = loss_at(x, &c);
        if (fabs(at_start - l.pixel) > 1e-5 * at_start)
            fail_msg("the step's loss %.9g, in double %.9g", l.pixel, at_start);
        gm_check_gradient(loss_at, &c, x, t->total, g, 2e-3, 2e-6, kind == GM_SR_MSE ? "MSE" : "L1");
        free(x);
        free(g);
        gm_sr_free(sr);
    }
}

/* ---- training ---- */

/* On a batch it keeps seeing, the loss falls to a fiftieth of where it
 * began. */
static void test_training_learns(void **state)
{
    (void)state;
    enum { N = 16, P = 8, S = 2 };
    gm_sr_config cfg = small_config(S, 1);
    cfg.body_channels[0] = 16, cfg.body_channels[1] = 8;
    gm_sr *sr = make(&cfg);
    float *lo = floats(N * P * P), *hi = floats(N * P * S * P * S);
    pairs(lo, hi, N, P, S, 1, 5);
    gm_sr_losses first, l;
    assert_int_equal(gm_sr_train_step(sr, lo, hi, N, P, P, &first), GM_OK);
    for (int i = 0; i < 400; i++)
        assert_int_equal(gm_sr_train_step(sr, lo, hi, N, P, P, &l), GM_OK);
    if (!(l.pixel < 0.02 * first.pixel))
        fail_msg("loss %g after 400 steps (first %g)", l.pixel, first.pixel);
    assert_int_equal(gm_sr_step_count(sr), 401);
    free(lo), free(hi);
    gm_sr_free(sr);
}

/* ---- whole images ---- */

/* An image larger than a tile (128 pixels) upscales in tiles to what the
 * network gives on the whole image at once, on 1 and 2 threads; the
 * second image of the size allocates nothing. */
static void test_tiles_equal_the_whole(void **state)
{
    (void)state;
    enum { H = 300, W = 170, S = 3, C = 3 };
    gm_sr_config cfg = small_config(S, C);
    gm_sr *sr = make(&cfg);
    float *x = floats((size_t)H * W * C), *y = floats((size_t)H * W * C * S * S), *y2 = floats((size_t)H * W * C * S * S);
    smooth(x, 1, H, W, C, 9);
    for (int threads = 1; threads <= 2; threads++) {
        assert_int_equal(gm_set_num_threads(threads), GM_OK);
        gm_sr *fresh = make(&cfg);
        assert_int_equal(gm_sr_upscale(fresh, x, H, W, C, y), GM_OK);
        const size_t allocs = gm_test_alloc.allocs;
        assert_int_equal(gm_sr_upscale(fresh, x, H, W, C, y2), GM_OK);
        assert_int_equal(gm_test_alloc.allocs, allocs);
        assert_memory_equal(y, y2, sizeof(float) * H * W * C * S * S);
        /* the whole image at once */
        gm_net *net = gm_sr_net(fresh);
        net->team = NULL;
        assert_int_equal(gm_net_resize(net, H, W, "t"), GM_OK);
        assert_int_equal(gm_net_reserve(net, 1, false, "t"), GM_OK);
        const float *whole = gm_net_infer(net, gm_sr_gen_table(fresh), x, 1);
        float *clamped = floats((size_t)H * W * C * S * S);
        for (size_t i = 0; i < (size_t)H * W * C * S * S; i++)
            clamped[i] = fminf(1.0f, fmaxf(0.0f, whole[i]));
        gm_assert_close_f(y, clamped, (size_t)H * W * C * S * S, 1e-6, 1e-5, "tiles against the whole image");
        free(clamped);
        gm_sr_free(fresh);
    }
    free(x), free(y), free(y2);
    gm_sr_free(sr);
}

/* A model on Y upscales a colour image's luminance through the network
 * and its chroma by bicubic interpolation, and a grey image's Y; the
 * conversions are each other's inverse (within float rounding, away
 * from the clamp). */
static void test_luminance_path(void **state)
{
    (void)state;
    enum { H = 20, W = 14, S = 2, BIG = H * W * S * S };
    gm_sr_config cfg = small_config(S, 1);
    gm_sr *sr = make(&cfg);
    float *x = floats(H * W * 3), *y = floats(BIG * 3), *back = floats(H * W * 3);
    float *yin = floats(H * W), *cbcr = floats(H * W * 2), *cbcr_up = floats(BIG * 2), *want = floats(BIG * 3);
    smooth(x, 1, H, W, 3, 4);
    gm_ycbcr_from_rgb(yin, cbcr, x, H * W);
    gm_ycbcr_to_pixels(back, yin, cbcr, H * W, 3);
    gm_assert_close_f(back, x, H * W * 3, 1e-6, 1e-6, "RGB -> YCbCr -> RGB");
    assert_int_equal(gm_sr_upscale(sr, x, H, W, 3, y), GM_OK);
    assert_int_equal(gm_resample_bicubic("t", cbcr, H, W, 2, cbcr_up, H * S, W * S), GM_OK);
    gm_net *net = gm_sr_net(sr);
    gm_ycbcr_to_pixels(want, gm_net_infer(net, gm_sr_gen_table(sr), yin, 1), cbcr_up, BIG, 3);
    gm_assert_close_f(y, want, BIG * 3, 1e-6, 1e-5, "colour: the network's Y, bicubic chroma");
    /* grey */
    float *grey = floats(H * W), *g_out = floats(BIG), *g_in = floats(H * W);
    for (int i = 0; i < H * W; i++)
        grey[i] = x[3 * i];
    assert_int_equal(gm_sr_upscale(sr, grey, H, W, 1, g_out), GM_OK);
    gm_ycbcr_luma(g_in, grey, H * W, 1);
    gm_ycbcr_to_pixels(back, g_in, NULL, H * W, 1);
    gm_assert_close_f(back, grey, H * W, 1e-6, 1e-6, "grey -> Y -> grey");
    gm_ycbcr_to_pixels(want, gm_net_infer(net, gm_sr_gen_table(sr), g_in, 1), NULL, BIG, 1);
    gm_assert_close_f(g_out, want, BIG, 1e-6, 1e-5, "grey: the network's Y");
    /* an RGB model refuses a grey image */
    gm_sr_config rgb = small_config(S, 3);
    gm_sr *c3 = make(&rgb);
    gm_test_expect_fail(gm_sr_upscale(c3, grey, H, W, 1, g_out), GM_ERR_INVALID_ARG, "gm_sr_upscale", "grey");
    gm_sr_free(c3);
    free(x), free(y), free(back), free(yin), free(cbcr), free(cbcr_up), free(want), free(grey), free(g_out), free(g_in);
    gm_sr_free(sr);
}

/* ---- datasets: patches and the measure ---- */

/* a folder of two RGB PNGs of different sizes, and one too small for a crop */
static gm_dataset *photos(int small)
{
    static const int sizes[3][2] = { { 40, 31 }, { 27, 52 }, { 9, 9 } };
    for (int i = 0; i < 2 + small; i++) {
        const int h = sizes[i][0], w = sizes[i][1];
        float *img = floats((size_t)h * w * 3);
        smooth(img, 1, h, w, 3, 20 + i);
        char name[16];
        snprintf(name, sizeof name, "%d.png", i);
        assert_int_equal(gm_image_write(gm_test_path(name), img, h, w, 3), GM_OK);
        free(img);
    }
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.keep_sizes = 1;
    gm_dataset *ds;
    assert_int_equal(gm_dataset_open(gm_test_dir(), &o, &ds), GM_OK);
    return ds;
}

/* Each patch's hi is the luminance of a crop of one of the images, its lo
 * the bicubic downscale of hi; the same seed draws the same patches, and
 * an image smaller than the crop is refused by its index. */
static void test_patches(void **state)
{
    (void)state;
    if (!gm_have_png())
        skip();
    enum { N = 12 };
    assert_int_equal(gm_test_dir_make(), 0);
    gm_dataset *ds = photos(0);
    gm_sr_config cfg = small_config(2, 1);
    gm_sr *a = make(&cfg), *b = make(&cfg);
    const int p = cfg.patch, side = 2 * p;
    float *lo = floats(N * p * p), *hi = floats(N * side * side), *lo2 = floats(N * p * p);
    float *hi2 = floats(N * side * side), *down = floats(p * p);
    assert_int_equal(gm_sr_patches(a, ds, N, lo, hi), GM_OK);
    assert_int_equal(gm_sr_patches(b, ds, N, lo2, hi2), GM_OK);
    assert_memory_equal(lo, lo2, sizeof(float) * N * p * p);
    assert_memory_equal(hi, hi2, sizeof(float) * N * side * side);
    int found = 0;
    for (int k = 0; k < N; k++) {
        const float *h_k = hi + (size_t)k * side * side;
        assert_int_equal(gm_resample_bicubic("t", h_k, side, side, 1, down, p, p), GM_OK);
        assert_memory_equal(down, lo + (size_t)k * p * p, sizeof(float) * p * p);
        /* somewhere in some image */
        for (int i = 0; i < 2; i++) {
            int32_t h, w;
            assert_int_equal(gm_dataset_image_size(ds, i, &h, &w), GM_OK);
            float *img = floats((size_t)h * w * 3), *luma = floats((size_t)h * w);
            assert_int_equal(gm_dataset_image(ds, i, img, NULL), GM_OK);
            gm_ycbcr_luma(luma, img, (size_t)h * w, 3);
            for (int y0 = 0; y0 + side <= h; y0++)
                for (int x0 = 0; x0 + side <= w; x0++) {
                    int same = 1;
                    for (int y = 0; y < side && same; y++)
                        same = !memcmp(luma + (size_t)(y0 + y) * w + x0, h_k + (size_t)y * side,
                                       sizeof(float) * side);
                    found += same;
                }
            free(img), free(luma);
        }
    }
    assert_true(found >= N);
    gm_dataset_free(ds);
    ds = photos(1);
    float before[4];
    memcpy(before, lo, sizeof before);
    gm_test_expect_fail(gm_sr_patches(a, ds, N, lo, hi), GM_ERR_INVALID_ARG, "gm_sr_patches", "image 2 is 9 x 9");
    assert_memory_equal(before, lo, sizeof before);
    gm_dataset_free(ds);
    free(lo), free(hi), free(lo2), free(hi2), free(down);
    gm_sr_free(a), gm_sr_free(b);
    assert_int_equal(gm_test_dir_remove(), 0);
}

/* The measure by hand: each image cropped to a multiple of the scale,
 * downscaled, upscaled by bicubic and by the model, compared on Y with the
 * scale's border cropped. */
static void test_evaluate(void **state)
{
    (void)state;
    if (!gm_have_png())
        skip();
    enum { S = 2 };
    assert_int_equal(gm_test_dir_make(), 0);
    gm_dataset *ds = photos(0);
    gm_sr_config cfg = small_config(S, 1);
    gm_sr *sr = make(&cfg);
    gm_sr_scores q;
    assert_int_equal(gm_sr_evaluate(sr, ds, &q), GM_OK);
    double want[4] = { 0 };
    for (int i = 0; i < 2; i++) {
        int32_t ih, iw;
        assert_int_equal(gm_dataset_image_size(ds, i, &ih, &iw), GM_OK);
        const int h = ih / S, w = iw / S, H = h * S, W = w * S;
        float *img = floats((size_t)ih * iw * 3), *hr = floats((size_t)H * W * 3), *lr = floats((size_t)h * w * 3);
        float *bic = floats((size_t)H * W * 3), *up = floats((size_t)H * W * 3);
        float *ya = floats((size_t)H * W), *yb = floats((size_t)H * W);
        assert_int_equal(gm_dataset_image(ds, i, img, NULL), GM_OK);
        for (int y = 0; y < H; y++)
            memcpy(hr + (size_t)y * W * 3, img + (size_t)y * iw * 3, sizeof(float) * W * 3);
        assert_int_equal(gm_resample_bicubic("t", hr, H, W, 3, lr, h, w), GM_OK);
        assert_int_equal(gm_resample_bicubic("t", lr, h, w, 3, bic, H, W), GM_OK);
        assert_int_equal(gm_sr_upscale(sr, lr, h, w, 3, up), GM_OK);
        gm_ycbcr_luma(ya, hr, (size_t)H * W, 3);
        const float *got[2] = { up, bic };
        for (int k = 0; k < 2; k++) {
            double psnr, ssim;
            gm_ycbcr_luma(yb, got[k], (size_t)H * W, 3);
            assert_int_equal(gm_quality_psnr("t", yb, ya, H, W, 1, S, GM_QUALITY_CHANNELS, &psnr), GM_OK);
            assert_int_equal(gm_quality_ssim("t", yb, ya, H, W, 1, S, GM_QUALITY_CHANNELS, &ssim), GM_OK);
            want[2 * k] += psnr / 2, want[2 * k + 1] += ssim / 2;
        }
        free(img), free(hr), free(lr), free(bic), free(up), free(ya), free(yb);
    }
    assert_int_equal(q.images, 2);
    assert_true(fabs(q.psnr - want[0]) < 1e-9 && fabs(q.ssim - want[1]) < 1e-9);
    assert_true(fabs(q.bicubic_psnr - want[2]) < 1e-9 && fabs(q.bicubic_ssim - want[3]) < 1e-9);
    /* an untrained model is worse than bicubic: the measure tells them apart */
    assert_true(q.psnr < q.bicubic_psnr);
    gm_dataset_free(ds);
    gm_sr_free(sr);
    assert_int_equal(gm_test_dir_remove(), 0);
}

/* ---- checkpoints and failures ---- */

static void resume_case(float adv)
{
    enum { N = 4 };
    gm_sr_config cfg = small_config(2, 1);
    cfg.adv_weight = adv;
    cfg.n_disc_conv = 2;
    cfg.disc_channels[0] = 4, cfg.disc_channels[1] = 8;
    const int p = cfg.patch;
    gm_sr *a = make(&cfg), *b;
    float *lo = floats(N * p * p), *hi = floats(N * 4 * p * p);
    gm_sr_losses la, lb;
    for (int i = 0; i < 3; i++) {
        pairs(lo, hi, N, p, 2, 1, 30 + i);
        assert_int_equal(gm_sr_train_step(a, lo, hi, N, p, p, &la), GM_OK);
    }
    void *buf;
    size_t size;
    assert_int_equal(gm_sr_save_buffer(a, &buf, &size), GM_OK);
    assert_int_equal(gm_sr_load_buffer(buf, size, &b), GM_OK);
    gm_buffer_free(buf);
    assert_int_equal(gm_sr_step_count(b), 3);
    for (int i = 3; i < 6; i++) {
        pairs(lo, hi, N, p, 2, 1, 30 + i);
        assert_int_equal(gm_sr_train_step(a, lo, hi, N, p, p, &la), GM_OK);
        assert_int_equal(gm_sr_train_step(b, lo, hi, N, p, p, &lb), GM_OK);
        assert_memory_equal(&la, &lb, sizeof la);
    }
    if (adv > 0.0f)
        assert_true(la.d_loss > 0.0 && la.g_adv > 0.0);
    void *ba, *bb;
    size_t sa, sb;
    assert_int_equal(gm_sr_save_buffer(a, &ba, &sa), GM_OK);
    assert_int_equal(gm_sr_save_buffer(b, &bb, &sb), GM_OK);
    assert_int_equal(sa, sb);
    assert_memory_equal(ba, bb, sa);
    gm_buffer_free(ba), gm_buffer_free(bb);
    free(lo), free(hi);
    gm_sr_free(a), gm_sr_free(b);
}

static void test_checkpoint_resumes(void **state)
{
    (void)state;
    resume_case(0.0f);
    resume_case(0.01f);
}

/* A step that fails changes nothing (the checkpoint's bytes), with or
 * without a discriminator: NaN or a value outside [0, 1] in the data, a
 * discriminator's wrong patch size, and diverged weights. The second step
 * at a size allocates nothing. */
static void test_failures_change_nothing(void **state)
{
    (void)state;
    enum { N = 4 };
    for (int adv = 0; adv <= 1; adv++) {
        gm_sr_config cfg = small_config(2, 1);
        cfg.adv_weight = adv ? 0.01f : 0.0f;
        cfg.n_disc_conv = 2;
        const int p = cfg.patch;
        gm_sr *sr = make(&cfg);
        float *lo = floats(N * p * p), *hi = floats(N * 4 * p * p);
        pairs(lo, hi, N, p, 2, 1, 2);
        assert_int_equal(gm_sr_train_step(sr, lo, hi, N, p, p, NULL), GM_OK);
        const size_t allocs = gm_test_alloc.allocs;
        assert_int_equal(gm_sr_train_step(sr, lo, hi, N, p, p, NULL), GM_OK);
        assert_int_equal(gm_test_alloc.allocs, allocs);
        void *before, *after;
        size_t n0, n1;
        assert_int_equal(gm_sr_save_buffer(sr, &before, &n0), GM_OK);
        lo[5] = NAN;
        gm_test_expect_fail(gm_sr_train_step(sr, lo, hi, N, p, p, NULL), GM_ERR_INVALID_ARG, "gm_sr_train_step",
                            "lo[0][5]");
        lo[5] = 0.5f;
        hi[7] = 1.5f;
        gm_test_expect_fail(gm_sr_train_step(sr, lo, hi, N, p, p, NULL), GM_ERR_INVALID_ARG, "gm_sr_train_step",
                            "hi[0][7]");
        hi[7] = 0.5f;
        if (adv)
            gm_test_expect_fail(gm_sr_train_step(sr, lo, hi, N, p - 1, p - 1, NULL), GM_ERR_INVALID_ARG,
                                "gm_sr_train_step", "discriminator");
        /* weights blown up: the next forward overflows */
        gm_param_table *t = gm_sr_gen_table(sr);
        float *saved = floats(t->total);
        memcpy(saved, t->data, t->total * sizeof *saved);
        for (size_t i = 0; i < t->total; i++)
            t->data[i] *= 1e30f;
        void *blown;
        size_t nb;
        assert_int_equal(gm_sr_save_buffer(sr, &blown, &nb), GM_OK);
        gm_test_expect_fail(gm_sr_train_step(sr, lo, hi, N, p, p, NULL), GM_ERR_NUMERIC, "gm_sr_train_step", "");
        assert_int_equal(gm_sr_save_buffer(sr, &after, &n1), GM_OK);
        assert_int_equal(nb, n1);
        assert_memory_equal(blown, after, nb);
        gm_buffer_free(blown), gm_buffer_free(after);
        memcpy(t->data, saved, t->total * sizeof *saved);
        assert_int_equal(gm_sr_save_buffer(sr, &after, &n1), GM_OK);
        assert_int_equal(n0, n1);
        assert_memory_equal(before, after, n0);
        gm_buffer_free(before), gm_buffer_free(after);
        free(saved), free(lo), free(hi);
        gm_sr_free(sr);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_refusals),
        cmocka_unit_test(test_step_gradient),
        cmocka_unit_test(test_training_learns),
        cmocka_unit_test(test_tiles_equal_the_whole),
        cmocka_unit_test(test_luminance_path),
        cmocka_unit_test(test_patches),
        cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_checkpoint_resumes),
        cmocka_unit_test(test_failures_change_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
