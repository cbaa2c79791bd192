/* The thread team: shares that tile their range on cache-line bounds, every
 * member running every job once, barriers that order writes (members that
 * slept while they waited included), small jobs left to the caller alone,
 * OpenBLAS's thread count given back, and a failed allocation reported
 * cleanly. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include <cmocka.h>

#include "core/team.h"
#include "gm_test.h"

static void test_shares_tile_the_range(void **state)
{
    (void)state;
    const int sizes[] = { 0, 1, 15, 16, 17, 40, 400, 784, 1000 };
    for (int size = 1; size <= 5; size++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            int n = sizes[k], next = 0;
            for (int rank = 0; rank < size; rank++) {
                const gm_member m = { NULL, rank, size };
                int begin, end;
                gm_team_share(&m, n, &begin, &end);
                assert_int_equal(begin, next);
                assert_true(end >= begin);
                assert_true(end == n || end % 16 == 0);
                next = end;
            }
            assert_int_equal(next, n);
        }
    /* balanced up to a cache line where the range allows it */
    const gm_member first = { NULL, 0, 2 };
    int begin, end;
    gm_team_share(&first, 784, &begin, &end);
    assert_int_equal(end, 400);
}

enum { MAX_MEMBERS = 4, ROUNDS = 200 };

typedef struct {
    int runs[MAX_MEMBERS];
    int size_seen[MAX_MEMBERS];
    int slot[MAX_MEMBERS];
    int mismatches;
    int late_ms;  /* one member, another each round, arrives this late */
} tally;

static void pause_ms(int ms)
{
    struct timespec t = { 0, ms * 1000000L };
    nanosleep(&t, NULL);
}

/* each round, every member writes its slot, waits, and checks all slots */
static void barrier_job(const gm_member *self, void *arg)
{
    tally *t = arg;
    t->runs[self->rank]++;
    t->size_seen[self->rank] = self->size;
    for (int round = 1; round <= (t->late_ms ? 4 : ROUNDS); round++) {
        if (t->late_ms && round % self->size == self->rank)
            pause_ms(t->late_ms);
        t->slot[self->rank] = round;
        gm_team_sync(self);
        for (int r = 0; r < self->size; r++)
            if (t->slot[r] != round)
                __atomic_fetch_add(&t->mismatches, 1, __ATOMIC_RELAXED);
        gm_team_sync(self);
    }
}

static void test_every_member_runs_every_job(void **state)
{
    (void)state;
    for (int size = 1; size <= MAX_MEMBERS; size++) {
        gm_team *team;
        assert_int_equal(gm_team_create(size, &team, "test"), GM_OK);
        assert_int_equal(gm_team_size(team), size);
        assert_true(size > 1 || team == NULL);
        tally t = { 0 };
        for (int job = 0; job < 5; job++)
            gm_team_run(team, barrier_job, &t);
        for (int r = 0; r < size; r++) {
            assert_int_equal(t.runs[r], 5);
            assert_int_equal(t.size_seen[r], size);
        }
        for (int r = size; r < MAX_MEMBERS; r++)
            assert_int_equal(t.runs[r], 0);
        assert_int_equal(t.mismatches, 0);
        gm_team_free(team);
    }
}

static void test_members_that_sleep_are_woken(void **state)
{
    (void)state;
    for (int size = 2; size <= 3; size++) {
        gm_team *team;
        assert_int_equal(gm_team_create(size, &team, "test"), GM_OK);
        tally t = { 0 };
        for (int job = 0; job < 6; job++) {
            pause_ms(3);  /* idle: the workers sleep until the next job */
            t.late_ms = job % 2 ? 0 : 3;  /* long enough that the others sleep */
            gm_team_run(team, barrier_job, &t);
        }
        for (int r = 0; r < size; r++)
            assert_int_equal(t.runs[r], 6);
        assert_int_equal(t.mismatches, 0);
        gm_team_free(team);
    }
}

typedef struct {
    pthread_t thread[MAX_MEMBERS];
    gm_team *team[MAX_MEMBERS];
    int size[MAX_MEMBERS];
} whereabouts;

static void note_where(const gm_member *self, void *arg)
{
    whereabouts *w = arg;
    w->thread[self->rank] = pthread_self();
    w->team[self->rank] = self->team;
    w->size[self->rank] = self->size;
}

/* a team of p splits work of p * GM_TEAM_MIN_WORK and more; less runs on
 * the calling thread as a team of one */
static void test_small_work_runs_on_the_caller_alone(void **state)
{
    (void)state;
    for (int size = 2; size <= 3; size++) {
        gm_team *team;
        assert_int_equal(gm_team_create(size, &team, "test"), GM_OK);
        whereabouts w = { 0 };
        assert_int_equal(gm_team_run_sized(team, note_where, &w, (double)size * GM_TEAM_MIN_WORK - 1.0), 1);
        assert_true(pthread_equal(w.thread[0], pthread_self()));
        assert_null(w.team[0]);
        assert_int_equal(w.size[0], 1);
        assert_int_equal(w.size[1], 0);
        assert_int_equal(gm_team_run_sized(team, note_where, &w, (double)size * GM_TEAM_MIN_WORK), size);
        for (int r = 0; r < size; r++) {
            assert_ptr_equal(w.team[r], team);
            assert_int_equal(w.size[r], size);
        }
        assert_true(pthread_equal(w.thread[0], pthread_self()));
        assert_false(pthread_equal(w.thread[1], pthread_self()));
        gm_team_free(team);
    }
    whereabouts w = { 0 };
    assert_int_equal(gm_team_run_sized(NULL, note_where, &w, 1e30), 1);
    assert_int_equal(w.size[0], 1);
}

static void note_blas_threads(const gm_member *self, void *arg)
{
    ((int *)arg)[self->rank] = openblas_get_num_threads();
}

static void test_openblas_is_solo_inside_and_restored_after(void **state)
{
    (void)state;
    const int before = openblas_get_num_threads();
    openblas_set_num_threads(2);
    gm_team *team;
    assert_int_equal(gm_team_create(2, &team, "test"), GM_OK);
    int seen[2] = { 0, 0 };
    gm_team_run(team, note_blas_threads, seen);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 1);
    assert_int_equal(openblas_get_num_threads(), 2);
    gm_team_free(team);
    /* on the caller alone too: a one-thread handle calls OpenBLAS on one */
    seen[0] = 0;
    gm_team_run(NULL, note_blas_threads, seen);
    assert_int_equal(seen[0], 1);
    assert_int_equal(openblas_get_num_threads(), 2);
    openblas_set_num_threads(before);
}

static void test_fit_replaces_a_team_of_another_size(void **state)
{
    (void)state;
    gm_team *team = NULL;
    assert_int_equal(gm_team_fit(&team, 3, "test"), GM_OK);
    assert_int_equal(gm_team_size(team), 3);
    gm_team *same = team;
    assert_int_equal(gm_team_fit(&team, 3, "test"), GM_OK);
    assert_ptr_equal(team, same);
    assert_int_equal(gm_team_fit(&team, 1, "test"), GM_OK);
    assert_null(team);
    assert_int_equal(gm_team_size(team), 1);
}

static gm_status create_a_team(void *ctx)
{
    (void)ctx;
    gm_team *team;
    gm_status s = gm_team_create(3, &team, "gm_caller");
    if (s != GM_OK)   /* the message names the public call that wanted the team */
        assert_int_equal(strncmp(gm_last_error(), "gm_caller: ", 11), 0);
    gm_team_free(team);
    return s;
}

static void test_every_allocation_failure(void **state)
{
    (void)state;
    gm_test_alloc_install();
    assert_true(gm_test_alloc_sweep(create_a_team, NULL) >= 1);
    gm_test_alloc_uninstall();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shares_tile_the_range),
        cmocka_unit_test(test_every_member_runs_every_job),
        cmocka_unit_test(test_members_that_sleep_are_woken),
        cmocka_unit_test(test_small_work_runs_on_the_caller_alone),
        cmocka_unit_test(test_openblas_is_solo_inside_and_restored_after),
        cmocka_unit_test(test_fit_replaces_a_team_of_another_size),
        cmocka_unit_test(test_every_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
