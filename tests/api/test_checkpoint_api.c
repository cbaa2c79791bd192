/* Checkpoints through the public API: exact resume for both models,
 * conditional or not, MLP or convolutional with batch normalization; file and buffer round trips; a loader that refuses
 * every truncation and every corrupted header byte; version and kind
 * checks; a golden file that must keep loading; and saves killed mid-way
 * that never leave a broken file under the real name. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "genmodel.h"
#include "gm_test.h"
#include "golden.h"
#include "golden_conv.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must name tests/data"
#endif

enum { D = 6, N = 8 };

/* a conditional model on 6 x 6 images through two convolutions (3 and 4
 * channels, down to 1 x 1) with batch normalization (and spectral
 * normalization in a GAN's D): running statistics and power-iteration
 * vectors are part of what a resume must restore */
enum { CONV = 8, IMAGE = 6, CONV_D = IMAGE * IMAGE };

static void conv_topology(int32_t *channels, int32_t *h, int32_t *w, int32_t *n_conv, int32_t *conv)
{
    *channels = 1;
    *h = *w = IMAGE;
    *n_conv = 2;
    conv[0] = 3;
    conv[1] = 4;
}

static int dim_of(int n_classes) { return n_classes == CONV ? CONV_D : D; }

static gm_vae *tiny_vae(int n_classes)
{
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    cfg.input_dim = dim_of(n_classes);
    cfg.latent_dim = 2;
    cfg.enc_hidden[0] = cfg.dec_hidden[0] = 5;
    cfg.n_classes = n_classes;
    cfg.seed = 3;
    if (n_classes == CONV) {
        conv_topology(&cfg.image_channels, &cfg.image_height, &cfg.image_width, &cfg.n_conv, cfg.conv_channels);
        cfg.normalization = GM_NORM_BATCH;
    }
    gm_vae *vae;
    assert_int_equal(gm_vae_create(&cfg, &vae), GM_OK);
    return vae;
}

static gm_gan *tiny_gan(int n_classes)
{
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    cfg.data_dim = dim_of(n_classes);
    cfg.noise_dim = 3;
    if (n_classes == CONV) {
        conv_topology(&cfg.image_channels, &cfg.image_height, &cfg.image_width, &cfg.n_conv, cfg.conv_channels);
        cfg.gen_norm = GM_NORM_BATCH;
        cfg.disc_norm = GM_NORM_SPECTRAL;  /* its u and v vectors resume too */
        cfg.loss = GM_GAN_HINGE;
    }
    cfg.gen_hidden[0] = cfg.gen_hidden[1] = cfg.disc_hidden[0] = cfg.disc_hidden[1] = 5;
    cfg.n_classes = n_classes;
    cfg.ema_decay = 0.9f;
    cfg.instance_noise = 0.05f;
    cfg.noise_anneal_steps = 10;
    cfg.n_critic = 2;
    gm_gan *gan;
    assert_int_equal(gm_gan_create(&cfg, &gan), GM_OK);
    return gan;
}

static const int32_t labels[N] = { 0, 1, 2, 0, 1, 2, 0, 1 };

static void vae_steps(gm_vae *vae, int from, int count, int classes, double *losses)
{
    float x[N * CONV_D];
    for (int i = from; i < from + count; i++) {
        gm_test_fill(x, N * dim_of(classes), 0.0f, 1.0f, (uint32_t)i);
        gm_vae_losses l;
        assert_int_equal(gm_vae_train_step(vae, x, classes ? labels : NULL, N, &l), GM_OK);
        losses[i - from] = l.loss;
    }
}

static void gan_steps(gm_gan *gan, int from, int count, int classes, double *losses)
{
    float x[N * CONV_D];
    for (int i = from; i < from + count; i++) {
        gm_test_fill(x, N * dim_of(classes), 0.0f, 1.0f, (uint32_t)i);
        gm_gan_losses l;
        assert_int_equal(gm_gan_train_step(gan, x, classes ? labels : NULL, N, &l), GM_OK);
        losses[i - from] = l.d_loss + l.g_loss;
    }
}

/* K steps, save, load, M more: the same as K + M uninterrupted, to the bit,
 * judged by losses, samples and the bytes of a second save */
static void check_vae_resume(int classes)
{
    enum { K = 3, M = 4 };
    gm_vae *straight = tiny_vae(classes), *first = tiny_vae(classes), *resumed;
    double a[K + M], b[K + M];
    vae_steps(straight, 0, K + M, classes, a);
    vae_steps(first, 0, K, classes, b);
    void *buf;
    size_t size;
    assert_int_equal(gm_vae_save_buffer(first, &buf, &size), GM_OK);
    gm_vae_free(first);
    assert_int_equal(gm_vae_load_buffer(buf, size, &resumed), GM_OK);
    gm_buffer_free(buf);
    assert_int_equal(gm_vae_step_count(resumed), K);
    vae_steps(resumed, K, M, classes, b + K);
    assert_memory_equal(a, b, sizeof a);

    void *s1, *s2;
    size_t n1, n2;
    assert_int_equal(gm_vae_save_buffer(straight, &s1, &n1), GM_OK);
    assert_int_equal(gm_vae_save_buffer(resumed, &s2, &n2), GM_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(s1, s2, n1);
    gm_buffer_free(s1);
    gm_buffer_free(s2);
    gm_vae_free(straight);
    gm_vae_free(resumed);
}

static void check_gan_resume(int classes)
{
    enum { K = 3, M = 4 };
    gm_gan *straight = tiny_gan(classes), *first = tiny_gan(classes), *resumed;
    double a[K + M], b[K + M];
    gan_steps(straight, 0, K + M, classes, a);
    gan_steps(first, 0, K, classes, b);
    void *buf;
    size_t size;
    assert_int_equal(gm_gan_save_buffer(first, &buf, &size), GM_OK);
    gm_gan_free(first);
    assert_int_equal(gm_gan_load_buffer(buf, size, &resumed), GM_OK);
    gm_buffer_free(buf);
    gan_steps(resumed, K, M, classes, b + K);
    assert_memory_equal(a, b, sizeof a);

    void *s1, *s2;
    size_t n1, n2;
    assert_int_equal(gm_gan_save_buffer(straight, &s1, &n1), GM_OK);
    assert_int_equal(gm_gan_save_buffer(resumed, &s2, &n2), GM_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(s1, s2, n1);
    gm_buffer_free(s1);
    gm_buffer_free(s2);
    gm_gan_free(straight);
    gm_gan_free(resumed);
}

static void test_vae_resume(void **s) { (void)s; check_vae_resume(0); }
static void test_cvae_resume(void **s) { (void)s; check_vae_resume(3); }
static void test_conv_vae_resume(void **s) { (void)s; check_vae_resume(CONV); }
static void test_gan_resume(void **s) { (void)s; check_gan_resume(0); }
static void test_cgan_resume(void **s) { (void)s; check_gan_resume(3); }
static void test_conv_gan_resume(void **s) { (void)s; check_gan_resume(CONV); }

/* gm_last_error() begins "who: " and names nothing inside the library */
static void assert_names_only(const char *who)
{
    static const char *const internal[] = { "safetensors:", "json:", "gm_st_", "gm_io_" };
    const char *msg = gm_last_error();
    if (strncmp(msg, who, strlen(who)) || strncmp(msg + strlen(who), ": ", 2))
        fail_msg("'%s' should begin '%s: '", msg, who);
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++)
        if (strstr(msg, internal[i]))
            fail_msg("'%s' names '%s', inside the library", msg, internal[i]);
}

/* ---- files, peeking, kinds and versions ---- */

static int make_tmp_dir(void **state)
{
    (void)state;
    return gm_test_dir_make();
}

static int remove_tmp_dir(void **state)
{
    (void)state;
    return gm_test_dir_remove();
}

static void test_file_round_trip_and_peek(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", gm_test_path("model.safetensors"));
    gm_vae *vae = tiny_vae(3), *back;
    double losses[2];
    vae_steps(vae, 0, 2, 1, losses);
    assert_int_equal(gm_vae_save(vae, path), GM_OK);

    gm_checkpoint_info info;
    gm_checkpoint_info_init(&info);
    assert_int_equal(gm_checkpoint_peek(path, &info), GM_OK);
    assert_int_equal(info.kind, GM_MODEL_VAE);
    assert_int_equal(info.format_version, GM_CHECKPOINT_FORMAT_VERSION);
    assert_int_equal(info.step, 2);
    gm_vae_config want, got;
    gm_vae_config_init(&want);
    gm_vae_config_init(&got);
    assert_int_equal(gm_vae_get_config(vae, &want), GM_OK);
    assert_int_equal(gm_checkpoint_peek_vae(path, &got), GM_OK);
    assert_memory_equal(&want, &got, sizeof want);
    gm_gan_config gan_cfg;
    gm_gan_config_init(&gan_cfg);
    assert_int_equal(gm_checkpoint_peek_gan(path, &gan_cfg), GM_ERR_MISMATCH);

    assert_int_equal(gm_vae_load(path, &back), GM_OK);
    float a[N * D], b[N * D];
    assert_int_equal(gm_vae_sample(vae, labels, N, a), GM_OK);
    assert_int_equal(gm_vae_sample(back, labels, N, b), GM_OK);
    assert_memory_equal(a, b, sizeof a);  /* weights and random state both came back */
    gm_vae_free(back);

    gm_gan *gan = (gm_gan *)path;
    assert_int_equal(gm_gan_load(path, &gan), GM_ERR_MISMATCH);
    assert_null(gan);
    snprintf(path, sizeof path, "%s", gm_test_path("missing.safetensors"));
    assert_int_equal(gm_vae_load(path, &back), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), "missing.safetensors"));
    assert_names_only("gm_vae_load");
    gm_checkpoint_info info2;
    gm_checkpoint_info_init(&info2);
    assert_int_equal(gm_checkpoint_peek(gm_test_dir(), &info2), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(EISDIR)));
    assert_names_only("gm_checkpoint_peek");
    snprintf(path, sizeof path, "%s", gm_test_path("no/such/dir.safetensors"));
    assert_int_equal(gm_vae_save(vae, path), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(ENOENT)));
    assert_names_only("gm_vae_save");
    assert_int_equal(gm_vae_load(NULL, &back), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_vae_save(NULL, path), GM_ERR_INVALID_ARG);
    gm_vae_free(vae);
}

/* the offset where text first occurs in buf */
static size_t find(const uint8_t *buf, size_t size, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= size; i++)
        if (!memcmp(buf + i, text, n))
            return i;
    fail_msg("'%s' not found", text);
    return 0;  /* not reached: fail_msg jumps out, which GCC cannot see */
}

/* Recompute the header's checksum as a writer would
 * (docs/checkpoint-format.md). */
static void seal_header(uint8_t *buf, size_t size)
{
    uint64_t n;
    memcpy(&n, buf, sizeof n);
    uint8_t *hex = buf + find(buf, size, "\"gm.crc32.header\":\"") + strlen("\"gm.crc32.header\":\"");
    memcpy(hex, "00000000", 8);
    char sealed[9];
    snprintf(sealed, sizeof sealed, "%08lx", crc32(0, buf, (uInt)(8 + n)) & 0xFFFFFFFFul);
    memcpy(hex, sealed, 8);
}

/* Replace from by to (same length) in the header, then seal it again: a
 * deliberate edit, which only the meaning of the new value can make the
 * loader refuse. */
static void edit_header(uint8_t *buf, size_t size, const char *from, const char *to)
{
    assert_int_equal(strlen(from), strlen(to));
    memcpy(buf + find(buf, size, from), to, strlen(to));
    seal_header(buf, size);
}

/* The same edit, of any lengths, into a malloc'd copy (*size its bytes),
 * not sealed: the header's length N changes with it, the data stay as
 * they were. */
static uint8_t *spliced(const uint8_t *buf, size_t *size, const char *from, const char *to)
{
    uint64_t n;
    memcpy(&n, buf, sizeof n);
    size_t k = strlen(from), m = strlen(to), at = find(buf, 8 + n, from);
    uint8_t *out = malloc(*size - k + m);
    assert_non_null(out);
    memcpy(out, buf, at);
    memcpy(out + at, to, m);
    memcpy(out + at + m, buf + at + k, *size - at - k);
    *size = *size - k + m;
    n = n - k + m;
    memcpy(out, &n, sizeof n);
    return out;
}

/* Recompute the data's checksum, after an edit of the data. */
static void seal_data(uint8_t *buf, size_t size)
{
    uint64_t n;
    memcpy(&n, buf, sizeof n);
    uint8_t *hex = buf + find(buf, 8 + n, "\"gm.crc32.data\":\"") + strlen("\"gm.crc32.data\":\"");
    char sealed[9];
    snprintf(sealed, sizeof sealed, "%08lx", crc32(0, buf + 8 + n, (uInt)(size - 8 - n)) & 0xFFFFFFFFul);
    memcpy(hex, sealed, 8);
    seal_header(buf, size);
}

/* spliced, then sealed */
static uint8_t *edited(const uint8_t *buf, size_t *size, const char *from, const char *to)
{
    uint8_t *out = spliced(buf, size, from, to);
    seal_header(out, *size);
    return out;
}

static uint8_t *read_golden(const char *name, size_t *size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(1 << 16);
    assert_non_null(buf);
    *size = fread(buf, 1, 1 << 16, f);
    assert_true(*size > 0 && *size < (1 << 16));
    fclose(f);
    return buf;
}

static void test_versions_and_kinds(void **state)
{
    (void)state;
    gm_gan *gan = tiny_gan(0);
    void *buf;
    size_t size;
    assert_int_equal(gm_gan_save_buffer(gan, &buf, &size), GM_OK);
    gm_vae *vae;
    assert_int_equal(gm_vae_load_buffer(buf, size, &vae), GM_ERR_MISMATCH);
    edit_header(buf, size, "\"gm.format_version\":\"1\"", "\"gm.format_version\":\"2\"");
    gm_gan *back;
    assert_int_equal(gm_gan_load_buffer(buf, size, &back), GM_ERR_VERSION);
    assert_non_null(strstr(gm_last_error(), "newer"));
    edit_header(buf, size, "\"gm.format_version\":\"2\"", "\"gm.format_version\":\"x\"");
    assert_int_equal(gm_gan_load_buffer(buf, size, &back), GM_ERR_FORMAT);
    gm_buffer_free(buf);
    gm_gan_free(gan);
}

/* The upscaler, a third kind: its file is told from the others', and
 * holds its config, which peeking returns as it was. */
static void test_the_upscaler_is_a_kind(void **state)
{
    (void)state;
    gm_sr_config cfg, got;
    gm_sr_config_init(&cfg);
    cfg.n_body = 1;
    cfg.body_channels[0] = 4;
    cfg.patch = 3;
    cfg.seed = 7;
    gm_sr *sr;
    assert_int_equal(gm_sr_create(&cfg, &sr), GM_OK);
    char path[512];
    snprintf(path, sizeof path, "%s", gm_test_path("sr.safetensors"));
    assert_int_equal(gm_sr_save(sr, path), GM_OK);
    gm_checkpoint_info info;
    gm_checkpoint_info_init(&info);
    assert_int_equal(gm_checkpoint_peek(path, &info), GM_OK);
    assert_int_equal(info.kind, GM_MODEL_SR);
    assert_int_equal(info.step, 0);
    gm_sr_config_init(&got);
    assert_int_equal(gm_checkpoint_peek_sr(path, &got), GM_OK);
    assert_int_equal(gm_sr_get_config(sr, &cfg), GM_OK);
    assert_memory_equal(&cfg, &got, sizeof cfg);
    gm_vae_config vae_cfg;
    gm_vae_config_init(&vae_cfg);
    assert_int_equal(gm_checkpoint_peek_vae(path, &vae_cfg), GM_ERR_MISMATCH);
    void *buf;
    size_t size;
    assert_int_equal(gm_sr_save_buffer(sr, &buf, &size), GM_OK);
    gm_vae *vae = (gm_vae *)buf;
    gm_gan *gan = (gm_gan *)buf;
    assert_int_equal(gm_vae_load_buffer(buf, size, &vae), GM_ERR_MISMATCH);
    assert_null(vae);
    assert_int_equal(gm_gan_load_buffer(buf, size, &gan), GM_ERR_MISMATCH);
    assert_null(gan);
    gm_sr *back;
    assert_int_equal(gm_sr_load_buffer(buf, size, &back), GM_OK);
    gm_sr_free(back);
    gm_buffer_free(buf);
    gm_sr_free(sr);
    /* and the others' files are not an upscaler's */
    gm_gan *other = tiny_gan(0);
    assert_int_equal(gm_gan_save_buffer(other, &buf, &size), GM_OK);
    back = (gm_sr *)buf;
    assert_int_equal(gm_sr_load_buffer(buf, size, &back), GM_ERR_MISMATCH);
    assert_null(back);
    gm_buffer_free(buf);
    gm_gan_free(other);
}

/* ---- arguments: what the header promises, in the caller's terms ---- */

/* st is GM_ERR_INVALID_ARG and gm_last_error() is "who: <detail>" */
static void expect_invalid(gm_status st, const char *who, const char *detail)
{
    assert_int_equal(st, GM_ERR_INVALID_ARG);
    const char *msg = gm_last_error();
    if (strncmp(msg, who, strlen(who)) || strncmp(msg + strlen(who), ": ", 2) || !strstr(msg, detail))
        fail_msg("'%s' should be '%s: ...%s...'", msg, who, detail);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    gm_vae *vae = tiny_vae(0);
    gm_gan *gan = tiny_gan(0);
    void *vbuf, *gbuf;
    size_t vsize, gsize;
    assert_int_equal(gm_vae_save_buffer(vae, &vbuf, &vsize), GM_OK);
    assert_int_equal(gm_gan_save_buffer(gan, &gbuf, &gsize), GM_OK);

    /* an empty buffer or none at all, whatever the other argument says */
    gm_vae *vout = (gm_vae *)vbuf;
    gm_gan *gout = (gm_gan *)gbuf;
    expect_invalid(gm_vae_load_buffer(vbuf, 0, &vout), "gm_vae_load_buffer", "size is 0");
    assert_null(vout);
    expect_invalid(gm_gan_load_buffer(gbuf, 0, &gout), "gm_gan_load_buffer", "size is 0");
    assert_null(gout);
    vout = (gm_vae *)vbuf;
    gout = (gm_gan *)gbuf;
    expect_invalid(gm_vae_load_buffer(NULL, vsize, &vout), "gm_vae_load_buffer", "buf is NULL");
    assert_null(vout);
    expect_invalid(gm_gan_load_buffer(NULL, gsize, &gout), "gm_gan_load_buffer", "buf is NULL");
    assert_null(gout);
    expect_invalid(gm_vae_load_buffer(NULL, 0, &vout), "gm_vae_load_buffer", "buf is NULL");
    expect_invalid(gm_vae_load_buffer(vbuf, vsize, NULL), "gm_vae_load_buffer", "out is NULL");
    expect_invalid(gm_gan_load_buffer(gbuf, gsize, NULL), "gm_gan_load_buffer", "out is NULL");
    void *none = &none;
    size_t none_size;
    expect_invalid(gm_vae_save_buffer(NULL, &none, &none_size), "gm_vae_save_buffer", "NULL");
    expect_invalid(gm_gan_save_buffer(gan, NULL, &none_size), "gm_gan_save_buffer", "NULL");
    expect_invalid(gm_gan_save_buffer(gan, &none, NULL), "gm_gan_save_buffer", "NULL");
    expect_invalid(gm_gan_save(NULL, "x.safetensors"), "gm_gan_save", "gan is NULL");
    expect_invalid(gm_vae_save(NULL, "x.safetensors"), "gm_vae_save", "vae is NULL");

    /* an empty path names no file: refused before the file system is asked */
    expect_invalid(gm_vae_save(vae, ""), "gm_vae_save", "path is empty");
    expect_invalid(gm_gan_save(gan, ""), "gm_gan_save", "path is empty");
    expect_invalid(gm_vae_save(vae, NULL), "gm_vae_save", "path is NULL");
    /* a bad path with no out: the path is what is named */
    expect_invalid(gm_vae_load("", NULL), "gm_vae_load", "path is empty");
    expect_invalid(gm_gan_load(NULL, NULL), "gm_gan_load", "path is NULL");
    gout = (gm_gan *)gbuf;
    expect_invalid(gm_gan_load(NULL, &gout), "gm_gan_load", "path is NULL");
    assert_null(gout);
    vout = (gm_vae *)vbuf;
    expect_invalid(gm_vae_load("", &vout), "gm_vae_load", "path is empty");
    assert_null(vout);
    gout = (gm_gan *)gbuf;
    expect_invalid(gm_gan_load("", &gout), "gm_gan_load", "path is empty");
    assert_null(gout);
    gm_checkpoint_info info;
    gm_checkpoint_info_init(&info);
    gm_vae_config vcfg;
    gm_vae_config_init(&vcfg);
    gm_gan_config gcfg;
    gm_gan_config_init(&gcfg);
    expect_invalid(gm_checkpoint_peek("", &info), "gm_checkpoint_peek", "path is empty");
    expect_invalid(gm_checkpoint_peek_vae("", &vcfg), "gm_checkpoint_peek_vae", "path is empty");
    expect_invalid(gm_checkpoint_peek_gan("", &gcfg), "gm_checkpoint_peek_gan", "path is empty");
    expect_invalid(gm_checkpoint_peek(NULL, &info), "gm_checkpoint_peek", "path is NULL");
    expect_invalid(gm_checkpoint_peek_vae(NULL, &vcfg), "gm_checkpoint_peek_vae", "path is NULL");
    expect_invalid(gm_checkpoint_peek_gan(NULL, &gcfg), "gm_checkpoint_peek_gan", "path is NULL");
    const char *golden = GOLDEN_DIR "/gan-v1.safetensors";
    expect_invalid(gm_checkpoint_peek(golden, NULL), "gm_checkpoint_peek", "info is NULL");
    expect_invalid(gm_checkpoint_peek_gan(golden, NULL), "gm_checkpoint_peek_gan", "cfg is NULL");
    expect_invalid(gm_checkpoint_peek_vae(GOLDEN_DIR "/vae-v1.safetensors", NULL), "gm_checkpoint_peek_vae",
                   "cfg is NULL");

    gm_buffer_free(vbuf);
    gm_buffer_free(gbuf);
    gm_vae_free(vae);
    gm_gan_free(gan);
}

/* What docs/checkpoint-format.md says the reader needs of the header's
 * JSON: whitespace between tokens is fine, anywhere but around the header
 * checksum's colon, before the '{' and (other than spaces) after the '}'. */
static void test_header_whitespace(void **state)
{
    (void)state;
    size_t golden_size, size;
    uint8_t *golden = read_golden("vae-v1.safetensors", &golden_size);
    uint8_t *a, *b;
    gm_vae *vae;
    size = golden_size;
    a = spliced(golden, &size, "{\"__metadata__\":{\"gm.config.activation\":\"1\",",
                "{\n\t\"__metadata__\" : {\r\n  \"gm.config.activation\"\t:\t\"1\" ,\n");
    b = edited(a, &size, "\"dec.0.bias\":{\"dtype\":\"F32\",", "\"dec.0.bias\" : { \"dtype\" : \"F32\" , ");
    assert_int_equal(gm_vae_load_buffer(b, size, &vae), GM_OK);
    gm_vae_free(vae);
    free(a);
    free(b);

    /* the checksum's own member cannot be found, so no CRC could seal it */
    const char *breaks[][2] = {
        { "\"gm.crc32.header\":\"", "\"gm.crc32.header\" :\"" },
        { "\"gm.crc32.header\":\"", "\"gm.crc32.header\": \"" },
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        size = golden_size;
        a = spliced(golden, &size, breaks[i][0], breaks[i][1]);
        assert_int_equal(gm_vae_load_buffer(a, size, &vae), GM_ERR_FORMAT);
        assert_non_null(strstr(gm_last_error(), "not where the writer puts it"));
        free(a);
    }
    size = golden_size;
    a = edited(golden, &size, "{\"__metadata__\"", " {\"__metadata__\"");
    assert_int_equal(gm_vae_load_buffer(a, size, &vae), GM_ERR_FORMAT);
    assert_non_null(strstr(gm_last_error(), "does not start with '{'"));
    free(a);
    /* a newline after the '}': only spaces may pad the header */
    size = golden_size;
    a = malloc(size);
    memcpy(a, golden, size);
    uint64_t n;
    memcpy(&n, a, sizeof n);
    assert_int_equal(a[8 + n - 1], ' ');
    a[8 + n - 1] = '\n';
    seal_header(a, size);
    assert_int_equal(gm_vae_load_buffer(a, size, &vae), GM_ERR_FORMAT);
    assert_non_null(strstr(gm_last_error(), "does not end with '}' and spaces"));
    a[8 + n - 1] = ' ';
    seal_header(a, size);
    assert_int_equal(gm_vae_load_buffer(a, size, &vae), GM_OK);
    gm_vae_free(vae);
    free(a);
    free(golden);
}

/* ---- a loader that trusts nothing ---- */

/* A stored config is held to what create accepts, at peek and at load
 * alike: a file sealed around a bad enum or range is GM_ERR_FORMAT from
 * every reader, naming the field, and hands out nothing. */
typedef struct {
    const char *key, *from, *to, *field;
} bad_field;

static const bad_field bad_gan[] = {
    { "loss", "0", "99", "loss" },
    { "loss", "0", "-1", "loss" },
    { "gen_output", "5", "0", "gen_output" },
    { "activation", "2", "6", "activation" },
    { "data_dim", "6", "0", "data_dim" },
    { "n_gen_hidden", "2", "5", "n_gen_hidden" },
    { "gen_hidden[1]", "5", "0", "gen_hidden[1]" },
    { "disc_hidden[0]", "5", "-3", "disc_hidden[0]" },
    { "leaky_slope", "0.200000003", "1", "leaky_slope" },
    { "n_critic", "1", "0", "n_critic" },
    { "gp_weight", "10", "-1", "gp_weight" },
    { "label_smoothing", "0", "0.5", "label_smoothing" },
    { "instance_noise", "0", "-1", "instance_noise" },
    { "noise_anneal_steps", "0", "-1", "noise_anneal_steps" },
    { "ema_decay", "0.899999976", "1", "ema_decay" },
    { "n_classes", "0", "65537", "n_classes" },
    { "gen_optim.kind", "0", "2", "gen_optim" },
    { "disc_optim.lr", "0.000199999995", "0", "disc_optim" },
};

static const bad_field bad_vae[] = {
    { "likelihood", "0", "99", "likelihood" },
    { "activation", "1", "-1", "activation" },
    { "latent_dim", "2", "0", "latent_dim" },
    { "n_enc_hidden", "1", "5", "n_enc_hidden" },
    { "dec_hidden[0]", "5", "0", "dec_hidden[0]" },
    { "leaky_slope", "0.00999999978", "1", "leaky_slope" },
    { "beta", "1", "-1", "beta" },
    { "n_classes", "3", "-1", "n_classes" },
    { "optim.kind", "0", "7", "optimizer kind" },
    { "optim.beta1", "0.899999976", "1", "betas" },
};

/* gm_last_error() is "who: ..." and names the field */
static void assert_blames(const char *who, const char *field)
{
    const char *msg = gm_last_error();
    if (strncmp(msg, who, strlen(who)) || msg[strlen(who)] != ':' || !strstr(msg, field))
        fail_msg("'%s' should begin '%s:' and name '%s'", msg, who, field);
}

static uint8_t *with_bad_field(const uint8_t *golden, size_t *size, const bad_field *b)
{
    char from[96], to[96];
    snprintf(from, sizeof from, "\"gm.config.%s\":\"%s\"", b->key, b->from);
    snprintf(to, sizeof to, "\"gm.config.%s\":\"%s\"", b->key, b->to);
    return edited(golden, size, from, to);
}

/* Each reader of one kind, on a bad file: its status, with *out NULL or
 * the caller's config as it was; and a load from memory then a save of
 * what came back, whose failure names the call that failed. The two kinds'
 * calls differ only in their names, so they are written once. */
static int not_null;

#define KIND_READERS(kind)                                                                         \
    static gm_status kind##_from_buffer(const uint8_t *buf, size_t size)                          \
    {                                                                                              \
        gm_##kind *m = (gm_##kind *)&not_null;                                                     \
        gm_status s = gm_##kind##_load_buffer(buf, size, &m);                                      \
        assert_null(m);                                                                            \
        return s;                                                                                  \
    }                                                                                              \
    static gm_status kind##_from_file(const char *path)                                            \
    {                                                                                              \
        gm_##kind *m = (gm_##kind *)&not_null;                                                     \
        gm_status s = gm_##kind##_load(path, &m);                                                  \
        assert_null(m);                                                                            \
        return s;                                                                                  \
    }                                                                                              \
    static gm_status kind##_peek(const char *path)                                                 \
    {                                                                                              \
        gm_##kind##_config cfg, before;                                                            \
        gm_##kind##_config_init(&cfg);                                                             \
        before = cfg;                                                                              \
        gm_status s = gm_checkpoint_peek_##kind(path, &cfg);                                       \
        assert_memory_equal(&cfg, &before, sizeof cfg);                                            \
        return s;                                                                                  \
    }                                                                                              \
    static gm_status kind##_round_trip(const void *buf, size_t size)                               \
    {                                                                                              \
        gm_##kind *back = NULL;                                                                    \
        void *again = NULL;                                                                        \
        size_t again_size;                                                                         \
        gm_status s = gm_##kind##_load_buffer(buf, size, &back);                                   \
        if (s != GM_OK)                                                                            \
            assert_names_only("gm_" #kind "_load_buffer");                                         \
        else if ((s = gm_##kind##_save_buffer(back, &again, &again_size)) != GM_OK)                \
            assert_names_only("gm_" #kind "_save_buffer");                                         \
        gm_buffer_free(again);                                                                     \
        gm_##kind##_free(back);                                                                    \
        return s;                                                                                  \
    }

KIND_READERS(vae)
KIND_READERS(gan)

static gm_status any_peek(const char *path)
{
    gm_checkpoint_info info;
    gm_checkpoint_info_init(&info);
    gm_status s = gm_checkpoint_peek(path, &info);
    assert_int_equal(info.kind, 0);
    return s;
}

typedef struct {
    const char *golden;
    const bad_field *bad;
    size_t n_bad;
    gm_status (*from_buffer)(const uint8_t *buf, size_t size);
    gm_status (*from_file)(const char *path);
    gm_status (*peek)(const char *path);
    const char *who[3];   /* of the three */
} kind_readers;

static void test_stored_config_is_checked(void **state)
{
    (void)state;
    static const kind_readers kinds[] = {
        { "gan-v1.safetensors", bad_gan, sizeof bad_gan / sizeof bad_gan[0], gan_from_buffer, gan_from_file,
          gan_peek, { "gm_gan_load_buffer", "gm_gan_load", "gm_checkpoint_peek_gan" } },
        { "vae-v1.safetensors", bad_vae, sizeof bad_vae / sizeof bad_vae[0], vae_from_buffer, vae_from_file,
          vae_peek, { "gm_vae_load_buffer", "gm_vae_load", "gm_checkpoint_peek_vae" } },
    };
    char path[512];
    snprintf(path, sizeof path, "%s", gm_test_path("bad.safetensors"));
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const kind_readers *r = &kinds[k];
        size_t golden_size;
        uint8_t *golden = read_golden(r->golden, &golden_size);
        for (size_t i = 0; i < r->n_bad; i++) {
            size_t size = golden_size;
            uint8_t *buf = with_bad_field(golden, &size, &r->bad[i]);
            assert_int_equal(r->from_buffer(buf, size), GM_ERR_FORMAT);
            assert_blames(r->who[0], r->bad[i].field);
            gm_test_write_file(path, buf, size);
            assert_int_equal(r->from_file(path), GM_ERR_FORMAT);
            assert_blames(r->who[1], r->bad[i].field);
            assert_int_equal(r->peek(path), GM_ERR_FORMAT);
            assert_blames(r->who[2], r->bad[i].field);
            assert_int_equal(any_peek(path), GM_ERR_FORMAT);
            assert_blames("gm_checkpoint_peek", r->bad[i].field);
            free(buf);
        }
        free(golden);
    }
}

/* Every other way a sealed file can be wrong, each refused by the loader
 * with GM_ERR_FORMAT and a message that says which */
static void test_every_refusal(void **state)
{
    (void)state;
    static const struct {
        const char *golden, *from, *to, *why;
    } cases[] = {
        { "vae", "\"gm.format\":\"libgenmodel\"", "\"gm.format\":\"libgenmodeX\"", "not a libgenmodel checkpoint" },
        { "vae", "\"gm.model\":\"vae\"", "\"gm.model\":\"vaX\"", "unknown model kind 'vaX'" },
        { "vae", "\"gm.format\":", "\"gm.formaX\":", "gm.format is missing" },
        { "vae", "\"gm.model\":", "\"gm.modeX\":", "unknown model kind '(missing)'" },
        { "vae", "\"gm.config.beta\":\"1\"", "\"gm.config.beta\":\"1x\"", "'gm.config.beta' is not a valid value" },
        { "vae", "\"gm.config.beta\":\"1\"", "\"gm.config.beta\":\"\"", "'gm.config.beta' is not a valid value" },
        { "vae", "\"gm.config.beta\":\"1\"", "\"gm.config.beta\":\"1e999\"", "'gm.config.beta' is not a valid value" },
        { "vae", "\"gm.config.beta\":\"1\"", "\"gm.config.beta\":\"nan\"", "'gm.config.beta' is not a valid value" },
        { "vae", "\"gm.config.latent_dim\":\"2\"", "\"gm.config.latent_dim\":\"2.0\"",
          "'gm.config.latent_dim' is not a valid value" },
        { "vae", "\"gm.config.latent_dim\":\"2\"", "\"gm.config.latent_dim\":\"\"",
          "'gm.config.latent_dim' is not a valid value" },
        { "vae", "\"gm.config.latent_dim\":\"2\"", "\"gm.config.latent_dim\":\"2147483648\"",
          "'gm.config.latent_dim' is not a valid value" },
        { "vae", "\"gm.config.latent_dim\":\"2\"", "\"gm.config.latent_dim\":\"-2147483649\"",
          "'gm.config.latent_dim' is not a valid value" },
        { "vae", "\"gm.config.latent_dim\":\"2\"", "\"gm.config.latent_dim\":\"99999999999999999999\"",
          "'gm.config.latent_dim' is not a valid value" },
        { "vae", "\"gm.config.seed\":\"3\"", "\"gm.config.seed\":\"-3\"", "'gm.config.seed' is not a valid value" },
        { "vae", "\"gm.config.seed\":\"3\"", "\"gm.config.seed\":\"3 \"", "'gm.config.seed' is not a valid value" },
        { "vae", "\"gm.config.seed\":\"3\"", "\"gm.config.seed\":\"x3\"", "'gm.config.seed' is not a valid value" },
        { "vae", "\"gm.config.seed\":\"3\"", "\"gm.config.seed\":\"18446744073709551616\"",
          "'gm.config.seed' is not a valid value" },
        { "vae", "\"gm.config.beta\":", "\"gm.config.betX\":", "'gm.config.beta' is missing" },
        { "vae", "\"gm.step\":\"2\"", "\"gm.step\":\"-1\"", "'gm.step' is not a valid number" },
        { "vae", "\"gm.step\":\"2\"", "\"gm.step\":\"\"", "'gm.step' is not a valid number" },
        { "vae", "\"gm.step\":\"2\"", "\"gm.step\":\"2x\"", "'gm.step' is not a valid number" },
        { "vae", "\"gm.step\":\"2\"", "\"gm.step\":\"99999999999999999999\"", "'gm.step' is not a valid number" },
        { "vae", "\"gm.step\":", "\"gm.steX\":", "'gm.step' is missing" },
        { "gan", "\"gm.step.disc\":\"2\"", "\"gm.step.disc\":\"two\"", "'gm.step.disc' is not a valid number" },
        { "vae", "\"gm.rng\":\"philox4x32-10\"", "\"gm.rng\":\"philox4x32-11\"", "unknown random generator" },
        { "vae", "\"gm.rng\":", "\"gm.rnX\":", "unknown random generator '(missing)'" },
        { "vae", "\"gm.rng.seed\":\"3\"", "\"gm.rng.seed\":\"-3\"", "'gm.rng.seed' is not a valid number" },
        { "vae", "\"gm.rng.seed\":", "\"gm.rng.seeX\":", "'gm.rng.seed' is missing" },
        { "gan", "\"gm.rng.counter\":\"59\"", "\"gm.rng.counter\":\"\"", "'gm.rng.counter' is not a valid number" },
        { "vae", "\"dec.0.bias\":{", "\"dec.0.biaX\":{", "tensor 'dec.0.bias' is missing" },
        { "vae", "\"dec.0.bias\":{\"dtype\":\"F32\",\"shape\":[5]", "\"dec.0.bias\":{\"dtype\":\"F32\",\"shape\":[1,5]",
          "tensor 'dec.0.bias' has shape [1,5], expected [5]" },
        { "vae", "\"enc.1.weight\":{\"dtype\":\"F32\",\"shape\":[4,5]", "\"enc.1.weight\":{\"dtype\":\"F32\",\"shape\":[5,4]",
          "tensor 'enc.1.weight' has shape [5,4], expected [4,5]" },
        { "gan", "\"disc.0.bias\":{", "\"extra\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"disc.0.bias\":{",
          "the file has 43 tensors, the model 42" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s-v1.safetensors", cases[i].golden);
        size_t size;
        uint8_t *golden = read_golden(name, &size);
        uint8_t *buf = edited(golden, &size, cases[i].from, cases[i].to);
        gm_status s = cases[i].golden[0] == 'v' ? vae_from_buffer(buf, size) : gan_from_buffer(buf, size);
        if (s != GM_ERR_FORMAT || !strstr(gm_last_error(), cases[i].why))
            fail_msg("case %zu: status %d, '%s': should be %d, saying '%s'", i, s, gm_last_error(), GM_ERR_FORMAT,
                     cases[i].why);
        assert_names_only(cases[i].golden[0] == 'v' ? "gm_vae_load_buffer" : "gm_gan_load_buffer");
        free(buf);
        free(golden);
    }

    /* a weight that is NaN, sealed in */
    size_t size;
    uint8_t *buf = read_golden("vae-v1.safetensors", &size);
    uint64_t n;
    memcpy(&n, buf, sizeof n);
    const float nan = NAN;
    memcpy(buf + 8 + n + 4, &nan, sizeof nan);
    seal_data(buf, size);
    assert_int_equal(vae_from_buffer(buf, size), GM_ERR_FORMAT);
    assert_non_null(strstr(gm_last_error(), "holds a non-finite value"));
    free(buf);

    /* a good safetensors file, but not one of ours: no checksums */
    static const char header[] = "{\"__metadata__\":{\"gm.format\":\"libgenmodel\"}}";
    uint8_t plain[8 + sizeof header - 1];
    n = sizeof header - 1;
    memcpy(plain, &n, sizeof n);
    memcpy(plain + 8, header, sizeof header - 1);
    assert_int_equal(vae_from_buffer(plain, sizeof plain), GM_ERR_FORMAT);
    assert_non_null(strstr(gm_last_error(), "no checksums"));
}

/* The info peek reads the step as the loads do, and a bad one leaves the
 * caller's info as it was */
static void test_peek_reads_the_step(void **state)
{
    (void)state;
    static const struct { const char *to, *why; } cases[] = {
        { "\"gm.step\":\"-1\"", "'gm.step' is not a valid number" },
        { "\"gm.step\":\"2x\"", "'gm.step' is not a valid number" },
        { "\"gm.steX\":\"2\"", "'gm.step' is missing" },
    };
    char path[512];
    snprintf(path, sizeof path, "%s", gm_test_path("step.safetensors"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size;
        uint8_t *golden = read_golden("vae-v1.safetensors", &size);
        uint8_t *buf = edited(golden, &size, "\"gm.step\":\"2\"", cases[i].to);
        gm_test_write_file(path, buf, size);
        gm_checkpoint_info info, before;
        gm_checkpoint_info_init(&info);
        info.step = 77;
        before = info;
        assert_int_equal(gm_checkpoint_peek(path, &info), GM_ERR_FORMAT);
        if (!strstr(gm_last_error(), cases[i].why))
            fail_msg("case %zu: '%s' should say '%s'", i, gm_last_error(), cases[i].why);
        assert_names_only("gm_checkpoint_peek");
        assert_memory_equal(&info, &before, sizeof info);
        free(buf);
        free(golden);
    }
}

/* the edits above change nothing but the value: undone, the file loads */
static void test_edited_golden_file_loads(void **state)
{
    (void)state;
    size_t size;
    uint8_t *golden = read_golden("gan-v1.safetensors", &size);
    uint8_t *longer = edited(golden, &size, "\"gm.config.loss\":\"0\"", "\"gm.config.loss\":\"00\"");
    gm_gan *gan;
    assert_int_equal(gm_gan_load_buffer(longer, size, &gan), GM_OK);
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    assert_int_equal(gm_gan_get_config(gan, &cfg), GM_OK);
    assert_int_equal(cfg.loss, GM_GAN_NONSATURATING);
    gm_gan_free(gan);
    free(longer);
    free(golden);
}


static void test_every_truncation_and_header_flip(void **state)
{
    (void)state;
    gm_vae *vae = tiny_vae(0);
    uint8_t *buf;
    size_t size;
    assert_int_equal(gm_vae_save_buffer(vae, (void **)&buf, &size), GM_OK);
    gm_vae *back = NULL;
    for (size_t len = 0; len < size; len++) {
        gm_status s = gm_vae_load_buffer(buf, len, &back);
        assert_int_equal(s, len ? GM_ERR_FORMAT : GM_ERR_INVALID_ARG);  /* no bytes is a bad argument */
        assert_names_only("gm_vae_load_buffer");
        assert_null(back);
    }
    uint64_t header;
    memcpy(&header, buf, sizeof header);
    /* the header checksum leaves no header byte unguarded, padding included */
    uint8_t *copy = malloc(size);
    for (size_t i = 0; i < 8 + header; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, buf, size);
            copy[i] ^= (uint8_t)(1u << bit);
            gm_status s = gm_vae_load_buffer(copy, size, &back);
            assert_true(s == GM_ERR_FORMAT || s == GM_ERR_UNSUPPORTED);
            assert_names_only("gm_vae_load_buffer");
            assert_null(back);
        }
    }
    free(copy);
    gm_buffer_free(buf);
    gm_vae_free(vae);
}

static void test_data_corruption_is_caught(void **state)
{
    (void)state;
    gm_vae *vae = tiny_vae(0);
    uint8_t *buf;
    size_t size;
    assert_int_equal(gm_vae_save_buffer(vae, (void **)&buf, &size), GM_OK);
    gm_vae *back;
    buf[size - 3] ^= 0x10;
    assert_int_equal(gm_vae_load_buffer(buf, size, &back), GM_ERR_FORMAT);
    assert_non_null(strstr(gm_last_error(), "checksum"));
    assert_names_only("gm_vae_load_buffer");
    gm_buffer_free(buf);
    gm_vae_free(vae);
}

static int alloc_setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int alloc_teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

/* round_trip with its k-th allocation refused, k = 1, 2, ... until it
 * succeeds: each earlier run fails with GM_ERR_NO_MEMORY and leaks nothing */
static void refuse_each_allocation(gm_status (*round_trip)(const void *buf, size_t size), const void *buf,
                                   size_t size)
{
    size_t held = gm_test_alloc.allocs - gm_test_alloc.frees, refused = 0;
    for (size_t k = 1;; k++) {
        gm_test_alloc.fail_at = gm_test_alloc.allocs + k;
        gm_status s = round_trip(buf, size);
        gm_test_alloc.fail_at = 0;
        refused += s != GM_OK;  /* the one allocation refused is counted, but never freed */
        assert_int_equal(gm_test_alloc.allocs - gm_test_alloc.frees - refused, held);
        if (s == GM_OK)
            break;
        assert_int_equal(s, GM_ERR_NO_MEMORY);
    }
}

static void test_every_allocation_failure(void **state)
{
    (void)state;
    gm_test_alloc_reset(0);
    gm_gan *gan = tiny_gan(3);
    gm_vae *vae = tiny_vae(3);
    void *gbuf, *vbuf;
    size_t gsize, vsize;
    assert_int_equal(gm_gan_save_buffer(gan, &gbuf, &gsize), GM_OK);
    assert_int_equal(gm_vae_save_buffer(vae, &vbuf, &vsize), GM_OK);
    refuse_each_allocation(gan_round_trip, gbuf, gsize);
    refuse_each_allocation(vae_round_trip, vbuf, vsize);
    gm_buffer_free(gbuf);
    gm_buffer_free(vbuf);
    gm_gan_free(gan);
    gm_vae_free(vae);
}

/* ---- the golden files of format version 1: they must keep loading ---- */

static void test_golden_files(void **state)
{
    (void)state;
    gm_vae *vae;
    gm_gan *gan;
    assert_int_equal(gm_vae_load(GOLDEN_DIR "/vae-v1.safetensors", &vae), GM_OK);
    assert_int_equal(gm_gan_load(GOLDEN_DIR "/gan-v1.safetensors", &gan), GM_OK);
    /* decoding a fixed z, and generating from one, give what they gave
     * when the files were made (tests/data/make_golden.c) */
    const float z[2] = { 0.5f, -1.0f }, noise[3] = { 0.25f, -0.5f, 1.0f };
    const int32_t label = 1;
    float x[D];
    assert_int_equal(gm_vae_decode(vae, z, &label, 1, x), GM_OK);
    const float vae_want[D] = { GOLDEN_VAE_DECODE };
    gm_assert_close_f(x, vae_want, D, 1e-6, 1e-5, "golden VAE decode");
    assert_int_equal(gm_gan_generate(gan, noise, NULL, 1, 1, x), GM_OK);
    const float gan_want[D] = { GOLDEN_GAN_GENERATE };
    gm_assert_close_f(x, gan_want, D, 1e-6, 1e-5, "golden GAN generate");
    assert_int_equal(gm_vae_step_count(vae), 2);
    assert_int_equal(gm_gan_step_count(gan), 2);
    gm_vae_free(vae);
    gm_gan_free(gan);
}

/* the conv models of 0.2: batch norm's running statistics, spectral
 * norm's vectors and the minibatch-stddev group all come back, and give
 * what they gave (tests/data/make_golden_conv.c) */
static void test_golden_conv_files(void **state)
{
    (void)state;
    enum { SIDE = 6, CD = SIDE * SIDE };
    gm_vae *vae;
    gm_gan *gan;
    assert_int_equal(gm_vae_load(GOLDEN_DIR "/vae-conv-v1.safetensors", &vae), GM_OK);
    assert_int_equal(gm_gan_load(GOLDEN_DIR "/gan-conv-v1.safetensors", &gan), GM_OK);
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    assert_int_equal(gm_gan_get_config(gan, &cfg), GM_OK);
    assert_true(cfg.n_conv == 2 && cfg.conv_channels[1] == 4 && cfg.gen_norm == GM_NORM_BATCH &&
                cfg.disc_norm == GM_NORM_SPECTRAL && cfg.minibatch_std == 4);
    const float z[2] = { 0.5f, -1.0f }, noise[3] = { 0.25f, -0.5f, 1.0f };
    const int32_t label = 1;
    float x[CD], logit;
    assert_int_equal(gm_vae_decode(vae, z, &label, 1, x), GM_OK);
    const float vae_want[CD] = { GOLDEN_CONV_VAE_DECODE };
    gm_assert_close_f(x, vae_want, CD, 1e-6, 1e-5, "golden conv VAE decode");
    assert_int_equal(gm_gan_generate(gan, noise, NULL, 1, 1, x), GM_OK);
    const float gan_want[CD] = { GOLDEN_CONV_GAN_GENERATE };
    gm_assert_close_f(x, gan_want, CD, 1e-6, 1e-5, "golden DCGAN generate");
    /* the same input as make_golden_conv.c's */
    unsigned seed = 7;
    for (int i = 0; i < CD; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 16777216.0f;
    }
    assert_int_equal(gm_gan_discriminate(gan, x, NULL, 1, &logit), GM_OK);
    const float logit_want[1] = { GOLDEN_CONV_GAN_DISCRIMINATE };
    gm_assert_close_f(&logit, logit_want, 1, 1e-6, 1e-5, "golden spectrally normalized D");
    gm_vae_free(vae);
    gm_gan_free(gan);
}

/* ---- killed while saving ---- */

static void test_killed_saves_leave_a_loadable_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s", gm_test_path("killed.safetensors"));
    gm_vae *vae = tiny_vae(0);
    assert_int_equal(gm_vae_save(vae, path), GM_OK);
    srand(1);
    for (int round = 0; round < 20; round++) {
        fflush(NULL);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            double losses[1];
            for (int i = 0;; i++) {  /* train a little, save, again, until killed */
                vae_steps(vae, i, 1, 0, losses);
                if (gm_vae_save(vae, path) != GM_OK)
                    _exit(3);
            }
        }
        struct timespec pause = { 0, 1000000L + (long)(rand() % 20) * 1000000L };
        nanosleep(&pause, NULL);
        kill(child, SIGKILL);
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFSIGNALED(status));
        gm_vae *back;
        assert_int_equal(gm_vae_load(path, &back), GM_OK);
        gm_vae_free(back);
    }
    gm_vae_free(vae);
}

int main(void)
{
    /* one BLAS thread: forked children must not inherit a thread pool */
    gm_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vae_resume),
        cmocka_unit_test(test_cvae_resume),
        cmocka_unit_test(test_gan_resume),
        cmocka_unit_test(test_cgan_resume),
        cmocka_unit_test(test_conv_vae_resume),
        cmocka_unit_test(test_conv_gan_resume),
        cmocka_unit_test(test_file_round_trip_and_peek),
        cmocka_unit_test(test_versions_and_kinds),
        cmocka_unit_test(test_the_upscaler_is_a_kind),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_stored_config_is_checked),
        cmocka_unit_test(test_edited_golden_file_loads),
        cmocka_unit_test(test_header_whitespace),
        cmocka_unit_test(test_every_refusal),
        cmocka_unit_test(test_peek_reads_the_step),
        cmocka_unit_test(test_every_truncation_and_header_flip),
        cmocka_unit_test(test_data_corruption_is_caught),
        cmocka_unit_test_setup_teardown(test_every_allocation_failure, alloc_setup, alloc_teardown),
        cmocka_unit_test(test_golden_files),
        cmocka_unit_test(test_golden_conv_files),
        cmocka_unit_test(test_killed_saves_leave_a_loadable_file),
    };
    return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
