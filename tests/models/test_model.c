/* The input check every step makes: whatever the position of a bad value
 * (in a vector's lanes or in the tail), it is refused and named. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "genmodel/common.h"
#include "models/model.h"
#include "gm_test.h"

enum { N = 7, DIM = 11 };

static const gm_domain unit = { 0.0f, 1.0f, "[0, 1]" };

static void test_values_in_range_pass(void **state)
{
    (void)state;
    float x[N * DIM];
    gm_test_fill(x, N * DIM, 0.0f, 1.0f, 1);
    x[0] = 0.0f, x[N * DIM - 1] = 1.0f;  /* the bounds themselves are inside */
    assert_int_equal(gm_model_check_values("x", x, N, DIM, &unit, "t"), GM_OK);
    x[3] = FLT_MAX, x[4] = -FLT_MAX;
    assert_int_equal(gm_model_check_values("x", x, N, DIM, &gm_domain_finite, "t"), GM_OK);
}

static void test_each_bad_value_is_found(void **state)
{
    (void)state;
    const float bad[] = { NAN, INFINITY, -INFINITY, -1e-7f, 1.0f + 1e-6f };
    float x[N * DIM];
    gm_test_fill(x, N * DIM, 0.0f, 1.0f, 2);
    char where[32];
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        for (int at = 0; at < N * DIM; at++) {
            float keep = x[at];
            x[at] = bad[k];
            assert_int_equal(gm_model_check_values("x", x, N, DIM, &unit, "t"), GM_ERR_INVALID_ARG);
            snprintf(where, sizeof where, "x[%d][%d] = ", at / DIM, at % DIM);
            assert_non_null(strstr(gm_last_error(), where));
            assert_non_null(strstr(gm_last_error(), "is outside [0, 1]"));
            if (k < 3)  /* only Inf and NaN are outside the finite numbers */
                assert_int_equal(gm_model_check_values("x", x, N, DIM, &gm_domain_finite, "t"),
                                 GM_ERR_INVALID_ARG);
            x[at] = keep;
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_in_range_pass),
        cmocka_unit_test(test_each_bad_value_is_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
