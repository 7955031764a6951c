"""AIPP: what preprocessing inside the model costs, in the same run.

    python benchmarks/bench_aipp.py [--rounds 6]

1. ResNet-50 (random weights, benchmarks/resnet.py) at 224x224, batch 1, through
   acl.mdl.execute: fed a YUV420SP (NV12) uint8 image through static AIPP (CSC to RGB,
   mean / var_reci normalisation) vs the same model fed the already-normalised float32
   tensor. Bar: <= 1.10x.
2. The same model with dynamic AIPP set to the same parameters vs static AIPP. Bar: <= 1.15x.
3. The AIPP stage alone (an Identity network behind AIPP, through acl.mdl.execute) vs
   OpenCV cvtColor(NV12 -> RGB) + normalise in numpy into an NCHW float32 array (reported).

Rounds alternate between the two sides; each side's best round is compared.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

import acl
from openacl.atc import convert

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DeviceModel, acl_session, alternate  # noqa: E402
from resnet import build_resnet50  # noqa: E402

SIZE = 224
MEAN = (124, 117, 104)
VAR_RECI = (0.0171, 0.0175, 0.0174)
STATIC = f"""aipp_op {{
    aipp_mode : static
    input_format : YUV420SP_U8
    src_image_size_w : {SIZE}
    src_image_size_h : {SIZE}
    csc_switch : true
    matrix_r0c0 : 256
    matrix_r0c1 : 0
    matrix_r0c2 : 359
    matrix_r1c0 : 256
    matrix_r1c1 : -88
    matrix_r1c2 : -183
    matrix_r2c0 : 256
    matrix_r2c1 : 454
    matrix_r2c2 : 0
    input_bias_0 : 0
    input_bias_1 : 128
    input_bias_2 : 128
    mean_chn_0 : {MEAN[0]}
    mean_chn_1 : {MEAN[1]}
    mean_chn_2 : {MEAN[2]}
    var_reci_chn_0 : {VAR_RECI[0]}
    var_reci_chn_1 : {VAR_RECI[1]}
    var_reci_chn_2 : {VAR_RECI[2]}
}}
"""
DYNAMIC = f"aipp_op {{ aipp_mode : dynamic max_src_image_size : {SIZE * SIZE * 3 // 2} }}\n"


def nv12_image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, SIZE * SIZE * 3 // 2, dtype=np.uint8)


def atc(workdir: str, source: str, name: str, config: str | None) -> str:
    args = [f"--model={source}", "--framework=5", f"--output={workdir}/{name}",
            "--soc_version=Ascend310P3"]
    if config:
        with open(f"{workdir}/{name}.cfg", "w") as file:
            file.write(config)
        args.append(f"--insert_op_conf={workdir}/{name}.cfg")
    return convert(args, on_warning=lambda message: None)


def set_dynamic(model: DeviceModel) -> None:
    """The static config's parameters, as a program sets them for dynamic AIPP."""
    index, ret = acl.mdl.get_input_index_by_name(model.desc, "ascend_dynamic_aipp_data")
    assert ret == 0
    aipp = acl.mdl.create_aipp(1)
    assert acl.mdl.set_aipp_input_format(aipp, 1) == 0
    assert acl.mdl.set_aipp_src_image_size(aipp, SIZE, SIZE) == 0
    assert acl.mdl.set_aipp_csc_params(aipp, 1, 256, 0, 359, 256, -88, -183, 256, 454, 0,
                                       0, 0, 0, 0, 128, 128) == 0
    assert acl.mdl.set_aipp_dtc_pixel_mean(aipp, *MEAN, 0, 0) == 0
    assert acl.mdl.set_aipp_pixel_var_reci(aipp, *VAR_RECI, 1.0, 0) == 0
    assert acl.mdl.set_input_aipp(model.model_id, model.inputs, index, aipp) == 0
    acl.mdl.destroy_aipp(aipp)


def identity_network(path: str) -> str:
    shape = [1, 3, SIZE, SIZE]
    graph = helper.make_graph([helper.make_node("Identity", ["data"], ["out"])], "identity",
                              [helper.make_tensor_value_info("data", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, shape)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def opencv_preprocess(image: np.ndarray):
    import cv2

    planes = image.reshape(SIZE * 3 // 2, SIZE)
    mean = np.array(MEAN, np.float32).reshape(1, 1, 3)
    scale = np.array(VAR_RECI, np.float32).reshape(1, 1, 3)

    def run():
        rgb = cv2.cvtColor(planes, cv2.COLOR_YUV2RGB_NV12)
        return np.ascontiguousarray(((rgb - mean) * scale).transpose(2, 0, 1))[None]

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    image = nv12_image()
    rows = []
    with acl_session(), tempfile.TemporaryDirectory() as workdir:
        source = f"{workdir}/resnet50.onnx"
        onnx.save(build_resnet50(batch=1), source)
        plain = DeviceModel(atc(workdir, source, "plain", None))
        static = DeviceModel(atc(workdir, source, "static", STATIC))
        dynamic = DeviceModel(atc(workdir, source, "dynamic", DYNAMIC))
        static.fill(0, image)
        dynamic.fill(0, image)
        set_dynamic(dynamic)
        plain.fill(0, np.random.default_rng(1).standard_normal((1, 3, SIZE, SIZE))
                   .astype(np.float32))
        calls = 10
        t_static, t_plain = alternate(static.execute, plain.execute, calls, args.rounds)
        rows.append(("ResNet-50: static AIPP (NV12 in) vs float32 in", t_static, t_plain, 1.10))
        t_dynamic, t_static = alternate(dynamic.execute, static.execute, calls, args.rounds)
        rows.append(("ResNet-50: dynamic AIPP vs static AIPP", t_dynamic, t_static, 1.15))
        assert static.output_bytes() == dynamic.output_bytes(), "dynamic != static AIPP"
        for model in (plain, static, dynamic):
            model.release()

        stage = DeviceModel(atc(workdir, identity_network(f"{workdir}/id.onnx"), "stage",
                                STATIC))
        stage.fill(0, image)
        t_stage, t_cv = alternate(stage.execute, opencv_preprocess(image), 200, args.rounds)
        rows.append(("AIPP stage alone vs OpenCV cvtColor + normalise", t_stage, t_cv, None))
        stage.release()
    for name, ours, theirs, bar in rows:
        verdict = "" if bar is None else (f"  (bar {bar:.2f}x: "
                                          f"{'PASS' if ours / theirs <= bar else 'FAIL'})")
        print(f"{name:<50} {ours * 1e3:8.3f} ms vs {theirs * 1e3:8.3f} ms   "
              f"ratio {ours / theirs:.3f}x{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
