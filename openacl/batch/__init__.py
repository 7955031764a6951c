"""Batch inference on Ray Data: an ``.om`` model as a ``map_batches`` stage, and the
``openacl batch`` job over a folder or a Parquet dataset.

``ModelStage`` needs no Ray (it is a plain callable over ``{column: array}`` batches); Ray
is imported only by ``run_batch`` and ``map_batches_options`` (``pip install -e ".[ray]"``).
"""

from openacl.batch.job import OutputWriter, run_batch
from openacl.batch.placement import actor_options, map_batches_options
from openacl.batch.spec import ItemError, ModelSpec, StageError, describe_model, plan_runs
from openacl.batch.stage import ModelStage

__all__ = ["ModelStage", "run_batch", "OutputWriter", "actor_options", "map_batches_options",
           "plan_runs", "describe_model", "ModelSpec", "StageError", "ItemError"]
