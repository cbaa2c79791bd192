/* The GAN from the inside: the discriminator's and the generator's
 * gradients against finite differences of a double-precision reference, for
 * every loss; bit-identical reruns; a step that fails after some of its
 * discriminator updates and returns to where it started; and a generator
 * that covers all eight modes of a ring of Gaussians. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/adv_loss.h"
#include "models/gan_internal.h"
#include "gm_ref.h"
#include "gm_test.h"
#include "gan_fixture.h"

enum { N = 4, D = 5, Z = 3, H = 6, C = 2 };
#define SMOOTH 0.1f

/* ---- the double reference ---- */

typedef struct {
    const gm_gan_config *cfg;
    const double *gen, *disc;   /* packed parameters; the one under test is x */
    const float *x, *z, *alpha;
    const int32_t *labels;
    int test_disc;
} objective_ctx;

static double adv(int kind, gm_adv_role role, const double *logits)
{
    double sum = 0;
    for (int i = 0; i < N; i++) {
        double v = logits[i], sp = log1p(exp(v)), spn = log1p(exp(-v)), t = 1.0 - SMOOTH;
        switch (kind) {
        case GM_GAN_NONSATURATING:
        case GM_GAN_MINIMAX:
            sum += role == GM_ADV_D_REAL ? t * spn + (1 - t) * sp : role == GM_ADV_D_FAKE ? sp
                 : kind == GM_GAN_NONSATURATING ? spn : -sp;
            break;
        case GM_GAN_HINGE:
            sum += role == GM_ADV_D_REAL ? fmax(1 - v, 0) : role == GM_ADV_D_FAKE ? fmax(1 + v, 0) : -v;
            break;
        case GM_GAN_LSGAN: {
            double target = role == GM_ADV_D_REAL ? t : role == GM_ADV_D_FAKE ? 0 : 1;
            sum += 0.5 * (v - target) * (v - target);
            break;
        }
        default:
            sum += role == GM_ADV_D_FAKE ? v : -v;
        }
    }
    return sum / N;
}

static double objective_ref(const double *p, void *vc)
{
    const objective_ctx *c = vc;
    const gm_gan_config *cfg = c->cfg;
    const double *gen = c->test_disc ? c->gen : p, *disc = c->test_disc ? p : c->disc;
    const int gw[3] = { Z + C, H, D }, dw[3] = { D + C, H, 1 };
    const int gacts[2] = { cfg->activation, cfg->gen_output }, dacts[2] = { cfg->activation, GM_ACT_IDENTITY };
    const gm_ref_mlp g = { 2, gw, gacts, cfg->leaky_slope }, d = { 2, dw, dacts, cfg->leaky_slope };
    double zin[N * (Z + C)], fake[N * D], real_in[N * (D + C)], fake_in[N * (D + C)], lr[N], lf[N];
    for (int n = 0; n < N; n++) {
        for (int j = 0; j < Z + C; j++)
            zin[n * (Z + C) + j] = j < Z ? c->z[n * Z + j] : (c->labels[n] == j - Z);
    }
    gm_ref_mlp_forward(&g, gen, zin, N, fake);
    for (int n = 0; n < N; n++)
        for (int j = 0; j < D + C; j++) {
            double onehot = j >= D && c->labels[n] == j - D;
            real_in[n * (D + C) + j] = j < D ? c->x[n * D + j] : onehot;
            fake_in[n * (D + C) + j] = j < D ? fake[n * D + j] : onehot;
        }
    gm_ref_mlp_forward(&d, disc, fake_in, N, lf);
    if (!c->test_disc)
        return adv(cfg->loss, GM_ADV_G_FAKE, lf);
    gm_ref_mlp_forward(&d, disc, real_in, N, lr);
    double loss = adv(cfg->loss, GM_ADV_D_REAL, lr) + adv(cfg->loss, GM_ADV_D_FAKE, lf);
    if (cfg->loss == GM_GAN_WGAN_GP) {
        double interp[N * (D + C)], grad[N * (D + C)], penalty = 0;
        for (int n = 0; n < N; n++)
            for (int j = 0; j < D + C; j++) {
                double a = c->alpha[n];
                interp[n * (D + C) + j] = a * real_in[n * (D + C) + j] + (1 - a) * fake_in[n * (D + C) + j];
            }
        gm_ref_mlp_input_grad(&d, disc, interp, N, grad);
        for (int n = 0; n < N; n++) {
            double sq = 0;
            for (int j = 0; j < D; j++)
                sq += grad[n * (D + C) + j] * grad[n * (D + C) + j];
            penalty += (sqrt(sq) - 1) * (sqrt(sq) - 1);
        }
        loss += cfg->gp_weight * penalty / N;
    }
    return loss;
}

static double *pack(const gm_param_table *t, int grads, size_t *count)
{
    size_t n = 0;
    for (int i = 0; i < t->count; i++)
        n += t->items[i].numel;
    double *out = malloc(n * sizeof *out);
    for (int i = 0, k = 0; i < t->count; i++)
        for (size_t j = 0; j < t->items[i].numel; j++, k++)
            out[k] = grads ? gm_param_grad(t, i)[j] : gm_param_data(t, i)[j];
    *count = n;
    return out;
}

/* the reference GAN's training: non-saturating loss, no stabilisers, a
 * plain discriminator (spectral normalization: tests/models/test_conv_models.c) */
static void reference_settings(gm_gan_config *cfg)
{
    cfg->loss = GM_GAN_NONSATURATING;
    cfg->disc_norm = GM_NORM_NONE;
    cfg->instance_noise = 0.0f;
    cfg->noise_anneal_steps = 0;
    cfg->ema_decay = 0.0f;
}

static void small_config(gm_gan_config *cfg, int loss)
{
    gm_gan_config_init(cfg);
    reference_settings(cfg);
    cfg->data_dim = D;
    cfg->noise_dim = Z;
    cfg->n_gen_hidden = cfg->n_disc_hidden = 1;
    cfg->gen_hidden[0] = cfg->disc_hidden[0] = H;
    cfg->loss = loss;
    cfg->n_classes = C;
    cfg->label_smoothing = SMOOTH;
    /* smooth activations keep finite differences away from kinks */
    cfg->activation = GM_ACT_TANH;
    cfg->gen_output = GM_ACT_SIGMOID;
}

/* with no_penalty, WGAN-GP's gp_weight is 0: the critic's loss is the
 * Wasserstein one alone, and the reference agrees */
static void check_loss(int loss, int no_penalty)
{
    gm_gan_config cfg;
    small_config(&cfg, loss);
    if (no_penalty)
        cfg.gp_weight = 0.0f;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    float x[N * D], z[N * Z], alpha[N] = { 0.1f, 0.5f, 0.7f, 0.95f };
    int32_t labels[N] = { 1, 0, 0, 1 };
    gm_test_fill(x, N * D, 0.0f, 1.0f, 31);
    gm_test_fill(z, N * Z, -1.5f, 1.5f, 32);
    gm_param_table *gt = gm_gan_gen_table(gan), *dt = gm_gan_disc_table(gan);
    /* larger critic weights make the penalty's norm differ clearly from 1 */
    for (size_t i = 0; i < dt->total; i++)
        dt->data[i] *= 2.0f;
    size_t ng, nd;
    double *gen = pack(gt, 0, &ng), *disc = pack(dt, 0, &nd);
    objective_ctx c = { &cfg, gen, disc, x, z, alpha, labels, 1 };

    gm_gan_losses l;
    assert_int_equal(gm_gan_disc_gradients(gan, x, labels, N, z, alpha, &l), GM_OK);
    size_t n;
    double *grad_d = pack(dt, 1, &n);
    float *gd = malloc(n * sizeof *gd);
    for (size_t i = 0; i < n; i++)
        gd[i] = (float)grad_d[i];
    assert_float_equal(l.d_loss, objective_ref(disc, &c), 1e-4 * (1 + fabs(l.d_loss)));
    gm_check_gradient(objective_ref, &c, disc, nd, gd, 2e-3, 2e-5, "discriminator");
    if (no_penalty)
        assert_true(l.gp == 0.0);

    assert_int_equal(gm_gan_gen_gradients(gan, labels, N, z, &l), GM_OK);
    c.test_disc = 0;
    double *grad_g = pack(gt, 1, &n);
    float *gg = malloc(n * sizeof *gg);
    for (size_t i = 0; i < n; i++)
        gg[i] = (float)grad_g[i];
    assert_float_equal(l.g_loss, objective_ref(gen, &c), 1e-4 * (1 + fabs(l.g_loss)));
    gm_check_gradient(objective_ref, &c, gen, ng, gg, 2e-3, 2e-5, "generator");
    free(gen);
    free(disc);
    free(grad_d);
    free(grad_g);
    free(gd);
    free(gg);
    gm_gan_free(gan);
}

static void test_nonsaturating(void **s) { (void)s; check_loss(GM_GAN_NONSATURATING, 0); }
static void test_minimax(void **s) { (void)s; check_loss(GM_GAN_MINIMAX, 0); }
static void test_hinge(void **s) { (void)s; check_loss(GM_GAN_HINGE, 0); }
static void test_lsgan(void **s) { (void)s; check_loss(GM_GAN_LSGAN, 0); }
static void test_wgan_gp(void **s) { (void)s; check_loss(GM_GAN_WGAN_GP, 0); }
static void test_wgan_no_penalty(void **s) { (void)s; check_loss(GM_GAN_WGAN_GP, 1); }

/* Instance noise fades linearly and is gone at noise_anneal_steps: from
 * then on the critic sees what a twin without noise sees, bit for bit. */
static void test_instance_noise_ends(void **state)
{
    (void)state;
    gm_gan_config cfg;
    small_config(&cfg, GM_GAN_NONSATURATING);
    gm_gan *clean, *noisy;
    assert_int_equal(gm_gan_create(&cfg, &clean), GM_OK);
    cfg.instance_noise = 0.5f;
    cfg.noise_anneal_steps = 3;
    assert_int_equal(gm_gan_create(&cfg, &noisy), GM_OK);
    gm_param_table *ct = gm_gan_disc_table(clean), *nt = gm_gan_disc_table(noisy);
    assert_memory_equal(ct->data, nt->data, ct->total * sizeof(float));
    float x[N * D], z[N * Z];
    int32_t labels[N] = { 1, 0, 0, 1 };
    gm_test_fill(x, N * D, 0.0f, 1.0f, 41);
    gm_test_fill(z, N * Z, -1.5f, 1.5f, 42);
    static const int64_t steps[] = { 2, 3, 9 };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        gm_gan_gen_table(clean)->step = gm_gan_gen_table(noisy)->step = steps[i];
        gm_gan_losses a, b;
        assert_int_equal(gm_gan_disc_gradients(clean, x, labels, N, z, NULL, &a), GM_OK);
        assert_int_equal(gm_gan_disc_gradients(noisy, x, labels, N, z, NULL, &b), GM_OK);
        const int same = a.d_loss == b.d_loss && !memcmp(ct->grad, nt->grad, ct->total * sizeof(float));
        if (same != (steps[i] >= 3))
            fail_msg("at step %lld the critic %s the noise-free one's", (long long)steps[i],
                     same ? "matches" : "differs from");
    }
    gm_gan_free(clean);
    gm_gan_free(noisy);
}

/* ---- determinism and failure ---- */

/* the fixed batch every test here trains on: 16 rows of x, labels 0, 1, ... */
static void fixed_batch(float x[16 * D], int32_t labels[16])
{
    gm_test_fill(x, 16 * D, 0.0f, 1.0f, 5);
    for (int i = 0; i < 16; i++)
        labels[i] = i % C;
}

static void train(gm_gan *gan, int steps)
{
    float x[16 * D];
    int32_t labels[16];
    fixed_batch(x, labels);
    for (int i = 0; i < steps; i++)
        assert_int_equal(gm_gan_train_step(gan, x, labels, 16, NULL), GM_OK);
}

static void test_same_seed_same_bits(void **state)
{
    (void)state;
    gm_gan_config cfg;
    small_config(&cfg, GM_GAN_WGAN_GP);
    cfg.n_critic = 3;
    cfg.ema_decay = 0.9f;
    cfg.instance_noise = 0.1f;
    gm_gan *a, *b;
    assert_int_equal(gm_gan_create(&cfg, &a), GM_OK);
    assert_int_equal(gm_gan_create(&cfg, &b), GM_OK);
    train(a, 4);
    train(b, 4);
    gm_param_table *ga = gm_gan_gen_table(a), *gb = gm_gan_gen_table(b);
    gm_param_table *da = gm_gan_disc_table(a), *db = gm_gan_disc_table(b);
    assert_memory_equal(ga->data, gb->data, 3 * ga->total * sizeof(float));
    assert_memory_equal(da->data, db->data, da->total * sizeof(float));
    assert_memory_equal(da->m, db->m, 2 * da->total * sizeof(float));
    assert_memory_equal(gm_gan_ema(a), gm_gan_ema(b), ga->total * sizeof(float));
    assert_int_equal(gm_gan_step_count(a), 4);
    assert_int_equal(da->step, 12);
    gm_gan_free(a);
    gm_gan_free(b);
}

static void test_failed_step_changes_nothing(void **state)
{
    (void)state;
    gm_gan_config cfg;
    small_config(&cfg, GM_GAN_NONSATURATING);
    cfg.n_critic = 2;
    cfg.activation = GM_ACT_LEAKY_RELU;  /* unbounded, so huge weights overflow */
    gm_gan *gan, *twin;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    assert_int_equal(gm_gan_create(&cfg, &twin), GM_OK);
    train(gan, 2);
    train(twin, 2);
    gm_param_table *dt = gm_gan_disc_table(gan), *gt = gm_gan_gen_table(gan);
    size_t bytes = 3 * dt->total * sizeof(float);
    float *before = malloc(bytes), *gen_before = malloc(gt->total * sizeof(float));
    memcpy(before, dt->data, dt->total * sizeof(float));
    memcpy(before + dt->total, dt->m, 2 * dt->total * sizeof(float));
    memcpy(gen_before, gt->data, gt->total * sizeof(float));

    /* a huge learning rate: the first critic update succeeds and blows the
     * weights up, so the second one fails; the step must undo the first */
    assert_int_equal(gm_gan_set_lr(gan, cfg.gen_optim.lr, 1e35f), GM_OK);
    float x[16 * D];
    int32_t labels[16];
    fixed_batch(x, labels);
    assert_int_equal(gm_gan_train_step(gan, x, labels, 16, NULL), GM_ERR_NUMERIC);
    assert_memory_equal(dt->data, before, dt->total * sizeof(float));
    assert_memory_equal(dt->m, before + dt->total, 2 * dt->total * sizeof(float));
    assert_memory_equal(gt->data, gen_before, gt->total * sizeof(float));
    assert_int_equal(dt->step, 4);
    assert_int_equal(gm_gan_step_count(gan), 2);

    assert_int_equal(gm_gan_set_lr(gan, cfg.gen_optim.lr, cfg.disc_optim.lr), GM_OK);
    train(gan, 1);
    train(twin, 1);
    assert_memory_equal(dt->data, gm_gan_disc_table(twin)->data, dt->total * sizeof(float));
    assert_memory_equal(gt->data, gm_gan_gen_table(twin)->data, gt->total * sizeof(float));
    free(before);
    free(gen_before);
    gm_gan_free(gan);
    gm_gan_free(twin);
}

/* The generator's loss is what fails, after both critic updates worked:
 * the step still undoes them, and draws no random numbers. A hinge critic
 * built by hand scores real rows (all zero) 0 and generated ones -inf:
 * its own loss is finite (max(1 + -inf, 0) = 0), the generator's (-D(G(z)))
 * is not. */
static void test_failed_generator_undoes_the_critic(void **state)
{
    (void)state;
    gm_gan_config cfg;
    small_config(&cfg, GM_GAN_HINGE);
    cfg.n_critic = 2;
    cfg.activation = GM_ACT_RELU;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    gm_param_table *dt = gm_gan_disc_table(gan), *gt = gm_gan_gen_table(gan);
    for (int i = 0; i < dt->count; i++) {
        float *p = gm_param_data(dt, i);
        const char *name = dt->items[i].name;
        for (size_t j = 0; j < dt->items[i].numel; j++)
            p[j] = !strcmp(name, "disc.0.weight") ? (j % (D + C) < D ? 1.0f : 0.0f)   /* sums x, not labels */
                 : !strcmp(name, "disc.1.weight") ? -1e38f : 0.0f;
    }
    const size_t bytes = 3 * dt->total * sizeof(float);
    float *before = malloc(bytes), *gen_before = malloc(gt->total * sizeof(float));
    memcpy(before, dt->data, dt->total * sizeof(float));
    memcpy(before + dt->total, dt->m, dt->total * sizeof(float));
    memcpy(before + 2 * dt->total, dt->v, dt->total * sizeof(float));
    memcpy(gen_before, gt->data, gt->total * sizeof(float));
    const gm_rng rng = *gm_gan_rng(gan);

    float x[16 * D] = { 0 };
    int32_t labels[16];
    for (int i = 0; i < 16; i++)
        labels[i] = i % C;
    gm_gan_losses l;
    assert_int_equal(gm_gan_train_step(gan, x, labels, 16, &l), GM_ERR_NUMERIC);
    assert_string_equal(gm_last_error(), "gm_gan_train_step: the generator's loss is inf; no update was made");
    assert_memory_equal(dt->data, before, dt->total * sizeof(float));
    assert_memory_equal(dt->m, before + dt->total, dt->total * sizeof(float));
    assert_memory_equal(dt->v, before + 2 * dt->total, dt->total * sizeof(float));
    assert_memory_equal(gt->data, gen_before, gt->total * sizeof(float));
    assert_int_equal(dt->step, 0);
    assert_int_equal(gm_gan_step_count(gan), 0);
    assert_memory_equal(gm_gan_rng(gan), &rng, sizeof rng);
    free(before);
    free(gen_before);
    gm_gan_free(gan);
}

/* ---- the moving average's warm-up ---- */

/* The EMA's update after generator step t uses min(ema_decay, (t-1)/(t+9)):
 * step 1 copies the raw weights exactly, later steps follow the formula,
 * from step 11 on ema_decay = 0.5 itself; a failed step leaves the average
 * and the count it follows as they were. */
static void test_ema_warm_up(void **state)
{
    (void)state;
    gm_gan_config cfg;
    small_config(&cfg, GM_GAN_NONSATURATING);
    cfg.ema_decay = 0.5f;
    cfg.n_critic = 2;
    cfg.activation = GM_ACT_LEAKY_RELU;  /* unbounded, so huge weights overflow (below) */
    gm_gan *gan, *twin;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    assert_int_equal(gm_gan_create(&cfg, &twin), GM_OK);
    gm_param_table *gt = gm_gan_gen_table(gan);
    const size_t total = gt->total;
    float *ema = gm_gan_ema(gan), *before = malloc(total * sizeof *before);
    assert_non_null(ema);
    train(gan, 1);
    for (size_t i = 0; i < total; i++)
        assert_true(ema[i] == gt->data[i]);
    for (int64_t t = 2; t <= 12; t++) {
        memcpy(before, ema, total * sizeof *before);
        train(gan, 1);
        const double warm = (double)(t - 1) / (double)(t + 9);
        const float d = warm < 0.5 ? (float)warm : 0.5f;
        for (size_t i = 0; i < total; i++)
            assert_true(ema[i] == d * before[i] + (1.0f - d) * gt->data[i]);
    }
    train(twin, 12);
    assert_memory_equal(ema, gm_gan_ema(twin), total * sizeof *ema);

    /* the first critic update blows the weights up, the second fails */
    memcpy(before, ema, total * sizeof *before);
    assert_int_equal(gm_gan_set_lr(gan, cfg.gen_optim.lr, 1e35f), GM_OK);
    float x[16 * D];
    int32_t labels[16];
    fixed_batch(x, labels);
    assert_int_equal(gm_gan_train_step(gan, x, labels, 16, NULL), GM_ERR_NUMERIC);
    assert_memory_equal(ema, before, total * sizeof *ema);
    assert_int_equal(gm_gan_step_count(gan), 12);
    assert_int_equal(gm_gan_set_lr(gan, cfg.gen_optim.lr, cfg.disc_optim.lr), GM_OK);
    train(gan, 1);
    train(twin, 1);
    assert_memory_equal(ema, gm_gan_ema(twin), total * sizeof *ema);
    free(before);
    gm_gan_free(gan);
    gm_gan_free(twin);
}

/* ---- a ring of eight Gaussians ---- */

enum { MODES = 8, RING_BATCH = 128 };
#define RADIUS 0.8
#define SPREAD 0.02

static void ring_batch(gm_rng *rng, float *x, int n)
{
    float u[RING_BATCH], e[2 * RING_BATCH];
    gm_rng_uniform(rng, u, (size_t)n, 0.0f, (float)MODES);
    gm_rng_normal(rng, e, 2 * (size_t)n);
    for (int i = 0; i < n; i++) {
        double angle = 2 * 3.14159265358979323846 * (int)u[i] / MODES;
        x[2 * i] = (float)(RADIUS * cos(angle) + SPREAD * e[2 * i]);
        x[2 * i + 1] = (float)(RADIUS * sin(angle) + SPREAD * e[2 * i + 1]);
    }
}

static void test_covers_every_mode(void **state)
{
    (void)state;
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    reference_settings(&cfg);
    cfg.data_dim = 2;
    cfg.noise_dim = 2;
    cfg.gen_hidden[0] = cfg.gen_hidden[1] = 64;
    cfg.disc_hidden[0] = cfg.disc_hidden[1] = 64;
    cfg.gen_output = GM_ACT_TANH;
    cfg.gen_optim.lr = cfg.disc_optim.lr = 1e-3f;
    cfg.gen_optim.beta2 = cfg.disc_optim.beta2 = 0.9f;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    gm_rng data;
    gm_rng_init(&data, 11);
    float x[2 * RING_BATCH];
    for (int step = 0; step < 4000; step++) {
        ring_batch(&data, x, RING_BATCH);
        assert_int_equal(gm_gan_train_step(gan, x, NULL, RING_BATCH, NULL), GM_OK);
    }
    enum { S = 2000 };
    float *s = malloc(2 * S * sizeof *s);
    assert_int_equal(gm_gan_sample(gan, NULL, S, s), GM_OK);
    int hits[MODES] = { 0 }, near = 0;
    for (int i = 0; i < S; i++)
        for (int k = 0; k < MODES; k++) {
            double angle = 2 * 3.14159265358979323846 * k / MODES;
            double dx = s[2 * i] - RADIUS * cos(angle), dy = s[2 * i + 1] - RADIUS * sin(angle);
            if (sqrt(dx * dx + dy * dy) < 0.1) {  /* five standard deviations */
                hits[k]++;
                near++;
            }
        }
    /* A collapsed mode gets next to nothing; a covered one, even unevenly,
     * an eighth of its share or more (seeds 0-3 give 41 and up, of 250). */
    for (int k = 0; k < MODES; k++)
        assert_true(hits[k] >= S / MODES / 8);
    assert_true(near >= S / 2);
    free(s);
    gm_gan_free(gan);
}

/* ---- the first step of PyTorch's GAN (tests/models/make_gan_fixture.py) ---- */

static void load_table(gm_param_table *t, const float *const values[6])
{
    assert_int_equal(t->count, 6);
    for (int i = 0; i < 6; i++)
        memcpy(gm_param_data(t, i), values[i], t->items[i].numel * sizeof(float));
}

static void compare_table(const gm_param_table *t, const float *const want[6])
{
    for (int i = 0; i < 6; i++)
        gm_assert_close_f(gm_param_data(t, i), want[i], t->items[i].numel, 1e-6, 1e-5, t->items[i].name);
}

static void test_matches_pytorch_first_step(void **state)
{
    (void)state;
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    reference_settings(&cfg);
    cfg.noise_dim = FX_Z;
    cfg.data_dim = FX_D;
    cfg.gen_hidden[0] = 7;
    cfg.gen_hidden[1] = 9;
    cfg.disc_hidden[0] = 9;
    cfg.disc_hidden[1] = 7;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    gm_param_table *gt = gm_gan_gen_table(gan), *dt = gm_gan_disc_table(gan);
    load_table(gt, fx_gen_init);
    load_table(dt, fx_disc_init);

    gm_gan_losses l;
    assert_int_equal(gm_gan_disc_gradients(gan, fx_x, NULL, FX_N, fx_z, NULL, &l), GM_OK);
    assert_float_equal(l.d_loss, fx_d_loss, 1e-6 * fx_d_loss);
    gm_params_adam_step(dt, &cfg.disc_optim, NULL, NULL);
    compare_table(dt, fx_disc_step);
    assert_int_equal(gm_gan_gen_gradients(gan, NULL, FX_N, fx_z, &l), GM_OK);
    assert_float_equal(l.g_loss, fx_g_loss, 1e-6 * fx_g_loss);
    gm_params_adam_step(gt, &cfg.gen_optim, NULL, NULL);
    compare_table(gt, fx_gen_step);
    gm_gan_free(gan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonsaturating),
        cmocka_unit_test(test_minimax),
        cmocka_unit_test(test_hinge),
        cmocka_unit_test(test_lsgan),
        cmocka_unit_test(test_wgan_gp),
        cmocka_unit_test(test_wgan_no_penalty),
        cmocka_unit_test(test_instance_noise_ends),
        cmocka_unit_test(test_same_seed_same_bits),
        cmocka_unit_test(test_failed_step_changes_nothing),
        cmocka_unit_test(test_failed_generator_undoes_the_critic),
        cmocka_unit_test(test_ema_warm_up),
        cmocka_unit_test(test_matches_pytorch_first_step),
        cmocka_unit_test(test_covers_every_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
