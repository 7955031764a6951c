"""``python -m ais_bench``: ais_bench's command line, checked as its users run it.

Outputs are compared with onnxruntime running the source ONNX; summary statistics are
recomputed here with numpy from the per-execution times the run wrote into its json.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto as T
from onnx import helper, numpy_helper

from ais_bench.__main__ import main
from ais_bench.infer import args as cli_args
from ais_bench.infer import benchmark_process, io_utils
from openacl.atc import convert
from tests.model import gear_models
from tests.model.aipp_reference import aipp_reference, random_image
from tests.model.test_aipp import config_text

STAMP = re.compile(r"^\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2}$")
AIS_KEYS = {"min", "max", "mean", "median", "percentile(99%)", "count"}


# ---------------------------------------------------------------------------- models


def _static_model():
    """x float32 [4, 8] @ w -> y [4, 3]; k int32 [4, 2] -> Neg -> nk [4, 2]."""
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((8, 3))
                                .astype(np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Neg", ["k"], ["nk"])]
    graph = helper.make_graph(nodes, "static",
                              [helper.make_tensor_value_info("x", T.FLOAT, [4, 8]),
                               helper.make_tensor_value_info("k", T.INT32, [4, 2])],
                              [helper.make_tensor_value_info("y", T.FLOAT, [4, 3]),
                               helper.make_tensor_value_info("nk", T.INT32, [4, 2])], [w])
    return _opset(graph)


def _transposed_model():
    """x float32 [4, 8] -> Transpose -> t [8, 4]: the batch is axis 1 of the output."""
    graph = helper.make_graph([helper.make_node("Transpose", ["x"], ["t"], perm=[1, 0])], "tr",
                              [helper.make_tensor_value_info("x", T.FLOAT, [4, 8])],
                              [helper.make_tensor_value_info("t", T.FLOAT, [8, 4])])
    return _opset(graph)


NV12_AIPP = {"input_format": "YUV420SP_U8", "src_image_size_w": 8, "src_image_size_h": 6,
             "csc_switch": True, "matrix": [256, 0, 359, 256, -88, -183, 256, 454, 0],
             "input_bias": [0, 128, 128], "mean_chn": [124, 117, 104]}


def _aipp_source(batch=1):
    graph = helper.make_graph([helper.make_node("Identity", ["data"], ["out"])], "id",
                              [helper.make_tensor_value_info("data", T.FLOAT, [batch, 3, 6, 8])],
                              [helper.make_tensor_value_info("out", T.FLOAT, [batch, 3, 6, 8])])
    return _opset(graph)


def _opset(graph):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """name -> (.om path, source ONNX model), converted once by openacl's atc."""
    root = tmp_path_factory.mktemp("models")

    def atc(name, model, *flags):
        source = root / f"{name}.onnx"
        onnx.save(model, source)
        path = convert([f"--model={source}", "--framework=5", f"--output={root / name}",
                        "--soc_version=Ascend310P3", *flags], on_warning=lambda _: None)
        return path, model

    (root / "dyn.cfg").write_text("aipp_op { aipp_mode: dynamic max_src_image_size: 144 }\n")
    (root / "nv12.cfg").write_text(config_text(NV12_AIPP))
    return {
        "static": atc("static", _static_model()),
        "transposed": atc("transposed", _transposed_model()),
        "batch": atc("batch", gear_models.batch_model()[0], "--input_shape=x:-1,3,4,4",
                     "--dynamic_batch_size=1,2,4,8", "--input_format=NCHW"),
        "hw": atc("hw", gear_models.hw_model()[0], "--input_shape=x:1,2,-1,-1",
                  "--dynamic_image_size=4,4;8,6;16,16"),
        "dims": atc("dims", gear_models.dims_model()[0], "--input_shape=a:-1,4;b:-1",
                    "--input_format=ND", "--dynamic_dims=1,2;3,5;2,7"),
        "range": atc("range", gear_models.range_model()[0], "--input_shape_range=x:[1~16,3]"),
        "aipp": atc("aipp", _aipp_source(), f"--insert_op_conf={root / 'dyn.cfg'}"),
        "nv12": atc("nv12", _aipp_source(), f"--insert_op_conf={root / 'nv12.cfg'}"),
        "nv12_gears": atc("nv12_gears", _aipp_source("N"), f"--insert_op_conf={root / 'nv12.cfg'}",
                          "--input_shape=data:-1,3,6,8", "--dynamic_batch_size=1,2,4"),
    }


def _reference(model, feeds: dict) -> list:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _summary(folder, name):
    with open(os.path.join(folder, f"{name}_summary.json")) as file:
        return json.load(file)


def _static_inputs(tmp_path, count=6):
    """``count`` samples: x rows in folder x/, k rows in folder k/; the samples as arrays."""
    rng = np.random.default_rng(1)
    (tmp_path / "x").mkdir()
    (tmp_path / "k").mkdir()
    xs, ks = [], []
    for i in range(count):
        x = rng.standard_normal((1, 8)).astype(np.float32)
        k = rng.integers(-50, 50, (1, 2)).astype(np.int32)
        x.tofile(tmp_path / "x" / f"s{i}.bin")
        k.tofile(tmp_path / "k" / f"k{i}.bin")
        xs.append(x)
        ks.append(k)
    return xs, ks


def _static_expected(model, xs, ks):
    """Per sample, its outputs: batches of 4 padded with the batch's first sample."""
    expected = []
    for start in range(0, len(xs), 4):
        bx, bk = xs[start:start + 4], ks[start:start + 4]
        pad = 4 - len(bx)
        y, nk = _reference(model, {"x": np.concatenate(bx + [bx[0]] * pad),
                                   "k": np.concatenate(bk + [bk[0]] * pad)})
        expected += [(y[j:j + 1], nk[j:j + 1]) for j in range(len(bx))]
    return expected


def _read(path, dtype, shape):
    if path.endswith(".npy"):
        return np.load(path)
    if path.endswith(".txt"):
        return np.loadtxt(path, dtype=np.float64, ndmin=2).astype(dtype).reshape(shape)
    return np.fromfile(path, dtype).reshape(shape)


# ---------------------------------------------------------------------------- flags


def test_every_flag_in_every_spelling_reaches_the_same_setting():
    parser = cli_args.build_parser()
    spelled = {}
    for action in parser._actions:
        for option in action.option_strings:
            spelled[option] = action.dest
    for dest, spellings, _ in cli_args._FLAGS:
        assert all(spelled[s] == dest for s in spellings), dest
    # ais_bench's classic and kebab-case spellings (the list and msit's aliases)
    pairs = {"--output_dirname": "--output-dirname", "--warmup_count": "--warmup-count",
             "--dymBatch": "--dym-batch", "--dymHW": "--dym-hw", "--dymDims": "--dym-dims",
             "--dymShape": "--dym-shape", "--dymShape_range": "--dym-shape-range",
             "--outputSize": "--output-size",
             "--auto_set_dymshape_mode": "--auto-set-dymshape-mode",
             "--auto_set_dymdims_mode": "--auto-set-dymdims-mode",
             "--pure_data_type": "--pure-data-type", "--display_all_summary":
             "--display-all-summary", "--aipp_config": "--aipp-config",
             "--output_batchsize_axis": "--output-batchsize-axis", "--acl_json_path":
             "--acl-json-path", "--batchsize": "--batch-size", "--threads": "--thread",
             "--run_mode": "--run-mode", "--divide_input": "--divide-input"}
    for classic, kebab in pairs.items():
        assert spelled[classic] == spelled[kebab]
    for short, long in {"-m": "--model", "-i": "--input", "-o": "--output", "-d": "--device",
                        "-l": "--loop", "-om": "--model", "-db": "--dymBatch", "-dhw": "--dymHW",
                        "-dd": "--dymDims", "-ds": "--dymShape", "-dr": "--dymShape_range",
                        "-outsize": "--outputSize", "-wcount": "--warmup_count",
                        "-aipp": "--aipp_config", "-acl": "--acl_json_path",
                        "-oba": "--output_batchsize_axis", "-pdt": "--pure_data_type",
                        "-das": "--display_all_summary", "-od": "--output_dirname"}.items():
        assert spelled[short] == spelled[long]


def test_defaults_and_values_are_ais_benchs():
    args = cli_args.parse_args(["--model", "m.om"])
    assert (args.outfmt, args.loop, args.debug, args.devices, args.device, args.dym_batch,
            args.batchsize, args.pure_data_type, args.output_batchsize_axis, args.run_mode,
            args.display_all_summary, args.warmup_count, args.pipeline, args.threads) == \
        ("BIN", 1, False, [0], 0, 0, None, "zero", 0, "array", False, 1, False, 1)
    args = cli_args.parse_args(["-m", "m.om", "--debug", "true", "-d", "0,2", "--dym-batch=4",
                                "--outputSize", "100,200", "--warmup-count", "0",
                                "--display_all_summary", "1", "--pipeline", "yes", "--thread",
                                "3", "--auto_set_dymshape_mode", "True"])
    assert args.debug and args.display_all_summary and args.pipeline
    assert args.devices == [0, 2] and args.dym_batch == 4 and args.custom_sizes == [100, 200]
    assert args.warmup_count == 0 and args.threads == 3 and args.no_combine_tensor_mode
    args = cli_args.parse_args(["-m", "m.om", "--npu-id", "3", "--profiler_rename", "0",
                                "--divide-input", "1", "--run-mode", "full", "--backend",
                                "trtexec"])
    assert (args.npu_id, args.profiler_rename, args.divide_input, args.run_mode,
            args.backend) == (3, False, True, "full", "trtexec")


@pytest.mark.parametrize("argv, message", [
    (["--loop", "0"], "0 is an invalid positive int value"),
    (["--warmup_count", "-1"], "-1 is an invalid nonnegative int value"),
    (["--device", "256"], "valid value range is [0, 255]"),
    (["--debug", "maybe"], "boolean value expected"),
    (["--outfmt", "CSV"], "invalid choice: 'CSV'"),
    (["--pure_data_type", "ones"], "invalid choice: 'ones'"),
    (["--dymHW", "224"], '--dymHW "224": expected "height,width"'),
    (["--dymShape", "x:1,3;rm -rf"], "is not a legal string"),
    (["--outputSize", "10k"], "is not a legal list"),
    (["--output_dirname", "sub"], "--output_dirname can't be used alone"),
    (["--dymBatch", "2", "--dymHW", "4,4"], "--dymBatch, --dymHW: give at most one of them"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["--profiler", "1"], "--profiler and --dump need --output"),
    (["--energy_consumption", "1", "--npu_id", "0"], "needs an Ascend NPU"),
    (["--backend", "trtexec", "--perf", "1"], "--perf is not supported on openacl"),
])
def test_bad_flags_one_line_and_exit_2(capsys, models, argv, message):
    code, out, err = _run(capsys, "--model", models["static"][0], *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("[ERROR] ") and message in err, err
    assert "Traceback" not in out + err


def test_help(capsys):
    code, out, _ = _run(capsys, "--help")
    assert code == 0 and "--dymShape_range" in out and "--warmup-count" in out


# ---------------------------------------------------------------------------- runs


def test_pure_inference_layout_summary_and_lines(capsys, models, tmp_path):
    path, model = models["static"]
    code, out, err = _run(capsys, "--model", path, "--output", tmp_path, "--loop", 5,
                          "--display_all_summary", 1)
    assert code == 0, err
    (stamp,) = [d for d in os.listdir(tmp_path) if os.path.isdir(tmp_path / d)]
    assert STAMP.match(stamp)
    assert sorted(os.listdir(tmp_path / stamp)) == ["pure_infer_data_0.bin",
                                                    "pure_infer_data_1.bin"]
    zeros = {"x": np.zeros((4, 8), np.float32), "k": np.zeros((4, 2), np.int32)}
    y, nk = _reference(model, zeros)
    np.testing.assert_array_equal(np.fromfile(tmp_path / stamp / "pure_infer_data_0.bin",
                                              np.float32).reshape(4, 3), y)
    np.testing.assert_array_equal(np.fromfile(tmp_path / stamp / "pure_infer_data_1.bin",
                                              np.int32).reshape(4, 2), nk)

    info = _summary(tmp_path, stamp)
    assert {"filesinfo", "args", "NPU_compute_time", "H2D_latency", "D2H_latency",
            "throughput", "npu_compute_time_list", "pid"} <= set(info)
    assert set(info["NPU_compute_time"]) == set(info["H2D_latency"]) == AIS_KEYS
    times = np.array(info["npu_compute_time_list"])
    assert len(times) == 5 and info["NPU_compute_time"]["count"] == 5
    for key, value in (("min", times.min()), ("max", times.max()), ("mean", times.mean()),
                       ("median", np.median(times)),
                       ("percentile(99%)", np.percentile(times, 99))):
        assert info["NPU_compute_time"][key] == pytest.approx(value, rel=1e-12)
    assert info["throughput"] == pytest.approx(1000 * 4 / times.mean(), rel=1e-12)
    assert info["H2D_latency"]["count"] == 2 and info["D2H_latency"]["count"] == 2
    h2d = np.array(info["h2d_latency_list"])
    assert info["H2D_latency"]["mean"] == pytest.approx(h2d.mean(), rel=1e-12)
    assert info["percentiles"]["NPU_compute_time"]["percentile(90%)"] == pytest.approx(
        np.percentile(times, 90), rel=1e-12)
    e2e = np.array(info["e2e_latency_list"])
    assert len(e2e) == 1 and info["e2e_latency"]["percentile(50%)"] == pytest.approx(e2e[0])
    # each inference's e2e covers its copies and its executions
    assert e2e[0] >= times.sum() + h2d.sum()

    lines = [line for line in out.splitlines() if line.startswith("[INFO]")]
    block = lines[lines.index("[INFO] -----------------Performance Summary------------------"):]
    compute = info["NPU_compute_time"]
    assert block[2] == (f"[INFO] NPU_compute_time (ms): min = {compute['min']}, max = "
                        f"{compute['max']}, mean = {compute['mean']}, median = "
                        f"{compute['median']}, percentile(99%) = {compute['percentile(99%)']}")
    assert block[1].startswith("[INFO] H2D_latency (ms): min = ")
    assert block[3].startswith("[INFO] D2H_latency (ms): min = ")
    assert block[4] == (f"[INFO] throughput 1000*batchsize.mean(4)/NPU_compute_time.mean("
                        f"{compute['mean']}): {info['throughput']}")
    assert block[5] == "[INFO] " + "-" * 54
    assert sum("throughput" in line for line in out.splitlines()) == 1
    assert any(line.startswith("[INFO] e2e_latency (ms") and "p90 = " in line for line in lines)
    assert any(line.startswith("[INFO] split (mean ms per inference): H2D = ") for line in lines)


@pytest.mark.parametrize("outfmt", ["BIN", "NPY", "TXT"])
def test_folders_batched_padded_and_written_per_file(capsys, models, tmp_path, outfmt):
    path, model = models["static"]
    xs, ks = _static_inputs(tmp_path)
    out_dir = tmp_path / "out"
    code, out, err = _run(capsys, "-m", path, "-i", f"{tmp_path / 'x'},{tmp_path / 'k'}",
                          "-o", out_dir, "--output-dirname", "run", "--outfmt", outfmt)
    assert code == 0, err
    assert "filesperbatch:4 runcount:2" in out
    ext = outfmt.lower()
    assert sorted(os.listdir(out_dir / "run")) == sorted(
        f"s{i}_{o}.{ext}" for i in range(6) for o in (0, 1))
    for i, (y, nk) in enumerate(_static_expected(model, xs, ks)):
        got_y = _read(str(out_dir / "run" / f"s{i}_0.{ext}"), np.float32, (1, 3))
        got_nk = _read(str(out_dir / "run" / f"s{i}_1.{ext}"), np.int32, (1, 2))
        if outfmt == "TXT":
            np.testing.assert_allclose(got_y, y, atol=1e-6)
        else:
            np.testing.assert_array_equal(got_y, y)
        np.testing.assert_array_equal(got_nk, nk)
    info = _summary(out_dir, "run")
    assert info["NPU_compute_time"]["count"] == 2
    assert info["filesinfo"]["5"]["infiles"] == [str(tmp_path / "x" / "s5.bin"),
                                                str(tmp_path / "k" / "k5.bin")]
    assert info["filesinfo"]["5"]["outfiles"][0].endswith(f"s5_0.{ext}")


def test_file_list_and_run_mode_full(capsys, models, tmp_path):
    path, model = models["static"]
    xs, ks = _static_inputs(tmp_path, count=4)
    files = [str(tmp_path / "x" / f"s{i}.bin") for i in range(4)] + \
        [str(tmp_path / "k" / f"k{i}.bin") for i in range(4)]
    code, _, err = _run(capsys, "--model", path, "--input", ",".join(files), "--output",
                        tmp_path / "o", "--output_dirname", "r", "--run_mode", "full",
                        "--outfmt", "NPY")
    assert code == 0, err
    for i, (y, nk) in enumerate(_static_expected(model, xs, ks)):
        np.testing.assert_array_equal(np.load(tmp_path / "o" / "r" / f"s{i}_0.npy"), y)
        np.testing.assert_array_equal(np.load(tmp_path / "o" / "r" / f"s{i}_1.npy"), nk)


def test_output_batchsize_axis(capsys, models, tmp_path):
    path, model = models["transposed"]
    rows = [np.full((1, 8), i, np.float32) + np.arange(8, dtype=np.float32) for i in range(4)]
    for i, row in enumerate(rows):
        np.save(tmp_path / f"r{i}.npy", row)
    inputs = ",".join(str(tmp_path / f"r{i}.npy") for i in range(4))
    code, _, err = _run(capsys, "--model", path, "--input", inputs, "--output", tmp_path / "o",
                        "--output_dirname", "a1", "--output_batchsize_axis", 1, "--outfmt",
                        "NPY")
    assert code == 0, err
    (t,) = _reference(model, {"x": np.concatenate(rows)})
    for i in range(4):
        np.testing.assert_array_equal(np.load(tmp_path / "o" / "a1" / f"r{i}_0.npy"),
                                      t[:, i:i + 1])
    code, _, err = _run(capsys, "--model", path, "--input", inputs, "--output", tmp_path / "o",
                        "--output_batchsize_axis", 2)
    assert code == 1 and "--output_batchsize_axis 2: output 0 has only 2 dimension(s)" in err


def test_dymbatch_outputs_equal_onnxruntime(capsys, models, tmp_path):
    path, model = models["batch"]
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((1, 3, 4, 4)).astype(np.float32) for _ in range(3)]
    for i, x in enumerate(xs):
        x.tofile(tmp_path / f"img{i}.bin")
    code, out, err = _run(capsys, "--model", path, "--input", ",".join(
        str(tmp_path / f"img{i}.bin") for i in range(3)), "--dymBatch", 2, "--output",
        tmp_path / "o", "--output_dirname", "b")
    assert code == 0, err
    assert "try get model batchsize:2" in out and "filesperbatch:2 runcount:2" in out
    expected = _reference(model, {"x": np.concatenate(xs[:2])})[0]
    expected = np.concatenate([expected, _reference(model, {"x": np.concatenate(
        [xs[2], xs[2]])})[0][:1]])
    for i in range(3):
        np.testing.assert_array_equal(np.fromfile(tmp_path / "o" / "b" / f"img{i}_0.bin",
                                                  np.float32).reshape(1, 5), expected[i:i + 1])
    assert sorted(os.listdir(tmp_path / "o" / "b")) == [f"img{i}_0.bin" for i in range(3)]
    assert "throughput 1000*batchsize.mean(2)/" in out


def test_dymhw_and_dymdims_outputs_equal_onnxruntime(capsys, models, tmp_path):
    path, model = models["hw"]
    x = np.random.default_rng(3).standard_normal((1, 2, 8, 6)).astype(np.float32)
    np.save(tmp_path / "hw.npy", x)
    code, _, err = _run(capsys, "--model", path, "--input", tmp_path / "hw.npy", "--dym-hw",
                        "8,6", "--output", tmp_path / "o", "--output_dirname", "hw",
                        "--outfmt", "NPY")
    assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "hw" / "hw_0.npy"),
                                  _reference(model, {"x": x})[0])

    path, model = models["dims"]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    b = np.arange(-2, 3, dtype=np.int64)
    np.save(tmp_path / "a" / "in.npy", a)
    b.tofile(tmp_path / "b" / "in.bin")
    code, out, err = _run(capsys, "--model", path, "--input", f"{tmp_path / 'a'},"
                          f"{tmp_path / 'b'}", "--dymDims", "a:3,4;b:5", "--output",
                          tmp_path / "o", "--output_dirname", "dims", "--outfmt", "NPY")
    assert code == 0, err
    ra, nb = _reference(model, {"a": a, "b": b})
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "dims" / "in_0.npy"), ra)
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "dims" / "in_1.npy"), nb)
    assert "throughput 1000*batchsize.mean(3)/" in out


def test_dymshape_and_the_auto_modes_equal_onnxruntime(capsys, models, tmp_path):
    path, model = models["range"]
    x = np.random.default_rng(5).standard_normal((6, 3)).astype(np.float32)
    x.tofile(tmp_path / "x.bin")
    code, _, err = _run(capsys, "--model", path, "--input", tmp_path / "x.bin", "--dymShape",
                        "x:6,3", "--outputSize", "1000,1000", "--output", tmp_path / "o",
                        "--output_dirname", "ds", "--outfmt", "NPY")
    assert code == 0, err
    r, s = _reference(model, {"x": x})
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "ds" / "x_0.npy"), r)
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "ds" / "x_1.npy"), s)

    (tmp_path / "shapes").mkdir()
    arrays = [np.random.default_rng(n).standard_normal((n, 3)).astype(np.float32)
              for n in (2, 5, 9)]
    for i, array in enumerate(arrays):
        np.save(tmp_path / "shapes" / f"{i}.npy", array)
    code, out, err = _run(capsys, "--model", path, "--input", tmp_path / "shapes",
                          "--auto_set_dymshape_mode", 1, "--outputSize", "1000,1000",
                          "--output", tmp_path / "o", "--output_dirname", "auto", "--outfmt",
                          "NPY")
    assert code == 0, err
    for i, array in enumerate(arrays):
        r, s = _reference(model, {"x": array})
        np.testing.assert_array_equal(np.load(tmp_path / "o" / "auto" / f"{i}_0.npy"), r)
        np.testing.assert_array_equal(np.load(tmp_path / "o" / "auto" / f"{i}_1.npy"), s)
    info = _summary(tmp_path / "o", "auto")
    mean = np.mean(info["npu_compute_time_list"])
    assert info["throughput"] == pytest.approx(1000 * (16 / 3) / mean, rel=1e-12)

    path, model = models["dims"]
    for name in ("a", "b"):
        (tmp_path / f"d{name}").mkdir()
    gears = [(1, 2), (2, 7)]
    for i, (n, m) in enumerate(gears):
        np.save(tmp_path / "da" / f"{i}.npy", np.full((n, 4), i - 0.5, np.float32))
        np.save(tmp_path / "db" / f"{i}.npy", np.arange(m, dtype=np.int64))
    code, _, err = _run(capsys, "--model", path, "--input", f"{tmp_path / 'da'},"
                        f"{tmp_path / 'db'}", "--auto-set-dymdims-mode", 1, "--output",
                        tmp_path / "o", "--output_dirname", "autodims", "--outfmt", "NPY")
    assert code == 0, err
    for i, (n, m) in enumerate(gears):
        ra, nb = _reference(model, {"a": np.full((n, 4), i - 0.5, np.float32),
                                    "b": np.arange(m, dtype=np.int64)})
        np.testing.assert_array_equal(np.load(tmp_path / "o" / "autodims" / f"{i}_0.npy"), ra)
        np.testing.assert_array_equal(np.load(tmp_path / "o" / "autodims" / f"{i}_1.npy"), nb)


def test_dymshape_range_runs_every_shape(capsys, models):
    code, out, err = _run(capsys, "--model", models["range"][0], "--dymShape_range",
                          "x:2~4,3", "--outputSize", "1000,1000", "--loop", 2)
    assert code == 0, err
    assert "[INFO] run_count:3 success_count:3 avg_throughput:" in out
    for n in (2, 3, 4):
        assert f"dymshape:x:{n},3 end run result:OK" in out
    assert io_utils_expand("x:1,3,224~226;y:1-2") == [
        "x:1,3,224;y:1", "x:1,3,224;y:2", "x:1,3,225;y:1", "x:1,3,225;y:2", "x:1,3,226;y:1",
        "x:1,3,226;y:2"]


def io_utils_expand(text):
    return cli_args.expand_shape_range(text)


def test_warmup_loop_batchsize_pure_data_type(capsys, models, tmp_path):
    path, model = models["static"]
    code, out, err = _run(capsys, "--model", path, "--warmup_count", 3, "--loop", 2,
                          "--batchsize", 8, "--pure_data_type", "random", "--output", tmp_path,
                          "--output_dirname", "rand")
    assert code == 0, err
    assert "[INFO] warm up 3 done" in out
    info = _summary(tmp_path, "rand")
    assert info["NPU_compute_time"]["count"] == 2                    # warm-ups not counted
    assert info["throughput"] == pytest.approx(1000 * 8 / np.mean(info["npu_compute_time_list"]))
    zeros_y = _reference(model, {"x": np.zeros((4, 8), np.float32),
                                 "k": np.zeros((4, 2), np.int32)})[0]
    random_y = np.fromfile(tmp_path / "rand" / "pure_infer_data_0.bin", np.float32)
    assert not np.array_equal(random_y.reshape(4, 3), zeros_y)


def test_debug_lists_the_model(capsys, models):
    code, out, err = _run(capsys, "--model", models["static"][0], "--debug", 1)
    assert code == 0, err
    assert "input:\n  #0    x  (4, 8)  float32  128  128" in out
    assert "[DEBUG] model aclExec cost : " in out
    assert "output:\n  #0    y  (4, 3)  float32  48  48" in out


def test_progress_bar_on_long_runs(capsys, models, monkeypatch):
    monkeypatch.setattr(benchmark_process, "_PROGRESS_DELAY_S", 0.0)
    code, out, err = _run(capsys, "--model", models["static"][0], "--loop", 50)
    assert code == 0, err
    assert "Inference array Processing" in out and "50/50" in out


def test_pipeline_threads(capsys, models, tmp_path):
    path, model = models["static"]
    xs, ks = _static_inputs(tmp_path, count=12)
    code, out, err = _run(capsys, "--model", path, "--input", f"{tmp_path / 'x'},"
                          f"{tmp_path / 'k'}", "--pipeline", 1, "--threads", 2, "--output",
                          tmp_path / "o", "--output_dirname", "p")
    assert code == 0, err
    assert "run in pipeline mode with computing threadsnumber:2" in out
    for i, (y, nk) in enumerate(_static_expected(model, xs, ks)):
        np.testing.assert_array_equal(np.fromfile(tmp_path / "o" / "p" / f"s{i}_0.bin",
                                                  np.float32).reshape(1, 3), y)
    info = _summary(tmp_path / "o", "p")
    assert set(info["NPU_compute_time"]) == {"mean", "count"}        # ais_bench, threads > 1
    intervals = sorted(map(tuple, info["npu_compute_time_list"]))
    covered, end = 0.0, -np.inf
    for start, stop in intervals:
        covered += max(0.0, stop - max(start, end))
        end = max(end, stop)
    assert info["NPU_compute_time"]["mean"] == pytest.approx(covered / len(intervals))
    assert "[INFO] NPU_compute_time (ms): mean = " in out

    code, out, _ = _run(capsys, "--model", path, "--threads", 2)
    assert code == 0
    assert "need to set --pipeline when setting threads number to be more than one." in out


def test_aipp_config_on_a_dynamic_aipp_model(capsys, models, tmp_path):
    path, _ = models["aipp"]
    code, _, err = _run(capsys, "--model", path)
    assert code == 1 and "can't find aipp config file for model with dym aipp input" in err
    config = tmp_path / "actual.config"
    config.write_text("[aipp_op]\n    input_format : RGB888_U8\n    src_image_size_w : 8\n"
                      "    src_image_size_h : 6\n    mean_chn_0 : 10\n")
    image = np.random.default_rng(6).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image.tofile(tmp_path / "image.bin")
    code, _, err = _run(capsys, "--model", path, "--aipp-config", config, "--input",
                        tmp_path / "image.bin", "--output", tmp_path / "o", "--output_dirname",
                        "a", "--outfmt", "NPY")
    assert code == 0, err
    expected = image.transpose(2, 0, 1).astype(np.float32)[None]
    expected[:, 0] -= 10
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "a" / "image_0.npy"), expected)
    # a model without dynamic AIPP runs without looking at the file (ais_bench)
    code, out, _ = _run(capsys, "--model", models["static"][0], "--aipp_config", config)
    assert code == 0 and "has no dynamic AIPP input" in out


@pytest.mark.parametrize("model, batch", [("nv12", 1), ("nv12_gears", 2)])
def test_static_aipp_nv12_images(capsys, models, tmp_path, model, batch):
    """NV12 is 1.5 bytes a pixel: a 72-byte file is one 6x8 image."""
    images = [random_image("YUV420SP_U8", 8, 6, seed) for seed in range(3)]
    for i, image in enumerate(images):
        (tmp_path / f"frame{i}.yuv.bin").write_bytes(image)
    gear = ["--dymBatch", batch] if model == "nv12_gears" else []
    code, out, err = _run(capsys, "--model", models[model][0], "--input", ",".join(
        str(tmp_path / f"frame{i}.yuv.bin") for i in range(3)), *gear, "--output",
        tmp_path / "o", "--output_dirname", "nv12", "--outfmt", "NPY")
    assert code == 0, err
    assert f"filesperbatch:{batch} runcount:{3 // batch + (3 % batch > 0)}" in out
    for i, image in enumerate(images):
        np.testing.assert_array_equal(np.load(tmp_path / "o" / "nv12" / f"frame{i}_0.npy"),
                                      aipp_reference(image, NV12_AIPP, 6, 8, 3)[None])


def test_acl_json_path(capsys, models, tmp_path):
    good = tmp_path / "acl.json"
    good.write_text(json.dumps({"profiler": {"switch": "on",
                                             "output": str(tmp_path / "prof")}}))
    code, out, err = _run(capsys, "--model", models["static"][0], "--acl_json_path", good)
    assert code == 0, err
    trace = json.loads((tmp_path / "prof" / "trace.json").read_text())
    # InferSession runs on openacl's core (no pyACL calls): the model's operators are there
    assert any(e.get("args", {}).get("op_type") for e in trace["traceEvents"])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = _run(capsys, "--model", models["static"][0], "--acl-json-path", bad)
    assert code == 1 and err.startswith("[ERROR] ") and err.count("\n") == 1


def test_several_devices_one_worker_each(capfd, models, tmp_path):
    path, model = models["static"]
    xs, ks = _static_inputs(tmp_path, count=6)
    code = main(["--model", path, "--input", f"{tmp_path / 'x'},{tmp_path / 'k'}", "--device",
                 "0,1", "--divide_input", "1", "--output", str(tmp_path / "o"),
                 "--output_dirname", "md", "--outfmt", "NPY"])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert "openacl: emulating 2 devices" in out
    assert re.search(r"\[INFO\] i:0 device_0 throughput:\S+ start_time:\S+ end_time:\S+", out)
    assert re.search(r"\[INFO\] i:1 device_1 throughput:", out)
    assert "[INFO] summary throughput:" in out
    root = tmp_path / "o" / "md"
    assert sorted(os.listdir(root)) == ["device0_0", "device0_0_summary.json", "device1_1",
                                        "device1_1_summary.json"]
    expected = _static_expected(model, xs[:3], ks[:3]) + _static_expected(model, xs[3:], ks[3:])
    for i, (y, _) in enumerate(expected):
        folder = root / ("device0_0" if i < 3 else "device1_1")
        np.testing.assert_array_equal(np.load(folder / f"s{i}_0.npy"), y)
    assert sorted(os.listdir(root / "device1_1")) == [f"s{i}_{o}.npy" for i in (3, 4, 5)
                                                      for o in (0, 1)]


def test_a_failing_device_worker_fails_the_run(capfd, models, tmp_path):
    _static_inputs(tmp_path, count=1)
    code = main(["--model", models["static"][0], "--input", f"{tmp_path / 'x'},"
                 f"{tmp_path / 'k'}", "--device", "0,1", "--divide_input", "1"])
    out, err = capfd.readouterr()
    assert code == 1
    assert "[ERROR] device 1: --divide_input: no input file is left for device 1" in out
    assert err == "[ERROR] 1 of 2 device workers failed\n" and "Traceback" not in out + err


def test_device_count(capsys, models, monkeypatch):
    code, _, err = _run(capsys, "--model", models["static"][0], "--device", 1)
    assert code == 0, err                           # emulated for the run
    assert "OPENACL_DEVICE_COUNT" not in os.environ
    monkeypatch.setenv("OPENACL_DEVICE_COUNT", "1")
    code, _, err = _run(capsys, "--model", models["static"][0], "--device", 1)
    assert code == 1 and "OPENACL_DEVICE_COUNT=1 emulates devices 0..0" in err


# ---------------------------------------------------------------------------- bad input


def test_bad_inputs_name_size_dtype_and_shape(capsys, models, tmp_path):
    path = models["static"][0]
    (tmp_path / "short.bin").write_bytes(b"\0" * 30)
    np.save(tmp_path / "f64.npy", np.zeros((1, 8)))
    np.save(tmp_path / "whole.npy", np.zeros((4, 8), np.float32))
    (tmp_path / "dir").mkdir()
    cases = [
        (["--input", f"{tmp_path / 'short.bin'},{tmp_path / 'short.bin'}"],
         "short.bin holds 30 bytes, which does not divide input 0 'x' (128 bytes, float32, "
         "shape [4, 8])"),
        (["--input", f"{tmp_path / 'f64.npy'},{tmp_path / 'f64.npy'}"],
         "f64.npy holds float64 [1, 8]; the model takes 128 bytes, float32, shape [4, 8]"),
        (["--input", f"{tmp_path / 'whole.npy'},{tmp_path / 'whole.npy'}"],
         "whole.npy holds float32 [4, 8]; the model takes 32 bytes, int32, shape "
         "[4, 2]"),
        (["--input", tmp_path / "missing.bin"], "missing.bin does not exist"),
        (["--input", tmp_path / "dir"], "--input names 1 folder(s) but the model has 2 input(s)"),
        (["--input", f"{tmp_path / 'dir'},{tmp_path / 'dir'}"], "holds no .bin or .npy file"),
        (["--input", f"{tmp_path / 'dir'},{tmp_path / 'short.bin'}"], "mixes files and folders"),
        (["--input", ",".join([str(tmp_path / "short.bin")] * 3)],
         "names 3 file(s) for a model with 2 inputs"),
    ]
    for argv, message in cases:
        code, out, err = _run(capsys, "--model", path, *argv)
        assert code == 1, (argv, out)
        assert err.startswith("[ERROR] ") and err.count("\n") == 1 and message in err, (argv, err)
    code, _, err = _run(capsys, "--model", tmp_path / "nothing.om")
    assert code == 1 and "--model" in err and "does not exist" in err
    code, _, err = _run(capsys, "--model", models["batch"][0])
    assert code == 1 and "input 0 'x' has a dynamic shape [-1, 3, 4, 4]: choose it with " \
                         "--dymBatch" in err
    code, _, err = _run(capsys, "--model", models["batch"][0], "--dymBatch", 3)
    assert code == 1 and "3 is not a gear of the model: its batch gears are [1, 2, 4, 8]" in err


def test_the_process_exits_with_one_line_and_no_traceback(models, tmp_path):
    (tmp_path / "short.bin").write_bytes(b"\0" * 30)
    command = [sys.executable, "-m", "ais_bench", "--model", models["static"][0]]
    for extra, code in ((["--input", str(tmp_path / "short.bin")], 1), (["--loop", "x"], 2),
                        ([], 0)):
        done = subprocess.run(command + extra, capture_output=True, text=True, timeout=120)
        assert done.returncode == code, done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        if code:
            assert done.stderr.count("\n") == 1 and done.stderr.startswith("[ERROR] ")
        else:
            assert "[INFO] throughput 1000*batchsize.mean(4)/NPU_compute_time.mean(" in done.stdout


# ---------------------------------------------------------------------------- pure parts


def test_plan_batches_pads_with_the_first_file(tmp_path):
    for i in range(5):
        np.zeros(2, np.float32).tofile(tmp_path / f"{i}.bin")
    files = io_utils.files_in_folder(str(tmp_path))
    spec = io_utils.InputSpec("x", np.dtype(np.float32), (4, 2))
    per_batch, batches = io_utils.plan_batches([files], [spec])
    assert per_batch == 4 and len(batches) == 2
    assert batches[1][0] == [files[4]] + [io_utils.PADDING_INFER_FAKE_FILE] * 3
    assert io_utils.natural_sort(["b10.bin", "b2.bin", "a.bin"]) == ["a.bin", "b2.bin", "b10.bin"]


def test_list_info_and_merged_mean():
    values = [3.0, 1.0, 2.0, 10.0]
    info = io_utils.list_info(values)
    assert info == {"min": 1.0, "max": 10.0, "mean": 4.0, "median": 2.5,
                    "percentile(50%)": 2.5, "percentile(90%)": pytest.approx(7.9),
                    "percentile(99%)": pytest.approx(9.79), "count": 4}
    assert io_utils.list_info([])["count"] == 0 and io_utils.list_info([])["mean"] == 0.0
    assert io_utils.merged_mean([(0, 2), (1, 3), (5, 6)]) == pytest.approx(4 / 3)
    assert io_utils.throughput(4, 2.0) == 2000.0 and io_utils.throughput(4, 0.0) == 0.0


def test_txt_output_format(tmp_path):
    io_utils.save_array(str(tmp_path / "f.txt"), np.array([[1.5, 2.0], [3.0, 4.25]], np.float32))
    io_utils.save_array(str(tmp_path / "i.txt"), np.arange(6, dtype=np.int64).reshape(3, 2))
    assert (tmp_path / "f.txt").read_text() == "1.500000 2.000000 \n3.000000 4.250000 \n"
    assert (tmp_path / "i.txt").read_text() == "0 1 \n2 3 \n4 5 \n"


def test_profiler_and_dump_flags(capsys, models, tmp_path):
    """--profiler / --dump: an acl.json beside the outputs; the timeline and every layer's
    dump land under <output>/<dirname>/ (each executed iteration, warm-up included)."""
    path = models["static"][0]
    code, out, err = _run(capsys, "--model", path, "--loop", "2", "--warmup_count", "1",
                          "--output", tmp_path / "o", "--output_dirname", "r", "--profiler",
                          "1", "--dump", "1")
    assert code == 0, err
    run = tmp_path / "o" / "r"
    assert {"trace.json", "summary.txt", "timeline.png"} <= {
        p.name for p in (run / "profiler").iterdir()}
    config = json.loads((run / "acl.json").read_text())
    assert config["dump"]["dump_mode"] == "all"
    dumps = sorted((run / "dump").glob("*/0/*/*/*/*"))
    iterations = {p.parent.name for p in dumps}
    assert len(iterations) == 3                      # 1 warm-up + 2 loops
    for dump in dumps:
        arrays = np.load(dump)
        assert any(k.startswith("output_") for k in arrays.files)
    code, _, err = _run(capsys, "--model", path, "--output", tmp_path / "o", "--dump", "1",
                        "--acl_json_path", run / "acl.json")
    assert code == 2 and "cannot be combined" in err
