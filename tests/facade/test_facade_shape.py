"""The facade's shape: every pyACL call exists, pyACL's argument rules, unsupported calls."""

import subprocess
import sys

import pytest

import acl
from openacl.acl.build import CALLS

ACL_ERROR_API_NOT_SUPPORT = 200001


def test_every_table_call_exists_in_its_module():
    import acl.media
    import acl.mdl
    import acl.rt
    import acl.prof
    import acl.util

    modules = {"acl": acl, "rt": acl.rt, "mdl": acl.mdl, "util": acl.util, "media": acl.media,
               "prof": acl.prof}
    assert len(CALLS) == 322 + 177 + 36              # + acl.prof
    for call in CALLS:
        assert callable(getattr(modules[call.module], call.name)), call.qualname
    assert "bytes_to_ptr" in dir(acl.util)           # samples feature-test this way
    assert "get_run_mode" in dir(acl.rt) and "execute" in dir(acl.mdl)


def test_submodules_are_real_modules():
    code = ("import acl.rt, acl.mdl, acl.util, acl.media, sys; "
            "print(sys.modules['acl.rt'] is acl.rt, type(acl.util).__name__, "
            "sys.modules['acl.media'] is acl.media)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "module", "True"]


def test_keyword_arguments_are_refused():
    with pytest.raises(TypeError):
        acl.rt.malloc(size=64, policy=0)
    with pytest.raises(TypeError):
        acl.rt.set_device(device_id=0)


@pytest.mark.parametrize("bad", [1.0, None, "0", b"0", [0]])
def test_wrongly_typed_integer_arguments(bad):
    with pytest.raises(TypeError, match="args parse failed"):
        acl.rt.set_device(bad)
    with pytest.raises(TypeError, match="args parse failed"):
        acl.rt.malloc(bad, 0)


def test_signed_and_unsigned_conversions(context):
    # "i" is range-checked; pyACL's CHECK_NULL turns CPython's OverflowError into TypeError.
    with pytest.raises(TypeError, match="args parse failed"):
        acl.rt.set_device(2 ** 31)
    # "k"/"K" are masked: -1 becomes 2**64 - 1, an impossible size.
    assert acl.rt.malloc(-1, 0) == (0, 207001)
    import numpy as np

    ptr, ret = acl.rt.malloc(64, np.int32(0))      # "i" takes __index__ objects
    assert ret == 0 and acl.rt.free(ptr) == 0
    with pytest.raises(TypeError, match="args parse failed"):
        acl.rt.malloc(np.int64(64), 0)             # "k" demands a real int (PyLong_Check)
    assert acl.rt.free(True) == 107000              # bool is an int, as in C


def test_handles_are_ints_and_failures_give_zero_not_none(context):
    stream, ret = acl.rt.create_stream()
    assert type(stream) is int and type(context) is int
    assert acl.rt.destroy_stream(stream) == 0
    assert acl.rt.malloc(0, 0) == (0, 100000)


def test_unsupported_calls_return_the_documented_failure():
    assert acl.get_cann_version(0) == ({}, ACL_ERROR_API_NOT_SUPPORT)
    message = acl.get_recent_err_msg()
    assert "openacl does not support acl.get_cann_version yet" in message


def test_coverage_command_reports_every_module():
    out = subprocess.run([sys.executable, "-m", "openacl.coverage"], capture_output=True,
                         text=True, check=True).stdout
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}
    assert set(lines) == {"acl", "acl.rt", "acl.mdl", "acl.util", "acl.media", "acl.prof",
                          "total"}
    assert lines["acl.util"] == "7/7" and lines["total"].endswith(f"/{len(CALLS)}")


def test_constants_are_exported_by_name_for_new_code():
    import openacl

    assert openacl.ACL_SUCCESS == 0
    assert openacl.ACL_ERROR_REPEAT_INITIALIZE == 100002
    assert openacl.ACL_MEMCPY_DEVICE_TO_HOST == 2
    assert openacl.ACL_ERROR_RT_CONTEXT_NULL == 107002
    assert openacl.ACL_FLOAT16 == 1 and openacl.ACL_FORMAT_NCHW == 0
    assert openacl.MemcpyKind.ACL_MEMCPY_HOST_TO_DEVICE == 1
    assert not any(name.startswith("ACL_") for name in dir(acl))   # pyACL exports none
