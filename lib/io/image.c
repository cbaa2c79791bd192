/* Writing images: IDX files of unsigned bytes, the datasets' own format,
 * and sample grids as PNG (libpng) or binary PGM. libpng's memory comes
 * from the library's allocator and its errors longjmp back here, so it
 * never prints. A failed write may leave a partial file behind. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "genmodel/data.h"
#include "core/alloc.h"
#include "core/error.h"
#include "idx.h"
#include "pngio.h"

#define GAP 2              /* pixels of black between grid cells and around them */
#define CHUNK 4096
#define GM_IMAGE_MAX_PIXELS ((int64_t)1 << 28)  /* gm_image_read's largest: 1 GiB of RGB floats */


static gm_status check_args(const char *who, const char *path, const float *images, int32_t n,
                            int32_t height, int32_t width)
{
    if (!path || !images)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who, !path ? "path" : "images");
    if (!*path)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: path is empty", who);
    if (n <= 0 || height <= 0 || width <= 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: n, height and width must be > 0 (got %d, %d, %d)",
                       who, n, height, width);
    return GM_OK;
}

static gm_status open_failed(const char *who, const char *path)
{
    return gm_fail(GM_ERR_IO, "%s: cannot create '%s': %s", who, path, strerror(errno));
}

static gm_status write_failed(const char *who, const char *path)
{
    return gm_fail(GM_ERR_IO, "%s: cannot write '%s': %s", who, path, strerror(errno));
}

/* fclose reports the errors buffering hid (a full disk shows up here). */
static gm_status close_file(const char *who, const char *path, FILE *f, gm_status st)
{
    if (fclose(f) != 0 && st == GM_OK)
        st = write_failed(who, path);
    return st;
}

gm_status gm_idx_write_images(const char *path, const float *images, int32_t n, int32_t height,
                              int32_t width)
{
    static const char who[] = "gm_idx_write_images";
    gm_status st = check_args(who, path, images, n, height, width);
    if (st != GM_OK)
        return st;
    /* Larger files would not load back. */
    size_t per_image = (size_t)height * (size_t)width;
    if (per_image > GM_IDX_MAX_BYTES / (size_t)n)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %d images of %d x %d exceed %zu bytes", who, n,
                       height, width, GM_IDX_MAX_BYTES);
    size_t total = (size_t)n * per_image;

    unsigned char buf[CHUNK];
    buf[0] = buf[1] = 0;
    buf[2] = GM_IDX_TYPE_UBYTE;
    buf[3] = 3;
    gm_put_be32(buf + 4, (uint32_t)n);
    gm_put_be32(buf + 8, (uint32_t)height);
    gm_put_be32(buf + 12, (uint32_t)width);
    FILE *f = fopen(path, "wb");
    if (!f)
        return open_failed(who, path);
    if (fwrite(buf, 1, 16, f) != 16)
        return close_file(who, path, f, write_failed(who, path));
    for (size_t done = 0; done < total;) {
        size_t k = total - done < CHUNK ? total - done : CHUNK;
        for (size_t i = 0; i < k; i++)
            buf[i] = gm_pixel_byte(images[done + i]);
        if (fwrite(buf, 1, k, f) != k)
            return close_file(who, path, f, write_failed(who, path));
        done += k;
    }
    return close_file(who, path, f, GM_OK);
}

/* binary PGM (grey) or PPM (RGB) */
static gm_status write_pgm(const char *who, const char *path, const uint8_t *grid, int32_t gw,
                           int32_t gh, int channels)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return open_failed(who, path);
    size_t size = (size_t)gw * (size_t)gh * (size_t)channels;
    if (fprintf(f, "P%c\n%d %d\n255\n", channels == 3 ? '6' : '5', gw, gh) < 0 || fwrite(grid, 1, size, f) != size)
        return close_file(who, path, f, write_failed(who, path));
    return close_file(who, path, f, GM_OK);
}


static int is_png_path(const char *path)
{
    size_t len = strlen(path);
    if (len < 4)
        return 0;
    const char *ext = path + len - 4;
    return ext[0] == '.' && tolower((unsigned char)ext[1]) == 'p' &&
           tolower((unsigned char)ext[2]) == 'n' && tolower((unsigned char)ext[3]) == 'g';
}

static gm_status write_grid(const char *who, const char *path, const float *images, int32_t n, int32_t height,
                            int32_t width, int32_t channels, int32_t cols, int gap)
{
    gm_status st = check_args(who, path, images, n, height, width);
    if (st != GM_OK)
        return st;
    if (cols <= 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: cols must be > 0 (got %d)", who, cols);
    if (channels != 1 && channels != 3)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: channels must be 1 or 3 (got %d)", who, (int)channels);
    int png = is_png_path(path);
#ifndef GM_HAVE_PNG
    if (png)
        return gm_fail(GM_ERR_UNSUPPORTED, "%s: '%s': this build has no PNG support; write .pgm",
                       who, path);
#endif
    int64_t rows = ((int64_t)n + cols - 1) / cols;
    int64_t gw = cols * ((int64_t)width + gap) + gap;
    int64_t gh = rows * ((int64_t)height + gap) + gap;
    if (gw > INT32_MAX || gh > INT32_MAX || gw * gh * channels > INT32_MAX)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: a grid of %lld x %lld pixels is too large", who,
                       (long long)gw, (long long)gh);
    /* From here every offset fits a size_t; a row of the grid is W pixels of c values. */
    const size_t W = (size_t)gw, h = (size_t)height, w = (size_t)width, c = (size_t)channels;
    uint8_t *grid = gm_calloc(W * (size_t)gh * c, 1);  /* zeros: the black background */
    if (!grid)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for a %lld x %lld grid", who,
                       (long long)gw, (long long)gh);
    for (size_t i = 0; i < (size_t)n; i++) {
        const float *img = images + i * h * w * c;
        size_t row = i / (size_t)cols, col = i % (size_t)cols;
        uint8_t *cell = grid + ((gap + row * (h + gap)) * W + gap + col * (w + gap)) * c;
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w * c; x++)
                cell[y * W * c + x] = gm_pixel_byte(img[y * w * c + x]);
    }
#ifdef GM_HAVE_PNG
    if (png)
        st = gm_png_write(who, path, grid, (int32_t)gw, (int32_t)gh, channels);
    else
#endif
        st = write_pgm(who, path, grid, (int32_t)gw, (int32_t)gh, channels);
    gm_free(grid);
    return st;
}

gm_status gm_image_write_grid(const char *path, const float *images, int32_t n, int32_t height,
                              int32_t width, int32_t cols)
{
    return write_grid("gm_image_write_grid", path, images, n, height, width, 1, cols, GAP);
}

gm_status gm_image_write_grid_channels(const char *path, const float *images, int32_t n, int32_t height,
                                       int32_t width, int32_t channels, int32_t cols)
{
    return write_grid("gm_image_write_grid_channels", path, images, n, height, width, channels, cols, GAP);
}

gm_status gm_image_write(const char *path, const float *image, int32_t height, int32_t width, int32_t channels)
{
    return write_grid("gm_image_write", path, image, 1, height, width, channels, 1, 0);
}

gm_status gm_image_read(const char *path, int32_t *height, int32_t *width, int32_t *channels, float **pixels)
{
    static const char who[] = "gm_image_read";
    if (pixels)
        *pixels = NULL;
    if (!path || !height || !width || !channels || !pixels)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    if (!*path)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: path is empty", who);
#ifdef GM_HAVE_PNG
    gm_png_info info;
    gm_status st = gm_png_peek(who, path, GM_IMAGE_MAX_PIXELS, &info);
    if (st != GM_OK)
        return st;
    const int c = info.color ? 3 : 1;
    const size_t n = (size_t)info.height * (size_t)info.width * (size_t)c;
    uint8_t *bytes = gm_malloc(n);
    float *out = gm_alloc_floats(n);
    if (!bytes || !out)
        st = gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for '%s' (%d x %d)", who, path, (int)info.height,
                     (int)info.width);
    if (st == GM_OK && (st = gm_png_read(who, path, &info, c, bytes)) == GM_OK) {
        for (size_t i = 0; i < n; i++)
            out[i] = bytes[i] * (1.0f / 255.0f);
        *height = info.height, *width = info.width, *channels = c;
        *pixels = out;
        out = NULL;
    }
    gm_free(bytes);
    gm_free(out);
    return st;
#else
    return gm_fail(GM_ERR_UNSUPPORTED, "%s: '%s': this build has no PNG support", who, path);
#endif
}

int32_t gm_have_png(void)
{
#ifdef GM_HAVE_PNG
    return 1;
#else
    return 0;
#endif
}
