/** @file
 * Checkpoints: a model's weights, optimizer state, random state and config
 * in one safetensors file (docs/checkpoint-format.md), so that training
 * resumes exactly where it stopped and numpy or PyTorch can read the
 * weights. Files are replaced atomically: a crash while saving leaves the
 * previous file intact. */
#ifndef GENMODEL_CHECKPOINT_H
#define GENMODEL_CHECKPOINT_H

#include "common.h"
#include "gan.h"
#include "sr.h"
#include "vae.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @file
 * Every call here refuses a NULL or empty path, a NULL buf or out, and a
 * buffer of size 0 with GM_ERR_INVALID_ARG, and a failed load leaves *out
 * NULL. A stored config is held to what gm_vae_create or gm_gan_create
 * accepts: one they would refuse (an unknown enum, a size out of range) is
 * GM_ERR_FORMAT from every peek and load, so a config a peek returns can
 * always create a model.
 *
 * Paths and buffers are the caller's, read during the call only. A peek or
 * load reads the whole file into memory (through the allocator hook) and
 * checks its checksums before it uses a byte, so a file too large for
 * memory is GM_ERR_NO_MEMORY (and one over 16 GiB GM_ERR_FORMAT). A failed
 * call writes nothing to its outputs but NULL to *out or *buf, and leaves
 * the file at a save's path as it was. Calls that take no handle (peeks,
 * loads, the field descriptions) are thread-safe; a save reads its handle
 * and follows the handle's rule: one call at a time on it (common.h,
 * Threads). */

/** The format version this library writes; it reads this one and older. */
#define GM_CHECKPOINT_FORMAT_VERSION 1

/** The kind of model a checkpoint holds, or a config describes. */
typedef enum gm_model_kind {
    GM_MODEL_VAE = 1,  /**< a gm_vae, configured by gm_vae_config */
    GM_MODEL_GAN = 2,  /**< a gm_gan, configured by gm_gan_config */
    GM_MODEL_SR = 3    /**< a gm_sr, configured by gm_sr_config (since 0.2) */
} gm_model_kind;

/** How a config field's elements are stored. */
typedef enum gm_field_type {
    GM_FIELD_I32 = 0,  /**< int32_t */
    GM_FIELD_F32 = 1,  /**< float */
    GM_FIELD_U64 = 2   /**< uint64_t */
} gm_field_type;

/** One field of a kind's config struct, as the library describes it: the
 * one declaration of a config, from which the checkpoint's header, the
 * genmodel tool's options and the Python binding's mirror of the struct
 * are all made. The strings are the library's, static. */
typedef struct gm_config_field {
    size_t struct_size;     /**< set by gm_config_field_init */
    const char *name;       /**< as in the struct: "latent_dim", "optim.lr" (a member of an embedded
                                 struct), "conv_channels" (an array) */
    int32_t type;           /**< gm_field_type of each element */
    int32_t count;          /**< elements: 1, or the array's length */
    size_t offset;          /**< of the first element from the struct's start */
    const char *length_of;  /**< an array whose used length is another field: that field's name
                                 ("n_conv"); else NULL */
    const char *choices;    /**< an enum: the names of its values 0, 1, ..., comma-separated
                                 ("bernoulli,gaussian"); else NULL */
    int32_t since;          /**< the minor version that added it: 1 (0.1) or 2 (0.2); a checkpoint
                                 written before it holds its default */
    const char *help;       /**< one line */
} gm_config_field;

/** Zero field and set its struct_size (the caller's, through the macro). */
#define gm_config_field_init(field) gm_config_field_init_size((field), sizeof *(field))
/** What gm_config_field_init expands to: zero the first size bytes of
 * field and store size in struct_size. NULL field or a size below
 * sizeof(size_t) or above GM_MAX_STRUCT_SIZE: nothing is written. */
GM_API void gm_config_field_init_size(gm_config_field *field, size_t size);

/** How many fields the config of kind (a gm_model_kind) has, in *count.
 * GM_ERR_INVALID_ARG for an unknown kind or a NULL count (*count is not
 * written then). Thread-safe. */
GM_API gm_status gm_config_field_count(int32_t kind, int32_t *count);

/** Field index (0 .. count - 1) of kind's config, in the struct's order,
 * into *field (initialised by gm_config_field_init; its strings are static
 * and never freed). GM_ERR_INVALID_ARG for an unknown kind, an index out
 * of range, a NULL field or a wrong struct_size (below this library's
 * sizeof(gm_config_field) or above GM_MAX_STRUCT_SIZE); *field is not
 * written then. Thread-safe. */
GM_API gm_status gm_config_field_get(int32_t kind, int32_t index, gm_config_field *field);

/** What a checkpoint's header says (gm_checkpoint_peek). */
typedef struct gm_checkpoint_info {
    size_t struct_size;       /**< set by gm_checkpoint_info_init */
    int32_t kind;             /**< gm_model_kind */
    int32_t format_version;   /**< 1 .. GM_CHECKPOINT_FORMAT_VERSION */
    int64_t step;             /**< optimizer updates made before the save */
} gm_checkpoint_info;

/** Zero info and set its struct_size (the caller's, through the macro). */
#define gm_checkpoint_info_init(info) gm_checkpoint_info_init_size((info), sizeof *(info))
/** What gm_checkpoint_info_init expands to: zero the first size bytes of
 * info and store size in struct_size (nothing for NULL or a size out of
 * range, as for gm_config_field_init_size). */
GM_API void gm_checkpoint_info_init_size(gm_checkpoint_info *info, size_t size);

/** Read a checkpoint's header only: its kind, format version and step,
 * into *info (initialised by gm_checkpoint_info_init; written only on
 * success). The whole header is checked, the stored config included.
 * Errors as for loading, and GM_ERR_INVALID_ARG for a NULL info or a
 * wrong struct_size. */
GM_API gm_status gm_checkpoint_peek(const char *path, gm_checkpoint_info *info);

/** The config stored in a VAE checkpoint, without loading its tensors,
 * into *cfg (cfg->struct_size set, as gm_vae_config_init does; written as
 * gm_vae_get_config writes, and only on success). GM_ERR_MISMATCH if the
 * file holds another kind of model; GM_ERR_INVALID_ARG for a NULL cfg or
 * a struct_size out of range; the rest as for gm_vae_load. */
GM_API gm_status gm_checkpoint_peek_vae(const char *path, gm_vae_config *cfg);

/** The config stored in a GAN checkpoint, without loading its tensors,
 * into *cfg, as gm_checkpoint_peek_vae does for a VAE: GM_ERR_MISMATCH for
 * a VAE's file. */
GM_API gm_status gm_checkpoint_peek_gan(const char *path, gm_gan_config *cfg);

/** The config stored in an upscaler's checkpoint (gm_sr), as
 * gm_checkpoint_peek_vae does for a VAE. */
GM_API gm_status gm_checkpoint_peek_sr(const char *path, gm_sr_config *cfg);

/** Save everything needed to resume training: config, weights, Adam moments
 * and step, random state. Written to a temporary file beside path, synced
 * and renamed over it; on failure (GM_ERR_IO, GM_ERR_NO_MEMORY) the file
 * that was at path is untouched. Only a regular file is replaced: a
 * directory, device or pipe at path is GM_ERR_IO. The model is not
 * changed (its random state included), and neither an all-reduce hook nor
 * the thread count is saved. GM_ERR_INVALID_ARG for a NULL vae or a NULL
 * or empty path. */
GM_API gm_status gm_vae_save(gm_vae *vae, const char *path);

/** Load a VAE saved by gm_vae_save into a new handle (*out; NULL on
 * failure). Every byte is checked before use: GM_ERR_IO, GM_ERR_FORMAT (a
 * corrupt or truncated file, with the problem in gm_last_error()),
 * GM_ERR_VERSION (a newer format), GM_ERR_MISMATCH (not a VAE),
 * GM_ERR_NO_MEMORY, GM_ERR_INVALID_ARG (a NULL or empty path, a NULL out).
 * The caller releases the handle with gm_vae_free. It resumes where the
 * saved one stopped (weights, optimizer state and step, random state), as
 * a single process (no all-reduce hook), taking the thread count in force
 * at its first computing call. */
GM_API gm_status gm_vae_load(const char *path, gm_vae **out);

/** The same to and from memory. *buf is allocated through the library's
 * allocator; release it with gm_buffer_free. On failure *buf is NULL
 * (when buf is not) and nothing needs freeing. On success *size is the
 * buffer's length in bytes: a checkpoint in the format of gm_vae_save's.
 * GM_ERR_INVALID_ARG for a NULL vae, buf or size, GM_ERR_NO_MEMORY. While
 * the buffer is held, gm_set_allocator refuses to change the allocator. */
GM_API gm_status gm_vae_save_buffer(gm_vae *vae, void **buf, size_t *size);
/** gm_vae_load from the size bytes at buf (what gm_vae_save_buffer gave,
 * or a file's bytes); the bytes are only read, and not kept: the caller
 * still owns and frees them. Errors as for gm_vae_load (no GM_ERR_IO),
 * GM_ERR_INVALID_ARG for a NULL buf or out or a size of 0. */
GM_API gm_status gm_vae_load_buffer(const void *buf, size_t size, gm_vae **out);

/** The same for a GAN: both networks, both optimizers, the EMA weights,
 * the random state and the config; errors and guarantees as gm_vae_save. */
GM_API gm_status gm_gan_save(gm_gan *gan, const char *path);
/** Load a GAN saved by gm_gan_save into a new handle (*out; NULL on
 * failure), which the caller releases with gm_gan_free. Errors as for
 * gm_vae_load; GM_ERR_MISMATCH for a VAE. */
GM_API gm_status gm_gan_load(const char *path, gm_gan **out);
/** gm_gan_save to memory, as gm_vae_save_buffer: *buf (*size bytes) is
 * the caller's to free with gm_buffer_free; NULL on failure. */
GM_API gm_status gm_gan_save_buffer(gm_gan *gan, void **buf, size_t *size);
/** gm_gan_load from memory, as gm_vae_load_buffer: the size bytes at buf
 * are only read; *out is a new handle for gm_gan_free, NULL on failure. */
GM_API gm_status gm_gan_load_buffer(const void *buf, size_t size, gm_gan **out);

/** The same for an upscaler (gm_sr): its network, its discriminator if it
 * has one, both optimizers, the random state and the config; errors and
 * guarantees as gm_vae_save. */
GM_API gm_status gm_sr_save(gm_sr *sr, const char *path);
/** Load an upscaler saved by gm_sr_save, as gm_vae_load; GM_ERR_MISMATCH
 * for another kind's file. The caller releases it with gm_sr_free. */
GM_API gm_status gm_sr_load(const char *path, gm_sr **out);
/** gm_sr_save to memory, as gm_vae_save_buffer. */
GM_API gm_status gm_sr_save_buffer(gm_sr *sr, void **buf, size_t *size);
/** gm_sr_load from memory, as gm_vae_load_buffer. */
GM_API gm_status gm_sr_load_buffer(const void *buf, size_t size, gm_sr **out);

/** Release a buffer a gm_*_save_buffer call or gm_image_read returned,
 * through the allocator that made it; NULL is a no-op. Memory from
 * anywhere else (malloc) must not be passed. Thread-safe. */
GM_API void gm_buffer_free(void *buf);

#ifdef __cplusplus
}
#endif

#endif
