/* The strict JSON parser: recursive descent, as deep as the depth limit.
 * Values go into one growing node array with siblings linked; an object's
 * chain is merge-sorted by key when it closes, which puts duplicates side by
 * side. Decoded strings never outgrow their source, so one block of len + 1
 * bytes holds them all and pointers into it stay valid. */
#include <string.h>

#include "json.h"
#include "core/alloc.h"
#include "core/error.h"

struct gm_json_node {
    uint8_t kind;
    uint32_t count;          /* members, elements, or a string's bytes */
    uint32_t key_len;
    uint32_t next;           /* while parsing: next sibling, 0 for none (0 is the root) */
    const char *key;         /* members of an object only */
    union {
        uint64_t num;
        const char *str;
        uint32_t first;                   /* while parsing: first child */
        const gm_json_node **kids;        /* afterwards */
    } u;
};

struct gm_json_doc {
    gm_json_node *nodes;
    uint32_t count, cap;
    const gm_json_node **kids;
    char *str;               /* follows the struct in its block */
    size_t str_used;
};

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    gm_json_limits lim;
    gm_json_doc *doc;
} parser;

static gm_status bad(size_t at, const char *what)
{
    return gm_fail(GM_ERR_FORMAT, "byte %zu: %s", at, what);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

/* Length of the UTF-8 sequence at s (n bytes available), 0 if malformed.
 * The ranges are those of Unicode's table 3-7 of well-formed sequences. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t k;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0) lo = 0xA0;   /* overlong */
        if (c == 0xED) hi = 0x9F;   /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0) lo = 0x90;   /* overlong */
        if (c == 0xF4) hi = 0x8F;   /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    for (size_t i = 1; i < k; i++, lo = 0x80, hi = 0xBF)
        if (s[i] < lo || s[i] > hi)
            return 0;
    return k;
}

int gm_json_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = utf8_seq(u + i, n - i)))
            return 0;
    return 1;
}

static int keycmp(const char *a, size_t na, const char *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static gm_status new_node(parser *p, gm_json_kind kind, uint32_t *index)
{
    gm_json_doc *d = p->doc;
    if (d->count == p->lim.max_nodes)
        return gm_fail(GM_ERR_FORMAT, "byte %zu: more than %u values", p->pos, p->lim.max_nodes);
    if (d->count == d->cap) {
        uint32_t cap = d->cap ? d->cap : 8;
        cap = cap > p->lim.max_nodes / 2 ? p->lim.max_nodes : cap * 2;
        gm_json_node *nodes = gm_malloc((size_t)cap * sizeof *nodes);
        if (!nodes)
            return gm_fail(GM_ERR_NO_MEMORY, "out of memory for %u JSON values", cap);
        if (d->count)
            memcpy(nodes, d->nodes, (size_t)d->count * sizeof *nodes);
        gm_free(d->nodes);
        d->nodes = nodes;
        d->cap = cap;
    }
    memset(&d->nodes[d->count], 0, sizeof *d->nodes);
    d->nodes[d->count].kind = (uint8_t)kind;
    *index = d->count++;
    return GM_OK;
}

static int hex4(const unsigned char *s, size_t n, uint32_t *v)
{
    if (n < 4)
        return 0;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        *v = *v << 4 | d;
    }
    return 1;
}

/* One escape at p->pos (the backslash), decoded to *d. */
static gm_status escape(parser *p, char **d)
{
    size_t at = p->pos;
    const unsigned char *s = p->s + at;
    size_t left = p->len - at;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (left < 2)
        return bad(at, "unterminated string");
    const char *hit = s[1] ? strchr(from, s[1]) : NULL;
    if (hit) {
        *(*d)++ = to[hit - from];
        p->pos += 2;
        return GM_OK;
    }
    uint32_t cp, lo;
    if (s[1] != 'u')
        return bad(at, "unknown escape");
    if (!hex4(s + 2, left - 2, &cp))
        return bad(at, "\\u needs four hex digits");
    p->pos += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return bad(at, "lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (left < 12 || s[6] != '\\' || s[7] != 'u' || !hex4(s + 8, 4, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return bad(at, "high surrogate without a low surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p->pos += 6;
    }
    if (cp == 0)
        return bad(at, "\\u0000 is not allowed");
    char *o = *d;
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    *d = o;
    return GM_OK;
}

/* The string at p->pos (its opening quote), decoded into the string block. */
static gm_status string(parser *p, const char **out, uint32_t *out_len)
{
    size_t start = p->pos++;
    char *first = p->doc->str + p->doc->str_used, *d = first;
    for (;;) {
        if (p->pos == p->len)
            return bad(start, "unterminated string");
        unsigned char c = p->s[p->pos];
        if (c == '"')
            break;
        if (c == '\\') {
            gm_status st = escape(p, &d);
            if (st)
                return st;
            continue;
        }
        if (c < 0x20)
            return gm_fail(GM_ERR_FORMAT, "byte %zu: raw control character 0x%02x in a string",
                           p->pos, c);
        size_t k = utf8_seq(p->s + p->pos, p->len - p->pos);
        if (!k)
            return bad(p->pos, "invalid UTF-8 in a string");
        memcpy(d, p->s + p->pos, k);
        d += k;
        p->pos += k;
    }
    p->pos++;
    size_t n = (size_t)(d - first);
    if (n > p->lim.max_string)
        return gm_fail(GM_ERR_FORMAT, "byte %zu: string of %zu bytes, over the limit of %u",
                       start, n, p->lim.max_string);
    *d = '\0';
    p->doc->str_used += n + 1;
    *out = first;
    *out_len = (uint32_t)n;
    return GM_OK;
}

static gm_status number(parser *p, uint32_t *index)
{
    size_t start = p->pos;
    uint64_t v = 0;
    if (p->s[p->pos] == '0' && p->pos + 1 < p->len && p->s[p->pos + 1] >= '0' && p->s[p->pos + 1] <= '9')
        return bad(start, "number with a leading zero");
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = p->s[p->pos++] - '0';
        if (v > (GM_JSON_MAX_INT - d) / 10)
            return bad(start, "integer larger than 2^53");
        v = v * 10 + d;
    }
    if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
        return bad(start, "only integers are accepted: no fraction or exponent");
    gm_status st = new_node(p, GM_JSON_INT, index);
    if (!st)
        p->doc->nodes[*index].u.num = v;
    return st;
}

/* Sort the chain of count siblings from head by key; returns the new head. */
static uint32_t sort_members(gm_json_node *n, uint32_t head, uint32_t count)
{
    if (count < 2)
        return head;
    uint32_t half = count / 2, mid = head;
    for (uint32_t i = 1; i < half; i++)
        mid = n[mid].next;
    uint32_t a = n[mid].next, out = 0, tail = 0;
    n[mid].next = 0;
    uint32_t b = sort_members(n, a, count - half);
    a = sort_members(n, head, half);
    while (a && b) {
        uint32_t *from = keycmp(n[a].key, n[a].key_len, n[b].key, n[b].key_len) <= 0 ? &a : &b;
        uint32_t take = *from;
        *from = n[take].next;
        if (tail)
            n[tail].next = take;
        else
            out = take;
        tail = take;
    }
    n[tail].next = a ? a : b;
    return out;
}

static gm_status value(parser *p, int depth, uint32_t *index);

static gm_status container(parser *p, int depth, uint32_t *index)
{
    size_t start = p->pos;
    int is_obj = p->s[start] == '{';
    unsigned char close = is_obj ? '}' : ']';
    uint32_t self, prev = 0, count = 0;
    if (depth > p->lim.max_depth)
        return gm_fail(GM_ERR_FORMAT, "byte %zu: nested deeper than %d", start, p->lim.max_depth);
    gm_status st = new_node(p, is_obj ? GM_JSON_OBJECT : GM_JSON_ARRAY, &self);
    if (st)
        return st;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        *index = self;
        return GM_OK;
    }
    for (;;) {
        const char *key = NULL;
        uint32_t key_len = 0, child;
        if (is_obj) {
            skip_ws(p);
            if (p->pos == p->len || p->s[p->pos] != '"')
                return bad(p->pos, "expected a string key");
            if ((st = string(p, &key, &key_len)))
                return st;
            skip_ws(p);
            if (p->pos == p->len || p->s[p->pos] != ':')
                return bad(p->pos, "expected ':' after a key");
            p->pos++;
        }
        if ((st = value(p, depth, &child)))
            return st;
        gm_json_node *n = p->doc->nodes;   /* value() may have moved them */
        n[child].key = key;
        n[child].key_len = key_len;
        if (prev)
            n[prev].next = child;
        else
            n[self].u.first = child;
        prev = child;
        count++;
        skip_ws(p);
        if (p->pos == p->len)
            return bad(start, is_obj ? "unterminated object" : "unterminated array");
        if (p->s[p->pos] == close)
            break;
        if (p->s[p->pos] != ',')
            return bad(p->pos, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        p->pos++;
    }
    p->pos++;
    gm_json_node *n = p->doc->nodes;
    n[self].count = count;
    if (is_obj) {
        uint32_t a = n[self].u.first = sort_members(n, n[self].u.first, count);
        for (uint32_t b; (b = n[a].next) != 0; a = b)
            if (!keycmp(n[a].key, n[a].key_len, n[b].key, n[b].key_len))
                return gm_fail(GM_ERR_FORMAT, "byte %zu: duplicate key \"%.64s\" in this object",
                               start, n[b].key);
    }
    *index = self;
    return GM_OK;
}

static gm_status value(parser *p, int depth, uint32_t *index)
{
    skip_ws(p);
    if (p->pos == p->len)
        return bad(p->pos, "unexpected end of input");
    unsigned char c = p->s[p->pos];
    if (c == '{' || c == '[')
        return container(p, depth + 1, index);
    if (c >= '0' && c <= '9')
        return number(p, index);
    if (c == '"') {
        const char *s;
        uint32_t n;
        gm_status st = string(p, &s, &n);
        if (!st)
            st = new_node(p, GM_JSON_STRING, index);
        if (!st) {
            p->doc->nodes[*index].u.str = s;
            p->doc->nodes[*index].count = n;
        }
        return st;
    }
    if (c == '-')
        return bad(p->pos, "negative number: only non-negative integers are accepted");
    if (c == 't' || c == 'f' || c == 'n')
        return bad(p->pos, "true, false and null are not accepted");
    if (c >= 0x20 && c < 0x7F)
        return gm_fail(GM_ERR_FORMAT, "byte %zu: unexpected '%c'", p->pos, c);
    return gm_fail(GM_ERR_FORMAT, "byte %zu: unexpected byte 0x%02x", p->pos, c);
}

/* Turn each container's sibling chain into its slice of d->kids. Every
 * value but the root is the child of exactly one container. */
static gm_status link_children(gm_json_doc *d)
{
    if (d->count > 1 && !(d->kids = gm_malloc((size_t)(d->count - 1) * sizeof *d->kids)))
        return gm_fail(GM_ERR_NO_MEMORY, "out of memory for %u JSON values", d->count);
    size_t k = 0;
    for (uint32_t i = 0; i < d->count; i++) {
        gm_json_node *n = &d->nodes[i];
        if (n->kind != GM_JSON_OBJECT && n->kind != GM_JSON_ARRAY)
            continue;
        uint32_t c = n->u.first;
        n->u.kids = n->count ? d->kids + k : NULL;
        for (uint32_t j = 0; j < n->count; j++, c = d->nodes[c].next)
            d->kids[k++] = &d->nodes[c];
    }
    return GM_OK;
}

gm_status gm_json_parse(const char *text, size_t len, const gm_json_limits *limits, gm_json_doc **out)
{
    static const gm_json_limits defaults = {
        GM_JSON_DEFAULT_DEPTH, GM_JSON_DEFAULT_NODES, GM_JSON_DEFAULT_STRING
    };
    if (!out)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_json_parse: out is NULL");
    *out = NULL;
    if (!text)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_json_parse: text is NULL");
    if (!limits)
        limits = &defaults;
    if (limits->max_depth < 1 || limits->max_depth > GM_JSON_DEPTH_CAP || limits->max_nodes < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "gm_json_parse: max_depth must be in [1, %d] and max_nodes >= 1",
                       GM_JSON_DEPTH_CAP);
    if (len > SIZE_MAX - sizeof(gm_json_doc) - 1)
        return gm_fail(GM_ERR_NO_MEMORY, "%zu bytes of JSON is too much", len);
    gm_json_doc *d = gm_malloc(sizeof *d + len + 1);
    if (!d)
        return gm_fail(GM_ERR_NO_MEMORY, "out of memory for %zu bytes of JSON", len);
    memset(d, 0, sizeof *d);
    d->str = (char *)(d + 1);
    parser p = { (const unsigned char *)text, len, 0, *limits, d };
    uint32_t root;
    gm_status st = value(&p, 0, &root);
    if (!st) {
        skip_ws(&p);
        if (p.pos != len)
            st = bad(p.pos, "unexpected characters after the value");
    }
    if (!st)
        st = link_children(d);
    if (st) {
        gm_json_free(d);
        return st;
    }
    *out = d;
    return GM_OK;
}

void gm_json_free(gm_json_doc *doc)
{
    if (!doc)
        return;
    gm_free(doc->kids);
    gm_free(doc->nodes);
    gm_free(doc);
}

const gm_json_node *gm_json_root(const gm_json_doc *doc)
{
    return doc ? &doc->nodes[0] : NULL;
}

gm_json_kind gm_json_kind_of(const gm_json_node *n)
{
    return n ? (gm_json_kind)n->kind : GM_JSON_NONE;
}

size_t gm_json_count(const gm_json_node *n)
{
    return n && (n->kind == GM_JSON_OBJECT || n->kind == GM_JSON_ARRAY) ? n->count : 0;
}

const gm_json_node *gm_json_at(const gm_json_node *n, size_t i)
{
    return i < gm_json_count(n) ? n->u.kids[i] : NULL;
}

const char *gm_json_key_at(const gm_json_node *obj, size_t i, size_t *len)
{
    if (gm_json_kind_of(obj) != GM_JSON_OBJECT || i >= obj->count)
        return NULL;
    if (len)
        *len = obj->u.kids[i]->key_len;
    return obj->u.kids[i]->key;
}

const gm_json_node *gm_json_get(const gm_json_node *obj, const char *key)
{
    if (gm_json_kind_of(obj) != GM_JSON_OBJECT || !key)
        return NULL;
    size_t lo = 0, hi = obj->count, n = strlen(key);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const gm_json_node *m = obj->u.kids[mid];
        int c = keycmp(m->key, m->key_len, key, n);
        if (!c)
            return m;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *gm_json_string(const gm_json_node *n, size_t *len)
{
    if (gm_json_kind_of(n) != GM_JSON_STRING)
        return NULL;
    if (len)
        *len = n->count;
    return n->u.str;
}

int gm_json_uint(const gm_json_node *n, uint64_t *value)
{
    if (gm_json_kind_of(n) != GM_JSON_INT)
        return 0;
    *value = n->u.num;
    return 1;
}
