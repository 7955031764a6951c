"""Every ACL error code openacl can return, provoked by a pyACL program and explained.

The codes are found statically: every ``raise`` of an ``AclError`` class and every
``ErrorCode.ACL_...`` constant in openacl's source (``openacl/atc`` excluded: atc has its
own E-code catalogue). Each code has at least one scenario below: a small pyACL program
that makes a call fail with that code, and the words its message must hold, the way
``acl.get_recent_err_msg()`` gives it: the call (``acl.x.y failed, error code N:``), the
offending argument or value, the rule broken and, where it helps, the fix. A new code
without a scenario fails ``test_every_code_openacl_can_return_has_a_scenario``.
"""

from __future__ import annotations

import ast
import json
import pathlib
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
from onnx import TensorProto, helper

import acl
import openacl
from openacl.constants import ErrorCode
from openacl.model.om import write_om
from tests.helpers import run_in_thread
from tests.model import gear_models
from tests.model.test_aipp import PER_IMAGE, _set_dynamic, dynamic_program
from tests.model.test_execute import Model

ACL_SUCCESS = 0
ACL_MEMCPY_HOST_TO_HOST, ACL_MEMCPY_HOST_TO_DEVICE = 0, 1
ACL_CALLBACK_BLOCK = 1
ACL_FLOAT, ACL_FORMAT_ND = 0, 2
DYNAMIC_NAME = "ascend_mbatch_shape_data"


# ---------------------------------------------------------------- the codes, from the source
_PACKAGE = pathlib.Path(openacl.__file__).parent
_OWN_CATALOGUE = ("atc",)            # subpackages with their own error catalogue


def _modules():
    for path in sorted(_PACKAGE.rglob("*.py")):
        if path.relative_to(_PACKAGE).parts[0] in _OWN_CATALOGUE:
            continue
        yield path.relative_to(_PACKAGE.parent), ast.parse(path.read_text("utf-8"), str(path))


def _error_classes(modules) -> dict[str, int]:
    """Every ``AclError`` class defined in openacl (any module), with its code."""
    definitions = {node.name: node for _, tree in modules for node in ast.walk(tree)
                   if isinstance(node, ast.ClassDef)}
    codes = {"AclError": int(ErrorCode.ACL_ERROR_FAILURE)}
    while True:
        added = False
        for name, node in definitions.items():
            base = next((b.id for b in node.bases
                         if isinstance(b, ast.Name) and b.id in codes), None)
            if name in codes or base is None:
                continue
            codes[name] = codes[base]
            for statement in node.body:
                if (isinstance(statement, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == "code" for t in statement.targets)):
                    codes[name] = _constant(statement.value, {"E", "ErrorCode"}) or codes[name]
            added = True
        if not added:
            return codes


def _constant(node, code_names) -> int | None:
    """The value of ``ErrorCode.ACL_X`` (under any name the module gave ErrorCode)."""
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id in code_names and node.attr.startswith("ACL_")):
        return int(ErrorCode[node.attr])
    return None


def _aliases(tree, wanted: set[str]) -> dict[str, str]:
    """Local name -> openacl name, for ``from ... import X as Y`` of the wanted names."""
    names = {name: name for name in wanted}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in wanted:
                    names[alias.asname or alias.name] = alias.name
    return names


def _explicit_code(call: ast.Call):
    """The ``code`` argument of ``SomeError(message, code)``, if given."""
    return (call.args[1:2] or [k.value for k in call.keywords if k.arg == "code"] or [None])[0]


def codes_openacl_can_return() -> dict[int, list[str]]:
    """Each ACL code openacl's source can return, with where (``path:line``) it comes from.

    Counted: a call of an ``AclError`` class without an explicit code (its class code); an
    ``AclError`` subclass passed around as a value (``report_fidelity(..., ModelExecuteFailed)``,
    a default argument); every ``ErrorCode.ACL_...`` constant outside an error class's own
    ``code =`` line (an explicit code, a code compared or passed on). ``ACL_SUCCESS`` is not
    an error.
    """
    modules = list(_modules())
    classes = _error_classes(modules)
    found: dict[int, list[str]] = {}

    def note(code, path, node):
        if code:
            found.setdefault(int(code), []).append(f"{path}:{node.lineno}")

    for path, tree in modules:
        code_names = set(_aliases(tree, {"ErrorCode"})) | {"E"}
        class_names = _aliases(tree, set(classes))
        skipped: set[int] = set()            # nodes that name a class without returning it
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in classes:
                skipped.update(id(n) for statement in node.body for n in ast.walk(statement))
                skipped.update(id(n) for base in node.bases for n in ast.walk(base))
            elif isinstance(node, ast.ExceptHandler) and node.type is not None:
                skipped.update(id(n) for n in ast.walk(node.type))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("isinstance", "issubclass")):
                skipped.update(id(n) for argument in node.args[1:] for n in ast.walk(argument))
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else (
                    func.attr if isinstance(func, ast.Attribute) else None)
                if name in class_names:
                    skipped.add(id(func))
                    if _explicit_code(node) is None:
                        note(classes[class_names[name]], path, node)
            elif (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                  and node.id in class_names and class_names[node.id] != "AclError"):
                note(classes[class_names[node.id]], path, node)
            else:
                note(_constant(node, code_names), path, node)
    return found


# ---------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class Scenario:
    name: str
    code: int
    call: str                            # "acl.rt.malloc": the call that fails
    words: tuple[str, ...]               # what its message must say besides the prefix
    program: Callable = field(compare=False)


SCENARIOS: list[Scenario] = []


def scenario(code: int, call: str, *words: str):
    """Register a program provoking ``code`` from ``call``.

    The program takes ``(tmp_path, monkeypatch)``, releases what it creates, and returns the
    failing call's code, or ``(code, more_words)`` when the message must name values only
    known at run time (an address, a handle, a thread id).
    """
    def register(program):
        SCENARIOS.append(Scenario(program.__name__, int(code), call, words, program))
        return program

    return register


@contextmanager
def session():
    """acl.init, set_device(0), create_context(0); released in sample order afterwards."""
    assert acl.init() == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS
    context, ret = acl.rt.create_context(0)
    assert ret == ACL_SUCCESS
    try:
        yield context
    finally:
        assert acl.rt.destroy_context(context) == ACL_SUCCESS
        assert acl.rt.reset_device(0) == ACL_SUCCESS
        assert acl.finalize() == ACL_SUCCESS


def _config(tmp_path, text: str) -> str:
    path = tmp_path / "acl.json"
    path.write_text(text)
    return str(path)


def _relu_om(tmp_path, record=None) -> str:
    """x float32 [8, 32] (1024 bytes) -> Relu -> y [8, 32], as an openacl .om."""
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8, 32])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "relu.om"
    write_om(model, record or {"framework": 5}, str(path))
    return str(path)


def _gear_om(tmp_path, builder) -> str:
    model, record = builder()
    path = tmp_path / f"{builder.__name__}.om"
    write_om(model, record, str(path))
    return str(path)


def _stream_blocked_by_a_callback():
    """A stream served by this thread, stuck behind a blocking callback nobody ran yet."""
    stream, ret = acl.rt.create_stream()
    assert ret == ACL_SUCCESS
    me = threading.get_ident()
    assert acl.rt.subscribe_report(me, stream) == ACL_SUCCESS
    ran = []
    assert acl.rt.launch_callback(ran.append, "ran", ACL_CALLBACK_BLOCK, stream) == ACL_SUCCESS
    return stream, me, ran


def _unblock(stream, me, ran):
    assert acl.rt.process_report(5000) == ACL_SUCCESS and ran == ["ran"]
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert acl.rt.unsubscribe_report(me, stream) == ACL_SUCCESS
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


# ----- 1000xx: acl.init / acl.finalize and common parameter checks

@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.rt.malloc", "size", "greater than 0")
def malloc_of_zero_bytes(tmp_path, monkeypatch):
    with session():
        return acl.rt.malloc(0, 0)[1]


@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.rt.destroy_context",
          "default context", "acl.rt.reset_device")
def destroy_context_of_the_default_context(tmp_path, monkeypatch):
    assert acl.init() == ACL_SUCCESS and acl.rt.set_device(0) == ACL_SUCCESS
    default, _ = acl.rt.get_context()
    ret = acl.rt.destroy_context(default)
    assert acl.rt.reset_device(0) == ACL_SUCCESS and acl.finalize() == ACL_SUCCESS
    return ret, [f"{default:#x}"]


@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.rt.destroy_stream",
          "stream handle", "unknown or was destroyed")
def destroy_stream_twice(tmp_path, monkeypatch):
    with session():
        stream, _ = acl.rt.create_stream()
        assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
        return acl.rt.destroy_stream(stream), [f"{stream:#x}"]


@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.init",
          '"err_msg_mode"', 'the string "0"', '"1"', "not 1")
def init_with_a_numeric_err_msg_mode(tmp_path, monkeypatch):
    return acl.init(_config(tmp_path, '{"err_msg_mode": 1}'))


@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.rt.process_report",
          "timeout 0", "-1", "positive number of milliseconds")
def process_report_with_a_zero_timeout(tmp_path, monkeypatch):
    with session():
        return acl.rt.process_report(0)


@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.mdl.get_input_dims",
          "input index 5", "out of range", "the model has 1 input(s)")
def input_index_out_of_range(tmp_path, monkeypatch):
    with session():
        model_id, _ = acl.mdl.load_from_file(_relu_om(tmp_path))
        desc = acl.mdl.create_desc()
        assert acl.mdl.get_desc(desc, model_id) == ACL_SUCCESS
        dims, ret = acl.mdl.get_input_dims(desc, 5)
        assert dims == {}
        assert acl.mdl.destroy_desc(desc) == ACL_SUCCESS
        assert acl.mdl.unload(model_id) == ACL_SUCCESS
    return ret


@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.mdl.load_with_config",
          "ACL_MDL_PATH_PTR is not set", "load type 1", "acl.mdl.set_config_opt")
def load_with_a_config_that_has_no_path(tmp_path, monkeypatch):
    ACL_MDL_LOAD_TYPE_SIZET, ACL_MDL_LOAD_FROM_FILE = 1, 1
    with session():
        config = acl.mdl.create_config_handle()
        assert acl.mdl.set_config_opt(config, ACL_MDL_LOAD_TYPE_SIZET,
                                      ACL_MDL_LOAD_FROM_FILE) == ACL_SUCCESS
        ret = acl.mdl.load_with_config(config)[1]
        assert acl.mdl.destroy_config_handle(config) == ACL_SUCCESS
    return ret


@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.mdl.set_dynamic_batch_size",
          "no buffer at index 1", "(it has 1)", "add the ascend_mbatch_shape_data buffer")
def set_dynamic_batch_size_before_adding_the_gear_buffer(tmp_path, monkeypatch):
    with session():
        model_id, _ = acl.mdl.load_from_file(_gear_om(tmp_path, gear_models.batch_model))
        dataset = acl.mdl.create_dataset()
        buffer = acl.create_data_buffer(0, 0)
        acl.mdl.add_dataset_buffer(dataset, buffer)
        ret = acl.mdl.set_dynamic_batch_size(model_id, dataset, 1, 2)
        assert acl.destroy_data_buffer(buffer) == ACL_SUCCESS
        assert acl.mdl.destroy_dataset(dataset) == ACL_SUCCESS
        assert acl.mdl.unload(model_id) == ACL_SUCCESS
    return ret


@scenario(ErrorCode.ACL_ERROR_REPEAT_INITIALIZE, "acl.init",
          "already called", "call acl.finalize first")
def init_twice(tmp_path, monkeypatch):
    assert acl.init() == ACL_SUCCESS
    ret = acl.init()
    assert acl.finalize() == ACL_SUCCESS
    return ret


@scenario(ErrorCode.ACL_ERROR_INVALID_FILE, "acl.init", "missing.json", "does not exist")
def init_with_a_missing_config(tmp_path, monkeypatch):
    return acl.init(str(tmp_path / "missing.json"))


@scenario(ErrorCode.ACL_ERROR_PARSE_FILE, "acl.init", "acl.json", "is not valid JSON")
def init_with_a_config_that_is_not_json(tmp_path, monkeypatch):
    return acl.init(_config(tmp_path, "{not json"))


@scenario(ErrorCode.ACL_ERROR_INVALID_DUMP_CONFIG, "acl.init",
          '"dump.dump_mode"', "must be one of", '"sideways"')
def init_with_a_bad_dump_mode(tmp_path, monkeypatch):
    return acl.init(_config(tmp_path, '{"dump": {"dump_mode": "sideways"}}'))


@scenario(ErrorCode.ACL_ERROR_UNINITIALIZE, "acl.mdl.init_dump", "before acl.init")
def init_dump_before_init(tmp_path, monkeypatch):
    return acl.mdl.init_dump()


@scenario(ErrorCode.ACL_ERROR_DUMP_ALREADY_RUN, "acl.mdl.init_dump", "already called")
def init_dump_twice(tmp_path, monkeypatch):
    with session():
        assert acl.mdl.init_dump() == ACL_SUCCESS
        code = acl.mdl.init_dump()
        assert acl.mdl.finalize_dump() == ACL_SUCCESS
    return code


@scenario(ErrorCode.ACL_ERROR_DUMP_NOT_RUN, "acl.mdl.set_dump", "before acl.mdl.init_dump")
def set_dump_before_init_dump(tmp_path, monkeypatch):
    with session():
        return acl.mdl.set_dump(str(tmp_path / "dump.json"))


@scenario(ErrorCode.ACL_ERROR_INVALID_PARAM, "acl.init",            # as msprof rejects it
          '"profiler.switch"', '"on" or "off"', '"maybe"')
def init_with_a_bad_profiler_switch(tmp_path, monkeypatch):
    return acl.init(_config(tmp_path, '{"profiler": {"switch": "maybe"}}'))


@scenario(ErrorCode.ACL_ERROR_DESERIALIZE_MODEL, "acl.mdl.load_from_file",
          "relu.om", "format version 99", "reads version 1", "convert it again")
def load_an_om_of_another_format_version(tmp_path, monkeypatch):
    path = _relu_om(tmp_path, {"framework": 5, "format_version": 99})
    with session():
        return acl.mdl.load_from_file(path)[1]


@scenario(ErrorCode.ACL_ERROR_REPEAT_FINALIZE, "acl.finalize",
          "already called", "acl.init never was")
def finalize_without_init(tmp_path, monkeypatch):
    return acl.finalize()


# ----- 107xxx: runtime

@scenario(ErrorCode.ACL_ERROR_RT_PARAM_INVALID, "acl.rt.free", "already freed")
def free_twice(tmp_path, monkeypatch):
    with session():
        ptr, _ = acl.rt.malloc(64, 0)
        assert acl.rt.free(ptr) == ACL_SUCCESS
        return acl.rt.free(ptr), [f"{ptr:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_PARAM_INVALID, "acl.rt.memcpy",
          "count 64", "greater than dest_max 32")
def memcpy_more_than_dest_max(tmp_path, monkeypatch):
    with session():
        ptr, _ = acl.rt.malloc(64, 0)
        data = bytes(64)
        ret = acl.rt.memcpy(ptr, 32, acl.util.bytes_to_ptr(data), 64, ACL_MEMCPY_HOST_TO_DEVICE)
        assert acl.rt.free(ptr) == ACL_SUCCESS
        return ret


@scenario(ErrorCode.ACL_ERROR_RT_PARAM_INVALID, "acl.rt.memcpy",
          "64 bytes at destination address", "overrun the allocation", "by 32 bytes")
def memcpy_past_the_end_of_an_allocation(tmp_path, monkeypatch):
    with session():
        ptr, _ = acl.rt.malloc(32, 0)                   # 32 usable bytes (+32 of padding)
        data = bytes(128)
        ret = acl.rt.memcpy(ptr + 32, 128, acl.util.bytes_to_ptr(data), 64,
                            ACL_MEMCPY_HOST_TO_DEVICE)
        assert acl.rt.free(ptr) == ACL_SUCCESS
        return ret, [f"{ptr + 32:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_PARAM_INVALID, "acl.rt.subscribe_report",
          "is not a live thread", "acl.util.start_thread")
def subscribe_a_thread_that_exited(tmp_path, monkeypatch):
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    with session():
        stream, _ = acl.rt.create_stream()
        ret = acl.rt.subscribe_report(thread.ident, stream)
        assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    return ret, [f"thread id {thread.ident}"]


@scenario(ErrorCode.ACL_ERROR_RT_PARAM_INVALID, "acl.rt.synchronize_stream_with_timeout",
          "timeout 0", "-1 (wait forever)", "positive number of milliseconds")
def synchronize_stream_with_a_zero_timeout(tmp_path, monkeypatch):
    with session():
        return acl.rt.synchronize_stream_with_timeout(0, 0)


@scenario(ErrorCode.ACL_ERROR_RT_INVALID_DEVICEID, "acl.rt.set_device",
          "device id 99", "1 device(s) exist", "OPENACL_DEVICE_COUNT")
def set_device_that_does_not_exist(tmp_path, monkeypatch):
    return acl.rt.set_device(99)


@scenario(ErrorCode.ACL_ERROR_RT_CONTEXT_NULL, "acl.rt.malloc",
          "no current context", "call acl.rt.set_device")
def malloc_without_a_context(tmp_path, monkeypatch):
    assert acl.init() == ACL_SUCCESS
    ret = acl.rt.malloc(64, 0)[1]
    assert acl.finalize() == ACL_SUCCESS
    return ret


@scenario(ErrorCode.ACL_ERROR_RT_CONTEXT_NULL, "acl.rt.create_stream",
          "was destroyed", "call acl.rt.set_context")
def create_stream_after_destroying_the_current_context(tmp_path, monkeypatch):
    assert acl.init() == ACL_SUCCESS
    context, _ = acl.rt.create_context(0)
    assert acl.rt.destroy_context(context) == ACL_SUCCESS
    ret = acl.rt.create_stream()[1]
    assert acl.finalize() == ACL_SUCCESS
    return ret, [f"{context:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_STREAM_CONTEXT, "acl.rt.synchronize_stream",
          "belongs to", "not to the current", "call acl.rt.set_context")
def synchronize_a_stream_of_another_context(tmp_path, monkeypatch):
    with session() as first:
        stream, _ = acl.rt.create_stream()
        second, _ = acl.rt.create_context(0)            # now current
        ret = acl.rt.synchronize_stream(stream)
        assert acl.rt.destroy_context(second) == ACL_SUCCESS
        assert acl.rt.set_context(first) == ACL_SUCCESS
        assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    return ret, [f"stream {stream:#x}", f"{first:#x}", f"{second:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_MODEL_CONTEXT, "acl.mdl.execute",
          "model 1 was loaded in", "call acl.rt.set_context")
def execute_a_model_in_another_context(tmp_path, monkeypatch):
    with session() as first:
        net = Model(_relu_om(tmp_path))
        second, _ = acl.rt.create_context(0)
        ret = net.execute()
        assert acl.rt.set_context(first) == ACL_SUCCESS
        net.release()
        assert acl.rt.destroy_context(second) == ACL_SUCCESS
    return ret, [f"{first:#x}", f"{second:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_EVENT_TIMESTAMP_INVALID, "acl.rt.event_elapsed_time",
          "start event", "never recorded", "acl.rt.record_event")
def elapsed_time_from_an_event_never_recorded(tmp_path, monkeypatch):
    with session():
        start, _ = acl.rt.create_event()
        end, _ = acl.rt.create_event()
        assert acl.rt.record_event(end, 0) == ACL_SUCCESS
        assert acl.rt.synchronize_event(end) == ACL_SUCCESS
        ret = acl.rt.event_elapsed_time(start, end)[1]
        for event in (start, end):
            assert acl.rt.destroy_event(event) == ACL_SUCCESS
    return ret, [f"{start:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_EVENT_TIMESTAMP_REVERSAL, "acl.rt.event_elapsed_time",
          "before the start event", "the earlier event as start")
def elapsed_time_with_start_and_end_swapped(tmp_path, monkeypatch):
    with session():
        first, _ = acl.rt.create_event()
        later, _ = acl.rt.create_event()
        for event in (first, later):
            assert acl.rt.record_event(event, 0) == ACL_SUCCESS
            assert acl.rt.synchronize_event(event) == ACL_SUCCESS
        ret = acl.rt.event_elapsed_time(later, first)[1]
        for event in (first, later):
            assert acl.rt.destroy_event(event) == ACL_SUCCESS
    return ret, [f"{first:#x}", f"{later:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_STREAM_SUBSCRIBE, "acl.rt.subscribe_report",
          "already served by report thread", "acl.rt.unsubscribe_report")
def subscribe_a_stream_twice(tmp_path, monkeypatch):
    me = threading.get_ident()
    with session():
        stream, _ = acl.rt.create_stream()
        assert acl.rt.subscribe_report(me, stream) == ACL_SUCCESS
        ret = acl.rt.subscribe_report(me, stream)
        assert acl.rt.unsubscribe_report(me, stream) == ACL_SUCCESS
        assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    return ret, [f"stream {stream:#x}", str(me)]


@scenario(ErrorCode.ACL_ERROR_RT_THREAD_SUBSCRIBE, "acl.rt.process_report",
          "is not subscribed to any stream", "call acl.rt.subscribe_report first")
def process_report_on_a_thread_never_subscribed(tmp_path, monkeypatch):
    with session():
        return acl.rt.process_report(100), [f"thread {threading.get_ident()}"]


@scenario(ErrorCode.ACL_ERROR_RT_STREAM_NO_CB_REG, "acl.rt.launch_callback",
          "no report thread is subscribed", "call acl.rt.subscribe_report first")
def launch_callback_on_a_stream_nobody_serves(tmp_path, monkeypatch):
    with session():
        stream, _ = acl.rt.create_stream()
        ret = acl.rt.launch_callback(lambda data: None, None, ACL_CALLBACK_BLOCK, stream)
        assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    return ret, [f"stream {stream:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_SYSPARAMOPT_NOT_SET, "acl.rt.ctx_get_sys_param_opt",
          "option 1", "never set", "acl.rt.ctx_set_sys_param_opt")
def get_a_context_parameter_never_set(tmp_path, monkeypatch):
    with session():
        return acl.rt.ctx_get_sys_param_opt(1)[1]


@scenario(ErrorCode.ACL_ERROR_RT_SYSPARAMOPT_NOT_SET, "acl.rt.get_sys_param_opt",
          "option 2", "never set", "acl.rt.set_sys_param_opt")
def get_a_process_parameter_never_set(tmp_path, monkeypatch):
    with session():
        return acl.rt.get_sys_param_opt(2)[1]


# ----- 145xxx: models (graph engine)

@scenario(ErrorCode.ACL_ERROR_GE_PARAM_INVALID, "acl.mdl.load_from_file",
          "empty.om", "is empty (0 bytes)", "atc --model=")
def load_an_empty_model_file(tmp_path, monkeypatch):
    path = tmp_path / "empty.om"
    path.write_bytes(b"")
    with session():
        return acl.mdl.load_from_file(str(path))[1]


@scenario(ErrorCode.ACL_ERROR_GE_PARAM_INVALID, "acl.mdl.execute",
          "the input dataset has 0 buffer(s)", "model 1 has 1 input(s)",
          "acl.mdl.get_num_inputs")
def execute_with_an_empty_input_dataset(tmp_path, monkeypatch):
    with session():
        net = Model(_relu_om(tmp_path))
        empty = acl.mdl.create_dataset()
        ret = acl.mdl.execute(net.model_id, empty, net.outputs)
        assert acl.mdl.destroy_dataset(empty) == ACL_SUCCESS
        net.release()
    return ret


@scenario(ErrorCode.ACL_ERROR_GE_PARAM_INVALID, "acl.mdl.execute",
          "input 0 ('x') buffer holds 512 bytes", "model 1 needs 1024",
          "acl.mdl.get_input_size_by_index")
def execute_with_a_small_input_buffer(tmp_path, monkeypatch):
    with session():
        net = Model(_relu_om(tmp_path))
        buffer = acl.mdl.get_dataset_buffer(net.inputs, 0)
        ptr = acl.get_data_buffer_addr(buffer)
        assert acl.update_data_buffer(buffer, ptr, 512) == ACL_SUCCESS
        ret = net.execute()
        net.release()
    return ret


@scenario(ErrorCode.ACL_ERROR_GE_EXEC_NOT_INIT, "acl.mdl.load_from_file",
          "before acl.init", "call acl.init first")
def load_before_init(tmp_path, monkeypatch):
    return acl.mdl.load_from_file(_relu_om(tmp_path))[1]


@scenario(ErrorCode.ACL_ERROR_GE_EXEC_MODEL_PATH_INVALID, "acl.mdl.load_from_file",
          "nope.om", "does not exist")
def load_a_missing_file(tmp_path, monkeypatch):
    with session():
        return acl.mdl.load_from_file(str(tmp_path / "nope.om"))[1]


@scenario(ErrorCode.ACL_ERROR_GE_EXEC_MODEL_ID_INVALID, "acl.mdl.unload",
          "model id 77", "not a loaded model", "acl.mdl.load_")
def unload_a_model_never_loaded(tmp_path, monkeypatch):
    with session():
        return acl.mdl.unload(77)


@scenario(ErrorCode.ACL_ERROR_GE_EXEC_MODEL_DATA_SIZE_INVALID, "acl.mdl.load_from_file_with_mem",
          "work memory of 32 bytes", "too small", "acl.mdl.query_size")
def load_with_too_little_work_memory(tmp_path, monkeypatch):
    path = _relu_om(tmp_path)
    with session():
        work, _, _ = acl.mdl.query_size(path)
        ptr, _ = acl.rt.malloc(32, 0)
        ret = acl.mdl.load_from_file_with_mem(path, ptr, 32, 0, 0)[1]
        assert acl.rt.free(ptr) == ACL_SUCCESS
    return ret, [f"needs {work}"]


@scenario(ErrorCode.ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID, "acl.mdl.load_from_file_with_mem",
          "work memory address", "not in any live allocation", "freed, or never allocated")
def load_with_freed_work_memory(tmp_path, monkeypatch):
    path = _relu_om(tmp_path)
    with session():
        work, _, _ = acl.mdl.query_size(path)
        ptr, _ = acl.rt.malloc(work, 0)
        assert acl.rt.free(ptr) == ACL_SUCCESS
        return acl.mdl.load_from_file_with_mem(path, ptr, work, 0, 0)[1], [f"{ptr:#x}"]


@scenario(ErrorCode.ACL_ERROR_GE_EXEC_MODEL_ADDR_INVALID, "acl.mdl.execute",
          "input 0 ('x') buffer", "not in any live allocation")
def execute_on_a_freed_input_buffer(tmp_path, monkeypatch):
    with session():
        net = Model(_relu_om(tmp_path))
        buffer = acl.mdl.get_dataset_buffer(net.inputs, 0)
        ptr = acl.get_data_buffer_addr(buffer)
        assert acl.rt.free(ptr) == ACL_SUCCESS
        ret = net.execute()
        assert acl.update_data_buffer(buffer, 0, 0) == ACL_SUCCESS    # nothing left to free
        net.release()
    return ret, [f"{ptr:#x}"]


@scenario(ErrorCode.ACL_ERROR_GE_DYNAMIC_INPUT_ADDR_INVALID, "acl.mdl.set_input_aipp",
          "ascend_dynamic_aipp_data buffer at index 1", "NULL")
def set_input_aipp_on_a_null_aipp_buffer(tmp_path, monkeypatch):
    with session():
        program = dynamic_program(tmp_path)
        aipp = acl.mdl.create_aipp(2)
        _set_dynamic(aipp, PER_IMAGE, 14, 10)
        buffer = acl.mdl.get_dataset_buffer(program.inputs, 1)
        ptr, size = acl.get_data_buffer_addr(buffer), acl.get_data_buffer_size_v2(buffer)
        assert acl.update_data_buffer(buffer, 0, 0) == ACL_SUCCESS
        ret = acl.mdl.set_input_aipp(program.model_id, program.inputs, 1, aipp)
        assert acl.update_data_buffer(buffer, ptr, size) == ACL_SUCCESS
        assert acl.mdl.destroy_aipp(aipp) == ACL_SUCCESS
        program.release()
    return ret


@scenario(ErrorCode.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID, "acl.mdl.set_dynamic_batch_size",
          "ascend_mbatch_shape_data buffer holds 2 bytes", "at least 4",
          "acl.mdl.get_input_size_by_index")
def set_dynamic_batch_size_on_a_short_gear_buffer(tmp_path, monkeypatch):
    with session():
        model_id, _ = acl.mdl.load_from_file(_gear_om(tmp_path, gear_models.batch_model))
        ptr, _ = acl.rt.malloc(2, 0)
        dataset = acl.mdl.create_dataset()
        buffers = [acl.create_data_buffer(0, 0), acl.create_data_buffer(ptr, 2)]
        for buffer in buffers:
            acl.mdl.add_dataset_buffer(dataset, buffer)
        ret = acl.mdl.set_dynamic_batch_size(model_id, dataset, 1, 2)
        for buffer in buffers:
            assert acl.destroy_data_buffer(buffer) == ACL_SUCCESS
        assert acl.mdl.destroy_dataset(dataset) == ACL_SUCCESS
        assert acl.rt.free(ptr) == ACL_SUCCESS
        assert acl.mdl.unload(model_id) == ACL_SUCCESS
    return ret


@scenario(ErrorCode.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID, "acl.mdl.set_input_aipp",
          "ascend_dynamic_aipp_data buffer holds 16 bytes", "2 image(s)", "need 256",
          "acl.mdl.get_input_size_by_index")
def set_input_aipp_on_a_short_aipp_buffer(tmp_path, monkeypatch):
    with session():
        program = dynamic_program(tmp_path)
        aipp = acl.mdl.create_aipp(2)
        _set_dynamic(aipp, PER_IMAGE, 14, 10)
        buffer = acl.mdl.get_dataset_buffer(program.inputs, 1)
        ptr, size = acl.get_data_buffer_addr(buffer), acl.get_data_buffer_size_v2(buffer)
        assert acl.update_data_buffer(buffer, ptr, 16) == ACL_SUCCESS
        ret = acl.mdl.set_input_aipp(program.model_id, program.inputs, 1, aipp)
        assert acl.update_data_buffer(buffer, ptr, size) == ACL_SUCCESS
        assert acl.mdl.destroy_aipp(aipp) == ACL_SUCCESS
        program.release()
    return ret


@scenario(ErrorCode.ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID, "acl.mdl.set_dynamic_batch_size",
          "batch size 3", "is not a gear of model 1", "[1, 2, 4, 8]")
def set_a_batch_size_that_is_not_a_gear(tmp_path, monkeypatch):
    with session():
        model_id, _ = acl.mdl.load_from_file(_gear_om(tmp_path, gear_models.batch_model))
        desc = acl.mdl.create_desc()
        assert acl.mdl.get_desc(desc, model_id) == ACL_SUCCESS
        index, _ = acl.mdl.get_input_index_by_name(desc, DYNAMIC_NAME)
        size = acl.mdl.get_input_size_by_index(desc, index)
        ptr, _ = acl.rt.malloc(size, 0)
        dataset = acl.mdl.create_dataset()
        buffers = [acl.create_data_buffer(0, 0), acl.create_data_buffer(ptr, size)]
        for buffer in buffers:
            acl.mdl.add_dataset_buffer(dataset, buffer)
        ret = acl.mdl.set_dynamic_batch_size(model_id, dataset, index, 3)
        for buffer in buffers:
            assert acl.destroy_data_buffer(buffer) == ACL_SUCCESS
        assert acl.mdl.destroy_dataset(dataset) == ACL_SUCCESS
        assert acl.rt.free(ptr) == ACL_SUCCESS
        assert acl.mdl.destroy_desc(desc) == ACL_SUCCESS
        assert acl.mdl.unload(model_id) == ACL_SUCCESS
    return ret


@scenario(ErrorCode.ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID, "acl.mdl.set_dynamic_batch_size",
          "model 1 is a static model", "no dynamic batch gears")
def set_a_batch_size_on_a_static_model(tmp_path, monkeypatch):
    with session():
        net = Model(_relu_om(tmp_path))
        ret = acl.mdl.set_dynamic_batch_size(net.model_id, net.inputs, 0, 2)
        net.release()
    return ret


@scenario(ErrorCode.ACL_ERROR_GE_AIPP_NOT_EXIST, "acl.mdl.get_first_aipp_info",
          "input 0 ('x') of model 1 has no AIPP", "--insert_op_conf")
def first_aipp_info_of_a_model_without_aipp(tmp_path, monkeypatch):
    with session():
        model_id, _ = acl.mdl.load_from_file(_relu_om(tmp_path))
        ret = acl.mdl.get_first_aipp_info(model_id, 0)[1]
        assert acl.mdl.unload(model_id) == ACL_SUCCESS
    return ret


@scenario(ErrorCode.ACL_ERROR_GE_SHAPE_INVALID, "acl.mdl.execute",
          "input 0 ('x') shape [20, 3]", "outside the model's range", "[[1, 16], [3, 3]]",
          "acl.mdl.set_dataset_tensor_desc")
def execute_a_shape_range_model_outside_its_range(tmp_path, monkeypatch):
    with session():
        net = Model(_gear_om(tmp_path, gear_models.range_model))
        desc = acl.create_tensor_desc(ACL_FLOAT, [20, 3], ACL_FORMAT_ND)
        assert acl.mdl.set_dataset_tensor_desc(net.inputs, desc, 0)[1] == ACL_SUCCESS
        ret = net.execute()
        net.release()                  # destroying the dataset destroys its tensor descs
    return ret


# ----- 200001, 207xxx: not supported, resources

@scenario(ErrorCode.ACL_ERROR_API_NOT_SUPPORT, "acl.rt.stream_abort",
          "openacl does not support acl.rt.stream_abort yet")
def a_call_openacl_does_not_implement(tmp_path, monkeypatch):
    with session():
        return acl.rt.stream_abort(0)


@scenario(ErrorCode.ACL_ERROR_RT_FEATURE_NOT_SUPPORT, "acl.rt.memcpy_async",
          "asynchronous host-to-host copy", "ACL_HOST run mode", "use acl.rt.memcpy")
def memcpy_async_host_to_host(tmp_path, monkeypatch):
    source, target = bytes(range(64)), bytes(64)
    with session():
        return acl.rt.memcpy_async(acl.util.bytes_to_ptr(target), 64,
                                   acl.util.bytes_to_ptr(source), 64, ACL_MEMCPY_HOST_TO_HOST, 0)


@scenario(ErrorCode.ACL_ERROR_RT_MEMORY_ALLOCATION, "acl.rt.malloc",
          f"cannot allocate {1 << 40} bytes", "device 0", "bytes free")
def malloc_more_than_the_device_holds(tmp_path, monkeypatch):
    with session():
        return acl.rt.malloc(1 << 40, 0)[1]


@scenario(ErrorCode.ACL_ERROR_RT_NO_STREAM_RESOURCE, "acl.rt.create_stream",
          "device 0 already has 1024 streams", "destroy some first")
def create_more_streams_than_a_device_has(tmp_path, monkeypatch):
    with session():
        streams = []
        while True:
            stream, ret = acl.rt.create_stream()
            if ret != ACL_SUCCESS:
                break
            streams.append(stream)
        for stream in streams:
            assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    return ret


# ----- 5xxxxx: internal errors and failures

@scenario(ErrorCode.ACL_ERROR_INTERNAL_ERROR, "acl.rt.malloc",
          "internal error ZeroDivisionError", "an openacl bug", "please report it")
def an_exception_escapes_the_core(tmp_path, monkeypatch):
    from openacl.runtime import transfers

    def broken(*args, **kwargs):
        return 1 // 0

    with session():
        monkeypatch.setattr(transfers, "malloc", broken)
        ret = acl.rt.malloc(64, 0)[1]
        monkeypatch.undo()
    return ret


@scenario(ErrorCode.ACL_ERROR_FAILURE, "acl.init",
          '"defaultDevice"', '{"default_device": "0"}', '"01"')
def init_with_a_bad_default_device(tmp_path, monkeypatch):
    return acl.init(_config(tmp_path, '{"defaultDevice": {"default_device": "01"}}'))


@scenario(ErrorCode.ACL_ERROR_FAILURE, "acl.mdl.set_aipp_by_input_index",
          "input 0 of model 1 has no dynamic aipp", "AIPP type is 0", "acl.mdl.get_aipp_type")
def set_aipp_by_input_index_on_a_model_without_aipp(tmp_path, monkeypatch):
    with session():
        net = Model(_relu_om(tmp_path))
        aipp = acl.mdl.create_aipp(1)
        ret = acl.mdl.set_aipp_by_input_index(net.model_id, net.inputs, 0, aipp)
        assert acl.mdl.destroy_aipp(aipp) == ACL_SUCCESS
        net.release()
    return ret


@scenario(ErrorCode.ACL_ERROR_RT_EVENT_NOT_COMPLETE, "acl.rt.event_get_timestamp",
          "has not completed", "acl.rt.record_event", "acl.rt.synchronize_event")
def timestamp_of_an_event_never_recorded(tmp_path, monkeypatch):
    with session():
        event, _ = acl.rt.create_event()
        ret = acl.rt.event_get_timestamp(event)[1]
        assert acl.rt.destroy_event(event) == ACL_SUCCESS
    return ret, [f"{event:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_EVENT_NOT_COMPLETE, "acl.rt.event_elapsed_time",
          "end event", "has not completed yet", "synchronize its stream or the event first")
def elapsed_time_before_the_end_event_is_reached(tmp_path, monkeypatch):
    with session():
        start, _ = acl.rt.create_event()
        end, _ = acl.rt.create_event()
        assert acl.rt.record_event(start, 0) == ACL_SUCCESS
        assert acl.rt.synchronize_event(start) == ACL_SUCCESS
        blocked = _stream_blocked_by_a_callback()
        assert acl.rt.record_event(end, blocked[0]) == ACL_SUCCESS
        ret = acl.rt.event_elapsed_time(start, end)[1]
        _unblock(*blocked)
        for event in (start, end):
            assert acl.rt.destroy_event(event) == ACL_SUCCESS
    return ret, [f"{end:#x}"]


def _gather_om(tmp_path) -> str:
    """data float32 [4], indices int64 [1] -> Gather -> out [1]: an index past 3 fails at run."""
    graph = helper.make_graph(
        [helper.make_node("Gather", ["data", "indices"], ["out"])], "gather",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [4]),
         helper.make_tensor_value_info("indices", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "gather.om"
    write_om(model, {"framework": 5}, str(path))
    return str(path)


@scenario(ErrorCode.ACL_ERROR_RT_MODEL_EXECUTE, "acl.mdl.execute",
          "model 1 failed to run", "indices")
def execute_a_model_that_fails_on_its_data(tmp_path, monkeypatch):
    with session():
        net = Model(_gather_om(tmp_path))
        net.write(1, np.array([99], np.int64))
        ret = net.execute()
        net.release()
    return ret


@scenario(ErrorCode.ACL_ERROR_RT_REPORT_TIMEOUT, "acl.rt.process_report",
          "no callback arrived within 50 ms", "acl.rt.launch_callback")
def process_report_when_no_callback_comes(tmp_path, monkeypatch):
    me = threading.get_ident()
    with session():
        stream, _ = acl.rt.create_stream()
        assert acl.rt.subscribe_report(me, stream) == ACL_SUCCESS
        ret = acl.rt.process_report(50)
        assert acl.rt.unsubscribe_report(me, stream) == ACL_SUCCESS
        assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
    return ret, [f"report thread {me}"]


@scenario(ErrorCode.ACL_ERROR_RT_STREAM_SYNC_TIMEOUT, "acl.rt.synchronize_stream_with_timeout",
          "unfinished task(s) after 50 ms", "-1 waits")
def synchronize_a_blocked_stream_with_a_timeout(tmp_path, monkeypatch):
    with session():
        blocked = _stream_blocked_by_a_callback()
        ret = acl.rt.synchronize_stream_with_timeout(blocked[0], 50)
        _unblock(*blocked)
    return ret, [f"stream {blocked[0]:#x}"]


@scenario(ErrorCode.ACL_ERROR_RT_EVENT_SYNC_TIMEOUT, "acl.rt.synchronize_event_with_timeout",
          "was not reached within 50 ms", "-1 waits")
def synchronize_an_event_behind_a_blocked_stream(tmp_path, monkeypatch):
    with session():
        event, _ = acl.rt.create_event()
        blocked = _stream_blocked_by_a_callback()
        assert acl.rt.record_event(event, blocked[0]) == ACL_SUCCESS
        ret = acl.rt.synchronize_event_with_timeout(event, 50)
        _unblock(*blocked)
        assert acl.rt.destroy_event(event) == ACL_SUCCESS
    return ret, [f"event {event:#x}"]


# ----- acl.media (DVPP): formats, features, channel lifetime, device-side task failures

def _dvpp_picture(ptr, fmt, width, height, width_stride, height_stride, size):
    desc = acl.media.dvpp_create_pic_desc()
    for name, value in (("data", ptr), ("format", fmt), ("width", width), ("height", height),
                        ("width_stride", width_stride), ("height_stride", height_stride),
                        ("size", size)):
        assert getattr(acl.media, f"dvpp_set_pic_desc_{name}")(desc, value) == ACL_SUCCESS
    return desc


@contextmanager
def _dvpp_channel():
    with session():
        channel = acl.media.dvpp_create_channel_desc()
        assert acl.media.dvpp_create_channel(channel) == ACL_SUCCESS
        try:
            yield channel
        finally:
            acl.media.dvpp_destroy_channel(channel)
            acl.media.dvpp_destroy_channel_desc(channel)


@scenario(ErrorCode.ACL_ERROR_FORMAT_NOT_MATCH, "acl.media.dvpp_vpc_resize_async",
          "VPC output format PIXEL_FORMAT_RGB_888 (12)", "not supported on the 310 family")
def vpc_output_format_the_soc_lacks(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    with _dvpp_channel() as channel:
        ptr, _ = acl.media.dvpp_malloc(64 * 64 * 3)
        src = _dvpp_picture(ptr, 1, 64, 64, 64, 64, 64 * 64 * 3 // 2)
        dst = _dvpp_picture(ptr, 12, 64, 64, 192, 64, 64 * 64 * 3)
        config = acl.media.dvpp_create_resize_config()
        ret = acl.media.dvpp_vpc_resize_async(channel, src, dst, config, 0)
        acl.media.dvpp_destroy_resize_config(config)
        for desc in (src, dst):
            acl.media.dvpp_destroy_pic_desc(desc)
        acl.media.dvpp_free(ptr)
    return ret


@scenario(ErrorCode.ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED,
          "acl.media.dvpp_destroy_channel_desc", "still has its channel", "dvpp_destroy_channel")
def destroying_a_channel_desc_before_its_channel(tmp_path, monkeypatch):
    with _dvpp_channel() as channel:
        return acl.media.dvpp_destroy_channel_desc(channel)


@scenario(ErrorCode.ACL_ERROR_FEATURE_UNSUPPORTED, "acl.media.dvpp_set_channel_desc_mode",
          "not supported on the 310 family")
def channel_mode_on_ascend310(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310")
    with session():
        desc = acl.media.dvpp_create_channel_desc()
        ret = acl.media.dvpp_set_channel_desc_mode(desc, 1)
        acl.media.dvpp_destroy_channel_desc(desc)
    return ret


def _decode_at_synchronize(data: bytes) -> int:
    with _dvpp_channel() as channel:
        src, _ = acl.media.dvpp_malloc(len(data))
        acl.rt.memcpy(src, len(data), acl.util.bytes_to_ptr(data), len(data), 1)
        out, _ = acl.media.dvpp_malloc(256 * 64 * 3 // 2)
        desc = _dvpp_picture(out, 1, 64, 48, 256, 64, 256 * 64 * 3 // 2)
        assert acl.media.dvpp_jpeg_decode_async(channel, src, len(data), desc, 0) == ACL_SUCCESS
        ret = acl.rt.synchronize_stream(0)
        acl.media.dvpp_destroy_pic_desc(desc)
        acl.media.dvpp_free(src)
        acl.media.dvpp_free(out)
    return ret


def _jpeg(**options) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 90)).save(out, "JPEG", **options)
    return out.getvalue()


@scenario(ErrorCode.ACL_ERROR_UNSUPPORTED_JPEG, "acl.rt.synchronize_stream", "progressive")
def decoding_a_progressive_jpeg(tmp_path, monkeypatch):
    return _decode_at_synchronize(_jpeg(progressive=True))


@scenario(ErrorCode.ACL_ERROR_RT_AICPU_EXCEPTION, "acl.rt.synchronize_stream",
          "dvpp_jpeg_decode_async", "cannot be decoded")
def decoding_bytes_that_are_not_a_jpeg(tmp_path, monkeypatch):
    return _decode_at_synchronize(b"\x89PNG not a JPEG at all" * 4)


# ---------------------------------------------------------------- acl.prof (issue 14)
def _prof_config():
    config = acl.prof.create_config([0], 0, 0, 0x0001 | 0x0002)
    assert config
    return config


@scenario(ErrorCode.ACL_ERROR_PROF_NOT_RUN, "acl.prof.start", "before acl.prof.init")
def profiling_start_before_init(tmp_path, monkeypatch):
    config = _prof_config()
    try:
        return acl.prof.start(config)
    finally:
        acl.prof.destroy_config(config)


@scenario(ErrorCode.ACL_ERROR_PROF_ALREADY_RUN, "acl.prof.start", "already started")
def profiling_started_twice(tmp_path, monkeypatch):
    config = _prof_config()
    assert acl.prof.init(str(tmp_path / "prof")) == ACL_SUCCESS
    assert acl.prof.start(config) == ACL_SUCCESS
    try:
        return acl.prof.start(config)
    finally:
        assert acl.prof.stop(config) == ACL_SUCCESS
        assert acl.prof.finalize() == ACL_SUCCESS
        acl.prof.destroy_config(config)


@scenario(ErrorCode.ACL_ERROR_PROF_API_CONFLICT, "acl.prof.model_subscribe",
          "between acl.prof.init and finalize")
def subscribing_inside_a_profiling_session(tmp_path, monkeypatch):
    import os

    read, write = os.pipe()
    config = acl.prof.create_subscribe_config(1, 0, write)
    assert acl.prof.init(str(tmp_path / "prof")) == ACL_SUCCESS
    try:
        return acl.prof.model_subscribe(1, config)
    finally:
        assert acl.prof.finalize() == ACL_SUCCESS
        acl.prof.destroy_subscribe_config(config)
        os.close(read)
        os.close(write)


@scenario(ErrorCode.ACL_ERROR_PROF_REPEAT_SUBSCRIBE, "acl.prof.model_subscribe",
          "already subscribed")
def subscribing_a_model_twice(tmp_path, monkeypatch):
    import os

    read, write = os.pipe()
    with session():
        model_id, ret = acl.mdl.load_from_file(_relu_om(tmp_path))
        assert ret == ACL_SUCCESS
        config = acl.prof.create_subscribe_config(1, 0, write)
        assert acl.prof.model_subscribe(model_id, config) == ACL_SUCCESS
        try:
            return acl.prof.model_subscribe(model_id, config)
        finally:
            assert acl.prof.model_unsubscribe(model_id) == ACL_SUCCESS
            acl.prof.destroy_subscribe_config(config)
            assert acl.mdl.unload(model_id) == ACL_SUCCESS
            os.close(read)
            os.close(write)


# ---------------------------------------------------------------- the tests
def _process_survives():
    """A full pyACL cycle still works after the failure."""
    assert acl.init() == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS
    ptr, ret = acl.rt.malloc(64, 0)
    assert ret == ACL_SUCCESS
    assert acl.rt.free(ptr) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS
    assert acl.get_recent_err_msg() is None


def test_the_source_analysis_finds_the_codes():
    found = codes_openacl_can_return()
    # Spot checks of each way a code is returned: a class raised without a code, an
    # explicit ErrorCode, a class in another module, the facade's own codes.
    assert {100000, 107000, 145000, 145002, 200001, 500000, 500001} <= set(found)
    assert any("openacl/model/om.py" in site for site in found[145000])     # ModelFileError
    assert 0 not in found
    assert all(code in set(ErrorCode) for code in found)


def test_every_code_openacl_can_return_has_a_scenario():
    found = codes_openacl_can_return()
    covered = {s.code for s in SCENARIOS}
    missing = {code: sites for code, sites in found.items() if code not in covered}
    assert not missing, (
        "codes openacl can return without a scenario in this file (add one: a pyACL program "
        "that provokes it, and the words its message must say): "
        + "; ".join(f"{code} {ErrorCode(code).name} at {', '.join(sites)}"
                    for code, sites in sorted(missing.items())))


def test_every_scenario_code_is_found_in_the_source():
    """The analysis misses nothing the scenarios prove openacl returns."""
    assert {s.code for s in SCENARIOS} <= set(codes_openacl_can_return())


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda case: f"{case.code}-{case.name}")
def test_each_code_is_returned_and_explained(case, tmp_path, monkeypatch):
    acl.get_recent_err_msg()                  # start with nothing unread (earlier tests')
    result = case.program(tmp_path, monkeypatch)
    ret, more = (result if isinstance(result, tuple) else (result, []))
    assert type(ret) is int and ret == case.code
    message = acl.get_recent_err_msg()
    assert message is not None
    prefix = f"{case.call} failed, error code {case.code}: "
    assert message.startswith(prefix), message
    assert message.count(" failed, error code ") == 1, message   # the one failure, nothing else
    for word in (*case.words, *more):
        assert word in message, f"{word!r} is not in {message!r}"
    assert acl.get_recent_err_msg() is None
    _process_survives()


# ---------------------------------------------------------------- how messages accumulate
def _write(tmp_path, config: dict) -> str:
    return _config(tmp_path, json.dumps(config))


def test_failures_accumulate_until_read_newest_first():
    acl.get_recent_err_msg()                  # start with nothing unread (earlier tests')
    assert acl.rt.set_device(99) == ErrorCode.ACL_ERROR_RT_INVALID_DEVICEID
    assert acl.rt.malloc(0, 0)[1] == ErrorCode.ACL_ERROR_INVALID_PARAM
    assert acl.get_version()[-1] == ACL_SUCCESS             # a success adds and clears nothing
    message = acl.get_recent_err_msg()
    lines = message.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("acl.rt.malloc failed, error code 100000: ")
    assert lines[1].startswith("acl.rt.set_device failed, error code 107001: ")
    assert acl.get_recent_err_msg() is None


def test_messages_of_other_threads_are_visible_with_err_msg_mode_1(tmp_path):
    assert acl.init(_write(tmp_path, {"err_msg_mode": "1"})) == ACL_SUCCESS
    acl.get_recent_err_msg()                                 # start from nothing unread
    assert acl.rt.set_device(99) == ErrorCode.ACL_ERROR_RT_INVALID_DEVICEID
    assert run_in_thread(lambda: acl.rt.malloc(0, 0)[1]) == ErrorCode.ACL_ERROR_INVALID_PARAM
    message = acl.get_recent_err_msg()
    lines = message.splitlines()
    assert lines[0].startswith("acl.rt.malloc failed, error code 100000: ")      # the thread's
    assert lines[1].startswith("acl.rt.set_device failed, error code 107001: ")
    assert acl.get_recent_err_msg() is None
    assert run_in_thread(acl.get_recent_err_msg) is None    # read once, for every thread
    assert acl.finalize() == ACL_SUCCESS


def test_without_err_msg_mode_other_threads_keep_their_messages(tmp_path):
    assert acl.init(_write(tmp_path, {"err_msg_mode": "0"})) == ACL_SUCCESS

    def fail_and_read():
        assert acl.rt.malloc(0, 0)[1] == ErrorCode.ACL_ERROR_INVALID_PARAM
        return acl.get_recent_err_msg()

    assert "acl.rt.malloc failed" in run_in_thread(fail_and_read)
    assert acl.get_recent_err_msg() is None
    assert acl.finalize() == ACL_SUCCESS


def test_a_message_already_read_is_not_given_again_with_err_msg_mode_1(tmp_path):
    assert acl.rt.set_device(99) == ErrorCode.ACL_ERROR_RT_INVALID_DEVICEID
    assert acl.get_recent_err_msg() is not None             # read, before acl.init
    assert acl.init(_write(tmp_path, {"err_msg_mode": "1"})) == ACL_SUCCESS
    try:
        assert acl.get_recent_err_msg() is None
    finally:
        assert acl.finalize() == ACL_SUCCESS
