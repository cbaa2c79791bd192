/* libFuzzer target: the model loaders on checkpoints whose bytes the fuzzer
 * chose. Checksums would stop nearly every mutation at the door, so each
 * input is sealed first -- both CRCs recomputed where the fields exist --
 * and the mutations reach the metadata, config and shape checks behind
 * them. Seeded with the golden files of tests/data. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "genmodel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    seal(buf, size);
    gm_vae *vae = NULL;
    gm_gan *gan = NULL;
    if (gm_vae_load_buffer(buf, size, &vae) == GM_OK) {
        float x[4096];
        gm_vae_config cfg;
        gm_vae_config_init(&cfg);
        gm_vae_get_config(vae, &cfg);
        if (cfg.input_dim <= 4096 && cfg.n_classes == 0)
            gm_vae_sample(vae, NULL, 1, x);
    }
    if (gm_gan_load_buffer(buf, size, &gan) == GM_OK) {
        float x[4096];
        gm_gan_config cfg;
        gm_gan_config_init(&cfg);
        gm_gan_get_config(gan, &cfg);
        if (cfg.data_dim <= 4096 && cfg.n_classes == 0)
            gm_gan_sample(gan, NULL, 1, x);
    }
    gm_vae_free(vae);
    gm_gan_free(gan);
    free(buf);
    return 0;
}
