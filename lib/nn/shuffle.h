/* Pixel shuffle ("depth to space", PyTorch's nn.PixelShuffle(r)): the
 * output of a sub-pixel convolution rearranged into an image r times as
 * tall and wide. Legend: N batch, C output channels, H, W input height and
 * width, r the upscale factor. Activations are NHWC: x (N, H, W, C*r*r),
 * y (N, H*r, W*r, C), with PyTorch's channel order, so that weights port:
 *     y[n][h*r + i][w*r + j][c] = x[n][h][w][c*r*r + i*r + j].
 * A permutation: the backward moves each gradient back where it came from.
 * Work is divided by input rows q = n*H + h, each of which fills r whole
 * rows of y; nothing here allocates, fails or checks its inputs. */
#ifndef GM_NN_SHUFFLE_H
#define GM_NN_SHUFFLE_H

/* the input rows [q0, q1) of x (N, H, W, C*r*r) into y (N, H*r, W*r, C) */
void gm_shuffle_forward(float *y, const float *x, int C, int W, int r, int q0, int q1);

/* the inverse: dy (N, H*r, W*r, C) back into the input rows [q0, q1) of
 * dx (N, H, W, C*r*r), written over */
void gm_shuffle_backward(float *dx, const float *dy, int C, int W, int r, int q0, int q1);

#endif
