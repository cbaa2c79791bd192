/* The config structs as tables of fields: the one declaration of a
 * config, from which the checkpoint's header, the public description
 * (gm_config_field_get) and through it the genmodel tool's options and
 * info and the Python binding's config mirror are made. */
#ifndef GM_MODELS_FIELDS_H
#define GM_MODELS_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "genmodel/checkpoint.h"

typedef struct gm_field {
    const char *name;       /* as in the struct: "latent_dim", "optim.lr", "conv_channels" */
    int32_t type;           /* gm_field_type */
    int32_t count;          /* elements: 1, or an array's length */
    size_t offset;
    const char *length_of;  /* an array's used length, another field of the table; or NULL */
    const char *choices;    /* an enum's value names, comma-separated in value order; or NULL */
    int32_t since;          /* the minor version that added it */
    const char *help;
} gm_field;

/* The table of a gm_model_kind, *n rows; NULL (and *n 0) for another value. */
const gm_field *gm_fields_of(int32_t kind, int *n);

/* The largest number of elements a table's fields hold. */
#define GM_FIELDS_MAX_ELEMENTS 96

#endif
