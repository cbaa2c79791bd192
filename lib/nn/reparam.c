#include <math.h>
#include <stddef.h>

#include "reparam.h"

void gm_reparam_forward(float *z, int ldz, const float *mu, const float *logvar, int ld,
                        const float *eps, int N, int Z)
{
    for (int n = 0; n < N; n++) {
        const float *m = mu + (size_t)n * ld, *lv = logvar + (size_t)n * ld, *e = eps + (size_t)n * Z;
        float *out = z + (size_t)n * ldz;
        for (int j = 0; j < Z; j++)
            out[j] = m[j] + expf(0.5f * lv[j]) * e[j];
    }
}

void gm_reparam_backward(float *dmu, float *dlogvar, int ld, const float *dz, int ldz,
                         const float *logvar, const float *eps, int N, int Z)
{
    for (int n = 0; n < N; n++) {
        const float *g = dz + (size_t)n * ldz, *lv = logvar + (size_t)n * ld, *e = eps + (size_t)n * Z;
        float *dm = dmu + (size_t)n * ld, *dl = dlogvar + (size_t)n * ld;
        for (int j = 0; j < Z; j++) {
            dm[j] += g[j];
            dl[j] += g[j] * e[j] * 0.5f * expf(0.5f * lv[j]);
        }
    }
}
