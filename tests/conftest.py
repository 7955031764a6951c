"""Shared fixtures: every test starts from a clean runtime and must release what it takes."""


import pytest

import acl
import openacl.runtime

ACL_SUCCESS = 0
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEM_MALLOC_NORMAL_ONLY = 2
ACL_MEMCPY_HOST_TO_HOST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
ACL_MEMCPY_DEVICE_TO_DEVICE = 3

_ENV = ("OPENACL_STRICT", "OPENACL_RUN_MODE", "OPENACL_DEVICE_COUNT", "OPENACL_DEVICE_MEMORY",
        "OPENACL_SOC_NAME", "OPENACL_PRECISION")


@pytest.fixture(autouse=True)
def clean_runtime(monkeypatch):
    """Start each test with no runtime state; fail it if it leaked runtime resources."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    # atc-built models default to half precision (ATC's force_fp16); the suite compares
    # them with ONNX Runtime exactly. tests/precision tests the default explicitly.
    monkeypatch.setenv("OPENACL_PRECISION", "exact")
    openacl.runtime.reset()
    _forget_error_messages()
    yield
    leaks = openacl.runtime.reset()
    assert not leaks, f"the test leaked: {leaks}"


@pytest.fixture
def context():
    """acl.init + set_device(0) + create_context(0), released in sample order afterwards."""
    assert acl.init() == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS
    ctx, ret = acl.rt.create_context(0)
    assert ret == ACL_SUCCESS and ctx
    yield ctx
    assert acl.rt.destroy_context(ctx) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS


def _forget_error_messages() -> None:
    """A fresh process has no unread acl.get_recent_err_msg messages: a test that failed
    before reading its own must not leave them to the next one."""
    from openacl.acl.build import take_recent_error

    take_recent_error(process_wide=True)
    take_recent_error()
