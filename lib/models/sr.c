/* The upscaler handle (genmodel/sr.h). Legend: N batch, C the model's
 * channels, s the scale, h x w a low-resolution image or patch, H x W =
 * s h x s w its high-resolution one.
 *
 * The upscaler g is one network of the layer stack: convolutions with
 * "same" padding, then a pixel shuffle, resized (gm_net_resize) to each
 * input size it meets. Its update ends a step, so its table keeps one
 * optimizer state, updated in place (as a GAN's generator). The
 * discriminator d, when adv_weight > 0, is the GAN's "down" network over a
 * high-resolution patch, with three states so that a step whose upscaler
 * update fails returns to where it started. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "genmodel/sr.h"
#include "core/act.h"
#include "core/adam.h"
#include "core/adv_loss.h"
#include "core/alloc.h"
#include "core/blas.h"
#include "core/config.h"
#include "core/error.h"
#include "core/workspace.h"
#include "io/dataset_internal.h"
#include "io/quality.h"
#include "io/resample.h"
#include "io/ycbcr.h"
#include "model.h"
#include "sr_internal.h"

/* an image is upscaled in tiles of this many low-resolution pixels a side
 * (plus the network's reach around them) */
#define TILE 128
/* the discriminator's dense layer */
#define DISC_HIDDEN 256

struct gm_sr {
    gm_sr_config cfg;
    gm_param_table gen, disc;  /* disc.count is 0 without a discriminator */
    gm_net g, d;
    int reach;                 /* low-resolution pixels an output pixel sees on each side */
    gm_rng rng;
    gm_team *team;
    int threads;
    gm_workspace ws;           /* a step's buffers */
    gm_workspace image_ws;     /* an image's planes and tiles (gm_sr_upscale) */
    float *dy;                 /* (N, H, W, C): the loss's gradient at g's output */
    float *din;                /* (2N, H, W, C): D's input, real then upscaled */
    float *ddin;               /* (N, H, W, C): its gradient in the upscaler's update */
    float *dlogit;             /* (2N) */
};

void gm_sr_config_init_size(gm_sr_config *out, size_t size)
{
    gm_sr_config c;
    memset(&c, 0, sizeof c);
    c.scale = 2;
    c.channels = 1;
    c.n_body = 2;
    c.body_channels[0] = 64;
    c.body_channels[1] = 32;
    c.body_kernel[0] = 5;
    c.body_kernel[1] = 3;
    c.out_kernel = 3;
    c.activation = GM_ACT_TANH;
    c.leaky_slope = 0.2f;
    c.patch = 17;
    c.pixel_loss = GM_SR_MSE;
    c.adv_weight = 0.0f;
    c.adv_loss = GM_GAN_NONSATURATING;
    c.n_disc_conv = 3;
    c.disc_channels[0] = 32;
    c.disc_channels[1] = 64;
    c.disc_channels[2] = 128;
    c.disc_norm = GM_NORM_SPECTRAL;
    gm_optimizer_config_default(&c.optim, 1e-3f);
    gm_optimizer_config_default(&c.disc_optim, 1e-4f);
    c.disc_optim.beta1 = 0.5f;
    gm_config_fill(out, size, &c, sizeof c);
}

/* ---- the networks ---- */

static gm_status build_upscaler(gm_net *g, gm_param_table *t, const gm_sr_config *c, int h, int w, const char *who)
{
    gm_layer_spec specs[GM_SR_MAX_BODY + 2];
    int n = 0;
    for (int i = 0; i < c->n_body; i++)
        specs[n++] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = c->body_channels[i], .act = c->activation,
                                      .k = c->body_kernel[i], .stride = 1, .pad = c->body_kernel[i] / 2 };
    const int s = c->scale;
    specs[n++] = (gm_layer_spec){ .ops = &gm_layer_conv, .out = c->channels * s * s, .act = GM_ACT_IDENTITY,
                                  .k = c->out_kernel, .stride = 1, .pad = c->out_kernel / 2 };
    specs[n++] = (gm_layer_spec){ .ops = &gm_layer_shuffle, .act = GM_ACT_IDENTITY, .factor = s };
    return gm_net_init(g, t, "sr", (gm_shape){ c->channels, h, w }, n, specs, c->leaky_slope, who);
}

static gm_model_topology disc_topology(const gm_sr_config *c)
{
    static const int32_t hidden[1] = { DISC_HIDDEN };
    const int side = c->scale * c->patch;
    return (gm_model_topology){ .image = { c->channels, side, side }, .n_conv = c->n_disc_conv,
                                .conv = c->disc_channels, .n_hidden = 1, .hidden = hidden, .code = 1,
                                .act = GM_ACT_LEAKY_RELU, .out_act = GM_ACT_IDENTITY, .slope = 0.2f,
                                .norm = c->disc_norm };
}

static bool odd_kernel(int32_t k)
{
    return k >= 1 && k <= GM_SR_MAX_KERNEL && k % 2 == 1;
}

gm_status gm_sr_config_check(const gm_sr_config *c, const char *who)
{
    gm_status s;
    if ((s = gm_model_check_size(c->scale, 2, 4, "scale", -1, who)) != GM_OK)
        return s;
    if (c->channels != 1 && c->channels != 3)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: channels must be 1 (the luminance) or 3 (RGB) (got %d)", who,
                       (int)c->channels);
    if ((s = gm_model_check_size(c->n_body, 1, GM_SR_MAX_BODY, "n_body", -1, who)) != GM_OK)
        return s;
    for (int i = 0; i < c->n_body; i++) {
        if ((s = gm_model_check_size(c->body_channels[i], 1, 1024, "body_channels", i, who)) != GM_OK)
            return s;
        if (!odd_kernel(c->body_kernel[i]))
            return gm_fail(GM_ERR_INVALID_ARG, "%s: body_kernel[%d] must be odd and in 1..%d (got %d)", who, i,
                           GM_SR_MAX_KERNEL, (int)c->body_kernel[i]);
    }
    if (!odd_kernel(c->out_kernel))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: out_kernel must be odd and in 1..%d (got %d)", who, GM_SR_MAX_KERNEL,
                       (int)c->out_kernel);
    if (!gm_act_valid(c->activation))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown activation %d", who, (int)c->activation);
    if (!(c->leaky_slope >= 0.0f && c->leaky_slope < 1.0f))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: leaky_slope must be in [0, 1)", who);
    if ((s = gm_model_check_size(c->patch, 1, GM_SR_MAX_PATCH / c->scale, "patch", -1, who)) != GM_OK)
        return s;
    if (c->pixel_loss != GM_SR_MSE && c->pixel_loss != GM_SR_L1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: pixel_loss must be GM_SR_MSE or GM_SR_L1 (got %d)", who,
                       (int)c->pixel_loss);
    if (!(c->adv_weight >= 0.0f) || !isfinite(c->adv_weight))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: adv_weight must be finite and >= 0", who);
    if (!gm_adv_kind_valid(c->adv_loss) || c->adv_loss == GM_GAN_WGAN_GP)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: adv_loss must be a gm_gan_loss other than GM_GAN_WGAN_GP (got %d)",
                       who, (int)c->adv_loss);
    if ((s = gm_model_check_size(c->n_disc_conv, 1, GM_MAX_CONV, "n_disc_conv", -1, who)) != GM_OK)
        return s;
    for (int i = 0; i < c->n_disc_conv; i++)
        if ((s = gm_model_check_size(c->disc_channels[i], 1, 1024, "disc_channels", i, who)) != GM_OK)
            return s;
    if (c->disc_norm != GM_NORM_NONE && c->disc_norm != GM_NORM_SPECTRAL)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: disc_norm must be GM_NORM_NONE or GM_NORM_SPECTRAL (got %d)", who,
                       (int)c->disc_norm);
    if (c->adv_weight > 0.0f && (c->scale * c->patch) >> c->n_disc_conv < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n_disc_conv %d is too many for the patch: its %d x %d pixels "
                       "(scale times patch) cannot be halved %d times", who, (int)c->n_disc_conv,
                       (int)(c->scale * c->patch), (int)(c->scale * c->patch), (int)c->n_disc_conv);
    /* declared, the networks count their weights exactly */
    gm_param_table t = { 0 };
    gm_net g, d;
    s = build_upscaler(&g, &t, c, c->patch, c->patch, who);
    if (s == GM_OK && c->adv_weight > 0.0f) {
        const gm_model_topology top = disc_topology(c);
        s = gm_model_build_down(&d, &t, "disc", &top, who);
    }
    if (s == GM_OK)
        s = gm_model_check_total(&t, who);
    gm_params_free(&t);
    if (s != GM_OK)
        return s;
    char in[160];
    snprintf(in, sizeof in, "%s: optim", who);
    s = gm_optimizer_config_check(&c->optim, in);
    snprintf(in, sizeof in, "%s: disc_optim", who);
    return s != GM_OK ? s : gm_optimizer_config_check(&c->disc_optim, in);
}

gm_status gm_sr_create(const gm_sr_config *cfg, gm_sr **out)
{
    const char *who = "gm_sr_create";
    if (!out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: out is NULL", who);
    *out = NULL;
    gm_sr_config c;
    gm_sr_config_init(&c);
    gm_status s = gm_config_import(&c, sizeof c, cfg, sizeof c, who);
    if (s != GM_OK || (s = gm_sr_config_check(&c, who)) != GM_OK)
        return s;
    gm_sr *sr = gm_calloc(1, sizeof *sr);
    if (!sr)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory", who);
    sr->cfg = c;
    s = build_upscaler(&sr->g, &sr->gen, &c, c.patch, c.patch, who);
    if (s == GM_OK)
        s = gm_params_alloc(&sr->gen, 1, who);
    if (s == GM_OK && c.adv_weight > 0.0f) {
        const gm_model_topology top = disc_topology(&c);
        if ((s = gm_model_build_down(&sr->d, &sr->disc, "disc", &top, who)) == GM_OK)
            s = gm_params_alloc(&sr->disc, 3, who);
    }
    if (s != GM_OK) {
        gm_sr_free(sr);
        return s;
    }
    for (int i = 0; i < c.n_body; i++)
        sr->reach += c.body_kernel[i] / 2;
    sr->reach += c.out_kernel / 2;
    gm_rng_init(&sr->rng, c.seed);
    gm_net_init_weights(&sr->g, &sr->gen, &sr->rng);
    if (sr->disc.count)
        gm_net_init_weights(&sr->d, &sr->disc, &sr->rng);
    *out = sr;
    return GM_OK;
}

void gm_sr_free(gm_sr *sr)
{
    if (!sr)
        return;
    gm_net_free(&sr->g);
    gm_net_free(&sr->d);
    gm_team_free(sr->team);
    gm_params_free(&sr->gen);
    gm_params_free(&sr->disc);
    gm_ws_free(&sr->ws);
    gm_ws_free(&sr->image_ws);
    gm_free(sr);
}

gm_status gm_sr_get_config(const gm_sr *sr, gm_sr_config *cfg)
{
    if (!sr)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_sr_get_config: sr is NULL");
    return gm_config_export(cfg, &sr->cfg, sizeof sr->cfg, sizeof sr->cfg, "gm_sr_get_config");
}

int64_t gm_sr_step_count(const gm_sr *sr)
{
    return sr ? sr->gen.step : 0;
}

gm_status gm_sr_set_lr(gm_sr *sr, float lr, float disc_lr)
{
    if (!sr || !(lr > 0.0f) || !(disc_lr > 0.0f) || !isfinite(lr) || !isfinite(disc_lr))
        return gm_fail(GM_ERR_INVALID_ARG, "gm_sr_set_lr: needs an upscaler and learning rates > 0");
    sr->cfg.optim.lr = lr;
    sr->cfg.disc_optim.lr = disc_lr;
    return GM_OK;
}

gm_param_table *gm_sr_gen_table(gm_sr *sr) { return &sr->gen; }
gm_param_table *gm_sr_disc_table(gm_sr *sr) { return sr->disc.count ? &sr->disc : NULL; }
gm_rng *gm_sr_rng(gm_sr *sr) { return &sr->rng; }
gm_net *gm_sr_net(gm_sr *sr) { return &sr->g; }

/* ---- the team and the upscaler's size ---- */

/* the team, and g taking inputs of h x w */
static gm_status fit(gm_sr *sr, int h, int w, const char *who)
{
    if (!sr->threads)
        sr->threads = gm_threads();
    gm_status s = gm_team_fit(&sr->team, sr->threads, who);
    sr->g.team = sr->d.team = sr->team;
    return s != GM_OK ? s : gm_net_resize(&sr->g, h, w, who);
}

static const gm_domain unit = { 0.0f, 1.0f, "[0, 1]" };

/* ---- training ---- */

/* the pixel loss of out against hi (count values), and its gradient into dy */
static double pixel_loss(int kind, const float *out, const float *hi, float *dy, size_t count)
{
    const double scale = 1.0 / (double)count;
    double sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        const double diff = (double)out[i] - hi[i];
        if (kind == GM_SR_MSE) {
            sum += diff * diff;
            dy[i] = (float)(2.0 * scale * diff);
        } else {
            sum += fabs(diff);
            dy[i] = (float)(diff > 0.0 ? scale : diff < 0.0 ? -scale : 0.0);
        }
    }
    return sum * scale;
}

/* One update of the discriminator: hi against the upscaled patches
 * (up, N rows of D values). */
static gm_status disc_update(gm_sr *sr, const float *hi, const float *up, int N, size_t D, gm_sr_losses *l,
                             const char *who)
{
    const gm_sr_config *c = &sr->cfg;
    memcpy(sr->din, hi, (size_t)N * D * sizeof *hi);
    memcpy(sr->din + (size_t)N * D, up, (size_t)N * D * sizeof *up);
    gm_net_refresh(&sr->d, &sr->disc);
    const float *logits = gm_net_forward_stacked(&sr->d, &sr->disc, sr->din, 2 * N, 2);
    const float scale = 1.0f / (float)N;
    l->d_loss = gm_adv_loss(c->adv_loss, GM_ADV_D_REAL, logits, N, 1.0f, sr->dlogit, scale) +
                gm_adv_loss(c->adv_loss, GM_ADV_D_FAKE, logits + N, N, 0.0f, sr->dlogit + N, scale);
    gm_net_backward(&sr->d, &sr->disc, sr->din, sr->dlogit, NULL, 2 * N, GM_GRADS_SET);
    gm_net_weight_grads(&sr->d, &sr->disc);
    if (!isfinite(l->d_loss))
        return gm_fail(GM_ERR_NUMERIC, "%s: the discriminator's loss is %g; no update was made", who, l->d_loss);
    if (!gm_params_adam_step(&sr->disc, &c->disc_optim, sr->disc.data, sr->team))
        return gm_fail(GM_ERR_NUMERIC, "%s: a gradient of the discriminator is not finite; no update was made", who);
    return GM_OK;
}

/* dy += adv_weight * the gradient of the upscaler's adversarial loss at up */
static void adv_gradient(gm_sr *sr, const float *up, int N, size_t D, gm_sr_losses *l)
{
    const gm_sr_config *c = &sr->cfg;
    memcpy(sr->din, up, (size_t)N * D * sizeof *up);
    const float *logits = gm_net_forward(&sr->d, &sr->disc, sr->din, N);
    l->g_adv = gm_adv_loss(c->adv_loss, GM_ADV_G_FAKE, logits, N, 1.0f, sr->dlogit, 1.0f / (float)N);
    gm_net_backward(&sr->d, &sr->disc, sr->din, sr->dlogit, sr->ddin, N, GM_GRADS_SKIP);
    for (size_t i = 0; i < (size_t)N * D; i++)
        sr->dy[i] += c->adv_weight * sr->ddin[i];
}

gm_status gm_sr_train_step(gm_sr *sr, const float *lo, const float *hi, int32_t n, int32_t h, int32_t w,
                           gm_sr_losses *losses)
{
    const char *who = "gm_sr_train_step";
    if (!sr || !lo || !hi)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    const gm_sr_config *c = &sr->cfg;
    const bool adv = sr->disc.count > 0;
    const int s = c->scale, most = GM_SR_MAX_PATCH / s;
    if (h < 1 || w < 1 || h > most || w > most)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: patches of %d x %d: each side must be in 1..%d at scale %d", who,
                       (int)h, (int)w, most, s);
    if (adv && (h != c->patch || w != c->patch))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the discriminator takes patches of %d x %d (got %d x %d)", who,
                       (int)c->patch, (int)c->patch, (int)h, (int)w);
    /* every row count a layer makes (N H W) fits an int */
    const size_t D = (size_t)h * s * w * s * c->channels;
    const int32_t most_n = (int32_t)(INT32_MAX / 2 / ((size_t)h * s * w * s * 64));
    if (n < 1 || n > most_n)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n must be in 1..%d for patches of %d x %d (got %d)", who,
                       (int)most_n, (int)h, (int)w, (int)n);
    gm_status st;
    if ((st = gm_model_check_values("lo", lo, n, h * w * c->channels, &unit, who)) != GM_OK ||
        (st = gm_model_check_values("hi", hi, n, (int32_t)D, &unit, who)) != GM_OK ||
        (st = fit(sr, h, w, who)) != GM_OK || (st = gm_net_reserve(&sr->g, n, true, who)) != GM_OK ||
        (adv && (st = gm_net_reserve(&sr->d, 2 * n, true, who)) != GM_OK))
        return st;
    float **slots[] = { &sr->dy, &sr->din, &sr->ddin, &sr->dlogit };
    const size_t counts[] = { n * D, adv ? 2 * n * D : 0, adv ? n * D : 0, adv ? 2 * (size_t)n : 0 };
    if ((st = gm_ws_carve(&sr->ws, 4, slots, counts, who)) != GM_OK)
        return st;
    gm_net_begin_step(&sr->g, &sr->gen);
    if (adv)
        gm_net_begin_step(&sr->d, &sr->disc);
    gm_sr_losses l = { 0 };
    const float *up = gm_net_forward(&sr->g, &sr->gen, lo, n);
    l.pixel = pixel_loss(c->pixel_loss, up, hi, sr->dy, n * D);
    if (!isfinite(l.pixel))
        return gm_fail(GM_ERR_NUMERIC, "%s: the pixel loss is %g; no update was made", who, l.pixel);
    float *first = sr->disc.data;
    const int64_t disc_step = sr->disc.step;
    if (adv) {
        if ((st = disc_update(sr, hi, up, n, D, &l, who)) != GM_OK)
            return st;
        adv_gradient(sr, up, n, D, &l);
    }
    gm_net_backward(&sr->g, &sr->gen, lo, sr->dy, NULL, n, GM_GRADS_SET);
    if (!isfinite(l.g_adv) || !gm_params_adam_step(&sr->gen, &c->optim, NULL, sr->team)) {
        if (adv) {
            gm_params_use_state(&sr->disc, first);
            sr->disc.step = disc_step;
        }
        return gm_fail(GM_ERR_NUMERIC, "%s: a gradient of the upscaler is not finite; no update was made", who);
    }
    gm_net_commit(&sr->g, &sr->gen);
    if (adv)
        gm_net_commit(&sr->d, &sr->disc);
    if (losses)
        *losses = l;
    return GM_OK;
}

/* ---- inference ---- */

/* The model's planes of an image x (h, w, c) in img: a Y model's
 * luminance (and the chroma, for colour, in cbcr), else the values. */
static void to_model(const gm_sr *sr, const float *x, size_t pixels, int c, float *img, float *cbcr)
{
    if (sr->cfg.channels == 3)
        memcpy(img, x, pixels * 3 * sizeof *x);
    else if (c == 3)
        gm_ycbcr_from_rgb(img, cbcr, x, pixels);
    else
        gm_ycbcr_luma(img, x, pixels, 1);
}

/* the tiles' side: min(side, TILE + 2 reach) */
static int tile_side(const gm_sr *sr, int side)
{
    return side < TILE + 2 * sr->reach ? side : TILE + 2 * sr->reach;
}

/* y (H, W, C) = g of x (h, w, C), in tiles of TILE x TILE output-centre
 * pixels, each run with the reach around it: every tile has the same
 * shape, so g is resized and carved once. A team takes `group` tiles at a
 * time, a member each. */
static gm_status upscale_planes(gm_sr *sr, const float *x, int h, int w, float *y, float *tiles, int group,
                                const char *who)
{
    const int C = sr->cfg.channels, s = sr->cfg.scale, r = sr->reach;
    const int th = tile_side(sr, h), tw = tile_side(sr, w);
    gm_status st = fit(sr, th, tw, who);
    if (st != GM_OK || (st = gm_net_reserve(&sr->g, group, false, who)) != GM_OK)
        return st;
    const size_t in_size = (size_t)th * tw * C, out_size = in_size * s * s;
    const int across = (w + TILE - 1) / TILE, count = (h + TILE - 1) / TILE * across;
    for (int first = 0; first < count; first += group) {
        const int n = count - first < group ? count - first : group;
        /* each tile's window [sy, sy + th) holds rows [y0 - r, y0 + TILE + r) or meets the image's edge */
        int y0[GM_MAX_THREADS], x0[GM_MAX_THREADS], sy[GM_MAX_THREADS], sx[GM_MAX_THREADS];
        for (int k = 0; k < n; k++) {
            y0[k] = (first + k) / across * TILE;
            x0[k] = (first + k) % across * TILE;
            sy[k] = y0[k] - r < 0 ? 0 : y0[k] - r > h - th ? h - th : y0[k] - r;
            sx[k] = x0[k] - r < 0 ? 0 : x0[k] - r > w - tw ? w - tw : x0[k] - r;
            for (int i = 0; i < th; i++)
                memcpy(tiles + k * in_size + (size_t)i * tw * C, x + ((size_t)(sy[k] + i) * w + sx[k]) * C,
                       (size_t)tw * C * sizeof *x);
        }
        const float *out = gm_net_infer(&sr->g, &sr->gen, tiles, n);
        /* each tile's output rows and columns of its centre, s times */
        for (int k = 0; k < n; k++) {
            const int rows = h - y0[k] < TILE ? h - y0[k] : TILE, cols = w - x0[k] < TILE ? w - x0[k] : TILE;
            for (int i = 0; i < rows * s; i++) {
                const float *src = out + k * out_size +
                                   ((size_t)((y0[k] - sy[k]) * s + i) * tw * s + (size_t)(x0[k] - sx[k]) * s) * C;
                memcpy(y + ((size_t)(y0[k] * s + i) * w * s + (size_t)x0[k] * s) * C, src,
                       (size_t)cols * s * C * sizeof *y);
            }
        }
    }
    return GM_OK;
}

/* after the arguments' checks: gm_sr_upscale */
static gm_status upscale(gm_sr *sr, const float *x, int h, int w, int c, float *y, const char *who)
{
    const int C = sr->cfg.channels, s = sr->cfg.scale;
    const size_t pixels = (size_t)h * w, big = pixels * s * s;
    const bool chroma = C == 1 && c == 3;
    /* a tile a member, as many as there are tiles */
    if (!sr->threads)
        sr->threads = gm_threads();
    const int tiles_in = ((h + TILE - 1) / TILE) * ((w + TILE - 1) / TILE);
    const int group = tiles_in < sr->threads ? tiles_in : sr->threads;
    float *img, *up, *cbcr, *cbcr_up, *tiles;
    float **slots[] = { &img, &up, &cbcr, &cbcr_up, &tiles };
    const size_t counts[] = { pixels * C, big * C, chroma ? pixels * 2 : 0, chroma ? big * 2 : 0,
                              (size_t)group * tile_side(sr, h) * tile_side(sr, w) * C };
    gm_status st = gm_ws_carve(&sr->image_ws, 5, slots, counts, who);
    if (st != GM_OK)
        return st;
    to_model(sr, x, pixels, c, img, cbcr);
    if ((st = upscale_planes(sr, img, h, w, up, tiles, group, who)) != GM_OK)
        return st;
    if (C == 3) {
        for (size_t i = 0; i < big * 3; i++)
            y[i] = up[i] < 0.0f ? 0.0f : up[i] > 1.0f ? 1.0f : up[i];
        return GM_OK;
    }
    if (chroma && (st = gm_resample_bicubic(who, cbcr, h, w, 2, cbcr_up, h * s, w * s)) != GM_OK)
        return st;
    gm_ycbcr_to_pixels(y, up, cbcr_up, big, c);
    return GM_OK;
}

/* the checks of an image of h x w pixels of c values for this model */
static gm_status check_image(const gm_sr *sr, int32_t h, int32_t w, int32_t c, const char *who)
{
    if (c != 1 && c != 3)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: an image has 1 (grey) or 3 (RGB) channels, not %d", who, (int)c);
    if (sr->cfg.channels == 3 && c != 3)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: this model upscales RGB, and the image is grey", who);
    const int64_t s = sr->cfg.scale;
    if (h < 1 || w < 1 || h > GM_MAX_DIM / s || w > GM_MAX_DIM / s ||
        (uint64_t)h * (uint64_t)w * (uint64_t)(s * s * c) > SIZE_MAX / sizeof(float) / 2)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: an image of %d x %d cannot be upscaled by %d", who, (int)h, (int)w,
                       (int)s);
    return GM_OK;
}

gm_status gm_sr_upscale(gm_sr *sr, const float *x, int32_t h, int32_t w, int32_t c, float *y)
{
    const char *who = "gm_sr_upscale";
    if (!sr || !x || !y)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    gm_status st = check_image(sr, h, w, c, who);
    if (st == GM_OK && (int64_t)w * c > INT32_MAX)
        st = gm_fail(GM_ERR_INVALID_ARG, "%s: an image row of %d x %d values is too long", who, (int)w, (int)c);
    if (st != GM_OK || (st = gm_model_check_values("x", x, h, w * c, &unit, who)) != GM_OK)
        return st;
    return upscale(sr, x, h, w, c, y, who);
}

/* ---- training pairs from a dataset, and the measure ---- */

gm_status gm_sr_patches(gm_sr *sr, const gm_dataset *ds, int32_t n, float *lo, float *hi)
{
    const char *who = "gm_sr_patches";
    if (!sr || !ds || !lo || !hi)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    if (n < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n must be >= 1 (got %d)", who, (int)n);
    const int C = sr->cfg.channels, s = sr->cfg.scale, p = sr->cfg.patch, side = s * p;
    const int32_t count = gm_dataset_count(ds), c = gm_dataset_channels(ds);
    gm_status st = gm_dataset_check_images(ds, who);
    if (st == GM_OK && C == 3 && c != 3)
        st = gm_fail(GM_ERR_INVALID_ARG, "%s: this model upscales RGB, and the dataset's images are grey", who);
    /* every image must hold a crop: checked before any draw */
    for (int32_t i = 0; i < count && st == GM_OK; i++) {
        int32_t ih, iw;
        gm_dataset_view_size(ds, i, &ih, &iw);
        if (ih < side || iw < side)
            st = gm_fail(GM_ERR_INVALID_ARG, "%s: image %d is %d x %d, smaller than the %d x %d crop (scale %d times "
                         "patch %d)", who, (int)i, (int)ih, (int)iw, side, side, s, p);
    }
    float *crop, *plane;
    float **slots[] = { &crop, &plane };
    const size_t counts[] = { (size_t)side * side * c, (size_t)side * side };
    if (st != GM_OK || (st = gm_ws_carve(&sr->image_ws, 2, slots, counts, who)) != GM_OK)
        return st;
    const size_t hd = (size_t)side * side * C, ld = (size_t)p * p * C;
    gm_rng rng = sr->rng;
    for (int32_t k = 0; k < n; k++) {
        const int32_t i = (int32_t)gm_rng_below(&rng, (uint64_t)count);
        int32_t ih, iw;
        gm_dataset_view_size(ds, i, &ih, &iw);
        const int32_t y0 = (int32_t)gm_rng_below(&rng, (uint64_t)(ih - side + 1));
        const int32_t x0 = (int32_t)gm_rng_below(&rng, (uint64_t)(iw - side + 1));
        gm_dataset_crop(ds, i, y0, x0, side, side, crop);
        float *h_k = hi + (size_t)k * hd;
        if (C == 3)
            memcpy(h_k, crop, hd * sizeof *crop);
        else
            gm_ycbcr_luma(h_k, crop, (size_t)side * side, c);
        if ((st = gm_resample_bicubic(who, h_k, side, side, C, lo + (size_t)k * ld, p, p)) != GM_OK)
            return st;
    }
    sr->rng = rng;
    return GM_OK;
}

gm_status gm_sr_evaluate(gm_sr *sr, const gm_dataset *ds, gm_sr_scores *scores)
{
    const char *who = "gm_sr_evaluate";
    if (!sr || !ds || !scores)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    const int s = sr->cfg.scale;
    const int32_t count = gm_dataset_count(ds), c = gm_dataset_channels(ds);
    gm_status st = gm_dataset_check_images(ds, who);
    if (st == GM_OK && sr->cfg.channels == 3 && c != 3)
        st = gm_fail(GM_ERR_INVALID_ARG, "%s: this model upscales RGB, and the dataset's images are grey", who);
    enum { LEAST = 11 };  /* SSIM's window */
    size_t most = 0;
    for (int32_t i = 0; i < count && st == GM_OK; i++) {
        int32_t ih, iw;
        gm_dataset_view_size(ds, i, &ih, &iw);
        if (ih / s - 2 < 1 || iw / s - 2 < 1 || ih / s * s - 2 * s < LEAST || iw / s * s - 2 * s < LEAST)
            st = gm_fail(GM_ERR_INVALID_ARG, "%s: image %d (%d x %d) is too small to measure at scale %d", who,
                         (int)i, (int)ih, (int)iw, s);
        else if ((size_t)ih * iw > most)
            most = (size_t)ih * iw;
    }
    if (st != GM_OK)
        return st;
    /* the original, its crop, the low-resolution image, both upscales and their luminances: one block */
    float *whole = gm_alloc_floats(most * c * 5 + most * 2 + 1);
    if (!whole)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for an image of %zu pixels", who, most);
    gm_sr_scores sum = { 0 };
    for (int32_t i = 0; i < count && st == GM_OK; i++) {
        int32_t ih, iw;
        gm_dataset_view_size(ds, i, &ih, &iw);
        const int32_t h = ih / s, w = iw / s, H = h * s, W = w * s;
        float *hr = whole + most * c, *lr = hr + most * c, *up = lr + most * c, *bic = up + most * c;
        float *ya = bic + most * c, *yb = ya + most;
        gm_dataset_crop(ds, i, 0, 0, ih, iw, whole);
        for (int32_t y = 0; y < H; y++)
            memcpy(hr + (size_t)y * W * c, whole + (size_t)y * iw * c, (size_t)W * c * sizeof *hr);
        if ((st = gm_resample_bicubic(who, hr, H, W, c, lr, h, w)) != GM_OK ||
            (st = gm_resample_bicubic(who, lr, h, w, c, bic, H, W)) != GM_OK ||
            (st = upscale(sr, lr, h, w, c, up, who)) != GM_OK)
            break;
        /* both on the luminance, a grey image's as R = G = B */
        gm_ycbcr_luma(ya, hr, (size_t)H * W, c);
        const float *pairs[2] = { up, bic };
        double q[2][2];
        for (int k = 0; k < 2 && st == GM_OK; k++) {
            gm_ycbcr_luma(yb, pairs[k], (size_t)H * W, c);
            if ((st = gm_quality_psnr(who, yb, ya, H, W, 1, s, GM_QUALITY_CHANNELS, &q[k][0])) == GM_OK)
                st = gm_quality_ssim(who, yb, ya, H, W, 1, s, GM_QUALITY_CHANNELS, &q[k][1]);
        }
        if (st != GM_OK)
            break;
        sum.psnr += q[0][0], sum.ssim += q[0][1], sum.bicubic_psnr += q[1][0], sum.bicubic_ssim += q[1][1];
        sum.images++;
    }
    gm_free(whole);
    if (st != GM_OK)
        return st;
    const double k = sum.images ? 1.0 / sum.images : 0.0;
    *scores = (gm_sr_scores){ sum.images, sum.psnr * k, sum.ssim * k, sum.bicubic_psnr * k, sum.bicubic_ssim * k };
    return GM_OK;
}
