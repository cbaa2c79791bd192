"""Checkpoints (checkpoint.h): what a file holds, read from its header
alone, and loading a checkpoint of any model kind."""
from __future__ import annotations

import os
from ctypes import byref
from typing import Any, NamedTuple, Union

from . import _convert
from ._config import init_struct
from ._errors import MismatchError, UnsupportedError
from ._lib import MODEL_KINDS, gm_checkpoint_info, lib
from ._model import Source
from .gan import GAN
from .sr import SR
from .vae import VAE


class CheckpointInfo(NamedTuple):
    """A checkpoint's model kind ('vae', 'gan' or 'sr'), format version, optimizer
    step, and the config dict the model was made with."""

    kind: str
    format_version: int
    step: int
    config: dict[str, Any]


_CLASSES: dict[str, Union[type[VAE], type[GAN], type[SR]]] = {"vae": VAE, "gan": GAN, "sr": SR}
_KIND_NAMES = {value: name for name, value in MODEL_KINDS.items()}


def checkpoint_info(path: Union[str, "os.PathLike[str]"]) -> CheckpointInfo:
    """Read a checkpoint file's header (not its tensors): a CheckpointInfo.
    path is a str or os.PathLike. Bytes are refused (TypeError): to load()
    they are a checkpoint's contents, so here they would be ambiguous; give
    a bytes file name as os.fsdecode(name). Raises FileError, FormatError or
    VersionError as loading would."""
    if isinstance(path, (bytes, bytearray, memoryview)):
        raise TypeError("checkpoint_info: path must be a str or os.PathLike, not bytes (a checkpoint in memory "
                        "is read by genmodel.load; a bytes file name can be given as os.fsdecode(name))")
    name = _convert.path(path)
    info = init_struct(gm_checkpoint_info, lib.gm_checkpoint_info_init_size)
    lib.gm_checkpoint_peek(name, byref(info))
    kind = _KIND_NAMES.get(info.kind)
    if kind is None:
        raise UnsupportedError(f"{os.fsdecode(path)}: model kind {info.kind} is unknown to this binding")
    cls = _CLASSES[kind]
    cfg = cls._spec.defaults()
    getattr(lib, f"gm_checkpoint_peek_{kind}")(name, byref(cfg))
    return CheckpointInfo(kind, info.format_version, info.step, cls._spec.to_dict(cfg))


def load(source: Source) -> Union[VAE, GAN, SR]:
    """The VAE, GAN or SR a checkpoint holds: a file name or bytes, as
    VAE.load, GAN.load and SR.load take them."""
    try:
        return VAE.load(source)
    except MismatchError:
        pass
    try:
        return GAN.load(source)
    except MismatchError:
        return SR.load(source)
