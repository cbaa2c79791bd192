/* Helpers shared by the C tests: array comparison with a report of the
 * worst mismatch, a double-precision finite-difference gradient checker,
 * and a counting allocator (through cmocka's leak-checked test_malloc) that
 * can be told to fail its k-th allocation. Include after <cmocka.h>. */
#ifndef GM_TEST_H
#define GM_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"
#include "genmodel/data.h"

/* Fails the test unless |got - want| <= atol + rtol * |want| everywhere. */
void gm_assert_close(const float *got, const double *want, size_t n, double atol, double rtol,
                     const char *what);

/* The same against float expectations (a fixture's). */
void gm_assert_close_f(const float *got, const float *want, size_t n, double atol, double rtol, const char *what);

/* f(x, ctx) is a scalar function of x (n), computed in double. Compares
 * analytic (n), the gradient under test, with central differences. */
typedef double (*gm_scalar_fn)(const double *x, void *ctx);
void gm_check_gradient(gm_scalar_fn f, void *ctx, const double *x, size_t n, const float *analytic,
                       double rtol, double atol, const char *what);

/* Counting allocator: installed with gm_set_allocator. */
typedef struct gm_test_alloc_stats {
    size_t allocs, frees;
    size_t fail_at;   /* 1-based index of the allocation to fail; 0: none */
    int fail_rest;    /* with fail_at: fail every allocation from there on */
} gm_test_alloc_stats;

extern gm_test_alloc_stats gm_test_alloc;
void gm_test_alloc_install(void);
void gm_test_alloc_uninstall(void);
void gm_test_alloc_reset(size_t fail_at);

/* Run scenario with its k-th allocation failing, for k = 1, 2, ... until
 * it succeeds: every earlier run must fail with GM_ERR_NO_MEMORY, explain
 * itself in gm_last_error() and free all it took. Needs the counting
 * allocator installed; returns how many allocations the scenario makes. */
size_t gm_test_alloc_sweep(gm_status (*scenario)(void *ctx), void *ctx);

/* A scratch directory for the running test: made under /tmp, and removed
 * with all it holds (0 when that worked). gm_test_path names a file in
 * it (one of 8 static buffers, in turn, so that a call can take several); gm_test_dir_entries counts what it holds. */
int gm_test_dir_make(void);
int gm_test_dir_remove(void);
const char *gm_test_dir(void);
const char *gm_test_path(const char *name);
size_t gm_test_dir_entries(void);

/* Write size bytes to path, replacing it; a failure fails the test. */
void gm_test_write_file(const char *path, const void *bytes, size_t size);

/* A malloc'd copy of bytes (n) as floats in [0, 1] (bytes / 255): an
 * 8-bit fixture as the library's images; free() it. */
float *gm_test_unit_floats(const uint8_t *bytes, size_t n);

/* st must be want, and gm_last_error() must name who and hold word. */
void gm_test_expect_fail(gm_status st, gm_status want, const char *who, const char *word);

/* Fill x (n) with uniform values in [lo, hi) from a fixed LCG (test data only). */
void gm_test_fill(float *x, size_t n, float lo, float hi, uint32_t seed);

/* Datasets: opening path (options may be NULL) fails with want, leaves
 * *out NULL, and the message names gm_dataset_open and holds word (and
 * word2 unless NULL). */
void gm_test_open_fails(const char *path, const gm_dataset_options *o, gm_status want, const char *word,
                        const char *word2);

/* For gm_test_alloc_sweep: open ctx (a gm_test_opening) and free it. */
typedef struct gm_test_opening {
    const char *path;
    const gm_dataset_options *o;
} gm_test_opening;
gm_status gm_test_open_and_free(void *ctx);

#endif
