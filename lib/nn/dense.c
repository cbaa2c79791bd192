#include <math.h>
#include <string.h>

#include "dense.h"
#include "core/act.h"
#include "core/blas.h"

void gm_dense_forward(float *y, const float *x, const float *W, const float *b,
                      int N, int D, int O, int act, float slope)
{
    if (N == 1)
        gm_gemv(false, O, D, 1.0f, W, x, 0.0f, y);
    else
        gm_gemm(false, true, N, O, D, 1.0f, x, W, 0.0f, y);
    gm_act_forward(y, b, N, O, act, slope);
}

void gm_dense_backward(float *dx, float *dW, float *db, bool accumulate, float *dy, const float *x,
                       const float *W, const float *y, int N, int D, int O, int act, float slope)
{
    /* written over, the gradients need no zeroing pass of their own: the
     * product with beta 0 clears dW as it goes */
    if (db && !accumulate)
        memset(db, 0, (size_t)O * sizeof *db);
    gm_act_backward(dy, db, y, N, O, act, slope);
    if (dW)
        gm_gemm(true, false, O, D, N, 1.0f, dy, x, accumulate ? 1.0f : 0.0f, dW);
    if (dx)
        gm_gemm(false, false, N, D, O, 1.0f, dy, W, 0.0f, dx);
}

void gm_dense_init(gm_rng *rng, float *W, float *b, int D, int O)
{
    /* kaiming_uniform(a=sqrt(5)) reduces to this bound, and so does the bias's */
    float bound = 1.0f / sqrtf((float)D);
    gm_rng_uniform(rng, W, (size_t)O * D, -bound, bound);
    gm_rng_uniform(rng, b, (size_t)O, -bound, bound);
}
