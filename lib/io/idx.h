/* IDX files, the MNIST family's format: magic 00 00 type ndim, ndim
 * big-endian uint32 dimensions, then the elements row-major. Only unsigned
 * bytes (type 0x08) are read, raw or from a single gzip member. */
#ifndef GM_IO_IDX_H
#define GM_IO_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"

#define GM_IDX_TYPE_UBYTE 0x08
#define GM_IDX_MAX_DIMS 255
/* No file may claim more than this, so every size fits an int32_t and a
 * hostile header cannot make us allocate more. */
#define GM_IDX_MAX_BYTES ((size_t)INT32_MAX)

typedef struct gm_idx {
    uint8_t *data;      /* size bytes from gm_malloc; the caller gm_frees it */
    size_t size;        /* dims[0] * ... * dims[ndim - 1], > 0 */
    int ndim;
    int32_t dims[GM_IDX_MAX_DIMS];
} gm_idx;

/* v as 4 big-endian bytes at p: IDX's integers */
static inline void gm_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A pixel in [0, 1] as the nearest of 256 levels; out-of-range values
 * clamp and NaN gives 0. */
static inline uint8_t gm_pixel_byte(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return 255;
    return (uint8_t)(v * 255.0f + 0.5f);
}

/* Read the whole of path, which must have between min_ndim and max_ndim
 * dimensions. who starts every error message. On failure idx->data is NULL
 * and nothing is held. */
gm_status gm_idx_read(const char *who, const char *path, int min_ndim, int max_ndim, gm_idx *idx);

#endif
