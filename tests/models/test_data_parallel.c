/* Data-parallel training through the reduction hook, with an in-process
 * communicator: W threads, each stepping its own handle on its share of
 * every global batch, average through a shared buffer between barriers.
 * They must reproduce one process's run at the global batch (losses per
 * step, final weights) to float rounding, end bit-identical to each other
 * with the single process's random state exactly, refuse a NaN on one
 * worker together, and leave the handle as it was when the hook fails.
 * A run of one through a hook is the plain run, allocating nothing after
 * its first step.
 *
 * Tolerance: 1e-5 absolute plus 1e-4 relative on weights and losses after
 * the whole run. A worker's gradient sums its own rows and the hook adds
 * the workers' sums, so each gradient element is the one-process value
 * with its row terms added in another order: they agree to float rounding
 * (about 1e-7 relative per step), which Adam's division by the root of
 * the second moment and a few steps of training carry into the weights
 * without growing it beyond about 1e-6 here. Loss figures also pass the
 * hook as floats. What must agree exactly does: the random numbers (each
 * worker draws precisely its rows' values) and every worker's state. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "models/gan_internal.h"
#include "models/vae_internal.h"
#include "gm_test.h"

enum { MAX_W = 3, ROWS = 30, EPOCHS = 2, MAX_STEPS = EPOCHS * ROWS, D = 12, Z = 3, C = 3 };

/* ---- the in-process communicator ---- */

typedef struct comm {
    pthread_barrier_t barrier;
    int size;
    float *slot[MAX_W];
    size_t count[MAX_W];
    float *mean;     /* room for the largest buffer */
    int mismatch;    /* a worker's count differed from rank 0's */
} comm;

typedef struct worker_ctx {
    comm *c;
    int rank;
    int calls;       /* how many times the hook ran */
    int fail_at;     /* 1-based call at which to return fail_with; 0: never */
    gm_status fail_with;
    size_t counts[16]; /* the count of each of the first calls */
} worker_ctx;

/* every worker publishes its buffer; rank 0 averages in rank order; all
 * copy the same mean back, so every worker holds the same bits */
static gm_status fake_allreduce(float *buf, size_t count, void *ctx)
{
    worker_ctx *w = ctx;
    comm *c = w->c;
    if (w->calls < 16)
        w->counts[w->calls] = count;
    if (++w->calls == w->fail_at)
        return w->fail_with;
    if (!c)
        return GM_OK;  /* a run of one */
    c->slot[w->rank] = buf;
    c->count[w->rank] = count;
    pthread_barrier_wait(&c->barrier);
    if (w->rank == 0) {
        for (int r = 1; r < c->size; r++)
            c->mismatch |= c->count[r] != count;
        const float inv = 1.0f / (float)c->size;
        for (size_t i = 0; i < count; i++) {
            float sum = 0.0f;
            for (int r = 0; r < c->size; r++)
                sum += c->slot[r][i];
            c->mean[i] = sum * inv;
        }
    }
    pthread_barrier_wait(&c->barrier);
    memcpy(buf, c->mean, count * sizeof *buf);
    pthread_barrier_wait(&c->barrier);  /* no one overwrites the mean before all have read it */
    return GM_OK;
}

/* ---- a run: one process (size 1, no hook) or worker rank of size ---- */

typedef struct run {
    bool gan;
    const void *cfg;
    int size, rank, batch;        /* batch: the global batch */
    const float *x;               /* (ROWS, D) */
    const int32_t *labels;        /* (ROWS) or NULL */
    comm *c;
    worker_ctx ctx;
    void *h;
    int steps;
    double loss[MAX_STEPS], loss2[MAX_STEPS];
    int32_t order[EPOCHS][ROWS];
    gm_status status;
} run;

static void *train(void *arg)
{
    run *r = arg;
    r->ctx.c = r->c;
    r->ctx.rank = r->rank;
    r->status = r->gan ? gm_gan_create(r->cfg, (gm_gan **)&r->h) : gm_vae_create(r->cfg, (gm_vae **)&r->h);
    if (r->status == GM_OK && r->c)
        r->status = r->gan ? gm_gan_set_allreduce(r->h, fake_allreduce, &r->ctx, r->rank, r->size)
                           : gm_vae_set_allreduce(r->h, fake_allreduce, &r->ctx, r->rank, r->size);
    const int n = r->batch / r->size;
    float x[ROWS * D];
    int32_t labels[ROWS];
    for (int e = 0; e < EPOCHS && r->status == GM_OK; e++) {
        int32_t *order = r->order[e];
        r->status = r->gan ? gm_gan_shuffle(r->h, order, ROWS) : gm_vae_shuffle(r->h, order, ROWS);
        for (int at = 0; at + r->batch <= ROWS && r->status == GM_OK; at += r->batch) {
            /* this worker's rows of the global batch */
            for (int i = 0; i < n; i++) {
                const int row = order[at + r->rank * n + i];
                memcpy(x + (size_t)i * D, r->x + (size_t)row * D, D * sizeof *x);
                labels[i] = r->labels ? r->labels[row] : 0;
            }
            const int32_t *lab = r->labels ? labels : NULL;
            if (r->gan) {
                gm_gan_losses l;
                r->status = gm_gan_train_step(r->h, x, lab, n, &l);
                r->loss[r->steps] = l.d_loss;
                r->loss2[r->steps] = l.g_loss;
            } else {
                gm_vae_losses l;
                r->status = gm_vae_train_step(r->h, x, lab, n, &l);
                r->loss[r->steps] = l.recon;
                r->loss2[r->steps] = l.kl;
            }
            r->steps++;
        }
    }
    return NULL;
}

/* the size workers' runs, on threads, and one process's at the same batch */
static void train_all(run *one, run *workers, comm *c, int size)
{
    one->size = 1;
    train(one);
    assert_int_equal(one->status, GM_OK);
    pthread_barrier_init(&c->barrier, NULL, (unsigned)size);
    c->size = size;
    c->mismatch = 0;
    pthread_t threads[MAX_W];
    for (int r = 0; r < size; r++) {
        workers[r] = *one;
        workers[r].h = NULL;
        workers[r].steps = 0;
        workers[r].size = size;
        workers[r].rank = r;
        workers[r].c = c;
        memset(&workers[r].ctx, 0, sizeof workers[r].ctx);
        assert_int_equal(pthread_create(&threads[r], NULL, train, &workers[r]), 0);
    }
    for (int r = 0; r < size; r++)
        pthread_join(threads[r], NULL);
    pthread_barrier_destroy(&c->barrier);
    assert_false(c->mismatch);
}

static void assert_table_close(const gm_param_table *got, const gm_param_table *want, const char *what)
{
    gm_assert_close_f(got->data, want->data, want->total, 1e-5, 1e-4, what);
}

/* the same bits: weights and both moments, and the step count */
static void assert_table_same(const gm_param_table *got, const gm_param_table *want)
{
    assert_memory_equal(got->data, want->data, want->total * sizeof(float));
    assert_memory_equal(got->m, want->m, want->total * sizeof(float));
    assert_memory_equal(got->v, want->v, want->total * sizeof(float));
    assert_true(got->step == want->step);
}

static void assert_losses_close(const run *got, const run *want)
{
    assert_int_equal(got->steps, want->steps);
    for (int s = 0; s < want->steps; s++) {
        assert_float_equal(got->loss[s], want->loss[s], 1e-5 + 1e-4 * fabs(want->loss[s]));
        assert_float_equal(got->loss2[s], want->loss2[s], 1e-5 + 1e-4 * fabs(want->loss2[s]));
    }
}

static void free_run(run *r)
{
    if (r->gan)
        gm_gan_free(r->h);
    else
        gm_vae_free(r->h);
    r->h = NULL;
}

static float data_x[ROWS * D];
static int32_t data_labels[ROWS];
static float mean_room[1 << 16];

static void make_data(void)
{
    gm_test_fill(data_x, ROWS * D, 0.0f, 1.0f, 11);
    for (int i = 0; i < ROWS; i++)
        data_labels[i] = (i * 7) % C;
}

/* size workers against one process, VAE or GAN */
static void check_reproduces(bool gan, const void *cfg, bool conditional, int size, int batch)
{
    make_data();
    static run one, workers[MAX_W];
    static comm c;
    c.mean = mean_room;
    memset(&one, 0, sizeof one);
    one = (run){ .gan = gan, .cfg = cfg, .batch = batch, .x = data_x, .labels = conditional ? data_labels : NULL };
    train_all(&one, workers, &c, size);
    for (int r = 0; r < size; r++) {
        run *w = &workers[r];
        assert_int_equal(w->status, GM_OK);
        assert_memory_equal(w->order, one.order, sizeof one.order);
        assert_losses_close(w, &one);
        /* one hook call per update, each with the same count */
        const int per_step = gan ? ((const gm_gan_config *)cfg)->n_critic + 1 : 1;
        assert_int_equal(w->ctx.calls, per_step * one.steps);
        if (gan) {
            assert_table_close(gm_gan_gen_table(w->h), gm_gan_gen_table(one.h), "generator");
            assert_table_close(gm_gan_disc_table(w->h), gm_gan_disc_table(one.h), "discriminator");
            gm_assert_close_f(gm_gan_ema(w->h), gm_gan_ema(one.h), gm_gan_gen_table(one.h)->total, 1e-5, 1e-4, "EMA");
            assert_true(w->ctx.counts[0] == gm_params_trained_span(gm_gan_disc_table(w->h)) + 4);
            assert_true(w->ctx.counts[per_step - 1] == gm_params_trained_span(gm_gan_gen_table(w->h)) + 1);
            assert_memory_equal(gm_gan_rng(w->h), gm_gan_rng(one.h), sizeof(gm_rng));
            if (r > 0) {
                assert_table_same(gm_gan_gen_table(w->h), gm_gan_gen_table(workers[0].h));
                assert_table_same(gm_gan_disc_table(w->h), gm_gan_disc_table(workers[0].h));
                assert_memory_equal(gm_gan_ema(w->h), gm_gan_ema(workers[0].h),
                                    gm_gan_gen_table(w->h)->total * sizeof(float));
            }
        } else {
            assert_table_close(gm_vae_param_table(w->h), gm_vae_param_table(one.h), "VAE");
            /* the gradients, not the scoring state after them (the latent bank) */
            const gm_param_table *t = gm_vae_param_table(w->h);
            assert_true(w->ctx.counts[0] == gm_params_trained_span(t) + 2);
            assert_true(gm_params_trained_span(t) + (size_t)8192 * 2 <= t->total);
            assert_memory_equal(gm_vae_rng(w->h), gm_vae_rng(one.h), sizeof(gm_rng));
            if (r > 0)
                assert_table_same(gm_vae_param_table(w->h), gm_vae_param_table(workers[0].h));
        }
    }
    for (int r = 0; r < size; r++)
        free_run(&workers[r]);
    free_run(&one);
}

static void vae_config(gm_vae_config *cfg, bool conditional)
{
    gm_vae_config_init(cfg);
    cfg->input_dim = D;
    cfg->latent_dim = Z;  /* n Z values per worker are not whole blocks of the generator */
    cfg->enc_hidden[0] = 16;
    cfg->dec_hidden[0] = 16;
    cfg->n_classes = conditional ? C : 0;
    cfg->seed = 21;
    cfg->optim.lr = 1e-2f;
}

static void gan_config(gm_gan_config *cfg)
{
    gm_gan_config_init(cfg);
    cfg->data_dim = D;
    cfg->noise_dim = 5;
    cfg->gen_hidden[0] = 16;
    cfg->gen_hidden[1] = 16;
    cfg->disc_hidden[0] = 16;
    cfg->disc_hidden[1] = 16;
    cfg->loss = GM_GAN_WGAN_GP;
    cfg->n_critic = 2;
    cfg->instance_noise = 0.1f;
    cfg->noise_anneal_steps = 100;
    cfg->ema_decay = 0.9f;
    cfg->seed = 8;
    /* A WGAN-GP critic of piecewise-linear units has gradients that are
     * zero in exact arithmetic (its output bias's; a hidden unit's bias
     * when every row keeps that unit on one side of its kink), left as
     * rounding residues (about 1e-8 to 1e-7) of either sign. Adam divides
     * a gradient by its own size, so with eps 1e-8 a residue becomes a step
     * of nearly lr in the residue's sign, and two orders of summation move
     * such a weight apart by up to 2 lr per update (seen: 3.5e-5 after 20
     * updates with eps 1e-5). An eps of 1e-4, above the residues and below
     * the real gradients (1e-3 to 1e-1 here), keeps those steps at
     * rounding size, so the comparison stays tight (worst seen: 3.6e-6 on
     * the output bias); it changes nothing about what is compared. */
    cfg->gen_optim.eps = 1e-4f;
    cfg->disc_optim.eps = 1e-4f;
}

static void test_vae_reproduces_one_process(void **state)
{
    (void)state;
    gm_vae_config cfg;
    vae_config(&cfg, false);
    check_reproduces(false, &cfg, false, 2, 10);
    check_reproduces(false, &cfg, false, 3, 15);
}

static void test_conditional_vae_reproduces_one_process(void **state)
{
    (void)state;
    gm_vae_config cfg;
    vae_config(&cfg, true);
    cfg.likelihood = GM_LIKELIHOOD_GAUSSIAN;
    check_reproduces(false, &cfg, true, 2, 6);
    check_reproduces(false, &cfg, true, 3, 6);
}

static void test_gan_reproduces_one_process(void **state)
{
    (void)state;
    gm_gan_config cfg;
    gan_config(&cfg);
    check_reproduces(true, &cfg, false, 2, 10);
    check_reproduces(true, &cfg, false, 3, 6);
    cfg.n_classes = C;
    check_reproduces(true, &cfg, true, 2, 10);
}

/* ---- a NaN on one worker ---- */

/* worker 1's rows overflow the Gaussian likelihood (or D's first layer)
 * when run->steps is 0: every worker must refuse that step */
static void *step_once(void *arg)
{
    run *r = arg;
    float x[ROWS * D];
    memcpy(x, r->x, sizeof x);
    if (r->rank == 1 && r->steps == 0)
        for (int i = 0; i < 5 * D; i++)
            x[i] = 3e38f;
    r->status = r->gan ? gm_gan_train_step(r->h, x, NULL, 5, NULL) : gm_vae_train_step(r->h, x, NULL, 5, NULL);
    return NULL;
}

static void step_workers(run *w, int size)
{
    pthread_t threads[MAX_W];
    for (int r = 0; r < size; r++)
        assert_int_equal(pthread_create(&threads[r], NULL, step_once, &w[r]), 0);
    for (int r = 0; r < size; r++)
        pthread_join(threads[r], NULL);
}

static void check_nan_on_one_worker(bool gan, const void *cfg)
{
    make_data();
    static comm c;
    c.mean = mean_room;
    c.size = 2;
    pthread_barrier_init(&c.barrier, NULL, 2);
    run w[2];
    gm_rng before[2];
    float *initial[2];
    for (int r = 0; r < 2; r++) {
        w[r] = (run){ .gan = gan, .cfg = cfg, .size = 2, .rank = r, .x = data_x, .c = &c };
        w[r].ctx = (worker_ctx){ .c = &c, .rank = r };
        assert_int_equal(gan ? gm_gan_create(cfg, (gm_gan **)&w[r].h) : gm_vae_create(cfg, (gm_vae **)&w[r].h), GM_OK);
        assert_int_equal(gan ? gm_gan_set_allreduce(w[r].h, fake_allreduce, &w[r].ctx, r, 2)
                             : gm_vae_set_allreduce(w[r].h, fake_allreduce, &w[r].ctx, r, 2),
                         GM_OK);
        before[r] = gan ? *gm_gan_rng(w[r].h) : *gm_vae_rng(w[r].h);
        const gm_param_table *t = gan ? gm_gan_disc_table(w[r].h) : gm_vae_param_table(w[r].h);
        initial[r] = malloc(3 * t->total * sizeof(float));
        memcpy(initial[r], t->data, 3 * t->total * sizeof(float));
    }
    step_workers(w, 2);
    for (int r = 0; r < 2; r++) {
        assert_int_equal(w[r].status, GM_ERR_NUMERIC);
        const gm_param_table *t = gan ? gm_gan_disc_table(w[r].h) : gm_vae_param_table(w[r].h);
        assert_memory_equal(t->data, initial[r], 3 * t->total * sizeof(float));
        assert_memory_equal(gan ? gm_gan_rng(w[r].h) : gm_vae_rng(w[r].h), &before[r], sizeof(gm_rng));
        assert_true((gan ? gm_gan_step_count(w[r].h) : gm_vae_step_count(w[r].h)) == 0);
        w[r].steps = 1;
    }
    /* the next step, on good rows, goes on together */
    step_workers(w, 2);
    pthread_barrier_destroy(&c.barrier);
    for (int r = 0; r < 2; r++) {
        assert_int_equal(w[r].status, GM_OK);
        assert_true((gan ? gm_gan_step_count(w[r].h) : gm_vae_step_count(w[r].h)) == 1);
        free(initial[r]);
    }
    assert_int_equal(w[0].ctx.calls, w[1].ctx.calls);
    for (int r = 0; r < 2; r++)
        free_run(&w[r]);
}

static void test_nan_on_one_worker_is_refused_by_all(void **state)
{
    (void)state;
    gm_vae_config vcfg;
    vae_config(&vcfg, false);
    vcfg.likelihood = GM_LIKELIHOOD_GAUSSIAN;
    check_nan_on_one_worker(false, &vcfg);
    gm_gan_config gcfg;
    gan_config(&gcfg);
    check_nan_on_one_worker(true, &gcfg);
}

/* ---- a run of one: the hook's failure, no allocation, nothing changed ---- */

typedef struct snapshot {
    float *data[2];
    size_t floats[2];
    float *ema;
    gm_rng rng;
    int64_t steps[2];
} snapshot;

/* weights and both moments of every table, the EMA, the random state */
static void take(snapshot *sn, bool gan, void *h)
{
    const gm_param_table *t[2] = { gan ? gm_gan_gen_table(h) : gm_vae_param_table(h),
                                   gan ? gm_gan_disc_table(h) : NULL };
    for (int i = 0; i < 2; i++) {
        sn->floats[i] = t[i] ? 3 * t[i]->total : 0;
        sn->data[i] = malloc(sn->floats[i] * sizeof(float) + 1);
        if (t[i]) {
            memcpy(sn->data[i], t[i]->data, sn->floats[i] * sizeof(float));
            sn->steps[i] = t[i]->step;
        }
    }
    sn->ema = NULL;
    if (gan) {
        sn->ema = malloc(gm_gan_gen_table(h)->total * sizeof(float));
        memcpy(sn->ema, gm_gan_ema(h), gm_gan_gen_table(h)->total * sizeof(float));
    }
    sn->rng = gan ? *gm_gan_rng(h) : *gm_vae_rng(h);
}

static void assert_unchanged(const snapshot *sn, bool gan, void *h)
{
    const gm_param_table *t[2] = { gan ? gm_gan_gen_table(h) : gm_vae_param_table(h),
                                   gan ? gm_gan_disc_table(h) : NULL };
    for (int i = 0; i < 2; i++) {
        if (!t[i])
            continue;
        assert_memory_equal(t[i]->data, sn->data[i], sn->floats[i] * sizeof(float));
        assert_true(t[i]->step == sn->steps[i]);
    }
    if (gan)
        assert_memory_equal(gm_gan_ema(h), sn->ema, gm_gan_gen_table(h)->total * sizeof(float));
    assert_memory_equal(gan ? gm_gan_rng(h) : gm_vae_rng(h), &sn->rng, sizeof sn->rng);
}

static void drop(snapshot *sn)
{
    free(sn->data[0]);
    free(sn->data[1]);
    free(sn->ema);
}

static gm_status step_alone(bool gan, void *h)
{
    return gan ? gm_gan_train_step(h, data_x, NULL, 10, NULL) : gm_vae_train_step(h, data_x, NULL, 10, NULL);
}

/* the hook failing at each of a step's calls, with a status or with a
 * value that is none: the step fails so, and changes nothing */
static void check_hook_failure(bool gan, const void *cfg, int calls_per_step)
{
    make_data();
    void *h;
    assert_int_equal(gan ? gm_gan_create(cfg, (gm_gan **)&h) : gm_vae_create(cfg, (gm_vae **)&h), GM_OK);
    worker_ctx ctx = { 0 };
    assert_int_equal(gan ? gm_gan_set_allreduce(h, fake_allreduce, &ctx, 0, 1)
                         : gm_vae_set_allreduce(h, fake_allreduce, &ctx, 0, 1),
                     GM_OK);
    assert_int_equal(step_alone(gan, h), GM_OK);  /* moments that are not zero */
    const gm_status returns[3] = { GM_ERR_IO, GM_ERR_STATE, (gm_status)42 };
    const gm_status fails_with[3] = { GM_ERR_IO, GM_ERR_STATE, GM_ERR_IO };
    for (int at = 1; at <= calls_per_step; at++)
        for (int k = 0; k < 3; k++) {
            snapshot sn;
            take(&sn, gan, h);
            ctx.calls = 0;
            ctx.fail_at = at;
            ctx.fail_with = returns[k];
            assert_int_equal(step_alone(gan, h), fails_with[k]);
            const char *who = gan ? "gm_gan_train_step: the reduction hook failed" :
                                    "gm_vae_train_step: the reduction hook failed";
            assert_memory_equal(gm_last_error(), who, strlen(who));
            assert_int_equal(ctx.calls, at);
            assert_unchanged(&sn, gan, h);
            drop(&sn);
        }
    ctx.fail_at = 0;
    assert_int_equal(step_alone(gan, h), GM_OK);
    if (gan)
        gm_gan_free(h);
    else
        gm_vae_free(h);
}

static void test_hook_failure_changes_nothing(void **state)
{
    (void)state;
    gm_vae_config vcfg;
    vae_config(&vcfg, false);
    check_hook_failure(false, &vcfg, 1);
    gm_gan_config gcfg;
    gan_config(&gcfg);
    check_hook_failure(true, &gcfg, gcfg.n_critic + 1);
}

/* a run of one through a hook is the run without one, bit for bit (the
 * losses aside, which pass as floats), and its second step allocates
 * nothing */
static void check_run_of_one(bool gan, const void *cfg)
{
    make_data();
    void *plain, *hooked;
    worker_ctx ctx = { 0 };
    gm_test_alloc_install();
    assert_int_equal(gan ? gm_gan_create(cfg, (gm_gan **)&plain) : gm_vae_create(cfg, (gm_vae **)&plain), GM_OK);
    assert_int_equal(gan ? gm_gan_create(cfg, (gm_gan **)&hooked) : gm_vae_create(cfg, (gm_vae **)&hooked), GM_OK);
    assert_int_equal(gan ? gm_gan_set_allreduce(hooked, fake_allreduce, &ctx, 0, 1)
                         : gm_vae_set_allreduce(hooked, fake_allreduce, &ctx, 0, 1),
                     GM_OK);
    for (int step = 0; step < 3; step++) {
        const size_t allocs = gm_test_alloc.allocs;
        assert_int_equal(step_alone(gan, plain), GM_OK);
        assert_int_equal(step_alone(gan, hooked), GM_OK);
        if (step > 0)
            assert_int_equal(gm_test_alloc.allocs, allocs);
    }
    snapshot sn;
    take(&sn, gan, plain);
    assert_unchanged(&sn, gan, hooked);
    drop(&sn);
    /* back to a single process: no more calls */
    const int calls = ctx.calls;
    assert_int_equal(gan ? gm_gan_set_allreduce(hooked, NULL, NULL, 0, 1) : gm_vae_set_allreduce(hooked, NULL, NULL, 0, 1),
                     GM_OK);
    assert_int_equal(step_alone(gan, hooked), GM_OK);
    assert_int_equal(ctx.calls, calls);
    if (gan) {
        gm_gan_free(plain);
        gm_gan_free(hooked);
    } else {
        gm_vae_free(plain);
        gm_vae_free(hooked);
    }
    gm_test_alloc_uninstall();
}

static void test_run_of_one_is_the_plain_run(void **state)
{
    (void)state;
    gm_vae_config vcfg;
    vae_config(&vcfg, false);
    check_run_of_one(false, &vcfg);
    gm_gan_config gcfg;
    gan_config(&gcfg);
    check_run_of_one(true, &gcfg);
}

int main(void)
{
    gm_set_num_threads(1);  /* the workers are the threads here */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vae_reproduces_one_process),
        cmocka_unit_test(test_conditional_vae_reproduces_one_process),
        cmocka_unit_test(test_gan_reproduces_one_process),
        cmocka_unit_test(test_nan_on_one_worker_is_refused_by_all),
        cmocka_unit_test(test_hook_failure_changes_nothing),
        cmocka_unit_test(test_run_of_one_is_the_plain_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
