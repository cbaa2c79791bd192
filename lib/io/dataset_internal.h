/* What the models reach inside a dataset of images: an image's size and a
 * crop of it, as floats, without converting the rest. Arguments are
 * trusted (the caller checked them). */
#ifndef GM_IO_DATASET_INTERNAL_H
#define GM_IO_DATASET_INTERNAL_H

#include <stdint.h>

#include "genmodel/data.h"

/* GM_OK when ds holds images (pixels, not a table of floats), else
 * GM_ERR_INVALID_ARG naming who. */
gm_status gm_dataset_check_images(const gm_dataset *ds, const char *who);

/* image i's height and width */
void gm_dataset_view_size(const gm_dataset *ds, int32_t i, int32_t *height, int32_t *width);

/* out (h, w, channels) = the h x w pixels of image i from (y0, x0), which
 * lie inside it, as floats in [0, 1] */
void gm_dataset_crop(const gm_dataset *ds, int32_t i, int32_t y0, int32_t x0, int32_t h, int32_t w, float *out);

#endif
