"""Finds libgenmodel, checks its version, and declares the C API once.

Every function of the public headers is declared here with its argument and
result types, and only declared functions can be called (``lib`` is a plain
namespace, not the CDLL, so a typo cannot fall back to ctypes' int-returning
default). Functions returning gm_status get an errcheck that raises the
matching GenModelError subclass with gm_last_error()'s text; errcheck runs on
the calling thread right after the call, so the thread-local message is the
one this call left. ctypes.CDLL releases the GIL for the duration of a call.

The structs below mirror the headers field for field, in C order, with the
C names; the config structs are built from the library's own description
of them (gm_config_field_get), so that they are declared once, in C.
"""
from __future__ import annotations

import ctypes
import importlib
import os
import subprocess
import types
from typing import Any, Iterator, Optional
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int, c_int32,
                    c_int64, c_size_t, c_uint64, c_void_p)

import numpy as np

from ._errors import error_for

__version__ = "0.2.0"

#: The library's major version this binding is written for (gm_version() // 10000).
MAJOR = int(__version__.split(".")[0])
#: The shared object's name in the dynamic loader's terms: its ABI version.
SONAME = "libgenmodel.so.0"


# ---- enums (the int32_t values the configs hold) ----

ACTIVATIONS = {"identity": 0, "relu": 1, "leaky_relu": 2, "elu": 3, "tanh": 4, "sigmoid": 5}
OPTIMIZERS = {"adam": 0, "adamw": 1}
LIKELIHOODS = {"bernoulli": 0, "gaussian": 1}
GAN_LOSSES = {"ns": 0, "minimax": 1, "hinge": 2, "lsgan": 3, "wgan-gp": 4}
MODEL_KINDS = {"vae": 1, "gan": 2, "sr": 3}

GM_VAE_MAX_HIDDEN = 4
GM_GAN_MAX_HIDDEN = 4


# ---- structs ----

# (gm_vae_config, gm_gan_config, gm_sr_config and gm_optimizer_config: see _config_struct below)


class gm_vae_losses(Structure):
    _fields_ = [("loss", c_double), ("neg_elbo", c_double), ("recon", c_double), ("kl", c_double)]


class gm_gan_losses(Structure):
    _fields_ = [("d_loss", c_double), ("g_loss", c_double), ("d_real", c_double),
                ("d_fake", c_double), ("gp", c_double)]


class gm_sr_losses(Structure):
    _fields_ = [("pixel", c_double), ("g_adv", c_double), ("d_loss", c_double)]


class gm_sr_scores(Structure):
    _fields_ = [("images", c_int32), ("psnr", c_double), ("ssim", c_double), ("bicubic_psnr", c_double),
                ("bicubic_ssim", c_double)]


class gm_checkpoint_info(Structure):
    _fields_ = [("struct_size", c_size_t), ("kind", c_int32), ("format_version", c_int32),
                ("step", c_int64)]


class gm_config_field(Structure):
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p), ("type", c_int32), ("count", c_int32),
                ("offset", c_size_t), ("length_of", c_char_p), ("choices", c_char_p), ("since", c_int32),
                ("help", c_char_p)]


class gm_dataset_options(Structure):
    _fields_ = [("struct_size", c_size_t), ("format", c_int32), ("labels_path", c_char_p), ("delimiter", c_int32),
                ("header", c_int32), ("label_column", c_char_p), ("resize_height", c_int32),
                ("resize_width", c_int32), ("keep_sizes", c_int32)]


class gm_allocator(Structure):
    # Declared for completeness; not offered in Python (a Python allocator
    # would take the GIL inside every C allocation).
    _fields_ = [
        ("struct_size", c_size_t),
        ("alloc", CFUNCTYPE(c_void_p, c_void_p, c_size_t)),
        ("free", CFUNCTYPE(None, c_void_p, c_void_p)),
        ("user", c_void_p),
    ]


# ---- argument types ----

def _array(dtype: type, nullable: bool = False) -> type:
    """An argtype taking a C-contiguous numpy array of dtype (checked, never
    converted: the wrappers convert before the call), or None for NULL."""
    base: Any = np.ctypeslib.ndpointer(dtype=dtype, flags=("C_CONTIGUOUS", "ALIGNED"))
    if not nullable:
        return base

    class _Nullable(base):
        @classmethod
        def from_param(cls, obj: Any) -> Any:
            return None if obj is None else base.from_param(obj)

    return _Nullable


STATUS = object()  # restype marker: a gm_status, checked by _check_status
_handle = c_void_p                  # gm_vae *, gm_gan *, gm_sr *, gm_dataset *
_out = POINTER(c_void_p)            # where a create or load puts the new handle
_path = c_char_p                    # file names, os.fsencode()d
_f32 = _array(np.float32)
_f64 = _array(np.float64)
_i32 = _array(np.int32)
_labels = _array(np.int32, nullable=True)
_f64_or_null = _array(np.float64, nullable=True)
#: gm_allreduce_fn: average buf (count floats) in place across the workers; ctx handed back
ALLREDUCE = CFUNCTYPE(c_int, POINTER(c_float), c_size_t, c_void_p)


# ---- loading ----

def _pkg_config_libdir() -> Optional[str]:
    """pkg-config's libdir for genmodel, or None."""
    try:
        result = subprocess.run(["pkg-config", "--variable=libdir", "genmodel"],
                                capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def installed(name: str) -> list[str]:
    """Where `meson install` put the library ("LIBRARY") or the tool
    ("TOOL") beside this package, per its generated _paths module: the
    copies that exist, the one relative to this package first. Empty for a
    package not installed by meson (a source tree, a pip install)."""
    try:
        paths = importlib.import_module("._paths", __package__)  # generated by meson
    except ImportError:
        return []
    where: list[str] = paths.where(getattr(paths, name))
    return where


def _candidates() -> Iterator[str]:
    """Where to look, first match wins. GENMODEL_LIBRARY, when set, is the
    only candidate: an explicit choice never falls back to another copy."""
    override = os.environ.get("GENMODEL_LIBRARY")
    if override:
        yield override
        return
    yield from installed("LIBRARY")  # meson installed the package with the library
    yield SONAME  # the dynamic loader: LD_LIBRARY_PATH, the ld cache, the default paths
    libdir = _pkg_config_libdir()
    if libdir:
        yield os.path.join(libdir, SONAME)


def check_mirror(fields: tuple[str, ...], struct: type[Structure]) -> None:
    """Refuse a Python mirror (a typed namedtuple's fields) that does not
    name a C struct's fields in their order."""
    if fields != tuple(field[0] for field in struct._fields_):
        raise ImportError(f"{fields} does not mirror {struct.__name__}")


def check_version(number: int, where: str) -> None:
    """Refuse a library whose major version is not the binding's."""
    if number // 10000 != MAJOR:
        raise ImportError(f"{where} is libgenmodel {number // 10000}.{number // 100 % 100}.{number % 100}; "
                          f"this binding (genmodel {__version__}) needs {MAJOR}.x")


def _load() -> tuple[ctypes.CDLL, str]:
    failures = []
    for candidate in _candidates():
        try:
            cdll = ctypes.CDLL(candidate)
        except OSError as e:
            failures.append(str(e))
            continue
        cdll.gm_version.restype = c_int
        cdll.gm_version.argtypes = []
        check_version(cdll.gm_version(), candidate)
        return cdll, candidate
    raise ImportError("libgenmodel not found (" + "; ".join(failures) + "); set GENMODEL_LIBRARY to the "
                      f"full path of {SONAME}, add its directory to LD_LIBRARY_PATH, or install it")


_cdll, path = _load()


def config_fields(kind: int) -> list[gm_config_field]:
    """The library's description of a kind's config (MODEL_KINDS[...]), as
    gm_config_field structs in the struct's order."""
    count = c_int32()
    for name, args in (("gm_config_field_count", [c_int32, POINTER(c_int32)]),
                       ("gm_config_field_get", [c_int32, c_int32, POINTER(gm_config_field)])):
        getattr(_cdll, name).argtypes, getattr(_cdll, name).restype = args, c_int
    if _cdll.gm_config_field_count(kind, ctypes.byref(count)) != 0:
        raise ImportError(f"libgenmodel does not describe model kind {kind}")
    fields: list[gm_config_field] = []
    for i in range(count.value):
        field = gm_config_field(struct_size=ctypes.sizeof(gm_config_field))
        if _cdll.gm_config_field_get(kind, i, ctypes.byref(field)) != 0:
            raise ImportError(f"libgenmodel does not describe field {i} of model kind {kind}")
        fields.append(field)
    return fields


_CTYPES = {0: c_int32, 1: c_float, 2: c_uint64}


def _config_struct(struct_name: str, kind: int) -> type[Structure]:
    """The config struct of a kind, as the library describes it: struct_size,
    then every field at the offset the library gives (checked), a dotted
    name ("optim.lr") a member of an embedded struct."""
    described = config_fields(kind)
    members: list[tuple[str, Any]] = [("struct_size", c_size_t)]
    nested: dict[str, list[tuple[str, Any]]] = {}
    for f in described:
        ctype = _CTYPES[f.type] * f.count if f.count > 1 else _CTYPES[f.type]
        parent, _, leaf = f.name.decode().rpartition(".")
        if parent:
            if parent not in nested:
                nested[parent] = []
                members.append((parent, None))
            nested[parent].append((leaf, ctype))
        else:
            members.append((leaf, ctype))
    types_: dict[str, Any] = {}
    for name, ctype in members:
        types_[name] = ctype or type("gm_optimizer_config", (Structure,), {"_fields_": nested[name]})
    struct = type(struct_name, (Structure,), {"_fields_": list(types_.items())})
    for f in described:
        parent, _, leaf = f.name.decode().rpartition(".")
        offset = getattr(struct, parent).offset + getattr(types_[parent], leaf).offset if parent \
            else getattr(struct, leaf).offset
        if offset != f.offset:
            raise ImportError(f"{struct_name}.{f.name.decode()}: at {offset} here, {f.offset} in libgenmodel")
    return struct


gm_vae_config = _config_struct("gm_vae_config", MODEL_KINDS["vae"])
gm_gan_config = _config_struct("gm_gan_config", MODEL_KINDS["gan"])
gm_sr_config = _config_struct("gm_sr_config", MODEL_KINDS["sr"])

_DECLARATIONS = [
    # common.h
    ("gm_strerror", c_char_p, [c_int]),
    ("gm_last_error", c_char_p, []),
    ("gm_version", c_int, []),
    ("gm_version_string", c_char_p, []),
    ("gm_set_num_threads", STATUS, [c_int32]),
    ("gm_get_num_threads", c_int32, []),
    ("gm_set_backend", STATUS, [c_char_p]),
    ("gm_backend_name", c_char_p, []),
    ("gm_set_allocator", STATUS, [POINTER(gm_allocator)]),
    # vae.h
    ("gm_vae_config_init_size", None, [POINTER(gm_vae_config), c_size_t]),
    ("gm_vae_create", STATUS, [POINTER(gm_vae_config), _out]),
    ("gm_vae_free", None, [_handle]),
    ("gm_vae_get_config", STATUS, [_handle, POINTER(gm_vae_config)]),
    ("gm_vae_step_count", c_int64, [_handle]),
    ("gm_vae_set_lr", STATUS, [_handle, c_float]),
    ("gm_vae_set_allreduce", STATUS, [_handle, ALLREDUCE, c_void_p, c_int32, c_int32]),
    ("gm_vae_encode", STATUS, [_handle, _f32, _labels, c_int32, _f32, _f32]),
    ("gm_vae_reparameterize", STATUS, [_handle, _f32, _f32, c_int32, _f32]),
    ("gm_vae_decode", STATUS, [_handle, _f32, _labels, c_int32, _f32]),
    ("gm_vae_train_step", STATUS, [_handle, _f32, _labels, c_int32, POINTER(gm_vae_losses)]),
    ("gm_vae_elbo", STATUS, [_handle, _f32, _labels, c_int32, _f64_or_null, POINTER(gm_vae_losses)]),
    ("gm_vae_iwae", STATUS, [_handle, _f32, _labels, c_int32, c_int32, _f64]),
    ("gm_vae_sample", STATUS, [_handle, _labels, c_int32, _f32]),
    ("gm_vae_reconstruct", STATUS, [_handle, _f32, _labels, c_int32, _f32]),
    ("gm_vae_score", STATUS, [_handle, _f32, _labels, c_int32, c_int32, _f64]),
    ("gm_vae_fit_latent", STATUS, [_handle, _f32, _labels, c_int32]),
    ("gm_vae_fit_standardization", STATUS, [_handle, _f32, c_int32]),
    ("gm_vae_calibrate", STATUS, [_handle, c_int32, _f32, _labels, c_int32, c_int32, c_float]),
    ("gm_vae_flag", STATUS, [_handle, _f32, _labels, c_int32, _f64, _f64_or_null, _labels]),
    ("gm_vae_anomaly_map", STATUS, [_handle, _f32, _labels, c_int32, _f32]),
    ("gm_vae_score_as", STATUS, [_handle, c_int32, _f32, _labels, c_int32, c_int32, _f64]),
    ("gm_vae_interpolate", STATUS, [_handle, _f32, _f32, _labels, c_int32, c_int32, _f32]),
    ("gm_vae_manifold", STATUS, [_handle, c_int32, c_int32, _f32]),
    ("gm_vae_shuffle", STATUS, [_handle, _i32, c_int32]),
    # gan.h
    ("gm_gan_config_init_size", None, [POINTER(gm_gan_config), c_size_t]),
    ("gm_gan_create", STATUS, [POINTER(gm_gan_config), _out]),
    ("gm_gan_free", None, [_handle]),
    ("gm_gan_get_config", STATUS, [_handle, POINTER(gm_gan_config)]),
    ("gm_gan_step_count", c_int64, [_handle]),
    ("gm_gan_set_lr", STATUS, [_handle, c_float, c_float]),
    ("gm_gan_set_allreduce", STATUS, [_handle, ALLREDUCE, c_void_p, c_int32, c_int32]),
    ("gm_gan_generate", STATUS, [_handle, _f32, _labels, c_int32, c_int32, _f32]),
    ("gm_gan_discriminate", STATUS, [_handle, _f32, _labels, c_int32, _f32]),
    ("gm_gan_train_step", STATUS, [_handle, _f32, _labels, c_int32, POINTER(gm_gan_losses)]),
    ("gm_gan_sample", STATUS, [_handle, _labels, c_int32, _f32]),
    ("gm_gan_shuffle", STATUS, [_handle, _i32, c_int32]),
    # sr.h
    ("gm_sr_config_init_size", None, [POINTER(gm_sr_config), c_size_t]),
    ("gm_sr_create", STATUS, [POINTER(gm_sr_config), _out]),
    ("gm_sr_free", None, [_handle]),
    ("gm_sr_get_config", STATUS, [_handle, POINTER(gm_sr_config)]),
    ("gm_sr_step_count", c_int64, [_handle]),
    ("gm_sr_set_lr", STATUS, [_handle, c_float, c_float]),
    ("gm_sr_patches", STATUS, [_handle, _handle, c_int32, _f32, _f32]),
    ("gm_sr_train_step", STATUS, [_handle, _f32, _f32, c_int32, c_int32, c_int32, POINTER(gm_sr_losses)]),
    ("gm_sr_upscale", STATUS, [_handle, _f32, c_int32, c_int32, c_int32, _f32]),
    ("gm_sr_evaluate", STATUS, [_handle, _handle, POINTER(gm_sr_scores)]),
    # data.h
    ("gm_dataset_load", STATUS, [_path, _path, _out]),
    ("gm_dataset_load_dir", STATUS, [_path, c_char_p, _out]),
    ("gm_dataset_options_init_size", None, [POINTER(gm_dataset_options), c_size_t]),
    ("gm_dataset_open", STATUS, [_path, POINTER(gm_dataset_options), _out]),
    ("gm_dataset_channels", c_int32, [_handle]),
    ("gm_dataset_write", STATUS, [_path, c_int32, _f32, _labels, c_int32, c_int32, c_int32, c_int32]),
    ("gm_dataset_free", None, [_handle]),
    ("gm_dataset_count", c_int32, [_handle]),
    ("gm_dataset_dim", c_int32, [_handle]),
    ("gm_dataset_height", c_int32, [_handle]),
    ("gm_dataset_width", c_int32, [_handle]),
    ("gm_dataset_has_labels", c_int32, [_handle]),
    ("gm_dataset_n_classes", c_int32, [_handle]),
    ("gm_dataset_gather", STATUS, [_handle, _i32, c_int32, _f32, _labels]),
    ("gm_dataset_image_size", STATUS, [_handle, c_int32, POINTER(c_int32), POINTER(c_int32)]),
    ("gm_dataset_image", STATUS, [_handle, c_int32, _f32, POINTER(c_int32)]),
    ("gm_idx_write_images", STATUS, [_path, _f32, c_int32, c_int32, c_int32]),
    ("gm_image_write_grid", STATUS, [_path, _f32, c_int32, c_int32, c_int32, c_int32]),
    ("gm_image_write_grid_channels", STATUS, [_path, _f32, c_int32, c_int32, c_int32, c_int32, c_int32]),
    ("gm_image_write", STATUS, [_path, _f32, c_int32, c_int32, c_int32]),
    ("gm_image_read", STATUS, [_path, POINTER(c_int32), POINTER(c_int32), POINTER(c_int32),
                               POINTER(POINTER(c_float))]),
    ("gm_have_png", c_int32, []),
    # checkpoint.h
    ("gm_config_field_init_size", None, [POINTER(gm_config_field), c_size_t]),
    ("gm_config_field_count", STATUS, [c_int32, POINTER(c_int32)]),
    ("gm_config_field_get", STATUS, [c_int32, c_int32, POINTER(gm_config_field)]),
    ("gm_checkpoint_info_init_size", None, [POINTER(gm_checkpoint_info), c_size_t]),
    ("gm_checkpoint_peek", STATUS, [_path, POINTER(gm_checkpoint_info)]),
    ("gm_checkpoint_peek_vae", STATUS, [_path, POINTER(gm_vae_config)]),
    ("gm_checkpoint_peek_gan", STATUS, [_path, POINTER(gm_gan_config)]),
    ("gm_checkpoint_peek_sr", STATUS, [_path, POINTER(gm_sr_config)]),
    ("gm_vae_save", STATUS, [_handle, _path]),
    ("gm_vae_load", STATUS, [_path, _out]),
    ("gm_vae_save_buffer", STATUS, [_handle, POINTER(c_void_p), POINTER(c_size_t)]),
    ("gm_vae_load_buffer", STATUS, [c_char_p, c_size_t, _out]),
    ("gm_gan_save", STATUS, [_handle, _path]),
    ("gm_gan_load", STATUS, [_path, _out]),
    ("gm_gan_save_buffer", STATUS, [_handle, POINTER(c_void_p), POINTER(c_size_t)]),
    ("gm_gan_load_buffer", STATUS, [c_char_p, c_size_t, _out]),
    ("gm_sr_save", STATUS, [_handle, _path]),
    ("gm_sr_load", STATUS, [_path, _out]),
    ("gm_sr_save_buffer", STATUS, [_handle, POINTER(c_void_p), POINTER(c_size_t)]),
    ("gm_sr_load_buffer", STATUS, [c_char_p, c_size_t, _out]),
    ("gm_buffer_free", None, [c_void_p]),
]


def _check_status(status: int, func: Any, args: Any) -> int:
    if status != 0:
        raise error_for(status, lib.gm_last_error() or lib.gm_strerror(status))
    return status


def _declare(cdll: ctypes.CDLL) -> Any:
    namespace = types.SimpleNamespace()
    for name, restype, argtypes in _DECLARATIONS:
        func = getattr(cdll, name)
        func.argtypes = argtypes
        if restype is STATUS:
            func.restype = c_int
            func.errcheck = _check_status
        else:
            func.restype = restype
        setattr(namespace, name, func)
    return namespace


#: The declared C functions, by their C names.
lib = _declare(_cdll)
