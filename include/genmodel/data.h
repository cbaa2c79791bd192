/* Datasets and images: IDX files (the MNIST family's format, raw or
 * gzip) and sample grids as PNG or PGM.
 *
 * A dataset keeps its pixels as uint8, as the file has them, and converts
 * to float in [0, 1] only for the rows a caller asks for. */
#ifndef GENMODEL_DATA_H
#define GENMODEL_DATA_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gm_dataset gm_dataset;

/** Load images (an IDX file of unsigned bytes with 2 or more dimensions:
 * count, then the sample's shape) and, unless labels_path is NULL, their
 * labels (a 1-D IDX file of unsigned bytes with the same count). Either
 * file may be gzip-compressed (a single gzip member); that is detected
 * from its content. A file may hold at most 2^31 - 1 bytes of data.
 * On success *out is a new dataset the caller frees with gm_dataset_free.
 * On failure *out is NULL and the status is GM_ERR_IO (cannot open or
 * read), GM_ERR_FORMAT (bad magic, an element type other than unsigned
 * byte, a dimension of 0, truncated data, trailing data, counts that
 * disagree, corrupt gzip), GM_ERR_NO_MEMORY or GM_ERR_INVALID_ARG (a NULL
 * images_path or out, or an empty path, which names no file). */
GM_API gm_status gm_dataset_load(const char *images_path, const char *labels_path, gm_dataset **out);

/** Load the MNIST-family split `split` ("train" or "t10k"; anything else
 * is GM_ERR_INVALID_ARG) from directory dir: DIR/SPLIT-images-idx3-ubyte
 * and DIR/SPLIT-labels-idx1-ubyte, each taken without a .gz suffix if
 * that file exists and with one otherwise. An empty dir is
 * GM_ERR_INVALID_ARG (write "." for the current directory). Fails as
 * gm_dataset_load. */
GM_API gm_status gm_dataset_load_dir(const char *dir, const char *split, gm_dataset **out);

/** Release a dataset; NULL is a no-op. */
GM_API void gm_dataset_free(gm_dataset *ds);

/** Number of samples, floats per sample (e.g. 784), the sample's height
 * and width (for 1-D samples height is 1; samples of 3 or more dimensions
 * (H, W, ...) have height H and width dim / H), and whether it has
 * labels. Each returns 0 for a NULL ds. */
GM_API int32_t gm_dataset_count(const gm_dataset *ds);
GM_API int32_t gm_dataset_dim(const gm_dataset *ds);
GM_API int32_t gm_dataset_height(const gm_dataset *ds);
GM_API int32_t gm_dataset_width(const gm_dataset *ds);
GM_API int32_t gm_dataset_has_labels(const gm_dataset *ds);
/** 1 + the largest label (0 without labels). */
GM_API int32_t gm_dataset_n_classes(const gm_dataset *ds);

/** Gather rows indices[0..n) into x (n, dim) as floats in [0, 1] (pixel /
 * 255) and, unless labels is NULL, their labels (n). Indices must lie in
 * [0, count); labels needs a dataset with labels. On failure
 * (GM_ERR_INVALID_ARG) nothing has been written. ds is only read, so
 * threads may gather from one dataset at once. */
GM_API gm_status gm_dataset_gather(const gm_dataset *ds, const int32_t *indices, int32_t n,
                                   float *x, int32_t *labels);

/** Write n images (n, height * width), floats in [0, 1] (clamped, rounded
 * to the nearest of 256 levels, NaN as 0), as an IDX file of unsigned
 * bytes with dimensions (n, height, width) -- the format the datasets come
 * in. The file is not compressed. More than 2^31 - 1 bytes of pixels is
 * GM_ERR_INVALID_ARG, as is an empty path. On GM_ERR_IO the file may be
 * left partly written. */
GM_API gm_status gm_idx_write_images(const char *path, const float *images, int32_t n,
                                     int32_t height, int32_t width);

/** Write n images (n, height * width), floats in [0, 1] (converted as by
 * gm_idx_write_images), as one greyscale grid: row-major, `cols` cells per
 * row and ceil(n / cols) rows, on black with a 2-pixel gap between cells
 * and around the edge, so cols * (width + 2) + 2 pixels wide. A path
 * ending in ".png" (any case) is written as PNG (GM_ERR_UNSUPPORTED in a
 * build without libpng), any other as binary PGM. A grid of more than
 * 2^31 - 1 pixels is GM_ERR_INVALID_ARG, as is an empty path. On GM_ERR_IO
 * the file may be left partly written. */
GM_API gm_status gm_image_write_grid(const char *path, const float *images, int32_t n,
                                     int32_t height, int32_t width, int32_t cols);

/** Nonzero when this build writes PNG. */
GM_API int32_t gm_have_png(void);

#ifdef __cplusplus
}
#endif

#endif
