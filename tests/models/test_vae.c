/* The VAE from the inside: the gradient of the whole objective against
 * finite differences of a double-precision reference, the loss terms
 * against hand-computed values, the exact IWAE of a model whose posterior
 * is its prior, bit-identical reruns, a failed step that changes
 * nothing, and a failed growth that leaves a working model. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdint.h>
#include <zlib.h>

#include "genmodel/checkpoint.h"
#include "models/vae_internal.h"
#include "gm_ref.h"
#include "gm_test.h"
#include "vae_fixture.h"

enum { N = 4, D = 6, H = 5, Z = 3 };

/* ---- a double-precision reference of the objective ---- */

typedef struct {
    const gm_vae_config *cfg;
    const float *x;
    const int32_t *labels;
    const double *eps;
} objective_ctx;

static double objective_ref(const double *p, void *vc)
{
    const objective_ctx *c = vc;
    const gm_vae_config *cfg = c->cfg;
    const int C = cfg->n_classes;
    const int enc_w[3] = { D + C, H, 2 * Z }, dec_w[3] = { Z + C, H, D };
    const int acts[2] = { cfg->activation, GM_ACT_IDENTITY };
    const gm_ref_mlp enc = { 2, enc_w, acts, cfg->leaky_slope }, dec = { 2, dec_w, acts, cfg->leaky_slope };
    double xin[N * (D + 8)], mulv[N * 2 * Z], zin[N * (Z + 8)], logits[N * D];
    for (int n = 0; n < N; n++) {
        for (int d = 0; d < D + C; d++)
            xin[n * (D + C) + d] = d < D ? c->x[n * D + d] : (C && c->labels[n] == d - D);
    }
    size_t used = gm_ref_mlp_forward(&enc, p, xin, N, mulv);
    double total = 0;
    for (int n = 0; n < N; n++) {
        double kl = 0;
        for (int j = 0; j < Z + C; j++) {
            if (j >= Z) {
                zin[n * (Z + C) + j] = c->labels[n] == j - Z;
                continue;
            }
            double mu = mulv[n * 2 * Z + j], lv = mulv[n * 2 * Z + Z + j];
            zin[n * (Z + C) + j] = mu + exp(0.5 * lv) * c->eps[n * Z + j];
            kl += 0.5 * (exp(lv) + mu * mu - 1.0 - lv);
        }
        total += cfg->beta * kl;
    }
    gm_ref_mlp_forward(&dec, p + used, zin, N, logits);
    for (int i = 0; i < N * D; i++) {
        double l = logits[i], t = c->x[i];
        if (cfg->likelihood == GM_LIKELIHOOD_BERNOULLI)
            total += fmax(l, 0) - l * t + log1p(exp(-fabs(l)));
        else
            total += 0.5 * log(2 * 3.14159265358979323846) + 0.5 * (t - l) * (t - l);
    }
    return total / N;
}

static void small_config(gm_vae_config *cfg)
{
    gm_vae_config_init(cfg);
    cfg->input_dim = D;
    cfg->latent_dim = Z;
    cfg->enc_hidden[0] = H;
    cfg->dec_hidden[0] = H;
    cfg->activation = GM_ACT_TANH;
}

static void check_gradients(const gm_vae_config *cfg)
{
    gm_vae *vae;
    assert_int_equal(gm_vae_create(cfg, &vae), GM_OK);
    gm_param_table *t = gm_vae_param_table(vae);
    float x[N * D], eps[N * Z];
    int32_t labels[N] = { 2, 0, 1, 2 };
    double eps_d[N * Z];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 21);
    gm_test_fill(eps, N * Z, -1.5f, 1.5f, 22);
    for (int i = 0; i < N * Z; i++)
        eps_d[i] = eps[i];
    const int32_t *lab = cfg->n_classes ? labels : NULL;

    gm_vae_losses l;
    assert_int_equal(gm_vae_gradients(vae, x, lab, N, eps, &l), GM_OK);
    size_t count = 0;
    for (int i = 0; i < t->count; i++)
        count += t->items[i].numel;
    double *p = malloc(count * sizeof *p);
    float *g = malloc(count * sizeof *g);
    size_t k = 0;
    for (int i = 0; i < t->count; i++)
        for (size_t j = 0; j < t->items[i].numel; j++, k++) {
            p[k] = gm_param_data(t, i)[j];
            g[k] = gm_param_grad(t, i)[j];
        }
    objective_ctx c = { cfg, x, lab, eps_d };
    assert_float_equal(l.loss, objective_ref(p, &c), 1e-4 * fabs(l.loss));
    gm_check_gradient(objective_ref, &c, p, count, g, 2e-3, 2e-5, "vae objective");
    free(p);
    free(g);
    gm_vae_free(vae);
}

static void test_gradients_bernoulli(void **state)
{
    (void)state;
    gm_vae_config cfg;
    small_config(&cfg);
    check_gradients(&cfg);
}

static void test_gradients_conditional_gaussian(void **state)
{
    (void)state;
    gm_vae_config cfg;
    small_config(&cfg);
    cfg.n_classes = 3;
    cfg.likelihood = GM_LIKELIHOOD_GAUSSIAN;
    cfg.activation = GM_ACT_ELU;
    cfg.beta = 0.5f;
    check_gradients(&cfg);
}

/* ---- hand-computed terms: zero weights make every output a bias ---- */

static gm_vae *bias_only_vae(int likelihood, const float *enc_bias, const float *dec_bias)
{
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    cfg.input_dim = 2;
    cfg.latent_dim = 1;
    cfg.n_enc_hidden = cfg.n_dec_hidden = 0;
    cfg.likelihood = likelihood;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    gm_param_table *t = gm_vae_param_table(vae);
    /* tensors: enc.0.weight (2, 2), enc.0.bias (2), dec.0.weight (2, 1), dec.0.bias (2) */
    memset(gm_param_data(t, 0), 0, 4 * sizeof(float));
    memcpy(gm_param_data(t, 1), enc_bias, 2 * sizeof(float));
    memset(gm_param_data(t, 2), 0, 2 * sizeof(float));
    memcpy(gm_param_data(t, 3), dec_bias, 2 * sizeof(float));
    return vae;
}

static void test_hand_computed_terms(void **state)
{
    (void)state;
    /* q = N(0.5, 0.25): KL = (0.25 + 0.25 - 1 - ln 0.25) / 2.
     * p(x|z) = Bernoulli(0.5), Bernoulli(0.75) whatever z; for x = (1, 0.5)
     * the cross-entropy is ln 2 + (ln(4/3) + ln 4) / 2. */
    const float enc_bias[2] = { 0.5f, (float)log(0.25) }, dec_bias[2] = { 0.0f, (float)log(3.0) };
    gm_vae *vae = bias_only_vae(GM_LIKELIHOOD_BERNOULLI, enc_bias, dec_bias);
    const float x[2] = { 1.0f, 0.5f };
    double elbo;
    gm_vae_losses l;
    assert_int_equal(gm_vae_elbo(vae, x, NULL, 1, &elbo, &l), GM_OK);
    double kl = 0.5 * (0.5 - 1.0 - log(0.25));
    double recon = log(2.0) + 0.5 * (log(4.0 / 3.0) + log(4.0));
    assert_float_equal(l.kl, kl, 1e-6);
    assert_float_equal(l.recon, recon, 1e-6);
    assert_float_equal(elbo, -(kl + recon), 1e-6);
    double score;
    assert_int_equal(gm_vae_score(vae, x, NULL, 1, 5, &score), GM_OK);
    assert_float_equal(score, kl + recon, 1e-6);
    float probs[2];
    assert_int_equal(gm_vae_sample(vae, NULL, 1, probs), GM_OK);
    assert_float_equal(probs[0], 0.5f, 1e-7);
    assert_float_equal(probs[1], 0.75f, 1e-7);
    gm_vae_free(vae);
}

static void test_iwae_exact_when_posterior_is_prior(void **state)
{
    (void)state;
    /* q(z|x) = N(0, 1) = p(z), and p(x|z) ignores z: every importance
     * weight is p(x) itself, so the bound is log p(x) for any k. */
    const float zero[2] = { 0.0f, 0.0f }, mean[2] = { 0.25f, -1.0f };
    gm_vae *vae = bias_only_vae(GM_LIKELIHOOD_GAUSSIAN, zero, mean);
    const float x[4] = { 1.0f, 0.5f, -2.0f, 0.0f };
    double log_px[2], want[2];
    for (int n = 0; n < 2; n++) {
        want[n] = 0;
        for (int d = 0; d < 2; d++)
            want[n] -= 0.5 * log(2 * 3.14159265358979323846) + 0.5 * pow(x[2 * n + d] - mean[d], 2);
    }
    for (int k = 1; k <= 64; k *= 8) {
        assert_int_equal(gm_vae_iwae(vae, x, NULL, 2, k, log_px), GM_OK);
        assert_float_equal(log_px[0], want[0], 1e-5);
        assert_float_equal(log_px[1], want[1], 1e-5);
    }
    gm_vae_free(vae);
}

static void test_iwae_tightens_with_k(void **state)
{
    (void)state;
    gm_vae_config cfg;
    small_config(&cfg);
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    enum { M = 64 };
    float x[M * D];
    gm_test_fill(x, M * D, 0.0f, 1.0f, 3);
    for (int i = 0; i < 50; i++)
        assert_int_equal(gm_vae_train_step(vae, x, NULL, M, NULL), GM_OK);
    double elbo[M], k1[M], k100[M], mean_elbo = 0, mean_k1 = 0, mean_k100 = 0;
    assert_int_equal(gm_vae_elbo(vae, x, NULL, M, elbo, NULL), GM_OK);
    assert_int_equal(gm_vae_iwae(vae, x, NULL, M, 1, k1), GM_OK);
    assert_int_equal(gm_vae_iwae(vae, x, NULL, M, 100, k100), GM_OK);
    for (int i = 0; i < M; i++) {
        mean_elbo += elbo[i] / M;
        mean_k1 += k1[i] / M;
        mean_k100 += k100[i] / M;
    }
    /* k = 1 is an unbiased ELBO estimate; k = 100 is a tighter bound */
    assert_float_equal(mean_k1, mean_elbo, 0.05 * fabs(mean_elbo));
    assert_true(mean_k100 > mean_elbo);
    gm_vae_free(vae);
}

/* ---- determinism and failure ---- */

static void train(gm_vae *vae, int steps)
{
    float x[16 * D];
    gm_test_fill(x, 16 * D, 0.0f, 1.0f, 5);
    for (int i = 0; i < steps; i++)
        assert_int_equal(gm_vae_train_step(vae, x, NULL, 16, NULL), GM_OK);
}

static void test_same_seed_same_bits(void **state)
{
    (void)state;
    gm_vae_config cfg;
    small_config(&cfg);
    gm_vae *a, *b, *c;
    assert_int_equal(gm_vae_create(&cfg, &a), GM_OK);
    assert_int_equal(gm_vae_create(&cfg, &b), GM_OK);
    cfg.seed = 1;
    assert_int_equal(gm_vae_create(&cfg, &c), GM_OK);
    train(a, 5);
    train(b, 5);
    train(c, 5);
    gm_param_table *ta = gm_vae_param_table(a), *tb = gm_vae_param_table(b), *tc = gm_vae_param_table(c);
    assert_memory_equal(ta->data, tb->data, 4 * ta->total * sizeof(float));
    assert_true(memcmp(ta->data, tc->data, ta->total * sizeof(float)) != 0);
    assert_int_equal(gm_vae_step_count(a), 5);
    gm_vae_free(a);
    gm_vae_free(b);
    gm_vae_free(c);
}

/* two models alike in every bit, two steps in */
static void trained_twins(gm_vae **vae, gm_vae **twin)
{
    gm_vae_config cfg;
    small_config(&cfg);
    assert_int_equal(gm_vae_create(&cfg, vae), GM_OK);
    assert_int_equal(gm_vae_create(&cfg, twin), GM_OK);
    train(*vae, 2);
    train(*twin, 2);
}

static void test_numeric_failure_changes_nothing(void **state)
{
    (void)state;
    gm_vae *vae, *twin;
    trained_twins(&vae, &twin);
    gm_param_table *t = gm_vae_param_table(vae);
    size_t bytes = 4 * t->total * sizeof(float);
    float *before = malloc(bytes);
    memcpy(before, t->data, bytes);

    /* a log-variance of 1000 overflows sigma and the KL term; tensor 3 is
     * the encoder head's bias, packed [mu | logvar] */
    float *logvar_bias = gm_param_data(t, 3) + Z;
    float saved = *logvar_bias;
    *logvar_bias = 1000.0f;
    before[t->items[3].offset + Z] = 1000.0f;
    float x[16 * D];
    gm_test_fill(x, 16 * D, 0.5f, 1.0f, 5);
    assert_int_equal(gm_vae_train_step(vae, x, NULL, 16, NULL), GM_ERR_NUMERIC);
    assert_non_null(strstr(gm_last_error(), "no update"));
    assert_memory_equal(t->data, before, t->total * sizeof(float));          /* weights */
    assert_memory_equal(t->m, before + t->total, 2 * t->total * sizeof(float));      /* moments */
    assert_int_equal(gm_vae_step_count(vae), 2);

    /* repaired, it goes on exactly as its twin: the random state did not move */
    *logvar_bias = saved;
    train(vae, 1);
    train(twin, 1);
    assert_memory_equal(t->data, gm_vae_param_table(twin)->data, t->total * sizeof(float));
    free(before);
    gm_vae_free(vae);
    gm_vae_free(twin);
}

/* A finite loss but a gradient that overflows: the decoder's tiny hidden
 * layer keeps the logits finite (3e38 times ~1e-12), while its output
 * weights of 3e38 times each pixel's error overflow on the way back. The
 * step is refused the same way: no weight, moment or random draw moves. */
static void test_overflowing_gradient_changes_nothing(void **state)
{
    (void)state;
    gm_vae *vae, *twin;
    trained_twins(&vae, &twin);
    gm_param_table *t = gm_vae_param_table(vae);
    float *saved = malloc(t->total * sizeof(float));
    memcpy(saved, t->data, t->total * sizeof(float));
    for (int i = 0; i < t->count; i++) {
        float *p = gm_param_data(t, i);
        for (size_t j = 0; j < t->items[i].numel; j++) {
            if (!strcmp(t->items[i].name, "dec.0.weight"))
                p[j] *= 1e-12f;
            else if (!strcmp(t->items[i].name, "dec.0.bias"))
                p[j] = 0.0f;
            else if (!strcmp(t->items[i].name, "dec.1.weight"))
                p[j] = 3e38f;
        }
    }
    const size_t bytes = 3 * t->total * sizeof(float);
    float *before = malloc(bytes);
    memcpy(before, t->data, bytes);
    float x[D];
    for (int d = 0; d < D; d++)
        x[d] = 0.5f;   /* an error of +-0.5 at every pixel, whichever way the logits went */
    gm_vae_losses l = { 0 };
    assert_int_equal(gm_vae_train_step(vae, x, NULL, 1, &l), GM_ERR_NUMERIC);
    assert_string_equal(gm_last_error(), "gm_vae_train_step: a gradient is not finite; no update was made");
    assert_memory_equal(t->data, before, bytes);   /* weights and both moments */
    assert_int_equal(gm_vae_step_count(vae), 2);
    assert_true(l.loss == 0.0);                    /* not reported either */

    memcpy(t->data, saved, t->total * sizeof(float));
    train(vae, 1);
    train(twin, 1);
    assert_memory_equal(t->data, gm_vae_param_table(twin)->data, t->total * sizeof(float));
    free(before);
    free(saved);
    gm_vae_free(vae);
    gm_vae_free(twin);
}

/* A step at a larger batch that runs out of memory part-way (k-th
 * allocation) leaves a model that still works at the batch it had. */
static void test_failed_growth_leaves_a_working_model(void **state)
{
    (void)state;
    gm_vae_config cfg;
    small_config(&cfg);
    static float x[64 * D];
    gm_test_fill(x, 64 * D, 0.0f, 1.0f, 8);
    gm_test_alloc_install();
    for (size_t k = 1; k <= 4; k++) {
        gm_vae *vae;
        assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
        assert_int_equal(gm_vae_train_step(vae, x, NULL, 8, NULL), GM_OK);
        gm_test_alloc_reset(k);
        gm_status s = gm_vae_train_step(vae, x, NULL, 64, NULL);
        assert_true(s == GM_OK || s == GM_ERR_NO_MEMORY);
        gm_test_alloc_reset(0);
        assert_int_equal(gm_vae_train_step(vae, x, NULL, 8, NULL), GM_OK);
        gm_vae_free(vae);
    }
    gm_test_alloc_uninstall();
}

/* ---- score kinds (gm_vae_score_as) ---- */

static gm_vae *scoring_vae(void)
{
    gm_vae_config c;
    gm_vae_config_init(&c);
    c.input_dim = 16;  /* W in test_score_kinds */
    c.latent_dim = 3;
    c.enc_hidden[0] = c.dec_hidden[0] = 8;
    c.seed = 11;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&c, &vae), GM_OK);
    return vae;
}

/* the reconstruction error is the Bernoulli -log p(x | z = mu) of the
 * reconstruction; IWAE is -gm_vae_iwae over the same draws; the
 * complexity-corrected score is that less the raw-deflate length of the
 * 8-bit pixels, in nats */
static void test_score_kinds(void **state)
{
    (void)state;
    enum { R = 6, W = 16, M = 5 };
    float x[R * W], rec[R * W];
    gm_test_fill(x, R * W, 0.0f, 1.0f, 21);
    for (int j = 0; j < W; j++)
        x[j] = 0.0f;   /* a flat row compresses well */
    gm_vae *a = scoring_vae(), *b = scoring_vae(), *c = scoring_vae();
    double recon[R], iwae[R], log_px[R], complexity[R];
    assert_int_equal(gm_vae_score_as(a, GM_SCORE_RECONSTRUCTION, x, NULL, R, 1, recon), GM_OK);
    assert_int_equal(gm_vae_reconstruct(a, x, NULL, R, rec), GM_OK);
    for (int i = 0; i < R; i++) {
        double want = 0.0;
        for (int j = 0; j < W; j++) {
            const double p = rec[i * W + j], v = x[i * W + j];
            want -= v * log(p) + (1.0 - v) * log(1.0 - p);
        }
        assert_true(fabs(recon[i] - want) <= 1e-5 * fabs(want));
    }
    assert_int_equal(gm_vae_score_as(a, GM_SCORE_IWAE, x, NULL, R, M, iwae), GM_OK);
    assert_int_equal(gm_vae_iwae(b, x, NULL, R, M, log_px), GM_OK);
    assert_int_equal(gm_vae_score_as(c, GM_SCORE_COMPLEXITY, x, NULL, R, M, complexity), GM_OK);
    for (int i = 0; i < R; i++) {
        assert_true(iwae[i] == -log_px[i]);
        uint8_t in[W], out[256];
        for (int j = 0; j < W; j++)
            in[j] = (uint8_t)(x[i * W + j] * 255.0f + 0.5f);
        z_stream z = { 0 };
        assert_int_equal(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
        z.next_in = in, z.avail_in = W, z.next_out = out, z.avail_out = sizeof out;
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        const double nats = 8.0 * (double)z.total_out * log(2.0);
        deflateEnd(&z);
        assert_true(fabs(complexity[i] - (iwae[i] - nats)) <= 1e-9 * fabs(iwae[i]));
    }
    assert_true(iwae[0] - complexity[0] < iwae[1] - complexity[1]);  /* the flat row is the simpler */
    /* the anomaly map: each row's values add up to its reconstruction score */
    float map[R * W];
    assert_int_equal(gm_vae_anomaly_map(a, x, NULL, R, map), GM_OK);
    for (int i = 0; i < R; i++) {
        double sum = 0.0;
        for (int j = 0; j < W; j++) {
            assert_true(map[i * W + j] >= 0.0f);
            sum += map[i * W + j];
        }
        assert_true(fabs(sum - recon[i]) <= 1e-5 * fabs(recon[i]));
    }
    assert_int_equal(gm_vae_score_as(a, 4, x, NULL, R, M, iwae), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_score_as(a, -1, x, NULL, R, M, iwae), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_score_as(a, GM_SCORE_IWAE, x, NULL, R, 0, iwae), GM_ERR_INVALID_ARG);
    gm_vae_free(a);
    gm_vae_free(b);
    gm_vae_free(c);
}

/* the latent-knn score against a double-precision reference: the
 * Mahalanobis metric of the fitted covariance (ridge as the library's),
 * the bank of evenly spaced training rows, the mean of the nearest
 * distances */
static int cmp_dbl(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* one bank size: bank 8 keeps evenly spaced rows of the R, all nearest
 * (fewer than GM_VAE_KNN); bank 64 keeps all R and picks the nearest 10 */
static void check_latent_knn(int bank)
{
    enum { R = 40, Q = 5, W = 16 };
    gm_vae_config c;
    gm_vae_config_init(&c);
    c.input_dim = W;
    c.latent_dim = 3;
    c.enc_hidden[0] = c.dec_hidden[0] = 8;
    c.seed = 11;
    c.latent_bank = bank;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&c, &vae), GM_OK);
    float x[R * W], q[Q * W], mu[R * 3], muq[Q * 3], lv[R * 3];
    gm_test_fill(x, R * W, 0.0f, 1.0f, 41);
    gm_test_fill(q, Q * W, 0.0f, 1.0f, 42);
    double got[Q];
    assert_int_equal(gm_vae_score_as(vae, GM_SCORE_LATENT_KNN, q, NULL, Q, 1, got), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_vae_fit_latent"));
    assert_int_equal(gm_vae_fit_latent(vae, x, NULL, R), GM_OK);
    assert_int_equal(gm_vae_score_as(vae, GM_SCORE_LATENT_KNN, q, NULL, Q, 1, got), GM_OK);
    assert_int_equal(gm_vae_encode(vae, x, NULL, R, mu, lv), GM_OK);
    assert_int_equal(gm_vae_encode(vae, q, NULL, Q, muq, lv), GM_OK);
    gm_vae_free(vae);
    /* the covariance (n - 1), its ridge, and its inverse by cofactors */
    double mean[3] = { 0 }, cov[9] = { 0 }, P[9];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < 3; j++)
            mean[j] += mu[i * 3 + j] / R;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                cov[j * 3 + k] += (mu[i * 3 + j] - mean[j]) * (mu[i * 3 + k] - mean[k]) / (R - 1);
    const double ridge = 1e-6 * (cov[0] + cov[4] + cov[8]) / 3 + 1e-12;
    for (int j = 0; j < 3; j++)
        cov[j * 4] += ridge;
    for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++) {
            const int j1 = (k + 1) % 3, j2 = (k + 2) % 3, k1 = (j + 1) % 3, k2 = (j + 2) % 3;
            P[j * 3 + k] = cov[j1 * 3 + k1] * cov[j2 * 3 + k2] - cov[j1 * 3 + k2] * cov[j2 * 3 + k1];
        }
    const double det = cov[0] * P[0] + cov[1] * P[3] + cov[2] * P[6];
    for (int j = 0; j < 9; j++)
        P[j] /= det;
    const int kept = R < bank ? R : bank, K = kept < GM_VAE_KNN ? kept : GM_VAE_KNN;
    for (int i = 0; i < Q; i++) {
        double d[R];
        for (int b = 0; b < kept; b++) {
            const float *r = mu + (b * R / kept) * 3;
            double e[3], m2 = 0.0;
            for (int j = 0; j < 3; j++)
                e[j] = (double)muq[i * 3 + j] - r[j];
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++)
                    m2 += e[j] * P[j * 3 + k] * e[k];
            d[b] = sqrt(m2);
        }
        qsort(d, (size_t)kept, sizeof *d, cmp_dbl);
        double want = 0.0;
        for (int k = 0; k < K; k++)
            want += d[k] / K;
        assert_true(fabs(got[i] - want) <= 1e-4 * want);
    }
}

static void test_latent_knn_score(void **state)
{
    (void)state;
    check_latent_knn(8);
    check_latent_knn(64);
    /* latent_bank 0 keeps none: the score says why */
    gm_vae_config c;
    gm_vae_config_init(&c);
    c.input_dim = 16;
    c.latent_dim = 3;
    c.latent_bank = 0;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&c, &vae), GM_OK);
    float x[4 * 16];
    double got[4];
    gm_test_fill(x, 4 * 16, 0.0f, 1.0f, 43);
    assert_int_equal(gm_vae_fit_latent(vae, x, NULL, 4), GM_OK);
    assert_int_equal(gm_vae_score_as(vae, GM_SCORE_LATENT_KNN, x, NULL, 4, 1, got), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "latent_bank 0"));
    gm_vae_free(vae);
}

/* ---- standardized inputs: a table's columns on their own scales ---- */

static void test_standardize_matches_standardized_data(void **state)
{
    (void)state;
    enum { R = 16 };
    gm_vae_config cfg;
    small_config(&cfg);
    cfg.likelihood = GM_LIKELIHOOD_GAUSSIAN;
    cfg.standardize = 1;
    gm_vae *a, *b;
    assert_int_equal(gm_vae_create(&cfg, &a), GM_OK);
    cfg.standardize = 0;
    assert_int_equal(gm_vae_create(&cfg, &b), GM_OK);
    /* column j spread 10^(j - 2) around j times that: far from unit scale */
    float x[R * D], xs[R * D];
    gm_test_fill(x, R * D, -1.0f, 1.0f, 31);
    double mean[D] = { 0 }, sd[D] = { 0 };
    for (int i = 0; i < R * D; i++)
        x[i] = (float)pow(10.0, i % D - 2) * ((float)(i % D) + x[i]);
    for (int i = 0; i < R * D; i++)
        mean[i % D] += x[i] / R;
    for (int i = 0; i < R * D; i++)
        sd[i % D] += (x[i] - mean[i % D]) * (x[i] - mean[i % D]) / R;
    for (int i = 0; i < R * D; i++)
        xs[i] = (float)((x[i] - mean[i % D]) / sqrt(sd[i % D]));

    gm_vae_losses la, lb;
    assert_int_equal(gm_vae_train_step(a, x, NULL, R, &la), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_vae_fit_standardization"));
    /* nor does it return values of x before the fit: it knows no scale */
    float z[2 * Z] = { 0 }, out[2 * D];
    assert_int_equal(gm_vae_decode(a, z, NULL, 2, out), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_sample(a, NULL, 2, out), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_vae_sample: this VAE standardizes"));
    assert_int_equal(gm_vae_fit_standardization(b, x, R), GM_ERR_INVALID_ARG);  /* standardize 0 */
    assert_int_equal(gm_vae_fit_standardization(a, x, 1), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_fit_standardization(a, x, R), GM_OK);
    /* the same model on the standardized table: the same steps, scores and outputs */
    for (int step = 0; step < 3; step++) {
        assert_int_equal(gm_vae_train_step(a, x, NULL, R, &la), GM_OK);
        assert_int_equal(gm_vae_train_step(b, xs, NULL, R, &lb), GM_OK);
        assert_true(fabs(la.loss - lb.loss) <= 1e-5 * fabs(lb.loss));
    }
    double sa[R], sb[R];
    assert_int_equal(gm_vae_score_as(a, GM_SCORE_RECONSTRUCTION, x, NULL, R, 1, sa), GM_OK);
    assert_int_equal(gm_vae_score_as(b, GM_SCORE_RECONSTRUCTION, xs, NULL, R, 1, sb), GM_OK);
    for (int i = 0; i < R; i++)
        assert_true(fabs(sa[i] - sb[i]) <= 1e-4 * fabs(sb[i]));
    float ra[R * D], rb[R * D];
    assert_int_equal(gm_vae_reconstruct(a, x, NULL, R, ra), GM_OK);
    assert_int_equal(gm_vae_reconstruct(b, xs, NULL, R, rb), GM_OK);
    for (int i = 0; i < R * D; i++) {
        const double back = rb[i] * sqrt(sd[i % D]) + mean[i % D];
        assert_true(fabs(ra[i] - back) <= 1e-4 * sqrt(sd[i % D]) + 1e-6 * fabs(back));
    }
    /* kept with the model: a saved copy reconstructs the same */
    void *buf;
    size_t size;
    gm_vae *c;
    assert_int_equal(gm_vae_save_buffer(a, &buf, &size), GM_OK);
    assert_int_equal(gm_vae_load_buffer(buf, size, &c), GM_OK);
    gm_buffer_free(buf);
    assert_int_equal(gm_vae_reconstruct(c, x, NULL, R, rb), GM_OK);
    assert_memory_equal(ra, rb, sizeof ra);
    /* a trained model keeps its statistics */
    assert_int_equal(gm_vae_fit_standardization(c, x, R), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "trained"));
    gm_vae_free(a);
    gm_vae_free(b);
    gm_vae_free(c);

    /* a constant column is refused by name; so is a Bernoulli model */
    cfg.standardize = 1;
    assert_int_equal(gm_vae_create(&cfg, &a), GM_OK);
    for (int i = 0; i < R; i++)
        x[i * D + 2] = 7.5f;
    assert_int_equal(gm_vae_fit_standardization(a, x, R), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "column 2 of x (counting from 0) is constant"));
    x[D + 4] = NAN;
    assert_int_equal(gm_vae_fit_standardization(a, x, R), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "x[1][4]"));
    gm_vae_free(a);
    cfg.likelihood = GM_LIKELIHOOD_BERNOULLI;
    assert_int_equal(gm_vae_create(&cfg, &a), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "Gaussian"));
}

/* ---- the first step of PyTorch's VAE (tests/models/make_vae_fixture.py) ---- */

static void compare_table(gm_param_table *t, float *(*get)(const gm_param_table *, int),
                          const float *const want[8], double atol, double rtol)
{
    for (int i = 0; i < 8; i++)
        gm_assert_close_f(get(t, i), want[i], t->items[i].numel, atol, rtol, t->items[i].name);
}

static void test_matches_pytorch_first_step(void **state)
{
    (void)state;
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    cfg.input_dim = FX_D;
    cfg.latent_dim = FX_Z;
    cfg.enc_hidden[0] = cfg.dec_hidden[0] = FX_H;
    cfg.scoring = 0;  /* PyTorch's model: its weights alone */
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    gm_param_table *t = gm_vae_param_table(vae);
    assert_int_equal(t->count, 8);
    for (int i = 0; i < 8; i++)
        memcpy(gm_param_data(t, i), fx_init[i], t->items[i].numel * sizeof(float));

    gm_vae_losses l;
    assert_int_equal(gm_vae_gradients(vae, fx_x, NULL, FX_N, fx_eps, &l), GM_OK);
    assert_float_equal(l.recon, fx_recon, 1e-5 * fx_recon);
    assert_float_equal(l.kl, fx_kl, 1e-5 * fx_kl);
    compare_table(t, gm_param_grad, fx_grad, 1e-6, 1e-4);
    gm_params_adam_step(t, &cfg.optim, NULL, NULL);
    compare_table(t, gm_param_data, fx_step, 1e-6, 1e-5);
    gm_vae_free(vae);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_bernoulli),
        cmocka_unit_test(test_gradients_conditional_gaussian),
        cmocka_unit_test(test_hand_computed_terms),
        cmocka_unit_test(test_iwae_exact_when_posterior_is_prior),
        cmocka_unit_test(test_iwae_tightens_with_k),
        cmocka_unit_test(test_same_seed_same_bits),
        cmocka_unit_test(test_numeric_failure_changes_nothing),
        cmocka_unit_test(test_overflowing_gradient_changes_nothing),
        cmocka_unit_test(test_failed_growth_leaves_a_working_model),
        cmocka_unit_test(test_matches_pytorch_first_step),
        cmocka_unit_test(test_score_kinds),
        cmocka_unit_test(test_standardize_matches_standardized_data),
        cmocka_unit_test(test_latent_knn_score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
