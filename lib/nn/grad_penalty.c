/* Double backward through a network. Layer i maps x_i to y_i = f_i(a_i),
 * a_i = A_i(x_i) + b_i with A_i linear (a dense or convolution product).
 * The input gradient is a backward pass from a unit output gradient:
 *     U_{L-1} = 1,  V_i = U_i * f_i'(a_i),  U_{i-1} = A_i^T V_i,  g = U_{-1}.
 * Its reverse, from R = dP/dg, runs i = 0 .. L-1:
 *     dW_i += dA_i(V_i; R) (the weight gradient of A_i with output
 *     gradient V_i at input R),  RV = A_i R,  R <- RV * f_i'(a_i),
 *     and, where f_i is curved, RA_i = RV * U_i * f_i''(a_i),
 * the gradient reaching a_i through f_i', which a last ordinary backward
 * sweep carries into the weights and biases that shaped a_i. Every step
 * is a pass of the layer's own kind with its bias and activation left out
 * (gm_layer_pass.linear), so the penalty holds for any linear kind. */
#include <math.h>
#include <string.h>

#include "grad_penalty.h"
#include "core/act.h"

/* V = U * f'(y) into out */
static void times_slope(float *out, const float *U, const gm_layer *l, int N)
{
    const int width = (int)gm_shape_size(l->out);
    memcpy(out, U, (size_t)N * width * sizeof *out);
    gm_act_backward(out, NULL, l->y, N, width, l->act, l->slope);
}

static const gm_member alone = { .team = NULL, .rank = 0, .size = 1 };

/* out (N, in) = A_l^T dy */
static void input_grad(const gm_layer *l, const gm_param_table *t, float *dy, float *out, int N)
{
    const gm_layer_pass p = { .t = t, .N = N, .n0 = 0, .n1 = N, .c0 = 0, .c1 = l->split, .linear = true };
    const gm_layer_grad g = { .dy = dy, .part = out };
    l->ops->backward(l, &p, &alone, &g);
}

/* dW (and db unless NULL) += the gradients of A_l (plus b) with output
 * gradient dy at input x */
static void add_weight_grad(const gm_layer *l, gm_param_table *t, float *dy, const float *x, bool bias, int N)
{
    const gm_layer_pass p = { .t = t, .N = N, .n0 = 0, .n1 = N, .c0 = 0, .c1 = l->split, .linear = true };
    const gm_layer_grad g = { .x = x, .dy = dy, .dW = gm_param_grad(t, l->param),
                              .db = bias && l->bias ? gm_param_grad(t, l->param + 1) : NULL, .accumulate = true,
                              .other_x = true };
    l->ops->backward(l, &p, &alone, &g);
}

double gm_grad_penalty(gm_net *net, gm_param_table *t, gm_workspace *ws, const float *x, int N, int cols,
                       int group, float weight, gm_status *status, const char *who)
{
    const int L = net->n_layers;
    const gm_layer *layer = net->layer;
    size_t w[GM_NET_MAX_LAYERS + 1];
    w[0] = gm_shape_size(layer[0].in);
    size_t widest = w[0], hidden = 0;
    for (int i = 0; i < L; i++) {
        w[i + 1] = gm_shape_size(layer[i].out);
        widest = w[i + 1] > widest ? w[i + 1] : widest;
    }
    for (int i = 1; i < L; i++)
        hidden += w[i];
    /* U_{-1..L-2} and RA_{0..L-2} back to back; three (N, widest) scratch rows */
    float *U, *RA, *V, *R, *RV;
    float **slots[] = { &U, &RA, &V, &R, &RV };
    const size_t counts[] = { (size_t)N * (w[0] + hidden), (size_t)N * hidden, (size_t)N * widest,
                              (size_t)N * widest, (size_t)N * widest };
    if ((*status = gm_ws_carve(ws, 5, slots, counts, who)) != GM_OK)
        return 0.0;
    float *u_of[GM_NET_MAX_LAYERS + 1], *ra_of[GM_NET_MAX_LAYERS];  /* u_of[i + 1] holds U_i */
    u_of[0] = U;
    for (int i = 0; i < L - 1; i++)
        u_of[i + 1] = u_of[i] + (size_t)N * w[i];
    for (int i = 0, at = 0; i < L - 1; at += (int)w[i + 1], i++)
        ra_of[i] = RA + (size_t)N * at;

    gm_net_forward(net, t, x, N);

    /* the input gradient: V_{L-1} = 1, since the output is linear and single */
    for (int n = 0; n < N; n++)
        V[n] = 1.0f;
    for (int i = L - 1; i >= 0; i--) {
        if (i < L - 1)
            times_slope(V, u_of[i + 1], &layer[i], N);
        input_grad(&layer[i], t, V, u_of[i], N);
    }

    /* P and R = dP/dg */
    double penalty = 0.0;
    for (int n = 0; n < N; n++) {
        const float *g = U + (size_t)n * w[0];
        double sq = 0.0;
        for (size_t at = 0; at < w[0]; at += group)
            for (size_t d = at; d < at + cols; d++)
                sq += (double)g[d] * g[d];
        double norm = sqrt(sq);
        penalty += (norm - 1.0) * (norm - 1.0);
        /* the norm's gradient g / ||g|| is undefined at 0; the tiny floor picks 0 there */
        float k = (float)(2.0 * weight / N * (norm - 1.0) / (norm + 1e-12));
        for (size_t d = 0; d < w[0]; d++)
            R[(size_t)n * w[0] + d] = (int)(d % group) < cols ? k * g[d] : 0.0f;
    }

    bool curved = false;
    for (int i = 0; i < L - 1; i++)
        curved |= gm_act_curved(layer[i].act);
    for (int i = 0; i < L; i++) {
        const gm_layer *l = &layer[i];
        if (i < L - 1)
            times_slope(V, u_of[i + 1], l, N);
        else
            for (int n = 0; n < N; n++)
                V[n] = 1.0f;
        add_weight_grad(l, t, V, R, false, N);
        if (i == L - 1)
            break;
        const gm_layer_pass p = { .t = t, .N = N, .n0 = 0, .n1 = N, .c0 = 0, .c1 = l->split, .linear = true };
        l->ops->forward(l, &p, &alone, R, RV);
        size_t count = (size_t)N * w[i + 1];
        if (gm_act_curved(l->act)) {
            for (size_t k = 0; k < count; k++)
                ra_of[i][k] = RV[k] * u_of[i + 1][k];
            gm_act_curvature(ra_of[i], l->y, count, l->act);
        } else {
            memset(ra_of[i], 0, count * sizeof *ra_of[i]);
        }
        gm_act_backward(RV, NULL, l->y, N, (int)w[i + 1], l->act, l->slope);
        float *swap = R;
        R = RV;
        RV = swap;
    }

    /* carry RA_i back through the forward pass: S_i = RA_i + (A_{i+1}^T S_{i+1}) * f_i' */
    if (curved) {
        for (int i = L - 2; i >= 0; i--) {
            float *S = ra_of[i];
            if (i < L - 2) {
                input_grad(&layer[i + 1], t, ra_of[i + 1], V, N);
                gm_act_backward(V, NULL, layer[i].y, N, (int)w[i + 1], layer[i].act, layer[i].slope);
                for (size_t k = 0; k < (size_t)N * w[i + 1]; k++)
                    S[k] += V[k];
            }
            add_weight_grad(&layer[i], t, S, i > 0 ? layer[i - 1].y : x, true, N);
        }
    }
    return weight * penalty / N;
}
