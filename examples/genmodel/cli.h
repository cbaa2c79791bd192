/* Shared pieces of the genmodel tool: a table-driven option parser that
 * also prints --help, a progress bar, and dataset and image helpers. */
#ifndef GENMODEL_CLI_H
#define GENMODEL_CLI_H

#include <stdint.h>

#include <genmodel.h>

#define CLI_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

typedef enum { OPT_INT, OPT_FLOAT, OPT_STRING, OPT_FLAG } opt_kind;

typedef struct cli_option {
    const char *name;  /* "--epochs" or "-n" */
    opt_kind kind;
    void *value;       /* int32_t *, float *, const char **, or int32_t * for a flag */
    const char *help;
} cli_option;

/* Parse argv[1..] against opts (n_opts entries); up to max_pos positional
 * arguments go to pos[] and their count to *n_pos. Returns 0 to go on, 1
 * after printing --help, -1 after printing an error. */
int cli_parse(int argc, char **argv, const char *usage, const cli_option *opts, int n_opts,
              const char **pos, int max_pos, int *n_pos);

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

/* Height and width of a sample of dim values: a square if dim is one. */
void cli_image_shape(int32_t dim, int32_t *height, int32_t *width);

/* Write samples (n, dim) as IDX and/or a PNG (PGM) grid; NULL skips one. */
int cli_write_samples(const float *x, int32_t n, int32_t dim, const char *idx_path, const char *grid_path);

int vae_main(int argc, char **argv);

#endif
