/* What the fuzzer reaches inside the checkpoint reader: the three peeks on
 * a file already in memory (buf, size bytes), with every check that
 * gm_checkpoint_peek, gm_checkpoint_peek_vae and gm_checkpoint_peek_gan
 * make on a file's bytes. Same contracts, buf NULL or size 0 aside
 * (GM_ERR_INVALID_ARG). */
#ifndef GM_MODELS_CHECKPOINT_INTERNAL_H
#define GM_MODELS_CHECKPOINT_INTERNAL_H

#include "genmodel/checkpoint.h"

gm_status gm_checkpoint_peek_memory(const void *buf, size_t size, gm_checkpoint_info *info);
gm_status gm_checkpoint_peek_vae_memory(const void *buf, size_t size, gm_vae_config *cfg);
gm_status gm_checkpoint_peek_gan_memory(const void *buf, size_t size, gm_gan_config *cfg);

#endif
