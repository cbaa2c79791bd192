/* Datasets: an IDX image file and an optional IDX label file, kept as the
 * bytes they hold. Rows become floats in [0, 1] only when gathered, so a
 * dataset costs one byte per pixel. A ragged dataset (a PNG folder read
 * with keep_sizes) holds images of their own sizes one after the other:
 * it has slots, and dim, height and width 0. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "genmodel/data.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/error.h"
#include "csv.h"
#include "dataset_internal.h"
#include "fileio.h"
#include "idx.h"
#include "imagedir.h"
#include "npy.h"

struct gm_dataset {
    uint8_t *pixels;    /* (count, dim) images as their file has them, or NULL */
    float *values;      /* (count, dim) a table, or NULL */
    int32_t *labels;    /* (count), or NULL */
    gm_imagedir_slot *slots;  /* (count) a ragged dataset's images in pixels, or NULL */
    int32_t count, dim, height, width, channels, n_classes;
};

/* labels: 0 .. GM_MAX_CLASSES - 1 (common.h), as a conditional model takes them */
#define MAX_LABEL 65535
/* the most a dataset keeps, and the largest CSV file read: every size fits an int32_t */
#define GM_DATA_MAX_BYTES ((size_t)INT32_MAX)

/* A dataset from its parts, which it takes (and frees on failure). Rows of
 * dim = height * width * channels values. */
static gm_status make(const char *who, uint8_t *pixels, float *values, int32_t *labels, int32_t count,
                      int32_t height, int32_t width, int32_t channels, gm_dataset **out)
{
    gm_dataset *ds = gm_malloc(sizeof *ds);
    if (!ds) {
        gm_free(pixels);
        gm_free(values);
        gm_free(labels);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for the dataset", who);
    }
    *ds = (gm_dataset){ pixels, values, labels, NULL, count, height * width * channels, height, width, channels, 0 };
    for (int32_t i = 0; labels && i < count; i++)
        if (labels[i] >= ds->n_classes)
            ds->n_classes = labels[i] + 1;
    *out = ds;
    return GM_OK;
}

/* count labels from an IDX (unsigned bytes) or NPY (integers) file of one dimension */
static gm_status read_labels(const char *who, const char *data_path, const char *path, int32_t count,
                               int32_t **out)
{
    *out = NULL;
    uint8_t magic[6] = { 0 };
    FILE *f = fopen(path, "rb");
    const size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f)
        fclose(f);
    int32_t n;
    const uint8_t *u8 = NULL;
    const float *f32 = NULL;
    gm_idx idx = { 0 };
    gm_npy npy = { 0 };
    uint8_t *file = NULL;
    gm_status st;
    if (got == sizeof magic && !memcmp(magic, "\x93NUMPY", 6)) {
        size_t len;
        if ((st = gm_io_read_file(path, GM_DATA_MAX_BYTES, &file, &len)) != GM_OK)
            return gm_refail(st, who);
        st = gm_npy_parse(who, path, file, len, GM_DATA_MAX_BYTES, &npy);
        gm_free(file);
        if (st != GM_OK)
            return st;
        if (npy.ndim != 1 || !npy.integral) {
            gm_npy_release(&npy);
            return gm_fail(GM_ERR_FORMAT, "%s: '%s' holds %s; labels are one integer per row", who, path,
                           npy.ndim != 1 ? "more than one dimension" : "floats");
        }
        n = npy.dims[0], u8 = npy.bytes, f32 = npy.values;
    } else {
        if ((st = gm_idx_read(who, path, 1, 1, &idx)) != GM_OK)
            return st;
        n = idx.dims[0], u8 = idx.data;
    }
    int32_t *labels = n == count ? gm_malloc((size_t)count * sizeof *labels) : NULL;
    if (n != count)
        st = gm_fail(GM_ERR_FORMAT, "%s: '%s' has %d rows but '%s' has %d labels", who, data_path, count, path, n);
    else if (!labels)
        st = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d labels", who, count);
    for (int32_t i = 0; labels && i < count; i++) {
        const float v = u8 ? u8[i] : f32[i];
        if (v < 0.0f || v > MAX_LABEL) {
            st = gm_fail(GM_ERR_FORMAT, "%s: '%s': label %d is %g, outside [0, %d]", who, path, i, (double)v,
                         MAX_LABEL);
            gm_free(labels);
            labels = NULL;
            break;
        }
        labels[i] = (int32_t)v;
    }
    gm_free(idx.data);
    gm_npy_release(&npy);
    *out = labels;
    return st;
}

static gm_status load(const char *who, const char *images_path, const char *labels_path,
                      gm_dataset **out)
{
    gm_idx images;
    int32_t *labels = NULL;
    gm_status st = gm_idx_read(who, images_path, 2, GM_IDX_MAX_DIMS, &images);
    if (st != GM_OK)
        return st;
    const int32_t count = images.dims[0];
    if (labels_path && (st = read_labels(who, images_path, labels_path, count, &labels)) != GM_OK) {
        gm_free(images.data);
        return st;
    }
    /* (count, H, W) reads as H rows of W values, (count, H, W, C) as H rows
     * of W pixels of C channels; more dimensions fold into the width */
    const int32_t dim = (int32_t)(images.size / (size_t)count), height = images.ndim >= 3 ? images.dims[1] : 1;
    const int32_t channels = images.ndim == 4 ? images.dims[3] : 1;
    return make(who, images.data, NULL, labels, count, height, dim / height / channels, channels, out);
}

gm_status gm_dataset_load(const char *images_path, const char *labels_path, gm_dataset **out)
{
    if (out)
        *out = NULL;
    if (!images_path || !out)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_dataset_load: %s is NULL",
                       !images_path ? "images_path" : "out");
    if (!*images_path || (labels_path && !*labels_path))
        return gm_fail(GM_ERR_INVALID_ARG, "gm_dataset_load: %s is empty",
                       !*images_path ? "images_path" : "labels_path");
    return load("gm_dataset_load", images_path, labels_path, out);
}

void gm_dataset_options_init_size(gm_dataset_options *options, size_t size)
{
    const gm_dataset_options defaults = { sizeof defaults, GM_DATA_AUTO, NULL, ',', -1, NULL, 0, 0, 0 };
    gm_config_fill(options, size, &defaults, sizeof defaults);
}

/* The format at path: a folder of PNG images, or a file by its first
 * bytes, IDX (raw or gzip) or NPY by their magic, else CSV. */
static gm_status sniff(const char *who, const char *path, int32_t *format)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        *format = GM_DATA_PNG_DIR;
        return GM_OK;
    }
    uint8_t b[6] = { 0 };
    FILE *f = fopen(path, "rb");
    if (!f)
        return gm_fail(GM_ERR_IO, "%s: cannot open '%s': %s", who, path, strerror(errno));
    const size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    if (got == sizeof b && !memcmp(b, "\x93NUMPY", 6))
        *format = GM_DATA_NPY;
    else if (got >= 4 && ((b[0] == 0x1f && b[1] == 0x8b) || (b[0] == 0 && b[1] == 0 && b[2] == GM_IDX_TYPE_UBYTE)))
        *format = GM_DATA_IDX;
    else
        *format = GM_DATA_CSV;
    return GM_OK;
}

static gm_status open_npy(const char *who, const char *path, const char *labels_path, gm_dataset **out)
{
    uint8_t *file;
    size_t len;
    gm_npy a;
    gm_status st = gm_io_read_file(path, SIZE_MAX, &file, &len);
    if (st != GM_OK)
        return gm_refail(st, who);
    st = gm_npy_parse(who, path, file, len, GM_DATA_MAX_BYTES, &a);
    gm_free(file);
    if (st != GM_OK)
        return st;
    /* (N, D), (N, H, W) or (N, H, W, C) */
    const int32_t channels = a.ndim == 4 ? a.dims[3] : 1;
    if (a.ndim < 2 || a.ndim > 4) {
        gm_npy_release(&a);
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' has %d dimension%s; a dataset is (N, D), (N, H, W) or "
                       "(N, H, W, C)", who, path, a.ndim, a.ndim == 1 ? "" : "s");
    }
    int32_t *labels = NULL;
    if (labels_path && (st = read_labels(who, path, labels_path, a.dims[0], &labels)) != GM_OK) {
        gm_npy_release(&a);
        return st;
    }
    const int32_t height = a.ndim >= 3 ? a.dims[1] : 1, width = a.ndim >= 3 ? a.dims[2] : a.dims[1];
    return make(who, a.bytes, a.values, labels, a.dims[0], height, width, channels, out);
}

static gm_status open_csv(const char *who, const char *path, const gm_dataset_options *o, gm_dataset **out)
{
    if (o->labels_path && o->label_column)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: labels_path and label_column both name labels", who);
    uint8_t *file;
    size_t len;
    gm_status st = gm_io_read_file(path, GM_DATA_MAX_BYTES, &file, &len);
    if (st != GM_OK)
        return gm_refail(st, who);
    const gm_csv_options co = { (char)o->delimiter, o->header, o->label_column };
    gm_csv t;
    st = gm_csv_parse(who, path, file, len, &co, MAX_LABEL, GM_DATA_MAX_BYTES, &t);
    gm_free(file);
    if (st != GM_OK)
        return st;
    if (o->labels_path && (st = read_labels(who, path, o->labels_path, t.rows, &t.labels)) != GM_OK) {
        gm_csv_release(&t);
        return st;
    }
    return make(who, NULL, t.values, t.labels, t.rows, 1, t.cols, 1, out);
}

static gm_status open_png_dir(const char *who, const char *path, const gm_dataset_options *o, gm_dataset **out)
{
    if (o->labels_path)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: a folder of images is labelled by its class folders, not by "
                       "labels_path", who);
    gm_imagedir d;
    gm_status st = gm_imagedir_read(who, path, o->resize_height, o->resize_width, o->keep_sizes, GM_DATA_MAX_BYTES,
                                    &d);
    /* ragged, d.height and d.width are 0, and so is dim */
    if (st == GM_OK && (st = make(who, d.pixels, NULL, d.labels, d.count, d.height, d.width, d.channels, out)) == GM_OK)
        (*out)->slots = d.slots;
    else
        gm_free(d.slots);
    return st;
}

/* what a format is called in a message */
static const char *format_name(int32_t format)
{
    return format == GM_DATA_NPY ? "NPY" : format == GM_DATA_IDX ? "IDX" : format == GM_DATA_CSV ? "CSV" : "a folder";
}

gm_status gm_dataset_open(const char *path, const gm_dataset_options *options, gm_dataset **out)
{
    static const char who[] = "gm_dataset_open";
    if (out)
        *out = NULL;
    if (!path || !out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who, !path ? "path" : "out");
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    /* a caller's struct may end before keep_sizes, the field added last */
    gm_status st = options ? gm_config_import(&o, sizeof o, options, offsetof(gm_dataset_options, keep_sizes), who)
                           : GM_OK;
    if (st != GM_OK)
        return st;
    if (!*path || (o.labels_path && !*o.labels_path))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is empty", who, !*path ? "path" : "labels_path");
    if (o.format < GM_DATA_AUTO || o.format > GM_DATA_PNG_DIR)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: format %d is none of gm_data_format's", who, (int)o.format);
    if (o.delimiter < 1 || o.delimiter > 127 || o.delimiter == '\n' || o.delimiter == '\r' ||
        o.delimiter == '"' || o.delimiter == '.' || o.delimiter == '-' || o.delimiter == '+' ||
        (o.delimiter >= '0' && o.delimiter <= '9'))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the delimiter (%d) cannot separate numbers", who, (int)o.delimiter);
    if (o.resize_height < 0 || o.resize_width < 0 || (o.resize_height == 0) != (o.resize_width == 0) ||
        o.resize_height > 16384 || o.resize_width > 16384)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: resize_height and resize_width must both be 0 or both in "
                       "[1, 16384] (got %d, %d)", who, (int)o.resize_height, (int)o.resize_width);
    if (o.header < -1 || o.header > 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: header must be -1, 0 or 1 (got %d)", who, (int)o.header);
    if (o.keep_sizes < 0 || o.keep_sizes > 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: keep_sizes must be 0 or 1 (got %d)", who, (int)o.keep_sizes);
    if (o.keep_sizes && o.resize_height)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: keep_sizes keeps each image's size, and a resize asks for one; "
                       "choose one of them", who);
    if ((o.format == GM_DATA_IDX || o.format == GM_DATA_NPY) && o.label_column)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: label_column is for CSV files", who);
    int32_t format = o.format;
    if (format == GM_DATA_AUTO && (st = sniff(who, path, &format)) != GM_OK)
        return st;
    if (o.keep_sizes && format != GM_DATA_PNG_DIR)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: keep_sizes is for folders of images, and '%s' is %s", who, path,
                       format_name(format));
    if (format == GM_DATA_CSV)
        return open_csv(who, path, &o, out);
    if (o.label_column)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: label_column is for CSV files, and '%s' is %s", who, path,
                       format_name(format));
    if (format == GM_DATA_PNG_DIR)
        return open_png_dir(who, path, &o, out);
    if (o.resize_height)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: a resize is for folders of images, and '%s' is %s", who, path,
                       format_name(format));
    return format == GM_DATA_NPY ? open_npy(who, path, o.labels_path, out) : load(who, path, o.labels_path, out);
}

/* "DIR/NAME" if that exists, else "DIR/NAME.gz"; buf holds both. */
static const char *pick(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
    FILE *f = fopen(buf, "rb");
    if (f)
        fclose(f);
    else if (errno == ENOENT)
        snprintf(buf, size, "%s/%s.gz", dir, name);
    return buf;
}

gm_status gm_dataset_load_dir(const char *dir, const char *split, gm_dataset **out)
{
    static const char who[] = "gm_dataset_load_dir";
    if (out)
        *out = NULL;
    if (!dir || !split || !out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who,
                       !dir ? "dir" : !split ? "split" : "out");
    if (!*dir)   /* not ".", and "/" would be put after it: the root */
        return gm_fail(GM_ERR_INVALID_ARG, "%s: dir is empty", who);
    if (strcmp(split, "train") != 0 && strcmp(split, "t10k") != 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: split must be \"train\" or \"t10k\" (got \"%.32s\")",
                       who, split);
    /* "/" + split + "-images-idx3-ubyte.gz" + NUL fits in 32 bytes. */
    size_t size = strlen(dir) + 32;
    char *paths = gm_malloc(2 * size);
    if (!paths)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for file names", who);
    char name[32];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", split);
    const char *images = pick(paths, size, dir, name);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", split);
    const char *labels = pick(paths + size, size, dir, name);
    gm_status st = load(who, images, labels, out);
    gm_free(paths);
    return st;
}

void gm_dataset_free(gm_dataset *ds)
{
    if (!ds)
        return;
    gm_free(ds->pixels);
    gm_free(ds->values);
    gm_free(ds->labels);
    gm_free(ds->slots);
    gm_free(ds);
}

int32_t gm_dataset_count(const gm_dataset *ds) { return ds ? ds->count : 0; }
int32_t gm_dataset_dim(const gm_dataset *ds) { return ds ? ds->dim : 0; }
int32_t gm_dataset_height(const gm_dataset *ds) { return ds ? ds->height : 0; }
int32_t gm_dataset_width(const gm_dataset *ds) { return ds ? ds->width : 0; }
int32_t gm_dataset_has_labels(const gm_dataset *ds) { return ds && ds->labels ? 1 : 0; }
int32_t gm_dataset_channels(const gm_dataset *ds) { return ds ? ds->channels : 0; }
int32_t gm_dataset_n_classes(const gm_dataset *ds) { return ds ? ds->n_classes : 0; }

/* n pixels as floats in [0, 1] */
static void to_floats(const uint8_t *pixels, size_t n, float *out)
{
    for (size_t j = 0; j < n; j++)
        out[j] = (float)pixels[j] / 255.0f;
}

gm_status gm_dataset_gather(const gm_dataset *ds, const int32_t *indices, int32_t n, float *x,
                            int32_t *labels)
{
    static const char who[] = "gm_dataset_gather";
    if (!ds || !indices || !x)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who,
                       !ds ? "ds" : !indices ? "indices" : "x");
    if (n <= 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n must be > 0 (got %d)", who, n);
    if (labels && !ds->labels)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: labels requested from a dataset without labels", who);
    if (ds->slots)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: images of different sizes: read them one at a time with "
                       "gm_dataset_image", who);
    /* Check every index first, so a bad one leaves x and labels untouched. */
    for (int32_t i = 0; i < n; i++)
        if (indices[i] < 0 || indices[i] >= ds->count)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: indices[%d] is %d, outside [0, %d)", who, i,
                           indices[i], ds->count);
    size_t dim = (size_t)ds->dim;
    for (int32_t i = 0; i < n; i++) {
        float *dst = x + (size_t)i * dim;
        if (ds->values)
            memcpy(dst, ds->values + (size_t)indices[i] * dim, dim * sizeof *dst);
        else
            to_floats(ds->pixels + (size_t)indices[i] * dim, dim, dst);
        if (labels)
            labels[i] = ds->labels[indices[i]];
    }
    return GM_OK;
}

/* GM_OK when image i of ds can be asked for: ds holds images, i is one */
static gm_status check_image(const char *who, const gm_dataset *ds, int32_t i)
{
    if (!ds->pixels)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the dataset is a table, whose rows are not images", who);
    if (i < 0 || i >= ds->count)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: i is %d, outside [0, %d)", who, (int)i, (int)ds->count);
    return GM_OK;
}

gm_status gm_dataset_image_size(const gm_dataset *ds, int32_t i, int32_t *height, int32_t *width)
{
    static const char who[] = "gm_dataset_image_size";
    if (!ds || !height || !width)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who, !ds ? "ds" : !height ? "height" : "width");
    gm_status st = check_image(who, ds, i);
    if (st != GM_OK)
        return st;
    gm_dataset_view_size(ds, i, height, width);
    return GM_OK;
}

gm_status gm_dataset_image(const gm_dataset *ds, int32_t i, float *out, int32_t *label)
{
    static const char who[] = "gm_dataset_image";
    if (!ds || !out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who, !ds ? "ds" : "out");
    gm_status st = check_image(who, ds, i);
    if (st != GM_OK)
        return st;
    if (label && !ds->labels)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: a label requested from a dataset without labels", who);
    const gm_imagedir_slot *s = ds->slots ? &ds->slots[i] : NULL;
    const size_t bytes = s ? (size_t)s->height * (size_t)s->width * (size_t)ds->channels : (size_t)ds->dim;
    to_floats(ds->pixels + (s ? s->offset : (size_t)i * bytes), bytes, out);
    if (label)
        *label = ds->labels[i];
    return GM_OK;
}

/* ---- inside views for the models (dataset_internal.h) ---- */

gm_status gm_dataset_check_images(const gm_dataset *ds, const char *who)
{
    if (!ds->pixels || ds->count < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the dataset holds %s, not images", who,
                       ds->pixels ? "nothing" : "a table of numbers");
    return GM_OK;
}

void gm_dataset_view_size(const gm_dataset *ds, int32_t i, int32_t *height, int32_t *width)
{
    *height = ds->slots ? ds->slots[i].height : ds->height;
    *width = ds->slots ? ds->slots[i].width : ds->width;
}

void gm_dataset_crop(const gm_dataset *ds, int32_t i, int32_t y0, int32_t x0, int32_t h, int32_t w, float *out)
{
    int32_t ih, iw;
    gm_dataset_view_size(ds, i, &ih, &iw);
    const size_t c = (size_t)ds->channels, row = (size_t)iw * c;
    const uint8_t *img = ds->pixels + (ds->slots ? ds->slots[i].offset : (size_t)i * ds->dim);
    for (int32_t y = 0; y < h; y++)
        to_floats(img + (size_t)(y0 + y) * row + (size_t)x0 * c, (size_t)w * c, out + (size_t)y * w * c);
}
