/* A dense layer with its activation fused in: y = f(x W^T + b).
 * Legend: N batch, D inputs, O outputs. W is (O, D) as in torch.nn.Linear.
 * Parameter gradients are set or added to; dx is written. */
#ifndef GM_NN_DENSE_H
#define GM_NN_DENSE_H

#include <stdbool.h>

#include "core/rng.h"

/* y (N, O) = f(x (N, D) W^T + b) */
void gm_dense_forward(float *y, const float *x, const float *W, const float *b,
                      int N, int D, int O, int act, float slope);

/* The same for the outputs [o0, o1) alone (a team member's share): y is
 * still (N, O), W (O, D); only y's columns in the share are written, from
 * the share's rows of W and b. */
void gm_dense_forward_share(float *y, const float *x, const float *W, const float *b,
                            int N, int D, int O, int o0, int o1, int act, float slope);

/* Backward over the outputs [o0, o1) (all of them: 0, O). dy (N, O) holds
 * dL/dy on entry and dL/d(pre-activation) on return, in the share's
 * columns. The share's rows of dW (O, D) and db (O) get the parameter
 * gradients, added to them when accumulate, else written over them; dx
 * (N, D) gets the share's part of the sum over outputs (the parts of all
 * shares add up to the layer's dx); each unless NULL. */
void gm_dense_backward_share(float *dx, float *dW, float *db, bool accumulate, float *dy, const float *x,
                             const float *W, const float *y, int N, int D, int O, int o0, int o1, int act,
                             float slope);

/* torch.nn.Linear's default: W and b uniform in +-1/sqrt(D) */
void gm_dense_init(gm_rng *rng, float *W, float *b, int D, int O);

#endif
