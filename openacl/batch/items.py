"""An item given as a file's bytes, turned into the model's inputs.

The kind is read from the bytes, not the file name: ``.npy`` (one array: a one-input
model), ``.npz`` (one array per input, named after the inputs, or ``arr_0``, ``arr_1``...
in input order), a JPEG (decoded by DVPP into a YUV420SP AIPP input), anything else raw
bytes (``.bin``, as ais_bench reads them: the input's dtype, one item's size).
"""

from __future__ import annotations

import io
import zipfile

import numpy as np

from openacl.batch.spec import ItemError, ModelSpec

__all__ = ["kind_of", "arrays_from_bytes", "JPEG", "NPY", "NPZ", "PNG", "RAW"]

NPY, NPZ, JPEG, PNG, RAW = "npy", "npz", "jpeg", "png", "raw"

_MAGIC = ((b"\x93NUMPY", NPY), (b"PK\x03\x04", NPZ), (b"\xff\xd8", JPEG),
          (b"\x89PNG\r\n\x1a\n", PNG))


def kind_of(data) -> str:
    """``npy``, ``npz``, ``jpeg``, ``png`` or ``raw``, from the leading bytes."""
    head = bytes(data[:8])
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return RAW


def arrays_from_bytes(data, spec: ModelSpec) -> list[np.ndarray]:
    """One array per model input from an ``.npy``, ``.npz`` or raw item (checked later
    against the inputs). Images are the caller's (they need DVPP). Raises ``ItemError``."""
    kind = kind_of(data)
    inputs = spec.inputs
    if kind == NPY:
        if len(inputs) != 1:
            raise ItemError(f"an .npy item holds one array; the model has {len(inputs)} "
                            f"inputs {[i.name for i in inputs]}: give an .npz with one array "
                            f"per input")
        return [_load(data, "npy")]
    if kind == NPZ:
        with _load(data, "npz") as archive:
            return _npz_arrays(archive, inputs)
    if kind in (JPEG, PNG):
        raise ItemError(f"a {kind.upper()} image: the model has no YUV420SP AIPP input to "
                        f"decode it into (it takes {inputs[0].describe()})")
    if len(inputs) != 1:
        raise ItemError(f"raw bytes ({len(data)}) for a model of {len(inputs)} inputs: give "
                        f"an .npz with one array per input")
    (spec_in,) = inputs
    itemsize = spec_in.dtype.itemsize
    need = spec_in.item_count * itemsize
    if len(data) != need:
        raise ItemError(f"{len(data)} bytes with no .npy, .npz or JPEG header, so raw "
                        f"bytes; input 0 ({spec_in.name!r}) takes {need} bytes per item "
                        f"({spec_in.describe()})")
    return [np.frombuffer(data, spec_in.dtype)]


def _load(data, what: str):
    try:
        return np.load(io.BytesIO(bytes(data)), allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ItemError(f"unreadable .{what} item: {error}") from None


def _npz_arrays(archive, inputs) -> list[np.ndarray]:
    names = list(archive.files)
    wanted = [i.name for i in inputs]
    if all(name in names for name in wanted):
        keys = wanted
    else:
        keys = [f"arr_{index}" for index in range(len(inputs))]
        if not all(key in names for key in keys):
            raise ItemError(f"the .npz holds {names}; the model's inputs are {wanted} (name "
                            f"the arrays after them, or save them in order as arr_0...)")
    try:
        return [archive[key] for key in keys]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ItemError(f"unreadable .npz item: {error}") from None
