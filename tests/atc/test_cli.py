"""The atc console script: ATC's console lines, exit codes, and never a traceback for a user's
mistake. A few runs go through a real subprocess (``python -m openacl.atc.cli``); the rest call
``main`` in-process, which prints the same lines."""

import json
import subprocess
import sys

import numpy as np
import pytest

from openacl.atc import cli
from tests.atc.builders import SOC, image_model, metadata, random_input, run

START = "ATC start working now, please wait for a moment."
SUCCESS = "ATC run success, welcome to the next use."
FAILURE = ("ATC run failed, Please check the detail log, Try 'atc --help' for more "
           "information")


def atc_process(*args, cwd=None):
    """Run atc as a separate process; return (exit status, stdout lines, stderr)."""
    done = subprocess.run([sys.executable, "-m", "openacl.atc.cli", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)
    return done.returncode, done.stdout.splitlines(), done.stderr


def atc_main(capsys, *args):
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def test_success_in_a_subprocess(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    status, lines, err = atc_process(f"--model={source}", "--framework=5",
                                     f"--output={tmp_path / 'model'}", f"--soc_version={SOC}")
    assert status == 0, (lines, err)
    assert lines == [START, SUCCESS]
    assert "Traceback" not in err
    x = random_input((1, 3, 4, 4))
    np.testing.assert_array_equal(run(tmp_path / "model.om", {"x": x})["y"],
                                  run(source, {"x": x})["y"])


@pytest.mark.parametrize("args, code", [
    (["--model={dir}/none.onnx"], "E10001"),
    (["--model={dir}/garbage.onnx"], "E10041"),
    (["--model={source}", "--framework=3"], "E10001"),
    (["--model={source}", "--input_shape=images:1,3,4,4"], "E10016"),
    (["--model={source}", "--input_shape=x:1,three,4,4"], "E10002"),
    (["--model={source}", "--input_shape=x:-1,3,4,4", "--dynamic_batch_size=4"], "E10035"),
    (["--model={source}", "--no_such_flag=1"], "E10001"),
])
def test_user_mistakes_in_a_subprocess(tmp_path, args, code):
    source = image_model(tmp_path / "m.onnx")
    (tmp_path / "garbage.onnx").write_bytes(b"\x00garbage\xff" * 10)
    args = [arg.format(dir=tmp_path, source=source) for arg in args]
    defaults = ["--framework=5", f"--output={tmp_path / 'o'}", f"--soc_version={SOC}"]
    status, lines, err = atc_process(*defaults, *args)
    assert status != 0
    assert lines[0] == START and lines[-1] == FAILURE
    assert lines[-2].startswith(f"{code}: "), lines
    assert "Traceback" not in "\n".join(lines) + err
    assert not (tmp_path / "o.om").exists()


def test_help(tmp_path):
    status, lines, err = atc_process("--help")
    assert status == 0 and lines[0].startswith("usage: atc --model=")
    assert any("--dynamic_batch_size" in line for line in lines)
    assert any("--precision_mode" in line for line in lines)


def test_single_dash_and_space_spellings_in_a_subprocess(tmp_path):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    status, lines, _ = atc_process("-model", source, "-framework=5", "--output", "out",
                                   "-soc_version", SOC, "--output=final", cwd=tmp_path)
    assert status == 0 and lines[-1] == SUCCESS
    assert (tmp_path / "final.om").is_file() and not (tmp_path / "out.om").exists()


def test_mode_1_writes_the_json_description(tmp_path, capsys):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    assert atc_main(capsys, f"--model={source}", "--framework=5",
                    f"--output={tmp_path / 'model'}", f"--soc_version={SOC}")[0] == 0
    status, lines, _ = atc_main(capsys, "--mode=1", f"--om={tmp_path / 'model.om'}",
                                f"--json={tmp_path / 'model.json'}")
    assert status == 0 and lines == [START, SUCCESS]
    description = json.loads((tmp_path / "model.json").read_text())
    assert set(description) == {"name", "version", "custom_version", "graph", "attr"}


def test_mode_1_errors(tmp_path, capsys):
    status, lines, _ = atc_main(capsys, "--mode=1", f"--om={tmp_path / 'none.om'}",
                                f"--json={tmp_path / 'x.json'}")
    assert status == 1 and lines[1].startswith("E10001: ") and lines[-1] == FAILURE
    status, lines, _ = atc_main(capsys, "--mode=1", f"--om={tmp_path / 'none.om'}")
    assert status == 1 and lines[1].startswith("E10001: ")
    status, lines, _ = atc_main(capsys, "--mode=1", f"--json={tmp_path / 'x.json'}")
    assert status == 1 and lines[1] == "E10004: Value for [--om] is empty."


def test_ascend_only_options_print_a_warning_and_succeed(tmp_path, capsys):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    status, lines, _ = atc_main(capsys, f"--model={source}", "--framework=5",
                                f"--output={tmp_path / 'o'}", f"--soc_version={SOC}",
                                "--op_select_implmode=high_precision")
    assert status == 0 and lines[0] == START and lines[-1] == SUCCESS
    warnings = [line for line in lines if line.startswith("[WARNING] ")]
    assert len(warnings) == 1
    assert "--op_select_implmode=high_precision has no effect in openacl" in warnings[0]


@pytest.mark.parametrize("level, shown", [("null", False), ("error", False), ("info", True),
                                          ("debug", True)])
def test_log_level_controls_the_detail_log(tmp_path, capsys, level, shown):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    status, lines, err = atc_main(capsys, f"--model={source}", "--framework=5",
                                  f"--output={tmp_path / 'o'}", f"--soc_version={SOC}",
                                  f"--log={level}")
    assert status == 0 and lines == [START, SUCCESS]
    assert ("[INFO] ATC(openacl): wrote" in err) == shown


def test_repeated_flags_are_noted_in_the_detail_log(tmp_path, capsys):
    source = image_model(tmp_path / "m.onnx", dims=(1, 3, 4, 4))
    status, _, err = atc_main(capsys, f"--model={source}", "--framework=5", "--output=a",
                              f"--output={tmp_path / 'b'}", f"--soc_version={SOC}", "--log=info")
    assert status == 0 and "--output is given more than once" in err
    assert metadata(tmp_path / "b.om")["soc_version"] == SOC


def test_a_bug_is_reported_as_an_inner_error_without_a_traceback(tmp_path, capsys, monkeypatch):
    def broken(options, on_warning=None):
        raise KeyError("surprise")

    monkeypatch.setattr(cli, "convert", broken)
    status, lines, err = atc_main(capsys, "--model=m.onnx", "--framework=5", "--output=o",
                                  f"--soc_version={SOC}")
    assert status == 1 and lines[1].startswith("E19999: Inner Error! KeyError")
    assert lines[-1] == FAILURE and "Traceback" not in err
    status, _, err = atc_main(capsys, "--model=m.onnx", "--framework=5", "--output=o",
                              f"--soc_version={SOC}", "--log=debug")
    assert status == 1 and "Traceback" in err               # for the bug report
