"""Per-video results cached as parquet shards, keyed by file content (the runner's memory between runs).

Layout: ``<cache_dir>/<step name>/<step version>-<params digest>/part-<digest of its keys>.parquet``, and beside
the shards ``matrix-<column>-<digest>.npy``: a vector column gathered for a list of keys into one memory-mapped
float32 array (:meth:`ShardStore.matrix`), so that a later step reads a class's rows without holding the crawl.
A shard holds the rows of one batch (columns ``key``, ``status`` = ok | error, ``error`` and the step's result
columns) and is written once, atomically (a temporary file renamed into place), by the one worker that computed
the batch, so a killed run leaves only whole shards and two workers never write one file.  A later run reads
the keys already present and computes only the others: a resumed run finishes the unfinished batches, and adding
1,000 videos to a crawl computes 1,000.

``key`` is the video's SHA-256 from the manifest (stage 00), so a renamed or moved file is not recomputed and
an edited file is.  Changing a step's params or version selects another folder: nothing stale is ever read.

This lives outside DVC's outputs on purpose (DVC deletes a stage's outputs before it runs).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd


def params_digest(params: dict) -> str:
    """A short stable digest of a step's params (JSON with sorted keys)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]


class ShardStore:
    """The shards of one (step, version, params) under cache_dir."""

    def __init__(self, cache_dir, name: str, version: str, params: dict):
        self.dir = Path(cache_dir).expanduser() / name / f"{version}-{params_digest(params)}"

    @classmethod
    def at(cls, directory) -> "ShardStore":
        """The store whose folder is ``directory`` (how a remote worker reopens the driver's store)."""
        store = cls.__new__(cls)
        store.dir = Path(directory)
        return store

    def shards(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet")) if self.dir.is_dir() else []

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every cached row (the newest shard wins for a key computed twice, e.g. a retried error)."""
        parts = [pd.read_parquet(p, columns=columns) for p in self.shards()]  # oldest first
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=columns or ["key", "status", "error"])
        df = pd.concat(parts, ignore_index=True)
        return df.drop_duplicates("key", keep="last").reset_index(drop=True)

    def status(self) -> pd.Series:
        """key -> status of every cached row (reads only those two columns)."""
        df = self.read(["key", "status"])
        return pd.Series(df.status.to_numpy(), index=df.key.to_numpy(), dtype=object)

    def matrix(self, keys, column: str, dim: int = 0) -> np.ndarray:
        """The vectors of ``column`` for ``keys``, in that order, as a read-only memory-mapped float32 ``.npy``
        beside the shards (built once per distinct key list, one shard at a time: never all rows in memory).
        Every key must have an ok row; ``dim``: the width of the empty array returned for no keys."""
        keys = [str(k) for k in keys]
        if not keys:
            return np.zeros((0, dim), np.float32)
        digest = hashlib.sha256("\n".join([column, *keys]).encode()).hexdigest()[:16]
        path = self.dir / f"matrix-{column}-{digest}.npy"
        if not path.exists():
            where: dict[str, list[int]] = {}
            for i, k in enumerate(keys):  # a file listed twice fills two rows
                where.setdefault(k, []).append(i)
            out, filled = None, np.zeros(len(keys), bool)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            for shard in self.shards():  # in write order: a key computed twice takes its newest row, as read() does
                part = pd.read_parquet(shard, columns=["key", "status", column])
                part = part[(part.status == "ok") & part.key.isin(where)]
                if not len(part):
                    continue
                rows = np.stack([np.asarray(v, np.float32) for v in part[column]])
                if out is None:
                    shape = (len(keys), rows.shape[1])
                    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
                src = np.repeat(np.arange(len(part)), [len(where[k]) for k in part.key])
                pos = np.concatenate([where[k] for k in part.key])
                out[pos] = rows[src]
                filled[pos] = True
            if out is None or not filled.all():
                missing = [k for k, f in zip(keys, filled) if not f][:3]
                raise KeyError(f"{self.dir.name}: no ok {column!r} row for {missing} ...")
            out.flush()
            del out
            os.replace(tmp, path)
        return np.load(path, mmap_mode="r")

    def write(self, rows: pd.DataFrame, serial: int) -> Path:
        """One shard for one computed batch; serial orders shards written by one run (a retry sorts after)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256("\n".join(map(str, rows.key)).encode()).hexdigest()[:16]
        path = self.dir / f"part-{serial:012d}-{digest}.parquet"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        rows.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        return path
