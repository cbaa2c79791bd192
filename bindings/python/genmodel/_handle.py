"""Ownership of a C object: freed exactly once, by close(), by leaving a
``with`` block, or by the garbage collector, whichever comes first."""


class Handle:
    """Base of the classes that own a C handle (VAE, GAN, Dataset).

    One handle is used by one thread at a time (the C library's rule);
    different handles may be used from different threads at once.
    """

    _ptr = None  # a half-constructed object has nothing to free

    def _own(self, ptr, free):
        """Take ownership of ptr (a c_void_p), released later by free(ptr)."""
        # free is kept on the instance so that __del__ needs no module
        # global, which may already be gone at interpreter shutdown.
        self._free = free
        self._ptr = ptr

    @property
    def _h(self):
        """The C handle, for passing to a call; ValueError once closed."""
        if self._ptr is None:
            raise ValueError(f"this {type(self).__name__} is closed")
        return self._ptr

    @property
    def closed(self):
        """True once close() has released the C object."""
        return self._ptr is None

    def close(self):
        """Release the C object now. Further calls on it raise ValueError;
        closing again does nothing."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            self._free(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        self.close()
