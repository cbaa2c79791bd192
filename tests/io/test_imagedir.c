/* Datasets from folders of PNG images (lib/io/imagedir.c, lib/io/pngio.c,
 * gm_dataset_open): every colour type and depth libpng gives, decoded to
 * the values they mean; class folders and their labels; resizing; images
 * kept at their own sizes (keep_sizes, a ragged dataset); every way a
 * folder or a file can be wrong; allocation-failure sweeps. The
 * PNG files are written here with libpng, so each is exactly what the
 * test means. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#ifdef GM_HAVE_PNG
#include <png.h>
#endif

#include "genmodel/data.h"
#include "gm_test.h"

#ifdef GM_HAVE_PNG

/* A w x h PNG of colour type and bit depth, its samples from v (w * h *
 * channels values, 16-bit ones as they are, else the low byte); a
 * palette image takes pal (n_pal RGB triples) and trns (alpha per entry,
 * or NULL). */
typedef struct png_spec {
    int w, h, type, depth, interlace;
    const uint16_t *v;
    const uint8_t *pal;
    int n_pal;
    const uint8_t *trns;
} png_spec;

static int channels_of(int type)
{
    return type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_PALETTE ? 1
           : type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : type == PNG_COLOR_TYPE_RGB ? 3 : 4;
}

static void write_png(const char *path, const png_spec *s)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, s->depth, s->type,
                 s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (s->pal) {
        png_color colors[256];
        for (int i = 0; i < s->n_pal; i++)
            colors[i] = (png_color){ s->pal[3 * i], s->pal[3 * i + 1], s->pal[3 * i + 2] };
        png_set_PLTE(png, info, colors, s->n_pal);
        if (s->trns)
            png_set_tRNS(png, info, s->trns, s->n_pal, NULL);
    }
    png_write_info(png, info);
    if (s->depth < 8)
        png_set_packing(png);   /* our rows hold a byte per sample */
    const int c = channels_of(s->type), bytes = s->depth == 16 ? 2 : 1;
    uint8_t *row = malloc((size_t)s->w * c * bytes);
    png_bytep *rows = malloc((size_t)s->h * sizeof *rows);
    uint8_t *all = malloc((size_t)s->h * s->w * c * bytes);
    for (int y = 0; y < s->h; y++) {
        rows[y] = all + (size_t)y * s->w * c * bytes;
        for (int i = 0; i < s->w * c; i++) {
            const uint16_t v = s->v[(size_t)y * s->w * c + i];
            if (bytes == 2)
                rows[y][2 * i] = (uint8_t)(v >> 8), rows[y][2 * i + 1] = (uint8_t)v;
            else
                rows[y][i] = (uint8_t)v;
        }
    }
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    free(row);
    free(rows);
    free(all);
}

static const char *in_dir(const char *dir, const char *name)
{
    static char bufs[4][512];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, sizeof bufs[0], "%s/%s", gm_test_path(dir), name);
    return p;
}

static void make_dir(const char *name)
{
    assert_int_equal(mkdir(gm_test_path(name), 0700), 0);
}

/* a 3 x 2 grey image of values base, base + 10, ... */
static void grey(const char *path, int base)
{
    uint16_t v[6];
    for (int i = 0; i < 6; i++)
        v[i] = (uint16_t)(base + 10 * i);
    write_png(path, &(png_spec){ 3, 2, PNG_COLOR_TYPE_GRAY, 8, 0, v, NULL, 0, NULL });
}

static gm_dataset *open_dir(const char *name, const gm_dataset_options *o)
{
    gm_dataset *ds = NULL;
    gm_status st = gm_dataset_open(gm_test_path(name), o, &ds);
    if (st != GM_OK)
        fail_msg("opening %s: %s", name, gm_last_error());
    return ds;
}

/* all rows as bytes: x * 255, which gather made from them exactly */
static void pixels(const gm_dataset *ds, uint8_t *out, int32_t *labels)
{
    const int32_t n = gm_dataset_count(ds), dim = gm_dataset_dim(ds);
    int32_t idx[16];
    float *x = malloc((size_t)n * dim * sizeof *x);
    assert_true(n <= 16);
    for (int32_t i = 0; i < n; i++)
        idx[i] = i;
    assert_int_equal(gm_dataset_gather(ds, idx, n, x, labels), GM_OK);
    for (int32_t i = 0; i < n * dim; i++)
        out[i] = (uint8_t)(x[i] * 255.0f + 0.5f);
    free(x);
}

static void expect_fails(const char *name, const gm_dataset_options *o, gm_status want, const char *word,
                         const char *word2)
{
    gm_test_open_fails(gm_test_path(name), o, want, word, word2);
}

static void test_flat_grey(void **state)
{
    (void)state;
    make_dir("flat");
    grey(in_dir("flat", "b.png"), 100);
    grey(in_dir("flat", "a.PNG"), 1);
    gm_test_write_file(in_dir("flat", "notes.txt"), "x", 1);
    gm_test_write_file(in_dir("flat", ".hidden.png"), "x", 1);
    gm_dataset *ds = open_dir("flat", NULL);
    assert_int_equal(gm_dataset_count(ds), 2);
    assert_int_equal(gm_dataset_height(ds), 2);
    assert_int_equal(gm_dataset_width(ds), 3);
    assert_int_equal(gm_dataset_channels(ds), 1);
    assert_int_equal(gm_dataset_has_labels(ds), 0);
    uint8_t px[12];
    pixels(ds, px, NULL);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(px[i], 1 + 10 * i);        /* a.PNG first: names in byte order */
        assert_int_equal(px[6 + i], 100 + 10 * i);
    }
    gm_dataset_free(ds);
}

static void test_classes(void **state)
{
    (void)state;
    make_dir("classes");
    make_dir("classes/shoe");
    make_dir("classes/bag");
    make_dir("classes/bag/nested");    /* a folder inside a class: skipped */
    grey(in_dir("classes/shoe", "1.png"), 7);
    grey(in_dir("classes/bag", "2.png"), 5);
    grey(in_dir("classes/bag", "1.png"), 3);
    gm_test_write_file(in_dir("classes", "README"), "x", 1);
    gm_dataset *ds = open_dir("classes", NULL);
    assert_int_equal(gm_dataset_count(ds), 3);
    assert_int_equal(gm_dataset_n_classes(ds), 2);
    uint8_t px[18];
    int32_t labels[3];
    pixels(ds, px, labels);
    /* bag (0): 1.png, 2.png; shoe (1): 1.png */
    assert_int_equal(labels[0], 0);
    assert_int_equal(labels[1], 0);
    assert_int_equal(labels[2], 1);
    assert_int_equal(px[0], 3);
    assert_int_equal(px[6], 5);
    assert_int_equal(px[12], 7);
    gm_dataset_free(ds);
}

static void test_colour_types(void **state)
{
    (void)state;
    /* one 2 x 1 image of each kind; with any colour image the set is RGB */
    make_dir("kinds");
    const uint16_t rgb[6] = { 10, 20, 30, 200, 100, 0 };
    const uint16_t rgba[8] = { 255, 0, 100, 255, 200, 200, 200, 51 };
    const uint16_t grey16[2] = { 0x1234, 0xffff };
    const uint16_t ga[4] = { 100, 255, 100, 0 };
    const uint16_t index[2] = { 1, 0 };
    const uint8_t pal[6] = { 9, 8, 7, 60, 120, 240 }, trns[2] = { 255, 128 };
    write_png(in_dir("kinds", "1-rgb.png"), &(png_spec){ 2, 1, PNG_COLOR_TYPE_RGB, 8, 0, rgb, NULL, 0, NULL });
    write_png(in_dir("kinds", "2-rgba.png"), &(png_spec){ 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, rgba, NULL, 0, NULL });
    write_png(in_dir("kinds", "3-grey16.png"), &(png_spec){ 2, 1, PNG_COLOR_TYPE_GRAY, 16, 0, grey16, NULL, 0, NULL });
    write_png(in_dir("kinds", "4-ga.png"), &(png_spec){ 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, ga, NULL, 0, NULL });
    write_png(in_dir("kinds", "5-palette.png"), &(png_spec){ 2, 1, PNG_COLOR_TYPE_PALETTE, 8, 0, index, pal, 2, trns });
    gm_dataset *ds = open_dir("kinds", NULL);
    assert_int_equal(gm_dataset_channels(ds), 3);
    assert_int_equal(gm_dataset_dim(ds), 6);
    uint8_t px[30];
    pixels(ds, px, NULL);
    const uint8_t want[30] = {
        10, 20, 30, 200, 100, 0,                  /* RGB as it is */
        255, 0, 100, 40, 40, 40,                  /* alpha 51 onto black: 200 * 51 / 255 */
        0x12, 0x12, 0x12, 255, 255, 255,          /* 16 bits scaled: round(0x1234 * 255 / 65535) = 18 */
        100, 100, 100, 0, 0, 0,                   /* grey + alpha 0 */
        30, 60, 120, 9, 8, 7,                     /* palette entry 1 at alpha 128: 60 * 128 / 255 = 30 */
    };
    for (int i = 0; i < 30; i++)
        if (px[i] != want[i])
            fail_msg("value %d is %d, want %d", i, px[i], want[i]);
    gm_dataset_free(ds);
}

static void test_interlaced_and_depths(void **state)
{
    (void)state;
    /* Adam7 and plain give the same pixels; 1-bit grey expands to 0 / 255 */
    make_dir("adam7");
    uint16_t v[9 * 7], bits[9 * 7];
    for (int i = 0; i < 9 * 7; i++)
        v[i] = (uint16_t)(i * 4), bits[i] = (uint16_t)(i % 3 == 0);
    write_png(in_dir("adam7", "a.png"), &(png_spec){ 9, 7, PNG_COLOR_TYPE_GRAY, 8, 1, v, NULL, 0, NULL });
    write_png(in_dir("adam7", "b.png"), &(png_spec){ 9, 7, PNG_COLOR_TYPE_GRAY, 8, 0, v, NULL, 0, NULL });
    write_png(in_dir("adam7", "c.png"), &(png_spec){ 9, 7, PNG_COLOR_TYPE_GRAY, 1, 0, bits, NULL, 0, NULL });
    gm_dataset *ds = open_dir("adam7", NULL);
    uint8_t px[3 * 63];
    pixels(ds, px, NULL);
    for (int i = 0; i < 63; i++) {
        assert_int_equal(px[i], i * 4);
        assert_int_equal(px[63 + i], i * 4);
        assert_int_equal(px[126 + i], i % 3 == 0 ? 255 : 0);
    }
    gm_dataset_free(ds);
}

static void test_sizes(void **state)
{
    (void)state;
    make_dir("sizes");
    uint16_t big[16];
    for (int i = 0; i < 16; i++)
        big[i] = (uint16_t)(16 * i);
    write_png(in_dir("sizes", "a.png"), &(png_spec){ 4, 4, PNG_COLOR_TYPE_GRAY, 8, 0, big, NULL, 0, NULL });
    grey(in_dir("sizes", "b.png"), 0);
    expect_fails("sizes", NULL, GM_ERR_FORMAT, "b.png' is 3 x 2 pixels", "resize");
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.resize_height = 2, o.resize_width = 2;
    gm_dataset *ds = open_dir("sizes", &o);
    assert_int_equal(gm_dataset_height(ds), 2);
    assert_int_equal(gm_dataset_width(ds), 2);
    uint8_t px[8];
    pixels(ds, px, NULL);
    /* 4 x 4 to 2 x 2 as Pillow's Image.resize(BICUBIC): a window of 8
     * (shrinking by 2 doubles the support) cut by the edges
     * (make_resample_fixture.py prints these) */
    const uint8_t want[4] = { 47, 77, 163, 193 };
    for (int i = 0; i < 4; i++)
        assert_int_equal(px[i], want[i]);
    gm_dataset_free(ds);
    o.resize_width = 0;
    expect_fails("sizes", &o, GM_ERR_INVALID_ARG, "resize_height", NULL);
}

/* image i of ds as bytes (x * 255, which the library made from them
 * exactly), after checking its size, and its label (or -1) */
static int32_t image_bytes(const gm_dataset *ds, int32_t i, int32_t height, int32_t width, uint8_t *out)
{
    int32_t h = 0, w = 0, label = -1;
    assert_int_equal(gm_dataset_image_size(ds, i, &h, &w), GM_OK);
    assert_int_equal(h, height);
    assert_int_equal(w, width);
    const size_t n = (size_t)h * w * gm_dataset_channels(ds);
    float *x = malloc(n * sizeof *x);
    assert_int_equal(gm_dataset_image(ds, i, x, gm_dataset_has_labels(ds) ? &label : NULL), GM_OK);
    for (size_t j = 0; j < n; j++)
        out[j] = (uint8_t)(x[j] * 255.0f + 0.5f);
    free(x);
    return label;
}

static void expect_bytes(const uint8_t *got, const uint8_t *want, size_t n, const char *what)
{
    for (size_t j = 0; j < n; j++)
        if (got[j] != want[j])
            fail_msg("%s: value %zu is %d, want %d", what, j, got[j], want[j]);
}

/* grey g as RGB: (g, g, g) */
static void as_rgb(const uint8_t *grey, size_t n, uint8_t *rgb)
{
    for (size_t j = 0; j < n; j++)
        rgb[3 * j] = rgb[3 * j + 1] = rgb[3 * j + 2] = grey[j];
}

static void test_keep_sizes(void **state)
{
    (void)state;
    /* four sizes, four kinds: bag (0) holds 8-bit grey 3 x 2 and 16-bit
     * grey 4 x 5, shoe (1) RGB 2 x 3 and a palette image 5 x 1 */
    make_dir("ragged");
    make_dir("ragged/bag");
    make_dir("ragged/shoe");
    grey(in_dir("ragged/bag", "1.png"), 1);
    uint16_t g16[20], rgb[18];
    uint8_t want16[20], want_rgb[18];
    for (int i = 0; i < 20; i++)   /* v * 257 is v in 8 bits; 0x1234 rounds to 18 */
        g16[i] = i ? (uint16_t)(13 * i * 257) : 0x1234, want16[i] = (uint8_t)(i ? 13 * i : 18);
    for (int i = 0; i < 18; i++)
        rgb[i] = (uint16_t)(7 * i + 3), want_rgb[i] = (uint8_t)rgb[i];
    write_png(in_dir("ragged/bag", "2.png"), &(png_spec){ 4, 5, PNG_COLOR_TYPE_GRAY, 16, 0, g16, NULL, 0, NULL });
    write_png(in_dir("ragged/shoe", "1.png"), &(png_spec){ 2, 3, PNG_COLOR_TYPE_RGB, 8, 0, rgb, NULL, 0, NULL });
    const uint16_t index[5] = { 0, 1, 2, 1, 0 };
    const uint8_t pal[9] = { 9, 8, 7, 60, 120, 240, 0, 255, 1 };
    write_png(in_dir("ragged/shoe", "2.png"), &(png_spec){ 5, 1, PNG_COLOR_TYPE_PALETTE, 8, 0, index, pal, 3, NULL });

    gm_dataset_options o;
    gm_dataset_options_init(&o);
    assert_int_equal(o.keep_sizes, 0);
    o.keep_sizes = 1;
    gm_dataset *ds = open_dir("ragged", &o);
    assert_int_equal(gm_dataset_count(ds), 4);
    assert_int_equal(gm_dataset_channels(ds), 3);
    assert_int_equal(gm_dataset_n_classes(ds), 2);
    assert_int_equal(gm_dataset_dim(ds), 0);
    assert_int_equal(gm_dataset_height(ds), 0);
    assert_int_equal(gm_dataset_width(ds), 0);
    uint8_t got[60], want[60], grey6[6];
    for (int i = 0; i < 6; i++)
        grey6[i] = (uint8_t)(1 + 10 * i);
    assert_int_equal(image_bytes(ds, 0, 2, 3, got), 0);
    as_rgb(grey6, 6, want);
    expect_bytes(got, want, 18, "bag/1.png");
    assert_int_equal(image_bytes(ds, 1, 5, 4, got), 0);
    as_rgb(want16, 20, want);
    expect_bytes(got, want, 60, "bag/2.png");
    assert_int_equal(image_bytes(ds, 2, 3, 2, got), 1);
    expect_bytes(got, want_rgb, 18, "shoe/1.png");
    assert_int_equal(image_bytes(ds, 3, 1, 5, got), 1);
    for (int i = 0; i < 5; i++)
        memcpy(want + 3 * i, pal + 3 * index[i], 3);
    expect_bytes(got, want, 15, "shoe/2.png");
    /* rows of different lengths: gather refuses, and says what to use */
    float x[60];
    const int32_t idx[1] = { 0 };
    memset(x, 0xA5, sizeof x);
    gm_test_expect_fail(gm_dataset_gather(ds, idx, 1, x, NULL), GM_ERR_INVALID_ARG, "gm_dataset_gather",
                        "images of different sizes: read them one at a time with gm_dataset_image");
    for (size_t j = 0; j < sizeof x; j++)
        assert_int_equal(((uint8_t *)x)[j], 0xA5);
    gm_test_expect_fail(gm_dataset_image_size(ds, 4, &(int32_t){ 0 }, &(int32_t){ 0 }), GM_ERR_INVALID_ARG,
                        "gm_dataset_image_size", "outside [0, 4)");
    gm_dataset_free(ds);

    /* all grey: one channel, each image its size */
    make_dir("ragged_grey");
    grey(in_dir("ragged_grey", "1.png"), 0);
    write_png(in_dir("ragged_grey", "2.png"), &(png_spec){ 1, 1, PNG_COLOR_TYPE_GRAY, 8, 0, (uint16_t[]){ 200 }, NULL,
                                                            0, NULL });
    ds = open_dir("ragged_grey", &o);
    assert_int_equal(gm_dataset_channels(ds), 1);
    assert_int_equal(gm_dataset_has_labels(ds), 0);
    assert_int_equal(image_bytes(ds, 0, 2, 3, got), -1);
    assert_int_equal(got[5], 50);
    assert_int_equal(image_bytes(ds, 1, 1, 1, got), -1);
    assert_int_equal(got[0], 200);
    gm_dataset_free(ds);
}

static void test_keep_sizes_of_one_size(void **state)
{
    (void)state;
    /* images that happen to share a size are still ragged with keep_sizes:
     * what a caller reads does not depend on the folder's luck */
    make_dir("same");
    grey(in_dir("same", "a.png"), 3);
    grey(in_dir("same", "b.png"), 4);
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.keep_sizes = 1;
    gm_dataset *ragged = open_dir("same", &o), *plain = open_dir("same", NULL);
    assert_int_equal(gm_dataset_dim(ragged), 0);
    float x[6];
    gm_test_expect_fail(gm_dataset_gather(ragged, (const int32_t[]){ 0 }, 1, x, NULL), GM_ERR_INVALID_ARG,
                        "gm_dataset_gather", "different sizes");
    /* gm_dataset_image reads an ordinary dataset too: its rows as gather gives them */
    uint8_t rows[12], got[6];
    pixels(plain, rows, NULL);
    for (int32_t i = 0; i < 2; i++) {
        image_bytes(ragged, i, 2, 3, got);
        expect_bytes(got, rows + 6 * i, 6, "ragged");
        image_bytes(plain, i, 2, 3, got);
        expect_bytes(got, rows + 6 * i, 6, "plain");
    }
    gm_dataset_free(ragged);
    gm_dataset_free(plain);
}

static void test_keep_sizes_refused(void **state)
{
    (void)state;
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.keep_sizes = 1, o.resize_height = 2, o.resize_width = 2;
    expect_fails("ragged", &o, GM_ERR_INVALID_ARG, "keep_sizes", "resize");
    o.resize_height = o.resize_width = 0;
    gm_test_write_file(gm_test_path("table.csv"), "1,2\n3,4\n", 8);
    expect_fails("table.csv", &o, GM_ERR_INVALID_ARG, "keep_sizes is for folders", "CSV");
    o.format = GM_DATA_CSV;
    expect_fails("table.csv", &o, GM_ERR_INVALID_ARG, "keep_sizes is for folders", "CSV");
    o.format = GM_DATA_AUTO, o.keep_sizes = -1;
    expect_fails("ragged", &o, GM_ERR_INVALID_ARG, "keep_sizes must be 0 or 1", NULL);

    /* a caller built before keep_sizes: its struct ends where the field
     * starts, and whatever lies beyond is not read (the field reads as 0,
     * so the sizes must agree) */
    o.keep_sizes = 1;
    gm_dataset_options_init_size(&o, offsetof(gm_dataset_options, keep_sizes));
    assert_int_equal(o.struct_size, offsetof(gm_dataset_options, keep_sizes));
    assert_int_equal(o.keep_sizes, 1);   /* init wrote only the old struct */
    expect_fails("ragged", &o, GM_ERR_FORMAT, "is 4 x 5 pixels", "ask for a resize");
    gm_dataset *ds = open_dir("same", &o);
    assert_int_equal(gm_dataset_dim(ds), 6);
    gm_dataset_free(ds);
    o.struct_size = offsetof(gm_dataset_options, keep_sizes) - 1;
    expect_fails("same", &o, GM_ERR_INVALID_ARG, "struct_size", NULL);
}

static void test_bad(void **state)
{
    (void)state;
    make_dir("empty");
    expect_fails("empty", NULL, GM_ERR_FORMAT, "holds no PNG files", NULL);
    make_dir("hollow");
    make_dir("hollow/a");
    make_dir("hollow/b");
    grey(in_dir("hollow/a", "1.png"), 0);
    expect_fails("hollow", NULL, GM_ERR_FORMAT, "hollow/b' holds no PNG files", NULL);
    make_dir("mixed");
    make_dir("mixed/a");
    grey(in_dir("mixed/a", "1.png"), 0);
    grey(in_dir("mixed", "loose.png"), 0);
    expect_fails("mixed", NULL, GM_ERR_FORMAT, "beside class folders", NULL);

    /* a good file cut short, one with a flipped byte in its data, one that is not a PNG */
    make_dir("cut");
    grey(in_dir("cut", "a.png"), 0);
    FILE *f = fopen(in_dir("cut", "a.png"), "rb");
    uint8_t bytes[4096];
    const size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    gm_test_write_file(in_dir("cut", "a.png"), bytes, n - 20);
    expect_fails("cut", NULL, GM_ERR_FORMAT, "cut/a.png' is not a valid PNG", NULL);
    make_dir("flipped");
    bytes[n - 20] ^= 0x40;   /* inside IDAT (IEND is the last 12 bytes): a CRC error */
    gm_test_write_file(in_dir("flipped", "a.png"), bytes, n);
    expect_fails("flipped", NULL, GM_ERR_FORMAT, "flipped/a.png' is not a valid PNG", NULL);
    make_dir("fake");
    gm_test_write_file(in_dir("fake", "a.png"), "GIF89a", 6);
    expect_fails("fake", NULL, GM_ERR_FORMAT, "fake/a.png' is not a PNG file", NULL);

    /* a header declaring 100000 x 100000 pixels, and one byte of image data */
    make_dir("huge");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    f = fopen(in_dir("huge", "a.png"), "wb");
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng failed");
    png_init_io(png, f);
    png_set_IHDR(png, info, 100000, 100000, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_chunk(png, (png_const_bytep) "IDAT", (png_const_bytep) "x", 1);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    expect_fails("huge", NULL, GM_ERR_FORMAT, "100000 x 100000", "more than");

    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.labels_path = in_dir("mixed", "loose.png");
    expect_fails("hollow", &o, GM_ERR_INVALID_ARG, "class folders", NULL);
    gm_dataset_options_init(&o);
    o.format = GM_DATA_PNG_DIR;
    expect_fails("nowhere", &o, GM_ERR_IO, "cannot open the folder", NULL);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    make_dir("sweep");
    make_dir("sweep/x");
    make_dir("sweep/y");
    grey(in_dir("sweep/x", "1.png"), 0);
    grey(in_dir("sweep/y", "1.png"), 9);
    /* listings, names, libpng's structs per header and decode, the pixels, labels, dataset */
    assert_true(gm_test_alloc_sweep(gm_test_open_and_free, &(gm_test_opening){ gm_test_path("sweep"), NULL }) >= 12);
    /* the same kept at their sizes, one of them another: the slots too */
    write_png(in_dir("sweep/y", "2.png"), &(png_spec){ 1, 1, PNG_COLOR_TYPE_GRAY, 8, 0, (uint16_t[]){ 7 }, NULL, 0,
                                                         NULL });
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.keep_sizes = 1;
    assert_true(gm_test_alloc_sweep(gm_test_open_and_free, &(gm_test_opening){ gm_test_path("sweep"), &o }) >= 13);
}

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }
static int group_setup(void **state) { (void)state; return gm_test_dir_make(); }

/* gm_test_dir_remove removes files only; this directory holds folders */
static int group_teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", gm_test_dir());
    return system(cmd) != 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_flat_grey), T(test_classes), T(test_colour_types), T(test_interlaced_and_depths), T(test_sizes),
        T(test_keep_sizes), T(test_keep_sizes_of_one_size), T(test_keep_sizes_refused), T(test_bad),
        T(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

#else

static void test_unsupported(void **state)
{
    (void)state;
    skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_unsupported) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
