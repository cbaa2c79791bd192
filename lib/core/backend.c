/* Which backend runs the products: gm_set_backend's choice, else the one
 * GM_BACKEND names (read once, when first needed), else the build's
 * default, oneDNN when the build has it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"

static const gm_backend *const backends[] = {
#ifdef GM_HAVE_ONEDNN
    &gm_backend_onednn,
#endif
    &gm_backend_openblas,
};
enum { N_BACKENDS = sizeof backends / sizeof *backends };

/* NULL until the first product or call below: every product reads it */
static _Atomic(const gm_backend *) current;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static const gm_backend *find(const char *name)
{
    for (int i = 0; i < N_BACKENDS; i++)
        if (!strcmp(backends[i]->name, name))
            return backends[i];
    return NULL;
}

/* A name this build lacks, or none, leaves the default: the library never
 * fails a product over an environment variable (genmodel --version shows
 * what is in use). */
static void read_env(void)
{
    const char *name = getenv("GM_BACKEND");
    const gm_backend *b = name ? find(name) : NULL;
    atomic_store(&current, b ? b : backends[0]);
}

const gm_backend *gm_backend_current(void)
{
    const gm_backend *b = atomic_load_explicit(&current, memory_order_acquire);
    if (b)
        return b;
    pthread_once(&env_once, read_env);
    return atomic_load(&current);
}

gm_status gm_set_backend(const char *name)
{
    if (!name)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_set_backend: name is NULL");
    const gm_backend *b = find(name);
    if (!b) {
        if (!strcmp(name, "onednn"))
            return gm_fail(GM_ERR_UNSUPPORTED, "gm_set_backend: this build has no oneDNN (-Donednn)");
        return gm_fail(GM_ERR_INVALID_ARG, "gm_set_backend: no backend is called '%s' (openblas, onednn)", name);
    }
    /* read the environment first, so that it cannot override this later */
    pthread_once(&env_once, read_env);
    atomic_store(&current, b);
    return GM_OK;
}

void gm_backend_install(const gm_backend *b)
{
    pthread_once(&env_once, read_env);
    atomic_store(&current, b);
}

const char *gm_backend_name(void)
{
    return gm_backend_current()->name;
}
