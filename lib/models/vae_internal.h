/* What the tests (and later the checkpoint and data-parallel code) reach
 * inside a VAE: its parameter table and the gradient phase of a step. */
#ifndef GM_MODELS_VAE_INTERNAL_H
#define GM_MODELS_VAE_INTERNAL_H

#include <stddef.h>

#include "genmodel/vae.h"
#include "nn/params.h"

#include "core/rng.h"

gm_param_table *gm_vae_param_table(gm_vae *vae);
gm_rng *gm_vae_rng(gm_vae *vae);

/* The size of the config's first published version (0.1): the least
 * struct_size a caller's config may have; the fields after it take their
 * defaults for such a caller. */
#define GM_VAE_CONFIG_V1_SIZE offsetof(gm_vae_config, image_channels)

/* GM_OK when gm_vae_create would accept c (a whole struct, struct_size
 * aside); else GM_ERR_INVALID_ARG with a message that begins "who: ".
 * The checkpoint reader holds a stored config to it. */
gm_status gm_vae_config_check(const gm_vae_config *c, const char *who);

/* The gradients of a training step with the given eps (n, latent_dim),
 * left in the parameter table; no update. Arguments are trusted. */
gm_status gm_vae_gradients(gm_vae *vae, const float *x, const int32_t *labels, int32_t n, const float *eps,
                           gm_vae_losses *losses);

#endif
