/* The gradient penalty of WGAN-GP: for a network with one output,
 * P = weight / N * sum_n (||dD(x_n)/dx_n|| - 1)^2, the norm taken over the
 * first `cols` inputs of every `group` of them (a sample's values: a
 * conditional critic's label columns, or label planes, are not the
 * sample's), and its gradient with respect to the network's parameters
 * (a second-order, "double backward" pass).
 * Legend: N batch, D input width. */
#ifndef GM_NN_GRAD_PENALTY_H
#define GM_NN_GRAD_PENALTY_H

#include "net.h"
#include "core/workspace.h"

/* x (N, D). Runs the network forward on x, accumulates dP/dtheta into t's
 * gradients and returns P (*status gets GM_ERR_NO_MEMORY, in the terms of
 * the public call who, if ws cannot grow; it is the only failure).
 * Requires gm_net_reserve(net, N, true). */
double gm_grad_penalty(gm_net *net, gm_param_table *t, gm_workspace *ws, const float *x, int N, int cols,
                       int group, float weight, gm_status *status, const char *who);

#endif
