/* Adversarial losses: hand-computed values, derivatives against finite
 * differences for every kind and role, finiteness at extreme logits. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/adv_loss.h"
#include "genmodel/gan.h"
#include "gm_test.h"

enum { N = 6 };
#define TARGET 0.9f

typedef struct { int kind; gm_adv_role role; } ctx_t;

static double mean_loss(const double *l, void *vc)
{
    const ctx_t *c = vc;
    double sum = 0;
    for (int i = 0; i < N; i++) {
        double x = l[i], sp = log1p(exp(x)), spn = log1p(exp(-x));
        double t = c->role == GM_ADV_D_REAL ? TARGET : 0.0;
        switch (c->kind) {
        case GM_GAN_NONSATURATING:
        case GM_GAN_MINIMAX:
            if (c->role != GM_ADV_G_FAKE)
                sum += t * spn + (1 - t) * sp;  /* -t log s(x) - (1-t) log(1-s(x)) */
            else
                sum += c->kind == GM_GAN_NONSATURATING ? spn : -sp;
            break;
        case GM_GAN_HINGE:
            sum += c->role == GM_ADV_D_REAL ? fmax(1 - x, 0) : c->role == GM_ADV_D_FAKE ? fmax(1 + x, 0) : -x;
            break;
        case GM_GAN_LSGAN:
            t = c->role == GM_ADV_D_REAL ? TARGET : c->role == GM_ADV_D_FAKE ? 0.0 : 1.0;
            sum += 0.5 * (x - t) * (x - t);
            break;
        default:
            sum += c->role == GM_ADV_D_FAKE ? x : -x;
        }
    }
    return sum / N;
}

static void test_against_reference(void **state)
{
    (void)state;
    float logits[N] = { -3.0f, -0.7f, 0.25f, 0.6f, 1.7f, 4.0f }, grad[N];
    double ld[N];
    for (int i = 0; i < N; i++)
        ld[i] = logits[i];
    for (int kind = GM_GAN_NONSATURATING; kind <= GM_GAN_WGAN_GP; kind++)
        for (int role = GM_ADV_D_REAL; role <= GM_ADV_G_FAKE; role++) {
            ctx_t c = { kind, (gm_adv_role)role };
            double loss = gm_adv_loss(kind, (gm_adv_role)role, logits, N, TARGET, grad, 1.0f / N);
            assert_float_equal(loss, mean_loss(ld, &c), 1e-6);
            gm_check_gradient(mean_loss, &c, ld, N, grad, 1e-5, 1e-7, "adversarial loss");
        }
}

static void test_hand_values(void **state)
{
    (void)state;
    const float zero = 0.0f, two = 2.0f;
    /* at logit 0, D = 1/2: every cross-entropy term is log 2 */
    assert_float_equal(gm_adv_loss(GM_GAN_NONSATURATING, GM_ADV_D_REAL, &zero, 1, 1.0f, NULL, 1), log(2.0), 1e-12);
    assert_float_equal(gm_adv_loss(GM_GAN_MINIMAX, GM_ADV_G_FAKE, &zero, 1, 1.0f, NULL, 1), -log(2.0), 1e-12);
    assert_float_equal(gm_adv_loss(GM_GAN_HINGE, GM_ADV_D_FAKE, &two, 1, 1.0f, NULL, 1), 3.0, 1e-12);
    assert_float_equal(gm_adv_loss(GM_GAN_HINGE, GM_ADV_D_REAL, &two, 1, 1.0f, NULL, 1), 0.0, 1e-12);
    assert_float_equal(gm_adv_loss(GM_GAN_LSGAN, GM_ADV_G_FAKE, &two, 1, 1.0f, NULL, 1), 0.5, 1e-12);
    assert_float_equal(gm_adv_loss(GM_GAN_WGAN_GP, GM_ADV_D_REAL, &two, 1, 1.0f, NULL, 1), -2.0, 1e-12);
}

static void test_extreme_logits(void **state)
{
    (void)state;
    const float l[2] = { 1e4f, -1e4f };
    float g[2];
    for (int kind = GM_GAN_NONSATURATING; kind <= GM_GAN_MINIMAX; kind++)
        for (int role = GM_ADV_D_REAL; role <= GM_ADV_G_FAKE; role++) {
            double loss = gm_adv_loss(kind, (gm_adv_role)role, l, 2, 1.0f, g, 1.0f);
            assert_true(isfinite(loss) && isfinite(g[0]) && isfinite(g[1]));
        }
    /* the generator of the non-saturating loss still learns where D is sure */
    gm_adv_loss(GM_GAN_NONSATURATING, GM_ADV_G_FAKE, l + 1, 1, 1.0f, g, 1.0f);
    assert_float_equal(g[0], -1.0f, 1e-6);
    assert_float_equal(gm_adv_loss(GM_GAN_NONSATURATING, GM_ADV_D_FAKE, l, 1, 1.0f, NULL, 1), 1e4, 1e-3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_extreme_logits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
