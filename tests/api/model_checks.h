/* Checks the model API tests share: bad values planted in an array, a
 * refusal's status and message, and allocation failures told in the
 * public call's terms. Header-only, so each test program still links the
 * public library and tests/common alone. Include after gm_test.h. */
#ifndef GM_TESTS_MODEL_CHECKS_H
#define GM_TESTS_MODEL_CHECKS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
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

#endif
