"""Streams as ordered task queues, with memcpy_async and memset_async as their tasks."""

import numpy as np

import acl
from tests.helpers import run_in_thread

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_RT_PARAM_INVALID = 107000
ACL_ERROR_RT_CONTEXT_NULL = 107002
ACL_ERROR_RT_STREAM_CONTEXT = 107003
ACL_ERROR_RT_NO_STREAM_RESOURCE = 207008
ACL_ERROR_RT_FEATURE_NOT_SUPPORT = 207000
ACL_STREAM_STATUS_COMPLETE = 0


def test_queued_tasks_run_in_order(context):
    stream, ret = acl.rt.create_stream()
    assert ret == ACL_SUCCESS
    size = 8 << 20
    host_in, _ = acl.rt.malloc_host(size)
    host_out, _ = acl.rt.malloc_host(size)
    device, _ = acl.rt.malloc(size, 0)
    pattern = np.random.default_rng(1).integers(0, 255, size, dtype=np.uint8)
    acl.util.ptr_to_numpy(host_in, (size,), 2)[:] = pattern
    for round_ in range(5):
        # fill, overwrite with the pattern, copy back: only FIFO order gives the pattern.
        assert acl.rt.memset_async(device, size, round_, size, stream) == ACL_SUCCESS
        assert acl.rt.memcpy_async(device, size, host_in, size, 1, stream) == ACL_SUCCESS
        assert acl.rt.memcpy_async(host_out, size, device, size, 2, stream) == ACL_SUCCESS
        assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
        assert acl.rt.stream_query(stream) == (ACL_STREAM_STATUS_COMPLETE, ACL_SUCCESS)
        np.testing.assert_array_equal(acl.util.ptr_to_numpy(host_out, (size,), 2), pattern)
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    for p in (host_in, host_out):
        assert acl.rt.free_host(p) == ACL_SUCCESS
    assert acl.rt.free(device) == ACL_SUCCESS


def test_default_stream_is_handle_zero(context):
    device, _ = acl.rt.malloc(64, 0)
    host, _ = acl.rt.malloc_host(64)
    assert acl.rt.memset_async(device, 64, 0x42, 64, 0) == ACL_SUCCESS
    assert acl.rt.memcpy_async(host, 64, device, 64, 2, 0) == ACL_SUCCESS
    assert acl.rt.synchronize_stream(0) == ACL_SUCCESS
    assert acl.util.ptr_to_bytes(host, 64) == b"\x42" * 64
    default_stream, ret = acl.rt.ctx_get_current_default_stream()
    assert ret == ACL_SUCCESS and default_stream
    assert acl.rt.synchronize_stream(default_stream) == ACL_SUCCESS
    assert acl.rt.destroy_stream(default_stream) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.free(device) == 0 and acl.rt.free_host(host) == 0


def test_pageable_host_memory_is_copied_before_the_call_returns(context):
    stream, _ = acl.rt.create_stream()
    device, _ = acl.rt.malloc(1 << 20, 0)
    assert acl.rt.memset_async(device, 1 << 20, 7, 1 << 20, stream) == ACL_SUCCESS
    out = bytes(1 << 20)
    assert acl.rt.memcpy_async(acl.util.bytes_to_ptr(out), 1 << 20, device, 1 << 20, 2,
                               stream) == ACL_SUCCESS
    assert out == b"\x07" * (1 << 20)      # pageable: done (after the memset) on return
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    assert acl.rt.free(device) == ACL_SUCCESS


def test_async_argument_checks(context):
    stream, _ = acl.rt.create_stream()
    host, _ = acl.rt.malloc_host(64)
    device, _ = acl.rt.malloc(64, 0)
    assert acl.rt.memcpy_async(host, 64, host + 32, 16, 0, stream) == \
        ACL_ERROR_RT_FEATURE_NOT_SUPPORT                                  # H2H async, host mode
    assert acl.rt.memcpy_async(device, 64, host, 64, 9, stream) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.memcpy_async(device, 32, host, 64, 1, stream) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.memcpy_async(device, 4096, host, 4096, 1, stream) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.memset_async(device, 4096, 0, 4096, stream) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.memcpy_async(0, 0, 0, 0, 1, stream) == ACL_SUCCESS     # count 0: nothing
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    assert acl.rt.free(device) == 0 and acl.rt.free_host(host) == 0


def test_bad_stream_handles(context):
    stream, _ = acl.rt.create_stream()
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    assert acl.rt.destroy_stream(stream) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.synchronize_stream(stream) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.stream_query(stream) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.rt.destroy_stream(0) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.synchronize_stream(context) == ACL_ERROR_INVALID_PARAM   # a context handle


def test_stream_of_another_context(context):
    stream, _ = acl.rt.create_stream()
    other, _ = acl.rt.create_context(0)                  # now current
    assert acl.rt.synchronize_stream(stream) == ACL_ERROR_RT_STREAM_CONTEXT
    assert acl.rt.set_context(context) == ACL_SUCCESS
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert acl.rt.destroy_context(other) == ACL_SUCCESS
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def test_worker_thread_uses_the_stream_after_set_context(context):
    stream, _ = acl.rt.create_stream()

    def worker():
        first = acl.rt.synchronize_stream(stream)
        acl.rt.set_context(context)
        return first, acl.rt.synchronize_stream(stream)

    assert run_in_thread(worker) == (ACL_ERROR_RT_CONTEXT_NULL, ACL_SUCCESS)
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def test_timeouts(context):
    stream, _ = acl.rt.create_stream()
    assert acl.rt.synchronize_stream_with_timeout(stream, -1) == ACL_SUCCESS
    assert acl.rt.synchronize_stream_with_timeout(stream, 100) == ACL_SUCCESS
    assert acl.rt.synchronize_stream_with_timeout(stream, 0) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.synchronize_stream_with_timeout(stream, -2) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.synchronize_device_with_timeout(50) == ACL_SUCCESS
    assert acl.rt.synchronize_device_with_timeout(0) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def test_stream_with_config_ids_and_limits(context):
    stream, ret = acl.rt.create_stream_with_config(0, 0x1 | 0x2)
    assert ret == ACL_SUCCESS
    assert acl.rt.create_stream_with_config(0, 0x100) == (0, ACL_ERROR_INVALID_PARAM)
    other, _ = acl.rt.create_stream()
    id1, _ = acl.rt.stream_get_id(stream)
    id2, _ = acl.rt.stream_get_id(other)
    assert id1 != id2
    available, ret = acl.rt.get_stream_available_num()
    assert ret == ACL_SUCCESS and available == 1024 - 4   # 2 default streams + 2 created
    assert acl.rt.set_stream_failure_mode(stream, 1) == ACL_SUCCESS
    assert acl.rt.set_stream_failure_mode(stream, 2) == ACL_ERROR_INVALID_PARAM
    for s in (stream, other):
        assert acl.rt.destroy_stream(s) == ACL_SUCCESS


def test_stream_exhaustion(context):
    streams = []
    while True:
        stream, ret = acl.rt.create_stream()
        if ret:
            break
        streams.append(stream)
    assert ret == ACL_ERROR_RT_NO_STREAM_RESOURCE and stream == 0
    assert len(streams) == 1024 - 2
    for s in streams:
        assert acl.rt.destroy_stream(s) == ACL_SUCCESS
    stream, ret = acl.rt.create_stream()            # usable again
    assert ret == ACL_SUCCESS and acl.rt.destroy_stream(stream) == ACL_SUCCESS


def test_destroy_stream_drains_and_reset_device_releases_streams():
    assert acl.rt.set_device(0) == ACL_SUCCESS
    stream, _ = acl.rt.create_stream()
    device, _ = acl.rt.malloc(32 << 20, 0)
    host, _ = acl.rt.malloc_host(32 << 20)
    for value in range(4):
        acl.rt.memset_async(device, 32 << 20, value, 32 << 20, stream)
    acl.rt.memcpy_async(host, 32 << 20, device, 32 << 20, 2, stream)
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS       # waited for its tasks
    assert acl.util.ptr_to_bytes(host, 4) == b"\x03" * 4
    kept, _ = acl.rt.create_stream()
    acl.rt.memset_async(device, 32 << 20, 9, 32 << 20, kept)
    acl.rt.memcpy_async(host, 32 << 20, device, 32 << 20, 2, kept)
    assert acl.rt.free(device) == ACL_SUCCESS                # freed while queued work waits
    assert acl.rt.reset_device(0) == ACL_SUCCESS             # drains, releases `kept`
    assert acl.rt.set_device(0) == ACL_SUCCESS
    assert acl.rt.synchronize_stream(kept) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.free_host(host) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == ACL_SUCCESS
