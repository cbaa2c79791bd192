/* genmodel info: what a checkpoint holds, read from its header alone: the
 * kind, the format, the steps and every field of the config. The library
 * refuses a stored config that create would refuse, but every enum is
 * still looked up with its bounds checked: the tool reads a file, it does
 * not trust one. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

static const char *const kinds[] = { [GM_MODEL_VAE] = "VAE", [GM_MODEL_GAN] = "GAN" };

int info_main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: genmodel info MODEL\n");
        return argc == 2 ? 0 : 2;
    }
    gm_checkpoint_info info;
    gm_checkpoint_info_init(&info);
    gm_status s = gm_checkpoint_peek(argv[1], &info);
    if (s != GM_OK)
        return cli_fail(argv[1], s);
    /* the library's description of the kind's config prints it, every
     * enum by its name, with its bounds checked */
    union {
        gm_vae_config vae;
        gm_gan_config gan;
    } cfg;
    if (info.kind == GM_MODEL_VAE) {
        gm_vae_config_init(&cfg.vae);
        s = gm_checkpoint_peek_vae(argv[1], &cfg.vae);
    } else {
        gm_gan_config_init(&cfg.gan);
        s = gm_checkpoint_peek_gan(argv[1], &cfg.gan);
    }
    if (s != GM_OK)
        return cli_fail(argv[1], s);
    printf("%s: %s checkpoint, format version %d, %" PRId64 " steps\n", argv[1],
           info.kind == GM_MODEL_VAE || info.kind == GM_MODEL_GAN ? kinds[info.kind] : "unknown",
           (int)info.format_version, info.step);
    cli_print_config(info.kind, &cfg);
    return 0;
}
