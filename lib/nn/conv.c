/* Conv and transposed conv: the gathers between images and column
 * matrices, and the layers' shares composed of them and dense products.
 * Legend as in conv.h. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "conv.h"
#include "dense.h"
#include "core/act.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/simd.h"

static gm_status check_range(const char *who, const char *field, int v, int lo, int hi)
{
    if (v < lo || v > hi)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s must be in [%d, %d] (got %d)", who, field, lo, hi, v);
    return GM_OK;
}

/* a * b when both and the product are in [1, limit] (no overflow: each
 * factor was bounded first), else -1 */
static int64_t product_within(int64_t a, int64_t b, int64_t limit)
{
    return a <= limit && b <= limit && a * b <= limit ? a * b : -1;
}

static gm_status check_product(const char *who, const char *what, int64_t a, int64_t b, int64_t c,
                               int64_t limit)
{
    int64_t ab = product_within(a, b, limit);
    if (ab < 0 || product_within(ab, c, limit) < 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: %s (%lld x %lld x %lld) is above %lld", who, what, (long long)a,
                       (long long)b, (long long)c, (long long)limit);
    return GM_OK;
}

/* the output side as PyTorch computes it; below 1 when there is none */
static int64_t out_side(bool transposed, int64_t in, int64_t k, int64_t s, int64_t p, int64_t op)
{
    if (transposed)
        return (in - 1) * s - 2 * p + k + op;
    /* C's division truncates toward zero: a kernel wider than the padded
     * input would otherwise give one pixel */
    return in + 2 * p < k ? 0 : (in + 2 * p - k) / s + 1;
}

gm_status gm_conv_geom_init(gm_conv_geom *g, bool transposed, int in_c, int in_h, int in_w, int out_c, int k,
                            int stride, int pad, int out_pad, const char *who)
{
    const struct { const char *name; int v, lo, hi; } fields[] = {
        { "in_c", in_c, 1, GM_MAX_DIM }, { "in_h", in_h, 1, GM_MAX_DIM }, { "in_w", in_w, 1, GM_MAX_DIM },
        { "out_c", out_c, 1, GM_MAX_DIM }, { "kernel", k, 1, GM_MAX_DIM }, { "stride", stride, 1, GM_MAX_DIM },
        { "padding", pad, 0, GM_MAX_DIM },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        gm_status s = check_range(who, fields[i].name, fields[i].v, fields[i].lo, fields[i].hi);
        if (s != GM_OK)
            return s;
    }
    if (!transposed && out_pad != 0)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: output_padding is for transposed convs only (got %d)", who, out_pad);
    /* PyTorch's rule (at dilation 1): padding the output by a stride or
     * more would add pixels no input reaches */
    if (out_pad < 0 || out_pad >= stride)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: output_padding must be in [0, stride) = [0, %d) (got %d)", who,
                       stride, out_pad);
    const int64_t oh = out_side(transposed, in_h, k, stride, pad, out_pad);
    const int64_t ow = out_side(transposed, in_w, k, stride, pad, out_pad);
    if (oh < 1 || ow < 1)
        return gm_fail(GM_ERR_INVALID_ARG, "%s: the output would be %lldx%lld pixels (input %dx%d, kernel %d, "
                       "stride %d, padding %d, output_padding %d)", who, (long long)oh, (long long)ow, in_h, in_w,
                       k, stride, pad, out_pad);
    gm_status s;
    if ((s = check_product(who, "the input sample in_c x in_h x in_w", in_c, in_h, in_w, GM_MAX_DIM)) != GM_OK ||
        (s = check_product(who, "the output sample out_c x out_h x out_w", out_c, oh, ow, GM_MAX_DIM)) != GM_OK ||
        (s = check_product(who, "a column row kernel x kernel x in_c", k, k, in_c, GM_MAX_DIM)) != GM_OK ||
        (s = check_product(who, "a column row kernel x kernel x out_c", k, k, out_c, GM_MAX_DIM)) != GM_OK ||
        (s = check_product(who, "the weights out_c x kernel x kernel x in_c", out_c, (int64_t)k * k, in_c,
                           GM_MAX_PARAMS)) != GM_OK)
        return s;
    *g = (gm_conv_geom){ .transposed = transposed, .in_c = in_c, .in_h = in_h, .in_w = in_w, .out_c = out_c,
                         .out_h = (int)oh, .out_w = (int)ow, .k = k, .stride = stride, .pad = pad,
                         .out_pad = out_pad };
    return GM_OK;
}

void gm_conv_init(gm_rng *rng, float *W, float *b, const gm_conv_geom *g)
{
    const int kk = g->k * g->k;
    float bound = 1.0f / sqrtf((float)kk * (float)(g->transposed ? g->out_c : g->in_c));
    gm_rng_uniform(rng, W, (size_t)g->out_c * kk * g->in_c, -bound, bound);
    if (b)
        gm_rng_uniform(rng, b, (size_t)g->out_c, -bound, bound);
}

/* Both kinds meet one pattern: a "small" image's pixel (sy, sx) and the
 * tap (kh, kw) touch the "big" image's pixel (sy*S - P + kh, sx*S - P + kw).
 * A column matrix has a row per small pixel, ld floats long, holding tap
 * (kh, kw) of channel c at kh*skh + kw*skw + c*sc. A conv's big image is
 * its input, with columns (kh, kw, c); a transposed conv's is its output,
 * with columns (c, kh, kw). */
typedef struct taps {
    int bh, bw, bc;  /* big image; bc channels per pixel */
    int sh, sw;      /* small image */
    int k, s, p;
    int ld, skh, skw, sc;
} taps;

static taps conv_taps(const gm_conv_geom *g)
{
    return (taps){ g->in_h, g->in_w, g->in_c, g->out_h, g->out_w, g->k, g->stride, g->pad,
                   g->k * g->k * g->in_c, g->k * g->in_c, g->in_c, 1 };
}

static taps convt_taps(const gm_conv_geom *g)
{
    return (taps){ g->out_h, g->out_w, g->out_c, g->in_h, g->in_w, g->k, g->stride, g->pad,
                   g->out_c * g->k * g->k, g->k, 1, g->k * g->k };
}

/* A conv's row, every channel: the taps (kh, 0..K) of a row of the
 * kernel are one run in the image and in the row, at any stride, copied
 * at once (a first layer of one channel copies K floats, not K calls of
 * one). */
static void unfold_run(float *row, const float *img, const taps *t, int sy, int sx)
{
    const int x0 = sx * t->s - t->p, lo = x0 < 0 ? -x0 : 0, hi = x0 + t->k > t->bw ? t->bw - x0 : t->k;
    for (int kh = 0; kh < t->k; kh++) {
        const int by = sy * t->s - t->p + kh;
        float *dst = row + (size_t)kh * t->skh;
        if (by < 0 || by >= t->bh || hi <= lo) {
            memset(dst, 0, (size_t)t->k * t->bc * sizeof *dst);
            continue;
        }
        if (lo > 0)
            memset(dst, 0, (size_t)lo * t->bc * sizeof *dst);
        memcpy(dst + (size_t)lo * t->bc, img + ((size_t)by * t->bw + x0 + lo) * t->bc,
               (size_t)(hi - lo) * t->bc * sizeof *dst);
        if (hi < t->k)
            memset(dst + (size_t)hi * t->bc, 0, (size_t)(t->k - hi) * t->bc * sizeof *dst);
    }
}

/* Rows [r0, r1) of a column matrix, channels [c0, c1) of each tap, from
 * the big image (zero where a tap falls outside it); row r at
 * rows + (r - r0) * ld. */
static void unfold(float *rows, const float *big, const taps *t, int r0, int r1, int c0, int c1)
{
    const int plane = t->sh * t->sw;
    for (int r = r0; r < r1; r++) {
        const int n = r / plane, sy = r % plane / t->sw, sx = r % t->sw;
        float *row = rows + (size_t)(r - r0) * t->ld;
        if (t->sc == 1 && t->skw == t->bc && c0 == 0 && c1 == t->bc) {
            unfold_run(row, big + (size_t)n * t->bh * t->bw * t->bc, t, sy, sx);
            continue;
        }
        for (int kh = 0; kh < t->k; kh++) {
            const int by = sy * t->s - t->p + kh;
            for (int kw = 0; kw < t->k; kw++) {
                const int bx = sx * t->s - t->p + kw;
                float *dst = row + kh * t->skh + kw * t->skw;
                if (by < 0 || by >= t->bh || bx < 0 || bx >= t->bw) {
                    for (int c = c0; c < c1; c++)
                        dst[(size_t)c * t->sc] = 0.0f;
                    continue;
                }
                const float *src = big + (((size_t)n * t->bh + by) * t->bw + bx) * t->bc;
                if (t->sc == 1)
                    memcpy(dst + c0, src + c0, (size_t)(c1 - c0) * sizeof *dst);
                else
                    for (int c = c0; c < c1; c++)
                        dst[(size_t)c * t->sc] = src[c];
            }
        }
    }
}

/* The big image's channels [c0, c1) written over with the sum, over the
 * parts column matrices, of the entries unfold would have copied from
 * them. Gathered per big pixel (its taps are those kh = (by + P) mod S
 * + j*S that land inside the small image), so every output is written once
 * and members with disjoint channels never touch the same floats. */
static void fold_stride1(float *big, const float *const *cols, int parts, const taps *t, int N, int c0, int c1);

static void fold(float *big, const float *const *cols, int parts, const taps *t, int N, int c0, int c1)
{
    if (t->s == 1 && t->sc == 1) {
        fold_stride1(big, cols, parts, t, N, c0, c1);
        return;
    }
    for (int n = 0; n < N; n++)
        for (int by = 0; by < t->bh; by++)
            for (int bx = 0; bx < t->bw; bx++) {
                float *dst = big + (((size_t)n * t->bh + by) * t->bw + bx) * t->bc;
                for (int c = c0; c < c1; c++)
                    dst[c] = 0.0f;
                for (int kh = (by + t->p) % t->s; kh < t->k && kh <= by + t->p; kh += t->s) {
                    const int sy = (by + t->p - kh) / t->s;
                    if (sy >= t->sh)
                        continue;
                    for (int kw = (bx + t->p) % t->s; kw < t->k && kw <= bx + t->p; kw += t->s) {
                        const int sx = (bx + t->p - kw) / t->s;
                        if (sx >= t->sw)
                            continue;
                        const size_t at = (((size_t)n * t->sh + sy) * t->sw + sx) * t->ld
                                          + (size_t)kh * t->skh + (size_t)kw * t->skw;
                        for (int q = 0; q < parts; q++) {
                            const float *src = cols[q] + at;
                            if (t->sc == 1)
                                for (int c = c0; c < c1; c++)
                                    dst[c] += src[c];
                            else
                                for (int c = c0; c < c1; c++)
                                    dst[c] += src[(size_t)c * t->sc];
                        }
                    }
                }
            }
}

/* fold at stride 1, where a big pixel's taps are the kernel's window
 * [by + P - sh + 1, by + P] x [bx + P - sw + 1, bx + P] cut to [0, K):
 * bounds instead of a test per tap, and a channel loop that vectorises */
GM_VECTOR_CLONES static void fold_stride1(float *big, const float *const *cols, int parts, const taps *t, int N,
                                          int c0, int c1)
{
    const int K = t->k, P = t->p;
    for (int n = 0; n < N; n++)
        for (int by = 0; by < t->bh; by++) {
            const int kh0 = by + P - t->sh + 1 > 0 ? by + P - t->sh + 1 : 0, kh1 = by + P + 1 < K ? by + P + 1 : K;
            for (int bx = 0; bx < t->bw; bx++) {
                const int kw0 = bx + P - t->sw + 1 > 0 ? bx + P - t->sw + 1 : 0, kw1 = bx + P + 1 < K ? bx + P + 1 : K;
                float *restrict dst = big + (((size_t)n * t->bh + by) * t->bw + bx) * t->bc;
                for (int c = c0; c < c1; c++)
                    dst[c] = 0.0f;
                for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++) {
                        const int sy = by + P - kh, sx = bx + P - kw;
                        const size_t at = (((size_t)n * t->sh + sy) * t->sw + sx) * t->ld + (size_t)kh * t->skh
                                          + (size_t)kw * t->skw;
                        for (int q = 0; q < parts; q++) {
                            const float *restrict src = cols[q] + at;
                            for (int c = c0; c < c1; c++)
                                dst[c] += src[c];
                        }
                    }
            }
        }
}

void gm_conv_col2im(float *dx, const float *const *dcol, int parts, const gm_conv_geom *g, int N, int c0, int c1)
{
    const taps t = conv_taps(g);
    fold(dx, dcol, parts, &t, N, c0, c1);
}

/* A chunk's rows: as many as CHUNK_FLOATS holds, half of a core's L2 on
 * Zen 2, 3 and 5 (a quarter of it was slower, by 3% on the ESPCN's step,
 * and more was no faster), but no fewer than MIN_ROWS: each product packs
 * its share of W anew, which for a wide W (a DCGAN's 64 -> 128 conv, 512 KB)
 * costs more than a chunk that spills to L3 (3% slower at 128 rows). */
enum { CHUNK_FLOATS = 1 << 17, MIN_ROWS = 256 };

/* The chunks of a batch's rows (conv.h): rows of pixels per sample, in
 * groups of samples (a power of two up to 16), cut into pieces of at most
 * rows rows. */
typedef struct chunking {
    int pixels, samples, rows;
} chunking;

/* for matrices whose rows are width floats */
static chunking chunks_of(int pixels, int width)
{
    const int fit = CHUNK_FLOATS / width > MIN_ROWS ? CHUNK_FLOATS / width : MIN_ROWS;
    chunking c = { pixels, 1, pixels };
    if (pixels <= fit) {
        while (c.samples < 16 && 2 * c.samples * pixels <= fit)
            c.samples *= 2;
        c.rows = c.samples * pixels;
    } else {
        const int pieces = (pixels + fit - 1) / fit;
        c.rows = (pixels + pieces - 1) / pieces;
    }
    return c;
}

/* After the chunk [*r, *r + *m), the next one, [*r, *r + *m), of the rows
 * of samples before n1; false when there is none. Start at *r = n0 *
 * pixels, *m = 0 (n0 a multiple of c->samples, or where a member's
 * samples start). */
static bool next_chunk(const chunking *c, int n1, int *r, int *m)
{
    *r += *m;
    const int last = (*r / c->pixels / c->samples + 1) * c->samples;
    const int end = (last < n1 ? last : n1) * c->pixels;
    *m = end - *r < c->rows ? end - *r : c->rows;
    return *r < n1 * c->pixels;
}

/* A product with few output channels runs faster turned around, the
 * share's channels as the rows of W col^T (0.40 against 1.06 ms a step
 * for the ESPCN's 32 -> 4 conv, Zen 5), into scratch after the chunk and
 * then moved into y. Decided by out_c alone, so that every share takes
 * the same products: a team gives all of fewer than 16 channels to one
 * member (gm_team_share) anyway. */
enum { FEW_CHANNELS = 16 };

static bool few_channels(const gm_conv_geom *g)
{
    return g->out_c < FEW_CHANNELS;
}

static taps dx_taps(const gm_conv_geom *g);

/* rows of the largest chunk of a matrix of N samples' rows */
static int chunk_rows(int pixels, int width, int N)
{
    const chunking c = chunks_of(pixels, width);
    return (int64_t)N * pixels < c.rows ? N * pixels : c.rows;
}

size_t gm_conv_chunk_floats(const gm_conv_geom *g, int N)
{
    const taps t = conv_taps(g);
    const size_t rows = (size_t)chunk_rows(g->out_h * g->out_w, t.ld, N);
    size_t most = rows * t.ld + (few_channels(g) ? rows * g->out_c : 0);
    if (gm_conv_dx_by_correlation(g)) {
        const taps d = dx_taps(g);
        const size_t dx = (size_t)chunk_rows(g->in_h * g->in_w, d.ld, N) * d.ld;
        most = dx > most ? dx : most;
    }
    return most;
}

void gm_conv_forward_share(float *y, float *scratch, const float *x, const float *W, const float *b,
                           const gm_conv_geom *g, int N, int n0, int n1, int c0, int c1, int act, float slope)
{
    if (c1 <= c0)
        return;
    const taps t = conv_taps(g);
    const int O = g->out_c, width = c1 - c0;
    const chunking c = chunks_of(g->out_h * g->out_w, t.ld);
    float *turned = scratch + (size_t)chunk_rows(c.pixels, t.ld, N) * t.ld;
    for (int r = n0 * c.pixels, m = 0; next_chunk(&c, n1, &r, &m);) {
        unfold(scratch, x, &t, r, r + m, 0, g->in_c);
        float *out = y + (size_t)r * O;
        if (!few_channels(g)) {
            gm_dense_forward_share(out, scratch, W, b, m, t.ld, O, c0, c1, act, slope);
            continue;
        }
        gm_gemm_ld(false, true, width, m, t.ld, 1.0f, W + (size_t)c0 * t.ld, t.ld, scratch, t.ld, 0.0f, turned, m);
        for (int i = 0; i < m; i++)
            for (int o = 0; o < width; o++)
                out[(size_t)i * O + c0 + o] = turned[(size_t)o * m + i];
        gm_act_forward_ld(out + c0, O, b ? b + c0 : NULL, m, width, act, slope);
    }
}

void gm_conv_backward_share(float *dcol, float *dW, float *db, bool accumulate, float *dy, float *scratch,
                            const float *x, const float *W, const float *y, const gm_conv_geom *g, int N, int c0,
                            int c1, int act, float slope)
{
    const taps t = conv_taps(g);
    const int O = g->out_c;
    /* the activation, db and dcol as a dense layer on col's rows; dW by
     * the forward's chunks, added up in their order */
    gm_dense_backward_share(dcol, NULL, db, accumulate, dy, NULL, W, y, N * g->out_h * g->out_w, t.ld, O, c0, c1,
                            act, slope);
    if (!dW || c1 <= c0)
        return;
    const chunking c = chunks_of(g->out_h * g->out_w, t.ld);
    for (int r = 0, m = 0; next_chunk(&c, N, &r, &m);) {
        unfold(scratch, x, &t, r, r + m, 0, g->in_c);
        gm_gemm_ld(true, false, c1 - c0, t.ld, m, 1.0f, dy + (size_t)r * O + c0, O, scratch, t.ld,
                   accumulate || r > 0 ? 1.0f : 0.0f, dW + (size_t)c0 * t.ld, t.ld);
    }
}

/* dy seen as a conv's input: dx's pixel (iy, ix) and the flipped tap
 * (kh, kw) touch dy's pixel (iy - (K-1-P) + kh, ix - (K-1-P) + kw), a conv
 * of dy at padding K-1-P with columns (kh, kw, o) */
static taps dx_taps(const gm_conv_geom *g)
{
    return (taps){ g->out_h, g->out_w, g->out_c, g->in_h, g->in_w, g->k, 1, g->k - 1 - g->pad,
                   g->k * g->k * g->out_c, g->k * g->out_c, g->out_c, 1 };
}

bool gm_conv_dx_by_correlation(const gm_conv_geom *g)
{
    return !g->transposed && g->stride == 1 && g->pad <= g->k - 1 &&
           (int64_t)g->in_h * g->in_w * g->out_c <= (int64_t)g->out_h * g->out_w * g->in_c;
}

void gm_conv_flip_share(float *Wf, const float *W, const gm_conv_geom *g, int c0, int c1)
{
    const int K = g->k, C = g->in_c, O = g->out_c;
    for (int kh = 0; kh < K; kh++)
        for (int kw = 0; kw < K; kw++)
            for (int o = c0; o < c1; o++)
                memcpy(Wf + (((size_t)kh * K + kw) * O + o) * C,
                       W + (((size_t)o * K + (K - 1 - kh)) * K + (K - 1 - kw)) * C, (size_t)C * sizeof *Wf);
}

void gm_conv_dx_samples(float *dx, float *dycol, const float *dy, const float *Wf, const gm_conv_geom *g, int n0,
                        int n1)
{
    const taps t = dx_taps(g);
    const chunking c = chunks_of(g->in_h * g->in_w, t.ld);
    for (int r = n0 * c.pixels, m = 0; next_chunk(&c, n1, &r, &m);) {
        unfold(dycol, dy, &t, r, r + m, 0, g->out_c);
        gm_gemm_ld(false, false, m, g->in_c, t.ld, 1.0f, dycol, t.ld, Wf, g->in_c, 0.0f, dx + (size_t)r * g->in_c,
                   g->in_c);
    }
}

void gm_convt_col2im(float *y, const float *ycol, const gm_conv_geom *g, int N, int c0, int c1)
{
    const taps t = convt_taps(g);
    fold(y, &ycol, 1, &t, N, c0, c1);
}

void gm_convt_im2col(float *dycol, const float *dy, const gm_conv_geom *g, int N, int c0, int c1)
{
    const taps t = convt_taps(g);
    unfold(dycol, dy, &t, 0, N * g->in_h * g->in_w, c0, c1);
}

void gm_convt_forward_share(float *y, float *ycol, const float *x, const float *W, const float *b,
                            const gm_conv_geom *g, int N, int c0, int c1, int act, float slope)
{
    if (c1 <= c0)
        return;
    const int kk = g->k * g->k, rows = N * g->in_h * g->in_w;
    /* the share's block of ycol: its rows of W' times x */
    gm_gemm_ld(false, true, rows, (c1 - c0) * kk, g->in_c, 1.0f, x, g->in_c, W + (size_t)c0 * kk * g->in_c,
               g->in_c, 0.0f, ycol + (size_t)c0 * kk, g->out_c * kk);
    gm_convt_col2im(y, ycol, g, N, c0, c1);
    gm_act_forward_ld(y + c0, g->out_c, b ? b + c0 : NULL, N * g->out_h * g->out_w, c1 - c0, act, slope);
}

void gm_convt_backward_share(float *dx, float *dW, float *db, bool accumulate, float *dy, float *dycol,
                             const float *x, const float *W, const float *y, const gm_conv_geom *g, int N, int c0,
                             int c1, int act, float slope)
{
    const int kk = g->k * g->k, rows = N * g->in_h * g->in_w, width = (c1 - c0) * kk;
    if (c1 <= c0) {
        if (dx)
            memset(dx, 0, (size_t)rows * g->in_c * sizeof *dx);
        return;
    }
    if (db && !accumulate)
        memset(db + c0, 0, (size_t)(c1 - c0) * sizeof *db);
    gm_act_backward_ld(dy + c0, g->out_c, db ? db + c0 : NULL, y + c0, N * g->out_h * g->out_w, c1 - c0, act,
                       slope);
    if (!dW && !dx)
        return;
    gm_convt_im2col(dycol, dy, g, N, c0, c1);
    const float *block = dycol + (size_t)c0 * kk;
    const int ld = g->out_c * kk;
    if (dW)
        gm_gemm_ld(true, false, width, g->in_c, rows, 1.0f, block, ld, x, g->in_c, accumulate ? 1.0f : 0.0f,
                   dW + (size_t)c0 * kk * g->in_c, g->in_c);
    if (dx)
        gm_gemm_ld(false, false, rows, g->in_c, width, 1.0f, block, ld, W + (size_t)c0 * kk * g->in_c, g->in_c,
                   0.0f, dx, g->in_c);
}
