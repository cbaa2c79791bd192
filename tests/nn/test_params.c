/* The parameter table: layout, names, the finite-gradient guard and the
 * optimizer step over the whole table. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
    assert_int_equal(gm_params_add(&t, "fc.weight", 2, ws, &wi, "t"), GM_OK);
    assert_int_equal(gm_params_add(&t, "fc.bias", 1, bs, &bi, "t"), GM_OK);
    assert_int_equal(wi, 0);
    assert_int_equal(bi, 1);
    assert_int_equal(gm_params_alloc(&t, 2, "t"), GM_OK);
    assert_int_equal(t.items[0].numel, 15);
    assert_string_equal(t.items[1].name, "fc.bias");
    /* every tensor starts on a cache line and none overlap */
    assert_true((uintptr_t)gm_param_data(&t, 1) % 64 == 0);
    assert_true(gm_param_data(&t, 1) >= gm_param_data(&t, 0) + 15);
    assert_true(t.m == t.data + t.total && t.v == t.data + 2 * t.total && t.grad == t.data + 6 * t.total);
    assert_int_equal(gm_params_add(&t, "late", 1, bs, NULL, "gm_x_create"), GM_ERR_STATE);
    assert_string_equal(gm_last_error(), "gm_x_create: tensor 'late' added after allocation");
    gm_params_free(&t);
}

static void test_bad_declarations(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int64_t s[GM_PARAM_MAX_RANK + 1] = { 1, 2, 3, 4, 5 };
    char long_name[GM_PARAM_NAME_MAX + 1];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[GM_PARAM_NAME_MAX] = '\0';
    assert_int_equal(gm_params_add(&t, "x", GM_PARAM_MAX_RANK + 1, s, NULL, "t"), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_params_add(&t, long_name, 1, s, NULL, "t"), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_params_add(&t, "scalar", 0, s, NULL, "gm_x_create"), GM_ERR_INVALID_ARG);
    assert_string_equal(gm_last_error(), "gm_x_create: bad tensor 'scalar'");
    assert_int_equal(t.count, 0);
    gm_params_free(&t);
}

/* The table grows past its first 16 entries keeping every one, and a
 * growth that finds no memory leaves it as it was. */
static void test_growth(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int64_t s[1];
    char name[16];
    gm_test_alloc_reset(1);
    assert_int_equal(gm_params_add(&t, "p0", 1, (int64_t[]){ 1 }, NULL, "gm_x_create"), GM_ERR_NO_MEMORY);
    assert_string_equal(gm_last_error(), "gm_x_create: out of memory: cannot grow the parameter table");
    assert_int_equal(t.count, 0);
    assert_null(t.items);
    gm_test_alloc_reset(0);
    for (int i = 0; i < 40; i++) {
        if (i == 16) {   /* the first growth after the initial 16: refused, then made */
            gm_test_alloc_reset(1);
            s[0] = 1;
            assert_int_equal(gm_params_add(&t, "late", 1, s, NULL, "t"), GM_ERR_NO_MEMORY);
            assert_int_equal(t.count, 16);
            assert_string_equal(t.items[15].name, "p15");
            gm_test_alloc_reset(0);
        }
        snprintf(name, sizeof name, "p%d", i);
        s[0] = i + 1;
        int index;
        assert_int_equal(gm_params_add(&t, name, 1, s, &index, "t"), GM_OK);
        assert_int_equal(index, i);
    }
    assert_int_equal(gm_params_alloc(&t, 1, "t"), GM_OK);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "p%d", i);
        assert_string_equal(t.items[i].name, name);
        assert_int_equal(t.items[i].shape[0], i + 1);
        assert_int_equal(t.items[i].numel, (size_t)i + 1);
        assert_true((uintptr_t)gm_param_data(&t, i) % 64 == 0);
        if (i)
            assert_true(gm_param_data(&t, i) >= gm_param_data(&t, i - 1) + i);
    }
    gm_params_free(&t);
}

static void test_step_refused_and_states(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int64_t s[1] = { 4 };
    assert_int_equal(gm_params_add(&t, "p", 1, s, NULL, "t"), GM_OK);
    assert_int_equal(gm_params_alloc(&t, 3, "t"), GM_OK);
    float *first = t.data, *g = gm_param_grad(&t, 0);
    for (int i = 0; i < 4; i++) {
        t.data[i] = 1.0f;
        g[i] = 1.0f;
    }
    gm_optimizer_config cfg;
    gm_optimizer_config_default(&cfg, 0.1f);

    /* a non-finite gradient is refused and nothing moves */
    const float poison[2] = { INFINITY, NAN };
    for (int k = 0; k < 2; k++) {
        g[2] = poison[k];
        assert_false(gm_params_adam_step(&t, &cfg, NULL, NULL));
        assert_ptr_equal(t.data, first);
        assert_int_equal(t.step, 0);
    }
    g[2] = 1.0f;

    /* updates go to another state; the one to keep is never written */
    assert_true(gm_params_adam_step(&t, &cfg, first, NULL));
    assert_true(t.data != first && t.m == t.data + t.total && t.v == t.data + 2 * t.total);
    assert_int_equal(t.step, 1);
    for (int i = 0; i < 4; i++) {
        assert_float_equal(t.data[i], 0.9f, 1e-6);  /* lr against the gradient's sign */
        assert_true(first[i] == 1.0f);
    }
    float *second = t.data;
    assert_true(gm_params_adam_step(&t, &cfg, first, NULL));
    assert_true(t.data != first && t.data != second);
    assert_true(first[0] == 1.0f);
    gm_params_use_state(&t, first);  /* back to where it began */
    assert_true(t.data[3] == 1.0f && t.m[3] == 0.0f);
    gm_params_free(&t);
}

/* One state: the update is made in place, and a refused one leaves the
 * weights and both moments as they were. */
static void test_step_in_place(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int64_t s[1] = { 20 };
    assert_int_equal(gm_params_add(&t, "p", 1, s, NULL, "t"), GM_OK);
    assert_int_equal(gm_params_alloc(&t, 1, "t"), GM_OK);
    assert_true(t.grad == t.data + 3 * t.total);
    float *data = t.data, *g = gm_param_grad(&t, 0), before[3][20];
    gm_test_fill(t.data, 20, -1.0f, 1.0f, 1);
    gm_test_fill(g, 20, -1.0f, 1.0f, 2);
    gm_optimizer_config cfg;
    gm_optimizer_config_default(&cfg, 0.1f);
    assert_true(gm_params_adam_step(&t, &cfg, NULL, NULL));
    assert_ptr_equal(t.data, data);
    assert_int_equal(t.step, 1);
    for (int i = 0; i < 20; i++)
        assert_float_equal(t.m[i], 0.1f * g[i], 1e-7);
    memcpy(before[0], t.data, sizeof before[0]);
    memcpy(before[1], t.m, sizeof before[1]);
    memcpy(before[2], t.v, sizeof before[2]);
    g[19] = NAN;
    assert_false(gm_params_adam_step(&t, &cfg, NULL, NULL));
    assert_int_equal(t.step, 1);
    assert_memory_equal(before[0], t.data, sizeof before[0]);
    assert_memory_equal(before[1], t.m, sizeof before[1]);
    assert_memory_equal(before[2], t.v, sizeof before[2]);
    gm_params_free(&t);
}

/* A bad gradient in the first of several tensors: refused at once, and no
 * tensor, the later ones included, moves. */
static void test_step_refused_early(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int64_t s[1] = { 8 };
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(gm_params_add(&t, name, 1, s, NULL, "t"), GM_OK);
    }
    assert_int_equal(gm_params_alloc(&t, 1, "t"), GM_OK);
    gm_test_fill(t.data, t.total, -1.0f, 1.0f, 3);
    gm_test_fill(t.grad, t.total, -1.0f, 1.0f, 4);
    gm_param_grad(&t, 0)[5] = INFINITY;
    float *before = test_malloc(3 * t.total * sizeof(float));
    memcpy(before, t.data, 3 * t.total * sizeof(float));   /* data, m and v */
    gm_optimizer_config cfg;
    gm_optimizer_config_default(&cfg, 0.1f);
    assert_false(gm_params_adam_step(&t, &cfg, NULL, NULL));
    assert_int_equal(t.step, 0);
    assert_memory_equal(t.data, before, 3 * t.total * sizeof(float));
    test_free(before);
    gm_params_free(&t);
}

/* A buffer is carried from state to state as it is, whatever the step's
 * settings (weight decay would shrink a weight with a zero gradient), and
 * a non-finite value in its gradient run is not read. */
static void test_buffers_are_not_trained(void **state)
{
    (void)state;
    gm_param_table t = { 0 };
    int wi, bi;
    assert_int_equal(gm_params_add(&t, "bn.weight", 1, (int64_t[]){ 3 }, &wi, "t"), GM_OK);
    assert_int_equal(gm_params_add_buffer(&t, "bn.running_var", 4, (int64_t[]){ 3, 1, 1, 1 }, &bi, "t"), GM_OK);
    assert_true(t.items[bi].buffer && !t.items[wi].buffer);
    assert_int_equal(t.items[bi].numel, 3);
    assert_int_equal(gm_params_alloc(&t, 2, "t"), GM_OK);
    gm_optimizer_config cfg = { GM_OPTIM_ADAMW, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f };
    for (int i = 0; i < 3; i++) {
        gm_param_data(&t, wi)[i] = 1.0f;
        gm_param_data(&t, bi)[i] = 2.0f + i;
        gm_param_grad(&t, wi)[i] = 0.25f;
        gm_param_grad(&t, bi)[i] = NAN;
    }
    const float *before = t.data;
    assert_int_equal(gm_params_adam_step(&t, &cfg, NULL, NULL), 1);
    assert_ptr_not_equal(t.data, before);
    for (int i = 0; i < 3; i++) {
        assert_float_equal(gm_param_data(&t, bi)[i], 2.0f + i, 0.0f);
        assert_true(gm_param_data(&t, wi)[i] < 1.0f);
    }
    gm_params_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_declarations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_refused_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_refused_and_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_step_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffers_are_not_trained, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
