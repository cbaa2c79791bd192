/* Elementary functions in straight-line code the compiler can vectorise
 * (libm's are a call per element), for the ranges the kernels need. */
#ifndef GM_CORE_FASTMATH_H
#define GM_CORE_FASTMATH_H

#include <math.h>
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

/* tanh(x) as a rational function of x (odd degree 13 over even degree 6,
 * the minimax fit that Eigen and XLA use), on x clamped to +-7.90531,
 * where it reaches +-1 in float (within 7 ulp of tanh everywhere); below
 * 4e-4 in magnitude x itself, which
 * is tanh(x) to within half an ulp there. A NaN stays NaN. */
static inline float tanh_rational(float x)
{
    const float c = x > 7.90531110763549805f ? 7.90531110763549805f : x < -7.90531110763549805f ? -7.90531110763549805f : x;
    const float t = c * c;
    float p = -2.76076847742355e-16f;
    p = p * t + 2.00018790482477e-13f;
    p = p * t - 8.60467152213735e-11f;
    p = p * t + 5.12229709037114e-08f;
    p = p * t + 1.48572235717979e-05f;
    p = p * t + 6.37261928875436e-04f;
    p = p * t + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * t + 1.18534705686654e-04f;
    q = q * t + 2.26843463243900e-03f;
    q = q * t + 4.89352518554385e-03f;
    const float r = c * p / q;
    return fabsf(x) < 0.0004f ? x : x != x ? x : r;
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
