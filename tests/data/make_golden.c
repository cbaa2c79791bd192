/* Made the golden checkpoints of format version 1 (vae-v1.safetensors,
 * gan-v1.safetensors) and golden.h, the outputs they must keep giving.
 * Run once, by hand, when a format version is born; never to "fix" a test:
 *     cc -I../../include make_golden.c -L../../build/lib -lgenmodel -o mg && ./mg && rm mg */
#include <stdio.h>

#include <genmodel.h>

static void fill(float *x, int n, unsigned seed)
{
    for (int i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 16777216.0f;
    }
}

int main(void)
{
    gm_vae_config vc;
    gm_vae_config_init(&vc);
    vc.input_dim = 6;
    vc.latent_dim = 2;
    vc.enc_hidden[0] = vc.dec_hidden[0] = 5;
    vc.n_classes = 3;
    vc.seed = 3;
    gm_gan_config gc;
    gm_gan_config_init(&gc);
    gc.data_dim = 6;
    gc.noise_dim = 3;
    gc.gen_hidden[0] = gc.gen_hidden[1] = gc.disc_hidden[0] = gc.disc_hidden[1] = 5;
    gc.ema_decay = 0.9f;
    gm_vae *vae;
    gm_gan *gan;
    if (gm_vae_create(&vc, &vae) || gm_gan_create(&gc, &gan))
        return 1;
    const int32_t labels[8] = { 0, 1, 2, 0, 1, 2, 0, 1 };
    float x[8 * 6];
    for (unsigned step = 0; step < 2; step++) {
        fill(x, 8 * 6, step);
        if (gm_vae_train_step(vae, x, labels, 8, NULL) || gm_gan_train_step(gan, x, NULL, 8, NULL))
            return 1;
    }
    if (gm_vae_save(vae, "vae-v1.safetensors") || gm_gan_save(gan, "gan-v1.safetensors"))
        return 1;
    const float z[2] = { 0.5f, -1.0f }, noise[3] = { 0.25f, -0.5f, 1.0f };
    const int32_t label = 1;
    float a[6], b[6];
    if (gm_vae_decode(vae, z, &label, 1, a) || gm_gan_generate(gan, noise, NULL, 1, 1, b))
        return 1;
    FILE *h = fopen("golden.h", "w");
    fprintf(h, "/* Written by make_golden.c with the golden files: do not edit. */\n#define GOLDEN_VAE_DECODE");
    for (int i = 0; i < 6; i++)
        fprintf(h, "%s %.9gf", i ? "," : "", (double)a[i]);
    fprintf(h, "\n#define GOLDEN_GAN_GENERATE");
    for (int i = 0; i < 6; i++)
        fprintf(h, "%s %.9gf", i ? "," : "", (double)b[i]);
    fprintf(h, "\n");
    return fclose(h) != 0;
}
