/* safetensors files of named F32 tensors and a string-to-string metadata
 * map: u64 little-endian header length N, N bytes of JSON header padded
 * with spaces, then the tensors' raw little-endian bytes, back to back.
 * The writer is deterministic and adds the CRC-32 of the data section as
 * "gm.crc32.data"; the reader trusts nothing in the bytes it is given.
 * A failure of the bytes, the system or the allocator is explained by its
 * detail alone ("tensor 'enc.0.bias' data_offsets [0, 8] but ..."): the
 * public call this serves puts its own name in front. Only a wrong
 * argument, a bug inside the library, names the function here. */
#ifndef GM_IO_SAFETENSORS_H
#define GM_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "genmodel/common.h"

#define GM_ST_MAX_HEADER ((size_t)16 << 20)   /* N, in bytes */
#define GM_ST_MAX_RANK 4
#define GM_ST_MAX_DIM (((int64_t)1 << 48) - 1) /* the safetensors schema's bound */
#define GM_ST_MAX_NAME 255                     /* bytes in a tensor name */
#define GM_ST_MAX_STRING ((size_t)1 << 20)     /* bytes in a metadata key or value */
#define GM_ST_MAX_TENSORS 65536
#define GM_ST_MAX_META 4096
#define GM_ST_ALIGN 64        /* the writer pads the header so 8 + N is a multiple */
#define GM_ST_CRC_KEY "gm.crc32.data"
/* CRC-32 of the length prefix and the whole padded header, computed while
 * this key's value reads "00000000": a changed metadata value, name or
 * shape is caught as surely as a changed weight. */
#define GM_ST_HEADER_CRC_KEY "gm.crc32.header"

/* A tensor to write. The writer only reads it. */
typedef struct gm_st_tensor {
    const char *name;                 /* non-empty UTF-8, at most GM_ST_MAX_NAME bytes */
    int32_t rank;                     /* 0 (a scalar) to GM_ST_MAX_RANK */
    int64_t shape[GM_ST_MAX_RANK];    /* the first rank entries, each 0..GM_ST_MAX_DIM */
    const float *data;                /* shape[0] * ... floats, row-major; NULL if none */
} gm_st_tensor;

typedef struct gm_st_meta {
    const char *key, *value;          /* UTF-8, at most GM_ST_MAX_STRING bytes each */
} gm_st_meta;

/* Serialize: the header lists "__metadata__" first, then the tensors sorted
 * by name (strcmp), whose data follow in that order; metadata keys are
 * sorted too, so equal inputs in any order give identical bytes. The two
 * CRC keys are added and may not be passed. Bad input (NULL, rank, dims, names
 * empty, too long, not UTF-8, "__metadata__", duplicates) is
 * GM_ERR_INVALID_ARG and nothing is written. */

/* Into one gm_malloc'd block: *out (the caller gm_frees it), *out_len bytes.
 * The data section starts at a multiple of GM_ST_ALIGN, so in this block
 * every tensor's floats are aligned. On failure *out is NULL. */
gm_status gm_st_write_buffer(const gm_st_tensor *tensors, size_t n_tensors, const gm_st_meta *meta,
                             size_t n_meta, uint8_t **out, size_t *out_len);
/* Replace the file at path atomically and durably (see gm_io_atomic_commit):
 * on any failure it is left as it was and no temporary file remains. */
gm_status gm_st_write_file(const char *path, const gm_st_tensor *tensors, size_t n_tensors,
                           const gm_st_meta *meta, size_t n_meta);

/* A tensor of a parsed file. */
typedef struct gm_st_info {
    const char *name;                 /* NUL-terminated, no NUL inside; owned by the file */
    int32_t rank;
    int64_t shape[GM_ST_MAX_RANK];    /* unused entries are 0 */
    size_t numel;                     /* product of the shape; 1 for a scalar */
    uint64_t begin, end;              /* data_offsets, relative to the data section */
    const uint8_t *bytes;             /* numel * 4 bytes in the caller's buffer, any alignment */
} gm_st_info;

/* "[d0,d1,...]" of a shape of rank <= GM_ST_MAX_RANK with dims of at most
 * 15 digits (GM_ST_MAX_DIM), which GM_ST_SHAPE_STR bytes always hold. */
#define GM_ST_SHAPE_STR (2 + GM_ST_MAX_RANK * 16)
const char *gm_st_shape_str(char buf[GM_ST_SHAPE_STR], const int64_t *shape, int rank);

typedef struct gm_st_file gm_st_file;

/* Validate buf[0, len) entirely: layout, header JSON, every tensor's dtype,
 * shape and offsets, contiguity, no trailing bytes, and each CRC that is
 * present ("gm.crc32.data", "gm.crc32.header"). buf must outlive *out, which points into it.
 * Errors: GM_ERR_FORMAT for anything malformed (the message names the
 * tensor and the rule), GM_ERR_UNSUPPORTED for a well-formed file holding a
 * dtype other than F32, GM_ERR_NO_MEMORY, GM_ERR_INVALID_ARG. On failure
 * *out is NULL. Memory used is bounded by a small multiple of len. */
gm_status gm_st_parse(const uint8_t *buf, size_t len, gm_st_file **out);
void gm_st_free(gm_st_file *f);   /* NULL is a no-op */

size_t gm_st_count(const gm_st_file *f);
/* Tensors in name order; NULL past the end. */
const gm_st_info *gm_st_at(const gm_st_file *f, size_t i);
const gm_st_info *gm_st_find(const gm_st_file *f, const char *name);   /* NULL if absent */
/* Copy the named tensor into dst (count floats, which must equal its numel:
 * GM_ERR_MISMATCH otherwise, or if there is no such tensor). memcpy, so the
 * data may sit at any alignment in the buffer. */
gm_status gm_st_tensor_copy(const gm_st_file *f, const char *name, float *dst, size_t count);

/* Metadata, sorted by key. Strings are NUL-terminated with no NUL inside. */
size_t gm_st_meta_count(const gm_st_file *f);
const char *gm_st_meta_key(const gm_st_file *f, size_t i);
const char *gm_st_meta_value(const gm_st_file *f, size_t i);
const char *gm_st_meta_get(const gm_st_file *f, const char *key);   /* NULL if absent */
/* 1 when the file carried "gm.crc32.data" (and it matched: else no file). */
int gm_st_has_crc(const gm_st_file *f);

#endif
