/* A workspace: one block, grown when a batch needs more, carved into named
 * float buffers on every call. Growing is the only allocation, so a step at
 * a batch size already seen allocates nothing. */
#ifndef GM_CORE_WORKSPACE_H
#define GM_CORE_WORKSPACE_H

#include <stddef.h>

#include "genmodel/common.h"

typedef struct gm_workspace {
    float *base;
    size_t capacity;  /* floats */
} gm_workspace;

/* Point *slots[i] at counts[i] floats each (64-byte aligned, contents
 * undefined), growing the block if needed. On failure (GM_ERR_NO_MEMORY,
 * its message in the terms of who, the public call) the old block and the
 * slots are left as they were. */
gm_status gm_ws_carve(gm_workspace *ws, int count, float **const slots[], const size_t counts[], const char *who);
void gm_ws_free(gm_workspace *ws);

#endif
