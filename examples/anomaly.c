/* One-class anomaly detection through the public API: train a VAE on
 * normal rows, calibrate a threshold on held-out normal rows at a chosen
 * false-positive rate, then flag new rows. Any format gm_dataset_open
 * reads (CSV, NPY, IDX, a folder of PNG images); values in [0, 1] use the
 * Bernoulli likelihood, any others the Gaussian one on columns the model
 * standardizes. The score is the negative ELBO, which ranks best on
 * tables (docs/anomaly.md). Build it with
 *     cc anomaly.c $(pkg-config --cflags --libs genmodel)
 * and run it as
 *     ./anomaly TRAIN HELD-OUT NEW [FPR [EPOCHS]]
 * It prints one line per new row: its index, score, p-value and flag. */
#include <stdio.h>
#include <stdlib.h>

#include <genmodel.h>

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, gm_last_error());
    return 1;
}

/* every row of the file at path, as floats: *x (malloc'd), *n rows of *dim */
static int load(const char *path, float **x, int32_t *n, int32_t *dim)
{
    gm_dataset *ds;
    if (gm_dataset_open(path, NULL, &ds) != GM_OK)
        return fail(path);
    *n = gm_dataset_count(ds);
    *dim = gm_dataset_dim(ds);
    int32_t *index = malloc((size_t)*n * sizeof *index);
    *x = malloc((size_t)*n * *dim * sizeof **x);
    for (int32_t i = 0; index && i < *n; i++)
        index[i] = i;
    const int bad = !index || !*x || gm_dataset_gather(ds, index, *n, *x, NULL) != GM_OK;
    free(index);
    gm_dataset_free(ds);
    return bad ? fail(path) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s TRAIN HELD-OUT NEW [FPR [EPOCHS]]\n", argv[0]);
        return 2;
    }
    const float fpr = argc > 4 ? (float)atof(argv[4]) : 0.01f;
    const int epochs = argc > 5 ? atoi(argv[5]) : 50;
    float *train = NULL, *held = NULL, *fresh = NULL;
    int32_t n_train, n_held, n_new, dim, d2, d3;
    if (load(argv[1], &train, &n_train, &dim) || load(argv[2], &held, &n_held, &d2) ||
        load(argv[3], &fresh, &n_new, &d3))
        return 1;
    if (d2 != dim || d3 != dim) {
        fprintf(stderr, "the files have %d, %d and %d columns; they must agree\n", (int)dim, (int)d2, (int)d3);
        return 1;
    }
    int unit = 1;  /* every value in [0, 1]: the Bernoulli likelihood fits */
    for (size_t i = 0; i < (size_t)n_train * dim; i++)
        unit &= train[i] >= 0.0f && train[i] <= 1.0f;

    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    cfg.input_dim = dim;
    cfg.latent_dim = dim < 16 ? (dim + 1) / 2 : 8;
    cfg.enc_hidden[0] = cfg.dec_hidden[0] = 64;
    cfg.likelihood = unit ? GM_LIKELIHOOD_BERNOULLI : GM_LIKELIHOOD_GAUSSIAN;
    cfg.standardize = !unit;  /* each column by its mean and deviation over the training rows */
    gm_vae *vae;
    if (gm_vae_create(&cfg, &vae) != GM_OK)
        return fail("creating the VAE");
    if (!unit && gm_vae_fit_standardization(vae, train, n_train) != GM_OK)
        return fail("standardizing");
    int32_t *order = malloc((size_t)n_train * sizeof *order);
    float *batch = malloc((size_t)128 * dim * sizeof *batch);
    if (!order || !batch)
        return fail("out of memory");
    for (int e = 0; e < epochs; e++) {
        gm_vae_shuffle(vae, order, n_train);
        for (int32_t at = 0; at < n_train; at += 128) {
            const int32_t m = n_train - at < 128 ? n_train - at : 128;
            for (int32_t i = 0; i < m; i++)
                for (int32_t j = 0; j < dim; j++)
                    batch[(size_t)i * dim + j] = train[(size_t)order[at + i] * dim + j];
            if (m >= 2 && gm_vae_train_step(vae, batch, NULL, m, NULL) != GM_OK)
                return fail("training");
        }
    }
    if (gm_vae_calibrate(vae, GM_SCORE_NEG_ELBO, held, NULL, n_held, 10, fpr) != GM_OK)
        return fail("calibrating");
    double *scores = malloc((size_t)n_new * sizeof *scores), *p = malloc((size_t)n_new * sizeof *p);
    int32_t *flags = malloc((size_t)n_new * sizeof *flags);
    if (!scores || !p || !flags || gm_vae_flag(vae, fresh, NULL, n_new, scores, p, flags) != GM_OK)
        return fail("flagging");
    for (int32_t i = 0; i < n_new; i++)
        printf("%d %.4f %.4f %d\n", (int)i, scores[i], p[i], (int)flags[i]);
    free(scores);
    free(p);
    free(flags);
    free(order);
    free(batch);
    free(train);
    free(held);
    free(fresh);
    gm_vae_free(vae);
    return 0;
}
