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

Engines (``compute.engine``): ``local`` runs the batches in this process, in order; ``ray``
(:mod:`.ray_engine`) hands the same batches to an actor pool on a Ray cluster.  Both call :func:`compute_batch`
(process a batch, write its shard) and both build the result from the shards, so the table is the same whichever
engine ran.  ``compute.*`` says where and how fast, never what, so it is not a DVC param of any stage.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

import pandas as pd
from tqdm.auto import tqdm

from ..models import torch_threads
from .cache import ShardStore


@dataclass(frozen=True)
class Step:
    """A per-video step. ``version``: bump when the code's results change; ``params``: everything else that does
    (hashed into the cache key). ``resources``: what one worker needs (``cpus``, ``gpus``; read by engines that
    schedule, informational for ``local``). ``process_batch(state, rows) -> [dict]``, when given, computes a whole
    batch at once (a model's batched forward pass, a process pool); should it raise, the batch is computed video
    by video with ``process`` so that the failure becomes the row of the video that caused it.

    ``decode(row)``, when given, is the step's CPU half (reading frames) and ``process(state, row, decoded=None)``
    its model half, which decodes for itself when called without ``decoded`` (streaming, as the local engine and
    a CPU-only cluster call it).  The ``ray`` engine runs a GPU step's halves as two pools, decode tasks on CPUs
    feeding the actors that hold the model on GPUs.  A failure in either is the video's error row.

    ``threads``: torch's CPU threads while a worker processes (both engines). A network's float sums depend on the
    thread count (EfficientNet-Lite0 features move by ~1e-5 between 1 and 2 threads), and a Ray actor starts with
    one, so a step that runs a network fixes it instead of inheriting the machine's. The step then reserves that
    many CPUs per worker (``resources['cpus']``) and the count is part of its cache key (:meth:`store`)."""

    name: str
    version: str
    process: Callable[[Any, Any], dict]
    setup: Callable[[], Any] | None = None
    params: dict = field(default_factory=dict)
    resources: dict = field(default_factory=lambda: {"cpus": 1, "gpus": 0})
    process_batch: Callable[[Any, pd.DataFrame], list[dict]] | None = None
    decode: Callable[[Any], Any] | None = None
    decode_cpus: float = 1.0
    threads: int | None = None

    def __post_init__(self):
        if self.decode is not None and self.process_batch is not None:
            raise ValueError(f"step {self.name}: decode and process_batch do not combine")
        if self.threads:  # a worker that runs `threads` threads reserves as many CPUs
            cpus = max(float(self.resources.get("cpus", 1) or 1), self.threads)
            object.__setattr__(self, "resources", {**self.resources, "cpus": cpus})

    def store(self, cache_dir) -> ShardStore:
        """This step's shards under ``cache_dir``: keyed by name, version, params and the thread count."""
        key = {**self.params, "threads": self.threads} if self.threads else self.params
        return ShardStore(cache_dir, self.name, self.version, key)


class Prebuilt:
    """A ``Step.setup`` that hands back an object already built in this process (the local engine reuses the
    stage's detector) and, once pickled to another process (a Ray actor), builds its own with ``factory``: what
    cannot be pickled (an OpenCV network) never is.  Without a factory the object itself travels.  A step passes
    the factory only when it builds the same kind of object (e.g. the backend its params resolve to)."""

    def __init__(self, obj, factory: Callable[[], Any] | None = None):
        self.obj, self.factory = obj, factory

    @classmethod
    def of(cls, obj, make: Callable, resolve: Callable, cfg) -> "Prebuilt":
        """``obj`` for this process; elsewhere ``make(cfg)``, but only when ``obj`` is the backend ``resolve(cfg)``
        names (a detector passed in by hand travels as itself)."""
        return cls(obj, partial(make, cfg) if obj.name == resolve(cfg) else None)

    def __call__(self):
        return self.obj if self.obj is not None else self.factory()

    def __reduce__(self):
        return (Prebuilt, (None, self.factory) if self.factory is not None else (self.obj, None))


def cache_keys(manifest: pd.DataFrame) -> pd.Series:
    """The content key of each row: its SHA-256, or ``path:<path>`` where the manifest has none (missing files),
    followed by ``|<key_extra>`` where the rows carry a ``key_extra`` column (a step's per-video input other than
    the file, e.g. the shot list person scoring reads)."""
    sha = manifest["sha256"] if "sha256" in manifest else pd.Series("", index=manifest.index)
    fallback = "path:" + manifest["path"].astype(str)
    keys = sha.where(sha.astype(str) != "", fallback).astype(str)
    return keys + "|" + manifest["key_extra"].astype(str) if "key_extra" in manifest else keys


_CLOCK = re.compile(r"\[\d\d:\d\d:\d\d\] ")  # decord stamps its errors with the time of day


def strip_clock(text: str) -> str:
    """``text`` without decord's ``[hh:mm:ss]`` stamps (the same failure must read the same in every run)."""
    return _CLOCK.sub("", text)


def error_text(e: BaseException, limit: int = 120) -> str:
    """``Type: message`` of a video's failure, at most ``limit`` characters of message, without decord's clock
    stamp (so that the same failure reads the same in every run)."""
    return f"{type(e).__name__}: {strip_clock(str(e))[:limit]}"


def decode_rows(decode: Callable[[Any], Any], rows: pd.DataFrame) -> list[tuple[bool, Any]]:
    """A step's ``decode`` of each row: (True, decoded) or (False, error text)."""
    out = []
    for row in rows.itertuples(index=False):
        try:
            out.append((True, decode(row)))
        except Exception as e:
            out.append((False, error_text(e)))
    return out


def _process_batch(step: Step, state, rows: pd.DataFrame, keys: list[str], decoded=None) -> pd.DataFrame:
    if step.process_batch is not None:
        try:
            res = step.process_batch(state, rows)
            return pd.DataFrame([dict(key=k, status="ok", error="", **r) for k, r in zip(keys, res, strict=True)])
        except Exception:  # one video at a time below: the failure becomes its row
            pass
    out = []
    for n, (key, row) in enumerate(zip(keys, rows.itertuples(index=False))):
        try:
            if decoded is None:
                res = step.process(state, row)
            elif decoded[n][0]:
                res = step.process(state, row, decoded[n][1])
            else:
                out.append(dict(key=key, status="error", error=decoded[n][1]))
                continue
            out.append(dict(key=key, status="ok", error="", **res))
        except Exception as e:  # one video's failure is its row, never the stage's
            out.append(dict(key=key, status="error", error=error_text(e)))
    return pd.DataFrame(out)


def compute_batch(step: Step, state, store: ShardStore, rows: pd.DataFrame, keys: list[str], decoded=None) -> int:
    """Process one batch (``decoded``: its :func:`decode_rows`, when a decode pool made it) and write it as one
    shard (what every engine's worker does); returns its error count."""
    with torch_threads(step.threads):
        out = _process_batch(step, state, rows, keys, decoded)
    store.write(out, time.time_ns())
    return int((out.status == "error").sum())


def plan_batches(keys: pd.Series, done: set, batch_videos: int) -> tuple[list[list[int]], int]:
    """(batches of row positions to compute, rows already done): one position per distinct key not in ``done``
    (a file listed twice is computed once), in manifest order, ``batch_videos`` to a batch."""
    seen, unique, n_done = set(done), [], 0
    for i, k in enumerate(keys):
        if k in done:
            n_done += 1
        elif k not in seen:
            seen.add(k)
            unique.append(i)
    return [unique[s : s + batch_videos] for s in range(0, len(unique), batch_videos)], n_done


def _run_local(step: Step, manifest: pd.DataFrame, keys: pd.Series, batches, store: ShardStore, bar) -> None:
    state = step.setup() if (step.setup and batches) else None
    for idx in batches:
        compute_batch(step, state, store, manifest.iloc[idx], [keys[i] for i in idx])
        bar.update(len(idx))


def run_step(
    step: Step,
    manifest: pd.DataFrame,
    compute,
    progress: bool = True,
    desc: str | None = None,
    columns: list[str] | None = None,
    store_out: list | None = None,
):
    """(table, counts): one row per manifest row (see the module docstring); counts = cached / computed / errors.

    ``columns``: the result columns to read back (default all; ``key``, ``status`` and ``error`` always), so that a
    caller can leave large vectors in the shards and gather them with :meth:`ShardStore.matrix` from the store
    appended to ``store_out``."""
    manifest = manifest.reset_index(drop=True)
    keys = cache_keys(manifest)
    if compute.cache_dir is None:  # no cache asked for: the shards of this run only, every column read back
        with tempfile.TemporaryDirectory(prefix="slac-compute-") as tmp:
            cfg = compute.model_copy(update=dict(cache_dir=tmp))
            return run_step(step, manifest, cfg, progress, desc)
    store = step.store(compute.cache_dir)
    have = store.status()
    done = set(have.index[have.to_numpy() == "ok"]) | (set() if compute.retry_errors else set(have.index))
    batches, n_done = plan_batches(keys, done, compute.batch_videos)
    n_todo = sum(map(len, batches))
    bar = tqdm(total=n_todo, desc=desc or step.name, unit="video", disable=not progress)
    if compute.engine == "ray" and batches:
        from .ray_engine import run_batches  # ray is imported only when asked for

        run_batches(step, manifest, keys, batches, store, compute, bar)
    else:
        _run_local(step, manifest, keys, batches, store, bar)
    bar.close()
    cached = store.read(None if columns is None else list(dict.fromkeys(["key", "status", "error", *columns])))
    if store_out is not None:
        store_out.append(store)
    table = pd.DataFrame({"video_id": manifest.video_id, "key": keys}).merge(cached, on="key", how="left")
    counts = dict(
        videos=len(manifest),
        computed=n_todo,
        cached=n_done,
        errors=int((table.status == "error").sum()),
    )
    return table, counts
