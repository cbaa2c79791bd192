/* Writing samples out as a dataset (gm_dataset_write): an MNIST-family
 * directory of IDX files, a pair of NPY files, or a folder of PNG images
 * per class; each readable back by gm_dataset_open. The floats become
 * bytes once; IDX and NPY files are replaced atomically (fileio.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "genmodel/data.h"
#include "core/alloc.h"
#include "core/error.h"
#include "fileio.h"
#include "idx.h"
#include "pngio.h"

#define MAX_LABEL 65535

static gm_status make_dir(const char *who, const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return GM_OK;
        return gm_fail(GM_ERR_IO, "%s: '%s' exists and is not a folder", who, path);
    }
    return gm_fail(GM_ERR_IO, "%s: cannot make the folder '%s': %s", who, path, strerror(errno));
}

/* head then body into path, replacing it atomically */
static gm_status write_file(const char *who, const char *path, const void *head, size_t head_len, const void *body,
                            size_t body_len)
{
    gm_io_atomic w;
    gm_status s = gm_io_atomic_open(&w, path);
    if (s == GM_OK && (s = gm_io_atomic_write(&w, head, head_len)) == GM_OK &&
        (s = gm_io_atomic_write(&w, body, body_len)) == GM_OK)
        s = gm_io_atomic_commit(&w);
    return s != GM_OK ? gm_refail(s, who) : GM_OK;
}

/* an IDX header for unsigned bytes of dims (ndim of them) into h; its length */
static size_t idx_header(uint8_t *h, int ndim, const int32_t *dims)
{
    h[0] = h[1] = 0, h[2] = GM_IDX_TYPE_UBYTE, h[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++)
        gm_put_be32(h + 4 + 4 * i, (uint32_t)dims[i]);
    return 4 + 4 * (size_t)ndim;
}

/* an NPY 1.0 header for descr and dims into h (128 bytes); its length */
static size_t npy_header(char *h, const char *descr, int ndim, const int32_t *dims)
{
    char shape[96] = "";
    size_t at = 0;
    for (int i = 0; i < ndim; i++)
        at += (size_t)snprintf(shape + at, sizeof shape - at, "%d,%s", (int)dims[i], i + 1 < ndim ? " " : "");
    char dict[118];
    const int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr,
                           shape);
    /* magic, version 1.0, the header's length, the dict padded with spaces to 128 bytes in all */
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = 128 - 10, h[9] = 0;
    memset(h + 10, ' ', 118);
    memcpy(h + 10, dict, (size_t)n);
    h[127] = '\n';
    return 128;
}

static char *path_in(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

gm_status gm_dataset_write(const char *dir, int32_t format, const float *x, const int32_t *labels, int32_t n,
                           int32_t height, int32_t width, int32_t channels)
{
    static const char who[] = "gm_dataset_write";
    if (!dir || !x)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who, !dir ? "dir" : "x");
    if (!*dir)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: dir is empty", who);
    if (format != GM_DATA_IDX && format != GM_DATA_NPY && format != GM_DATA_PNG_DIR)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: format %d is not one written (GM_DATA_IDX, _NPY, _PNG_DIR)", who,
                       (int)format);
    if (n <= 0 || height <= 0 || width <= 0 || channels <= 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n, height, width and channels must be > 0 (got %d, %d, %d, %d)",
                       who, (int)n, (int)height, (int)width, (int)channels);
    if (format == GM_DATA_PNG_DIR && channels != 1 && channels != 3)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: PNG images have 1 or 3 channels, not %d", who, (int)channels);
    const size_t one = (size_t)height * (size_t)width * (size_t)channels;
    if (one > GM_IDX_MAX_BYTES / (size_t)n)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %d samples of %zu values exceed %zu bytes", who, (int)n, one,
                       GM_IDX_MAX_BYTES);
    const int32_t max_label = format == GM_DATA_IDX ? 255 : MAX_LABEL;
    int32_t classes = 0;
    for (int32_t i = 0; labels && i < n; i++) {
        if (labels[i] < 0 || labels[i] > max_label)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: labels[%d] is %d, outside [0, %d]%s", who, (int)i,
                           (int)labels[i], (int)max_label, format == GM_DATA_IDX ? " (IDX labels are bytes)" : "");
        classes = labels[i] + 1 > classes ? labels[i] + 1 : classes;
    }
    gm_status s = make_dir(who, dir);
    if (s != GM_OK)
        return s;
    const size_t total = (size_t)n * one, dir_len = strlen(dir) + 32;
    uint8_t *bytes = gm_malloc(total);
    char *path = gm_malloc(dir_len);
    int32_t *wide = format == GM_DATA_NPY && labels ? gm_malloc((size_t)n * sizeof *wide) : NULL;
    uint8_t *narrow = format == GM_DATA_IDX && labels ? gm_malloc((size_t)n) : NULL;
    if (!bytes || !path || (labels && format == GM_DATA_NPY && !wide) || (labels && format == GM_DATA_IDX && !narrow)) {
        s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d samples", who, (int)n);
        goto done;
    }
    for (size_t i = 0; i < total; i++)
        bytes[i] = gm_pixel_byte(x[i]);
    const int32_t dims[5] = { n, height, width, channels, 0 }, ndim = channels > 1 ? 4 : 3;
    if (format == GM_DATA_IDX) {
        uint8_t h[4 + 4 * 4];
        s = write_file(who, path_in(path, dir_len, dir, "train-images-idx3-ubyte"), h, idx_header(h, ndim, dims),
                       bytes, total);
        for (int32_t i = 0; narrow && i < n; i++)
            narrow[i] = (uint8_t)labels[i];
        if (s == GM_OK && labels)
            s = write_file(who, path_in(path, dir_len, dir, "train-labels-idx1-ubyte"), h, idx_header(h, 1, &n),
                           narrow, (size_t)n);
    } else if (format == GM_DATA_NPY) {
        char h[128];
        s = write_file(who, path_in(path, dir_len, dir, "x.npy"), h, npy_header(h, "|u1", ndim, dims), bytes, total);
        for (int32_t i = 0; wide && i < n; i++) {   /* little-endian int32 */
            uint8_t *b = (uint8_t *)&wide[i];
            const uint32_t v = (uint32_t)labels[i];
            b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)(v >> 16), b[3] = (uint8_t)(v >> 24);
        }
        if (s == GM_OK && labels)
            s = write_file(who, path_in(path, dir_len, dir, "y.npy"), h, npy_header(h, "<i4", 1, &n), wide,
                           (size_t)n * sizeof *wide);
    } else {
        /* DIR/CLASS/NNNNNN.png, CLASS and the number zero-padded so that
         * byte order is label order and sample order; a folder for each
         * label that has samples */
        const int digits = classes > 10000 ? 5 : classes > 1000 ? 4 : classes > 100 ? 3 : classes > 10 ? 2 : 1;
        const int numbers = n > 100000000 ? 10 : n > 1000000 ? 8 : 6;
        for (int32_t i = 0; i < n && s == GM_OK; i++) {
            if (labels) {
                snprintf(path, dir_len, "%s/%0*d", dir, digits, (int)labels[i]);
                s = make_dir(who, path);
                snprintf(path, dir_len, "%s/%0*d/%0*d.png", dir, digits, (int)labels[i], numbers, (int)i);
            } else {
                snprintf(path, dir_len, "%s/%0*d.png", dir, numbers, (int)i);
            }
            if (s == GM_OK)
                s = gm_png_write(who, path, bytes + (size_t)i * one, width, height, channels);
        }
    }
done:
    gm_free(bytes);
    gm_free(path);
    gm_free(wide);
    gm_free(narrow);
    return s;
}
