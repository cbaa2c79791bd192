#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "gm_test.h"
#include "genmodel.h"

void gm_assert_close(const float *got, const double *want, size_t n, double atol, double rtol,
                     const char *what)
{
    size_t bad = 0, worst = 0;
    double worst_excess = 0.0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        double tol = atol + rtol * fabs(want[i]);
        if (!(err <= tol)) {
            if (!bad || err - tol > worst_excess) {
                worst_excess = err - tol;
                worst = i;
            }
            bad++;
        }
    }
    if (bad)
        fail_msg("%s: %zu of %zu values off; worst at %zu: got %.9g, want %.9g", what, bad, n,
                 worst, (double)got[worst], want[worst]);
}

void gm_assert_close_f(const float *got, const float *want, size_t n, double atol, double rtol, const char *what)
{
    double *w = malloc(n * sizeof *w);
    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        w[i] = want[i];
    gm_assert_close(got, w, n, atol, rtol, what);
    free(w);
}

void gm_check_gradient(gm_scalar_fn f, void *ctx, const double *x, size_t n, const float *analytic,
                       double rtol, double atol, const char *what)
{
    double *xp = malloc(n * sizeof *xp), *numeric = malloc(n * sizeof *numeric);
    assert_non_null(xp);
    assert_non_null(numeric);
    for (size_t i = 0; i < n; i++)
        xp[i] = x[i];
    for (size_t i = 0; i < n; i++) {
        double h = 1e-6 * fmax(1.0, fabs(x[i]));
        xp[i] = x[i] + h;
        double up = f(xp, ctx);
        xp[i] = x[i] - h;
        double down = f(xp, ctx);
        xp[i] = x[i];
        numeric[i] = (up - down) / (2.0 * h);
    }
    gm_assert_close(analytic, numeric, n, atol, rtol, what);
    free(xp);
    free(numeric);
}

gm_test_alloc_stats gm_test_alloc;

static void *counting_alloc(void *user, size_t size)
{
    (void)user;
    size_t k = ++gm_test_alloc.allocs;
    if (gm_test_alloc.fail_at && (k == gm_test_alloc.fail_at ||
                                  (gm_test_alloc.fail_rest && k > gm_test_alloc.fail_at)))
        return NULL;
    return test_malloc(size);
}

static void counting_free(void *user, void *ptr)
{
    (void)user;
    gm_test_alloc.frees++;
    test_free(ptr);
}

void gm_test_alloc_install(void)
{
    gm_allocator a = { sizeof a, counting_alloc, counting_free, NULL };
    gm_test_alloc_reset(0);
    assert_int_equal(gm_set_allocator(&a), GM_OK);
}

void gm_test_alloc_uninstall(void)
{
    assert_int_equal(gm_set_allocator(NULL), GM_OK);
}

void gm_test_alloc_reset(size_t fail_at)
{
    gm_test_alloc.allocs = gm_test_alloc.frees = 0;
    gm_test_alloc.fail_at = fail_at;
    gm_test_alloc.fail_rest = 0;
}

size_t gm_test_alloc_sweep(gm_status (*scenario)(void *ctx), void *ctx)
{
    for (size_t k = 1;; k++) {
        gm_test_alloc_reset(k);
        gm_status s = scenario(ctx);
        if (gm_test_alloc.allocs < k) {  /* it ran to the end without reaching k */
            assert_int_equal(s, GM_OK);
            assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
            return gm_test_alloc.allocs;
        }
        assert_int_equal(s, GM_ERR_NO_MEMORY);
        assert_true(gm_last_error()[0] != '\0');
        assert_int_equal(gm_test_alloc.allocs - 1, gm_test_alloc.frees);
    }
}

static char test_dir[256];

int gm_test_dir_make(void)
{
    /* under TMPDIR, as mktemp(1) would; /tmp without one */
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(test_dir, sizeof test_dir, "%s/gm-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return n > 0 && (size_t)n < sizeof test_dir && mkdtemp(test_dir) ? 0 : -1;
}

int gm_test_dir_remove(void)
{
    DIR *d = opendir(test_dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(gm_test_path(e->d_name));
    if (d)
        closedir(d);
    return rmdir(test_dir);
}

const char *gm_test_dir(void)
{
    return test_dir;
}

const char *gm_test_path(const char *name)
{
    static char paths[8][512];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof paths[0], "%s/%s", test_dir, name);
    return path;
}

size_t gm_test_dir_entries(void)
{
    size_t n = 0;
    DIR *d = opendir(test_dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

void gm_test_fill(float *x, size_t n, float lo, float hi, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
    }
}

float *gm_test_unit_floats(const uint8_t *bytes, size_t n)
{
    float *f = malloc(n * sizeof *f);
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)bytes[i] / 255.0f;
    return f;
}

void gm_test_expect_fail(gm_status st, gm_status want, const char *who, const char *word)
{
    if (st != want)
        fail_msg("got status %d (%s), want %d", st, gm_last_error(), want);
    if (!strstr(gm_last_error(), who) || !strstr(gm_last_error(), word))
        fail_msg("message \"%s\" should name %s and say '%s'", gm_last_error(), who, word);
}

void gm_test_write_file(const char *path, const void *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

void gm_test_open_fails(const char *path, const gm_dataset_options *o, gm_status want, const char *word,
                        const char *word2)
{
    gm_dataset *ds = (gm_dataset *)&ds;
    gm_status st = gm_dataset_open(path, o, &ds);
    if (st != want)
        fail_msg("opening %s: status %d (%s), want %d", path, st, gm_last_error(), want);
    assert_null(ds);
    const char *msg = gm_last_error();
    if (!strstr(msg, "gm_dataset_open") || !strstr(msg, word) || (word2 && !strstr(msg, word2)))
        fail_msg("message \"%s\" should name gm_dataset_open and say '%s' '%s'", msg, word, word2 ? word2 : "");
}

gm_status gm_test_open_and_free(void *ctx)
{
    const gm_test_opening *c = ctx;
    gm_dataset *ds = (gm_dataset *)&ds;
    gm_status st = gm_dataset_open(c->path, c->o, &ds);
    if (st != GM_OK)
        assert_null(ds);
    gm_dataset_free(st == GM_OK ? ds : NULL);
    return st;
}
