#include "fields.h"
#include "core/config.h"
#include "core/error.h"

#define ACTIVATIONS "identity,relu,leaky_relu,elu,tanh,sigmoid"
#define NORMS "none,batch,spectral"

#define FIELD(s, f, t, n, len, ch, since, help) { #f, t, n, offsetof(s, f), len, ch, since, help }
#define I32(s, f, help) FIELD(s, f, GM_FIELD_I32, 1, NULL, NULL, 1, help)
#define F32(s, f, help) FIELD(s, f, GM_FIELD_F32, 1, NULL, NULL, 1, help)
#define ENUM(s, f, ch, help) FIELD(s, f, GM_FIELD_I32, 1, NULL, ch, 1, help)
#define WIDTHS(s, n, f, help) I32(s, n, "how many of " #f " are used"), \
                              FIELD(s, f, GM_FIELD_I32, 4, #n, NULL, 1, help)
#define OPTIM_SINCE(s, o, who, v) \
    FIELD(s, o.kind, GM_FIELD_I32, 1, NULL, "adam,adamw", v, who "'s optimizer"), \
    FIELD(s, o.lr, GM_FIELD_F32, 1, NULL, NULL, v, who "'s learning rate"), \
    FIELD(s, o.beta1, GM_FIELD_F32, 1, NULL, NULL, v, who "'s Adam beta1"), \
    FIELD(s, o.beta2, GM_FIELD_F32, 1, NULL, NULL, v, who "'s Adam beta2"), \
    FIELD(s, o.eps, GM_FIELD_F32, 1, NULL, NULL, v, who "'s Adam epsilon"), \
    FIELD(s, o.weight_decay, GM_FIELD_F32, 1, NULL, NULL, v, who "'s weight decay (AdamW)")
#define OPTIM(s, o, who) OPTIM_SINCE(s, o, who, 1)
/* since 0.2: a file without them holds an MLP */
#define LATER(s, f, ch, help) FIELD(s, f, GM_FIELD_I32, 1, NULL, ch, 2, help)
#define IMAGE(s, what) LATER(s, image_channels, NULL, "channels of an image row (0: a flat vector)"), \
                       LATER(s, image_height, NULL, "its height"), LATER(s, image_width, NULL, "its width"), \
                       LATER(s, n_conv, NULL, "how many of conv_channels are used"), \
                       FIELD(s, conv_channels, GM_FIELD_I32, GM_MAX_CONV, "n_conv", NULL, 2, \
                             "channels of the " what "'s stride-2 convolutions, image side first")

static const gm_field vae_fields[] = {
    I32(gm_vae_config, input_dim, "values per sample"),
    I32(gm_vae_config, latent_dim, "dimensions of z"),
    WIDTHS(gm_vae_config, n_enc_hidden, enc_hidden, "the encoder's hidden widths, data side first"),
    WIDTHS(gm_vae_config, n_dec_hidden, dec_hidden, "the decoder's hidden widths, latent side first"),
    ENUM(gm_vae_config, activation, ACTIVATIONS, "of the hidden layers"),
    F32(gm_vae_config, leaky_slope, "leaky_relu's slope"),
    ENUM(gm_vae_config, likelihood, "bernoulli,gaussian", "p(x|z)"),
    F32(gm_vae_config, beta, "weight of the KL term"),
    I32(gm_vae_config, n_classes, "classes of a conditional model (0: unconditional)"),
    OPTIM(gm_vae_config, optim, "the model"),
    FIELD(gm_vae_config, seed, GM_FIELD_U64, 1, NULL, NULL, 1, "weights and every random draw"),
    IMAGE(gm_vae_config, "encoder"),
    LATER(gm_vae_config, normalization, NORMS, "after the hidden layers but the outer ones"),
    LATER(gm_vae_config, scoring, NULL, "1: keep what the scores fit (the latent posterior, a threshold)"),
    LATER(gm_vae_config, standardize, NULL, "1: standardize each column of x (gm_vae_fit_standardization)"),
    LATER(gm_vae_config, latent_bank, NULL, "training rows whose posterior means the latent-knn score keeps"),
};

static const gm_field gan_fields[] = {
    I32(gm_gan_config, data_dim, "values per sample"),
    I32(gm_gan_config, noise_dim, "dimensions of z"),
    WIDTHS(gm_gan_config, n_gen_hidden, gen_hidden, "the generator's hidden widths, noise side first"),
    WIDTHS(gm_gan_config, n_disc_hidden, disc_hidden, "the discriminator's hidden widths, data side first"),
    ENUM(gm_gan_config, activation, ACTIVATIONS, "of the hidden layers"),
    F32(gm_gan_config, leaky_slope, "leaky_relu's slope"),
    ENUM(gm_gan_config, gen_output, ACTIVATIONS, "the generator's output activation (sigmoid or tanh)"),
    ENUM(gm_gan_config, loss, "ns,minimax,hinge,lsgan,wgan-gp", "the adversarial loss"),
    I32(gm_gan_config, n_critic, "discriminator updates per generator update"),
    F32(gm_gan_config, gp_weight, "WGAN-GP's penalty weight"),
    F32(gm_gan_config, label_smoothing, "one-sided: the real target is 1 - s"),
    F32(gm_gan_config, instance_noise, "sigma of the noise on D's inputs"),
    I32(gm_gan_config, noise_anneal_steps, "steps over which the instance noise anneals to 0"),
    F32(gm_gan_config, ema_decay, "decay of the generator's moving average (0: off)"),
    I32(gm_gan_config, n_classes, "classes of a conditional model (0: unconditional)"),
    OPTIM(gm_gan_config, gen_optim, "the generator"),
    OPTIM(gm_gan_config, disc_optim, "the discriminator"),
    FIELD(gm_gan_config, seed, GM_FIELD_U64, 1, NULL, NULL, 1, "weights and every random draw"),
    IMAGE(gm_gan_config, "discriminator"),
    LATER(gm_gan_config, gen_norm, NORMS, "the generator's hidden layers' normalization"),
    LATER(gm_gan_config, disc_norm, NORMS, "the discriminator's"),
    LATER(gm_gan_config, minibatch_std, NULL, "group size of D's minibatch-stddev feature (0: none)"),
};

/* the upscaler, a kind since 0.2 */
#define SR_I32(f, ch, help) FIELD(gm_sr_config, f, GM_FIELD_I32, 1, NULL, ch, 2, help)
#define SR_F32(f, help) FIELD(gm_sr_config, f, GM_FIELD_F32, 1, NULL, NULL, 2, help)
#define SR_LIST(f, n, len, help) FIELD(gm_sr_config, f, GM_FIELD_I32, n, #len, NULL, 2, help)

static const gm_field sr_fields[] = {
    SR_I32(scale, NULL, "the upscaling factor, 2 to 4"),
    SR_I32(channels, NULL, "1: the luminance Y; 3: RGB"),
    SR_I32(n_body, NULL, "convolutions before the output one"),
    SR_LIST(body_channels, GM_SR_MAX_BODY, n_body, "their output channels"),
    SR_LIST(body_kernel, GM_SR_MAX_BODY, n_body, "their kernel sides (odd)"),
    SR_I32(out_kernel, NULL, "the output convolution's kernel side (odd)"),
    SR_I32(activation, ACTIVATIONS, "after the body's convolutions"),
    SR_F32(leaky_slope, "leaky_relu's slope"),
    SR_I32(patch, NULL, "the low-resolution side of a training patch"),
    SR_I32(pixel_loss, "mse,l1", "the pixel loss"),
    SR_F32(adv_weight, "the adversarial loss's weight (0: no discriminator)"),
    SR_I32(adv_loss, "ns,minimax,hinge,lsgan,wgan-gp", "the adversarial loss"),
    SR_I32(n_disc_conv, NULL, "how many of disc_channels are used"),
    SR_LIST(disc_channels, GM_MAX_CONV, n_disc_conv, "the discriminator's stride-2 convolutions' channels"),
    SR_I32(disc_norm, NORMS, "the discriminator's normalization (none or spectral)"),
    OPTIM_SINCE(gm_sr_config, optim, "the upscaler", 2),
    OPTIM_SINCE(gm_sr_config, disc_optim, "the discriminator", 2),
    FIELD(gm_sr_config, seed, GM_FIELD_U64, 1, NULL, NULL, 2, "weights and every random draw"),
};

#define N_FIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

const gm_field *gm_fields_of(int32_t kind, int *n)
{
    switch (kind) {
    case GM_MODEL_VAE: *n = N_FIELDS(vae_fields); return vae_fields;
    case GM_MODEL_GAN: *n = N_FIELDS(gan_fields); return gan_fields;
    case GM_MODEL_SR: *n = N_FIELDS(sr_fields); return sr_fields;
    default: *n = 0; return NULL;
    }
}

/* ---- the public description ---- */

void gm_config_field_init_size(gm_config_field *field, size_t size)
{
    const gm_config_field zero = { 0 };
    gm_config_fill(field, size, &zero, sizeof zero);
}

gm_status gm_config_field_count(int32_t kind, int32_t *count)
{
    const char *who = "gm_config_field_count";
    int n;
    if (!count)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: count is NULL", who);
    if (!gm_fields_of(kind, &n))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown model kind %d", who, (int)kind);
    *count = n;
    return GM_OK;
}

gm_status gm_config_field_get(int32_t kind, int32_t index, gm_config_field *field)
{
    const char *who = "gm_config_field_get";
    int n;
    const gm_field *rows = gm_fields_of(kind, &n);
    if (!field)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: field is NULL", who);
    if (!rows)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: unknown model kind %d", who, (int)kind);
    if (index < 0 || index >= n)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: index %d is outside [0, %d)", who, (int)index, n);
    const gm_field *r = &rows[index];
    gm_config_field full = { sizeof full, r->name, r->type, r->count, r->offset, r->length_of, r->choices, r->since,
                             r->help };
    return gm_config_export(field, &full, sizeof full, sizeof full, who);
}
