/* PSNR and SSIM (lib/io/quality.c) against scikit-image's values
 * (quality_fixture.h, from make_resample_fixture.py) on images and their
 * bicubic round trips, whole and cropped, per channel and on the
 * luminance; identical images; bad arguments; an allocation-failure
 * sweep. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "genmodel/common.h"
#include "gm_test.h"
#include "io/quality.h"
#include "quality_fixture.h"

static const char who[] = "test_quality";

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static double psnr(const float *a, const float *b, int32_t c, int32_t border, gm_quality_space space)
{
    double v = 0.0;
    assert_int_equal(gm_quality_psnr(who, a, b, FXQ_H, FXQ_W, c, border, space, &v), GM_OK);
    return v;
}

static double ssim(const float *a, const float *b, int32_t c, int32_t border, gm_quality_space space)
{
    double v = 0.0;
    assert_int_equal(gm_quality_ssim(who, a, b, FXQ_H, FXQ_W, c, border, space, &v), GM_OK);
    return v;
}

static void close_to(double got, double want, double tol, const char *what, double *worst)
{
    const double d = fabs(got - want);
    *worst = d > *worst ? d : *worst;
    if (!(d <= tol))
        fail_msg("%s: %.9f where scikit-image has %.9f", what, got, want);
}

static void test_skimage(void **state)
{
    (void)state;
    const size_t n = (size_t)FXQ_H * FXQ_W;
    float *ga = gm_test_unit_floats(fxq_grey_a, n), *gb = gm_test_unit_floats(fxq_grey_b, n);
    float *ca = gm_test_unit_floats(fxq_rgb_a, 3 * n), *cb = gm_test_unit_floats(fxq_rgb_b, 3 * n);
    const gm_quality_space ch = GM_QUALITY_CHANNELS;
    double wp = 0.0, ws = 0.0;
    close_to(psnr(ga, gb, 1, 0, ch), fxq_grey_want[0], 1e-4, "grey PSNR", &wp);
    close_to(psnr(ga, gb, 1, FXQ_BORDER, ch), fxq_grey_want[1], 1e-4, "grey PSNR cropped", &wp);
    close_to(ssim(ga, gb, 1, 0, ch), fxq_grey_want[2], 1e-4, "grey SSIM", &ws);
    close_to(ssim(ga, gb, 1, FXQ_BORDER, ch), fxq_grey_want[3], 1e-4, "grey SSIM cropped", &ws);
    close_to(psnr(ca, cb, 3, 0, ch), fxq_rgb_want[0], 1e-4, "RGB PSNR", &wp);
    close_to(psnr(ca, cb, 3, FXQ_BORDER, ch), fxq_rgb_want[1], 1e-4, "RGB PSNR cropped", &wp);
    close_to(ssim(ca, cb, 3, 0, ch), fxq_rgb_want[2], 1e-4, "RGB SSIM", &ws);
    close_to(ssim(ca, cb, 3, FXQ_BORDER, ch), fxq_rgb_want[3], 1e-4, "RGB SSIM cropped", &ws);
    close_to(psnr(ca, cb, 3, FXQ_BORDER, GM_QUALITY_LUMA), fxq_rgb_want[4], 1e-4, "Y PSNR cropped", &wp);
    close_to(ssim(ca, cb, 3, FXQ_BORDER, GM_QUALITY_LUMA), fxq_rgb_want[5], 1e-4, "Y SSIM cropped", &ws);
    print_message("at most %.2g dB (PSNR) and %.2g (SSIM) from scikit-image\n", wp, ws);
    free(ga), free(gb), free(ca), free(cb);
}

static void test_identical(void **state)
{
    (void)state;
    const size_t n = (size_t)FXQ_H * FXQ_W * 3;
    float *a = gm_test_unit_floats(fxq_rgb_a, n);
    for (int space = 0; space < 2; space++) {
        assert_true(isinf(psnr(a, a, 3, 0, (gm_quality_space)space)));
        assert_true(psnr(a, a, 3, 3, (gm_quality_space)space) > 0);
        assert_float_equal(ssim(a, a, 3, 0, (gm_quality_space)space), 1.0, 1e-12);
        assert_float_equal(ssim(a, a, 3, 3, (gm_quality_space)space), 1.0, 1e-12);
    }
    /* a constant image: no variance, and still 1 */
    float *flat = calloc(n, sizeof *flat);
    assert_non_null(flat);
    assert_float_equal(ssim(flat, flat, 3, 0, GM_QUALITY_CHANNELS), 1.0, 1e-12);
    /* one value off by 0.1 of 1 value in n: MSE 0.01 / n */
    flat[5] = 0.1f;
    float *zero = calloc(n, sizeof *zero);
    assert_non_null(zero);
    assert_float_equal(psnr(flat, zero, 3, 0, GM_QUALITY_CHANNELS), 10.0 * log10((double)n / 0.01), 1e-4);
    free(a), free(flat), free(zero);
}

/* the call fails as a bad argument, saying word */
#define BAD(call, word) gm_test_expect_fail((call), GM_ERR_INVALID_ARG, who, (word))

static void test_errors(void **state)
{
    (void)state;
    float a[12 * 12 * 3] = { 0 };
    double v;
    const gm_quality_space ch = GM_QUALITY_CHANNELS, y = GM_QUALITY_LUMA;
    gm_status (*const fns[2])(const char *, const float *, const float *, int32_t, int32_t, int32_t, int32_t,
                              gm_quality_space, double *) = { gm_quality_psnr, gm_quality_ssim };
    for (int f = 0; f < 2; f++) {
        BAD(fns[f](who, NULL, a, 12, 12, 1, 0, ch, &v), "a is NULL");
        BAD(fns[f](who, a, NULL, 12, 12, 1, 0, ch, &v), "b is NULL");
        BAD(fns[f](who, a, a, 12, 12, 1, 0, ch, NULL), "the result is NULL");
        BAD(fns[f](who, a, a, 0, 12, 1, 0, ch, &v), "height");
        BAD(fns[f](who, a, a, 12, GM_MAX_DIM + 1, 1, 0, ch, &v), "width");
        BAD(fns[f](who, a, a, 12, 12, 0, 0, ch, &v), "channels");
        BAD(fns[f](who, a, a, GM_MAX_DIM, GM_MAX_DIM, GM_MAX_DIM, 0, ch, &v), "too large");
        BAD(fns[f](who, a, a, 12, 12, 1, 0, (gm_quality_space)2, &v), "unknown space");
        BAD(fns[f](who, a, a, 12, 12, 1, 0, y, &v), "3 channels");
        BAD(fns[f](who, a, a, 12, 12, 1, -1, ch, &v), "border of -1");
        BAD(fns[f](who, a, a, 12, 12, 1, 6, ch, &v), "border of 6");
    }
    /* SSIM's window needs 11 x 11 after the crop; PSNR one pixel */
    assert_int_equal(gm_quality_psnr(who, a, a, 12, 12, 3, 5, y, &v), GM_OK);
    assert_int_equal(gm_quality_ssim(who, a, a, 11, 12, 3, 0, y, &v), GM_OK);
    BAD(gm_quality_ssim(who, a, a, 12, 12, 3, 1, y, &v), "less than 11 x 11");
    BAD(gm_quality_ssim(who, a, a, 12, 10, 1, 0, ch, &v), "less than 11 x 11");
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

static gm_status measure(void *ctx)
{
    (void)ctx;
    float a[12 * 12] = { 0 }, b[12 * 12] = { 0 };
    double v;
    return gm_quality_ssim(who, a, b, 12, 12, 1, 0, GM_QUALITY_CHANNELS, &v);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    assert_int_equal(gm_test_alloc_sweep(measure, NULL), 1);  /* one block */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_skimage),
        T(test_identical),
        T(test_errors),
        T(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
