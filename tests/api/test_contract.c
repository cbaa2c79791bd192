/* The API contract (docs/conventions.md), call by call: every public
 * function meets every bad argument that applies to it -- NULL in each
 * pointer, sizes <= 0 or too large, NaN and Inf data, labels out of range
 * or unexpected, garbage struct_size, the wrong model kind -- and must
 * refuse it with the right status and a message that starts with its own
 * name, leaving *out NULL, its outputs and its handle as they were.
 *
 * The table at the end is the one list of public functions here; it must
 * match tests/api/symbols.txt, so a new function cannot skip the contract.
 *
 *   test_contract SYMBOLS            the table against the list, then every row
 *   test_contract SYMBOLS --table    the table against the list only
 *   test_contract SYMBOLS NAME...    those rows only: meson runs one process
 *                                    per symbol, so a crash hides no other row */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "genmodel.h"
#include "gm_test.h"

/* the fixtures' sizes: data D, latent or noise Z (>= 3, so [1][2] exists), classes C, batch N */
enum { D = 6, Z = 3, H = 5, C = 3, N = 4 };
enum { SENTINEL = 0xA5 };  /* fills every output a failed call must not write */
enum { VAE, GAN, SR, N_KINDS };
/* an upscaler's training patches: lo (N, 1, SW, 1), hi (N, 2, 2 SW, 1) at scale 2 */
enum { SW = 3 };

/* ---- reporting: a row runs all its cases and lists each that broke ---- */

static const char *row_name;  /* the public function the running row checks */
static int failures;          /* its cases that broke the contract */

static void broke(const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s [%s]: ", row_name, what);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

/* The status; for a failure, a message that starts with "row_name:". */
static int expect(const char *what, gm_status got, gm_status want)
{
    const char *msg = gm_last_error();
    if (got != want) {
        broke(what, "status %d (%s), want %d (%s)%s%s%s", (int)got, gm_strerror(got), (int)want, gm_strerror(want),
              got ? "; message \"" : "", got ? msg : "", got ? "\"" : "");
        return 0;
    }
    size_t len = strlen(row_name);
    if (want != GM_OK && (!msg || strncmp(msg, row_name, len) != 0 || msg[len] != ':')) {
        broke(what, "message \"%s\" does not start with \"%s:\"", msg ? msg : "(NULL)", row_name);
        return 0;
    }
    return 1;
}

/* ... and which names what was wrong */
static void expect_text(const char *what, gm_status got, gm_status want, const char *needle)
{
    if (expect(what, got, want) && needle && !strstr(gm_last_error(), needle))
        broke(what, "message \"%s\" does not name %s", gm_last_error(), needle);
}

static void expect_untouched(const char *what, const void *buf, size_t size, const char *name)
{
    const unsigned char *b = buf;
    for (size_t i = 0; i < size; i++)
        if (b[i] != SENTINEL) {
            broke(what, "%s was written (byte %zu)", name, i);
            return;
        }
}

static void expect_null(const char *what, const void *out)
{
    if (out)
        broke(what, "the out pointer is not NULL after a failure");
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- the two model kinds behind one set of signatures ---- */

/* typed handles handed back untyped; *out keeps what the call left there */
static gm_status vae_load(const char *p, void **out)
{
    gm_vae *h = out ? *out : NULL;
    gm_status s = gm_vae_load(p, out ? &h : NULL);
    if (out)
        *out = h;
    return s;
}
static gm_status gan_load(const char *p, void **out)
{
    gm_gan *h = out ? *out : NULL;
    gm_status s = gm_gan_load(p, out ? &h : NULL);
    if (out)
        *out = h;
    return s;
}
static gm_status sr_load(const char *p, void **out)
{
    gm_sr *h = out ? *out : NULL;
    gm_status s = gm_sr_load(p, out ? &h : NULL);
    if (out)
        *out = h;
    return s;
}
static gm_status vae_load_buffer(const void *b, size_t size, void **out)
{
    gm_vae *h = out ? *out : NULL;
    gm_status s = gm_vae_load_buffer(b, size, out ? &h : NULL);
    if (out)
        *out = h;
    return s;
}
static gm_status gan_load_buffer(const void *b, size_t size, void **out)
{
    gm_gan *h = out ? *out : NULL;
    gm_status s = gm_gan_load_buffer(b, size, out ? &h : NULL);
    if (out)
        *out = h;
    return s;
}
static gm_status sr_load_buffer(const void *b, size_t size, void **out)
{
    gm_sr *h = out ? *out : NULL;
    gm_status s = gm_sr_load_buffer(b, size, out ? &h : NULL);
    if (out)
        *out = h;
    return s;
}
static gm_status vae_save(void *h, const char *p) { return gm_vae_save(h, p); }
static gm_status gan_save(void *h, const char *p) { return gm_gan_save(h, p); }
static gm_status sr_save(void *h, const char *p) { return gm_sr_save(h, p); }
static gm_status vae_save_buffer(void *h, void **b, size_t *s) { return gm_vae_save_buffer(h, b, s); }
static gm_status gan_save_buffer(void *h, void **b, size_t *s) { return gm_gan_save_buffer(h, b, s); }
static gm_status sr_save_buffer(void *h, void **b, size_t *s) { return gm_sr_save_buffer(h, b, s); }
static gm_status vae_get_config(void *h, void *cfg) { return gm_vae_get_config(h, cfg); }
static gm_status gan_get_config(void *h, void *cfg) { return gm_gan_get_config(h, cfg); }
static gm_status sr_get_config(void *h, void *cfg) { return gm_sr_get_config(h, cfg); }
static gm_status vae_peek(const char *p, void *cfg) { return gm_checkpoint_peek_vae(p, cfg); }
static gm_status gan_peek(const char *p, void *cfg) { return gm_checkpoint_peek_gan(p, cfg); }
static gm_status sr_peek(const char *p, void *cfg) { return gm_checkpoint_peek_sr(p, cfg); }
static gm_status info_peek(const char *p, void *info) { return gm_checkpoint_peek(p, info); }
static int64_t vae_steps(void *h) { return gm_vae_step_count(h); }
static int64_t gan_steps(void *h) { return gm_gan_step_count(h); }
static int64_t sr_steps(void *h) { return gm_sr_step_count(h); }
static void vae_free(void *h) { gm_vae_free(h); }
static void gan_free(void *h) { gm_gan_free(h); }
static void sr_free(void *h) { gm_sr_free(h); }
static void vae_init(void *cfg, size_t size) { gm_vae_config_init_size(cfg, size); }
static void gan_init(void *cfg, size_t size) { gm_gan_config_init_size(cfg, size); }
static void sr_init(void *cfg, size_t size) { gm_sr_config_init_size(cfg, size); }
static void info_init(void *info, size_t size) { gm_checkpoint_info_init_size(info, size); }
static void field_init(void *field, size_t size) { gm_config_field_init_size(field, size); }
static void options_init(void *o, size_t size) { gm_dataset_options_init_size(o, size); }

typedef struct kind_ops {
    int kind;
    gm_status (*load)(const char *path, void **out);
    gm_status (*load_buffer)(const void *buf, size_t size, void **out);
    gm_status (*save)(void *h, const char *path);
    gm_status (*save_buffer)(void *h, void **buf, size_t *size);
    gm_status (*get_config)(void *h, void *cfg);
    gm_status (*peek)(const char *path, void *cfg);
    int64_t (*steps)(void *h);
    void (*free)(void *h);
    void (*init)(void *cfg, size_t size);
    size_t config_size;
    size_t first_size;  /* of the struct's first published version: the least a caller's may have */
} kind_ops;

static const kind_ops vae_ops = { VAE, vae_load, vae_load_buffer, vae_save, vae_save_buffer, vae_get_config,
                                  vae_peek, vae_steps, vae_free, vae_init, sizeof(gm_vae_config),
                                  offsetof(gm_vae_config, image_channels) };
static const kind_ops gan_ops = { GAN, gan_load, gan_load_buffer, gan_save, gan_save_buffer, gan_get_config,
                                  gan_peek, gan_steps, gan_free, gan_init, sizeof(gm_gan_config),
                                  offsetof(gm_gan_config, image_channels) };
/* gm_sr_config was first published whole (0.2) */
static const kind_ops sr_ops = { SR, sr_load, sr_load_buffer, sr_save, sr_save_buffer, sr_get_config, sr_peek,
                                 sr_steps, sr_free, sr_init, sizeof(gm_sr_config), sizeof(gm_sr_config) };
/* gm_checkpoint_peek, which any kind's file satisfies: the VAE's serves */
static const kind_ops info_ops = { VAE, NULL, NULL, NULL, NULL, NULL, info_peek, NULL, NULL, info_init,
                                   sizeof(gm_checkpoint_info), sizeof(gm_checkpoint_info) };

static const kind_ops field_ops = { VAE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, field_init,
                                    sizeof(gm_config_field), sizeof(gm_config_field) };

static const kind_ops options_ops = { VAE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, options_init,
                                      sizeof(gm_dataset_options),
                                      offsetof(gm_dataset_options, keep_sizes) };

static const kind_ops *ops_of(int kind)
{
    return kind == VAE ? &vae_ops : kind == GAN ? &gan_ops : &sr_ops;
}

/* ---- fixtures: made once per process, before any row ---- */

static struct {
    void *h[N_KINDS][2];    /* [VAE or GAN][unconditional, conditional on C classes];
                               [SR][an upscaler of grey, one of RGB with a discriminator] */
    char file[N_KINDS][512];  /* a saved VAE, GAN and SR */
    void *buf[N_KINDS];     /* the same in memory */
    size_t size[N_KINDS];
    char dir[256], images[512], labels[512], missing[512], no_dir[512];
    gm_dataset *ds;         /* N labelled 2 x 3 images */
    gm_dataset *big;        /* N 16 x 16 images: large enough for gm_sr_evaluate */
    gm_dataset *thin;       /* N 1 x 6 images: smaller than any upscaler's crop */
    gm_dataset *table;      /* a CSV table of N rows of D numbers: not images */
} fx;

static float good_x[N * D];  /* inside every domain: (0, 1) */
static const int32_t good_labels[N] = { 0, 1, 2, 0 };

static void small_vae_config(gm_vae_config *cfg, int n_classes)
{
    gm_vae_config_init(cfg);
    cfg->input_dim = D;
    cfg->latent_dim = Z;
    cfg->enc_hidden[0] = cfg->dec_hidden[0] = H;
    cfg->n_classes = n_classes;
}

static void small_gan_config(gm_gan_config *cfg, int n_classes)
{
    gm_gan_config_init(cfg);
    cfg->data_dim = D;
    cfg->noise_dim = Z;
    cfg->gen_hidden[0] = cfg->gen_hidden[1] = cfg->disc_hidden[0] = cfg->disc_hidden[1] = H;
    cfg->ema_decay = 0.5f;
    cfg->n_classes = n_classes;
}

/* a small ESPCN at scale 2 (patch 1: a crop of 2 x 2 pixels fits the 2 x 3
 * images); with_disc: one of RGB with a discriminator (patch 2) */
static void small_sr_config(gm_sr_config *cfg, int with_disc)
{
    gm_sr_config_init(cfg);
    cfg->n_body = 1;
    cfg->body_channels[0] = 4;
    cfg->body_kernel[0] = 3;
    cfg->patch = 1;
    if (with_disc) {
        cfg->channels = 3;
        cfg->patch = 2;
        cfg->adv_weight = 0.01f;
        cfg->n_disc_conv = 1;
        cfg->disc_channels[0] = 4;
    }
}

static gm_status create(int kind, const void *cfg, void **out)
{
    gm_vae *v = out ? *out : NULL;
    gm_gan *g = out ? *out : NULL;
    gm_sr *r = out ? *out : NULL;
    gm_status s = kind == VAE ? gm_vae_create(cfg, out ? &v : NULL)
                : kind == GAN ? gm_gan_create(cfg, out ? &g : NULL) : gm_sr_create(cfg, out ? &r : NULL);
    if (out)
        *out = kind == VAE ? (void *)v : kind == GAN ? (void *)g : (void *)r;
    return s;
}

static const char *scratch(char *out, const char *name)
{
    snprintf(out, 512, "%s/%s", fx.dir, name);
    return out;
}

static int setup(void **state)
{
    (void)state;
    gm_test_fill(good_x, N * D, 0.05f, 0.95f, 1);
    assert_int_equal(gm_test_dir_make(), 0);
    snprintf(fx.dir, sizeof fx.dir, "%s", gm_test_dir());
    for (int cond = 0; cond < 2; cond++) {
        gm_vae_config v;
        small_vae_config(&v, cond ? C : 0);
        assert_int_equal(create(VAE, &v, &fx.h[VAE][cond]), GM_OK);
        assert_int_equal(gm_vae_calibrate(fx.h[VAE][cond], GM_SCORE_RECONSTRUCTION, good_x, cond ? good_labels : NULL,
                                          N, 1, 0.25f), GM_OK);
        gm_gan_config g;
        small_gan_config(&g, cond ? C : 0);
        assert_int_equal(create(GAN, &g, &fx.h[GAN][cond]), GM_OK);
        gm_sr_config r;
        small_sr_config(&r, cond);
        assert_int_equal(create(SR, &r, &fx.h[SR][cond]), GM_OK);
    }
    static const char *const names[N_KINDS] = { "vae.st", "gan.st", "sr.st" };
    for (int k = 0; k < N_KINDS; k++) {
        assert_int_equal(ops_of(k)->save(fx.h[k][0], scratch(fx.file[k], names[k])), GM_OK);
        assert_int_equal(ops_of(k)->save_buffer(fx.h[k][0], &fx.buf[k], &fx.size[k]), GM_OK);
    }
    /* an IDX dataset: images (N, 2, 3) and labels, also under the MNIST names */
    static const uint8_t labels[] = { 0, 0, 8, 1, 0, 0, 0, N, 0, 1, 2, 0 };
    char path[512];
    assert_int_equal(gm_idx_write_images(scratch(fx.images, "images.idx"), good_x, N, 2, 3), GM_OK);
    assert_int_equal(gm_idx_write_images(scratch(path, "train-images-idx3-ubyte"), good_x, N, 2, 3), GM_OK);
    gm_test_write_file(scratch(fx.labels, "labels.idx"), labels, sizeof labels);
    gm_test_write_file(scratch(path, "train-labels-idx1-ubyte"), labels, sizeof labels);
    assert_int_equal(gm_dataset_load(fx.images, fx.labels, &fx.ds), GM_OK);
    /* larger and thinner images, and a table, for the upscaler's calls that take a dataset */
    static float big[N * 16 * 16];
    gm_test_fill(big, N * 16 * 16, 0.05f, 0.95f, 2);
    assert_int_equal(gm_idx_write_images(scratch(path, "big.idx"), big, N, 16, 16), GM_OK);
    assert_int_equal(gm_dataset_load(path, NULL, &fx.big), GM_OK);
    assert_int_equal(gm_idx_write_images(scratch(path, "thin.idx"), good_x, N, 1, D), GM_OK);
    assert_int_equal(gm_dataset_load(path, NULL, &fx.thin), GM_OK);
    static const char table[] = "0.1,0.2,0.3,0.4,0.5,0.6\n0.6,0.5,0.4,0.3,0.2,0.1\n"
                                "0.1,0.2,0.3,0.4,0.5,0.6\n0.6,0.5,0.4,0.3,0.2,0.1\n";
    gm_test_write_file(scratch(path, "table.csv"), table, sizeof table - 1);
    assert_int_equal(gm_dataset_open(path, NULL, &fx.table), GM_OK);
    scratch(fx.missing, "missing");
    scratch(fx.no_dir, "no-such-dir/file");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int cond = 0; cond < 2; cond++) {
        gm_vae_free(fx.h[VAE][cond]);
        gm_gan_free(fx.h[GAN][cond]);
        gm_sr_free(fx.h[SR][cond]);
    }
    for (int k = 0; k < N_KINDS; k++)
        gm_buffer_free(fx.buf[k]);
    gm_dataset_free(fx.ds);
    gm_dataset_free(fx.big);
    gm_dataset_free(fx.thin);
    gm_dataset_free(fx.table);
    return gm_test_dir_remove();
}

/* ---- "nothing changed": a handle's step count and every byte it saves ---- */


typedef struct snapshot {
    int64_t steps;
    void *buf;
    size_t size;
} snapshot;

static snapshot take(int kind, void *h)
{
    snapshot s = { ops_of(kind)->steps(h), NULL, 0 };
    assert_int_equal(ops_of(kind)->save_buffer(h, &s.buf, &s.size), GM_OK);
    return s;
}

static void expect_same(const char *what, int kind, void *h, snapshot before)
{
    snapshot after = take(kind, h);
    if (after.steps != before.steps)
        broke(what, "the step count went from %lld to %lld", (long long)before.steps, (long long)after.steps);
    else if (after.size != before.size || memcmp(after.buf, before.buf, after.size) != 0)
        broke(what, "the handle changed (its saved bytes differ)");
    gm_buffer_free(before.buf);
    gm_buffer_free(after.buf);
}

/* ---- the calls that take data: one description each, all cases generated ---- */

typedef struct call_args {
    void *h;
    const float *in[2];
    const int32_t *labels;
    int32_t n, k;
    void *out[2];
    const gm_dataset *ds;
} call_args;

typedef struct data_call {
    int kind;
    gm_status (*invoke)(const call_args *a);
    int n_in;
    int in_width[2];      /* D or Z */
    int bernoulli;        /* in[0] is a VAE's x: outside [0, 1] is outside the likelihood */
    int pixels;           /* every input is pixels: outside [0, 1] too is refused */
    int dataset;          /* takes a dataset of images (fx.ds): NULL and a table are refused */
    int labels;           /* takes labels */
    int n_out;            /* outputs, each required unless optional_last */
    size_t out_bytes[2];
    int optional_last;
    int has_k;            /* an int argument (m, k, use_ema): a good value, two bad ones */
    int32_t k_good, k_bad[2];
} data_call;

static gm_status vae_encode(const call_args *a)
{
    return gm_vae_encode(a->h, a->in[0], a->labels, a->n, a->out[0], a->out[1]);
}
static gm_status vae_reparameterize(const call_args *a)
{
    return gm_vae_reparameterize(a->h, a->in[0], a->in[1], a->n, a->out[0]);
}
static gm_status vae_decode(const call_args *a)
{
    return gm_vae_decode(a->h, a->in[0], a->labels, a->n, a->out[0]);
}
static gm_status vae_train_step(const call_args *a)
{
    return gm_vae_train_step(a->h, a->in[0], a->labels, a->n, a->out[0]);
}
static gm_status vae_elbo(const call_args *a)
{
    return gm_vae_elbo(a->h, a->in[0], a->labels, a->n, a->out[0], a->out[1]);
}
static gm_status vae_iwae(const call_args *a)
{
    return gm_vae_iwae(a->h, a->in[0], a->labels, a->n, a->k, a->out[0]);
}
static gm_status vae_sample(const call_args *a)
{
    return gm_vae_sample(a->h, a->labels, a->n, a->out[0]);
}
static gm_status vae_reconstruct(const call_args *a)
{
    return gm_vae_reconstruct(a->h, a->in[0], a->labels, a->n, a->out[0]);
}
static gm_status vae_score(const call_args *a)
{
    return gm_vae_score(a->h, a->in[0], a->labels, a->n, a->k, a->out[0]);
}
static gm_status vae_interpolate(const call_args *a)
{
    return gm_vae_interpolate(a->h, a->in[0], a->in[1], a->labels, a->n, a->k, a->out[0]);
}
static gm_status vae_score_as(const call_args *a)
{
    return gm_vae_score_as(a->h, GM_SCORE_COMPLEXITY, a->in[0], a->labels, a->n, a->k, a->out[0]);
}
static gm_status vae_fit_latent(const call_args *a)
{
    return gm_vae_fit_latent(a->h, a->in[0], a->labels, a->n);
}
static gm_status vae_calibrate(const call_args *a)
{
    return gm_vae_calibrate(a->h, GM_SCORE_RECONSTRUCTION, a->in[0], a->labels, a->n, 1, 0.25f);
}
/* the fixture's VAEs are calibrated (setup) */
static gm_status vae_flag(const call_args *a)
{
    return gm_vae_flag(a->h, a->in[0], a->labels, a->n, a->out[0], (double *)a->out[1], NULL);
}
static gm_status vae_anomaly_map(const call_args *a)
{
    return gm_vae_anomaly_map(a->h, a->in[0], a->labels, a->n, a->out[0]);
}
static gm_status vae_shuffle(const call_args *a)
{
    return gm_vae_shuffle(a->h, a->out[0], a->n);
}
static gm_status gan_generate(const call_args *a)
{
    return gm_gan_generate(a->h, a->in[0], a->labels, a->n, a->k, a->out[0]);
}
static gm_status gan_discriminate(const call_args *a)
{
    return gm_gan_discriminate(a->h, a->in[0], a->labels, a->n, a->out[0]);
}
static gm_status gan_train_step(const call_args *a)
{
    return gm_gan_train_step(a->h, a->in[0], a->labels, a->n, a->out[0]);
}
static gm_status gan_sample(const call_args *a)
{
    return gm_gan_sample(a->h, a->labels, a->n, a->out[0]);
}
static gm_status gan_shuffle(const call_args *a)
{
    return gm_gan_shuffle(a->h, a->out[0], a->n);
}
/* n pairs of patches of 1 x k */
static gm_status sr_train_step(const call_args *a)
{
    return gm_sr_train_step(a->h, a->in[0], a->in[1], a->n, 1, a->k, a->out[0]);
}
/* one grey image of n rows of SW pixels of k values */
static gm_status sr_upscale(const call_args *a)
{
    return gm_sr_upscale(a->h, a->in[0], a->n, SW, a->k, a->out[0]);
}
static gm_status sr_patches(const call_args *a)
{
    return gm_sr_patches(a->h, a->ds, a->n, a->out[0], a->out[1]);
}

/* room for the largest call's arrays: an upscaler's high-resolution patches */
static float in_buf[2][N * D * 8];
static double out_buf[2][N * D * 4];
static int32_t label_buf[N];

/* a valid call on the unconditional or conditional fixture */
static call_args valid_args(const data_call *c, int cond)
{
    call_args a = { fx.h[c->kind][cond], { NULL, NULL }, NULL, N, c->k_good, { NULL, NULL }, fx.ds };
    for (int i = 0; i < c->n_in; i++) {
        for (size_t j = 0; j < sizeof in_buf[i] / sizeof in_buf[i][0]; j++)
            in_buf[i][j] = good_x[j % (N * D)];
        a.in[i] = in_buf[i];
    }
    if (c->labels && cond) {
        memcpy(label_buf, good_labels, sizeof label_buf);
        a.labels = label_buf;
    }
    for (int i = 0; i < c->n_out; i++)
        a.out[i] = out_buf[i];
    return a;
}

/* One bad call: INVALID_ARG naming needle, outputs unwritten, handle unchanged. */
static void bad_call(const data_call *c, call_args a, int cond, const char *what, const char *needle)
{
    void *h = fx.h[c->kind][cond];
    memset(out_buf, SENTINEL, sizeof out_buf);
    snapshot before = take(c->kind, h);
    expect_text(what, c->invoke(&a), GM_ERR_INVALID_ARG, needle);
    for (int i = 0; i < c->n_out; i++)
        if (a.out[i])
            expect_untouched(what, a.out[i], c->out_bytes[i], i ? "the second output" : "the output");
    expect_same(what, c->kind, h, before);
}

static void check_data_call(const void *arg)
{
    const data_call *c = arg;
    char what[96];
    call_args a;
    /* NULL in each pointer, also with n = INT32_MAX: refused before any array is read */
    for (int big = 0; big < 2; big++) {
        const char *tail = big ? ", n = INT32_MAX" : "";
        a = valid_args(c, 0);
        a.n = big ? INT32_MAX : N;
        a.h = NULL;
        snprintf(what, sizeof what, "NULL handle%s", tail);
        bad_call(c, a, 0, what, NULL);
        for (int i = 0; i < c->n_in; i++) {
            a = valid_args(c, 0);
            a.n = big ? INT32_MAX : N;
            a.in[i] = NULL;
            snprintf(what, sizeof what, "NULL input %d%s", i + 1, tail);
            bad_call(c, a, 0, what, NULL);
        }
        for (int i = 0; i < c->n_out - c->optional_last; i++) {
            a = valid_args(c, 0);
            a.n = big ? INT32_MAX : N;
            a.out[i] = NULL;
            snprintf(what, sizeof what, "NULL output %d%s", i + 1, tail);
            bad_call(c, a, 0, what, NULL);
        }
    }
    static const int32_t bad_n[] = { 0, -1, INT32_MIN };
    for (size_t i = 0; i < sizeof bad_n / sizeof bad_n[0]; i++) {
        a = valid_args(c, 0);
        a.n = bad_n[i];
        snprintf(what, sizeof what, "n = %d", (int)bad_n[i]);
        bad_call(c, a, 0, what, NULL);
    }
    for (int i = 0; c->has_k && i < 2; i++) {
        a = valid_args(c, 0);
        a.k = c->k_bad[i];
        snprintf(what, sizeof what, "int argument %d", (int)c->k_bad[i]);
        bad_call(c, a, 0, what, NULL);
    }
    if (c->labels) {
        for (int big = 0; big < 2; big++) {
            a = valid_args(c, 0);
            a.labels = good_labels;
            a.n = big ? INT32_MAX : N;
            bad_call(c, a, 0, big ? "labels for an unconditional model, n = INT32_MAX"
                                  : "labels for an unconditional model", "labels");
            a = valid_args(c, 1);
            a.labels = NULL;
            a.n = big ? INT32_MAX : N;
            bad_call(c, a, 1, big ? "no labels for a conditional model, n = INT32_MAX"
                                  : "no labels for a conditional model", "labels");
        }
        static const int32_t bad_label[] = { -1, C, INT32_MIN, INT32_MAX };
        for (size_t i = 0; i < sizeof bad_label / sizeof bad_label[0]; i++) {
            a = valid_args(c, 1);
            label_buf[N - 1] = bad_label[i];
            snprintf(what, sizeof what, "labels[%d] = %d", N - 1, (int)bad_label[i]);
            bad_call(c, a, 1, what, "labels[3]");
        }
    }
    if (c->dataset) {
        a = valid_args(c, 0);
        a.ds = NULL;
        bad_call(c, a, 0, "NULL dataset", NULL);
        a.ds = fx.table;
        bad_call(c, a, 0, "a table, not images", "table");
    }
    /* data: non-finite anywhere; outside [0, 1] for a Bernoulli VAE's x and for pixels */
    const float bad_value[] = { NAN, INFINITY, -INFINITY, 1.5f, -0.5f };
    for (int i = 0; i < c->n_in; i++)
        for (int v = 0; v < ((c->bernoulli && i == 0) || c->pixels ? 5 : 3); v++) {
            a = valid_args(c, 0);
            in_buf[i][1 * c->in_width[i] + 2] = bad_value[v];
            snprintf(what, sizeof what, "input %d [1][2] = %g", i + 1, (double)bad_value[v]);
            bad_call(c, a, 0, what, "[1][2]");
        }
    /* the valid calls themselves succeed: the cases above failed for their one bad argument */
    for (int cond = 0; cond < 1 + c->labels; cond++) {
        a = valid_args(c, cond);
        expect(cond ? "the valid call, conditional" : "the valid call", c->invoke(&a), GM_OK);
    }
}

#define FLOATS(rows, width) ((size_t)(rows) * (width) * sizeof(float))
#define DOUBLES(rows) ((size_t)(rows) * sizeof(double))

/* The upscaler's calls: the cases every data call meets, then what only
 * the RGB upscaler with a discriminator (fx.h[SR][1]) refuses. */
static void check_sr_call(const void *arg)
{
    const data_call *c = arg;
    check_data_call(c);
    call_args a = valid_args(c, 1);
    if (c->invoke == sr_train_step) {
        /* its patches are 2 x 2: the first case's 1 x SW does not fit its discriminator */
        bad_call(c, a, 1, "patches of another size than the discriminator's", "discriminator");
    } else if (c->invoke == sr_upscale) {
        bad_call(c, a, 1, "a grey image for a model of RGB", "grey");
    } else {
        bad_call(c, a, 1, "grey images for a model of RGB", "grey");
        a = valid_args(c, 0);
        a.ds = fx.thin;
        bad_call(c, a, 0, "images smaller than the crop", "image 0");
    }
}

static void check_sr_evaluate(const void *arg)
{
    (void)arg;
    void *grey = fx.h[SR][0], *rgb = fx.h[SR][1];
    gm_sr_scores scores;
    const struct { const char *what; void *h; const gm_dataset *ds; gm_sr_scores *out; const char *needle; } cases[] = {
        { "NULL sr", NULL, fx.big, &scores, NULL },
        { "NULL ds", grey, NULL, &scores, NULL },
        { "NULL scores", grey, fx.big, NULL, NULL },
        { "a table, not images", grey, fx.table, &scores, "table" },
        { "images too small to measure", grey, fx.ds, &scores, "image 0" },
        { "grey images for a model of RGB", rgb, fx.big, &scores, "grey" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&scores, SENTINEL, sizeof scores);
        void *h = cases[i].h ? cases[i].h : grey;
        snapshot before = take(SR, h);
        expect_text(cases[i].what, gm_sr_evaluate(cases[i].h, cases[i].ds, cases[i].out), GM_ERR_INVALID_ARG,
                    cases[i].needle);
        expect_untouched(cases[i].what, &scores, sizeof scores, "the scores");
        expect_same(cases[i].what, SR, h, before);
    }
    snapshot before = take(SR, grey);
    if (expect("the valid call", gm_sr_evaluate(grey, fx.big, &scores), GM_OK) && scores.images != N)
        broke("the valid call", "measured %d images, not %d", (int)scores.images, N);
    expect_same("the valid call", SR, grey, before);
}

static const data_call call_vae_encode = { .kind = VAE, .invoke = vae_encode, .n_in = 1, .in_width = { D },
    .bernoulli = 1, .labels = 1, .n_out = 2, .out_bytes = { FLOATS(N, Z), FLOATS(N, Z) } };
static const data_call call_vae_reparameterize = { .kind = VAE, .invoke = vae_reparameterize, .n_in = 2,
    .in_width = { Z, Z }, .n_out = 1, .out_bytes = { FLOATS(N, Z) } };
static const data_call call_vae_decode = { .kind = VAE, .invoke = vae_decode, .n_in = 1, .in_width = { Z },
    .labels = 1, .n_out = 1, .out_bytes = { FLOATS(N, D) } };
static const data_call call_vae_train_step = { .kind = VAE, .invoke = vae_train_step, .n_in = 1, .in_width = { D },
    .bernoulli = 1, .labels = 1, .n_out = 1, .out_bytes = { sizeof(gm_vae_losses) }, .optional_last = 1 };
static const data_call call_vae_elbo = { .kind = VAE, .invoke = vae_elbo, .n_in = 1, .in_width = { D },
    .bernoulli = 1, .labels = 1, .n_out = 2, .out_bytes = { DOUBLES(N), sizeof(gm_vae_losses) },
    .optional_last = 1 };
static const data_call call_vae_iwae = { .kind = VAE, .invoke = vae_iwae, .n_in = 1, .in_width = { D },
    .bernoulli = 1, .labels = 1, .n_out = 1, .out_bytes = { DOUBLES(N) }, .has_k = 1, .k_good = 2,
    .k_bad = { 0, -1 } };
static const data_call call_vae_sample = { .kind = VAE, .invoke = vae_sample, .labels = 1, .n_out = 1,
    .out_bytes = { FLOATS(N, D) } };
static const data_call call_vae_reconstruct = { .kind = VAE, .invoke = vae_reconstruct, .n_in = 1,
    .in_width = { D }, .bernoulli = 1, .labels = 1, .n_out = 1, .out_bytes = { FLOATS(N, D) } };
static const data_call call_vae_score = { .kind = VAE, .invoke = vae_score, .n_in = 1, .in_width = { D },
    .bernoulli = 1, .labels = 1, .n_out = 1, .out_bytes = { DOUBLES(N) }, .has_k = 1, .k_good = 2,
    .k_bad = { 0, -1 } };
/* two steps: the output buffers hold N * D doubles, 2 N rows of D floats */
static const data_call call_vae_interpolate = { .kind = VAE, .invoke = vae_interpolate, .n_in = 2,
    .in_width = { D, D }, .bernoulli = 1, .labels = 1, .n_out = 1, .out_bytes = { FLOATS(2 * N, D) }, .has_k = 1,
    .k_good = 2, .k_bad = { 1, 0 } };
static const data_call call_vae_score_as = { .kind = VAE, .invoke = vae_score_as, .n_in = 1, .in_width = { D },
    .bernoulli = 1, .labels = 1, .n_out = 1, .out_bytes = { DOUBLES(N) }, .has_k = 1, .k_good = 2,
    .k_bad = { 0, -1 } };
static const data_call call_vae_fit_latent = { .kind = VAE, .invoke = vae_fit_latent, .n_in = 1,
    .in_width = { D }, .bernoulli = 1, .labels = 1 };
static const data_call call_vae_calibrate = { .kind = VAE, .invoke = vae_calibrate, .n_in = 1,
    .in_width = { D }, .bernoulli = 1, .labels = 1 };
static const data_call call_vae_flag = { .kind = VAE, .invoke = vae_flag, .n_in = 1, .in_width = { D },
    .bernoulli = 1, .labels = 1, .n_out = 2, .out_bytes = { DOUBLES(N), DOUBLES(N) }, .optional_last = 1 };
static const data_call call_vae_anomaly_map = { .kind = VAE, .invoke = vae_anomaly_map, .n_in = 1,
    .in_width = { D }, .bernoulli = 1, .labels = 1, .n_out = 1, .out_bytes = { FLOATS(N, D) } };
static const data_call call_vae_shuffle = { .kind = VAE, .invoke = vae_shuffle, .n_out = 1,
    .out_bytes = { N * sizeof(int32_t) } };
static const data_call call_gan_generate = { .kind = GAN, .invoke = gan_generate, .n_in = 1, .in_width = { Z },
    .labels = 1, .n_out = 1, .out_bytes = { FLOATS(N, D) }, .has_k = 1, .k_good = 0, .k_bad = { 2, -1 } };
static const data_call call_gan_discriminate = { .kind = GAN, .invoke = gan_discriminate, .n_in = 1,
    .in_width = { D }, .labels = 1, .n_out = 1, .out_bytes = { FLOATS(N, 1) } };
static const data_call call_gan_train_step = { .kind = GAN, .invoke = gan_train_step, .n_in = 1, .in_width = { D },
    .labels = 1, .n_out = 1, .out_bytes = { sizeof(gm_gan_losses) }, .optional_last = 1 };
static const data_call call_gan_sample = { .kind = GAN, .invoke = gan_sample, .labels = 1, .n_out = 1,
    .out_bytes = { FLOATS(N, D) } };
static const data_call call_gan_shuffle = { .kind = GAN, .invoke = gan_shuffle, .n_out = 1,
    .out_bytes = { N * sizeof(int32_t) } };
/* the grey upscaler at scale 2: lo (N, 1, SW), hi (N, 2, 2 SW); k the width */
static const data_call call_sr_train_step = { .kind = SR, .invoke = sr_train_step, .n_in = 2,
    .in_width = { SW, 4 * SW }, .pixels = 1, .n_out = 1, .out_bytes = { sizeof(gm_sr_losses) },
    .optional_last = 1, .has_k = 1, .k_good = SW, .k_bad = { 0, GM_SR_MAX_PATCH / 2 + 1 } };
/* an image of N x SW pixels of k values into one of 2 N x 2 SW */
static const data_call call_sr_upscale = { .kind = SR, .invoke = sr_upscale, .n_in = 1, .in_width = { SW },
    .pixels = 1, .n_out = 1, .out_bytes = { FLOATS(4 * N, SW) }, .has_k = 1, .k_good = 1, .k_bad = { 2, 0 } };
/* N pairs of patches of 1 x 1 and 2 x 2 from fx.ds */
static const data_call call_sr_patches = { .kind = SR, .invoke = sr_patches, .dataset = 1, .n_out = 2,
    .out_bytes = { FLOATS(N, 1), FLOATS(N, 4) } };

/* ---- configs: create, get_config, init ---- */

/* struct_size values no caller's struct can have: INVALID_ARG (the huge
 * ones must not make the library read past the struct); first is the
 * size of the struct's first published version */
static size_t bad_struct_size(size_t i, size_t first)
{
    const size_t sizes[] = { 0, 4, sizeof(size_t), first - 1, SIZE_MAX / 2, SIZE_MAX };
    return i < sizeof sizes / sizeof sizes[0] ? sizes[i] : 0;
}
enum { N_BAD_STRUCT_SIZES = 6 };

typedef struct field_case {
    const char *field;    /* what the message must name */
    size_t offset;
    int is_float;
    double value;
} field_case;

#define VI(name, f, v) { name, offsetof(gm_vae_config, f), 0, v }
#define VF(name, f, v) { name, offsetof(gm_vae_config, f), 1, v }
#define GI(name, f, v) { name, offsetof(gm_gan_config, f), 0, v }
#define GF(name, f, v) { name, offsetof(gm_gan_config, f), 1, v }
#define SI(name, f, v) { name, offsetof(gm_sr_config, f), 0, v }
#define SF(name, f, v) { name, offsetof(gm_sr_config, f), 1, v }

/* over a conditional config (C classes), so sums with n_classes overflow too */
static const field_case vae_fields[] = {
    VI("input_dim", input_dim, 0), VI("input_dim", input_dim, -1), VI("input_dim", input_dim, INT32_MAX),
    VI("latent_dim", latent_dim, 0), VI("latent_dim", latent_dim, INT32_MAX),
    VI("latent_dim", latent_dim, 1 << 30),
    VI("n_enc_hidden", n_enc_hidden, -1), VI("n_enc_hidden", n_enc_hidden, 5),
    VI("n_dec_hidden", n_dec_hidden, -1), VI("n_dec_hidden", n_dec_hidden, 5),
    VI("enc_hidden", enc_hidden[0], 0), VI("dec_hidden", dec_hidden[0], -1),
    VI("activation", activation, -1), VI("activation", activation, 99),
    VF("leaky_slope", leaky_slope, NAN), VF("leaky_slope", leaky_slope, 1), VF("leaky_slope", leaky_slope, -0.1),
    VI("likelihood", likelihood, -1), VI("likelihood", likelihood, 2),
    VF("beta", beta, NAN), VF("beta", beta, INFINITY), VF("beta", beta, -1),
    VI("n_classes", n_classes, -1), VI("n_classes", n_classes, 65537), VI("n_classes", n_classes, INT32_MAX),
    VI("kind", optim.kind, 2), VF("lr", optim.lr, 0), VF("lr", optim.lr, NAN), VF("lr", optim.lr, INFINITY),
    VF("beta", optim.beta1, 1), VF("beta", optim.beta2, NAN), VF("eps", optim.eps, 0),
    VF("weight_decay", optim.weight_decay, -1), VF("weight_decay", optim.weight_decay, NAN),
};

static const field_case gan_fields[] = {
    GI("data_dim", data_dim, 0), GI("data_dim", data_dim, INT32_MAX),
    GI("noise_dim", noise_dim, 0), GI("noise_dim", noise_dim, -1), GI("noise_dim", noise_dim, INT32_MAX),
    GI("n_gen_hidden", n_gen_hidden, -1), GI("n_gen_hidden", n_gen_hidden, 5),
    GI("n_disc_hidden", n_disc_hidden, 5), GI("gen_hidden", gen_hidden[0], 0),
    GI("disc_hidden", disc_hidden[1], 0), GI("activation", activation, 99),
    GF("leaky_slope", leaky_slope, NAN), GI("gen_output", gen_output, GM_ACT_RELU),
    GI("gen_output", gen_output, 99), GI("loss", loss, -1), GI("loss", loss, 99),
    GI("n_critic", n_critic, 0), GI("n_critic", n_critic, INT32_MAX),
    GF("gp_weight", gp_weight, NAN), GF("gp_weight", gp_weight, -1),
    GF("label_smoothing", label_smoothing, 0.5), GF("label_smoothing", label_smoothing, NAN),
    GF("instance_noise", instance_noise, -0.1), GF("instance_noise", instance_noise, NAN),
    GF("instance_noise", instance_noise, INFINITY), GI("noise_anneal_steps", noise_anneal_steps, -1),
    GF("ema_decay", ema_decay, 1), GF("ema_decay", ema_decay, -0.1), GF("ema_decay", ema_decay, NAN),
    GI("n_classes", n_classes, -1), GI("n_classes", n_classes, 65537),
    GF("gen_optim", gen_optim.lr, 0), GI("gen_optim", gen_optim.kind, 7), GF("disc_optim", disc_optim.beta2, 1),
    GF("disc_optim", disc_optim.eps, NAN),
};

/* over the RGB config with a discriminator, so its fields are checked too;
 * " optim: " is the upscaler's optimizer, not the discriminator's */
static const field_case sr_fields[] = {
    SI("scale", scale, 1), SI("scale", scale, 5), SI("scale", scale, INT32_MIN),
    SI("channels", channels, 0), SI("channels", channels, 2), SI("channels", channels, 4),
    SI("n_body", n_body, 0), SI("n_body", n_body, GM_SR_MAX_BODY + 1), SI("n_body", n_body, -1),
    SI("body_channels", body_channels[0], 0), SI("body_channels", body_channels[0], 1025),
    SI("body_kernel", body_kernel[0], 2), SI("body_kernel", body_kernel[0], GM_SR_MAX_KERNEL + 2),
    SI("body_kernel", body_kernel[0], -1), SI("out_kernel", out_kernel, 0), SI("out_kernel", out_kernel, 4),
    SI("activation", activation, -1), SI("activation", activation, 99),
    SF("leaky_slope", leaky_slope, NAN), SF("leaky_slope", leaky_slope, 1), SF("leaky_slope", leaky_slope, -0.1),
    SI("patch", patch, 0), SI("patch", patch, GM_SR_MAX_PATCH / 2 + 1), SI("patch", patch, INT32_MAX),
    SI("pixel_loss", pixel_loss, -1), SI("pixel_loss", pixel_loss, 2),
    SF("adv_weight", adv_weight, NAN), SF("adv_weight", adv_weight, INFINITY), SF("adv_weight", adv_weight, -1),
    SI("adv_loss", adv_loss, GM_GAN_WGAN_GP), SI("adv_loss", adv_loss, -1), SI("adv_loss", adv_loss, 99),
    SI("n_disc_conv", n_disc_conv, 0), SI("n_disc_conv", n_disc_conv, GM_MAX_CONV + 1),
    SI("disc_channels", disc_channels[0], 0), SI("disc_channels", disc_channels[0], 1025),
    SI("disc_norm", disc_norm, GM_NORM_BATCH), SI("disc_norm", disc_norm, -1),
    SI(" optim: ", optim.kind, 7), SF(" optim: ", optim.lr, 0), SF(" optim: ", optim.lr, NAN),
    SF("disc_optim", disc_optim.beta2, 1), SF("disc_optim", disc_optim.eps, NAN),
    SF("disc_optim", disc_optim.lr, INFINITY),
};

typedef struct create_call {
    int kind;
    const field_case *fields;
    size_t n_fields;
} create_call;

/* a config inside a larger zeroed buffer: room for a "newer" struct */
typedef union config_buf {
    gm_vae_config vae;
    gm_gan_config gan;
    gm_sr_config sr;
    unsigned char bytes[sizeof(gm_gan_config) + sizeof(gm_vae_config) + sizeof(gm_sr_config) + 64];
} config_buf;

static void valid_config(int kind, config_buf *b)
{
    memset(b, 0, sizeof *b);
    if (kind == VAE)
        small_vae_config(&b->vae, C);
    else if (kind == GAN)
        small_gan_config(&b->gan, C);
    else
        small_sr_config(&b->sr, 1);
}

/* Create with cfg: want, naming needle; *out NULL on failure. */
static void create_case(int kind, const void *cfg, const char *what, gm_status want, const char *needle)
{
    void *out = &fx;
    gm_status s = create(kind, cfg, &out);
    expect_text(what, s, want, needle);
    if (want != GM_OK)
        expect_null(what, out);
    if (s == GM_OK)
        ops_of(kind)->free(out);
}

static void check_create(const void *arg)
{
    const create_call *c = arg;
    const size_t size = ops_of(c->kind)->config_size;
    char what[96];
    config_buf b;
    valid_config(c->kind, &b);
    create_case(c->kind, NULL, "NULL cfg", GM_ERR_INVALID_ARG, NULL);
    expect("NULL out", create(c->kind, &b, NULL), GM_ERR_INVALID_ARG);
    for (size_t i = 0; i < N_BAD_STRUCT_SIZES; i++) {
        valid_config(c->kind, &b);
        size_t ss = bad_struct_size(i, ops_of(c->kind)->first_size);
        memcpy(&b, &ss, sizeof ss);
        b.bytes[size] = 1;  /* a library that scans past the struct stops here */
        snprintf(what, sizeof what, "struct_size %zu", ss);
        create_case(c->kind, &b, what, GM_ERR_INVALID_ARG, "struct_size");
    }
    /* a newer caller's struct: accepted when what we do not know is zero */
    valid_config(c->kind, &b);
    size_t newer = size + 8;
    memcpy(&b, &newer, sizeof newer);
    create_case(c->kind, &b, "newer struct, zero tail", GM_OK, NULL);
    b.bytes[size + 3] = 1;
    create_case(c->kind, &b, "newer struct, nonzero tail", GM_ERR_VERSION, "struct_size");
    for (size_t i = 0; i < c->n_fields; i++) {
        const field_case *f = &c->fields[i];
        valid_config(c->kind, &b);
        if (f->is_float) {
            float v = (float)f->value;
            memcpy(b.bytes + f->offset, &v, sizeof v);
        } else {
            int32_t v = (int32_t)f->value;
            memcpy(b.bytes + f->offset, &v, sizeof v);
        }
        if (f->is_float)
            snprintf(what, sizeof what, "%s = %g", f->field, f->value);
        else
            snprintf(what, sizeof what, "%s = %d", f->field, (int)f->value);
        create_case(c->kind, &b, what, GM_ERR_INVALID_ARG, f->field);
    }
    valid_config(c->kind, &b);
    create_case(c->kind, &b, "the valid config", GM_OK, NULL);
}

/* get_config and the peeks: a struct the call fills, or must leave alone */
static void fill_sentinel(config_buf *b, size_t struct_size)
{
    memset(b, SENTINEL, sizeof *b);
    memcpy(b, &struct_size, sizeof struct_size);
}

static void expect_config_untouched(const char *what, const config_buf *b, size_t struct_size)
{
    size_t ss;
    memcpy(&ss, b, sizeof ss);
    if (ss != struct_size)
        broke(what, "struct_size was written");
    expect_untouched(what, b->bytes + sizeof ss, sizeof *b - sizeof ss, "the struct");
}

/* Bad struct_size for a call that fills a struct (first is its first
 * published version's size). */
static void struct_size_cases(gm_status (*call)(const void *ctx, void *cfg), const void *ctx, size_t first)
{
    char what[64];
    for (size_t i = 0; i < N_BAD_STRUCT_SIZES; i++) {
        config_buf b;
        size_t ss = bad_struct_size(i, first);
        fill_sentinel(&b, ss);
        snprintf(what, sizeof what, "struct_size %zu", ss);
        expect_text(what, call(ctx, &b), GM_ERR_INVALID_ARG, "struct_size");
        expect_config_untouched(what, &b, ss);
    }
}

static gm_status get_config_of(const void *ops, void *cfg)
{
    const kind_ops *k = ops;
    return k->get_config(fx.h[k->kind][0], cfg);
}

static void check_get_config(const void *arg)
{
    const kind_ops *k = arg;
    config_buf b;
    fill_sentinel(&b, k->config_size);
    expect("NULL handle", k->get_config(NULL, &b), GM_ERR_INVALID_ARG);
    expect_config_untouched("NULL handle", &b, k->config_size);
    expect("NULL cfg", k->get_config(fx.h[k->kind][0], NULL), GM_ERR_INVALID_ARG);
    struct_size_cases(get_config_of, k, k->first_size);
    fill_sentinel(&b, k->config_size);
    expect("the valid call", k->get_config(fx.h[k->kind][0], &b), GM_OK);
}

/* size < sizeof(size_t) writes nothing; otherwise exactly size bytes */
static void check_init(const void *arg)
{
    const kind_ops *k = arg;
    config_buf b;
    char what[64];
    k->init(NULL, k->config_size);
    const size_t sizes[] = { 0, 1, sizeof(size_t) - 1, sizeof(size_t), sizeof(size_t) + 4, k->config_size,
                             k->config_size + 16 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(&b, SENTINEL, sizeof b);
        k->init(&b, sizes[i]);
        snprintf(what, sizeof what, "size %zu", sizes[i]);
        size_t written = sizes[i] < sizeof(size_t) ? 0 : sizes[i], ss;
        expect_untouched(what, b.bytes + written, sizeof b - written, "memory past the struct");
        memcpy(&ss, &b, sizeof ss);
        if (written && ss != sizes[i])
            broke(what, "struct_size is %zu", ss);
        for (size_t j = k->config_size; j < written; j++)
            if (b.bytes[j]) {
                broke(what, "the bytes past the known fields are not zero");
                break;
            }
    }
}

static void check_step_count(const void *arg)
{
    const kind_ops *k = arg;
    if (k->steps(NULL) != 0)
        broke("NULL handle", "returns %lld, not 0", (long long)k->steps(NULL));
}

static void check_free(const void *arg)
{
    void (*free_fn)(void *) = ((const kind_ops *)arg)->free;
    free_fn(NULL);
}

static gm_status set_lr(int kind, void *h, float lr, float disc_lr)
{
    return kind == VAE ? gm_vae_set_lr(h, lr) : kind == GAN ? gm_gan_set_lr(h, lr, disc_lr)
                                                            : gm_sr_set_lr(h, lr, disc_lr);
}

static void check_set_lr(const void *arg)
{
    const kind_ops *k = arg;
    void *h = fx.h[k->kind][0];
    const float bad[] = { 0.0f, -1e-3f, NAN, INFINITY, -INFINITY };
    char what[64];
    for (int which = 0; which < (k->kind != VAE ? 2 : 1); which++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            float lr[2] = { 1e-3f, 1e-3f };
            lr[which] = bad[i];
            snapshot before = take(k->kind, h);
            snprintf(what, sizeof what, "%s = %g", which ? "disc_lr" : "lr", (double)bad[i]);
            expect(what, set_lr(k->kind, h, lr[0], lr[1]), GM_ERR_INVALID_ARG);
            expect_same(what, k->kind, h, before);
        }
    expect("NULL handle", set_lr(k->kind, NULL, 1e-3f, 1e-3f), GM_ERR_INVALID_ARG);
}

static gm_status identity_allreduce(float *buf, size_t count, void *ctx)
{
    (void)buf, (void)count, (void)ctx;
    return GM_OK;
}

static gm_status set_allreduce(int kind, void *h, gm_allreduce_fn fn, int32_t rank, int32_t size)
{
    return kind == VAE ? gm_vae_set_allreduce(h, fn, NULL, rank, size) : gm_gan_set_allreduce(h, fn, NULL, rank, size);
}

static void check_set_allreduce(const void *arg)
{
    const kind_ops *k = arg;
    void *h = fx.h[k->kind][0];
    static const struct {
        const char *what;
        int with_fn;
        int32_t rank, size;
    } bad[] = {
        { "size 0", 1, 0, 0 }, { "size -1", 1, 0, -1 }, { "rank -1", 1, -1, 2 }, { "rank = size", 1, 2, 2 },
        { "rank > size", 1, 7, 3 }, { "2 workers without fn", 0, 0, 2 }, { "rank 1 without fn", 0, 1, 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snapshot before = take(k->kind, h);
        expect(bad[i].what, set_allreduce(k->kind, h, bad[i].with_fn ? identity_allreduce : NULL, bad[i].rank,
                                          bad[i].size),
               GM_ERR_INVALID_ARG);
        expect_same(bad[i].what, k->kind, h, before);
    }
    expect("NULL handle", set_allreduce(k->kind, NULL, identity_allreduce, 0, 1), GM_ERR_INVALID_ARG);
    /* what is allowed, undone: a worker of two, then a single process again */
    expect("rank 1 of 2", set_allreduce(k->kind, h, identity_allreduce, 1, 2), GM_OK);
    expect("back to one", set_allreduce(k->kind, h, NULL, 0, 1), GM_OK);
}

/* ---- checkpoints ---- */

static void check_save(const void *arg)
{
    const kind_ops *k = arg;
    void *h = fx.h[k->kind][0];
    char path[512];
    expect("NULL handle", k->save(NULL, scratch(path, "null-handle")), GM_ERR_INVALID_ARG);
    if (exists(path))
        broke("NULL handle", "a file was written");
    snapshot before = take(k->kind, h);
    expect("NULL path", k->save(h, NULL), GM_ERR_INVALID_ARG);
    expect("a directory that does not exist", k->save(h, fx.no_dir), GM_ERR_IO);
    expect("a path that is a directory", k->save(h, fx.dir), GM_ERR_IO);
    expect_same("the failed saves", k->kind, h, before);
}

static void check_save_buffer(const void *arg)
{
    const kind_ops *k = arg;
    void *h = fx.h[k->kind][0], *buf = &fx;
    size_t size;
    expect("NULL handle", k->save_buffer(NULL, &buf, &size), GM_ERR_INVALID_ARG);
    expect_null("NULL handle", buf);
    buf = &fx;
    expect("NULL size", k->save_buffer(h, &buf, NULL), GM_ERR_INVALID_ARG);
    expect_null("NULL size", buf);
    expect("NULL buf", k->save_buffer(h, NULL, &size), GM_ERR_INVALID_ARG);
}

static void check_load(const void *arg)
{
    const kind_ops *k = arg;
    const struct { const char *what, *path; gm_status want; } cases[] = {
        { "NULL path", NULL, GM_ERR_INVALID_ARG },
        { "a file that does not exist", fx.missing, GM_ERR_IO },
        { "a directory", fx.dir, GM_ERR_IO },
        { "an IDX file", fx.images, GM_ERR_FORMAT },
        { "another model kind", fx.file[(k->kind + 1) % N_KINDS], GM_ERR_MISMATCH },
        { "the third model kind", fx.file[(k->kind + 2) % N_KINDS], GM_ERR_MISMATCH },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *out = &fx;
        expect(cases[i].what, k->load(cases[i].path, &out), cases[i].want);
        expect_null(cases[i].what, out);
    }
    expect("NULL out", k->load(fx.file[k->kind], NULL), GM_ERR_INVALID_ARG);
}

static void check_load_buffer(const void *arg)
{
    const kind_ops *k = arg;
    static const char garbage[64] = "not a checkpoint";
    const void *own = fx.buf[k->kind];
    const int other = (k->kind + 1) % N_KINDS, third = (k->kind + 2) % N_KINDS;
    const struct { const char *what; const void *buf; size_t size; gm_status want; } cases[] = {
        { "NULL buf", NULL, 64, GM_ERR_INVALID_ARG },
        { "NULL buf, size SIZE_MAX", NULL, SIZE_MAX, GM_ERR_INVALID_ARG },
        { "size 0", own, 0, GM_ERR_INVALID_ARG },
        { "garbage", garbage, sizeof garbage, GM_ERR_FORMAT },
        { "truncated by one byte", own, fx.size[k->kind] - 1, GM_ERR_FORMAT },
        { "another model kind", fx.buf[other], fx.size[other], GM_ERR_MISMATCH },
        { "the third model kind", fx.buf[third], fx.size[third], GM_ERR_MISMATCH },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *out = &fx;
        expect(cases[i].what, k->load_buffer(cases[i].buf, cases[i].size, &out), cases[i].want);
        expect_null(cases[i].what, out);
    }
    expect("NULL out", k->load_buffer(own, fx.size[k->kind], NULL), GM_ERR_INVALID_ARG);
}

static gm_status peek_of(const void *ops, void *cfg)
{
    const kind_ops *k = ops;
    return k->peek(fx.file[k->kind], cfg);
}

/* gm_checkpoint_peek (info_ops) and the config peeks */
static void check_peek(const void *arg)
{
    const kind_ops *k = arg;
    const int own = k->kind;
    const struct { const char *what, *path; gm_status want; } cases[] = {
        { "NULL path", NULL, GM_ERR_INVALID_ARG },
        { "a file that does not exist", fx.missing, GM_ERR_IO },
        { "an IDX file", fx.images, GM_ERR_FORMAT },
        { "another model kind", fx.file[(own + 1) % N_KINDS], k == &info_ops ? GM_OK : GM_ERR_MISMATCH },
        { "the third model kind", fx.file[(own + 2) % N_KINDS], k == &info_ops ? GM_OK : GM_ERR_MISMATCH },
    };
    config_buf b;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fill_sentinel(&b, k->config_size);
        expect(cases[i].what, k->peek(cases[i].path, &b), cases[i].want);
        if (cases[i].want != GM_OK)
            expect_config_untouched(cases[i].what, &b, k->config_size);
    }
    expect("NULL struct", k->peek(fx.file[own], NULL), GM_ERR_INVALID_ARG);
    struct_size_cases(peek_of, k, k->first_size);
}

static void check_vae_manifold(const void *arg)
{
    (void)arg;
    float out[4 * D];
    const struct { const char *what; void *h; int32_t side, label; float *out; } cases[] = {
        { "NULL vae", NULL, 2, -1, out },
        { "NULL out", fx.h[VAE][0], 2, -1, NULL },
        { "a 3-D latent space", fx.h[VAE][0], 2, -1, out },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect(cases[i].what, gm_vae_manifold(cases[i].h, cases[i].side, cases[i].label, cases[i].out),
               GM_ERR_INVALID_ARG);
    gm_vae_config cfg;
    small_vae_config(&cfg, C);
    cfg.latent_dim = 2;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    const struct { const char *what; int32_t side, label; } bad[] = {
        { "side 0", 0, 0 }, { "side 4097", 4097, 0 }, { "label -1 for a conditional VAE", 2, -1 }, { "label C", 2, C },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(bad[i].what, gm_vae_manifold(vae, bad[i].side, bad[i].label, out), GM_ERR_INVALID_ARG);
    expect("the valid call", gm_vae_manifold(vae, 2, C - 1, out), GM_OK);
    gm_vae_free(vae);
}

static void check_vae_fit_standardization(const void *arg)
{
    (void)arg;
    gm_vae_config cfg;
    small_vae_config(&cfg, 0);
    cfg.likelihood = GM_LIKELIHOOD_GAUSSIAN;
    cfg.standardize = 1;
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    float x[N * D];
    memcpy(x, good_x, sizeof x);
    char what[64];
    const struct { const char *what; gm_vae *h; const float *x; int32_t n; const char *needle; } cases[] = {
        { "NULL vae", NULL, x, N, NULL }, { "NULL x", vae, NULL, N, NULL },
        { "n = 1", vae, x, 1, "n >= 2" }, { "n = 0", vae, x, 0, "n >= 2" }, { "n = INT32_MIN", vae, x, INT32_MIN, NULL },
        { "a model that does not standardize", fx.h[VAE][0], x, N, "standardize is 0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_text(cases[i].what, gm_vae_fit_standardization(cases[i].h, cases[i].x, cases[i].n),
                    GM_ERR_INVALID_ARG, cases[i].needle);
    const float bad_value[] = { NAN, INFINITY, -INFINITY };
    for (int v = 0; v < 3; v++) {
        x[1 * D + 2] = bad_value[v];
        snprintf(what, sizeof what, "x[1][2] = %g", (double)bad_value[v]);
        expect_text(what, gm_vae_fit_standardization(vae, x, N), GM_ERR_INVALID_ARG, "[1][2]");
    }
    for (int i = 0; i < N; i++)
        x[i * D + 2] = 0.25f;
    expect_text("a constant column", gm_vae_fit_standardization(vae, x, N), GM_ERR_INVALID_ARG, "column 2");
    /* nothing was fitted by the failures: every call that takes x still refuses */
    double score[N];
    if (gm_vae_score(vae, good_x, NULL, N, 1, score) != GM_ERR_INVALID_ARG ||
        !strstr(gm_last_error(), "gm_vae_fit_standardization"))
        broke("a score before the fit", "not refused for want of the fit: \"%s\"", gm_last_error());
    expect("the valid call", gm_vae_fit_standardization(vae, good_x, N), GM_OK);
    if (gm_vae_score(vae, good_x, NULL, N, 1, score) != GM_OK)
        broke("a score after the fit", "%s", gm_last_error());
    gm_vae_free(vae);
}

static void check_buffer_free(const void *arg)
{
    (void)arg;
    gm_buffer_free(NULL);
}

/* ---- datasets and images ---- */

static void check_dataset_load(const void *arg)
{
    (void)arg;
    const struct { const char *what, *images, *labels; gm_status want; } cases[] = {
        { "NULL images_path", NULL, fx.labels, GM_ERR_INVALID_ARG },
        { "images that do not exist", fx.missing, NULL, GM_ERR_IO },
        { "labels that do not exist", fx.images, fx.missing, GM_ERR_IO },
        { "empty path", "", NULL, GM_ERR_INVALID_ARG },
        { "a checkpoint as images", fx.file[VAE], NULL, GM_ERR_FORMAT },
        { "images as labels", fx.images, fx.images, GM_ERR_FORMAT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_dataset *out = (gm_dataset *)(void *)&fx;
        expect(cases[i].what, gm_dataset_load(cases[i].images, cases[i].labels, &out), cases[i].want);
        expect_null(cases[i].what, out);
    }
    expect("NULL out", gm_dataset_load(fx.images, NULL, NULL), GM_ERR_INVALID_ARG);
}

static void check_dataset_load_dir(const void *arg)
{
    (void)arg;
    const struct { const char *what, *dir, *split; gm_status want; } cases[] = {
        { "NULL dir", NULL, "train", GM_ERR_INVALID_ARG },
        { "NULL split", fx.dir, NULL, GM_ERR_INVALID_ARG },
        { "an unknown split", fx.dir, "bogus", GM_ERR_INVALID_ARG },
        { "an empty dir", "", "train", GM_ERR_INVALID_ARG },
        { "a dir that does not exist", fx.missing, "train", GM_ERR_IO },
        { "a dir without t10k", fx.dir, "t10k", GM_ERR_IO },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_dataset *out = (gm_dataset *)(void *)&fx;
        expect(cases[i].what, gm_dataset_load_dir(cases[i].dir, cases[i].split, &out), cases[i].want);
        expect_null(cases[i].what, out);
    }
    expect("NULL out", gm_dataset_load_dir(fx.dir, "train", NULL), GM_ERR_INVALID_ARG);
    gm_dataset *ds = NULL;
    expect("the valid call", gm_dataset_load_dir(fx.dir, "train", &ds), GM_OK);
    gm_dataset_free(ds);
}

static void check_dataset_open(const void *arg)
{
    (void)arg;
    gm_dataset_options o, npy_labels, bad_format, bad_delim, bad_header, idx_column, both, garbage, keep_idx, keep_2;
    gm_dataset_options_init(&o);
    o.labels_path = fx.labels;
    npy_labels = bad_format = bad_delim = bad_header = idx_column = both = garbage = keep_idx = keep_2 = o;
    keep_idx.keep_sizes = 1;
    keep_2.keep_sizes = 2;
    bad_format.format = 9;
    bad_delim.delimiter = '.';
    bad_header.header = 2;
    idx_column.label_column = "0";
    both.format = GM_DATA_CSV, both.label_column = "0";
    garbage.struct_size = 3;
    npy_labels.labels_path = "";
    const struct { const char *what, *path; const gm_dataset_options *o; gm_status want; } cases[] = {
        { "NULL path", NULL, &o, GM_ERR_INVALID_ARG },
        { "an empty path", "", &o, GM_ERR_INVALID_ARG },
        { "an empty labels_path", fx.images, &npy_labels, GM_ERR_INVALID_ARG },
        { "a file that does not exist", fx.missing, NULL, GM_ERR_IO },
        { "labels that do not exist", fx.images, &(gm_dataset_options){ sizeof o, 0, fx.missing, ',', -1, NULL, 0, 0, 0 },
          GM_ERR_IO },
        { "a checkpoint (read as CSV)", fx.file[VAE], NULL, GM_ERR_FORMAT },
        { "an unknown format", fx.images, &bad_format, GM_ERR_INVALID_ARG },
        { "a delimiter that is part of a number", fx.images, &bad_delim, GM_ERR_INVALID_ARG },
        { "header 2", fx.images, &bad_header, GM_ERR_INVALID_ARG },
        { "a label column of an IDX file", fx.images, &idx_column, GM_ERR_INVALID_ARG },
        { "a label column and a labels file", fx.images, &both, GM_ERR_INVALID_ARG },
        { "struct_size 3", fx.images, &garbage, GM_ERR_INVALID_ARG },
        { "keep_sizes for an IDX file", fx.images, &keep_idx, GM_ERR_INVALID_ARG },
        { "keep_sizes 2", fx.images, &keep_2, GM_ERR_INVALID_ARG },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_dataset *out = (gm_dataset *)(void *)&fx;
        expect(cases[i].what, gm_dataset_open(cases[i].path, cases[i].o, &out), cases[i].want);
        expect_null(cases[i].what, out);
    }
    expect("NULL out", gm_dataset_open(fx.images, NULL, NULL), GM_ERR_INVALID_ARG);
    gm_dataset *ds = NULL;
    expect("the valid call", gm_dataset_open(fx.images, &o, &ds), GM_OK);
    if (gm_dataset_n_classes(ds) != C)
        broke("the valid call", "has %d classes, not %d", (int)gm_dataset_n_classes(ds), C);
    gm_dataset_free(ds);
}

static void check_dataset_write(const void *arg)
{
    (void)arg;
    char dir[512], file[512], deep[512];
    scratch(dir, "written");
    scratch(deep, "no-such-dir/written");
    const int32_t big[N] = { 0, 1, 256, 0 }, negative[N] = { 0, -1, 0, 0 };
    const struct { const char *what, *dir; int32_t format; const float *x; const int32_t *labels; int32_t n, h, w, c;
                   gm_status want; } cases[] = {
        { "NULL dir", NULL, GM_DATA_NPY, good_x, good_labels, N, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "NULL x", dir, GM_DATA_NPY, NULL, good_labels, N, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "an empty dir", "", GM_DATA_NPY, good_x, good_labels, N, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "GM_DATA_AUTO", dir, GM_DATA_AUTO, good_x, good_labels, N, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "CSV", dir, GM_DATA_CSV, good_x, good_labels, N, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "n 0", dir, GM_DATA_NPY, good_x, good_labels, 0, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "height 0", dir, GM_DATA_NPY, good_x, good_labels, N, 0, 3, 1, GM_ERR_INVALID_ARG },
        { "channels -1", dir, GM_DATA_NPY, good_x, good_labels, N, 2, 3, -1, GM_ERR_INVALID_ARG },
        { "PNG of 2 channels", dir, GM_DATA_PNG_DIR, good_x, good_labels, N / 2, 1, 3, 2, GM_ERR_INVALID_ARG },
        { "label 256 in IDX", dir, GM_DATA_IDX, good_x, big, N, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "label -1", dir, GM_DATA_NPY, good_x, negative, N, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "a dir under a missing one", deep, GM_DATA_NPY, good_x, good_labels, N, 2, 3, 1, GM_ERR_IO },
        { "a dir that is a file", fx.images, GM_DATA_NPY, good_x, good_labels, N, 2, 3, 1, GM_ERR_IO },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect(cases[i].what, gm_dataset_write(cases[i].dir, cases[i].format, cases[i].x, cases[i].labels, cases[i].n,
                                               cases[i].h, cases[i].w, cases[i].c), cases[i].want);
    expect("the valid call", gm_dataset_write(dir, GM_DATA_NPY, good_x, good_labels, N, 2, 3, 1), GM_OK);
    gm_dataset *ds = NULL;
    expect("reading it back", gm_dataset_open(scratch(file, "written/x.npy"), &(gm_dataset_options){
        sizeof(gm_dataset_options), 0, scratch(deep, "written/y.npy"), ',', -1, NULL, 0, 0, 0 }, &ds), GM_OK);
    if (gm_dataset_count(ds) != N || gm_dataset_n_classes(ds) != C)
        broke("reading it back", "%d rows of %d classes", (int)gm_dataset_count(ds), (int)gm_dataset_n_classes(ds));
    gm_dataset_free(ds);
    unlink(scratch(file, "written/x.npy"));
    unlink(scratch(file, "written/y.npy"));
    rmdir(dir);
}

static void check_dataset_free(const void *arg)
{
    (void)arg;
    gm_dataset_free(NULL);
}

typedef struct getter {
    int32_t (*get)(const gm_dataset *ds);
    int32_t value;  /* the fixture's */
} getter;

static void check_getter(const void *arg)
{
    const getter *g = arg;
    if (g->get(NULL) != 0)
        broke("NULL dataset", "returns %d, not 0", (int)g->get(NULL));
    if (g->get(fx.ds) != g->value)
        broke("the fixture", "returns %d, not %d", (int)g->get(fx.ds), (int)g->value);
}

static void check_gather(const void *arg)
{
    (void)arg;
    gm_dataset *unlabelled;
    assert_int_equal(gm_dataset_load(fx.images, NULL, &unlabelled), GM_OK);
    static float x[N * D];
    static int32_t labels[N];
    int32_t idx[N] = { 0, 1, 2, 3 }, bad_idx[N] = { 0, 1, 2, -1 }, past[N] = { 0, 1, 2, N };
    const struct { const char *what; const gm_dataset *ds; const int32_t *idx; int32_t n; int x, labels;
                   const char *needle; } cases[] = {
        { "NULL ds", NULL, idx, N, 1, 1, NULL },
        { "NULL indices", fx.ds, NULL, N, 1, 1, NULL },
        { "NULL x", fx.ds, idx, N, 0, 1, NULL },
        { "NULL ds, n = INT32_MAX", NULL, idx, INT32_MAX, 1, 1, NULL },
        { "NULL x, n = INT32_MAX", fx.ds, idx, INT32_MAX, 0, 1, NULL },
        { "n = 0", fx.ds, idx, 0, 1, 1, NULL },
        { "n = -1", fx.ds, idx, -1, 1, 1, NULL },
        { "n = INT32_MIN", fx.ds, idx, INT32_MIN, 1, 1, NULL },
        { "indices[3] = -1", fx.ds, bad_idx, N, 1, 1, "indices[3]" },
        { "indices[3] = count", fx.ds, past, N, 1, 1, "indices[3]" },
        { "labels from a dataset without", unlabelled, idx, N, 1, 1, "labels" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(x, SENTINEL, sizeof x);
        memset(labels, SENTINEL, sizeof labels);
        expect_text(cases[i].what, gm_dataset_gather(cases[i].ds, cases[i].idx, cases[i].n, cases[i].x ? x : NULL,
                                                     cases[i].labels ? labels : NULL),
                    GM_ERR_INVALID_ARG, cases[i].needle);
        expect_untouched(cases[i].what, x, sizeof x, "x");
        expect_untouched(cases[i].what, labels, sizeof labels, "labels");
    }
    expect("the valid call", gm_dataset_gather(fx.ds, idx, N, x, labels), GM_OK);
    gm_dataset_free(unlabelled);
}

/* a table of 2 rows (CSV), whose rows are not images; the caller frees it */
static gm_dataset *table(void)
{
    char path[512];
    gm_dataset *t = NULL;
    gm_test_write_file(scratch(path, "table.csv"), "1,2\n3,4\n", 8);
    assert_int_equal(gm_dataset_open(path, NULL, &t), GM_OK);
    return t;
}

static void check_image_size(const void *arg)
{
    (void)arg;
    gm_dataset *t = table();
    static int32_t h, w;
    const struct { const char *what; const gm_dataset *ds; int32_t i; int h, w; const char *needle; } cases[] = {
        { "NULL ds", NULL, 0, 1, 1, NULL },
        { "NULL height", fx.ds, 0, 0, 1, "height" },
        { "NULL width", fx.ds, 0, 1, 0, "width" },
        { "i = -1", fx.ds, -1, 1, 1, "i is -1" },
        { "i = count", fx.ds, N, 1, 1, "outside" },
        { "i = INT32_MIN", fx.ds, INT32_MIN, 1, 1, "outside" },
        { "a table", t, 0, 1, 1, "table" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&h, SENTINEL, sizeof h);
        memset(&w, SENTINEL, sizeof w);
        expect_text(cases[i].what, gm_dataset_image_size(cases[i].ds, cases[i].i, cases[i].h ? &h : NULL,
                                                         cases[i].w ? &w : NULL), GM_ERR_INVALID_ARG, cases[i].needle);
        expect_untouched(cases[i].what, &h, sizeof h, "height");
        expect_untouched(cases[i].what, &w, sizeof w, "width");
    }
    if (expect("the valid call", gm_dataset_image_size(fx.ds, N - 1, &h, &w), GM_OK) && (h != 2 || w != 3))
        broke("the valid call", "gives %d x %d, not 2 x 3", (int)h, (int)w);
    gm_dataset_free(t);
}

static void check_image(const void *arg)
{
    (void)arg;
    gm_dataset *t = table(), *unlabelled;
    assert_int_equal(gm_dataset_load(fx.images, NULL, &unlabelled), GM_OK);
    static float x[D];
    static int32_t label;
    const struct { const char *what; const gm_dataset *ds; int32_t i; int x, label; const char *needle; } cases[] = {
        { "NULL ds", NULL, 0, 1, 1, NULL },
        { "NULL out", fx.ds, 0, 0, 1, "out" },
        { "i = -1", fx.ds, -1, 1, 1, "i is -1" },
        { "i = count", fx.ds, N, 1, 1, "outside" },
        { "i = INT32_MAX", fx.ds, INT32_MAX, 1, 1, "outside" },
        { "a label from a dataset without", unlabelled, 0, 1, 1, "label" },
        { "a table", t, 0, 1, 0, "table" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(x, SENTINEL, sizeof x);
        memset(&label, SENTINEL, sizeof label);
        expect_text(cases[i].what, gm_dataset_image(cases[i].ds, cases[i].i, cases[i].x ? x : NULL,
                                                    cases[i].label ? &label : NULL), GM_ERR_INVALID_ARG,
                    cases[i].needle);
        expect_untouched(cases[i].what, x, sizeof x, "out");
        expect_untouched(cases[i].what, &label, sizeof label, "label");
    }
    /* image i is row i of gather */
    static float row[D];
    const int32_t last = N - 1;
    expect("the valid call", gm_dataset_image(fx.ds, last, x, &label), GM_OK);
    assert_int_equal(gm_dataset_gather(fx.ds, &last, 1, row, NULL), GM_OK);
    if (memcmp(x, row, sizeof x) != 0 || label != good_labels[last])
        broke("the valid call", "differs from gather's row");
    expect("without a label", gm_dataset_image(unlabelled, 0, x, NULL), GM_OK);
    gm_dataset_free(unlabelled);
    gm_dataset_free(t);
}

/* gm_idx_write_images and gm_image_write_grid: cols is ignored by the first */
typedef struct image_args {
    const char *path;
    const float *images;
    int32_t n, height, width, cols;
} image_args;

static gm_status write_idx(const image_args *a)
{
    return gm_idx_write_images(a->path, a->images, a->n, a->height, a->width);
}

static gm_status write_grid(const image_args *a)
{
    return gm_image_write_grid(a->path, a->images, a->n, a->height, a->width, a->cols);
}

/* the channels of gm_image_write_grid_channels' calls: 1 in the cases all writers share */
static int32_t grid_channels = 1;

static gm_status write_grid_channels(const image_args *a)
{
    return gm_image_write_grid_channels(a->path, a->images, a->n, a->height, a->width, grid_channels, a->cols);
}

typedef struct image_call {
    gm_status (*write)(const image_args *a);
    int grid;   /* 1: a grid, 2: a grid of channels */
} image_call;

static const image_call idx_call = { write_idx, 0 }, grid_call = { write_grid, 1 },
                        grid_channels_call = { write_grid_channels, 2 };

static void check_image_writer(const void *arg)
{
    gm_status (*write)(const image_args *) = ((const image_call *)arg)->write;
    const int grid = ((const image_call *)arg)->grid;
    char path[512];
    scratch(path, grid ? "grid.pgm" : "out.idx");
    const image_args ok = { path, good_x, N, 2, 3, 2 };
    const struct { const char *what; image_args a; gm_status want; } cases[] = {
        { "NULL path", { NULL, good_x, N, 2, 3, 2 }, GM_ERR_INVALID_ARG },
        { "NULL images", { path, NULL, N, 2, 3, 2 }, GM_ERR_INVALID_ARG },
        { "NULL images, n = INT32_MAX", { path, NULL, INT32_MAX, 2, 3, 2 }, GM_ERR_INVALID_ARG },
        { "n = 0", { path, good_x, 0, 2, 3, 2 }, GM_ERR_INVALID_ARG },
        { "n = -1", { path, good_x, -1, 2, 3, 2 }, GM_ERR_INVALID_ARG },
        { "height = 0", { path, good_x, N, 0, 3, 2 }, GM_ERR_INVALID_ARG },
        { "width = -1", { path, good_x, N, 2, -1, 2 }, GM_ERR_INVALID_ARG },
        { "width = INT32_MIN", { path, good_x, N, 2, INT32_MIN, 2 }, GM_ERR_INVALID_ARG },
        /* sizes whose products overflow 2^31 - 1: refused before reading */
        { "n = INT32_MAX", { path, good_x, INT32_MAX, 2, 3, 2 }, GM_ERR_INVALID_ARG },
        { "height = width = INT32_MAX", { path, good_x, 1, INT32_MAX, INT32_MAX, 1 }, GM_ERR_INVALID_ARG },
        { "a directory that does not exist", { fx.no_dir, good_x, N, 2, 3, 2 }, GM_ERR_IO },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        remove(path);
        expect(cases[i].what, write(&cases[i].a), cases[i].want);
        if (cases[i].want == GM_ERR_INVALID_ARG && exists(path))
            broke(cases[i].what, "a file was written");
    }
    if (grid) {
        image_args a = ok;
        a.cols = 0;
        expect("cols = 0", write(&a), GM_ERR_INVALID_ARG);
        a.cols = INT32_MIN;
        expect("cols = INT32_MIN", write(&a), GM_ERR_INVALID_ARG);
        a.cols = INT32_MAX;
        expect("cols = INT32_MAX", write(&a), GM_ERR_INVALID_ARG);
        if (!gm_have_png()) {
            a = ok;
            a.path = scratch(path, "grid.PNG");
            expect("PNG without libpng", write(&a), GM_ERR_UNSUPPORTED);
        }
    }
    if (grid == 2) {
        /* N RGB images of 1 x 2 pixels: good_x's N * D values */
        const image_args rgb = { path, good_x, N, 1, D / 3, 2 };
        grid_channels = 2;
        expect("channels = 2", write(&rgb), GM_ERR_INVALID_ARG);
        grid_channels = 0;
        expect("channels = 0", write(&rgb), GM_ERR_INVALID_ARG);
        grid_channels = 3;
        expect("an RGB grid", write(&rgb), GM_OK);
        grid_channels = 1;
    }
    expect("the valid call", write(&ok), GM_OK);
}

/* one image out: its own arguments (no count, no columns) */
static void check_image_write(const void *arg)
{
    (void)arg;
    char path[512], png[512];
    scratch(path, "one.pgm");
    scratch(png, "one.png");
    const struct { const char *what, *path; const float *x; int32_t h, w, c; gm_status want; } cases[] = {
        { "NULL path", NULL, good_x, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "empty path", "", good_x, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "NULL image", path, NULL, 2, 3, 1, GM_ERR_INVALID_ARG },
        { "height = 0", path, good_x, 0, 3, 1, GM_ERR_INVALID_ARG },
        { "width = -1", path, good_x, 2, -1, 1, GM_ERR_INVALID_ARG },
        { "height = width = INT32_MAX", path, good_x, INT32_MAX, INT32_MAX, 1, GM_ERR_INVALID_ARG },
        { "channels = 2", path, good_x, 2, 3, 2, GM_ERR_INVALID_ARG },
        { "channels = 0", path, good_x, 2, 3, 0, GM_ERR_INVALID_ARG },
        { "a directory that does not exist", fx.no_dir, good_x, 2, 3, 1, GM_ERR_IO },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        remove(path);
        expect(cases[i].what, gm_image_write(cases[i].path, cases[i].x, cases[i].h, cases[i].w, cases[i].c),
               cases[i].want);
        if (cases[i].want == GM_ERR_INVALID_ARG && exists(path))
            broke(cases[i].what, "a file was written");
    }
    expect("the valid call", gm_image_write(path, good_x, 2, 3, 1), GM_OK);
    expect("an RGB PNG", gm_image_write(png, good_x, 1, 2, 3), gm_have_png() ? GM_OK : GM_ERR_UNSUPPORTED);
}

/* one image in: every pointer, files that are not PNGs or are cut short;
 * on failure *pixels NULL and the sizes as they were */
static void check_image_read(const void *arg)
{
    (void)arg;
    char png[512], text[512], cut[512], missing[512];
    scratch(png, "read.png");
    scratch(text, "read.txt");
    scratch(cut, "cut.png");
    scratch(missing, "missing.png");
    if (gm_have_png()) {
        assert_int_equal(gm_image_write(png, good_x, 2, 3, 3), GM_OK);
        FILE *f = fopen(text, "w");
        assert_non_null(f);
        fputs("not an image\n", f);
        fclose(f);
        f = fopen(png, "rb");
        uint8_t head[60];
        assert_non_null(f);
        assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
        fclose(f);
        gm_test_write_file(cut, head, sizeof head);
    }
    int32_t h = -5, w = -5, c = -5;
    float *px = (float *)good_x;
    const struct { const char *what, *path; int32_t *h, *w, *c; float **px; gm_status want; } cases[] = {
        { "NULL path", NULL, &h, &w, &c, &px, GM_ERR_INVALID_ARG },
        { "empty path", "", &h, &w, &c, &px, GM_ERR_INVALID_ARG },
        { "NULL height", png, NULL, &w, &c, &px, GM_ERR_INVALID_ARG },
        { "NULL width", png, &h, NULL, &c, &px, GM_ERR_INVALID_ARG },
        { "NULL channels", png, &h, &w, NULL, &px, GM_ERR_INVALID_ARG },
        { "NULL pixels", png, &h, &w, &c, NULL, GM_ERR_INVALID_ARG },
        { "a missing file", missing, &h, &w, &c, &px, gm_have_png() ? GM_ERR_IO : GM_ERR_UNSUPPORTED },
        { "a text file", text, &h, &w, &c, &px, gm_have_png() ? GM_ERR_FORMAT : GM_ERR_UNSUPPORTED },
        { "a cut PNG", cut, &h, &w, &c, &px, gm_have_png() ? GM_ERR_FORMAT : GM_ERR_UNSUPPORTED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        px = (float *)good_x;
        expect(cases[i].what, gm_image_read(cases[i].path, cases[i].h, cases[i].w, cases[i].c, cases[i].px),
               cases[i].want);
        if (cases[i].px && px)
            broke(cases[i].what, "*pixels is not NULL");
        if (h != -5 || w != -5 || c != -5)
            broke(cases[i].what, "a size was written");
    }
    if (!gm_have_png())
        return;
    expect("the valid call", gm_image_read(png, &h, &w, &c, &px), GM_OK);
    if (h != 2 || w != 3 || c != 3 || !px)
        broke("the valid call", "read %d x %d x %d", (int)h, (int)w, (int)c);
    gm_buffer_free(px);
}

static void check_have_png(const void *arg)
{
    (void)arg;
    if (gm_have_png() != 0 && gm_have_png() != 1)
        broke("the answer", "%d is not 0 or 1", (int)gm_have_png());
}

/* ---- process-wide calls ---- */

static void check_strerror(const void *arg)
{
    (void)arg;
    const char *unknown = gm_strerror((gm_status)999);
    for (int s = GM_OK; s <= GM_ERR_UNSUPPORTED; s++)
        if (!gm_strerror((gm_status)s) || !*gm_strerror((gm_status)s) || gm_strerror((gm_status)s) == unknown)
            broke("a status", "%d has no name of its own", s);
    const int bad[] = { 999, -1, INT32_MIN, INT32_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!gm_strerror((gm_status)bad[i]) || !*gm_strerror((gm_status)bad[i]))
            broke("an unknown status", "%d has no text", bad[i]);
}

/* the message before any failure, the status and message of one: "|1|gm_set_num_threads: ..." */
static void *fresh_thread(void *seen)
{
    char before[64];
    snprintf(before, sizeof before, "%s", gm_last_error() ? gm_last_error() : "(NULL)");
    gm_status s = gm_set_num_threads(0);
    snprintf(seen, 256, "%s|%d|%s", before, (int)s, gm_last_error() ? gm_last_error() : "(NULL)");
    return NULL;
}

static void check_last_error(const void *arg)
{
    (void)arg;
    char seen[256];
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fresh_thread, seen), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (strncmp(seen, "|1|gm_set_num_threads: ", 23) != 0)
        broke("a fresh thread", "before|status|after a failure is \"%s\"", seen);
}

static void check_version(const void *arg)
{
    (void)arg;
    if (gm_version() != GM_VERSION_NUMBER)
        broke("the number", "%d, the header says %d", gm_version(), GM_VERSION_NUMBER);
}

static void check_version_string(const void *arg)
{
    (void)arg;
    if (!gm_version_string() || strcmp(gm_version_string(), GM_VERSION_STRING) != 0)
        broke("the text", "\"%s\", the header says \"%s\"", gm_version_string(), GM_VERSION_STRING);
}

static void check_set_num_threads(const void *arg)
{
    (void)arg;
    const int32_t before = gm_get_num_threads();
    const int32_t bad[] = { 0, -1, INT32_MIN };
    char what[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(what, sizeof what, "n = %d", (int)bad[i]);
        expect(what, gm_set_num_threads(bad[i]), GM_ERR_INVALID_ARG);
        if (gm_get_num_threads() != before)
            broke(what, "the count went from %d to %d", (int)before, (int)gm_get_num_threads());
    }
    expect("n = INT32_MAX (taken as GM_MAX_THREADS)", gm_set_num_threads(INT32_MAX), GM_OK);
    if (gm_get_num_threads() != GM_MAX_THREADS)
        broke("n = INT32_MAX", "the count is %d", (int)gm_get_num_threads());
    assert_int_equal(gm_set_num_threads(before), GM_OK);
}

static void check_get_num_threads(const void *arg)
{
    (void)arg;
    if (gm_get_num_threads() < 1 || gm_get_num_threads() > GM_MAX_THREADS)
        broke("the count", "%d is not in [1, %d]", (int)gm_get_num_threads(), GM_MAX_THREADS);
}

static void check_set_backend(const void *arg)
{
    (void)arg;
    const char *before = gm_backend_name();
    const char *bad[] = { NULL, "", "cublas", "OPENBLAS", "openblas " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect(bad[i] ? bad[i] : "NULL", gm_set_backend(bad[i]), GM_ERR_INVALID_ARG);
        if (strcmp(gm_backend_name(), before) != 0)
            broke(bad[i] ? bad[i] : "NULL", "the backend went from %s to %s", before, gm_backend_name());
    }
    expect("openblas, always built", gm_set_backend("openblas"), GM_OK);
#ifndef GM_HAVE_ONEDNN
    expect("onednn in a build without it", gm_set_backend("onednn"), GM_ERR_UNSUPPORTED);
#endif
    assert_int_equal(gm_set_backend(before), GM_OK);
}

static void check_backend_name(const void *arg)
{
    (void)arg;
    const char *name = gm_backend_name();
    if (!name || (strcmp(name, "openblas") != 0 && strcmp(name, "onednn") != 0))
        broke("the name", "\"%s\" is no backend", name ? name : "(NULL)");
}

static size_t counted;
static void *counting_alloc(void *user, size_t size) { (void)user; counted++; return malloc(size); }
static void counting_free(void *user, void *ptr) { (void)user; free(ptr); }

/* the fixtures hold memory, so even a valid allocator is refused (STATE) */
static void check_set_allocator(const void *arg)
{
    (void)arg;
    const gm_allocator good = { sizeof(gm_allocator), counting_alloc, counting_free, NULL };
    const struct { const char *what; size_t struct_size; int alloc, free; gm_status want; } cases[] = {
        { "struct_size 0", 0, 1, 1, GM_ERR_INVALID_ARG },
        { "struct_size too small", sizeof(gm_allocator) - 1, 1, 1, GM_ERR_INVALID_ARG },
        { "struct_size SIZE_MAX / 2", SIZE_MAX / 2, 1, 1, GM_ERR_INVALID_ARG },
        { "NULL alloc", sizeof(gm_allocator), 0, 1, GM_ERR_INVALID_ARG },
        { "NULL free", sizeof(gm_allocator), 1, 0, GM_ERR_INVALID_ARG },
        { "memory held", sizeof(gm_allocator), 1, 1, GM_ERR_STATE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_allocator a = good;
        a.struct_size = cases[i].struct_size;
        a.alloc = cases[i].alloc ? a.alloc : NULL;
        a.free = cases[i].free ? a.free : NULL;
        expect(cases[i].what, gm_set_allocator(&a), cases[i].want);
        /* the allocator in place is still the one before */
        counted = 0;
        void *buf = NULL;
        size_t size;
        assert_int_equal(gm_vae_save_buffer(fx.h[VAE][0], &buf, &size), GM_OK);
        gm_buffer_free(buf);
        if (counted)
            broke(cases[i].what, "the allocator was replaced");
    }
}

/* the config description: kinds and indices out of range, NULL, garbage struct_size */
static void check_field_count(const void *arg)
{
    (void)arg;
    int32_t count = -7;
    expect("NULL count", gm_config_field_count(GM_MODEL_VAE, NULL), GM_ERR_INVALID_ARG);
    const int32_t kinds[] = { 0, GM_MODEL_SR + 1, -1, INT32_MAX };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        expect("unknown kind", gm_config_field_count(kinds[i], &count), GM_ERR_INVALID_ARG);
        if (count != -7)
            broke("unknown kind", "count written");
    }
}

static void check_field_get(const void *arg)
{
    (void)arg;
    int32_t count;
    assert_int_equal(gm_config_field_count(GM_MODEL_GAN, &count), GM_OK);
    const struct { const char *what; int32_t kind, index; size_t struct_size; } cases[] = {
        { "unknown kind", 0, 0, sizeof(gm_config_field) },
        { "index -1", GM_MODEL_GAN, -1, sizeof(gm_config_field) },
        { "index count", GM_MODEL_GAN, count, sizeof(gm_config_field) },
        { "struct_size 0", GM_MODEL_GAN, 0, 0 },
        { "struct_size too small", GM_MODEL_GAN, 0, sizeof(gm_config_field) - 1 },
        { "struct_size SIZE_MAX / 2", GM_MODEL_GAN, 0, SIZE_MAX / 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        config_buf b;
        memset(&b, SENTINEL, sizeof b);
        memcpy(&b, &cases[i].struct_size, sizeof cases[i].struct_size);
        expect(cases[i].what, gm_config_field_get(cases[i].kind, cases[i].index, (gm_config_field *)&b),
               GM_ERR_INVALID_ARG);
        expect_untouched(cases[i].what, b.bytes + sizeof(size_t), sizeof b - sizeof(size_t), "the struct");
    }
    expect("NULL field", gm_config_field_get(GM_MODEL_VAE, 0, NULL), GM_ERR_INVALID_ARG);
}

/* ---- the table: every public function, and how its contract is checked ---- */

typedef struct row {
    const char *name;
    void (*check)(const void *arg);
    const void *arg;
} row;

static const create_call vae_create_call = { VAE, vae_fields, sizeof vae_fields / sizeof vae_fields[0] };
static const create_call gan_create_call = { GAN, gan_fields, sizeof gan_fields / sizeof gan_fields[0] };
static const create_call sr_create_call = { SR, sr_fields, sizeof sr_fields / sizeof sr_fields[0] };

static const row rows[] = {
    { "gm_buffer_free", check_buffer_free, NULL },
    { "gm_checkpoint_info_init_size", check_init, &info_ops },
    { "gm_config_field_count", check_field_count, NULL },
    { "gm_config_field_get", check_field_get, NULL },
    { "gm_config_field_init_size", check_init, &field_ops },
    { "gm_checkpoint_peek", check_peek, &info_ops },
    { "gm_checkpoint_peek_gan", check_peek, &gan_ops },
    { "gm_checkpoint_peek_sr", check_peek, &sr_ops },
    { "gm_checkpoint_peek_vae", check_peek, &vae_ops },
    { "gm_dataset_channels", check_getter, &(const getter){ gm_dataset_channels, 1 } },
    { "gm_dataset_count", check_getter, &(const getter){ gm_dataset_count, N } },
    { "gm_dataset_dim", check_getter, &(const getter){ gm_dataset_dim, D } },
    { "gm_dataset_free", check_dataset_free, NULL },
    { "gm_dataset_gather", check_gather, NULL },
    { "gm_dataset_has_labels", check_getter, &(const getter){ gm_dataset_has_labels, 1 } },
    { "gm_dataset_height", check_getter, &(const getter){ gm_dataset_height, 2 } },
    { "gm_dataset_image", check_image, NULL },
    { "gm_dataset_image_size", check_image_size, NULL },
    { "gm_dataset_load", check_dataset_load, NULL },
    { "gm_dataset_load_dir", check_dataset_load_dir, NULL },
    { "gm_dataset_n_classes", check_getter, &(const getter){ gm_dataset_n_classes, C } },
    { "gm_dataset_open", check_dataset_open, NULL },
    { "gm_dataset_options_init_size", check_init, &options_ops },
    { "gm_dataset_width", check_getter, &(const getter){ gm_dataset_width, 3 } },
    { "gm_dataset_write", check_dataset_write, NULL },
    { "gm_gan_config_init_size", check_init, &gan_ops },
    { "gm_gan_create", check_create, &gan_create_call },
    { "gm_gan_discriminate", check_data_call, &call_gan_discriminate },
    { "gm_gan_free", check_free, &gan_ops },
    { "gm_gan_generate", check_data_call, &call_gan_generate },
    { "gm_gan_get_config", check_get_config, &gan_ops },
    { "gm_gan_load", check_load, &gan_ops },
    { "gm_gan_load_buffer", check_load_buffer, &gan_ops },
    { "gm_gan_sample", check_data_call, &call_gan_sample },
    { "gm_gan_save", check_save, &gan_ops },
    { "gm_gan_save_buffer", check_save_buffer, &gan_ops },
    { "gm_gan_set_allreduce", check_set_allreduce, &gan_ops },
    { "gm_gan_set_lr", check_set_lr, &gan_ops },
    { "gm_gan_shuffle", check_data_call, &call_gan_shuffle },
    { "gm_gan_step_count", check_step_count, &gan_ops },
    { "gm_gan_train_step", check_data_call, &call_gan_train_step },
    { "gm_get_num_threads", check_get_num_threads, NULL },
    { "gm_have_png", check_have_png, NULL },
    { "gm_idx_write_images", check_image_writer, &idx_call },
    { "gm_image_read", check_image_read, NULL },
    { "gm_image_write", check_image_write, NULL },
    { "gm_image_write_grid", check_image_writer, &grid_call },
    { "gm_image_write_grid_channels", check_image_writer, &grid_channels_call },
    { "gm_last_error", check_last_error, NULL },
    { "gm_set_allocator", check_set_allocator, NULL },
    { "gm_set_num_threads", check_set_num_threads, NULL },
    { "gm_set_backend", check_set_backend, NULL },
    { "gm_sr_config_init_size", check_init, &sr_ops },
    { "gm_sr_create", check_create, &sr_create_call },
    { "gm_sr_evaluate", check_sr_evaluate, NULL },
    { "gm_sr_free", check_free, &sr_ops },
    { "gm_sr_get_config", check_get_config, &sr_ops },
    { "gm_sr_load", check_load, &sr_ops },
    { "gm_sr_load_buffer", check_load_buffer, &sr_ops },
    { "gm_sr_patches", check_sr_call, &call_sr_patches },
    { "gm_sr_save", check_save, &sr_ops },
    { "gm_sr_save_buffer", check_save_buffer, &sr_ops },
    { "gm_sr_set_lr", check_set_lr, &sr_ops },
    { "gm_sr_step_count", check_step_count, &sr_ops },
    { "gm_sr_train_step", check_sr_call, &call_sr_train_step },
    { "gm_sr_upscale", check_sr_call, &call_sr_upscale },
    { "gm_backend_name", check_backend_name, NULL },
    { "gm_strerror", check_strerror, NULL },
    { "gm_vae_anomaly_map", check_data_call, &call_vae_anomaly_map },
    { "gm_vae_calibrate", check_data_call, &call_vae_calibrate },
    { "gm_vae_config_init_size", check_init, &vae_ops },
    { "gm_vae_create", check_create, &vae_create_call },
    { "gm_vae_decode", check_data_call, &call_vae_decode },
    { "gm_vae_elbo", check_data_call, &call_vae_elbo },
    { "gm_vae_encode", check_data_call, &call_vae_encode },
    { "gm_vae_fit_latent", check_data_call, &call_vae_fit_latent },
    { "gm_vae_fit_standardization", check_vae_fit_standardization, NULL },
    { "gm_vae_flag", check_data_call, &call_vae_flag },
    { "gm_vae_free", check_free, &vae_ops },
    { "gm_vae_get_config", check_get_config, &vae_ops },
    { "gm_vae_interpolate", check_data_call, &call_vae_interpolate },
    { "gm_vae_iwae", check_data_call, &call_vae_iwae },
    { "gm_vae_load", check_load, &vae_ops },
    { "gm_vae_load_buffer", check_load_buffer, &vae_ops },
    { "gm_vae_manifold", check_vae_manifold, NULL },
    { "gm_vae_reconstruct", check_data_call, &call_vae_reconstruct },
    { "gm_vae_reparameterize", check_data_call, &call_vae_reparameterize },
    { "gm_vae_sample", check_data_call, &call_vae_sample },
    { "gm_vae_save", check_save, &vae_ops },
    { "gm_vae_save_buffer", check_save_buffer, &vae_ops },
    { "gm_vae_score", check_data_call, &call_vae_score },
    { "gm_vae_score_as", check_data_call, &call_vae_score_as },
    { "gm_vae_set_allreduce", check_set_allreduce, &vae_ops },
    { "gm_vae_set_lr", check_set_lr, &vae_ops },
    { "gm_vae_shuffle", check_data_call, &call_vae_shuffle },
    { "gm_vae_step_count", check_step_count, &vae_ops },
    { "gm_vae_train_step", check_data_call, &call_vae_train_step },
    { "gm_version", check_version, NULL },
    { "gm_version_string", check_version_string, NULL },
};
enum { N_ROWS = sizeof rows / sizeof rows[0] };

static const row *find_row(const char *name)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if (!strcmp(rows[i].name, name))
            return &rows[i];
    return NULL;
}

static void run_row(void **state)
{
    const row *r = &rows[(uintptr_t)*state];
    row_name = r->name;
    failures = 0;
    r->check(r->arg);
    if (failures)
        fail_msg("%s: %d case(s) break the contract (listed above)", r->name, failures);
}

static void no_row(void **state)
{
    fail_msg("%s: a public symbol with no row in the contract table", (const char *)*state);
}

static const char *symbols_path;

/* The table and tests/api/symbols.txt name the same functions, once each. */
static void check_table(void **state)
{
    (void)state;
    FILE *f = fopen(symbols_path, "r");
    assert_non_null(f);
    int bad = 0, seen[N_ROWS] = { 0 };
    char line[256];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        const row *r = find_row(line);
        if (!r) {
            fprintf(stderr, "  %s: a public symbol with no row in the contract table\n", line);
            bad++;
        } else {
            seen[r - rows]++;
        }
    }
    fclose(f);
    for (size_t i = 0; i < N_ROWS; i++)
        if (seen[i] != 1 || find_row(rows[i].name) != &rows[i]) {
            fprintf(stderr, "  %s: a row that names %s\n", rows[i].name,
                    seen[i] ? "a function twice" : "no public symbol");
            bad++;
        }
    if (bad)
        fail_msg("the contract table and %s disagree in %d place(s)", symbols_path, bad);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SYMBOLS [--table | NAME...]\n", argv[0]);
        return 2;
    }
    symbols_path = argv[1];
    const int table_only = argc == 3 && !strcmp(argv[2], "--table");
    struct CMUnitTest tests[N_ROWS + 64];
    size_t n = 0;
    if (argc == 2 || table_only)
        tests[n++] = (struct CMUnitTest){ "the table is the symbol list", check_table, NULL, NULL, NULL };
    for (size_t i = 0; argc == 2 && i < N_ROWS; i++)
        tests[n++] = (struct CMUnitTest){ rows[i].name, run_row, NULL, NULL, (void *)(uintptr_t)i };
    for (int a = 2; !table_only && a < argc && n < sizeof tests / sizeof tests[0]; a++) {
        const row *r = find_row(argv[a]);
        tests[n++] = r ? (struct CMUnitTest){ r->name, run_row, NULL, NULL, (void *)(uintptr_t)(r - rows) }
                       : (struct CMUnitTest){ argv[a], no_row, NULL, NULL, argv[a] };
    }
    return _cmocka_run_group_tests("contract", tests, n, setup, teardown);
}
