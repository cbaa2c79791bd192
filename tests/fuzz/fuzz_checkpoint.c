/* libFuzzer target: the model loaders and the header peeks on checkpoints
 * whose bytes the fuzzer chose. Checksums would stop nearly every mutation
 * at the door, so each input is sealed first -- both CRCs recomputed where
 * the fields exist -- and the mutations reach the metadata, config and
 * shape checks behind them. The peeks read a path, so each sealed input is
 * also written to a scratch file (in /dev/shm where there is one). Beyond
 * not crashing, the readers must agree: a peeked config is one the tools
 * can index their tables of names with, and a file that loads peeks to the
 * very config and step it loaded. Seeded with the golden files of
 * tests/data. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "genmodel.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[256];   /* there only while an input is peeked */

/* The loaders are the target, not the team: one thread, none started and
 * stopped with every model. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/fuzz_checkpoint.%ld.safetensors", dir, (long)getpid());
    return gm_set_num_threads(1) == GM_OK ? 0 : 1;
}

static int write_scratch(const uint8_t *buf, size_t size)
{
    FILE *f = fopen(scratch, "wb");
    if (!f)
        return 0;
    size_t put = fwrite(buf, 1, size, f);
    return (fclose(f) == 0) & (put == size);
}

/* the offset of field's 8-digit value in buf[0, n), or 0 */
static size_t value_at(const uint8_t *buf, size_t n, const char *field)
{
    size_t k = strlen(field);
    for (size_t i = 0; i + k + 8 <= n; i++)
        if (!memcmp(buf + i, field, k))
            return i + k;
    return 0;
}

static void put_crc(uint8_t *at, uLong crc)
{
    char hex[9];
    snprintf(hex, sizeof hex, "%08lx", crc & 0xFFFFFFFFul);
    memcpy(at, hex, 8);
}

static void seal(uint8_t *buf, size_t size)
{
    if (size < 8)
        return;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    if (n > size - 8)
        return;
    size_t head = 8 + (size_t)n;
    size_t data = value_at(buf, head, "\"gm.crc32.data\":\""), header = value_at(buf, head, "\"gm.crc32.header\":\"");
    if (data)
        put_crc(buf + data, crc32(0, buf + head, (uInt)(size - head)));
    if (header) {
        memcpy(buf + header, "00000000", 8);
        put_crc(buf + header, crc32(0, buf, (uInt)head));
    }
}

/* fails the run: libFuzzer reports the input */
static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_checkpoint: %s (%s)\n", what, gm_last_error());
        abort();
    }
}

static int in(int32_t v, int32_t lo, int32_t hi)
{
    return v >= lo && v <= hi;
}

static void require_optim(const gm_optimizer_config *o)
{
    require(in(o->kind, GM_OPTIM_ADAM, GM_OPTIM_ADAMW), "a peeked optimizer kind is out of range");
}

/* what genmodel info indexes its tables with */
static void require_vae_enums(const gm_vae_config *c)
{
    require(in(c->activation, GM_ACT_IDENTITY, GM_ACT_SIGMOID) &&
            in(c->likelihood, GM_LIKELIHOOD_BERNOULLI, GM_LIKELIHOOD_GAUSSIAN) &&
            in(c->n_enc_hidden, 0, GM_VAE_MAX_HIDDEN) && in(c->n_dec_hidden, 0, GM_VAE_MAX_HIDDEN),
            "a peeked VAE config is out of range");
    require_optim(&c->optim);
}

static void require_gan_enums(const gm_gan_config *c)
{
    require(in(c->activation, GM_ACT_IDENTITY, GM_ACT_SIGMOID) &&
            (c->gen_output == GM_ACT_SIGMOID || c->gen_output == GM_ACT_TANH) &&
            in(c->loss, GM_GAN_NONSATURATING, GM_GAN_WGAN_GP) && in(c->n_gen_hidden, 0, GM_GAN_MAX_HIDDEN) &&
            in(c->n_disc_hidden, 0, GM_GAN_MAX_HIDDEN), "a peeked GAN config is out of range");
    require_optim(&c->gen_optim);
    require_optim(&c->disc_optim);
}

/* A header that peeks is of one kind, whose own peek agrees and gives a
 * config in range; if the file also loads, it is that config and step.
 * A header that does not peek cannot load (the loaders read it the same
 * way, then more), so it costs one parse. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    seal(buf, size);
    require(write_scratch(buf, size), "cannot write the scratch file");
    gm_checkpoint_info info;
    gm_checkpoint_info_init(&info);
    if (gm_checkpoint_peek(scratch, &info) != GM_OK) {
        remove(scratch);
        free(buf);
        return 0;
    }
    float x[4096];
    if (info.kind == GM_MODEL_VAE) {
        gm_vae_config peeked, loaded;
        gm_vae_config_init(&peeked);
        gm_vae_config_init(&loaded);
        require(gm_checkpoint_peek_vae(scratch, &peeked) == GM_OK, "a VAE peeks, but not as a VAE");
        remove(scratch);
        require_vae_enums(&peeked);
        gm_vae *vae;
        if (gm_vae_load_buffer(buf, size, &vae) == GM_OK) {
            gm_vae_get_config(vae, &loaded);
            require(!memcmp(&loaded, &peeked, sizeof loaded) && info.step == gm_vae_step_count(vae),
                    "a VAE loads with another config or step than it peeks");
            if (loaded.input_dim <= 4096 && loaded.n_classes == 0)
                gm_vae_sample(vae, NULL, 1, x);
            gm_vae_free(vae);
        }
    } else {
        gm_gan_config peeked, loaded;
        gm_gan_config_init(&peeked);
        gm_gan_config_init(&loaded);
        require(info.kind == GM_MODEL_GAN, "a checkpoint peeks as neither a VAE nor a GAN");
        require(gm_checkpoint_peek_gan(scratch, &peeked) == GM_OK, "a GAN peeks, but not as a GAN");
        remove(scratch);
        require_gan_enums(&peeked);
        gm_gan *gan;
        if (gm_gan_load_buffer(buf, size, &gan) == GM_OK) {
            gm_gan_get_config(gan, &loaded);
            require(!memcmp(&loaded, &peeked, sizeof loaded) && info.step == gm_gan_step_count(gan),
                    "a GAN loads with another config or step than it peeks");
            if (loaded.data_dim <= 4096 && loaded.n_classes == 0)
                gm_gan_sample(gan, NULL, 1, x);
            gm_gan_free(gan);
        }
    }
    free(buf);
    return 0;
}
