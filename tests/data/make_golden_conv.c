/* Made the golden convolutional checkpoints (vae-conv-v1.safetensors,
 * gan-conv-v1.safetensors: format version 1 with the fields of 0.2) and
 * golden_conv.h, the outputs they must keep giving. Run once, by hand,
 * when the fields were born; never to "fix" a test:
 *     cc -I../../include make_golden_conv.c -L../../build/lib -lgenmodel -o mg && ./mg && rm mg */
#include <stdio.h>

#include <genmodel.h>

enum { SIDE = 6, D = SIDE * SIDE, N = 8 };

static void fill(float *x, int n, unsigned seed)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 16777216.0f;
    }
}

int main(void)
{
    /* a conditional conv VAE with batch norm: 6x6 -> conv 3 -> conv 4 (BN) -> dense 5 (BN) -> z 2 */
    gm_vae_config vc;
    gm_vae_config_init(&vc);
    vc.input_dim = D;
    vc.latent_dim = 2;
    vc.enc_hidden[0] = vc.dec_hidden[0] = 5;
    vc.n_classes = 3;
    vc.seed = 3;
    vc.image_channels = 1;
    vc.image_height = vc.image_width = SIDE;
    vc.n_conv = 2;
    vc.conv_channels[0] = 3;
    vc.conv_channels[1] = 4;
    vc.normalization = GM_NORM_BATCH;
    /* a DCGAN: batch norm in G, spectral norm and a minibatch-stddev feature in D, an EMA of G */
    gm_gan_config gc;
    gm_gan_config_init(&gc);
    gc.data_dim = D;
    gc.noise_dim = 3;
    gc.n_gen_hidden = gc.n_disc_hidden = 0;
    gc.ema_decay = 0.9f;
    gc.image_channels = 1;
    gc.image_height = gc.image_width = SIDE;
    gc.n_conv = 2;
    gc.conv_channels[0] = 3;
    gc.conv_channels[1] = 4;
    gc.gen_norm = GM_NORM_BATCH;
    gc.disc_norm = GM_NORM_SPECTRAL;
    gc.minibatch_std = 4;
    gm_vae *vae;
    gm_gan *gan;
    if (gm_vae_create(&vc, &vae) || gm_gan_create(&gc, &gan))
        return 1;
    const int32_t labels[N] = { 0, 1, 2, 0, 1, 2, 0, 1 };
    float x[N * D];
    for (unsigned step = 0; step < 2; step++) {
        fill(x, N * D, step);
        if (gm_vae_train_step(vae, x, labels, N, NULL) || gm_gan_train_step(gan, x, NULL, N, NULL))
            return 1;
    }
    if (gm_vae_save(vae, "vae-conv-v1.safetensors") || gm_gan_save(gan, "gan-conv-v1.safetensors"))
        return 1;
    const float z[2] = { 0.5f, -1.0f }, noise[3] = { 0.25f, -0.5f, 1.0f };
    const int32_t label = 1;
    float a[D], b[D], logit;
    fill(x, D, 7);
    if (gm_vae_decode(vae, z, &label, 1, a) || gm_gan_generate(gan, noise, NULL, 1, 1, b) ||
        gm_gan_discriminate(gan, x, NULL, 1, &logit))
        return 1;
    FILE *h = fopen("golden_conv.h", "w");
    fprintf(h, "/* Written by make_golden_conv.c with the golden files: do not edit. */\n");
    fprintf(h, "#define GOLDEN_CONV_VAE_DECODE");
    for (int i = 0; i < D; i++)
        fprintf(h, "%s %.9gf", i ? "," : "", (double)a[i]);
    fprintf(h, "\n#define GOLDEN_CONV_GAN_GENERATE");
    for (int i = 0; i < D; i++)
        fprintf(h, "%s %.9gf", i ? "," : "", (double)b[i]);
    fprintf(h, "\n#define GOLDEN_CONV_GAN_DISCRIMINATE %.9gf /* of fill(x, 36, 7) */\n", (double)logit);
    return fclose(h) != 0;
}
