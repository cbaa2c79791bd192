#include <stdint.h>

#include "workspace.h"
#include "alloc.h"
#include "error.h"

#define FLOATS_PER_LINE (GM_ALIGN / sizeof(float))

static size_t round_to_line(size_t n)
{
    return (n + FLOATS_PER_LINE - 1) / FLOATS_PER_LINE * FLOATS_PER_LINE;
}

gm_status gm_ws_carve(gm_workspace *ws, int count, float **const slots[], const size_t counts[], const char *who)
{
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        size_t n = round_to_line(counts[i]);
        /* total never exceeds SIZE_MAX / sizeof(float), so this cannot wrap */
        if (n < counts[i] || n > SIZE_MAX / sizeof(float) - total)
            return gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory: the workspace's size overflows", who);
        total += n;
    }
    if (total > ws->capacity) {
        float *grown = gm_malloc(total * sizeof(float));
        if (!grown)
            return gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory: cannot allocate %zu bytes of workspace", who,
                           total * sizeof(float));
        gm_free(ws->base);
        ws->base = grown;
        ws->capacity = total;
    }
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        *slots[i] = ws->base + at;
        at += round_to_line(counts[i]);
    }
    return GM_OK;
}

void gm_ws_free(gm_workspace *ws)
{
    gm_free(ws->base);
    ws->base = NULL;
    ws->capacity = 0;
}
