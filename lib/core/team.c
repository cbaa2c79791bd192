#define _GNU_SOURCE /* syscall(), sched_getcpu() */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc.h"
#include "blas.h"
#include "error.h"
#include "team.h"

/* A member that waits (for the next job, or at a barrier) spins, then
 * sleeps on a futex. Within a step the jobs and barriers follow each other
 * within microseconds, sooner than a wake-up through the kernel, so
 * spinning wins on an idle machine. On a machine with more threads than
 * cores the member waited for may be queued behind another process, and a
 * spinner holds a core that one of them needs: there the waits are long,
 * and the sooner a waiter sleeps the better (bench/load.sh measures both).
 * So how long waiters spin follows how their recent waits ended: twice as
 * long after a wait that ended while spinning, half as long after one that
 * had to sleep, between SPIN_MIN_NS and SPIN_MAX_NS. A waiter that last saw
 * another member on its own CPU does not spin at all: that member cannot
 * run until it stops (the kernel tends to put a thread it wakes beside its
 * waker when the other cores are busy). */
enum { SPIN_MIN_NS = 2000, SPIN_MAX_NS = 100000, SPINS_PER_CLOCK_READ = 16 };

/* A word members wait on to change, how many of them sleep on it (the one
 * who changes it makes a system call only when someone does), and how long
 * they spin first. */
typedef struct waitword {
    atomic_uint value;
    atomic_int sleepers;
    atomic_int spin_ns;
} waitword;

struct gm_team {
    int size;          /* members: the caller and size - 1 threads */
    int requested;     /* what gm_team_create was asked for */
    pthread_t *threads;
    gm_member *members;
    gm_job *job;
    void *arg;
    atomic_bool quit;
    _Alignas(64) waitword jobs;   /* jobs started: a worker runs the job when it changes */
    _Alignas(64) waitword rounds; /* barriers passed */
    atomic_int arrived;           /* members at the current barrier */
    /* gm_team_run_eager's view of its calls (made by the caller alone) */
    int64_t eager_last_ns;        /* when the last one started */
    int eager_streak;             /* the calls in a row left to the caller while workers slept */
    int eager_trial_every;        /* a streak this long tries to wake them */
    bool eager_trial;             /* the last call was such a try */
    atomic_int cpu[GM_MAX_THREADS]; /* where each member last ran */
};

_Static_assert(sizeof(atomic_uint) == 4, "a futex is a 32-bit word");

static void futex(atomic_uint *word, int op, unsigned value)
{
    syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Notes where the member runs now; true when another member last ran on
 * the same CPU, where a spinner would only keep it from running. */
static bool share_a_cpu(gm_team *t, int rank)
{
    const int mine = sched_getcpu();
    atomic_store_explicit(&t->cpu[rank], mine, memory_order_relaxed);
    if (mine < 0)
        return false;  /* unknown: -1 also marks a member not seen yet */
    for (int r = 0; r < t->size; r++)
        if (r != rank && atomic_load_explicit(&t->cpu[r], memory_order_relaxed) == mine)
            return true;
    return false;
}

/* Returns once w's value is no longer seen. Sequentially consistent: a
 * sleeper counts itself before its last look at the value, and announce()
 * changes the value before it looks at the count, so one of the two sees
 * the other and no wake-up is lost (the futex itself rechecks the value). */
static void await_change(waitword *w, unsigned seen, gm_team *t, int rank)
{
    if (atomic_load_explicit(&w->value, memory_order_acquire) != seen)
        return;
    /* the budget is a hint that members update without order */
    const int budget = share_a_cpu(t, rank) ? 0 : atomic_load_explicit(&w->spin_ns, memory_order_relaxed);
    const int64_t start = now_ns();
    for (unsigned spins = 1; atomic_load_explicit(&w->value, memory_order_acquire) == seen; spins++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (spins % SPINS_PER_CLOCK_READ == 0 && now_ns() - start > budget) {
            if (budget)
                atomic_store_explicit(&w->spin_ns, budget / 2 > SPIN_MIN_NS ? budget / 2 : SPIN_MIN_NS,
                                      memory_order_relaxed);
            atomic_fetch_add(&w->sleepers, 1);
            while (atomic_load(&w->value) == seen)
                futex(&w->value, FUTEX_WAIT_PRIVATE, seen);
            atomic_fetch_sub(&w->sleepers, 1);
            return;
        }
    }
    atomic_store_explicit(&w->spin_ns, budget < SPIN_MAX_NS / 2 ? 2 * budget : SPIN_MAX_NS, memory_order_relaxed);
}

/* Changes w's value and wakes whoever sleeps on it. */
static void announce(waitword *w)
{
    atomic_fetch_add(&w->value, 1);
    if (atomic_load(&w->sleepers) > 0)
        futex(&w->value, FUTEX_WAKE_PRIVATE, INT_MAX);
}

void gm_team_sync(const gm_member *self)
{
    gm_team *t = self->team;
    if (!t)
        return;
    unsigned round = atomic_load(&t->rounds.value);
    if (atomic_fetch_add(&t->arrived, 1) == t->size - 1) {
        atomic_store(&t->arrived, 0);
        announce(&t->rounds);
        return;
    }
    await_change(&t->rounds, round, t, self->rank);
}

static void *worker(void *arg)
{
    const gm_member *self = arg;
    gm_team *t = self->team;
    for (unsigned seen = 0;; seen++) {
        await_change(&t->jobs, seen, t, self->rank);
        share_a_cpu(t, self->rank);  /* it may wake elsewhere */
        if (atomic_load(&t->quit))
            return NULL;
        t->job(self, t->arg);
        gm_team_sync(self);
    }
}

gm_status gm_team_create(int size, gm_team **team, const char *who)
{
    *team = NULL;
    if (size < 2)
        return GM_OK;
    const int requested = size;
    if (size > GM_MAX_THREADS)
        size = GM_MAX_THREADS;
    gm_team *t = gm_calloc(1, sizeof *t);
    pthread_t *threads = gm_calloc((size_t)size, sizeof *threads);
    gm_member *members = gm_calloc((size_t)size, sizeof *members);
    if (!t || !threads || !members) {
        gm_free(t);
        gm_free(threads);
        gm_free(members);
        return gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory for a team of %d threads", who, size);
    }
    t->threads = threads;
    t->members = members;
    t->requested = requested;
    atomic_init(&t->jobs.spin_ns, SPIN_MAX_NS);
    atomic_init(&t->rounds.spin_ns, SPIN_MAX_NS);
    for (int i = 0; i < GM_MAX_THREADS; i++)
        atomic_init(&t->cpu[i], -1);
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
    atomic_store(&t->quit, true);
    announce(&t->jobs);
    for (int i = 1; i < t->size; i++)
        pthread_join(t->threads[i], NULL);
    gm_free(t->threads);
    gm_free(t->members);
    gm_free(t);
}

int gm_team_size(const gm_team *team)
{
    return team ? team->size : 1;
}

gm_status gm_team_fit(gm_team **team, int size, const char *who)
{
    /* a team the system gave fewer threads than asked stays as it is */
    if (*team ? (*team)->requested == size : size < 2)
        return GM_OK;
    gm_team_free(*team);
    return gm_team_create(size, team, who);
}

static int run(gm_team *t, gm_job *job, void *arg, int size)
{
    gm_blas_solo_begin();
    if (size == 1) {
        job(&(gm_member){ .team = NULL, .rank = 0, .size = 1 }, arg);
    } else {
        /* the workers read job and arg after they see jobs change */
        t->job = job;
        t->arg = arg;
        announce(&t->jobs);
        const gm_member self = { .team = t, .rank = 0, .size = size };
        job(&self, arg);
        gm_team_sync(&self);
    }
    gm_blas_solo_end();
    return size;
}

int gm_team_run_sized(gm_team *t, gm_job *job, void *arg, double work)
{
    return run(t, job, arg, t && work >= (double)GM_TEAM_MIN_WORK * t->size ? t->size : 1);
}

/* Calls that follow each other closely while the workers sleep (they fell
 * asleep before the stream began) try, every eager_trial_every calls, to
 * wake them with their spin time at its most, so that they wait for the
 * next call awake. A try that did not keep them awake (a loaded machine)
 * doubles the wait for the next; one that did resets it. */
enum { TRIAL_FIRST = 8, TRIAL_MAX = 1024 };

int gm_team_run_eager(gm_team *t, gm_job *job, void *arg, double work)
{
    if (!t || work < (double)GM_TEAM_MIN_WORK / GM_TEAM_AWAKE_DIVISOR * t->size)
        return run(t, job, arg, 1);
    if (work >= (double)GM_TEAM_MIN_WORK * t->size)
        return run(t, job, arg, t->size);
    const int64_t now = now_ns();
    const bool close = now - t->eager_last_ns < SPIN_MAX_NS;
    t->eager_last_ns = now;
    if (!t->eager_trial_every)
        t->eager_trial_every = TRIAL_FIRST;
    const bool awake = atomic_load(&t->jobs.sleepers) == 0;
    if (t->eager_trial) {
        t->eager_trial = false;
        t->eager_trial_every = awake ? TRIAL_FIRST
                               : t->eager_trial_every < TRIAL_MAX ? 2 * t->eager_trial_every : TRIAL_MAX;
    }
    if (awake) {
        t->eager_streak = 0;
        return run(t, job, arg, t->size);
    }
    if (!close || ++t->eager_streak < t->eager_trial_every)
        return run(t, job, arg, 1);
    t->eager_streak = 0;
    t->eager_trial = true;
    atomic_store_explicit(&t->jobs.spin_ns, SPIN_MAX_NS, memory_order_relaxed);
    return run(t, job, arg, t->size);
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
