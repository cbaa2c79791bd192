/* Every allocation of the library goes through here, and so through the
 * caller's gm_allocator. Blocks are 64-byte aligned: cache lines for the
 * kernels, and an alignment BLAS results do not depend on. */
#ifndef GM_CORE_ALLOC_H
#define GM_CORE_ALLOC_H

#include <stddef.h>

#define GM_ALIGN 64

/* NULL on failure (also when size is 0 or count * size overflows). */
void *gm_malloc(size_t size);
void *gm_calloc(size_t count, size_t size);
void gm_free(void *ptr);  /* NULL is a no-op */

/* zlib's zalloc and zfree (z_stream), so that its state comes from the
 * library's allocator too: void * and unsigned stand for voidpf and uInt. */
void *gm_zalloc(void *opaque, unsigned items, unsigned size);
void gm_zfree(void *opaque, void *ptr);

/* Blocks of float, the common case. */
float *gm_alloc_floats(size_t count);

#endif
