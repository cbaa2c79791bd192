/* genmodel KIND train and KIND sample, for every kind of model: the
 * skeleton the kinds share, each kind's calls from its cli_model record
 * (vae_cmd.c, gan_cmd.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dist.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MAX_SUMS 8

const cli_model *cli_model_of(int32_t kind)
{
    return kind == GM_MODEL_VAE ? &cli_vae : kind == GM_MODEL_GAN ? &cli_gan : kind == GM_MODEL_SR ? &cli_sr : NULL;
}

int cli_load(const cli_model *m, const char *path, void **h)
{
    gm_status s = m->load(path, h);
    return s == GM_OK ? 0 : cli_fail(path, s);
}

int32_t cli_n_classes(const cli_model *m, const void *h)
{
    cli_any_config cfg;
    m->config_init(&cfg);
    m->get_config(h, &cfg);
    return *cli_int_field(&(cli_config){ m->kind, &cfg }, "n_classes");
}

/* ---- train ---- */

typedef struct {
    const cli_model *m;
    void *h;
    double sums[MAX_SUMS];
    int32_t steps;
    int32_t rows;  /* trained on by all the ranks together */
} train_ctx;

static gm_status train_batch(void *p, const float *x, const int32_t *labels, int32_t n)
{
    train_ctx *c = p;
    c->steps++;
    c->rows += n * cli_dist_size();
    return c->m->step(c->h, x, labels, n, c->sums);
}

/* After data-parallel training: every rank must hold the same checkpoint
 * (weights, moments, steps, random state), as the library promises when
 * the reduction gives every rank the same bits; rank 0 says so. */
static int check_ranks_agree(const cli_model *m, void *h)
{
    void *bytes = NULL;
    size_t n = 0;
    uint64_t hash;
    gm_status s = m->save_buffer(h, &bytes, &n);
    if (s != GM_OK)
        return cli_dist_abort(cli_fail("comparing the ranks", s));
    const int same = cli_dist_same(bytes, n, &hash);
    gm_buffer_free(bytes);
    if (!same) {
        fprintf(stderr, "genmodel: rank %d: the ranks ended with different models; the reduction did not give "
                "every rank the same values\n", cli_dist_rank());
        return 1;
    }
    printf("%d ranks hold the same model (checkpoint hash %016llx)\n", cli_dist_size(), (unsigned long long)hash);
    return 0;
}

/* room for the options every kind's train takes and the kind's short names */
#define MAX_OPTIONS 32

int cli_train(const cli_model *m, int argc, char **argv)
{
    cli_data data = { CLI_DEFAULT_DATA, NULL, NULL, NULL, NULL };
    const char *out = NULL, *resume = NULL;
    int32_t epochs = m->epochs, batch = m->batch, threads = 0, only_class = -1, conditional = 0, save_every = 0;
    cli_any_config cfg;
    m->config_init(&cfg);
    const cli_config config = { m->kind, &cfg };
    cli_option opts[MAX_OPTIONS] = {
        CLI_DATA_OPTIONS(data),
        { "--epochs", OPT_INT, &epochs, "passes over the training set" },
        { "--batch", OPT_INT, &batch, "samples per step (a GAN's: real samples)" },
        { "--conv", OPT_FIELD, "--conv-channels", "channels of the stride-2 convolutions on the image side, as 64,128 "
                                                  "(--conv-channels)" },
        { "--threads", OPT_INT, &threads, "threads (0: OpenBLAS's default count)" },
        { "--class", OPT_INT, &only_class, "train on this class only (one-class anomaly detection)" },
        { "--conditional", OPT_FLAG, &conditional, "condition on the label (a conditional model)" },
        { "--resume", OPT_STRING, &resume, "continue training this checkpoint" },
        { "--save-every", OPT_INT, &save_every, "also save every N epochs (0: at the end only)" },
        { "--out", OPT_STRING, &out, "where to save the model" },
    };
    int n_opts = 0;
    while (opts[n_opts].name)
        n_opts++;
    for (int i = 0; i < m->n_aliases && n_opts < MAX_OPTIONS; i++)
        opts[n_opts++] = m->aliases[i];
    char usage[64];
    snprintf(usage, sizeof usage, "genmodel %s train [options] --out MODEL", m->name);
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, usage, opts, n_opts, &config, pos, 0, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (!out || epochs < 0 || batch < 1) {
        fprintf(stderr, "genmodel %s train: needs --out MODEL, epochs >= 0 and batch >= 1\n", m->name);
        return 2;
    }
    const int rank = cli_dist_rank(), ranks = cli_dist_size();
    if (batch % ranks) {
        if (rank == 0)
            fprintf(stderr, "genmodel %s train: --batch %d does not split evenly across %d ranks: give a multiple "
                    "of %d (each rank takes batch / ranks rows of every step)\n", m->name, (int)batch, ranks, ranks);
        return 2;
    }
    /* rank 0 speaks for the run; the others report errors only */
    if (rank > 0 && !freopen("/dev/null", "w", stdout))
        return 1;
    gm_status s;
    if (threads > 0 && (s = gm_set_num_threads(threads)) != GM_OK)
        return cli_fail("--threads", s);

    gm_dataset *train = NULL, *test = NULL;
    train_ctx c = { m, NULL, { 0 }, 0, 0 };
    int32_t *rows = NULL, *order = NULL, count = 0;
    int rc = 1;
    /* the test split of an MNIST-family directory, evaluated after each
     * epoch; other data has none */
    if ((s = cli_open_data(&data, "train", &train)) != GM_OK ||
        (m->needs_test && cli_data_has_split(&data, "train") && cli_data_has_split(&data, "t10k") &&
         (s = cli_open_data(&data, "t10k", &test)) != GM_OK)) {
        rc = cli_fail(data.path, s);
        goto done;
    }
    if (resume) {
        if (cli_load(m, resume, &c.h))
            goto done;
        conditional = cli_n_classes(m, c.h) > 0;
        cli_any_config loaded;
        m->config_init(&loaded);
        m->get_config(c.h, &loaded);
        if (cli_check_dim(train, *cli_int_field(&(cli_config){ m->kind, &loaded }, m->dim_field), data.path))
            goto done;
    } else {
        *cli_int_field(&config, m->dim_field) = gm_dataset_dim(train);
        *cli_int_field(&config, "n_classes") = conditional ? gm_dataset_n_classes(train) : 0;
        cli_image_from(&config, train);
        if ((s = m->create(&cfg, &c.h)) != GM_OK) {
            rc = cli_fail(m->title, s);
            goto done;
        }
    }
    if (ranks > 1 && (s = m->set_allreduce(c.h, cli_dist_allreduce, NULL, rank, ranks)) != GM_OK) {
        rc = cli_fail("data-parallel training", s);
        goto done;
    }
    if (cli_training_rows(train, only_class, &rows, &count) || !(order = malloc((size_t)count * sizeof *order)))
        goto done;
    if (!resume && m->begin && (s = m->begin(c.h, train, rows, count, conditional)) != GM_OK) {
        rc = cli_fail("preparing", s);
        goto done;
    }

    for (int32_t epoch = 1; epoch <= epochs; epoch++) {
        double seconds;
        memset(c.sums, 0, sizeof c.sums);
        c.steps = 0;
        c.rows = 0;
        if ((s = m->shuffle(c.h, order, count)) != GM_OK ||
            (s = cli_epoch(train, rows, order, count, batch, conditional, rank, ranks, train_batch, &c, &seconds)) !=
                GM_OK) {
            rc = cli_fail("training", s);
            goto done;
        }
        printf("epoch %3d/%d ", (int)epoch, (int)epochs);
        if ((s = m->report(c.h, c.sums, c.steps, c.rows, test)) != GM_OK) {
            rc = cli_fail("evaluating", s);
            goto done;
        }
        printf("  %7.0f samples/s\n", c.rows / seconds);
        fflush(stdout);
        if (epoch == epochs && m->finish && (s = m->finish(c.h, train, rows, count, conditional)) != GM_OK) {
            rc = cli_fail("finishing", s);
            goto done;
        }
        if (((save_every > 0 && epoch % save_every == 0) || epoch == epochs) && rank == 0 &&
            (s = m->save(c.h, out)) != GM_OK) {
            rc = cli_fail(out, s);
            goto done;
        }
    }
    rc = epochs == 0 && rank == 0 && (s = m->save(c.h, out)) != GM_OK ? cli_fail(out, s) : 0;
    if (rc == 0 && ranks > 1)
        rc = check_ranks_agree(m, c.h);
done:
    /* a failure one rank may meet alone (a file, memory) must not leave the
     * others waiting in a reduction: end them all */
    if (rc != 0)
        cli_dist_abort(rc);
    free(rows);
    free(order);
    if (c.h)
        m->free(c.h);
    gm_dataset_free(train);
    gm_dataset_free(test);
    return rc;
}

/* ---- sample ---- */

int cli_sample(const cli_model *m, int argc, char **argv)
{
    const char *idx = NULL, *png = NULL, *set = NULL, *format = "npy";
    int32_t n = 64, label = -1, per_class = 0;
    const cli_option opts[] = {
        { "-n", OPT_INT, &n, "how many samples" },
        { "--label", OPT_INT, &label, "class of every sample (conditional model; default: all classes in turn)" },
        { "--per-class", OPT_INT, &per_class, "N samples of every class instead (conditional model)" },
        { "--idx", OPT_STRING, &idx, "write the samples as an IDX file (uint8)" },
        { "--png", OPT_STRING, &png, "write a grid of the samples (PNG, or PGM for other names)" },
        { "--out-dataset", OPT_STRING, &set, "write them with their labels as a dataset into this folder" },
        { "--format", OPT_STRING, &format, "of --out-dataset: idx (an MNIST-family folder), npy (x.npy, y.npy) or "
                                           "png (a folder of images per class)" },
    };
    char usage[128];
    snprintf(usage, sizeof usage, "genmodel %s sample MODEL -n N [--label C | --per-class N] [--idx OUT.idx3] "
             "[--png GRID.png] [--out-dataset DIR]", m->name);
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, usage, opts, COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    const int32_t dataset_format = !strcmp(format, "idx") ? GM_DATA_IDX : !strcmp(format, "npy") ? GM_DATA_NPY
                                   : !strcmp(format, "png") ? GM_DATA_PNG_DIR : -1;
    if (n_pos != 1 || n < 1 || per_class < 0 || (!idx && !png && !set) || dataset_format < 0) {
        fprintf(stderr, "genmodel %s sample: needs MODEL, n >= 1, --idx, --png and/or --out-dataset, and --format "
                "idx, npy or png\n", m->name);
        return 2;
    }
    void *h;
    if (cli_load(m, pos[0], &h))
        return 1;
    cli_any_config cfg;
    m->config_init(&cfg);
    m->get_config(h, &cfg);
    const cli_config config = { m->kind, &cfg };
    const int32_t dim = *cli_int_field(&config, m->dim_field), classes = *cli_int_field(&config, "n_classes");
    if (per_class > 0 && classes > 0 && (int64_t)per_class * classes <= INT32_MAX)
        n = per_class * classes;
    float *x = malloc((size_t)n * dim * sizeof *x);
    int32_t *labels = cli_sample_labels(n, classes, label);
    for (int32_t i = 0; labels && per_class > 0 && i < n; i++)
        labels[i] = i / per_class;
    int32_t height, width, channels;
    cli_model_image(&config, dim, &height, &width, &channels);
    int rc = 1;
    if (!x || (classes && !labels)) {
        fprintf(stderr, "genmodel: out of memory\n");
    } else if (label >= classes || (per_class > 0 && (classes == 0 || label >= 0))) {
        fprintf(stderr, "genmodel %s sample: --label and --per-class need a conditional model (this one has %d "
                "classes), and not both\n", m->name, (int)classes);
    } else if (per_class > 0 && n != per_class * classes) {
        fprintf(stderr, "genmodel %s sample: %d per class is too many\n", m->name, (int)per_class);
    } else {
        gm_status s = m->sample(h, labels, n, x);
        rc = s != GM_OK ? cli_fail("sampling", s) : idx || png ? cli_write_samples(x, n, height, width, channels, 0, idx, png) : 0;
        if (rc == 0 && set && (s = gm_dataset_write(set, dataset_format, x, labels, n, height, width, channels)))
            rc = cli_fail(set, s);
    }
    free(x);
    free(labels);
    m->free(h);
    return rc;
}
