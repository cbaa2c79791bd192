/* The GAN through its public API only: config checks, every error path,
 * allocation failures, allocation-free steps, and the EMA generator. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "genmodel.h"
#include "gm_test.h"
#include "model_checks.h"

enum { D = 12, Z = 3, N = 8 };

static void small_config(gm_gan_config *cfg)
{
    gm_gan_config_init(cfg);
    cfg->data_dim = D;
    cfg->noise_dim = Z;
    cfg->gen_hidden[0] = cfg->gen_hidden[1] = 10;
    cfg->disc_hidden[0] = cfg->disc_hidden[1] = 10;
}

static gm_gan *small_gan(int n_classes, float ema)
{
    gm_gan_config cfg;
    small_config(&cfg);
    cfg.n_classes = n_classes;
    cfg.ema_decay = ema;
    gm_gan *gan = NULL;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    return gan;
}

static void test_config_checks(void **state)
{
    (void)state;
    static const struct { const char *field; int which; } cases[] = {
        { "data_dim", 0 }, { "n_gen_hidden", 1 }, { "disc_hidden", 2 }, { "gen_output", 3 },
        { "loss", 4 }, { "n_critic", 5 }, { "label_smoothing", 6 }, { "instance_noise", 7 },
        { "ema_decay", 8 }, { "gen_optim", 9 }, { "disc_optim", 10 }, { "gp_weight", 11 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_gan_config cfg;
        small_config(&cfg);
        switch (cases[i].which) {
        case 0: cfg.data_dim = 0; break;
        case 1: cfg.n_gen_hidden = -1; break;
        case 2: cfg.disc_hidden[1] = 0; break;
        case 3: cfg.gen_output = GM_ACT_RELU; break;
        case 4: cfg.loss = 9; break;
        case 5: cfg.n_critic = 0; break;
        case 6: cfg.label_smoothing = 0.5f; break;
        case 7: cfg.instance_noise = -0.1f; break;
        case 8: cfg.ema_decay = 1.0f; break;
        case 9: cfg.gen_optim.lr = -1.0f; break;
        case 10: cfg.disc_optim.beta2 = 2.0f; break;
        case 11: cfg.gp_weight = INFINITY; break;
        }
        gm_gan *gan = (gm_gan *)&cfg;
        assert_int_equal(gm_gan_create(&cfg, &gan), GM_ERR_INVALID_ARG);
        assert_null(gan);
        assert_non_null(strstr(gm_last_error(), cases[i].field));
    }
    gm_gan_config cfg;
    small_config(&cfg);
    cfg.struct_size = 8;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_ERR_INVALID_ARG);
    /* a caller built against 0.1's header (its struct ends at seed): the
     * fields it lacks take their defaults, bytes past it are never touched */
    const size_t first = offsetof(gm_gan_config, image_channels);
    static union { gm_gan_config cfg; unsigned char bytes[sizeof(gm_gan_config)]; } old;
    memset(&old, 0xff, sizeof old);
    gm_gan_config_init_size(&old.cfg, first);
    old.cfg.struct_size = first - 1;
    assert_int_equal(gm_gan_create(&old.cfg, &gan), GM_ERR_INVALID_ARG);
    old.cfg.struct_size = first;
    assert_int_equal(gm_gan_create(&old.cfg, &gan), GM_OK);
    gm_gan_config full;
    gm_gan_config_init(&full);
    assert_int_equal(gm_gan_get_config(gan, &full), GM_OK);
    /* the fields the caller's struct lacks take today's defaults */
    assert_true(full.n_conv == 0 && full.gen_norm == GM_NORM_NONE && full.disc_norm == GM_NORM_SPECTRAL &&
                full.minibatch_std == 0);
    assert_int_equal(gm_gan_get_config(gan, &old.cfg), GM_OK);
    for (size_t i = first; i < sizeof old; i++)
        assert_int_equal(old.bytes[i], 0xff);
    gm_gan_free(gan);
    assert_int_equal(gm_gan_create(NULL, &gan), GM_ERR_INVALID_ARG);
    gm_gan_free(NULL);

    static union { gm_gan_config cfg; unsigned char bytes[GM_MAX_STRUCT_SIZE + 64]; } huge;
    memset(&huge, 0, sizeof huge);
    small_config(&huge.cfg);
    huge.cfg.struct_size = GM_MAX_STRUCT_SIZE + 1;
    gan = (gm_gan *)&cfg;
    assert_int_equal(gm_gan_create(&huge.cfg, &gan), GM_ERR_INVALID_ARG);
    assert_null(gan);
    assert_non_null(strstr(gm_last_error(), "gm_gan_create: config struct_size is 4097"));
    huge.cfg.struct_size = sizeof cfg;
    assert_int_equal(gm_gan_create(&huge.cfg, &gan), GM_OK);
    huge.cfg.struct_size = GM_MAX_STRUCT_SIZE + 1;
    assert_int_equal(gm_gan_get_config(gan, &huge.cfg), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_gan_get_config: config struct_size"));
    gm_gan_free(gan);
    memset(&huge, 0xab, sizeof huge);
    gm_gan_config_init_size(&huge.cfg, GM_MAX_STRUCT_SIZE + 1);
    for (size_t i = 0; i < sizeof huge; i++)
        assert_int_equal(huge.bytes[i], 0xab);
}

static void test_null_sizes_and_labels(void **state)
{
    (void)state;
    gm_gan *gan = small_gan(0, 0.0f), *cond = small_gan(3, 0.0f);
    float x[N * D] = { 0 }, z[N * Z] = { 0 }, logits[N];
    int32_t order[N], labels[N] = { 0, 1, 2, 0, 1, 2, 0, 1 };
    const gm_status bad = GM_ERR_INVALID_ARG;
    assert_int_equal(gm_gan_train_step(NULL, x, NULL, N, NULL), bad);
    assert_int_equal(gm_gan_train_step(gan, NULL, NULL, N, NULL), bad);
    assert_int_equal(gm_gan_train_step(gan, x, NULL, 0, NULL), bad);
    /* refused before x, far shorter than that, is read (ASan watches) */
    assert_int_equal(gm_gan_train_step(gan, x, NULL, INT32_MAX / 2 + 1, NULL), bad);
    assert_non_null(strstr(gm_last_error(), "gm_gan_train_step: n must be <= 1073741823"));
    assert_int_equal(gm_gan_generate(gan, NULL, NULL, N, 0, x), bad);
    assert_int_equal(gm_gan_generate(gan, z, NULL, N, 0, NULL), bad);
    assert_int_equal(gm_gan_discriminate(gan, x, NULL, -2, logits), bad);
    assert_int_equal(gm_gan_sample(gan, NULL, 0, x), bad);
    assert_int_equal(gm_gan_shuffle(gan, order, 0), bad);
    assert_int_equal(gm_gan_set_lr(gan, 0.0f, 1e-3f), bad);
    assert_int_equal(gm_gan_get_config(gan, NULL), bad);
    assert_int_equal(gm_gan_step_count(NULL), 0);

    assert_int_equal(gm_gan_train_step(gan, x, labels, N, NULL), bad);
    assert_int_equal(gm_gan_sample(cond, NULL, N, x), bad);
    labels[7] = -1;
    assert_int_equal(gm_gan_discriminate(cond, x, labels, N, logits), bad);
    assert_non_null(strstr(gm_last_error(), "labels[7]"));
    labels[7] = 1;
    assert_int_equal(gm_gan_train_step(cond, x, labels, N, NULL), GM_OK);

    x[5] = NAN;
    assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), bad);
    assert_int_equal(gm_gan_step_count(gan), 0);
    gm_gan_free(gan);
    gm_gan_free(cond);
}

static void test_generate_and_ema(void **state)
{
    (void)state;
    gm_gan *plain = small_gan(0, 0.0f), *smooth = small_gan(0, 0.9f);
    float x[N * D], z[N * Z], live[N * D], ema[N * D];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 2);
    gm_test_fill(z, N * Z, -1.0f, 1.0f, 3);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(gm_gan_train_step(plain, x, NULL, N, NULL), GM_OK);
        assert_int_equal(gm_gan_train_step(smooth, x, NULL, N, NULL), GM_OK);
    }
    /* without an EMA, asking for it is an error, not the live generator in
     * disguise; sample draws from the live generator as documented */
    assert_int_equal(gm_gan_generate(plain, z, NULL, N, 0, live), GM_OK);
    memcpy(ema, live, sizeof ema);
    assert_int_equal(gm_gan_generate(plain, z, NULL, N, 1, ema), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_gan_generate: use_ema is 1 but this GAN keeps no moving average"));
    assert_memory_equal(live, ema, sizeof live);
    for (int32_t bad_flag = -1; bad_flag <= 2; bad_flag += 3) {  /* only 0 and 1 are flags */
        assert_int_equal(gm_gan_generate(smooth, z, NULL, N, bad_flag, ema), GM_ERR_INVALID_ARG);
        assert_non_null(strstr(gm_last_error(), "use_ema must be 0 or 1"));
    }
    assert_int_equal(gm_gan_sample(plain, NULL, N, ema), GM_OK);
    /* with one, the average lags the live weights */
    assert_int_equal(gm_gan_generate(smooth, z, NULL, N, 0, live), GM_OK);
    assert_int_equal(gm_gan_generate(smooth, z, NULL, N, 1, ema), GM_OK);
    assert_true(memcmp(live, ema, sizeof live) != 0);
    for (int i = 0; i < N * D; i++)
        assert_true(live[i] > 0.0f && live[i] < 1.0f);  /* the sigmoid output */
    float logits[N];
    assert_int_equal(gm_gan_discriminate(plain, live, NULL, N, logits), GM_OK);
    for (int i = 0; i < N; i++)
        assert_true(isfinite(logits[i]));
    gm_gan_free(plain);
    gm_gan_free(smooth);
}

/* generate (z), discriminate and train_step (x) refuse a NaN or an infinity
 * anywhere, by row and column, before any work. D takes any finite x, even
 * outside the sigmoid generator's [0, 1]: it was trained on real rows plus
 * instance noise, and a GAN has no likelihood to give x a domain. */
static void test_every_call_refuses_bad_data(void **state)
{
    (void)state;
    gm_gan *gan = small_gan(0, 0.9f), *twin = small_gan(0, 0.9f);
    float data[N * D], out[N * D], before[N * D];
    static const char *const who[4] = { "gm_gan_generate", "gm_gan_generate", "gm_gan_discriminate",
                                        "gm_gan_train_step" };
    char want[64];
    for (int call = 0; call < 4; call++)
        for (int kind = 0; kind < GM_BAD_KINDS; kind++) {
            int row, col;
            gm_plant_bad(data, N, call < 2 ? Z : D, kind, (uint32_t)(call + 1), &row, &col);
            gm_test_fill(out, N * D, 5.0f, 6.0f, 99);
            memcpy(before, out, sizeof out);
            gm_status s = call < 2     ? gm_gan_generate(gan, data, NULL, N, call, out)
                          : call == 2 ? gm_gan_discriminate(gan, data, NULL, N, out)
                                      : gm_gan_train_step(gan, data, NULL, N, NULL);
            snprintf(want, sizeof want, "%s[%d][%d] = ", call < 2 ? "z" : "x", row, col);
            gm_expect_refused(s, who[call], want);
            assert_non_null(strstr(gm_last_error(), "is outside the finite numbers"));
            assert_memory_equal(out, before, sizeof out);
        }
    assert_int_equal(gm_gan_step_count(gan), 0);
    float mine[N * D], theirs[N * D];
    assert_int_equal(gm_gan_sample(gan, NULL, N, mine), GM_OK);
    assert_int_equal(gm_gan_sample(twin, NULL, N, theirs), GM_OK);
    assert_memory_equal(mine, theirs, sizeof mine);

    gm_test_fill(data, N * D, -3.0f, 3.0f, 4);
    assert_int_equal(gm_gan_discriminate(gan, data, NULL, N, out), GM_OK);
    assert_int_equal(gm_gan_train_step(gan, data, NULL, N, NULL), GM_OK);
    gm_gan_free(gan);
    gm_gan_free(twin);
}

static void test_huge_sizes(void **state)
{
    (void)state;
    static const struct { const char *message; int which; } cases[] = {
        { "noise_dim must be in [1, 16777216] (got 2147483647)", 0 },
        { "data_dim must be in [1, 16777216] (got 2147483647)", 1 },
        { "gen_hidden[1] must be in [1, 16777216] (got 2147483647)", 2 },
        { "disc_hidden[0] must be in [1, 16777216] (got -2147483648)", 3 },
        { "n_classes must be in [0, 65536] (got 2147483647)", 4 },
        { "the largest layer maps noise_dim + n_classes = 16842752 to gen_hidden[0] = 256", 5 },
        { "the largest layer maps data_dim = 12582912 to disc_hidden[0] = 512", 6 },
        { "the largest layer maps gen_hidden[1] = 512 to data_dim = 2097152", 7 },
        { "n_disc_hidden must be in [0, 4] (got -2147483648)", 8 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_gan_config cfg;
        gm_gan_config_init(&cfg);
        switch (cases[i].which) {
        case 0: cfg.noise_dim = INT32_MAX; break;
        case 1: cfg.data_dim = INT32_MAX; break;
        case 2: cfg.gen_hidden[1] = INT32_MAX; break;
        case 3: cfg.disc_hidden[0] = INT32_MIN; break;
        case 4: cfg.n_classes = INT32_MAX; break;
        case 5: cfg.noise_dim = GM_MAX_DIM, cfg.n_classes = GM_MAX_CLASSES; break;
        case 6: cfg.data_dim = 3 << 22, cfg.gen_hidden[1] = 1; break;
        case 7: cfg.data_dim = 1 << 21; break;  /* 2^30 + 2^21 in G's last layer alone */
        case 8: cfg.n_disc_hidden = INT32_MIN; break;
        }
        gm_gan *gan = (gm_gan *)&cfg;
        gm_expect_refused(gm_gan_create(&cfg, &gan), "gm_gan_create", cases[i].message);
        assert_null(gan);
    }
}

static int alloc_setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int alloc_teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static gm_status life_cycle(void *ctx)
{
    (void)ctx;
    gm_gan_config cfg;
    small_config(&cfg);
    cfg.n_classes = 2;
    cfg.loss = GM_GAN_WGAN_GP;
    cfg.ema_decay = 0.5f;
    gm_gan *gan = NULL;
    float x[N * D], out[N * D];
    int32_t labels[N] = { 0, 1, 0, 1, 0, 1, 0, 1 };
    gm_test_fill(x, N * D, 0.0f, 1.0f, 9);
    gm_status s = gm_gan_create(&cfg, &gan);
    if (s == GM_OK)
        s = gm_gan_train_step(gan, x, labels, N, NULL);
    if (s == GM_OK)
        s = gm_gan_sample(gan, labels, N, out);
    gm_gan_free(gan);
    return s;
}

static void test_every_allocation_failure(void **state)
{
    (void)state;
    assert_true(gm_test_alloc_sweep(life_cycle, NULL) > 5);
}

/* Each allocation failure is told in the terms of the public call that
 * met it ("gm_gan_train_step: out of memory: ..."), never of a module. */
static void test_out_of_memory_names_the_call(void **state)
{
    (void)state;
    gm_expect_oom_named(life_cycle, "gm_gan_");
}

/* Every inference call, as a fresh handle's first, under each refused
 * allocation of its workspace */
enum { I_GENERATE, I_SAMPLE, I_DISCRIMINATE, N_INFER };
static const char *const infer_who[N_INFER] = { "gm_gan_generate", "gm_gan_sample", "gm_gan_discriminate" };

static void *make_gan(void) { return small_gan(2, 0.9f); }
static void drop_gan(void *h) { gm_gan_free(h); }

static gm_status infer(void *h, int which, void *out)
{
    static const int32_t labels[N] = { 0, 1, 1, 0, 1, 0, 0, 1 };
    float x[N * D], z[N * Z];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 31);
    gm_test_fill(z, N * Z, -2.0f, 2.0f, 32);
    switch (which) {
    case I_GENERATE: return gm_gan_generate(h, z, labels, N, 1, out);
    case I_SAMPLE: return gm_gan_sample(h, labels, N, out);
    default: return gm_gan_discriminate(h, x, labels, N, out);
    }
}

static void test_inference_out_of_memory(void **state)
{
    (void)state;
    for (int which = 0; which < N_INFER; which++)
        gm_expect_first_call_oom(make_gan, drop_gan, infer, which, N * D * sizeof(float), infer_who[which]);
}

static void test_step_allocates_nothing(void **state)
{
    (void)state;
    gm_gan_config cfg;
    small_config(&cfg);
    cfg.loss = GM_GAN_WGAN_GP;
    cfg.n_critic = 2;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    float x[N * D];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 9);
    assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_OK);
    size_t allocs = gm_test_alloc.allocs;
    for (int i = 0; i < 3; i++)
        assert_int_equal(gm_gan_train_step(gan, x, NULL, N, NULL), GM_OK);
    assert_int_equal(gm_test_alloc.allocs, allocs);
    gm_gan_free(gan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_checks),
        cmocka_unit_test(test_null_sizes_and_labels),
        cmocka_unit_test(test_generate_and_ema),
        cmocka_unit_test(test_every_call_refuses_bad_data),
        cmocka_unit_test(test_huge_sizes),
        cmocka_unit_test_setup_teardown(test_every_allocation_failure, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory_names_the_call, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_inference_out_of_memory, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_step_allocates_nothing, alloc_setup, alloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
