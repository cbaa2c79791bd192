/* genmodel info: what a checkpoint holds, read from its header alone. */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"

static void print_hidden(const char *what, int32_t n, const int32_t *widths)
{
    printf("  %-14s", what);
    for (int32_t i = 0; i < n; i++)
        printf("%s%d", i ? "-" : "", (int)widths[i]);
    printf("%s\n", n ? "" : "(none)");
}

static void print_optim(const char *what, const gm_optimizer_config *o)
{
    printf("  %-14s%s lr %g betas (%g, %g) eps %g weight decay %g\n", what, o->kind == GM_OPTIM_ADAMW ? "AdamW" : "Adam",
           (double)o->lr, (double)o->beta1, (double)o->beta2, (double)o->eps, (double)o->weight_decay);
}

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
    printf("%s: %s checkpoint, format version %d, %" PRId64 " steps\n", argv[1],
           info.kind == GM_MODEL_VAE ? "VAE" : "GAN", (int)info.format_version, info.step);
    if (info.kind == GM_MODEL_VAE) {
        gm_vae_config c;
        gm_vae_config_init(&c);
        if ((s = gm_checkpoint_peek_vae(argv[1], &c)) != GM_OK)
            return cli_fail(argv[1], s);
        printf("  %-14s%d -> latent %d%s\n", "input", (int)c.input_dim, (int)c.latent_dim,
               c.likelihood == GM_LIKELIHOOD_BERNOULLI ? ", Bernoulli" : ", Gaussian");
        print_hidden("encoder", c.n_enc_hidden, c.enc_hidden);
        print_hidden("decoder", c.n_dec_hidden, c.dec_hidden);
        printf("  %-14s%g\n  %-14s%d\n  %-14s%" PRIu64 "\n", "beta", (double)c.beta, "classes", (int)c.n_classes,
               "seed", c.seed);
        print_optim("optimizer", &c.optim);
    } else {
        static const char *const losses[] = { "non-saturating", "minimax", "hinge", "least squares", "WGAN-GP" };
        gm_gan_config c;
        gm_gan_config_init(&c);
        if ((s = gm_checkpoint_peek_gan(argv[1], &c)) != GM_OK)
            return cli_fail(argv[1], s);
        printf("  %-14snoise %d -> data %d\n", "shape", (int)c.noise_dim, (int)c.data_dim);
        print_hidden("generator", c.n_gen_hidden, c.gen_hidden);
        print_hidden("discriminator", c.n_disc_hidden, c.disc_hidden);
        printf("  %-14s%s, n_critic %d\n", "loss", losses[c.loss], (int)c.n_critic);
        printf("  %-14ssmoothing %g, instance noise %g, EMA %g\n", "stabilisers", (double)c.label_smoothing,
               (double)c.instance_noise, (double)c.ema_decay);
        printf("  %-14s%d\n  %-14s%" PRIu64 "\n", "classes", (int)c.n_classes, "seed", c.seed);
        print_optim("generator", &c.gen_optim);
        print_optim("discriminator", &c.disc_optim);
    }
    return 0;
}
