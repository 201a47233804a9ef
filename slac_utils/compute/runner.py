"""One way to run a per-video step over a manifest: cached, resumable, incremental, never failing the stage.

A :class:`Step` is written once: ``setup()`` loads what a worker needs (a model) once, ``process(state, row)``
computes the result columns of one video (a dict), from a manifest row (``path, n_frames, fps, width, height,
sha256, ...``).  :func:`run_step` maps it over the manifest in batches of ``compute.batch_videos``:

* rows already in the step's cache (:mod:`slac_utils.compute.cache`, keyed by content hash, step version and
  params) are read, not computed; each computed batch is written as one shard as soon as it is done, so a killed
  run loses at most the batches in flight;
* a video whose ``process`` raises becomes a row with ``status = error`` and the error text; it is not retried
  unless ``retry_errors`` (``compute.retry_errors``) — the stage goes on;
* the result is one row per manifest row, in manifest order: ``video_id, key, status, error`` and the result
  columns (missing for error rows), the same whichever engine ran and however often the run was interrupted.

Engines (``compute.engine``): ``local`` runs the batches in this process, in order.  Ray is issue 12's next
step and not built yet (the schema refuses it).  ``compute.*`` says where and how fast, never what, so it is not
a DVC param of any stage.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd
from tqdm.auto import tqdm

from .cache import ShardStore


@dataclass(frozen=True)
class Step:
    """A per-video step. ``version``: bump when the code's results change; ``params``: everything else that does
    (hashed into the cache key). ``resources``: what one worker needs (``cpus``, ``gpus``; read by engines that
    schedule, informational for ``local``)."""

    name: str
    version: str
    process: Callable[[Any, Any], dict]
    setup: Callable[[], Any] | None = None
    params: dict = field(default_factory=dict)
    resources: dict = field(default_factory=lambda: {"cpus": 1, "gpus": 0})


def cache_keys(manifest: pd.DataFrame) -> pd.Series:
    """The content key of each row: its SHA-256, or ``path@size`` where the manifest has none (missing files)."""
    sha = manifest["sha256"] if "sha256" in manifest else pd.Series("", index=manifest.index)
    fallback = "path:" + manifest["path"].astype(str)
    return sha.where(sha.astype(str) != "", fallback).astype(str)


def _process_batch(step: Step, state, rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = []
    for key, row in zip(keys, rows.itertuples(index=False)):
        try:
            res = step.process(state, row)
            out.append(dict(key=key, status="ok", error="", **res))
        except Exception as e:  # one video's failure is its row, never the stage's
            out.append(dict(key=key, status="error", error=f"{type(e).__name__}: {str(e)[:120]}"))
    return pd.DataFrame(out)


def run_step(step: Step, manifest: pd.DataFrame, compute, progress: bool = True, desc: str | None = None):
    """(table, counts): one row per manifest row (see the module docstring); counts = cached / computed / errors."""
    manifest = manifest.reset_index(drop=True)
    keys = cache_keys(manifest)
    if compute.cache_dir is None:  # no cache asked for: the shards of this run only
        with tempfile.TemporaryDirectory(prefix="slac-compute-") as tmp:
            return run_step(step, manifest, compute.model_copy(update=dict(cache_dir=tmp)), progress, desc)
    store = ShardStore(compute.cache_dir, step.name, step.version, step.params)
    have = store.status()
    done = set(have.index[have.to_numpy() == "ok"]) | (set() if compute.retry_errors else set(have.index))
    todo = [i for i, k in enumerate(keys) if k not in done]
    seen, unique = set(), []  # one computation per distinct key (a file listed twice is computed once)
    for i in todo:
        if keys[i] not in seen:
            seen.add(keys[i])
            unique.append(i)
    state = step.setup() if (step.setup and unique) else None
    bar = tqdm(total=len(unique), desc=desc or step.name, unit="video", disable=not progress)
    for s in range(0, len(unique), compute.batch_videos):
        idx = unique[s : s + compute.batch_videos]
        rows = _process_batch(step, state, manifest.iloc[idx], [keys[i] for i in idx])
        store.write(rows, time.time_ns())
        bar.update(len(idx))
    bar.close()
    cached = store.read()
    table = pd.DataFrame({"video_id": manifest.video_id, "key": keys}).merge(cached, on="key", how="left")
    counts = dict(
        videos=len(manifest),
        computed=len(unique),
        cached=len(manifest) - len(todo),
        errors=int((table.status == "error").sum()),
    )
    return table, counts
