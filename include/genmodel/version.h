/** @file
 * libgenmodel version: compile-time macros; gm_version() gives the run-time one.
 * meson reads these three defines: this header is the single source of truth. */
#ifndef GENMODEL_VERSION_H
#define GENMODEL_VERSION_H

#define GM_VERSION_MAJOR 0  /**< incompatible API changes; the soname follows it */
#define GM_VERSION_MINOR 2  /**< compatible additions */
#define GM_VERSION_PATCH 0  /**< fixes */

/** The version as one number, MAJOR * 10000 + MINOR * 100 + PATCH (200 for
 * 0.2.0): what gm_version() returns. */
#define GM_VERSION_NUMBER (GM_VERSION_MAJOR * 10000 + GM_VERSION_MINOR * 100 + GM_VERSION_PATCH)

/** Helper of GM_STRINGIFY: x as a string literal, unexpanded. */
#define GM_STRINGIFY_(x) #x
/** x, macro-expanded, as a string literal. */
#define GM_STRINGIFY(x) GM_STRINGIFY_(x)
/** The version as a string literal, "0.2.0": what gm_version_string()
 * returns. */
#define GM_VERSION_STRING \
    GM_STRINGIFY(GM_VERSION_MAJOR) "." GM_STRINGIFY(GM_VERSION_MINOR) "." GM_STRINGIFY(GM_VERSION_PATCH)

#endif
