/* Run-time version, so a program can compare it with the header it was
 * compiled against. */
#include "genmodel/common.h"

int gm_version(void)
{
    return GM_VERSION_NUMBER;
}

const char *gm_version_string(void)
{
    return GM_VERSION_STRING;
}
