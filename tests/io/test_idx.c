/* Loading datasets from IDX files (lib/io/idx.c, lib/io/dataset.c): raw and
 * gzip round trips, labels, gather, every way a file can be wrong, and an
 * allocation-failure sweep. Fixtures are written to a temporary directory;
 * every test runs under the counting allocator, so leaks fail it. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "genmodel/data.h"
#include "gm_test.h"


static void write_gz(const char *path, const void *bytes, size_t len)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, bytes, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
}

/* The whole file, malloc'd (test memory, not the library's). */
static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0, k;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            buf = realloc(buf, cap *= 2);
            assert_non_null(buf);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* An IDX file in memory: magic 00 00 type ndim, the dims, and data bytes
 * i * 37 + 11 (mod 256) for as many bytes as the dims multiply to. */
static unsigned char *make_idx(unsigned type, int ndim, const uint32_t *dims, size_t *len)
{
    size_t data = 1;
    for (int i = 0; i < ndim; i++)
        data *= dims[i];
    *len = 4 + 4 * (size_t)ndim + data;
    unsigned char *b = malloc(*len);
    assert_non_null(b);
    b[0] = b[1] = 0;
    b[2] = (unsigned char)type;
    b[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++) {
        b[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        b[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        b[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        b[7 + 4 * i] = (unsigned char)dims[i];
    }
    for (size_t i = 0; i < data; i++)
        b[4 + 4 * (size_t)ndim + i] = (unsigned char)(i * 37 + 11);
    return b;
}

static void write_idx(const char *path, int gz, unsigned type, int ndim, const uint32_t *dims)
{
    size_t len;
    unsigned char *b = make_idx(type, ndim, dims, &len);
    (gz ? write_gz : gm_test_write_file)(path, b, len);
    free(b);
}

/* Labels file of n labels. */
static void write_labels(const char *path, int gz, const uint8_t *labels, uint32_t n)
{
    size_t len;
    unsigned char *b = make_idx(0x08, 1, &n, &len);
    memcpy(b + 8, labels, n);
    (gz ? write_gz : gm_test_write_file)(path, b, len);
    free(b);
}

/* Loading fails with want, leaves *out NULL, and says which file (by
 * name, which is unique per fixture) and what (word). */
static void expect_load_fails(const char *images, const char *labels, gm_status want,
                              const char *name, const char *word)
{
    gm_dataset *ds = (gm_dataset *)&ds;
    gm_status st = gm_dataset_load(images, labels, &ds);
    if (st != want)
        fail_msg("loading '%s': got status %d (%s), want %d", images, st, gm_last_error(), want);
    assert_null(ds);
    const char *msg = gm_last_error();
    if (!strstr(msg, "gm_dataset_load") || (name && !strstr(msg, name)) || !strstr(msg, word))
        fail_msg("message \"%s\" should name gm_dataset_load, '%s' and say '%s'", msg,
                 name ? name : "", word);
}

static void fill_images(float *x, size_t n, uint32_t seed)
{
    /* Beyond [0, 1] on both sides, so clamping is in the round trip too. */
    gm_test_fill(x, n, -0.1f, 1.1f, seed);
}

static int group_setup(void **state)
{
    (void)state;
    return gm_test_dir_make();
}

static int group_teardown(void **state)
{
    (void)state;
    return gm_test_dir_remove();
}

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

/* Checks ds against the uint8 pixels it was made from (count, dim) and
 * the floats written (within half a level, after clamping). */
static void check_pixels(const gm_dataset *ds, const unsigned char *pixels, const float *written)
{
    int32_t count = gm_dataset_count(ds), dim = gm_dataset_dim(ds);
    int32_t *idx = malloc((size_t)count * sizeof *idx);
    float *x = malloc((size_t)count * (size_t)dim * sizeof *x);
    assert_non_null(idx);
    assert_non_null(x);
    for (int32_t i = 0; i < count; i++)
        idx[i] = i;
    assert_int_equal(gm_dataset_gather(ds, idx, count, x, NULL), GM_OK);
    for (size_t i = 0; i < (size_t)count * (size_t)dim; i++) {
        if (x[i] != (float)pixels[i] / 255.0f)
            fail_msg("value %zu: got %.9g, want %d / 255", i, (double)x[i], pixels[i]);
        if (written) {
            float want = written[i] < 0.0f ? 0.0f : written[i] > 1.0f ? 1.0f : written[i];
            assert_true(fabsf(x[i] - want) <= 0.5f / 255.0f + 1e-6f);
        }
    }
    free(idx);
    free(x);
}

static void test_round_trip_raw(void **state)
{
    (void)state;
    enum { N = 7, H = 5, W = 3 };
    float img[N * H * W];
    fill_images(img, N * H * W, 1);
    const char *p = gm_test_path("rt-images");
    assert_int_equal(gm_idx_write_images(p, img, N, H, W), GM_OK);

    gm_dataset *ds = NULL;
    assert_int_equal(gm_dataset_load(p, NULL, &ds), GM_OK);
    assert_non_null(ds);
    assert_int_equal(gm_dataset_count(ds), N);
    assert_int_equal(gm_dataset_dim(ds), H * W);
    assert_int_equal(gm_dataset_height(ds), H);
    assert_int_equal(gm_dataset_width(ds), W);
    assert_int_equal(gm_dataset_has_labels(ds), 0);
    assert_int_equal(gm_dataset_n_classes(ds), 0);
    size_t len;
    unsigned char *file = read_all(p, &len);
    assert_int_equal(len, 16 + N * H * W);
    check_pixels(ds, file + 16, img);
    free(file);
    gm_dataset_free(ds);
}

static void test_round_trip_gz(void **state)
{
    (void)state;
    enum { N = 300, H = 28, W = 28 };  /* big enough for several read buffers compressed */
    float *img = malloc(N * H * W * sizeof *img);
    assert_non_null(img);
    fill_images(img, N * H * W, 2);
    const char *raw = gm_test_path("gz-images"), *gz = gm_test_path("gz-images.gz");
    assert_int_equal(gm_idx_write_images(raw, img, N, H, W), GM_OK);
    size_t len;
    unsigned char *file = read_all(raw, &len);
    write_gz(gz, file, len);

    gm_dataset *a = NULL, *b = NULL;
    assert_int_equal(gm_dataset_load(raw, NULL, &a), GM_OK);
    assert_int_equal(gm_dataset_load(gz, NULL, &b), GM_OK);
    assert_int_equal(gm_dataset_count(b), N);
    assert_int_equal(gm_dataset_height(b), H);
    assert_int_equal(gm_dataset_width(b), W);
    check_pixels(a, file + 16, img);
    check_pixels(b, file + 16, img);
    free(file);
    free(img);
    gm_dataset_free(a);
    gm_dataset_free(b);
}

static void test_labels(void **state)
{
    (void)state;
    static const uint8_t labels[5] = { 3, 0, 7, 7, 1 };
    uint32_t dims[3] = { 5, 2, 2 };
    write_idx(gm_test_path("lab-images"), 0, 0x08, 3, dims);
    write_labels(gm_test_path("lab-labels"), 0, labels, 5);
    write_labels(gm_test_path("lab-labels.gz"), 1, labels, 5);
    for (int gz = 0; gz < 2; gz++) {
        gm_dataset *ds = NULL;
        assert_int_equal(gm_dataset_load(gm_test_path("lab-images"),
                                         gm_test_path(gz ? "lab-labels.gz" : "lab-labels"), &ds), GM_OK);
        assert_int_equal(gm_dataset_has_labels(ds), 1);
        assert_int_equal(gm_dataset_n_classes(ds), 8);
        int32_t idx[5] = { 4, 3, 2, 1, 0 }, got[5];
        float x[5 * 4];
        assert_int_equal(gm_dataset_gather(ds, idx, 5, x, got), GM_OK);
        for (int i = 0; i < 5; i++)
            assert_int_equal(got[i], labels[4 - i]);
        gm_dataset_free(ds);
    }
}

static void test_shapes(void **state)
{
    (void)state;
    /* 1-D samples are one row of one channel */
    uint32_t flat[2] = { 3, 6 }, deep[4] = { 3, 2, 3, 2 };
    write_idx(gm_test_path("flat"), 0, 0x08, 2, flat);
    write_idx(gm_test_path("deep"), 1, 0x08, 4, deep);
    gm_dataset *ds = NULL;
    assert_int_equal(gm_dataset_load(gm_test_path("flat"), NULL, &ds), GM_OK);
    assert_int_equal(gm_dataset_dim(ds), 6);
    assert_int_equal(gm_dataset_height(ds), 1);
    assert_int_equal(gm_dataset_width(ds), 6);
    gm_dataset_free(ds);
    /* (count, H, W, C): pixels of C channels */
    assert_int_equal(gm_dataset_load(gm_test_path("deep"), NULL, &ds), GM_OK);
    assert_int_equal(gm_dataset_count(ds), 3);
    assert_int_equal(gm_dataset_dim(ds), 12);
    assert_int_equal(gm_dataset_height(ds), 2);
    assert_int_equal(gm_dataset_width(ds), 3);
    assert_int_equal(gm_dataset_channels(ds), 2);
    gm_dataset_free(ds);
    /* five dimensions and more fold into the width */
    uint32_t deeper[5] = { 3, 2, 3, 2, 2 };
    write_idx(gm_test_path("deeper"), 0, 0x08, 5, deeper);
    assert_int_equal(gm_dataset_load(gm_test_path("deeper"), NULL, &ds), GM_OK);
    assert_int_equal(gm_dataset_dim(ds), 24);
    assert_int_equal(gm_dataset_height(ds), 2);
    assert_int_equal(gm_dataset_width(ds), 12);
    assert_int_equal(gm_dataset_channels(ds), 1);
    gm_dataset_free(ds);
}

static void test_bad_header(void **state)
{
    (void)state;
    uint32_t dims[3] = { 2, 3, 3 };
    size_t len;
    unsigned char *b = make_idx(0x08, 3, dims, &len);
    static const struct { int at; unsigned char value; const char *word; } cases[] = {
        { 0, 0x01, "not an IDX file" },
        { 1, 0x08, "not an IDX file" },
        { 0, 0x1f, "not an IDX file (magic 1f 00 08 03)" },   /* half a gzip magic is not gzip */
        { 2, 0x09, "element type 0x09" },   /* signed byte */
        { 2, 0x0d, "element type 0x0d" },   /* float */
        { 3, 0x00, "0 dimensions" },
        { 7, 0x00, "dimension 0 of size 0" },
        { 15, 0x00, "dimension 2 of size 0" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int gz = 0; gz < 2; gz++) {
            char name[32];
            snprintf(name, sizeof name, "bad-%zu%s", i, gz ? ".gz" : "");
            unsigned char saved = b[cases[i].at];
            b[cases[i].at] = cases[i].value;
            (gz ? write_gz : gm_test_write_file)(gm_test_path(name), b, len);
            b[cases[i].at] = saved;
            expect_load_fails(gm_test_path(name), NULL, GM_ERR_FORMAT, name, cases[i].word);
        }
    }
    free(b);

    /* Images need a count and a sample; labels are one-dimensional. */
    uint32_t one = 4, two[2] = { 4, 1 };
    write_idx(gm_test_path("images-1d"), 0, 0x08, 1, &one);
    expect_load_fails(gm_test_path("images-1d"), NULL, GM_ERR_FORMAT, "images-1d", "1 dimensions");
    write_idx(gm_test_path("ok-images"), 0, 0x08, 2, two);
    write_idx(gm_test_path("labels-2d"), 0, 0x08, 2, two);
    expect_load_fails(gm_test_path("ok-images"), gm_test_path("labels-2d"), GM_ERR_FORMAT, "labels-2d",
                      "2 dimensions, expected 1");
}

static void test_dims_overflow(void **state)
{
    (void)state;
    /* Rejected from the header alone: nothing that large is ever allocated. */
    unsigned char big3[16] = { 0, 0, 8, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0 };
    unsigned char huge[12] = { 0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1 };
    unsigned char edge[12] = { 0, 0, 8, 2, 0x80, 0, 0, 0, 0, 0, 0, 1 };  /* exactly 2 GiB */
    gm_test_write_file(gm_test_path("big3"), big3, sizeof big3);
    write_gz(gm_test_path("huge.gz"), huge, sizeof huge);
    gm_test_write_file(gm_test_path("edge"), edge, sizeof edge);
    expect_load_fails(gm_test_path("big3"), NULL, GM_ERR_FORMAT, "big3", "more than");
    expect_load_fails(gm_test_path("huge.gz"), NULL, GM_ERR_FORMAT, "huge.gz", "more than");
    expect_load_fails(gm_test_path("edge"), NULL, GM_ERR_FORMAT, "edge", "more than");
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

static void test_truncated(void **state)
{
    (void)state;
    uint32_t dims[3] = { 3, 4, 5 };
    size_t len;
    unsigned char *b = make_idx(0x08, 3, dims, &len);
    for (size_t cut = 0; cut < len; cut++) {
        const char *word = cut < 4 ? "too short" : cut < 16 ? "truncated in its header" : "truncated:";
        gm_test_write_file(gm_test_path("cut"), b, cut);
        expect_load_fails(gm_test_path("cut"), NULL, GM_ERR_FORMAT, "cut", word);
        write_gz(gm_test_path("cut.gz"), b, cut);
        expect_load_fails(gm_test_path("cut.gz"), NULL, GM_ERR_FORMAT, "cut.gz", word);
    }

    /* The compressed stream itself cut short: in the gzip header, in the
     * deflate data, in the CRC and length trailer. */
    write_gz(gm_test_path("whole.gz"), b, len);
    size_t zlen;
    unsigned char *z = read_all(gm_test_path("whole.gz"), &zlen);
    for (size_t cut = 2; cut < zlen; cut++) {   /* each part of the header, the data, the trailer */
        gm_test_write_file(gm_test_path("zcut.gz"), z, cut);
        expect_load_fails(gm_test_path("zcut.gz"), NULL, GM_ERR_FORMAT, "zcut.gz", "gzip stream is truncated");
    }
    free(z);
    free(b);
}

static void test_trailing(void **state)
{
    (void)state;
    uint32_t dims[3] = { 3, 4, 5 };
    size_t len;
    unsigned char *b = make_idx(0x08, 3, dims, &len);
    unsigned char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, b, len);
    longer[len] = 0;
    gm_test_write_file(gm_test_path("long"), longer, len + 1);
    expect_load_fails(gm_test_path("long"), NULL, GM_ERR_FORMAT, "long", "data past the 60 bytes");
    write_gz(gm_test_path("long.gz"), longer, len + 1);
    expect_load_fails(gm_test_path("long.gz"), NULL, GM_ERR_FORMAT, "long.gz", "data past the 60 bytes");

    /* Bytes after the gzip stream: garbage, or a second member. */
    write_gz(gm_test_path("one.gz"), b, len);
    size_t zlen;
    unsigned char *z = read_all(gm_test_path("one.gz"), &zlen);
    unsigned char *z2 = malloc(2 * zlen);
    assert_non_null(z2);
    memcpy(z2, z, zlen);
    memset(z2 + zlen, 0, zlen);
    gm_test_write_file(gm_test_path("garbage.gz"), z2, zlen + 1);
    expect_load_fails(gm_test_path("garbage.gz"), NULL, GM_ERR_FORMAT, "garbage.gz", "after the end");
    memcpy(z2 + zlen, z, zlen);
    gm_test_write_file(gm_test_path("two.gz"), z2, 2 * zlen);
    expect_load_fails(gm_test_path("two.gz"), NULL, GM_ERR_FORMAT, "two.gz", "after the end");
    free(z2);
    free(z);
    free(longer);
    free(b);
}

static void test_corrupt_gz(void **state)
{
    (void)state;
    uint32_t dims[3] = { 3, 4, 5 };
    size_t len;
    unsigned char *b = make_idx(0x08, 3, dims, &len);
    write_gz(gm_test_path("ok.gz"), b, len);
    size_t zlen;
    unsigned char *z = read_all(gm_test_path("ok.gz"), &zlen);
    /* The CRC, the stored length, and the compression method byte. */
    size_t at[] = { zlen - 8, zlen - 1, 2 };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        z[at[i]] ^= 0x40;
        gm_test_write_file(gm_test_path("corrupt.gz"), z, zlen);
        z[at[i]] ^= 0x40;
        expect_load_fails(gm_test_path("corrupt.gz"), NULL, GM_ERR_FORMAT, "corrupt.gz", "corrupt gzip data");
    }
    free(z);
    free(b);
}

static void test_count_mismatch(void **state)
{
    (void)state;
    static const uint8_t labels[4] = { 0, 1, 2, 3 };
    uint32_t dims[3] = { 5, 2, 2 };
    write_idx(gm_test_path("five-images"), 0, 0x08, 3, dims);
    write_labels(gm_test_path("four-labels.gz"), 1, labels, 4);
    expect_load_fails(gm_test_path("five-images"), gm_test_path("four-labels.gz"), GM_ERR_FORMAT,
                      "four-labels.gz", "5 rows");
}

static void test_io_errors(void **state)
{
    (void)state;
    uint32_t dims[3] = { 2, 2, 2 };
    write_idx(gm_test_path("io-images"), 0, 0x08, 3, dims);
    expect_load_fails(gm_test_path("missing"), NULL, GM_ERR_IO, "missing", strerror(ENOENT));
    expect_load_fails(gm_test_path("io-images"), gm_test_path("missing-labels"), GM_ERR_IO, "missing-labels",
                      strerror(ENOENT));
    /* A directory opens on Linux, then fails to read. */
    expect_load_fails(gm_test_dir(), NULL, GM_ERR_IO, gm_test_dir(), strerror(EISDIR));
}

static void expect_invalid(gm_status st, const char *who)
{
    assert_int_equal(st, GM_ERR_INVALID_ARG);
    if (!strstr(gm_last_error(), who))
        fail_msg("message \"%s\" should name %s", gm_last_error(), who);
}

static void test_null_args(void **state)
{
    (void)state;
    uint32_t dims[3] = { 2, 2, 2 };
    write_idx(gm_test_path("na-images"), 0, 0x08, 3, dims);
    gm_dataset *ds = (gm_dataset *)&ds;
    expect_invalid(gm_dataset_load(NULL, NULL, &ds), "gm_dataset_load");
    assert_null(ds);
    expect_invalid(gm_dataset_load(gm_test_path("na-images"), NULL, NULL), "gm_dataset_load");
    ds = (gm_dataset *)&ds;
    expect_invalid(gm_dataset_load_dir(NULL, "train", &ds), "gm_dataset_load_dir");
    assert_null(ds);
    expect_invalid(gm_dataset_load_dir(gm_test_dir(), NULL, &ds), "gm_dataset_load_dir");
    expect_invalid(gm_dataset_load_dir(gm_test_dir(), "train", NULL), "gm_dataset_load_dir");
    expect_invalid(gm_dataset_load_dir(gm_test_dir(), "valid", &ds), "gm_dataset_load_dir");
    expect_invalid(gm_dataset_load_dir(gm_test_dir(), "", &ds), "gm_dataset_load_dir");
    /* "" is not the current directory, nor (with the '/' put after it) the root */
    ds = (gm_dataset *)&ds;
    expect_invalid(gm_dataset_load_dir("", "train", &ds), "gm_dataset_load_dir: dir is empty");
    assert_null(ds);
    ds = (gm_dataset *)&ds;
    expect_invalid(gm_dataset_load("", NULL, &ds), "gm_dataset_load: images_path is empty");
    assert_null(ds);
    expect_invalid(gm_dataset_load(gm_test_path("na-images"), "", &ds), "gm_dataset_load: labels_path is empty");

    int32_t idx[1] = { 0 };
    float x[4];
    expect_invalid(gm_dataset_gather(NULL, idx, 1, x, NULL), "gm_dataset_gather");
    assert_int_equal(gm_dataset_load(gm_test_path("na-images"), NULL, &ds), GM_OK);
    expect_invalid(gm_dataset_gather(ds, NULL, 1, x, NULL), "gm_dataset_gather");
    expect_invalid(gm_dataset_gather(ds, idx, 1, NULL, NULL), "gm_dataset_gather");
    gm_dataset_free(ds);

    assert_int_equal(gm_dataset_count(NULL), 0);
    assert_int_equal(gm_dataset_dim(NULL), 0);
    assert_int_equal(gm_dataset_height(NULL), 0);
    assert_int_equal(gm_dataset_width(NULL), 0);
    assert_int_equal(gm_dataset_has_labels(NULL), 0);
    assert_int_equal(gm_dataset_n_classes(NULL), 0);
    gm_dataset_free(NULL);
}

static void test_gather(void **state)
{
    (void)state;
    static const uint8_t labels[4] = { 9, 2, 0, 5 };
    uint32_t dims[3] = { 4, 16, 16 };  /* 1024 bytes: every value 0..255 appears */
    write_idx(gm_test_path("g-images"), 0, 0x08, 3, dims);
    write_labels(gm_test_path("g-labels"), 0, labels, 4);
    gm_dataset *ds = NULL, *unlabeled = NULL;
    assert_int_equal(gm_dataset_load(gm_test_path("g-images"), gm_test_path("g-labels"), &ds), GM_OK);
    assert_int_equal(gm_dataset_load(gm_test_path("g-images"), NULL, &unlabeled), GM_OK);

    int32_t idx[5] = { 3, 0, 3, 1, 2 }, got[5];
    float x[5 * 256];
    assert_int_equal(gm_dataset_gather(ds, idx, 5, x, got), GM_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(got[i], labels[idx[i]]);
        for (int j = 0; j < 256; j++) {
            unsigned pixel = (unsigned)(idx[i] * 256 + j) * 37 + 11;
            assert_true(x[i * 256 + j] == (float)(uint8_t)pixel / 255.0f);
        }
    }
    /* The end points are exact. */
    float lo = 2.0f, hi = -1.0f;
    for (int i = 0; i < 5 * 256; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    assert_true(lo == 0.0f && hi == 1.0f);

    /* A bad index anywhere fails before anything is written. */
    int32_t bad[3][3] = { { 0, 1, -1 }, { 4, 0, 0 }, { 0, INT32_MAX, 0 } };
    for (int i = 0; i < 3; i++) {
        float y[3 * 256];
        int32_t l[3] = { -7, -7, -7 };
        for (int j = 0; j < 3 * 256; j++)
            y[j] = -1.0f;
        expect_invalid(gm_dataset_gather(ds, bad[i], 3, y, l), "outside [0, 4)");
        for (int j = 0; j < 3 * 256; j++)
            assert_true(y[j] == -1.0f);
        assert_int_equal(l[0], -7);
    }
    expect_invalid(gm_dataset_gather(ds, idx, 0, x, NULL), "n must be > 0");
    expect_invalid(gm_dataset_gather(ds, idx, -1, x, NULL), "n must be > 0");
    expect_invalid(gm_dataset_gather(unlabeled, idx, 1, x, got), "without labels");
    assert_int_equal(gm_dataset_gather(unlabeled, idx, 1, x, NULL), GM_OK);
    gm_dataset_free(ds);
    gm_dataset_free(unlabeled);
}

static void test_load_dir(void **state)
{
    (void)state;
    /* train: raw images, gzip labels. t10k: images only, so it fails. */
    static const uint8_t labels[3] = { 1, 2, 1 };
    uint32_t dims[3] = { 3, 2, 2 };
    write_idx(gm_test_path("train-images-idx3-ubyte"), 0, 0x08, 3, dims);
    write_labels(gm_test_path("train-labels-idx1-ubyte.gz"), 1, labels, 3);
    write_idx(gm_test_path("t10k-images-idx3-ubyte.gz"), 1, 0x08, 3, dims);
    gm_dataset *ds = NULL;
    assert_int_equal(gm_dataset_load_dir(gm_test_dir(), "train", &ds), GM_OK);
    assert_int_equal(gm_dataset_count(ds), 3);
    assert_int_equal(gm_dataset_n_classes(ds), 3);
    gm_dataset_free(ds);
    ds = (gm_dataset *)&ds;
    assert_int_equal(gm_dataset_load_dir(gm_test_dir(), "t10k", &ds), GM_ERR_IO);
    assert_null(ds);
    assert_non_null(strstr(gm_last_error(), "gm_dataset_load_dir"));
    assert_non_null(strstr(gm_last_error(), "t10k-labels-idx1-ubyte.gz"));

    /* a failure other than "no such file" is told for the name as given,
     * not hidden behind a look for the .gz */
    ds = (gm_dataset *)&ds;
    assert_int_equal(gm_dataset_load_dir(gm_test_path("train-images-idx3-ubyte"), "train", &ds), GM_ERR_IO);
    assert_null(ds);
    assert_non_null(strstr(gm_last_error(), "gm_dataset_load_dir"));
    assert_non_null(strstr(gm_last_error(), "train-images-idx3-ubyte/train-images-idx3-ubyte'"));
    assert_non_null(strstr(gm_last_error(), strerror(ENOTDIR)));
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

/* Every allocation failing in turn: each gives GM_ERR_NO_MEMORY with a
 * message and leaves nothing allocated, until there are none left to fail. */
static void sweep_with(gm_status (*load)(const char *, const char *, gm_dataset **), const char *a,
                       const char *b, size_t min_allocs)
{
    size_t k;
    for (k = 1;; k++) {
        gm_test_alloc_reset(k);
        gm_dataset *ds = (gm_dataset *)&ds;
        gm_status st = load(a, b, &ds);
        if (st == GM_OK) {
            assert_true(gm_test_alloc.allocs < k);
            gm_dataset_free(ds);
            assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
            break;
        }
        if (st != GM_ERR_NO_MEMORY)
            fail_msg("failing allocation %zu: status %d (%s)", k, st, gm_last_error());
        assert_null(ds);
        assert_true(gm_last_error()[0] != '\0');
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees + 1);
    }
    assert_true(k - 1 >= min_allocs);
}

static void sweep(const char *images, const char *labels, size_t min_allocs)
{
    sweep_with(gm_dataset_load, images, labels, min_allocs);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    static const uint8_t labels[6] = { 1, 2, 3, 4, 5, 0 };
    uint32_t dims[3] = { 6, 28, 28 };
    write_idx(gm_test_path("af-images.gz"), 1, 0x08, 3, dims);
    write_labels(gm_test_path("af-labels.gz"), 1, labels, 6);
    write_idx(gm_test_path("af-images"), 0, 0x08, 3, dims);
    /* Per file: read buffer, data, and for gzip inflate's state and window;
     * then the int32 labels and the dataset. */
    sweep(gm_test_path("af-images.gz"), gm_test_path("af-labels.gz"), 10);
    sweep(gm_test_path("af-images.gz"), NULL, 5);
    sweep(gm_test_path("af-images"), NULL, 3);
    /* from a directory: the file names first */
    write_idx(gm_test_path("train-images-idx3-ubyte"), 0, 0x08, 3, dims);
    write_labels(gm_test_path("train-labels-idx1-ubyte.gz"), 1, labels, 6);
    sweep_with(gm_dataset_load_dir, gm_test_dir(), "train", 8);
}

static void test_fashion_mnist(void **state)
{
    (void)state;
    static const char dir[] = "/usr/share/datasets/fashion-mnist";
    DIR *d = opendir(dir);
    if (!d)
        skip();
    closedir(d);
    gm_dataset *ds = NULL;
    gm_status st = gm_dataset_load_dir(dir, "t10k", &ds);
    if (st != GM_OK)
        fail_msg("%s", gm_last_error());
    assert_int_equal(gm_dataset_count(ds), 10000);
    assert_int_equal(gm_dataset_dim(ds), 784);
    assert_int_equal(gm_dataset_height(ds), 28);
    assert_int_equal(gm_dataset_width(ds), 28);
    assert_int_equal(gm_dataset_has_labels(ds), 1);
    assert_int_equal(gm_dataset_n_classes(ds), 10);
    int32_t idx[2] = { 0, 9999 }, labels[2];
    float x[2 * 784];
    assert_int_equal(gm_dataset_gather(ds, idx, 2, x, labels), GM_OK);
    /* The first t10k item is an ankle boot (class 9). */
    assert_int_equal(labels[0], 9);
    for (int i = 0; i < 2 * 784; i++)
        assert_true(x[i] >= 0.0f && x[i] <= 1.0f);
    gm_dataset_free(ds);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_round_trip_raw),
        T(test_round_trip_gz),
        T(test_labels),
        T(test_shapes),
        T(test_bad_header),
        T(test_dims_overflow),
        T(test_truncated),
        T(test_trailing),
        T(test_corrupt_gz),
        T(test_count_mismatch),
        T(test_io_errors),
        T(test_null_args),
        T(test_gather),
        T(test_load_dir),
        T(test_alloc_failure),
        T(test_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
