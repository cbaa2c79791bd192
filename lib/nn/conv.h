/* 2-D convolution and transposed convolution as gathers and matrix products.
 * Legend: N batch, C channels, H height, W width, K kernel side, S stride,
 * P padding; R rows of an activation matrix. Activations are NHWC: a batch
 * is a matrix of R = N*H*W rows of C floats. Weights of both kinds are
 * (out_c, K, K, in_c) ("OHWI"), biases (out_c).
 *
 * Conv: col (N*out_h*out_w, K*K*in_c) = im2col(x), columns (kh, kw, c);
 * y = f(col W^T + b), a dense layer on col. Transposed conv: ycol
 * (N*in_h*in_w, out_c*K*K) = x W'^T, W' the weights viewed as
 * (out_c*K*K, in_c), columns (o, kh, kw); y = f(col2im(ycol) + b).
 *
 * A team member calls the _share functions on its output channels
 * [c0, c1) and writes only those channels of y, the same rows of the
 * weights' gradients, and its own part of the input gradient (the parts of
 * all members add up to it, as with gm_dense_backward_share). Nothing here
 * allocates, fails or checks its inputs: a layer checks them once.
 * Row counts N*out_h*out_w and N*in_h*in_w must fit an int (the layer
 * bounds its batch so); within a sample, gm_conv_geom_init bounds every
 * size. */
#ifndef GM_NN_CONV_H
#define GM_NN_CONV_H

#include <stdbool.h>

#include "core/rng.h"
#include "genmodel/common.h"

typedef struct gm_conv_geom {
    bool transposed;
    int in_c, in_h, in_w;
    int out_c, out_h, out_w;
    int k, stride, pad, out_pad;  /* out_pad: transposed only, else 0 */
} gm_conv_geom;

/* Fill g, computing the output size as PyTorch does: (in + 2P - K) / S + 1
 * for a conv, (in - 1) * S - 2P + K + out_pad for a transposed one.
 * GM_ERR_INVALID_ARG, with a message that begins with who and names the
 * field, for: a size, K or S below 1 or above GM_MAX_DIM; P outside
 * [0, GM_MAX_DIM]; out_pad outside [0, S) (PyTorch's rule; a conv's must be
 * 0); an output below one pixel; a sample (C*H*W of the input or the
 * output) or a column row (K*K*in_c, K*K*out_c) above GM_MAX_DIM; weights
 * above GM_MAX_PARAMS. On failure g is left as it was. */
gm_status gm_conv_geom_init(gm_conv_geom *g, bool transposed, int in_c, int in_h, int in_w, int out_c, int k,
                            int stride, int pad, int out_pad, const char *who);

/* Floats in one sample of the input and of the output (C*H*W). */
static inline int gm_conv_in_size(const gm_conv_geom *g) { return g->in_c * g->in_h * g->in_w; }
static inline int gm_conv_out_size(const gm_conv_geom *g) { return g->out_c * g->out_h * g->out_w; }

/* PyTorch's default initialisation: W and b uniform in +-1/sqrt(fan_in),
 * fan_in K*K*in_c for a conv and K*K*out_c for a transposed conv (PyTorch
 * takes it from the weight's second dimension, which is out_c there). */
void gm_conv_init(gm_rng *rng, float *W, float *b, const gm_conv_geom *g);

/* --- Conv ------------------------------------------------------------- */

/* col = im2col(x), (N*out_h*out_w, K*K*in_c) from x (N, in_h, in_w, in_c):
 * row (n, oy, ox), column (kh, kw, c) holds x[n, oy*S - P + kh,
 * ox*S - P + kw, c], zero outside x. The products below gather it chunk
 * by chunk; no one makes it whole. */

/* Channels [c0, c1) of dx (N, in_h, in_w, in_c) WRITTEN OVER with the
 * adjoint of im2col applied to the sum of parts matrices dcol[q] (each
 * (N*out_h*out_w, K*K*in_c)): every x entry gets the dcol entries it was
 * copied to. Summing the members' parts here costs no pass of its own. */
void gm_conv_col2im(float *dx, const float *const *dcol, int parts, const gm_conv_geom *g, int N, int c0,
                    int c1);

/* The products over a batch's rows go by chunks of rows whose im2col is
 * gathered into a scratch that stays in a core's cache: groups of up to 16
 * whole samples (a power of two) when several fit, else equal pieces of
 * one sample. The chunks depend on the geometry alone and start on groups
 * aligned from sample 0, so members whose samples start at multiples of
 * 16 (gm_team_share) cut the same ones as a caller alone. This many floats
 * of scratch serve the functions below for batches of up to N samples. */
size_t gm_conv_chunk_floats(const gm_conv_geom *g, int N);

/* y (N, out_h, out_w, out_c) = f(im2col(x) W^T + b) in the channels
 * [c0, c1), rows of the samples [n0, n1), chunk by chunk: x (N, in_h,
 * in_w, in_c), scratch of gm_conv_chunk_floats(g, N) floats. b may be
 * NULL. */
void gm_conv_forward_share(float *y, float *scratch, const float *x, const float *W, const float *b,
                           const gm_conv_geom *g, int N, int n0, int n1, int c0, int c1, int act, float slope);

/* Backward over the channels [c0, c1), as gm_dense_backward_share on
 * col = im2col(x): dy (as y) holds dL/dy on entry and dL/d(pre-activation)
 * on return, in the share's channels; dW's rows and db's entries of the
 * share are written over, or added to when accumulate (dW chunk by chunk
 * through scratch, as in gm_conv_forward_share); dcol (as col) gets the
 * share's part of dL/dcol, to be summed and folded into dx by
 * gm_conv_col2im once every member has written its part. dW, db and dcol
 * may each be NULL; scratch and x are read only for dW. */
void gm_conv_backward_share(float *dcol, float *dW, float *db, bool accumulate, float *dy, float *scratch,
                            const float *x, const float *W, const float *y, const gm_conv_geom *g, int N, int c0,
                            int c1, int act, float slope);

/* --- Conv's input gradient as a correlation ------------------------------ */

/* At stride 1 the input gradient is a conv of its own: of the
 * pre-activation dy by the kernel turned half a turn, its channels
 * swapped, at padding K-1-P: dx = im2col'(dy) Wf, Wf (K*K*out_c, in_c).
 * Chunk by chunk in a core's cache, straight into dx, in place of a
 * product into dcol and col2im's pass over it. True when that holds
 * (stride 1, P <= K-1) and the im2col of dy, N*in_h*in_w rows of
 * K*K*out_c, is no larger than col (a conv that does not widen: dy's side
 * is then the narrower one to gather). */
bool gm_conv_dx_by_correlation(const gm_conv_geom *g);

/* Rows (kh, kw, o) of Wf (K*K*out_c, in_c) for the output channels o in
 * [c0, c1): W[o, K-1-kh, K-1-kw, :]. */
void gm_conv_flip_share(float *Wf, const float *W, const gm_conv_geom *g, int c0, int c1);

/* Samples [n0, n1) of dx (N, in_h, in_w, in_c) WRITTEN OVER with the input
 * gradient, from every channel of dy (N, out_h, out_w, out_c, the
 * gradient of the pre-activation) and all of Wf, when
 * gm_conv_dx_by_correlation, chunk by chunk (as gm_conv_chunk_floats
 * says) through dycol, scratch of gm_conv_chunk_floats(g, N) floats. */
void gm_conv_dx_samples(float *dx, float *dycol, const float *dy, const float *Wf, const gm_conv_geom *g, int n0,
                        int n1);

/* --- Transposed conv --------------------------------------------------- */

/* Channels [c0, c1) of y (N, out_h, out_w, out_c) WRITTEN OVER with ycol
 * (N*in_h*in_w, out_c*K*K) folded: y[n, oy, ox, o] is the sum of
 * ycol[(n, iy, ix), (o, kh, kw)] over oy = iy*S - P + kh, ox = ix*S - P + kw.
 * Reads only the columns of the channels [c0, c1). */
void gm_convt_col2im(float *y, const float *ycol, const gm_conv_geom *g, int N, int c0, int c1);

/* Its adjoint, in the columns of the channels [c0, c1): dycol[(n, iy, ix),
 * (o, kh, kw)] = dy[n, iy*S - P + kh, ix*S - P + kw, o], zero outside dy. */
void gm_convt_im2col(float *dycol, const float *dy, const gm_conv_geom *g, int N, int c0, int c1);

/* y (N, out_h, out_w, out_c) = f(col2im(x W'^T) + b) in the channels
 * [c0, c1), x (N, in_h, in_w, in_c); ycol (N*in_h*in_w, out_c*K*K) is
 * scratch, of which only the share's columns are used. b may be NULL. */
void gm_convt_forward_share(float *y, float *ycol, const float *x, const float *W, const float *b,
                            const gm_conv_geom *g, int N, int c0, int c1, int act, float slope);

/* Backward over the channels [c0, c1): dy (as y) holds dL/dy on entry and
 * dL/d(pre-activation) on return, in the share's channels; dycol (as ycol)
 * is scratch, the share's columns used; dW's rows [c0*K*K, c1*K*K) of W'
 * and db's entries of the share are written over, or added to when
 * accumulate; dx (N, in_h, in_w, in_c) gets the share's part of the input
 * gradient (written over; zero for an empty share). dW, db and dx may each
 * be NULL. */
void gm_convt_backward_share(float *dx, float *dW, float *db, bool accumulate, float *dy, float *dycol,
                             const float *x, const float *W, const float *y, const gm_conv_geom *g, int N, int c0,
                             int c1, int act, float slope);

#endif
