/* Philox4x32-10 with the constants of Random123. */
#include <math.h>

#include "rng.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void gm_rng_init(gm_rng *rng, uint64_t seed)
{
    rng->seed = seed;
    rng->counter = 0;
}

void gm_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c[4] = { ctr[0], ctr[1], ctr[2], ctr[3] };
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
        uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
        uint32_t next[4] = {
            (uint32_t)(p1 >> 32) ^ c[1] ^ k0, (uint32_t)p1,
            (uint32_t)(p0 >> 32) ^ c[3] ^ k1, (uint32_t)p0,
        };
        c[0] = next[0], c[1] = next[1], c[2] = next[2], c[3] = next[3];
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c[0], out[1] = c[1], out[2] = c[2], out[3] = c[3];
}

/* block index of the stream, without moving the counter */
static void block_at(const gm_rng *rng, uint64_t index, uint32_t out[4])
{
    const uint32_t ctr[4] = { (uint32_t)index, (uint32_t)(index >> 32), 0, 0 };
    const uint32_t key[2] = { (uint32_t)rng->seed, (uint32_t)(rng->seed >> 32) };
    gm_philox4x32_10(ctr, key, out);
}

void gm_rng_block(gm_rng *rng, uint32_t out[4])
{
    block_at(rng, rng->counter, out);
    rng->counter++;
}

/* 24 random bits: exactly representable floats in [0, 1) */
static float unit_float(uint32_t x)
{
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

void gm_rng_uniform(gm_rng *rng, float *out, size_t n, float lo, float hi)
{
    gm_rng_uniform_part(rng, out, 0, n, n, lo, hi);
}

void gm_rng_normal(gm_rng *rng, float *out, size_t n)
{
    gm_rng_normal_part(rng, out, 0, n, n);
}

/* Value p of a fill comes from block counter + p / 4, word p % 4: a part
 * computes only the blocks its values come from. */
void gm_rng_uniform_part(gm_rng *rng, float *out, size_t first, size_t count, size_t n, float lo, float hi)
{
    uint32_t b[4];
    for (size_t i = first - first % 4; i < first + count; i += 4) {
        block_at(rng, rng->counter + i / 4, b);
        for (size_t j = 0; j < 4; j++)
            if (i + j >= first && i + j < first + count)
                out[i + j - first] = lo + (hi - lo) * unit_float(b[j]);
    }
    rng->counter += (n + 3) / 4;
}

/* Box-Muller on words (0, 1) and (2, 3) of each block: value p is the
 * cosine of its pair when p is even, the sine when odd */
void gm_rng_normal_part(gm_rng *rng, float *out, size_t first, size_t count, size_t n)
{
    const float two_pi = 6.2831853071795865f;
    uint32_t b[4];
    for (size_t i = first - first % 4; i < first + count; i += 4) {
        block_at(rng, rng->counter + i / 4, b);
        for (size_t j = 0; j < 4; j += 2) {
            /* 1 - u lies in (0, 1], so the log is finite */
            float r = sqrtf(-2.0f * logf(1.0f - unit_float(b[j])));
            float theta = two_pi * unit_float(b[j + 1]);
            if (i + j >= first && i + j < first + count)
                out[i + j - first] = r * cosf(theta);
            if (i + j + 1 >= first && i + j + 1 < first + count)
                out[i + j + 1 - first] = r * sinf(theta);
        }
    }
    rng->counter += (n + 3) / 4;
}

uint32_t gm_rng_below(gm_rng *rng, uint32_t bound)
{
    /* reject the top sliver of 2^32 that does not divide evenly */
    uint32_t limit = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t b[4];
        gm_rng_block(rng, b);
        for (int j = 0; j < 4; j++)
            if (b[j] >= limit)
                return b[j] % bound;
    }
}

void gm_rng_permutation(gm_rng *rng, int32_t *order, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        order[i] = i;
    for (int32_t i = n - 1; i > 0; i--) {
        int32_t j = (int32_t)gm_rng_below(rng, (uint32_t)i + 1);
        int32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}
