/* The library's description of its config structs (gm_config_field_get),
 * from which the checkpoint, the tool and the Python binding build theirs:
 * it covers every byte of each struct after struct_size, in order, with
 * no field twice and no gap but alignment; each array's length field
 * exists; each enum's names are as many as its values; and the calls
 * refuse what they should. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "genmodel.h"

static gm_config_field field_of(int32_t kind, int32_t i)
{
    gm_config_field f;
    gm_config_field_init(&f);
    assert_int_equal(gm_config_field_get(kind, i, &f), GM_OK);
    return f;
}

/* the field named name, or -1 */
static int find(int32_t kind, int32_t count, const char *name)
{
    for (int32_t i = 0; i < count; i++)
        if (!strcmp(field_of(kind, i).name, name))
            return i;
    return -1;
}

static void check_kind(int32_t kind, size_t struct_size, int32_t least)
{
    int32_t count;
    assert_int_equal(gm_config_field_count(kind, &count), GM_OK);
    assert_true(count >= least);
    size_t at = sizeof(size_t);  /* after struct_size */
    for (int32_t i = 0; i < count; i++) {
        const gm_config_field f = field_of(kind, i);
        const size_t element = f.type == GM_FIELD_U64 ? 8 : 4;
        assert_true(f.type >= GM_FIELD_I32 && f.type <= GM_FIELD_U64);
        assert_true(f.count >= 1);
        assert_non_null(f.help);
        assert_true(f.since == 1 || f.since == 2);
        /* in order, at most alignment padding before it */
        if (f.offset < at || f.offset - at >= element || f.offset % element)
            fail_msg("%s at %zu, the field before ends at %zu", f.name, f.offset, at);
        at = f.offset + (size_t)f.count * element;
        if (f.length_of) {
            const int n = find(kind, count, f.length_of);
            assert_true(n >= 0 && n != i);
            assert_int_equal(field_of(kind, n).type, GM_FIELD_I32);
        }
        if (f.choices) {
            assert_int_equal(f.type, GM_FIELD_I32);
            assert_true(strlen(f.choices) > 0 && !strstr(f.choices, ",,"));
        }
        assert_int_equal(find(kind, count, f.name), i);  /* no name twice */
    }
    /* the last field ends the struct, but for its trailing padding */
    assert_true(at <= struct_size && struct_size - at < 8);
}

static void test_the_tables_cover_the_structs(void **state)
{
    (void)state;
    check_kind(GM_MODEL_VAE, sizeof(gm_vae_config), 10);
    check_kind(GM_MODEL_GAN, sizeof(gm_gan_config), 20);
    check_kind(GM_MODEL_SR, sizeof(gm_sr_config), 20);
}

/* the upscaler, a kind since 0.2: every field is of 0.2, and its enums
 * name what gm_sr_loss, gm_gan_loss and gm_normalization hold */
static void test_the_upscaler(void **state)
{
    (void)state;
    int32_t count;
    assert_int_equal(gm_config_field_count(GM_MODEL_SR, &count), GM_OK);
    for (int32_t i = 0; i < count; i++)
        assert_int_equal(field_of(GM_MODEL_SR, i).since, 2);
    assert_string_equal(field_of(GM_MODEL_SR, 0).name, "scale");
    const gm_config_field pixel = field_of(GM_MODEL_SR, find(GM_MODEL_SR, count, "pixel_loss"));
    assert_string_equal(pixel.choices, "mse,l1");  /* GM_SR_MSE, GM_SR_L1 */
    int32_t gan_count;
    assert_int_equal(gm_config_field_count(GM_MODEL_GAN, &gan_count), GM_OK);
    const gm_config_field adv = field_of(GM_MODEL_SR, find(GM_MODEL_SR, count, "adv_loss"));
    assert_string_equal(adv.choices, field_of(GM_MODEL_GAN, find(GM_MODEL_GAN, gan_count, "loss")).choices);
    assert_string_equal(field_of(GM_MODEL_SR, find(GM_MODEL_SR, count, "disc_norm")).choices, "none,batch,spectral");
    const struct { const char *name, *length_of; int32_t count; size_t offset; } lists[] = {
        { "body_channels", "n_body", GM_SR_MAX_BODY, offsetof(gm_sr_config, body_channels) },
        { "body_kernel", "n_body", GM_SR_MAX_BODY, offsetof(gm_sr_config, body_kernel) },
        { "disc_channels", "n_disc_conv", GM_MAX_CONV, offsetof(gm_sr_config, disc_channels) },
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        const gm_config_field f = field_of(GM_MODEL_SR, find(GM_MODEL_SR, count, lists[i].name));
        assert_int_equal(f.count, lists[i].count);
        assert_string_equal(f.length_of, lists[i].length_of);
        assert_int_equal(f.offset, lists[i].offset);
    }
    const gm_config_field lr = field_of(GM_MODEL_SR, find(GM_MODEL_SR, count, "disc_optim.lr"));
    assert_int_equal(lr.offset, offsetof(gm_sr_config, disc_optim.lr));
    const gm_config_field seed = field_of(GM_MODEL_SR, count - 1);
    assert_string_equal(seed.name, "seed");
    assert_int_equal(seed.type, GM_FIELD_U64);
}

static void test_enums_name_every_value(void **state)
{
    (void)state;
    int32_t count;
    assert_int_equal(gm_config_field_count(GM_MODEL_GAN, &count), GM_OK);
    const gm_config_field loss = field_of(GM_MODEL_GAN, find(GM_MODEL_GAN, count, "loss"));
    assert_string_equal(loss.choices, "ns,minimax,hinge,lsgan,wgan-gp");  /* GM_GAN_NONSATURATING .. WGAN_GP */
    const gm_config_field norm = field_of(GM_MODEL_GAN, find(GM_MODEL_GAN, count, "disc_norm"));
    assert_string_equal(norm.choices, "none,batch,spectral");
    assert_int_equal(norm.since, 2);
    const gm_config_field conv = field_of(GM_MODEL_GAN, find(GM_MODEL_GAN, count, "conv_channels"));
    assert_int_equal(conv.count, GM_MAX_CONV);
    assert_string_equal(conv.length_of, "n_conv");
    assert_int_equal(conv.offset, offsetof(gm_gan_config, conv_channels));
    const gm_config_field lr = field_of(GM_MODEL_GAN, find(GM_MODEL_GAN, count, "disc_optim.lr"));
    assert_int_equal(lr.offset, offsetof(gm_gan_config, disc_optim.lr));
    assert_int_equal(lr.type, GM_FIELD_F32);
}

static void test_refusals(void **state)
{
    (void)state;
    int32_t count;
    gm_config_field f;
    gm_config_field_init(&f);
    assert_int_equal(gm_config_field_count(0, &count), GM_ERR_INVALID_ARG);
    assert_non_null(strstr(gm_last_error(), "unknown model kind 0"));
    assert_int_equal(gm_config_field_count(GM_MODEL_VAE, NULL), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_config_field_count(GM_MODEL_VAE, &count), GM_OK);
    assert_int_equal(gm_config_field_get(GM_MODEL_VAE, count, &f), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_config_field_get(GM_MODEL_VAE, -1, &f), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_config_field_get(GM_MODEL_SR + 1, 0, &f), GM_ERR_INVALID_ARG);
    assert_int_equal(gm_config_field_get(GM_MODEL_VAE, 0, NULL), GM_ERR_INVALID_ARG);
    /* a struct_size that is not a struct's */
    f.struct_size = 3;
    assert_int_equal(gm_config_field_get(GM_MODEL_VAE, 0, &f), GM_ERR_INVALID_ARG);
    /* a newer caller's larger struct: the fields this library knows, the
     * rest left as the caller's init made them */
    struct { gm_config_field f; int64_t later; } big;
    gm_config_field_init_size(&big.f, sizeof big);
    assert_int_equal(gm_config_field_get(GM_MODEL_VAE, 0, &big.f), GM_OK);
    assert_string_equal(big.f.name, "input_dim");
    assert_int_equal(big.later, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_tables_cover_the_structs),
        cmocka_unit_test(test_enums_name_every_value),
        cmocka_unit_test(test_the_upscaler),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
