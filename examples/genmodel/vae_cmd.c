/* genmodel vae: train, sample, reconstruct, score, evaluate and walk a VAE. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dist.h"

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

/* ---- the VAE as a cli_model ---- */

static void config_init(cli_any_config *cfg) { gm_vae_config_init(&cfg->vae); }
static gm_status peek(const char *path, cli_any_config *cfg) { return gm_checkpoint_peek_vae(path, &cfg->vae); }
static gm_status create(const cli_any_config *cfg, void **h) { return gm_vae_create(&cfg->vae, (gm_vae **)h); }
static gm_status load(const char *path, void **h) { return gm_vae_load(path, (gm_vae **)h); }
static gm_status save(void *h, const char *path) { return gm_vae_save(h, path); }
static gm_status save_buffer(void *h, void **data, size_t *size) { return gm_vae_save_buffer(h, data, size); }
static gm_status set_allreduce(void *h, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size)
{
    return gm_vae_set_allreduce(h, fn, ctx, rank, size);
}
static void free_vae(void *h) { gm_vae_free(h); }
static void get_config(const void *h, cli_any_config *cfg) { gm_vae_get_config(h, &cfg->vae); }
static gm_status shuffle(void *h, int32_t *order, int32_t n) { return gm_vae_shuffle(h, order, n); }

static gm_status sample(void *h, const int32_t *labels, int32_t n, float *x)
{
    return gm_vae_sample(h, labels, n, x);
}

static gm_status step(void *h, const float *x, const int32_t *labels, int32_t n, double *sums)
{
    gm_vae_losses l;
    gm_status s = gm_vae_train_step(h, x, labels, n, &l);
    sums[0] += l.neg_elbo * n * cli_dist_size();  /* the batch's mean over all the ranks' rows */
    return s;
}

/* the epoch's -ELBO on the training samples, and on the test split if there is one */
static gm_status report(void *h, const double *sums, int32_t steps, int32_t count, const gm_dataset *test)
{
    (void)steps;
    double test_nll;
    gm_status s = test ? mean_nll(h, test, cli_n_classes(&cli_vae, h) > 0, 0, 0, &test_nll) : GM_OK;
    printf(" train -ELBO %8.3f", sums[0] / count);
    if (test && s == GM_OK)
        printf("  test -ELBO %8.3f", test_nll);
    return s;
}

/* rows[0..n) of ds (every row when rows is NULL) as floats, and their labels
 * with use_labels, malloc'd */
static gm_status gather_rows(const gm_dataset *ds, const int32_t *rows, int32_t n, int use_labels, float **x,
                             int32_t **labels)
{
    const int32_t dim = gm_dataset_dim(ds);
    int32_t *index = rows ? NULL : malloc((size_t)n * sizeof *index);
    *x = malloc((size_t)n * dim * sizeof **x);
    *labels = use_labels ? malloc((size_t)n * sizeof **labels) : NULL;
    if ((!rows && !index) || !*x || (use_labels && !*labels)) {
        free(index);
        return GM_ERR_NO_MEMORY;
    }
    for (int32_t i = 0; !rows && i < n; i++)
        index[i] = i;
    gm_status s = gm_dataset_gather(ds, rows ? rows : index, n, *x, *labels);
    free(index);
    return s;
}

/* fit the latent score's posterior (latent) or the standardization on the training rows */
static gm_status fit_rows(void *h, const gm_dataset *ds, const int32_t *rows, int32_t count, int use_labels, int latent)
{
    float *x;
    int32_t *labels;
    gm_status s = gather_rows(ds, rows, count, use_labels, &x, &labels);
    if (s == GM_OK)
        s = latent ? gm_vae_fit_latent(h, x, labels, count) : gm_vae_fit_standardization(h, x, count);
    free(x);
    free(labels);
    return s;
}

/* a new model that standardizes fits its statistics first */
static gm_status begin(void *h, const gm_dataset *ds, const int32_t *rows, int32_t count, int use_labels)
{
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    gm_vae_get_config(h, &cfg);
    return cfg.standardize ? fit_rows(h, ds, rows, count, use_labels, 0) : GM_OK;
}

/* after the last epoch, a model that keeps scoring fits the latent scores
 * on the training rows (holding them all as floats at once) */
static gm_status finish(void *h, const gm_dataset *ds, const int32_t *rows, int32_t count, int use_labels)
{
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    gm_vae_get_config(h, &cfg);
    return cfg.scoring && count >= 2 ? fit_rows(h, ds, rows, count, use_labels, 1) : GM_OK;
}

static const cli_option aliases[] = {
    { "--hidden", OPT_FIELD, "--enc-hidden --dec-hidden", "the encoder's and the decoder's hidden widths (0: none)" },
    { "--latent", OPT_FIELD, "--latent-dim", "latent dimensions (--latent-dim)" },
    { "--lr", OPT_FIELD, "--optim-lr", "Adam learning rate (--optim-lr)" },
};

const cli_model cli_vae = {
    .name = "vae", .title = "VAE", .kind = GM_MODEL_VAE, .dim_field = "input_dim", .epochs = 10, .batch = 128, .needs_test = 1,
    .aliases = aliases, .n_aliases = COUNT(aliases),
    .config_init = config_init, .peek = peek, .create = create, .load = load, .save = save, .free = free_vae,
    .save_buffer = save_buffer, .set_allreduce = set_allreduce,
    .get_config = get_config, .shuffle = shuffle, .sample = sample, .step = step, .report = report,
    .begin = begin, .finish = finish,
};

static int load_model(const char *path, gm_vae **vae)
{
    void *h = NULL;
    int r = cli_load(&cli_vae, path, &h);
    *vae = h;
    return r;
}

static int model_is_conditional(const gm_vae *vae)
{
    return cli_n_classes(&cli_vae, vae) > 0;
}

/* the values of a row of the model */
static int32_t vae_dim(gm_vae *vae)
{
    cli_any_config cfg;
    config_init(&cfg);
    get_config(vae, &cfg);
    return cfg.vae.input_dim;
}

/* the image a row of the model is */
static void vae_image(gm_vae *vae, int32_t *height, int32_t *width, int32_t *channels)
{
    cli_any_config cfg;
    config_init(&cfg);
    get_config(vae, &cfg);
    cli_model_image(&(cli_config){ GM_MODEL_VAE, &cfg }, cfg.vae.input_dim, height, width, channels);
}

static int vae_train(int argc, char **argv) { return cli_train(&cli_vae, argc, argv); }
static int vae_sample(int argc, char **argv) { return cli_sample(&cli_vae, argc, argv); }

/* ---- reconstruct: inputs and their reconstructions, row by row ---- */

static int vae_reconstruct(int argc, char **argv)
{
    cli_data data = { CLI_DEFAULT_DATA, NULL, NULL, NULL, NULL };
    const char *png = NULL;
    int32_t n = 32;
    const cli_option opts[] = {
        CLI_DATA_OPTIONS(data),
        { "-n", OPT_INT, &n, "how many test images" },
        { "--png", OPT_STRING, &png, "the grid: a row of inputs, then a row of their reconstructions" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae reconstruct MODEL [--data DIR|FILE] [-n N] --png GRID.png", opts,
                             COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || !png || n < 1) {
        fprintf(stderr, "genmodel vae reconstruct: needs MODEL, --png and n >= 1\n");
        return 2;
    }
    gm_vae *vae = NULL;
    gm_dataset *test = NULL;
    gm_status s = cli_open_data(&data, "t10k", &test);
    if (s != GM_OK || load_model(pos[0], &vae) || cli_check_dim(test, vae_dim(vae), data.path)) {
        gm_dataset_free(test);
        gm_vae_free(vae);
        return s != GM_OK ? cli_fail(data.path, s) : 1;
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
        }
        int32_t h, w, c;
        vae_image(vae, &h, &w, &c);
        rc = s != GM_OK ? cli_fail("reconstructing", s) : cli_write_samples(grid, 2 * rows * cols, h, w, c, cols,
                                                                            NULL, png);
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

/* ---- walk: interpolation grids between pairs of inputs, or the 2-D manifold ---- */

static int vae_walk(int argc, char **argv)
{
    cli_data data = { CLI_DEFAULT_DATA, NULL, NULL, NULL, NULL };
    const char *png = NULL;
    int32_t pairs = 8, steps = 10, side = 0, label = -1;
    const cli_option opts[] = {
        CLI_DATA_OPTIONS(data),
        { "--pairs", OPT_INT, &pairs, "walks, one a row: between rows 2i and 2i + 1 of the (test) data" },
        { "--steps", OPT_INT, &steps, "images per walk, both ends included" },
        { "--manifold", OPT_INT, &side, "instead, a SIDE x SIDE grid of the prior's quantiles (a 2-D latent space)" },
        { "--label", OPT_INT, &label, "the manifold's class (a conditional VAE)" },
        { "--png", OPT_STRING, &png, "the grid (PNG, or PGM for other names)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae walk MODEL [--data D] [--pairs N] [--steps S] "
                             "[--manifold SIDE [--label C]] --png GRID.png", opts, COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || !png || pairs < 1 || steps < 2 || side < 0) {
        fprintf(stderr, "genmodel vae walk: needs MODEL, --png, pairs >= 1 and steps >= 2\n");
        return 2;
    }
    gm_vae *vae = NULL;
    gm_dataset *test = NULL;
    if (load_model(pos[0], &vae))
        return 1;
    gm_vae_config cfg;
    gm_vae_config_init(&cfg);
    gm_vae_get_config(vae, &cfg);
    const int32_t dim = cfg.input_dim, conditional = cfg.n_classes > 0;
    const int32_t rows = side ? side : pairs, cols = side ? side : steps;
    float *grid = malloc((size_t)rows * cols * dim * sizeof *grid);
    float *ends = side ? NULL : malloc((size_t)2 * pairs * dim * sizeof *ends);
    int32_t *index = side ? NULL : malloc((size_t)2 * pairs * sizeof *index);
    int32_t *labels = side ? NULL : malloc((size_t)2 * pairs * sizeof *labels);
    gm_status s = GM_OK;
    int rc = 1;
    if (!grid || (!side && (!ends || !index || !labels))) {
        fprintf(stderr, "genmodel: out of memory\n");
        goto done;
    }
    if (side) {
        s = gm_vae_manifold(vae, side, label, grid);
    } else if ((s = cli_open_data(&data, "t10k", &test)) != GM_OK) {
        rc = cli_fail(data.path, s);
        goto done;
    } else if (cli_check_dim(test, dim, data.path)) {
        goto done;
    } else if (gm_dataset_count(test) < 2 * pairs || (conditional && !gm_dataset_has_labels(test))) {
        fprintf(stderr, "genmodel vae walk: %d pairs need %d rows%s; %s has %d\n", (int)pairs, (int)(2 * pairs),
                conditional ? " with labels" : "", data.path, (int)gm_dataset_count(test));
        goto done;
    } else {
        /* a: the even rows, b: the odd ones; a conditional walk stays in a's class */
        for (int32_t i = 0; i < pairs; i++)
            index[i] = 2 * i, index[pairs + i] = 2 * i + 1;
        if ((s = gm_dataset_gather(test, index, 2 * pairs, ends, conditional ? labels : NULL)) == GM_OK)
            s = gm_vae_interpolate(vae, ends, ends + (size_t)pairs * dim, conditional ? labels : NULL, pairs, steps,
                                   grid);
    }
    if (s != GM_OK) {
        rc = cli_fail(side ? "the manifold" : "interpolating", s);
    } else {
        int32_t h, w, c;
        vae_image(vae, &h, &w, &c);
        rc = cli_write_samples(grid, rows * cols, h, w, c, cols, NULL, png);
    }
done:
    free(grid);
    free(ends);
    free(index);
    free(labels);
    gm_dataset_free(test);
    gm_vae_free(vae);
    return rc;
}

/* ---- score: one anomaly score per input, in input order ---- */

typedef struct {
    gm_vae *vae;
    int32_t kind, draws, flag;  /* flag: as calibrated, with p-values and flags */
    FILE *out;
    double *scores, *p_values;
    int32_t *flags;
} score_ctx;

/* gm_score_kind's values by name, in value order */
static const char *const score_kinds[] = { "neg-elbo", "iwae", "reconstruction", "complexity", "latent", "latent-knn" };

/* the gm_score_kind named, or -1 */
static int32_t score_kind_of(const char *name)
{
    for (int32_t k = 0; k < COUNT(score_kinds); k++)
        if (!strcmp(name, score_kinds[k]))
            return k;
    return -1;
}

static gm_status score_rows(void *p, const float *x, const int32_t *labels, int32_t n, int32_t at)
{
    (void)at;
    score_ctx *c = p;
    gm_status s = c->flag ? gm_vae_flag(c->vae, x, labels, n, c->scores, c->p_values, c->flags)
                          : gm_vae_score_as(c->vae, c->kind, x, labels, n, c->draws, c->scores);
    for (int32_t i = 0; s == GM_OK && i < n; i++)
        if (c->flag)
            fprintf(c->out, "%.6f %.6f %d\n", c->scores[i], c->p_values[i], (int)c->flags[i]);
        else
            fprintf(c->out, "%.6f\n", c->scores[i]);
    return s;
}

/* The first n rows of ds and their anomaly maps as one RGB grid: a row of
 * 8 inputs, then a row of their maps in the "hot" colours (black, red,
 * yellow, white), every map on one scale, white at the largest value shown. */
static int write_anomaly_maps(gm_vae *vae, const gm_dataset *ds, int conditional, int32_t n, const char *png)
{
    int32_t h, w, c;
    vae_image(vae, &h, &w, &c);
    const int32_t dim = h * w * c, cols = 8;
    if (n > gm_dataset_count(ds))
        n = gm_dataset_count(ds);
    const int32_t rows = (n + cols - 1) / cols;
    const size_t px = (size_t)h * w;
    float *x = malloc((size_t)n * dim * sizeof *x), *map = malloc((size_t)n * dim * sizeof *map);
    float *grid = calloc((size_t)2 * rows * cols * px * 3, sizeof *grid);
    int32_t *index = malloc((size_t)n * sizeof *index), *labels = malloc((size_t)n * sizeof *labels);
    gm_status s = GM_OK;
    int rc = 1;
    if (!x || !map || !grid || !index || !labels) {
        fprintf(stderr, "genmodel: out of memory\n");
        goto done;
    }
    for (int32_t i = 0; i < n; i++)
        index[i] = i;
    if ((s = gm_dataset_gather(ds, index, n, x, conditional ? labels : NULL)) != GM_OK ||
        (s = gm_vae_anomaly_map(vae, x, conditional ? labels : NULL, n, map)) != GM_OK) {
        rc = cli_fail("the anomaly maps", s);
        goto done;
    }
    /* a pixel's anomaly is its channels' together */
    float top = 0.0f;
    for (size_t i = 0; i < (size_t)n * px; i++) {
        float v = 0.0f;
        for (int32_t k = 0; k < c; k++)
            v += map[i * c + k];
        map[i] = v;  /* in place: i * c >= i */
        top = v > top ? v : top;
    }
    for (int32_t i = 0; i < n; i++) {
        const size_t cell = (size_t)(i / cols) * 2 * cols + i % cols;
        float *in = grid + cell * px * 3, *heat = grid + (cell + cols) * px * 3;
        for (size_t j = 0; j < px; j++) {
            for (int k = 0; k < 3; k++)
                in[3 * j + k] = x[(size_t)i * dim + j * c + (c == 3 ? k : 0)];
            const float t = top > 0.0f ? map[(size_t)i * px + j] / top : 0.0f;
            heat[3 * j] = fminf(1.0f, 3.0f * t);
            heat[3 * j + 1] = fminf(1.0f, fmaxf(0.0f, 3.0f * t - 1.0f));
            heat[3 * j + 2] = fmaxf(0.0f, 3.0f * t - 2.0f);
        }
    }
    rc = cli_write_samples(grid, 2 * rows * cols, h, w, 3, cols, NULL, png);
done:
    free(x);
    free(map);
    free(grid);
    free(index);
    free(labels);
    return rc;
}

static int vae_score(int argc, char **argv)
{
    cli_data data = { NULL, NULL, NULL, NULL, NULL };
    const char *out_path = NULL, *kind = "latent-knn", *map_path = NULL;
    int32_t draws = 10, map_n = 32, flag = 0;
    const cli_option opts[] = {
        CLI_DATA_OPTIONS(data),
        { "--score", OPT_STRING, &kind, "latent-knn, latent, reconstruction, neg-elbo, iwae or complexity" },
        { "--flag", OPT_FLAG, &flag, "as calibrated (vae calibrate): each line the score, its p-value and 0 or 1" },
        { "--draws", OPT_INT, &draws, "draws of z per score (neg-elbo: averaged; iwae, complexity: importance-weighted)" },
        { "--map", OPT_STRING, &map_path, "also write the first rows and their anomaly maps as a grid (PNG or PPM)" },
        { "--map-n", OPT_INT, &map_n, "how many rows the grid shows" },
        { "--out", OPT_STRING, &out_path, "write the scores here (default: standard output)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae score MODEL --data FILE [--labels FILE] [--out scores.txt]", opts,
                             COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    const int32_t kind_value = score_kind_of(kind);
    if (n_pos != 1 || !data.path || kind_value < 0) {
        fprintf(stderr, "genmodel vae score: needs MODEL, --data FILE and a --score of latent-knn, latent, "
                "reconstruction, neg-elbo, iwae or complexity\n");
        return 2;
    }
    gm_vae *vae = NULL;
    gm_dataset *ds = NULL;
    if (load_model(pos[0], &vae))
        return 1;
    /* an unconditional model scores the inputs alone; a label column is
     * still not one of them */
    int conditional = model_is_conditional(vae), rc = 1;
    gm_status s = cli_open_data(&data, "t10k", &ds);
    score_ctx c = { vae, kind_value, draws, flag, out_path ? fopen(out_path, "w") : stdout,
                    malloc(1000 * sizeof(double)), malloc(1000 * sizeof(double)), malloc(1000 * sizeof(int32_t)) };
    if (s != GM_OK) {
        rc = cli_fail(data.path, s);
    } else if (cli_check_dim(ds, vae_dim(vae), data.path)) {
        rc = 1;
    } else if (conditional && !gm_dataset_has_labels(ds)) {
        fprintf(stderr, "genmodel vae score: a conditional model needs labels (--labels or --label-column)\n");
    } else if (!c.out || !c.scores || !c.p_values || !c.flags) {
        perror(out_path ? out_path : "genmodel");
    } else {
        s = cli_for_rows(ds, conditional, 0, score_rows, &c);
        rc = s == GM_OK ? 0 : cli_fail("scoring", s);
        if (rc == 0 && map_path && map_n > 0)
            rc = write_anomaly_maps(vae, ds, conditional, map_n, map_path);
    }
    if (c.out && c.out != stdout && fclose(c.out) != 0 && rc == 0) {
        perror(out_path);
        rc = 1;
    }
    free(c.scores);
    free(c.p_values);
    free(c.flags);
    gm_dataset_free(ds);
    gm_vae_free(vae);
    return rc;
}

/* ---- calibrate: a threshold from held-out normal rows, kept in the model ---- */

static int vae_calibrate(int argc, char **argv)
{
    cli_data data = { NULL, NULL, NULL, NULL, NULL };
    const char *out = NULL, *kind = "latent-knn";
    float fpr = 0.05f;
    int32_t draws = 10;
    const cli_option opts[] = {
        CLI_DATA_OPTIONS(data),
        { "--fpr", OPT_FLOAT, &fpr, "the share of normal rows to flag, in (0, 1)" },
        { "--score", OPT_STRING, &kind, "latent-knn, latent, reconstruction, neg-elbo, iwae or complexity" },
        { "--draws", OPT_INT, &draws, "draws of z per score" },
        { "--out", OPT_STRING, &out, "save the calibrated model here (default: over MODEL)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae calibrate MODEL --data HELD-OUT [--fpr P] [--score KIND] "
                             "[--out MODEL]", opts, COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    const int32_t kind_value = score_kind_of(kind);
    if (n_pos != 1 || !data.path || kind_value < 0) {
        fprintf(stderr, "genmodel vae calibrate: needs MODEL, --data FILE and a --score of latent-knn, latent, "
                "reconstruction, neg-elbo, iwae or complexity\n");
        return 2;
    }
    gm_vae *vae = NULL;
    gm_dataset *ds = NULL;
    float *x = NULL;
    int32_t *labels = NULL;
    if (load_model(pos[0], &vae))
        return 1;
    const int conditional = model_is_conditional(vae);
    gm_status s = cli_open_data(&data, "t10k", &ds);
    int rc = 1;
    if (s != GM_OK)
        rc = cli_fail(data.path, s);
    else if (cli_check_dim(ds, vae_dim(vae), data.path))
        rc = 1;
    else if ((s = gather_rows(ds, NULL, gm_dataset_count(ds), conditional, &x, &labels)) != GM_OK ||
             (s = gm_vae_calibrate(vae, kind_value, x, labels, gm_dataset_count(ds), draws, fpr)) != GM_OK)
        rc = cli_fail("calibrating", s);
    else if ((s = gm_vae_save(vae, out ? out : pos[0])) != GM_OK)
        rc = cli_fail(out ? out : pos[0], s);
    else
        rc = 0;
    free(x);
    free(labels);
    gm_dataset_free(ds);
    gm_vae_free(vae);
    return rc;
}

/* ---- eval: test -ELBO and the IWAE negative log-likelihood ---- */

static int vae_eval(int argc, char **argv)
{
    cli_data data = { CLI_DEFAULT_DATA, NULL, NULL, NULL, NULL };
    int32_t k = 100, iwae_n = 1000;
    const cli_option opts[] = {
        CLI_DATA_OPTIONS(data),
        { "--k", OPT_INT, &k, "importance samples of the IWAE bound" },
        { "--iwae-n", OPT_INT, &iwae_n, "test images the IWAE bound is computed on (0: all)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel vae eval MODEL [--data DIR|FILE]", opts, COUNT(opts), NULL, pos, 1,
                             &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || k < 1) {
        fprintf(stderr, "genmodel vae eval: needs MODEL and k >= 1\n");
        return 2;
    }
    gm_vae *vae = NULL;
    gm_dataset *test = NULL;
    gm_status s = cli_open_data(&data, "t10k", &test);
    if (s != GM_OK || load_model(pos[0], &vae) || cli_check_dim(test, vae_dim(vae), data.path)) {
        gm_dataset_free(test);
        gm_vae_free(vae);
        return s != GM_OK ? cli_fail(data.path, s) : 1;
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
        { "score", vae_score }, { "calibrate", vae_calibrate }, { "eval", vae_eval }, { "walk", vae_walk },
    };
    for (int i = 0; argc > 1 && i < COUNT(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "usage: genmodel vae train|sample|reconstruct|score|calibrate|eval|walk [options] (each takes "
            "--help)\n");
    return 2;
}
