"""Python values at the C boundary.

Every value is converted and checked here, before any C call, so a mistake
is a TypeError or ValueError naming the argument (ctypes would raise its own
ArgumentError, or silently wrap an integer or round a float to infinity).
Inputs become C-contiguous, aligned float32 (int32 for labels) arrays,
copied only when their dtype or layout is wrong, and their shapes are
checked, so a mistake names the expected shape. Outputs are allocated here
with np.empty and filled by C.
"""
from __future__ import annotations

import math
import numbers
import operator
import os
from ctypes import c_float
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

INT32_MAX = 2**31 - 1
UINT64_MAX = 2**64 - 1
FLT_MAX = float(np.finfo(np.float32).max)


def _not_bool(value: object, name: str, kind: str) -> None:
    # a bool is an int to Python, but passing one for a number is a mistake
    # (True would train on one sample, or at a learning rate of 1)
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__}")


def integer(value: Any, name: str) -> int:
    """value as a Python int: an int or a numpy integer, not a bool or a
    float (TypeError)."""
    _not_bool(value, name, "an integer")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None


def int32(value: Any, name: str) -> int:
    """value as a Python int that fits an int32_t."""
    value = integer(value, name)
    if not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise ValueError(f"{name} = {value} does not fit in 32 bits")
    return value


def uint64(value: Any, name: str) -> int:
    """value as a Python int that fits a uint64_t."""
    value = integer(value, name)
    if not 0 <= value <= UINT64_MAX:
        raise ValueError(f"{name} = {value} is out of range [0, 2**64 - 1]")
    return value


def float32(value: Any, name: str) -> float:
    """value as a Python float that stays finite as a C float if it was
    finite; NaN and infinities pass, for the library to judge."""
    _not_bool(value, name, "a real number")
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        f = float(value)
    except OverflowError:  # an int beyond any double
        f = None
    if f is None or (math.isinf(c_float(f).value) and not math.isinf(f)):
        raise ValueError(f"{name} is too large for a 32-bit float (at most {FLT_MAX:.8g})")
    return f


def path(value: Any, name: str = "path") -> bytes:
    """A file name (str, bytes or os.PathLike) as bytes for a char *."""
    try:
        encoded = os.fsencode(value)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(value).__name__}") from None
    if b"\0" in encoded:
        raise ValueError(f"{name} contains a null byte")
    return encoded


def text(value: Any, name: str, hint: str) -> bytes:
    """A str without null bytes as bytes for a char *; hint names the values."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, {hint}; got {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{name} contains a null byte")
    return value.encode()


def count(n: Any, name: str = "n") -> int:
    """A number of samples: an int in [0, 2^31 - 1] (the library refuses 0
    itself, with its own message)."""
    n = int32(n, name)
    if n < 0:
        raise ValueError(f"{name} must be >= 0 (got {n})")
    return n


def array(x: Any, name: str) -> npt.NDArray[np.float32]:
    """x as a C-contiguous, aligned float32 array of any shape; the array
    itself when it already is one."""
    try:
        a = np.ascontiguousarray(x, dtype=np.float32)
    except (TypeError, ValueError) as e:  # numpy's message does not say which argument
        raise type(e)(f"{name} must be an array of numbers: {e}") from None
    if not a.flags.aligned:  # a view at an odd byte offset: C needs aligned floats
        a = a.copy()
    return a


def rows(x: Any, dim: int, name: str) -> npt.NDArray[np.float32]:
    """x as a C-contiguous, aligned float32 array of shape (n, dim); the
    array itself when it already is one."""
    a = array(x, name)
    if a.ndim != 2 or a.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), got {np.shape(x)}")
    count(a.shape[0], f"the number of rows of {name}")
    return a


def int32s(a: Any, n: Optional[int], name: str) -> npt.NDArray[np.int32]:
    """Integers as a C-contiguous, aligned int32 array of shape (n,), of any
    length when n is None. An empty sequence of any dtype is empty integers."""
    a = np.asarray(a)
    if a.size == 0 and a.ndim == 1:  # [] is float64 to numpy, but an empty list of integers too
        a = a.astype(np.int32)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {a.dtype}")
    if a.ndim != 1 or (n is not None and len(a) != n):
        raise ValueError(f"{name} must have shape ({'n' if n is None else n},), got {a.shape}")
    if a.dtype != np.int32 and a.size and (a.min() < -INT32_MAX - 1 or a.max() > INT32_MAX):
        raise ValueError(f"{name} must fit in 32 bits")
    count(len(a), f"the length of {name}")
    a = np.ascontiguousarray(a, dtype=np.int32)
    return a if a.flags.aligned else a.copy()


def labels(y: Any, n: int) -> Optional[npt.NDArray[np.int32]]:
    """Class labels as a C-contiguous int32 array of shape (n,), or None."""
    return None if y is None else int32s(y, n, "labels")


def floats(n: int, dim: Optional[int] = None) -> npt.NDArray[np.float32]:
    """An uninitialised float32 output of n rows (of dim values, or scalars)."""
    return np.empty((n,) if dim is None else (n, dim), dtype=np.float32)


def doubles(n: int) -> npt.NDArray[np.float64]:
    """An uninitialised float64 output of n values."""
    return np.empty(n, dtype=np.float64)
