/* libFuzzer target: gm_st_parse on arbitrary bytes must return a status,
 * never crash, read out of bounds or leak. Each input is parsed as is, then
 * again with a correct length prefix (header = up to its last '}'), so
 * mutations reach the JSON and the layout checks instead of dying on N. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch everything a parsed file hands out. */
static void walk(const gm_st_file *f)
{
    float buf[64];
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < gm_st_count(f); i++) {
        const gm_st_info *t = gm_st_at(f, i);
        sink ^= (uint8_t)(strlen(t->name) + (gm_st_find(f, t->name) == t));
        if (t->numel && t->numel <= 64 && gm_st_tensor_copy(f, t->name, buf, t->numel) == GM_OK)
            sink ^= ((const uint8_t *)buf)[0];
        if (t->numel)
            sink ^= t->bytes[4 * t->numel - 1];   /* the last byte must be inside the input */
    }
    for (size_t i = 0; i < gm_st_meta_count(f); i++)
        sink ^= (uint8_t)(strlen(gm_st_meta_key(f, i)) + strlen(gm_st_meta_value(f, i)));
    (void)sink;
}

static void parse(const uint8_t *data, size_t size)
{
    gm_st_file *f = NULL;
    if (gm_st_parse(data, size, &f) == GM_OK)
        walk(f);
    gm_st_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse(data, size);
    size_t n = size;
    while (n && data[n - 1] != '}')
        n--;
    uint8_t *file = n ? malloc(size + 8) : NULL;
    if (!file)
        return 0;
    for (int i = 0; i < 8; i++)
        file[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(file + 8, data, size);
    parse(file, size + 8);
    free(file);
    return 0;
}
