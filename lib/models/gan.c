/* The GAN handle. Legend: N batch, D data, Z noise, C classes.
 * The discriminator sees real and generated rows in one batch of 2N,
 * [x | one-hot] each, real first. Its parameter table holds three optimizer
 * states: an update writes one the step did not start from, so a step that
 * fails part-way returns to its starting state with nothing copied. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "genmodel/gan.h"
#include "core/act.h"
#include "core/adam.h"
#include "core/adv_loss.h"
#include "core/alloc.h"
#include "core/blas.h"
#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/team.h"
#include "core/workspace.h"
#include "nn/grad_penalty.h"
#include "nn/net.h"
#include "nn/params.h"
#include "model.h"
#include "gan_internal.h"

/* inference runs in chunks of this many rows, as in vae.c */
#define CHUNK 1024

struct gm_gan {
    gm_gan_config cfg;
    gm_model_rows rows;  /* where a sample and its label sit in D's input */
    gm_param_table gen, disc;
    gm_net g, d;
    float *ema;          /* (gen.total) moving average of the generator's weights, or NULL */
    gm_rng rng;
    gm_team *team;       /* runs the products and Adam */
    gm_model_worker worker; /* its place in a data-parallel run (gm_gan_set_allreduce) */
    int threads;         /* the team's size: gm_threads() at the handle's first call that computes */
    gm_workspace ws, gp_ws;
    int batch;
    float *zin;          /* (N, Z + C) */
    float *din;          /* (2N, D + C): the discriminator's input */
    float *ddin;         /* (N, D + C): its gradient in a generator update */
    float *dfake;        /* (N, D): the generator output's gradient, when ddin is not already it */
    float *dlogit;       /* (2N) */
    float *noise;        /* (N, max(D, Z)): instance noise, z, or interpolation weights */
};

void gm_gan_config_init_size(gm_gan_config *out, size_t size)
{
    gm_gan_config c, *cfg = &c;
    memset(cfg, 0, sizeof *cfg);
    cfg->data_dim = 784;
    cfg->noise_dim = 64;
    cfg->n_gen_hidden = 2;
    cfg->gen_hidden[0] = 256;
    cfg->gen_hidden[1] = 512;
    cfg->n_disc_hidden = 2;
    cfg->disc_hidden[0] = 512;
    cfg->disc_hidden[1] = 256;
    cfg->activation = GM_ACT_LEAKY_RELU;
    cfg->leaky_slope = 0.2f;
    cfg->gen_output = GM_ACT_SIGMOID;
    cfg->loss = GM_GAN_HINGE;
    cfg->n_critic = 1;
    cfg->gp_weight = 10.0f;
    cfg->instance_noise = 0.0f;
    cfg->noise_anneal_steps = 10000;
    cfg->disc_norm = GM_NORM_SPECTRAL;
    cfg->ema_decay = 0.999f;
    gm_optimizer_config_default(&cfg->gen_optim, 2e-4f);
    cfg->gen_optim.beta1 = 0.5f;
    cfg->disc_optim = cfg->gen_optim;
    gm_config_fill(out, size, cfg, sizeof *cfg);
}

_Static_assert(GM_GAN_MAX_HIDDEN + 1 <= GM_MODEL_MAX_LAYERS, "a network's layers fit gm_model_net");

/* the generator and the discriminator of an MLP config */
static void describe(const gm_gan_config *c, gm_model_net nets[2])
{
    const int C = c->n_classes;
    gm_model_net_init(&nets[0], c->noise_dim + C, C ? "noise_dim + n_classes" : "noise_dim", c->n_gen_hidden,
                      c->gen_hidden, "gen_hidden", c->data_dim, "data_dim");
    gm_model_net_init(&nets[1], c->data_dim + C, C ? "data_dim + n_classes" : "data_dim", c->n_disc_hidden,
                      c->disc_hidden, "disc_hidden", 1, "the logit");
}

/* the generator and the discriminator as the config gives them */
static void topologies(const gm_gan_config *c, gm_model_topology top[2])
{
    const gm_shape image = c->n_conv ? (gm_shape){ c->image_channels, c->image_height, c->image_width }
                                     : (gm_shape){ c->data_dim, 1, 1 };
    top[0] = (gm_model_topology){ .image = image, .labels = c->n_classes, .n_conv = c->n_conv, .conv = c->conv_channels,
                                  .n_hidden = c->n_gen_hidden, .hidden = c->gen_hidden, .code = c->noise_dim,
                                  .act = c->activation, .out_act = c->gen_output, .slope = c->leaky_slope,
                                  .norm = c->gen_norm };
    top[1] = top[0];
    top[1].n_hidden = c->n_disc_hidden;
    top[1].hidden = c->disc_hidden;
    top[1].code = 1;
    top[1].out_act = GM_ACT_IDENTITY;
    top[1].norm = c->disc_norm;
    top[1].mbstd = c->minibatch_std;
}

gm_status gm_gan_config_check(const gm_gan_config *c, const char *who)
{
    /* each size within its maximum first, so no sum or product of them overflows */
    gm_status s;
    if ((s = gm_model_check_size(c->data_dim, 1, GM_MAX_DIM, "data_dim", -1, who)) != GM_OK ||
        (s = gm_model_check_size(c->noise_dim, 1, GM_MAX_DIM, "noise_dim", -1, who)) != GM_OK ||
        (s = gm_model_check_size(c->n_classes, 0, GM_MAX_CLASSES, "n_classes", -1, who)) != GM_OK ||
        (s = gm_model_check_hidden(c->n_gen_hidden, c->gen_hidden, GM_GAN_MAX_HIDDEN, "n_gen_hidden", "gen_hidden",
                                   who)) != GM_OK ||
        (s = gm_model_check_hidden(c->n_disc_hidden, c->disc_hidden, GM_GAN_MAX_HIDDEN, "n_disc_hidden",
                                   "disc_hidden", who)) != GM_OK)
        return s;
    if (!gm_act_valid(c->activation))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown activation %d", who, (int)c->activation);
    if (c->gen_norm != GM_NORM_NONE && c->gen_norm != GM_NORM_BATCH)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: gen_norm must be GM_NORM_NONE or GM_NORM_BATCH (got %d)", who,
                       (int)c->gen_norm);
    if (c->disc_norm != GM_NORM_NONE && c->disc_norm != GM_NORM_BATCH && c->disc_norm != GM_NORM_SPECTRAL)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: disc_norm must be GM_NORM_NONE, GM_NORM_BATCH or GM_NORM_SPECTRAL "
                       "(got %d)", who, (int)c->disc_norm);
    if (c->disc_norm == GM_NORM_BATCH && c->loss == GM_GAN_WGAN_GP)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: GM_GAN_WGAN_GP penalizes each sample's gradient, which batch "
                       "normalization in D mixes with the batch's: use disc_norm GM_NORM_NONE", who);
    if (c->minibatch_std != 0 && (c->minibatch_std < 2 || c->minibatch_std > GM_GAN_MAX_MBSTD_GROUP))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: minibatch_std must be 0 or in [2, %d] (got %d)", who,
                       GM_GAN_MAX_MBSTD_GROUP, (int)c->minibatch_std);
    if (c->minibatch_std != 0 && c->loss == GM_GAN_WGAN_GP)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: GM_GAN_WGAN_GP penalizes each sample's gradient, which the "
                       "minibatch-stddev feature mixes with its group's: use minibatch_std 0", who);
    if ((s = gm_model_check_image(&(gm_model_image){ c->data_dim, "data_dim", c->image_channels, c->image_height,
                                                     c->image_width, c->n_conv, c->conv_channels, c->n_classes },
                                  who)) != GM_OK)
        return s;
    if (c->n_conv) {
        /* declared, the networks count their weights exactly */
        gm_param_table t = { 0 };
        gm_net g, d;
        gm_model_topology top[2];
        topologies(c, top);
        s = gm_model_build_up(&g, &t, "gen", &top[0], who);
        if (s == GM_OK)
            s = gm_model_build_down(&d, &t, "disc", &top[1], who);
        if (s == GM_OK)
            s = gm_model_check_total(&t, who);
        gm_params_free(&t);
        if (s != GM_OK)
            return s;
    } else {
        gm_model_net nets[2];
        describe(c, nets);
        if ((s = gm_model_check_params(nets, 2, who)) != GM_OK)
            return s;
    }
    if (!(c->leaky_slope >= 0.0f && c->leaky_slope < 1.0f))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: leaky_slope must be in [0, 1)", who);
    if (c->gen_output != GM_ACT_SIGMOID && c->gen_output != GM_ACT_TANH)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: gen_output must be GM_ACT_SIGMOID or GM_ACT_TANH", who);
    if (!gm_adv_kind_valid(c->loss))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown loss %d", who, (int)c->loss);
    if (c->n_critic < 1 || c->n_critic > 100)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n_critic must be in [1, 100]", who);
    if (!(c->gp_weight >= 0.0f) || !isfinite(c->gp_weight))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: gp_weight must be >= 0", who);
    if (!(c->label_smoothing >= 0.0f && c->label_smoothing < 0.5f))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: label_smoothing must be in [0, 0.5)", who);
    if (!(c->instance_noise >= 0.0f) || !isfinite(c->instance_noise) || c->noise_anneal_steps < 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: instance_noise and noise_anneal_steps must be >= 0", who);
    if (!(c->ema_decay >= 0.0f && c->ema_decay < 1.0f))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: ema_decay must be in [0, 1)", who);
    char in[160];
    snprintf(in, sizeof in, "%s: gen_optim", who);
    s = gm_optimizer_config_check(&c->gen_optim, in);
    snprintf(in, sizeof in, "%s: disc_optim", who);
    return s != GM_OK ? s : gm_optimizer_config_check(&c->disc_optim, in);
}


gm_status gm_gan_create(const gm_gan_config *cfg, gm_gan **out)
{
    if (!out)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_gan_create: out is NULL");
    *out = NULL;
    gm_gan_config c;
    gm_gan_config_init(&c);
    gm_status s = gm_config_import(&c, sizeof c, cfg, GM_GAN_CONFIG_V1_SIZE, "gm_gan_create");
    if (s != GM_OK || (s = gm_gan_config_check(&c, "gm_gan_create")) != GM_OK)
        return s;
    gm_gan *gan = gm_calloc(1, sizeof *gan);
    if (!gan)
        return gm_fail(GM_ERR_NO_MEMORY, "gm_gan_create: out of memory");
    gan->cfg = c;
    const char *who = "gm_gan_create";
    gm_model_topology top[2];
    topologies(&c, top);
    gan->rows = gm_model_rows_of(c.data_dim, top[0].image, c.n_conv, c.n_classes);
    /* G's update ends a step: nothing after it can fail, so it is made in place */
    s = gm_model_build_up(&gan->g, &gan->gen, "gen", &top[0], who);
    if (s == GM_OK && (s = gm_params_alloc(&gan->gen, 1, who)) == GM_OK &&
        (s = gm_model_build_down(&gan->d, &gan->disc, "disc", &top[1], who)) == GM_OK)
        s = gm_params_alloc(&gan->disc, 3, who);
    if (s == GM_OK && c.ema_decay > 0.0f && !(gan->ema = gm_alloc_floats(gan->gen.total)))
        s = gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory", who);
    if (s != GM_OK) {
        gm_gan_free(gan);
        return s;
    }
    gm_rng_init(&gan->rng, c.seed);
    gm_net_init_weights(&gan->g, &gan->gen, &gan->rng);
    gm_net_init_weights(&gan->d, &gan->disc, &gan->rng);
    if (gan->ema)
        memcpy(gan->ema, gan->gen.data, gan->gen.total * sizeof *gan->ema);
    *out = gan;
    return GM_OK;
}

void gm_gan_free(gm_gan *gan)
{
    if (!gan)
        return;
    gm_net_free(&gan->g);
    gm_net_free(&gan->d);
    gm_team_free(gan->team);
    gm_params_free(&gan->gen);
    gm_params_free(&gan->disc);
    gm_free(gan->ema);
    gm_ws_free(&gan->ws);
    gm_ws_free(&gan->gp_ws);
    gm_free(gan);
}

gm_status gm_gan_get_config(const gm_gan *gan, gm_gan_config *cfg)
{
    if (!gan)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_gan_get_config: gan is NULL");
    return gm_config_export(cfg, &gan->cfg, sizeof gan->cfg, GM_GAN_CONFIG_V1_SIZE, "gm_gan_get_config");
}

int64_t gm_gan_step_count(const gm_gan *gan)
{
    return gan ? gan->gen.step : 0;
}

gm_status gm_gan_set_lr(gm_gan *gan, float gen_lr, float disc_lr)
{
    if (!gan || !(gen_lr > 0.0f) || !(disc_lr > 0.0f) || !isfinite(gen_lr) || !isfinite(disc_lr))
        return gm_fail(GM_ERR_INVALID_ARG, "gm_gan_set_lr: needs a GAN and learning rates > 0");
    gan->cfg.gen_optim.lr = gen_lr;
    gan->cfg.disc_optim.lr = disc_lr;
    return GM_OK;
}

/* ---- argument checks ---- */

static gm_status check_call(const gm_gan *gan, const void *in, const void *out, const int32_t *labels,
                            int32_t n, const char *who)
{
    if (!gan || !in || !out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    if (n < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n must be >= 1 (got %d)", who, (int)n);
    return gm_model_check_labels(labels, n, gan->cfg.n_classes, who);
}

/* D's input x (n, data_dim): any finite value. Not [0, 1] even with a
 * sigmoid generator: D is trained on real rows plus instance noise, which
 * leaves that interval, and a GAN has no likelihood that would give x a
 * domain of its own. */
static gm_status check_data(const gm_gan *gan, const float *x, int32_t n, const char *who)
{
    return gm_model_check_values("x", x, n, gan->cfg.data_dim, &gm_domain_finite, who);
}

/* ---- workspace and shared pieces ---- */

/* the workspace for N rows on the current team; with training, for the
 * backward passes too */
static gm_status reserve(gm_gan *gan, int N, bool training, const char *who)
{
    if (!gan->threads)
        gan->threads = gm_threads();
    gm_status s = gm_team_fit(&gan->team, gan->threads, who);
    gan->g.team = gan->d.team = gan->team;
    if (s != GM_OK)
        return s;
    if (N > gan->batch) {
        const size_t D = gan->cfg.data_dim, Z = gan->cfg.noise_dim, C = gan->cfg.n_classes, rows = (size_t)N;
        const size_t width = (size_t)gm_rows_width(&gan->rows);
        float **slots[] = { &gan->zin, &gan->din, &gan->ddin, &gan->dfake, &gan->dlogit, &gan->noise };
        const size_t counts[] = { rows * (Z + C), 2 * rows * width, rows * width, rows * D, 2 * rows,
                                  rows * (D > Z ? D : Z) };
        if ((s = gm_ws_carve(&gan->ws, 6, slots, counts, who)) != GM_OK)
            return s;
        gan->batch = N;
    }
    if ((s = gm_net_reserve(&gan->g, N, training, who)) != GM_OK)
        return s;
    return gm_net_reserve(&gan->d, 2 * N, training, who);
}

/* G(z) for fresh noise (or the caller's z), through the EMA weights if asked
 * (use_ema only when there are some) */
static const float *generate(gm_gan *gan, const float *z, const int32_t *labels, int N, int use_ema,
                             bool training)
{
    const int Z = gan->cfg.noise_dim, C = gan->cfg.n_classes;
    if (z) {
        for (int n = 0; n < N; n++)
            memcpy(gan->zin + (size_t)n * (Z + C), z + (size_t)n * Z, (size_t)Z * sizeof *z);
    } else {
        /* a training step's noise: this worker's rows of it */
        gm_model_normal_rows(training ? &gan->worker : NULL, &gan->rng, gan->noise, N, Z);
        for (int n = 0; n < N; n++)
            memcpy(gan->zin + (size_t)n * (Z + C), gan->noise + (size_t)n * Z, (size_t)Z * sizeof *z);
    }
    if (C)
        gm_model_onehot(gan->zin, Z + C, Z, labels, N, C);
    gm_param_table view = gan->gen;
    if (use_ema)
        view.data = gan->ema;
    return training ? gm_net_forward(&gan->g, &view, gan->zin, N) : gm_net_infer(&gan->g, &view, gan->zin, N);
}

/* the instance noise's sigma now: linear decay to 0 over the anneal steps */
static float noise_sigma(const gm_gan *gan)
{
    float s = gan->cfg.instance_noise;
    int64_t steps = gan->cfg.noise_anneal_steps;
    if (steps > 0)
        s *= gan->gen.step >= steps ? 0.0f : 1.0f - (float)gan->gen.step / (float)steps;
    return s;
}

typedef struct fill_pass {
    gm_gan *gan;
    float *rows;
    const float *x;
    float sigma;
    int N;
} fill_pass;

/* the member's share of the columns: for generated rows, the ones its
 * share of the generator's last layer wrote */
static void fill_job(const gm_member *self, void *arg)
{
    const fill_pass *p = arg;
    int d0, d1;
    gm_team_share(self, p->gan->cfg.data_dim, &d0, &d1);
    gm_model_rows_fill(&p->gan->rows, p->rows, p->x, p->gan->noise, p->sigma, p->N, d0, d1);
}

/* rows [at, at + N) of din = x (+ instance noise), then the label */
static void fill_disc_rows(gm_gan *gan, int at, const float *x, const int32_t *labels, int N)
{
    const int D = gan->cfg.data_dim;
    fill_pass p = { .gan = gan, .rows = gan->din + (size_t)at * gm_rows_width(&gan->rows), .x = x,
                    .sigma = noise_sigma(gan), .N = N };
    if (p.sigma > 0.0f)
        gm_model_normal_rows(&gan->worker, &gan->rng, gan->noise, N, D);
    gm_team_run_sized(gan->team, fill_job, &p, (double)N * D * GM_WORK_STREAM);
    if (gan->cfg.n_classes)
        gm_model_rows_label(&gan->rows, p.rows, labels, N);
}

/* the mean D(x) reported for a half of the logits */
static double mean_output(const gm_gan *gan, const float *logits, int N)
{
    int probability = gan->cfg.loss == GM_GAN_NONSATURATING || gan->cfg.loss == GM_GAN_MINIMAX;
    double sum = 0.0;
    for (int n = 0; n < N; n++)
        sum += probability ? 1.0 / (1.0 + exp(-(double)logits[n])) : logits[n];
    return sum / N;
}

/* ---- training ---- */

/* Gradients of the discriminator's loss on x against G(z), for noise z
 * and interpolation weights alpha (N) drawn fresh where NULL. */
static gm_status disc_gradients(gm_gan *gan, const float *x, const int32_t *labels, int N, const float *z,
                                const float *alpha, gm_gan_losses *l, const char *who)
{
    const gm_gan_config *c = &gan->cfg;
    const int width = gm_rows_width(&gan->rows);
    const float *fake = generate(gan, z, labels, N, 0, true);
    fill_disc_rows(gan, 0, x, labels, N);
    fill_disc_rows(gan, N, fake, labels, N);
    /* two batches, as PyTorch's D(real) then D(fake): batch norm takes each alone */
    const float *logits = gm_net_forward_stacked(&gan->d, &gan->disc, gan->din, 2 * N, 2);
    const float scale = 1.0f / (float)N;
    double real = gm_adv_loss(c->loss, GM_ADV_D_REAL, logits, N, 1.0f - c->label_smoothing, gan->dlogit, scale);
    double fake_loss = gm_adv_loss(c->loss, GM_ADV_D_FAKE, logits + N, N, 0.0f, gan->dlogit + N, scale);
    l->d_real = mean_output(gan, logits, N);
    l->d_fake = mean_output(gan, logits + N, N);
    gm_net_backward(&gan->d, &gan->disc, gan->din, gan->dlogit, NULL, 2 * N, GM_GRADS_SET);
    l->gp = 0.0;
    if (c->loss == GM_GAN_WGAN_GP && c->gp_weight > 0.0f) {
        /* x_hat = a x + (1 - a) G(z) per sample, over the rows D just saw */
        float *interp = gan->din + (size_t)N * width;
        if (!alpha) {
            gm_model_uniform_rows(&gan->worker, &gan->rng, gan->noise, N, 1, 0.0f, 1.0f);
            alpha = gan->noise;
        }
        /* the label columns, the same in both halves, stay as they are */
        const int group = gan->rows.c + gan->rows.C;
        for (int n = 0; n < N; n++) {
            const float *r = gan->din + (size_t)n * width;
            float *f = interp + (size_t)n * width, a = alpha[n];
            for (int at = 0; at < width; at += group)
                for (int d = at; d < at + gan->rows.c; d++)
                    f[d] = a * r[d] + (1.0f - a) * f[d];
        }
        gm_status s;
        l->gp = gm_grad_penalty(&gan->d, &gan->disc, &gan->gp_ws, interp, N, gan->rows.c, group, c->gp_weight, &s,
                                who);
        if (s != GM_OK)
            return s;
    }
    gm_net_weight_grads(&gan->d, &gan->disc);
    l->d_loss = real + fake_loss + l->gp;
    /* a worker's other workers wait in the reduction: it checks there */
    if (!gan->worker.fn && !isfinite(l->d_loss))
        return gm_fail(GM_ERR_NUMERIC, "%s: the discriminator's loss is %g; no update was made", who, l->d_loss);
    return GM_OK;
}

/* Gradients of the generator's loss through the (frozen) discriminator,
 * for the samples G made last: like the reference, a step's generator
 * update reuses the batch its discriminator update was shown. */
static gm_status gen_gradients(gm_gan *gan, const int32_t *labels, int N, gm_gan_losses *l, const char *who)
{
    const gm_gan_config *c = &gan->cfg;
    fill_disc_rows(gan, 0, gm_net_output(&gan->g), labels, N);
    const float *logits = gm_net_forward(&gan->d, &gan->disc, gan->din, N);
    l->g_loss = gm_adv_loss(c->loss, GM_ADV_G_FAKE, logits, N, 1.0f, gan->dlogit, 1.0f / (float)N);
    gm_net_backward(&gan->d, &gan->disc, gan->din, gan->dlogit, gan->ddin, N, GM_GRADS_SKIP);
    /* with label columns, the rows of dL/d(fake) are strided: gather them */
    float *dfake = gan->ddin;
    if (c->n_classes) {
        dfake = gan->dfake;
        gm_model_rows_gather(&gan->rows, dfake, gan->ddin, N);
    }
    gm_net_backward(&gan->g, &gan->gen, gan->zin, dfake, NULL, N, GM_GRADS_SET);
    if (!gan->worker.fn && !isfinite(l->g_loss))
        return gm_fail(GM_ERR_NUMERIC, "%s: the generator's loss is %g; no update was made", who, l->g_loss);
    return GM_OK;
}

/* The moving average's decay for the update after generator step t (from
 * 1): min(ema_decay, (t - 1) / (t + 9)). That is TensorFlow's
 * ExponentialMovingAverage warm-up, min(decay, (1 + n) / (10 + n)), counted
 * so that the first update copies the weights exactly. The average then
 * spans about the last tenth of the steps so far, until that reaches the
 * configured horizon (1 / (1 - decay): 1,000 steps for 0.999, at step
 * 10,000). A fixed 0.999 from step 1 keeps 67% of its weight on the random
 * initial generator at step 400, and Adam-style bias correction would
 * weigh those 400 steps almost evenly, the early ones included: both draw
 * grey noise while the raw generator already draws garments. The decay
 * depends on the step count alone, which a checkpoint holds and a failed
 * step leaves alone, so resumed and rolled-back runs average alike. */
static float ema_decay_now(const gm_gan *gan)
{
    const int64_t t = gan->gen.step;
    const double warm = (double)(t - 1) / (double)(t + 9);
    return warm < gan->cfg.ema_decay ? (float)warm : gan->cfg.ema_decay;
}

/* the member's rows of the moving average: those its Adam just wrote */
static void ema_job(const gm_member *self, void *arg)
{
    gm_gan *gan = arg;
    const float decay = ema_decay_now(gan);
    for (int p = 0; p < gan->gen.count; p++) {
        size_t begin, end;
        gm_params_share(self, &gan->gen, p, &begin, &end);
        for (size_t i = begin; i < end; i++)
            gan->ema[i] = decay * gan->ema[i] + (1.0f - decay) * gan->gen.data[i];
    }
}

/* With a hook: the discriminator's gradients and loss figures averaged
 * over the workers, and its loss checked, as every worker then checks it. */
static gm_status reduce_disc(gm_gan *gan, gm_gan_losses *l, const char *who)
{
    double figures[4] = { l->d_loss, l->d_real, l->d_fake, l->gp };
    gm_status s = gm_model_reduce(&gan->worker, &gan->disc, figures, 4, who);
    if (s != GM_OK || !gan->worker.fn)
        return s;
    l->d_loss = figures[0], l->d_real = figures[1], l->d_fake = figures[2], l->gp = figures[3];
    if (!isfinite(l->d_loss))
        return gm_fail(GM_ERR_NUMERIC, "%s: the discriminator's loss averaged over the workers is %g; no update was "
                       "made", who, l->d_loss);
    return GM_OK;
}

/* the same for the generator's */
static gm_status reduce_gen(gm_gan *gan, gm_gan_losses *l, const char *who)
{
    gm_status s = gm_model_reduce(&gan->worker, &gan->gen, &l->g_loss, 1, who);
    if (s == GM_OK && !isfinite(l->g_loss))
        s = gm_fail(GM_ERR_NUMERIC, "%s: the generator's loss averaged over the workers is %g; no update was made",
                    who, l->g_loss);
    return s;
}

gm_status gm_gan_set_allreduce(gm_gan *gan, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size)
{
    if (!gan)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_gan_set_allreduce: gan is NULL");
    return gm_model_set_worker(&gan->worker, fn, ctx, rank, size, "gm_gan_set_allreduce");
}

/* the fewest rows a training step takes */
static int least_batch(const gm_gan *gan)
{
    const int g = gm_net_min_batch(&gan->g), d = gm_net_min_batch(&gan->d);
    return g > d ? g : d;
}

gm_status gm_gan_train_step(gm_gan *gan, const float *x, const int32_t *labels, int32_t n, gm_gan_losses *losses)
{
    const char *who = "gm_gan_train_step";
    gm_status s = check_call(gan, x, x, labels, n, who);
    /* the discriminator sees the real and the generated rows as one batch of 2n */
    if (s == GM_OK && n > INT32_MAX / 2)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: n must be <= %d, since the discriminator sees 2n rows (got %d)", who,
                    (int)(INT32_MAX / 2), (int)n);
    if (s == GM_OK && gan->cfg.minibatch_std && n % gan->cfg.minibatch_std)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: n (%d) must be a multiple of minibatch_std (%d): D's groups", who, (int)n,
                    (int)gan->cfg.minibatch_std);
    if (s == GM_OK && n < least_batch(gan))
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: n must be >= %d: batch normalization needs two values per feature "
                    "(got %d)", who, least_batch(gan), (int)n);
    if (s == GM_OK)
        s = gm_model_check_global(&gan->worker, n, INT32_MAX / 2, who);
    if (s != GM_OK || (s = check_data(gan, x, n, who)) != GM_OK || (s = reserve(gan, n, true, who)) != GM_OK)
        return s;
    gm_net_begin_step(&gan->g, &gan->gen);
    gm_net_begin_step(&gan->d, &gan->disc);
    const gm_rng rng_before = gan->rng;
    float *first = gan->disc.data;
    const int64_t disc_step = gan->disc.step;
    gm_gan_losses l;
    for (int32_t k = 0; k < gan->cfg.n_critic && s == GM_OK; k++) {
        gm_net_refresh(&gan->d, &gan->disc);  /* spectral norm's power iteration: one per update of D */
        if ((s = disc_gradients(gan, x, labels, n, NULL, NULL, &l, who)) == GM_OK &&
            (s = reduce_disc(gan, &l, who)) == GM_OK && !gm_params_adam_step(&gan->disc, &gan->cfg.disc_optim, first, gan->team))
            s = gm_fail(GM_ERR_NUMERIC, "%s: a gradient of the discriminator is not finite; no update was made", who);
    }
    if (s == GM_OK && (s = gen_gradients(gan, labels, n, &l, who)) == GM_OK && (s = reduce_gen(gan, &l, who)) == GM_OK &&
        !gm_params_adam_step(&gan->gen, &gan->cfg.gen_optim, NULL, gan->team))
        s = gm_fail(GM_ERR_NUMERIC, "%s: a gradient of the generator is not finite; no update was made", who);
    if (s != GM_OK) {
        gm_params_use_state(&gan->disc, first);
        gan->disc.step = disc_step;
        gan->rng = rng_before;
        return s;
    }
    gm_net_commit(&gan->g, &gan->gen);
    gm_net_commit(&gan->d, &gan->disc);
    if (gan->ema)
        gm_team_run_sized(gan->team, ema_job, gan, (double)gan->gen.total * GM_WORK_STREAM);
    if (losses)
        *losses = l;
    return GM_OK;
}

gm_status gm_gan_disc_gradients(gm_gan *gan, const float *x, const int32_t *labels, int32_t n, const float *z,
                                const float *alpha, gm_gan_losses *losses)
{
    const char *who = "gm_gan_disc_gradients";
    gm_status s = reserve(gan, n, true, who);
    if (s != GM_OK)
        return s;
    /* the buffers as the model holds them, which these passes never change */
    gm_net_begin_step(&gan->g, &gan->gen);
    gm_net_begin_step(&gan->d, &gan->disc);
    return disc_gradients(gan, x, labels, n, z, alpha, losses, who);
}

gm_status gm_gan_gen_gradients(gm_gan *gan, const int32_t *labels, int32_t n, const float *z,
                               gm_gan_losses *losses)
{
    const char *who = "gm_gan_gen_gradients";
    gm_status s = reserve(gan, n, true, who);
    if (s != GM_OK)
        return s;
    gm_net_begin_step(&gan->g, &gan->gen);
    gm_net_begin_step(&gan->d, &gan->disc);
    generate(gan, z, labels, n, 0, true);
    return gen_gradients(gan, labels, n, losses, who);
}

gm_param_table *gm_gan_gen_table(gm_gan *gan)
{
    return &gan->gen;
}

gm_rng *gm_gan_rng(gm_gan *gan)
{
    return &gan->rng;
}

gm_param_table *gm_gan_disc_table(gm_gan *gan)
{
    return &gan->disc;
}

float *gm_gan_ema(gm_gan *gan)
{
    return gan->ema;
}

/* ---- inference ---- */

static int chunk_rows(int32_t n, int32_t at)
{
    return n - at < CHUNK ? (int)(n - at) : CHUNK;
}

/* after the arguments' checks: G of z (n, noise_dim), or of fresh noise when z is NULL */
static gm_status generate_rows(gm_gan *gan, const float *z, const int32_t *labels, int32_t n, int use_ema,
                               float *x_out, const char *who)
{
    gm_status s = reserve(gan, n < CHUNK ? n : CHUNK, false, who);
    if (s != GM_OK)
        return s;
    const int D = gan->cfg.data_dim, Z = gan->cfg.noise_dim;
    for (int32_t at = 0; at < n; at += CHUNK) {
        int N = chunk_rows(n, at);
        const float *rows = generate(gan, z ? z + (size_t)at * Z : NULL, labels ? labels + at : NULL, N, use_ema,
                                     false);
        memcpy(x_out + (size_t)at * D, rows, (size_t)N * D * sizeof *x_out);
    }
    return GM_OK;
}

gm_status gm_gan_generate(gm_gan *gan, const float *z, const int32_t *labels, int32_t n, int32_t use_ema,
                          float *x_out)
{
    const char *who = "gm_gan_generate";
    gm_status s = check_call(gan, z, x_out, labels, n, who);
    if (s == GM_OK && use_ema != 0 && use_ema != 1)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: use_ema must be 0 or 1 (got %d)", who, (int)use_ema);
    /* an average that does not exist is not silently replaced by the raw weights */
    if (s == GM_OK && use_ema && !gan->ema)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: use_ema is 1 but this GAN keeps no moving average (its ema_decay is 0)",
                    who);
    if (s != GM_OK || (s = gm_model_check_values("z", z, n, gan->cfg.noise_dim, &gm_domain_finite, who)) != GM_OK)
        return s;
    return generate_rows(gan, z, labels, n, use_ema, x_out, who);
}

gm_status gm_gan_sample(gm_gan *gan, const int32_t *labels, int32_t n, float *x_out)
{
    const char *who = "gm_gan_sample";
    gm_status s = check_call(gan, x_out, x_out, labels, n, who);
    return s != GM_OK ? s : generate_rows(gan, NULL, labels, n, gan->ema != NULL, x_out, who);
}

gm_status gm_gan_discriminate(gm_gan *gan, const float *x, const int32_t *labels, int32_t n, float *logits)
{
    const char *who = "gm_gan_discriminate";
    gm_status s = check_call(gan, x, logits, labels, n, who);
    if (s != GM_OK || (s = check_data(gan, x, n, who)) != GM_OK ||
        (s = reserve(gan, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    for (int32_t at = 0; at < n; at += CHUNK) {
        int N = chunk_rows(n, at);
        gm_model_rows_fill(&gan->rows, gan->din, x + (size_t)at * gan->cfg.data_dim, NULL, 0.0f, N, 0,
                           gan->cfg.data_dim);
        if (gan->cfg.n_classes)
            gm_model_rows_label(&gan->rows, gan->din, labels + at, N);
        memcpy(logits + at, gm_net_infer(&gan->d, &gan->disc, gan->din, N), (size_t)N * sizeof *logits);
    }
    return GM_OK;
}

gm_status gm_gan_shuffle(gm_gan *gan, int32_t *order, int32_t n)
{
    if (!gan || !order || n < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_gan_shuffle: needs a handle, an array and n >= 1");
    gm_rng_permutation(&gan->rng, order, n);
    return GM_OK;
}
