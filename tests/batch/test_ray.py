"""The stage on Ray Data, on a local two-CPU Ray cluster this module starts once: outputs
equal pyACL run item by item, gear choice, a worker killed mid-job, bad items, resumable
folder jobs through the ``openacl batch`` CLI, images through DVPP, Parquet input."""

from __future__ import annotations

import io
import json
import os
import signal

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e "
                                        "'.[ray]')")
import ray.data  # noqa: E402

from openacl.batch import ModelStage, map_batches_options, plan_runs, run_batch  # noqa: E402
from openacl.batch.job import SUMMARY_NAME, output_path  # noqa: E402
from openacl.tools import cli  # noqa: E402
from tests.batch import (AIPP_GEARS, CNN_GEARS, build_models, jpeg_bytes,  # noqa: E402
                         random_items, reference_outputs)


@pytest.fixture(scope="module")
def cluster():
    """One local Ray for the whole module (starting one costs seconds). Its workers run
    models exactly (float32), as the suite does (conftest), so that outputs compare equal."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING",
             runtime_env={"env_vars": {"OPENACL_PRECISION": "exact"}})
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.execution_options.preserve_order = True
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_models(tmp_path_factory.mktemp("ray_models"))


def _folder(path, items) -> list[str]:
    """Write each item as .npy (ids ``item00``...), every third one as raw .bin."""
    path.mkdir()
    ids = []
    for index, item in enumerate(items):
        item_id = f"item{index:02d}"
        if index % 3 == 2:
            item.tofile(path / f"{item_id}.bin")
        else:
            np.save(path / f"{item_id}.npy", item)
        ids.append(item_id)
    return ids


def test_map_batches_outputs_equal_acl_mdl_execute_with_planned_gears(cluster, models):
    items = random_items(40, seed=10)
    want = np.stack(reference_outputs(models["cnn"], items))
    # Four blocks (column "data"), so that both actors get work.
    dataset = ray.data.from_numpy([items[:11], items[11:22], items[22:33], items[33:]])
    mapped = dataset.map_batches(ModelStage, fn_constructor_args=(models["cnn"],),
                                 fn_constructor_kwargs={"with_stats": True},
                                 concurrency=2, batch_size=11, num_cpus=1)
    rows = mapped.take_all()
    np.testing.assert_array_equal(np.stack([row["y"] for row in rows]), want)
    assert [row["error"] for row in rows] == [""] * 40
    # Batches of 11, 11, 11, 7: each runs its planned gears.
    gears = [gear for count in (11, 11, 11, 7) for size, gear in plan_runs(count, CNN_GEARS)
             for _ in range(size)]
    assert [row["gear"] for row in rows] == gears
    # Ray decides which actor takes a batch: one fast actor may take all four (seen in CI)
    assert 1 <= len({row["actor"] for row in rows}) <= 2 and all(row["actor"] for row in rows)


def test_folder_job_through_the_cli_reports_bad_items_and_resumes(cluster, models, tmp_path,
                                                                 capsys):
    items = random_items(20, seed=11)
    want = reference_outputs(models["cnn"], items)
    source, output = tmp_path / "in", tmp_path / "out"
    ids = _folder(source, items)
    (source / "broken.npy").write_bytes(b"\x93NUMPY not really")
    np.save(source / "wrong.npy", np.zeros((2, 2), np.float32))
    np.save(source / "item00x.npy", items[0])
    (source / "item00x.bin").write_bytes(items[0].tobytes())      # the same output name
    argv = ["batch", models["cnn"], str(source), str(output), "--actors", "2",
            "--batch-size", "8", "--no-progress"]
    assert cli.main(argv) == 1                     # some items failed
    summary = json.loads(capsys.readouterr().out)
    assert summary == json.loads((output / SUMMARY_NAME).read_text())
    assert (summary["items"], summary["written"], summary["failed"], summary["skipped"]) == \
        (24, 21, 3, 0)
    failures = {f["id"]: f for f in summary["failures"]}
    assert failures["broken"]["error"].startswith("unreadable .npy item: ")
    assert failures["broken"]["path"] == str(source / "broken.npy")
    assert failures["wrong"]["error"] == ("input 0 ('x') got shape (2, 2) (4 elements); the "
                                          "model takes dtype float32, shape (3, 16, 16) per "
                                          "item")
    assert failures["item00x"]["error"].startswith("item00x.npy and item00x.bin would write "
                                                   "the same outputs")
    for item_id, expected in zip(ids, want):
        np.testing.assert_array_equal(np.load(output_path(str(output), item_id, 0)), expected)
    assert sum(a["items"] for a in summary["actors"]) == 21
    assert summary["duplicates"] == [] and summary["items_per_s"] > 0
    for actor in summary["actors"]:
        assert set(actor["items_by_gear"]) <= {str(g) for g in CNN_GEARS}
    # Again: everything written is skipped; the bad items are tried (and reported) again.
    assert cli.main(argv) == 1
    again = json.loads(capsys.readouterr().out)
    assert (again["written"], again["skipped"], again["failed"]) == (0, 21, 3)


def test_a_worker_killed_mid_job_loses_nothing_and_writes_each_output_once(cluster, models,
                                                                          tmp_path):
    items = random_items(48, seed=12)
    want = reference_outputs(models["cnn"], items)
    source, output = tmp_path / "in", tmp_path / "out"
    ids = _folder(source, items)
    killed = []

    def kill_an_actor(rows):
        # The first batch back: its actor has more batches queued; kill its process.
        if not killed:
            actor = str(rows["actor"][0])
            os.kill(int(actor.rsplit("-", 1)[1]), signal.SIGKILL)
            killed.append(actor)

    summary = run_batch(models["cnn"], str(source), str(output), actors=2, batch_size=2,
                        progress=False, on_batch=kill_an_actor)
    assert killed
    # Ray restarted the actor (same actor id, a new process) and retried its batches.
    actor_id, pid = killed[0].rsplit("-", 1)
    restarted = [a["actor"] for a in summary["actors"]
                 if a["actor"].startswith(actor_id) and a["actor"] != killed[0]]
    assert restarted, summary["actors"]
    assert (summary["written"], summary["failed"], summary["duplicates"]) == (48, 0, [])
    assert sum(a["items"] for a in summary["actors"]) == 48
    names = sorted(os.listdir(output))
    assert names == sorted([f"{i}_0.npy" for i in ids] + [SUMMARY_NAME])   # no partial files
    for item_id, expected in zip(ids, want):
        np.testing.assert_array_equal(np.load(output_path(str(output), item_id, 0)), expected)


def test_jpegs_through_dvpp_and_aipp_on_the_actors(cluster, models, tmp_path):
    jpegs = [jpeg_bytes(seed, 80 + 8 * seed, 60 + 4 * seed) for seed in range(9)]
    want = reference_outputs(models["aipp"], jpegs, jpeg=True)
    source, output = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    for index, data in enumerate(jpegs):
        (source / f"img{index}.jpg").write_bytes(data)
    (source / "cut.jpg").write_bytes(jpegs[0][:100])
    summary = run_batch(models["aipp"], str(source), str(output), actors=2, batch_size=3,
                        progress=False)
    assert (summary["written"], summary["failed"]) == (9, 1)
    assert summary["failures"][0]["id"] == "cut"
    assert "JPEG" in summary["failures"][0]["error"]
    for index, expected in enumerate(want):
        np.testing.assert_array_equal(np.load(output / f"img{index}_0.npy"), expected)
    for actor in summary["actors"]:
        assert set(actor["items_by_gear"]) <= {str(g) for g in AIPP_GEARS}


def test_a_parquet_dataset_with_ids_resumes_by_id(cluster, models, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    items = random_items(10, seed=13)
    want = reference_outputs(models["cnn"], items)
    blobs = []
    for item in items:
        buffer = io.BytesIO()
        np.save(buffer, item)
        blobs.append(buffer.getvalue())
    table = pa.table({"key": [f"row{i}" for i in range(10)], "bytes": blobs})
    pq.write_table(table, tmp_path / "items.parquet")
    output = tmp_path / "out"
    output.mkdir()
    np.save(output / "row3_0.npy", want[3])                    # done in an earlier run
    summary = run_batch(models["cnn"], str(tmp_path / "items.parquet"), str(output), actors=1,
                        batch_size=4, id_column="key", progress=False)
    assert (summary["items"], summary["written"], summary["skipped"]) == (10, 9, 1)
    for index, expected in enumerate(want):
        np.testing.assert_array_equal(np.load(output / f"row{index}_0.npy"), expected)


def test_placement_options():
    options = map_batches_options(3, 16, "npu")
    assert options["resources"] == {"NPU": 1} and options["batch_size"] == 16
    assert map_batches_options(2, 8)["num_cpus"] == 1
    compute = options.get("compute")
    assert (compute.min_size, compute.max_size) == (3, 3) if compute is not None \
        else options["concurrency"] == 3
