/* Bicubic resampling (lib/io/resample.c) against Pillow's bytes
 * (resample_fixture.h, from make_resample_fixture.py): floats within a
 * level once rounded (Pillow rounds between its passes), bytes exactly; the same size is a copy, a constant stays
 * constant; sizes out of range; an allocation-failure sweep. */
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
#include "io/resample.h"
#include "resample_fixture.h"

static const char who[] = "test_resample";

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static void test_pillow_floats(void **state)
{
    (void)state;
    double worst = 0.0;
    size_t off = 0, all = 0;
    for (size_t t = 0; t < sizeof fxr_cases / sizeof fxr_cases[0]; t++) {
        const int32_t h = fxr_cases[t].h, w = fxr_cases[t].w, c = fxr_cases[t].c;
        const size_t n = (size_t)h * (size_t)w * (size_t)c;
        float *src = gm_test_unit_floats(fxr_cases[t].src, (size_t)FXR_H * FXR_W * (size_t)c), *got = malloc(n * sizeof *got);
        assert_non_null(got);
        assert_int_equal(gm_resample_bicubic(who, src, FXR_H, FXR_W, c, got, h, w), GM_OK);
        for (size_t i = 0; i < n; i++) {
            const double v = (double)got[i] * 255.0, d = fabs(v - fxr_cases[t].want[i]);
            worst = d > worst ? d : worst;
            off += floor(v + 0.5) != fxr_cases[t].want[i];
            if (d > 1.01 || fabs(floor(v + 0.5) - fxr_cases[t].want[i]) > 1.0)
                fail_msg("%d x %d x %d, value %zu: %.6f where Pillow has %d / 255", (int)h, (int)w, (int)c, i,
                         (double)got[i], fxr_cases[t].want[i]);
        }
        free(src);
        free(got);
        all += n;
    }
    print_message("floats: at most %.4f / 255 from Pillow; %zu of %zu round to another byte\n", worst, off, all);
}

static void test_pillow_bytes(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof fxr_cases / sizeof fxr_cases[0]; t++) {
        const int32_t h = fxr_cases[t].h, w = fxr_cases[t].w, c = fxr_cases[t].c;
        const size_t n = (size_t)h * (size_t)w * (size_t)c;
        uint8_t *got = malloc(n);
        assert_non_null(got);
        assert_int_equal(gm_resample_bicubic_u8(who, fxr_cases[t].src, FXR_H, FXR_W, c, got, h, w), GM_OK);
        for (size_t i = 0; i < n; i++)
            if (got[i] != fxr_cases[t].want[i])
                fail_msg("%d x %d x %d, byte %zu: %d where Pillow has %d", (int)h, (int)w, (int)c, i, got[i],
                         fxr_cases[t].want[i]);
        free(got);
    }
}

static void test_same_size(void **state)
{
    (void)state;
    const size_t n = (size_t)FXR_H * FXR_W * 3;
    float *src = gm_test_unit_floats(fxr_rgb, n), *got = malloc(n * sizeof *got);
    assert_non_null(got);
    assert_int_equal(gm_resample_bicubic(who, src, FXR_H, FXR_W, 3, got, FXR_H, FXR_W), GM_OK);
    assert_memory_equal(got, src, n * sizeof *got);
    uint8_t bytes[FXR_H * FXR_W * 3];
    assert_int_equal(gm_resample_bicubic_u8(who, fxr_rgb, FXR_H, FXR_W, 3, bytes, FXR_H, FXR_W), GM_OK);
    assert_memory_equal(bytes, fxr_rgb, sizeof bytes);
    free(src);
    free(got);
}

/* the weights of every window sum to one, whatever the factor and the edge */
static void test_constant(void **state)
{
    (void)state;
    static const int32_t sizes[][2] = { { 1, 1 }, { 1, 40 }, { 3, 7 }, { 12, 5 }, { 40, 33 }, { 100, 2 } };
    enum { H = 23, W = 31, C = 2 };
    float src[H * W * C];
    uint8_t src8[H * W * C];
    for (size_t i = 0; i < H * W * C; i++)
        src[i] = i % 2 ? 0.3f : 1.0f, src8[i] = i % 2 ? 77 : 255;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        const size_t n = (size_t)sizes[s][0] * (size_t)sizes[s][1] * C;
        float *got = malloc(n * sizeof *got);
        uint8_t *got8 = malloc(n);
        assert_non_null(got);
        assert_non_null(got8);
        assert_int_equal(gm_resample_bicubic(who, src, H, W, C, got, sizes[s][0], sizes[s][1]), GM_OK);
        assert_int_equal(gm_resample_bicubic_u8(who, src8, H, W, C, got8, sizes[s][0], sizes[s][1]), GM_OK);
        for (size_t i = 0; i < n; i++) {
            assert_float_equal(got[i], (i % 2 ? 0.3f : 1.0f), 1e-6);
            assert_int_equal(got8[i], (i % 2 ? 77 : 255));
        }
        free(got);
        free(got8);
    }
}

/* the call fails as a bad argument, saying word */
#define BAD(call, word) gm_test_expect_fail((call), GM_ERR_INVALID_ARG, who, (word))

static void test_errors(void **state)
{
    (void)state;
    float v[4] = { 0 }, out[4];
    uint8_t b[4] = { 0 };
    BAD(gm_resample_bicubic(who, NULL, 2, 2, 1, out, 2, 2), "src is NULL");
    BAD(gm_resample_bicubic(who, v, 2, 2, 1, NULL, 2, 2), "dst is NULL");
    BAD(gm_resample_bicubic_u8(who, NULL, 2, 2, 1, b, 2, 2), "src is NULL");
    BAD(gm_resample_bicubic(who, v, 0, 2, 1, out, 2, 2), "source height");
    BAD(gm_resample_bicubic(who, v, 2, -1, 1, out, 2, 2), "source width");
    BAD(gm_resample_bicubic(who, v, 2, 2, 0, out, 2, 2), "channels");
    BAD(gm_resample_bicubic(who, v, 2, 2, 1, out, 0, 2), "height");
    BAD(gm_resample_bicubic(who, v, 2, 2, 1, out, 2, GM_MAX_DIM + 1), "width");
    /* each side allowed, their product not: refused before anything is read */
    BAD(gm_resample_bicubic(who, v, GM_MAX_DIM, GM_MAX_DIM, GM_MAX_DIM, out, 1, 1), "too large");
    BAD(gm_resample_bicubic(who, v, 1, 1, GM_MAX_DIM, out, GM_MAX_DIM, GM_MAX_DIM), "too large");
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

static gm_status shrink_and_grow(void *ctx)
{
    (void)ctx;
    float *src = gm_test_unit_floats(fxr_rgb, (size_t)FXR_H * FXR_W * 3), small[6 * 8 * 3], big[34 * 26 * 3];
    gm_status s = gm_resample_bicubic(who, src, FXR_H, FXR_W, 3, small, 8, 6);
    if (s == GM_OK)
        s = gm_resample_bicubic(who, small, 8, 6, 3, big, 34, 26);
    free(src);
    return s;
}

static void test_alloc_failure(void **state)
{
    (void)state;
    assert_int_equal(gm_test_alloc_sweep(shrink_and_grow, NULL), 2);  /* one block a call */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pillow_floats),
        T(test_pillow_bytes),
        T(test_same_size),
        T(test_constant),
        T(test_errors),
        T(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
