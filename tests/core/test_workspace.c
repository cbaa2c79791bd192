/* The workspace: aligned disjoint slots, growth only when a request needs
 * more, and a failed growth that leaves everything as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/workspace.h"
#include "gm_test.h"

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static void test_carve_and_reuse(void **state)
{
    (void)state;
    gm_workspace ws = { 0 };
    float *a = NULL, *b = NULL;
    float **slots[2] = { &a, &b };
    size_t big[2] = { 100, 3 }, small[2] = { 50, 1 };
    assert_int_equal(gm_ws_carve(&ws, 2, slots, big, "t"), GM_OK);
    assert_int_equal(gm_test_alloc.allocs, 1);
    assert_true((uintptr_t)a % 64 == 0 && (uintptr_t)b % 64 == 0);
    assert_true(b >= a + 100);
    for (int i = 0; i < 100; i++)
        a[i] = 1.0f;
    b[2] = 2.0f;  /* every slot is writable to its end (ASan checks) */
    assert_int_equal(gm_ws_carve(&ws, 2, slots, small, "t"), GM_OK);
    assert_int_equal(gm_ws_carve(&ws, 2, slots, big, "t"), GM_OK);
    assert_int_equal(gm_test_alloc.allocs, 1);

    size_t bigger[2] = { 1000, 3 };
    gm_test_alloc_reset(1);
    float *old_a = a;
    assert_int_equal(gm_ws_carve(&ws, 2, slots, bigger, "t"), GM_ERR_NO_MEMORY);
    assert_string_equal(gm_last_error(), "t: out of memory: cannot allocate 4096 bytes of workspace");
    assert_ptr_equal(a, old_a);
    gm_test_alloc_reset(0);
    assert_int_equal(gm_ws_carve(&ws, 2, slots, bigger, "t"), GM_OK);
    a[999] = 1.0f;
    gm_ws_free(&ws);
    assert_null(ws.base);
}

/* Sizes whose total in bytes would overflow are refused before anything
 * is allocated, and the slots keep what they held. */
static void test_sizes_that_overflow(void **state)
{
    (void)state;
    gm_workspace ws = { 0 };
    float *a = NULL, *b = NULL;
    float **slots[2] = { &a, &b };
    size_t ok[2] = { 10, 10 };
    assert_int_equal(gm_ws_carve(&ws, 2, slots, ok, "t"), GM_OK);
    float *const was_a = a, *const was_b = b;
    const size_t cases[][2] = {
        { SIZE_MAX, 1 },                        /* rounding one slot up to a line wraps */
        { SIZE_MAX / 8, SIZE_MAX / 8 },         /* each fits, the two in bytes do not */
        { 1, SIZE_MAX / sizeof(float) },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(gm_ws_carve(&ws, 2, slots, cases[i], "gm_x_step"), GM_ERR_NO_MEMORY);
        assert_string_equal(gm_last_error(), "gm_x_step: out of memory: the workspace's size overflows");
        assert_ptr_equal(a, was_a);
        assert_ptr_equal(b, was_b);
    }
    assert_int_equal(gm_test_alloc.allocs, 1);
    gm_ws_free(&ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_carve_and_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sizes_that_overflow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
