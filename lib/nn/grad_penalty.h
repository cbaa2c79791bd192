/* The gradient penalty of WGAN-GP: for an MLP with one output,
 * P = weight / N * sum_n (||dD(x_n)/dx_n|| - 1)^2, the norm taken over the
 * first `cols` inputs (a conditional critic's label columns are not the
 * sample's), and its gradient with
 * respect to the MLP's parameters (a second-order, "double backward" pass).
 * Legend: N batch, D input width. */
#ifndef GM_NN_GRAD_PENALTY_H
#define GM_NN_GRAD_PENALTY_H

#include "mlp.h"
#include "core/workspace.h"

/* x (N, D). Runs the MLP forward on x, accumulates dP/dtheta into t's
 * gradients and returns P (*status gets GM_ERR_NO_MEMORY, in the terms of
 * the public call who, if ws cannot grow; it is the only failure).
 * Requires gm_mlp_reserve(mlp, N, true). */
double gm_grad_penalty(gm_mlp *mlp, gm_param_table *t, gm_workspace *ws, const float *x, int N, int cols,
                       float weight, gm_status *status, const char *who);

#endif
