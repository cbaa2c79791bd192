/** @file
 * libgenmodel: variational autoencoders and generative adversarial networks
 * for the CPU, as an embeddable C library.
 *
 * Include this one header. The conventions every call follows (status
 * codes, ownership, failure, threads, array shapes, the allocator) are
 * summed up at the top of genmodel/common.h and given in full in
 * docs/conventions.md; each header's opening comment adds its own. */
#ifndef GENMODEL_H
#define GENMODEL_H

#include "genmodel/version.h"
#include "genmodel/common.h"
#include "genmodel/vae.h"
#include "genmodel/gan.h"
#include "genmodel/sr.h"
#include "genmodel/data.h"
#include "genmodel/checkpoint.h"

#endif
