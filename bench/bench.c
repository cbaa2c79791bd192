/* The benchmark harness: our side of what bench/run.sh measures.
 *
 *   genmodel-bench info                  the machine and versions (INFO lines)
 *   genmodel-bench run --threads T [--seconds S] [--data DIR] [--only NAME] [--batch N] [--no-limit]
 *                                        every timed figure: ours on the default backend and on
 *                                        OpenBLAS, then the replay of its products on each backend
 *   genmodel-bench run ... --products    the replay on each backend, each product timed alone
 *   genmodel-bench small --threads T [--seconds S] [--k K] [--sweep]
 *                                        calls too small to split: microseconds per call
 *   genmodel-bench rss SIDE NAME [KEY=VALUE...] -- CMD [ARGS...]
 *                                        the peak resident memory of CMD, as SIDE's figure
 *
 * Each figure is one line, "RESULT name=... batch=... threads=... unit=...
 * key=value ...", which bench/report.py gathers into a table. The limit
 * replays, on preallocated buffers, the products one call of the library
 * makes on one thread (lib/nn/net.c, lib/nn/dense.c, lib/models/vae.c and
 * gan.c; for the conv models, the products of a step as the seam saw them:
 * traced_limit), leaving out the activations, losses and the optimizer (and
 * a convolution's im2col and col2im), once per
 * backend through the seam the library multiplies through
 * (lib/core/backend.h): a step that makes these products on that backend
 * cannot be faster, and the limit is the faster replay. On T threads a
 * replay makes the same whole products on T threads of the backend's own
 * (OpenBLAS's, or oneDNN's OpenMP team); the library's team makes each
 * member's share of them instead (lib/core/team.h), so it can beat that
 * limit.
 * Legend: N batch, D data (784), Z latent or noise. */
#include <cblas.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/backend.h"
#include "genmodel.h"

#ifdef GM_HAVE_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#endif

#define D 784            /* Fashion-MNIST's pixels */
#define POOL 16384       /* rows of data a run cycles through: 50 MB, more than the caches hold */
#define VAE_H 400        /* the reference VAE: 784-400-20 */
#define VAE_Z 20
#define GAN_Z 64         /* the reference GAN: G 64-256-512-784, D 784-512-256-1 */
#define VAE_CHUNK 1024   /* gm_vae_reconstruct's chunk of rows (CHUNK in lib/models/vae.c) */
#define MAX_LAYERS 3

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void check(gm_status s, const char *what)
{
    if (s == GM_OK)
        return;
    fprintf(stderr, "genmodel-bench: %s: %s (%s)\n", what, gm_strerror(s), gm_last_error());
    exit(1);
}

/* 64-byte aligned, as the library's workspaces are; filled with small
 * values so that no product ever meets a NaN or a denormal */
static float *buffer(size_t count)
{
    size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) {
        fprintf(stderr, "genmodel-bench: out of memory\n");
        exit(1);
    }
    uint32_t state = 2463534242u;
    for (size_t i = 0; i < count; i++) {
        state ^= state << 13, state ^= state >> 17, state ^= state << 5;
        p[i] = (float)(state >> 8) / 16777216.0f * 0.1f - 0.05f;
    }
    return p;
}

/* POOL rows of Fashion-MNIST's training set as floats in [0, 1], gathered
 * once so that no timing includes data loading; noise in [0, 1] without it */
static float *load_pool(const char *dir)
{
    float *pool = buffer((size_t)POOL * D);
    gm_dataset *ds = NULL;
    if (gm_dataset_load_dir(dir, "train", &ds) == GM_OK && gm_dataset_count(ds) >= POOL &&
        gm_dataset_dim(ds) == D) {
        int32_t *rows = malloc(POOL * sizeof *rows);
        if (!rows)
            check(GM_ERR_NO_MEMORY, "loading the data");
        for (int32_t i = 0; i < POOL; i++)
            rows[i] = i;
        check(gm_dataset_gather(ds, rows, POOL, pool, NULL), "gathering the data");
        free(rows);
        printf("INFO data: the first %d images of %s\n", POOL, dir);
    } else {
        for (size_t i = 0; i < (size_t)POOL * D; i++)
            pool[i] = (pool[i] + 0.05f) * 10.0f;
        printf("INFO data: no Fashion-MNIST in %s, uniform noise instead\n", dir);
    }
    gm_dataset_free(ds);
    return pool;
}

/* ---- the replay: lib/nn/net.c's products without the activations ---- */

/* The backend the replay in progress multiplies on: one of the seam's
 * tables, or on T threads its threaded counterpart (replay_backends). */
static gm_backend replay;

#ifdef GM_HAVE_ONEDNN
/* The seam holds oneDNN to its caller's thread, since a team member makes
 * only its share of a product. A replay on T threads makes whole products,
 * so it lets oneDNN spread each over its OpenMP team instead, as OpenBLAS
 * spreads its own: dnnl_sgemm itself, with this thread's OpenMP count at T
 * (cmd_run sets it). */
static void onednn_threaded_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
                                  int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    dnnl_status_t s = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta,
                                 C, ldc);
    if (s != dnnl_success) {
        fprintf(stderr, "genmodel-bench: dnnl_sgemm failed (%s)\n", dnnl_status2str(s));
        exit(1);
    }
}
#endif

/* The backends a replay runs on, OpenBLAS first; on T threads each lets
 * its own T threads make every product (OpenBLAS's count is T already). */
static int replay_backends(int threads, gm_backend *out)
{
    int n = 0;
    out[n++] = gm_backend_openblas;
#ifdef GM_HAVE_ONEDNN
    out[n] = gm_backend_onednn;
    if (threads > 1)
        out[n].sgemm = onednn_threaded_sgemm;
    n++;
#else
    (void)threads;
#endif
    return n;
}

/* GCC 12.2 at -O2 deletes the calls to net_backward below: its
 * interprocedural analyses (ipa-pure-const and ipa-modref, each on its
 * own) wrongly find that it has no side effects, and the limit comes out
 * far too fast. -O3 and clang keep the calls, by luck. Keep the replay out
 * of those analyses. */
#if defined(__GNUC__) && !defined(__clang__)
#define NOIPA __attribute__((noipa))
#else
#define NOIPA
#endif

/* Per layer W (O, D_in), dW (O, D_in) and the output (N, O); two ping-pong
 * gradient buffers (N, widest), as gm_net carves them. */
typedef struct net {
    int n_layers;
    int width[MAX_LAYERS + 1];
    float *W[MAX_LAYERS], *dW[MAX_LAYERS], *out[MAX_LAYERS], *delta[2];
} net;

static void net_init(net *m, int n_layers, const int *widths, int N)
{
    int widest = 0;
    m->n_layers = n_layers;
    memcpy(m->width, widths, (size_t)(n_layers + 1) * sizeof *widths);
    for (int i = 0; i < n_layers; i++) {
        size_t in = (size_t)widths[i], o = (size_t)widths[i + 1];
        m->W[i] = buffer(o * in);
        m->dW[i] = buffer(o * in);
        m->out[i] = buffer((size_t)N * o);
        if (widths[i + 1] > widest)
            widest = widths[i + 1];
    }
    m->delta[0] = buffer((size_t)N * widest);
    m->delta[1] = buffer((size_t)N * widest);
}

static void net_free(net *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        free(m->W[i]);
        free(m->dW[i]);
        free(m->out[i]);
    }
    free(m->delta[0]);
    free(m->delta[1]);
}

/* gm_net_forward: y (N, O) = x (N, D_in) W^T per layer; gm_dense_forward
 * takes sgemv for a single row */
NOIPA static void net_forward(net *m, const float *x, int N)
{
    const float *in = x;
    for (int i = 0; i < m->n_layers; i++) {
        int Din = m->width[i], O = m->width[i + 1];
        if (N == 1)
            replay.sgemv(false, O, Din, 1.0f, m->W[i], in, 0.0f, m->out[i]);
        else
            replay.sgemm(false, true, N, O, Din, 1.0f, in, Din, m->W[i], Din, 0.0f, m->out[i], O);
        in = m->out[i];
    }
}

/* gm_net_backward: per layer, last first, dW (O, D_in) = dy^T x when grads
 * (GM_GRADS_SET: a step's only pass over each network writes its
 * gradients), and dx (N, D_in) = dy W unless this is the first layer and
 * dx is NULL */
NOIPA static void net_backward(net *m, const float *x, float *dout, float *dx, int N, int grads)
{
    float *dy = dout;
    for (int i = m->n_layers - 1; i >= 0; i--) {
        int Din = m->width[i], O = m->width[i + 1];
        const float *in = i > 0 ? m->out[i - 1] : x;
        float *din = i > 0 ? m->delta[i % 2] : dx;
        if (grads)
            replay.sgemm(true, false, O, Din, N, 1.0f, dy, O, in, Din, 0.0f, m->dW[i], Din);
        if (din)
            replay.sgemm(false, false, N, Din, O, 1.0f, dy, O, m->W[i], Din, 0.0f, din, Din);
        dy = din;
    }
}

/* ---- one figure's state: the library's handle and the replay's buffers ---- */

typedef struct bench {
    int N;                 /* rows per call */
    const float *pool;     /* (POOL, D) */
    int cursor;            /* the pool row the next training batch starts at */
    float *out;            /* (N, D) reconstructions */
    gm_vae *vae;
    gm_gan *gan;
    net first, second;     /* the replay's encoder and decoder, or G and D */
    float *zin;            /* (N, Z) the decoder's or G's input */
    float *din;            /* (2N, D) D's input: real rows, then fake */
    float *dlogits;        /* the second net's output gradient: (N, D) decoder, (2N, 1) D */
    float *dmulv;          /* (N, 2Z) the encoder's output gradient */
    float *dzin;           /* (N, Z) the decoder's input gradient */
    float *ddin;           /* (N, D) D's input gradient in G's update */
    float *mu, *logvar;    /* (N, Z) gm_vae_encode's outputs */
    double *scores;        /* (N) gm_vae_iwae's estimates */
    int k;                 /* gm_vae_iwae's draws */
    void (*ours)(struct bench *b);  /* the figure's call of the library */
    int traced;            /* traced_limit has recorded ours */
} bench;

typedef void (*call_fn)(bench *b);

static void bench_free(bench *b)
{
    gm_vae_free(b->vae);
    gm_gan_free(b->gan);
    net_free(&b->first);
    net_free(&b->second);
    float *bufs[] = { b->out, b->zin, b->din, b->dlogits, b->dmulv, b->dzin, b->ddin, b->mu, b->logvar };
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
    free(b->scores);
}

/* the next N rows of the pool, wrapping: every step sees other data, as in an epoch */
static const float *next_batch(bench *b)
{
    if (b->cursor + b->N > POOL)
        b->cursor = 0;
    const float *x = b->pool + (size_t)b->cursor * D;
    b->cursor += b->N;
    return x;
}

/* The reference settings, spelled out so that a change of the defaults
 * cannot move the benchmark. */
static gm_vae *reference_vae(void)
{
    gm_vae_config c;
    gm_vae_config_init(&c);
    c.input_dim = D;
    c.latent_dim = VAE_Z;
    c.n_enc_hidden = c.n_dec_hidden = 1;
    c.enc_hidden[0] = c.dec_hidden[0] = VAE_H;
    c.activation = GM_ACT_RELU;
    c.likelihood = GM_LIKELIHOOD_BERNOULLI;
    c.beta = 1.0f;
    c.n_classes = 0;
    c.optim = (gm_optimizer_config){ GM_OPTIM_ADAM, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f };
    c.seed = 0;
    gm_vae *vae;
    check(gm_vae_create(&c, &vae), "gm_vae_create");
    return vae;
}

/* the MLP GAN, or with n_conv the DCGAN (no hidden layers, batch norm) */
static gm_gan *reference_gan_with(int n_conv, const int32_t *conv)
{
    gm_gan_config c;
    gm_gan_config_init(&c);
    c.data_dim = D;
    c.noise_dim = GAN_Z;
    c.n_gen_hidden = c.n_disc_hidden = n_conv ? 0 : 2;
    c.gen_hidden[0] = 256, c.gen_hidden[1] = 512;
    c.disc_hidden[0] = 512, c.disc_hidden[1] = 256;
    c.disc_norm = GM_NORM_NONE;
    if (n_conv) {
        c.image_channels = 1;
        c.image_height = c.image_width = 28;
        c.n_conv = n_conv;
        memcpy(c.conv_channels, conv, (size_t)n_conv * sizeof *conv);
        c.gen_norm = c.disc_norm = GM_NORM_BATCH;
    }
    c.activation = GM_ACT_LEAKY_RELU;
    c.leaky_slope = 0.2f;
    c.gen_output = GM_ACT_SIGMOID;
    c.loss = GM_GAN_NONSATURATING;
    c.n_critic = 1;
    c.label_smoothing = 0.0f;
    c.instance_noise = 0.0f;
    c.noise_anneal_steps = 0;
    c.ema_decay = 0.0f;
    c.n_classes = 0;
    c.gen_optim = c.disc_optim = (gm_optimizer_config){ GM_OPTIM_ADAM, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.0f };
    c.seed = 0;
    gm_gan *gan;
    check(gm_gan_create(&c, &gan), "gm_gan_create");
    return gan;
}

static gm_gan *reference_gan(void)
{
    return reference_gan_with(0, NULL);
}

/* rows: what the library carves its buffers for, N in training, at most a
 * chunk in inference */
static void vae_setup(bench *b, int rows)
{
    static const int enc[] = { D, VAE_H, 2 * VAE_Z }, dec[] = { VAE_Z, VAE_H, D };
    b->vae = reference_vae();
    net_init(&b->first, 2, enc, rows);
    net_init(&b->second, 2, dec, rows);
    b->zin = buffer((size_t)rows * VAE_Z);
    b->dlogits = buffer((size_t)rows * D);
    b->dmulv = buffer((size_t)rows * 2 * VAE_Z);
    b->dzin = buffer((size_t)rows * VAE_Z);
}

static void vae_train_setup(bench *b)
{
    vae_setup(b, b->N);
}

static void vae_infer_setup(bench *b)
{
    vae_setup(b, b->N < VAE_CHUNK ? b->N : VAE_CHUNK);
    b->out = buffer((size_t)b->N * D);
}

static void gan_train_setup(bench *b)
{
    static const int g[] = { GAN_Z, 256, 512, D }, d[] = { D, 512, 256, 1 };
    b->gan = reference_gan();
    net_init(&b->first, 3, g, b->N);
    net_init(&b->second, 3, d, 2 * b->N);
    b->zin = buffer((size_t)b->N * GAN_Z);
    b->din = buffer((size_t)2 * b->N * D);
    b->dlogits = buffer((size_t)2 * b->N);
    b->ddin = buffer((size_t)b->N * D);
}

/* ---- the calls timed: the library's, and the replay of its products ---- */

static void vae_train_ours(bench *b)
{
    check(gm_vae_train_step(b->vae, next_batch(b), NULL, b->N, NULL), "gm_vae_train_step");
}

/* gradients() in lib/models/vae.c: the encoder's input needs no gradient */
static void vae_train_limit(bench *b)
{
    const float *x = next_batch(b);
    net_forward(&b->first, x, b->N);
    net_forward(&b->second, b->zin, b->N);
    net_backward(&b->second, b->zin, b->dlogits, b->dzin, b->N, 1);
    net_backward(&b->first, x, b->dmulv, NULL, b->N, 1);
}

static void vae_reconstruct_ours(bench *b)
{
    check(gm_vae_reconstruct(b->vae, b->pool, NULL, b->N, b->out), "gm_vae_reconstruct");
}

/* gm_vae_reconstruct: encode, then decode the means, a chunk at a time */
static void vae_reconstruct_limit(bench *b)
{
    for (int at = 0; at < b->N; at += VAE_CHUNK) {
        int n = b->N - at < VAE_CHUNK ? b->N - at : VAE_CHUNK;
        net_forward(&b->first, b->pool + (size_t)at * D, n);
        net_forward(&b->second, b->zin, n);
    }
}

/* conv_bench.py's DCGAN and conv VAE on 28 x 28 (docs/conv.md), with its
 * training settings: the non-saturating loss, no instance noise, no EMA */
static void dcgan_setup(bench *b)
{
    b->gan = reference_gan_with(2, (const int32_t[]){ 64, 128 });
}

static void cvae_setup(bench *b)
{
    gm_vae_config c;
    gm_vae_config_init(&c);
    c.input_dim = D;
    c.latent_dim = VAE_Z;
    c.n_enc_hidden = c.n_dec_hidden = 0;
    c.image_channels = 1;
    c.image_height = c.image_width = 28;
    c.n_conv = 2;
    c.conv_channels[0] = 32;
    c.conv_channels[1] = 64;
    c.seed = 0;
    check(gm_vae_create(&c, &b->vae), "gm_vae_create");
    b->out = buffer((size_t)b->N * D);
}

/* the default anomaly score, latent-knn, fitted on 8192 other rows of the
 * pool: a full bank */
static void cvae_score_setup(bench *b)
{
    cvae_setup(b);
    b->scores = (double *)(void *)buffer(2 * (size_t)b->N);
    check(gm_vae_fit_latent(b->vae, b->pool + (size_t)b->N * D, NULL, 8192), "gm_vae_fit_latent");
}

static void vae_score_ours(bench *b)
{
    check(gm_vae_score_as(b->vae, GM_SCORE_LATENT_KNN, b->pool, NULL, b->N, 1, b->scores), "gm_vae_score_as");
}

static void gan_train_ours(bench *b)
{
    check(gm_gan_train_step(b->gan, next_batch(b), NULL, b->N, NULL), "gm_gan_train_step");
}

/* gm_gan_train_step with n_critic 1: D's update sees real and fake rows as
 * one batch of 2N; G's update reuses that G(z) and needs from D only the
 * gradient of its input */
static void gan_train_limit(bench *b)
{
    int N = b->N;
    net_forward(&b->first, b->zin, N);
    net_forward(&b->second, b->din, 2 * N);
    net_backward(&b->second, b->din, b->dlogits, NULL, 2 * N, 1);
    net_forward(&b->second, b->din, N);
    net_backward(&b->second, b->din, b->dlogits, b->ddin, N, 0);
    net_backward(&b->first, b->zin, b->ddin, NULL, N, 1);
}

/* ---- the traced replay: the products of one step, as the library made them ---- */

/* For a model the hand-written replays above do not spell out (the conv
 * models), the limit replays the products one step made on one thread,
 * recorded on their way through the seam: the same shapes, transposes,
 * strides, alpha and beta, on the library's own buffers (a handle
 * allocates nothing after its first step, so they stay put while it
 * lives; the replay overwrites its activations and gradients, not its
 * weights). The first call records a step of ours, then every call
 * replays. */
typedef struct traced_product {
    bool gemv, trans_a, trans_b;
    int M, N, K, lda, ldb, ldc;
    float alpha, beta;
    const float *A, *B;
    float *C;
} traced_product;

enum { MAX_TRACED = 256 };
static traced_product traced[MAX_TRACED];
static int n_traced;
static const gm_backend *tracing;  /* the backend the recorded step multiplies on */
static int run_threads;            /* cmd_run's thread count */

static traced_product *trace_next(void)
{
    if (n_traced == MAX_TRACED) {
        fprintf(stderr, "genmodel-bench: more than %d products in a step\n", MAX_TRACED);
        exit(1);
    }
    return &traced[n_traced++];
}

static void trace_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc)
{
    *trace_next() = (traced_product){ false, trans_a, trans_b, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C };
    tracing->sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static void trace_sgemv(bool trans, int M, int N, float alpha, const float *A, const float *x, float beta, float *y)
{
    *trace_next() = (traced_product){ true, trans, false, M, N, 1, N, 1, 1, alpha, beta, A, x, y };
    tracing->sgemv(trans, M, N, alpha, A, x, beta, y);
}

static const gm_backend tracer = { "trace", trace_sgemm, trace_sgemv };

NOIPA static void traced_limit(bench *b)
{
    if (!b->traced) {
        tracing = gm_backend_current();
        n_traced = 0;
        check(gm_set_num_threads(1), "gm_set_num_threads");
        gm_backend_install(&tracer);
        b->ours(b);
        gm_backend_install(tracing);
        check(gm_set_num_threads(run_threads), "gm_set_num_threads");
        b->traced = 1;
    }
    for (int i = 0; i < n_traced; i++) {
        const traced_product *p = &traced[i];
        if (p->gemv)
            replay.sgemv(p->trans_a, p->M, p->N, p->alpha, p->A, p->B, p->beta, p->C);
        else
            replay.sgemm(p->trans_a, p->trans_b, p->M, p->N, p->K, p->alpha, p->A, p->lda, p->B, p->ldb, p->beta,
                         p->C, p->ldc);
    }
}

/* ---- timing ---- */

/* bench/profile.sh runs the harness under perf record with its events
 * off, and names perf's control FIFOs (perf record --control) in
 * GM_BENCH_PERF_CONTROL as "CTL,ACK": the timed calls are profiled, not the
 * loading and the warm-up. */
static void profile(const char *command)
{
    static FILE *ctl, *ack;
    static int opened;
    if (!opened) {
        opened = 1;
        const char *paths = getenv("GM_BENCH_PERF_CONTROL");
        char ctl_path[512];
        const char *comma = paths ? strchr(paths, ',') : NULL;
        if (!comma || (size_t)(comma - paths) >= sizeof ctl_path)
            return;
        snprintf(ctl_path, sizeof ctl_path, "%.*s", (int)(comma - paths), paths);
        ctl = fopen(ctl_path, "w");
        ack = fopen(comma + 1, "r");
        if (!ctl || !ack) {
            fprintf(stderr, "genmodel-bench: cannot open perf's control FIFOs %s\n", paths);
            exit(1);
        }
    }
    if (!ctl)
        return;
    char reply[16];
    fprintf(ctl, "%s\n", command);
    fflush(ctl);
    if (!fgets(reply, sizeof reply, ack)) {  /* perf has switched when it answers */
        fprintf(stderr, "genmodel-bench: perf did not answer '%s'\n", command);
        exit(1);
    }
}

/* the first calls allocate workspaces and fault pages in: none of them counts */
static void warm_up(call_fn f, bench *b, double seconds)
{
    double t0 = now();
    for (int i = 0; i < 3 || now() - t0 < 0.2 * seconds; i++)
        f(b);
}

static double calls_per_second(call_fn f, bench *b, double seconds)
{
    warm_up(f, b, seconds);
    profile("enable");
    long calls = 0;
    double t0 = now(), elapsed;
    do {
        f(b);
        calls++;
    } while ((elapsed = now() - t0) < seconds);
    profile("disable");
    return (double)calls / elapsed;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the median and 90th percentile of one call's time, in microseconds */
static void call_latency(call_fn f, bench *b, double seconds, double *median, double *p90)
{
    enum { CAP = 1 << 20 };
    double *t = malloc(CAP * sizeof *t);
    if (!t)
        check(GM_ERR_NO_MEMORY, "timing");
    warm_up(f, b, seconds);
    profile("enable");
    size_t n = 0;
    double start = now(), t0 = start, t1;
    do {
        f(b);
        t1 = now();
        t[n++] = (t1 - t0) * 1e6;
        t0 = t1;
    } while (n < CAP && t1 - start < seconds);
    profile("disable");
    qsort(t, n, sizeof *t, cmp_double);
    *median = t[n / 2];
    *p90 = t[(size_t)(0.9 * (double)n)];
    free(t);
}

typedef struct figure {
    const char *name;
    int N;
    int min_threads;         /* timed from this many threads up, unless --batch asks for it */
    int latency;             /* time each call (batch 1) rather than count calls */
    void (*setup)(bench *b);
    call_fn ours, limit;
} figure;

static const figure figures[] = {
    { "vae_train", 128, 1, 0, vae_train_setup, vae_train_ours, vae_train_limit },
    { "vae_train", 512, 2, 0, vae_train_setup, vae_train_ours, vae_train_limit },
    { "gan_train", 128, 1, 0, gan_train_setup, gan_train_ours, gan_train_limit },
    { "gan_train", 512, 2, 0, gan_train_setup, gan_train_ours, gan_train_limit },
    { "vae_infer", 1000, 1, 0, vae_infer_setup, vae_reconstruct_ours, vae_reconstruct_limit },
    { "vae_latency", 1, 1, 1, vae_infer_setup, vae_reconstruct_ours, vae_reconstruct_limit },
    /* the conv models: their steps' products as recorded */
    { "dcgan_train", 64, 1, 0, dcgan_setup, gan_train_ours, traced_limit },
    { "cvae_train", 128, 1, 0, cvae_setup, vae_train_ours, traced_limit },
    { "cvae_latency", 1, 1, 1, cvae_setup, vae_reconstruct_ours, traced_limit },
    { "cvae_score", 1000, 1, 0, cvae_score_setup, vae_score_ours, traced_limit },
};

/* One side of a figure: samples per second, or the median and p90 of a
 * call in microseconds (p90 is 0 for throughput). */
static void measure(const figure *f, bench *b, call_fn call, double seconds, double *value, double *p90)
{
    *p90 = 0.0;
    if (f->latency)
        call_latency(call, b, seconds, value, p90);
    else
        *value = f->N * calls_per_second(call, b, seconds);
}

static void print_side(const figure *f, const char *field, const char *suffix, double value, double p90)
{
    if (f->latency)
        printf(" %s%s=%.2f %s%s_p90=%.2f", field, suffix, value, field, suffix, p90);
    else
        printf(" %s%s=%.0f", field, suffix, value);
}

/* Throughput in samples per second (GAN: real samples, one D and one G
 * update per N); latency in microseconds. ours runs on the default
 * backend, ours_openblas on OpenBLAS (when that is not the default);
 * limit_<backend> is the replay on each backend, limit the faster of them
 * and ratio_limit the share of its speed we reach. Each side is timed
 * right after the one before, so that a round's ratios share its drift. */
static void run_figure(const figure *f, const float *pool, int threads, double seconds, int limit_too,
                       const gm_backend *replays, int n_replays)
{
    bench b = { .N = f->N, .pool = pool, .ours = f->ours };
    f->setup(&b);
    printf("RESULT name=%s batch=%d threads=%d unit=%s", f->name, f->N, threads, f->latency ? "us" : "samples/s");
    double ours, ours_p90;
    measure(f, &b, f->ours, seconds, &ours, &ours_p90);
    print_side(f, "ours", "", ours, ours_p90);
    const char *default_backend = gm_backend_name();
    limit_too = limit_too && f->limit;
    if (limit_too && strcmp(default_backend, "openblas")) {
        double v, p90;
        check(gm_set_backend("openblas"), "gm_set_backend");
        measure(f, &b, f->ours, seconds, &v, &p90);
        check(gm_set_backend(default_backend), "gm_set_backend");
        print_side(f, "ours", "_openblas", v, p90);
    }
    if (limit_too) {
        double limit = 0.0, limit_p90 = 0.0;
        const char *best = NULL;
        for (int i = 0; i < n_replays; i++) {
            double v, p90;
            replay = replays[i];
            measure(f, &b, f->limit, seconds, &v, &p90);
            print_side(f, "limit_", replay.name, v, p90);
            if (!best || (f->latency ? v < limit : v > limit))
                limit = v, limit_p90 = p90, best = replays[i].name;
        }
        print_side(f, "limit", "", limit, limit_p90);
        printf(" limit_backend=%s ratio_limit=%.3f", best, f->latency ? limit / ours : ours / limit);
    }
    printf("\n");
    fflush(stdout);
    bench_free(&b);
}

/* ---- the commands ---- */

static int usage(void)
{
    fprintf(stderr, "usage: genmodel-bench info\n"
                    "       genmodel-bench run [--threads T] [--seconds S] [--data DIR] [--only NAME] [--batch N]\n"
                    "                          [--no-limit | --products]\n"
                    "       genmodel-bench small [--threads T] [--seconds S] [--k K] [--sweep]\n"
                    "       genmodel-bench rss SIDE NAME [KEY=VALUE...] -- CMD [ARGS...]\n");
    return 2;
}

static void print_load(void)
{
    double load[3] = { -1.0, -1.0, -1.0 };
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = -1.0;
        fclose(f);
    }
    printf("INFO load: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
}

/* The machine as the products see it: the CPU and whether it has
 * AVX-512, the OpenBLAS kernels and the oneDNN ISA chosen at load time
 * (OPENBLAS_CORETYPE and DNNL_MAX_CPU_ISA can lower them; run.sh --avx2
 * does), and the date. */
static int cmd_info(void)
{
    char line[256], model[256] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    char date[64];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    printf("INFO date: %s\n", date);
#if defined(__x86_64__) && defined(__GNUC__)
    const char *avx512 = __builtin_cpu_supports("avx512f") ? "avx512f" : "no avx512f";
#else
    const char *avx512 = "no avx512f (not x86-64)";
#endif
    printf("INFO cpu: %s, %ld online, %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), avx512);
    printf("INFO genmodel: %s, default backend %s\n", gm_version_string(), gm_backend_name());
    printf("INFO openblas: %s (core %s)\n", openblas_get_config(), openblas_get_corename());
#ifdef GM_HAVE_ONEDNN
    const dnnl_version_t *v = dnnl_version();
    printf("INFO onednn: %d.%d.%d (%s), ISA %s\n", v->major, v->minor, v->patch, v->hash,
           dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa()));
#else
    printf("INFO onednn: not in this build\n");
#endif
    static const char *const settings[] = { "GM_BACKEND", "OPENBLAS_CORETYPE", "DNNL_MAX_CPU_ISA",
                                            "ONEDNN_MAX_CPU_ISA" };
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++)
        if (getenv(settings[i]))
            printf("INFO environment: %s=%s\n", settings[i], getenv(settings[i]));
#ifdef __VERSION__
    printf("INFO compiler: %s\n", __VERSION__);
#endif
    print_load();
    return 0;
}

/* ---- calls too small to split: genmodel-bench small ---- */

/* The reference VAE's settings with other widths: input-hidden-latent */
static gm_vae *sized_vae(int input, int hidden, int latent)
{
    gm_vae_config c;
    gm_vae_config_init(&c);
    c.input_dim = input;
    c.latent_dim = latent;
    c.n_enc_hidden = c.n_dec_hidden = 1;
    c.enc_hidden[0] = c.dec_hidden[0] = hidden;
    c.activation = GM_ACT_RELU;
    c.likelihood = GM_LIKELIHOOD_BERNOULLI;
    c.seed = 0;
    gm_vae *vae;
    check(gm_vae_create(&c, &vae), "gm_vae_create");
    return vae;
}

static void encode_call(bench *b)
{
    check(gm_vae_encode(b->vae, b->pool, NULL, b->N, b->mu, b->logvar), "gm_vae_encode");
}

static void iwae_call(bench *b)
{
    check(gm_vae_iwae(b->vae, b->pool, NULL, b->N, b->k, b->scores), "gm_vae_iwae");
}

/* the median and p90 of one call's time; the multiply-adds of the
 * encoder's forward pass (work) say how large a pass is */
static void small_figure(const char *name, gm_vae *vae, int N, int hidden, int k, call_fn f, const float *pool,
                         int threads, double seconds)
{
    gm_vae_config c;
    gm_vae_config_init(&c);
    check(gm_vae_get_config(vae, &c), "gm_vae_get_config");
    bench b = { .N = N, .pool = pool, .vae = vae, .k = k };
    b.mu = buffer((size_t)N * c.latent_dim);
    b.logvar = buffer((size_t)N * c.latent_dim);
    b.scores = malloc((size_t)N * sizeof *b.scores);
    if (!b.scores)
        check(GM_ERR_NO_MEMORY, "small");
    double median, p90;
    call_latency(f, &b, seconds, &median, &p90);
    const double work = (double)N * hidden * (c.input_dim + 2.0 * c.latent_dim);
    printf("RESULT name=%s batch=%d threads=%d hidden=%d k=%d work=%.0f unit=us ours=%.2f ours_p90=%.2f\n", name, N,
           threads, hidden, k, work, median, p90);
    fflush(stdout);
    bench_free(&b);
}

/* The small calls: gm_vae_iwae of one row with k draws on a tiny
 * VAE (8-16-2), whose every pass is a few hundred multiply-adds, and a
 * batch-1 encode of the reference VAE; with --sweep, batch-1 and batch-16
 * encodes of 784-H-20 VAEs too, from tiny passes to large, to place the
 * work below which a team leaves a pass to the caller (lib/core/team.h). */
static int cmd_small(int argc, char **argv)
{
    int threads = 1, k = 20000, sweep = 0;
    double seconds = 1.0;
    for (int i = 1; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(opt, "--sweep"))
            sweep = 1, i--;
        else if (val && !strcmp(opt, "--threads"))
            threads = atoi(val);
        else if (val && !strcmp(opt, "--seconds"))
            seconds = atof(val);
        else if (val && !strcmp(opt, "--k"))
            k = atoi(val);
        else
            return usage();
    }
    if (threads < 1 || k < 1 || !(seconds > 0.0))
        return usage();
    check(gm_set_num_threads(threads), "gm_set_num_threads");
    print_load();
    float *pool = buffer((size_t)16 * D);
    for (size_t i = 0; i < (size_t)16 * D; i++)
        pool[i] = (pool[i] + 0.05f) * 10.0f;  /* in [0, 1], as the likelihood asks */
    small_figure("vae_iwae_tiny", sized_vae(8, 16, 2), 1, 16, k, iwae_call, pool, threads, seconds);
    small_figure("vae_encode", reference_vae(), 1, VAE_H, 0, encode_call, pool, threads, seconds);
    static const int hidden[] = { 8, 16, 32, 64, 128, 256, 400, 800 }, rows[] = { 1, 16 };
    for (size_t r = 0; sweep && r < sizeof rows / sizeof *rows; r++)
        for (size_t h = 0; h < sizeof hidden / sizeof *hidden; h++)
            small_figure("vae_encode_sweep", sized_vae(D, hidden[h], VAE_Z), rows[r], hidden[h], 0, encode_call, pool,
                         threads, seconds / 4);
    free(pool);
    return 0;
}

/* ---- the products one at a time: genmodel-bench products ---- */

/* The replay of a figure with each product timed on its own, on one
 * backend: where a step's product time goes, shape by shape. The k-th
 * product of a call accumulates in stats[k]. */
enum { MAX_PRODUCTS = 64 };
typedef struct product_stat {
    char op[3];              /* NT forward, TN weight gradient, NN input gradient, "v" a gemv */
    int M, N, K;             /* a gemv's W is (M, N), K is 1 */
    double seconds;
    long calls;
} product_stat;
static product_stat stats[MAX_PRODUCTS];
static int product_at;       /* the index of the next product of the call */
static gm_backend timed;     /* the backend the timed products run on */
static call_fn timed_limit;  /* the figure's replay */

static product_stat *next_product(const char *op, int M, int N, int K)
{
    if (product_at >= MAX_PRODUCTS) {
        fprintf(stderr, "genmodel-bench: more than %d products in a call\n", MAX_PRODUCTS);
        exit(1);
    }
    product_stat *p = &stats[product_at++];
    snprintf(p->op, sizeof p->op, "%s", op);
    p->M = M, p->N = N, p->K = K;
    p->calls++;
    return p;
}

static void timed_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc)
{
    double t0 = now();
    timed.sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    double t = now() - t0;
    const char op[3] = { trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', '\0' };
    next_product(op, M, N, K)->seconds += t;
}

static void timed_sgemv(bool trans, int M, int N, float alpha, const float *A, const float *x, float beta, float *y)
{
    double t0 = now();
    timed.sgemv(trans, M, N, alpha, A, x, beta, y);
    double t = now() - t0;
    next_product(trans ? "vT" : "v", M, N, 1)->seconds += t;
}

static void timed_call(bench *b)
{
    product_at = 0;
    timed_limit(b);
}

/* One RESULT line per product: its mean time (us) and speed (GFLOP/s),
 * and its index in the call; then the call's sum of them. */
static void product_figure(const figure *f, const float *pool, int threads, double seconds, const gm_backend *on)
{
    bench b = { .N = f->N, .pool = pool, .ours = f->ours };
    f->setup(&b);
    timed = *on;
    timed_limit = f->limit;
    replay = (gm_backend){ on->name, timed_sgemm, timed_sgemv };
    warm_up(timed_call, &b, seconds);
    memset(stats, 0, sizeof stats);
    double t0 = now();
    do
        timed_call(&b);
    while (now() - t0 < seconds);
    double sum = 0.0;
    for (int i = 0; i < product_at; i++) {
        const product_stat *p = &stats[i];
        double us = 1e6 * p->seconds / (double)p->calls;
        sum += us;
        printf("RESULT name=product figure=%s batch=%d threads=%d backend=%s index=%d op=%s M=%d N=%d K=%d "
               "unit=us time=%.2f gflops=%.1f\n",
               f->name, f->N, threads, on->name, i, p->op, p->M, p->N, p->K, us,
               2e-3 * p->M * p->N * p->K / us);
    }
    printf("RESULT name=products figure=%s batch=%d threads=%d backend=%s unit=us time=%.2f\n", f->name, f->N,
           threads, on->name, sum);
    fflush(stdout);
    bench_free(&b);
}

static int cmd_run(int argc, char **argv)
{
    int threads = 1, batch = 0, limit_too = 1, products = 0;
    double seconds = 1.5;
    const char *data = "/usr/share/datasets/fashion-mnist", *only = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(opt, "--no-limit"))
            limit_too = 0, i--;
        else if (!strcmp(opt, "--products"))
            products = 1, i--;
        else if (val && !strcmp(opt, "--batch"))
            batch = atoi(val);
        else if (val && !strcmp(opt, "--threads"))
            threads = atoi(val);
        else if (val && !strcmp(opt, "--seconds"))
            seconds = atof(val);
        else if (val && !strcmp(opt, "--data"))
            data = val;
        else if (val && !strcmp(opt, "--only"))
            only = val;
        else
            return usage();
    }
    if (threads < 1 || !(seconds > 0.0))
        return usage();
    /* the library's team sets OpenBLAS to 1 thread while it works and
     * restores it, and holds oneDNN to each member's thread; a replay runs
     * on the backend's own threads, so it sets their counts */
    check(gm_set_num_threads(threads), "gm_set_num_threads");
    run_threads = threads;
    openblas_set_num_threads(threads);
    if (openblas_get_num_threads() != threads)
        fprintf(stderr, "genmodel-bench: OpenBLAS runs %d threads, not %d\n", openblas_get_num_threads(), threads);
#ifdef GM_HAVE_ONEDNN
    omp_set_num_threads(threads);
#endif
    gm_backend replays[2];
    const int n_replays = replay_backends(threads, replays);
    print_load();
    float *pool = load_pool(data);
    for (size_t i = 0; i < sizeof figures / sizeof *figures; i++) {
        const figure *f = &figures[i];
        if ((only && strcmp(only, f->name)) || (batch ? batch != f->N : threads < f->min_threads))
            continue;
        if (!products)
            run_figure(f, pool, threads, seconds, limit_too, replays, n_replays);
        for (int k = 0; products && k < n_replays; k++)
            product_figure(f, pool, threads, seconds, &replays[k]);
    }
    free(pool);
    return 0;
}

/* The peak resident set of a command, from the kernel's own accounting:
 * ru_maxrss of the waited-for child, in KiB. The forked child starts out
 * as a copy of this small process, which therefore allocates nothing
 * first. The RESULT line carries SIDE=MiB and the labels given. */
static int cmd_rss(int argc, char **argv)
{
    int cmd = 3;  /* argv: rss SIDE NAME [KEY=VALUE...] -- CMD [ARGS...] */
    while (cmd < argc && strcmp(argv[cmd], "--"))
        cmd++;
    if (cmd++ >= argc - 1)
        return usage();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[cmd], argv + cmd);
        perror(argv[cmd]);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
        perror("genmodel-bench rss");
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "genmodel-bench rss: %s failed (status %d)\n", argv[cmd], status);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    printf("RESULT name=%s", argv[2]);
    for (int i = 3; i < cmd - 1; i++)
        printf(" %s", argv[i]);
    printf(" unit=MiB %s=%.1f\n", argv[1], (double)ru.ru_maxrss / 1024.0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "info"))
        return cmd_info();
    if (argc >= 2 && !strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "small"))
        return cmd_small(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "rss"))
        return cmd_rss(argc - 1, argv + 1);
    return usage();
}
