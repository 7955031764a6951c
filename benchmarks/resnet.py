"""A ResNet-50-shaped ONNX model with random weights, for benchmarks.

    from benchmarks.resnet import build_resnet50, save_resnet50
    model = build_resnet50(batch=1)            # onnx.ModelProto
    save_resnet50("resnet50.onnx", batch=None)  # symbolic batch dim "batch"

    python benchmarks/resnet.py resnet50.onnx [--batch N | --dynamic]

The architecture is the standard ResNet-50 (He et al. 2015, torchvision layout, "v1.5":
stride 2 in the 3x3 conv of each downsampling bottleneck): 7x7/2 conv 64 -> 3x3/2 max pool ->
bottleneck stages of [3, 4, 6, 3] blocks with widths 64/128/256/512 (x4 expansion),
projection (1x1 conv) shortcuts on the first block of each stage -> global average pool ->
flatten -> Gemm 2048 -> 1000 -> Softmax. BatchNorm is taken as folded into the convolutions,
so the graph uses only Conv (with bias), Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm
and Softmax, opset 17. About 25.5M parameters (~98 MiB of float32).

Input ``data``: float32 [batch, 3, 224, 224] (NCHW). Output ``prob``: float32 [batch, 1000].

The weights are random (``numpy.random.default_rng(seed)``), He-scaled; the last conv of each
residual branch is scaled down so activations stay bounded through the 16 residual additions
and the softmax is not saturated. It computes nothing meaningful: it is for timing and for
exercising the runtime on a realistically sized and shaped graph.
"""

from __future__ import annotations

import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
STAGES = ((64, 3), (128, 4), (256, 6), (512, 3))  # (bottleneck width, blocks)
EXPANSION = 4
NUM_CLASSES = 1000
RESIDUAL_SCALE = 0.2  # extra gain on the last conv of each residual branch


class _Builder:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def _weight(self, name: str, shape: tuple[int, ...], std: float) -> None:
        w = self.rng.standard_normal(shape, dtype=np.float32)
        w *= np.float32(std)
        self.inits.append(numpy_helper.from_array(w, name))

    def _bias(self, name: str, n: int) -> None:
        b = self.rng.standard_normal(n, dtype=np.float32)
        b *= np.float32(0.01)
        self.inits.append(numpy_helper.from_array(b, name))

    def conv(self, x: str, name: str, c_in: int, c_out: int, k: int, stride: int = 1,
             relu: bool = True, gain: float = 1.0) -> str:
        """Conv (BatchNorm folded: weight + bias) [+ Relu]; returns the output name."""
        fan_in = c_in * k * k
        self._weight(f"{name}.weight", (c_out, c_in, k, k), gain * np.sqrt(2.0 / fan_in))
        self._bias(f"{name}.bias", c_out)
        pad = k // 2
        out = name
        self.nodes.append(helper.make_node(
            "Conv", [x, f"{name}.weight", f"{name}.bias"], [out], name=name,
            kernel_shape=[k, k], strides=[stride, stride], pads=[pad, pad, pad, pad]))
        if relu:
            self.nodes.append(helper.make_node("Relu", [out], [f"{name}.relu"], name=f"{name}.relu"))
            out = f"{name}.relu"
        return out

    def bottleneck(self, x: str, name: str, c_in: int, width: int, stride: int) -> str:
        c_out = width * EXPANSION
        y = self.conv(x, f"{name}.conv1", c_in, width, 1)
        y = self.conv(y, f"{name}.conv2", width, width, 3, stride=stride)
        y = self.conv(y, f"{name}.conv3", width, c_out, 1, relu=False, gain=RESIDUAL_SCALE)
        if stride != 1 or c_in != c_out:
            shortcut = self.conv(x, f"{name}.downsample", c_in, c_out, 1, stride=stride,
                                 relu=False, gain=np.sqrt(0.5))
        else:
            shortcut = x
        self.nodes.append(helper.make_node("Add", [y, shortcut], [f"{name}.add"], name=f"{name}.add"))
        self.nodes.append(helper.make_node("Relu", [f"{name}.add"], [f"{name}.out"], name=f"{name}.relu"))
        return f"{name}.out"


def build_resnet50(batch: int | None = 1, seed: int = 0) -> onnx.ModelProto:
    """ResNet-50 (BatchNorm folded) with random He-scaled weights drawn from ``default_rng(seed)``.

    ``batch``: the input's leading dimension; ``None`` makes it the symbolic dim ``"batch"``.
    Input ``data`` float32 [batch, 3, 224, 224]; output ``prob`` float32 [batch, 1000].
    """
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        raise ValueError(f"batch must be a positive int or None, got {batch!r}")
    b = _Builder(np.random.default_rng(seed))
    x = b.conv("data", "conv1", 3, 64, 7, stride=2)
    b.nodes.append(helper.make_node("MaxPool", [x], ["maxpool"], name="maxpool",
                                    kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x, c_in = "maxpool", 64
    for stage, (width, blocks) in enumerate(STAGES, start=1):
        for i in range(blocks):
            stride = 2 if (i == 0 and stage > 1) else 1
            x = b.bottleneck(x, f"layer{stage}.{i}", c_in, width, stride)
            c_in = width * EXPANSION
    b.nodes.append(helper.make_node("GlobalAveragePool", [x], ["avgpool"], name="avgpool"))
    b.nodes.append(helper.make_node("Flatten", ["avgpool"], ["flatten"], name="flatten", axis=1))
    b._weight("fc.weight", (NUM_CLASSES, c_in), np.sqrt(1.0 / c_in))
    b._bias("fc.bias", NUM_CLASSES)
    b.nodes.append(helper.make_node("Gemm", ["flatten", "fc.weight", "fc.bias"], ["fc"],
                                    name="fc", transB=1))
    b.nodes.append(helper.make_node("Softmax", ["fc"], ["prob"], name="softmax", axis=-1))

    dim = "batch" if batch is None else batch
    graph = helper.make_graph(
        b.nodes, "resnet50",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [dim, 3, 224, 224])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [dim, NUM_CLASSES])],
        initializer=b.inits,
    )
    graph.doc_string = f"ResNet-50 architecture, BatchNorm folded, random weights (seed {seed})"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="openacl benchmarks/resnet.py", producer_version="1")
    model.ir_version = IR_VERSION
    return model


def parameter_count(model: onnx.ModelProto) -> int:
    """Number of scalars in the model's initializers."""
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer)


def save_resnet50(path, batch: int | None = 1, seed: int = 0) -> onnx.ModelProto:
    """Build with :func:`build_resnet50` and write it to ``path`` (one file, ~98 MiB)."""
    model = build_resnet50(batch, seed)
    onnx.save_model(model, str(path))
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="where to write the .onnx file")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--batch", type=int, default=1, help="static batch size (default 1)")
    group.add_argument("--dynamic", action="store_true", help="symbolic batch dim 'batch'")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = save_resnet50(args.path, None if args.dynamic else args.batch, args.seed)
    print(f"wrote {args.path}: {parameter_count(model):,} parameters, {len(model.graph.node)} nodes")


if __name__ == "__main__":
    main()
