/* What every model shares: the input check every call with data makes
 * (whatever the position of a bad value, in a vector's lanes or in the
 * tail, it is refused and named) and the checks of a config's sizes. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

/* GM_MAX_PARAMS weights and biases are allowed, one more is not, counted
 * over every network; the refusal names the largest layer's fields. */
static void test_parameter_count_limit(void **state)
{
    (void)state;
    gm_model_net nets[2];
    const int32_t hidden[1] = { 1024 };
    gm_model_net_init(&nets[0], (1 << 20) - 1, "in", 0, NULL, "h", 1024, "out");  /* 2^20 * 2^10 */
    assert_int_equal(gm_model_check_params(nets, 1, "t"), GM_OK);
    gm_model_net_init(&nets[0], 1 << 20, "in", 0, NULL, "h", 1024, "out");
    assert_int_equal(gm_model_check_params(nets, 1, "t"), GM_ERR_INVALID_ARG);
    assert_string_equal(gm_last_error(), "t: 1073742848 weights and biases are more than GM_MAX_PARAMS "
                                         "(1073741824); the largest layer maps in = 1048576 to out = 1024");
    gm_model_net_init(&nets[0], (1 << 19) - 1, "a", 1, hidden, "a_hidden", 1, "b");
    gm_model_net_init(&nets[1], (1 << 19) - 1, "c", 0, NULL, "c_hidden", 1024, "d");
    assert_int_equal(gm_model_check_params(nets, 2, "t"), GM_ERR_INVALID_ARG);  /* 2^29 + 1025 + 2^29 */
    assert_non_null(strstr(gm_last_error(), "maps a = 524287 to a_hidden[0] = 1024"));
    assert_int_equal(gm_model_check_params(nets + 1, 1, "t"), GM_OK);
}

static void test_sizes_name_their_field(void **state)
{
    (void)state;
    const int32_t widths[3] = { 5, GM_MAX_DIM + 1, 0 };
    assert_int_equal(gm_model_check_hidden(1, widths, 4, "n_h", "h", "t"), GM_OK);
    assert_int_equal(gm_model_check_hidden(2, widths, 4, "n_h", "h", "t"), GM_ERR_INVALID_ARG);
    assert_string_equal(gm_last_error(), "t: h[1] must be in [1, 16777216] (got 16777217)");
    assert_int_equal(gm_model_check_hidden(5, widths, 4, "n_h", "h", "t"), GM_ERR_INVALID_ARG);
    assert_string_equal(gm_last_error(), "t: n_h must be in [0, 4] (got 5)");
    assert_int_equal(gm_model_check_size(INT32_MIN, 1, GM_MAX_DIM, "dim", -1, "t"), GM_ERR_INVALID_ARG);
    assert_string_equal(gm_last_error(), "t: dim must be in [1, 16777216] (got -2147483648)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_in_range_pass),
        cmocka_unit_test(test_each_bad_value_is_found),
        cmocka_unit_test(test_parameter_count_limit),
        cmocka_unit_test(test_sizes_name_their_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
