"""pyACL ``acl.util`` calls: addresses of host objects, objects over addresses, threads."""

from __future__ import annotations

from openacl.acl.build import implements
from openacl.runtime import pointers, threads


@implements("util.bytes_to_ptr")
def bytes_to_ptr(data):
    """Return the address of a ``bytes`` object's buffer (no copy; writes land in place)."""
    return pointers.bytes_address(data)


@implements("util.ptr_to_bytes")
def ptr_to_bytes(ptr, size):
    """Copy ``size`` bytes at ``ptr`` into a new ``bytes`` object."""
    return pointers.read_bytes(ptr, size)


@implements("util.numpy_to_ptr")
def numpy_to_ptr(array):
    """Return the address of an array's data (deprecated in pyACL: use bytes_to_ptr)."""
    return pointers.array_address(array)


@implements("util.numpy_contiguous_to_ptr")
def numpy_contiguous_to_ptr(array):
    """Return (address, C-contiguous array); keep the array alive while using the address."""
    return pointers.contiguous_array_address(array)


@implements("util.ptr_to_numpy")
def ptr_to_numpy(ptr, shape, npy_type):
    """Wrap memory as a writeable array of NumPy type number ``npy_type``, without copy."""
    return pointers.wrap_as_array(ptr, shape, npy_type)


@implements("util.start_thread")
def start_thread(fn, args):
    """Start a thread running ``fn(args)``; return (thread_id, 0)."""
    return threads.start_thread(fn, args)


@implements("util.stop_thread")
def stop_thread(thread_id):
    """Join the thread; re-raise as RuntimeError what its function raised."""
    return threads.stop_thread(thread_id)
