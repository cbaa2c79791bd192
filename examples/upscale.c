/* Super-resolution through the public API: upscale a PNG with a trained
 * upscaler (genmodel sr train, or gm_sr_train_step in a program of your
 * own), or, given a folder of images instead of a model, train one for a
 * few hundred steps first. Build it with
 *     cc upscale.c $(pkg-config --cflags --libs genmodel)
 * and run it as ./upscale MODEL|PHOTO_DIR IN.png OUT.png. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <genmodel.h>

#define STEPS 300
#define BATCH 64

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, gm_last_error());
    return 1;
}

/* a quick upscaler trained on the folder's photographs (an ESPCN on Y, x2) */
static gm_status train(const char *dir, gm_sr **out)
{
    gm_dataset_options o;
    gm_dataset_options_init(&o);
    o.keep_sizes = 1;  /* photographs of any sizes */
    gm_dataset *ds;
    gm_status s = gm_dataset_open(dir, &o, &ds);
    if (s != GM_OK)
        return s;
    gm_sr_config cfg;
    gm_sr_config_init(&cfg);
    const size_t p = (size_t)cfg.patch, side = p * (size_t)cfg.scale;
    float *lo = malloc(BATCH * p * p * sizeof *lo), *hi = malloc(BATCH * side * side * sizeof *hi);
    if ((s = gm_sr_create(&cfg, out)) == GM_OK && lo && hi)
        for (int step = 0; step < STEPS && s == GM_OK; step++)
            if ((s = gm_sr_patches(*out, ds, BATCH, lo, hi)) == GM_OK)
                s = gm_sr_train_step(*out, lo, hi, BATCH, (int32_t)p, (int32_t)p, NULL);
    free(lo);
    free(hi);
    gm_dataset_free(ds);
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL|PHOTO_DIR IN.png OUT.png\n", argv[0]);
        return 2;
    }
    struct stat st;
    gm_sr *sr = NULL;
    if ((stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode) ? train(argv[1], &sr) : gm_sr_load(argv[1], &sr)) != GM_OK)
        return fail(argv[1]);
    gm_sr_config cfg;
    gm_sr_config_init(&cfg);
    gm_sr_get_config(sr, &cfg);

    int32_t h, w, c;
    float *x;
    if (gm_image_read(argv[2], &h, &w, &c, &x) != GM_OK)
        return fail(argv[2]);
    float *y = malloc((size_t)h * w * c * cfg.scale * cfg.scale * sizeof *y);
    if (!y)
        return fail("memory");
    if (gm_sr_upscale(sr, x, h, w, c, y) != GM_OK)
        return fail("upscaling");
    if (gm_image_write(argv[3], y, h * cfg.scale, w * cfg.scale, c) != GM_OK)
        return fail(argv[3]);
    printf("%s (%d x %d) -> %s (%d x %d)\n", argv[2], (int)w, (int)h, argv[3], (int)(w * cfg.scale),
           (int)(h * cfg.scale));
    gm_buffer_free(x);
    free(y);
    gm_sr_free(sr);
    return 0;
}
