/* Size-first config structs: how a caller's struct, of whatever version,
 * is read into the library's own. */
#ifndef GM_CORE_CONFIG_H
#define GM_CORE_CONFIG_H

#include <stddef.h>

#include "genmodel/common.h"

/* dst (dst_size bytes) already holds the defaults; src starts with its
 * size_t struct_size. Copies the fields src has: an older, smaller struct
 * leaves the newer fields at their defaults; a larger one is accepted only
 * if every byte beyond dst_size is zero. A struct_size below min_size or
 * above GM_MAX_STRUCT_SIZE is GM_ERR_INVALID_ARG, before any byte past the
 * size field is read. */
gm_status gm_config_import(void *dst, size_t dst_size, const void *src, size_t min_size, const char *who);

/* Fill a caller's struct of dst_size bytes from the library's defaults
 * (src_size bytes): the fields both know, zero beyond, struct_size set to
 * dst_size. A dst too small to hold struct_size, or larger than
 * GM_MAX_STRUCT_SIZE (a garbage size), is left alone. */
void gm_config_fill(void *dst, size_t dst_size, const void *src, size_t src_size);

/* Copy the library's config into a caller's struct of dst->struct_size
 * bytes, refused as gm_config_import refuses it. */
gm_status gm_config_export(void *dst, const void *src, size_t src_size, size_t min_size, const char *who);

#endif
