/* The convolutional VAE and GAN from the inside: every parameter tensor's
 * gradient against a central difference of the model's own objective
 * (plain, conditional, with batch or spectral normalization and minibatch
 * stddev, every GAN loss and the WGAN-GP double backward through
 * convolutions), teams of 1, 2 and 3 threads agreeing, batch
 * normalization's running statistics and spectral normalization's vectors
 * kept only by a step that succeeds, the power iteration tracking the
 * largest singular value, inference rows independent of their batch, no
 * allocation after the first step, and the sizes the config refuses.
 *
 * The kernels themselves are checked in tests/nn against direct loops in
 * double precision and PyTorch; here the question is the wiring (which
 * layer feeds which, which gradient lands where), so the difference is
 * taken of the float model along a random direction per tensor. */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "models/gan_internal.h"
#include "models/vae_internal.h"
#include "gm_test.h"

enum { N = 4, C = 1, H = 8, W = 8, D = C * H * W, Z = 3, K = 3 };

static void conv_vae_config(gm_vae_config *cfg, int classes, int norm)
{
    gm_vae_config_init(cfg);
    cfg->input_dim = D;
    cfg->latent_dim = Z;
    cfg->image_channels = C;
    cfg->image_height = H;
    cfg->image_width = W;
    cfg->n_conv = 2;
    cfg->conv_channels[0] = 3;
    cfg->conv_channels[1] = 5;
    cfg->n_enc_hidden = 1;
    cfg->enc_hidden[0] = 6;
    cfg->n_dec_hidden = 0;
    cfg->activation = GM_ACT_TANH;
    cfg->n_classes = classes;
    cfg->normalization = norm;
}

static void conv_gan_config(gm_gan_config *cfg, int loss, int classes, int gen_norm, int disc_norm)
{
    gm_gan_config_init(cfg);
    cfg->data_dim = D;
    cfg->noise_dim = Z;
    cfg->image_channels = C;
    cfg->image_height = H;
    cfg->image_width = W;
    cfg->n_conv = 2;
    cfg->conv_channels[0] = 4;
    cfg->conv_channels[1] = 3;
    cfg->n_gen_hidden = 1;
    cfg->gen_hidden[0] = 5;
    cfg->n_disc_hidden = 0;
    cfg->activation = GM_ACT_ELU;  /* curved: the penalty's second-order terms are exercised */
    cfg->loss = loss;
    cfg->instance_noise = 0.0f;
    cfg->ema_decay = 0.0f;
    cfg->n_classes = classes;
    cfg->gen_norm = gen_norm;
    cfg->disc_norm = disc_norm;
}

/* ---- gradients against central differences ---- */

typedef double (*objective_fn)(void *ctx);

/* f at p + s v for tensor i, p restored after */
static double along(gm_param_table *t, int i, const float *saved, const float *v, double s, objective_fn f, void *ctx)
{
    float *p = gm_param_data(t, i);
    for (size_t j = 0; j < t->items[i].numel; j++)
        p[j] = saved[j] + (float)s * v[j];
    const double value = f(ctx);
    memcpy(p, saved, t->items[i].numel * sizeof *p);
    return value;
}

/* For every tensor of t: the analytic directional derivative along a
 * random direction v (the gradient computed at p, dot v) against central
 * differences of step h and h/2, extrapolated (Richardson) to cancel
 * their h^2 terms: batch normalization over a few values is curved
 * enough that a plain difference needs a step so small that the float
 * loss's rounding (about 1e-7 of it, divided by the step) takes over.
 * That rounding sets the tolerance. */
static void check_tensors(gm_param_table *t, objective_fn f, void *ctx, const char *what)
{
    const double h = 1e-3;
    f(ctx);  /* the gradient at p */
    float *grad = malloc(t->total * sizeof *grad);
    memcpy(grad, t->grad, t->total * sizeof *grad);
    for (int i = 0; i < t->count; i++) {
        if (t->items[i].buffer)
            continue;
        const size_t n = t->items[i].numel;
        const float *g = grad + t->items[i].offset;
        float *v = malloc(n * sizeof *v), *saved = malloc(n * sizeof *saved);
        gm_test_fill(v, n, -1.0f, 1.0f, 100 + (uint32_t)i);
        memcpy(saved, gm_param_data(t, i), n * sizeof *saved);
        double analytic = 0.0, scale = 0.0;
        for (size_t j = 0; j < n; j++) {
            analytic += (double)g[j] * v[j];
            scale += fabs((double)g[j] * v[j]);
        }
        const double plus = along(t, i, saved, v, h, f, ctx), minus = along(t, i, saved, v, -h, f, ctx);
        const double wide = (plus - minus) / (2 * h);
        const double narrow = (along(t, i, saved, v, h / 2, f, ctx) - along(t, i, saved, v, -h / 2, f, ctx)) / h;
        const double numeric = (4 * narrow - wide) / 3;
        const double tol = 2e-3 * (scale + fabs(plus)) + 1e-4;
        if (fabs(numeric - analytic) > tol)
            fail_msg("%s: tensor %s: analytic %.8g, numeric %.8g (tolerance %.3g)", what, t->items[i].name, analytic,
                     numeric, tol);
        free(v);
        free(saved);
    }
    free(grad);
}

typedef struct {
    gm_vae *vae;
    const float *x, *eps;
    const int32_t *labels;
} vae_ctx;

static double vae_objective(void *p)
{
    vae_ctx *c = p;
    gm_vae_losses l;
    assert_int_equal(gm_vae_gradients(c->vae, c->x, c->labels, N, c->eps, &l), GM_OK);
    return l.loss;
}

static void check_vae(int classes, int norm, const char *what)
{
    gm_vae_config cfg;
    conv_vae_config(&cfg, classes, norm);
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    float x[N * D], eps[N * Z];
    int32_t labels[N] = { 1, 0, 2, 1 };
    gm_test_fill(x, N * D, 0.0f, 1.0f, 3);
    gm_test_fill(eps, N * Z, -1.0f, 1.0f, 4);
    vae_ctx c = { vae, x, eps, classes ? labels : NULL };
    check_tensors(gm_vae_param_table(vae), vae_objective, &c, what);
    gm_vae_free(vae);
}

static void test_vae_gradients(void **state)
{
    (void)state;
    check_vae(0, GM_NORM_NONE, "conv VAE");
    check_vae(3, GM_NORM_NONE, "conditional conv VAE");
    check_vae(0, GM_NORM_BATCH, "conv VAE with batch norm");
}

typedef struct {
    gm_gan *gan;
    const float *x, *z, *alpha;
    const int32_t *labels;
    int gen;  /* the generator's loss, else the discriminator's */
} gan_ctx;

static double gan_objective(void *p)
{
    gan_ctx *c = p;
    gm_gan_losses l;
    assert_int_equal(gm_gan_disc_gradients(c->gan, c->x, c->labels, N, c->z, c->alpha, &l), GM_OK);
    if (!c->gen)
        return l.d_loss;
    assert_int_equal(gm_gan_gen_gradients(c->gan, c->labels, N, c->z, &l), GM_OK);
    return l.g_loss;
}

static void check_gan(int loss, int classes, int gen_norm, int disc_norm, int mbstd, const char *what)
{
    gm_gan_config cfg;
    conv_gan_config(&cfg, loss, classes, gen_norm, disc_norm);
    cfg.minibatch_std = mbstd;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    float x[N * D], z[N * Z], alpha[N];
    int32_t labels[N] = { 2, 0, 1, 1 };
    gm_test_fill(x, N * D, 0.0f, 1.0f, 5);
    gm_test_fill(z, N * Z, -1.0f, 1.0f, 6);
    gm_test_fill(alpha, N, 0.0f, 1.0f, 7);
    /* spectral normalization's u and v start random, sigma = u.(W v) far
     * below the largest singular value and W / sigma steep: a few updates'
     * power iterations first, as any trained model has had */
    for (int step = 0; step < (disc_norm == GM_NORM_SPECTRAL ? 5 : 0); step++)
        assert_int_equal(gm_gan_train_step(gan, x, classes ? labels : NULL, N, NULL), GM_OK);
    gan_ctx c = { gan, x, z, alpha, classes ? labels : NULL, 0 };
    char name[96];
    snprintf(name, sizeof name, "%s, discriminator", what);
    check_tensors(gm_gan_disc_table(gan), gan_objective, &c, name);
    c.gen = 1;
    snprintf(name, sizeof name, "%s, generator", what);
    check_tensors(gm_gan_gen_table(gan), gan_objective, &c, name);
    gm_gan_free(gan);
}

static void test_gan_gradients(void **state)
{
    (void)state;
    static const struct { int loss; const char *name; } losses[] = {
        { GM_GAN_MINIMAX, "minimax" }, { GM_GAN_NONSATURATING, "non-saturating" }, { GM_GAN_WGAN_GP, "WGAN-GP" },
        { GM_GAN_HINGE, "hinge" }, { GM_GAN_LSGAN, "least squares" },
    };
    for (size_t i = 0; i < sizeof losses / sizeof *losses; i++)
        check_gan(losses[i].loss, 0, GM_NORM_NONE, GM_NORM_NONE, 0, losses[i].name);
    check_gan(GM_GAN_WGAN_GP, 3, GM_NORM_BATCH, GM_NORM_NONE, 0, "conditional WGAN-GP, batch-normalized G");
    check_gan(GM_GAN_HINGE, 3, GM_NORM_BATCH, GM_NORM_BATCH, 0, "conditional hinge, batch norm in both");
    check_gan(GM_GAN_NONSATURATING, 0, GM_NORM_BATCH, GM_NORM_SPECTRAL, 0, "non-saturating, spectral norm in D");
    check_gan(GM_GAN_WGAN_GP, 3, GM_NORM_NONE, GM_NORM_SPECTRAL, 0, "conditional WGAN-GP, spectral norm in D");
    check_gan(GM_GAN_HINGE, 3, GM_NORM_NONE, GM_NORM_SPECTRAL, 2, "conditional hinge, spectral norm and mbstd");
    check_gan(GM_GAN_LSGAN, 0, GM_NORM_NONE, GM_NORM_BATCH, 4, "least squares, batch norm and mbstd in D");
}

/* ---- teams ---- */

/* a batch of TB samples and their labels (classes 0..2), enough rows that a team splits the passes */
enum { TB = 64 };
static int32_t team_labels[TB];

static const float *team_batch(uint32_t seed)
{
    static float x[TB * D];
    gm_test_fill(x, TB * D, 0.0f, 1.0f, seed);
    for (int i = 0; i < TB; i++)
        team_labels[i] = i % 3;
    return x;
}

static void train_vae_on(int threads, float *out, size_t *count)
{
    assert_int_equal(gm_set_num_threads(threads), GM_OK);
    gm_vae_config cfg;
    conv_vae_config(&cfg, 3, GM_NORM_BATCH);
    cfg.conv_channels[0] = 17;  /* channels no team divides evenly */
    cfg.conv_channels[1] = 35;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    const float *x = team_batch(8);
    for (int s = 0; s < 3; s++)
        assert_int_equal(gm_vae_train_step(vae, x, team_labels, TB, NULL), GM_OK);
    gm_param_table *t = gm_vae_param_table(vae);
    *count = t->total;
    memcpy(out, t->data, t->total * sizeof *out);
    gm_vae_free(vae);
}

/* both networks' weights and buffers into out; frees the GAN */
static void take_gan(gm_gan *gan, float *out, size_t *count)
{
    gm_param_table *g = gm_gan_gen_table(gan), *d = gm_gan_disc_table(gan);
    *count = g->total + d->total;
    memcpy(out, g->data, g->total * sizeof *out);
    memcpy(out + g->total, d->data, d->total * sizeof *out);
    gm_gan_free(gan);
}

static void train_gan_on(int threads, float *out, size_t *count)
{
    assert_int_equal(gm_set_num_threads(threads), GM_OK);
    gm_gan_config cfg;
    conv_gan_config(&cfg, GM_GAN_HINGE, 0, GM_NORM_BATCH, GM_NORM_BATCH);
    cfg.conv_channels[0] = 19;
    cfg.conv_channels[1] = 33;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    const float *x = team_batch(9);
    for (int s = 0; s < 3; s++)
        assert_int_equal(gm_gan_train_step(gan, x, NULL, TB, NULL), GM_OK);
    take_gan(gan, out, count);
}

/* an MLP discriminator, spectrally normalized, with a minibatch-stddev
 * feature over groups of 4 */
static void train_mlp_gan_on(int threads, float *out, size_t *count)
{
    assert_int_equal(gm_set_num_threads(threads), GM_OK);
    gm_gan_config cfg;
    conv_gan_config(&cfg, GM_GAN_NONSATURATING, 3, GM_NORM_NONE, GM_NORM_SPECTRAL);
    cfg.n_conv = 0;
    cfg.n_gen_hidden = cfg.n_disc_hidden = 2;
    cfg.gen_hidden[0] = cfg.disc_hidden[1] = 150;
    cfg.gen_hidden[1] = cfg.disc_hidden[0] = 77;
    cfg.minibatch_std = 4;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    const float *x = team_batch(10);
    for (int s = 0; s < 3; s++)
        assert_int_equal(gm_gan_train_step(gan, x, team_labels, TB, NULL), GM_OK);
    take_gan(gan, out, count);
}

static void teams_agree(void (*train)(int, float *, size_t *), const char *what)
{
    enum { MAX = 1 << 16 };
    static float alone[MAX], shared[MAX];
    static double want[MAX];
    size_t n, m;
    train(1, alone, &n);
    assert_true(n <= MAX);
    for (size_t i = 0; i < n; i++)
        want[i] = alone[i];
    for (int threads = 2; threads <= 3; threads++) {
        train(threads, shared, &m);
        assert_int_equal(m, n);
        /* three Adam steps: a difference in the last bits of a gradient
         * (the input gradients' parts add in another order) moves a weight
         * by a few ulps of lr */
        gm_assert_close(shared, want, n, 1e-4, 1e-5, what);
    }
    assert_int_equal(gm_set_num_threads(1), GM_OK);
}

static void test_teams_agree(void **state)
{
    (void)state;
    teams_agree(train_vae_on, "conditional conv VAE with batch norm");
    teams_agree(train_gan_on, "DCGAN with batch norm");
    teams_agree(train_mlp_gan_on, "conditional MLP GAN with spectral norm and mbstd");
}

/* ---- batch normalization's running statistics ---- */

static void test_running_statistics_follow_only_good_steps(void **state)
{
    (void)state;
    gm_gan_config cfg;
    conv_gan_config(&cfg, GM_GAN_NONSATURATING, 0, GM_NORM_BATCH, GM_NORM_NONE);
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    gm_param_table *g = gm_gan_gen_table(gan);
    int mean = -1;
    for (int i = 0; i < g->count && mean < 0; i++)
        if (strstr(g->items[i].name, "running_mean"))
            mean = i;
    assert_true(mean >= 0 && g->items[mean].buffer);
    const size_t C0 = g->items[mean].numel;
    for (size_t j = 0; j < C0; j++) {
        assert_float_equal(gm_param_data(g, mean)[j], 0.0f, 0.0f);
        assert_float_equal(gm_param_data(g, mean + 1)[j], 1.0f, 0.0f);
    }
    float x[N * D];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 10);
    assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_OK);
    /* a step moves them a tenth of the way to the batch's */
    float *after = malloc(2 * C0 * sizeof *after);
    memcpy(after, gm_param_data(g, mean), C0 * sizeof *after);
    memcpy(after + C0, gm_param_data(g, mean + 1), C0 * sizeof *after);
    int moved = 0;
    for (size_t j = 0; j < C0; j++)
        moved += after[j] != 0.0f;
    assert_true(moved > 0);
    /* a step that fails keeps them: the data holds a NaN */
    x[5] = NAN;
    assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_ERR_INVALID_ARG);
    x[5] = 0.5f;
    float *w = gm_param_data(gm_gan_disc_table(gan), 0);
    const float saved = w[0];
    w[0] = INFINITY;  /* D's loss comes out NaN: the step is refused after the passes ran */
    assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_ERR_NUMERIC);
    w[0] = saved;
    assert_memory_equal(gm_param_data(g, mean), after, C0 * sizeof *after);
    assert_memory_equal(gm_param_data(g, mean + 1), after + C0, C0 * sizeof *after);
    /* one row per feature cannot be normalized over a batch of one */
    assert_int_equal(gm_gan_train_step(gan, x, NULL, 1, NULL), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "n must be >= 2"));
    free(after);
    gm_gan_free(gan);
}

/* ---- spectral normalization's power iteration ---- */

/* the largest singular value of W (O, I), by power iteration in double */
static double top_singular_value(const float *A, int O, int I)
{
    double *v = malloc((size_t)I * sizeof *v), *u = malloc((size_t)O * sizeof *u), sigma = 0.0;
    for (int i = 0; i < I; i++)
        v[i] = 1.0 + 0.01 * i;
    for (int it = 0; it < 500; it++) {
        double nu = 0.0, nv = 0.0;
        for (int o = 0; o < O; o++) {
            u[o] = 0.0;
            for (int i = 0; i < I; i++)
                u[o] += (double)A[(size_t)o * I + i] * v[i];
            nu += u[o] * u[o];
        }
        for (int i = 0; i < I; i++) {
            v[i] = 0.0;
            for (int o = 0; o < O; o++)
                v[i] += (double)A[(size_t)o * I + i] * u[o];
            nv += v[i] * v[i];
        }
        sigma = sqrt(nv / nu);
        for (int i = 0; i < I; i++)
            v[i] /= sqrt(nv);
    }
    free(u);
    free(v);
    return sigma;
}

/* u.(W v), as the model's inference passes divide W by */
static double stored_sigma(const gm_param_table *t, int w, int u)
{
    const int O = (int)t->items[w].shape[0], I = (int)(t->items[w].numel / (size_t)O);
    const float *A = gm_param_data(t, w), *uu = gm_param_data(t, u), *vv = gm_param_data(t, u + 1);
    double sigma = 0.0;
    for (int o = 0; o < O; o++) {
        double wv = 0.0;
        for (int i = 0; i < I; i++)
            wv += (double)A[(size_t)o * I + i] * vv[i];
        sigma += uu[o] * wv;
    }
    return sigma;
}

static void test_spectral_norm_tracks_the_largest_singular_value(void **state)
{
    (void)state;
    for (int conv = 0; conv <= 1; conv++) {
        gm_gan_config cfg;
        conv_gan_config(&cfg, GM_GAN_HINGE, 0, GM_NORM_NONE, GM_NORM_SPECTRAL);
        if (!conv) {
            cfg.n_conv = 0;
            cfg.n_disc_hidden = 2;
            cfg.disc_hidden[0] = 12;
            cfg.disc_hidden[1] = 7;
        }
        gm_gan *gan;
        assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
        gm_param_table *d = gm_gan_disc_table(gan);
        float x[N * D];
        gm_test_fill(x, N * D, 0.0f, 1.0f, 12);
        for (int step = 0; step < 40; step++)
            assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_OK);
        int layers = 0;
        for (int i = 0; i < d->count; i++) {
            if (!strstr(d->items[i].name, "weight_u"))
                continue;
            /* the weight is the layer's first tensor */
            int w = i - 1;
            while (!strstr(d->items[w].name, ".weight") || strstr(d->items[w].name, "weight_"))
                w--;
            assert_true(d->items[i].buffer && d->items[i + 1].buffer);
            const int O = (int)d->items[w].shape[0];
            const double want = top_singular_value(gm_param_data(d, w), O, (int)(d->items[w].numel / (size_t)O));
            const double got = stored_sigma(d, w, i);
            if (fabs(got - want) > 2e-3 * want)
                fail_msg("%s: u.(W v) %.6f, largest singular value %.6f", d->items[w].name, got, want);
            layers++;
        }
        assert_int_equal(layers, 3);  /* two hidden layers or convolutions, and the logit */
        /* a failed step leaves u and v as they were */
        size_t bytes = d->total * sizeof(float);
        float *before = malloc(bytes);
        memcpy(before, d->data, bytes);
        x[3] = NAN;
        assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_ERR_INVALID_ARG);
        float *w = gm_param_data(d, 0);
        const float saved = w[0];
        x[3] = 0.5f;
        w[0] = INFINITY;
        assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_ERR_NUMERIC);
        w[0] = saved;
        assert_memory_equal(d->data, before, bytes);
        free(before);
        gm_gan_free(gan);
    }
}

/* ---- inference and memory ---- */

/* Every inference call of a conv VAE with batch norm: a row's result does
 * not depend on the rows beside it (running statistics), reconstruct is
 * decode of encode's mean, the bounds are finite; and no training step
 * after the first allocates. */
static void test_conv_inference_and_memory(void **state)
{
    (void)state;
    gm_test_alloc_install();
    gm_vae_config cfg;
    conv_vae_config(&cfg, 3, GM_NORM_BATCH);
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    float x[N * D], mu[N * Z], logvar[N * Z], a[N * D], b[N * D];
    const int32_t labels[N] = { 2, 0, 1, 1 };
    gm_test_fill(x, N * D, 0.0f, 1.0f, 14);
    assert_int_equal(gm_vae_train_step(vae, x, labels, N, NULL), GM_OK);
    size_t allocs = gm_test_alloc.allocs;
    for (int i = 0; i < 3; i++)
        assert_int_equal(gm_vae_train_step(vae, x, labels, N, NULL), GM_OK);
    assert_int_equal(gm_vae_train_step(vae, x, labels, N / 2, NULL), GM_OK);
    assert_int_equal(gm_test_alloc.allocs, allocs);

    assert_int_equal(gm_vae_encode(vae, x, labels, N, mu, logvar), GM_OK);
    assert_int_equal(gm_vae_decode(vae, mu, labels, N, a), GM_OK);
    assert_int_equal(gm_vae_reconstruct(vae, x, labels, N, b), GM_OK);
    double want[N * D];
    for (int i = 0; i < N * D; i++)
        want[i] = a[i];
    gm_assert_close(b, want, N * D, 1e-6, 1e-6, "reconstruct against decode(encode)");
    /* the last row alone, as in the batch */
    assert_int_equal(gm_vae_reconstruct(vae, x + (N - 1) * D, labels + N - 1, 1, b), GM_OK);
    gm_assert_close(b, want + (N - 1) * D, D, 1e-6, 1e-6, "a row alone");
    double bound[N], score[N];
    assert_int_equal(gm_vae_iwae(vae, x, labels, N, 4, bound), GM_OK);
    assert_int_equal(gm_vae_score(vae, x, labels, N, 2, score), GM_OK);
    for (int i = 0; i < N; i++)
        assert_true(isfinite(bound[i]) && bound[i] < 0.0 && isfinite(score[i]) && score[i] > 0.0);
    gm_vae_free(vae);

    /* a DCGAN with batch norm in G and spectral norm in D */
    gm_gan_config g;
    conv_gan_config(&g, GM_GAN_HINGE, 0, GM_NORM_BATCH, GM_NORM_SPECTRAL);
    g.ema_decay = 0.9f;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&g, &gan), GM_OK);
    assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_OK);
    allocs = gm_test_alloc.allocs;
    for (int i = 0; i < 3; i++)
        assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_OK);
    assert_int_equal(gm_test_alloc.allocs, allocs);
    float z[N * Z], logits[N], one;
    gm_test_fill(z, N * Z, -1.0f, 1.0f, 15);
    assert_int_equal(gm_gan_generate(gan, z, NULL, N, 1, a), GM_OK);
    assert_int_equal(gm_gan_generate(gan, z + Z, NULL, 1, 1, b), GM_OK);
    for (int i = 0; i < N * D; i++)
        want[i] = a[i];
    gm_assert_close(b, want + D, D, 1e-6, 1e-6, "a generated row alone");
    assert_int_equal(gm_gan_discriminate(gan, a, NULL, N, logits), GM_OK);
    assert_int_equal(gm_gan_discriminate(gan, a + 2 * D, NULL, 1, &one), GM_OK);
    assert_float_equal(one, logits[2], 1e-5f);
    gm_gan_free(gan);
    gm_test_alloc_uninstall();
}

/* ---- the config ---- */

static void expect_refused(const gm_vae_config *cfg, const char *text)
{
    gm_vae *vae = (gm_vae *)(uintptr_t)1;
    assert_int_equal(gm_vae_create(cfg, &vae), GM_ERR_INVALID_ARG);
    assert_null(vae);
    if (!strstr(gm_last_error(), text))
        fail_msg("'%s' does not say '%s'", gm_last_error(), text);
}

static void expect_gan_refused(const gm_gan_config *cfg, const char *text)
{
    gm_gan *gan = (gm_gan *)(uintptr_t)1;
    if (gm_gan_create(cfg, &gan) != GM_ERR_INVALID_ARG)
        fail_msg("not refused with '%s'", text);
    assert_null(gan);
    if (!strstr(gm_last_error(), text))
        fail_msg("'%s' does not say '%s'", gm_last_error(), text);
}

static void test_config_checks(void **state)
{
    (void)state;
    gm_vae_config cfg;
    conv_vae_config(&cfg, 0, GM_NORM_NONE);
    cfg.image_channels = 2;
    expect_refused(&cfg, "image_channels * image_height * image_width = 128 must equal input_dim = 64");
    conv_vae_config(&cfg, 0, GM_NORM_NONE);
    cfg.image_channels = cfg.image_height = cfg.image_width = 0;
    expect_refused(&cfg, "n_conv = 2 needs the image shape");
    conv_vae_config(&cfg, 0, GM_NORM_NONE);
    cfg.n_conv = 4;
    cfg.conv_channels[2] = cfg.conv_channels[3] = 2;
    expect_refused(&cfg, "an image of 8 x 8 is too small for 4 stride-2 convolutions");
    conv_vae_config(&cfg, 0, GM_NORM_NONE);
    cfg.n_conv = GM_MAX_CONV + 1;
    expect_refused(&cfg, "n_conv must be in [0, 4]");
    conv_vae_config(&cfg, 0, GM_NORM_NONE);
    cfg.conv_channels[1] = 0;
    expect_refused(&cfg, "conv_channels[1] must be in [1, 16777216]");
    conv_vae_config(&cfg, 0, GM_NORM_NONE);
    cfg.conv_channels[0] = GM_MAX_DIM;
    expect_refused(&cfg, "conv_channels[0] = 16777216 makes 268435456 values per sample");
    conv_vae_config(&cfg, 0, GM_NORM_NONE);
    cfg.normalization = GM_NORM_SPECTRAL;
    expect_refused(&cfg, "normalization must be GM_NORM_NONE or GM_NORM_BATCH");
    conv_vae_config(&cfg, 0, GM_NORM_NONE);
    cfg.image_height = 4;
    cfg.image_width = 16;
    gm_vae *vae;
    if (gm_vae_create(&cfg, &vae) != GM_OK)  /* not square: fine */
        fail_msg("4 x 16: %s", gm_last_error());
    gm_vae_free(vae);
    cfg.image_height = 7;
    cfg.image_width = 11;
    cfg.input_dim = 77;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);  /* odd: each halving floors, the mirror pads back */
    gm_vae_free(vae);
    cfg.image_width = 8;
    cfg.input_dim = 56;
    expect_refused(&cfg, "an image of 7 x 8 cannot be mirrored");

    gm_gan_config g;
    conv_gan_config(&g, GM_GAN_WGAN_GP, 0, GM_NORM_NONE, GM_NORM_BATCH);
    expect_gan_refused(&g, "GM_GAN_WGAN_GP penalizes each sample's gradient, which batch normalization");
    conv_gan_config(&g, GM_GAN_WGAN_GP, 0, GM_NORM_NONE, GM_NORM_NONE);
    g.minibatch_std = 2;
    expect_gan_refused(&g, "which the minibatch-stddev feature mixes");
    conv_gan_config(&g, GM_GAN_HINGE, 0, GM_NORM_SPECTRAL, GM_NORM_NONE);
    expect_gan_refused(&g, "gen_norm must be GM_NORM_NONE or GM_NORM_BATCH");
    static const int32_t groups[] = { -2, 1, GM_GAN_MAX_MBSTD_GROUP + 1 };
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) {
        conv_gan_config(&g, GM_GAN_HINGE, 0, GM_NORM_NONE, GM_NORM_NONE);
        g.minibatch_std = groups[i];
        expect_gan_refused(&g, "minibatch_std must be 0 or in [2, 64]");
    }

    /* a training batch splits into groups; any inference batch will do */
    conv_gan_config(&g, GM_GAN_HINGE, 0, GM_NORM_NONE, GM_NORM_SPECTRAL);
    g.minibatch_std = 4;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&g, &gan), GM_OK);
    float x[7 * D], logits[7];
    gm_test_fill(x, 7 * D, 0.0f, 1.0f, 13);
    assert_int_equal(gm_gan_train_step(gan, x, NULL, 6, NULL), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "n (6) must be a multiple of minibatch_std (4)"));
    assert_int_equal(gm_gan_train_step(gan, x, NULL, 4, NULL), GM_OK);
    assert_int_equal(gm_gan_discriminate(gan, x, NULL, 7, logits), GM_OK);
    /* the last three samples are a group of their own: the first four score as they do alone */
    float alone[4];
    assert_int_equal(gm_gan_discriminate(gan, x, NULL, 4, alone), GM_OK);
    assert_memory_equal(alone, logits, sizeof alone);
    for (int i = 0; i < 7; i++)
        assert_true(isfinite(logits[i]));
    gm_gan_free(gan);
}

/* ---- shapes that round ---- */

/* An odd image: the decoder's transposed convolutions pad their way back to
 * 7 x 11, and a step trains. */
static void test_odd_image_round_trips(void **state)
{
    (void)state;
    gm_vae_config cfg;
    conv_vae_config(&cfg, 0, GM_NORM_BATCH);
    cfg.image_height = 7;
    cfg.image_width = 11;
    cfg.input_dim = 77;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    float x[N * 77], out[N * 77];
    gm_test_fill(x, N * 77, 0.0f, 1.0f, 11);
    gm_vae_losses l;
    assert_int_equal(gm_vae_train_step(vae, x, NULL, N, &l), GM_OK);
    assert_true(isfinite(l.loss) && l.loss > 0.0);
    assert_int_equal(gm_vae_reconstruct(vae, x, NULL, N, out), GM_OK);
    for (int i = 0; i < N * 77; i++)
        assert_true(out[i] >= 0.0f && out[i] <= 1.0f);
    gm_vae_free(vae);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vae_gradients),
        cmocka_unit_test(test_gan_gradients),
        cmocka_unit_test(test_teams_agree),
        cmocka_unit_test(test_running_statistics_follow_only_good_steps),
        cmocka_unit_test(test_spectral_norm_tracks_the_largest_singular_value),
        cmocka_unit_test(test_conv_inference_and_memory),
        cmocka_unit_test(test_config_checks),
        cmocka_unit_test(test_odd_image_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
