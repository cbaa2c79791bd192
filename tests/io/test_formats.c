/* Datasets from NPY and CSV files (lib/io/npy.c, lib/io/csv.c,
 * gm_dataset_open): values, shapes and labels read back; every way a file
 * can be wrong refused with a message that says where; allocation-failure
 * sweeps. Files written with numpy itself are checked from Python
 * (bindings/python/tests/test_formats.py); here the bytes are made by hand,
 * so that each defect is exactly the one meant. Every test runs under the
 * counting allocator, so leaks fail it. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "genmodel/data.h"
#include "gm_test.h"

static void write_text(const char *name, const char *text)
{
    gm_test_write_file(gm_test_path(name), text, strlen(text));
}

/* An NPY file: version major, the header dict (padded with spaces to a
 * multiple of 64 as numpy does, and a newline), then len bytes of data. */
static void write_npy(const char *name, int major, const char *dict, const void *data, size_t len)
{
    const size_t fixed = major == 1 ? 10 : 12, dlen = strlen(dict);
    size_t hlen = dlen + 1;
    hlen += (64 - (fixed + hlen) % 64) % 64;
    unsigned char *b = malloc(fixed + hlen + len);
    assert_non_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t i = 0; i < fixed - 8; i++)
        b[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + fixed, dict, dlen);
    memset(b + fixed + dlen, ' ', hlen - dlen - 1);
    b[fixed + hlen - 1] = '\n';
    if (len)
        memcpy(b + fixed + hlen, data, len);
    gm_test_write_file(gm_test_path(name), b, fixed + hlen + len);
    free(b);
}

static gm_dataset *open_ok(const char *name, const gm_dataset_options *o)
{
    gm_dataset *ds = NULL;
    gm_status st = gm_dataset_open(gm_test_path(name), o, &ds);
    if (st != GM_OK)
        fail_msg("opening %s: %s", name, gm_last_error());
    return ds;
}

/* opening name fails with want and says so (gm_test_open_fails) */
static void expect_message(const char *name, const gm_dataset_options *o, gm_status want, const char *word,
                           const char *word2)
{
    gm_test_open_fails(gm_test_path(name), o, want, word, word2);
}

/* the same, and the message names the file */
static void expect_fails(const char *name, const gm_dataset_options *o, gm_status want, const char *word,
                         const char *word2)
{
    expect_message(name, o, want, word, word2);
    if (!strstr(gm_last_error(), name))
        fail_msg("message \"%s\" should name %s", gm_last_error(), name);
}

static void expect_rows(const gm_dataset *ds, const float *want, int32_t count, int32_t dim)
{
    assert_int_equal(gm_dataset_count(ds), count);
    assert_int_equal(gm_dataset_dim(ds), dim);
    int32_t idx[16];
    float x[64];
    assert_true(count <= 16 && count * dim <= 64);
    for (int32_t i = 0; i < count; i++)
        idx[i] = i;
    assert_int_equal(gm_dataset_gather(ds, idx, count, x, NULL), GM_OK);
    for (int32_t i = 0; i < count * dim; i++)
        if (x[i] != want[i])
            fail_msg("value %d is %g, want %g", i, (double)x[i], (double)want[i]);
}

static int group_setup(void **state) { (void)state; return gm_test_dir_make(); }
static int group_teardown(void **state) { (void)state; return gm_test_dir_remove(); }
static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

/* ---- NPY ---- */

static void test_npy_types(void **state)
{
    (void)state;
    /* the same (2, 3) values, 0 1 2 / -3 4 250, as f4 and f8 in both byte
     * orders, as i2 big-endian, as u1 (pixels, /255), as bool */
    const float want[6] = { 0, 1, 2, -3, 4, 250 };
    float f4[6];
    double f8[6];
    unsigned char be2[12], be4[24];
    for (int i = 0; i < 6; i++) {
        f4[i] = want[i];
        f8[i] = want[i];
        const int16_t v = (int16_t)want[i];
        be2[2 * i] = (unsigned char)((uint16_t)v >> 8), be2[2 * i + 1] = (unsigned char)v;
        uint32_t u;
        memcpy(&u, &f4[i], 4);
        for (int k = 0; k < 4; k++)
            be4[4 * i + k] = (unsigned char)(u >> (24 - 8 * k));
    }
    write_npy("f4.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4, sizeof f4);
    write_npy("f8.npy", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f8, sizeof f8);
    write_npy("f4be.npy", 3, "{\"shape\": (2, 3), \"fortran_order\": False, \"descr\": \">f4\"}", be4, sizeof be4);
    write_npy("i2be.npy", 1, "{'descr': '>i2', 'fortran_order': False, 'shape': (2,3)}", be2, sizeof be2);
    const char *names[] = { "f4.npy", "f8.npy", "f4be.npy", "i2be.npy" };
    for (int i = 0; i < 4; i++) {
        gm_dataset *ds = open_ok(names[i], NULL);
        expect_rows(ds, want, 2, 3);
        assert_int_equal(gm_dataset_height(ds), 1);
        assert_int_equal(gm_dataset_width(ds), 3);
        gm_dataset_free(ds);
    }
    const unsigned char u1[6] = { 0, 51, 255, 102, 0, 204 };
    write_npy("u1.npy", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", u1, sizeof u1);
    gm_dataset *ds = open_ok("u1.npy", NULL);
    expect_rows(ds, (const float[]){ 0, 0.2f, 1, 0.4f, 0, 0.8f }, 2, 3);
    gm_dataset_free(ds);
    const unsigned char b1[2] = { 1, 0 };
    write_npy("b1.npy", 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 1), }", b1, sizeof b1);
    ds = open_ok("b1.npy", NULL);
    expect_rows(ds, (const float[]){ 1, 0 }, 2, 1);
    gm_dataset_free(ds);
}

static void test_npy_shapes(void **state)
{
    (void)state;
    /* (2, 2, 3, 2): two images of 2 x 3 pixels of 2 channels */
    unsigned char px[24];
    for (int i = 0; i < 24; i++)
        px[i] = (unsigned char)(10 * i);
    write_npy("hwc.npy", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3, 2), }", px, sizeof px);
    gm_dataset *ds = open_ok("hwc.npy", NULL);
    assert_int_equal(gm_dataset_count(ds), 2);
    assert_int_equal(gm_dataset_dim(ds), 12);
    assert_int_equal(gm_dataset_height(ds), 2);
    assert_int_equal(gm_dataset_width(ds), 3);
    assert_int_equal(gm_dataset_channels(ds), 2);
    gm_dataset_free(ds);
    write_npy("hw.npy", 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (4, 2, 3), }", px, sizeof px);
    ds = open_ok("hw.npy", NULL);
    assert_int_equal(gm_dataset_height(ds), 2);
    assert_int_equal(gm_dataset_width(ds), 3);
    assert_int_equal(gm_dataset_channels(ds), 1);
    gm_dataset_free(ds);

    /* Fortran order (2, 3): stored column by column */
    const float fortran[6] = { 0, -3, 1, 4, 2, 250 };
    write_npy("fortran.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", fortran,
              sizeof fortran);
    ds = open_ok("fortran.npy", NULL);
    expect_rows(ds, (const float[]){ 0, 1, 2, -3, 4, 250 }, 2, 3);
    gm_dataset_free(ds);
    /* and (2, 2, 2): element (i, j, k) at i + 2 j + 4 k */
    const float f3[8] = { 0, 4, 2, 6, 1, 5, 3, 7 };
    write_npy("fortran3.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }", f3, sizeof f3);
    ds = open_ok("fortran3.npy", NULL);
    expect_rows(ds, (const float[]){ 0, 1, 2, 3, 4, 5, 6, 7 }, 2, 4);
    gm_dataset_free(ds);
}

static void test_npy_labels(void **state)
{
    (void)state;
    const float x[6] = { 1, 2, 3, 4, 5, 6 };
    const int64_t labels[3] = { 2, 0, 7 }, negative[3] = { 0, -1, 0 };
    const float float_labels[3] = { 0, 1, 2 };
    write_npy("x.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", x, sizeof x);
    write_npy("y.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", labels, sizeof labels);
    write_npy("y2.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", labels, 16);
    write_npy("yneg.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", negative,
              sizeof negative);
    write_npy("yf.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", float_labels,
              sizeof float_labels);
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.labels_path = gm_test_path("y.npy");
    gm_dataset *ds = open_ok("x.npy", &o);
    assert_int_equal(gm_dataset_n_classes(ds), 8);
    int32_t idx[3] = { 0, 1, 2 }, got[3];
    float rows[6];
    assert_int_equal(gm_dataset_gather(ds, idx, 3, rows, got), GM_OK);
    assert_int_equal(got[0], 2);
    assert_int_equal(got[2], 7);
    gm_dataset_free(ds);
    o.labels_path = gm_test_path("y2.npy");
    expect_fails("x.npy", &o, GM_ERR_FORMAT, "3 rows", "y2.npy");
    o.labels_path = gm_test_path("yneg.npy");
    expect_message("x.npy", &o, GM_ERR_FORMAT, "label 1 is -1", "yneg.npy");
    o.labels_path = gm_test_path("yf.npy");
    expect_message("x.npy", &o, GM_ERR_FORMAT, "floats", "yf.npy");
}

static void test_npy_bad(void **state)
{
    (void)state;
    const float x[6] = { 0 };
    const float nan_row[2] = { 1.0f, NAN };
    static const struct { const char *name, *dict; size_t len; const char *word; } cases[] = {
        { "short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20, "holds 20" },
        { "long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", 24, "holds 24" },
        { "descr.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", 24, "descr" },
        { "struct.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", 24, "quoted" },
        { "nokey.npy", "{'descr': '<f4', 'shape': (2, 3), }", 24, "required" },
        { "twice.npy", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 24, "twice" },
        { "extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", 24, "key" },
        { "zero.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 0, "dimension of 0" },
        { "scalar.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, "scalar" },
        { "huge.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999, 99999, 99999), }", 24, "larger" },
        { "dim.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 99999999999), }", 24, "too large" },
        { "flat.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 24, "1 dimension" },
        { "five.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2, 3, 1), }", 24, "5 dimensions" },
        { "fortran.npy", "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }", 24, "True or False" },
        { "open.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", 24, "expected" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_npy(cases[i].name, 1, cases[i].dict, x, cases[i].len);
        expect_fails(cases[i].name, NULL, GM_ERR_FORMAT, cases[i].word, NULL);
    }
    write_npy("nan.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", nan_row, sizeof nan_row);
    expect_fails("nan.npy", NULL, GM_ERR_FORMAT, "element 1", "finite");
    /* a header length past the end of the file, a bad version, a bare magic */
    unsigned char lie[16] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f, '{', '}' };
    gm_test_write_file(gm_test_path("lie.npy"), lie, sizeof lie);
    expect_fails("lie.npy", NULL, GM_ERR_FORMAT, "claims 32767", NULL);
    lie[6] = 4;
    gm_test_write_file(gm_test_path("v4.npy"), lie, sizeof lie);
    expect_fails("v4.npy", NULL, GM_ERR_FORMAT, "version 4", NULL);
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.format = GM_DATA_NPY;
    write_text("text.npy", "1,2\n");
    expect_fails("text.npy", &o, GM_ERR_FORMAT, "not an NPY file", NULL);
}

/* ---- CSV ---- */

static void test_csv_values(void **state)
{
    (void)state;
    const float want[6] = { 1.5f, -2, 300, 0.25f, 1e-3f, -4e2f };
    write_text("plain.csv", "1.5,-2,3e2\n.25, 1E-3 ,-4e+2\n");
    write_text("crlf.csv", "1.5,-2,3e2\r\n.25,1E-3,-4e+2\r\n");
    write_text("header.csv", "a,b,c\n1.5,-2,3e2\n.25,1E-3,-4e+2");
    write_text("quoted.csv", "\"a\",\"b\",\"c\"\n\"1.5\",-2,300\n0.25,\"0.001\",-400\n");
    write_text("semi.csv", "1.5;-2;300\n0.25;0.001;-400\n");
    const char *names[] = { "plain.csv", "crlf.csv", "header.csv", "quoted.csv" };
    for (int i = 0; i < 4; i++) {
        gm_dataset *ds = open_ok(names[i], NULL);
        expect_rows(ds, want, 2, 3);
        assert_int_equal(gm_dataset_has_labels(ds), 0);
        assert_int_equal(gm_dataset_channels(ds), 1);
        gm_dataset_free(ds);
    }
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.delimiter = ';';
    gm_dataset *ds = open_ok("semi.csv", &o);
    expect_rows(ds, want, 2, 3);
    gm_dataset_free(ds);
    /* a header line of numbers, said to be one */
    o.delimiter = ',';
    o.header = 1;
    ds = open_ok("plain.csv", &o);
    expect_rows(ds, want + 3, 1, 3);
    gm_dataset_free(ds);
}

/* Numbers of every form the reader takes, each read as strtod reads it
 * (then rounded to float): the short exact path and strtod agree. */
static void test_csv_numbers(void **state)
{
    (void)state;
    enum { ROWS = 500, COLS = 8 };
    char *text = malloc(ROWS * COLS * 48);
    float want[ROWS * COLS];
    size_t at = 0;
    uint32_t r = 12345;
    for (int i = 0; i < ROWS * COLS; i++) {
        char cell[48];
        r = r * 1664525u + 1013904223u;
        const int form = (int)(r >> 28) % 6, digits = 1 + (int)((r >> 8) % 21), e10 = (int)((r >> 16) % 61) - 30;
        uint64_t m = 0;
        for (int d = 0; d < digits && d < 19; d++) {
            r = r * 1664525u + 1013904223u;
            m = 10 * m + (r >> 27) % 10;
        }
        switch (form) {
        case 0: snprintf(cell, sizeof cell, "%llu", (unsigned long long)m); break;
        case 1: snprintf(cell, sizeof cell, "-%llu.%03d", (unsigned long long)(m % 100000), (int)(r % 1000)); break;
        case 2: snprintf(cell, sizeof cell, "%llue%d", (unsigned long long)m, e10); break;
        case 3: snprintf(cell, sizeof cell, ".%llu", (unsigned long long)m); break;
        case 4: snprintf(cell, sizeof cell, "%.9g", (double)m * 1e-7 * (r & 1 ? 1 : -1)); break;
        default: snprintf(cell, sizeof cell, "+0.000%lluE-3", (unsigned long long)m); break;
        }
        const double d = strtod(cell, NULL);
        want[i] = fabs(d) > 3.4e38 ? 0.0f : (float)d;
        if (fabs(d) > 3.4e38)
            snprintf(cell, sizeof cell, "0");
        at += (size_t)snprintf(text + at, 48, "%s%c", cell, i % COLS == COLS - 1 ? '\n' : ',');
    }
    gm_test_write_file(gm_test_path("numbers.csv"), text, at);
    free(text);
    gm_dataset *ds = open_ok("numbers.csv", NULL);
    int32_t idx[ROWS];
    static float x[ROWS * COLS];
    for (int i = 0; i < ROWS; i++)
        idx[i] = i;
    assert_int_equal(gm_dataset_gather(ds, idx, ROWS, x, NULL), GM_OK);
    for (int i = 0; i < ROWS * COLS; i++)
        if (memcmp(&x[i], &want[i], sizeof x[i]))
            fail_msg("cell %d is %.9g, strtod's %.9g", i, (double)x[i], (double)want[i]);
    gm_dataset_free(ds);
}

static void test_csv_labels(void **state)
{
    (void)state;
    write_text("labelled.csv", "x,label,y\n1,3,2\n4,0,5\n");
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    const char *columns[] = { "label", "1" };
    for (int i = 0; i < 2; i++) {
        o.label_column = columns[i];
        gm_dataset *ds = open_ok("labelled.csv", &o);
        int32_t idx[2] = { 0, 1 }, labels[2];
        float x[4];
        assert_int_equal(gm_dataset_dim(ds), 2);
        assert_int_equal(gm_dataset_n_classes(ds), 4);
        assert_int_equal(gm_dataset_gather(ds, idx, 2, x, labels), GM_OK);
        assert_int_equal(labels[0], 3);
        assert_int_equal(labels[1], 0);
        assert_true(x[0] == 1 && x[1] == 2 && x[2] == 4 && x[3] == 5);
        gm_dataset_free(ds);
    }
    o.label_column = "colour";
    expect_fails("labelled.csv", &o, GM_ERR_INVALID_ARG, "no column named 'colour'", NULL);
    o.label_column = "3";
    expect_fails("labelled.csv", &o, GM_ERR_INVALID_ARG, "no label column 3", NULL);
    write_text("badlabel.csv", "x,label\n1,2\n4,0.5\n");
    o.label_column = "label";
    expect_fails("badlabel.csv", &o, GM_ERR_FORMAT, "line 3, column 2", "not a label");
    write_text("onlylabel.csv", "label\n1\n");
    expect_fails("onlylabel.csv", &o, GM_ERR_FORMAT, "no column besides", NULL);
}

static void test_csv_bad(void **state)
{
    (void)state;
    static const struct { const char *name, *text, *word, *word2; } cases[] = {
        { "ragged.csv", "1,2,3\n4,5\n", "line 2 has 2 cells", NULL },
        { "ragged-header.csv", "a,b\n1,2\n3,4,5\n", "line 3 has 3 cells", NULL },
        { "empty-row.csv", "1,2\n\n3,4\n", "line 2 is empty", NULL },
        { "empty.csv", "", "is empty", NULL },
        { "header-only.csv", "a,b\n", "no rows", NULL },
        { "word.csv", "1,2\n3,four\n", "line 2, column 2", "'four'" },
        { "empty-cell.csv", "1,2\n3,\n", "line 2, column 2", "not a finite" },
        { "nan.csv", "1,2\nnan,4\n", "line 2, column 1", "not a finite" },
        { "inf.csv", "1,2\n3,-inf\n", "line 2, column 2", NULL },
        { "big.csv", "1,2\n3,1e39\n", "line 2, column 2", NULL },
        { "hex.csv", "1,2\n0x10,4\n", "line 2, column 1", NULL },
        { "dot.csv", "1,2\n.,4\n", "line 2, column 1", NULL },
        { "exp.csv", "1,2\n1e,4\n", "line 2, column 1", NULL },
        { "long.csv", "1,2\n3,1.00000000000000000000000000000000000000000000000000000000000000001\n",
          "line 2, column 2", "..." },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text(cases[i].name, cases[i].text);
        expect_fails(cases[i].name, NULL, GM_ERR_FORMAT, cases[i].word, cases[i].word2);
    }
    gm_test_write_file(gm_test_path("nul.csv"), "1,2\n3\0,4\n", 9);
    expect_fails("nul.csv", NULL, GM_ERR_FORMAT, "line 2, column 1", NULL);
}

/* ---- every allocation failing in turn ---- */

static void sweep(const char *name, const gm_dataset_options *o, size_t min_allocs)
{
    assert_true(gm_test_alloc_sweep(gm_test_open_and_free, &(gm_test_opening){ gm_test_path(name), o }) >=
                min_allocs);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    const float x[6] = { 1, 2, 3, 4, 5, 6 };
    const int16_t y[3] = { 1, 0, 1 };
    write_npy("sx.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", x, sizeof x);
    write_npy("sy.npy", 1, "{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", y, sizeof y);
    write_text("s.csv", "a,label\n1,0\n2,1\n");
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.labels_path = gm_test_path("sy.npy");
    /* NPY: the file, the values, the labels' file and values, the int32
     * labels, the dataset */
    sweep("sx.npy", &o, 6);
    gm_dataset_options_init(&o);
    o.label_column = "label";
    /* CSV: the file, the values, the labels, the dataset */
    sweep("s.csv", &o, 4);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_npy_types), T(test_npy_shapes), T(test_npy_labels), T(test_npy_bad),
        T(test_csv_values), T(test_csv_numbers), T(test_csv_labels), T(test_csv_bad), T(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
