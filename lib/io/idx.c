/* Reading IDX files, raw or gzip (told apart by the 1f 8b magic). gzip goes
 * through zlib's inflate, not gzopen, so that zlib's state and window come
 * from the library's allocator too. The header alone decides how much is
 * allocated, and the file must then hold exactly that much. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "idx.h"
#include "core/alloc.h"
#include "core/error.h"

#define IN_SIZE (64 * 1024)
#define MAX_INFLATE_CHUNK ((size_t)1 << 30)  /* avail_out is a uInt */

/* The file and, for gzip, the inflater. z.next_in/avail_in track the
 * unconsumed bytes of in[] in both modes. */
typedef struct source {
    const char *who, *path;
    FILE *f;
    unsigned char *in;
    int eof;        /* nothing left in the file past in[] */
    int gz;         /* z is initialized and must be ended */
    int gz_end;     /* inflate saw the end of the gzip member */
    z_stream z;
} source;

static gm_status refill(source *s)
{
    size_t k = fread(s->in, 1, IN_SIZE, s->f);
    if (k < IN_SIZE) {
        if (ferror(s->f))
            return gm_fail(GM_ERR_IO, "%s: cannot read '%s': %s", s->who, s->path, strerror(errno));
        s->eof = 1;
    }
    s->z.next_in = s->in;
    s->z.avail_in = (uInt)k;
    return GM_OK;
}

/* Up to n bytes of content (decompressed for gzip) into dst; *got < n only
 * at its end. */
static gm_status src_read(source *s, unsigned char *dst, size_t n, size_t *got)
{
    gm_status st;
    *got = 0;
    while (*got < n) {
        if (s->z.avail_in == 0 && !s->eof && (st = refill(s)) != GM_OK)
            return st;
        if (!s->gz) {
            if (s->z.avail_in == 0)
                return GM_OK;
            size_t k = n - *got < s->z.avail_in ? n - *got : s->z.avail_in;
            memcpy(dst + *got, s->z.next_in, k);
            s->z.next_in += k;
            s->z.avail_in -= (uInt)k;
            *got += k;
            continue;
        }
        if (s->gz_end) {
            /* A second gzip member would be legal gzip, but no IDX file is
             * written that way: anything here is damage. */
            if (s->z.avail_in)
                return gm_fail(GM_ERR_FORMAT, "%s: '%s' has bytes after the end of its gzip stream",
                               s->who, s->path);
            return GM_OK;
        }
        size_t want = n - *got < MAX_INFLATE_CHUNK ? n - *got : MAX_INFLATE_CHUNK;
        s->z.next_out = dst + *got;
        s->z.avail_out = (uInt)want;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        *got += want - s->z.avail_out;
        switch (rc) {
        case Z_OK:
            break;
        case Z_STREAM_END:
            s->gz_end = 1;
            break;
        case Z_BUF_ERROR:
            /* No progress with room to write means no input is left. */
            return gm_fail(GM_ERR_FORMAT, "%s: '%s': the gzip stream is truncated", s->who, s->path);
        case Z_MEM_ERROR:
            return gm_fail(GM_ERR_NO_MEMORY, "%s: '%s': out of memory in inflate", s->who, s->path);
        default:
            return gm_fail(GM_ERR_FORMAT, "%s: '%s': corrupt gzip data (%s)", s->who, s->path,
                           s->z.msg ? s->z.msg : zError(rc));
        }
    }
    return GM_OK;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static gm_status parse(source *s, int min_ndim, int max_ndim, gm_idx *idx)
{
    const char *who = s->who, *path = s->path;
    gm_status st;
    s->in = gm_malloc(IN_SIZE);
    if (!s->in)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for a read buffer", who);
    if ((st = refill(s)) != GM_OK)
        return st;
    if (s->z.avail_in >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
        s->z.zalloc = gm_zalloc;
        s->z.zfree = gm_zfree;
        s->z.opaque = Z_NULL;
        int rc = inflateInit2(&s->z, 15 + 32);  /* 32: expect a gzip header */
        if (rc == Z_MEM_ERROR)
            return gm_fail(GM_ERR_NO_MEMORY, "%s: '%s': out of memory in inflateInit2", who, path);
        if (rc != Z_OK)
            return gm_fail(GM_ERR_UNSUPPORTED, "%s: '%s': inflateInit2 failed (%s)", who, path,
                           zError(rc));
        s->gz = 1;
    }

    unsigned char head[4 * GM_IDX_MAX_DIMS];
    size_t got;
    if ((st = src_read(s, head, 4, &got)) != GM_OK)
        return st;
    if (got < 4)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is too short for an IDX header (%zu bytes)", who,
                       path, got);
    if (head[0] || head[1])
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is not an IDX file (magic %02x %02x %02x %02x)",
                       who, path, head[0], head[1], head[2], head[3]);
    if (head[2] != GM_IDX_TYPE_UBYTE)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' has element type 0x%02x; only unsigned byte (0x08) "
                       "is supported", who, path, head[2]);
    int ndim = head[3];
    if (ndim == 0)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' declares 0 dimensions", who, path);
    if (ndim < min_ndim || ndim > max_ndim) {
        if (min_ndim == max_ndim)
            return gm_fail(GM_ERR_FORMAT, "%s: '%s' has %d dimensions, expected %d", who, path,
                           ndim, min_ndim);
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' has %d dimensions, expected %d to %d", who, path,
                       ndim, min_ndim, max_ndim);
    }

    if ((st = src_read(s, head, 4 * (size_t)ndim, &got)) != GM_OK)
        return st;
    if (got < 4 * (size_t)ndim)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is truncated in its header (%d dimensions, %zu of "
                       "%d size bytes)", who, path, ndim, got, 4 * ndim);
    size_t size = 1;
    for (int i = 0; i < ndim; i++) {
        uint32_t d = be32(head + 4 * i);
        if (d == 0)
            return gm_fail(GM_ERR_FORMAT, "%s: '%s' has dimension %d of size 0", who, path, i);
        if (d > GM_IDX_MAX_BYTES / size)
            return gm_fail(GM_ERR_FORMAT, "%s: '%s' declares more than %zu bytes of data", who, path,
                           GM_IDX_MAX_BYTES);
        size *= d;
        idx->dims[i] = (int32_t)d;
    }
    idx->ndim = ndim;
    idx->size = size;

    idx->data = gm_malloc(size);
    if (!idx->data)
        return gm_fail(GM_ERR_NO_MEMORY, "%s: no memory for the %zu bytes of '%s'", who, size, path);
    if ((st = src_read(s, idx->data, size, &got)) != GM_OK)
        return st;
    if (got < size)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' is truncated: %zu of %zu data bytes", who, path,
                       got, size);
    /* Reading one byte more also finishes the gzip stream, which checks its CRC and length. */
    unsigned char extra;
    if ((st = src_read(s, &extra, 1, &got)) != GM_OK)
        return st;
    if (got)
        return gm_fail(GM_ERR_FORMAT, "%s: '%s' has data past the %zu bytes its header declares",
                       who, path, size);
    return GM_OK;
}

gm_status gm_idx_read(const char *who, const char *path, int min_ndim, int max_ndim, gm_idx *idx)
{
    source s;
    memset(&s, 0, sizeof s);
    s.who = who;
    s.path = path;
    idx->data = NULL;
    idx->size = 0;
    idx->ndim = 0;
    s.f = fopen(path, "rb");
    if (!s.f)
        return gm_fail(GM_ERR_IO, "%s: cannot open '%s': %s", who, path, strerror(errno));
    gm_status st = parse(&s, min_ndim, max_ndim, idx);
    if (s.gz)
        inflateEnd(&s.z);
    gm_free(s.in);
    fclose(s.f);
    if (st != GM_OK) {
        gm_free(idx->data);
        idx->data = NULL;
    }
    return st;
}
