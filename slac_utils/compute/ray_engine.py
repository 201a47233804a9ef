"""The ``ray`` engine of :func:`slac_utils.compute.run_step`: the runner's batches on a Ray cluster.

What runs where:

* The driver (the stage's process) plans the batches exactly as the local engine does
  (:func:`slac_utils.compute.runner.plan_batches`: only keys not yet in the shard cache).
* A Ray Data dataset has one row per batch — its manifest rows and cache keys, pickled — so the manifest streams
  through the cluster and no worker holds all of it; ``map_batches`` sends the rows to an **actor pool**
  (``compute.workers`` actors, each declaring the step's ``resources``: ``cpus``, ``gpus``, fractional GPUs
  allowed).  An actor runs ``step.setup()`` once (a model is loaded once per actor), then for each batch calls
  :func:`slac_utils.compute.runner.compute_batch` — the local engine's function — which processes the videos and
  writes the batch's shard atomically.  One batch goes to one actor, so two workers never write one shard.
* A GPU step with a ``decode`` half runs as two pools: decode tasks on the CPUs read each batch's frames and hand
  them to the model's GPU actors, so the GPU never waits on decoding.  On CPUs alone the halves run fused in the
  actor (a separate decode pool would only compete with it for the same cores).
* The driver only counts finished batches (progress in videos/s with ETA) and, when all are done, reads the result
  from the shards like the local engine: the same rows in the same order, whichever engine ran.

Resuming is the shard cache's, not Ray's (no Ray checkpointing): a killed run leaves whole shards, and the next run
plans only what is missing.  The cache directory must be visible to every node (a shared file system) when the
cluster has more than one machine.

``compute.ray_address``: null starts a local cluster for this process (``compute.ray_num_cpus`` CPUs) and leaves
it running for the process's next steps; ``auto`` or an address joins an existing cluster.
"""

from __future__ import annotations

import logging
import os
import pickle

import numpy as np
import pandas as pd

from .cache import ShardStore
from .runner import Step, compute_batch, decode_rows


def ensure_ray(compute) -> dict:
    """Connect to (or start) the cluster ``compute`` names, once per process; returns its resources."""
    import ray

    if not ray.is_initialized():
        kw = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        if compute.ray_address is None:
            kw.update(num_cpus=compute.ray_num_cpus or os.cpu_count())
        ray.init(address=compute.ray_address, **kw)
        ray.data.DataContext.get_current().enable_progress_bars = False
    return ray.cluster_resources()


def n_workers(step: Step, compute, resources: dict) -> int:
    """Actors for a step: ``compute.workers``, else as many as the cluster's CPUs (GPUs, for a GPU step) hold."""
    if compute.workers:
        return compute.workers
    gpus = float(step.resources.get("gpus", 0) or 0)
    if gpus > 0:
        return max(1, int(resources.get("GPU", 0) // gpus))
    return max(1, int(resources.get("CPU", 1) // max(float(step.resources.get("cpus", 1) or 1), 1e-9)))


class _BatchWorker:
    """One actor of the pool: the step's state, made once; each call computes the batches it is given."""

    def __init__(self, step: Step, store_dir: str):
        self.step, self.store = step, ShardStore.at(store_dir)
        self.state = step.setup() if step.setup else None

    def __call__(self, batch: dict) -> dict:
        sizes, errors = [], []
        for payload in batch["payload"]:
            rows, keys, *decoded = pickle.loads(payload)
            errors.append(compute_batch(self.step, self.state, self.store, rows, keys, *decoded))
            sizes.append(len(keys))
        return {"batch": np.asarray(batch["batch"]), "videos": np.asarray(sizes), "errors": np.asarray(errors)}


def _decoder(decode):
    """The CPU half of a step with ``decode``, as Ray tasks: a batch's rows in, with their decoded inputs out."""

    def decode_batch(batch: dict) -> dict:
        out = []
        for payload in batch["payload"]:
            rows, keys = pickle.loads(payload)
            out.append(pickle.dumps((rows, keys, decode_rows(decode, rows))))
        return {"batch": np.asarray(batch["batch"]), "payload": np.asarray(out, dtype=object)}

    return decode_batch


def run_batches(
    step: Step, manifest: pd.DataFrame, keys: pd.Series, batches: list[list[int]], store: ShardStore, compute, bar
) -> None:
    """Compute ``batches`` (row positions of ``manifest``) on the cluster; each finished batch is a shard in
    ``store`` and advances ``bar`` by its videos."""
    import ray

    resources = ensure_ray(compute)
    gpus = float(step.resources.get("gpus", 0) or 0)
    if gpus > resources.get("GPU", 0):  # an actor that can never be placed would wait for ever
        raise RuntimeError(
            f"step {step.name} asks for {gpus:g} GPU per worker; the Ray cluster has {resources.get('GPU', 0):g}"
        )
    items = [
        {"batch": b, "payload": pickle.dumps((manifest.iloc[idx], [keys[i] for i in idx]))}
        for b, idx in enumerate(batches)
    ]
    ds = ray.data.from_items(items)
    if step.decode is not None and gpus > 0:  # decode tasks on CPUs feed the model's GPU actors
        ds = ds.map_batches(_decoder(step.decode), batch_size=1, batch_format="numpy", num_cpus=step.decode_cpus)
    done = ds.map_batches(
        _BatchWorker,
        fn_constructor_args=(step, str(store.dir)),
        batch_size=1,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=min(n_workers(step, compute, resources), len(batches))),
        num_cpus=float(step.resources.get("cpus", 1) or 0),
        num_gpus=gpus,
    )
    for row in done.iter_rows():
        bar.update(int(row["videos"]))
