/* A DCGAN on Fashion-MNIST through the public API: the config of
 * docs/conv.md (G: z64 -> dense 128x7x7 -> BN -> convT 64 -> BN -> convT 1;
 * D: conv 64 -> conv 128 -> BN -> dense 1), the library's default GAN
 * training (hinge loss, instance noise, a moving average of G), batch 64.
 * Trains for the given epochs (default 1), then writes 100 samples as a
 * PNG grid. Build it with
 *     cc dcgan.c $(pkg-config --cflags --libs genmodel)
 * and run it as ./dcgan [EPOCHS [DATA_DIR [GRID.png]]]. */
#include <stdio.h>
#include <stdlib.h>

#include <genmodel.h>

#define DATA "/usr/share/datasets/fashion-mnist"
#define BATCH 64

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, gm_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const int epochs = argc > 1 ? atoi(argv[1]) : 1;
    const char *grid = argc > 3 ? argv[3] : "dcgan-samples.png";
    gm_dataset *ds;
    if (gm_dataset_load_dir(argc > 2 ? argv[2] : DATA, "train", &ds) != GM_OK)
        return fail("loading the data");

    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    cfg.data_dim = gm_dataset_dim(ds);
    cfg.image_channels = 1;
    cfg.image_height = gm_dataset_height(ds);
    cfg.image_width = gm_dataset_width(ds);
    cfg.n_conv = 2;
    cfg.conv_channels[0] = 64;
    cfg.conv_channels[1] = 128;
    cfg.n_gen_hidden = cfg.n_disc_hidden = 0;  /* the projection and the convolutions only */
    cfg.gen_norm = cfg.disc_norm = GM_NORM_BATCH;
    gm_gan *gan;
    if (gm_gan_create(&cfg, &gan) != GM_OK)
        return fail("creating the GAN");

    const int32_t n = gm_dataset_count(ds);
    int32_t *order = malloc((size_t)n * sizeof *order);
    float *x = malloc((size_t)100 * cfg.data_dim * sizeof *x);
    if (!order || !x)
        return fail("allocating");
    for (int epoch = 1; epoch <= epochs; epoch++) {
        gm_gan_losses l = { 0 };
        if (gm_gan_shuffle(gan, order, n) != GM_OK)
            return fail("shuffling");
        for (int32_t at = 0; at + BATCH <= n; at += BATCH)
            if (gm_dataset_gather(ds, order + at, BATCH, x, NULL) != GM_OK ||
                gm_gan_train_step(gan, x, NULL, BATCH, &l) != GM_OK)
                return fail("training");
        printf("epoch %d: D loss %.3f, G loss %.3f, D(x) %.3f, D(G(z)) %.3f\n", epoch, l.d_loss, l.g_loss,
               l.d_real, l.d_fake);
    }
    if (gm_gan_sample(gan, NULL, 100, x) != GM_OK ||
        gm_image_write_grid(grid, x, 100, cfg.image_height, cfg.image_width, 10) != GM_OK)
        return fail("sampling");
    printf("wrote %s\n", grid);

    free(order);
    free(x);
    gm_gan_free(gan);
    gm_dataset_free(ds);
    return 0;
}
