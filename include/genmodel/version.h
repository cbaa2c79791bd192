/* libgenmodel version: compile-time macros; gm_version() gives the run-time one.
 * meson reads these three defines: this header is the single source of truth. */
#ifndef GENMODEL_VERSION_H
#define GENMODEL_VERSION_H

#define GM_VERSION_MAJOR 0
#define GM_VERSION_MINOR 2
#define GM_VERSION_PATCH 0

#define GM_VERSION_NUMBER (GM_VERSION_MAJOR * 10000 + GM_VERSION_MINOR * 100 + GM_VERSION_PATCH)

#define GM_STRINGIFY_(x) #x
#define GM_STRINGIFY(x) GM_STRINGIFY_(x)
#define GM_VERSION_STRING \
    GM_STRINGIFY(GM_VERSION_MAJOR) "." GM_STRINGIFY(GM_VERSION_MINOR) "." GM_STRINGIFY(GM_VERSION_PATCH)

#endif
