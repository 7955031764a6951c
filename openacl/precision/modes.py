"""ATC's precision modes as a table: what each value of ``--precision_mode`` and
``--precision_mode_v2`` makes an NPU compute in half precision.

This module is a leaf (no onnx, no engines): ``atc`` validates against it, the ``.om``
record checks against it, and the run-time policy reads what each mode means from it.

Each mode has a *scope* (which operators an NPU computes in half precision) and a *half*
type (float16 or bfloat16):

==============  ==========================================================================
scope           the NPU's numerics (Huawei's ATC documentation of the mode)
==============  ==========================================================================
``origin``      every operator keeps the model's own precision (float32 stays float32)
``cube_in``     matrix ("cube") operators (Conv, MatMul, Gemm, ...) read float16 inputs
                and write float32; vector operators keep float32
``cube``        cube operators compute in half precision (inputs and outputs); vector
                operators keep float32 where they support it
``all``         every operator that supports half precision computes in it
``mixed``       automatic mixed precision: operators on the white list compute in half
                precision, the black list keeps float32, gray operators follow the
                operator before them (see ``openacl.precision.mixlist``)
==============  ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Mode", "MODES", "PRECISION_MODE", "PRECISION_MODE_V2", "DEFAULT_MODE",
           "UNSUPPORTED", "mode", "SCOPES", "CUBE_OPS"]

PRECISION_MODE = "precision_mode"
PRECISION_MODE_V2 = "precision_mode_v2"
SCOPES = ("origin", "cube_in", "cube", "all", "mixed")

# ONNX operator types an NPU runs on its matrix (cube) unit.
CUBE_OPS = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm", "Einsum"})


@dataclass(frozen=True)
class Mode:
    """One value of one ATC option, and what it makes the NPU compute."""

    option: str          # "precision_mode" or "precision_mode_v2"
    value: str           # as ATC spells it
    scope: str           # one of SCOPES
    half: str | None     # "f16" or "bf16" (None for "origin")
    text: str            # one line: what the NPU does

    @property
    def label(self) -> str:
        return f"{self.option}={self.value}"


def _table() -> dict:
    rows = [
        (PRECISION_MODE, "force_fp32", "cube_in", "f16",
         "cube operators read float16 and write float32 (as cube_fp16in_fp32out); vector "
         "operators compute in float32"),
        (PRECISION_MODE, "cube_fp16in_fp32out", "cube_in", "f16",
         "cube operators read float16 and write float32; vector operators compute in float32"),
        (PRECISION_MODE, "force_fp16", "all", "f16",
         "every operator that supports float16 computes in float16 (ATC's default)"),
        (PRECISION_MODE, "allow_fp32_to_fp16", "cube", "f16",
         "cube operators compute in float16; vector operators keep float32"),
        (PRECISION_MODE, "allow_fp32_to_bf16", "cube", "bf16",
         "cube operators compute in bfloat16; vector operators keep float32"),
        (PRECISION_MODE, "must_keep_origin_dtype", "origin", None,
         "every operator keeps the model's precision"),
        (PRECISION_MODE, "allow_mix_precision", "mixed", "f16",
         "mixed float16/float32 by the black/white/gray lists"),
        (PRECISION_MODE, "allow_mix_precision_fp16", "mixed", "f16",
         "mixed float16/float32 by the black/white/gray lists"),
        (PRECISION_MODE, "allow_mix_precision_bf16", "mixed", "bf16",
         "mixed bfloat16/float32 by the black/white/gray lists"),
        (PRECISION_MODE_V2, "fp16", "all", "f16",
         "every operator computes in float16 (the default of precision_mode_v2)"),
        (PRECISION_MODE_V2, "origin", "origin", None,
         "every operator keeps the model's precision"),
        (PRECISION_MODE_V2, "cube_fp16in_fp32out", "cube_in", "f16",
         "cube operators read float16 and write float32; vector operators compute in float32"),
        (PRECISION_MODE_V2, "mixed_float16", "mixed", "f16",
         "mixed float16/float32 by the black/white/gray lists"),
        (PRECISION_MODE_V2, "mixed_bfloat16", "mixed", "bf16",
         "mixed bfloat16/float32 by the black/white/gray lists"),
    ]
    table: dict = {PRECISION_MODE: {}, PRECISION_MODE_V2: {}}
    for option, value, scope, half, text in rows:
        table[option][value] = Mode(option, value, scope, half, text)
    return table


MODES = _table()
"""option -> value -> Mode, for every value openacl emulates."""

UNSUPPORTED = {
    PRECISION_MODE_V2: {
        "mixed_hif8": "HiFloat8 (Ascend 950 only) is not emulated by openacl",
        "cube_hif8": "HiFloat8 (Ascend 950 only) is not emulated by openacl",
    },
}
"""Values ATC accepts that openacl refuses, with the reason."""

DEFAULT_MODE = MODES[PRECISION_MODE]["force_fp16"]
"""What ATC compiles an inference model with when neither option is given."""


def mode(option: str, value: str) -> Mode:
    """The Mode for ``--option=value``; KeyError if openacl does not know it."""
    return MODES[option][value]
