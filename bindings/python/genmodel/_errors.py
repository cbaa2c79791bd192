"""Exceptions: one class per gm_status, all subclasses of GenModelError.

Each carries the library's own message (gm_last_error(), read on the
calling thread right after the failing call) and the status number.
Where a standard exception fits, the class also derives from it, so
``except ValueError`` catches a refused argument and ``except OSError`` a
failed file operation.
"""


class GenModelError(Exception):
    """A libgenmodel call failed.

    Attributes:
        status: the gm_status value (an int; fixed forever by the C API).
        message: the detail from gm_last_error(), e.g.
            "gm_vae_create: input_dim and latent_dim must be >= 1 (got 784, 0)".
    """

    status = None

    @property
    def message(self):
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
    renamed; the message carries the operating system's reason."""

    status = 3


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


def error_for(status, message):
    """The exception for a failed call: its class from the status, its text
    from gm_last_error() (or gm_strerror() when the library left none)."""
    cls = _BY_STATUS.get(status, GenModelError)
    err = cls(message)
    err.status = status
    return err
