"""Exceptions: one class per gm_status, all subclasses of GenModelError.

Each carries the library's own message (gm_last_error(), read on the
calling thread right after the failing call) and the status number.
Where a standard exception fits, the class also derives from it, so
``except ValueError`` catches a refused argument and ``except OSError`` a
failed file operation; a FileError is also the OSError subclass its errno
names (``except FileNotFoundError``), with errno, strerror and filename set.
"""
from __future__ import annotations

import errno as _errno
import os
import re
from typing import Any, Optional


class GenModelError(Exception):
    """A libgenmodel call failed.

    Attributes:
        status: the gm_status value (an int; fixed forever by the C API).
        message: the detail from gm_last_error(), e.g.
            "gm_vae_create: input_dim and latent_dim must be >= 1 (got 784, 0)".
    """

    status: Optional[int] = None

    @property
    def message(self) -> str:
        """The library's detail, as str() gives it."""
        return str(self)


class InvalidArgumentError(GenModelError, ValueError):
    """GM_ERR_INVALID_ARG: a value out of range, an input outside the
    model's domain, labels missing or unexpected. Nothing was done."""

    status = 1


class NoMemoryError(GenModelError, MemoryError):
    """GM_ERR_NO_MEMORY: the allocator returned NULL or a size overflowed."""

    status = 2


class FileError(GenModelError, OSError):
    """GM_ERR_IO: a file could not be opened, read, written, synced or
    renamed; the message carries the operating system's reason.

    When the reason is an errno (the message ends with its strerror text),
    errno, strerror and filename are set as for the OSError Python would
    raise (filename2 too for a rename), and the exception is an instance of
    the matching subclass as well: FileError.FileNotFoundError is both a
    FileError and a FileNotFoundError, and so on for PermissionError,
    IsADirectoryError, NotADirectoryError and FileExistsError. Otherwise
    (a file that shrank while being read, a device instead of a file) errno
    is None. str() is always the library's message.
    """

    status = 3

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError's own keeps errno and the file names only when args hold
        # them; here args hold the message, so they travel as state
        state = {name: getattr(self, name) for name in ("errno", "strerror", "filename", "filename2")}
        return type(self), self.args, state


for _base in (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError):
    setattr(FileError, _base.__name__, type(_base.__name__, (FileError, _base), {
        "__module__": __name__, "__qualname__": f"FileError.{_base.__name__}",
        "__doc__": f"A FileError that is a {_base.__name__} too."}))
del _base


class FormatError(GenModelError):
    """GM_ERR_FORMAT: a file is corrupt or not of the expected format."""

    status = 4


class VersionError(GenModelError):
    """GM_ERR_VERSION: a file or config from a newer libgenmodel."""

    status = 5


class MismatchError(GenModelError):
    """GM_ERR_MISMATCH: a checkpoint of another model kind, shape or config."""

    status = 6


class StateError(GenModelError):
    """GM_ERR_STATE: a call that is not allowed in the current state."""

    status = 7


class NumericError(GenModelError, ArithmeticError):
    """GM_ERR_NUMERIC: a loss or gradient came out NaN or Inf. No weight,
    optimizer moment or random state was changed: lower the learning rate
    and go on."""

    status = 8


class UnsupportedError(GenModelError):
    """GM_ERR_UNSUPPORTED: a feature this build of the library lacks
    (PNG without libpng, a checkpoint dtype other than F32)."""

    status = 9


_BY_STATUS = {
    cls.status: cls
    for cls in (InvalidArgumentError, NoMemoryError, FileError, FormatError, VersionError,
                MismatchError, StateError, NumericError, UnsupportedError)
}


# "... 'PATH': REASON", "... 'FROM' to 'TO': REASON" (a rename) or "...
# 'DIR' to fsync it: REASON", where REASON is strerror(errno): the form of
# every GM_ERR_IO message (lib/io). Bytes, so that a file name that is not
# UTF-8 comes back as os.fsdecode() gives it.
_OS_FAILURE = re.compile(rb"'(.*?)'(?: to '(.*)')?(?: to fsync it)?: ([^:]*)\Z", re.DOTALL)


def _os_reason(message: bytes) -> Optional[tuple[int, str, Optional[str], Optional[str]]]:
    """(errno, strerror, filename, filename2) from a GM_ERR_IO message, or
    None when it does not end with an errno's text. The library and Python
    share the C library's strerror, so the text maps back to the number;
    the table is built now, in the locale the message was made in."""
    match = _OS_FAILURE.search(message)
    if not match:
        return None
    reason = match.group(3).decode("utf-8", "replace")
    code = next((code for code in _errno.errorcode if os.strerror(code) == reason), None)
    if code is None:
        return None
    first, second = (None if name is None else os.fsdecode(name) for name in match.group(1, 2))
    return code, reason, first, second


def error_for(status: int, message: bytes) -> GenModelError:
    """The exception for a failed call: its class from the status, its text
    from message, the bytes gm_last_error() (or gm_strerror(), when the
    library left none) returned."""
    cls = _BY_STATUS.get(status, GenModelError)
    reason = _os_reason(message) if cls is FileError else None
    if reason is not None:
        kind = type(OSError(reason[0], reason[1]))  # Python's own errno -> subclass mapping
        cls = getattr(FileError, kind.__name__, FileError)
    err = cls(message.decode("utf-8", "replace"))
    err.status = status
    if isinstance(err, FileError) and reason is not None:
        err.errno, err.strerror, err.filename, err.filename2 = reason
    return err
