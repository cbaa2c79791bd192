/* Datasets: an IDX image file and an optional IDX label file, kept as the
 * bytes they hold. Rows become floats in [0, 1] only when gathered, so a
 * dataset costs one byte per pixel. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "genmodel/data.h"
#include "core/alloc.h"
#include "core/error.h"
#include "idx.h"

struct gm_dataset {
    uint8_t *pixels;    /* (count, dim) */
    int32_t *labels;    /* (count), or NULL */
    int32_t count, dim, height, width, n_classes;
};

static gm_status load(const char *who, const char *images_path, const char *labels_path,
                      gm_dataset **out)
{
    gm_idx images, labels;
    int32_t *label_values = NULL;
    int32_t n_classes = 0;
    gm_status st = gm_idx_read(who, images_path, 2, GM_IDX_MAX_DIMS, &images);
    if (st != GM_OK)
        return st;
    int32_t count = images.dims[0];
    if (labels_path) {
        st = gm_idx_read(who, labels_path, 1, 1, &labels);
        if (st != GM_OK)
            goto fail;
        if (labels.dims[0] != count) {
            st = gm_fail(GM_ERR_FORMAT, "%s: '%s' has %d images but '%s' has %d labels", who,
                         images_path, count, labels_path, labels.dims[0]);
            gm_free(labels.data);
            goto fail;
        }
        label_values = gm_malloc((size_t)count * sizeof *label_values);
        if (label_values)
            for (int32_t i = 0; i < count; i++) {
                label_values[i] = labels.data[i];
                if (labels.data[i] >= n_classes)
                    n_classes = labels.data[i] + 1;
            }
        gm_free(labels.data);
        if (!label_values) {
            st = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d labels", who, count);
            goto fail;
        }
    }
    gm_dataset *ds = gm_malloc(sizeof *ds);
    if (!ds) {
        st = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for the dataset", who);
        goto fail;
    }
    ds->pixels = images.data;
    ds->labels = label_values;
    ds->count = count;
    ds->dim = (int32_t)(images.size / (size_t)count);
    /* A (count, H, W, ...) file reads as H rows of W * ... values. */
    ds->height = images.ndim >= 3 ? images.dims[1] : 1;
    ds->width = ds->dim / ds->height;
    ds->n_classes = n_classes;
    *out = ds;
    return GM_OK;

fail:
    gm_free(label_values);
    gm_free(images.data);
    return st;
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
    gm_free(ds->labels);
    gm_free(ds);
}

int32_t gm_dataset_count(const gm_dataset *ds) { return ds ? ds->count : 0; }
int32_t gm_dataset_dim(const gm_dataset *ds) { return ds ? ds->dim : 0; }
int32_t gm_dataset_height(const gm_dataset *ds) { return ds ? ds->height : 0; }
int32_t gm_dataset_width(const gm_dataset *ds) { return ds ? ds->width : 0; }
int32_t gm_dataset_has_labels(const gm_dataset *ds) { return ds && ds->labels ? 1 : 0; }
int32_t gm_dataset_n_classes(const gm_dataset *ds) { return ds ? ds->n_classes : 0; }

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
    /* Check every index first, so a bad one leaves x and labels untouched. */
    for (int32_t i = 0; i < n; i++)
        if (indices[i] < 0 || indices[i] >= ds->count)
            return gm_fail(GM_ERR_INVALID_ARG, "%s: indices[%d] is %d, outside [0, %d)", who, i,
                           indices[i], ds->count);
    size_t dim = (size_t)ds->dim;
    for (int32_t i = 0; i < n; i++) {
        const uint8_t *row = ds->pixels + (size_t)indices[i] * dim;
        float *dst = x + (size_t)i * dim;
        for (size_t j = 0; j < dim; j++)
            dst[j] = (float)row[j] / 255.0f;
        if (labels)
            labels[i] = ds->labels[indices[i]];
    }
    return GM_OK;
}
