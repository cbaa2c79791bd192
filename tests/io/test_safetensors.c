/* safetensors: the writer's exact bytes, round trips through memory and
 * files, and the reader against truncation at every offset, every bit flip
 * of a header, flips of the data, a table of crafted bad headers, failing
 * system calls and failing allocations. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "core/alloc.h"
#include "io/fileio.h"
#include "io/safetensors.h"
#include "gm_test.h"

static int setup(void **state)
{
    (void)state;
    if (gm_test_dir_make())
        return -1;
    gm_test_alloc_install();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gm_io_set_ops(NULL);
    int r = gm_test_dir_remove();
    gm_test_alloc_uninstall();   /* last: it fails the test when blocks leaked */
    return r;
}

/* The whole file through stdio, independently of the library. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = test_malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* ---- inputs ---- */

typedef struct fixture {
    float w[6], b[3], s[1], r4[12];
    gm_st_tensor t[5];
    gm_st_meta m[2];
} fixture;

static void fixture_init(fixture *f)
{
    /* values a float-by-float path could disturb: -0, Inf, a NaN payload, a denormal */
    static const uint32_t bits[6] = { 0x3fc00000u, 0x80000000u, 0x7f800000u, 0x7fc00123u, 0x00000001u, 0xc0100000u };
    memset(f, 0, sizeof *f);
    memcpy(f->w, bits, sizeof bits);
    gm_test_fill(f->b, 3, -1.0f, 1.0f, 1);
    f->s[0] = 0.125f;
    gm_test_fill(f->r4, 12, -3.0f, 3.0f, 2);
    f->t[0] = (gm_st_tensor){ "enc.fc1.weight", 2, { 2, 3 }, f->w };
    f->t[1] = (gm_st_tensor){ "enc.fc1.bias", 1, { 3 }, f->b };
    f->t[2] = (gm_st_tensor){ "scale", 0, { 0 }, f->s };
    f->t[3] = (gm_st_tensor){ "empty", 2, { 0, 3 }, NULL };
    f->t[4] = (gm_st_tensor){ "q\"uote\\back\x01tab\t\xc3\xa9", 4, { 2, 1, 3, 2 }, f->r4 };
    f->m[0] = (gm_st_meta){ "gm.format", "libgenmodel" };
    f->m[1] = (gm_st_meta){ "note", "{\"json\": \"in a string\"}\n\x1f \xe2\x82\xac" };
}

static uint8_t *write_fixture(const fixture *f, size_t *len)
{
    uint8_t *buf = NULL;
    assert_int_equal(gm_st_write_buffer(f->t, 5, f->m, 2, &buf, len), GM_OK);
    return buf;
}

static size_t header_len(const uint8_t *buf)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    return (size_t)n;
}

/* Parsed file == fixture, bit for bit. */
static void check_fixture(const gm_st_file *file, const fixture *f)
{
    assert_int_equal(gm_st_count(file), 5);
    for (int i = 0; i < 5; i++) {
        const gm_st_tensor *t = &f->t[i];
        const gm_st_info *info = gm_st_find(file, t->name);
        assert_non_null(info);
        assert_string_equal(info->name, t->name);
        assert_int_equal(info->rank, t->rank);
        size_t numel = 1;
        for (int d = 0; d < t->rank; d++) {
            assert_int_equal(info->shape[d], t->shape[d]);
            numel *= (size_t)t->shape[d];
        }
        assert_int_equal(info->numel, numel);
        assert_int_equal(info->end - info->begin, 4 * numel);
        float got[16];
        memset(got, 0xa5, sizeof got);
        assert_int_equal(gm_st_tensor_copy(file, t->name, got, numel), GM_OK);
        if (numel)
            assert_memory_equal(got, t->data, 4 * numel);
    }
    assert_true(gm_st_has_crc(file));
    assert_int_equal(gm_st_meta_count(file), 4);
    assert_string_equal(gm_st_meta_get(file, "gm.format"), "libgenmodel");
    assert_string_equal(gm_st_meta_get(file, "note"), f->m[1].value);
    assert_null(gm_st_meta_get(file, "absent"));
}

/* ---- writing ---- */

/* buf's length prefix and header must be json, padded to `padded` bytes
 * with spaces, then sealed: the header CRC's placeholder replaced by the
 * CRC-32 of all those bytes as they read with the placeholder. */
static void seal_expected(const uint8_t *buf, const char *json, size_t padded)
{
    uint8_t *want = malloc(8 + padded);
    size_t n = strlen(json);
    memcpy(want, buf, 8);
    memcpy(want + 8, json, n);
    memset(want + 8 + n, ' ', padded - n);
    const char *field = strstr(json, "\"gm.crc32.header\":\"") + strlen("\"gm.crc32.header\":\"");
    char hex[9];
    snprintf(hex, sizeof hex, "%08lx", crc32(0, want, (uInt)(8 + padded)) & 0xFFFFFFFFul);
    memcpy(want + 8 + (size_t)(field - json), hex, 8);
    assert_memory_equal(buf, want, 8 + padded);
    free(want);
}

static void test_golden_bytes(void **state)
{
    (void)state;
    const float a[2] = { 1.0f, -2.0f };
    gm_st_tensor t = { "a", 1, { 2 }, a };
    gm_st_meta m = { "k", "v" };
    uint8_t *buf;
    size_t len;
    assert_int_equal(gm_st_write_buffer(&t, 1, &m, 1, &buf, &len), GM_OK);
    const char *json = "{\"__metadata__\":{\"gm.crc32.data\":\"c3872656\",\"gm.crc32.header\":\"00000000\","
                       "\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t n = strlen(json), padded = (8 + n + 63) / 64 * 64 - 8;
    assert_int_equal(len, 8 + padded + 8);
    assert_int_equal(header_len(buf), padded);
    seal_expected(buf, json, padded);
    static const uint8_t data[8] = { 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0 };
    assert_memory_equal(buf + 8 + padded, data, 8);
    gm_free(buf);

    /* nothing at all is still a file: the CRC of no bytes */
    assert_int_equal(gm_st_write_buffer(NULL, 0, NULL, 0, &buf, &len), GM_OK);
    json = "{\"__metadata__\":{\"gm.crc32.data\":\"00000000\",\"gm.crc32.header\":\"00000000\"}}";
    assert_int_equal(len, 128);
    assert_int_equal(header_len(buf), 120);
    seal_expected(buf, json, 120);
    gm_free(buf);
}

static void test_round_trip(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    size_t len;
    uint8_t *buf = write_fixture(&f, &len);
    size_t n = header_len(buf);
    assert_int_equal((8 + n) % GM_ST_ALIGN, 0);
    assert_int_equal(buf[8], '{');
    gm_st_file *file;
    assert_int_equal(gm_st_parse(buf, len, &file), GM_OK);
    check_fixture(file, &f);
    /* name order, data in the same order, starting right after the header */
    for (size_t i = 0; i < gm_st_count(file); i++) {
        const gm_st_info *t = gm_st_at(file, i);
        if (i)
            assert_true(strcmp(gm_st_at(file, i - 1)->name, t->name) < 0);
        assert_ptr_equal(t->bytes, buf + 8 + n + t->begin);
        assert_true((uintptr_t)t->bytes % 4 == 0);
    }
    assert_null(gm_st_at(file, 5));
    assert_string_equal(gm_st_meta_key(file, 0), "gm.crc32.data");
    assert_string_equal(gm_st_meta_key(file, 1), "gm.crc32.header");
    assert_string_equal(gm_st_meta_key(file, 3), "note");
    assert_string_equal(gm_st_meta_value(file, 2), "libgenmodel");
    assert_null(gm_st_meta_key(file, 4));
    gm_st_free(file);
    gm_st_free(NULL);
    gm_free(buf);
}

static void test_deterministic(void **state)
{
    (void)state;
    fixture f, g;
    fixture_init(&f);
    fixture_init(&g);
    /* the same tensors and metadata in another order */
    gm_st_tensor t = g.t[0];
    g.t[0] = g.t[4];
    g.t[4] = t;
    t = g.t[1];
    g.t[1] = g.t[2];
    g.t[2] = t;
    gm_st_meta m = g.m[0];
    g.m[0] = g.m[1];
    g.m[1] = m;
    size_t la, lb, lc;
    uint8_t *a = write_fixture(&f, &la), *b = write_fixture(&g, &lb), *c = write_fixture(&f, &lc);
    assert_int_equal(la, lb);
    assert_int_equal(la, lc);
    assert_memory_equal(a, b, la);
    assert_memory_equal(a, c, la);
    gm_free(a);
    gm_free(b);
    gm_free(c);
}

static void test_unaligned_buffer(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    size_t len;
    uint8_t *buf = write_fixture(&f, &len);
    uint8_t *odd = test_malloc(len + 1);
    memcpy(odd + 1, buf, len);
    gm_st_file *file;
    assert_int_equal(gm_st_parse(odd + 1, len, &file), GM_OK);
    check_fixture(file, &f);   /* copies out with memcpy: UBSan would catch a float load */
    float dst[6];
    assert_int_equal(gm_st_tensor_copy(file, "enc.fc1.weight", dst, 5), GM_ERR_MISMATCH);
    assert_non_null(strstr(gm_last_error(), "has 6 values, not 5"));
    assert_int_equal(gm_st_tensor_copy(file, "missing", dst, 6), GM_ERR_MISMATCH);
    assert_int_equal(gm_st_tensor_copy(file, NULL, dst, 6), GM_ERR_MISMATCH);
    assert_int_equal(gm_st_tensor_copy(file, "enc.fc1.weight", NULL, 6), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_st_tensor_copy(file, "empty", NULL, 0), GM_OK);
    assert_null(gm_st_find(file, NULL));
    assert_null(gm_st_find(NULL, "scale"));
    /* no file reads as an empty one */
    assert_int_equal(gm_st_count(NULL), 0);
    assert_null(gm_st_at(NULL, 0));
    assert_int_equal(gm_st_meta_count(NULL), 0);
    assert_null(gm_st_meta_key(NULL, 0));
    assert_null(gm_st_meta_value(NULL, 0));
    assert_null(gm_st_meta_get(NULL, "gm.format"));
    assert_false(gm_st_has_crc(NULL));
    gm_st_free(file);
    test_free(odd);
    gm_free(buf);
}

static void test_writer_rejects(void **state)
{
    (void)state;
    const float x[4] = { 0 };
    char long_name[GM_ST_MAX_NAME + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    static const struct { gm_st_tensor t[2]; size_t nt; gm_st_meta m[2]; size_t nm; const char *why; } cases[] = {
        { { { "a", 1, { 1 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "has no data" },
        { { { "a", -1, { 1 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "rank -1" },
        { { { "a", 5, { 1 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "rank 5" },
        { { { "a", 1, { -1 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "shape[0] = -1" },
        { { { "a", 1, { (int64_t)1 << 48 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "not in [0, 2^48-1]" },
        { { { "a", 4, { GM_ST_MAX_DIM, GM_ST_MAX_DIM, 1, 1 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "too large" },
        { { { "a", 2, { GM_ST_MAX_DIM, 65536 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "'a' is too large" },  /* in bytes */
        { { { "", 0, { 0 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "cannot name a tensor" },
        { { { "__metadata__", 0, { 0 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "cannot name a tensor" },
        { { { NULL, 0, { 0 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "is NULL" },
        { { { "caf\xe9", 0, { 0 }, NULL }, { 0 } }, 1, { { 0 } }, 0, "not valid UTF-8" },
        { { { "a", 1, { 0 }, NULL }, { "a", 1, { 0 }, NULL } }, 2, { { 0 } }, 0, "two tensors are named 'a'" },
        { { { 0 } }, 0, { { "gm.crc32.data", "00000000" } }, 1, "the writer's own" },
        { { { 0 } }, 0, { { "gm.crc32.header", "00000000" } }, 1, "'gm.crc32.header' is the writer's own" },
        { { { 0 } }, 0, { { "k", "1" }, { "k", "2" } }, 2, "'k' appears twice" },
        { { { 0 } }, 0, { { "k", NULL } }, 1, "metadata value is NULL" },
        { { { 0 } }, 0, { { NULL, "v" } }, 1, "metadata key is NULL" },
        { { { 0 } }, 0, { { "k", "\xed\xa0\x80" } }, 1, "not valid UTF-8" },
    };
    uint8_t *buf = (uint8_t *)&buf;
    size_t len = 99;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_status st = gm_st_write_buffer(cases[i].t, cases[i].nt, cases[i].m, cases[i].nm, &buf, &len);
        if (st != GM_ERR_INVALID_ARG || !strstr(gm_last_error(), cases[i].why))
            fail_msg("case %zu: status %d, message '%s', want '%s'", i, st, gm_last_error(), cases[i].why);
        assert_null(buf);
        assert_int_equal(len, 0);
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
        assert_int_equal(gm_st_write_file(gm_test_path("x"), cases[i].t, cases[i].nt, cases[i].m, cases[i].nm),
                         GM_ERR_INVALID_ARG);
    }
    gm_st_tensor named = { long_name, 1, { 1 }, x };
    assert_int_equal(gm_st_write_buffer(&named, 1, NULL, 0, &buf, &len), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "over the limit of 255"));
    long_name[GM_ST_MAX_NAME] = '\0';   /* exactly at the limit is fine */
    assert_int_equal(gm_st_write_buffer(&named, 1, NULL, 0, &buf, &len), GM_OK);
    gm_free(buf);
    assert_int_equal(gm_st_write_buffer(NULL, 1, NULL, 0, &buf, &len), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_st_write_buffer(NULL, 0, NULL, 1, &buf, &len), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_st_write_buffer(NULL, 0, NULL, 0, NULL, &len), GM_ERR_INVALID_ARG);
    buf = (uint8_t *)&buf;
    assert_int_equal(gm_st_write_buffer(NULL, 0, NULL, 0, &buf, NULL), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "out and out_len must not be NULL"));
    assert_ptr_equal(buf, &buf);
    /* each tensor fits, the two together do not: refused before any data is read */
    gm_st_tensor halves[2] = { { "a", 2, { GM_ST_MAX_DIM, 16384 }, x }, { "b", 2, { GM_ST_MAX_DIM, 16384 }, x } };
    assert_int_equal(gm_st_write_buffer(halves, 2, NULL, 0, &buf, &len), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "the tensors are too large together"));
    assert_null(buf);
    assert_int_equal(gm_st_write_file(gm_test_path("x"), halves, 2, NULL, 0), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_st_write_file(NULL, NULL, 0, NULL, 0), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_test_dir_entries(), 0);
}

/* Metadata values each within their limit, but a header over its own:
 * refused as it is measured, before a byte is allocated for it. */
static void test_header_limit(void **state)
{
    (void)state;
    enum { K = 17 };   /* 17 values of 1 MiB: over the 16 MiB header */
    char *value = test_malloc(GM_ST_MAX_STRING + 1);
    memset(value, 'v', GM_ST_MAX_STRING);
    value[GM_ST_MAX_STRING] = '\0';
    char keys[K][8];
    gm_st_meta m[K];
    for (int i = 0; i < K; i++) {
        snprintf(keys[i], sizeof keys[i], "k%02d", i);
        m[i] = (gm_st_meta){ keys[i], value };
    }
    uint8_t *buf = (uint8_t *)&buf;
    size_t len = 99;
    assert_int_equal(gm_st_write_buffer(NULL, 0, m, K, &buf, &len), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_st_write_buffer: the header would be"));
    assert_non_null(strstr(gm_last_error(), "over the limit of 16777216"));
    assert_null(buf);
    assert_int_equal(len, 0);
    assert_int_equal(gm_st_write_file(gm_test_path("big"), NULL, 0, m, K), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "gm_st_write_file: the header would be"));
    assert_int_equal(gm_test_dir_entries(), 0);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
    /* two values fewer fit (sixteen, with their keys, are just over) */
    assert_int_equal(gm_st_write_buffer(NULL, 0, m, K - 2, &buf, &len), GM_OK);
    assert_true(len > (size_t)(K - 2) * GM_ST_MAX_STRING && len <= GM_ST_MAX_HEADER + 8);
    gm_free(buf);
    test_free(value);
}

/* ---- reading hostile bytes ---- */

static gm_status parse_copy(const uint8_t *src, size_t len, gm_st_file **file)
{
    /* an exact-size heap copy, so ASan sees any read past the end */
    uint8_t *copy = test_malloc(len ? len : 1);
    memcpy(copy, src, len);
    gm_status st = gm_st_parse(copy, len, file);
    gm_st_free(*file);
    *file = NULL;
    test_free(copy);
    return st;
}

static void test_truncation(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    size_t len;
    uint8_t *buf = write_fixture(&f, &len);
    for (size_t k = 0; k < len; k++) {
        gm_st_file *file = NULL;
        gm_status st = parse_copy(buf, k, &file);
        if (st != GM_ERR_FORMAT)
            fail_msg("truncated to %zu of %zu bytes: status %d (%s)", k, len, st, gm_last_error());
    }
    gm_free(buf);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

static void test_header_bit_flips(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    size_t len, accepted = 0;
    uint8_t *buf = write_fixture(&f, &len);
    size_t data_at = 8 + header_len(buf);
    uint8_t *copy = test_malloc(len);
    gm_st_file *ref;
    assert_int_equal(gm_st_parse(buf, len, &ref), GM_OK);
    for (size_t i = 0; i < data_at; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, buf, len);
            copy[i] ^= (uint8_t)(1u << bit);
            gm_st_file *file = NULL;
            gm_status st = gm_st_parse(copy, len, &file);
            if (st == GM_OK) {
                /* still valid: a name, a metadata key or value changed,
                 * never the tensors' shapes or bytes */
                accepted++;
                assert_int_equal(gm_st_count(file), 5);
                for (size_t j = 0; j < 5; j++) {
                    const gm_st_info *t = gm_st_at(file, j);
                    const gm_st_tensor *orig = NULL;
                    for (int o = 0; o < 5; o++) {
                        const gm_st_info *same = gm_st_find(ref, f.t[o].name);
                        if (same->begin == t->begin && same->end == t->end && same->rank == t->rank)
                            orig = &f.t[o];
                    }
                    assert_non_null(orig);
                    /* an empty tensor's other dims are free: [0,3] -> [0,2]
                     * keeps every size (only a header CRC would notice) */
                    for (int d = 0; d < t->rank && t->numel; d++)
                        assert_int_equal(t->shape[d], orig->shape[d]);
                    assert_ptr_equal(t->bytes, copy + data_at + t->begin);
                    if (t->numel)
                        assert_memory_equal(t->bytes, orig->data, 4 * t->numel);
                }
            } else if (st != GM_ERR_FORMAT && st != GM_ERR_UNSUPPORTED) {
                fail_msg("byte %zu bit %d: status %d (%s)", i, bit, st, gm_last_error());
            }
            gm_st_free(file);
        }
    /* some flips must survive (letters in names and metadata), most must not */
    assert_true(accepted > 0 && accepted < data_at * 8 / 2);
    gm_st_free(ref);
    test_free(copy);
    gm_free(buf);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
}

static void test_data_flips(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    size_t len;
    uint8_t *buf = write_fixture(&f, &len);
    size_t data_at = 8 + header_len(buf);
    for (size_t i = data_at; i < len; i++) {
        buf[i] ^= 0x10;
        gm_st_file *file = (gm_st_file *)&file;
        assert_int_equal(gm_st_parse(buf, len, &file), GM_ERR_FORMAT);
        assert_null(file);
        assert_non_null(strstr(gm_last_error(), "checksum mismatch"));
        buf[i] ^= 0x10;
    }
    gm_free(buf);
}

/* A file from a header text and data_len bytes of data (0, 1, 2, ...). */
static uint8_t *make_file(const char *header, size_t data_len, size_t *len)
{
    size_t n = strlen(header);
    uint8_t *buf = test_malloc(8 + n + data_len + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(buf + 8, header, n);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + n + i] = (uint8_t)i;
    *len = 8 + n + data_len;
    return buf;
}

#define T(name, dtype, shape, offsets) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offsets "}"

typedef struct crafted {
    const char *header;
    size_t data_len;
    gm_status status;
    const char *why;
} crafted;

static const crafted crafted_cases[] = {
    /* valid layouts */
    { "{}", 0, GM_OK, NULL },
    { "{\"__metadata__\":{}}", 0, GM_OK, NULL },
    { "{\"__metadata__\":{\"gm.crc32.data\":\"00000000\"}}", 0, GM_OK, NULL },
    { "{" T("s", "F32", "[]", "[0,4]") "}   ", 4, GM_OK, NULL },
    { "{" T("a", "F32", "[0]", "[0,0]") "," T("b", "F32", "[2]", "[0,8]") "," T("c", "F32", "[3,0]", "[8,8]") "}", 8, GM_OK, NULL },
    { "{" T("z", "F32", "[1]", "[0,4]") "," T("a", "F32", "[1]", "[4,8]") "}", 8, GM_OK, NULL },
    { "{ \"t\" : { \"shape\" : [ 1 ] , \"data_offsets\" : [ 0 , 4 ] , \"dtype\" : \"F32\" } }", 4, GM_OK, NULL },
    /* layout */
    { "{" T("a", "F32", "[4]", "[0,16]") "," T("b", "F32", "[4]", "[8,24]") "}", 24, GM_ERR_FORMAT, "tensor 'b' data_offsets [8, 24] overlap the tensor before it, which ends at 16" },
    { "{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[0,8]") "}", 8, GM_ERR_FORMAT, "overlap" },
    { "{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[16,24]") "}", 24, GM_ERR_FORMAT, "bytes [8, 16) of the data belong to no tensor (a hole before 'b')" },
    { "{" T("a", "F32", "[2]", "[4,12]") "}", 12, GM_ERR_FORMAT, "bytes [0, 4) of the data belong to no tensor" },
    { "{" T("a", "F32", "[2]", "[0,8]") "}", 12, GM_ERR_FORMAT, "the tensors cover 8 bytes but 12 follow the header" },
    { "{" T("a", "F32", "[2]", "[0,8]") "}", 4, GM_ERR_FORMAT, "the tensors cover 8 bytes but 4 follow" },
    { "{}", 1, GM_ERR_FORMAT, "cover 0 bytes but 1" },
    { "{" T("enc.0.weight", "F32", "[2,2]", "[0,12]") "}", 12, GM_ERR_FORMAT, "tensor 'enc.0.weight' data_offsets [0, 12] but F32 shape [2,2] needs 16 bytes" },
    { "{" T("a", "F32", "[2]", "[8,0]") "}", 8, GM_ERR_FORMAT, "data_offsets [8, 0] but F32 shape [2] needs 8 bytes" },
    { "{" T("a", "F32", "[2]", "[0,8,8]") "}", 8, GM_ERR_FORMAT, "data_offsets is not [begin, end]" },
    { "{" T("a", "F32", "[2]", "[0]") "}", 8, GM_ERR_FORMAT, "data_offsets is not [begin, end]" },
    { "{" T("a", "F32", "[2]", "8") "}", 8, GM_ERR_FORMAT, "data_offsets is not [begin, end]" },
    { "{" T("a", "F32", "[2]", "[\"0\",\"8\"]") "}", 8, GM_ERR_FORMAT, "data_offsets is not [begin, end]" },
    { "{" T("a", "F32", "[2]", "[0,\"8\"]") "}", 8, GM_ERR_FORMAT, "data_offsets is not [begin, end]" },
    { "{" T("a", "F32", "[2]", "{\"b\":0,\"e\":8}") "}", 8, GM_ERR_FORMAT, "data_offsets is not [begin, end]" },
    { "{" T("a", "F32", "[2]", "[0,8.0]") "}", 8, GM_ERR_FORMAT, "no fraction or exponent" },
    /* tensor objects */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"foo\":1}}", 4, GM_ERR_FORMAT, "tensor 'a' has an unknown key 'foo'" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, GM_ERR_FORMAT, "tensor 'a' has no 'data_offsets'" },
    { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, GM_ERR_FORMAT, "tensor 'a' has no 'shape'" },
    { "{\"a\":{}}", 0, GM_ERR_FORMAT, "tensor 'a' has no 'dtype'" },
    { "{\"a\":[1]}", 0, GM_ERR_FORMAT, "tensor 'a' is not an object" },
    { "{\"a\":\"F32\"}", 0, GM_ERR_FORMAT, "tensor 'a' is not an object" },
    { "{" T("a", "F32", "[1]", "[0,4]") "," T("a", "F32", "[1]", "[4,8]") "}", 8, GM_ERR_FORMAT, "duplicate key \"a\"" },
    { "{" T("", "F32", "[1]", "[0,4]") "}", 4, GM_ERR_FORMAT, "a tensor has an empty name" },
    { "{" T("a\\u0000b", "F32", "[1]", "[0,4]") "}", 4, GM_ERR_FORMAT, "\\u0000 is not allowed" },
    /* dtypes */
    { "{" T("a", "F33", "[1]", "[0,4]") "}", 4, GM_ERR_FORMAT, "tensor 'a' has an unknown dtype 'F33'" },
    { "{" T("a", "f32", "[1]", "[0,4]") "}", 4, GM_ERR_FORMAT, "unknown dtype 'f32'" },
    { "{" T("a", "", "[1]", "[0,4]") "}", 4, GM_ERR_FORMAT, "unknown dtype ''" },
    { "{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, GM_ERR_FORMAT, "unknown dtype (not a string)" },
    { "{" T("a", "F64", "[1]", "[0,8]") "}", 8, GM_ERR_UNSUPPORTED, "tensor 'a' is F64: only F32 is supported" },
    { "{" T("a", "F32", "[1]", "[0,4]") "," T("b", "BF16", "[3]", "[4,10]") "}", 10, GM_ERR_UNSUPPORTED, "'b' is BF16" },
    { "{" T("a", "F8_E4M3", "[3]", "[0,3]") "}", 3, GM_ERR_UNSUPPORTED, "is F8_E4M3" },
    { "{" T("a", "F4", "[2]", "[0,1]") "}", 1, GM_ERR_UNSUPPORTED, "is F4" },
    { "{" T("a", "F4", "[3]", "[0,2]") "}", 2, GM_ERR_FORMAT, "F4 shape [3] is not a whole number of bytes" },
    { "{" T("a", "F64", "[1]", "[0,4]") "}", 4, GM_ERR_FORMAT, "F64 shape [1] needs 8 bytes" },   /* format errors win */
    /* shapes */
    { "{" T("a", "F32", "[1,1,1,1,1]", "[0,4]") "}", 4, GM_ERR_FORMAT, "tensor 'a' has rank 5, over the limit of 4" },
    { "{" T("a", "F32", "2", "[0,8]") "}", 8, GM_ERR_FORMAT, "shape is not an array" },
    { "{" T("a", "F32", "[\"2\"]", "[0,8]") "}", 8, GM_ERR_FORMAT, "shape[0] is not an integer in [0, 2^48-1]" },
    { "{" T("a", "F32", "[[2]]", "[0,8]") "}", 8, GM_ERR_FORMAT, "nested deeper than 3" },
    { "{" T("a", "F32", "[1,281474976710656]", "[0,4]") "}", 4, GM_ERR_FORMAT, "shape[1] is not an integer in [0, 2^48-1]" },
    { "{" T("a", "F32", "[281474976710655,281474976710655]", "[0,4]") "}", 4, GM_ERR_FORMAT, "the product of shape [281474976710655,281474976710655] overflows" },
    { "{" T("a", "F32", "[65536,65536,65536,65536]", "[0,4]") "}", 4, GM_ERR_FORMAT, "overflows" },
    { "{" T("a", "F32", "[281474976710655,65536]", "[0,4]") "}", 4, GM_ERR_FORMAT, "F32 shape [281474976710655,65536] overflows" },
    { "{" T("a", "F32", "[281474976710655]", "[0,1125899906842620]") "}", 4, GM_ERR_FORMAT, "cover 1125899906842620 bytes but 4" },
    { "{" T("a", "F32", "[-1]", "[0,4]") "}", 4, GM_ERR_FORMAT, "negative number" },
    { "{" T("a", "F32", "[1.0]", "[0,4]") "}", 4, GM_ERR_FORMAT, "no fraction or exponent" },
    { "{" T("a", "F32", "[1e0]", "[0,4]") "}", 4, GM_ERR_FORMAT, "no fraction or exponent" },
    /* metadata */
    { "{\"__metadata__\":{\"a\":1}}", 0, GM_ERR_FORMAT, "__metadata__ value of 'a' is not a string" },
    { "{\"__metadata__\":{\"a\":\"x\",\"b\":[]}}", 0, GM_ERR_FORMAT, "value of 'b' is not a string" },
    { "{\"__metadata__\":{\"a\":{}}}", 0, GM_ERR_FORMAT, "value of 'a' is not a string" },
    { "{\"__metadata__\":{\"a\":true}}", 0, GM_ERR_FORMAT, "true, false and null" },
    { "{\"__metadata__\":\"x\"}", 0, GM_ERR_FORMAT, "__metadata__ is not an object" },
    { "{\"__metadata__\":{\"a\":{\"b\":{}}}}", 0, GM_ERR_FORMAT, "nested deeper than 3" },
    { "{\"__metadata__\":{},\"__metadata__\":{}}", 0, GM_ERR_FORMAT, "duplicate key" },
    { "{\"__metadata__\":{\"gm.crc32.data\":\"ABCDEF00\"}}", 0, GM_ERR_FORMAT, "'ABCDEF00' is not 8 lowercase hex digits" },
    { "{\"__metadata__\":{\"gm.crc32.data\":\"0000000g\"}}", 0, GM_ERR_FORMAT, "'0000000g' is not 8 lowercase hex digits" },
    { "{\"__metadata__\":{\"gm.crc32.data\":\"0000000\"}}", 0, GM_ERR_FORMAT, "not 8 lowercase hex digits" },
    { "{\"__metadata__\":{\"gm.crc32.data\":\"000000000\"}}", 0, GM_ERR_FORMAT, "not 8 lowercase hex digits" },
    { "{\"__metadata__\":{\"gm.crc32.data\":\"\"}}", 0, GM_ERR_FORMAT, "not 8 lowercase hex digits" },
    { "{\"__metadata__\":{\"gm.crc32.data\":\"00000001\"}}", 0, GM_ERR_FORMAT, "checksum mismatch: gm.crc32.data is 00000001 but the data's CRC-32 is 00000000" },
    /* the header checksum is read where the writer puts it: its 8 raw bytes */
    { "{\"__metadata__\":{\"gm.crc32.header\":\"000000000\"}}", 0, GM_ERR_FORMAT, "gm.crc32.header is not where the writer puts it" },
    { "{\"__metadata__\":{\"gm.crc32.header\":\"0000000\\u0030\"}}", 0, GM_ERR_FORMAT, "gm.crc32.header is not where the writer puts it" },
    /* the header's frame */
    { "[]", 0, GM_ERR_FORMAT, "does not start with '{'" },
    { " {}", 0, GM_ERR_FORMAT, "does not start with '{'" },
    { "\xef\xbb\xbf{}", 0, GM_ERR_FORMAT, "does not start with '{'" },
    { "", 0, GM_ERR_FORMAT, "does not start with '{'" },
    { "{}\n", 0, GM_ERR_FORMAT, "does not end with '}' and spaces" },
    { "{}\t", 0, GM_ERR_FORMAT, "does not end with '}' and spaces" },
    { "{} x", 0, GM_ERR_FORMAT, "does not end with '}' and spaces" },
    { "{", 0, GM_ERR_FORMAT, "does not end with '}'" },
    { "{     ", 0, GM_ERR_FORMAT, "does not end with '}'" },
    { "{}}", 0, GM_ERR_FORMAT, "header: byte 2: unexpected characters after the value" },
    { "{]}", 0, GM_ERR_FORMAT, "header: byte 1: expected a string key" },
    { "{\"a\":1}", 0, GM_ERR_FORMAT, "tensor 'a' is not an object" },
    { "{\"a\x01\":1}", 0, GM_ERR_FORMAT, "raw control character 0x01" },
    { "{\"\xff\":1}", 0, GM_ERR_FORMAT, "invalid UTF-8" },
};

static void test_crafted_headers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof crafted_cases / sizeof crafted_cases[0]; i++) {
        const crafted *c = &crafted_cases[i];
        size_t len;
        uint8_t *buf = make_file(c->header, c->data_len, &len);
        gm_st_file *file = (gm_st_file *)&file;
        gm_status st = gm_st_parse(buf, len, &file);
        if (st != c->status)
            fail_msg("case %zu %s: status %d (%s), want %d", i, c->header, st, gm_last_error(), c->status);
        if (st == GM_OK) {
            assert_non_null(file);
            assert_false(gm_st_has_crc(file) && strstr(c->header, "gm.crc32") == NULL);
            gm_st_free(file);
        } else {
            assert_null(file);
            if (strstr(gm_last_error(), "safetensors:") || !strstr(gm_last_error(), c->why))
                fail_msg("case %zu %s: message '%s' does not say '%s'", i, c->header, gm_last_error(), c->why);
        }
        test_free(buf);
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
    }
}

static void test_crafted_valid_contents(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = make_file("{" T("a", "F32", "[0]", "[0,0]") "," T("b", "F32", "[2]", "[0,8]") ","
                             T("c", "F32", "[3,0]", "[8,8]") "}  ", 8, &len);
    gm_st_file *file;
    assert_int_equal(gm_st_parse(buf, len, &file), GM_OK);
    assert_int_equal(gm_st_count(file), 3);
    assert_false(gm_st_has_crc(file));   /* a foreign file: no CRC, and the caller can tell */
    assert_int_equal(gm_st_meta_count(file), 0);
    assert_null(gm_st_meta_key(file, 0));
    const gm_st_info *c = gm_st_find(file, "c");
    assert_int_equal(c->rank, 2);
    assert_int_equal(c->shape[0], 3);
    assert_int_equal(c->shape[1], 0);
    assert_int_equal(c->numel, 0);
    assert_int_equal(c->begin, 8);
    float two[2];
    assert_int_equal(gm_st_tensor_copy(file, "b", two, 2), GM_OK);
    assert_memory_equal(two, buf + len - 8, 8);
    gm_st_free(file);
    test_free(buf);

    buf = make_file("{" T("s", "F32", "[]", "[0,4]") "}", 4, &len);
    assert_int_equal(gm_st_parse(buf, len, &file), GM_OK);
    assert_int_equal(gm_st_find(file, "s")->rank, 0);
    assert_int_equal(gm_st_find(file, "s")->numel, 1);
    gm_st_free(file);
    test_free(buf);
}

static void test_long_names(void **state)
{
    (void)state;
    char header[1024], name[GM_ST_MAX_NAME + 2];
    for (int over = 0; over <= 1; over++) {
        memset(name, 'x', sizeof name);
        name[GM_ST_MAX_NAME + over] = '\0';
        snprintf(header, sizeof header, "{\"%s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", name);
        size_t len;
        uint8_t *buf = make_file(header, 4, &len);
        gm_st_file *file;
        assert_int_equal(gm_st_parse(buf, len, &file), over ? GM_ERR_FORMAT : GM_OK);
        if (over)
            assert_non_null(strstr(gm_last_error(), "is 256 bytes, over the limit of 255"));
        gm_st_free(file);
        test_free(buf);
    }
}

static void test_length_prefix(void **state)
{
    (void)state;
    uint8_t buf[80] = { 0 };
    gm_st_file *file;
    for (size_t len = 0; len < 8; len++) {
        assert_int_equal(gm_st_parse(buf, len, &file), GM_ERR_FORMAT);
        assert_non_null(strstr(gm_last_error(), "too short"));
    }
    static const struct { uint64_t n; const char *why; } cases[] = {
        { 0, "does not start with '{'" },
        { 73, "header length 73 but only 72 bytes follow" },
        { (16u << 20) + 1, "header length 16777217 is over the limit of 16777216" },
        { (uint64_t)1 << 63, "is over the limit" },
        { UINT64_MAX, "header length 18446744073709551615 is over the limit" },
        { ((uint64_t)1 << 32) + 2, "is over the limit" },   /* would be 2 if truncated to 32 bits */
    };
    memcpy(buf + 8, "{}", 2);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int b = 0; b < 8; b++)
            buf[b] = (uint8_t)(cases[i].n >> (8 * b));
        assert_int_equal(gm_st_parse(buf, sizeof buf, &file), GM_ERR_FORMAT);
        if (!strstr(gm_last_error(), cases[i].why))
            fail_msg("N = %llu: '%s'", (unsigned long long)cases[i].n, gm_last_error());
    }
    assert_int_equal(gm_st_parse(NULL, 8, &file), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_st_parse(buf, 8, NULL), GM_ERR_INVALID_ARG);
}

static void test_table_limits(void **state)
{
    (void)state;
    size_t n = GM_ST_MAX_TENSORS + 1;
    char (*names)[16] = test_malloc(n * sizeof *names);
    gm_st_tensor *t = test_calloc(n, sizeof *t);
    gm_st_meta *m = test_calloc(GM_ST_MAX_META, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "t%06zu", n - 1 - i);
        t[i] = (gm_st_tensor){ names[i], 1, { 0 }, NULL };
    }
    for (size_t i = 0; i < GM_ST_MAX_META; i++)
        m[i] = (gm_st_meta){ names[i], "" };
    uint8_t *buf;
    size_t len;
    /* exactly at the limits: written and read back */
    assert_int_equal(gm_st_write_buffer(t + 1, n - 1, m, GM_ST_MAX_META - 2, &buf, &len), GM_OK);
    gm_st_file *file;
    assert_int_equal(gm_st_parse(buf, len, &file), GM_OK);
    assert_int_equal(gm_st_count(file), GM_ST_MAX_TENSORS);
    assert_int_equal(gm_st_meta_count(file), GM_ST_MAX_META);
    assert_string_equal(gm_st_at(file, 0)->name, "t000000");
    assert_int_equal(gm_st_find(file, "t012345")->rank, 1);
    assert_null(gm_st_find(file, "t065536"));
    gm_st_free(file);
    gm_free(buf);
    /* one over: the writer refuses */
    assert_int_equal(gm_st_write_buffer(t, n, NULL, 0, &buf, &len), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_st_write_buffer(NULL, 0, m, GM_ST_MAX_META - 1, &buf, &len), GM_ERR_INVALID_ARG);

    /* and so does the reader, for files from elsewhere */
    size_t cap = n * 64 + 64;
    char *h = test_malloc(cap);
    for (int meta = 0; meta <= 1; meta++) {
        size_t k = (size_t)snprintf(h, cap, meta ? "{\"__metadata__\":{" : "{");
        for (size_t i = 0; i < (meta ? (size_t)GM_ST_MAX_META + 1 : n); i++)
            k += (size_t)snprintf(h + k, cap - k, meta ? "%s\"%s\":\"\"" : "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}",
                                  i ? "," : "", names[i]);
        snprintf(h + k, cap - k, meta ? "}}" : "}");
        uint8_t *f = make_file(h, 0, &len);
        assert_int_equal(gm_st_parse(f, len, &file), GM_ERR_FORMAT);
        assert_non_null(strstr(gm_last_error(), meta ? "4097 metadata entries, over the limit of 4096"
                                                     : "65537 tensors, over the limit of 65536"));
        test_free(f);
    }
    test_free(h);
    test_free(m);
    test_free(t);
    test_free(names);
}

static void test_parse_alloc_failures(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    size_t len, k;
    uint8_t *buf = write_fixture(&f, &len);
    for (k = 1; k < 100; k++) {
        gm_test_alloc_reset(k);
        gm_st_file *file = (gm_st_file *)&file;
        gm_status st = gm_st_parse(buf, len, &file);
        if (st == GM_OK) {
            assert_true(gm_test_alloc.allocs < k);
            check_fixture(file, &f);
            gm_st_free(file);
            break;
        }
        if (st != GM_ERR_NO_MEMORY)
            fail_msg("failing allocation %zu: status %d (%s)", k, st, gm_last_error());
        assert_null(file);
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees + 1);
    }
    assert_true(k >= 4);   /* JSON text, nodes, children, tensor table */
    gm_test_alloc_reset(0);
    gm_free(buf);
}

static void test_write_alloc_failures(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    size_t len, want_len, k;
    uint8_t *want = write_fixture(&f, &want_len);
    for (int to_file = 0; to_file <= 1; to_file++) {
        for (k = 1; k < 100; k++) {
            gm_test_alloc_reset(k);
            uint8_t *buf = (uint8_t *)&buf;
            gm_status st = to_file ? gm_st_write_file(gm_test_path("w.safetensors"), f.t, 5, f.m, 2)
                                   : gm_st_write_buffer(f.t, 5, f.m, 2, &buf, &len);
            size_t allocs = gm_test_alloc.allocs, frees = gm_test_alloc.frees;
            gm_test_alloc_reset(0);
            if (st == GM_OK) {
                assert_true(allocs < k);
                assert_int_equal(allocs, frees + !to_file);
                if (!to_file) {
                    assert_int_equal(len, want_len);
                    assert_memory_equal(buf, want, len);
                    gm_free(buf);
                } else {
                    uint8_t *got = slurp(gm_test_path("w.safetensors"), &len);
                    assert_int_equal(len, want_len);
                    assert_memory_equal(got, want, len);
                    test_free(got);
                }
                break;
            }
            if (st != GM_ERR_NO_MEMORY)
                fail_msg("failing allocation %zu: status %d (%s)", k, st, gm_last_error());
            if (!to_file)
                assert_null(buf);
            assert_int_equal(allocs, frees + 1);
            assert_int_equal(gm_test_dir_entries(), 0);
        }
        assert_true(k >= 2);
    }
    gm_free(want);
}

/* ---- files and failing system calls ---- */

enum { OP_OPEN, OP_READ, OP_WRITE, OP_FSYNC, OP_CLOSE, OP_RENAME, N_OPS };
static const char *const op_names[N_OPS] = { "open", "read", "write", "fsync", "close", "rename" };

static struct {
    int calls[N_OPS];
    int fail_op, fail_at, err;
    int short_writes;   /* write at most half of what is asked */
    int renamed;
} fault;

static int hit(int op)
{
    if (++fault.calls[op] == fault.fail_at && op == fault.fail_op) {
        errno = fault.err;
        return 1;
    }
    return 0;
}

static int f_open(const char *p, int flags, mode_t mode) { return hit(OP_OPEN) ? -1 : open(p, flags, mode); }
static ssize_t f_read(int fd, void *b, size_t n) { return hit(OP_READ) ? -1 : read(fd, b, n); }
static int f_fsync(int fd) { return hit(OP_FSYNC) ? -1 : fsync(fd); }
static int f_close(int fd) { return hit(OP_CLOSE) ? (close(fd), -1) : close(fd); }

static ssize_t f_write(int fd, const void *b, size_t n)
{
    if (hit(OP_WRITE))
        return -1;
    return write(fd, b, fault.short_writes && n > 1 ? n / 2 : n);
}

static int f_rename(const char *from, const char *to)
{
    if (hit(OP_RENAME))
        return -1;
    int r = rename(from, to);
    fault.renamed |= r == 0;
    return r;
}

static const gm_io_ops fault_ops = { f_open, f_read, f_write, f_fsync, f_close, f_rename };

static void fault_reset(int op, int at, int err, int short_writes)
{
    memset(&fault, 0, sizeof fault);
    fault.fail_op = op;
    fault.fail_at = at;
    fault.err = err;
    fault.short_writes = short_writes;
}

static void assert_file(const char *path, const uint8_t *want, size_t want_len)
{
    size_t len;
    uint8_t *got = slurp(path, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, len);
    test_free(got);
}

static void test_file_round_trip(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    size_t len, flen;
    uint8_t *want = write_fixture(&f, &len);
    const char *path = gm_test_path("model.safetensors");
    assert_int_equal(gm_st_write_file(path, f.t, 5, f.m, 2), GM_OK);
    assert_file(path, want, len);
    assert_int_equal(gm_test_dir_entries(), 1);
    /* a new file gets the usual permissions, not mkstemp's 0600 */
    mode_t mask = umask(0);
    umask(mask);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0666 & ~mask);

    uint8_t *data;
    assert_int_equal(gm_io_read_file(path, 1 << 20, &data, &flen), GM_OK);
    gm_st_file *file;
    assert_int_equal(gm_st_parse(data, flen, &file), GM_OK);
    check_fixture(file, &f);
    gm_st_free(file);
    gm_free(data);

    /* overwrite with something else entirely, then back */
    gm_st_meta m = { "k", "v" };
    assert_int_equal(gm_st_write_file(path, NULL, 0, &m, 1), GM_OK);
    assert_int_equal(gm_io_read_file(path, 1 << 20, &data, &flen), GM_OK);
    assert_int_equal(flen, 128);
    gm_free(data);
    assert_int_equal(gm_st_write_file(path, f.t, 5, f.m, 2), GM_OK);
    assert_file(path, want, len);
    assert_int_equal(gm_test_dir_entries(), 1);

    /* with short writes everywhere the bytes are the same */
    fault_reset(-1, 0, 0, 1);
    gm_io_set_ops(&fault_ops);
    assert_int_equal(gm_st_write_file(gm_test_path("short.safetensors"), f.t, 5, f.m, 2), GM_OK);
    gm_io_set_ops(NULL);
    assert_true(fault.calls[OP_WRITE] > 10);
    assert_file(gm_test_path("short.safetensors"), want, len);
    gm_free(want);
}

static void test_file_errors(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    assert_int_equal(gm_st_write_file(gm_test_path("no/such/dir.safetensors"), f.t, 5, f.m, 2), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(ENOENT)));
    /* the target is a directory: refused before a temporary file is made
     * (a failing rename is injected in test_file_fault_injection) */
    assert_int_equal(mkdir(gm_test_path("adir"), 0700), 0);
    assert_int_equal(gm_st_write_file(gm_test_path("adir"), f.t, 5, f.m, 2), GM_ERR_IO);
    assert_non_null(strstr(gm_last_error(), strerror(EISDIR)));
    assert_int_equal(gm_test_dir_entries(), 1);
    assert_int_equal(rmdir(gm_test_path("adir")), 0);
}

static void test_file_fault_injection(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    const char *path = gm_test_path("ckpt.safetensors");
    /* the previous checkpoint: any file, byte for byte */
    gm_st_meta old_meta = { "gm.step", "41" };
    size_t old_len, new_len;
    uint8_t *old, *new_bytes = write_fixture(&f, &new_len);
    assert_int_equal(gm_st_write_buffer(NULL, 0, &old_meta, 1, &old, &old_len), GM_OK);
    static const int ops_to_fail[] = { OP_OPEN, OP_WRITE, OP_FSYNC, OP_CLOSE, OP_RENAME };
    size_t faults = 0;
    for (int short_writes = 0; short_writes <= 1; short_writes++)
        for (size_t o = 0; o < sizeof ops_to_fail / sizeof ops_to_fail[0]; o++) {
            int op = ops_to_fail[o];
            for (int k = 1;; k++) {
                assert_int_equal(gm_st_write_file(path, NULL, 0, &old_meta, 1), GM_OK);
                int err = op == OP_WRITE ? ENOSPC : EIO;
                fault_reset(op, k, err, short_writes);
                gm_io_set_ops(&fault_ops);
                gm_status st = gm_st_write_file(path, f.t, 5, f.m, 2);
                gm_io_set_ops(NULL);
                assert_int_equal(gm_test_dir_entries(), 1);   /* never a temporary file left */
                if (fault.calls[op] < k) {   /* the fault was never reached */
                    assert_int_equal(st, GM_OK);
                    assert_file(path, new_bytes, new_len);
                    break;
                }
                faults++;
                if (!fault.renamed) {
                    if (st != GM_ERR_IO)
                        fail_msg("%s #%d: status %d (%s)", op_names[op], k, st, gm_last_error());
                    assert_non_null(strstr(gm_last_error(), strerror(err)));
                    assert_file(path, old, old_len);
                } else {
                    /* after the rename only the directory is left: the new
                     * file is in place; a failing close of it is ignored */
                    assert_int_equal(st, op == OP_CLOSE ? GM_OK : GM_ERR_IO);
                    if (st)
                        assert_non_null(strstr(gm_last_error(), "directory"));
                    assert_file(path, new_bytes, new_len);
                }
            }
        }
    /* open: file, directory; fsync: file, directory; close: file, directory;
     * rename: 1; write: the header and four non-empty tensors, more when short */
    assert_true(faults >= 2 * 12);
    gm_free(old);
    gm_free(new_bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_golden_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unaligned_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_bit_flips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_flips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crafted_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crafted_valid_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_length_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_alloc_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_alloc_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_fault_injection, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
