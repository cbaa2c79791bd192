/* Writing images (lib/io/image.c): IDX bytes and rounding, a PGM grid
 * checked byte by byte, a PNG grid read back through libpng, argument and
 * I/O errors, and allocation failures. Every test runs under the counting
 * allocator, so leaks fail it. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unistd.h>
#include <cmocka.h>
#ifdef GM_HAVE_PNG
#include <png.h>
#endif

#include "genmodel/data.h"
#include "gm_test.h"


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

static float *levels(int n, int h, int w);

static void expect_fail(gm_status st, gm_status want, const char *who, const char *word)
{
    if (st != want)
        fail_msg("got status %d (%s), want %d", st, gm_last_error(), want);
    const char *msg = gm_last_error();
    if (!strstr(msg, who) || !strstr(msg, word))
        fail_msg("message \"%s\" should name %s and say '%s'", msg, who, word);
}

static void test_idx_bytes(void **state)
{
    (void)state;
    /* Clamped, rounded to the nearest level, NaN to 0; no value sits on a
     * half level, where float rounding could go either way. */
    const float v[12] = { -1.0f, 0.0f, 0.0019f, 0.0021f, 0.5f, 127.4f / 255.0f,
                          254.6f / 255.0f, 1.0f, 2.0f, NAN, INFINITY, -INFINITY };
    static const unsigned char want[16 + 12] = {
        0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 4,
        0, 0, 0, 1, 128, 127, 255, 255, 255, 0, 255, 0,
    };
    const char *p = gm_test_path("bytes-idx");
    assert_int_equal(gm_idx_write_images(p, v, 3, 1, 4), GM_OK);
    size_t len;
    unsigned char *got = read_all(p, &len);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(got, want, sizeof want);
    free(got);

    /* Overwriting is allowed and leaves only the new content. */
    assert_int_equal(gm_idx_write_images(p, v, 1, 2, 2), GM_OK);
    got = read_all(p, &len);
    assert_int_equal(len, 16 + 4);
    free(got);
    assert_int_equal(gm_test_alloc.allocs, 0);  /* no heap needed to write IDX */
}

static void test_idx_errors(void **state)
{
    (void)state;
    static const char who[] = "gm_idx_write_images";
    float v[4] = { 0 };
    const char *p = gm_test_path("err-idx");
    expect_fail(gm_idx_write_images(NULL, v, 1, 2, 2), GM_ERR_INVALID_ARG, who, "path");
    expect_fail(gm_idx_write_images("", v, 1, 2, 2), GM_ERR_INVALID_ARG, who, "path is empty");
    expect_fail(gm_idx_write_images(p, NULL, 1, 2, 2), GM_ERR_INVALID_ARG, who, "images");
    expect_fail(gm_idx_write_images(p, v, 0, 2, 2), GM_ERR_INVALID_ARG, who, "> 0");
    expect_fail(gm_idx_write_images(p, v, 1, -2, 2), GM_ERR_INVALID_ARG, who, "> 0");
    expect_fail(gm_idx_write_images(p, v, 1, 2, 0), GM_ERR_INVALID_ARG, who, "> 0");
    /* Too large to read back; refused before images is touched. */
    expect_fail(gm_idx_write_images(p, v, 65536, 65536, 1), GM_ERR_INVALID_ARG, who, "exceed");
    expect_fail(gm_idx_write_images(p, v, INT32_MAX, INT32_MAX, INT32_MAX), GM_ERR_INVALID_ARG,
                who, "exceed");
    expect_fail(gm_idx_write_images(gm_test_path("no-dir/x"), v, 1, 2, 2), GM_ERR_IO, who,
                strerror(ENOENT));
    if (access("/dev/full", W_OK) == 0) {
        expect_fail(gm_idx_write_images("/dev/full", v, 1, 2, 2), GM_ERR_IO, who, strerror(ENOSPC));
        /* more than a buffer's worth: the write itself fails, and that is what is told */
        float *big = levels(2, 64, 64);
        expect_fail(gm_idx_write_images("/dev/full", big, 2, 64, 64), GM_ERR_IO, who,
                    "cannot write '/dev/full': No space left on device");
        free(big);
    }
}

/* Image k's pixel (y, x) is level k * h * w + y * w + x + 1. */
static float *levels(int n, int h, int w)
{
    float *v = malloc((size_t)n * (size_t)h * (size_t)w * sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < n * h * w; i++)
        v[i] = (float)((i + 1) % 256) / 255.0f;
    return v;
}

static void test_grid_pgm(void **state)
{
    (void)state;
    /* Three 2 x 3 images, two per row: 12 x 10 with a 2-pixel black frame
     * and gaps, and the fourth cell left black. */
    static const char head[] = "P5\n12 10\n255\n";
    static const unsigned char want[10][12] = {
        { 0 },
        { 0 },
        { 0, 0, 1, 2, 3, 0, 0, 7, 8, 9, 0, 0 },
        { 0, 0, 4, 5, 6, 0, 0, 10, 11, 12, 0, 0 },
        { 0 },
        { 0 },
        { 0, 0, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0 },
        { 0, 0, 16, 17, 18, 0, 0, 0, 0, 0, 0, 0 },
        { 0 },
        { 0 },
    };
    float *v = levels(3, 2, 3);
    const char *p = gm_test_path("grid.pgm");
    assert_int_equal(gm_image_write_grid(p, v, 3, 2, 3, 2), GM_OK);
    size_t len;
    unsigned char *got = read_all(p, &len);
    assert_int_equal(len, strlen(head) + sizeof want);
    assert_memory_equal(got, head, strlen(head));
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 12; x++)
            if (got[strlen(head) + (size_t)y * 12 + (size_t)x] != want[y][x])
                fail_msg("pixel (%d, %d): got %d, want %d", y, x,
                         got[strlen(head) + (size_t)y * 12 + (size_t)x], want[y][x]);
    free(got);

    /* More columns than images: the grid is still cols cells wide. One
     * column: a strip. Any other extension is PGM too. */
    assert_int_equal(gm_image_write_grid(p, v, 1, 2, 3, 3), GM_OK);
    got = read_all(p, &len);
    assert_memory_equal(got, "P5\n17 6\n255\n", 12);
    assert_int_equal(len, 12 + 17 * 6);
    free(got);
    assert_int_equal(gm_image_write_grid(gm_test_path("strip.png.txt"), v, 3, 2, 3, 1), GM_OK);
    got = read_all(gm_test_path("strip.png.txt"), &len);
    assert_memory_equal(got, "P5\n7 14\n255\n", 12);
    free(got);
    /* names too short for ".png", and one that only starts like it */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(gm_test_dir()), 0);
    static const char *const names[] = { "g", "png", "a.pnx" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(gm_image_write_grid(names[i], v, 1, 2, 3, 1), GM_OK);
        got = read_all(names[i], &len);
        assert_memory_equal(got, "P5\n7 6\n255\n", 11);
        free(got);
    }
    assert_int_equal(chdir(cwd), 0);
    free(v);
}

#ifdef GM_HAVE_PNG
/* A greyscale 8-bit PNG through libpng's read API; the pixels, malloc'd. */
static unsigned char *read_png(const char *path, uint32_t *w, uint32_t *h)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng could not read %s", path);
    png_init_io(png, f);
    png_read_info(png, info);
    *w = png_get_image_width(png, info);
    *h = png_get_image_height(png, info);
    assert_int_equal(png_get_bit_depth(png, info), 8);
    assert_int_equal(png_get_color_type(png, info), PNG_COLOR_TYPE_GRAY);
    assert_int_equal(png_get_interlace_type(png, info), PNG_INTERLACE_NONE);
    unsigned char *pixels = malloc((size_t)*w * *h);
    assert_non_null(pixels);
    for (uint32_t y = 0; y < *h; y++)
        png_read_row(png, pixels + (size_t)y * *w, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return pixels;
}
#endif

static void test_grid_png(void **state)
{
    (void)state;
    enum { N = 7, H = 9, W = 6, COLS = 3 };
    float v[N * H * W];
    gm_test_fill(v, N * H * W, -0.2f, 1.2f, 3);
    const char *png = gm_test_path("grid.png");
    if (!gm_have_png()) {
        expect_fail(gm_image_write_grid(png, v, N, H, W, COLS), GM_ERR_UNSUPPORTED,
                    "gm_image_write_grid", "PNG");
        skip();
    }
#ifdef GM_HAVE_PNG
    const char *pgm = gm_test_path("grid-ref.pgm");
    assert_int_equal(gm_image_write_grid(pgm, v, N, H, W, COLS), GM_OK);
    size_t len;
    unsigned char *ref = read_all(pgm, &len);
    static const char head[] = "P5\n26 35\n255\n";  /* 3 * (6 + 2) + 2, 3 * (9 + 2) + 2 */
    assert_memory_equal(ref, head, strlen(head));
    assert_int_equal(len, strlen(head) + 26 * 35);
    /* The extension is matched without regard to case. */
    const char *names[2] = { png, gm_test_path("GRID.PNG") };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(gm_image_write_grid(names[i], v, N, H, W, COLS), GM_OK);
        uint32_t w, h;
        unsigned char *got = read_png(names[i], &w, &h);
        assert_int_equal(w, 26);
        assert_int_equal(h, 35);
        assert_memory_equal(got, ref + strlen(head), 26 * 35);
        free(got);
    }
    free(ref);
#endif
}

/* RGB: two 1 x 2 images of 3 channels side by side in a 10 x 5 PPM, the
 * channels of a pixel together; the PNG holds the same pixels (read back
 * through the PNG folder reader). */
static void test_grid_rgb(void **state)
{
    (void)state;
    float v[2 * 2 * 3];
    for (int i = 0; i < 12; i++)
        v[i] = (float)(10 * (i + 1)) / 255.0f;
    const char *ppm = gm_test_path("rgb.ppm");
    assert_int_equal(gm_image_write_grid_channels(ppm, v, 2, 1, 2, 3, 2), GM_OK);
    size_t len;
    unsigned char *got = read_all(ppm, &len);
    static const char head[] = "P6\n10 5\n255\n";
    assert_int_equal(len, strlen(head) + 10 * 5 * 3);
    assert_memory_equal(got, head, strlen(head));
    const unsigned char *px = got + strlen(head);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 10; x++)
            for (int c = 0; c < 3; c++) {
                const int img = x >= 6 ? 1 : 0, col = x - 2 - 4 * img;
                const int inside = y == 2 && col >= 0 && col < 2;
                const int want = inside ? 10 * (img * 6 + col * 3 + c + 1) : 0;
                assert_int_equal(px[(y * 10 + x) * 3 + c], want);
            }
    if (gm_have_png()) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s", gm_test_path("rgbdir"));
        assert_int_equal(mkdir(dir, 0700), 0);
        char png[700];
        snprintf(png, sizeof png, "%s/grid.png", dir);
        assert_int_equal(gm_image_write_grid_channels(png, v, 2, 1, 2, 3, 2), GM_OK);
        gm_dataset *ds = NULL;
        assert_int_equal(gm_dataset_open(dir, NULL, &ds), GM_OK);
        assert_int_equal(gm_dataset_channels(ds), 3);
        assert_int_equal(gm_dataset_width(ds), 10);
        float back[150];
        int32_t idx = 0;
        assert_int_equal(gm_dataset_gather(ds, &idx, 1, back, NULL), GM_OK);
        for (int i = 0; i < 150; i++)
            assert_int_equal((int)(back[i] * 255.0f + 0.5f), px[i]);
        gm_dataset_free(ds);
        unlink(png);
        rmdir(dir);
    }
    free(got);
}

static void test_grid_errors(void **state)
{
    (void)state;
    static const char who[] = "gm_image_write_grid";
    float v[4] = { 0 };
    const char *p = gm_test_path("err.pgm");
    expect_fail(gm_image_write_grid(NULL, v, 1, 2, 2, 1), GM_ERR_INVALID_ARG, who, "path");
    expect_fail(gm_image_write_grid("", v, 1, 2, 2, 1), GM_ERR_INVALID_ARG, who, "path is empty");
    expect_fail(gm_image_write_grid(p, NULL, 1, 2, 2, 1), GM_ERR_INVALID_ARG, who, "images");
    expect_fail(gm_image_write_grid(p, v, -1, 2, 2, 1), GM_ERR_INVALID_ARG, who, "> 0");
    expect_fail(gm_image_write_grid(p, v, 1, 0, 2, 1), GM_ERR_INVALID_ARG, who, "> 0");
    expect_fail(gm_image_write_grid(p, v, 1, 2, -5, 1), GM_ERR_INVALID_ARG, who, "> 0");
    expect_fail(gm_image_write_grid(p, v, 1, 2, 2, 0), GM_ERR_INVALID_ARG, who, "cols");
    expect_fail(gm_image_write_grid(p, v, 1, 65536, 65536, 1), GM_ERR_INVALID_ARG, who, "too large");
    expect_fail(gm_image_write_grid(p, v, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX),
                GM_ERR_INVALID_ARG, who, "too large");
    assert_int_equal(gm_test_alloc.allocs, 0);

    const char *missing[2] = { gm_test_path("no-dir/x.pgm"), gm_test_path("no-dir/x.png") };
    for (int i = 0; i < 1 + gm_have_png(); i++) {
        expect_fail(gm_image_write_grid(missing[i], v, 1, 2, 2, 1), GM_ERR_IO, who,
                    strerror(ENOENT));
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
    }
    if (access("/dev/full", W_OK) == 0) {
        /* A full disk shows up when the stream is flushed, at the latest in fclose. */
        expect_fail(gm_image_write_grid("/dev/full", v, 1, 2, 2, 1), GM_ERR_IO, who, "/dev/full");
        if (gm_have_png()) {
            assert_int_equal(symlink("/dev/full", gm_test_path("full.png")), 0);
            expect_fail(gm_image_write_grid(gm_test_path("full.png"), v, 1, 2, 2, 1), GM_ERR_IO, who,
                        "full.png");
        }
        /* more than a buffer's worth: the write fails at once, and is told */
        enum { S = 96 };
        float *noise = malloc(S * S * sizeof *noise);
        assert_non_null(noise);
        gm_test_fill(noise, S * S, 0.0f, 1.0f, 5);   /* incompressible, for the PNG */
        expect_fail(gm_image_write_grid("/dev/full", noise, 1, S, S, 1), GM_ERR_IO, who,
                    "cannot write '/dev/full': No space left on device");
        if (gm_have_png())
            expect_fail(gm_image_write_grid(gm_test_path("full.png"), noise, 1, S, S, 1), GM_ERR_IO, who,
                        "full.png': libpng: ");
        free(noise);
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
    }
}

/* Failing each allocation in turn gives GM_ERR_NO_MEMORY and leaves
 * nothing allocated, until the write succeeds. */
static void sweep(const char *path, size_t min_allocs)
{
    float *v = levels(5, 8, 8);
    size_t k;
    for (k = 1;; k++) {
        gm_test_alloc_reset(k);
        gm_status st = gm_image_write_grid(path, v, 5, 8, 8, 2);
        size_t failed = gm_test_alloc.allocs >= k;
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees + failed);
        if (st == GM_OK && !failed)
            break;
        if (st != GM_OK && st != GM_ERR_NO_MEMORY)
            fail_msg("failing allocation %zu: status %d (%s)", k, st, gm_last_error());
        if (st != GM_OK)
            assert_true(gm_last_error()[0] != '\0');
    }
    assert_true(k - 1 >= min_allocs);
    free(v);
}

static void test_grid_alloc_failure(void **state)
{
    (void)state;
    sweep(gm_test_path("af.pgm"), 1);
    if (gm_have_png())
        sweep(gm_test_path("af.png"), 3);  /* grid, png struct, info struct, zlib's, row buffers */
}

static void test_have_png(void **state)
{
    (void)state;
#ifdef GM_HAVE_PNG
    assert_int_equal(gm_have_png(), 1);
#else
    assert_int_equal(gm_have_png(), 0);
#endif
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_idx_bytes),
        T(test_idx_errors),
        T(test_grid_pgm),
        T(test_grid_png),
        T(test_grid_rgb),
        T(test_grid_errors),
        T(test_grid_alloc_failure),
        T(test_have_png),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
