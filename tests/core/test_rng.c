/* Philox against the Random123 known answers, reproducibility, exact
 * restore of a saved state, and the moments of each distribution. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/rng.h"
#include "gm_test.h"

static void test_known_answers(void **state)
{
    (void)state;
    /* kat_vectors of Random123 for philox4x32_10 */
    const uint32_t zero_ctr[4] = { 0 }, zero_key[2] = { 0 };
    const uint32_t ones_ctr[4] = { ~0u, ~0u, ~0u, ~0u }, ones_key[2] = { ~0u, ~0u };
    const uint32_t pi_ctr[4] = { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 };
    const uint32_t pi_key[2] = { 0xa4093822, 0x299f31d0 };
    uint32_t out[4];
    gm_philox4x32_10(zero_ctr, zero_key, out);
    assert_true(out[0] == 0x6627e8d5 && out[1] == 0xe169c58d && out[2] == 0xbc57ac4c && out[3] == 0x9b00dbd8);
    gm_philox4x32_10(ones_ctr, ones_key, out);
    assert_true(out[0] == 0x408f276d && out[1] == 0x41c83b0e && out[2] == 0xa20bc7c6 && out[3] == 0x6d5451fd);
    gm_philox4x32_10(pi_ctr, pi_key, out);
    assert_true(out[0] == 0xd16cfe09 && out[1] == 0x94fdcceb && out[2] == 0x5001e420 && out[3] == 0x24126ea1);
}

static void test_reproducible_and_restorable(void **state)
{
    (void)state;
    gm_rng a, b;
    float x[37], y[37];
    gm_rng_init(&a, 42);
    gm_rng_init(&b, 42);
    gm_rng_normal(&a, x, 37);
    gm_rng_normal(&b, y, 37);
    assert_memory_equal(x, y, sizeof x);

    gm_rng saved = a;  /* the state is two integers: a copy is a checkpoint */
    gm_rng_uniform(&a, x, 37, -1.0f, 1.0f);
    gm_rng_uniform(&saved, y, 37, -1.0f, 1.0f);
    assert_memory_equal(x, y, sizeof x);
    assert_true(a.counter == saved.counter);

    gm_rng_init(&b, 43);
    gm_rng_normal(&b, y, 37);
    gm_rng_init(&a, 42);
    gm_rng_normal(&a, x, 37);
    int same = 0;
    for (int i = 0; i < 37; i++)
        same += x[i] == y[i];
    assert_true(same < 3);
}

#define MANY 1000000

static void test_moments(void **state)
{
    (void)state;
    float *x = malloc(MANY * sizeof *x);
    assert_non_null(x);
    gm_rng rng;
    gm_rng_init(&rng, 7);

    gm_rng_uniform(&rng, x, MANY, 2.0f, 4.0f);
    double mean = 0, var = 0, lo = 4, hi = 2;
    for (int i = 0; i < MANY; i++) {
        mean += x[i];
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    mean /= MANY;
    for (int i = 0; i < MANY; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= MANY;
    /* standard errors: 0.0006 for the mean, 0.0003 for the variance */
    assert_float_equal(mean, 3.0, 0.003);
    assert_float_equal(var, 4.0 / 12.0, 0.0015);
    assert_true(lo >= 2.0 && hi < 4.0);

    gm_rng_normal(&rng, x, MANY);
    double m1 = 0, m2 = 0, m4 = 0, within = 0;
    for (int i = 0; i < MANY; i++) {
        double v = x[i];
        assert_true(isfinite(v));
        m1 += v;
        m2 += v * v;
        m4 += v * v * v * v;
        within += fabs(v) < 1.0;
    }
    assert_float_equal(m1 / MANY, 0.0, 0.005);
    assert_float_equal(m2 / MANY, 1.0, 0.007);
    assert_float_equal(m4 / MANY, 3.0, 0.05);
    assert_float_equal(within / MANY, 0.682689, 0.0025);
    free(x);
}

static void test_below_is_uniform(void **state)
{
    (void)state;
    gm_rng rng;
    gm_rng_init(&rng, 3);
    int bins[10] = { 0 };
    for (int i = 0; i < 100000; i++) {
        uint32_t k = gm_rng_below(&rng, 10);
        assert_true(k < 10);
        bins[k]++;
    }
    double chi2 = 0;
    for (int k = 0; k < 10; k++)
        chi2 += (bins[k] - 10000.0) * (bins[k] - 10000.0) / 10000.0;
    assert_true(chi2 < 27.9);  /* the 0.999 quantile of chi-square with 9 dof */
    assert_int_equal(gm_rng_below(&rng, 1), 0);

    /* a bound that leaves a quarter of 2^32 over: a plain modulo would put
     * half the draws below 2^30 instead of a third, so the sliver must be
     * drawn again (all four words of a block, now and then) */
    const uint32_t bound = 3u << 30;
    int low = 0;
    for (int i = 0; i < 30000; i++) {
        uint32_t k = gm_rng_below(&rng, bound);
        assert_true(k < bound);
        low += k < (1u << 30);
    }
    assert_true(abs(low - 10000) < 500);   /* 6 standard deviations */
}

/* the fill as it was written before parts existed: every block in turn */
static void normal_reference(gm_rng *rng, float *out, size_t n)
{
    const float two_pi = 6.2831853071795865f;
    uint32_t b[4];
    for (size_t i = 0; i < n; i += 4) {
        gm_rng_block(rng, b);
        for (size_t j = 0; j < 4; j += 2) {
            float r = sqrtf(-2.0f * logf(1.0f - (float)(b[j] >> 8) * (1.0f / 16777216.0f)));
            float theta = two_pi * ((float)(b[j + 1] >> 8) * (1.0f / 16777216.0f));
            if (i + j < n)
                out[i + j] = r * cosf(theta);
            if (i + j + 1 < n)
                out[i + j + 1] = r * sinf(theta);
        }
    }
}

/* Any part of a fill is exactly those values of the whole fill, and moves
 * the counter as the whole does: what lets each data-parallel worker draw
 * its own rows alone. */
static void test_parts_of_a_fill(void **state)
{
    (void)state;
    enum { N = 37 };
    gm_rng whole, ref;
    float all[N], ref_all[N], uni[N], part[N];
    gm_rng_init(&whole, 7);
    whole.counter = 5;
    ref = whole;
    gm_rng_normal(&whole, all, N);
    normal_reference(&ref, ref_all, N);
    assert_memory_equal(all, ref_all, sizeof all);
    assert_true(whole.counter == ref.counter && whole.counter == 5 + (N + 3) / 4);
    gm_rng u;
    gm_rng_init(&u, 7);
    u.counter = 5;
    gm_rng_uniform(&u, uni, N, -2.0f, 3.0f);
    for (size_t first = 0; first <= N; first++)
        for (size_t count = 0; first + count <= N; count++) {
            gm_rng r;
            gm_rng_init(&r, 7);
            r.counter = 5;
            gm_rng_normal_part(&r, part, first, count, N);
            assert_memory_equal(part, all + first, count * sizeof *part);
            assert_true(r.counter == whole.counter);
            gm_rng_init(&r, 7);
            r.counter = 5;
            gm_rng_uniform_part(&r, part, first, count, N, -2.0f, 3.0f);
            assert_memory_equal(part, uni + first, count * sizeof *part);
            assert_true(r.counter == whole.counter);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_parts_of_a_fill),
        cmocka_unit_test(test_reproducible_and_restorable),
        cmocka_unit_test(test_moments),
        cmocka_unit_test(test_below_is_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
