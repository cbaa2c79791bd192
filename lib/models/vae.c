/* The VAE handle. Legend: N batch, D input, Z latent, C classes.
 * The encoder ends in one dense head whose rows are packed [mu | logvar]
 * (N, 2Z); the decoder ends in logits (N, D). A conditional VAE appends a
 * one-hot label to the encoder's input and to z. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "genmodel/vae.h"
#include "core/act.h"
#include "core/adam.h"
#include "core/alloc.h"
#include "core/blas.h"
#include "core/config.h"
#include "core/error.h"
#include "core/loss.h"
#include "core/rng.h"
#include "core/team.h"
#include "core/workspace.h"
#include "io/idx.h"
#include "nn/net.h"
#include "nn/params.h"
#include "model.h"
#include "nn/reparam.h"
#include "vae_internal.h"

/* a calibration keeps the scores' quantiles at k / (CAL_QUANTILES - 1) */
#define CAL_QUANTILES 1001

/* inference runs in chunks of this many rows, so its memory is bounded
 * (about 12 MB of workspace) while the products stay large */
#define CHUNK 1024

struct gm_vae {
    gm_vae_config cfg;
    gm_model_rows rows; /* where x and its label sit in the encoder's input */
    gm_param_table params;
    gm_net enc, dec;
    gm_rng rng;
    gm_team *team;      /* runs the products, the likelihood and Adam */
    gm_model_worker worker; /* its place in a data-parallel run (gm_vae_set_allreduce) */
    int threads;        /* the team's size: gm_threads() at the handle's first call that computes */
    gm_workspace ws;
    int batch, members; /* rows and team size the workspace is carved for */
    float *xs;          /* (N, D): x standardized; with standardize only */
    float *xin;         /* (N, D + C): x and its one-hot label; conditional only */
    float *zin;         /* (N, Z + C): z and its one-hot label */
    float *eps;         /* (N, Z) */
    float *dlogits;     /* (N, D) */
    float *dmulv;       /* (N, 2Z) */
    float *dzin;        /* (N, Z + C) */
    double *recon;      /* (members, N) per-sample terms: each member's sum over its columns */
    double *kl;         /* (N) per-sample terms */
    double *gap;        /* (N) log p(z) - log q(z|x) of a draw */
    double *acc, *acc2; /* (N) running sums of multi-draw estimates */
    float *knn;         /* (members, bank + Z): each member's distances and whitened mean */
    int latent;         /* with scoring: the buffers latent.mean (Z), latent.precision (Z, Z),
                           latent.rows (1, 0 until fitted), score.quantiles (CAL_QUANTILES),
                           score.setting (kind, m, fpr, threshold) and score.rows (1, 0 until
                           calibrated) follow at this index; else -1. With a latent_bank too,
                           latent.whiten (Z, Z) and latent.bank (Z, latent_bank) */
    int standard;       /* with standardize: the buffers input.mean (D), input.std (D) and
                           input.rows (1, 0 until fitted) follow at this index; else -1 */
};

void gm_vae_config_init_size(gm_vae_config *out, size_t size)
{
    gm_vae_config c, *cfg = &c;
    memset(cfg, 0, sizeof *cfg);
    cfg->input_dim = 784;
    cfg->latent_dim = 20;
    cfg->n_enc_hidden = 1;
    cfg->enc_hidden[0] = 400;
    cfg->n_dec_hidden = 1;
    cfg->dec_hidden[0] = 400;
    cfg->activation = GM_ACT_RELU;
    cfg->leaky_slope = 0.01f;
    cfg->likelihood = GM_LIKELIHOOD_BERNOULLI;
    cfg->beta = 1.0f;
    gm_optimizer_config_default(&cfg->optim, 1e-3f);
    cfg->scoring = 1;
    cfg->latent_bank = 8192;
    gm_config_fill(out, size, cfg, sizeof *cfg);
}

_Static_assert(GM_VAE_MAX_HIDDEN + 1 <= GM_MODEL_MAX_LAYERS, "a network's layers fit gm_model_net");

/* the encoder and the decoder of an MLP config */
static void describe(const gm_vae_config *c, gm_model_net nets[2])
{
    const int C = c->n_classes;
    gm_model_net_init(&nets[0], c->input_dim + C, C ? "input_dim + n_classes" : "input_dim", c->n_enc_hidden,
                      c->enc_hidden, "enc_hidden", 2 * c->latent_dim, "2 * latent_dim");
    gm_model_net_init(&nets[1], c->latent_dim + C, C ? "latent_dim + n_classes" : "latent_dim", c->n_dec_hidden,
                      c->dec_hidden, "dec_hidden", c->input_dim, "input_dim");
}

/* the encoder and the decoder as the config gives them */
static void topologies(const gm_vae_config *c, gm_model_topology top[2])
{
    const gm_shape image = c->n_conv ? (gm_shape){ c->image_channels, c->image_height, c->image_width }
                                     : (gm_shape){ c->input_dim, 1, 1 };
    top[0] = (gm_model_topology){ .image = image, .labels = c->n_classes, .n_conv = c->n_conv, .conv = c->conv_channels,
                                  .n_hidden = c->n_enc_hidden, .hidden = c->enc_hidden, .code = 2 * c->latent_dim,
                                  .act = c->activation, .out_act = GM_ACT_IDENTITY, .slope = c->leaky_slope,
                                  .norm = c->normalization };
    top[1] = top[0];
    top[1].n_hidden = c->n_dec_hidden;
    top[1].hidden = c->dec_hidden;
    top[1].code = c->latent_dim;
}

gm_status gm_vae_config_check(const gm_vae_config *c, const char *who)
{
    /* each size within its maximum first, so no sum or product of them overflows */
    gm_status s;
    if ((s = gm_model_check_size(c->input_dim, 1, GM_MAX_DIM, "input_dim", -1, who)) != GM_OK ||
        (s = gm_model_check_size(c->latent_dim, 1, GM_MAX_DIM, "latent_dim", -1, who)) != GM_OK ||
        (s = gm_model_check_size(c->n_classes, 0, GM_MAX_CLASSES, "n_classes", -1, who)) != GM_OK ||
        (s = gm_model_check_hidden(c->n_enc_hidden, c->enc_hidden, GM_VAE_MAX_HIDDEN, "n_enc_hidden", "enc_hidden",
                                   who)) != GM_OK ||
        (s = gm_model_check_hidden(c->n_dec_hidden, c->dec_hidden, GM_VAE_MAX_HIDDEN, "n_dec_hidden", "dec_hidden",
                                   who)) != GM_OK)
        return s;
    if (!gm_act_valid(c->activation))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown activation %d", who, (int)c->activation);
    if (c->scoring != 0 && c->scoring != 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: scoring must be 0 or 1 (got %d)", who, (int)c->scoring);
    if ((s = gm_model_check_size(c->latent_bank, 0, GM_VAE_MAX_BANK, "latent_bank", -1, who)) != GM_OK)
        return s;
    if (c->standardize != 0 && c->standardize != 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: standardize must be 0 or 1 (got %d)", who, (int)c->standardize);
    if (c->standardize && c->likelihood != GM_LIKELIHOOD_GAUSSIAN)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: standardize needs the Gaussian likelihood (standardized columns "
                       "are not in the Bernoulli likelihood's [0, 1])", who);
    if (c->normalization != GM_NORM_NONE && c->normalization != GM_NORM_BATCH)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: normalization must be GM_NORM_NONE or GM_NORM_BATCH (got %d)", who,
                       (int)c->normalization);
    if ((s = gm_model_check_image(&(gm_model_image){ c->input_dim, "input_dim", c->image_channels, c->image_height,
                                                     c->image_width, c->n_conv, c->conv_channels, c->n_classes },
                                  who)) != GM_OK)
        return s;
    if (c->n_conv) {
        /* declared, the networks count their weights exactly */
        gm_param_table t = { 0 };
        gm_net enc, dec;
        gm_model_topology top[2];
        topologies(c, top);
        s = gm_model_build_down(&enc, &t, "enc", &top[0], who);
        if (s == GM_OK)
            s = gm_model_build_up(&dec, &t, "dec", &top[1], who);
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
    if (c->likelihood != GM_LIKELIHOOD_BERNOULLI && c->likelihood != GM_LIKELIHOOD_GAUSSIAN)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown likelihood %d", who, (int)c->likelihood);
    if (!(c->beta >= 0.0f) || !isfinite(c->beta))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: beta must be >= 0", who);
    return gm_optimizer_config_check(&c->optim, who);
}

gm_status gm_vae_create(const gm_vae_config *cfg, gm_vae **out)
{
    if (!out)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_vae_create: out is NULL");
    *out = NULL;
    gm_vae_config c;
    gm_vae_config_init(&c);
    gm_status s = gm_config_import(&c, sizeof c, cfg, GM_VAE_CONFIG_V1_SIZE, "gm_vae_create");
    if (s != GM_OK || (s = gm_vae_config_check(&c, "gm_vae_create")) != GM_OK)
        return s;

    gm_vae *vae = gm_calloc(1, sizeof *vae);
    if (!vae)
        return gm_fail(GM_ERR_NO_MEMORY, "gm_vae_create: out of memory");
    vae->cfg = c;
    const char *who = "gm_vae_create";
    gm_model_topology top[2];
    topologies(&c, top);
    vae->rows = gm_model_rows_of(c.input_dim, top[0].image, c.n_conv, c.n_classes);
    s = gm_model_build_down(&vae->enc, &vae->params, "enc", &top[0], who);
    if (s == GM_OK)
        s = gm_model_build_up(&vae->dec, &vae->params, "dec", &top[1], who);
    vae->latent = -1;
    if (s == GM_OK && c.scoring) {
        const int64_t z[2] = { c.latent_dim, c.latent_dim }, one[1] = { 1 };
        if ((s = gm_params_add_buffer(&vae->params, "latent.mean", 1, z, &vae->latent, who)) == GM_OK &&
            (s = gm_params_add_buffer(&vae->params, "latent.precision", 2, z, NULL, who)) == GM_OK &&
            (s = gm_params_add_buffer(&vae->params, "latent.rows", 1, one, NULL, who)) == GM_OK &&
            (s = gm_params_add_buffer(&vae->params, "score.quantiles", 1, (const int64_t[]){ CAL_QUANTILES }, NULL,
                                      who)) == GM_OK &&
            (s = gm_params_add_buffer(&vae->params, "score.setting", 1, (const int64_t[]){ 4 }, NULL, who)) == GM_OK)
            s = gm_params_add_buffer(&vae->params, "score.rows", 1, one, NULL, who);
        const int64_t bank[2] = { c.latent_dim, c.latent_bank };
        if (s == GM_OK && c.latent_bank &&
            (s = gm_params_add_buffer(&vae->params, "latent.whiten", 2, z, NULL, who)) == GM_OK)
            s = gm_params_add_buffer(&vae->params, "latent.bank", 2, bank, NULL, who);
    }
    vae->standard = -1;
    if (s == GM_OK && c.standardize) {
        const int64_t d[1] = { c.input_dim }, one[1] = { 1 };
        if ((s = gm_params_add_buffer(&vae->params, "input.mean", 1, d, &vae->standard, who)) == GM_OK &&
            (s = gm_params_add_buffer(&vae->params, "input.std", 1, d, NULL, who)) == GM_OK)
            s = gm_params_add_buffer(&vae->params, "input.rows", 1, one, NULL, who);
    }
    if (s == GM_OK)
        s = gm_params_alloc(&vae->params, 1, who);  /* one update per step, in place */
    if (s != GM_OK) {
        gm_vae_free(vae);
        return s;
    }
    gm_rng_init(&vae->rng, c.seed);
    gm_net_init_weights(&vae->enc, &vae->params, &vae->rng);
    gm_net_init_weights(&vae->dec, &vae->params, &vae->rng);
    *out = vae;
    return GM_OK;
}

void gm_vae_free(gm_vae *vae)
{
    if (!vae)
        return;
    gm_net_free(&vae->enc);
    gm_net_free(&vae->dec);
    gm_team_free(vae->team);
    gm_params_free(&vae->params);
    gm_ws_free(&vae->ws);
    gm_free(vae);
}

gm_status gm_vae_get_config(const gm_vae *vae, gm_vae_config *cfg)
{
    if (!vae)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_vae_get_config: vae is NULL");
    return gm_config_export(cfg, &vae->cfg, sizeof vae->cfg, GM_VAE_CONFIG_V1_SIZE, "gm_vae_get_config");
}

int64_t gm_vae_step_count(const gm_vae *vae)
{
    return vae ? vae->params.step : 0;
}

gm_status gm_vae_set_lr(gm_vae *vae, float lr)
{
    if (!vae || !(lr > 0.0f) || !isfinite(lr))
        return gm_fail(GM_ERR_INVALID_ARG, "gm_vae_set_lr: needs a VAE and lr > 0");
    vae->cfg.optim.lr = lr;
    return GM_OK;
}

gm_status gm_vae_fit_standardization(gm_vae *vae, const float *x, int32_t n)
{
    const char *who = "gm_vae_fit_standardization";
    if (!vae || !x)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    if (vae->standard < 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: this VAE does not standardize its inputs (standardize is 0)", who);
    if (n < 2)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: a standard deviation needs n >= 2 rows (got %d)", who, (int)n);
    if (vae->params.step > 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the model has trained %lld steps on the statistics it has; "
                       "refitting them would change what its weights take", who, (long long)vae->params.step);
    const int D = vae->cfg.input_dim;
    gm_status s = gm_model_check_values("x", x, n, D, &gm_domain_finite, who);
    double *sum = s == GM_OK ? gm_calloc(2 * (size_t)D, sizeof *sum) : NULL;
    if (s != GM_OK)
        return s;
    if (!sum)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d columns", who, D);
    double *sq = sum + D;
    for (int32_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++)
            sum[j] += x[(size_t)i * D + j];
    for (int j = 0; j < D; j++)
        sum[j] /= n;
    for (int32_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++) {
            const double d = x[(size_t)i * D + j] - sum[j];
            sq[j] += d * d;
        }
    float *mean = gm_param_data(&vae->params, vae->standard), *std = gm_param_data(&vae->params, vae->standard + 1);
    for (int j = 0; j < D && s == GM_OK; j++) {
        const float sd = (float)sqrt(sq[j] / n);
        if (!(sd > 0.0f))
            s = gm_fail(GM_ERR_INVALID_ARG, "%s: column %d of x (counting from 0) is constant (%g in every row): "
                        "it carries nothing to model; drop it", who, j, sum[j]);
        else if (!isfinite(sd))
            s = gm_fail(GM_ERR_INVALID_ARG, "%s: column %d of x (counting from 0) spreads beyond a float's range",
                        who, j);
    }
    for (int j = 0; j < D && s == GM_OK; j++) {
        mean[j] = (float)sum[j];
        std[j] = (float)sqrt(sq[j] / n);
    }
    if (s == GM_OK)
        *gm_param_data(&vae->params, vae->standard + 2) = (float)n;
    gm_free(sum);
    return s;
}

/* ---- argument checks ---- */

static gm_status check_args(const gm_vae *vae, const void *in, const void *out, int32_t n, const char *who)
{
    if (!vae || !in || !out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    if (n < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n must be >= 1 (got %d)", who, (int)n);
    return GM_OK;
}

static gm_status check_call(const gm_vae *vae, const void *in, const void *out, const int32_t *labels,
                            int32_t n, const char *who)
{
    gm_status s = check_args(vae, in, out, n, who);
    return s != GM_OK ? s : gm_model_check_labels(labels, n, vae->cfg.n_classes, who);
}

/* x must lie in the likelihood's domain: a NaN fails every comparison */
/* a VAE that standardizes takes and returns values of x only once fitted */
static gm_status check_standardized(const gm_vae *vae, const char *who)
{
    if (vae->standard >= 0 && *gm_param_data(&vae->params, vae->standard + 2) < 2.0f)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: this VAE standardizes its inputs: fit the standardization on the "
                       "training data first (gm_vae_fit_standardization)", who);
    return GM_OK;
}

static gm_status check_data(const gm_vae *vae, const float *x, int32_t n, const char *who)
{
    static const gm_domain bernoulli = { 0.0f, 1.0f, "the Bernoulli likelihood's [0, 1]" };
    static const gm_domain gaussian = { -FLT_MAX, FLT_MAX, "the Gaussian likelihood's domain (finite)" };
    const bool is_bernoulli = vae->cfg.likelihood == GM_LIKELIHOOD_BERNOULLI;
    gm_status s = check_standardized(vae, who);
    if (s != GM_OK)
        return s;
    return gm_model_check_values("x", x, n, vae->cfg.input_dim, is_bernoulli ? &bernoulli : &gaussian, who);
}

/* z, mu or logvar (n, latent_dim): any finite value */
static gm_status check_latent(const gm_vae *vae, const char *name, const float *z, int32_t n, const char *who)
{
    return gm_model_check_values(name, z, n, vae->cfg.latent_dim, &gm_domain_finite, who);
}

/* ---- workspace and the pieces every pass shares ---- */

/* the workspace for N rows on the current team; with training, for the
 * backward passes too */
static gm_status reserve(gm_vae *vae, int N, bool training, const char *who)
{
    if (!vae->threads)
        vae->threads = gm_threads();
    gm_status s = gm_team_fit(&vae->team, vae->threads, who);
    vae->enc.team = vae->dec.team = vae->team;
    if (s != GM_OK)
        return s;
    const int members = gm_team_size(vae->team);
    if (N > vae->batch || members > vae->members) {
        const int rows_fit = N > vae->batch ? N : vae->batch, parts = members > vae->members ? members : vae->members;
        const size_t D = vae->cfg.input_dim, Z = vae->cfg.latent_dim, C = vae->cfg.n_classes;
        const size_t rows = (size_t)rows_fit, dbl = 2 * rows; /* a double is two floats */
        float *recon, *kl, *gap, *acc, *acc2;
        const size_t bank = vae->latent >= 0 ? (size_t)vae->cfg.latent_bank : 0;
        float **slots[] = { &vae->xs, &vae->xin, &vae->zin, &vae->eps, &vae->dlogits, &vae->dmulv, &vae->dzin,
                            &recon, &kl, &gap, &acc, &acc2, &vae->knn };
        const size_t counts[] = { vae->standard >= 0 ? rows * D : 0, C ? rows * gm_rows_width(&vae->rows) : 0,
                                  rows * (Z + C), rows * Z, rows * D, rows * 2 * Z, rows * (Z + C), dbl * parts, dbl,
                                  dbl, dbl, dbl, bank ? parts * (bank + Z) : 0 };
        if ((s = gm_ws_carve(&vae->ws, 13, slots, counts, who)) != GM_OK)
            return s;
        /* the slots are 64-byte aligned, so they hold doubles as well */
        vae->recon = (double *)(void *)recon;
        vae->kl = (double *)(void *)kl;
        vae->gap = (double *)(void *)gap;
        vae->acc = (double *)(void *)acc;
        vae->acc2 = (double *)(void *)acc2;
        vae->batch = rows_fit;
        vae->members = parts;
    }
    if ((s = gm_net_reserve(&vae->enc, N, training, who)) != GM_OK)
        return s;
    return gm_net_reserve(&vae->dec, N, training, who);
}

typedef struct standard_pass {
    const float *mean, *std, *in;
    float *out;
    int N, D;
    bool back;  /* out = in * std + mean, else (in - mean) / std */
} standard_pass;

static void standard_job(const gm_member *self, void *arg)
{
    const standard_pass *p = arg;
    int n0, n1;
    gm_team_share(self, p->N, &n0, &n1);
    for (int n = n0; n < n1; n++) {
        const float *in = p->in + (size_t)n * p->D;
        float *out = p->out + (size_t)n * p->D;
        if (p->back)
            for (int j = 0; j < p->D; j++)
                out[j] = in[j] * p->std[j] + p->mean[j];
        else
            for (int j = 0; j < p->D; j++)
                out[j] = (in[j] - p->mean[j]) / p->std[j];
    }
}

/* with standardize, map N rows into the standardized space or back from it */
static void standardize(gm_vae *vae, const float *in, float *out, int N, bool back)
{
    standard_pass p = { .mean = gm_param_data(&vae->params, vae->standard),
                        .std = gm_param_data(&vae->params, vae->standard + 1), .in = in, .out = out, .N = N,
                        .D = vae->cfg.input_dim, .back = back };
    gm_team_run_sized(vae->team, standard_job, &p, (double)N * p.D);
}

/* the x the networks and the likelihood see for the rows encode() took last */
static const float *seen(const gm_vae *vae, const float *x)
{
    return vae->standard >= 0 ? vae->xs : x;
}

/* q(z|x) for N rows: returns the packed [mu | logvar] (N, 2Z); a backward
 * pass follows when training */
static const float *encode(gm_vae *vae, const float *x, const int32_t *labels, int N, bool training)
{
    const float *in = x;
    if (vae->standard >= 0) {
        standardize(vae, x, vae->xs, N, false);
        in = vae->xs;
    }
    if (vae->cfg.n_classes) {
        gm_model_rows_fill(&vae->rows, vae->xin, in, NULL, 0.0f, N, 0, vae->cfg.input_dim);
        gm_model_rows_label(&vae->rows, vae->xin, labels, N);
        in = vae->xin;
    }
    return training ? gm_net_forward(&vae->enc, &vae->params, in, N) : gm_net_infer(&vae->enc, &vae->params, in, N);
}

/* the encoder's input for these rows, as encode() left it */
static const float *encoder_input(const gm_vae *vae, const float *x)
{
    return vae->cfg.n_classes ? vae->xin : seen(vae, x);
}

/* zin = mu + sigma * eps with fresh eps, or mu itself when draw is 0 */
static void fill_z(gm_vae *vae, const float *mulv, const int32_t *labels, int N, int draw)
{
    const int Z = vae->cfg.latent_dim, C = vae->cfg.n_classes;
    if (draw) {
        gm_rng_normal(&vae->rng, vae->eps, (size_t)N * Z);
        gm_reparam_forward(vae->zin, Z + C, mulv, mulv + Z, 2 * Z, vae->eps, N, Z);
    } else {
        for (int n = 0; n < N; n++)
            memcpy(vae->zin + (size_t)n * (Z + C), mulv + (size_t)n * 2 * Z, (size_t)Z * sizeof *mulv);
    }
    if (C)
        gm_model_onehot(vae->zin, Z + C, Z, labels, N, C);
}

typedef struct likelihood_pass {
    gm_vae *vae;
    const float *logits, *x;
    float *dlogits, *mean;
    float scale;
    int N;
} likelihood_pass;

/* -log p(x|z) over the member's share of the columns, into its row of
 * vae->recon, and its gradient: the columns its share of the decoder's
 * last layer computed and its backward pass will read */
static void bernoulli_job(const gm_member *self, void *arg)
{
    const likelihood_pass *p = arg;
    const int D = p->vae->cfg.input_dim;
    int d0, d1;
    gm_team_share(self, D, &d0, &d1);
    gm_bce_logits_ld(p->vae->recon + (size_t)self->rank * p->N, p->dlogits ? p->dlogits + d0 : NULL,
                     p->logits + d0, p->x + d0, p->scale, p->N, d1 - d0, D);
}

/* decoder logits of zin, and -log p(x|z) of each row into vae->recon;
 * with dlogits, its gradient too (scale per sample), in the same pass */
static const float *decode_recon(gm_vae *vae, const float *x, int N, float *dlogits, float scale)
{
    const int D = vae->cfg.input_dim;
    const float *logits = gm_net_forward(&vae->dec, &vae->params, vae->zin, N);
    if (vae->cfg.likelihood == GM_LIKELIHOOD_GAUSSIAN) {
        gm_gaussian_nll(vae->recon, dlogits, NULL, logits, NULL, x, scale, N, D);
        return logits;
    }
    likelihood_pass p = { .vae = vae, .logits = logits, .x = x, .dlogits = dlogits, .scale = scale, .N = N };
    const int members = gm_team_run_sized(vae->team, bernoulli_job, &p, (double)N * D * GM_WORK_EXP_LOG);
    for (int r = 1; r < members; r++)
        for (int n = 0; n < N; n++)
            vae->recon[n] += vae->recon[(size_t)r * N + n];
    return logits;
}

/* by rows, as gm_net_infer hands them out when there are enough of them */
static void mean_job(const gm_member *self, void *arg)
{
    const likelihood_pass *p = arg;
    const int D = p->vae->cfg.input_dim;
    int n0, n1;
    gm_team_share(self, p->N, &n0, &n1);
    const size_t at = (size_t)n0 * D, count = (size_t)(n1 - n0) * D;
    memcpy(p->mean + at, p->logits + at, count * sizeof *p->mean);
    if (p->vae->cfg.likelihood == GM_LIKELIHOOD_BERNOULLI)
        gm_act_forward(p->mean + at, NULL, n1 - n0, D, GM_ACT_SIGMOID, 0.0f);
}

/* the decoder's mean: probabilities for Bernoulli, the output for Gaussian
 * (mapped back to x's scale when the model standardizes) */
static void decoder_mean(gm_vae *vae, const float *logits, int N, float *out)
{
    if (vae->standard >= 0) {
        standardize(vae, logits, out, N, true);
        return;
    }
    likelihood_pass p = { .vae = vae, .logits = logits, .mean = out, .N = N };
    gm_team_run_sized(vae->team, mean_job, &p, (double)N * vae->cfg.input_dim * GM_WORK_EXP);
}

static void average_losses(const gm_vae *vae, int N, gm_vae_losses *l)
{
    double recon = 0.0, kl = 0.0;
    for (int n = 0; n < N; n++) {
        recon += vae->recon[n];
        kl += vae->kl[n];
    }
    l->recon = recon / N;
    l->kl = kl / N;
    l->neg_elbo = l->recon + l->kl;
    l->loss = l->recon + vae->cfg.beta * l->kl;
}

/* ---- training: gradients, the reduction across workers (with a hook), then the update ---- */

/* The gradient phase of a step, with vae->eps already drawn: fills the
 * table's gradients and *l. GM_ERR_NUMERIC for a non-finite loss; the
 * update checks the gradients. */
static gm_status gradients(gm_vae *vae, const float *x, const int32_t *labels, int n, gm_vae_losses *l,
                           const char *who)
{
    const int Z = vae->cfg.latent_dim, C = vae->cfg.n_classes;
    /* the objective is the batch mean, so every gradient carries 1/N */
    const float scale = 1.0f / (float)n;
    const float *mulv = encode(vae, x, labels, n, true);
    gm_reparam_forward(vae->zin, Z + C, mulv, mulv + Z, 2 * Z, vae->eps, n, Z);
    if (C)
        gm_model_onehot(vae->zin, Z + C, Z, labels, n, C);
    decode_recon(vae, seen(vae, x), n, vae->dlogits, scale);
    gm_kl_normal_forward(vae->kl, mulv, mulv + Z, 2 * Z, n, Z);
    average_losses(vae, n, l);
    /* a worker's other workers wait in the reduction: it checks there */
    if (!vae->worker.fn && !isfinite(l->loss))
        return gm_fail(GM_ERR_NUMERIC, "%s: the loss is %g; no update was made", who, l->loss);

    gm_net_backward(&vae->dec, &vae->params, vae->zin, vae->dlogits, vae->dzin, n, GM_GRADS_SET);
    gm_kl_normal_backward(vae->dmulv, vae->dmulv + Z, mulv, mulv + Z, 2 * Z, scale * vae->cfg.beta, n, Z);
    gm_reparam_backward(vae->dmulv, vae->dmulv + Z, 2 * Z, vae->dzin, Z + C, mulv + Z, vae->eps, n, Z);
    gm_net_backward(&vae->enc, &vae->params, encoder_input(vae, x), vae->dmulv, NULL, n, GM_GRADS_SET);
    return GM_OK;
}

/* With a hook: the gradients and the loss terms averaged over the
 * workers, and the loss checked, as every worker then checks it. */
static gm_status reduce(gm_vae *vae, gm_vae_losses *l, const char *who)
{
    double figures[2] = { l->recon, l->kl };
    gm_status s = gm_model_reduce(&vae->worker, &vae->params, figures, 2, who);
    if (s != GM_OK || !vae->worker.fn)
        return s;
    l->recon = figures[0];
    l->kl = figures[1];
    l->neg_elbo = l->recon + l->kl;
    l->loss = l->recon + vae->cfg.beta * l->kl;
    if (!isfinite(l->loss))
        return gm_fail(GM_ERR_NUMERIC, "%s: the loss averaged over the workers is %g; no update was made", who,
                       l->loss);
    return GM_OK;
}

gm_status gm_vae_set_allreduce(gm_vae *vae, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size)
{
    if (!vae)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_vae_set_allreduce: vae is NULL");
    return gm_model_set_worker(&vae->worker, fn, ctx, rank, size, "gm_vae_set_allreduce");
}

/* the fewest rows a training step takes */
static int least_batch(const gm_vae *vae)
{
    const int e = gm_net_min_batch(&vae->enc), d = gm_net_min_batch(&vae->dec);
    return e > d ? e : d;
}

gm_status gm_vae_train_step(gm_vae *vae, const float *x, const int32_t *labels, int32_t n,
                            gm_vae_losses *losses)
{
    const char *who = "gm_vae_train_step";
    gm_status s = check_call(vae, x, x, labels, n, who);
    if (s == GM_OK && n < least_batch(vae))
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: n must be >= %d: batch normalization needs two values per feature "
                    "(got %d)", who, least_batch(vae), (int)n);
    if (s == GM_OK)
        s = gm_model_check_global(&vae->worker, n, INT32_MAX, who);
    if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK || (s = reserve(vae, n, true, who)) != GM_OK)
        return s;
    gm_net_begin_step(&vae->enc, &vae->params);
    gm_net_begin_step(&vae->dec, &vae->params);
    const gm_rng rng_before = vae->rng;
    gm_model_normal_rows(&vae->worker, &vae->rng, vae->eps, n, vae->cfg.latent_dim);
    gm_vae_losses l;
    if ((s = gradients(vae, x, labels, n, &l, who)) == GM_OK && (s = reduce(vae, &l, who)) == GM_OK &&
        !gm_params_adam_step(&vae->params, &vae->cfg.optim, NULL, vae->team))
        s = gm_fail(GM_ERR_NUMERIC, "%s: a gradient is not finite; no update was made", who);
    if (s != GM_OK) {
        vae->rng = rng_before;
        return s;
    }
    gm_net_commit(&vae->enc, &vae->params);
    gm_net_commit(&vae->dec, &vae->params);
    if (losses)
        *losses = l;
    return GM_OK;
}

gm_param_table *gm_vae_param_table(gm_vae *vae)
{
    return &vae->params;
}

gm_rng *gm_vae_rng(gm_vae *vae)
{
    return &vae->rng;
}

gm_status gm_vae_gradients(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, const float *eps,
                           gm_vae_losses *losses)
{
    const char *who = "gm_vae_gradients";
    gm_status s = reserve(vae, n, true, who);
    if (s != GM_OK)
        return s;
    memcpy(vae->eps, eps, (size_t)n * vae->cfg.latent_dim * sizeof *eps);
    return gradients(vae, x, labels, n, losses, who);
}

/* ---- inference: each runs over chunks of at most CHUNK rows ---- */

static int chunk_rows(int32_t n, int32_t at)
{
    return n - at < CHUNK ? (int)(n - at) : CHUNK;
}

static const int32_t *label_rows(const int32_t *labels, int32_t at)
{
    return labels ? labels + at : NULL;
}

gm_status gm_vae_encode(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, float *mu,
                        float *logvar)
{
    const char *who = "gm_vae_encode";
    gm_status s = check_call(vae, x, mu, labels, n, who);
    if (s == GM_OK && !logvar)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: logvar is NULL", who);
    if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int D = vae->cfg.input_dim, Z = vae->cfg.latent_dim;
    for (int32_t at = 0; at < n; at += CHUNK) {
        int N = chunk_rows(n, at);
        const float *mulv = encode(vae, x + (size_t)at * D, label_rows(labels, at), N, false);
        for (int i = 0; i < N; i++) {
            memcpy(mu + (size_t)(at + i) * Z, mulv + (size_t)i * 2 * Z, (size_t)Z * sizeof *mu);
            memcpy(logvar + (size_t)(at + i) * Z, mulv + (size_t)i * 2 * Z + Z, (size_t)Z * sizeof *mu);
        }
    }
    return GM_OK;
}

gm_status gm_vae_reparameterize(gm_vae *vae, const float *mu, const float *logvar, int32_t n, float *z)
{
    const char *who = "gm_vae_reparameterize";
    gm_status s = check_args(vae, mu, z, n, who);
    if (s == GM_OK && !logvar)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: logvar is NULL", who);
    if (s != GM_OK || (s = check_latent(vae, "mu", mu, n, who)) != GM_OK ||
        (s = check_latent(vae, "logvar", logvar, n, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int Z = vae->cfg.latent_dim;
    for (int32_t at = 0; at < n; at += CHUNK) {
        int N = chunk_rows(n, at);
        size_t off = (size_t)at * Z;
        gm_rng_normal(&vae->rng, vae->eps, (size_t)N * Z);
        gm_reparam_forward(z + off, Z, mu + off, logvar + off, Z, vae->eps, N, Z);
    }
    return GM_OK;
}

gm_status gm_vae_decode(gm_vae *vae, const float *z, const int32_t *labels, int32_t n, float *x_out)
{
    const char *who = "gm_vae_decode";
    gm_status s = check_call(vae, z, x_out, labels, n, who);
    if (s != GM_OK || (s = check_latent(vae, "z", z, n, who)) != GM_OK || (s = check_standardized(vae, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int D = vae->cfg.input_dim, Z = vae->cfg.latent_dim, C = vae->cfg.n_classes;
    for (int32_t at = 0; at < n; at += CHUNK) {
        int N = chunk_rows(n, at);
        for (int i = 0; i < N; i++)
            memcpy(vae->zin + (size_t)i * (Z + C), z + (size_t)(at + i) * Z, (size_t)Z * sizeof *z);
        if (C)
            gm_model_onehot(vae->zin, Z + C, Z, labels + at, N, C);
        decoder_mean(vae, gm_net_infer(&vae->dec, &vae->params, vae->zin, N), N, x_out + (size_t)at * D);
    }
    return GM_OK;
}

gm_status gm_vae_sample(gm_vae *vae, const int32_t *labels, int32_t n, float *x_out)
{
    const char *who = "gm_vae_sample";
    gm_status s = check_call(vae, x_out, x_out, labels, n, who);
    if (s != GM_OK || (s = check_standardized(vae, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int D = vae->cfg.input_dim, Z = vae->cfg.latent_dim, C = vae->cfg.n_classes;
    for (int32_t at = 0; at < n; at += CHUNK) {
        int N = chunk_rows(n, at);
        gm_rng_normal(&vae->rng, vae->eps, (size_t)N * Z);
        for (int i = 0; i < N; i++)
            memcpy(vae->zin + (size_t)i * (Z + C), vae->eps + (size_t)i * Z, (size_t)Z * sizeof *x_out);
        if (C)
            gm_model_onehot(vae->zin, Z + C, Z, labels + at, N, C);
        decoder_mean(vae, gm_net_infer(&vae->dec, &vae->params, vae->zin, N), N, x_out + (size_t)at * D);
    }
    return GM_OK;
}

gm_status gm_vae_reconstruct(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, float *x_out)
{
    const char *who = "gm_vae_reconstruct";
    gm_status s = check_call(vae, x, x_out, labels, n, who);
    if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int D = vae->cfg.input_dim;
    for (int32_t at = 0; at < n; at += CHUNK) {
        int N = chunk_rows(n, at);
        const int32_t *lab = label_rows(labels, at);
        fill_z(vae, encode(vae, x + (size_t)at * D, lab, N, false), lab, N, 0);
        decoder_mean(vae, gm_net_infer(&vae->dec, &vae->params, vae->zin, N), N, x_out + (size_t)at * D);
    }
    return GM_OK;
}

/* log p(z) - log q(z|x) of the last draw, per row (the log 2 pi terms cancel) */
static void log_prior_over_posterior(const gm_vae *vae, const float *mulv, int N, double *out)
{
    const int Z = vae->cfg.latent_dim, C = vae->cfg.n_classes;
    for (int n = 0; n < N; n++) {
        const float *z = vae->zin + (size_t)n * (Z + C), *e = vae->eps + (size_t)n * Z;
        const float *logvar = mulv + (size_t)n * 2 * Z + Z;
        double s = 0.0;
        for (int j = 0; j < Z; j++)
            s += 0.5 * ((double)e[j] * e[j] - (double)z[j] * z[j] + logvar[j]);
        out[n] = s;
    }
}

enum estimate { MEAN_ELBO, IWAE, RECONSTRUCTION };

/* Over m draws of z per row: the mean ELBO, or the importance-weighted
 * bound log (1/m) sum_j p(x, z_j) / q(z_j|x), kept as a running
 * log-sum-exp (acc: the maximum so far, acc2: the sum scaled by it). */
static gm_status estimate(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, int32_t m,
                          enum estimate kind, double *out, gm_vae_losses *losses, const char *who)
{
    gm_status s = check_call(vae, x, out, labels, n, who);
    if (s == GM_OK && m < 1)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: the number of draws must be >= 1 (got %d)", who, (int)m);
    if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int D = vae->cfg.input_dim, Z = vae->cfg.latent_dim;
    double total_recon = 0.0, total_kl = 0.0;
    for (int32_t at = 0; at < n; at += CHUNK) {
        int N = chunk_rows(n, at);
        const float *xc = x + (size_t)at * D;
        const int32_t *lab = label_rows(labels, at);
        const float *mulv = encode(vae, xc, lab, N, false);
        if (kind == RECONSTRUCTION) {  /* one pass at z = mu */
            fill_z(vae, mulv, lab, N, 0);
            decode_recon(vae, seen(vae, xc), N, NULL, 0.0f);
            for (int i = 0; i < N; i++)
                out[at + i] = vae->recon[i];
            continue;
        }
        gm_kl_normal_forward(vae->kl, mulv, mulv + Z, 2 * Z, N, Z);
        for (int i = 0; i < N; i++)
            vae->acc[i] = vae->acc2[i] = 0.0;
        for (int32_t j = 0; j < m; j++) {
            fill_z(vae, mulv, lab, N, 1);
            decode_recon(vae, seen(vae, xc), N, NULL, 0.0f);
            if (kind == MEAN_ELBO) {
                for (int i = 0; i < N; i++)
                    vae->acc[i] += vae->recon[i];
                continue;
            }
            /* log w = log p(x|z) + log p(z) - log q(z|x); recon is -log p(x|z) */
            log_prior_over_posterior(vae, mulv, N, vae->gap);
            for (int i = 0; i < N; i++) {
                double w = vae->gap[i] - vae->recon[i];
                if (j == 0 || w > vae->acc[i]) {
                    vae->acc2[i] = (j == 0 ? 0.0 : vae->acc2[i] * exp(vae->acc[i] - w)) + 1.0;
                    vae->acc[i] = w;
                } else {
                    vae->acc2[i] += exp(w - vae->acc[i]);
                }
            }
        }
        for (int i = 0; i < N; i++) {
            double recon = vae->acc[i] / m;
            if (kind == MEAN_ELBO) {
                out[at + i] = recon + vae->kl[i];
                total_recon += recon;
                total_kl += vae->kl[i];
            } else {
                out[at + i] = vae->acc[i] + log(vae->acc2[i]) - log((double)m);
            }
        }
    }
    if (losses) {
        losses->recon = total_recon / n;
        losses->kl = total_kl / n;
        losses->neg_elbo = losses->recon + losses->kl;
        losses->loss = losses->recon + vae->cfg.beta * losses->kl;
    }
    return GM_OK;
}

gm_status gm_vae_elbo(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, double *elbo,
                      gm_vae_losses *losses)
{
    gm_status s = estimate(vae, x, labels, n, 1, MEAN_ELBO, elbo, losses, "gm_vae_elbo");
    for (int32_t i = 0; s == GM_OK && i < n; i++)
        elbo[i] = -elbo[i];
    return s;
}

gm_status gm_vae_score(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, int32_t m,
                       double *scores)
{
    return estimate(vae, x, labels, n, m, MEAN_ELBO, scores, NULL, "gm_vae_score");
}

gm_status gm_vae_iwae(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, int32_t k,
                      double *log_px)
{
    return estimate(vae, x, labels, n, k, IWAE, log_px, NULL, "gm_vae_iwae");
}

gm_status gm_vae_anomaly_map(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, float *map)
{
    const char *who = "gm_vae_anomaly_map";
    gm_status s = check_call(vae, x, map, labels, n, who);
    if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int D = vae->cfg.input_dim;
    const bool bernoulli = vae->cfg.likelihood == GM_LIKELIHOOD_BERNOULLI;
    const double half_log_2pi = 0.91893853320467274;
    for (int32_t at = 0; at < n; at += CHUNK) {
        const int N = chunk_rows(n, at);
        const float *xc = x + (size_t)at * D;
        const int32_t *lab = label_rows(labels, at);
        fill_z(vae, encode(vae, xc, lab, N, false), lab, N, 0);
        const float *out = gm_net_infer(&vae->dec, &vae->params, vae->zin, N), *xv = seen(vae, xc);
        for (size_t i = 0; i < (size_t)N * D; i++) {
            const double l = out[i], v = xv[i];
            /* Bernoulli: softplus(l) - v l, stably; Gaussian of unit variance */
            map[(size_t)at * D + i] = (float)(bernoulli ? fmax(l, 0.0) + log1p(exp(-fabs(l))) - v * l
                                                        : 0.5 * (v - l) * (v - l) + half_log_2pi);
        }
    }
    return GM_OK;
}

/* nats[i] = the length of row i's 8-bit pixels as raw deflate (level 9)
 * codes them, in nats */
static gm_status deflated_nats(const float *x, int32_t n, int D, double *nats, const char *who)
{
    z_stream z = { .zalloc = gm_zalloc, .zfree = gm_zfree };
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for zlib's deflate", who);
    const uLong bound = deflateBound(&z, (uLong)D);
    uint8_t *in = gm_malloc((size_t)D), *out = gm_malloc((size_t)bound);
    gm_status s = in && out ? GM_OK : gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d pixels", who, D);
    for (int32_t i = 0; s == GM_OK && i < n; i++) {
        for (int j = 0; j < D; j++)
            in[j] = gm_pixel_byte(x[(size_t)i * D + j]);
        deflateReset(&z);
        z.next_in = in, z.avail_in = (uInt)D, z.next_out = out, z.avail_out = (uInt)bound;
        if (deflate(&z, Z_FINISH) != Z_STREAM_END)
            s = gm_fail(GM_ERR_NO_MEMORY, "%s: zlib's deflate failed", who);
        else
            nats[i] = 8.0 * (double)z.total_out * 0.69314718055994531;  /* bits to nats */
    }
    deflateEnd(&z);
    gm_free(in);
    gm_free(out);
    return s;
}

/* ---- the latent score: the aggregate posterior's mean and precision ---- */

/* mu of every row, (n, Z) doubles, into mu; the caller validated */
static void posterior_means(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, double *mu)
{
    const int D = vae->cfg.input_dim, Z = vae->cfg.latent_dim;
    for (int32_t at = 0; at < n; at += CHUNK) {
        const int N = chunk_rows(n, at);
        const float *mulv = encode(vae, x + (size_t)at * D, label_rows(labels, at), N, false);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < Z; j++)
                mu[(size_t)(at + i) * Z + j] = mulv[(size_t)i * 2 * Z + j];
    }
}

/* The inverse of the symmetric positive definite A (Z, Z), through its
 * Cholesky factor (in place in L); 0, or -1 if A is not positive definite. */
static int spd_inverse(const double *A, double *L, double *inv, int Z)
{
    memcpy(L, A, (size_t)Z * Z * sizeof *L);
    for (int j = 0; j < Z; j++) {
        for (int k = 0; k < j; k++)
            L[j * Z + j] -= L[j * Z + k] * L[j * Z + k];
        if (!(L[j * Z + j] > 0.0))
            return -1;
        L[j * Z + j] = sqrt(L[j * Z + j]);
        for (int i = j + 1; i < Z; i++) {
            for (int k = 0; k < j; k++)
                L[i * Z + j] -= L[i * Z + k] * L[j * Z + k];
            L[i * Z + j] /= L[j * Z + j];
        }
    }
    /* column c of the inverse: solve L y = e_c, then L^T x = y */
    for (int c = 0; c < Z; c++) {
        double *col = inv + (size_t)c * Z;  /* a row of inv, which is symmetric */
        for (int i = 0; i < Z; i++) {
            double v = i == c ? 1.0 : 0.0;
            for (int k = 0; k < i; k++)
                v -= L[i * Z + k] * col[k];
            col[i] = v / L[i * Z + i];
        }
        for (int i = Z - 1; i >= 0; i--) {
            double v = col[i];
            for (int k = i + 1; k < Z; k++)
                v -= L[k * Z + i] * col[k];
            col[i] = v / L[i * Z + i];
        }
    }
    return 0;
}

/* The bank of the latent-knn score: W = L^-1 for the covariance's Cholesky
 * factor L (so |W (mu - mean)| is the Mahalanobis distance) into
 * latent.whiten, and W (mu_r - mean) of evenly spaced rows r into the
 * columns of latent.bank; W is built in inv, which it overwrites */
static void keep_bank(gm_vae *vae, const double *mu, const double *mean, const double *L, double *W, int32_t n)
{
    const int Z = vae->cfg.latent_dim, B = vae->cfg.latent_bank;
    for (int c = 0; c < Z; c++)  /* column c of W: solve L w = e_c */
        for (int i = 0; i < Z; i++) {
            double v = i == c ? 1.0 : 0.0;
            for (int k = c; k < i; k++)
                v -= L[i * Z + k] * W[k * Z + c];
            W[i * Z + c] = i < c ? 0.0 : v / L[i * Z + i];
        }
    float *w = gm_param_data(&vae->params, vae->latent + 6), *bank = gm_param_data(&vae->params, vae->latent + 7);
    for (size_t j = 0; j < (size_t)Z * Z; j++)
        w[j] = (float)W[j];
    const int32_t kept = n < B ? n : B;
    for (int32_t b = 0; b < kept; b++) {
        const double *row = mu + (size_t)((int64_t)b * n / kept) * Z;
        for (int i = 0; i < Z; i++) {
            double v = 0.0;
            for (int k = 0; k <= i; k++)
                v += W[i * Z + k] * (row[k] - mean[k]);
            bank[(size_t)i * B + b] = (float)v;
        }
    }
}

gm_status gm_vae_fit_latent(gm_vae *vae, const float *x, const int32_t *labels, int32_t n)
{
    const char *who = "gm_vae_fit_latent";
    gm_status s = check_call(vae, x, x, labels, n, who);
    if (s == GM_OK && vae->latent < 0)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: this VAE keeps no aggregate posterior (scoring is 0)", who);
    if (s == GM_OK && n < 2)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: a covariance needs n >= 2 rows (got %d)", who, (int)n);
    if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int Z = vae->cfg.latent_dim;
    double *mu = gm_malloc((size_t)n * Z * sizeof *mu), *work = gm_malloc((size_t)4 * Z * Z * sizeof *work);
    if (!mu || !work) {
        gm_free(mu);
        gm_free(work);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d posterior means", who, (int)n);
    }
    posterior_means(vae, x, labels, n, mu);
    double *mean = work, *cov = work + Z, *L = cov + (size_t)Z * Z, *inv = L + (size_t)Z * Z;
    memset(work, 0, (size_t)(Z + Z * Z) * sizeof *work);
    for (int32_t i = 0; i < n; i++)
        for (int j = 0; j < Z; j++)
            mean[j] += mu[(size_t)i * Z + j] / n;
    for (int32_t i = 0; i < n; i++)
        for (int j = 0; j < Z; j++)
            for (int k = 0; k <= j; k++)
                cov[j * Z + k] += (mu[(size_t)i * Z + j] - mean[j]) * (mu[(size_t)i * Z + k] - mean[k]) / (n - 1);
    double trace = 0.0;
    for (int j = 0; j < Z; j++) {
        for (int k = 0; k < j; k++)
            cov[k * Z + j] = cov[j * Z + k];
        trace += cov[j * Z + j];
    }
    const double ridge = 1e-6 * (trace / Z) + 1e-12;
    for (int j = 0; j < Z; j++)
        cov[j * Z + j] += ridge;
    if (!isfinite(trace) || spd_inverse(cov, L, inv, Z) != 0)
        s = gm_fail(GM_ERR_NUMERIC, "%s: the posterior means' covariance is not finite and positive definite", who);
    if (s == GM_OK) {
        float *m = gm_param_data(&vae->params, vae->latent), *P = gm_param_data(&vae->params, vae->latent + 1);
        for (int j = 0; j < Z; j++)
            m[j] = (float)mean[j];
        for (size_t j = 0; j < (size_t)Z * Z; j++)
            P[j] = (float)inv[j];
        *gm_param_data(&vae->params, vae->latent + 2) = (float)n;
        if (vae->cfg.latent_bank)
            keep_bank(vae, mu, mean, L, inv, n);
    }
    gm_free(mu);
    gm_free(work);
    return s;
}

/* scores[i] = (mu_i - mean)^T P (mu_i - mean) */
static gm_status scorings(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, double *scores,
                               const char *who)
{
    gm_status s = check_call(vae, x, scores, labels, n, who);
    if (s == GM_OK && (vae->latent < 0 || *gm_param_data(&vae->params, vae->latent + 2) < 2.0f))
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: the latent score needs the aggregate posterior: fit it first "
                    "(gm_vae_fit_latent)%s", who, vae->latent < 0 ? "; this VAE keeps none (scoring 0)" : "");
    if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int D = vae->cfg.input_dim, Z = vae->cfg.latent_dim;
    const float *m = gm_param_data(&vae->params, vae->latent), *P = gm_param_data(&vae->params, vae->latent + 1);
    for (int32_t at = 0; at < n; at += CHUNK) {
        const int N = chunk_rows(n, at);
        const float *mulv = encode(vae, x + (size_t)at * D, label_rows(labels, at), N, false);
        for (int i = 0; i < N; i++) {
            const float *mu = mulv + (size_t)i * 2 * Z;
            double d2 = 0.0;
            for (int j = 0; j < Z; j++) {
                double row = 0.0;
                for (int k = 0; k < Z; k++)
                    row += (double)P[j * Z + k] * ((double)mu[k] - m[k]);
                d2 += ((double)mu[j] - m[j]) * row;
            }
            scores[at + i] = d2;
        }
    }
    return GM_OK;
}

typedef struct knn_pass {
    gm_vae *vae;
    const float *mulv;
    double *scores;
    int N;
} knn_pass;

/* each of the member's rows: the mean distance of its whitened mu to the
 * GM_VAE_KNN nearest columns of the bank */
static void knn_job(const gm_member *self, void *arg)
{
    const knn_pass *p = arg;
    const gm_vae *vae = p->vae;
    const int Z = vae->cfg.latent_dim, B = vae->cfg.latent_bank;
    const float rows = *gm_param_data(&vae->params, vae->latent + 2);
    const int kept = rows < (float)B ? (int)rows : B, K = kept < GM_VAE_KNN ? kept : GM_VAE_KNN;
    const float *mean = gm_param_data(&vae->params, vae->latent);
    const float *W = gm_param_data(&vae->params, vae->latent + 6), *bank = gm_param_data(&vae->params, vae->latent + 7);
    float *dist = vae->knn + (size_t)self->rank * ((size_t)B + Z), *w = dist + B;
    int n0, n1;
    gm_team_share(self, p->N, &n0, &n1);
    for (int n = n0; n < n1; n++) {
        const float *mu = p->mulv + (size_t)n * 2 * Z;
        for (int i = 0; i < Z; i++) {
            float v = 0.0f;
            for (int k = 0; k <= i; k++)
                v += W[i * Z + k] * (mu[k] - mean[k]);
            w[i] = v;
        }
        for (int b = 0; b < kept; b++)
            dist[b] = 0.0f;
        for (int i = 0; i < Z; i++) {
            const float *column = bank + (size_t)i * B;
            for (int b = 0; b < kept; b++)
                dist[b] += (w[i] - column[b]) * (w[i] - column[b]);
        }
        float best[GM_VAE_KNN];  /* the K smallest so far, ascending */
        int have = 0;
        for (int b = 0; b < kept; b++) {
            if (have == K && dist[b] >= best[K - 1])
                continue;
            int at = have < K ? have++ : K - 1;
            while (at > 0 && best[at - 1] > dist[b]) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = dist[b];
        }
        double sum = 0.0;
        for (int k = 0; k < K; k++)
            sum += sqrt((double)best[k]);
        p->scores[n] = sum / K;
    }
}

/* the latent-knn score over chunks */
static gm_status knn_scores(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, double *scores,
                            const char *who)
{
    gm_status s = check_call(vae, x, scores, labels, n, who);
    if (s == GM_OK && (vae->latent < 0 || !vae->cfg.latent_bank ||
                       *gm_param_data(&vae->params, vae->latent + 2) < 2.0f))
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: the latent-knn score needs the training rows' posterior means: fit "
                    "them first (gm_vae_fit_latent)%s", who,
                    vae->latent < 0 ? "; this VAE keeps none (scoring 0)"
                                    : !vae->cfg.latent_bank ? "; this VAE keeps none (latent_bank 0)" : "");
    if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK ||
        (s = reserve(vae, n < CHUNK ? n : CHUNK, false, who)) != GM_OK)
        return s;
    const int D = vae->cfg.input_dim;
    for (int32_t at = 0; at < n; at += CHUNK) {
        knn_pass p = { .vae = vae, .scores = scores + at, .N = chunk_rows(n, at) };
        p.mulv = encode(vae, x + (size_t)at * D, label_rows(labels, at), p.N, false);
        gm_team_run_sized(vae->team, knn_job, &p, (double)p.N * vae->cfg.latent_dim * vae->cfg.latent_bank * 3.0);
    }
    return GM_OK;
}

gm_status gm_vae_score_as(gm_vae *vae, int32_t kind, const float *x, const int32_t *labels, int32_t n, int32_t m,
                          double *scores)
{
    const char *who = "gm_vae_score_as";
    switch (kind) {
    case GM_SCORE_LATENT:
        return scorings(vae, x, labels, n, scores, who);
    case GM_SCORE_LATENT_KNN:
        return knn_scores(vae, x, labels, n, scores, who);
    case GM_SCORE_NEG_ELBO:
        return estimate(vae, x, labels, n, m, MEAN_ELBO, scores, NULL, who);
    case GM_SCORE_RECONSTRUCTION:
        return estimate(vae, x, labels, n, 1, RECONSTRUCTION, scores, NULL, who);
    case GM_SCORE_IWAE: {
        gm_status s = estimate(vae, x, labels, n, m, IWAE, scores, NULL, who);
        for (int32_t i = 0; s == GM_OK && i < n; i++)
            scores[i] = -scores[i];
        return s;
    }
    case GM_SCORE_COMPLEXITY: {
        /* the lengths first: a failure of zlib's comes before any draw or output */
        gm_status s = check_call(vae, x, scores, labels, n, who);
        if (s != GM_OK || (s = check_data(vae, x, n, who)) != GM_OK)
            return s;
        double *nats = gm_malloc((size_t)n * sizeof *nats);
        if (!nats)
            return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d lengths", who, (int)n);
        if ((s = deflated_nats(x, n, vae->cfg.input_dim, nats, who)) == GM_OK &&
            (s = estimate(vae, x, labels, n, m, IWAE, scores, NULL, who)) == GM_OK)
            for (int32_t i = 0; i < n; i++)
                scores[i] = -scores[i] - nats[i];
        gm_free(nats);
        return s;
    }
    default:
        return gm_fail(GM_ERR_INVALID_ARG, "%s: kind %d is none of gm_score_kind's", who, (int)kind);
    }
}

/* ---- calibrated thresholds ---- */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

gm_status gm_vae_calibrate(gm_vae *vae, int32_t kind, const float *x, const int32_t *labels, int32_t n, int32_t m,
                           float fpr)
{
    const char *who = "gm_vae_calibrate";
    gm_status s = check_call(vae, x, x, labels, n, who);
    if (s == GM_OK && vae->latent < 0)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: this VAE keeps no calibration (scoring is 0)", who);
    if (s == GM_OK && n < 2)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: a calibration needs n >= 2 held-out rows (got %d)", who, (int)n);
    if (s == GM_OK && !(fpr > 0.0f && fpr < 1.0f))
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: fpr must lie in (0, 1) (got %g)", who, (double)fpr);
    if (s != GM_OK)
        return s;
    double *scores = gm_malloc((size_t)n * sizeof *scores);
    if (!scores)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d scores", who, (int)n);
    if ((s = gm_vae_score_as(vae, kind, x, labels, n, m, scores)) != GM_OK) {
        gm_free(scores);
        return gm_refail(s, who);
    }
    qsort(scores, (size_t)n, sizeof *scores, cmp_double);
    /* the quantile at q, interpolated between the order statistics */
    float *quantiles = gm_param_data(&vae->params, vae->latent + 3);
    float *setting = gm_param_data(&vae->params, vae->latent + 4);
    double threshold = 0.0;
    for (int k = 0; k <= CAL_QUANTILES; k++) {
        const double q = k < CAL_QUANTILES ? (double)k / (CAL_QUANTILES - 1) : 1.0 - fpr, at = q * (n - 1);
        const int32_t lo = (int32_t)at, hi = lo + 1 < n ? lo + 1 : lo;
        const double v = scores[lo] + (at - lo) * (scores[hi] - scores[lo]);
        if (k < CAL_QUANTILES)
            quantiles[k] = (float)v;
        else
            threshold = v;
    }
    setting[0] = (float)kind, setting[1] = (float)m, setting[2] = fpr, setting[3] = (float)threshold;
    *gm_param_data(&vae->params, vae->latent + 5) = (float)n;
    gm_free(scores);
    return GM_OK;
}

gm_status gm_vae_flag(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, double *scores,
                      double *p_values, int32_t *flags)
{
    const char *who = "gm_vae_flag";
    gm_status s = check_call(vae, x, scores, labels, n, who);
    if (s == GM_OK && (vae->latent < 0 || *gm_param_data(&vae->params, vae->latent + 5) < 2.0f))
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: calibrate a threshold first (gm_vae_calibrate)", who);
    if (s != GM_OK)
        return s;
    const float *quantiles = gm_param_data(&vae->params, vae->latent + 3);
    const float *setting = gm_param_data(&vae->params, vae->latent + 4);
    const double held_out = *gm_param_data(&vae->params, vae->latent + 5);
    if ((s = gm_vae_score_as(vae, (int32_t)setting[0], x, labels, n, (int32_t)setting[1], scores)) != GM_OK)
        return gm_refail(s, who);
    for (int32_t i = 0; i < n; i++) {
        if (flags)
            flags[i] = scores[i] > setting[3];
        if (!p_values)
            continue;
        /* 1 - F(score), F interpolated between the quantiles */
        int k = 0;
        while (k < CAL_QUANTILES && quantiles[k] < scores[i])
            k++;
        double below;
        if (k == 0)
            below = 0.0;
        else if (k == CAL_QUANTILES)
            below = 1.0;
        else {
            const double span = (double)quantiles[k] - quantiles[k - 1];
            below = (k - 1 + (span > 0.0 ? (scores[i] - quantiles[k - 1]) / span : 0.0)) / (CAL_QUANTILES - 1);
        }
        const double floor = 1.0 / (held_out + 1.0);
        p_values[i] = 1.0 - below > floor ? 1.0 - below : floor;
    }
    return GM_OK;
}

gm_status gm_vae_shuffle(gm_vae *vae, int32_t *order, int32_t n)
{
    if (!vae || !order || n < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_vae_shuffle: needs a handle, an array and n >= 1");
    gm_rng_permutation(&vae->rng, order, n);
    return GM_OK;
}

/* ---- walks in the latent space ---- */

gm_status gm_vae_interpolate(gm_vae *vae, const float *a, const float *b, const int32_t *labels, int32_t n,
                             int32_t steps, float *out)
{
    const char *who = "gm_vae_interpolate";
    gm_status s = check_call(vae, a, out, labels, n, who);
    if (s == GM_OK && !b)
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: b is NULL", who);
    if (s == GM_OK && (steps < 2 || (int64_t)n * steps > INT32_MAX))
        s = gm_fail(GM_ERR_INVALID_ARG, "%s: steps must be >= 2 and n * steps at most 2^31 - 1 (got %d, %d)", who,
                    (int)steps, (int)n);
    if (s != GM_OK)
        return s;
    const size_t Z = (size_t)vae->cfg.latent_dim, walk = (size_t)n * (size_t)steps;
    float *mu = gm_alloc_floats(4 * (size_t)n * Z + walk * Z);
    int32_t *walk_labels = labels ? gm_malloc(walk * sizeof *walk_labels) : NULL;
    if (!mu || (labels && !walk_labels)) {
        gm_free(mu);
        gm_free(walk_labels);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d walks", who, (int)n);
    }
    float *mu_b = mu + (size_t)n * Z, *logvar = mu_b + (size_t)n * Z, *z = logvar + 2 * (size_t)n * Z;
    if ((s = gm_vae_encode(vae, a, labels, n, mu, logvar)) == GM_OK &&
        (s = gm_vae_encode(vae, b, labels, n, mu_b, logvar + (size_t)n * Z)) == GM_OK) {
        for (size_t i = 0; i < (size_t)n; i++)
            for (size_t k = 0; k < (size_t)steps; k++) {
                const float t = (float)k / (float)(steps - 1);
                for (size_t j = 0; j < Z; j++)
                    z[(i * (size_t)steps + k) * Z + j] = mu[i * Z + j] + t * (mu_b[i * Z + j] - mu[i * Z + j]);
                if (walk_labels)
                    walk_labels[i * (size_t)steps + k] = labels[i];
            }
        s = gm_vae_decode(vae, z, walk_labels, (int32_t)walk, out);
    }
    gm_free(mu);
    gm_free(walk_labels);
    return s != GM_OK ? gm_refail(s, who) : GM_OK;
}

/* The standard normal's quantile at p in (0, 1): Acklam's rational
 * approximation (relative error 1.2e-9), then one Halley step on erfc. */
static double normal_quantile(double p)
{
    static const double a[6] = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[5] = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                 6.680131188771972e+01, -1.328068155288572e+01 };
    static const double c[6] = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
    static const double d[4] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                 3.754408661907416e+00 };
    const double lo = 0.02425;
    double x;
    if (p < lo || p > 1.0 - lo) {
        const double q = sqrt(-2.0 * log(p < lo ? p : 1.0 - p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
        x = p < lo ? x : -x;
    } else {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    }
    const double e = 0.5 * erfc(-x / sqrt(2.0)) - p, u = e * 2.5066282746310002 * exp(x * x / 2.0);  /* sqrt(2 pi) */
    return x - u / (1.0 + x * u / 2.0);
}

gm_status gm_vae_manifold(gm_vae *vae, int32_t side, int32_t label, float *out)
{
    const char *who = "gm_vae_manifold";
    if (!vae || !out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    gm_status s = check_standardized(vae, who);
    if (s != GM_OK)
        return s;
    if (vae->cfg.latent_dim != 2)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the manifold is drawn for a 2-D latent space, not %d-D", who,
                       (int)vae->cfg.latent_dim);
    if (side < 1 || side > 4096)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: side must be in [1, 4096] (got %d)", who, (int)side);
    const int32_t C = vae->cfg.n_classes;
    if ((C == 0 && label != -1) || (C > 0 && (label < 0 || label >= C)))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: label is %d; %s", who, (int)label,
                       C ? "a conditional VAE needs a class in [0, n_classes)" : "an unconditional VAE takes -1");
    const size_t cells = (size_t)side * (size_t)side;
    float *z = gm_alloc_floats(2 * cells);
    int32_t *labels = C ? gm_malloc(cells * sizeof *labels) : NULL;
    if (!z || (C && !labels)) {
        gm_free(z);
        gm_free(labels);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d x %d cells", who, (int)side, (int)side);
    }
    for (int32_t r = 0; r < side; r++)
        for (int32_t c = 0; c < side; c++) {
            const size_t cell = (size_t)r * (size_t)side + (size_t)c;
            z[2 * cell] = (float)normal_quantile((c + 0.5) / side);
            z[2 * cell + 1] = (float)normal_quantile((side - 1 - r + 0.5) / side);
            if (labels)
                labels[cell] = label;
        }
    s = gm_vae_decode(vae, z, labels, (int32_t)cells, out);
    gm_free(z);
    gm_free(labels);
    return s;
}
