/** @file
 * libgenmodel common API: status codes, error detail, version, threads,
 * the allocator hook, and the enums and optimizer settings shared by every
 * model. Everything here is process-wide unless it says otherwise.
 *
 * The rules every public function keeps (docs/conventions.md has the long
 * version); a function's own comment says where it differs.
 *
 * Ownership. The caller owns every array and string it passes: inputs are
 * read during the call only, outputs are written before it returns, and
 * the library keeps no pointer to either. The two pointers it does keep
 * are an all-reduce hook's ctx (gm_vae_set_allreduce,
 * gm_gan_set_allreduce) and an allocator's user (gm_set_allocator), until
 * they are replaced. Output arrays may not overlap input arrays. A handle
 * (gm_vae, gm_gan, gm_dataset) comes from a create, load or open call,
 * which writes it to *out, and belongs to the caller, who releases it with
 * its _free (NULL is a no-op); a buffer from gm_vae_save_buffer or
 * gm_gan_save_buffer is released with gm_buffer_free, never with free().
 * All of these are allocated through the allocator hook. No call returns a
 * pointer into a handle. The strings the library returns are its own and
 * are never freed: gm_strerror, gm_version_string and gm_backend_name give
 * static text, gm_last_error a per-thread buffer, gm_config_field_get
 * static names.
 *
 * Arrays are row-major (C order) and dense: an (n, d) array is n rows of
 * d values, n * d in all. Samples, latent codes and noise are float,
 * labels and indices int32_t, per-sample estimates and scores double;
 * each header gives every pointer's shape in terms of n and its config's
 * sizes.
 *
 * Failure. Every call that can fail returns a gm_status, and
 * gm_last_error() then says why; the library never aborts, exits or
 * prints. A NULL handle, a NULL pointer a call needs, or a count below
 * its minimum is GM_ERR_INVALID_ARG. Unless a function's comment says
 * otherwise, a failed call leaves things as they were: a create, load or
 * open sets *out to NULL (when out is not NULL) and holds no memory; no
 * output array or struct is written (arguments and inputs are checked,
 * whole, before any work); a handle keeps its weights, optimizer state,
 * random state and whatever it had fitted. The calls that can leave
 * something partly done say so (some of the image and dataset writers,
 * gm_vae_score_as with GM_SCORE_COMPLEXITY).
 *
 * Threads.
 * - A model handle (gm_vae, gm_gan) takes one call at a time: calls on
 *   the same handle from several threads must be serialized by the
 *   caller. Different handles may be used from different threads at once,
 *   with no locking between them.
 * - A dataset is only read once loaded: any number of threads may use one
 *   at once; gm_dataset_free comes after all of them.
 * - gm_last_error() is per thread.
 * - Calls that take no handle (config and options inits, field
 *   descriptions, checkpoint peeks and loads, dataset loaders and writers,
 *   gm_strerror, the version, gm_have_png) keep no state between calls
 *   but the allocator hook's and the error detail, and may run on any
 *   thread at any time (two writers of one path race as two programs
 *   would).
 * - The process-wide settings: gm_set_num_threads and gm_get_num_threads
 *   are thread-safe; gm_set_backend is thread-safe but reaches handles at
 *   work too, so set it between steps; gm_set_allocator is not
 *   thread-safe: call it before anything is allocated, while no other
 *   thread is in the library. */
#ifndef GENMODEL_COMMON_H
#define GENMODEL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

/** Marks a declaration as part of the library's exported API (the
 * symbols in tests/api/symbols.txt); empty where the compiler has no
 * visibility control. */
#if defined(_WIN32)
#  if defined(GM_BUILDING)
#    define GM_API __declspec(dllexport)
#  else
#    define GM_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define GM_API __attribute__((visibility("default")))
#else
#  define GM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Result of every fallible call. The values are fixed forever and never
 * reused; bindings map each to an exception class. */
typedef enum gm_status {
    GM_OK = 0,
    GM_ERR_INVALID_ARG = 1,  /**< NULL, zero size, out-of-range value, wrong struct_size */
    GM_ERR_NO_MEMORY = 2,    /**< the allocator returned NULL, or a size overflowed */
    GM_ERR_IO = 3,           /**< open, read, write, fsync or rename failed */
    GM_ERR_FORMAT = 4,       /**< a file is corrupt or not of the expected format */
    GM_ERR_VERSION = 5,      /**< a file or struct from a newer, unknown version */
    GM_ERR_MISMATCH = 6,     /**< a file of another model kind, shape or config */
    GM_ERR_STATE = 7,        /**< a call that is not allowed in the current state */
    GM_ERR_NUMERIC = 8,      /**< a loss or gradient came out NaN or Inf; nothing was updated */
    GM_ERR_UNSUPPORTED = 9   /**< a feature this build does not have (e.g. PNG without libpng) */
} gm_status;

/** Static text naming a status ("invalid argument"); "unknown status" for
 * a value that is no gm_status. Never NULL; the library's, never freed.
 * Thread-safe. */
GM_API const char *gm_strerror(gm_status status);

/** Detail of the last failure on the calling thread, e.g.
 * "gm_vae_create: latent_dim must be in [1, 16777216] (got 0)", at most
 * 511 bytes (a longer one is cut). Never NULL; "" before any failure.
 * Owned by the library (never freed), valid until the next gm_ call on the
 * same thread; failures on other threads do not touch it. A successful
 * call does not promise to clear it: read it only after a failure. */
GM_API const char *gm_last_error(void);

/** Run-time version: GM_VERSION_NUMBER and GM_VERSION_STRING of the library
 * actually loaded. Compare with the macros to catch a header/library skew.
 * Thread-safe. */
GM_API int gm_version(void);
/** The loaded library's version as text, e.g. "0.2.0" (GM_VERSION_STRING
 * when it was built). Static, never NULL, never freed. Thread-safe. */
GM_API const char *gm_version_string(void);

/** Number of threads a handle works with (n >= 1; above GM_MAX_THREADS it
 * is taken as GM_MAX_THREADS); until it is set, OpenBLAS's own count
 * (OPENBLAS_NUM_THREADS, else the cores) when first needed. A handle takes
 * the count in force at its first call that computes (a training step or
 * any inference; not create, load, save or a setter) and keeps it until it
 * is freed: a later gm_set_num_threads, from any thread, reaches only the
 * handles whose first such call comes after it, never one at work. To give
 * a handle another count, save it and load it after the new setting.
 * A handle keeps its own threads, each owning a share of every layer, and
 * calls OpenBLAS single-threaded from them; a pass too small to gain from
 * the split runs on the calling thread alone (the same for the same sizes
 * and count, so results stay bit-identical). While any handle works,
 * OpenBLAS is set to 1 thread, then back. Process-wide: it also sets
 * OpenBLAS's count for the host program's own BLAS calls. */
#define GM_MAX_THREADS 64
/** Set the thread count described at GM_MAX_THREADS (n above it is taken
 * as GM_MAX_THREADS). GM_ERR_INVALID_ARG for n < 1, and the count stays as
 * it was. Thread-safe; process-wide. */
GM_API gm_status gm_set_num_threads(int32_t n);
/** The thread count a handle's first computing call would take now
 * (see GM_MAX_THREADS), always >= 1. Thread-safe. */
GM_API int32_t gm_get_num_threads(void);

/** Choose the backend that runs the matrix products: "openblas" (portable)
 * or "onednn" (oneDNN's kernels, compiled at run time for the CPU: AVX-512
 * where it has it; only in builds with oneDNN). Until it is called: the
 * backend the GM_BACKEND environment variable names, read once when first
 * needed (a name this build lacks is ignored), else the build's default,
 * oneDNN when it has it. Either runs single-threaded in each of a handle's
 * threads. Process-wide; set it between steps. Results are bit-identical
 * within a backend only. GM_ERR_UNSUPPORTED when this build lacks the
 * backend, GM_ERR_INVALID_ARG for NULL or an unknown name; the backend in
 * use stays then. name is read during the call only. Thread-safe, but
 * every handle's next matrix product takes the new backend, one at work
 * on another thread too: change it while no handle works. */
GM_API gm_status gm_set_backend(const char *name);
/** The backend in use ("openblas" or "onednn"). Static text, never NULL,
 * never freed. Thread-safe. */
GM_API const char *gm_backend_name(void);

/** A custom allocator. alloc behaves like malloc (NULL on failure, any
 * alignment suitable for double); free like free, and is never passed NULL.
 * user is handed back to both unchanged. Both run on the threads that call
 * the library, several at once when several threads do, so they must be
 * thread-safe. */
typedef struct gm_allocator {
    size_t struct_size;                         /**< sizeof(gm_allocator) */
    void *(*alloc)(void *user, size_t size);  /**< size bytes, or NULL on failure */
    void (*free)(void *user, void *ptr);      /**< release what alloc returned; ptr is never NULL */
    void *user;                                 /**< passed to both, unchanged; may be NULL */
} gm_allocator;

/** Route every allocation the library makes through a (NULL restores
 * malloc/free). The allocator is copied (its user pointer is kept as it
 * is, until the next call). Fails with GM_ERR_STATE while any memory from
 * the previous allocator is still held (a live handle or dataset, or a
 * buffer from a _save_buffer call not yet given to gm_buffer_free), since
 * it would be released through the wrong function; GM_ERR_INVALID_ARG for
 * a struct_size other than sizeof(gm_allocator) or a NULL alloc or free.
 * On failure the allocator in use stays. Not thread-safe: call it before
 * creating handles, while no other thread is in the library. zlib's and
 * libpng's memory goes through it; OpenBLAS's and oneDNN's own buffers do
 * not. */
GM_API gm_status gm_set_allocator(const gm_allocator *a);

/** Data-parallel training's reduction hook (docs/distributed.md): replace
 * each of the count floats of buf with its mean over all the workers of
 * the run, and return GM_OK. The library links no communicator; ctx is the
 * pointer given to gm_vae_set_allreduce or gm_gan_set_allreduce, handed
 * back unchanged. With MPI: MPI_Allreduce(MPI_IN_PLACE, buf, count,
 * MPI_FLOAT, MPI_SUM, comm), then multiply each element by 1 / size.
 *
 * A run: size workers (processes, or threads each with its own handle),
 * each with a handle made from the same config and seed or loaded from the
 * same checkpoint, each told its rank in [0, size) and the run's size.
 * Every worker makes the same calls in the same order (shuffles and
 * training steps) with the same n: a step's n rows are the worker's share
 * of a global batch of size * n rows, its rows [rank * n, (rank + 1) * n).
 * Each worker draws exactly the random numbers a single process's step at
 * size * n rows draws for those rows (the rest are skipped, not drawn), so
 * every worker's random state stays that single process's.
 *
 * When: once per optimizer update of a training step, on the thread that
 * called the step, after the update's gradients are computed and before
 * they are checked and applied. A VAE step calls it once; a GAN step
 * n_critic times for the discriminator, then once for the generator. No
 * other call invokes it. The handle's own threads are idle meanwhile;
 * several handles stepped from several threads call it concurrently.
 *
 * The buffer: owned by the handle, valid during the call only (do not keep
 * the pointer). It holds the gradients of the network being updated, each
 * the mean over this worker's rows, tensor after tensor in the
 * checkpoint's order up to the last one an update trains, each padded to
 * a multiple of 16 floats (the padding, and the places of tensors no
 * update trains, such as batch normalization's running statistics, carry
 * nothing the update reads; a VAE's scoring state, last, is left out);
 * then the update's loss figures as floats: a
 * VAE's mean reconstruction and KL terms; a discriminator update's d_loss,
 * d_real, d_fake and gp; a generator update's g_loss. count is the same on
 * every worker, and for every call of one kind of update; a hook need not
 * know the layout, only average element by element, and must give every
 * worker the same bits (an MPI all-reduce does) so that their weights stay
 * bit-identical. The losses a step reports are these averages.
 *
 * Errors: any status but GM_OK fails the step with that status (a value
 * that is no gm_status: GM_ERR_IO) and leaves the handle as it was before
 * the step (weights, optimizer state, random state), as GM_ERR_NUMERIC
 * does. A NaN or Inf in any worker's gradients or losses reaches every
 * worker through the mean, so all of them refuse that step together with
 * GM_ERR_NUMERIC; a worker whose loss is not finite still calls its hook,
 * so the others do not wait for it. A step that fails before its hook
 * call (a bad argument, no memory) leaves the other workers waiting in
 * theirs: a driver ends the whole run when any worker's step fails (MPI's
 * default error handler aborts the job). The hook allocates nothing of the
 * library's, and a step with it allocates nothing a step without it does
 * not. */
typedef gm_status (*gm_allreduce_fn)(float *buf, size_t count, void *ctx);

/** Random numbers: each handle holds its own counter-based generator,
 * seeded from its config and saved in its checkpoints; nothing is shared
 * between handles or with the process. Each model's header says which
 * calls advance it and by how many draws: training steps, sampling,
 * reparameterization, the ELBO-based estimates and shuffling do; calls
 * that map given inputs (encode, decode, reconstruct, generate,
 * discriminate) do not. A call that fails leaves it as it was.
 *
 * Limits every model's config is checked against; a value beyond one is
 * GM_ERR_INVALID_ARG naming the field, so no size computed from a config
 * can overflow.
 * - GM_MAX_STRUCT_SIZE: the largest struct_size a config may carry (a
 *   larger one is garbage, and reading it would run past the caller's
 *   struct); a _config_init_size with a larger size writes nothing.
 * - GM_MAX_DIM: every data, latent, noise and hidden width, 1 to 2^24.
 * - GM_MAX_CLASSES: n_classes, 0 to 65536.
 * - GM_MAX_PARAMS: a model's weights and biases (a VAE's encoder and
 *   decoder together, a GAN's generator and discriminator together), at
 *   most 2^30 floats (4 GiB, before the optimizer's moments). */
#define GM_MAX_STRUCT_SIZE 4096
#define GM_MAX_DIM (1 << 24)        /**< every width; see GM_MAX_STRUCT_SIZE for the limits */
#define GM_MAX_CLASSES 65536        /**< n_classes; see GM_MAX_STRUCT_SIZE */
#define GM_MAX_PARAMS (1 << 30)     /**< a model's weights and biases; see GM_MAX_STRUCT_SIZE */

/** Hidden-layer activations (int32_t fields in configs hold these). */
typedef enum gm_activation {
    GM_ACT_IDENTITY = 0,
    GM_ACT_RELU = 1,
    GM_ACT_LEAKY_RELU = 2,   /**< slope for x < 0 set by the config's leaky_slope */
    GM_ACT_ELU = 3,          /**< alpha = 1 */
    GM_ACT_TANH = 4,
    GM_ACT_SIGMOID = 5
} gm_activation;

/** How a network normalizes its hidden layers (int32_t config fields). */
typedef enum gm_normalization {
    GM_NORM_NONE = 0,
    GM_NORM_BATCH = 1,       /**< batch normalization before the activation, as torch's BatchNorm1d/2d
                                  (momentum 0.1, eps 1e-5): batch statistics in training, running
                                  ones in inference */
    GM_NORM_SPECTRAL = 2     /**< spectral normalization of every weight (Miyato et al. 2018), one power
                                  iteration per update: discriminators only */
} gm_normalization;

/** The most stride-2 convolutions an encoder or discriminator may have. */
#define GM_MAX_CONV 4

/** The update rule of a gm_optimizer_config (its kind field). */
typedef enum gm_optimizer_kind {
    GM_OPTIM_ADAM = 0,       /**< weight_decay is added to the gradient (L2), as torch.optim.Adam */
    GM_OPTIM_ADAMW = 1       /**< weight_decay is decoupled, as torch.optim.AdamW */
} gm_optimizer_kind;

/** Adam settings, embedded in model configs. Frozen: this struct never
 * grows; new optimizer fields are added to the model configs instead. */
typedef struct gm_optimizer_config {
    int32_t kind;            /**< gm_optimizer_kind; default GM_OPTIM_ADAM */
    float lr;                /**< learning rate, > 0 */
    float beta1;             /**< in [0, 1) */
    float beta2;             /**< in [0, 1) */
    float eps;               /**< > 0 */
    float weight_decay;      /**< >= 0 */
} gm_optimizer_config;

#ifdef __cplusplus
}
#endif

#endif
