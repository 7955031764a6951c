"""The leak report: at acl.finalize and at exit without it, as text and as data."""

import subprocess
import sys
import textwrap
import warnings

import pytest

import acl
import openacl.runtime
from openacl.runtime import Leak, LeakWarning
from tests.model import builders

ACL_SUCCESS = 0


def _leak_some(tmp_path):
    """A program that forgets to release one of everything; return what it made."""
    assert acl.init() == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS
    context, _ = acl.rt.create_context(0)
    device, _ = acl.rt.malloc(1000, 0)
    host, _ = acl.rt.malloc_host(300)
    stream, _ = acl.rt.create_stream()
    event, _ = acl.rt.create_event()
    path = tmp_path / "tiny.onnx"
    path.write_bytes(builders.classifier(classes=4, size=8).SerializeToString())
    model_id, ret = acl.mdl.load_from_file(str(path))
    assert ret == ACL_SUCCESS
    buffer = acl.create_data_buffer(device, 1000)
    dataset = acl.mdl.create_dataset()
    return {"context": context, "device": device, "host": host, "stream": stream,
            "event": event, "model": model_id, "buffer": buffer, "dataset": dataset,
            "model_bytes": path.stat().st_size}


def _finalize_and_catch() -> LeakWarning:
    with pytest.warns(LeakWarning) as caught:
        assert acl.finalize() == ACL_SUCCESS
    assert len(caught) == 1
    return caught[0].message


def test_finalize_lists_every_live_resource_as_data(tmp_path):
    made = _leak_some(tmp_path)
    warning = _finalize_and_catch()
    found = {(leak.kind, leak.ident, leak.size) for leak in warning.leaks}
    assert found == {
        ("device allocation", f"{made['device']:#x}", 1000),
        ("host allocation", f"{made['host']:#x}", 300),
        ("context", f"{made['context']:#x}", None),
        ("stream", f"{made['stream']:#x}", None),
        ("event", f"{made['event']:#x}", None),
        ("model", f"id {made['model']}", made["model_bytes"]),
        ("data buffer", f"{made['buffer']:#x}", None),
        ("dataset", f"{made['dataset']:#x}", None),
    }
    assert all(leak.site is None for leak in warning.leaks)      # sites cost: off by default
    assert openacl.runtime.last_report() == list(warning.leaks)
    text = str(warning)
    assert "1 device allocation of 1000 bytes" in text and "1 stream (" in text
    assert "OPENACL_LEAK_REPORT=full" in text
    # Context resources are gone; host objects outlive finalize, as in ACL, until destroyed.
    assert acl.rt.destroy_event(made["event"]) != ACL_SUCCESS
    assert acl.destroy_data_buffer(made["buffer"]) == ACL_SUCCESS
    assert acl.mdl.destroy_dataset(made["dataset"]) == ACL_SUCCESS


def test_full_report_with_creation_sites(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENACL_LEAK_REPORT", "full")
    monkeypatch.setenv("OPENACL_LEAK_SITES", "1")
    made = _leak_some(tmp_path)
    warning = _finalize_and_catch()
    assert all(leak.site and leak.site.startswith(__file__) for leak in warning.leaks), \
        [leak.site for leak in warning.leaks]
    assert all(" in _leak_some" in leak.site for leak in warning.leaks)
    text = str(warning)
    assert f"device allocation {made['device']:#x}, 1000 bytes, created at {__file__}:" in text
    acl.destroy_data_buffer(made["buffer"])
    acl.mdl.destroy_dataset(made["dataset"])


def test_the_report_can_be_silenced(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENACL_LEAK_REPORT", "off")
    made = _leak_some(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert acl.finalize() == ACL_SUCCESS
    # Silenced, not forgotten: the data is still there for tools.
    assert any(leak.kind == "model" for leak in openacl.runtime.last_report())
    acl.destroy_data_buffer(made["buffer"])
    acl.mdl.destroy_dataset(made["dataset"])


def test_a_clean_program_reports_nothing():
    assert acl.init() == ACL_SUCCESS
    assert acl.rt.set_device(0) == ACL_SUCCESS
    device, _ = acl.rt.malloc(64, 0)
    assert acl.rt.free(device) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == ACL_SUCCESS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert acl.finalize() == ACL_SUCCESS
    assert openacl.runtime.last_report() == []
    assert Leak("stream", "0x1") != Leak("stream", "0x2")


@pytest.mark.parametrize("level, expect", [
    ("summary", ["1 device allocation of 4096 bytes", "1 stream ("]),
    ("full", ["device allocation 0x", "4096 bytes, created at ", "leaky.py:5 in <module>"]),
    ("off", []),
])
def test_exit_without_finalize_reports_on_stderr(tmp_path, level, expect):
    program = tmp_path / "leaky.py"
    program.write_text(textwrap.dedent("""\
        import acl
        assert acl.init() == 0
        assert acl.rt.set_device(0) == 0
        stream, _ = acl.rt.create_stream()
        device, _ = acl.rt.malloc(4096, 0)
        print("done")
    """))
    env = {"OPENACL_LEAK_REPORT": level, "OPENACL_LEAK_SITES": "1" if level == "full" else "0",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0 and result.stdout == "done\n"
    if not expect:
        assert result.stderr == ""
        return
    assert "exited without acl.finalize" in result.stderr
    for words in expect:
        assert words in result.stderr


def test_exit_with_executions_queued_does_not_abort(tmp_path):
    """The interpreter must not shut down under a stream worker inside the engine (it
    aborted: "terminate called without an active exception"). Queued work is dropped, as an
    NPU's driver drops it when the process ends; the task running then finishes first."""
    path = tmp_path / "wide.onnx"
    path.write_bytes(builders.classifier(classes=512, size=512).SerializeToString())
    program = tmp_path / "queued.py"
    program.write_text(textwrap.dedent(f"""\
        import acl
        assert acl.init() == 0
        assert acl.rt.set_device(0) == 0
        stream, _ = acl.rt.create_stream()
        model_id, _ = acl.mdl.load_from_file({str(path)!r})
        desc = acl.mdl.create_desc()
        acl.mdl.get_desc(desc, model_id)
        datasets = []
        for count, size_of in ((acl.mdl.get_num_inputs(desc), acl.mdl.get_input_size_by_index),
                               (acl.mdl.get_num_outputs(desc), acl.mdl.get_output_size_by_index)):
            dataset = acl.mdl.create_dataset()
            for i in range(count):
                ptr, _ = acl.rt.malloc(size_of(desc, i), 0)
                acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size_of(desc, i)))
            datasets.append(dataset)
        for _ in range(300):
            assert acl.mdl.execute_async(model_id, datasets[0], datasets[1], stream) == 0
    """))
    env = {"OPENACL_LEAK_REPORT": "off", "PATH": "/usr/bin:/bin"}
    runs = [subprocess.Popen([sys.executable, str(program)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert err == ""
