/* The allocator hook. Each block keeps the pointer the hook returned just
 * below its aligned start, so gm_free can hand the original back. A count of
 * live blocks tells gm_set_allocator whether a swap is safe. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

static void *default_alloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void default_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static gm_allocator hook = { sizeof(gm_allocator), default_alloc, default_free, NULL };
static atomic_size_t live_blocks;

gm_status gm_set_allocator(const gm_allocator *a)
{
    if (a && a->struct_size != sizeof(gm_allocator))
        return gm_fail(GM_ERR_INVALID_ARG, "gm_set_allocator: struct_size is %zu, expected %zu",
                       a->struct_size, sizeof(gm_allocator));
    if (a && (!a->alloc || !a->free))
        return gm_fail(GM_ERR_INVALID_ARG, "gm_set_allocator: alloc and free must both be set");
    size_t live = atomic_load(&live_blocks);
    if (live)
        return gm_fail(GM_ERR_STATE, "gm_set_allocator: %zu blocks from the current allocator are still live", live);
    if (a) {
        hook = *a;
    } else {
        hook.alloc = default_alloc;
        hook.free = default_free;
        hook.user = NULL;
    }
    return GM_OK;
}

void *gm_malloc(size_t size)
{
    if (size == 0 || size > SIZE_MAX - GM_ALIGN - sizeof(void *))
        return NULL;
    unsigned char *raw = hook.alloc(hook.user, size + GM_ALIGN + sizeof(void *));
    if (!raw)
        return NULL;
    uintptr_t start = ((uintptr_t)raw + sizeof(void *) + GM_ALIGN - 1) & ~(uintptr_t)(GM_ALIGN - 1);
    unsigned char *aligned = raw + (start - (uintptr_t)raw);
    memcpy(aligned - sizeof(void *), &raw, sizeof raw);
    atomic_fetch_add(&live_blocks, 1);
    return aligned;
}

void *gm_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = gm_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

float *gm_alloc_floats(size_t count)
{
    return gm_calloc(count, sizeof(float));
}

void gm_free(void *ptr)
{
    if (!ptr)
        return;
    void *raw;
    memcpy(&raw, (unsigned char *)ptr - sizeof(void *), sizeof raw);
    atomic_fetch_sub(&live_blocks, 1);
    hook.free(hook.user, raw);
}

void *gm_zalloc(void *opaque, unsigned items, unsigned size)
{
    (void)opaque;
    return size && items > SIZE_MAX / size ? NULL : gm_malloc((size_t)items * size);
}

void gm_zfree(void *opaque, void *ptr)
{
    (void)opaque;
    gm_free(ptr);
}
