/* Reading a folder of PNG images (imagedir.h): list the folder (and its
 * class folders), read every header, then decode every image into its
 * slot of one block. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "imagedir.h"
#include "pngio.h"
#include "resample.h"
#include "core/alloc.h"
#include "core/error.h"

#define MAX_CLASSES 65536

/* the names in a folder, sorted: files ending in .png, or folders */
typedef struct listing {
    char **names;
    int32_t n;
} listing;

static void listing_free(listing *l)
{
    for (int32_t i = 0; l->names && i < l->n; i++)
        gm_free(l->names[i]);
    gm_free(l->names);
    l->names = NULL;
    l->n = 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_png_name(const char *name)
{
    const size_t n = strlen(name);
    return n > 4 && !strcasecmp(name + n - 4, ".png");
}

/* "dir/name" into a gm_malloc'd string */
static char *join(const char *dir, const char *name)
{
    const size_t a = strlen(dir), b = strlen(name);
    char *p = gm_malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The entries of dir that are folders (want_dirs) or PNG files, sorted;
 * *other counts those of the other kind. */
static gm_status list(const char *who, const char *dir, bool want_dirs, listing *out, int32_t *other)
{
    memset(out, 0, sizeof *out);
    *other = 0;
    DIR *d = opendir(dir);
    if (!d)
        return gm_fail(GM_ERR_IO, "%s: cannot open the folder '%s': %s", who, dir, strerror(errno));
    gm_status s = GM_OK;
    int32_t cap = 0;
    for (int pass = 0; pass < 2 && s == GM_OK; pass++) {
        if (pass == 1) {
            if (cap == 0)
                break;
            if (!(out->names = gm_calloc((size_t)cap, sizeof *out->names))) {
                s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to list '%s'", who, dir);
                break;
            }
            rewinddir(d);
        }
        for (struct dirent *e; s == GM_OK && (e = readdir(d));) {
            if (e->d_name[0] == '.')
                continue;
            char *path = join(dir, e->d_name);
            if (!path) {
                s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to list '%s'", who, dir);
                break;
            }
            const bool folder = is_dir(path), png = !folder && is_png_name(e->d_name);
            gm_free(path);
            if (folder != want_dirs || (!folder && !png)) {
                *other += pass == 0 && (folder || png);
                continue;
            }
            if (pass == 0) {
                if (cap == INT32_MAX)
                    s = gm_fail(GM_ERR_FORMAT, "%s: '%s' holds too many entries", who, dir);
                cap++;
            } else if (out->n < cap) {  /* the folder may have grown since the first pass */
                const size_t len = strlen(e->d_name) + 1;
                if (!(out->names[out->n] = gm_malloc(len))) {
                    s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to list '%s'", who, dir);
                    break;
                }
                memcpy(out->names[out->n++], e->d_name, len);
            }
        }
    }
    closedir(d);
    if (s != GM_OK)
        listing_free(out);
    else if (out->n)
        qsort(out->names, (size_t)out->n, sizeof *out->names, by_name);
    return s;
}

/* every image's path and label, in order */
typedef struct image {
    char *path;
    int32_t label;
    gm_png_info info;
} image;

/* the images of path: its class folders' PNG files, or its own */
static gm_status collect(const char *who, const char *path, image **out, int32_t *count, int32_t *n_classes)
{
    listing classes, files;
    int32_t loose;
    *out = NULL, *count = 0, *n_classes = 0;
    gm_status s = list(who, path, true, &classes, &loose);
    if (s != GM_OK)
        return s;
    if (classes.n && loose) {
        listing_free(&classes);
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' holds PNG files beside class folders; put them in a class folder",
                       who, path);
    }
    if (classes.n > MAX_CLASSES) {
        listing_free(&classes);
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' has %d class folders, more than %d", who, path, (int)classes.n,
                       MAX_CLASSES);
    }
    /* a folder without classes is one class, unlabelled */
    const int32_t groups = classes.n ? classes.n : 1;
    int64_t total = 0;
    image *all = NULL;
    for (int32_t g = 0; g < groups && s == GM_OK; g++) {
        char *owned = classes.n ? join(path, classes.names[g]) : NULL;
        const char *dir = classes.n ? owned : path;
        int32_t ignored;
        if (!dir) {
            s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to list '%s'", who, path);
            break;
        }
        if ((s = list(who, dir, false, &files, &ignored)) == GM_OK) {
            if (files.n == 0)
                s = gm_fail(GM_ERR_FORMAT, "%s: '%s' holds no PNG files", who, dir);
            else if (total + files.n > INT32_MAX)
                s = gm_fail(GM_ERR_FORMAT, "%s: '%s' holds more than 2^31 - 1 images", who, path);
        }
        image *grown = s == GM_OK ? gm_calloc((size_t)(total + files.n), sizeof *grown) : NULL;
        if (s == GM_OK && !grown)
            s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %lld file names", who, (long long)(total + files.n));
        if (grown) {
            if (total)
                memcpy(grown, all, (size_t)total * sizeof *all);
            gm_free(all);
            all = grown;
            for (int32_t i = 0; i < files.n && s == GM_OK; i++) {
                all[total].label = classes.n ? g : -1;
                if (!(all[total].path = join(dir, files.names[i])))
                    s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for file names", who);
                else
                    total++;
            }
        }
        listing_free(&files);
        gm_free(owned);
    }
    const int32_t labelled = classes.n;
    listing_free(&classes);
    if (s != GM_OK) {
        for (int64_t i = 0; all && i < total; i++)
            gm_free(all[i].path);
        gm_free(all);
        return s;
    }
    *out = all, *count = (int32_t)total, *n_classes = labelled;
    return GM_OK;
}

gm_status gm_imagedir_read(const char *who, const char *path, int32_t height, int32_t width, bool keep_sizes,
                           size_t max_bytes, gm_imagedir *out)
{
    memset(out, 0, sizeof *out);
    image *im;
    int32_t count, n_classes;
    gm_status s = collect(who, path, &im, &count, &n_classes);
    if (s != GM_OK)
        return s;
    /* pass 1: the headers decide the channels and the size */
    int channels = 1;
    for (int32_t i = 0; i < count && s == GM_OK; i++) {
        s = gm_png_peek(who, im[i].path, GM_IMAGEDIR_MAX_PIXELS, &im[i].info);
        channels = s == GM_OK && im[i].info.color ? 3 : channels;
    }
    /* one size for all (collect found one image at least), or none: 0 x 0 */
    const bool resized = height > 0 && width > 0;
    const int32_t h = keep_sizes ? 0 : resized ? height : im[0].info.height;
    const int32_t w = keep_sizes ? 0 : resized ? width : im[0].info.width;
    for (int32_t i = 0; i < count && s == GM_OK && !resized && !keep_sizes; i++)
        if (im[i].info.height != h || im[i].info.width != w)
            s = gm_fail(GM_ERR_FORMAT, "%s: '%s' is %d x %d pixels where '%s' is %d x %d; ask for a resize", who,
                        im[i].path, (int)im[i].info.width, (int)im[i].info.height, im[0].path, (int)w, (int)h);
    /* the bytes of each image (its slot) and of all; each is below 2^28,
     * so the sum of 2^31 of them fits 64 bits */
    const size_t one = (size_t)h * (size_t)w * (size_t)channels;
    uint64_t total = 0;
    for (int32_t i = 0; i < count && s == GM_OK; i++)
        total += keep_sizes ? (uint64_t)im[i].info.height * (uint64_t)im[i].info.width * (uint64_t)channels : one;
    if (s == GM_OK && total > max_bytes)
        s = gm_fail(GM_ERR_FORMAT, "%s: '%s' holds %d images of %llu bytes in all, more than this library reads", who,
                    path, (int)count, (unsigned long long)total);
    /* pass 2: decode, each into its slot (or through a scratch image to resize) */
    if (s == GM_OK) {
        out->pixels = gm_malloc((size_t)total);
        out->labels = n_classes ? gm_malloc((size_t)count * sizeof *out->labels) : NULL;
        out->slots = keep_sizes ? gm_malloc((size_t)count * sizeof *out->slots) : NULL;
        if (!out->pixels || (n_classes && !out->labels) || (keep_sizes && !out->slots))
            s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for %d images", who, (int)count);
    }
    size_t at = 0;   /* where image i's slot starts */
    for (int32_t i = 0; i < count && s == GM_OK; i++) {
        const gm_png_info *info = &im[i].info;
        const size_t bytes = (size_t)info->height * (size_t)info->width * (size_t)channels;
        uint8_t *slot = out->pixels + at, *scratch = slot;
        if (resized && !(scratch = gm_malloc(bytes)))
            s = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to decode '%s'", who, im[i].path);
        if (s == GM_OK && (s = gm_png_read(who, im[i].path, info, channels, scratch)) == GM_OK && resized)
            s = gm_resample_bicubic_u8(who, scratch, info->height, info->width, channels, slot, h, w);
        if (resized)
            gm_free(scratch);
        if (out->labels)
            out->labels[i] = im[i].label;
        if (out->slots)
            out->slots[i] = (gm_imagedir_slot){ at, info->height, info->width };
        at += keep_sizes ? bytes : one;
    }
    for (int32_t i = 0; i < count; i++)
        gm_free(im[i].path);
    gm_free(im);
    if (s != GM_OK) {
        gm_free(out->pixels);
        gm_free(out->labels);
        gm_free(out->slots);
        memset(out, 0, sizeof *out);
        return s;
    }
    *out = (gm_imagedir){ out->pixels, out->labels, out->slots, count, h, w, channels, n_classes };
    return GM_OK;
}
