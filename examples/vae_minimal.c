/* The smallest useful program: train a VAE for one pass over Fashion-MNIST's
 * test split, then print the ELBO it reaches. Build it with
 *     cc vae_minimal.c $(pkg-config --cflags --libs genmodel) */
#include <stdio.h>
#include <stdlib.h>

#include <genmodel.h>

#define DATA "/usr/share/datasets/fashion-mnist"
#define BATCH 128

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, gm_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    gm_dataset *ds;
    if (gm_dataset_load_dir(argc > 1 ? argv[1] : DATA, "t10k", &ds) != GM_OK)
        return fail("loading the data");

    gm_vae_config cfg;
    gm_vae_config_init(&cfg);  /* 784-400-20, Bernoulli likelihood, Adam 1e-3 */
    cfg.input_dim = gm_dataset_dim(ds);
    gm_vae *vae;
    if (gm_vae_create(&cfg, &vae) != GM_OK)
        return fail("creating the VAE");

    int32_t n = gm_dataset_count(ds);
    int32_t *order = malloc((size_t)n * sizeof *order);
    float *x = malloc((size_t)BATCH * cfg.input_dim * sizeof *x);
    gm_vae_losses l = { 0 };
    if (!order || !x || gm_vae_shuffle(vae, order, n) != GM_OK)
        return fail("shuffling");
    for (int32_t at = 0; at + BATCH <= n; at += BATCH)
        if (gm_dataset_gather(ds, order + at, BATCH, x, NULL) != GM_OK ||
            gm_vae_train_step(vae, x, NULL, BATCH, &l) != GM_OK)
            return fail("training");
    printf("after one epoch: -ELBO %.1f nats/sample (reconstruction %.1f, KL %.1f)\n",
           l.neg_elbo, l.recon, l.kl);

    free(order);
    free(x);
    gm_vae_free(vae);
    gm_dataset_free(ds);
    return 0;
}
