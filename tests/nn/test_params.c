/* The parameter table: layout, names, the finite-gradient guard and the
 * optimizer step over the whole table. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "nn/params.h"
#include "core/adam.h"
#include "gm_test.h"

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static void test_layout(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int64_t ws[2] = { 3, 5 }, bs[1] = { 3 };
    int wi, bi;
    assert_int_equal(gm_params_add(&t, "fc.weight", 2, ws, &wi), GM_OK);
    assert_int_equal(gm_params_add(&t, "fc.bias", 1, bs, &bi), GM_OK);
    assert_int_equal(wi, 0);
    assert_int_equal(bi, 1);
    assert_int_equal(gm_params_alloc(&t), GM_OK);
    assert_int_equal(t.items[0].numel, 15);
    assert_string_equal(t.items[1].name, "fc.bias");
    /* every tensor starts on a cache line and none overlap */
    assert_true((uintptr_t)gm_param_data(&t, 1) % 64 == 0);
    assert_true(gm_param_data(&t, 1) >= gm_param_data(&t, 0) + 15);
    assert_true(t.m == t.data + t.total && t.v == t.data + 2 * t.total && t.grad == t.data + 3 * t.total);
    assert_int_equal(gm_params_add(&t, "late", 1, bs, NULL), GM_ERR_STATE);
    gm_params_free(&t);
}

static void test_bad_declarations(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int64_t s[3] = { 1, 2, 3 };
    char long_name[GM_PARAM_NAME_MAX + 1];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[GM_PARAM_NAME_MAX] = '\0';
    assert_int_equal(gm_params_add(&t, "x", 3, s, NULL), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_params_add(&t, long_name, 1, s, NULL), GM_ERR_INVALID_ARG);
    gm_params_free(&t);
}

static void test_grad_finite_and_step(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int64_t s[1] = { 4 };
    assert_int_equal(gm_params_add(&t, "p", 1, s, NULL), GM_OK);
    assert_int_equal(gm_params_alloc(&t), GM_OK);
    float *p = gm_param_data(&t, 0), *g = gm_param_grad(&t, 0);
    for (int i = 0; i < 4; i++) {
        p[i] = 1.0f;
        g[i] = 1.0f;
    }
    assert_true(gm_params_grad_finite(&t));
    g[2] = INFINITY;
    assert_false(gm_params_grad_finite(&t));
    g[2] = NAN;
    assert_false(gm_params_grad_finite(&t));
    g[2] = 1.0f;
    gm_optimizer_config cfg;
    gm_optimizer_config_default(&cfg, 0.1f);
    gm_params_adam_step(&t, &cfg);
    assert_int_equal(t.step, 1);
    /* Adam's first step moves each weight by lr against the gradient's sign */
    for (int i = 0; i < 4; i++)
        assert_float_equal(p[i], 0.9f, 1e-6);
    gm_params_zero_grad(&t);
    assert_true(g[0] == 0.0f && g[3] == 0.0f);
    gm_params_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_declarations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grad_finite_and_step, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
