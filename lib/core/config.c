#include <string.h>

#include "config.h"
#include "error.h"

static size_t struct_size_of(const void *s)
{
    size_t size;
    memcpy(&size, s, sizeof size);
    return size;
}

/* a struct_size beyond the stated maximum is garbage, not a newer struct:
 * reading that many bytes could run past the caller's struct */
static gm_status check_size(size_t size, size_t min_size, size_t expected, const char *who)
{
    if (size < min_size || size > GM_MAX_STRUCT_SIZE)
        return gm_fail(GM_ERR_INVALID_ARG,
                       "%s: config struct_size is %zu, expected %zu and at most %d (was it filled by its _config_init?)",
                       who, size, expected, GM_MAX_STRUCT_SIZE);
    return GM_OK;
}

gm_status gm_config_import(void *dst, size_t dst_size, const void *src, size_t min_size, const char *who)
{
    if (!src)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: config is NULL", who);
    size_t size = struct_size_of(src);
    gm_status s = check_size(size, min_size, dst_size, who);
    if (s != GM_OK)
        return s;
    const unsigned char *tail = (const unsigned char *)src + dst_size;
    for (size_t i = 0; size > dst_size && i < size - dst_size; i++)
        if (tail[i])
            return gm_fail(GM_ERR_VERSION, "%s: config is from a newer libgenmodel (struct_size %zu, this one knows %zu)",
                           who, size, dst_size);
    memcpy(dst, src, size < dst_size ? size : dst_size);
    memcpy(dst, &dst_size, sizeof dst_size);
    return GM_OK;
}

void gm_config_fill(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    if (!dst || dst_size < sizeof(size_t) || dst_size > GM_MAX_STRUCT_SIZE)
        return;
    memset(dst, 0, dst_size);
    memcpy(dst, src, dst_size < src_size ? dst_size : src_size);
    memcpy(dst, &dst_size, sizeof dst_size);
}

gm_status gm_config_export(void *dst, const void *src, size_t src_size, size_t min_size, const char *who)
{
    if (!dst)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: config is NULL", who);
    size_t size = struct_size_of(dst);
    gm_status s = check_size(size, min_size, src_size, who);
    if (s != GM_OK)
        return s;
    memcpy((unsigned char *)dst + sizeof size, (const unsigned char *)src + sizeof size,
           (size < src_size ? size : src_size) - sizeof size);
    return GM_OK;
}
