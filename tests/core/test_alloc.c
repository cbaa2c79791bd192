/* The allocator wrapper: 64-byte aligned blocks through the caller's hook,
 * calloc's zeros, and the sizes it refuses (0, and any whose bookkeeping
 * or product would overflow) before the hook is asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "gm_test.h"

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static void test_blocks(void **state)
{
    (void)state;
    unsigned char *a = gm_malloc(1);
    unsigned char *z = gm_calloc(100, 3);
    float *f = gm_alloc_floats(5);
    assert_true(a && z && f);
    assert_true((uintptr_t)a % GM_ALIGN == 0 && (uintptr_t)z % GM_ALIGN == 0 && (uintptr_t)f % GM_ALIGN == 0);
    for (int i = 0; i < 300; i++)
        assert_int_equal(z[i], 0);
    for (int i = 0; i < 5; i++)
        assert_true(f[i] == 0.0f);
    a[0] = 1;   /* every byte asked for is there (ASan checks) */
    f[4] = 1.0f;
    assert_int_equal(gm_test_alloc.allocs, 3);
    gm_free(a);
    gm_free(z);
    gm_free(f);
    gm_free(NULL);
    assert_int_equal(gm_test_alloc.frees, 3);
}

static void test_refused_sizes(void **state)
{
    (void)state;
    assert_null(gm_malloc(0));
    assert_null(gm_malloc(SIZE_MAX));
    assert_null(gm_malloc(SIZE_MAX - GM_ALIGN));   /* the padding and the hook's pointer would overflow */
    assert_null(gm_calloc(0, 4));
    assert_null(gm_calloc(4, 0));
    assert_null(gm_calloc(SIZE_MAX / 2, 3));
    assert_null(gm_calloc((SIZE_MAX >> 4) + 1, 16));
    assert_null(gm_alloc_floats(SIZE_MAX / 2));
    assert_int_equal(gm_test_alloc.allocs, 0);   /* none reached the hook */

    /* the hook's own refusal is passed on, and nothing is counted live */
    gm_test_alloc_reset(1);
    assert_null(gm_calloc(8, 8));
    assert_int_equal(gm_test_alloc.allocs, 1);
    assert_int_equal(gm_test_alloc.frees, 0);
    assert_int_equal(gm_set_allocator(NULL), GM_OK);   /* no block of the hook's is live */
    gm_test_alloc_install();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_sizes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
