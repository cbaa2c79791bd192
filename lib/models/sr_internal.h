/* What the checkpoint and the tests reach inside an upscaler. */
#ifndef GM_MODELS_SR_INTERNAL_H
#define GM_MODELS_SR_INTERNAL_H

#include "genmodel/sr.h"
#include "nn/net.h"
#include "nn/params.h"
#include "core/rng.h"

gm_param_table *gm_sr_gen_table(gm_sr *sr);
/* the discriminator's table, or NULL without one (adv_weight 0) */
gm_param_table *gm_sr_disc_table(gm_sr *sr);
gm_rng *gm_sr_rng(gm_sr *sr);
/* the upscaler's network (on the team of the handle's last call) */
gm_net *gm_sr_net(gm_sr *sr);

/* GM_OK when gm_sr_create would accept c (struct_size aside); else
 * GM_ERR_INVALID_ARG with a message that begins "who: ". */
gm_status gm_sr_config_check(const gm_sr_config *c, const char *who);

#endif
