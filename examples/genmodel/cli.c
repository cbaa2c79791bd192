/* The genmodel tool's shared helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dist.h"

/* ---- a config's fields as options ---- */

static gm_config_field field_at(int32_t kind, int32_t i)
{
    gm_config_field f;
    gm_config_field_init(&f);
    gm_config_field_get(kind, i, &f);  /* i < the count: cannot fail */
    return f;
}

static int32_t field_count(int32_t kind)
{
    int32_t n = 0;
    gm_config_field_count(kind, &n);
    return n;
}

/* whether field f is the used length of another field (printed with it) */
static int is_length(int32_t kind, const gm_config_field *f)
{
    for (int32_t i = 0; i < field_count(kind); i++) {
        const gm_config_field g = field_at(kind, i);
        if (g.length_of && !strcmp(g.length_of, f->name))
            return 1;
    }
    return 0;
}

static void option_name(const gm_config_field *f, char out[64])
{
    snprintf(out, 64, "--%s", f->name);
    for (char *c = out + 2; *c; c++)
        *c = *c == '_' || *c == '.' ? '-' : *c;
}

static void *element(const cli_config *c, const gm_config_field *f, int i)
{
    return (char *)c->cfg + f->offset + (size_t)i * (f->type == GM_FIELD_U64 ? 8 : 4);
}

/* the value of choices' name (a comma list), or -1 */
static int32_t choice_value(const char *choices, const char *name)
{
    const size_t n = strlen(name);
    int32_t value = 0;
    for (const char *c = choices; *c; value++) {
        const char *end = strchr(c, ',');
        const size_t len = end ? (size_t)(end - c) : strlen(c);
        if (len == n && !strncmp(c, name, n))
            return value;
        c += len + (end != NULL);
    }
    return -1;
}

/* "relu" for value 1 of "identity,relu,...", into out; "?" outside */
static void choice_name(const char *choices, int32_t value, char *out, size_t size)
{
    const char *c = choices;
    for (int32_t v = 0; v < value && c; v++)
        c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
    const size_t len = c ? (strchr(c, ',') ? (size_t)(strchr(c, ',') - c) : strlen(c)) : 0;
    snprintf(out, size, "%.*s", c && value >= 0 ? (int)len : 1, c && value >= 0 ? c : "?");
}

static int set_element(const cli_config *c, const gm_config_field *f, int i, const char *v, const char *arg)
{
    char *end;
    if (f->choices) {
        const int32_t value = choice_value(f->choices, v);
        if (value < 0) {
            fprintf(stderr, "option %s: '%s' is none of %s\n", arg, v, f->choices);
            return -1;
        }
        memcpy(element(c, f, i), &value, sizeof value);
    } else if (f->type == GM_FIELD_I32) {
        long n = strtol(v, &end, 10);
        const int32_t value = (int32_t)n;
        if (*end || end == v || n < INT32_MIN || n > INT32_MAX) {
            fprintf(stderr, "option %s: '%s' is not an integer\n", arg, v);
            return -1;
        }
        memcpy(element(c, f, i), &value, sizeof value);
    } else if (f->type == GM_FIELD_F32) {
        const float value = strtof(v, &end);
        if (*end || end == v || !isfinite(value)) {
            fprintf(stderr, "option %s: '%s' is not a number\n", arg, v);
            return -1;
        }
        memcpy(element(c, f, i), &value, sizeof value);
    } else {
        const unsigned long long n = strtoull(v, &end, 10);
        const uint64_t value = (uint64_t)n;
        if (*end || end == v || v[0] == '-') {
            fprintf(stderr, "option %s: '%s' is not a non-negative integer\n", arg, v);
            return -1;
        }
        memcpy(element(c, f, i), &value, sizeof value);
    }
    return 0;
}

/* --NAME VALUE for one of the config's fields: 1 when arg names none */
static int set_field(const cli_config *c, const char *arg, const char *v)
{
    for (int32_t k = 0; k < field_count(c->kind); k++) {
        const gm_config_field f = field_at(c->kind, k);
        char name[64];
        option_name(&f, name);
        if (strcmp(name, arg) != 0)
            continue;
        if (f.count == 1)
            return set_element(c, &f, 0, v, arg);
        /* a comma list, its length into the length field */
        char list[256];
        snprintf(list, sizeof list, "%s", strcmp(v, "none") && strcmp(v, "0") ? v : "");
        int32_t n = 0;
        for (char *save = NULL, *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save), n++) {
            if (n == f.count) {
                fprintf(stderr, "option %s: at most %d values\n", arg, (int)f.count);
                return -1;
            }
            if (set_element(c, &f, n, item, arg))
                return -1;
        }
        for (int32_t e = n; e < f.count; e++)
            memset(element(c, &f, e), 0, f.type == GM_FIELD_U64 ? 8 : 4);
        for (int32_t j = 0; f.length_of && j < field_count(c->kind); j++) {
            const gm_config_field g = field_at(c->kind, j);
            if (!strcmp(g.name, f.length_of))
                memcpy((char *)c->cfg + g.offset, &n, sizeof n);
        }
        return 0;
    }
    return 1;
}

/* the value of field f as text: an array's used elements as a comma list */
static void format_field(int32_t kind, const void *cfg, const gm_config_field *f, char *out, size_t size)
{
    int32_t n = f->count;
    for (int32_t j = 0; f->length_of && j < field_count(kind); j++) {
        const gm_config_field g = field_at(kind, j);
        if (!strcmp(g.name, f->length_of))
            memcpy(&n, (const char *)cfg + g.offset, sizeof n);
    }
    n = n < 0 ? 0 : n > f->count ? f->count : n;
    size_t at = 0;
    out[0] = '\0';
    for (int32_t e = 0; e < n && at < size; e++) {
        char one[48];
        const char *p = (const char *)cfg + f->offset + (size_t)e * (f->type == GM_FIELD_U64 ? 8 : 4);
        int32_t i;
        float x;
        uint64_t u;
        if (f->choices) {
            memcpy(&i, p, sizeof i);
            choice_name(f->choices, i, one, sizeof one);
        } else if (f->type == GM_FIELD_I32) {
            memcpy(&i, p, sizeof i);
            snprintf(one, sizeof one, "%d", (int)i);
        } else if (f->type == GM_FIELD_F32) {
            memcpy(&x, p, sizeof x);
            snprintf(one, sizeof one, "%g", (double)x);
        } else {
            memcpy(&u, p, sizeof u);
            snprintf(one, sizeof one, "%llu", (unsigned long long)u);
        }
        at += (size_t)snprintf(out + at, size - at, "%s%s", e ? "," : "", one);
    }
    if (f->count > 1 && n == 0)
        snprintf(out, size, "none");
}

int cli_set_field(const cli_config *config, const char *option, const char *value)
{
    const int r = set_field(config, option, value);
    if (r > 0)
        fprintf(stderr, "genmodel: no config field for %s\n", option);
    return r ? -1 : 0;
}

int32_t *cli_int_field(const cli_config *c, const char *name)
{
    for (int32_t k = 0; k < field_count(c->kind); k++) {
        const gm_config_field f = field_at(c->kind, k);
        if (!strcmp(f.name, name))
            return element(c, &f, 0);
    }
    return NULL;
}

void cli_image_from(const cli_config *config, const gm_dataset *ds)
{
    int32_t *channels = cli_int_field(config, "image_channels"), *n_conv = cli_int_field(config, "n_conv");
    if (!channels || !n_conv || !*n_conv || *channels)
        return;
    *channels = gm_dataset_channels(ds);
    *cli_int_field(config, "image_height") = gm_dataset_height(ds);
    *cli_int_field(config, "image_width") = gm_dataset_width(ds);
}

void cli_print_config(int32_t kind, const void *cfg)
{
    for (int32_t k = 0; k < field_count(kind); k++) {
        const gm_config_field f = field_at(kind, k);
        char value[256];
        if (is_length(kind, &f))
            continue;
        format_field(kind, cfg, &f, value, sizeof value);
        printf("  %-24s %s\n", f.name, value);
    }
}

static void print_config_help(const cli_config *c)
{
    printf("\nthe model's config, each field an option (a list: 1,2,3, or none):\n");
    for (int32_t k = 0; k < field_count(c->kind); k++) {
        const gm_config_field f = field_at(c->kind, k);
        char name[64], value[256], with[64 + 256 + 4];
        if (is_length(c->kind, &f))
            continue;
        option_name(&f, name);
        format_field(c->kind, c->cfg, &f, value, sizeof value);
        snprintf(with, sizeof with, "%s (%s)", name, value);
        printf("  %-30s %s%s%s\n", with, f.help, f.choices ? ": " : "", f.choices ? f.choices : "");
    }
}

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
        case OPT_FIELD: snprintf(value, sizeof value, " V"); break;
        case OPT_FLAG: break;
        }
        printf("  %s%-*s %s\n", o->name, (int)(22 - strlen(o->name)), value, o->help);
    }
}

int cli_parse(int argc, char **argv, const char *usage, const cli_option *opts, int n_opts,
              const cli_config *config, const char **pos, int max_pos, int *n_pos)
{
    *n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            print_help(usage, opts, n_opts);
            if (config)
                print_config_help(config);
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
        if (!o && config && i + 1 < argc) {
            const int r = set_field(config, arg, argv[i + 1]);
            if (r <= 0) {
                if (r < 0)
                    return -1;
                i++;
                continue;
            }
        }
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
        if (o->kind == OPT_FIELD) {
            char names[128];
            snprintf(names, sizeof names, "%s", (const char *)o->value);
            for (char *save = NULL, *f = strtok_r(names, " ", &save); f; f = strtok_r(NULL, " ", &save))
                if (!config || cli_set_field(config, f, v))
                    return -1;
        } else if (o->kind == OPT_STRING) {
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

int cli_data_has_split(const cli_data *d, const char *split)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", d->path, split);
    if (stat(path, &st) == 0)
        return 1;
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", d->path, split);
    return stat(path, &st) == 0;
}

gm_status cli_open_data(const cli_data *d, const char *split, gm_dataset **out)
{
    if (cli_data_has_split(d, "train"))
        return gm_dataset_load_dir(d->path, split, out);
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.labels_path = d->labels;
    o.label_column = d->label_column;
    /* HEIGHTxWIDTH; anything else asks for an impossible size the library refuses */
    char x;
    if (d->resize && sscanf(d->resize, "%d%c%d", &o.resize_height, &x, &o.resize_width) != 3)
        o.resize_height = -1;
    /* one character, or "tab"; anything else the library refuses */
    if (d->delimiter)
        o.delimiter = !strcmp(d->delimiter, "tab") || !strcmp(d->delimiter, "\\t") ? '\t'
                      : strlen(d->delimiter) == 1 ? (unsigned char)d->delimiter[0] : 0;
    return gm_dataset_open(d->path, &o, out);
}

int cli_check_dim(const gm_dataset *ds, int32_t dim, const char *path)
{
    if (gm_dataset_dim(ds) == dim)
        return 0;
    fprintf(stderr, "genmodel: %s has rows of %d values, where the model takes %d\n", path,
            (int)gm_dataset_dim(ds), (int)dim);
    return 1;
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
    if (cli_dist_rank() > 0 || !isatty(STDERR_FILENO) || (now - last_drawn < 0.1 && done < total))
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
    if (cli_dist_rank() == 0 && isatty(STDERR_FILENO))
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

void cli_model_image(const cli_config *config, int32_t dim, int32_t *height, int32_t *width, int32_t *channels)
{
    const int32_t *c = cli_int_field(config, "image_channels");
    *channels = c ? *c : 0;
    if (*channels > 0) {
        *height = *cli_int_field(config, "image_height");
        *width = *cli_int_field(config, "image_width");
    } else {
        *channels = 1;
        cli_image_shape(dim, height, width);
    }
}

int cli_write_samples(const float *x, int32_t n, int32_t h, int32_t w, int32_t c, int32_t cols,
                      const char *idx_path, const char *grid_path)
{
    gm_status s;
    if (idx_path && c != 1) {
        fprintf(stderr, "genmodel: --idx writes grey images; write these with --out-dataset DIR --format idx\n");
        return 1;
    }
    if (idx_path && (s = gm_idx_write_images(idx_path, x, n, h, w)) != GM_OK)
        return cli_fail(idx_path, s);
    if (cols < 1)
        cols = (int32_t)ceil(sqrt((double)n));
    if (grid_path && (s = gm_image_write_grid_channels(grid_path, x, n, h, w, c, cols)) != GM_OK)
        return cli_fail(grid_path, s);
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
                    int32_t batch, int use_labels, int rank, int ranks, cli_step_fn step, void *ctx,
                    double *seconds)
{
    float *x = malloc((size_t)batch * gm_dataset_dim(ds) * sizeof *x);
    int32_t *index = malloc((size_t)batch * sizeof *index), *labels = malloc((size_t)batch * sizeof *labels);
    gm_status s = x && index && labels ? GM_OK : GM_ERR_NO_MEMORY;
    double started = cli_now();
    for (int32_t at = 0; s == GM_OK && at < count; at += batch) {
        int32_t global = count - at < batch ? count - at : batch;
        global -= global % ranks;
        if (global == 0)
            break;
        const int32_t n = global / ranks, first = at + rank * n;
        for (int32_t i = 0; i < n; i++)
            index[i] = rows[order[first + i]];
        s = gm_dataset_gather(ds, index, n, x, use_labels ? labels : NULL);
        if (s == GM_OK)
            s = step(ctx, x, use_labels ? labels : NULL, n);
        cli_progress(at + global, count, started);
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
