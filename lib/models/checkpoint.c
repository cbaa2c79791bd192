/* Checkpoints of whole models, on top of lib/io's safetensors. A model is
 * described to this file as a view: its kind, its config as a table of
 * fields, its parameter tables, the EMA block if any, and its RNG. The
 * format is specified in docs/checkpoint-format.md. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genmodel/checkpoint.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/error.h"
#include "io/fileio.h"
#include "io/safetensors.h"
#include "fields.h"
#include "gan_internal.h"
#include "sr_internal.h"
#include "vae_internal.h"

#define FORMAT_NAME "libgenmodel"
#define RNG_NAME "philox4x32-10"
#define MAX_FILE ((size_t)1 << 34)

/* ---- a config's fields as header metadata: "gm.config.<name>", an
 * array's elements "gm.config.<name>[i]" (lib/models/fields.c) ---- */

#define KEY_MAX 64

/* the key of element i of f */
static void field_key(const gm_field *f, int i, char key[KEY_MAX])
{
    if (f->count == 1)
        snprintf(key, KEY_MAX, "gm.config.%s", f->name);
    else
        snprintf(key, KEY_MAX, "gm.config.%s[%d]", f->name, i);
}

static size_t element_size(const gm_field *f) { return f->type == GM_FIELD_U64 ? 8 : 4; }

static void format_element(const gm_field *f, int i, const void *cfg, char out[32])
{
    const char *p = (const char *)cfg + f->offset + (size_t)i * element_size(f);
    int32_t n;
    float x;
    uint64_t u;
    switch (f->type) {
    case GM_FIELD_I32: memcpy(&n, p, sizeof n); snprintf(out, 32, "%" PRId32, n); break;
    case GM_FIELD_F32: memcpy(&x, p, sizeof x); snprintf(out, 32, "%.9g", (double)x); break;  /* 9 digits round-trip */
    default: memcpy(&u, p, sizeof u); snprintf(out, 32, "%" PRIu64, u); break;
    }
}

/* the whole string must be the number: no sign games, no trailing bytes */
static int parse_element(int32_t type, const char *text, void *dst)
{
    char *end;
    errno = 0;
    if (type == GM_FIELD_I32) {
        long v = strtol(text, &end, 10);
        int32_t i = (int32_t)v;
        if (*end || end == text || errno || v < INT32_MIN || v > INT32_MAX)
            return 0;
        memcpy(dst, &i, sizeof i);
    } else if (type == GM_FIELD_F32) {
        float x = strtof(text, &end);
        if (*end || end == text || errno || !isfinite(x))
            return 0;
        memcpy(dst, &x, sizeof x);
    } else {
        if (text[0] < '0' || text[0] > '9')
            return 0;
        unsigned long long v = strtoull(text, &end, 10);
        uint64_t u = (uint64_t)v;
        if (*end || errno)
            return 0;
        memcpy(dst, &u, sizeof u);
    }
    return 1;
}

/* ---- the kinds of model a file can hold ---- */

/* a config of either kind, as a header holds it */
typedef union {
    gm_vae_config vae;
    gm_gan_config gan;
    gm_sr_config sr;
} stored_config;

typedef struct model_kind model_kind;

/* ---- a model as the checkpoint sees it ---- */

typedef struct {
    const model_kind *kind;
    void *cfg;                        /* the handle's config */
    gm_param_table *tables[2];
    const char *step_keys[2];
    int n_tables;
    float *ema;                       /* the EMA of tables[0]'s data, or NULL */
    gm_rng *rng;
} model_view;

/* A kind of model, as the files hold it: one record per kind, the rest of
 * this file written once over them. */
struct model_kind {
    const char *name;                 /* gm.model */
    int32_t kind;                     /* gm_model_kind */
    size_t cfg_size;                  /* of its config struct */
    size_t first_size;                /* of the struct's first published version */
    void (*init)(stored_config *c);   /* the defaults */
    gm_status (*check)(const stored_config *c, const char *who);   /* what create accepts */
    gm_status (*create)(const stored_config *c, void **out);
    void (*free)(void *h);
    void (*view)(void *h, stored_config *cfg, model_view *v);   /* cfg: the handle's config, filled */
};

static const model_kind vae_kind, gan_kind, sr_kind;

static void vae_init(stored_config *c) { gm_vae_config_init(&c->vae); }
static void gan_init(stored_config *c) { gm_gan_config_init(&c->gan); }
static gm_status vae_check(const stored_config *c, const char *who) { return gm_vae_config_check(&c->vae, who); }
static gm_status gan_check(const stored_config *c, const char *who) { return gm_gan_config_check(&c->gan, who); }
static gm_status vae_create(const stored_config *c, void **out) { return gm_vae_create(&c->vae, (gm_vae **)out); }
static gm_status gan_create(const stored_config *c, void **out) { return gm_gan_create(&c->gan, (gm_gan **)out); }
static void sr_init(stored_config *c) { gm_sr_config_init(&c->sr); }
static gm_status sr_check(const stored_config *c, const char *who) { return gm_sr_config_check(&c->sr, who); }
static gm_status sr_create(const stored_config *c, void **out) { return gm_sr_create(&c->sr, (gm_sr **)out); }
static void sr_free(void *h) { gm_sr_free(h); }
static void vae_free(void *h) { gm_vae_free(h); }
static void gan_free(void *h) { gm_gan_free(h); }

static void vae_view(void *h, stored_config *cfg, model_view *v)
{
    gm_vae *vae = h;
    gm_vae_config_init(&cfg->vae);
    gm_vae_get_config(vae, &cfg->vae);
    *v = (model_view){ &vae_kind, cfg, { gm_vae_param_table(vae) }, { "gm.step" }, 1, NULL, gm_vae_rng(vae) };
}

static void gan_view(void *h, stored_config *cfg, model_view *v)
{
    gm_gan *gan = h;
    gm_gan_config_init(&cfg->gan);
    gm_gan_get_config(gan, &cfg->gan);
    *v = (model_view){ &gan_kind, cfg, { gm_gan_gen_table(gan), gm_gan_disc_table(gan) },
                       { "gm.step", "gm.step.disc" }, 2, gm_gan_ema(gan), gm_gan_rng(gan) };
}

static void sr_view(void *h, stored_config *cfg, model_view *v)
{
    gm_sr *sr = h;
    gm_sr_config_init(&cfg->sr);
    gm_sr_get_config(sr, &cfg->sr);
    gm_param_table *disc = gm_sr_disc_table(sr);
    *v = (model_view){ &sr_kind, cfg, { gm_sr_gen_table(sr), disc }, { "gm.step", "gm.step.disc" }, disc ? 2 : 1,
                       NULL, gm_sr_rng(sr) };
}

static const model_kind vae_kind = { "vae", GM_MODEL_VAE, sizeof(gm_vae_config), GM_VAE_CONFIG_V1_SIZE, vae_init,
                                     vae_check, vae_create, vae_free, vae_view };
static const model_kind gan_kind = { "gan", GM_MODEL_GAN, sizeof(gm_gan_config), GM_GAN_CONFIG_V1_SIZE, gan_init,
                                     gan_check, gan_create, gan_free, gan_view };
static const model_kind sr_kind = { "sr", GM_MODEL_SR, sizeof(gm_sr_config), sizeof(gm_sr_config), sr_init, sr_check,
                                    sr_create, sr_free, sr_view };

/* tensor names: the parameter, then its moments, then its EMA */
static const char *const tensor_prefix[4] = { "", "optim.m.", "optim.v.", "ema." };

static size_t tensor_count(const model_view *v)
{
    size_t n = 0;
    for (int t = 0; t < v->n_tables; t++)
        n += (size_t)v->tables[t]->count * (t == 0 && v->ema ? 4 : 3);
    return n;
}

/* Walk every tensor of the view: fn gets its name, table entry and the
 * floats it lives in. Stops at the first failure. */
typedef gm_status (*tensor_fn)(void *ctx, const char *name, const gm_param *p, float *data);

static gm_status for_each_tensor(const model_view *v, tensor_fn fn, void *ctx)
{
    for (int t = 0; t < v->n_tables; t++) {
        gm_param_table *table = v->tables[t];
        float *bases[4] = { table->data, table->m, table->v, v->ema };
        for (int kind = 0; kind < (t == 0 && v->ema ? 4 : 3); kind++)
            for (int i = 0; i < table->count; i++) {
                const gm_param *p = &table->items[i];
                char name[GM_PARAM_NAME_MAX + 16];
                snprintf(name, sizeof name, "%s%s", tensor_prefix[kind], p->name);
                gm_status s = fn(ctx, name, p, bases[kind] + p->offset);
                if (s != GM_OK)
                    return s;
            }
    }
    return GM_OK;
}


/* ---- saving ---- */

typedef struct {
    gm_st_tensor *tensors;
    char (*names)[GM_PARAM_NAME_MAX + 16];
    size_t n;
} collect_ctx;

static gm_status collect(void *p, const char *name, const gm_param *param, float *data)
{
    collect_ctx *c = p;
    gm_st_tensor *t = &c->tensors[c->n];
    memcpy(c->names[c->n], name, sizeof c->names[c->n]);
    t->name = c->names[c->n];
    t->rank = param->rank;
    for (int i = 0; i < param->rank; i++)
        t->shape[i] = param->shape[i];
    t->data = data;
    c->n++;
    return GM_OK;
}

/* Serialize v to a file (path) or a buffer (buf, size). */
static gm_status save(const model_view *v, const char *path, void **buf, size_t *size, const char *who)
{
    size_t n = tensor_count(v);
    collect_ctx c = { gm_calloc(n, sizeof *c.tensors), gm_calloc(n, sizeof *c.names), 0 };
    char values[GM_FIELDS_MAX_ELEMENTS + 8][32], keys[GM_FIELDS_MAX_ELEMENTS][KEY_MAX];
    gm_st_meta meta[GM_FIELDS_MAX_ELEMENTS + 8];
    size_t m = 0;
    gm_status s = GM_OK;
    if (!c.tensors || !c.names) {
        s = gm_fail(GM_ERR_NO_MEMORY, "%s: out of memory", who);
        goto done;
    }
    for_each_tensor(v, collect, &c);
    meta[m++] = (gm_st_meta){ "gm.format", FORMAT_NAME };
    snprintf(values[m], 32, "%d", GM_CHECKPOINT_FORMAT_VERSION);
    meta[m] = (gm_st_meta){ "gm.format_version", values[m] };
    m++;
    meta[m++] = (gm_st_meta){ "gm.library_version", GM_VERSION_STRING };
    meta[m++] = (gm_st_meta){ "gm.model", v->kind->name };
    meta[m++] = (gm_st_meta){ "gm.rng", RNG_NAME };
    snprintf(values[m], 32, "%" PRIu64, v->rng->seed);
    meta[m] = (gm_st_meta){ "gm.rng.seed", values[m] };
    m++;
    snprintf(values[m], 32, "%" PRIu64, v->rng->counter);
    meta[m] = (gm_st_meta){ "gm.rng.counter", values[m] };
    m++;
    for (int t = 0; t < v->n_tables; t++, m++) {
        snprintf(values[m], 32, "%" PRId64, v->tables[t]->step);
        meta[m] = (gm_st_meta){ v->step_keys[t], values[m] };
    }
    int n_fields, k = 0;
    const gm_field *fields = gm_fields_of(v->kind->kind, &n_fields);
    for (int i = 0; i < n_fields; i++)
        for (int e = 0; e < fields[i].count; e++, k++, m++) {
            field_key(&fields[i], e, keys[k]);
            format_element(&fields[i], e, v->cfg, values[m]);
            meta[m] = (gm_st_meta){ keys[k], values[m] };
        }
    if (path) {
        s = gm_st_write_file(path, c.tensors, n, meta, m);
    } else {
        uint8_t *out;
        if ((s = gm_st_write_buffer(c.tensors, n, meta, m, &out, size)) == GM_OK)
            *buf = out;
    }
    if (s != GM_OK)
        s = gm_refail(s, who);
done:
    gm_free(c.tensors);
    gm_free(c.names);
    return s;
}

/* ---- loading ---- */

static gm_status read_int(const gm_st_file *f, const char *key, int64_t lo, int64_t *out, const char *who)
{
    const char *text = gm_st_meta_get(f, key);
    char *end;
    errno = 0;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || *end || end == text || errno || v < lo)
        return gm_fail(GM_ERR_FORMAT, "%s: metadata '%s' is %s", who, key, text ? "not a valid number" : "missing");
    *out = v;
    return GM_OK;
}

static gm_status read_u64(const gm_st_file *f, const char *key, uint64_t *out, const char *who)
{
    const char *text = gm_st_meta_get(f, key);
    if (!text || !parse_element(GM_FIELD_U64, text, out))
        return gm_fail(GM_ERR_FORMAT, "%s: metadata '%s' is %s", who, key, text ? "not a valid number" : "missing");
    return GM_OK;
}

/* Everything the header says of the model: its identity, then its config,
 * parsed over the defaults and held to what the model's create accepts.
 * This is the one place every reader (the loads, the peeks, and through
 * them the tools) gets a stored config from, so none ever sees one that
 * create would refuse. want NULL accepts either kind. */
static gm_status read_header(const gm_st_file *f, const model_kind *want, stored_config *cfg,
                             gm_checkpoint_info *info, const char *who)
{
    const char *format = gm_st_meta_get(f, "gm.format"), *model = gm_st_meta_get(f, "gm.model");
    int64_t version = 0;  /* set by read_int, which GCC cannot see through */
    if (!format || strcmp(format, FORMAT_NAME) != 0)
        return gm_fail(GM_ERR_FORMAT, "%s: not a libgenmodel checkpoint (gm.format is %s)", who,
                       format ? format : "missing");
    gm_status s = read_int(f, "gm.format_version", 1, &version, who);
    if (s != GM_OK)
        return s;
    if (version > GM_CHECKPOINT_FORMAT_VERSION)
        return gm_fail(GM_ERR_VERSION, "%s: format version %" PRId64 " is newer than this library's %d", who,
                       version, GM_CHECKPOINT_FORMAT_VERSION);
    static const model_kind *const kinds[] = { &vae_kind, &gan_kind, &sr_kind };
    const model_kind *k = NULL;
    for (size_t i = 0; model && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(model, kinds[i]->name))
            k = kinds[i];
    if (!k)
        return gm_fail(GM_ERR_FORMAT, "%s: unknown model kind '%s'", who, model ? model : "(missing)");
    if (want && k != want)
        return gm_fail(GM_ERR_MISMATCH, "%s: the file holds a %s, not a %s", who, k->name, want->name);
    if (info) {
        info->kind = k->kind;
        info->format_version = (int32_t)version;
        if ((s = read_int(f, "gm.step", 0, &info->step, who)) != GM_OK)
            return s;
    }
    k->init(cfg);
    int n_fields;
    const gm_field *fields = gm_fields_of(k->kind, &n_fields);
    for (int i = 0; i < n_fields; i++)
        for (int e = 0; e < fields[i].count; e++) {
            char key[KEY_MAX];
            field_key(&fields[i], e, key);
            const char *text = gm_st_meta_get(f, key);
            if (!text && fields[i].since > 1) {
                /* a file from before the field: 0, which keeps the model of that version (not
                 * today's default) */
                memset((char *)cfg + fields[i].offset + (size_t)e * element_size(&fields[i]), 0,
                       element_size(&fields[i]));
                continue;
            }
            if (!text || !parse_element(fields[i].type, text, (char *)cfg + fields[i].offset +
                                                                  (size_t)e * element_size(&fields[i])))
                return gm_fail(GM_ERR_FORMAT, "%s: metadata '%s' is %s", who, key,
                               text ? "not a valid value" : "missing");
        }
    char in[160];
    snprintf(in, sizeof in, "%s: the stored config is invalid", who);
    /* the file is wrong, not the caller */
    return k->check(cfg, in) == GM_OK ? GM_OK : gm_refail(GM_ERR_FORMAT, NULL);
}

typedef struct {
    const gm_st_file *file;
    const char *who;
} fill_ctx;

static gm_status fill(void *p, const char *name, const gm_param *param, float *data)
{
    const fill_ctx *c = p;
    const gm_st_info *t = gm_st_find(c->file, name);
    if (!t)
        return gm_fail(GM_ERR_FORMAT, "%s: tensor '%s' is missing", c->who, name);
    int same = t->rank == param->rank;
    for (int i = 0; same && i < param->rank; i++)
        same = t->shape[i] == param->shape[i];
    if (!same) {
        char got[GM_ST_SHAPE_STR], want[GM_ST_SHAPE_STR];
        return gm_fail(GM_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected %s", c->who, name,
                       gm_st_shape_str(got, t->shape, t->rank), gm_st_shape_str(want, param->shape, param->rank));
    }
    gm_status s = gm_st_tensor_copy(c->file, name, data, param->numel);   /* cannot fail: same shape */
    for (size_t i = 0; s == GM_OK && i < param->numel; i++)
        if (!isfinite(data[i]))
            s = gm_fail(GM_ERR_FORMAT, "%s: tensor '%s' holds a non-finite value", c->who, name);
    return s;
}

/* Everything after the handle exists: tensors, steps, random state. */
static gm_status read_state(const gm_st_file *f, const model_view *v, const char *who)
{
    if (gm_st_count(f) != tensor_count(v))
        return gm_fail(GM_ERR_FORMAT, "%s: the file has %zu tensors, the model %zu", who, gm_st_count(f),
                       tensor_count(v));
    fill_ctx c = { f, who };
    gm_status s = for_each_tensor(v, fill, &c);
    for (int t = 0; s == GM_OK && t < v->n_tables; t++)
        s = read_int(f, v->step_keys[t], 0, &v->tables[t]->step, who);
    const char *rng = gm_st_meta_get(f, "gm.rng");
    if (s == GM_OK && (!rng || strcmp(rng, RNG_NAME) != 0))
        s = gm_fail(GM_ERR_FORMAT, "%s: unknown random generator '%s'", who, rng ? rng : "(missing)");
    if (s == GM_OK)
        s = read_u64(f, "gm.rng.seed", &v->rng->seed, who);
    if (s == GM_OK)
        s = read_u64(f, "gm.rng.counter", &v->rng->counter, who);
    return s;
}

static gm_status open_file(const char *path, const void *buf, size_t size, uint8_t **owned, gm_st_file **f,
                           const char *who)
{
    *owned = NULL;
    *f = NULL;
    if (path) {
        gm_status s = gm_io_read_file(path, MAX_FILE, owned, &size);
        if (s != GM_OK)
            return gm_refail(s, who);
        buf = *owned;
    } else if (!buf || !size) {
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s", who, !buf ? "buf is NULL" : "size is 0");
    }
    gm_status s = gm_st_parse(buf, size, f);
    if (s != GM_OK)
        return gm_refail(s, who);
    /* the parser checks each checksum that is there; ours are always there */
    if (!gm_st_has_crc(*f) || !gm_st_meta_get(*f, GM_ST_HEADER_CRC_KEY))
        s = gm_fail(GM_ERR_FORMAT, "%s: the file has no checksums: not a libgenmodel checkpoint", who);
    return s;
}

static void close_file(uint8_t *owned, gm_st_file *f)
{
    gm_st_free(f);
    gm_free(owned);
}

static gm_status load(const model_kind *k, const char *path, const void *buf, size_t size, void **out,
                      const char *who)
{
    if (!out)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: out is NULL", who);
    *out = NULL;
    uint8_t *owned;
    gm_st_file *f;
    stored_config cfg, held;
    void *h = NULL;
    gm_status s = open_file(path, buf, size, &owned, &f, who);
    if (s == GM_OK)
        s = read_header(f, k, &cfg, NULL, who);
    if (s == GM_OK && (s = k->create(&cfg, &h)) != GM_OK)
        s = gm_refail(s, who);   /* out of memory, as the model says */
    if (s == GM_OK) {
        model_view v;
        k->view(h, &held, &v);
        s = read_state(f, &v, who);
    }
    close_file(owned, f);
    if (s != GM_OK) {
        k->free(h);
        return s;
    }
    *out = h;
    return GM_OK;
}

/* ---- the public calls ---- */

/* "" names no file: refused as an argument, before the system is asked */
static gm_status check_path(const char *path, const char *who)
{
    if (!path || !*path)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: path is %s", who, path ? "empty" : "NULL");
    return GM_OK;
}

/* to a file (path) or a buffer (buf, size) */
static gm_status save_model(const model_kind *k, void *h, bool to_file, const char *path, void **buf, size_t *size,
                            const char *who)
{
    if (buf)
        *buf = NULL;
    if (!h)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s is NULL", who, k->name);
    if (!to_file && (!buf || !size))
        return gm_fail(GM_ERR_INVALID_ARG, "%s: NULL argument", who);
    gm_status s = to_file ? check_path(path, who) : GM_OK;
    if (s != GM_OK)
        return s;
    stored_config cfg;
    model_view v;
    k->view(h, &cfg, &v);
    return save(&v, path, buf, size, who);
}

/* from a file (path) or a buffer (buf, size), into *out of either kind's handle type */
static gm_status load_model(const model_kind *k, bool from_file, const char *path, const void *buf, size_t size,
                            void **out, const char *who)
{
    gm_status s = from_file ? check_path(path, who) : GM_OK;
    if (s != GM_OK && out)
        *out = NULL;
    return s != GM_OK ? s : load(k, path, buf, size, out, who);
}

gm_status gm_vae_save(gm_vae *vae, const char *path)
{
    return save_model(&vae_kind, vae, true, path, NULL, NULL, "gm_vae_save");
}

gm_status gm_vae_save_buffer(gm_vae *vae, void **buf, size_t *size)
{
    return save_model(&vae_kind, vae, false, NULL, buf, size, "gm_vae_save_buffer");
}

gm_status gm_vae_load(const char *path, gm_vae **out)
{
    void *h = NULL;  /* the handle, then as its own type */
    gm_status s = load_model(&vae_kind, true, path, NULL, 0, out ? &h : NULL, "gm_vae_load");
    if (out)
        *out = h;
    return s;
}

gm_status gm_vae_load_buffer(const void *buf, size_t size, gm_vae **out)
{
    void *h = NULL;  /* the handle, then as its own type */
    gm_status s = load_model(&vae_kind, false, NULL, buf, size, out ? &h : NULL, "gm_vae_load_buffer");
    if (out)
        *out = h;
    return s;
}

gm_status gm_gan_save(gm_gan *gan, const char *path)
{
    return save_model(&gan_kind, gan, true, path, NULL, NULL, "gm_gan_save");
}

gm_status gm_gan_save_buffer(gm_gan *gan, void **buf, size_t *size)
{
    return save_model(&gan_kind, gan, false, NULL, buf, size, "gm_gan_save_buffer");
}

gm_status gm_gan_load(const char *path, gm_gan **out)
{
    void *h = NULL;  /* the handle, then as its own type */
    gm_status s = load_model(&gan_kind, true, path, NULL, 0, out ? &h : NULL, "gm_gan_load");
    if (out)
        *out = h;
    return s;
}

gm_status gm_gan_load_buffer(const void *buf, size_t size, gm_gan **out)
{
    void *h = NULL;  /* the handle, then as its own type */
    gm_status s = load_model(&gan_kind, false, NULL, buf, size, out ? &h : NULL, "gm_gan_load_buffer");
    if (out)
        *out = h;
    return s;
}

gm_status gm_sr_save(gm_sr *sr, const char *path)
{
    return save_model(&sr_kind, sr, true, path, NULL, NULL, "gm_sr_save");
}

gm_status gm_sr_save_buffer(gm_sr *sr, void **buf, size_t *size)
{
    return save_model(&sr_kind, sr, false, NULL, buf, size, "gm_sr_save_buffer");
}

gm_status gm_sr_load(const char *path, gm_sr **out)
{
    void *h = NULL;  /* the handle, then as its own type */
    gm_status s = load_model(&sr_kind, true, path, NULL, 0, out ? &h : NULL, "gm_sr_load");
    if (out)
        *out = h;
    return s;
}

gm_status gm_sr_load_buffer(const void *buf, size_t size, gm_sr **out)
{
    void *h = NULL;
    gm_status s = load_model(&sr_kind, false, NULL, buf, size, out ? &h : NULL, "gm_sr_load_buffer");
    if (out)
        *out = h;
    return s;
}

void gm_buffer_free(void *buf)
{
    gm_free(buf);
}

void gm_checkpoint_info_init_size(gm_checkpoint_info *info, size_t size)
{
    const gm_checkpoint_info zero = { 0 };
    gm_config_fill(info, size, &zero, sizeof zero);
}

/* Read and check a file's header. */
static gm_status peek(const char *path, const model_kind *want, stored_config *cfg, gm_checkpoint_info *info,
                      const char *who)
{
    uint8_t *owned;
    gm_st_file *f;
    gm_status s = open_file(path, NULL, 0, &owned, &f, who);
    if (s == GM_OK)
        s = read_header(f, want, cfg, info, who);
    close_file(owned, f);
    return s;
}

static gm_status peek_info(const char *path, gm_checkpoint_info *info, const char *who)
{
    gm_checkpoint_info full;
    gm_checkpoint_info_init(&full);
    stored_config cfg;
    gm_status s = info ? peek(path, NULL, &cfg, &full, who)
                       : gm_fail(GM_ERR_INVALID_ARG, "%s: info is NULL", who);
    return s != GM_OK ? s : gm_config_export(info, &full, sizeof full, sizeof full, who);
}

static gm_status peek_config(const char *path, const model_kind *want, void *out, const char *who)
{
    stored_config cfg;
    gm_status s = out ? peek(path, want, &cfg, NULL, who)
                      : gm_fail(GM_ERR_INVALID_ARG, "%s: cfg is NULL", who);
    return s != GM_OK ? s : gm_config_export(out, &cfg, want->cfg_size, want->first_size, who);
}

gm_status gm_checkpoint_peek(const char *path, gm_checkpoint_info *info)
{
    gm_status s = check_path(path, "gm_checkpoint_peek");
    return s != GM_OK ? s : peek_info(path, info, "gm_checkpoint_peek");
}

gm_status gm_checkpoint_peek_vae(const char *path, gm_vae_config *cfg)
{
    gm_status s = check_path(path, "gm_checkpoint_peek_vae");
    return s != GM_OK ? s : peek_config(path, &vae_kind, cfg, "gm_checkpoint_peek_vae");
}

gm_status gm_checkpoint_peek_gan(const char *path, gm_gan_config *cfg)
{
    gm_status s = check_path(path, "gm_checkpoint_peek_gan");
    return s != GM_OK ? s : peek_config(path, &gan_kind, cfg, "gm_checkpoint_peek_gan");
}

gm_status gm_checkpoint_peek_sr(const char *path, gm_sr_config *cfg)
{
    gm_status s = check_path(path, "gm_checkpoint_peek_sr");
    return s != GM_OK ? s : peek_config(path, &sr_kind, cfg, "gm_checkpoint_peek_sr");
}
