"""``openacl batch MODEL.om INPUT OUTPUT_DIR``: run a model over a folder or dataset on Ray Data.

::

    openacl batch resnet50.om images/ scores/                     # a local Ray, every core
    openacl batch resnet50.om images/ scores/ --address auto      # the cluster this node is in
    openacl batch resnet50.om /nfs/in /nfs/out --address ray://head:10001 --actors 8
    openacl batch resnet50.om /nfs/in /nfs/out --address auto --accelerator npu

``INPUT`` is a folder of ``.npy`` / ``.npz`` / ``.bin`` / JPEG files (one file an item) or a
Parquet file or folder (one row an item, its id in ``--id-column``). Each item's outputs
are written to ``OUTPUT_DIR/<id>_<k>.npy``; items already written are skipped, so a job
run again resumes. The JSON summary (items, throughput, per-actor statistics, failures)
is printed and written to ``OUTPUT_DIR/openacl_batch_summary.json``. Exit status: 0 when
every item was written, 1 when some failed (listed in the summary), 2 when the job could
not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    problem = _check_paths(args)
    if problem:
        print(f"openacl batch: {problem}", file=sys.stderr)
        return 2
    try:
        import ray
        import ray.data
    except ImportError:
        print("openacl batch needs Ray Data: pip install -e \".[ray]\" (or pip install "
              "\"ray[data]\")", file=sys.stderr)
        return 2
    from openacl.batch.job import run_batch

    started_here = False
    try:
        if not ray.is_initialized():
            _connect(ray, args)
            started_here = True
        ray.data.DataContext.get_current().enable_progress_bars = args.ray_progress
        if not args.ray_progress:          # our bar and summary say what Ray Data's logs would
            logging.getLogger("ray.data").setLevel(logging.ERROR)
        actors = args.actors or _default_actors(ray, args)
        summary = run_batch(args.model, args.input, args.output_dir, actors=actors,
                            batch_size=args.batch_size, accelerator=args.accelerator,
                            cpus_per_actor=args.cpus_per_actor, id_column=args.id_column,
                            engine_threads=args.engine_threads,
                            progress=not args.no_progress, summary_path=args.summary)
    except (FileNotFoundError, RuntimeError, ValueError, ConnectionError) as error:
        print(f"openacl batch: {_last_line(error)}", file=sys.stderr)
        return 2
    except ray.exceptions.RayError as error:       # an actor could not start, ...
        print(f"openacl batch: the job failed on the cluster: {_last_line(error)}",
              file=sys.stderr)
        return 2
    finally:
        if started_here:
            ray.shutdown()
    print(json.dumps(summary, indent=2))
    return 1 if summary["failed"] else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openacl batch", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="the .om (or .onnx) model")
    parser.add_argument("input", help="a folder of .npy/.npz/.bin/JPEG items, or a Parquet "
                                      "file or folder")
    parser.add_argument("output_dir", help="where <id>_<k>.npy outputs and the summary go")
    parser.add_argument("--address", default="local",
                        help="'local' (default: start Ray on this machine), 'auto' (join "
                             "the cluster this node belongs to) or ray://HEAD:10001")
    parser.add_argument("--actors", type=int, default=0,
                        help="stage actors (default: the cluster's CPUs / --cpus-per-actor, "
                             "or its NPUs with --accelerator npu)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="items per batch an actor maps (default 32)")
    parser.add_argument("--accelerator", choices=("cpu", "npu"), default="cpu",
                        help="cpu: openacl on CPU nodes (default); npu: one of Ray's NPU "
                             "resource per actor, pyACL on Ascend nodes")
    parser.add_argument("--cpus-per-actor", type=float, default=1,
                        help="CPUs each actor claims on CPU nodes (default 1)")
    parser.add_argument("--engine-threads", type=int, default=None,
                        help="ONNX Runtime threads per actor (default: its CPUs)")
    parser.add_argument("--num-cpus", type=int, default=None,
                        help="CPUs of the local Ray (--address local; default all)")
    parser.add_argument("--id-column", default="id",
                        help="Parquet input: the column naming each item (default 'id')")
    parser.add_argument("--summary", default=None,
                        help="write the JSON summary here (default OUTPUT_DIR/"
                             "openacl_batch_summary.json)")
    parser.add_argument("--ship-openacl", action="store_true",
                        help="send the openacl package with the job (Ray runtime_env "
                             "py_modules), for nodes without it: Ascend nodes, where CANN's "
                             "pyACL and Huawei's ais_bench run the stage")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--ray-progress", action="store_true",
                        help="show Ray Data's own progress bars and logs too")
    return parser


def _check_paths(args) -> str | None:
    """What is wrong with the paths, found before a cluster is started or joined."""
    if not os.path.isfile(args.model):
        return f"model {args.model!r} is not a file"
    if "://" not in args.input and not os.path.exists(args.input):
        return f"input {args.input!r} does not exist"
    if args.batch_size < 1 or args.actors < 0 or args.cpus_per_actor <= 0:
        return "--batch-size and --cpus-per-actor must be positive, --actors >= 0"
    if args.accelerator == "cpu":
        # openacl runs it: read it here (no runtime needed) rather than in every actor.
        from openacl.errors import AclError
        from openacl.model.om import read_model_file

        try:
            read_model_file(args.model)
        except AclError as error:
            return error.message
    return None


def _last_line(error: BaseException) -> str:
    """The line that says what went wrong (Ray's errors end with the cause's)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _connect(ray, args) -> None:
    quiet = {"logging_level": logging.WARNING, "log_to_driver": True}
    if args.ship_openacl:
        import openacl

        # Only the openacl package: its acl and ais_bench packages stay behind, so that
        # Ascend nodes keep CANN's pyACL and Huawei's ais_bench.
        quiet["runtime_env"] = {"py_modules": [os.path.dirname(openacl.__file__)]}
    if args.address == "local":
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, **quiet)
    else:
        ray.init(address=args.address, **quiet)


def _default_actors(ray, args) -> int:
    resources = ray.cluster_resources()
    if args.accelerator == "npu":
        return max(1, int(resources.get("NPU", 1)))
    return max(1, int(resources.get("CPU", 1) // max(args.cpus_per_actor, 1e-9)))
