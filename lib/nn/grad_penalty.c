/* Double backward through an MLP. Layer i maps width w_i to w_{i+1} with
 * W_i (w_{i+1}, w_i) and output y_i = f_i(a_i). The input gradient is a
 * backward pass from a unit output gradient:
 *     U_{L-1} = 1,  V_i = U_i * f_i'(a_i),  U_{i-1} = V_i W_i,  g = U_{-1}.
 * Its reverse, from R = dP/dg, runs i = 0 .. L-1:
 *     dW_i += V_i^T R,  RV = R W_i^T,  R <- RV * f_i'(a_i),
 *     and, where f_i is curved, RA_i = RV * U_i * f_i''(a_i),
 * the gradient reaching a_i through f_i', which a last ordinary backward
 * sweep carries into the weights and biases that shaped a_i. */
#include <math.h>
#include <string.h>

#include "grad_penalty.h"
#include "dense.h"
#include "core/act.h"
#include "core/blas.h"

/* V = U * f'(y) into out */
static void times_slope(float *out, const float *U, const float *y, int N, int width, int act, float slope)
{
    memcpy(out, U, (size_t)N * width * sizeof *out);
    gm_act_backward(out, NULL, y, N, width, act, slope);
}

double gm_grad_penalty(gm_mlp *mlp, gm_param_table *t, gm_workspace *ws, const float *x, int N, int cols,
                       float weight, gm_status *status, const char *who)
{
    const int L = mlp->n_layers;
    const int *w = mlp->width;
    int widest = 0, hidden = 0;
    for (int i = 0; i <= L; i++)
        widest = w[i] > widest ? w[i] : widest;
    for (int i = 1; i < L; i++)
        hidden += w[i];
    /* U_{-1..L-2} and RA_{0..L-2} back to back; three (N, widest) scratch rows */
    float *U, *RA, *V, *R, *RV;
    float **slots[] = { &U, &RA, &V, &R, &RV };
    const size_t counts[] = { (size_t)N * (w[0] + hidden), (size_t)N * hidden, (size_t)N * widest,
                              (size_t)N * widest, (size_t)N * widest };
    if ((*status = gm_ws_carve(ws, 5, slots, counts, who)) != GM_OK)
        return 0.0;
    float *u_of[GM_MLP_MAX_LAYERS + 1], *ra_of[GM_MLP_MAX_LAYERS];  /* u_of[i + 1] holds U_i */
    u_of[0] = U;
    for (int i = 0; i < L - 1; i++)
        u_of[i + 1] = u_of[i] + (size_t)N * w[i];
    for (int i = 0, at = 0; i < L - 1; at += w[i + 1], i++)
        ra_of[i] = RA + (size_t)N * at;

    gm_mlp_forward(mlp, t, x, N);

    /* the input gradient: V_{L-1} = 1, since the output is linear and single */
    for (int n = 0; n < N; n++)
        V[n] = 1.0f;
    for (int i = L - 1; i >= 0; i--) {
        if (i < L - 1)
            times_slope(V, u_of[i + 1], mlp->out[i], N, w[i + 1], mlp->act[i], mlp->slope);
        gm_gemm(false, false, N, w[i], w[i + 1], 1.0f, V, gm_param_data(t, mlp->first_param + 2 * i), 0.0f,
                u_of[i]);
    }

    /* P and R = dP/dg */
    double penalty = 0.0;
    for (int n = 0; n < N; n++) {
        const float *g = U + (size_t)n * w[0];
        double sq = 0.0;
        for (int d = 0; d < cols; d++)
            sq += (double)g[d] * g[d];
        double norm = sqrt(sq);
        penalty += (norm - 1.0) * (norm - 1.0);
        /* the norm's gradient g / ||g|| is undefined at 0; the tiny floor picks 0 there */
        float k = (float)(2.0 * weight / N * (norm - 1.0) / (norm + 1e-12));
        for (int d = 0; d < w[0]; d++)
            R[(size_t)n * w[0] + d] = d < cols ? k * g[d] : 0.0f;
    }

    int curved = gm_act_curved(mlp->act[0]);
    for (int i = 0; i < L; i++) {
        float *W = gm_param_data(t, mlp->first_param + 2 * i), *dW = gm_param_grad(t, mlp->first_param + 2 * i);
        if (i < L - 1)
            times_slope(V, u_of[i + 1], mlp->out[i], N, w[i + 1], mlp->act[i], mlp->slope);
        else
            for (int n = 0; n < N; n++)
                V[n] = 1.0f;
        gm_gemm(true, false, w[i + 1], w[i], N, 1.0f, V, R, 1.0f, dW);
        if (i == L - 1)
            break;
        gm_gemm(false, true, N, w[i + 1], w[i], 1.0f, R, W, 0.0f, RV);
        size_t count = (size_t)N * w[i + 1];
        if (curved) {
            for (size_t k = 0; k < count; k++)
                ra_of[i][k] = RV[k] * u_of[i + 1][k];
            gm_act_curvature(ra_of[i], mlp->out[i], count, mlp->act[i]);
        }
        gm_act_backward(RV, NULL, mlp->out[i], N, w[i + 1], mlp->act[i], mlp->slope);
        float *swap = R;
        R = RV;
        RV = swap;
    }

    /* carry RA_i back through the forward pass: S_i = RA_i + (S_{i+1} W_{i+1}) * f_i' */
    if (curved) {
        for (int i = L - 2; i >= 0; i--) {
            float *S = ra_of[i];
            if (i < L - 2) {
                gm_gemm(false, false, N, w[i + 1], w[i + 2], 1.0f, ra_of[i + 1],
                        gm_param_data(t, mlp->first_param + 2 * (i + 1)), 0.0f, V);
                gm_act_backward(V, NULL, mlp->out[i], N, w[i + 1], mlp->act[i], mlp->slope);
                for (size_t k = 0; k < (size_t)N * w[i + 1]; k++)
                    S[k] += V[k];
            }
            const float *in = i > 0 ? mlp->out[i - 1] : x;
            int wi = mlp->first_param + 2 * i;
            gm_gemm(true, false, w[i + 1], w[i], N, 1.0f, S, in, 1.0f, gm_param_grad(t, wi));
            float *db = gm_param_grad(t, wi + 1);
            for (int n = 0; n < N; n++)
                for (int o = 0; o < w[i + 1]; o++)
                    db[o] += S[(size_t)n * w[i + 1] + o];
        }
    }
    return weight * penalty / N;
}
