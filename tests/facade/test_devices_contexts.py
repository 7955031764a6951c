"""Devices and contexts, the way Huawei's samples and acllite use them."""

import threading

import acl
from tests.helpers import run_in_thread

ACL_SUCCESS = 0
ACL_HOST, ACL_DEVICE = 1, 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_RT_INVALID_DEVICEID = 107001
ACL_ERROR_RT_CONTEXT_NULL = 107002


def test_run_mode_works_before_init(monkeypatch):
    # acllite asks at import time, before acl.init.
    assert acl.rt.get_run_mode() == (ACL_HOST, ACL_SUCCESS)
    monkeypatch.setenv("OPENACL_RUN_MODE", "ACL_DEVICE")
    assert acl.rt.get_run_mode() == (ACL_DEVICE, ACL_SUCCESS)


def test_device_count_default_and_configured(monkeypatch):
    assert acl.rt.get_device_count() == (1, ACL_SUCCESS)
    import openacl.runtime

    openacl.runtime.reset()
    monkeypatch.setenv("OPENACL_DEVICE_COUNT", "3")
    assert acl.rt.get_device_count() == (3, ACL_SUCCESS)


def test_sample_order_of_resources():
    assert acl.init() == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS
    context, ret = acl.rt.create_context(0)
    assert ret == ACL_SUCCESS and isinstance(context, int) and context != 0
    stream, ret = acl.rt.create_stream()
    assert ret == ACL_SUCCESS and stream
    assert acl.rt.get_context() == (context, ACL_SUCCESS)
    assert acl.rt.get_device() == (0, ACL_SUCCESS)
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    assert acl.rt.destroy_context(context) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS


def test_invalid_device_ids():
    assert acl.rt.set_device(1) == ACL_ERROR_RT_INVALID_DEVICEID
    assert "device id 1 is invalid" in acl.get_recent_err_msg()
    assert acl.rt.set_device(-1) == ACL_ERROR_RT_INVALID_DEVICEID
    assert acl.rt.create_context(7) == (0, ACL_ERROR_RT_INVALID_DEVICEID)


def test_no_context_means_107002():
    assert acl.rt.get_device() == (0, ACL_ERROR_RT_CONTEXT_NULL)
    assert acl.rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)
    assert acl.rt.malloc(64, 0) == (0, ACL_ERROR_RT_CONTEXT_NULL)
    assert acl.rt.create_stream() == (0, ACL_ERROR_RT_CONTEXT_NULL)
    assert acl.rt.get_mem_info(0) == (0, 0, ACL_ERROR_RT_CONTEXT_NULL)
    assert acl.rt.synchronize_device() == ACL_ERROR_RT_CONTEXT_NULL
    assert acl.rt.synchronize_stream(0) == ACL_ERROR_RT_CONTEXT_NULL


def test_set_device_is_reference_counted():
    assert acl.rt.set_device(0) == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS
    default_context, _ = acl.rt.get_context()
    assert acl.rt.reset_device(0) == ACL_SUCCESS
    assert acl.rt.get_context() == (default_context, ACL_SUCCESS)   # one reference left
    ptr, ret = acl.rt.malloc(32, 0)
    assert ret == ACL_SUCCESS
    assert acl.rt.free(ptr) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == ACL_SUCCESS
    assert acl.rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)      # released


def test_reset_device_force_ignores_the_count():
    for _ in range(3):
        assert acl.rt.set_device(0) == ACL_SUCCESS
    assert acl.rt.reset_device_force(0) == ACL_SUCCESS
    assert acl.rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)


def test_threads_share_the_default_context_after_set_device():
    assert acl.rt.set_device(0) == ACL_SUCCESS
    main_context, _ = acl.rt.get_context()

    def worker():
        assert acl.rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)   # threads start bare
        assert acl.rt.set_device(0) == ACL_SUCCESS
        found = acl.rt.get_context()
        assert acl.rt.reset_device(0) == ACL_SUCCESS
        return found

    assert run_in_thread(worker) == (main_context, ACL_SUCCESS)
    assert acl.rt.reset_device(0) == ACL_SUCCESS


def test_context_is_current_per_thread(context):
    def worker():
        before = acl.rt.malloc(64, 0)
        assert acl.rt.set_context(context) == ACL_SUCCESS
        ptr, ret = acl.rt.malloc(64, 0)
        assert acl.rt.free(ptr) == ACL_SUCCESS
        return before, ret, acl.rt.get_context()

    before, ret, current = run_in_thread(worker)
    assert before == (0, ACL_ERROR_RT_CONTEXT_NULL)
    assert ret == ACL_SUCCESS and current == (context, ACL_SUCCESS)


def test_create_context_becomes_current_and_set_context_switches(context):
    second, ret = acl.rt.create_context(0)
    assert ret == ACL_SUCCESS and second != context
    assert acl.rt.get_context() == (second, ACL_SUCCESS)
    assert acl.rt.set_context(context) == ACL_SUCCESS
    assert acl.rt.get_context() == (context, ACL_SUCCESS)
    assert acl.rt.destroy_context(second) == ACL_SUCCESS


def test_destroyed_and_bad_context_handles(context):
    other, _ = acl.rt.create_context(0)
    assert acl.rt.destroy_context(other) == ACL_SUCCESS
    assert acl.rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)  # the current one is gone
    assert acl.rt.destroy_context(other) == ACL_ERROR_INVALID_PARAM
    assert "unknown or was destroyed" in acl.get_recent_err_msg()
    assert acl.rt.set_context(other) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.destroy_context(0) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.set_context(0) == ACL_ERROR_INVALID_PARAM
    stream, _ = acl.rt.set_context(context), None
    stream, ret = acl.rt.create_stream()
    assert acl.rt.destroy_context(stream) == ACL_ERROR_INVALID_PARAM  # a stream, not a context
    assert "is a Stream, not a context" in acl.get_recent_err_msg()
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def test_default_context_is_not_destroyed_by_destroy_context():
    assert acl.rt.set_device(0) == ACL_SUCCESS
    default_context, _ = acl.rt.get_context()
    assert acl.rt.destroy_context(default_context) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.get_context() == (default_context, ACL_SUCCESS)
    assert acl.rt.reset_device(0) == ACL_SUCCESS


def test_each_device_has_its_own_memory(monkeypatch):
    monkeypatch.setenv("OPENACL_DEVICE_COUNT", "2")
    monkeypatch.setenv("OPENACL_DEVICE_MEMORY", "64M")
    assert acl.rt.set_device(1) == ACL_SUCCESS
    ptr, _ = acl.rt.malloc(8 << 20, 0)
    free1, total1, _ = acl.rt.get_mem_info(0)
    assert acl.rt.set_device(0) == ACL_SUCCESS
    free0, total0, _ = acl.rt.get_mem_info(0)
    assert total0 == total1 == 64 << 20
    assert free0 == total0 and free1 <= total1 - (8 << 20)
    assert acl.rt.set_device(1) == ACL_SUCCESS
    assert acl.rt.free(ptr) == ACL_SUCCESS
    assert acl.rt.get_mem_info(0)[0] == total1
    assert acl.rt.reset_device(1) == ACL_SUCCESS
    assert acl.rt.reset_device(1) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == ACL_SUCCESS


def test_synchronize_device_waits_for_all_streams(context):
    streams = [acl.rt.create_stream()[0] for _ in range(3)]
    host, _ = acl.rt.malloc_host(1 << 20)
    device, _ = acl.rt.malloc(1 << 20, 0)
    for s in streams:
        assert acl.rt.memset_async(device, 1 << 20, 7, 1 << 20, s) == ACL_SUCCESS
        assert acl.rt.memcpy_async(host, 1 << 20, device, 1 << 20, 2, s) == ACL_SUCCESS
    assert acl.rt.synchronize_device() == ACL_SUCCESS
    assert all(acl.rt.stream_query(s) == (0, ACL_SUCCESS) for s in streams)
    assert acl.util.ptr_to_bytes(host, 16) == b"\x07" * 16
    for s in streams:
        assert acl.rt.destroy_stream(s) == ACL_SUCCESS
    assert acl.rt.free(device) == 0 and acl.rt.free_host(host) == 0


def test_sys_param_options(context):
    assert acl.rt.ctx_get_sys_param_opt(0) == (0, 107021)
    assert acl.rt.ctx_set_sys_param_opt(0, 1) == ACL_SUCCESS
    assert acl.rt.ctx_get_sys_param_opt(0) == (1, ACL_SUCCESS)
    assert acl.rt.ctx_set_sys_param_opt(3, 1) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.set_sys_param_opt(3, 1) == ACL_SUCCESS
    assert acl.rt.get_sys_param_opt(3) == (1, ACL_SUCCESS)


def test_many_threads_create_and_destroy_contexts():
    assert acl.init() == ACL_SUCCESS
    errors = []

    def worker():
        ctx, ret = acl.rt.create_context(0)
        ptr, ret2 = acl.rt.malloc(1024, 0)
        if ret or ret2 or acl.rt.free(ptr) or acl.rt.destroy_context(ctx):
            errors.append((ret, ret2))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert acl.finalize() == ACL_SUCCESS
