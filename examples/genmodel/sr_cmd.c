/* genmodel sr: train an upscaler on a folder of images, apply it to a
 * PNG, and measure it against bicubic interpolation. Training draws
 * random patch pairs (gm_sr_patches) for a number of steps or minutes;
 * its shape differs from the row-by-row training of model_cmd.c, so it
 * lives here, and the kind's record serves info. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void config_init(cli_any_config *cfg) { gm_sr_config_init(&cfg->sr); }
static gm_status peek(const char *path, cli_any_config *cfg) { return gm_checkpoint_peek_sr(path, &cfg->sr); }
static gm_status create(const cli_any_config *cfg, void **h) { return gm_sr_create(&cfg->sr, (gm_sr **)h); }
static gm_status load(const char *path, void **h) { return gm_sr_load(path, (gm_sr **)h); }
static gm_status save(void *h, const char *path) { return gm_sr_save(h, path); }
static gm_status save_buffer(void *h, void **data, size_t *size) { return gm_sr_save_buffer(h, data, size); }
static void free_sr(void *h) { gm_sr_free(h); }
static void get_config(const void *h, cli_any_config *cfg) { gm_sr_get_config(h, &cfg->sr); }

const cli_model cli_sr = {
    .name = "sr", .title = "upscaler", .kind = GM_MODEL_SR, .config_init = config_init, .peek = peek,
    .create = create, .load = load, .save = save, .save_buffer = save_buffer, .free = free_sr,
    .get_config = get_config,
};

/* a folder of images of any sizes */
static gm_status open_images(const char *path, gm_dataset **ds)
{
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.format = GM_DATA_PNG_DIR;
    o.keep_sizes = 1;
    return gm_dataset_open(path, &o, ds);
}

static void print_scores(const char *what, const gm_sr_scores *q)
{
    printf("%s: %d images  PSNR %.3f dB (bicubic %.3f, %+.3f)  SSIM %.4f (bicubic %.4f, %+.4f)\n", what,
           (int)q->images, q->psnr, q->bicubic_psnr, q->psnr - q->bicubic_psnr, q->ssim, q->bicubic_ssim,
           q->ssim - q->bicubic_ssim);
}

static int sr_train(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *resume = NULL, *eval = NULL;
    int32_t steps = 0, batch = 64, threads = 0, every = 100, save_every = 0;
    float minutes = 0.0f;
    cli_any_config cfg;
    config_init(&cfg);
    const cli_config config = { GM_MODEL_SR, &cfg };
    const cli_option opts[] = {
        { "--data", OPT_STRING, &data, "a folder of PNG images (of any sizes, each at least scale * patch a side)" },
        { "--steps", OPT_INT, &steps, "training steps in all, a resumed model's counted (0: until --minutes, or 2000)" },
        { "--minutes", OPT_FLOAT, &minutes, "stop after this many minutes (0: no limit)" },
        { "--batch", OPT_INT, &batch, "patch pairs per step" },
        { "--threads", OPT_INT, &threads, "threads (0: the library's default count)" },
        { "--every", OPT_INT, &every, "print the mean loss every N steps" },
        { "--eval", OPT_STRING, &eval, "a folder of held-out images to measure at the end" },
        { "--resume", OPT_STRING, &resume, "continue training this checkpoint" },
        { "--save-every", OPT_INT, &save_every, "also save every N steps (0: at the end only)" },
        { "--out", OPT_STRING, &out, "where to save the model" },
        { "--adv", OPT_FIELD, "--adv-weight", "the adversarial loss's weight (--adv-weight; 0: pixel loss only)" },
        { "--lr", OPT_FIELD, "--optim-lr", "the upscaler's Adam learning rate (--optim-lr)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel sr train --data DIR [options] --out MODEL", opts, COUNT(opts),
                             &config, pos, 0, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (!data || !out || steps < 0 || batch < 1 || every < 1 || !(minutes >= 0.0f)) {
        fprintf(stderr, "genmodel sr train: needs --data DIR, --out MODEL, steps >= 0, batch >= 1 and every >= 1\n");
        return 2;
    }
    gm_status s;
    if (threads > 0 && (s = gm_set_num_threads(threads)) != GM_OK)
        return cli_fail("--threads", s);
    const int64_t last = steps ? steps : minutes > 0.0f ? INT64_MAX : 2000;
    gm_dataset *ds = NULL, *held = NULL;
    gm_sr *sr = NULL;
    float *lo = NULL, *hi = NULL;
    int rc = 1;
    if ((s = open_images(data, &ds)) != GM_OK || (eval && (s = open_images(eval, &held)) != GM_OK)) {
        rc = cli_fail(s == GM_OK || !held ? data : eval, s);
        goto done;
    }
    if ((s = resume ? gm_sr_load(resume, &sr) : gm_sr_create(&cfg.sr, &sr)) != GM_OK) {
        rc = cli_fail(resume ? resume : "the upscaler", s);
        goto done;
    }
    gm_sr_get_config(sr, &cfg.sr);
    const size_t p = (size_t)cfg.sr.patch, side = p * (size_t)cfg.sr.scale, C = (size_t)cfg.sr.channels;
    lo = malloc((size_t)batch * p * p * C * sizeof *lo);
    hi = malloc((size_t)batch * side * side * C * sizeof *hi);
    if (!lo || !hi) {
        perror("genmodel sr train");
        goto done;
    }
    printf("%d images in %s; x%d on %s, patches of %zu x %zu, batch %d\n", (int)gm_dataset_count(ds), data,
           (int)cfg.sr.scale, C == 1 ? "the luminance" : "RGB", p, p, (int)batch);
    const double started = cli_now();
    double sum = 0.0, train_seconds = 0.0;
    int32_t since = 0;
    for (int64_t step = gm_sr_step_count(sr); step < last; step++) {
        if (minutes > 0.0f && cli_now() - started >= 60.0 * minutes) {
            printf("stopping at step %lld: %.1f minutes\n", (long long)step, minutes);
            break;
        }
        gm_sr_losses l;
        if ((s = gm_sr_patches(sr, ds, batch, lo, hi)) != GM_OK) {
            rc = cli_fail("making patches", s);
            goto done;
        }
        const double t0 = cli_now();
        if ((s = gm_sr_train_step(sr, lo, hi, batch, (int32_t)p, (int32_t)p, &l)) != GM_OK) {
            rc = cli_fail("training", s);
            goto done;
        }
        train_seconds += cli_now() - t0;
        sum += l.pixel;
        if (++since == every || step + 1 == last) {
            printf("step %6lld  pixel loss %.6f  %6.0f patches/s training, %.1f min\n", (long long)step + 1,
                   sum / since, (double)since * batch / train_seconds, (cli_now() - started) / 60.0);
            fflush(stdout);
            sum = train_seconds = 0.0;
            since = 0;
        }
        if (save_every > 0 && (step + 1) % save_every == 0 && (s = gm_sr_save(sr, out)) != GM_OK) {
            rc = cli_fail(out, s);
            goto done;
        }
    }
    if ((s = gm_sr_save(sr, out)) != GM_OK) {
        rc = cli_fail(out, s);
        goto done;
    }
    gm_sr_scores q;
    if (held && (s = gm_sr_evaluate(sr, held, &q)) != GM_OK) {
        rc = cli_fail(eval, s);
        goto done;
    }
    if (held)
        print_scores(eval, &q);
    rc = 0;
done:
    free(lo);
    free(hi);
    gm_sr_free(sr);
    gm_dataset_free(ds);
    gm_dataset_free(held);
    return rc;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int sr_apply(int argc, char **argv)
{
    int32_t scale = 0, threads = 0, repeat = 1;
    const cli_option opts[] = {
        { "--scale", OPT_INT, &scale, "check that the model upscales by this factor" },
        { "--repeat", OPT_INT, &repeat, "upscale this many times and print the median time (a benchmark)" },
        { "--threads", OPT_INT, &threads, "threads (0: the library's default count)" },
    };
    const char *pos[3];
    int n_pos, r = cli_parse(argc, argv, "genmodel sr apply MODEL IN.png OUT.png", opts, COUNT(opts), NULL, pos, 3,
                             &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 3 || repeat < 1 || repeat > 1000) {
        fprintf(stderr, "genmodel sr apply: needs MODEL IN.png OUT.png, and repeat in 1..1000\n");
        return 2;
    }
    gm_status s;
    if (threads > 0 && (s = gm_set_num_threads(threads)) != GM_OK)
        return cli_fail("--threads", s);
    gm_sr *sr = NULL;
    float *x = NULL, *y = NULL;
    int32_t h, w, c;
    int rc = 1;
    gm_sr_config cfg;
    gm_sr_config_init(&cfg);
    if ((s = gm_sr_load(pos[0], &sr)) != GM_OK) {
        rc = cli_fail(pos[0], s);
        goto done;
    }
    gm_sr_get_config(sr, &cfg);
    if (scale && scale != cfg.scale) {
        fprintf(stderr, "genmodel sr apply: %s upscales by %d, not %d\n", pos[0], (int)cfg.scale, (int)scale);
        goto done;
    }
    if ((s = gm_image_read(pos[1], &h, &w, &c, &x)) != GM_OK) {
        rc = cli_fail(pos[1], s);
        goto done;
    }
    const size_t big = (size_t)h * w * c * cfg.scale * cfg.scale;
    if (!(y = malloc(big * sizeof *y))) {
        perror("genmodel sr apply");
        goto done;
    }
    double times[1000];
    for (int32_t i = 0; i < repeat; i++) {
        const double t0 = cli_now();
        if ((s = gm_sr_upscale(sr, x, h, w, c, y)) != GM_OK) {
            rc = cli_fail(pos[1], s);
            goto done;
        }
        times[i] = cli_now() - t0;
    }
    qsort(times, (size_t)repeat, sizeof *times, by_value);
    const double seconds = times[repeat / 2];
    if ((s = gm_image_write(pos[2], y, h * cfg.scale, w * cfg.scale, c)) != GM_OK) {
        rc = cli_fail(pos[2], s);
        goto done;
    }
    printf("%s: %d x %d -> %s: %d x %d (%.1f ms%s)\n", pos[1], (int)w, (int)h, pos[2], (int)(w * cfg.scale),
           (int)(h * cfg.scale), 1e3 * seconds, repeat > 1 ? ", the median" : "");
    rc = 0;
done:
    gm_buffer_free(x);
    free(y);
    gm_sr_free(sr);
    return rc;
}

static int sr_eval(int argc, char **argv)
{
    const char *data = NULL;
    int32_t threads = 0;
    const cli_option opts[] = {
        { "--data", OPT_STRING, &data, "a folder of PNG images to measure on" },
        { "--threads", OPT_INT, &threads, "threads (0: the library's default count)" },
    };
    const char *pos[1];
    int n_pos, r = cli_parse(argc, argv, "genmodel sr eval MODEL --data DIR", opts, COUNT(opts), NULL, pos, 1, &n_pos);
    if (r)
        return r < 0 ? 2 : 0;
    if (n_pos != 1 || !data) {
        fprintf(stderr, "genmodel sr eval: needs MODEL and --data DIR\n");
        return 2;
    }
    gm_status s;
    if (threads > 0 && (s = gm_set_num_threads(threads)) != GM_OK)
        return cli_fail("--threads", s);
    gm_sr *sr = NULL;
    gm_dataset *ds = NULL;
    gm_sr_scores q;
    int rc = 1;
    if ((s = gm_sr_load(pos[0], &sr)) != GM_OK)
        rc = cli_fail(pos[0], s);
    else if ((s = open_images(data, &ds)) != GM_OK)
        rc = cli_fail(data, s);
    else if ((s = gm_sr_evaluate(sr, ds, &q)) != GM_OK)
        rc = cli_fail(data, s);
    else {
        print_scores(data, &q);
        rc = 0;
    }
    gm_dataset_free(ds);
    gm_sr_free(sr);
    return rc;
}

int sr_main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "train"))
        return sr_train(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "apply"))
        return sr_apply(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "eval"))
        return sr_eval(argc - 1, argv + 1);
    fprintf(stderr, "usage: genmodel sr train|apply|eval [options] (each takes --help)\n");
    return 2;
}
