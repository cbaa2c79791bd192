/* The VAE through its public API only: config ABI rules, every error path,
 * input domains, allocation failures, allocation-free steps, and a
 * conditional model that learns to generate the class it is asked for. */
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

enum { D = 16, Z = 2, N = 8 };

static void small_config(gm_vae_config *cfg)
{
    gm_vae_config_init(cfg);
    cfg->input_dim = D;
    cfg->latent_dim = Z;
    cfg->enc_hidden[0] = cfg->dec_hidden[0] = 12;
}

static gm_vae *small_vae(int n_classes)
{
    gm_vae_config cfg;
    small_config(&cfg);
    cfg.n_classes = n_classes;
    gm_vae *vae = NULL;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    return vae;
}

static void test_config_abi(void **state)
{
    (void)state;
    gm_vae *vae = NULL;
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    cfg.struct_size = 0;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_ERR_INVALID_ARG);
    assert_null(vae);
    assert_non_null(strstr(gm_last_error(), "struct_size"));
    /* the first published struct (0.1) ended at seed: smaller is no caller's */
    const size_t first = offsetof(gm_vae_config, image_channels);
    cfg.struct_size = first - 4;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_ERR_INVALID_ARG);

    /* a caller built against 0.1's header keeps working: what lies past
     * its struct is never read, and the fields it lacks take their
     * defaults (an MLP); get_config writes only its struct's bytes */
    static union { gm_vae_config cfg; unsigned char bytes[sizeof(gm_vae_config)]; } old;
    memset(&old, 0xff, sizeof old);
    gm_vae_config_init_size(&old.cfg, first);
    for (size_t i = first; i < sizeof old; i++)
        assert_int_equal(old.bytes[i], 0xff);
    assert_int_equal(gm_vae_create(&old.cfg, &vae), GM_OK);
    gm_vae_config full;
    gm_vae_config_init(&full);
    assert_int_equal(gm_vae_get_config(vae, &full), GM_OK);
    assert_int_equal(full.n_conv, 0);
    assert_int_equal(full.image_channels, 0);
    assert_int_equal(full.normalization, GM_NORM_NONE);
    old.cfg.latent_dim = 0;
    assert_int_equal(gm_vae_get_config(vae, &old.cfg), GM_OK);
    assert_int_equal(old.cfg.latent_dim, 20);
    for (size_t i = first; i < sizeof old; i++)
        assert_int_equal(old.bytes[i], 0xff);
    gm_vae_free(vae);
    vae = NULL;

    /* a caller built against a newer header: unknown fields must be zero */
    struct { gm_vae_config cfg; char newer[16]; } big;
    memset(&big, 0, sizeof big);
    gm_vae_config_init(&big.cfg);
    big.cfg.struct_size = sizeof big;
    assert_int_equal(gm_vae_create(&big.cfg, &vae), GM_OK);
    gm_vae_free(vae);
    big.newer[3] = 1;
    assert_int_equal(gm_vae_create(&big.cfg, &vae), GM_ERR_VERSION);
    assert_null(vae);

    assert_int_equal(gm_vae_create(NULL, &vae), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_create(&cfg, NULL), GM_ERR_INVALID_ARG);
    gm_vae_free(NULL);

    /* a struct_size above the stated maximum is garbage: refused before any
     * byte past the size field is read, even when the bytes are there and zero */
    static union { gm_vae_config cfg; unsigned char bytes[GM_MAX_STRUCT_SIZE + 64]; } huge;
    memset(&huge, 0, sizeof huge);
    gm_vae_config_init(&huge.cfg);
    huge.cfg.struct_size = GM_MAX_STRUCT_SIZE;
    assert_int_equal(gm_vae_create(&huge.cfg, &vae), GM_OK);
    assert_int_equal(gm_vae_get_config(vae, &huge.cfg), GM_OK);
    huge.cfg.struct_size = GM_MAX_STRUCT_SIZE + 1;
    assert_int_equal(gm_vae_get_config(vae, &huge.cfg), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_vae_get_config: config struct_size is 4097"));
    gm_vae_free(vae);
    vae = (gm_vae *)&cfg;
    assert_int_equal(gm_vae_create(&huge.cfg, &vae), GM_ERR_INVALID_ARG);
    assert_null(vae);
    assert_non_null(strstr(gm_last_error(), "gm_vae_create: config struct_size is 4097"));
    huge.cfg.struct_size = SIZE_MAX;
    assert_int_equal(gm_vae_create(&huge.cfg, &vae), GM_ERR_INVALID_ARG);
    /* init with a garbage size writes nothing at all */
    memset(&huge, 0xab, sizeof huge);
    gm_vae_config_init_size(&huge.cfg, GM_MAX_STRUCT_SIZE + 1);
    for (size_t i = 0; i < sizeof huge; i++)
        assert_int_equal(huge.bytes[i], 0xab);

    /* init writes no byte past the struct its caller was compiled with */
    union { gm_vae_config cfg; unsigned char bytes[sizeof(gm_vae_config) + 16]; } older, newer;
    const size_t older_size = offsetof(gm_vae_config, seed);
    memset(&older, 0xab, sizeof older);
    gm_vae_config_init_size(&older.cfg, older_size);
    assert_int_equal(older.cfg.struct_size, older_size);
    assert_int_equal(older.cfg.latent_dim, 20);
    for (size_t i = older_size; i < sizeof older; i++)
        assert_int_equal(older.bytes[i], 0xab);
    memset(&newer, 0xab, sizeof newer);
    gm_vae_config_init_size(&newer.cfg, sizeof newer);
    assert_int_equal(newer.cfg.struct_size, sizeof newer);
    for (size_t i = sizeof(gm_vae_config); i < sizeof newer; i++)
        assert_int_equal(newer.bytes[i], 0);  /* fields it cannot know: zero, so create accepts them */
    assert_int_equal(gm_vae_create(&newer.cfg, &vae), GM_OK);
    gm_vae_free(vae);
}

static void test_bad_config_fields(void **state)
{
    (void)state;
    static const struct { const char *field; int which; } cases[] = {
        { "input_dim", 0 }, { "latent_dim", 1 }, { "n_enc_hidden", 2 }, { "enc_hidden", 3 },
        { "dec_hidden", 4 }, { "activation", 5 }, { "leaky_slope", 6 }, { "likelihood", 7 },
        { "beta", 8 }, { "n_classes", 9 }, { "lr", 10 }, { "betas", 11 }, { "eps", 12 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_vae_config cfg;
        small_config(&cfg);
        switch (cases[i].which) {
        case 0: cfg.input_dim = 0; break;
        case 1: cfg.latent_dim = -1; break;
        case 2: cfg.n_enc_hidden = GM_VAE_MAX_HIDDEN + 1; break;
        case 3: cfg.enc_hidden[0] = 0; break;
        case 4: cfg.dec_hidden[0] = -5; break;
        case 5: cfg.activation = 42; break;
        case 6: cfg.leaky_slope = 1.5f; break;
        case 7: cfg.likelihood = 3; break;
        case 8: cfg.beta = NAN; break;
        case 9: cfg.n_classes = -1; break;
        case 10: cfg.optim.lr = 0.0f; break;
        case 11: cfg.optim.beta1 = 1.0f; break;
        case 12: cfg.optim.eps = 0.0f; break;
        }
        gm_vae *vae = (gm_vae *)&cfg;  /* must come back NULL */
        assert_int_equal(gm_vae_create(&cfg, &vae), GM_ERR_INVALID_ARG);
        assert_null(vae);
        assert_non_null(strstr(gm_last_error(), cases[i].field));
    }
}

static void test_null_and_sizes(void **state)
{
    (void)state;
    gm_vae *vae = small_vae(0);
    float x[N * D] = { 0 }, mu[N * Z], lv[N * Z], z[N * Z];
    double d[N];
    int32_t order[N];
    const gm_status bad = GM_ERR_INVALID_ARG;
    assert_int_equal(gm_vae_train_step(NULL, x, NULL, N, NULL), bad);
    assert_int_equal(gm_vae_train_step(vae, NULL, NULL, N, NULL), bad);
    assert_int_equal(gm_vae_train_step(vae, x, NULL, 0, NULL), bad);
    assert_int_equal(gm_vae_encode(vae, x, NULL, N, mu, NULL), bad);
    assert_int_equal(gm_vae_encode(vae, x, NULL, -1, mu, lv), bad);
    assert_int_equal(gm_vae_reparameterize(vae, mu, NULL, N, z), bad);
    assert_int_equal(gm_vae_decode(vae, z, NULL, N, NULL), bad);
    assert_int_equal(gm_vae_elbo(vae, x, NULL, N, NULL, NULL), bad);
    assert_int_equal(gm_vae_iwae(vae, x, NULL, N, 0, d), bad);
    assert_int_equal(gm_vae_score(vae, x, NULL, N, 0, d), bad);
    assert_int_equal(gm_vae_sample(vae, NULL, 0, x), bad);
    assert_int_equal(gm_vae_reconstruct(NULL, x, NULL, N, x), bad);
    assert_int_equal(gm_vae_shuffle(vae, order, 0), bad);
    assert_int_equal(gm_vae_set_lr(vae, -1.0f), bad);
    assert_int_equal(gm_vae_get_config(NULL, NULL), bad);
    assert_int_equal(gm_vae_step_count(NULL), 0);
    assert_true(gm_last_error()[0] != '\0');
    gm_vae_free(vae);
}

static void test_labels_and_domain(void **state)
{
    (void)state;
    gm_vae *plain = small_vae(0), *cond = small_vae(3);
    float x[N * D];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 1);
    int32_t labels[N] = { 0, 1, 2, 0, 1, 2, 0, 1 };
    assert_int_equal(gm_vae_train_step(plain, x, labels, N, NULL), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_train_step(cond, x, NULL, N, NULL), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_train_step(cond, x, labels, N, NULL), GM_OK);
    labels[5] = 3;
    assert_int_equal(gm_vae_sample(cond, labels, N, x), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "labels[5]"));

    gm_test_fill(x, N * D, 0.0f, 1.0f, 1);
    x[17] = 1.5f;
    assert_int_equal(gm_vae_train_step(plain, x, NULL, N, NULL), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "x[1][1]"));
    x[17] = NAN;
    assert_int_equal(gm_vae_elbo(plain, x, NULL, N, (double[N]){ 0 }, NULL), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_score(plain, x, NULL, N, 2, (double[N]){ 0 }), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_step_count(plain), 0);

    /* the Gaussian likelihood takes any finite value */
    gm_vae_config cfg;
    small_config(&cfg);
    cfg.likelihood = GM_LIKELIHOOD_GAUSSIAN;
    gm_vae *gauss;
    assert_int_equal(gm_vae_create(&cfg, &gauss), GM_OK);
    x[17] = -7.0f;
    assert_int_equal(gm_vae_train_step(gauss, x, NULL, N, NULL), GM_OK);
    x[17] = INFINITY;
    assert_int_equal(gm_vae_train_step(gauss, x, NULL, N, NULL), GM_ERR_INVALID_ARG);
    gm_vae_free(gauss);
    gm_vae_free(plain);
    gm_vae_free(cond);
}

/* Every call that takes data refuses a NaN or an infinity anywhere in it
 * (and, for x under a Bernoulli likelihood, anything outside [0, 1]) with
 * the row and column, before any work: the outputs stay as they were and
 * the handle draws the same numbers after as a twin that saw no bad call. */
enum { ENCODE, RECONSTRUCT, TRAIN, ELBO, IWAE, SCORE, DECODE, REPARAM_MU, REPARAM_LOGVAR, N_CALLS };
static const char *const call_who[N_CALLS] = {
    "gm_vae_encode", "gm_vae_reconstruct", "gm_vae_train_step", "gm_vae_elbo", "gm_vae_iwae",
    "gm_vae_score", "gm_vae_decode", "gm_vae_reparameterize", "gm_vae_reparameterize",
};
static const char *const call_array[N_CALLS] = { "x", "x", "x", "x", "x", "x", "z", "mu", "logvar" };

static gm_status call_with(gm_vae *vae, int call, const float *data, float *out, double *d)
{
    static const float ok_z[N * Z] = { 0 };
    switch (call) {
    case ENCODE: return gm_vae_encode(vae, data, NULL, N, out, out + N * Z);
    case RECONSTRUCT: return gm_vae_reconstruct(vae, data, NULL, N, out);
    case TRAIN: return gm_vae_train_step(vae, data, NULL, N, NULL);
    case ELBO: return gm_vae_elbo(vae, data, NULL, N, d, NULL);
    case IWAE: return gm_vae_iwae(vae, data, NULL, N, 3, d);
    case SCORE: return gm_vae_score(vae, data, NULL, N, 2, d);
    case DECODE: return gm_vae_decode(vae, data, NULL, N, out);
    case REPARAM_MU: return gm_vae_reparameterize(vae, data, ok_z, N, out);
    default: return gm_vae_reparameterize(vae, ok_z, data, N, out);
    }
}

static void test_every_call_refuses_bad_data(void **state)
{
    (void)state;
    gm_vae *vae = small_vae(0), *twin = small_vae(0);
    float data[N * D], out[N * D], before[N * D];
    double d[N];
    char want[64];
    for (int call = 0; call < N_CALLS; call++)
        for (int kind = 0; kind < GM_BAD_KINDS; kind++) {
            int row, col;
            gm_plant_bad(data, N, call < DECODE ? D : Z, kind, (uint32_t)(call + 1), &row, &col);
            gm_test_fill(out, N * D, 5.0f, 6.0f, 99);
            memcpy(before, out, sizeof out);
            snprintf(want, sizeof want, "%s[%d][%d] = ", call_array[call], row, col);
            gm_expect_refused(call_with(vae, call, data, out, d), call_who[call], want);
            assert_memory_equal(out, before, sizeof out);
        }
    /* a Bernoulli x just outside [0, 1], printed so that it reads back */
    gm_test_fill(data, N * D, 0.0f, 1.0f, 7);
    data[3 * D + 4] = nextafterf(1.0f, 2.0f);
    for (int call = ENCODE; call <= SCORE; call++)
        gm_expect_refused(call_with(vae, call, data, out, d), call_who[call],
                          "x[3][4] = 1.00000012 is outside the Bernoulli likelihood's [0, 1]");
    assert_int_equal(gm_vae_step_count(vae), 0);
    float mine[N * D], theirs[N * D];
    assert_int_equal(gm_vae_sample(vae, NULL, N, mine), GM_OK);
    assert_int_equal(gm_vae_sample(twin, NULL, N, theirs), GM_OK);
    assert_memory_equal(mine, theirs, sizeof mine);
    gm_vae_free(vae);
    gm_vae_free(twin);

    /* a Gaussian likelihood takes any finite x, at inference as in training */
    gm_vae_config cfg;
    small_config(&cfg);
    cfg.likelihood = GM_LIKELIHOOD_GAUSSIAN;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    gm_test_fill(data, N * D, -50.0f, 50.0f, 8);
    for (int call = ENCODE; call <= SCORE; call++)
        assert_int_equal(call_with(vae, call, data, out, d), GM_OK);
    data[5] = -INFINITY;
    for (int call = ENCODE; call <= SCORE; call++)
        gm_expect_refused(call_with(vae, call, data, out, d), call_who[call], "x[0][5] = -inf is outside the Gaussian");
    gm_vae_free(vae);
}

/* Every size is checked against its stated maximum before any arithmetic,
 * so a huge one is named instead of overflowing (UBSan watches). */
static void test_huge_sizes(void **state)
{
    (void)state;
    static const struct { const char *message; int which; } cases[] = {
        { "latent_dim must be in [1, 16777216] (got 2147483647)", 0 },
        { "input_dim must be in [1, 16777216] (got 2147483647)", 1 },
        { "enc_hidden[0] must be in [1, 16777216] (got 2147483647)", 2 },
        { "dec_hidden[1] must be in [1, 16777216] (got 16777217)", 3 },
        { "n_classes must be in [0, 65536] (got 2147483647)", 4 },
        { "n_classes must be in [0, 65536] (got 65537)", 5 },
        { "the largest layer maps input_dim = 16777216 to enc_hidden[0] = 16777216", 6 },
        { "the largest layer maps dec_hidden[0] = 400 to input_dim = 16777216", 7 },
        { "the largest layer maps enc_hidden[0] = 400 to 2 * latent_dim = 33554432", 8 },
        { "the largest layer maps input_dim + n_classes = 16842752 to enc_hidden[0] = 64", 9 },
        { "n_enc_hidden must be in [0, 4] (got 2147483647)", 10 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_vae_config cfg;
        gm_vae_config_init(&cfg);
        switch (cases[i].which) {
        case 0: cfg.latent_dim = INT32_MAX; break;
        case 1: cfg.input_dim = INT32_MAX; break;
        case 2: cfg.enc_hidden[0] = INT32_MAX; break;
        case 3: cfg.n_dec_hidden = 2, cfg.dec_hidden[1] = GM_MAX_DIM + 1; break;
        case 4: cfg.n_classes = INT32_MAX; break;
        case 5: cfg.n_classes = GM_MAX_CLASSES + 1; break;
        case 6: cfg.input_dim = cfg.enc_hidden[0] = GM_MAX_DIM; break;
        case 7: cfg.input_dim = GM_MAX_DIM; break;
        case 8: cfg.latent_dim = GM_MAX_DIM; break;
        case 9:
            cfg.input_dim = GM_MAX_DIM, cfg.n_classes = GM_MAX_CLASSES;
            cfg.enc_hidden[0] = 64, cfg.dec_hidden[0] = 1;  /* 2^30 + 2^22 weights in the encoder alone */
            break;
        case 10: cfg.n_enc_hidden = INT32_MAX; break;
        }
        gm_vae *vae = (gm_vae *)&cfg;
        gm_expect_refused(gm_vae_create(&cfg, &vae), "gm_vae_create", cases[i].message);
        assert_null(vae);
    }
}

static void test_config_round_trip_and_lr(void **state)
{
    (void)state;
    gm_vae_config cfg, got;
    small_config(&cfg);
    cfg.beta = 0.25f;
    cfg.seed = 77;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    gm_vae_config_init(&got);
    assert_int_equal(gm_vae_get_config(vae, &got), GM_OK);
    assert_memory_equal(&cfg, &got, sizeof cfg);
    assert_int_equal(gm_vae_set_lr(vae, 5e-4f), GM_OK);
    assert_int_equal(gm_vae_get_config(vae, &got), GM_OK);
    assert_true(got.optim.lr == 5e-4f);
    gm_vae_free(vae);
}

static void test_posterior_paths_agree(void **state)
{
    (void)state;
    gm_vae *vae = small_vae(0);
    float x[N * D], mu[N * Z], lv[N * Z], z[N * Z], dec[N * D], rec[N * D];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 4);
    assert_int_equal(gm_vae_encode(vae, x, NULL, N, mu, lv), GM_OK);
    assert_int_equal(gm_vae_decode(vae, mu, NULL, N, dec), GM_OK);
    assert_int_equal(gm_vae_reconstruct(vae, x, NULL, N, rec), GM_OK);
    assert_memory_equal(dec, rec, sizeof dec);
    for (int i = 0; i < N * D; i++)
        assert_true(rec[i] > 0.0f && rec[i] < 1.0f);
    /* a vanishing variance draws z = mu */
    for (int i = 0; i < N * Z; i++)
        lv[i] = -200.0f;
    assert_int_equal(gm_vae_reparameterize(vae, mu, lv, N, z), GM_OK);
    assert_memory_equal(z, mu, sizeof z);
    gm_vae_free(vae);
}

/* A walk starts at a's reconstruction, ends at b's, and passes through
 * the decoded mean of their posterior means; a conditional walk keeps its
 * class throughout. */
static void test_interpolate(void **state)
{
    (void)state;
    enum { P = 3, S = 5 };
    for (int cond = 0; cond < 2; cond++) {
        gm_vae *vae = small_vae(cond ? 4 : 0);
        const int32_t labels[P] = { 3, 0, 2 };
        const int32_t *l = cond ? labels : NULL;
        float a[P * D], b[P * D], walk[P * S * D], ra[P * D], rb[P * D];
        float mu_a[P * Z], mu_b[P * Z], lv[P * Z], mid[P * Z], dmid[P * D];
        gm_test_fill(a, P * D, 0.0f, 1.0f, 5);
        gm_test_fill(b, P * D, 0.0f, 1.0f, 6);
        assert_int_equal(gm_vae_interpolate(vae, a, b, l, P, S, walk), GM_OK);
        assert_int_equal(gm_vae_reconstruct(vae, a, l, P, ra), GM_OK);
        assert_int_equal(gm_vae_reconstruct(vae, b, l, P, rb), GM_OK);
        assert_int_equal(gm_vae_encode(vae, a, l, P, mu_a, lv), GM_OK);
        assert_int_equal(gm_vae_encode(vae, b, l, P, mu_b, lv), GM_OK);
        for (int i = 0; i < P * Z; i++)
            mid[i] = mu_a[i] + 0.5f * (mu_b[i] - mu_a[i]);
        assert_int_equal(gm_vae_decode(vae, mid, l, P, dmid), GM_OK);
        /* the walk decodes P * S rows at once, the others P: OpenBLAS may
         * run products of so few rows through its small-matrix kernel,
         * adding in another order (seen on AMD Zen 4: 1 ulp); bit-equal on
         * oneDNN */
        const int exact = strcmp(gm_backend_name(), "openblas") != 0;
        for (int p = 0; p < P; p++) {
            const float *got[3] = { walk + (size_t)(p * S) * D, walk + (size_t)(p * S + S - 1) * D,
                                    walk + (size_t)(p * S + S / 2) * D };
            const float *want[3] = { ra + p * D, rb + p * D, dmid + p * D };
            for (int k = 0; k < 3; k++) {
                if (exact)
                    assert_memory_equal(got[k], want[k], D * sizeof(float));
                else
                    gm_assert_close_f(got[k], want[k], D, 1e-6, 1e-5, "the walk's point");
            }
        }
        assert_int_equal(gm_vae_interpolate(vae, a, b, l, P, 1, walk), GM_ERR_INVALID_ARG);
        assert_int_equal(gm_vae_interpolate(vae, a, NULL, l, P, S, walk), GM_ERR_INVALID_ARG);
        gm_vae_free(vae);
    }
}

/* The manifold decodes the lattice of the prior's quantiles: the cell in
 * row r, column c is z = (q(c), q(side - 1 - r)). */
static void test_manifold(void **state)
{
    (void)state;
    enum { SIDE = 4 };
    /* the standard normal's quantiles at 1/8, 3/8, 5/8, 7/8 (scipy.stats.norm.ppf) */
    const double q[SIDE] = { -1.1503493803760079, -0.31863936396437515, 0.31863936396437515, 1.1503493803760079 };
    for (int cond = 0; cond < 2; cond++) {
        gm_vae *vae = small_vae(cond ? 4 : 0);
        float grid[SIDE * SIDE * D], z[SIDE * SIDE * Z], want[SIDE * SIDE * D];
        int32_t labels[SIDE * SIDE];
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++) {
                z[(r * SIDE + c) * Z] = (float)q[c];
                z[(r * SIDE + c) * Z + 1] = (float)q[SIDE - 1 - r];
                labels[r * SIDE + c] = 2;
            }
        assert_int_equal(gm_vae_manifold(vae, SIDE, cond ? 2 : -1, grid), GM_OK);
        assert_int_equal(gm_vae_decode(vae, z, cond ? labels : NULL, SIDE * SIDE, want), GM_OK);
        assert_memory_equal(grid, want, sizeof grid);
        gm_vae_free(vae);
    }
}

static void test_shuffle(void **state)
{
    (void)state;
    gm_vae *a = small_vae(0), *b = small_vae(0);
    int32_t p[100], q[100], seen[100] = { 0 };
    assert_int_equal(gm_vae_shuffle(a, p, 100), GM_OK);
    assert_int_equal(gm_vae_shuffle(b, q, 100), GM_OK);
    assert_memory_equal(p, q, sizeof p);
    int moved = 0;
    for (int i = 0; i < 100; i++) {
        seen[p[i]]++;
        moved += p[i] != i;
    }
    for (int i = 0; i < 100; i++)
        assert_int_equal(seen[i], 1);
    assert_true(moved > 80);
    gm_vae_free(a);
    gm_vae_free(b);
}

/* ---- memory ---- */

static int alloc_setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int alloc_teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static gm_status life_cycle(void *ctx)
{
    (void)ctx;
    gm_vae_config cfg;
    small_config(&cfg);
    cfg.n_classes = 2;
    gm_vae *vae = NULL;
    float x[N * D], out[N * D];
    int32_t labels[N] = { 0, 1, 0, 1, 0, 1, 0, 1 };
    double d[N];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 9);
    gm_status s = gm_vae_create(&cfg, &vae);
    if (s == GM_OK)
        s = gm_vae_train_step(vae, x, labels, N, NULL);
    if (s == GM_OK)
        s = gm_vae_sample(vae, labels, N, out);
    if (s == GM_OK)
        s = gm_vae_iwae(vae, x, labels, N, 3, d);
    gm_vae_free(vae);
    return s;
}

static void test_every_allocation_failure(void **state)
{
    (void)state;
    assert_true(gm_test_alloc_sweep(life_cycle, NULL) > 3);
}

/* Each allocation failure is told in the terms of the public call that
 * met it ("gm_vae_train_step: out of memory: ..."), never of a module. */
static void test_out_of_memory_names_the_call(void **state)
{
    (void)state;
    gm_expect_oom_named(life_cycle, "gm_vae_");
}

/* Every inference call, as a fresh handle's first, under each refused
 * allocation of its workspace */
enum { I_ENCODE, I_REPARAM, I_DECODE, I_SAMPLE, I_RECONSTRUCT, I_ELBO, I_IWAE, I_SCORE, N_INFER };
static const char *const infer_who[N_INFER] = {
    "gm_vae_encode", "gm_vae_reparameterize", "gm_vae_decode", "gm_vae_sample", "gm_vae_reconstruct",
    "gm_vae_elbo", "gm_vae_iwae", "gm_vae_score",
};

static void *make_vae(void) { return small_vae(2); }
static void drop_vae(void *h) { gm_vae_free(h); }

static gm_status infer(void *h, int which, void *out)
{
    static const int32_t labels[N] = { 0, 1, 1, 0, 1, 0, 0, 1 };
    float x[N * D], z[N * Z], lv[N * Z];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 21);
    gm_test_fill(z, N * Z, -2.0f, 2.0f, 22);
    gm_test_fill(lv, N * Z, -1.0f, 1.0f, 23);
    float *f = out;
    double *d = out;
    switch (which) {
    case I_ENCODE: return gm_vae_encode(h, x, labels, N, f, f + N * Z);
    case I_REPARAM: return gm_vae_reparameterize(h, z, lv, N, f);
    case I_DECODE: return gm_vae_decode(h, z, labels, N, f);
    case I_SAMPLE: return gm_vae_sample(h, labels, N, f);
    case I_RECONSTRUCT: return gm_vae_reconstruct(h, x, labels, N, f);
    case I_ELBO: return gm_vae_elbo(h, x, labels, N, d, NULL);
    case I_IWAE: return gm_vae_iwae(h, x, labels, N, 3, d);
    default: return gm_vae_score(h, x, labels, N, 3, d);
    }
}

static void test_inference_out_of_memory(void **state)
{
    (void)state;
    for (int which = 0; which < N_INFER; which++)
        gm_expect_first_call_oom(make_vae, drop_vae, infer, which, N * D * sizeof(float), infer_who[which]);
}

static void test_step_allocates_nothing(void **state)
{
    (void)state;
    gm_vae *vae = small_vae(0);
    float x[N * D];
    gm_test_fill(x, N * D, 0.0f, 1.0f, 9);
    assert_int_equal(gm_vae_train_step(vae, x, NULL, N, NULL), GM_OK);
    size_t allocs = gm_test_alloc.allocs;
    for (int i = 0; i < 3; i++)
        assert_int_equal(gm_vae_train_step(vae, x, NULL, N, NULL), GM_OK);
    assert_int_equal(gm_vae_train_step(vae, x, NULL, N / 2, NULL), GM_OK);
    assert_int_equal(gm_test_alloc.allocs, allocs);
    gm_vae_free(vae);
}

/* ---- learning: three classes of binary patterns ---- */

static void prototype(int c, float *row)
{
    for (int d = 0; d < D; d++)
        row[d] = (d % 3 == c) ? 1.0f : 0.0f;
}

static void test_conditional_generates_its_class(void **state)
{
    (void)state;
    gm_vae_config cfg;
    small_config(&cfg);
    cfg.n_classes = 3;
    cfg.optim.lr = 3e-3f;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    enum { B = 48 };
    float x[B * D], noise[B * D];
    int32_t labels[B];
    gm_vae_losses first, last;
    for (int step = 0; step < 600; step++) {
        gm_test_fill(noise, B * D, 0.0f, 1.0f, (uint32_t)step);
        for (int i = 0; i < B; i++) {
            labels[i] = i % 3;
            prototype(labels[i], x + i * D);
            for (int d = 0; d < D; d++)  /* flip one pixel in twenty */
                if (noise[i * D + d] < 0.05f)
                    x[i * D + d] = 1.0f - x[i * D + d];
        }
        assert_int_equal(gm_vae_train_step(vae, x, labels, B, step ? &last : &first), GM_OK);
    }
    assert_true(last.neg_elbo < 0.5 * first.neg_elbo);
    float samples[B * D], proto[D];
    assert_int_equal(gm_vae_sample(vae, labels, B, samples), GM_OK);
    int right = 0;
    for (int i = 0; i < B; i++) {
        double best = INFINITY;
        int best_c = -1;
        for (int c = 0; c < 3; c++) {
            prototype(c, proto);
            double dist = 0;
            for (int d = 0; d < D; d++)
                dist += fabs(samples[i * D + d] - proto[d]);
            if (dist < best) {
                best = dist;
                best_c = c;
            }
        }
        right += best_c == labels[i];
    }
    assert_true(right >= B * 9 / 10);
    gm_vae_free(vae);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_abi),
        cmocka_unit_test(test_bad_config_fields),
        cmocka_unit_test(test_null_and_sizes),
        cmocka_unit_test(test_labels_and_domain),
        cmocka_unit_test(test_every_call_refuses_bad_data),
        cmocka_unit_test(test_huge_sizes),
        cmocka_unit_test(test_config_round_trip_and_lr),
        cmocka_unit_test(test_posterior_paths_agree),
        cmocka_unit_test(test_interpolate),
        cmocka_unit_test(test_manifold),
        cmocka_unit_test(test_shuffle),
        cmocka_unit_test_setup_teardown(test_every_allocation_failure, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory_names_the_call, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_inference_out_of_memory, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_step_allocates_nothing, alloc_setup, alloc_teardown),
        cmocka_unit_test(test_conditional_generates_its_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
