/* The genmodel tool's shared helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void print_help(const char *usage, const cli_option *opts, int n_opts)
{
    printf("usage: %s\n\noptions:\n", usage);
    for (int i = 0; i < n_opts; i++) {
        char value[32] = "";
        const cli_option *o = &opts[i];
        switch (o->kind) {
        case OPT_INT: snprintf(value, sizeof value, " N (%d)", (int)*(int32_t *)o->value); break;
        case OPT_FLOAT: snprintf(value, sizeof value, " X (%g)", (double)*(float *)o->value); break;
        case OPT_STRING:
            snprintf(value, sizeof value, " %s", *(const char **)o->value ? "S" : "S (none)");
            break;
        case OPT_FLAG: break;
        }
        printf("  %s%-*s %s\n", o->name, (int)(22 - strlen(o->name)), value, o->help);
    }
}

int cli_parse(int argc, char **argv, const char *usage, const cli_option *opts, int n_opts,
              const char **pos, int max_pos, int *n_pos)
{
    *n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            print_help(usage, opts, n_opts);
            return 1;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            if (*n_pos == max_pos) {
                fprintf(stderr, "unexpected argument '%s'\nusage: %s\n", arg, usage);
                return -1;
            }
            pos[(*n_pos)++] = arg;
            continue;
        }
        const cli_option *o = NULL;
        for (int k = 0; k < n_opts && !o; k++)
            if (!strcmp(opts[k].name, arg))
                o = &opts[k];
        if (!o) {
            fprintf(stderr, "unknown option '%s' (try --help)\n", arg);
            return -1;
        }
        if (o->kind == OPT_FLAG) {
            *(int32_t *)o->value = 1;
            continue;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "option %s needs a value\n", arg);
            return -1;
        }
        const char *v = argv[++i];
        char *end;
        if (o->kind == OPT_STRING) {
            *(const char **)o->value = v;
        } else if (o->kind == OPT_INT) {
            long n = strtol(v, &end, 10);
            if (*end || end == v || n < INT32_MIN || n > INT32_MAX) {
                fprintf(stderr, "option %s: '%s' is not an integer\n", arg, v);
                return -1;
            }
            *(int32_t *)o->value = (int32_t)n;
        } else {
            float f = strtof(v, &end);
            if (*end || end == v || !isfinite(f)) {
                fprintf(stderr, "option %s: '%s' is not a number\n", arg, v);
                return -1;
            }
            *(float *)o->value = f;
        }
    }
    return 0;
}

int cli_fail(const char *what, gm_status s)
{
    fprintf(stderr, "genmodel: %s: %s (%s)\n", what, gm_last_error(), gm_strerror(s));
    return 1;
}

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double last_drawn;

void cli_progress(int64_t done, int64_t total, double started)
{
    double now = cli_now();
    if (!isatty(STDERR_FILENO) || (now - last_drawn < 0.1 && done < total))
        return;
    last_drawn = now;
    enum { WIDTH = 30 };
    int filled = (int)(WIDTH * done / (total ? total : 1));
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[WIDTH] = '\0';
    double rate = done / (now - started > 1e-9 ? now - started : 1e-9);
    fprintf(stderr, "\r[%s] %3d%% %8.0f samples/s", bar, (int)(100 * done / (total ? total : 1)), rate);
    fflush(stderr);
}

void cli_progress_done(void)
{
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r%60s\r", "");
}

gm_status cli_for_rows(const gm_dataset *ds, int use_labels, int32_t limit, cli_rows_fn fn, void *ctx)
{
    enum { CHUNK = 1000 };
    int32_t count = gm_dataset_count(ds), dim = gm_dataset_dim(ds);
    if (limit > 0 && limit < count)
        count = limit;
    float *x = malloc((size_t)CHUNK * dim * sizeof *x);
    int32_t *index = malloc(CHUNK * sizeof *index), *labels = malloc(CHUNK * sizeof *labels);
    gm_status s = x && index && labels ? GM_OK : GM_ERR_NO_MEMORY;
    for (int32_t at = 0; s == GM_OK && at < count; at += CHUNK) {
        int32_t n = count - at < CHUNK ? count - at : CHUNK;
        for (int32_t i = 0; i < n; i++)
            index[i] = at + i;
        s = gm_dataset_gather(ds, index, n, x, use_labels ? labels : NULL);
        if (s == GM_OK)
            s = fn(ctx, x, use_labels ? labels : NULL, n, at);
    }
    free(x);
    free(index);
    free(labels);
    return s;
}

void cli_image_shape(int32_t dim, int32_t *height, int32_t *width)
{
    int32_t side = (int32_t)lround(sqrt((double)dim));
    *height = side * side == dim ? side : 1;
    *width = dim / *height;
}

int cli_write_samples(const float *x, int32_t n, int32_t dim, const char *idx_path, const char *grid_path)
{
    int32_t h, w;
    cli_image_shape(dim, &h, &w);
    gm_status s;
    if (idx_path && (s = gm_idx_write_images(idx_path, x, n, h, w)) != GM_OK)
        return cli_fail(idx_path, s);
    if (grid_path) {
        int32_t cols = (int32_t)ceil(sqrt((double)n));
        if ((s = gm_image_write_grid(grid_path, x, n, h, w, cols)) != GM_OK)
            return cli_fail(grid_path, s);
    }
    return 0;
}

int cli_training_rows(const gm_dataset *ds, int32_t only_class, int32_t **rows, int32_t *count)
{
    int32_t total = gm_dataset_count(ds), label, m = 0;
    float *x = malloc((size_t)gm_dataset_dim(ds) * sizeof *x);
    *rows = malloc((size_t)total * sizeof **rows);
    if (!x || !*rows) {
        free(x);
        fprintf(stderr, "genmodel: out of memory\n");
        return 1;
    }
    for (int32_t i = 0; i < total; i++)
        if (only_class < 0 || (gm_dataset_gather(ds, &i, 1, x, &label) == GM_OK && label == only_class))
            (*rows)[m++] = i;
    free(x);
    *count = m;
    if (m == 0) {
        fprintf(stderr, "genmodel: no training samples of class %d\n", (int)only_class);
        return 1;
    }
    return 0;
}

gm_status cli_epoch(const gm_dataset *ds, const int32_t *rows, const int32_t *order, int32_t count,
                    int32_t batch, int use_labels, cli_step_fn step, void *ctx, double *seconds)
{
    float *x = malloc((size_t)batch * gm_dataset_dim(ds) * sizeof *x);
    int32_t *index = malloc((size_t)batch * sizeof *index), *labels = malloc((size_t)batch * sizeof *labels);
    gm_status s = x && index && labels ? GM_OK : GM_ERR_NO_MEMORY;
    double started = cli_now();
    for (int32_t at = 0; s == GM_OK && at < count; at += batch) {
        int32_t n = count - at < batch ? count - at : batch;
        for (int32_t i = 0; i < n; i++)
            index[i] = rows[order[at + i]];
        s = gm_dataset_gather(ds, index, n, x, use_labels ? labels : NULL);
        if (s == GM_OK)
            s = step(ctx, x, use_labels ? labels : NULL, n);
        cli_progress(at + n, count, started);
    }
    *seconds = cli_now() - started;
    cli_progress_done();
    free(x);
    free(index);
    free(labels);
    return s;
}

int32_t *cli_sample_labels(int32_t n, int32_t n_classes, int32_t label)
{
    if (n_classes == 0)
        return NULL;
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    for (int32_t i = 0; labels && i < n; i++)
        labels[i] = label >= 0 ? label : i % n_classes;
    return labels;
}
