/* NPY files, numpy's format for one array: the magic "\x93NUMPY", the
 * version (1.0, 2.0 or 3.0), the header's length (2 bytes in 1.0, 4
 * after), the header (a Python dict literal: 'descr', 'fortran_order',
 * 'shape'), then the elements. Read from memory, strictly: the header
 * decides the size, and the file must hold exactly that much. */
#ifndef GM_IO_NPY_H
#define GM_IO_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"

#define GM_NPY_MAX_DIMS 8

/* An array as a reader keeps it: unsigned bytes as they are (u1), every
 * other type as float (converted, in C order). */
typedef struct gm_npy {
    uint8_t *bytes;     /* (dims...) from gm_malloc when the file holds u1; else NULL */
    float *values;      /* the same for every other type */
    size_t count;       /* elements, > 0 */
    int ndim;           /* >= 1 */
    int32_t dims[GM_NPY_MAX_DIMS];
    int integral;       /* the file holds an integer type */
} gm_npy;

/* Parse the NPY file in data (len bytes). Floats must be finite (an
 * integer above 2^24 rounds to a float); Fortran order is read and put
 * into C order; every dimension must be >= 1 and the array at most
 * max_bytes as the reader keeps it. Errors name who and path and, in the
 * header, the byte offset; GM_ERR_FORMAT or GM_ERR_NO_MEMORY. On failure
 * nothing is held. */
gm_status gm_npy_parse(const char *who, const char *path, const uint8_t *data, size_t len, size_t max_bytes,
                       gm_npy *out);

void gm_npy_release(gm_npy *a);

#endif
