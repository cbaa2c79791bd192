/* Hot elementwise loops built once per vector width and picked at load
 * time for the CPU at hand (GCC's target_clones, an ifunc). The clones run
 * the same operations in the same order, and ISO C leaves FMA contraction
 * off, so every clone rounds alike: results do not depend on the CPU.
 * Only for static functions: an exported-scope clone's resolver would leak
 * into the library's dynamic symbols. */
#ifndef GM_CORE_SIMD_H
#define GM_CORE_SIMD_H

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#  define GM_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#  define GM_VECTOR_CLONES
#endif

#endif
