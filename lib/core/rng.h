/* Counter-based random numbers: Philox4x32-10 (Salmon et al. 2011). The
 * whole state is (seed, counter), so it saves and restores exactly, and
 * every fill consumes whole 4-word blocks. */
#ifndef GM_CORE_RNG_H
#define GM_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct gm_rng {
    uint64_t seed;
    uint64_t counter;  /* blocks drawn so far */
} gm_rng;

/* The bijection itself: out = Philox4x32-10(ctr, key). */
void gm_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

void gm_rng_init(gm_rng *rng, uint64_t seed);
/* The next block of 4 words: Philox of (counter, 0) under the key seed. */
void gm_rng_block(gm_rng *rng, uint32_t out[4]);

/* out (n) uniform in [lo, hi) */
void gm_rng_uniform(gm_rng *rng, float *out, size_t n, float lo, float hi);
/* out (n) standard normal, by Box-Muller */
void gm_rng_normal(gm_rng *rng, float *out, size_t n);
/* Values [first, first + count) of the n that gm_rng_uniform or
 * gm_rng_normal would write, into out (count), first + count <= n; the
 * counter moves on as that whole fill would. A data-parallel worker draws
 * exactly its rows of a batch this way: the others' are skipped, not drawn. */
void gm_rng_uniform_part(gm_rng *rng, float *out, size_t first, size_t count, size_t n, float lo, float hi);
void gm_rng_normal_part(gm_rng *rng, float *out, size_t first, size_t count, size_t n);
/* order (n) = a uniformly random permutation of 0..n-1 (Fisher-Yates) */
void gm_rng_permutation(gm_rng *rng, int32_t *order, int32_t n);
/* a uniform integer in [0, bound), bound >= 1, without modulo bias */
uint32_t gm_rng_below(gm_rng *rng, uint32_t bound);

#endif
