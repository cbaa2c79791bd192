/* genmodel info: what a checkpoint holds, read from its header alone: the
 * kind, the format, the steps and every field of the config. The library
 * refuses a stored config that create would refuse, but every enum is
 * still looked up with its bounds checked: the tool reads a file, it does
 * not trust one. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

int info_main(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: genmodel info MODEL\n");
        return argc == 2 ? 0 : 2;
    }
    gm_checkpoint_info info;
    gm_checkpoint_info_init(&info);
    gm_status s = gm_checkpoint_peek(argv[1], &info);
    if (s != GM_OK)
        return cli_fail(argv[1], s);
    const cli_model *m = cli_model_of(info.kind);
    if (!m) {
        fprintf(stderr, "genmodel: %s: a model of kind %d, which this tool does not know\n", argv[1], (int)info.kind);
        return 1;
    }
    /* the library's description of the kind's config prints it, every
     * enum by its name, with its bounds checked */
    cli_any_config cfg;
    m->config_init(&cfg);
    if ((s = m->peek(argv[1], &cfg)) != GM_OK)
        return cli_fail(argv[1], s);
    printf("%s: %s checkpoint, format version %d, %" PRId64 " steps\n", argv[1], m->title, (int)info.format_version,
           info.step);
    cli_print_config(info.kind, &cfg);
    return 0;
}
