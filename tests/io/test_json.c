/* The strict JSON parser: documents it accepts and how they read back, a
 * table of every malformed construct it must refuse (with the message), the
 * limits, and a sweep failing each allocation in turn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "io/json.h"
#include "gm_test.h"

static int setup(void **state) { (void)state; gm_test_alloc_install(); return 0; }
static int teardown(void **state) { (void)state; gm_test_alloc_uninstall(); return 0; }

static gm_json_doc *parse_ok(const char *text)
{
    gm_json_doc *doc = NULL;
    gm_status st = gm_json_parse(text, strlen(text), NULL, &doc);
    if (st != GM_OK)
        fail_msg("'%s' was refused: %s", text, gm_last_error());
    return doc;
}

static uint64_t uint_of(const gm_json_node *n)
{
    uint64_t v = 0;
    assert_true(gm_json_uint(n, &v));
    return v;
}

static void test_header_document(void **state)
{
    (void)state;
    const char *text = " {\"w\" :\t{\"dtype\": \"F32\", \"shape\": [2, 3],\r\n"
                       "  \"data_offsets\": [0, 24]},\n\"__metadata__\": {\"k\": \"v\"}}\n";
    gm_json_doc *doc = parse_ok(text);
    const gm_json_node *root = gm_json_root(doc);
    assert_int_equal(gm_json_kind_of(root), GM_JSON_OBJECT);
    assert_int_equal(gm_json_count(root), 2);
    /* key order, not document order: '_' (0x5f) sorts before 'w' */
    size_t len = 0;
    assert_string_equal(gm_json_key_at(root, 0, &len), "__metadata__");
    assert_int_equal(len, 12);
    assert_string_equal(gm_json_key_at(root, 1, NULL), "w");
    const gm_json_node *w = gm_json_get(root, "w");
    assert_ptr_equal(w, gm_json_at(root, 1));
    assert_string_equal(gm_json_string(gm_json_get(w, "dtype"), &len), "F32");
    assert_int_equal(len, 3);
    const gm_json_node *shape = gm_json_get(w, "shape");
    assert_int_equal(gm_json_kind_of(shape), GM_JSON_ARRAY);
    assert_int_equal(gm_json_count(shape), 2);
    assert_int_equal(uint_of(gm_json_at(shape, 0)), 2);
    assert_int_equal(uint_of(gm_json_at(shape, 1)), 3);
    assert_int_equal(uint_of(gm_json_at(gm_json_get(w, "data_offsets"), 1)), 24);
    assert_string_equal(gm_json_string(gm_json_get(gm_json_get(root, "__metadata__"), "k"), NULL), "v");
    assert_null(gm_json_get(root, "x"));
    gm_json_free(doc);
}

static void test_strings(void **state)
{
    (void)state;
    static const struct { const char *json, *want; } cases[] = {
        { "\"\"", "" },
        { "\"plain\"", "plain" },
        { "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t" },
        { "\"\\u0041\\u00e9\\u00E9\"", "A\xc3\xa9\xc3\xa9" },
        { "\"\\u20ac\"", "\xe2\x82\xac" },
        { "\"\\ue000\\uffff\"", "\xee\x80\x80\xef\xbf\xbf" },   /* past the surrogates, still one unit */
        { "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80" },            /* a surrogate pair */
        { "\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf" },            /* U+10FFFF */
        { "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
        { "\"\x7f\"", "\x7f" },                                   /* DEL is not a control character in JSON */
        { "\"\xef\xbb\xbf\"", "\xef\xbb\xbf" },                   /* a BOM inside a string is just text */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_json_doc *doc = parse_ok(cases[i].json);
        size_t len;
        const char *s = gm_json_string(gm_json_root(doc), &len);
        assert_non_null(s);
        assert_int_equal(len, strlen(cases[i].want));
        assert_memory_equal(s, cases[i].want, len + 1);
        gm_json_free(doc);
    }
}

static void test_scalars_and_empties(void **state)
{
    (void)state;
    gm_json_doc *doc = parse_ok("[0, 7, 9007199254740992, {}, [], [[]], \"\"]");
    const gm_json_node *a = gm_json_root(doc);
    assert_int_equal(gm_json_count(a), 7);
    assert_int_equal(uint_of(gm_json_at(a, 0)), 0);
    assert_int_equal(uint_of(gm_json_at(a, 1)), 7);
    assert_true(uint_of(gm_json_at(a, 2)) == (uint64_t)1 << 53);
    assert_int_equal(gm_json_kind_of(gm_json_at(a, 3)), GM_JSON_OBJECT);
    assert_int_equal(gm_json_count(gm_json_at(a, 3)), 0);
    assert_int_equal(gm_json_count(gm_json_at(a, 4)), 0);
    assert_int_equal(gm_json_count(gm_json_at(gm_json_at(a, 5), 0)), 0);
    assert_string_equal(gm_json_string(gm_json_at(a, 6), NULL), "");
    assert_null(gm_json_at(a, 7));
    gm_json_free(doc);

    doc = parse_ok("42");
    assert_int_equal(uint_of(gm_json_root(doc)), 42);
    gm_json_free(doc);
    doc = parse_ok("0");   /* a zero that ends the text: nothing after it is looked at */
    assert_int_equal(uint_of(gm_json_root(doc)), 0);
    gm_json_free(doc);
    doc = parse_ok("[[[[1]]]]");   /* exactly the default depth */
    gm_json_free(doc);
    doc = parse_ok("[3, 1, 2]");   /* arrays keep their order */
    assert_int_equal(uint_of(gm_json_at(gm_json_root(doc), 0)), 3);
    assert_int_equal(uint_of(gm_json_at(gm_json_root(doc), 2)), 2);
    gm_json_free(doc);
}

static void test_key_order_and_lookup(void **state)
{
    (void)state;
    gm_json_doc *doc = parse_ok("{\"b\": 3, \"ab\": 1, \"\": 0, \"a\": 2, \"\xc3\xa9\": 5, \"B\": 4}");
    const gm_json_node *o = gm_json_root(doc);
    static const char *const order[] = { "", "B", "a", "ab", "b", "\xc3\xa9" };
    static const uint64_t values[] = { 0, 4, 2, 1, 3, 5 };
    assert_int_equal(gm_json_count(o), 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(gm_json_key_at(o, i, NULL), order[i]);
        assert_int_equal(uint_of(gm_json_get(o, order[i])), values[i]);
    }
    assert_null(gm_json_get(o, "abc"));
    assert_null(gm_json_get(o, "A"));
    gm_json_free(doc);

    /* enough members for several merge levels; written in reverse order */
    char text[32 * 1024];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{");
    for (int i = 999; i >= 0; i--)
        n += (size_t)snprintf(text + n, sizeof text - n, "\"k%04d\":%d%s", i, i, i ? "," : "}");
    doc = parse_ok(text);
    o = gm_json_root(doc);
    assert_int_equal(gm_json_count(o), 1000);
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%04d", i);
        assert_string_equal(gm_json_key_at(o, (size_t)i, NULL), key);
        assert_int_equal(uint_of(gm_json_get(o, key)), i);
    }
    gm_json_free(doc);
}

typedef struct bad_case {
    const char *text;
    size_t len;         /* 0: strlen(text) */
    const char *why;    /* expected in the message */
} bad_case;

static const bad_case bad_cases[] = {
    /* truncation and structure */
    { "", 0, "unexpected end" },
    { "  \n", 0, "unexpected end" },
    { "{", 0, "expected a string key" },
    { "{\"a\"", 0, "expected ':'" },
    { "{\"a\":", 0, "unexpected end" },
    { "{\"a\":1", 0, "unterminated object" },
    { "{\"a\":1,", 0, "expected a string key" },
    { "{\"a\":1,}", 0, "expected a string key" },
    { "{1:2}", 0, "expected a string key" },
    { "{\"a\" 1}", 0, "expected ':'" },
    { "{\"a\":1 \"b\":2}", 0, "expected ',' or '}'" },
    { "[", 0, "unexpected end" },
    { "[1", 0, "unterminated array" },
    { "[1,]", 0, "unexpected ']'" },
    { "[,1]", 0, "unexpected ','" },
    { "[1,,2]", 0, "unexpected ','" },
    { "[1 2]", 0, "expected ',' or ']'" },
    { "[1}", 0, "expected ',' or ']'" },
    { "{\"a\":1]", 0, "expected ',' or '}'" },
    { "'a'", 0, "unexpected '''" },
    /* trailing garbage */
    { "{} x", 0, "after the value" },
    { "{}{}", 0, "after the value" },
    { "[1]]", 0, "after the value" },
    { "{}\0", 3, "after the value" },
    { "0x10", 0, "after the value" },
    /* whitespace is space, tab, LF and CR only */
    { "\v{}", 0, "unexpected byte 0x0b" },
    { "\f{}", 0, "unexpected byte 0x0c" },
    { "\xef\xbb\xbf{}", 0, "unexpected byte 0xef" },
    { "\xc2\xa0{}", 0, "unexpected byte 0xc2" },
    /* strings */
    { "\"abc", 0, "unterminated string" },
    { "\"a\\", 0, "unterminated string" },
    { "\"a\\\"", 0, "unterminated string" },
    { "\"\\x\"", 0, "unknown escape" },
    { "\"\\U0041\"", 0, "unknown escape" },
    { "\"\\'\"", 0, "unknown escape" },
    { "\"\\\0\"", 4, "unknown escape" },
    { "\"\\u12\"", 0, "four hex digits" },
    { "\"\\u12g4\"", 0, "four hex digits" },
    { "\"\\u123", 0, "four hex digits" },
    { "\"\\ud800\"", 0, "high surrogate without a low" },
    { "\"\\ud800\\u0041\"", 0, "high surrogate without a low" },
    { "\"\\ud800\\ud800\"", 0, "high surrogate without a low" },
    { "\"\\ud800\\n\"", 0, "high surrogate without a low" },
    { "\"\\udbff\\udf\"", 0, "high surrogate without a low" },
    { "\"\\ud800xxxxxxxx\"", 0, "high surrogate without a low" },
    { "\"\\ud800\\nxxxxxx\"", 0, "high surrogate without a low" },
    { "\"\\ud800\\udcxx\"", 0, "high surrogate without a low" },
    { "\"\\ud800\\ue000\"", 0, "high surrogate without a low" },
    { "\"\\udc00\"", 0, "lone low surrogate" },
    { "\"\\udfff\\ud800\"", 0, "lone low surrogate" },
    { "\"\\u0000\"", 0, "\\u0000 is not allowed" },
    { "{\"a\\u0000b\":1}", 0, "\\u0000 is not allowed" },
    { "\"a\0b\"", 5, "raw control character 0x00" },
    { "\"a\x01\"", 0, "raw control character 0x01" },
    { "\"a\tb\"", 0, "raw control character 0x09" },
    { "\"a\nb\"", 0, "raw control character 0x0a" },
    { "\"\x1f\"", 0, "raw control character 0x1f" },
    /* UTF-8 */
    { "\"\x80\"", 0, "invalid UTF-8" },                 /* a lone continuation byte */
    { "\"\xc3\"", 0, "invalid UTF-8" },                 /* truncated by the quote */
    { "\"\xc3", 0, "invalid UTF-8" },                   /* truncated by the end */
    { "\"\xc0\xaf\"", 0, "invalid UTF-8" },             /* overlong '/' */
    { "\"\xc1\xbf\"", 0, "invalid UTF-8" },
    { "\"\xe0\x80\xaf\"", 0, "invalid UTF-8" },         /* overlong, 3 bytes */
    { "\"\xe0\x9f\xbf\"", 0, "invalid UTF-8" },
    { "\"\xed\xa0\x80\"", 0, "invalid UTF-8" },         /* U+D800 encoded directly */
    { "\"\xed\xbf\xbf\"", 0, "invalid UTF-8" },
    { "\"\xf0\x80\x80\xaf\"", 0, "invalid UTF-8" },     /* overlong, 4 bytes */
    { "\"\xf0\x8f\xbf\xbf\"", 0, "invalid UTF-8" },
    { "\"\xf4\x90\x80\x80\"", 0, "invalid UTF-8" },     /* U+110000 */
    { "\"\xf5\x80\x80\x80\"", 0, "invalid UTF-8" },
    { "\"\xf8\x88\x80\x80\x80\"", 0, "invalid UTF-8" },
    { "\"\xfe\"", 0, "invalid UTF-8" },
    { "\"\xff\"", 0, "invalid UTF-8" },
    { "\"\xe2\x82\"", 0, "invalid UTF-8" },
    { "\"\xe2\x28\xa1\"", 0, "invalid UTF-8" },
    { "\"\xf0\x9f\x98\"", 0, "invalid UTF-8" },
    /* numbers */
    { "-1", 0, "negative number" },
    { "[-0]", 0, "negative number" },
    { "+1", 0, "unexpected '+'" },
    { ".5", 0, "unexpected '.'" },
    { "1.5", 0, "no fraction or exponent" },
    { "1.", 0, "no fraction or exponent" },
    { "1.0", 0, "no fraction or exponent" },
    { "1e3", 0, "no fraction or exponent" },
    { "1E3", 0, "no fraction or exponent" },
    { "0e0", 0, "no fraction or exponent" },
    { "01", 0, "leading zero" },
    { "00", 0, "leading zero" },
    { "[007]", 0, "leading zero" },
    { "9007199254740993", 0, "larger than 2^53" },
    { "10000000000000000", 0, "larger than 2^53" },
    { "18446744073709551616", 0, "larger than 2^53" },
    { "NaN", 0, "unexpected 'N'" },
    { "Infinity", 0, "unexpected 'I'" },
    { "true", 0, "true, false and null" },
    { "false", 0, "true, false and null" },
    { "[null]", 0, "true, false and null" },
    /* duplicates, at any level and after decoding */
    { "{\"a\":1,\"a\":2}", 0, "duplicate key \"a\"" },
    { "{\"b\":1,\"a\":2,\"b\":3}", 0, "duplicate key \"b\"" },
    { "{\"x\":{\"k\":1,\"k\":\"v\"}}", 0, "duplicate key \"k\"" },
    { "[{\"\":1,\"\":2}]", 0, "duplicate key \"\"" },
    { "{\"\\u0061\":1,\"a\":2}", 0, "duplicate key \"a\"" },
    { "{\"\\u00e9\":1,\"\xc3\xa9\":2}", 0, "duplicate key" },
    /* depth */
    { "[[[[[1]]]]]", 0, "nested deeper than 4" },
    { "{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", 0, "nested deeper than 4" },
};

static void test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        gm_json_doc *doc = (gm_json_doc *)&doc;
        gm_status st = gm_json_parse(c->text, len, NULL, &doc);
        if (st != GM_ERR_FORMAT)
            fail_msg("case %zu '%s': status %d, want GM_ERR_FORMAT", i, c->text, st);
        assert_null(doc);
        const char *msg = gm_last_error();
        if (strncmp(msg, "byte ", 5) || !strstr(msg, c->why))
            fail_msg("case %zu '%s': message '%s' does not say '%s'", i, c->text, msg, c->why);
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
    }
}

static void test_error_offsets(void **state)
{
    (void)state;
    static const struct { const char *text, *msg; } cases[] = {
        { "[1, 2, x]", "byte 7: unexpected 'x'" },
        { "{\"a\": 1.5}", "byte 6: only integers are accepted: no fraction or exponent" },
        { "[\"ok\", \"\\q\"]", "byte 8: unknown escape" },
        { "  {\"k\": 1, \"k\": 2}", "byte 2: duplicate key \"k\" in this object" },
        { "[\"\\ud800x\"]", "byte 2: high surrogate without a low surrogate" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gm_json_doc *doc;
        assert_int_equal(gm_json_parse(cases[i].text, strlen(cases[i].text), NULL, &doc), GM_ERR_FORMAT);
        assert_string_equal(gm_last_error(), cases[i].msg);
    }
}

static void test_limits(void **state)
{
    (void)state;
    gm_json_limits lim = { 2, 3, 5 };
    gm_json_doc *doc;
    static const char *const ok[] = { "[1,2]", "[[1]]", "\"abcde\"", "{\"abcde\":[]}", "{\"a\":\"\\u00e9\\u00e9\"}" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(gm_json_parse(ok[i], strlen(ok[i]), &lim, &doc), GM_OK);
        gm_json_free(doc);
    }
    static const struct { const char *text, *why; } bad[] = {
        { "[1,2,3]", "more than 3 values" },
        { "[[],[],[]]", "more than 3 values" },
        { "[[[]]]", "nested deeper than 2" },
        { "\"abcdef\"", "string of 6 bytes, over the limit of 5" },
        { "{\"abcdef\":1}", "string of 6 bytes" },
        { "\"\\u00e9\\u00e9\\u00e9\"", "string of 6 bytes" },   /* the limit counts decoded bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(gm_json_parse(bad[i].text, strlen(bad[i].text), &lim, &doc), GM_ERR_FORMAT);
        assert_null(doc);
        if (!strstr(gm_last_error(), bad[i].why))
            fail_msg("'%s': message '%s' does not say '%s'", bad[i].text, gm_last_error(), bad[i].why);
    }
    gm_json_limits zero_depth = { 0, 3, 5 }, zero_nodes = { 2, 0, 5 }, too_deep = { GM_JSON_DEPTH_CAP + 1, 3, 5 };
    assert_int_equal(gm_json_parse("1", 1, &zero_depth, &doc), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_json_parse("1", 1, &too_deep, &doc), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_json_parse("1", 1, &zero_nodes, &doc), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_json_parse(NULL, 0, NULL, &doc), GM_ERR_INVALID_ARG);
    assert_null(doc);
    assert_int_equal(gm_json_parse("1", 1, NULL, NULL), GM_ERR_INVALID_ARG);
    /* a length whose copy could not be sized: refused before text is read */
    doc = (gm_json_doc *)&doc;
    assert_int_equal(gm_json_parse("1", SIZE_MAX, NULL, &doc), GM_ERR_NO_MEMORY);
    assert_non_null(strstr(gm_last_error(), "bytes of JSON is too much"));
    assert_null(doc);
    assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
    /* the default node limit, hit by a compact array of zeros */
    size_t n = GM_JSON_DEFAULT_NODES;
    char *big = test_malloc(2 * n + 2);
    big[0] = '[';
    for (size_t i = 0; i < n; i++) {
        big[1 + 2 * i] = '0';
        big[2 + 2 * i] = ',';
    }
    big[2 * n] = ']';
    assert_int_equal(gm_json_parse(big, 2 * n + 1, NULL, &doc), GM_ERR_FORMAT);
    assert_non_null(strstr(gm_last_error(), "more than 1048576 values"));
    big[2 * n - 2] = ']';   /* one value fewer: the array and n - 1 zeros */
    assert_int_equal(gm_json_parse(big, 2 * n - 1, NULL, &doc), GM_OK);
    assert_int_equal(gm_json_count(gm_json_root(doc)), n - 1);
    gm_json_free(doc);
    test_free(big);
}

static void test_accessors_tolerate_misuse(void **state)
{
    (void)state;
    uint64_t v = 7;
    size_t len = 9;
    assert_null(gm_json_root(NULL));
    assert_int_equal(gm_json_kind_of(NULL), GM_JSON_NONE);
    assert_int_equal(gm_json_count(NULL), 0);
    assert_null(gm_json_at(NULL, 0));
    assert_null(gm_json_key_at(NULL, 0, &len));
    assert_null(gm_json_get(NULL, "a"));
    assert_null(gm_json_string(NULL, &len));
    assert_int_equal(len, 9);
    assert_false(gm_json_uint(NULL, &v));
    assert_int_equal(v, 7);
    gm_json_free(NULL);

    gm_json_doc *doc = parse_ok("[\"s\", 1, {\"k\": 2}]");
    const gm_json_node *a = gm_json_root(doc);
    assert_null(gm_json_key_at(a, 0, NULL));           /* an array has no keys */
    assert_null(gm_json_get(a, "k"));
    assert_null(gm_json_string(gm_json_at(a, 1), NULL));
    assert_false(gm_json_uint(gm_json_at(a, 0), &v));
    assert_int_equal(gm_json_count(gm_json_at(a, 0)), 0);   /* a string is not a container */
    assert_null(gm_json_at(gm_json_at(a, 1), 0));
    assert_null(gm_json_key_at(gm_json_at(a, 2), 1, NULL));
    assert_null(gm_json_get(gm_json_at(a, 2), NULL));
    gm_json_free(doc);
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(gm_json_utf8_valid("", 0));
    assert_true(gm_json_utf8_valid("abc\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 16));
    assert_true(gm_json_utf8_valid("\xee\x80\x80", 3));   /* private use, fine */
    assert_false(gm_json_utf8_valid("\xc3", 1));
    assert_false(gm_json_utf8_valid("\xc3\xa9", 1));        /* cut by the length, not a NUL */
    assert_false(gm_json_utf8_valid("a\xed\xa0\x80", 4));
    assert_false(gm_json_utf8_valid("\xc0\x80", 2));
    assert_false(gm_json_utf8_valid("\xf4\x90\x80\x80", 4));
}

static void test_alloc_failures(void **state)
{
    (void)state;
    /* enough values for the node array to grow several times */
    char text[4096];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "{\"__metadata__\":{\"k\":\"v\\u00e9\"},\"list\":[");
    for (int i = 0; i < 150; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%d", i ? "," : "", i);
    n += (size_t)snprintf(text + n, sizeof text - n, "],\"t\":{\"shape\":[2,3]}}");
    size_t k;
    for (k = 1; k < 100; k++) {
        gm_test_alloc_reset(k);
        gm_json_doc *doc = (gm_json_doc *)&doc;
        gm_status st = gm_json_parse(text, n, NULL, &doc);
        if (st == GM_OK) {
            assert_true(gm_test_alloc.allocs < k);
            assert_int_equal(gm_json_count(gm_json_get(gm_json_root(doc), "list")), 150);
            gm_json_free(doc);
            assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees);
            break;
        }
        if (st != GM_ERR_NO_MEMORY)
            fail_msg("failing allocation %zu: status %d (%s)", k, st, gm_last_error());
        assert_null(doc);
        assert_non_null(strstr(gm_last_error(), "out of memory"));
        assert_int_equal(gm_test_alloc.allocs, gm_test_alloc.frees + 1);
    }
    assert_true(k >= 5);   /* the document, 4 growths of the nodes, the child table */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_header_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalars_and_empties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_order_and_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accessors_tolerate_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
