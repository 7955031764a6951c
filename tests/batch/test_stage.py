"""ModelStage without Ray: the stage a Ray Data actor runs, called as a plain object on the
ais_bench API (openacl's InferSession, and one limited to what Huawei's has)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from ais_bench.infer.interface import InferSession
from openacl.batch import ModelStage, StageError, plan_runs
from openacl.batch.spec import describe_model
from tests.batch import (AIPP_GEARS, AIPP_SIZE, CNN_GEARS, build_models, jpeg_bytes,
                         random_items, reference_outputs)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_models(tmp_path_factory.mktemp("batch_models"))


@pytest.fixture
def open_stage():
    """Stages made the way an actor makes them; closed (and the runtime finalized) after."""
    made = []

    def make(*args, **kwargs):
        stage = ModelStage(*args, **kwargs)
        made.append(stage)
        return stage

    yield make
    for stage in made:
        stage.close()
    InferSession.finalize()


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# ---------------------------------------------------------------------- gears
@pytest.mark.parametrize("count, gears, runs", [
    (0, (1, 2, 4, 8), []),
    (1, (1, 2, 4, 8), [(1, 1)]),
    (3, (1, 2, 4, 8), [(3, 4)]),              # pad 1 slot: one execution, not 2 + 1
    (8, (1, 2, 4, 8), [(8, 8)]),
    (11, (1, 2, 4, 8), [(8, 8), (3, 4)]),
    (21, (1, 2, 4, 8), [(8, 8), (8, 8), (5, 8)]),
    (9, (1, 8, 32), [(8, 8), (1, 1)]),        # 32 would pad 23 of 32 slots
    (20, (1, 8, 32), [(20, 32)]),
    (70, (1, 8, 32), [(32, 32), (32, 32), (6, 8)]),
    (5, (4,), [(4, 4), (1, 4)]),              # a static batch of 4: the last run padded
    (3, (4,), [(3, 4)]),
])
def test_plan_runs(count, gears, runs):
    assert plan_runs(count, gears) == runs
    assert sum(size for size, _ in runs) == count


@pytest.mark.parametrize("count", [1, 3, 8, 11, 21])
def test_gear_choice_and_outputs_equal_acl_mdl_execute(models, open_stage, count):
    items = random_items(count, seed=count)
    want = reference_outputs(models["cnn"], items)
    stage = open_stage(models["cnn"], with_stats=True)
    result = stage({"x": items, "id": np.arange(count)})
    np.testing.assert_array_equal(result["y"], np.stack(want))
    assert list(result["id"]) == list(range(count))
    assert list(result["error"]) == [""] * count
    runs = plan_runs(count, CNN_GEARS)
    expected_gears = {}
    for _, gear in runs:
        expected_gears[gear] = expected_gears.get(gear, 0) + 1
    stats = stage.stats()
    assert stats["gears"] == expected_gears
    assert (stats["items"], stats["failed"], stats["executions"]) == (count, 0, len(runs))
    assert list(result["gear"]) == [gear for size, gear in runs for _ in range(size)]
    assert stats["actor"] == f"local-{stats['pid']}" and stats["items_per_s"] > 0
    assert stats["device_id"] == 0 and stats["cpus"] is None


def test_a_static_batch_model_runs_full_batches_and_pads_the_last(models, open_stage):
    items = random_items(6, seed=2)
    want = np.stack(reference_outputs(models["cnn"], items))
    stage = open_stage(models["static4"], with_stats=True)
    result = stage({"data": items})
    assert stage.stats()["gears"] == {4: 2}
    assert list(result["gear"]) == [4] * 6
    # The static model's batch rows are independent: its outputs are the gear model's.
    np.testing.assert_array_equal(result["y"], want)


# ---------------------------------------------------------------------- items
def test_items_as_file_bytes_npy_npz_bin(models, open_stage):
    items = random_items(4, seed=3)
    want = np.stack(reference_outputs(models["cnn"], items))
    data = np.array([_npy(items[0]), _npz(x=items[1]), items[2].tobytes(),
                     _npz(arr_0=items[3])], dtype=object)
    stage = open_stage(models["cnn"])
    result = stage({"bytes": data, "path": np.array(["a", "b", "c", "d"], dtype=object)})
    assert "bytes" not in result and list(result["path"]) == ["a", "b", "c", "d"]
    assert list(result["error"]) == [""] * 4
    np.testing.assert_array_equal(result["y"], want)


def test_bad_items_are_reported_and_the_rest_run(models, open_stage):
    items = random_items(3, seed=4)
    want = reference_outputs(models["cnn"], [items[0], items[1], items[2],
                                             np.zeros((3, 16, 16), np.float32)])
    column = np.empty(7, dtype=object)
    column[:] = [items[0], np.zeros((3, 16, 15), np.float32), items[1],
                 items[2].astype(np.float64), items[2], np.zeros(768, np.float32), items[0]]
    incoming = np.array(["", "", "", "", "", "", "upstream failed"], dtype=object)
    stage = open_stage(models["cnn"])
    result = stage({"x": column, "error": incoming})
    errors = list(result["error"])
    assert errors[1] == ("input 0 ('x') got shape (3, 16, 15) (720 elements); the model takes "
                         "dtype float32, shape (3, 16, 16) per item")
    assert errors[3] == ("input 0 ('x') got dtype float64, shape (3, 16, 16); the model takes "
                         "dtype float32, shape (3, 16, 16) per item")
    assert errors[6] == "upstream failed"
    assert [bool(e) for e in errors] == [False, True, False, True, False, False, True]
    np.testing.assert_array_equal(result["y"][[0, 2, 4, 5]], np.stack(want))
    assert not result["y"][[1, 3, 6]].any()            # failed rows: zeros
    stats = stage.stats()
    assert (stats["items"], stats["failed"]) == (4, 3)


def test_unreadable_file_bytes_are_reported(models, open_stage):
    stage = open_stage(models["cnn"])
    data = np.array([b"\x93NUMPY garbage", b"PK\x03\x04 not a zip", b"12345",
                     _npz(y=np.zeros(3)), jpeg_bytes(0, 32, 32), _npy(random_items(1)[0])],
                    dtype=object)
    errors = list(stage({"bytes": data})["error"])
    assert errors[0].startswith("unreadable .npy item: ")
    assert errors[1].startswith("unreadable .npz item: ")
    assert errors[2] == ("5 bytes with no .npy, .npz or JPEG header, so raw bytes; input 0 "
                         "('x') takes 3072 bytes per item (dtype float32, shape (3, 16, 16))")
    assert errors[3] == ("the .npz holds ['y']; the model's inputs are ['x'] (name the arrays "
                         "after them, or save them in order as arr_0...)")
    assert errors[4].startswith("a JPEG image: the model has no YUV420SP AIPP input")
    assert errors[5] == ""


def test_a_two_input_model_from_columns_and_npz(models, open_stage):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    k = rng.integers(-5, 5, (3, 2)).astype(np.int32)
    stage = open_stage(models["pair"])
    from_columns = stage({"a": a, "k": k})
    want_y = a * 2 + k.sum(axis=1, keepdims=True).astype(np.float32)
    np.testing.assert_array_equal(from_columns["y"], want_y)
    np.testing.assert_array_equal(from_columns["z"], k)
    data = np.array([_npz(a=a[i], k=k[i]) for i in range(3)] + [_npy(a[0])], dtype=object)
    from_bytes = stage({"bytes": data})
    np.testing.assert_array_equal(from_bytes["y"][:3], want_y)
    assert from_bytes["error"][3].startswith("an .npy item holds one array; the model has 2 "
                                             "inputs ['a', 'k']")


# ---------------------------------------------------------------------- images
def test_jpegs_decoded_by_dvpp_into_the_aipp_input(models, open_stage):
    width, height = AIPP_SIZE
    jpegs = [jpeg_bytes(seed, 64 + 10 * seed, 48 + 6 * seed) for seed in range(5)]
    want = reference_outputs(models["aipp"], jpegs, jpeg=True)
    stage = open_stage(models["aipp"], with_stats=True)
    spec = stage.spec.inputs[0]
    assert (spec.nv12, spec.raw_bytes) == ((width, height), width * height * 3 // 2)
    data = np.array(jpegs[:3] + [b"\xff\xd8\xff\xe0 truncated"] + jpegs[3:], dtype=object)
    result = stage({"bytes": data})
    np.testing.assert_array_equal(result["y"][[0, 1, 2, 4, 5]], np.stack(want))
    assert result["error"][3].startswith("not a JPEG DVPP decodes (error 500001): ")
    stats = stage.stats()
    assert stats["gears"] == {4: 1, 1: 1} and set(AIPP_GEARS) >= set(stats["gears"])
    assert stats["decode_s"] > 0


# ---------------------------------------------------------------------- the ais_bench API
class _HuaweiLikeSession:
    """What Huawei's ais_bench InferSession offers the stage, on openacl underneath: no
    ``get_dynamic_batch`` (only the largest gear is known) and, like ``aclruntime``, a
    dymbatch batch that is not a gear refused."""

    def __init__(self, device_id, model_path):
        self._session = InferSession(device_id, model_path)
        self.batches = []

    def get_inputs(self):
        return self._session.get_inputs()

    def get_outputs(self):
        return self._session.get_outputs()

    def get_max_dym_batchsize(self):
        return self._session.get_max_dym_batchsize()

    def infer(self, feeds, mode="static", custom_sizes=100000, out_array=True):
        batch = feeds[0].shape[0]
        if mode == "dymbatch" and batch not in self._session.get_dynamic_batch():
            raise RuntimeError(f"dymbatch {batch} is not a gear")
        self.batches.append(batch)
        return self._session.infer(feeds, mode, custom_sizes, out_array)

    def free_resource(self):
        self._session.free_resource()


def test_the_stage_needs_only_huawei_ais_bench_api(models, open_stage):
    items = random_items(11, seed=6)
    want = np.stack(reference_outputs(models["cnn"], items))
    made = []

    def factory(device_id, model_path):
        made.append(_HuaweiLikeSession(device_id, model_path))
        return made[-1]

    stage = open_stage(models["cnn"], session_factory=factory)
    assert stage.spec.gears == (8,)                 # all Huawei's API tells
    result = stage({"x": items})
    assert made[0].batches == [8, 8]                # 11 = 8 + 3 padded to 8: gears only
    np.testing.assert_array_equal(result["y"], want)


def test_models_the_stage_cannot_batch_are_refused(tmp_path):
    from tests.batch import _atc
    from tests.model import gear_models

    hw, _ = gear_models.hw_model()
    path = _atc(tmp_path, hw, "hw", "--input_shape=x:1,2,-1,-1",
                "--dynamic_image_size=4,4;8,6")
    session = InferSession(0, path)
    try:
        with pytest.raises(StageError, match=r"input 0 \('x'\) has dynamic dims "
                                             r"\[1, 2, -1, -1\] beyond the batch axis"):
            describe_model(session)
    finally:
        session.free_resource()
        InferSession.finalize()


def test_a_batch_without_the_inputs_is_refused(models, open_stage):
    stage = open_stage(models["cnn"])
    with pytest.raises(StageError, match=r"the batch has columns \['z'\]; the model's inputs "
                                         r"are \['x'\]"):
        stage({"z": np.zeros(2)})


def test_the_cli_refuses_bad_paths_and_models_before_starting_ray(models, tmp_path, capsys):
    from openacl.tools import cli

    assert cli.main(["batch", str(tmp_path / "none.om"), str(tmp_path), str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"openacl batch: model "
                                       f"'{tmp_path / 'none.om'}' is not a file\n")
    assert cli.main(["batch", models["cnn"], str(tmp_path / "nowhere"), str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"openacl batch: input "
                                       f"'{tmp_path / 'nowhere'}' does not exist\n")
    corrupt = tmp_path / "corrupt.om"
    corrupt.write_bytes(b"garbage")
    assert cli.main(["batch", str(corrupt), str(tmp_path), str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"openacl batch: model {corrupt} is truncated "
                                              f"or corrupt")
