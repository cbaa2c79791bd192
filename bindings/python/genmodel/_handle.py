"""Ownership of a C object, and the lock that makes sharing it between
Python threads safe.

A model's calls all write its workspace (a training step its weights too),
so the C library allows one call on a handle at a time; two threads calling
at once would corrupt it and crash the interpreter. Each object therefore
holds a lock: a call waits for the one in flight, so sharing a model
between threads is slower, never unsafe. A dataset is only read, so its
calls run at once. close() waits for the calls in flight, then frees the
handle exactly once; the garbage collector frees it too if close() never
ran.
"""
from __future__ import annotations

import threading
from ctypes import c_void_p
from typing import Callable, Optional, TypeVar

H = TypeVar("H", bound="Handle")


class _Owner:
    """The C handle of one object and its lock, for one call at a time.

    ``with owner as h:`` holds the lock for the call and gives the handle
    (ValueError once closed). The owner holds no reference back to its
    object, so dropping the object still frees the handle at once.
    """

    __slots__ = ("ptr", "_free", "_name", "_lock")

    def __init__(self, ptr: Optional[c_void_p], free: Callable[[c_void_p], None], name: str) -> None:
        # free is kept here so that freeing needs no module global, which
        # may already be gone at interpreter shutdown.
        self.ptr, self._free, self._name = ptr, free, name
        self._lock = threading.Lock()

    def _closed(self) -> ValueError:
        return ValueError(f"this {self._name} is closed")

    def __enter__(self) -> c_void_p:
        self._lock.acquire()
        if self.ptr is None:
            self._lock.release()
            raise self._closed()
        return self.ptr

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()

    def close(self) -> None:
        """Wait for the call in flight, then free the handle (once)."""
        with self._lock:
            ptr, self.ptr = self.ptr, None
        if ptr is not None:
            self._free(ptr)

    def discard(self) -> None:
        """Free the handle without the lock: only for __del__, which runs
        when no thread can be in a call (a call's frame holds the object)."""
        ptr, self.ptr = self.ptr, None
        if ptr is not None:
            self._free(ptr)


class _SharedOwner(_Owner):
    """The same for a handle whose calls may run at once (the library only
    reads it): the lock is held only to count the calls in flight, and
    close() waits until there are none."""

    __slots__ = ("_idle", "_calls")

    def __init__(self, ptr: Optional[c_void_p], free: Callable[[c_void_p], None], name: str) -> None:
        super().__init__(ptr, free, name)
        self._idle = threading.Condition(self._lock)
        self._calls = 0

    def __enter__(self) -> c_void_p:
        with self._lock:
            if self.ptr is None:
                raise self._closed()
            self._calls += 1
            return self.ptr

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._calls -= 1
            if not self._calls:
                self._idle.notify_all()

    def close(self) -> None:
        with self._lock:
            self._idle.wait_for(lambda: not self._calls)
            ptr, self.ptr = self.ptr, None
        if ptr is not None:
            self._free(ptr)


class Handle:
    """Base of the classes that own a C handle (VAE, GAN, Dataset).

    Any number of threads may share one object: its calls take turns (see
    the module's docstring). Different objects never wait for each other.
    """

    _owner: Optional[_Owner] = None  # a half-constructed object has nothing to free
    _concurrent_calls = False  # True where the library allows calls at once

    def _own(self, ptr: c_void_p, free: Callable[[c_void_p], None]) -> None:
        """Take ownership of ptr (a c_void_p), released later by free(ptr)."""
        owner = _SharedOwner if self._concurrent_calls else _Owner
        self._owner = owner(ptr, free, type(self).__name__)

    def _use(self) -> _Owner:
        """``with self._use() as h:`` around every C call that takes the
        handle: h is the handle, and no other thread uses it (nor frees it)
        meanwhile. ValueError once closed."""
        if self._owner is None:
            raise ValueError(f"this {type(self).__name__} is closed")
        return self._owner

    @property
    def closed(self) -> bool:
        """True once close() has released the C object."""
        return self._owner is None or self._owner.ptr is None

    def close(self) -> None:
        """Release the C object now, once the calls other threads have in
        flight on it return. Further calls raise ValueError; closing again
        does nothing."""
        if self._owner is not None:
            self._owner.close()

    def __enter__(self: H) -> H:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if self._owner is not None:
            self._owner.discard()
