/* Elementary functions in straight-line code the compiler can vectorise
 * (libm's are a call per element), for the ranges the kernels need. */
#ifndef GM_CORE_FASTMATH_H
#define GM_CORE_FASTMATH_H

#include <stdint.h>
#include <string.h>

/* e^x for x <= 0, within 2 ulp: x = n ln2 + r with |r| <= ln2/2, e^r by
 * its Taylor polynomial, 2^n put in the exponent. Below -87, where 2^n
 * would not be a normal float, it is 0; a NaN stays NaN. */
static inline float exp_nonpositive(float x)
{
    const float arg = x;
    x = x > -87.0f ? x : -87.0f;
    float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;  /* round: add and drop 1.5 * 2^23 */
    float r = x - n * 0.693145752f - n * 1.42860677e-6f;      /* ln 2 in two parts */
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.66666667e-1f + r * (4.16666667e-2f +
              r * (8.33333333e-3f + r * 1.38888889e-3f)))));
    int32_t bits = ((int32_t)n + 127) * 8388608;               /* 2^n */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return arg >= -87.0f ? p * scale : arg < -87.0f ? 0.0f : arg;
}

/* log(1 + e) for e in [0, 1]: 2 atanh(s) with s = e / (2 + e)
 * <= 1/3, whose odd series is below float precision by its s^15 term */
static inline float log1p_unit(float e)
{
    float s = e / (2.0f + e), t = s * s;
    return 2.0f * s * (1.0f + t * (1.0f / 3 + t * (1.0f / 5 + t * (1.0f / 7 + t * (1.0f / 9 +
           t * (1.0f / 11 + t * (1.0f / 13 + t * (1.0f / 15))))))));
}

#endif
