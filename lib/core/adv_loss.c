/* Adversarial losses. Legend: N samples, one logit each.
 * Cross-entropies use softplus(x) = max(x, 0) + log(1 + e^-|x|), finite
 * for any finite logit. */
#include <math.h>

#include "adv_loss.h"
#include "genmodel/gan.h"

bool gm_adv_kind_valid(int kind)
{
    return kind >= GM_GAN_NONSATURATING && kind <= GM_GAN_WGAN_GP;
}

static double softplus(double x)
{
    return fmax(x, 0.0) + log1p(exp(-fabs(x)));
}

static double sigmoid(double x)
{
    return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

/* one sample's loss and its derivative */
static double loss_one(int kind, gm_adv_role role, double l, double t, double *grad)
{
    switch (kind) {
    case GM_GAN_NONSATURATING:
    case GM_GAN_MINIMAX:
        if (role == GM_ADV_D_REAL) {  /* cross-entropy against target t */
            *grad = sigmoid(l) - t;
            return softplus(l) - t * l;
        }
        if (role == GM_ADV_D_FAKE) {
            *grad = sigmoid(l);
            return softplus(l);
        }
        if (kind == GM_GAN_NONSATURATING) {  /* -log D(G(z)) */
            *grad = sigmoid(l) - 1.0;
            return softplus(-l);
        }
        *grad = -sigmoid(l);  /* log(1 - D(G(z))) */
        return -softplus(l);
    case GM_GAN_HINGE:
        if (role == GM_ADV_D_REAL) {
            *grad = l < 1.0 ? -1.0 : 0.0;
            return fmax(1.0 - l, 0.0);
        }
        if (role == GM_ADV_D_FAKE) {
            *grad = l > -1.0 ? 1.0 : 0.0;
            return fmax(1.0 + l, 0.0);
        }
        *grad = -1.0;
        return -l;
    case GM_GAN_LSGAN: {
        double target = role == GM_ADV_D_REAL ? t : role == GM_ADV_D_FAKE ? 0.0 : 1.0;
        *grad = l - target;
        return 0.5 * (l - target) * (l - target);
    }
    default:  /* Wasserstein: the critic raises real scores and lowers fake ones */
        *grad = role == GM_ADV_D_FAKE ? 1.0 : -1.0;
        return role == GM_ADV_D_FAKE ? l : -l;
    }
}

double gm_adv_loss(int kind, gm_adv_role role, const float *logits, int N, float real_target,
                   float *dlogits, float scale)
{
    double sum = 0.0, grad;
    for (int n = 0; n < N; n++) {
        sum += loss_one(kind, role, logits[n], real_target, &grad);
        if (dlogits)
            dlogits[n] = (float)(scale * grad);
    }
    return sum / N;
}
