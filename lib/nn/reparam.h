/* The reparameterization z = mu + exp(logvar / 2) * eps, which lets the
 * gradient flow through a draw from q(z|x). Legend: N batch, Z latent.
 * mu and logvar rows are ld floats apart, z and dz rows ldz apart (a
 * decoder input may carry label columns after z). */
#ifndef GM_NN_REPARAM_H
#define GM_NN_REPARAM_H

/* z (N, Z) = mu + exp(logvar / 2) * eps; eps is (N, Z) dense */
void gm_reparam_forward(float *z, int ldz, const float *mu, const float *logvar, int ld,
                        const float *eps, int N, int Z);

/* dmu += dz; dlogvar += dz * eps * exp(logvar / 2) / 2 */
void gm_reparam_backward(float *dmu, float *dlogvar, int ld, const float *dz, int ldz,
                         const float *logvar, const float *eps, int N, int Z);

#endif
