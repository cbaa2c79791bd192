/* The common public API, through the shared library only: status names,
 * the thread-local error detail, versions, BLAS threads, allocator checks. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "genmodel.h"

static void test_strerror(void **state)
{
    (void)state;
    for (int s = GM_OK; s <= GM_ERR_UNSUPPORTED; s++) {
        assert_non_null(gm_strerror((gm_status)s));
        assert_string_not_equal(gm_strerror((gm_status)s), "unknown status");
    }
    assert_string_equal(gm_strerror((gm_status)99), "unknown status");
    assert_string_equal(gm_strerror((gm_status)-1), "unknown status");
    /* the values are ABI: bindings depend on them */
    assert_int_equal(GM_ERR_NUMERIC, 8);
    assert_int_equal(GM_ERR_UNSUPPORTED, 9);
}

static void *other_thread_error(void *seen)
{
    strncpy(seen, gm_last_error(), 63);
    return NULL;
}

static void test_last_error_is_thread_local(void **state)
{
    (void)state;
    assert_non_null(gm_last_error());
    assert_int_equal(gm_set_num_threads(0), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_set_num_threads"));
    char seen[64] = "unset";
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, other_thread_error, seen), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_string_equal(seen, "");
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(gm_version(), GM_VERSION_NUMBER);
    assert_string_equal(gm_version_string(), GM_VERSION_STRING);
    assert_int_equal(GM_VERSION_NUMBER, GM_VERSION_MAJOR * 10000 + GM_VERSION_MINOR * 100 + GM_VERSION_PATCH);
}

static void test_threads(void **state)
{
    (void)state;
    int32_t before = gm_get_num_threads();
    assert_int_equal(gm_set_num_threads(1), GM_OK);
    assert_int_equal(gm_get_num_threads(), 1);
    assert_int_equal(gm_set_num_threads(-3), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_get_num_threads(), 1);
    assert_int_equal(gm_set_num_threads(100000), GM_OK);
    assert_int_equal(gm_get_num_threads(), GM_MAX_THREADS);
    assert_int_equal(gm_set_num_threads(before), GM_OK);
}

static void *never_alloc(void *user, size_t size) { (void)user; (void)size; return NULL; }
static void never_free(void *user, void *ptr) { (void)user; (void)ptr; }

static void test_allocator_arguments(void **state)
{
    (void)state;
    gm_allocator a = { sizeof a - 1, never_alloc, never_free, NULL };
    assert_int_equal(gm_set_allocator(&a), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "struct_size"));
    a.struct_size = sizeof a;
    a.free = NULL;
    assert_int_equal(gm_set_allocator(&a), GM_ERR_INVALID_ARG);
    a.free = never_free;
    assert_int_equal(gm_set_allocator(&a), GM_OK);
    assert_int_equal(gm_set_allocator(NULL), GM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_last_error_is_thread_local),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_allocator_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
