"""Device and host memory, copies and fills, written like pyACL programs."""

import ctypes
import mmap
import warnings

import numpy as np
import pytest

import acl
from openacl import FidelityWarning

ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEM_MALLOC_NORMAL_ONLY = 2
ACL_MEM_MALLOC_HUGE1G_ONLY = 6
ACL_MEMCPY_HOST_TO_HOST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
ACL_MEMCPY_DEVICE_TO_DEVICE = 3
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_RT_PARAM_INVALID = 107000
ACL_ERROR_RT_MEMORY_ALLOCATION = 207001


def test_malloc_alignment_rounding_and_padding(context):
    for size, policy in ((1, ACL_MEM_MALLOC_HUGE_FIRST), (100, ACL_MEM_MALLOC_NORMAL_ONLY),
                         (4096, 0x1000), (1000, 0x12345)):  # unknown policies act as default
        ptr, ret = acl.rt.malloc(size, policy)
        assert ret == ACL_SUCCESS and ptr % 64 == 0
        usable = -(-size // 32) * 32 + 32
        # The rounded size plus 32 bytes of padding is usable; one byte more is not.
        assert acl.rt.memset(ptr, usable, 0xAB, usable) == ACL_SUCCESS
        assert acl.rt.memset(ptr, usable + 1, 0xAB, usable + 1) == ACL_ERROR_RT_PARAM_INVALID
        assert acl.rt.free(ptr) == ACL_SUCCESS
    ptr, _ = acl.rt.malloc_align32(100, 0)
    assert acl.rt.memset(ptr, 128, 1, 128) == ACL_SUCCESS
    assert acl.rt.memset(ptr, 129, 1, 129) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.free(ptr) == ACL_SUCCESS
    ptr, _ = acl.rt.malloc(100, ACL_MEM_MALLOC_HUGE1G_ONLY)      # no padding for HUGE1G
    assert acl.rt.memset(ptr, 129, 1, 129) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.free(ptr) == ACL_SUCCESS


def test_malloc_refusals(context, monkeypatch):
    assert acl.rt.malloc(0, 0) == (0, ACL_ERROR_INVALID_PARAM)
    assert acl.rt.malloc_host(0) == (0, ACL_ERROR_INVALID_PARAM)
    free, total, ret = acl.rt.get_mem_info(0)
    assert ret == ACL_SUCCESS and free <= total
    assert acl.rt.malloc(total + 1, 0) == (0, ACL_ERROR_RT_MEMORY_ALLOCATION)
    assert "cannot allocate" in acl.get_recent_err_msg()


def test_get_mem_info_follows_allocations(context):
    free_before, total, _ = acl.rt.get_mem_info(1)        # HBM asks get DDR numbers too
    ptr, _ = acl.rt.malloc(10 << 20, 0)
    free_after, total_after, _ = acl.rt.get_mem_info(0)
    assert total_after == total and free_before - free_after >= 10 << 20
    assert acl.rt.free(ptr) == ACL_SUCCESS
    assert acl.rt.get_mem_info(0)[0] == free_before
    assert acl.rt.get_mem_info(99) == (0, 0, ACL_ERROR_INVALID_PARAM)


def test_round_trip_through_device_matches_numpy(context):
    rng = np.random.default_rng(0)
    image = rng.standard_normal((3, 224, 224)).astype(np.float32)
    size = image.nbytes
    device_in, _ = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
    device_out, _ = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
    bytes_data = image.tobytes()
    ptr = acl.util.bytes_to_ptr(bytes_data)
    assert acl.rt.memcpy(device_in, size, ptr, size, ACL_MEMCPY_HOST_TO_DEVICE) == ACL_SUCCESS
    assert acl.rt.memcpy(device_out, size, device_in, size, ACL_MEMCPY_DEVICE_TO_DEVICE) == 0
    # acllite's way: copy into a bytes object through bytes_to_ptr, then read it with numpy.
    result = np.zeros(image.shape, np.float32).tobytes()
    result_ptr = acl.util.bytes_to_ptr(result)
    assert acl.rt.memcpy(result_ptr, size, device_out, size, ACL_MEMCPY_DEVICE_TO_HOST) == 0
    np.testing.assert_array_equal(np.frombuffer(result, np.float32).reshape(image.shape), image)
    # And the sample's way: a pinned host buffer, then ptr_to_bytes.
    host, _ = acl.rt.malloc_host(size)
    assert acl.rt.memcpy(host, size, device_out, size, ACL_MEMCPY_DEVICE_TO_HOST) == 0
    copied = np.frombuffer(acl.util.ptr_to_bytes(host, size), np.float32)
    np.testing.assert_array_equal(copied, image.ravel())
    for p in (device_in, device_out):
        assert acl.rt.free(p) == ACL_SUCCESS
    assert acl.rt.free_host(host) == ACL_SUCCESS


def test_kind_is_advisory(context):
    # Samples pass "wrong" kinds (D2H with a host source...) and expect success.
    host, _ = acl.rt.malloc_host(64)
    device, _ = acl.rt.malloc(64, 0)
    data = bytes(range(64))
    assert acl.rt.memcpy(host, 64, acl.util.bytes_to_ptr(data), 64,
                         ACL_MEMCPY_DEVICE_TO_HOST) == ACL_SUCCESS
    assert acl.rt.memcpy(device, 64, host, 64, ACL_MEMCPY_DEVICE_TO_HOST) == ACL_SUCCESS
    assert acl.rt.memcpy(host, 64, host, 64, ACL_MEMCPY_HOST_TO_HOST) == ACL_SUCCESS   # dst == src
    out = bytes(64)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), 64, device, 64, 4) == ACL_SUCCESS  # DEFAULT
    assert out == data
    assert acl.rt.free(device) == 0 and acl.rt.free_host(host) == 0


def test_memcpy_argument_checks_in_acl_order(context):
    device, _ = acl.rt.malloc(64, 0)
    assert acl.rt.memcpy(0, 0, 0, 0, 99) == ACL_SUCCESS                 # count 0 first
    assert acl.rt.memcpy(0, 64, device, 64, 1) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.memcpy(device, 64, 0, 64, 1) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.memcpy(device, 64, device + 64, 8, 6) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.memcpy(device, 64, device + 64, 8, 7) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.memcpy(device, 8, device + 32, 16, 3) == ACL_ERROR_RT_PARAM_INVALID
    assert "greater than dest_max" in acl.get_recent_err_msg()
    assert acl.rt.free(device) == ACL_SUCCESS


def test_overrunning_copies_are_refused_and_touch_nothing(context):
    device, _ = acl.rt.malloc(100, 0)            # 160 usable bytes
    neighbour, _ = acl.rt.malloc(100, 0)
    assert acl.rt.memset(device, 160, 0x11, 160) == ACL_SUCCESS
    assert acl.rt.memset(neighbour, 160, 0x22, 160) == ACL_SUCCESS
    source = bytes(range(256)) * 4
    src = acl.util.bytes_to_ptr(source)
    # Destination overrun (dest_max lies): refused, neither block changes.
    assert acl.rt.memcpy(device, 1024, src, 1024, 1) == ACL_ERROR_RT_PARAM_INVALID
    assert "overrun the allocation" in acl.get_recent_err_msg()
    # An interior pointer is checked against its allocation's end, too.
    assert acl.rt.memcpy(device + 100, 100, src, 100, 1) == ACL_ERROR_RT_PARAM_INVALID
    # Device source overrun.
    out = bytes(1024)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), 1024, device, 1024, 2) == \
        ACL_ERROR_RT_PARAM_INVALID
    check = bytes(160)
    acl.rt.memcpy(acl.util.bytes_to_ptr(check), 160, device, 160, 2)
    assert check == b"\x11" * 160 and out == bytes(1024)
    acl.rt.memcpy(acl.util.bytes_to_ptr(check), 160, neighbour, 160, 2)
    assert check == b"\x22" * 160
    for p in (device, neighbour):
        assert acl.rt.free(p) == ACL_SUCCESS


def test_freed_and_unknown_device_pointers(context):
    device, _ = acl.rt.malloc(256, 0)
    assert acl.rt.free(device) == ACL_SUCCESS
    data = bytes(64)
    assert acl.rt.memcpy(device, 64, acl.util.bytes_to_ptr(data), 64, 1) == \
        ACL_ERROR_RT_PARAM_INVALID
    assert "not in any live allocation" in acl.get_recent_err_msg()
    assert acl.rt.memset(device, 64, 0, 64) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.free(device) == ACL_ERROR_RT_PARAM_INVALID                 # double free
    assert "already freed" in acl.get_recent_err_msg()
    assert acl.rt.free(0) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.free(0x1234) == ACL_ERROR_RT_PARAM_INVALID                # never allocated
    live, _ = acl.rt.malloc(256, 0)
    assert acl.rt.free(live + 64) == ACL_ERROR_RT_PARAM_INVALID             # interior pointer
    assert "not to its start" in acl.get_recent_err_msg()
    assert acl.rt.free_host(live) == ACL_ERROR_RT_PARAM_INVALID             # wrong API
    assert "acl.rt.free" in acl.get_recent_err_msg()
    host, _ = acl.rt.malloc_host(64)
    assert acl.rt.free(host) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.free_host(host) == ACL_SUCCESS
    assert acl.rt.free_host(host) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.free_host(0) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.free(live) == ACL_SUCCESS


def test_writes_past_a_bytes_object_are_refused(context):
    device, _ = acl.rt.malloc(1024, 0)
    assert acl.rt.memset(device, 1024, 0x5A, 1024) == ACL_SUCCESS
    small = bytes(16)
    after = bytes(16)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(small), 1024, device, 1024, 2) == \
        ACL_ERROR_RT_PARAM_INVALID
    assert "past the end of the host object" in acl.get_recent_err_msg()
    assert small == bytes(16) and after == bytes(16)
    array = np.zeros(8, np.float32)
    ptr = acl.util.numpy_contiguous_to_ptr(array)[0]
    assert acl.rt.memcpy(ptr, 64, device, 64, 2) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.memcpy(ptr, 32, device, 32, 2) == ACL_SUCCESS
    assert array.view(np.uint8).tolist() == [0x5A] * 32
    assert acl.rt.free(device) == ACL_SUCCESS


def test_reads_past_a_host_object_are_clamped_with_a_warning(context, monkeypatch):
    device, _ = acl.rt.malloc(64, 0)
    assert acl.rt.memset(device, 64, 0, 64) == ACL_SUCCESS
    data = np.arange(4, dtype=np.float32)          # 16 bytes; the "sample" copies 4x that
    ptr = acl.util.numpy_contiguous_to_ptr(data)[0]
    with pytest.warns(FidelityWarning, match="holds only 16 bytes"):
        assert acl.rt.memcpy(device, 64, ptr, 64, ACL_MEMCPY_HOST_TO_DEVICE) == ACL_SUCCESS
    out = bytes(64)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), 64, device, 64, 2) == ACL_SUCCESS
    assert out[:16] == data.tobytes() and out[16:] == bytes(48)   # only what the source held
    monkeypatch.setenv("OPENACL_STRICT", "1")
    assert acl.rt.memcpy(device, 64, ptr, 64, 1) == ACL_ERROR_RT_PARAM_INVALID
    assert "OPENACL_STRICT" in acl.get_recent_err_msg()
    assert acl.rt.free(device) == ACL_SUCCESS


def test_foreign_host_memory_is_accepted(context):
    buffer = ctypes.create_string_buffer(b"foreign!", 8)
    device, _ = acl.rt.malloc(8, 0)
    assert acl.rt.memcpy(device, 8, ctypes.addressof(buffer), 8, 1) == ACL_SUCCESS
    out = bytes(8)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), 8, device, 8, 2) == ACL_SUCCESS
    assert out == b"foreign!"
    assert acl.rt.free(device) == ACL_SUCCESS


def _unmapped_address(size: int) -> int:
    """An address that was this process's memory a moment ago and is not any more."""
    region = mmap.mmap(-1, size)
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))
    region.close()
    return address


def test_unmapped_host_memory_is_refused_not_a_crash(context):
    device, _ = acl.rt.malloc(4096, 0)
    gone = _unmapped_address(1 << 20)
    for dst, src, kind in ((device, gone, 1), (gone, device, 2), (gone + 64, gone, 0)):
        assert acl.rt.memcpy(dst, 4096, src, 4096, kind) == ACL_ERROR_RT_PARAM_INVALID
        assert "not mapped memory of this process" in acl.get_recent_err_msg()
    assert acl.rt.memcpy(device, 4096, 0x10, 4096, 1) == ACL_ERROR_RT_PARAM_INVALID
    assert "not a valid host address" in acl.get_recent_err_msg()
    with pytest.raises(ValueError, match="not mapped"):
        acl.util.ptr_to_bytes(gone, 16)
    # A range that starts in live memory and runs into an unmapped page is refused whole.
    page = mmap.PAGESIZE
    region = mmap.mmap(-1, 2 * page)
    start = ctypes.addressof(ctypes.c_char.from_buffer(region))
    libc = ctypes.CDLL(None)
    libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    assert libc.munmap(start + page, page) == 0
    assert acl.rt.memcpy(device, 4096, start + page - 64, 128, 1) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.memcpy(device, 4096, start + page - 64, 64, 1) == ACL_SUCCESS
    assert acl.rt.free(device) == ACL_SUCCESS


def test_read_only_host_memory_can_be_read_not_written(context):
    device, _ = acl.rt.malloc(64, 0)
    assert acl.rt.memset(device, 64, 0x11, 64) == ACL_SUCCESS
    region = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ)
    view = np.frombuffer(region, np.uint8)
    address = view.__array_interface__["data"][0]
    assert acl.rt.memcpy(address, 64, device, 64, 2) == ACL_ERROR_RT_PARAM_INVALID
    assert "not writable memory" in acl.get_recent_err_msg()
    assert acl.rt.memcpy(device, 64, address, 64, 1) == ACL_SUCCESS     # zeros read in
    out = bytes(64)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), 64, device, 64, 2) == ACL_SUCCESS
    assert out == bytes(64)
    del view
    region.close()
    assert acl.rt.free(device) == ACL_SUCCESS


def test_host_object_extents_survive_finalize_and_init():
    before = bytes(16)
    before_ptr = acl.util.bytes_to_ptr(before)
    array = np.zeros(4, np.float32)
    array_ptr = acl.util.numpy_contiguous_to_ptr(array)[0]
    for _ in range(2):                  # the extents were taken before this init
        assert acl.init() == ACL_SUCCESS
        assert acl.rt.set_device(0) == ACL_SUCCESS
        device, _ = acl.rt.malloc(1024, 0)
        assert acl.rt.memset(device, 1024, 0x5A, 1024) == ACL_SUCCESS
        # Writes past the old objects are still refused; reads past them still clamped.
        assert acl.rt.memcpy(before_ptr, 1024, device, 1024, 2) == ACL_ERROR_RT_PARAM_INVALID
        assert "past the end of the host object" in acl.get_recent_err_msg()
        assert before == bytes(16)
        with pytest.warns(FidelityWarning, match="holds only 16 bytes"):
            assert acl.rt.memcpy(device, 64, array_ptr, 64, 1) == ACL_SUCCESS
        assert acl.rt.memcpy(before_ptr, 16, device, 16, 2) == ACL_SUCCESS
        assert before == bytes(16)      # the clamped read moved the array's 16 zero bytes
        assert acl.rt.free(device) == ACL_SUCCESS
        assert acl.rt.reset_device(0) == ACL_SUCCESS
        assert acl.finalize() == ACL_SUCCESS


def test_memset_fills_the_low_byte_and_checks(context):
    device, _ = acl.rt.malloc(64, 0)
    assert acl.rt.memset(device, 64, 0x1FF, 64) == ACL_SUCCESS
    out = bytes(64)
    acl.rt.memcpy(acl.util.bytes_to_ptr(out), 64, device, 64, 2)
    assert out == b"\xff" * 64
    assert acl.rt.memset(device, 64, 0, 0) == ACL_SUCCESS
    assert acl.rt.memset(0, 64, 0, 64) == ACL_ERROR_INVALID_PARAM
    assert acl.rt.memset(device, 8, 0, 64) == ACL_ERROR_RT_PARAM_INVALID
    # Samples also memset pinned host memory.
    host, _ = acl.rt.malloc_host(64)
    assert acl.rt.memset(host, 64, 3, 64) == ACL_SUCCESS
    assert acl.util.ptr_to_bytes(host, 4) == b"\x03" * 4
    assert acl.rt.free(device) == 0 and acl.rt.free_host(host) == 0


def test_device_run_mode_host_memory_is_device_memory(context, monkeypatch):
    monkeypatch.setenv("OPENACL_RUN_MODE", "ACL_DEVICE")
    free_before = acl.rt.get_mem_info(0)[0]
    host, ret = acl.rt.malloc_host(1 << 20)
    assert ret == ACL_SUCCESS
    assert acl.rt.get_mem_info(0)[0] <= free_before - (1 << 20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no fidelity warning: host == device here
        device, _ = acl.rt.malloc(16, 0)
        acl.rt.memset(device, 16, 9, 16)
        assert acl.util.ptr_to_bytes(device, 2) == b"\x09\x09"
    assert acl.rt.free_host(host) == 0 and acl.rt.free(device) == 0


def test_reading_device_memory_from_the_host_is_reported(context, monkeypatch):
    device, _ = acl.rt.malloc(16, 0)
    acl.rt.memset(device, 16, 1, 16)
    with pytest.warns(FidelityWarning, match="acl.util.ptr_to_bytes touches device memory"):
        assert acl.util.ptr_to_bytes(device, 4) == b"\x01" * 4
    monkeypatch.setenv("OPENACL_STRICT", "1")
    with pytest.raises(ValueError, match="not host-addressable"):
        acl.util.ptr_to_bytes(device, 4)
    with pytest.raises(ValueError, match="not host-addressable"):
        acl.util.ptr_to_numpy(device, (4,), 2)
    assert acl.rt.free(device) == ACL_SUCCESS


def test_mem_flush_and_invalidate_check_the_range(context):
    device, _ = acl.rt.malloc(64, 0)
    assert acl.rt.mem_flush(device, 64) == ACL_SUCCESS
    assert acl.rt.mem_invalidate(device, 96) == ACL_SUCCESS
    assert acl.rt.mem_flush(device, 4096) == ACL_ERROR_RT_PARAM_INVALID
    assert acl.rt.free(device) == ACL_SUCCESS


def test_finalize_reports_and_releases_leaks():
    import openacl.runtime

    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    acl.rt.malloc(1000, 0)
    acl.rt.create_stream()
    with pytest.warns(openacl.runtime.LeakWarning, match=r"1 device allocation of 1000 bytes"):
        assert acl.finalize() == ACL_SUCCESS
    assert acl.rt.get_context() == (0, 107002)


def test_device_pointers_from_before_finalize_stay_refused():
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    stale, _ = acl.rt.malloc(64, 0)
    assert acl.rt.free(stale) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == 0 and acl.finalize() == 0
    # No device is built yet after finalize; the address is still known as device memory.
    with pytest.raises(ValueError, match="not in any live allocation"):
        acl.util.ptr_to_bytes(stale, 8)
    assert acl.init() == 0
    desc = acl.create_tensor_desc(0, [2], 2)
    assert acl.set_tensor_const(desc, stale, 8) == ACL_ERROR_RT_PARAM_INVALID
    acl.destroy_tensor_desc(desc)
    assert acl.finalize() == 0
