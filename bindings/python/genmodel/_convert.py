"""Python values at the C boundary.

Inputs become C-contiguous float32 (int32 for labels) arrays, copied only
when their dtype or layout is wrong, and their shapes are checked here,
before any C call, so a mistake names the expected shape. Integers passed
as int32_t are range-checked (ctypes would silently wrap them). Outputs are
allocated here with np.empty and filled by C.
"""
import operator

import numpy as np

INT32_MAX = 2**31 - 1


def int32(value, name):
    """value as a Python int that fits an int32_t."""
    value = operator.index(value)
    if not -INT32_MAX - 1 <= value <= INT32_MAX:
        raise ValueError(f"{name} = {value} does not fit in 32 bits")
    return value


def count(n, name="n"):
    """A number of samples: an int in [0, 2^31 - 1] (the library refuses 0
    itself, with its own message)."""
    n = int32(n, name)
    if n < 0:
        raise ValueError(f"{name} must be >= 0 (got {n})")
    return n


def rows(x, dim, name):
    """x as a C-contiguous float32 array of shape (n, dim); the array itself
    when it already is one."""
    a = np.ascontiguousarray(x, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), got {np.shape(x)}")
    count(a.shape[0], f"the number of rows of {name}")
    return a


def int32s(a, n, name):
    """Integers as a C-contiguous int32 array of shape (n,), of any length
    when n is None."""
    a = np.asarray(a)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {a.dtype}")
    if a.ndim != 1 or (n is not None and len(a) != n):
        raise ValueError(f"{name} must have shape ({'n' if n is None else n},), got {a.shape}")
    if a.dtype != np.int32 and a.size and (a.min() < -INT32_MAX - 1 or a.max() > INT32_MAX):
        raise ValueError(f"{name} must fit in 32 bits")
    count(len(a), f"the length of {name}")
    return np.ascontiguousarray(a, dtype=np.int32)


def labels(y, n):
    """Class labels as a C-contiguous int32 array of shape (n,), or None."""
    return None if y is None else int32s(y, n, "labels")


def floats(n, dim=None):
    """An uninitialised float32 output of n rows (of dim values, or scalars)."""
    return np.empty((n,) if dim is None else (n, dim), dtype=np.float32)


def doubles(n):
    """An uninitialised float64 output of n values."""
    return np.empty(n, dtype=np.float64)
