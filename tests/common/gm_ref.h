/* Double-precision references the tests compare the float kernels with. */
#ifndef GM_REF_H
#define GM_REF_H

#include <stddef.h>

double gm_ref_act(int kind, double slope, double x);

/* An MLP whose parameters are packed as a gm_param_table holds them, in
 * order W0 (w1, w0), b0 (w1), W1, b1, ...; widths has n_layers + 1 entries. */
typedef struct gm_ref_mlp {
    int n_layers;
    const int *widths;
    const int *acts;
    double slope;
} gm_ref_mlp;

/* out (N, widths[n_layers]) from x (N, widths[0]); returns the number of
 * parameters read from params. */
size_t gm_ref_mlp_forward(const gm_ref_mlp *m, const double *params, const double *x, int N, double *out);

/* g (N, widths[0]) = d(output)/d(input) of a one-output MLP, each row's
 * gradient backpropagated from the layer outputs as the kernels do. */
void gm_ref_mlp_input_grad(const gm_ref_mlp *m, const double *params, const double *x, int N, double *g);

/* the derivative of an activation, from its output y */
double gm_ref_act_slope(int kind, double slope, double y);

#endif
