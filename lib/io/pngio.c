/* PNG through libpng (pngio.h): the callbacks that keep libpng on the
 * library's allocator and off stdio and abort(), and the reader. Every
 * call that can longjmp sits in a function of its own that sets the jump
 * target, so that no local of a caller changes between setjmp and longjmp;
 * whatever must be freed after a longjmp is allocated by the caller. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pngio.h"
#include "core/alloc.h"
#include "core/error.h"

#ifdef GM_HAVE_PNG

png_voidp gm_png_alloc(png_structp png, png_alloc_size_t size)
{
    png_voidp p = gm_malloc(size);
    if (!p)
        ((gm_png_ctx *)png_get_mem_ptr(png))->oom = 1;
    return p;
}

void gm_png_free(png_structp png, png_voidp ptr)
{
    (void)png;
    gm_free(ptr);
}

/* Must not return: libpng would then print the message and abort. */
void gm_png_error(png_structp png, png_const_charp msg)
{
    gm_png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
    png_longjmp(png, 1);
}

void gm_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* an open file and libpng's read state on it */
typedef struct reader {
    gm_png_ctx ctx;
    FILE *f;
    png_structp png;
    png_infop info;
} reader;

static gm_status open_reader(const char *who, const char *path, reader *r)
{
    memset(r, 0, sizeof *r);
    if (!(r->f = fopen(path, "rb")))
        return gm_fail(GM_ERR_IO, "%s: cannot open '%s': %s", who, path, strerror(errno));
    uint8_t sig[8];
    if (fread(sig, 1, sizeof sig, r->f) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig)) {
        fclose(r->f);
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is not a PNG file", who, path);
    }
    r->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &r->ctx, gm_png_error, gm_png_warning, &r->ctx,
                                      gm_png_alloc, gm_png_free);
    r->info = r->png ? png_create_info_struct(r->png) : NULL;
    if (!r->info) {
        png_destroy_read_struct(&r->png, NULL, NULL);
        fclose(r->f);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to read '%s'", who, path);
    }
    return GM_OK;
}

static void close_reader(reader *r)
{
    png_destroy_read_struct(&r->png, &r->info, NULL);
    fclose(r->f);
}

static gm_status failed(const char *who, const char *path, const reader *r)
{
    if (r->ctx.oom)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory reading '%s'", who, path);
    return gm_fail(GM_ERR_FORMAT, "%s: '%s' is not a valid PNG file: libpng: %s", who, path,
                   r->ctx.msg[0] ? r->ctx.msg : "unknown error");
}

static int read_header(reader *r, gm_png_info *info)
{
    if (setjmp(png_jmpbuf(r->png)))
        return -1;
    png_init_io(r->png, r->f);
    png_set_sig_bytes(r->png, 8);
    png_read_info(r->png, r->info);
    const int type = png_get_color_type(r->png, r->info);
    info->width = (int32_t)png_get_image_width(r->png, r->info);
    info->height = (int32_t)png_get_image_height(r->png, r->info);
    info->color = (type & PNG_COLOR_MASK_COLOR) != 0;
    return 0;
}

gm_status gm_png_peek(const char *who, const char *path, int64_t max_pixels, gm_png_info *info)
{
    reader r;
    gm_status s = open_reader(who, path, &r);
    if (s != GM_OK)
        return s;
    if (read_header(&r, info) != 0)
        s = failed(who, path, &r);
    else if ((int64_t)info->width * info->height > max_pixels)
        s = gm_fail(GM_ERR_FORMAT, "%s: '%s' is %d x %d pixels, more than the %lld an image may have", who, path,
                    (int)info->width, (int)info->height, (long long)max_pixels);
    close_reader(&r);
    return s;
}

/* Decode into rows (height pointers into a block of height * width *
 * (channels + 1) bytes): 8-bit, channels as asked, plus alpha. */
static int decode(reader *r, const gm_png_info *want, int channels, png_bytepp rows)
{
    gm_png_info got;
    if (read_header(r, &got) != 0)
        return -1;
    if (setjmp(png_jmpbuf(r->png)))
        return -1;
    if (got.width != want->width || got.height != want->height)
        png_error(r->png, "the file changed while the folder was read");
    const int type = png_get_color_type(r->png, r->info), depth = png_get_bit_depth(r->png, r->info);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(r->png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(r->png);
    if (png_get_valid(r->png, r->info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(r->png);
    if (depth == 16)
        png_set_scale_16(r->png);
    if (channels == 3 && !got.color)
        png_set_gray_to_rgb(r->png);
    if (channels == 1 && got.color)
        png_set_rgb_to_gray_fixed(r->png, 1, -1, -1);
    if (!(type & PNG_COLOR_MASK_ALPHA) && !png_get_valid(r->png, r->info, PNG_INFO_tRNS))
        png_set_add_alpha(r->png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(r->png);
    png_read_update_info(r->png, r->info);
    if (png_get_rowbytes(r->png, r->info) != (size_t)want->width * (size_t)(channels + 1))
        png_error(r->png, "unexpected row layout after the transformations");
    png_read_image(r->png, rows);
    png_read_end(r->png, NULL);
    return 0;
}

gm_status gm_png_read(const char *who, const char *path, const gm_png_info *info, int channels, uint8_t *out)
{
    const size_t w = (size_t)info->width, h = (size_t)info->height, stride = w * (size_t)(channels + 1);
    uint8_t *block = gm_malloc(h * stride);
    png_bytepp rows = gm_malloc(h * sizeof *rows);
    if (!block || !rows) {
        gm_free(block);
        gm_free(rows);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory to decode '%s'", who, path);
    }
    for (size_t y = 0; y < h; y++)
        rows[y] = block + y * stride;
    reader r;
    gm_status s = open_reader(who, path, &r);
    if (s == GM_OK) {
        if (decode(&r, info, channels, rows) != 0)
            s = failed(who, path, &r);
        close_reader(&r);
    }
    /* alpha onto black: v * a / 255, rounded */
    for (size_t i = 0; s == GM_OK && i < w * h; i++) {
        const unsigned a = block[i * (size_t)(channels + 1) + (size_t)channels];
        for (int c = 0; c < channels; c++)
            out[i * (size_t)channels + (size_t)c] =
                (uint8_t)((block[i * (size_t)(channels + 1) + (size_t)c] * a + 127) / 255);
    }
    gm_free(block);
    gm_free(rows);
    return s;
}

/* libpng's calls around the longjmp target: 0 on success */
static int encode(png_structp png, png_infop info, FILE *f, const uint8_t *pixels, int32_t w, int32_t h,
                  int channels)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int32_t y = 0; y < h; y++)
        png_write_row(png, pixels + (size_t)y * (size_t)w * (size_t)channels);
    png_write_end(png, info);
    return 0;
}

gm_status gm_png_write(const char *who, const char *path, const uint8_t *pixels, int32_t width, int32_t height,
                       int channels)
{
    gm_png_ctx ctx = { { 0 }, 0 };
    FILE *f = fopen(path, "wb");
    if (!f)
        return gm_fail(GM_ERR_IO, "%s: cannot create '%s': %s", who, path, strerror(errno));
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &ctx, gm_png_error, gm_png_warning, &ctx,
                                                gm_png_alloc, gm_png_free);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    const int made = info != NULL, failed = !made || encode(png, info, f, pixels, width, height, channels) != 0;
    png_destroy_write_struct(&png, &info);
    const int closed = fclose(f) == 0;
    if (failed && (ctx.oom || !made))
        return gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory writing '%s'", who, path);
    if (failed)
        return gm_fail(GM_ERR_IO, "%s: cannot write '%s': libpng: %s", who, path, ctx.msg[0] ? ctx.msg : "unknown error");
    if (!closed)
        return gm_fail(GM_ERR_IO, "%s: cannot write '%s': %s", who, path, strerror(errno));
    return GM_OK;
}

#else

gm_status gm_png_write(const char *who, const char *path, const uint8_t *pixels, int32_t width, int32_t height,
                       int channels)
{
    (void)pixels, (void)width, (void)height, (void)channels;
    return gm_fail(GM_ERR_UNSUPPORTED, "%s: cannot write '%s': this build has no libpng", who, path);
}

gm_status gm_png_peek(const char *who, const char *path, int64_t max_pixels, gm_png_info *info)
{
    (void)max_pixels, (void)info;
    return gm_fail(GM_ERR_UNSUPPORTED, "%s: cannot read '%s': this build has no libpng", who, path);
}

gm_status gm_png_read(const char *who, const char *path, const gm_png_info *info, int channels, uint8_t *out)
{
    (void)info, (void)channels, (void)out;
    return gm_fail(GM_ERR_UNSUPPORTED, "%s: cannot read '%s': this build has no libpng", who, path);
}

#endif
