/* A program that knows libgenmodel only through its public headers and
 * what its build is told (pkg-config, CMake's find_package, a meson
 * subproject): it checks the header and library agree and that errors work. */
#include <stdio.h>
#include <string.h>

#include <genmodel.h>

int main(void)
{
    if (gm_version() != GM_VERSION_NUMBER) {
        fprintf(stderr, "header %d, library %d\n", GM_VERSION_NUMBER, gm_version());
        return 1;
    }
    if (gm_set_num_threads(0) != GM_ERR_INVALID_ARG || !strstr(gm_last_error(), "gm_set_num_threads")) {
        fprintf(stderr, "error reporting is broken\n");
        return 1;
    }
    printf("libgenmodel %s: ok\n", gm_version_string());
    return 0;
}
