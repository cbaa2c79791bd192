/* The adversarial losses, from logits (or critic values). Each loss kind
 * (gm_gan_loss) gives a per-sample function for three roles: the
 * discriminator on real data, on generated data, and the generator. */
#ifndef GM_CORE_ADV_LOSS_H
#define GM_CORE_ADV_LOSS_H

#include <stdbool.h>

typedef enum gm_adv_role {
    GM_ADV_D_REAL,  /* real_target is the real label, 1 - smoothing */
    GM_ADV_D_FAKE,
    GM_ADV_G_FAKE
} gm_adv_role;

/* The mean over N of the role's loss; dlogits (N), unless NULL, gets
 * scale * d(loss)/d(logit) per sample (written, not accumulated). */
double gm_adv_loss(int kind, gm_adv_role role, const float *logits, int N, float real_target,
                   float *dlogits, float scale);

bool gm_adv_kind_valid(int kind);

#endif
