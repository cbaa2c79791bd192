/* genmodel gan: train a GAN and sample from it (model_cmd.c), through
 * this record of the GAN's calls; score rows by its discriminator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void config_init(cli_any_config *cfg) { gm_gan_config_init(&cfg->gan); }
static gm_status peek(const char *path, cli_any_config *cfg) { return gm_checkpoint_peek_gan(path, &cfg->gan); }
static gm_status create(const cli_any_config *cfg, void **h) { return gm_gan_create(&cfg->gan, (gm_gan **)h); }
static gm_status load(const char *path, void **h) { return gm_gan_load(path, (gm_gan **)h); }
static gm_status save(void *h, const char *path) { return gm_gan_save(h, path); }
static gm_status save_buffer(void *h, void **data, size_t *size) { return gm_gan_save_buffer(h, data, size); }
static gm_status set_allreduce(void *h, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size)
{
    return gm_gan_set_allreduce(h, fn, ctx, rank, size);
}
static void free_gan(void *h) { gm_gan_free(h); }
static void get_config(const void *h, cli_any_config *cfg) { gm_gan_get_config(h, &cfg->gan); }
static gm_status shuffle(void *h, int32_t *order, int32_t n) { return gm_gan_shuffle(h, order, n); }

static gm_status sample(void *h, const int32_t *labels, int32_t n, float *x)
{
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    gm_gan_get_config(h, &cfg);
    gm_status s = gm_gan_sample(h, labels, n, x);
    /* a tanh generator speaks [-1, 1]; images are [0, 1] */
    for (size_t i = 0; s == GM_OK && cfg.gen_output == GM_ACT_TANH && i < (size_t)n * cfg.data_dim; i++)
        x[i] = 0.5f * (x[i] + 1.0f);
    return s;
}

enum { D_LOSS, G_LOSS, D_REAL, D_FAKE, GP };

static gm_status step(void *h, const float *x, const int32_t *labels, int32_t n, double *sums)
{
    gm_gan_losses l;
    gm_status s = gm_gan_train_step(h, x, labels, n, &l);
    sums[D_LOSS] += l.d_loss;
    sums[G_LOSS] += l.g_loss;
    sums[D_REAL] += l.d_real;
    sums[D_FAKE] += l.d_fake;
    sums[GP] += l.gp;
    return s;
}

/* the epoch's mean losses and D's mean outputs */
static gm_status report(void *h, const double *sums, int32_t steps, int32_t count, const gm_dataset *test)
{
    (void)h, (void)count, (void)test;
    double k = steps ? 1.0 / steps : 0.0;
    printf(" D loss %7.4f  G loss %7.4f  D(x) %6.3f  D(G(z)) %6.3f", sums[D_LOSS] * k, sums[G_LOSS] * k,
           sums[D_REAL] * k, sums[D_FAKE] * k);
    if (sums[GP] != 0.0)
        printf("  GP %6.3f", sums[GP] * k);
    return GM_OK;
}

static const cli_option aliases[] = {
    { "--lr-g", OPT_FIELD, "--gen-optim-lr", "the generator's Adam learning rate (--gen-optim-lr)" },
    { "--lr-d", OPT_FIELD, "--disc-optim-lr", "the discriminator's (--disc-optim-lr)" },
    { "--smooth", OPT_FIELD, "--label-smoothing", "one-sided label smoothing s (--label-smoothing)" },
    { "--noise", OPT_FIELD, "--instance-noise", "instance noise sigma on D's inputs (--instance-noise)" },
    { "--noise-steps", OPT_FIELD, "--noise-anneal-steps", "its annealing steps (--noise-anneal-steps)" },
    { "--ema", OPT_FIELD, "--ema-decay", "EMA decay of the generator's weights (--ema-decay)" },
};

const cli_model cli_gan = {
    .name = "gan", .title = "GAN", .kind = GM_MODEL_GAN, .dim_field = "data_dim", .epochs = 20, .batch = 128,
    .aliases = aliases, .n_aliases = COUNT(aliases),
    .config_init = config_init, .peek = peek, .create = create, .load = load, .save = save, .free = free_gan,
    .save_buffer = save_buffer, .set_allreduce = set_allreduce,
    .get_config = get_config, .shuffle = shuffle, .sample = sample, .step = step, .report = report,
};

/* ---- score: -D(x), higher for rows the discriminator takes for forged ---- */

typedef struct {
    gm_gan *gan;
    FILE *out;
    float *logits;
} score_ctx;

static gm_status score_rows(void *p, const float *x, const int32_t *labels, int32_t n, int32_t at)
{
    (void)at;
    score_ctx *c = p;
    gm_status s = gm_gan_discriminate(c->gan, x, labels, n, c->logits);
    for (int32_t i = 0; s == GM_OK && i < n; i++)
        fprintf(c->out, "%.6f\n", -(double)c->logits[i]);
    return s;
}

static int gan_score(int argc, char **argv)
{
    cli_data data = { NULL, NULL, NULL, NULL, NULL };
    const char *out_path = NULL;
    const cli_option opts[] = {
        CLI_DATA_OPTIONS(data),
        { "--out", OPT_STRING, &out_path, "write the scores here (default: standard output)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel gan score MODEL --data FILE [--out scores.txt]", opts, COUNT(opts),
                             NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || !data.path) {
        fprintf(stderr, "genmodel gan score: needs MODEL and --data FILE\n");
        return 2;
    }
    void *h = NULL;
    if (cli_load(&cli_gan, pos[0], &h))
        return 1;
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    gm_gan_get_config(h, &cfg);
    gm_dataset *ds = NULL;
    gm_status s = cli_open_data(&data, "t10k", &ds);
    score_ctx c = { h, out_path ? fopen(out_path, "w") : stdout, malloc(1000 * sizeof(float)) };
    int rc = 1;
    if (s != GM_OK)
        rc = cli_fail(data.path, s);
    else if (cli_check_dim(ds, cfg.data_dim, data.path))
        rc = 1;
    else if (cfg.n_classes && !gm_dataset_has_labels(ds))
        fprintf(stderr, "genmodel gan score: a conditional model needs labels (--labels or --label-column)\n");
    else if (!c.out || !c.logits)
        perror(out_path ? out_path : "genmodel");
    else
        rc = (s = cli_for_rows(ds, cfg.n_classes > 0, 0, score_rows, &c)) == GM_OK ? 0 : cli_fail("scoring", s);
    if (c.out && c.out != stdout && fclose(c.out) != 0 && rc == 0) {
        perror(out_path);
        rc = 1;
    }
    free(c.logits);
    gm_dataset_free(ds);
    gm_gan_free(h);
    return rc;
}

int gan_main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "train"))
        return cli_train(&cli_gan, argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "sample"))
        return cli_sample(&cli_gan, argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "score"))
        return gan_score(argc - 1, argv + 1);
    fprintf(stderr, "usage: genmodel gan train|sample|score [options] (each takes --help)\n");
    return 2;
}
