/* genmodel info: what a checkpoint holds, read from its header alone. The
 * library refuses a stored config that create would refuse, but every
 * enum is still looked up with its bounds checked: the tool reads a file,
 * it does not trust one. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* names[value], or "unknown" outside the table or at a gap in it */
static const char *name_of(const char *const *names, size_t count, int32_t value)
{
    return value >= 0 && (size_t)value < count && names[value] ? names[value] : "unknown";
}

#define NAME(names, value) name_of((names), sizeof(names) / sizeof((names)[0]), (value))

static const char *const kinds[] = { [GM_MODEL_VAE] = "VAE", [GM_MODEL_GAN] = "GAN" };
static const char *const activations[] = { "identity", "ReLU", "leaky ReLU", "ELU", "tanh", "sigmoid" };
static const char *const likelihoods[] = { "Bernoulli", "Gaussian" };
static const char *const losses[] = { "non-saturating", "minimax", "hinge", "least squares", "WGAN-GP" };
static const char *const optimizers[] = { "Adam", "AdamW" };

/* the first n of widths[max], n clamped to [0, max] */
static void print_hidden(const char *what, int32_t n, const int32_t *widths, int32_t max)
{
    printf("  %-14s", what);
    for (int32_t i = 0; i < n && i < max; i++)
        printf("%s%d", i ? "-" : "", (int)widths[i]);
    printf("%s\n", n > 0 ? "" : "(none)");
}

static void print_optim(const char *what, const gm_optimizer_config *o)
{
    printf("  %-14s%s lr %g betas (%g, %g) eps %g weight decay %g\n", what, NAME(optimizers, o->kind),
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
    printf("%s: %s checkpoint, format version %d, %" PRId64 " steps\n", argv[1], NAME(kinds, info.kind),
           (int)info.format_version, info.step);
    if (info.kind == GM_MODEL_VAE) {
        gm_vae_config c;
        gm_vae_config_init(&c);
        if ((s = gm_checkpoint_peek_vae(argv[1], &c)) != GM_OK)
            return cli_fail(argv[1], s);
        printf("  %-14s%d -> latent %d, %s\n", "input", (int)c.input_dim, (int)c.latent_dim,
               NAME(likelihoods, c.likelihood));
        print_hidden("encoder", c.n_enc_hidden, c.enc_hidden, GM_VAE_MAX_HIDDEN);
        print_hidden("decoder", c.n_dec_hidden, c.dec_hidden, GM_VAE_MAX_HIDDEN);
        printf("  %-14s%s\n", "activation", NAME(activations, c.activation));
        printf("  %-14s%g\n  %-14s%d\n  %-14s%" PRIu64 "\n", "beta", (double)c.beta, "classes", (int)c.n_classes,
               "seed", c.seed);
        print_optim("optimizer", &c.optim);
    } else {
        gm_gan_config c;
        gm_gan_config_init(&c);
        if ((s = gm_checkpoint_peek_gan(argv[1], &c)) != GM_OK)
            return cli_fail(argv[1], s);
        printf("  %-14snoise %d -> data %d, %s output\n", "shape", (int)c.noise_dim, (int)c.data_dim,
               NAME(activations, c.gen_output));
        print_hidden("generator", c.n_gen_hidden, c.gen_hidden, GM_GAN_MAX_HIDDEN);
        print_hidden("discriminator", c.n_disc_hidden, c.disc_hidden, GM_GAN_MAX_HIDDEN);
        printf("  %-14s%s\n", "activation", NAME(activations, c.activation));
        printf("  %-14s%s, n_critic %d\n", "loss", NAME(losses, c.loss), (int)c.n_critic);
        printf("  %-14ssmoothing %g, instance noise %g, EMA %g\n", "stabilisers", (double)c.label_smoothing,
               (double)c.instance_noise, (double)c.ema_decay);
        printf("  %-14s%d\n  %-14s%" PRIu64 "\n", "classes", (int)c.n_classes, "seed", c.seed);
        print_optim("generator", &c.gen_optim);
        print_optim("discriminator", &c.disc_optim);
    }
    return 0;
}
