"""atc fuzzing: corrupt ONNX sources, external data, random input shapes, fed to ``atc``.

Used by ``tests/atc/test_corrupt_onnx.py`` and ``scripts/fuzz_model_files.py --atc``. The
property (:func:`check_atc`): atc answers like ATC, never with a traceback: exit 1 with one
``Exxxxx:`` line (never E19999, the code of an openacl bug) and no .om written, or exit 0
with an .om that every loader takes (the loaders' own property,
:func:`tests.model.model_fuzz.check_model_bytes`) and that runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import re

import onnx

from openacl.atc.cli import FAILURE, SUCCESS, main
from tests.model.model_fuzz import Mutant, check_model_bytes

__all__ = ["build_sources", "check_atc", "random_shape_flags", "runs_with_shapes",
           "SOURCE_MUTATIONS"]

_E_CODE = re.compile(r"^E\d{5}: ", re.MULTILINE)
_SIZE = re.compile(r"(?<![-\w])\d+")       # a size in a shape option (not -1, not in a name)
# The loaders' mutations that apply to a plain ONNX source (no .om record there).
SOURCE_MUTATIONS = ("truncate", "flip_bits", "overwrite", "magic", "noise", "invalid_utf8",
                    "graph", "external")


def build_sources(folder) -> dict[str, tuple[bytes, list[str]]]:
    """The ONNX sources of the loader corpus, each with the atc flags that convert it."""
    from tests.model import builders, gear_models
    from tests.model.test_aipp import config_text, identity

    folder = str(folder)
    config = os.path.join(folder, "aipp.cfg")
    with open(config, "w") as file:
        file.write(config_text({"input_format": "RGB888_U8", "src_image_size_w": 8,
                                "src_image_size_h": 6, "mean_chn": [10, 20, 30, 0]}))
    aipp = onnx.load(identity(os.path.join(folder, "identity.onnx"), [1, 3, 6, 8]))
    return _Sources({
        "static": (builders.classifier(classes=10, size=8).SerializeToString(),
                   ["--input_shape=data:1,3,8,8"]),
        "batch": (gear_models.batch_model()[0].SerializeToString(),
                  ["--input_shape=x:-1,3,4,4", "--dynamic_batch_size=1,2,4"]),
        "dims": (gear_models.dims_model()[0].SerializeToString(),
                 ["--input_shape=a:-1,4;b:-1", "--dynamic_dims=1,2;3,5", "--input_format=ND"]),
        "range": (gear_models.range_model()[0].SerializeToString(),
                  ["--input_shape_range=x:[1~16,3]"]),
        "aipp": (aipp.SerializeToString(), [f"--insert_op_conf={config}"]),
        "reshape": (reshape_model().SerializeToString(), ["--input_shape=x:2,3,4;z:2,6"]),
    })


class _Sources(dict):
    def __repr__(self):                 # hypothesis prints the fixtures of a failing example
        return f"<atc sources: {', '.join(self)}>"


def reshape_model() -> onnx.ModelProto:
    """x [n,a,b] -> Reshape [0,-1] -> MatMul w [12,5] = y;  z [p,q] -> Reshape [3,4] = r.

    Shapes that change a*b or p*q break it: the checks ATC makes at compile time."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    value = helper.make_tensor_value_info
    weights = [numpy_helper.from_array(np.arange(60, dtype=np.float32).reshape(12, 5), "w"),
               numpy_helper.from_array(np.array([0, -1], np.int64), "flat"),
               numpy_helper.from_array(np.array([3, 4], np.int64), "grid")]
    nodes = [helper.make_node("Reshape", ["x", "flat"], ["x2"], name="flatten"),
             helper.make_node("MatMul", ["x2", "w"], ["y"], name="fc"),
             helper.make_node("Reshape", ["z", "grid"], ["r"], name="grid")]
    graph = helper.make_graph(nodes, "reshape", [value("x", TensorProto.FLOAT, ["n", 3, 4]),
                                                 value("z", TensorProto.FLOAT, [2, 6])],
                              [value("y", TensorProto.FLOAT, ["n", 5]),
                               value("r", TensorProto.FLOAT, [3, 4])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


# Size texts a user may mistype: signs, zero, beyond int64, huge, not ASCII, not integers.
NASTY_SIZES = ["0", "-5", "-1", "+3", "2147483648", str(2**40), str(2**62), str(2**63),
               "99999999999999999999", "\u00b2", "\u0663", "1e3", "3.0", " 4 ", "0x10", "~",
               "1~", "~-1", "5~2", "1~99999999999999999999", ""]


def random_shape_flags(flags: list[str], choose, nasty: bool = False) -> list[str]:
    """The flags with the sizes in --input_shape / --input_shape_range redrawn (1..9; with
    ``nasty``, now and then a mistyped size from NASTY_SIZES)."""
    def redraw(match):
        if nasty and choose.integer(0, 3) == 0:
            return choose.choice(NASTY_SIZES)
        return str(choose.integer(1, 9))
    out = []
    for flag in flags:
        if flag.startswith(("--input_shape=", "--input_shape_range=")):
            name, _, value = flag.partition("=")
            flag = f"{name}={_SIZE.sub(redraw, value)}"
        out.append(flag)
    return out


def check_atc(mutant: Mutant, flags: list[str], folder, must_run: bool = False) -> list[str]:
    """Run atc on the mutant source; return what broke the property (empty: nothing).

    ``must_run``: the source is a valid model (only its shape options changed), so an .om
    atc writes must load and run; a corrupt source's .om may still be refused at load (the
    engine may refuse what ONNX's checker accepts), with the loaders' documented codes.
    """
    folder = str(folder)
    source, output = os.path.join(folder, "source.onnx"), os.path.join(folder, "out.om")
    with open(source, "wb") as file:
        file.write(mutant.data)
    for name, content in mutant.files.items():
        os.makedirs(os.path.dirname(os.path.join(folder, name)), exist_ok=True)
        with open(os.path.join(folder, name), "wb") as file:
            file.write(content)
    if os.path.exists(output):
        os.remove(output)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            status = main([f"--model={source}", "--framework=5", f"--output={output}",
                           "--soc_version=Ascend310P3", *flags])
    except BaseException as error:  # noqa: BLE001 - the property: nothing escapes
        return [f"atc raised {type(error).__name__}: {error}"]
    finally:
        for name in mutant.files:
            os.remove(os.path.join(folder, name))
    text = printed.getvalue()
    lines = text.strip().splitlines()
    problems = []
    if "Traceback" in text:
        problems.append(f"atc printed a traceback: {text[-500:]}")
    if status == 1:
        codes = _E_CODE.findall(text)
        if lines[-1:] != [FAILURE] or len(codes) != 1:
            problems.append(f"atc failed without one E-code line: {text[-500:]}")
        if "E19999" in text:
            problems.append(f"atc reported an internal error: {text[-500:]}")
        if os.path.exists(output):
            problems.append("atc failed but wrote an .om")
    elif status == 0:
        if lines[-1:] != [SUCCESS] or not os.path.exists(output):
            problems.append(f"atc succeeded without its success line or an .om: {text[-500:]}")
        else:
            with open(output, "rb") as file:
                report = check_model_bytes(Mutant(file.read(), "atc output"), folder)
            problems += [f"the .om atc wrote: {problem}" for problem in report.problems]
            load = next(code for call, code in report.codes if call == "load_from_file")
            if must_run and load != 0:
                problems.append(f"the .om atc wrote does not load ({load}): "
                                f"{report.messages[-1]}")
            failed = [(call, code) for call, code in report.codes
                      if call.startswith("execute") and code != 0]
            if must_run and failed:
                problems.append(f"the .om atc wrote does not run {failed}: "
                                f"{report.messages[-1]}")
    else:
        problems.append(f"atc exited with {status!r}")
    return problems


def runs_with_shapes(data: bytes, flags: list[str]) -> bool | None:
    """Does onnxruntime run the source on zeros of the --input_shape shapes? (None: the flags
    are not plain fixed shapes.) The reference for "atc refused a shape the graph takes"."""
    import numpy as np
    import onnxruntime as ort

    text = next((f.partition("=")[2] for f in flags if f.startswith("--input_shape=")), None)
    if text is None or "~" in text or "-1" in text or any(
            f.startswith(("--dynamic", "--input_shape_range", "--insert_op_conf"))
            for f in flags):
        return None
    shapes = {name: [int(d) for d in dims.split(",")]
              for name, _, dims in (item.rpartition(":") for item in text.split(";"))}
    model = onnx.ModelProto()
    model.ParseFromString(data)
    for value in (*model.graph.input, *model.graph.output):     # free axes: no declared size
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            dim.Clear()
            dim.dim_param = f"free_{value.name}_{axis}"
    model.graph.ClearField("value_info")
    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        session.run(None, {i.name: np.zeros(shapes[i.name], np.float32)
                           for i in session.get_inputs()})
    except Exception:  # noqa: BLE001 - any refusal: the graph does not take these shapes
        return False
    return True
