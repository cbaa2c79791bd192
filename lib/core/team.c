#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "alloc.h"
#include "blas.h"
#include "error.h"
#include "team.h"

/* Members wait by spinning, since a step's jobs follow each other within
 * microseconds and a wake-up through the kernel costs more than that; a
 * spinner yields now and then so that an oversubscribed machine (a test
 * run) still moves, and an idle worker sleeps after about a millisecond. */
enum { SPINS_BEFORE_YIELD = 1 << 12, SPINS_BEFORE_SLEEP = 1 << 16 };

struct gm_team {
    int size;          /* members: the caller and size - 1 threads */
    int requested;     /* what gm_team_create was asked for */
    pthread_t *threads;
    gm_member *members;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    gm_job *job;
    void *arg;
    bool quit;
    atomic_uint jobs;  /* jobs started: a worker runs the job when it changes */
    /* the barrier, on a line of its own */
    _Alignas(64) atomic_int arrived;
    atomic_uint rounds;
};

static void relax(unsigned spins)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (spins % SPINS_BEFORE_YIELD == SPINS_BEFORE_YIELD - 1)
        sched_yield();
}

void gm_team_sync(const gm_member *self)
{
    gm_team *t = self->team;
    if (!t)
        return;
    unsigned round = atomic_load(&t->rounds);
    if (atomic_fetch_add(&t->arrived, 1) == t->size - 1) {
        atomic_store(&t->arrived, 0);
        atomic_fetch_add(&t->rounds, 1);
        return;
    }
    for (unsigned spins = 0; atomic_load(&t->rounds) == round; spins++)
        relax(spins);
}

static void *worker(void *arg)
{
    const gm_member *self = arg;
    gm_team *t = self->team;
    unsigned seen = 0;
    for (;;) {
        unsigned spins = 0;
        while (atomic_load(&t->jobs) == seen && spins < SPINS_BEFORE_SLEEP)
            relax(spins++);
        pthread_mutex_lock(&t->lock);
        while (atomic_load(&t->jobs) == seen && !t->quit)
            pthread_cond_wait(&t->wake, &t->lock);
        bool quit = t->quit;
        pthread_mutex_unlock(&t->lock);
        if (quit)
            return NULL;
        seen++;
        t->job(self, t->arg);
        gm_team_sync(self);
    }
}

gm_status gm_team_create(int size, gm_team **team)
{
    *team = NULL;
    if (size < 2)
        return GM_OK;
    gm_team *t = gm_calloc(1, sizeof *t);
    pthread_t *threads = gm_calloc((size_t)size, sizeof *threads);
    gm_member *members = gm_calloc((size_t)size, sizeof *members);
    if (!t || !threads || !members) {
        gm_free(t);
        gm_free(threads);
        gm_free(members);
        return gm_fail(GM_ERR_NO_MEMORY, "cannot allocate a team of %d threads", size);
    }
    t->threads = threads;
    t->members = members;
    t->requested = size;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    /* a worker reads its record only in a job, so the size can still shrink
     * to the threads the system grants */
    int started = 1;
    for (; started < size; started++) {
        members[started] = (gm_member){ .team = t, .rank = started, .size = size };
        if (pthread_create(&threads[started], NULL, worker, &members[started]) != 0)
            break;
    }
    for (int i = 1; i < started; i++)
        members[i].size = started;
    t->size = started;
    *team = t;
    return GM_OK;
}

void gm_team_free(gm_team *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->quit = true;
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    for (int i = 1; i < t->size; i++)
        pthread_join(t->threads[i], NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    gm_free(t->threads);
    gm_free(t->members);
    gm_free(t);
}

int gm_team_size(const gm_team *team)
{
    return team ? team->size : 1;
}

gm_status gm_team_fit(gm_team **team, int size)
{
    /* a team the system gave fewer threads than asked stays as it is */
    if (*team ? (*team)->requested == size : size < 2)
        return GM_OK;
    gm_team_free(*team);
    return gm_team_create(size, team);
}

void gm_team_run(gm_team *t, gm_job *job, void *arg)
{
    if (!t || t->size == 1) {
        job(&(gm_member){ .team = NULL, .rank = 0, .size = 1 }, arg);
        return;
    }
    gm_blas_solo_begin();
    pthread_mutex_lock(&t->lock);
    t->job = job;
    t->arg = arg;
    atomic_fetch_add(&t->jobs, 1);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    const gm_member self = { .team = t, .rank = 0, .size = t->size };
    job(&self, arg);
    gm_team_sync(&self);
    gm_blas_solo_end();
}

void gm_team_share(const gm_member *self, int n, int *begin, int *end)
{
    /* the split points n * r / size, rounded to the nearest multiple of 16 */
    int at[2];
    for (int k = 0; k < 2; k++) {
        int r = self->rank + k;
        int p = r >= self->size ? n : (int)((long long)n * r / self->size + 8) / 16 * 16;
        at[k] = p < n ? p : n;
    }
    *begin = at[0];
    *end = at[1];
}
