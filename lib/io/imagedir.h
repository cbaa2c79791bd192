/* A folder of PNG images as a dataset's parts: FOLDER/CLASS/NAME.png, the
 * classes labelled 0, 1, ... in the byte order of their names (as
 * torchvision's ImageFolder does), or FOLDER/NAME.png without labels.
 * Names starting with '.' are skipped, and so are files that do not end
 * in .png (any case). */
#ifndef GM_IO_IMAGEDIR_H
#define GM_IO_IMAGEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"

/* the most pixels one image may declare: 2^26, 192 MiB as RGB */
#define GM_IMAGEDIR_MAX_PIXELS ((int64_t)1 << 26)

/* where one image of a ragged folder lies in its pixels, and its size */
typedef struct gm_imagedir_slot {
    size_t offset;      /* of its first byte */
    int32_t height, width;
} gm_imagedir_slot;

typedef struct gm_imagedir {
    uint8_t *pixels;    /* (count, height, width, channels) from gm_malloc; ragged: image i's
                           (slots[i].height, slots[i].width, channels) from slots[i].offset on */
    int32_t *labels;    /* (count), or NULL for a folder without classes */
    gm_imagedir_slot *slots;  /* (count) for keep_sizes, else NULL */
    int32_t count, height, width, channels, n_classes;  /* height, width 0 for keep_sizes */
} gm_imagedir;

/* Read every image: grey (1 channel) when all are grey, else RGB (3);
 * alpha composited onto black. All must have the first one's size, unless
 * height and width (both > 0) ask for a resize, bicubic as Pillow's
 * (resample.h), or keep_sizes keeps each at its own, one after the other
 * (the caller asks for one of the two at most). At most max_bytes of
 * pixels. GM_ERR_FORMAT names the file (a
 * size that differs, a corrupt or truncated PNG, one too large), the
 * folder (no images, a class folder without any, images beside class
 * folders); GM_ERR_IO, GM_ERR_NO_MEMORY, GM_ERR_UNSUPPORTED without
 * libpng. On failure nothing is held. */
gm_status gm_imagedir_read(const char *who, const char *path, int32_t height, int32_t width, bool keep_sizes,
                           size_t max_bytes, gm_imagedir *out);

#endif
