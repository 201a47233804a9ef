"""Farneback flow precomputed by the runner, once per clip, instead of on the fly in every epoch.

Farneback costs ~11x the decoding of the same frames (``bench/bench_flow.py``), so a flow stream trained on the fly
is bound by it. Here a runner step (:func:`flow_step`, through :func:`slac_utils.compute.run_step`, local or Ray)
decodes each clip once at the dataset's resolution and stores the flow of every consecutive frame pair,
``P[j]`` = flow from frame j to j+1, as a float32 ``(n-1, H, W, 2)`` ``.npy`` under ``compute.cache_dir``. The cache
is keyed by the clip file (path, size, modification time), its frame range and the resolution.
:class:`slac_utils.data.clips.ClipDataset` then assembles a window's flow from ``P``
(:func:`window_flow`), exactly what ``farneback_clip`` computes on the same frames. A pair that is not
consecutive (a padded window repeating its last frame) is computed on the spot, as before.

The files are float32, about 2.6 MB per 2-s clip at the demo's 64-px short side, so this suits the demo and
mid-size sets. At the paper's 1.75M clips, store quantised flow instead (``video.flow.flow_to_uint8``); that
changes the numbers, so it is not what this does.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..compute import Step, run_step
from ..compute.files import artifact_paths, ensure_files, stat_key, temp_beside
from ..video.decode import open_reader, resized_size
from ..video.flow import farneback_pair, pairwise_flow, to_gray


def clip_frames(path: str, f0, f1, short: int) -> np.ndarray:
    """The frames [f0, f1) of a clip file decoded with the short side at ``short``, as ClipDataset decodes them."""
    vr = open_reader(path)
    h, w = vr[0].shape[:2]
    vr = open_reader(path, *resized_size(w, h, short))
    a = int(f0) if f0 is not None and not pd.isna(f0) else 0
    b = min(int(f1) if f1 is not None and not pd.isna(f1) else len(vr), len(vr))
    return vr.get_batch(list(range(a, b))).asnumpy()


def flow_step(short: int) -> Step:
    """The runner step: rows ``path, f0, f1, dest`` -> the clip's pair flows written (atomically) at ``dest``."""

    def process(state, r) -> dict:
        P = pairwise_flow(clip_frames(r.path, r.f0, r.f1, short))
        tmp = temp_beside(r.dest)
        np.save(tmp, P)
        os.replace(tmp, r.dest)
        return dict(pairs=int(len(P)))

    return Step(name="flow_pairs", version="1", process=process, params=dict(short=short))


def precompute_flow(table: pd.DataFrame, short: int, compute, progress: bool = True) -> list[str | None]:
    """The pair-flow file of each row of a clip table (``path``, optional ``f0``/``f1``), computed where missing;
    None for a row whose clip cannot be decoded (the dataset then computes on the fly and fails as it would) and for
    every row when there is no ``compute.cache_dir``."""
    if compute is None or compute.cache_dir is None or not len(table):
        return [None] * len(table)
    t = table.reset_index(drop=True)
    f0 = t.f0 if "f0" in t else pd.Series([None] * len(t))
    f1 = t.f1 if "f1" in t else pd.Series([None] * len(t))
    rows = pd.DataFrame(dict(path=t.path.astype(str), f0=f0.to_numpy(), f1=f1.to_numpy()))
    rows["video_id"] = rows.path
    rows["key_extra"] = [f"{stat_key(p)}:{a}:{b}:{short}" for p, a, b in zip(rows.path, rows.f0, rows.f1)]
    step = flow_step(short)
    rows["dest"] = artifact_paths(step.store(compute.cache_dir).dir, rows, ".npy")
    table_, _ = run_step(step, rows, compute, progress, "flow")
    return [None if err else dest for dest, err in zip(rows.dest, ensure_files(step, rows, table_))]


def window_flow(P: np.ndarray, frames: np.ndarray, idx) -> np.ndarray:
    """(T, H, W, 2) flow of the window ``idx`` (frame offsets in the clip) from the clip's pair flows ``P``:
    flow[t] = flow from frame idx[t] to idx[t+1], the last field repeating the one before (T = 1: zeros) —
    ``farneback_clip(frames)`` exactly.  ``frames``: the window's frames, for a pair that is not consecutive."""
    idx = [int(k) for k in idx]
    T = len(idx)
    h, w = P.shape[1:3] if len(P) else np.asarray(frames).shape[1:3]
    if T < 2:
        return np.zeros((T, h, w, 2), np.float32)
    g = None
    fields = []
    for t in range(T - 1):
        a, b = idx[t], idx[t + 1]
        if b == a + 1 and a < len(P):
            fields.append(np.asarray(P[a]))
        else:
            g = to_gray(frames) if g is None else g
            fields.append(farneback_pair(g[t], g[t + 1]))
    pw = np.stack(fields).astype(np.float32, copy=False)
    return np.concatenate([pw, pw[-1:]])
