/* The fast backend: oneDNN's sgemm, JIT-compiled for the CPU it runs on
 * (AVX-512 where there is one). The batch-1 product, y = W x, stays on
 * OpenBLAS's gemv: it is bound by reading W, and the VAE's five took
 * 32 us there against 31 us as dnnl_sgemm (Zen 4), the small ones slower
 * on oneDNN (1.3 us against 0.8 us for W 400x20) by its cost per call. The
 * matmul primitive ran the training step's products within 2% of
 * dnnl_sgemm, so the plain call serves every shape. */
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "backend.h"

/* Debian's oneDNN runs on OpenMP and would spread each product over
 * omp_get_max_threads() threads of a pool of its own, beside the team
 * that already keeps every core busy. That count is a setting of the
 * calling thread (an OpenMP ICV), so a call sets its caller's to 1 for the
 * product and puts the host's back: the host program's own OpenMP regions
 * keep theirs. */
static void onednn_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc)
{
    const int host_threads = omp_get_max_threads();
    if (host_threads != 1)
        omp_set_num_threads(1);
    dnnl_status_t s = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb,
                                 beta, C, ldc);
    if (host_threads != 1)
        omp_set_num_threads(host_threads);
    /* oneDNN refuses before it writes (arguments it does not take, memory
     * it cannot get), and a product cannot fail here: OpenBLAS does it */
    if (s != dnnl_success)
        gm_backend_openblas.sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static void onednn_sgemv(bool trans, int M, int N, float alpha, const float *A, const float *x, float beta,
                         float *y)
{
    gm_backend_openblas.sgemv(trans, M, N, alpha, A, x, beta, y);
}

const gm_backend gm_backend_onednn = { "onednn", onednn_sgemm, onednn_sgemv };
