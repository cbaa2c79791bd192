/* PNG through libpng, for the grid writer (image.c) and the folder reader
 * (imagedir.c): libpng's memory comes from the library's allocator and its
 * errors longjmp back to the caller with the message kept, so it never
 * prints or aborts. Without libpng (no GM_HAVE_PNG) the reader's calls
 * return GM_ERR_UNSUPPORTED. */
#ifndef GM_IO_PNGIO_H
#define GM_IO_PNGIO_H

#include <stdint.h>

#include "genmodel/common.h"

#ifdef GM_HAVE_PNG
#include <png.h>

/* what libpng's callbacks leave for the caller */
typedef struct gm_png_ctx {
    char msg[160];
    int oom;           /* an allocation failed: the error that follows is about memory */
} gm_png_ctx;

/* for png_create_{read,write}_struct_2, with a gm_png_ctx as both the
 * error and the memory pointer */
png_voidp gm_png_alloc(png_structp png, png_alloc_size_t size);
void gm_png_free(png_structp png, png_voidp ptr);
void gm_png_error(png_structp png, png_const_charp msg);   /* longjmps */
void gm_png_warning(png_structp png, png_const_charp msg);  /* ignores */
#endif

/* A PNG file's header: its size and whether it has colour (RGB or a
 * palette) rather than grey. */
typedef struct gm_png_info {
    int32_t width, height;
    int color;
} gm_png_info;

/* Read path's header. An image of more than max_pixels pixels is
 * GM_ERR_FORMAT before anything is decoded; so is a file that is not a
 * PNG, naming it. */
gm_status gm_png_peek(const char *who, const char *path, int64_t max_pixels, gm_png_info *info);

/* Decode path, whose header is info, to 8-bit pixels of `channels` (1
 * grey, 3 RGB) values into out (height * width * channels): a palette is
 * expanded, 16 bits scale to 8 (rounding), grey becomes RGB or colour grey
 * as channels asks (ITU-R BT.709 weights), and alpha is composited onto
 * black. A truncated or corrupt file is GM_ERR_FORMAT naming it. */
gm_status gm_png_read(const char *who, const char *path, const gm_png_info *info, int channels, uint8_t *out);


/* Write pixels (height, width, channels: 1 grey or 3 RGB, 8 bits) to path
 * as a PNG file; GM_ERR_IO naming it on failure (a partial file may stay),
 * GM_ERR_UNSUPPORTED without libpng. */
gm_status gm_png_write(const char *who, const char *path, const uint8_t *pixels, int32_t width, int32_t height,
                       int channels);

#endif
