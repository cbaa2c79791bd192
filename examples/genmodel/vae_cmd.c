/* genmodel vae: train, sample, reconstruct, score and evaluate a VAE. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- evaluation over a whole dataset ---- */

typedef struct {
    gm_vae *vae;
    int32_t k;          /* IWAE samples; 0 for the ELBO */
    double *values;     /* per-sample results, or NULL */
    double sum;
} eval_ctx;

static gm_status elbo_rows(void *p, const float *x, const int32_t *labels, int32_t n, int32_t at)
{
    eval_ctx *c = p;
    double *out = c->values + at;
    gm_status s = c->k ? gm_vae_iwae(c->vae, x, labels, n, c->k, out)
                       : gm_vae_elbo(c->vae, x, labels, n, out, NULL);
    for (int32_t i = 0; s == GM_OK && i < n; i++)
        c->sum -= out[i];
    return s;
}

/* mean of -ELBO (k = 0) or of -IWAE over the first `limit` rows of ds */
static gm_status mean_nll(gm_vae *vae, const gm_dataset *ds, int use_labels, int32_t k, int32_t limit,
                          double *mean)
{
    int32_t count = gm_dataset_count(ds);
    if (limit > 0 && limit < count)
        count = limit;
    eval_ctx c = { vae, k, malloc((size_t)count * sizeof(double)), 0.0 };
    if (!c.values)
        return GM_ERR_NO_MEMORY;
    gm_status s = cli_for_rows(ds, use_labels, count, elbo_rows, &c);
    *mean = c.sum / count;
    free(c.values);
    return s;
}

/* the dataset in the model's terms: labels only for a conditional VAE */
static int model_is_conditional(const gm_vae *vae)
{
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    gm_vae_get_config(vae, &cfg);
    return cfg.n_classes > 0;
}

static int load_model(const char *path, gm_vae **vae)
{
    gm_status s = gm_vae_load(path, vae);
    return s == GM_OK ? 0 : cli_fail(path, s);
}

/* ---- train ---- */

typedef struct {
    gm_vae *vae;
    double neg_elbo;   /* summed over the epoch's samples */
} train_ctx;

static gm_status train_batch(void *p, const float *x, const int32_t *labels, int32_t n)
{
    train_ctx *c = p;
    gm_vae_losses l;
    gm_status s = gm_vae_train_step(c->vae, x, labels, n, &l);
    c->neg_elbo += l.neg_elbo * n;
    return s;
}

static int vae_train(int argc, char **argv)
{
    const char *data = CLI_DEFAULT_DATA, *out = NULL, *resume = NULL, *conv = NULL;
    int32_t epochs = 10, hidden = -1, batch = 128, threads = 0, only_class = -1;
    int32_t conditional = 0, save_every = 0;
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    const cli_config config = { GM_MODEL_VAE, &cfg };
    const cli_option opts[] = {
        { "--data", OPT_STRING, &data, "directory of the four MNIST-family files" },
        { "--epochs", OPT_INT, &epochs, "passes over the training set" },
        { "--hidden", OPT_INT, &hidden, "width of one hidden layer in the encoder and the decoder each" },
        { "--latent", OPT_INT, &cfg.latent_dim, "latent dimensions (--latent-dim)" },
        { "--conv", OPT_STRING, &conv, "the encoder's convolutions' channels, as 32,64 (--conv-channels)" },
        { "--batch", OPT_INT, &batch, "samples per step" },
        { "--lr", OPT_FLOAT, &cfg.optim.lr, "Adam learning rate (--optim-lr)" },
        { "--threads", OPT_INT, &threads, "threads (0: OpenBLAS's default count)" },
        { "--class", OPT_INT, &only_class, "train on this class only (one-class anomaly detection)" },
        { "--conditional", OPT_FLAG, &conditional, "condition on the label (a conditional VAE)" },
        { "--resume", OPT_STRING, &resume, "continue training this checkpoint" },
        { "--save-every", OPT_INT, &save_every, "also save every N epochs (0: at the end only)" },
        { "--out", OPT_STRING, &out, "where to save the model" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae train [options] --out MODEL", opts, COUNT(opts), &config,
                             pos, 0, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (conv && cli_set_field(&config, "--conv-channels", conv))
        return 2;
    if (hidden >= 0) {
        cfg.n_enc_hidden = cfg.n_dec_hidden = hidden > 0;
        cfg.enc_hidden[0] = cfg.dec_hidden[0] = hidden;
    }
    if (!out || epochs < 0 || batch < 1) {
        fprintf(stderr, "genmodel vae train: needs --out MODEL, epochs >= 0 and batch >= 1\n");
        return 2;
    }
    gm_status s;
    if (threads > 0 && (s = gm_set_num_threads(threads)) != GM_OK)
        return cli_fail("--threads", s);

    gm_dataset *train = NULL, *test = NULL;
    train_ctx c = { NULL, 0.0 };
    int32_t *rows = NULL, *order = NULL, count = 0;
    int rc = 1;
    if ((s = gm_dataset_load_dir(data, "train", &train)) != GM_OK ||
        (s = gm_dataset_load_dir(data, "t10k", &test)) != GM_OK) {
        rc = cli_fail(data, s);
        goto done;
    }
    if (resume) {
        if (load_model(resume, &c.vae))
            goto done;
        conditional = model_is_conditional(c.vae);
    } else {
        cfg.input_dim = gm_dataset_dim(train);
        cli_image_from(&config, train);
        cfg.n_classes = conditional ? gm_dataset_n_classes(train) : 0;
        if ((s = gm_vae_create(&cfg, &c.vae)) != GM_OK) {
            rc = cli_fail("creating the VAE", s);
            goto done;
        }
    }
    if (cli_training_rows(train, only_class, &rows, &count) || !(order = malloc((size_t)count * sizeof *order)))
        goto done;

    for (int32_t epoch = 1; epoch <= epochs; epoch++) {
        double seconds, test_nll;
        c.neg_elbo = 0.0;
        if ((s = gm_vae_shuffle(c.vae, order, count)) != GM_OK ||
            (s = cli_epoch(train, rows, order, count, batch, conditional, train_batch, &c, &seconds)) != GM_OK ||
            (s = mean_nll(c.vae, test, conditional, 0, 0, &test_nll)) != GM_OK) {
            rc = cli_fail("training", s);
            goto done;
        }
        printf("epoch %3d/%d  train -ELBO %8.3f  test -ELBO %8.3f  %7.0f samples/s\n", (int)epoch, (int)epochs,
               c.neg_elbo / count, test_nll, count / seconds);
        fflush(stdout);
        if (((save_every > 0 && epoch % save_every == 0) || epoch == epochs) &&
            (s = gm_vae_save(c.vae, out)) != GM_OK) {
            rc = cli_fail(out, s);
            goto done;
        }
    }
    rc = epochs == 0 && (s = gm_vae_save(c.vae, out)) != GM_OK ? cli_fail(out, s) : 0;
done:
    free(rows);
    free(order);
    gm_vae_free(c.vae);
    gm_dataset_free(train);
    gm_dataset_free(test);
    return rc;
}

/* ---- sample ---- */

static int vae_sample(int argc, char **argv)
{
    const char *idx = NULL, *png = NULL;
    int32_t n = 64, label = -1;
    const cli_option opts[] = {
        { "-n", OPT_INT, &n, "how many samples" },
        { "--label", OPT_INT, &label, "class of every sample (conditional VAE; default: all classes in turn)" },
        { "--idx", OPT_STRING, &idx, "write the samples as an IDX file (uint8)" },
        { "--png", OPT_STRING, &png, "write a grid of the samples (PNG, or PGM for other names)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae sample MODEL -n N [--label C] [--idx OUT.idx3] [--png GRID.png]",
                             opts, COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || n < 1 || (!idx && !png)) {
        fprintf(stderr, "genmodel vae sample: needs MODEL, n >= 1, and --idx and/or --png\n");
        return 2;
    }
    gm_vae *vae;
    if (load_model(pos[0], &vae))
        return 1;
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    gm_vae_get_config(vae, &cfg);
    float *x = malloc((size_t)n * cfg.input_dim * sizeof *x);
    int32_t *labels = cli_sample_labels(n, cfg.n_classes, label);
    int rc = 1;
    if (!x || (cfg.n_classes && !labels)) {
        fprintf(stderr, "genmodel: out of memory\n");
    } else if (label >= cfg.n_classes) {
        fprintf(stderr, "genmodel vae sample: --label needs a conditional model with more than %d classes\n", (int)label);
    } else {
        gm_status s = gm_vae_sample(vae, labels, n, x);
        rc = s != GM_OK ? cli_fail("sampling", s) : cli_write_samples(x, n, cfg.input_dim, idx, png);
    }
    free(x);
    free(labels);
    gm_vae_free(vae);
    return rc;
}

/* ---- reconstruct: inputs and their reconstructions, row by row ---- */

static int vae_reconstruct(int argc, char **argv)
{
    const char *data = CLI_DEFAULT_DATA, *png = NULL;
    int32_t n = 32;
    const cli_option opts[] = {
        { "--data", OPT_STRING, &data, "directory of the MNIST-family files (the t10k split is used)" },
        { "-n", OPT_INT, &n, "how many test images" },
        { "--png", OPT_STRING, &png, "the grid: a row of inputs, then a row of their reconstructions" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae reconstruct MODEL [--data DIR] [-n N] --png GRID.png", opts,
                             COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || !png || n < 1) {
        fprintf(stderr, "genmodel vae reconstruct: needs MODEL, --png and n >= 1\n");
        return 2;
    }
    gm_vae *vae = NULL;
    gm_dataset *test = NULL;
    gm_status s = gm_dataset_load_dir(data, "t10k", &test);
    if (s != GM_OK || load_model(pos[0], &vae)) {
        gm_dataset_free(test);
        return s != GM_OK ? cli_fail(data, s) : 1;
    }
    if (n > gm_dataset_count(test))
        n = gm_dataset_count(test);
    int32_t dim = gm_dataset_dim(test), cols = 8, conditional = model_is_conditional(vae);
    int32_t rows = (n + cols - 1) / cols;
    float *x = malloc((size_t)n * dim * sizeof *x), *rec = malloc((size_t)n * dim * sizeof *x);
    float *grid = calloc((size_t)2 * rows * cols * dim, sizeof *grid);
    int32_t *index = malloc((size_t)n * sizeof *index), *labels = malloc((size_t)n * sizeof *labels);
    int rc = 1;
    if (x && rec && grid && index && labels) {
        for (int32_t i = 0; i < n; i++)
            index[i] = i;
        if ((s = gm_dataset_gather(test, index, n, x, conditional ? labels : NULL)) == GM_OK &&
            (s = gm_vae_reconstruct(vae, x, conditional ? labels : NULL, n, rec)) == GM_OK) {
            for (int32_t i = 0; i < n; i++) {
                size_t cell = (size_t)(i / cols) * 2 * cols + i % cols;
                memcpy(grid + cell * dim, x + (size_t)i * dim, (size_t)dim * sizeof *x);
                memcpy(grid + (cell + cols) * dim, rec + (size_t)i * dim, (size_t)dim * sizeof *x);
            }
            int32_t h, w;
            cli_image_shape(dim, &h, &w);
            s = gm_image_write_grid(png, grid, 2 * rows * cols, h, w, cols);
        }
        rc = s == GM_OK ? 0 : cli_fail("reconstructing", s);
    }
    free(x);
    free(rec);
    free(grid);
    free(index);
    free(labels);
    gm_vae_free(vae);
    gm_dataset_free(test);
    return rc;
}

/* ---- score: one anomaly score per input, in input order ---- */

typedef struct {
    gm_vae *vae;
    int32_t draws;
    FILE *out;
    double *scores;
} score_ctx;

static gm_status score_rows(void *p, const float *x, const int32_t *labels, int32_t n, int32_t at)
{
    (void)at;
    score_ctx *c = p;
    gm_status s = gm_vae_score(c->vae, x, labels, n, c->draws, c->scores);
    for (int32_t i = 0; s == GM_OK && i < n; i++)
        fprintf(c->out, "%.6f\n", c->scores[i]);
    return s;
}

static int vae_score(int argc, char **argv)
{
    const char *data = NULL, *labels_path = NULL, *out_path = NULL;
    int32_t draws = 10;
    const cli_option opts[] = {
        { "--data", OPT_STRING, &data, "IDX file of the inputs (raw or .gz)" },
        { "--labels", OPT_STRING, &labels_path, "IDX file of their labels (conditional VAE)" },
        { "--draws", OPT_INT, &draws, "draws of z averaged per score" },
        { "--out", OPT_STRING, &out_path, "write the scores here (default: standard output)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae score MODEL --data FILE.idx3[.gz] [--out scores.txt]", opts,
                             COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || !data) {
        fprintf(stderr, "genmodel vae score: needs MODEL and --data FILE\n");
        return 2;
    }
    gm_vae *vae = NULL;
    gm_dataset *ds = NULL;
    if (load_model(pos[0], &vae))
        return 1;
    int conditional = model_is_conditional(vae), rc = 1;
    gm_status s = gm_dataset_load(data, conditional ? labels_path : NULL, &ds);
    score_ctx c = { vae, draws, out_path ? fopen(out_path, "w") : stdout, malloc(1000 * sizeof(double)) };
    if (s != GM_OK) {
        rc = cli_fail(data, s);
    } else if (conditional && !labels_path) {
        fprintf(stderr, "genmodel vae score: a conditional model needs --labels\n");
    } else if (!c.out || !c.scores) {
        perror(out_path ? out_path : "genmodel");
    } else {
        s = cli_for_rows(ds, conditional, 0, score_rows, &c);
        rc = s == GM_OK ? 0 : cli_fail("scoring", s);
    }
    if (c.out && c.out != stdout && fclose(c.out) != 0 && rc == 0) {
        perror(out_path);
        rc = 1;
    }
    free(c.scores);
    gm_dataset_free(ds);
    gm_vae_free(vae);
    return rc;
}

/* ---- eval: test -ELBO and the IWAE negative log-likelihood ---- */

static int vae_eval(int argc, char **argv)
{
    const char *data = CLI_DEFAULT_DATA;
    int32_t k = 100, iwae_n = 1000;
    const cli_option opts[] = {
        { "--data", OPT_STRING, &data, "directory of the MNIST-family files (the t10k split is used)" },
        { "--k", OPT_INT, &k, "importance samples of the IWAE bound" },
        { "--iwae-n", OPT_INT, &iwae_n, "test images the IWAE bound is computed on (0: all)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae eval MODEL [--data DIR]", opts, COUNT(opts), NULL, pos, 1,
                             &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || k < 1) {
        fprintf(stderr, "genmodel vae eval: needs MODEL and k >= 1\n");
        return 2;
    }
    gm_vae *vae = NULL;
    gm_dataset *test = NULL;
    gm_status s = gm_dataset_load_dir(data, "t10k", &test);
    if (s != GM_OK || load_model(pos[0], &vae)) {
        gm_dataset_free(test);
        return s != GM_OK ? cli_fail(data, s) : 1;
    }
    int conditional = model_is_conditional(vae), rc = 1;
    double elbo, iwae;
    if ((s = mean_nll(vae, test, conditional, 0, 0, &elbo)) == GM_OK &&
        (s = mean_nll(vae, test, conditional, k, iwae_n, &iwae)) == GM_OK) {
        int32_t used = iwae_n > 0 && iwae_n < gm_dataset_count(test) ? iwae_n : gm_dataset_count(test);
        printf("test -ELBO %.3f nats/sample (%d images)\n", elbo, (int)gm_dataset_count(test));
        printf("test IWAE NLL %.3f nats/sample (k=%d, first %d images)\n", iwae, (int)k, (int)used);
        rc = 0;
    } else {
        rc = cli_fail("evaluating", s);
    }
    gm_vae_free(vae);
    gm_dataset_free(test);
    return rc;
}

int vae_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        { "train", vae_train }, { "sample", vae_sample }, { "reconstruct", vae_reconstruct },
        { "score", vae_score }, { "eval", vae_eval },
    };
    for (int i = 0; argc > 1 && i < COUNT(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "usage: genmodel vae train|sample|reconstruct|score|eval [options] (each takes --help)\n");
    return 2;
}
