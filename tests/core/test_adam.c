/* Adam and AdamW against two steps of torch.optim (computed in float64 with
 * torch 1.13: lr 0.1, betas (0.9, 0.999), eps 1e-8). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/adam.h"
#include "gm_test.h"

/* Two steps in place, as a table with one state makes them, and two to
 * another state, as a table with spares does: both as torch. */
static void run_two_steps(int kind, float weight_decay, const double want1[3], const double want2[3])
{
    gm_optimizer_config cfg;
    gm_optimizer_config_default(&cfg, 0.1f);
    cfg.kind = kind;
    cfg.weight_decay = weight_decay;
    const float g1[3] = { 0.5f, -1.0f, 0.0f }, g2[3] = { -0.25f, 3.0f, 1e-3f };

    float p[3] = { 1.0f, -2.0f, 0.5f }, m[3] = { 0 }, v[3] = { 0 };
    gm_adam_update(p, m, v, g1, 3, &cfg, 1);
    gm_assert_close(p, want1, 3, 1e-6, 1e-6, "step 1 in place");
    gm_adam_update(p, m, v, g2, 3, &cfg, 2);
    gm_assert_close(p, want2, 3, 1e-6, 1e-6, "step 2 in place");

    float q[2][3] = { { 1.0f, -2.0f, 0.5f } }, qm[2][3] = { { 0 } }, qv[2][3] = { { 0 } };
    gm_adam_update_to(q[1], qm[1], qv[1], q[0], qm[0], qv[0], g1, 3, &cfg, 1);
    gm_assert_close(q[1], want1, 3, 1e-6, 1e-6, "step 1 to a new state");
    gm_adam_update_to(q[0], qm[0], qv[0], q[1], qm[1], qv[1], g2, 3, &cfg, 2);
    gm_assert_close(q[0], want2, 3, 1e-6, 1e-6, "step 2 to a new state");
    gm_assert_close(q[1], want1, 3, 1e-6, 1e-6, "step 1's state, untouched");
    assert_memory_equal(p, q[0], sizeof p);
    assert_memory_equal(m, qm[0], sizeof m);
    assert_memory_equal(v, qv[0], sizeof v);
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

/* The loops run in vectors with a scalar tail, and may be built for
 * several vector widths: every element must come out as it does alone,
 * bit for bit, wherever it falls. */
static void test_vector_lanes_match_scalar(void **state)
{
    (void)state;
    enum { N = 77 };
    gm_optimizer_config cfg;
    gm_optimizer_config_default(&cfg, 1e-2f);
    cfg.weight_decay = 0.01f;
    float p[N], m[N], v[N], g[N], p1[N], m1[N], v1[N], out[3][N];
    gm_test_fill(p, N, -1.0f, 1.0f, 1);
    gm_test_fill(m, N, -0.1f, 0.1f, 2);
    gm_test_fill(v, N, 0.0f, 0.01f, 3);
    gm_test_fill(g, N, -2.0f, 2.0f, 4);
    for (int kind = GM_OPTIM_ADAM; kind <= GM_OPTIM_ADAMW; kind++) {
        cfg.kind = kind;
        gm_adam_update_to(out[0], out[1], out[2], p, m, v, g, N, &cfg, 7);
        memcpy(p1, p, sizeof p), memcpy(m1, m, sizeof m), memcpy(v1, v, sizeof v);
        gm_adam_update(p1, m1, v1, g, N, &cfg, 7);
        assert_memory_equal(p1, out[0], sizeof p1);
        assert_memory_equal(m1, out[1], sizeof m1);
        assert_memory_equal(v1, out[2], sizeof v1);
        for (int i = 0; i < N; i++) {
            float pi = p[i], mi = m[i], vi = v[i];
            gm_adam_update(&pi, &mi, &vi, &g[i], 1, &cfg, 7);
            assert_true(pi == out[0][i] && mi == out[1][i] && vi == out[2][i]);
        }
    }
}

/* The check before an update: Inf and NaN anywhere, in a vector's lanes
 * or in the tail, are found; large finite values are not refused. */
static void test_all_finite(void **state)
{
    (void)state;
    enum { N = 77 };
    float x[N];
    gm_test_fill(x, N, -1.0f, 1.0f, 5);
    x[3] = FLT_MAX, x[4] = -FLT_MAX, x[5] = -0.0f, x[6] = FLT_MIN / 4.0f;
    assert_true(gm_all_finite(x, N));
    assert_true(gm_all_finite(x, 0));
    const float bad[3] = { INFINITY, -INFINITY, NAN };
    for (int k = 0; k < 3; k++)
        for (int at = 0; at < N; at++) {
            float keep = x[at];
            x[at] = bad[k];
            assert_false(gm_all_finite(x, N));
            x[at] = keep;
        }
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

    /* every field, each way out of its range, named in the message */
    static const struct { int field; float value; const char *why; } cases[] = {
        { 0, 0.0f, "t: lr must be > 0 (got 0)" }, { 0, -INFINITY, "t: lr must be > 0" },
        { 0, INFINITY, "t: lr must be > 0 (got inf)" }, { 0, NAN, "t: lr must be > 0" },
        { 1, -0.1f, "t: betas must be in [0, 1)" }, { 1, 1.0f, "t: betas must be in [0, 1) (got 1, " },
        { 1, NAN, "t: betas" }, { 2, -0.1f, "t: betas" }, { 2, 1.0f, "t: betas" }, { 2, NAN, "t: betas" },
        { 3, 0.0f, "t: eps must be > 0 (got 0)" }, { 3, INFINITY, "t: eps must be > 0 (got inf)" },
        { 3, NAN, "t: eps" }, { 4, -1.0f, "t: weight_decay must be >= 0 (got -1)" },
        { 4, INFINITY, "t: weight_decay must be >= 0 (got inf)" }, { 4, NAN, "t: weight_decay" },
        { 5, -1.0f, "t: unknown optimizer kind -1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_optimizer_config_default(&cfg, 1e-3f);
        switch (cases[i].field) {
        case 0: cfg.lr = cases[i].value; break;
        case 1: cfg.beta1 = cases[i].value; break;
        case 2: cfg.beta2 = cases[i].value; break;
        case 3: cfg.eps = cases[i].value; break;
        case 4: cfg.weight_decay = cases[i].value; break;
        default: cfg.kind = (int32_t)cases[i].value; break;
        }
        gm_status st = gm_optimizer_config_check(&cfg, "t");
        if (st != GM_ERR_INVALID_ARG || strncmp(gm_last_error(), cases[i].why, strlen(cases[i].why)))
            fail_msg("case %zu: status %d, '%s': wanted '%s...'", i, st, gm_last_error(), cases[i].why);
    }
    gm_optimizer_config_default(&cfg, 1e-3f);
    cfg.kind = GM_OPTIM_ADAMW;
    cfg.beta1 = 0.0f;   /* the closed ends of the ranges are fine */
    cfg.weight_decay = 0.0f;
    assert_int_equal(gm_optimizer_config_check(&cfg, "t"), GM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adam_l2),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_vector_lanes_match_scalar),
        cmocka_unit_test(test_all_finite),
        cmocka_unit_test(test_config_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
