/* Adam and AdamW against two steps of torch.optim (computed in float64 with
 * torch 1.13: lr 0.1, betas (0.9, 0.999), eps 1e-8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/adam.h"
#include "gm_test.h"

static void run_two_steps(int kind, float weight_decay, const double want1[3], const double want2[3])
{
    gm_optimizer_config cfg;
    gm_optimizer_config_default(&cfg, 0.1f);
    cfg.kind = kind;
    cfg.weight_decay = weight_decay;
    /* two states, as a parameter table keeps them: each step writes the other */
    float p[2][3] = { { 1.0f, -2.0f, 0.5f } }, m[2][3] = { { 0 } }, v[2][3] = { { 0 } };
    const float g1[3] = { 0.5f, -1.0f, 0.0f }, g2[3] = { -0.25f, 3.0f, 1e-3f };
    assert_true(gm_adam_update(p[1], m[1], v[1], p[0], m[0], v[0], g1, 3, &cfg, 1));
    gm_assert_close(p[1], want1, 3, 1e-6, 1e-6, "step 1");
    assert_true(gm_adam_update(p[0], m[0], v[0], p[1], m[1], v[1], g2, 3, &cfg, 2));
    gm_assert_close(p[0], want2, 3, 1e-6, 1e-6, "step 2");
    gm_assert_close(p[1], want1, 3, 1e-6, 1e-6, "step 1's state, untouched");
}

static void test_adam(void **state)
{
    (void)state;
    const double s1[3] = { 0.900000002, -1.900000001, 0.500000000 };
    const double s2[3] = { 0.873366299, -1.949418984, 0.425587370 };
    run_two_steps(GM_OPTIM_ADAM, 0.0f, s1, s2);
}

static void test_adam_l2(void **state)
{
    (void)state;
    const double s1[3] = { 0.900000002, -1.900000001, 0.400000020 };
    const double s2[3] = { 0.854441367, -1.942135646, 0.300998708 };
    run_two_steps(GM_OPTIM_ADAM, 0.1f, s1, s2);
}

static void test_adamw(void **state)
{
    (void)state;
    const double s1[3] = { 0.890000002, -1.880000001, 0.495000000 };
    const double s2[3] = { 0.854466299, -1.910618984, 0.415637370 };
    run_two_steps(GM_OPTIM_ADAMW, 0.1f, s1, s2);
}

static void test_config_check(void **state)
{
    (void)state;
    gm_optimizer_config cfg;
    gm_optimizer_config_default(&cfg, 1e-3f);
    assert_int_equal(gm_optimizer_config_check(&cfg, "t"), GM_OK);
    cfg.lr = 0.0f;
    assert_int_equal(gm_optimizer_config_check(&cfg, "t"), GM_ERR_INVALID_ARG);
    gm_optimizer_config_default(&cfg, 1e-3f);
    cfg.beta2 = 1.0f;
    assert_int_equal(gm_optimizer_config_check(&cfg, "t"), GM_ERR_INVALID_ARG);
    gm_optimizer_config_default(&cfg, 1e-3f);
    cfg.kind = 7;
    assert_int_equal(gm_optimizer_config_check(&cfg, "t"), GM_ERR_INVALID_ARG);
    gm_optimizer_config_default(&cfg, 1e-3f);
    cfg.weight_decay = -1.0f;
    assert_int_equal(gm_optimizer_config_check(&cfg, "t"), GM_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adam_l2),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_config_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
