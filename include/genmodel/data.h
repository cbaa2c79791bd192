/** @file
 * Datasets and images: IDX files (the MNIST family's format, raw or
 * gzip), NPY files, CSV tables and folders of PNG images in; sample grids
 * as PNG or PGM out.
 *
 * A dataset of images keeps its pixels as uint8, as the file has them, and
 * converts to float in [0, 1] only for the rows a caller asks for; a table
 * (CSV, or an NPY file of another type than uint8) is kept as float.
 *
 * Paths, options and arrays are the caller's, read during the call only. A
 * dataset is held in memory whole, allocated through the allocator hook;
 * CSV and NPY files are read whole before they are parsed. Every function
 * here is thread-safe (common.h, Threads); a dataset may be read by any
 * number of threads at once. */
#ifndef GENMODEL_DATA_H
#define GENMODEL_DATA_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque, loaded dataset: created by gm_dataset_load, gm_dataset_load_dir
 * or gm_dataset_open, owned by the caller and released by gm_dataset_free.
 * The library only reads it after loading, so any number of threads may use
 * one at once; free it after all of them are done. */
typedef struct gm_dataset gm_dataset;

/** Load images (an IDX file of unsigned bytes with 2 or more dimensions:
 * count, then the sample's shape) and, unless labels_path is NULL, their
 * labels (a 1-D IDX file of unsigned bytes with the same count, or a 1-D
 * NPY file of integers in [0, 65535]). Either
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
 * GM_ERR_INVALID_ARG (write "." for the current directory), as is a NULL
 * dir, split or out. Fails as gm_dataset_load; on success *out is a new
 * dataset the caller frees with gm_dataset_free. */
GM_API gm_status gm_dataset_load_dir(const char *dir, const char *split, gm_dataset **out);

/** Where gm_dataset_open reads from: the format of a file, told apart by
 * its content (GM_DATA_AUTO) or named. */
typedef enum gm_data_format {
    GM_DATA_AUTO = 0,  /**< a folder of PNG images; an IDX or NPY file by its magic; else a CSV table */
    GM_DATA_IDX = 1,
    GM_DATA_NPY = 2,
    GM_DATA_CSV = 3,
    GM_DATA_PNG_DIR = 4
} gm_data_format;

/** How gm_dataset_open reads; gm_dataset_options_init gives the defaults
 * (every field 0 or NULL but delimiter ',' and header -1). The strings are
 * the caller's, read during gm_dataset_open only. New fields join at the
 * end (docs/conventions.md). */
typedef struct gm_dataset_options {
    size_t struct_size;        /**< set by gm_dataset_options_init */
    int32_t format;            /**< gm_data_format */
    const char *labels_path;   /**< an IDX or NPY file of the labels (1-D, integers in [0, 65536),
                                    one per row); NULL: none, or a CSV's label column */
    int32_t delimiter;         /**< CSV: the character between cells */
    int32_t header;            /**< CSV: 1 the first line names the columns, 0 it does not, -1 it
                                    does when one of its cells is not a number */
    const char *label_column;  /**< CSV: the labels' column, by its header name or its 0-based
                                    index ("0"); NULL: none */
    int32_t resize_height;     /**< a PNG folder: resize every image to this (with resize_width);
                                    0: keep the size, which every image must then share */
    int32_t resize_width;      /**< a PNG folder: the width to resize to, with resize_height */
    /* Added after the fields above: a caller's struct may end before it
     * (struct_size offsetof(gm_dataset_options, keep_sizes)), which reads
     * as keep_sizes 0. */
    int32_t keep_sizes;        /**< a PNG folder: 1 keeps every image at its own size (a "ragged"
                                    dataset: read it with gm_dataset_image), even when all share
                                    one; 0: as resize_height says */
} gm_dataset_options;

/** Fill options with the defaults (see gm_dataset_options), for the size
 * of the struct the caller was compiled with. */
#define gm_dataset_options_init(options) gm_dataset_options_init_size((options), sizeof *(options))
/** What gm_dataset_options_init expands to, for bindings that cannot use the macro:
 * size is the caller's sizeof(*options). A NULL options or a size below
 * sizeof(size_t) or above GM_MAX_STRUCT_SIZE: nothing is written. Writes
 * only the size bytes at options. */
GM_API void gm_dataset_options_init_size(gm_dataset_options *options, size_t size);

/** Load a dataset from the file at path, as options say (NULL: the
 * defaults):
 * - IDX: as gm_dataset_load.
 * - NPY (versions 1.0 to 3.0, either byte order, C or Fortran order, which
 *   is put into C order): float32 and float64, signed and unsigned integers
 *   of 1 to 8 bytes, and bool; shape (N, D), (N, H, W) or (N, H, W, C)
 *   (channels last). uint8 is kept as pixels, scaled to [0, 1] by
 *   gather as IDX data is; every other type is kept as float and gathered
 *   as it is.
 * - CSV: numbers separated by the delimiter, one row per line (LF or
 *   CRLF), each row with the same number of cells, an optional header line
 *   and label column; kept as float.
 * - A folder of PNG images (GM_ERR_UNSUPPORTED in a build without
 *   libpng): FOLDER/CLASS/NAME.png, labelled by the byte order of the
 *   class folders' names (as torchvision's ImageFolder), or FOLDER/NAME.png
 *   without labels; files in name order; names starting with '.' and files
 *   not ending in .png are skipped. Grey, RGB, palette, with alpha, 8 or 16
 *   bits: kept as 8-bit pixels, 1 channel when every image is grey, else 3
 *   (RGB), alpha composited onto black. Images of another size than the
 *   first are an error naming the file, unless resize_height and
 *   resize_width ask for a size (bicubic as Pillow's Image.resize with
 *   BICUBIC: antialiased when shrinking) or keep_sizes keeps each image's
 *   own: a ragged dataset, whose dim, height and width are 0, which
 *   gm_dataset_gather refuses and gm_dataset_image reads one image at a
 *   time. An image may declare at most 2^26 pixels.
 * Values must be finite. At most 2^31 - 1 bytes of data are kept, and a
 * CSV file may hold at most 2^31 - 1 bytes. A malformed file is
 * GM_ERR_FORMAT naming it and where the problem is (the byte offset, or
 * the line and column), and nothing is held; GM_ERR_IO, GM_ERR_NO_MEMORY,
 * GM_ERR_INVALID_ARG (NULL path or out, an empty path, a bad option) as
 * for gm_dataset_load. A bad option: an unknown format, a delimiter
 * outside 1..127 or one of the digits, '.', '-', '+', '"', CR and LF, a
 * header other than -1, 0 or 1, resize_height and resize_width not both 0
 * or both in [1, 16384], keep_sizes other than 0 or 1, label_column for a
 * file that is not CSV, a resize or keep_sizes for one that is not a
 * folder, keep_sizes with a resize, labels_path for a folder, labels_path
 * and label_column together, or an options struct_size smaller than
 * offsetof(gm_dataset_options, keep_sizes) or above GM_MAX_STRUCT_SIZE;
 * GM_ERR_VERSION for options from a newer library with a field this one
 * does not know set.
 * On success *out is a new dataset the caller frees with gm_dataset_free;
 * on failure it is NULL. */
GM_API gm_status gm_dataset_open(const char *path, const gm_dataset_options *options, gm_dataset **out);

/** Write n samples x (n, height * width * channels floats in [0, 1],
 * converted as by gm_idx_write_images) and their labels (n int32_t, or
 * NULL for none) as a dataset gm_dataset_open reads back, into the folder
 * dir (made if missing, but not its parent; files of the same names are
 * replaced):
 * - GM_DATA_IDX: dir/train-images-idx3-ubyte, (n, height, width) or (n,
 *   height, width, channels), and dir/train-labels-idx1-ubyte (labels 0 to
 *   255): an MNIST-family directory, also for `genmodel --data dir`;
 * - GM_DATA_NPY: dir/x.npy, uint8 of the same shape, and dir/y.npy, int32;
 * - GM_DATA_PNG_DIR: dir/LABEL/NUMBER.png, grey or RGB (channels 1 or 3),
 *   LABEL zero-padded so that the folders sort in label order (a label
 *   without samples has no folder, so reading back numbers the labels
 *   present), or dir/NUMBER.png without labels; GM_ERR_UNSUPPORTED in a
 *   build without libpng.
 * Labels lie in [0, 65535]. GM_ERR_INVALID_ARG for a bad argument (before
 * anything is written: a NULL or empty dir, a NULL x, another format, n,
 * height, width or channels < 1, channels other than 1 or 3 for PNG,
 * more than 2^31 - 1 bytes of pixels, a label out of range), GM_ERR_IO
 * naming the file or folder,
 * GM_ERR_NO_MEMORY. IDX and NPY files are replaced atomically; a failure
 * while writing PNG files may leave some written. */
GM_API gm_status gm_dataset_write(const char *dir, int32_t format, const float *x, const int32_t *labels, int32_t n,
                                  int32_t height, int32_t width, int32_t channels);

/** Release a dataset; NULL is a no-op. No other thread may be using it. */
GM_API void gm_dataset_free(gm_dataset *ds);

/** Number of samples, floats per sample (e.g. 784), the sample's height
 * and width (for 1-D samples height is 1; samples (H, W) and (H, W, C)
 * have height H and width W; samples of 4 or more dimensions (H, W, ...)
 * have height H and width dim / H), and whether it has labels. Each
 * returns 0 for a NULL ds. A ragged dataset (gm_dataset_options'
 * keep_sizes) has no one size: its dim, height and width are 0, and
 * gm_dataset_image_size gives each image's. */
GM_API int32_t gm_dataset_count(const gm_dataset *ds);
/** Floats per sample, height * width * channels (see gm_dataset_count);
 * 0 for a ragged dataset. */
GM_API int32_t gm_dataset_dim(const gm_dataset *ds);
/** A sample's height (see gm_dataset_count); 0 for a ragged dataset. */
GM_API int32_t gm_dataset_height(const gm_dataset *ds);
/** A sample's width (see gm_dataset_count); 0 for a ragged dataset. */
GM_API int32_t gm_dataset_width(const gm_dataset *ds);
/** 1 when every sample has a label, else 0 (see gm_dataset_count). */
GM_API int32_t gm_dataset_has_labels(const gm_dataset *ds);
/** Values per pixel: 1 for grey images and for tables, 3 for RGB. dim is
 * height * width * channels, the channels of a pixel next to each other. */
GM_API int32_t gm_dataset_channels(const gm_dataset *ds);
/** 1 + the largest label (0 without labels). */
GM_API int32_t gm_dataset_n_classes(const gm_dataset *ds);

/** Gather rows indices[0..n) into x (n, dim): pixels as floats in [0, 1]
 * (pixel / 255), a table's values as they are; and, unless labels is NULL, their labels (n). Indices must lie in
 * [0, count); labels needs a dataset with labels. On failure
 * (GM_ERR_INVALID_ARG) nothing has been written. ds is only read, so
 * threads may gather from one dataset at once. indices is (n) int32_t,
 * labels (n) int32_t; GM_ERR_INVALID_ARG also for a NULL ds, indices or x,
 * n < 1 and a ragged dataset, whose rows differ in length (read it with
 * gm_dataset_image). */
GM_API gm_status gm_dataset_gather(const gm_dataset *ds, const int32_t *indices, int32_t n,
                                   float *x, int32_t *labels);

/** The size of image i in [0, count) of a dataset of images (IDX, NPY of
 * uint8, a PNG folder): its own for a ragged dataset, else the one all
 * share (gm_dataset_height and gm_dataset_width). GM_ERR_INVALID_ARG,
 * with nothing written, for a NULL ds, height or width, an i out of range
 * and a table (CSV, NPY of another type), whose rows are not images. */
GM_API gm_status gm_dataset_image_size(const gm_dataset *ds, int32_t i, int32_t *height, int32_t *width);

/** Image i in [0, count) of a dataset of images, ragged or not, into out
 * (height, width, channels), channels last, as floats in [0, 1] (pixel /
 * 255, as gm_dataset_gather); the caller sizes out from
 * gm_dataset_image_size and gm_dataset_channels. Its label into *label
 * unless label is NULL; a label needs a dataset with labels.
 * GM_ERR_INVALID_ARG, with nothing written, for a NULL ds or out, an i
 * out of range, a label asked of a dataset without, and a table. ds is
 * only read: threads may read images of one dataset at once. */
GM_API gm_status gm_dataset_image(const gm_dataset *ds, int32_t i, float *out, int32_t *label);

/** Write n images (n, height * width), floats in [0, 1] (clamped, rounded
 * to the nearest of 256 levels, NaN as 0), as an IDX file of unsigned
 * bytes with dimensions (n, height, width) -- the format the datasets come
 * in. The file is not compressed. More than 2^31 - 1 bytes of pixels is
 * GM_ERR_INVALID_ARG, as are a NULL or empty path, NULL images and n,
 * height or width < 1. The file is written in place, not replaced
 * atomically: on GM_ERR_IO it may be left partly written. */
GM_API gm_status gm_idx_write_images(const char *path, const float *images, int32_t n,
                                     int32_t height, int32_t width);

/** Write n images (n, height * width), floats in [0, 1] (converted as by
 * gm_idx_write_images), as one greyscale grid: row-major, `cols` cells per
 * row and ceil(n / cols) rows, on black with a 2-pixel gap between cells
 * and around the edge, so cols * (width + 2) + 2 pixels wide. A path
 * ending in ".png" (any case) is written as PNG (GM_ERR_UNSUPPORTED in a
 * build without libpng), any other as binary PGM. A grid of more than
 * 2^31 - 1 pixels is GM_ERR_INVALID_ARG, as are a NULL or empty path,
 * NULL images and n, height, width or cols < 1; GM_ERR_NO_MEMORY for the
 * grid's pixels (nothing is written then). On GM_ERR_IO the file may be
 * left partly written. */
GM_API gm_status gm_image_write_grid(const char *path, const float *images, int32_t n,
                                     int32_t height, int32_t width, int32_t cols);

/** The same for images of `channels` values a pixel (1 grey, 3 RGB; rows
 * (n, height * width * channels), channels last): an RGB grid is a colour
 * PNG, or a binary PPM for other names. Other channels are
 * GM_ERR_INVALID_ARG; the rest as gm_image_write_grid. */
GM_API gm_status gm_image_write_grid_channels(const char *path, const float *images, int32_t n, int32_t height,
                                              int32_t width, int32_t channels, int32_t cols);

/** Write one image (height, width, channels: 1 grey or 3 RGB, channels
 * last), floats in [0, 1] converted as by gm_idx_write_images, as a PNG
 * file for a path ending in ".png" (GM_ERR_UNSUPPORTED without libpng),
 * else a binary PGM or PPM. Arguments and errors as for
 * gm_image_write_grid_channels; on GM_ERR_IO the file may be left partly
 * written. */
GM_API gm_status gm_image_write(const char *path, const float *image, int32_t height, int32_t width,
                                int32_t channels);

/** Read a PNG file (grey, RGB, palette, with alpha, 8 or 16 bits, through
 * libpng) as one image: *pixels (height, width, channels) floats in [0, 1]
 * (byte / 255), 1 channel for a grey image and 3 for colour, alpha
 * composited onto black, 16 bits rounded to 8, as gm_dataset_open reads
 * a folder's images. *pixels is allocated through the library's allocator;
 * release it with gm_buffer_free. An image may declare at most 2^28
 * pixels. GM_ERR_FORMAT naming the file for one that is not a PNG, is
 * truncated or corrupt, or is too large; GM_ERR_IO when it cannot be
 * read; GM_ERR_NO_MEMORY; GM_ERR_UNSUPPORTED in a build without libpng;
 * GM_ERR_INVALID_ARG for a NULL argument or an empty path. On failure
 * *pixels is NULL (when pixels is not) and the sizes are not written. */
GM_API gm_status gm_image_read(const char *path, int32_t *height, int32_t *width, int32_t *channels,
                               float **pixels);

/** Nonzero when this build writes (and reads) PNG; the same for the
 * process's whole life. Thread-safe. */
GM_API int32_t gm_have_png(void);

#ifdef __cplusplus
}
#endif

#endif
