/* Shared pieces of the genmodel tool: a table-driven option parser that
 * also prints --help, a progress bar, and dataset and image helpers. */
#ifndef GENMODEL_CLI_H
#define GENMODEL_CLI_H

#include <stdint.h>

#include <genmodel.h>

#define CLI_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

/* OPT_FIELD is a short name of config fields: its value is their
 * options, space-separated ("--enc-hidden --dec-hidden"), each set to the
 * option's value. */
typedef enum { OPT_INT, OPT_FLOAT, OPT_STRING, OPT_FLAG, OPT_FIELD } opt_kind;

typedef struct cli_option {
    const char *name;  /* "--epochs" or "-n" */
    opt_kind kind;
    void *value;       /* int32_t *, float *, const char **, int32_t * for a flag, const char * for a field */
    const char *help;
} cli_option;

/* A model's config, whose every field is an option too: --NAME VALUE,
 * NAME the field's (gm_config_field_get) with '-' for '_' and '.'
 * ("--disc-norm spectral", "--gen-optim-lr 2e-4"); an array takes a
 * comma list and sets its length field ("--conv-channels 64,128"; "none",
 * "0" or "" for an empty list), an enum a name. */
typedef struct cli_config {
    int32_t kind;  /* gm_model_kind */
    void *cfg;     /* its config struct, holding the defaults */
} cli_config;

/* Parse argv[1..] against opts (n_opts entries), then config's fields
 * (config may be NULL); up to max_pos positional arguments go to pos[] and
 * their count to *n_pos. Returns 0 to go on, 1 after printing --help, -1
 * after printing an error. */
int cli_parse(int argc, char **argv, const char *usage, const cli_option *opts, int n_opts,
              const cli_config *config, const char **pos, int max_pos, int *n_pos);

/* Set a config field as its option would: 0, or -1 after printing an
 * error (an unknown name included). */
int cli_set_field(const cli_config *config, const char *option, const char *value);

/* The first element of the config's int32 field named name, or NULL. */
int32_t *cli_int_field(const cli_config *config, const char *name);

/* After the options: with convolutions but no image shape, the dataset's
 * (channels, height, width), into the config's image fields. */
void cli_image_from(const cli_config *config, const gm_dataset *ds);

/* Print a config's fields, one per line, as "  name  value" (info). */
void cli_print_config(int32_t kind, const void *cfg);

/* Where a command's data is: a directory of the MNIST family's four files,
 * whose split the command picks ("train", or "t10k" to evaluate), or what
 * gm_dataset_open reads (an IDX, NPY or CSV file, a folder of PNG images),
 * the data of any split, with its labels in another file, a CSV column or
 * class folders. */
typedef struct cli_data {
    const char *path, *labels, *label_column, *delimiter, *resize;
} cli_data;

#define CLI_DATA_OPTIONS(d)                                                                                   \
    { "--data", OPT_STRING, &(d).path, "an MNIST-family directory, or an IDX, NPY or CSV file" },               \
    { "--labels", OPT_STRING, &(d).labels, "with a file: the labels, an IDX or NPY file of one integer a row" }, \
    { "--label-column", OPT_STRING, &(d).label_column, "with a CSV file: the labels' column, by name or index" }, \
    { "--delimiter", OPT_STRING, &(d).delimiter, "with a CSV file: the character between cells, or tab (,)" }, \
    { "--resize", OPT_STRING, &(d).resize, "with a folder of PNG images: resize each to HEIGHTxWIDTH" }

/* Whether d names an MNIST-family directory (one with a train split) that
 * holds the split. */
int cli_data_has_split(const cli_data *d, const char *split);

/* The split of a directory, or the file: the library's status, with
 * nothing printed. */
gm_status cli_open_data(const cli_data *d, const char *split, gm_dataset **out);

/* 0 when ds's rows are dim values wide, else 1 after saying so (a table
 * of another column count than the model's, say). */
int cli_check_dim(const gm_dataset *ds, int32_t dim, const char *path);

/* Print the library's error for a failed call; returns 1 (an exit code). */
int cli_fail(const char *what, gm_status s);

double cli_now(void);

/* A one-line progress bar on stderr, redrawn at most ten times a second,
 * only when stderr is a terminal. cli_progress_done clears it. */
void cli_progress(int64_t done, int64_t total, double started);
void cli_progress_done(void);

/* Rows of ds as floats, in chunks, through fn; labels are NULL when the
 * dataset (or the model) has none. */
typedef gm_status (*cli_rows_fn)(void *ctx, const float *x, const int32_t *labels, int32_t n, int32_t at);
gm_status cli_for_rows(const gm_dataset *ds, int use_labels, int32_t limit, cli_rows_fn fn, void *ctx);

/* The training rows: every row of ds, or those of one class (only_class
 * >= 0). *rows (malloc'd) and *count; nonzero after printing an error. */
int cli_training_rows(const gm_dataset *ds, int32_t only_class, int32_t **rows, int32_t *count);

/* One epoch: rows[order[i]] for i < count, in batches, gathered (with
 * labels when use_labels) and handed to step; a progress bar meanwhile.
 * Rank `rank` of `ranks` (data-parallel; 0 of 1 alone) takes its share of
 * each batch, rows [rank n, (rank + 1) n) of it, n = batch / ranks; a last,
 * partial batch is cut to a multiple of ranks rows. *seconds gets the
 * epoch's duration. */
typedef gm_status (*cli_step_fn)(void *ctx, const float *x, const int32_t *labels, int32_t n);
gm_status cli_epoch(const gm_dataset *ds, const int32_t *rows, const int32_t *order, int32_t count,
                    int32_t batch, int use_labels, int rank, int ranks, cli_step_fn step, void *ctx,
                    double *seconds);

/* Height and width of a sample of dim values: a square if dim is one. */
void cli_image_shape(int32_t dim, int32_t *height, int32_t *width);

/* The image a model's rows are: its image fields, else a square (or a
 * strip) of dim grey pixels. */
void cli_model_image(const cli_config *config, int32_t dim, int32_t *height, int32_t *width, int32_t *channels);

/* Write samples (n images of h x w pixels of c values) as IDX (grey only)
 * and/or a PNG (PGM, PPM) grid of cols a row (0: a square-ish grid); NULL
 * skips one. 0, or 1 after printing an error. */
int cli_write_samples(const float *x, int32_t n, int32_t h, int32_t w, int32_t c, int32_t cols,
                      const char *idx_path, const char *grid_path);

/* The labels to sample with: all `label`, or every class in turn when
 * label < 0; NULL for an unconditional model (n_classes 0). */
int32_t *cli_sample_labels(int32_t n, int32_t n_classes, int32_t label);

/* ---- the kinds of model ---- */

typedef union cli_any_config {
    gm_vae_config vae;
    gm_gan_config gan;
    gm_sr_config sr;
} cli_any_config;

/* One kind of model as the tool drives it: its public calls behind one
 * shape, from which `train`, `sample` and `info` are made (model_cmd.c).
 * A kind's own commands (the VAE's score, say) sit beside its record. */
typedef struct cli_model {
    const char *name;               /* the command: "vae" */
    const char *title;              /* in messages: "VAE" */
    int32_t kind;                   /* gm_model_kind */
    const char *dim_field;          /* the config field of a row's width */
    int32_t epochs, batch;          /* train's defaults */
    int needs_test;                 /* report reads the test split */
    const cli_option *aliases;      /* train's options of the kind: short names of config fields (OPT_FIELD), its own */
    int n_aliases;
    void (*config_init)(cli_any_config *cfg);
    gm_status (*peek)(const char *path, cli_any_config *cfg);
    gm_status (*create)(const cli_any_config *cfg, void **h);
    gm_status (*load)(const char *path, void **h);
    gm_status (*save)(void *h, const char *path);
    gm_status (*save_buffer)(void *h, void **data, size_t *size);
    gm_status (*set_allreduce)(void *h, gm_allreduce_fn fn, void *ctx, int32_t rank, int32_t size);
    void (*free)(void *h);
    void (*get_config)(const void *h, cli_any_config *cfg);
    gm_status (*shuffle)(void *h, int32_t *order, int32_t n);
    /* samples as images: values in [0, 1] */
    gm_status (*sample)(void *h, const int32_t *labels, int32_t n, float *x);
    /* one training step on this rank's n rows of a batch of n * ranks, its
     * losses (the whole batch's) added to sums[] */
    gm_status (*step)(void *h, const float *x, const int32_t *labels, int32_t n, double *sums);
    /* the rest of an epoch's line from its sums over steps and count samples
     * (trained on by all the ranks together) */
    gm_status (*report)(void *h, const double *sums, int32_t steps, int32_t count, const gm_dataset *test);
    /* what the kind fits on the training rows (rows[0..count) of ds), or
     * NULL: before the first step of a new model, and after the last
     * epoch, before the save */
    gm_status (*begin)(void *h, const gm_dataset *ds, const int32_t *rows, int32_t count, int use_labels);
    gm_status (*finish)(void *h, const gm_dataset *ds, const int32_t *rows, int32_t count, int use_labels);
} cli_model;

extern const cli_model cli_vae, cli_gan, cli_sr;

/* The record of a gm_model_kind, or NULL. */
const cli_model *cli_model_of(int32_t kind);

/* Load a checkpoint of m's kind into *h: 0, or 1 after printing the error. */
int cli_load(const cli_model *m, const char *path, void **h);

/* Whether the model is conditional (its n_classes). */
int32_t cli_n_classes(const cli_model *m, const void *h);

/* genmodel KIND train|sample, argv[0] the subcommand. */
int cli_train(const cli_model *m, int argc, char **argv);
int cli_sample(const cli_model *m, int argc, char **argv);

int vae_main(int argc, char **argv);
int gan_main(int argc, char **argv);
int sr_main(int argc, char **argv);
int info_main(int argc, char **argv);

#endif
