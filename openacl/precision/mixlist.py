"""Mixed precision's black/white/gray lists, ``--modify_mixlist`` and ``--keep_dtype`` entries.

On an NPU, each operator's entry in the SoC's ``aic-<soc>-ops-info.json`` says whether
mixed precision may lower it to half precision: ``precision_reduce`` true (white list),
false (black list) or absent (gray list: the operator follows the one before it). openacl
has no ops-info file; it ships the approximation below, in ONNX operator types, and applies
``--modify_mixlist`` on top of it exactly as ATC does. Names in the lists may be ONNX types
(``Conv``) or Ascend IR types (``Conv2D``, ``MatMulV2``); the table ``ASCEND_TO_ONNX`` maps the
common Ascend IR names.

This module is a leaf (no onnx): ``atc`` validates with it, the run-time rewrite uses it.
"""

from __future__ import annotations

__all__ = ["WHITE", "BLACK", "ASCEND_TO_ONNX", "LIST_KEYS", "ACTION_KEYS", "onnx_type",
           "check_mixlist", "effective_lists", "OP_TYPE_PREFIX", "parse_keep_dtype",
           "MixlistError"]

# Lowered to half precision under mixed precision: the matrix (cube) operators.
WHITE = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm", "Einsum"})

# Kept in float32 under mixed precision: operators whose float16 results lose accuracy
# (exponentials, logarithms, powers, reductions and normalisations over many values).
BLACK = frozenset({
    "Exp", "Log", "Pow", "Sqrt", "Reciprocal", "Softmax", "LogSoftmax", "Softplus",
    "ReduceSum", "ReduceMean", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum",
    "ReduceLogSumExp", "ReduceProd", "CumSum", "LayerNormalization", "InstanceNormalization",
    "GroupNormalization", "LpNormalization", "MeanVarianceNormalization", "Erf",
})

# Ascend IR operator types (as ops-info.json, --keep_dtype and --modify_mixlist name them)
# -> the ONNX types openacl's graphs hold. A name not listed is taken as an ONNX type.
ASCEND_TO_ONNX = {
    "Conv2D": {"Conv"}, "Conv3D": {"Conv"}, "DepthwiseConv2D": {"Conv"},
    "Conv2DTranspose": {"ConvTranspose"}, "Conv2DBackpropInput": {"ConvTranspose"},
    "Conv3DTranspose": {"ConvTranspose"}, "Deconvolution": {"ConvTranspose"},
    "MatMulV2": {"MatMul", "Gemm"}, "MatMulV3": {"MatMul", "Gemm"},
    "BatchMatMul": {"MatMul"}, "BatchMatMulV2": {"MatMul"}, "FullyConnection": {"Gemm"},
    "SoftmaxV2": {"Softmax"}, "LogSoftmaxV2": {"LogSoftmax"}, "AddV2": {"Add"},
    "RealDiv": {"Div"}, "Rsqrt": {"Sqrt", "Reciprocal"}, "ReduceSumD": {"ReduceSum"},
    "ReduceMeanD": {"ReduceMean"}, "ReduceProdD": {"ReduceProd"},
    "LayerNorm": {"LayerNormalization"}, "LayerNormV3": {"LayerNormalization"},
    "BNInference": {"BatchNormalization"}, "BNInferenceD": {"BatchNormalization"},
    "BatchNorm": {"BatchNormalization"}, "AvgPool": {"AveragePool"},
    "AvgPoolV2": {"AveragePool"}, "MaxPoolV3": {"MaxPool"}, "ConcatD": {"Concat"},
    "ConcatV2": {"Concat"}, "ConcatV2D": {"Concat"}, "TransposeD": {"Transpose"},
    "ResizeBilinearV2": {"Resize"}, "ResizeNearestNeighborV2": {"Resize"},
    "ClipByValue": {"Clip"}, "Relu6": {"Clip"}, "Gelu": {"Gelu"},
}

LIST_KEYS = ("black-list", "white-list")
ACTION_KEYS = ("to-add", "to-remove")
OP_TYPE_PREFIX = "OpType::"


class MixlistError(ValueError):
    """A --modify_mixlist or --keep_dtype file that is not what ATC accepts (says why)."""


def onnx_type(name: str) -> set[str]:
    """The ONNX operator types an Ascend IR (or ONNX) type name stands for."""
    return set(ASCEND_TO_ONNX.get(name, {name}))


def check_mixlist(data) -> dict:
    """Check a --modify_mixlist JSON document; return it normalised (every key present).

    The document is ``{"black-list": {"to-add": [...], "to-remove": [...]}, "white-list":
    {...}}``, both lists and both actions optional, names being operator types.
    """
    if not isinstance(data, dict):
        raise MixlistError(f"the file must hold a JSON object, not {type(data).__name__}")
    unknown = [key for key in data if key not in LIST_KEYS]
    if unknown:
        raise MixlistError(f"unknown key(s) {unknown}; the keys are {list(LIST_KEYS)}")
    result = {}
    for key in LIST_KEYS:
        section = data.get(key, {})
        if not isinstance(section, dict):
            raise MixlistError(f'"{key}" must be a JSON object with "to-add" / "to-remove"')
        wrong = [action for action in section if action not in ACTION_KEYS]
        if wrong:
            raise MixlistError(f'unknown key(s) {wrong} in "{key}"; the keys are '
                               f"{list(ACTION_KEYS)}")
        result[key] = {}
        for action in ACTION_KEYS:
            names = section.get(action, [])
            if not isinstance(names, list) or not all(isinstance(n, str) and n.strip()
                                                      for n in names):
                raise MixlistError(f'"{key}"."{action}" must be a list of operator types')
            result[key][action] = [name.strip() for name in names]
    black, white = (set(result[key]["to-add"]) for key in LIST_KEYS)
    both = sorted(black & white)
    if both:
        raise MixlistError(f"{both} added to both the black list and the white list")
    return result


def effective_lists(mixlist: dict | None) -> tuple[frozenset, frozenset]:
    """(white, black) ONNX types after applying a checked --modify_mixlist document.

    As ATC: ``to-add`` moves a type into that list (out of the other one), ``to-remove``
    takes it out of that list (it becomes gray).
    """
    white, black = set(WHITE), set(BLACK)
    if mixlist:
        for key, into, other in (("black-list", black, white), ("white-list", white, black)):
            for name in mixlist[key]["to-remove"]:
                into.difference_update(onnx_type(name))
            for name in mixlist[key]["to-add"]:
                types = onnx_type(name)
                into.update(types)
                other.difference_update(types)
    return frozenset(white), frozenset(black)


def parse_keep_dtype(text: str) -> list[str]:
    """The entries of a --keep_dtype file: one node name or ``OpType::Type`` per line.

    Blank lines and ``#`` comment lines are skipped.
    """
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith(OP_TYPE_PREFIX) and not entry[len(OP_TYPE_PREFIX):].strip():
            raise MixlistError(f"line {number}: {entry!r} names no operator type")
        entries.append(entry)
    return entries
