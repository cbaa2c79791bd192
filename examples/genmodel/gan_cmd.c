/* genmodel gan: train a GAN and sample from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct {
    gm_gan *gan;
    gm_gan_losses sum;  /* over the epoch's steps */
    int32_t steps;
} train_ctx;

static gm_status train_batch(void *p, const float *x, const int32_t *labels, int32_t n)
{
    train_ctx *c = p;
    gm_gan_losses l;
    gm_status s = gm_gan_train_step(c->gan, x, labels, n, &l);
    c->sum.d_loss += l.d_loss;
    c->sum.g_loss += l.g_loss;
    c->sum.d_real += l.d_real;
    c->sum.d_fake += l.d_fake;
    c->sum.gp += l.gp;
    c->steps++;
    return s;
}

static int is_conditional(const gm_gan *gan)
{
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    gm_gan_get_config(gan, &cfg);
    return cfg.n_classes > 0;
}

static int gan_train(int argc, char **argv)
{
    const char *data = CLI_DEFAULT_DATA, *out = NULL, *resume = NULL, *conv = NULL;
    int32_t epochs = 20, batch = 128, threads = 0, only_class = -1, conditional = 0, save_every = 0;
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    const cli_config config = { GM_MODEL_GAN, &cfg };
    const cli_option opts[] = {
        { "--data", OPT_STRING, &data, "directory of the four MNIST-family files" },
        { "--epochs", OPT_INT, &epochs, "passes over the training set" },
        { "--batch", OPT_INT, &batch, "real samples per step" },
        { "--conv", OPT_STRING, &conv, "the discriminator's convolutions' channels, as 64,128 (--conv-channels)" },
        { "--lr-g", OPT_FLOAT, &cfg.gen_optim.lr, "the generator's Adam learning rate (--gen-optim-lr)" },
        { "--lr-d", OPT_FLOAT, &cfg.disc_optim.lr, "the discriminator's (--disc-optim-lr)" },
        { "--smooth", OPT_FLOAT, &cfg.label_smoothing, "one-sided label smoothing s (--label-smoothing)" },
        { "--noise", OPT_FLOAT, &cfg.instance_noise, "instance noise sigma on D's inputs (--instance-noise)" },
        { "--noise-steps", OPT_INT, &cfg.noise_anneal_steps, "its annealing steps (--noise-anneal-steps)" },
        { "--ema", OPT_FLOAT, &cfg.ema_decay, "EMA decay of the generator's weights (--ema-decay)" },
        { "--threads", OPT_INT, &threads, "threads (0: OpenBLAS's default count)" },
        { "--class", OPT_INT, &only_class, "train on this class only" },
        { "--conditional", OPT_FLAG, &conditional, "condition on the label (a conditional GAN)" },
        { "--resume", OPT_STRING, &resume, "continue training this checkpoint" },
        { "--save-every", OPT_INT, &save_every, "also save every N epochs (0: at the end only)" },
        { "--out", OPT_STRING, &out, "where to save the model" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel gan train [options] --out MODEL", opts, COUNT(opts), &config,
                             pos, 0, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (conv && cli_set_field(&config, "--conv-channels", conv))
        return 2;
    if (!out || epochs < 0 || batch < 1) {
        fprintf(stderr, "genmodel gan train: needs --out MODEL, epochs >= 0 and batch >= 1\n");
        return 2;
    }
    gm_status s;
    if (threads > 0 && (s = gm_set_num_threads(threads)) != GM_OK)
        return cli_fail("--threads", s);

    gm_dataset *train = NULL;
    train_ctx c = { 0 };
    int32_t *rows = NULL, *order = NULL, count = 0;
    int rc = 1;
    if ((s = gm_dataset_load_dir(data, "train", &train)) != GM_OK) {
        rc = cli_fail(data, s);
        goto done;
    }
    if (resume) {
        if ((s = gm_gan_load(resume, &c.gan)) != GM_OK) {
            rc = cli_fail(resume, s);
            goto done;
        }
        conditional = is_conditional(c.gan);
    } else {
        cfg.data_dim = gm_dataset_dim(train);
        cli_image_from(&config, train);
        cfg.n_classes = conditional ? gm_dataset_n_classes(train) : 0;
        if ((s = gm_gan_create(&cfg, &c.gan)) != GM_OK) {
            rc = cli_fail("creating the GAN", s);
            goto done;
        }
    }
    if (cli_training_rows(train, only_class, &rows, &count) || !(order = malloc((size_t)count * sizeof *order)))
        goto done;

    for (int32_t epoch = 1; epoch <= epochs; epoch++) {
        double seconds;
        memset(&c.sum, 0, sizeof c.sum);
        c.steps = 0;
        if ((s = gm_gan_shuffle(c.gan, order, count)) != GM_OK ||
            (s = cli_epoch(train, rows, order, count, batch, conditional, train_batch, &c, &seconds)) != GM_OK) {
            rc = cli_fail("training", s);
            goto done;
        }
        double k = c.steps ? 1.0 / c.steps : 0.0;
        printf("epoch %3d/%d  D loss %7.4f  G loss %7.4f  D(x) %6.3f  D(G(z)) %6.3f", (int)epoch, (int)epochs,
               c.sum.d_loss * k, c.sum.g_loss * k, c.sum.d_real * k, c.sum.d_fake * k);
        if (c.sum.gp != 0.0)
            printf("  GP %6.3f", c.sum.gp * k);
        printf("  %7.0f samples/s\n", count / seconds);
        fflush(stdout);
        if (((save_every > 0 && epoch % save_every == 0) || epoch == epochs) &&
            (s = gm_gan_save(c.gan, out)) != GM_OK) {
            rc = cli_fail(out, s);
            goto done;
        }
    }
    rc = epochs == 0 && (s = gm_gan_save(c.gan, out)) != GM_OK ? cli_fail(out, s) : 0;
done:
    free(rows);
    free(order);
    gm_gan_free(c.gan);
    gm_dataset_free(train);
    return rc;
}

static int gan_sample(int argc, char **argv)
{
    const char *idx = NULL, *png = NULL;
    int32_t n = 64, label = -1;
    const cli_option opts[] = {
        { "-n", OPT_INT, &n, "how many samples" },
        { "--label", OPT_INT, &label, "class of every sample (conditional GAN; default: all classes in turn)" },
        { "--idx", OPT_STRING, &idx, "write the samples as an IDX file (uint8)" },
        { "--png", OPT_STRING, &png, "write a grid of the samples (PNG, or PGM for other names)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel gan sample MODEL -n N [--label C] [--idx OUT.idx3] [--png GRID.png]",
                             opts, COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || n < 1 || (!idx && !png)) {
        fprintf(stderr, "genmodel gan sample: needs MODEL, n >= 1, and --idx and/or --png\n");
        return 2;
    }
    gm_gan *gan;
    gm_status s = gm_gan_load(pos[0], &gan);
    if (s != GM_OK)
        return cli_fail(pos[0], s);
    gm_gan_config cfg;
    gm_gan_config_init(&cfg);
    gm_gan_get_config(gan, &cfg);
    float *x = malloc((size_t)n * cfg.data_dim * sizeof *x);
    int32_t *labels = cli_sample_labels(n, cfg.n_classes, label);
    int rc = 1;
    if (!x || (cfg.n_classes && !labels)) {
        fprintf(stderr, "genmodel: out of memory\n");
    } else if (label >= cfg.n_classes) {
        fprintf(stderr, "genmodel gan sample: --label needs a conditional model with more than %d classes\n", (int)label);
    } else if ((s = gm_gan_sample(gan, labels, n, x)) != GM_OK) {
        rc = cli_fail("sampling", s);
    } else {
        /* a tanh generator speaks [-1, 1]; images are [0, 1] */
        for (size_t i = 0; cfg.gen_output == GM_ACT_TANH && i < (size_t)n * cfg.data_dim; i++)
            x[i] = 0.5f * (x[i] + 1.0f);
        rc = cli_write_samples(x, n, cfg.data_dim, idx, png);
    }
    free(x);
    free(labels);
    gm_gan_free(gan);
    return rc;
}

int gan_main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "train"))
        return gan_train(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "sample"))
        return gan_sample(argc - 1, argv + 1);
    fprintf(stderr, "usage: genmodel gan train|sample [options] (each takes --help)\n");
    return 2;
}
