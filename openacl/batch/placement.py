"""Where a stage's actors run, and what each one learns about its place.

On CPU nodes an actor claims CPUs (``num_cpus``) and opens device 0 of the openacl runtime
in its own process: one emulated device per actor, with ONNX Runtime's intra-op threads set
to the CPUs the actor holds. On Ascend nodes an actor claims Ray's ``NPU`` resource; Ray
then sets ``ASCEND_RT_VISIBLE_DEVICES`` to the chip it granted, which the process sees as
device 0, and ``InferSession`` is Huawei's on real pyACL.

Nothing here imports Ray at module level: the stage runs without it.
"""

from __future__ import annotations

import os
import socket

__all__ = ["actor_options", "map_batches_options", "ActorInfo", "actor_info",
           "set_engine_threads"]

_THREADS_ENV = "OPENACL_ENGINE_THREADS"


def actor_options(accelerator: str = "cpu", cpus_per_actor: float = 1,
                  npus_per_actor: float = 1) -> dict:
    """The resources each stage actor asks Ray for (keyword arguments of ``map_batches``).

    ``accelerator``: ``"cpu"`` (openacl on CPU nodes: ``cpus_per_actor`` CPUs) or ``"npu"``
    (pyACL on Ascend nodes: ``npus_per_actor`` of Ray's ``NPU`` resource and one CPU for
    the host side).
    """
    if accelerator == "cpu":
        return {"num_cpus": cpus_per_actor}
    if accelerator == "npu":
        return {"num_cpus": 1, "resources": {"NPU": npus_per_actor}}
    raise ValueError(f"accelerator must be 'cpu' or 'npu', not {accelerator!r}")


def map_batches_options(actors: int, batch_size: int, accelerator: str = "cpu",
                        cpus_per_actor: float = 1) -> dict:
    """``map_batches`` keyword arguments for a pool of ``actors`` stage actors fed
    ``batch_size`` items at a time: ``compute=ActorPoolStrategy(size=…)`` where Ray has it
    (2.51 deprecated ``concurrency``), ``concurrency`` before."""
    import ray.data

    options = {"batch_size": batch_size, "batch_format": "numpy",
               **actor_options(accelerator, cpus_per_actor)}
    if _ray_version() >= (2, 51):
        options["compute"] = ray.data.ActorPoolStrategy(size=actors)
    else:
        options["concurrency"] = actors
    return options


class ActorInfo:
    """Who is running a stage: an id for the statistics, the process, the node, and the
    resources Ray granted (empty outside Ray)."""

    __slots__ = ("actor", "pid", "node", "cpus", "npu_ids")

    def __init__(self, actor: str, pid: int, node: str, cpus: float | None, npu_ids: list):
        self.actor = actor
        self.pid = pid
        self.node = node
        self.cpus = cpus
        self.npu_ids = npu_ids

    def as_dict(self) -> dict:
        return {"actor": self.actor, "pid": self.pid, "node": self.node, "cpus": self.cpus,
                "npu_ids": self.npu_ids}


def actor_info() -> ActorInfo:
    """The calling process's place: inside a Ray actor, its actor id (8 hex digits) and
    granted CPUs and NPUs; elsewhere ``local``."""
    pid = os.getpid()
    node = socket.gethostname()
    context = _ray_context()
    if context is None:
        return ActorInfo(f"local-{pid}", pid, node, None, [])
    actor_id = context.get_actor_id() or context.get_task_id() or "driver"
    resources = context.get_assigned_resources()
    try:
        npu_ids = [str(i) for i in context.get_accelerator_ids().get("NPU", [])]
    except Exception:  # noqa: BLE001 - older Ray: no accelerator ids
        npu_ids = []
    return ActorInfo(f"{actor_id[:8]}-{pid}", pid, node, resources.get("CPU"), npu_ids)


def set_engine_threads(threads: int | None, info: ActorInfo) -> None:
    """Set openacl's ONNX Runtime intra-op threads for sessions made from now on: ``threads``
    if given, else the CPUs Ray granted this actor (so that actors sharing a node do not
    oversubscribe it). A value already in the environment is left alone; outside Ray
    without ``threads`` nothing changes. Harmless on real pyACL, which ignores it."""
    if threads is None:
        if os.environ.get(_THREADS_ENV) or not info.cpus:
            return
        threads = max(1, int(info.cpus))
    os.environ[_THREADS_ENV] = str(int(threads))


# ---------------------------------------------------------------------- internals
def _ray_context():
    """Ray's runtime context when this process is a Ray worker, else None."""
    try:
        import ray
    except ImportError:
        return None
    if not ray.is_initialized():
        return None
    context = ray.get_runtime_context()
    if context.worker.mode != ray.WORKER_MODE:
        return None
    return context


def _ray_version() -> tuple:
    import ray

    parts = []
    for part in ray.__version__.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)
