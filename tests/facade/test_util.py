"""acl.util: pointers to host objects, arrays over pointers, native threads."""

import threading

import numpy as np
import pytest

import acl

ACL_SUCCESS = 0
ACL_ERROR_RT_CONTEXT_NULL = 107002
NPY_FLOAT32 = 11
NPY_FLOAT16 = 23
NPY_INT32 = 5


def test_bytes_to_ptr_is_the_buffer_itself():
    data = b"\x01\x02\x03\x04"
    ptr = acl.util.bytes_to_ptr(data)
    assert acl.util.ptr_to_bytes(ptr, 4) == data
    for wrong in (bytearray(4), memoryview(b"abc"), np.zeros(4), "text", None):
        with pytest.raises(ValueError, match="needs an byte as argument"):
            acl.util.bytes_to_ptr(wrong)


def test_numpy_pointers_and_views(recwarn):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    ptr = acl.util.numpy_to_ptr(array)
    assert ptr == array.ctypes.data
    view = acl.util.ptr_to_numpy(ptr, (3, 4), NPY_FLOAT32)
    np.testing.assert_array_equal(view, array)
    view[0, 0] = 42                      # no copy: writes reach the array
    assert array[0, 0] == 42
    assert any(issubclass(w.category, DeprecationWarning) for w in recwarn)
    with pytest.raises(ValueError):
        acl.util.numpy_to_ptr([1, 2, 3])
    with pytest.raises(ValueError, match="tuple"):
        acl.util.ptr_to_numpy(ptr, [3, 4], NPY_FLOAT32)
    with pytest.raises(ValueError, match="not a NumPy type number"):
        acl.util.ptr_to_numpy(ptr, (3,), 99)
    half = acl.util.ptr_to_numpy(acl.util.numpy_to_ptr(np.ones(2, np.float16)), (2,), NPY_FLOAT16)
    assert half.dtype == np.float16


def test_numpy_contiguous_to_ptr_copies_only_when_needed():
    array = np.arange(20, dtype=np.int32).reshape(4, 5)[:, ::2]
    ptr, contiguous = acl.util.numpy_contiguous_to_ptr(array)
    assert contiguous.flags.c_contiguous and ptr == contiguous.ctypes.data
    np.testing.assert_array_equal(acl.util.ptr_to_numpy(ptr, contiguous.shape, NPY_INT32), array)
    already = np.zeros(4, np.int32)
    assert acl.util.numpy_contiguous_to_ptr(already)[1] is already


def test_ptr_to_numpy_refuses_to_view_past_a_host_object():
    data = bytes(16)
    ptr = acl.util.bytes_to_ptr(data)
    assert acl.util.ptr_to_numpy(ptr, (4,), NPY_FLOAT32).shape == (4,)
    with pytest.raises(ValueError, match="past the end"):
        acl.util.ptr_to_numpy(ptr, (8,), NPY_FLOAT32)


def test_start_thread_runs_a_native_thread_that_has_no_context(context):
    seen = {}

    def worker(args):
        seen["args"] = args
        seen["ident"] = threading.get_ident()
        seen["before"] = acl.rt.get_context()
        acl.rt.set_context(args[0])
        seen["after"] = acl.rt.get_context()

    thread_id, ret = acl.util.start_thread(worker, [context, 50])
    assert ret == 0 and isinstance(thread_id, int) and thread_id
    assert acl.util.stop_thread(thread_id) == 0
    assert seen["args"] == [context, 50]
    assert seen["ident"] == thread_id                  # the id subscribe_report takes
    assert seen["before"] == (0, ACL_ERROR_RT_CONTEXT_NULL)
    assert seen["after"] == (context, ACL_SUCCESS)


def test_start_thread_without_args_and_with_failure(capsys):
    calls = []
    thread_id, _ = acl.util.start_thread(lambda: calls.append(1), None)
    assert acl.util.stop_thread(thread_id) == 0 and calls == [1]

    def broken(_):
        raise KeyError("boom")

    thread_id, _ = acl.util.start_thread(broken, 1)
    with pytest.raises(RuntimeError, match="boom"):
        acl.util.stop_thread(thread_id)
    assert acl.util.stop_thread(thread_id) != 0          # already joined: no such thread
    with pytest.raises(TypeError):
        acl.util.start_thread(42, None)
