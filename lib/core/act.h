/* Activations, applied in place on (N, D) row-major data.
 * Backward uses each function's derivative written in terms of its output y,
 * so a layer keeps only its post-activation values. */
#ifndef GM_CORE_ACT_H
#define GM_CORE_ACT_H

#include <stdbool.h>
#include <stddef.h>

#include "genmodel/common.h"

/* y (N, D) = f(y + bias), bias (D) or NULL. kind is a gm_activation; slope
 * is leaky relu's slope for negative inputs. */
void gm_act_forward(float *y, const float *bias, int N, int D, int kind, float slope);

/* dy (N, D) *= f'(x), computed from y = f(x); dbias (D), if not NULL,
 * accumulates the column sums of the result in the same pass. */
void gm_act_backward(float *dy, float *dbias, const float *y, int N, int D, int kind, float slope);

/* The same on D columns of wider matrices whose rows are ld floats apart
 * (y and dy alike): one member's share of a layer. */
void gm_act_forward_ld(float *y, int ld, const float *bias, int N, int D, int kind, float slope);
void gm_act_backward_ld(float *dy, int ld, float *dbias, const float *y, int N, int D, int kind, float slope);

/* g (n) *= f''(x), from y = f(x): the curvature a gradient penalty's
 * second-order pass needs. */
void gm_act_curvature(float *g, const float *y, size_t n, int kind);

/* Whether f'' is anywhere nonzero (not piecewise linear). */
bool gm_act_curved(int kind);

bool gm_act_valid(int kind);

#endif
