"""What the models share. Every model kind (VAE, GAN, SR) is a Checkpointed:
construction from keyword arguments, loading and saving, the config, the
step count. VAE and GAN, which train on rows of data, are also a Model:
shuffling, data-parallel training, the step on a batch, sampling, and the
epoch loop.

A subclass names its C functions by its kind (gm_<kind>_create,
gm_<kind>_save, ...) and gives its ConfigSpec; a Model also its loss
struct and the namedtuple a training step returns.
"""
from __future__ import annotations

import os
from ctypes import Structure, byref, c_size_t, c_void_p, string_at
from typing import Any, Callable, Generic, NamedTuple, Optional, TypeVar, Union

import numpy as np
import numpy.typing as npt

from . import _convert
from ._config import ConfigSpec
from ._handle import Handle
from ._errors import GenModelError
from ._lib import ALLREDUCE, lib

L = TypeVar("L", bound=NamedTuple)
M = TypeVar("M", bound="Checkpointed")

#: What Model.load takes: a file name, or a checkpoint's bytes.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]
#: A file name: str, bytes or os.PathLike.
Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: What set_allreduce takes: a function that averages a float32 array in place across the workers.
Allreduce = Callable[[npt.NDArray[np.float32]], None]

_GM_ERR_IO = 3  # what a hook that raised returns: the step fails with FileError


class Checkpointed(Handle):
    """Base of every model kind: a handle made from a config, saved and
    loaded as a checkpoint."""

    _kind: str            # "vae", "gan" or "sr": the C functions are gm_<kind>_<verb>
    _spec: ConfigSpec     # of the config struct

    def __init__(self, **config: Any) -> None:
        cfg = self._spec.build(type(self).__name__, config)
        out = c_void_p()
        self._c("create")(byref(cfg), byref(out))
        self._adopt(out)

    @classmethod
    def _c(cls, verb: str) -> Any:
        return getattr(lib, f"gm_{cls._kind}_{verb}")

    def _adopt(self, ptr: c_void_p) -> None:
        """Own a new handle and remember its config (only the learning rates
        can change later, and they are read afresh by the config property)."""
        self._own(ptr, self._c("free"))
        self._cfg = self._read_config()

    def _read_config(self) -> Any:
        cfg = self._spec.defaults()
        with self._use() as h:
            self._c("get_config")(h, byref(cfg))
        return cfg

    # ---- persistence ----

    @classmethod
    def load(cls: type[M], source: Source) -> M:
        """A model from a checkpoint: a file name (str or path-like) or the
        bytes to_bytes() returned. Raises FileError, FormatError,
        VersionError, or MismatchError for a checkpoint of another kind."""
        out = c_void_p()
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            cls._c("load_buffer")(data, len(data), byref(out))
        else:
            cls._c("load")(_convert.path(source, "source"), byref(out))
        model = cls.__new__(cls)
        model._adopt(out)
        return model

    def save(self, path: Path) -> None:
        """Save the config, weights, optimizer state and random state to a
        safetensors file, atomically: on failure the old file is untouched."""
        path = _convert.path(path)
        with self._use() as h:
            self._c("save")(h, path)

    def to_bytes(self) -> bytes:
        """The checkpoint save() would write, as bytes."""
        buf, size = c_void_p(), c_size_t()
        with self._use() as h:
            self._c("save_buffer")(h, byref(buf), byref(size))
        try:
            return string_at(buf, size.value)
        finally:
            lib.gm_buffer_free(buf)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy.deepcopy go through a checkpoint
        return (type(self).load, (self.to_bytes(),))

    # ---- state ----

    @property
    def config(self) -> dict[str, Any]:
        """The config as a dict of the constructor's keyword arguments:
        ``type(m)(**m.config)`` builds a fresh model of the same shape."""
        return self._spec.to_dict(self._read_config())

    @property
    def step(self) -> int:
        """Optimizer updates applied so far (a GAN's generator updates)."""
        with self._use() as h:
            step: int = self._c("step_count")(h)
            return step

    def __repr__(self) -> str:
        try:
            return f"<{type(self).__name__} step={self.step} {self._shape()}>"
        except ValueError:  # closed, perhaps by another thread just now
            return f"<{type(self).__name__} (closed)>"

    def _shape(self) -> str:
        """A short description of the network for repr()."""
        raise NotImplementedError


class Model(Checkpointed, Generic[L]):
    """Base of VAE and GAN: L is the namedtuple of a step's losses."""

    _losses_struct: type[Structure]  # gm_<kind>_losses
    _losses: type[L]      # the namedtuple train_step returns (same field names)
    _allreduce: Any = None  # the C hook set_allreduce gave the library, kept alive
    _allreduce_error: Optional[BaseException] = None  # what the hook raised in the step in flight

    def shuffle(self, n: int) -> npt.NDArray[np.int32]:
        """A random permutation of 0..n-1 (int32) from the model's seeded
        generator: the order of an epoch."""
        order = np.empty(_convert.count(n), dtype=np.int32)
        with self._use() as h:
            self._c("shuffle")(h, order, len(order))
        return order

    # ---- data-parallel training ----

    def set_allreduce(self, fn: Optional[Allreduce], rank: int = 0, size: int = 1) -> None:
        """Make this model worker `rank` of `size` in a data-parallel run
        (docs/distributed.md). From the next step on, train_step's n rows
        are this worker's share of a global batch of size * n rows, its rows
        rank * n to (rank + 1) * n, and each optimizer update first calls
        fn(buf): buf is a float32 array, valid during the call only, holding
        the update's gradients and loss figures, which fn must replace in
        place by their mean over all the workers, giving every worker the
        same values (with mpi4py: comm.Allreduce(MPI.IN_PLACE, buf,
        op=MPI.SUM); buf *= 1 / size). fn runs on the thread of train_step,
        which holds this model's lock: it must not call the model. If fn
        raises, the step raises the library's error (FileError) from fn's
        exception and changes nothing. fn None (with rank 0, size 1) makes
        the model a single process again. The N workers reproduce one
        process's training at the global batch to float rounding."""
        if fn is not None and not callable(fn):
            raise TypeError(f"fn must be a callable or None, not {type(fn).__name__}")
        rank, size = _convert.int32(rank, "rank"), _convert.int32(size, "size")
        hook = ALLREDUCE(0) if fn is None else ALLREDUCE(self._allreduce_trampoline(fn))
        with self._use() as h:
            self._c("set_allreduce")(h, hook, None, rank, size)
        self._allreduce = hook  # the C side holds this pointer: keep it alive

    def _allreduce_trampoline(self, fn: Allreduce) -> Callable[[Any, int, Any], int]:
        """The C hook around fn: an exception is kept for train_step to raise
        from, never let through ctypes (which would print it and return 0)."""
        def call(buf: Any, count: int, ctx: Any) -> int:
            try:
                # a native float32 view: ctypes' own buffer format ("<f") is one some
                # consumers (mpi4py) do not take
                fn(np.ctypeslib.as_array(buf, shape=(count,)).view(np.float32))
                return 0
            except BaseException as exc:  # noqa: B902 -- any failure must fail the step
                self._allreduce_error = exc
                return exc.status if isinstance(exc, GenModelError) and exc.status else _GM_ERR_IO
        return call

    # ---- training ----

    @property
    def _x_dim(self) -> int:
        """Values per data sample."""
        raise NotImplementedError

    def _batch(self, x: npt.ArrayLike,
               labels: Optional[npt.ArrayLike]) -> tuple[npt.NDArray[np.float32], Optional[npt.NDArray[np.int32]]]:
        """x as (n, data dim) float32 and labels as (n,) int32 or None."""
        x = _convert.rows(x, self._x_dim, "x")
        return x, _convert.labels(labels, len(x))

    def train_step(self, x: npt.ArrayLike, labels: Optional[npt.ArrayLike] = None) -> L:
        """One training step on the batch x (n, data dim), labels (n,) for a
        conditional model. Returns the step's losses (VAELosses or
        GANLosses). A non-finite loss raises NumericError and changes
        nothing."""
        x, labels = self._batch(x, labels)
        losses = self._losses_struct()
        self._allreduce_error = None
        try:
            with self._use() as h:
                self._c("train_step")(h, x, labels, len(x), byref(losses))
        except GenModelError as err:
            cause, self._allreduce_error = self._allreduce_error, None
            if cause is not None:
                raise err from cause
            raise
        return self._losses(*(getattr(losses, name) for name in self._losses._fields))

    def sample(self, n: int, labels: Optional[npt.ArrayLike] = None) -> npt.NDArray[np.float32]:
        """n new samples, (n, data dim): a VAE's decoder means for z from
        the prior, a GAN's generator outputs (through the moving-average
        weights when ema_decay > 0). labels (n,) names each sample's class
        in a conditional model."""
        n = _convert.count(n)
        labels = _convert.labels(labels, n)
        x = _convert.floats(n, self._x_dim)
        with self._use() as h:
            self._c("sample")(h, labels, n, x)
        return x

    def fit(self, x: npt.ArrayLike, epochs: int, batch_size: int = 128, labels: Optional[npt.ArrayLike] = None,
            callback: Optional[Callable[[int, L], Optional[bool]]] = None) -> list[L]:
        """Train for `epochs` passes over x (n, data dim).

        Each epoch visits x in an order from shuffle(), in batches of
        batch_size (the last one may be smaller), as the genmodel tool does.
        Returns one losses tuple per epoch, each term the mean over the
        epoch's samples. callback(epoch, losses), with epoch counting from
        1, is called after each epoch; returning False stops training.
        """
        x, labels = self._batch(x, labels)
        if not len(x):
            raise ValueError(f"fit: x has no rows (shape {x.shape}); an epoch needs at least one sample")
        batch_size = _convert.count(batch_size, "batch_size")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        history: list[L] = []
        for epoch in range(1, _convert.count(epochs, "epochs") + 1):
            order = self.shuffle(len(x))
            sums = np.zeros(len(self._losses._fields))
            for at in range(0, len(x), batch_size):
                rows = order[at:at + batch_size]
                step = self.train_step(x[rows], None if labels is None else labels[rows])
                sums += np.multiply(step, len(rows))
            history.append(self._losses(*(sums / len(x)).tolist()))
            if callback is not None and callback(epoch, history[-1]) is False:
                break
        return history
