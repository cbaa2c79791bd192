/* Checks the model API tests share: bad values planted in an array, a
 * refusal's status and message, and allocation failures told in the
 * public call's terms. Header-only, so each test program still links the
 * public library and tests/common alone. Include after gm_test.h. */
#ifndef GM_TESTS_MODEL_CHECKS_H
#define GM_TESTS_MODEL_CHECKS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genmodel.h"

/* The bad data every call that takes an array must refuse: kinds 0, 1 and
 * 2 put a NaN, +Inf or -Inf at one place, kind 3 makes a whole row NaN
 * (the worst case for anomaly scoring). x (rows, cols) is first filled
 * with good values in [0, 1); *row and *col get the first bad place. */
enum { GM_BAD_KINDS = 4 };
static inline void gm_plant_bad(float *x, int rows, int cols, int kind, uint32_t seed, int *row, int *col)
{
    static const float bad[3] = { NAN, INFINITY, -INFINITY };
    gm_test_fill(x, (size_t)rows * cols, 0.0f, 1.0f, seed);
    if (kind == 3) {
        *row = rows / 2, *col = 0;
        for (int c = 0; c < cols; c++)
            x[*row * cols + c] = NAN;
    } else {
        *row = rows - 1 - kind, *col = (5 * kind + 1) % cols;
        x[*row * cols + *col] = bad[kind];
    }
}

/* s is GM_ERR_INVALID_ARG, and the message starts with "who: " and holds want */
static inline void gm_expect_refused(gm_status s, const char *who, const char *want)
{
    const char *msg = gm_last_error();
    if (s != GM_ERR_INVALID_ARG || strncmp(msg, who, strlen(who)) != 0 || msg[strlen(who)] != ':' ||
        !strstr(msg, want))
        fail_msg("status %d, '%s': wanted %s's refusal naming '%s'", (int)s, msg, who, want);
}

/* Every allocation failure of scenario, on one thread (a team's own
 * message is lib/core/team.c's), is told by a public call whose name
 * starts with prefix. Needs the counting allocator. */
static gm_status (*gm_named_scenario)(void *ctx);
static const char *gm_named_prefix;

static gm_status gm_named_run(void *ctx)
{
    gm_status s = gm_named_scenario(ctx);
    if (s != GM_OK && strncmp(gm_last_error(), gm_named_prefix, strlen(gm_named_prefix)) != 0)
        fail_msg("'%s' does not name the public call", gm_last_error());
    return s;
}

static inline void gm_expect_oom_named(gm_status (*scenario)(void *ctx), const char *prefix)
{
    const int32_t threads = gm_get_num_threads();
    gm_named_scenario = scenario;
    gm_named_prefix = prefix;
    assert_int_equal(gm_set_num_threads(1), GM_OK);
    assert_true(gm_test_alloc_sweep(gm_named_run, NULL) > 3);
    assert_int_equal(gm_set_num_threads(threads), GM_OK);
}

/* A handle's first call of a kind makes its workspace. With each of those
 * allocations refused in turn, call(h, which, out) fails with
 * GM_ERR_NO_MEMORY in who's name and writes none of out's bytes; the same
 * handle's next call, and the one that gets all it asks, write what the
 * call writes on a twin that never failed: no random state moved. make
 * gives a fresh handle and drop frees it. Needs the counting allocator. */
static inline void gm_expect_first_call_oom(void *(*make)(void), void (*drop)(void *),
                                            gm_status (*call)(void *h, int which, void *out), int which,
                                            size_t bytes, const char *who)
{
    const int32_t threads = gm_get_num_threads();
    assert_int_equal(gm_set_num_threads(1), GM_OK);   /* a team's own allocations are not the call's */
    unsigned char *out = malloc(bytes), *want = malloc(bytes);
    assert_true(out && want);
    memset(want, 0xa5, bytes);
    void *twin = make();
    assert_int_equal(call(twin, which, want), GM_OK);
    drop(twin);
    size_t k;
    for (k = 1;; k++) {
        void *h = make();
        memset(out, 0xa5, bytes);
        gm_test_alloc_reset(k);
        gm_status s = call(h, which, out);
        const int refused = gm_test_alloc.allocs >= k;
        gm_test_alloc_reset(0);
        if (refused) {
            const char *msg = gm_last_error();
            if (s != GM_ERR_NO_MEMORY || strncmp(msg, who, strlen(who)) != 0 || msg[strlen(who)] != ':')
                fail_msg("allocation %zu refused: status %d, '%s': wanted %s's GM_ERR_NO_MEMORY", k, (int)s, msg,
                         who);
            for (size_t i = 0; i < bytes; i++)
                if (out[i] != 0xa5)
                    fail_msg("allocation %zu refused: %s wrote byte %zu of its output", k, who, i);
            s = call(h, which, out);
        }
        assert_int_equal(s, GM_OK);
        assert_memory_equal(out, want, bytes);
        drop(h);
        if (!refused)
            break;
    }
    assert_true(k > 1);   /* it did allocate */
    free(out);
    free(want);
    assert_int_equal(gm_set_num_threads(threads), GM_OK);
}

#endif
