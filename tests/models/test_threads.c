/* The models on teams of threads (gm_set_num_threads): a VAE and a GAN
 * trained on 2 or 3 threads end where one thread ends, up to the rounding
 * of the sums a team adds in another order; inference agrees; a failed step
 * on a team changes nothing; handles trained at once from the host's
 * threads end exactly where they end one after the other; a handle keeps
 * the thread count of its first call whatever gm_set_num_threads does
 * later; work too small to split gives one thread's results exactly.
 * Widths and batch are chosen so that shares are uneven, some empty, the
 * VAE's passes have work enough to be split on 3 threads, and inference
 * splits by rows on 2 threads only. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/team.h"
#include "models/gan_internal.h"
#include "models/vae_internal.h"
#include "gm_test.h"

enum { N = 95, STEPS = 4, MAX_THREADS = 3 };

static void as_double(const float *x, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = x[i];
}

static void assert_tables_close(const gm_param_table *got, const gm_param_table *want, double atol,
                                const char *what)
{
    double *w = malloc(want->total * sizeof *w);
    as_double(want->data, w, want->total);
    gm_assert_close(got->data, w, want->total, atol, 1e-4, what);
    free(w);
}

/* ---- VAE ---- */

enum { VD = 100, VZ = 5, VC = 3 };

typedef struct {
    gm_vae *vae;
    gm_vae_losses losses;
    float recon[N * VD], sample[N * VD];
} vae_run;

static void vae_train_on(int threads, const gm_vae_config *cfg, vae_run *r)
{
    static float x[N * VD];
    int32_t labels[N];
    gm_test_fill(x, N * VD, 0.0f, 1.0f, 3);
    for (int n = 0; n < N; n++)
        labels[n] = n % VC;
    const int32_t *lab = cfg->n_classes ? labels : NULL;
    assert_int_equal(gm_set_num_threads(threads), GM_OK);
    assert_int_equal(gm_vae_create(cfg, &r->vae), GM_OK);
    for (int step = 0; step < STEPS; step++)
        assert_int_equal(gm_vae_train_step(r->vae, x, lab, N, &r->losses), GM_OK);
    assert_int_equal(gm_vae_reconstruct(r->vae, x, lab, N, r->recon), GM_OK);
    assert_int_equal(gm_vae_sample(r->vae, lab, N, r->sample), GM_OK);
}

static void vae_config(gm_vae_config *cfg)
{
    gm_vae_config_init(cfg);
    cfg->input_dim = VD;
    cfg->latent_dim = VZ;
    cfg->enc_hidden[0] = 88;
    cfg->dec_hidden[0] = 88;
    cfg->seed = 5;
    cfg->latent_bank = 0;  /* the weights alone fill the table the tests compare */
}

static void check_vae_across_threads(const gm_vae_config *cfg)
{
    const int before = gm_get_num_threads();
    /* the smallest pass, the decoder's forward pass, is split on 3 */
    assert_true((double)N * (cfg->dec_hidden[0] * (VZ + VD)) >= MAX_THREADS * GM_TEAM_MIN_WORK);
    static vae_run runs[MAX_THREADS + 1];
    static double want[N * VD];
    for (int threads = 1; threads <= MAX_THREADS; threads++)
        vae_train_on(threads, cfg, &runs[threads]);
    for (int threads = 2; threads <= MAX_THREADS; threads++) {
        const vae_run *one = &runs[1], *r = &runs[threads];
        assert_float_equal(r->losses.recon, one->losses.recon, 1e-5 * fabs(one->losses.recon));
        assert_float_equal(r->losses.kl, one->losses.kl, 1e-5 * fabs(one->losses.kl) + 1e-7);
        assert_tables_close(gm_vae_param_table(r->vae), gm_vae_param_table(one->vae), 1e-5, "VAE weights");
        as_double(one->recon, want, N * VD);
        gm_assert_close(r->recon, want, N * VD, 1e-5, 1e-4, "reconstructions");
        as_double(one->sample, want, N * VD);
        gm_assert_close(r->sample, want, N * VD, 1e-5, 1e-4, "samples");
    }
    for (int threads = 1; threads <= MAX_THREADS; threads++)
        gm_vae_free(runs[threads].vae);
    gm_set_num_threads(before);
}

static void test_vae_bernoulli(void **state)
{
    (void)state;
    gm_vae_config cfg;
    vae_config(&cfg);
    check_vae_across_threads(&cfg);
}

static void test_vae_conditional_gaussian(void **state)
{
    (void)state;
    gm_vae_config cfg;
    vae_config(&cfg);
    cfg.n_classes = VC;
    cfg.likelihood = GM_LIKELIHOOD_GAUSSIAN;
    cfg.activation = GM_ACT_ELU;
    check_vae_across_threads(&cfg);
}

/* a log-variance of 1000 overflows: the step fails on a team as it does alone */
static void test_vae_failed_step_on_a_team_changes_nothing(void **state)
{
    (void)state;
    const int before_threads = gm_get_num_threads();
    gm_vae_config cfg;
    vae_config(&cfg);
    vae_run r;
    vae_train_on(3, &cfg, &r);
    gm_param_table *t = gm_vae_param_table(r.vae);
    const size_t bytes = 3 * t->total * sizeof(float);
    float *before = malloc(bytes);
    gm_param_data(t, 3)[VZ] = 1000.0f;  /* tensor 3: the encoder head's bias, [mu | logvar] */
    memcpy(before, t->data, bytes);
    static float x[N * VD];
    gm_test_fill(x, N * VD, 0.0f, 1.0f, 4);
    assert_int_equal(gm_vae_train_step(r.vae, x, NULL, N, NULL), GM_ERR_NUMERIC);
    assert_memory_equal(t->data, before, bytes);
    assert_int_equal(gm_vae_step_count(r.vae), STEPS);
    free(before);
    gm_vae_free(r.vae);
    gm_set_num_threads(before_threads);
}

/* ---- handles at once ---- */

typedef struct {
    const gm_vae_config *cfg;
    const float *x;
    gm_vae *vae;
    gm_status status;
} vae_job;

/* no cmocka assertion here: it may run off the test's thread */
static void *train_job(void *arg)
{
    vae_job *j = arg;
    j->status = gm_vae_create(j->cfg, &j->vae);
    for (int step = 0; step < STEPS && j->status == GM_OK; step++)
        j->status = gm_vae_train_step(j->vae, j->x, NULL, N, NULL);
    return NULL;
}

/* the reference VAE, whose products OpenBLAS would split if a handle's
 * threads called it while another set it back to 2 threads */
enum { HANDLES = 3, REF_D = 784 };

static void test_handles_at_once_match_one_after_another(void **state)
{
    (void)state;
    const int before = gm_get_num_threads();
    assert_int_equal(gm_set_num_threads(2), GM_OK);
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    static float x[HANDLES][N * REF_D];
    vae_job alone[HANDLES], together[HANDLES];
    for (int h = 0; h < HANDLES; h++) {
        gm_test_fill(x[h], N * REF_D, 0.0f, 1.0f, 20 + h);
        alone[h] = together[h] = (vae_job){ .cfg = &cfg, .x = x[h] };
        train_job(&alone[h]);
    }
    pthread_t threads[HANDLES];
    for (int h = 0; h < HANDLES; h++)
        assert_int_equal(pthread_create(&threads[h], NULL, train_job, &together[h]), 0);
    for (int h = 0; h < HANDLES; h++)
        pthread_join(threads[h], NULL);
    assert_int_equal(gm_get_num_threads(), 2);
    for (int h = 0; h < HANDLES; h++) {
        assert_int_equal(alone[h].status, GM_OK);
        assert_int_equal(together[h].status, GM_OK);
        const gm_param_table *a = gm_vae_param_table(alone[h].vae), *b = gm_vae_param_table(together[h].vae);
        assert_memory_equal(a->data, b->data, a->total * sizeof(float));
        gm_vae_free(alone[h].vae);
        gm_vae_free(together[h].vae);
    }
    gm_set_num_threads(before);
}

/* ---- a handle keeps the thread count of its first call ---- */

enum { LATCH_STEPS = 8 };

typedef struct {
    atomic_int stop;
    atomic_long rounds;
} toggler;

/* sets 1, 2 and 3 threads in turn until told to stop */
static void *toggle_threads(void *arg)
{
    toggler *t = arg;
    const struct timespec pause = { 0, 20000 };
    while (!atomic_load(&t->stop)) {
        for (int n = 1; n <= MAX_THREADS; n++)
            gm_set_num_threads(n);
        atomic_fetch_add(&t->rounds, 1);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* returns after another round of changes has begun and ended */
static void await_changes(toggler *t)
{
    const struct timespec pause = { 0, 20000 };
    for (long seen = atomic_load(&t->rounds); atomic_load(&t->rounds) < seen + 2;)
        nanosleep(&pause, NULL);
}

/* LATCH_STEPS training steps and a reconstruction, with gm_set_num_threads
 * set to `first` for the handle's creation and first step, then to
 * `later` or, when later is 0, changed all the time from another thread */
static void vae_latched_run(int first, int later, float *weights, float *recon)
{
    static float x[N * VD];
    gm_test_fill(x, N * VD, 0.0f, 1.0f, 3);
    gm_vae_config cfg;
    vae_config(&cfg);
    gm_vae *vae;
    assert_int_equal(gm_set_num_threads(first), GM_OK);
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    assert_int_equal(gm_vae_train_step(vae, x, NULL, N, NULL), GM_OK);
    toggler t = { 0 };
    pthread_t thread;
    if (later)
        assert_int_equal(gm_set_num_threads(later), GM_OK);
    else
        assert_int_equal(pthread_create(&thread, NULL, toggle_threads, &t), 0);
    /* the count changes between the steps for sure, and in them by chance */
    for (int step = 1; step < LATCH_STEPS; step++) {
        if (!later)
            await_changes(&t);
        assert_int_equal(gm_vae_train_step(vae, x, NULL, N, NULL), GM_OK);
    }
    assert_int_equal(gm_vae_reconstruct(vae, x, NULL, N, recon), GM_OK);
    if (!later) {
        atomic_store(&t.stop, 1);
        pthread_join(thread, NULL);
    }
    const gm_param_table *table = gm_vae_param_table(vae);
    memcpy(weights, table->data, table->total * sizeof *weights);
    gm_vae_free(vae);
}

/* the rule of include/genmodel/common.h: gm_set_num_threads reaches the
 * handles whose first call comes after it, and no handle at work, even
 * when it is called from another thread in the middle of a step */
static void test_a_handle_keeps_the_thread_count_of_its_first_call(void **state)
{
    (void)state;
    const int before = gm_get_num_threads();
    enum { MAX_PARAMS = 32768 };
    static float want[MAX_PARAMS], got[MAX_PARAMS], want_recon[N * VD], got_recon[N * VD];
    gm_vae_config cfg;
    vae_config(&cfg);
    gm_vae *probe;
    assert_int_equal(gm_vae_create(&cfg, &probe), GM_OK);
    const size_t bytes = gm_vae_param_table(probe)->total * sizeof(float);
    gm_vae_free(probe);
    assert_true(bytes <= sizeof want);
    for (int threads = 1; threads <= 2; threads++) {
        vae_latched_run(threads, threads, want, want_recon);
        vae_latched_run(threads, 0, got, got_recon);
        assert_memory_equal(got, want, bytes);
        assert_memory_equal(got_recon, want_recon, sizeof want_recon);
        vae_latched_run(threads, 3 - threads, got, got_recon);
        assert_memory_equal(got, want, bytes);
        assert_memory_equal(got_recon, want_recon, sizeof want_recon);
    }
    gm_set_num_threads(before);
}

/* ---- small work: on the caller alone, whatever the thread count ---- */

/* Every pass of this VAE at a few rows is below what a team splits
 * (lib/core/team.h), though its widths would give every member a share:
 * on 2 and 3 threads it trains and estimates bit for bit as on 1. */
static void test_small_work_matches_one_thread_exactly(void **state)
{
    (void)state;
    enum { SN = 2, SD = 40, SK = 50 };
    const int before = gm_get_num_threads();
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    cfg.input_dim = SD;
    cfg.latent_dim = 16;
    cfg.enc_hidden[0] = cfg.dec_hidden[0] = 48;
    cfg.seed = 3;
    cfg.latent_bank = 0;
    float x[SN * SD];
    gm_test_fill(x, SN * SD, 0.0f, 1.0f, 8);
    static float weights[MAX_THREADS + 1][8192];
    double iwae[MAX_THREADS + 1][SN];
    size_t bytes = 0;
    for (int threads = 1; threads <= MAX_THREADS; threads++) {
        assert_int_equal(gm_set_num_threads(threads), GM_OK);
        gm_vae *vae;
        assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
        for (int step = 0; step < STEPS; step++)
            assert_int_equal(gm_vae_train_step(vae, x, NULL, SN, NULL), GM_OK);
        assert_int_equal(gm_vae_iwae(vae, x, NULL, SN, SK, iwae[threads]), GM_OK);
        const gm_param_table *t = gm_vae_param_table(vae);
        bytes = t->total * sizeof(float);
        assert_true(bytes <= sizeof weights[0]);
        memcpy(weights[threads], t->data, bytes);
        gm_vae_free(vae);
    }
    for (int threads = 2; threads <= MAX_THREADS; threads++) {
        assert_memory_equal(weights[threads], weights[1], bytes);
        assert_memory_equal(iwae[threads], iwae[1], sizeof iwae[1]);
    }
    gm_set_num_threads(before);
}

/* ---- GAN: the library's defaults (hinge, instance noise, EMA), conditional ---- */

enum { GD = 50, GC = 2 };

typedef struct {
    gm_gan *gan;
    gm_gan_losses losses;
    float samples[N * GD], logits[N];
} gan_run;

static void gan_train_on(int threads, gan_run *r)
{
    static float x[N * GD];
    int32_t labels[N];
    gm_test_fill(x, N * GD, 0.0f, 1.0f, 6);
    for (int n = 0; n < N; n++)
        labels[n] = n % GC;
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    cfg.data_dim = GD;
    cfg.noise_dim = 8;
    cfg.gen_hidden[0] = 64;
    cfg.gen_hidden[1] = 96;
    cfg.disc_hidden[0] = 96;
    cfg.disc_hidden[1] = 40;
    cfg.n_classes = GC;
    cfg.ema_decay = 0.9f;
    cfg.seed = 9;
    assert_int_equal(gm_set_num_threads(threads), GM_OK);
    assert_int_equal(gm_gan_create(&cfg, &r->gan), GM_OK);
    for (int step = 0; step < STEPS; step++)
        assert_int_equal(gm_gan_train_step(r->gan, x, labels, N, &r->losses), GM_OK);
    assert_int_equal(gm_gan_sample(r->gan, labels, N, r->samples), GM_OK);
    assert_int_equal(gm_gan_discriminate(r->gan, x, labels, N, r->logits), GM_OK);
}

static void test_gan_defaults(void **state)
{
    (void)state;
    const int before = gm_get_num_threads();
    static gan_run runs[MAX_THREADS + 1];
    static double want[N * GD];
    for (int threads = 1; threads <= MAX_THREADS; threads++)
        gan_train_on(threads, &runs[threads]);
    for (int threads = 2; threads <= MAX_THREADS; threads++) {
        const gan_run *one = &runs[1], *r = &runs[threads];
        assert_float_equal(r->losses.d_loss, one->losses.d_loss, 1e-5 * fabs(one->losses.d_loss));
        assert_float_equal(r->losses.g_loss, one->losses.g_loss, 1e-5 * fabs(one->losses.g_loss));
        assert_tables_close(gm_gan_gen_table(r->gan), gm_gan_gen_table(one->gan), 1e-5, "G weights");
        assert_tables_close(gm_gan_disc_table(r->gan), gm_gan_disc_table(one->gan), 1e-5, "D weights");
        const size_t total = gm_gan_gen_table(one->gan)->total;
        double *ema = malloc(total * sizeof *ema);
        as_double(gm_gan_ema(one->gan), ema, total);
        gm_assert_close(gm_gan_ema(r->gan), ema, total, 1e-5, 1e-4, "EMA weights");
        free(ema);
        as_double(one->samples, want, N * GD);
        gm_assert_close(r->samples, want, N * GD, 1e-5, 1e-4, "samples");
        as_double(one->logits, want, N);
        gm_assert_close(r->logits, want, N, 1e-5, 1e-4, "D(x)");
    }
    for (int threads = 1; threads <= MAX_THREADS; threads++)
        gm_gan_free(runs[threads].gan);
    gm_set_num_threads(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vae_bernoulli),
        cmocka_unit_test(test_vae_conditional_gaussian),
        cmocka_unit_test(test_vae_failed_step_on_a_team_changes_nothing),
        cmocka_unit_test(test_handles_at_once_match_one_after_another),
        cmocka_unit_test(test_a_handle_keeps_the_thread_count_of_its_first_call),
        cmocka_unit_test(test_small_work_matches_one_thread_exactly),
        cmocka_unit_test(test_gan_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
