/* What the tests (and later the checkpoint) reach inside a GAN. */
#ifndef GM_MODELS_GAN_INTERNAL_H
#define GM_MODELS_GAN_INTERNAL_H

#include <stddef.h>

#include "genmodel/gan.h"
#include "nn/params.h"

#include "core/rng.h"

gm_param_table *gm_gan_gen_table(gm_gan *gan);
gm_rng *gm_gan_rng(gm_gan *gan);
gm_param_table *gm_gan_disc_table(gm_gan *gan);
/* the EMA of the generator's weights (gen table layout), or NULL */
float *gm_gan_ema(gm_gan *gan);

/* The size of the config's first published version (0.1): the least
 * struct_size a caller's config may have; the fields after it take their
 * defaults for such a caller. */
#define GM_GAN_CONFIG_V1_SIZE offsetof(gm_gan_config, image_channels)

/* GM_OK when gm_gan_create would accept c (a whole struct, struct_size
 * aside); else GM_ERR_INVALID_ARG with a message that begins "who: ".
 * The checkpoint reader holds a stored config to it. */
gm_status gm_gan_config_check(const gm_gan_config *c, const char *who);

/* The gradient phases of a step, for given noise z (n, noise_dim) and
 * WGAN-GP interpolation weights alpha (n), left in the tables; no update.
 * Arguments are trusted. */
gm_status gm_gan_disc_gradients(gm_gan *gan, const float *x, const int32_t *labels, int32_t n, const float *z,
                                const float *alpha, gm_gan_losses *losses);
gm_status gm_gan_gen_gradients(gm_gan *gan, const int32_t *labels, int32_t n, const float *z,
                               gm_gan_losses *losses);

#endif
