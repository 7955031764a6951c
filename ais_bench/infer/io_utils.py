"""Files in and out of ``python -m ais_bench``, and the numbers of its summary.

Inputs follow ais_bench: ``--input`` is a list of ``.bin``/``.npy`` files or of folders (one
folder per model input, its files taken in natural order). The files of one input are
grouped into batches by size: when a file holds a fraction of the input the model takes
(``input size / file size`` files per batch), consecutive files are joined, and a short last
batch is padded with copies of its first file, whose outputs are not written. Outputs are
written as ``<stem of the input 0 file>_<output index>.<bin|npy|txt>`` (``pure_infer_data_<i>``
without ``--input``), split along ``--output_batchsize_axis`` into one file per input file.

The summary statistics are ais_bench's (numpy min / max / mean / median / percentile 99 of
the times in milliseconds; throughput ``1000 * batchsize / mean compute time``) plus the
percentiles 50 and 90 that its users compute by hand.

Everything here is a pure function of its arguments and the files it names: no session, no
printing. Mistakes in the user's files raise :class:`AisBenchError` with one line that names
the file, the expected size, dtype and shape.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["AisBenchError", "InputSpec", "PURE_INFER_FAKE_FILE", "PADDING_INFER_FAKE_FILE",
           "natural_sort", "files_in_folder", "split_inputs", "file_nbytes", "plan_batches",
           "load_input", "pure_input", "save_outputs", "save_array", "list_info",
           "throughput", "merged_mean", "write_summary"]

PURE_INFER_FAKE_FILE = "pure_infer_data"
PADDING_INFER_FAKE_FILE = "padding_infer_fake_file"
PERCENTILES = (50, 90, 99)
_INPUT_SUFFIXES = (".npy", ".NPY", ".bin", ".BIN")


class AisBenchError(Exception):
    """A mistake in the command line or the user's files: one line, and the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code

    def __reduce__(self):   # crosses process boundaries from the device workers
        return (type(self), (str(self), self.code))


@dataclass(frozen=True)
class InputSpec:
    """What one model input takes for this run: name, numpy dtype and resolved shape.

    ``shape`` is None when the run takes it from each ``.npy`` file (the auto modes).
    """

    name: str
    dtype: np.dtype
    shape: tuple | None

    @property
    def nbytes(self) -> int | None:
        if self.shape is None or any(dim < 0 for dim in self.shape):
            return None
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def describe(self) -> str:
        shape = "from each .npy file" if self.shape is None else f"shape {list(self.shape)}"
        size = "" if self.nbytes is None else f"{self.nbytes} bytes, "
        return f"{size}{np.dtype(self.dtype).name}, {shape}"


def natural_sort(paths: list[str]) -> list[str]:
    """Sort so that ``2.bin`` comes before ``10.bin`` (ais_bench's order)."""
    def key(path):
        return [int(part) if part.isdigit() else part.lower()
                for part in re.split(r"([0-9]+)", path)]
    return sorted(paths, key=key)


def files_in_folder(folder: str) -> list[str]:
    """The .bin/.npy files of ``folder``, in natural order."""
    if not os.path.isdir(folder):
        raise AisBenchError(f"--input folder {folder} does not exist")
    files = [os.path.join(folder, name) for name in os.listdir(folder)
             if name.endswith(_INPUT_SUFFIXES) and os.path.isfile(os.path.join(folder, name))]
    if not files:
        raise AisBenchError(f"--input folder {folder} holds no .bin or .npy file")
    return natural_sort(files)


def split_inputs(inputs: list[str], input_count: int) -> list[list[str]]:
    """Turn ``--input``'s list into one list of files per model input.

    A list of files is cut into ``input_count`` consecutive equal parts; a list of folders
    must name one folder per model input.
    """
    if not inputs or any(not path for path in inputs):
        raise AisBenchError(f"--input {','.join(inputs)!r} has an empty path")
    for path in inputs:
        if not os.path.exists(path):
            raise AisBenchError(f"--input {path} does not exist")
    if all(os.path.isdir(path) for path in inputs):
        if len(inputs) != input_count:
            raise AisBenchError(f"--input names {len(inputs)} folder(s) but the model has "
                                f"{input_count} input(s): give one folder per input, in order")
        return [files_in_folder(folder) for folder in inputs]
    folders = [path for path in inputs if os.path.isdir(path)]
    if folders:
        raise AisBenchError(f"--input mixes files and folders ({folders[0]}): give either "
                            f"files or one folder per model input")
    for path in inputs:
        if not path.endswith(_INPUT_SUFFIXES):
            raise AisBenchError(f"--input {path} is neither a .bin nor a .npy file")
    if len(inputs) % input_count:
        raise AisBenchError(f"--input names {len(inputs)} file(s) for a model with "
                            f"{input_count} inputs: give the same number of files per input")
    per_input = len(inputs) // input_count
    return [inputs[i * per_input:(i + 1) * per_input] for i in range(input_count)]


def file_nbytes(path: str) -> int:
    """Bytes of data in ``path``: the array's for a .npy, the file's for a .bin."""
    if path.endswith((".npy", ".NPY")):
        return _load_npy(path).nbytes
    return os.path.getsize(path)


def plan_batches(fileslist: list[list[str]], specs: list[InputSpec],
                 no_combine: bool = False) -> tuple[int, list[list[list[str]]]]:
    """Group the files into batches: return (files per batch, batches).

    Each batch holds, for each model input, the list of its files (padded at the end with
    :data:`PADDING_INFER_FAKE_FILE`). Files per batch is ``input 0 size / file 0 size``, as in
    ais_bench; 1 in the auto modes (each file is a whole input).
    """
    if len(fileslist) != len(specs):
        raise AisBenchError(f"{len(fileslist)} lists of input files for a model with "
                            f"{len(specs)} inputs")
    counts = {len(files) for files in fileslist}
    if len(counts) != 1:
        numbers = ", ".join(f"{spec.name}: {len(files)}" for spec, files in zip(specs, fileslist))
        raise AisBenchError(f"the model inputs have different numbers of files ({numbers})")
    if no_combine:
        per_batch = 1
    else:
        first = fileslist[0][0]
        size = file_nbytes(first)
        want = specs[0].nbytes
        if want is None:
            raise AisBenchError(f"the size of input {specs[0].name!r} is not known before the "
                                f"run: give --dymShape / --dymDims, or an auto mode with .npy "
                                f"files")
        if size == 0 or want % size:
            raise AisBenchError(f"{first} holds {size} bytes, which does not divide input 0 "
                                f"{specs[0].name!r} ({specs[0].describe()})")
        per_batch = want // size
    batches = []
    count = len(fileslist[0])
    for start in range(0, count, per_batch):
        batch = []
        for files in fileslist:
            chunk = list(files[start:start + per_batch])
            chunk += [PADDING_INFER_FAKE_FILE] * (per_batch - len(chunk))
            batch.append(chunk)
        batches.append(batch)
    return per_batch, batches


def load_input(files: list[str], spec: InputSpec, index: int = 0) -> np.ndarray:
    """Read the files of one input of one batch into the array the model takes.

    ``.npy`` arrays must have the input's dtype; ``.bin`` files are raw bytes. The bytes of
    the files are joined in order and must make exactly the input's size. With
    ``spec.shape`` None (auto modes) the single ``.npy`` file is the input, shape and all.
    """
    if spec.shape is None:
        path = files[0]
        if not path.endswith((".npy", ".NPY")):
            raise AisBenchError(f"{path}: the auto shape modes read each input's shape from a "
                                f".npy file; a .bin file has no shape")
        return _checked_npy(path, spec, index)
    parts = []
    for path in files:
        source = files[0] if path == PADDING_INFER_FAKE_FILE else path
        if source.endswith((".npy", ".NPY")):
            data = _checked_npy(source, spec, index)
        else:
            data = _read_bin(source)
        parts.append(np.ascontiguousarray(data).reshape(-1).view(np.uint8))
    data = parts[0] if len(parts) == 1 else np.concatenate(parts)
    if data.nbytes != spec.nbytes:
        named = files[0] if len(files) == 1 else f"{len(files)} files from {files[0]}"
        raise AisBenchError(f"input {index} {spec.name!r}: {named} hold(s) {data.nbytes} bytes; "
                            f"the model takes {spec.describe()}")
    return data.view(spec.dtype).reshape(spec.shape)


def pure_input(spec: InputSpec, pure_data_type: str, rng: np.random.Generator) -> np.ndarray:
    """ais_bench's synthetic input: all-zero bytes, or random bytes in [0, 255]."""
    if spec.nbytes is None:
        raise AisBenchError(f"input {spec.name!r} has no fixed shape here: without --input, "
                            f"give its shape with --dymShape / --dymDims")
    if pure_data_type == "random":
        data = rng.integers(0, 256, spec.nbytes, dtype=np.uint8)
    else:
        data = np.zeros(spec.nbytes, np.uint8)
    return data.view(spec.dtype).reshape(spec.shape)


def save_outputs(outputs: list[np.ndarray], folder: str, batch: list[list[str]], outfmt: str,
                 axis: int) -> dict[int, list[str]]:
    """Write one batch's outputs; return {position in batch: [written paths]}.

    Each output is split along ``axis`` into one part per file of the batch; parts that
    belong to padding are not written.
    """
    per_batch = len(batch[0])
    samples = list(zip(*batch))                 # per sample: its file for each input
    written: dict[int, list[str]] = {}
    for i, output in enumerate(outputs):
        data = np.asarray(output)
        if axis >= max(data.ndim, 1):
            raise AisBenchError(f"--output_batchsize_axis {axis}: output {i} has only "
                                f"{data.ndim} dimension(s) (shape {list(data.shape)})")
        if per_batch == 1:
            parts = [data]
        elif data.shape[axis] % per_batch == 0:
            parts = np.array_split(data, per_batch, axis)
        else:
            raise AisBenchError(f"output {i} (shape {list(data.shape)}) cannot be split into the "
                                f"{per_batch} files of the batch along axis {axis}: set "
                                f"--output_batchsize_axis")
        for j, part in enumerate(parts):
            first = samples[j][0]
            if first == PADDING_INFER_FAKE_FILE:
                continue
            stem = os.path.basename(first).split(".")[0]
            path = os.path.join(folder, f"{stem}_{i}.{outfmt.lower()}")
            save_array(path, part)
            written.setdefault(j, []).append(path)
    return written


def save_array(path: str, data: np.ndarray) -> None:
    """Write ``data`` as .npy (np.save), .txt (one row per line) or raw .bin bytes."""
    if path.endswith((".npy", ".NPY")):
        np.save(path, data)
    elif path.endswith((".txt", ".TXT")):
        rows = data.reshape(1, 1) if data.ndim == 0 else data.reshape(-1, data.shape[-1])
        floating = data.dtype.kind in "fc"
        with open(path, "wb") as file:
            for row in rows:
                np.savetxt(file, row[None, :], fmt="%f" if floating else "%d", delimiter=" ",
                           newline=" ")
                file.write(b"\n")
    else:
        np.ascontiguousarray(data).tofile(path)


def list_info(values, percentiles=PERCENTILES) -> dict:
    """ais_bench's statistics of a list of times (ms), plus extra percentiles.

    The keys are ais_bench's: min, max, mean, median, ``percentile(99%)``, count; the extra
    percentiles come as ``percentile(50%)``, ``percentile(90%)``. An empty list gives zeros.
    """
    values = [float(value) for value in values]
    info = {"min": 0.0, "max": 0.0, "mean": 0.0, "median": 0.0}
    for p in percentiles:
        info[f"percentile({p}%)"] = 0.0
    if values:
        info.update(min=float(np.min(values)), max=float(np.max(values)),
                    mean=float(np.mean(values)), median=float(np.median(values)))
        for p in percentiles:
            info[f"percentile({p}%)"] = float(np.percentile(values, p))
    info["count"] = len(values)
    return info


def throughput(batchsize: float, mean_ms: float) -> float:
    """ais_bench's ``1000 * batchsize / NPU_compute_time.mean`` (0 when nothing ran)."""
    return 1000.0 * batchsize / mean_ms if mean_ms else 0.0


def merged_mean(intervals: list[tuple[float, float]]) -> float:
    """ais_bench's mean compute time of overlapping executions (threads > 1).

    The time covered by the union of the [start, end] intervals, divided by their number.
    """
    if not intervals:
        return 0.0
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return sum(end - start for start, end in merged) / len(intervals)


def write_summary(prefix: str, infodict: dict) -> str:
    """Write ``<prefix>_summary.json`` (ais_bench's place: beside the output folder)."""
    path = prefix + "_summary.json"
    with open(path, "w") as file:
        json.dump(infodict, file)
    return path


def _load_npy(path: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise AisBenchError(f"{path} is not a readable .npy file: {error}") from None


def _checked_npy(path: str, spec: InputSpec, index: int) -> np.ndarray:
    data = _load_npy(path)
    if data.dtype != np.dtype(spec.dtype):
        raise AisBenchError(f"input {index} {spec.name!r}: {path} holds {data.dtype.name} "
                            f"{list(data.shape)}; the model takes {spec.describe()}")
    return data


def _read_bin(path: str) -> np.ndarray:
    try:
        return np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise AisBenchError(f"{path} cannot be read: {error}") from None
