/* CSV tables of numbers: one row per line (LF or CRLF, the last line's
 * ending optional), cells between delimiters, every row as wide as the
 * first, an optional header line and an optional column of labels. Read
 * from memory, strictly: a cell is a decimal number ([+-]digits[.digits]
 * [e[+-]digits], spaces around it and double quotes around that allowed),
 * finite as a float; no hex, no inf or nan, no empty cell. */
#ifndef GM_IO_CSV_H
#define GM_IO_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"

typedef struct gm_csv_options {
    char delimiter;
    int header;                /* 1, 0, or -1: when a cell of the first line is not a number */
    const char *label_column;  /* a header name, or a 0-based index in decimal; NULL: none */
} gm_csv_options;

typedef struct gm_csv {
    float *values;     /* (rows, cols) from gm_malloc */
    int32_t *labels;   /* (rows) with a label column, else NULL */
    int32_t rows, cols;  /* cols without the label column */
} gm_csv;

/* Parse data (len bytes). Labels are integers in [0, max_label]; at most
 * max_bytes of values are kept. Errors name who and path and the line and
 * column (1-based, the column counted in cells): GM_ERR_FORMAT, or
 * GM_ERR_INVALID_ARG for a label column the file does not have, or
 * GM_ERR_NO_MEMORY. On failure nothing is held. */
gm_status gm_csv_parse(const char *who, const char *path, const uint8_t *data, size_t len,
                       const gm_csv_options *options, int32_t max_label, size_t max_bytes, gm_csv *out);

void gm_csv_release(gm_csv *t);

#endif
