/* genmodel: train, sample and score generative models from the shell.
 * Each model kind has its own subcommands (vae_cmd.c, gan_cmd.c, sr_cmd.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dist.h"

static const char usage[] =
    "usage: genmodel <command> [options]\n"
    "\n"
    "commands:\n"
    "  vae train|sample|reconstruct|score|calibrate|eval|walk\n"
    "                                            variational autoencoder\n"
    "  gan train|sample|score                    generative adversarial network\n"
    "  sr train|apply|eval                       super-resolution: an upscaler of images\n"
    "  info MODEL                                what a checkpoint holds\n"
    "  --version                                 print the library version and backend\n"
    "\n"
    "Each command takes --help.\n";

static int run(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("genmodel (libgenmodel %s, %s backend%s)\n", gm_version_string(), gm_backend_name(),
               cli_dist_built() ? ", MPI" : "");
        return 0;
    }
    if (!strcmp(argv[1], "vae"))
        return vae_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "gan"))
        return gan_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sr"))
        return sr_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info"))
        return info_main(argc - 1, argv + 1);
    fprintf(stderr, "genmodel: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}

int main(int argc, char **argv)
{
    /* under mpirun, every rank runs the command; train shares its batches */
    cli_dist_begin(&argc, &argv);
    return cli_dist_end(run(argc, argv));
}
