"""De-dup benchmarks, measured side by side in one run (CPU).

1. Feature-stage decode + preprocess throughput (decode resized by decord, centre crop) versus raw
   decord decode of the same frames at full size: ratio goal >= 0.8x.
2. Per-class similarity at 6,000 videos x 2048-d: blockwise matrix products + connected components,
   versus a Python double loop over pairs (timed on a 300-video subset and extrapolated, n^2/2 pairs).
3. Internal de-dup of a crawl whose features do not fit in memory: 200K videos x 1280-d in 200 classes, read
   class by class from a memory map (what stage 01 does with the runner's shards), versus the whole matrix in
   memory: the peak of memory numpy allocates (tracemalloc) and the time.

Run: make bench   (or: .venv/bin/python bench/bench_dedup.py)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils import dedup as D  # noqa: E402
from slac_utils.config import DemoConfig  # noqa: E402
from slac_utils.demo.footage import render_video, write_video  # noqa: E402
from slac_utils.demo.plan import plan_video  # noqa: E402
from slac_utils.video.decode import open_reader, preprocess_for_features, sample_indices  # noqa: E402


def bench_decode(n_videos: int = 6, repeats: int = 3) -> dict:
    cfg = DemoConfig(width=480, height=360)
    rng = np.random.default_rng(0)
    tmp = Path(tempfile.mkdtemp())
    paths = []
    for i in range(n_videos):
        plan = plan_video(rng, cfg, f"v{i}", cfg.classes[i % 5], n_shots=(3, 3))
        p = tmp / f"v{i}.mp4"
        write_video(p, render_video(plan), plan.fps)
        paths.append((p, plan.n_frames, plan.fps))
    best_raw = best_feat = np.inf
    n_frames = 0
    for _ in range(repeats):
        t = time.perf_counter()
        n_frames = 0
        for p, n, fps in paths:
            idx = sample_indices(n, fps, 2.0, 6)
            open_reader(p).get_batch([int(i) for i in idx]).asnumpy()
            n_frames += len(idx)
        best_raw = min(best_raw, time.perf_counter() - t)
        t = time.perf_counter()
        for p, n, fps in paths:
            idx = sample_indices(n, fps, 2.0, 6)
            preprocess_for_features(p, idx, 480, 360, 256, 224)
        best_feat = min(best_feat, time.perf_counter() - t)
    return dict(
        frames=n_frames, raw_fps=n_frames / best_raw, feature_fps=n_frames / best_feat, ratio=best_raw / best_feat
    )


def bench_similarity(n: int = 6000, d: int = 2048, gamma: float = 0.935, loop_subset: int = 300) -> dict:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(n // 3, d)).astype(np.float32)
    X = np.concatenate(
        [base, base + 0.1 * rng.normal(size=base.shape), rng.normal(size=(n - 2 * len(base), d))]
    ).astype(np.float32)
    A = D.normalize_rows(X)
    t = time.perf_counter()
    i, j, _ = D.cosine_edges(A, None, gamma, 2048)
    lab = D.components(n, i, j)
    t_block = time.perf_counter() - t
    m = loop_subset
    t = time.perf_counter()
    for a in range(m):
        for b in range(a + 1, m):
            float(np.dot(A[a], A[b])) > gamma
    t_loop = (time.perf_counter() - t) * (n * (n - 1) / 2) / (m * (m - 1) / 2)
    return dict(
        videos=n,
        dim=d,
        edges=int(len(i)),
        components=int(lab.max() + 1),
        blockwise_s=t_block,
        python_loop_s_extrapolated=t_loop,
        speedup=t_loop / t_block,
    )


def _external(tmp: str, table, rows, classes: int, d: int, rng, n_target: int = 20_000) -> tuple:
    """External de-dup of the kept candidates against a 20K-video target set (memory-mapped), each candidate class
    mapped to two target classes of 50 videos; 100 planted copies."""
    import tracemalloc

    import pandas as pd

    from slac_utils.config import ExternalTarget

    T = np.lib.format.open_memmap(f"{tmp}/T.npy", mode="w+", dtype=np.float32, shape=(n_target, d))
    T[:] = rng.random((n_target, d), dtype=np.float32)
    kept = np.flatnonzero(table.kept.to_numpy())[:100]
    tcls = [f"t{i % (2 * classes):03d}" for i in range(n_target)]
    for k, r in enumerate(kept):  # a copy of candidate r in a target class its class maps to
        j = 2 * (r % classes) + 2 * classes * (k % (n_target // (2 * classes)))  # a row of target class t<2c>
        T[j] = np.asarray(rows.X[r]) + 1e-3
    T.flush()
    emeta = pd.DataFrame(dict(target="web20k", video_id=[f"w{i:05d}" for i in range(n_target)], class_label=tcls))
    cmap = {f"c{c:03d}": [f"t{2 * c:03d}", f"t{2 * c + 1:03d}"] for c in range(classes)}
    tracemalloc.start()
    t0 = time.perf_counter()
    ext = D.external_dedup(
        table,
        rows,
        emeta,
        D.UnitRows(np.load(f"{tmp}/T.npy", mmap_mode="r"), "efficientnet_lite0"),
        [ExternalTarget(name="web20k", class_map=cmap)],
        0.995,
        2048,
    )
    secs, peak = time.perf_counter() - t0, tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return secs, peak, int((ext.removed_by == "web20k").sum()), len(kept)


def bench_memmap(n: int = 200_000, d: int = 1280, classes: int = 200) -> dict:
    import tracemalloc

    import pandas as pd

    rng = np.random.default_rng(0)
    meta = pd.DataFrame(
        dict(
            video_id=[f"v{i:07d}" for i in range(n)],
            class_label=[f"c{i % classes:03d}" for i in range(n)],
            width=640,
            height=360,
            duration_s=60.0,
        )
    )
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        M = np.lib.format.open_memmap(f"{tmp}/X.npy", mode="w+", dtype=np.float32, shape=(n, d))
        for s in range(0, n, 20_000):
            block = rng.random((min(20_000, n - s), d), dtype=np.float32)
            block[classes::1000] = block[:-classes:1000][: len(block[classes::1000])] + 1e-3  # planted copies
            M[s : s + 20_000] = block
        M.flush()
        del M
        for label in ("memory map", "in memory"):
            X = np.load(f"{tmp}/X.npy", mmap_mode="r")
            tracemalloc.start()
            t0 = time.perf_counter()
            rows = D.UnitRows(X if label == "memory map" else np.array(X), "efficientnet_lite0")
            table = D.internal_dedup(meta, rows, 0.995, "best_quality", 0, 2048)
            out[label] = (
                time.perf_counter() - t0,
                tracemalloc.get_traced_memory()[1] / 2**20,
                int((~table.kept).sum()),
            )
            tracemalloc.stop()
            if label == "memory map":
                out["external"] = _external(tmp, table, rows, classes, d, rng)
            del X, rows
    return dict(videos=n, dim=d, classes=classes, matrix_mb=n * d * 4 / 2**20, **out)


if __name__ == "__main__":
    dec = bench_decode()
    print(
        f"[decode] {dec['frames']} frames: raw decord {dec['raw_fps']:.0f} fps, feature decode+resize+crop {dec['feature_fps']:.0f} fps "
        f"-> ratio {dec['ratio']:.2f}x (goal >= 0.8x)"
    )
    sim = bench_similarity()
    print(
        f"[similarity] {sim['videos']} x {sim['dim']}: blockwise + components {sim['blockwise_s']:.2f} s "
        f"({sim['edges']} edges, {sim['components']} components); Python pair loop ~{sim['python_loop_s_extrapolated']:.0f} s "
        f"(extrapolated) -> {sim['speedup']:.0f}x faster"
    )
    mm = bench_memmap()
    (tm, pm, rm), (ti, pi, ri) = mm["memory map"], mm["in memory"]
    te, pe, re_, planted = mm["external"]
    print(
        f"[memmap] internal de-dup of {mm['videos']:,} x {mm['dim']} features in {mm['classes']} classes "
        f"({mm['matrix_mb']:.0f} MB): read class by class from a memory map {tm:.1f} s, peak {pm:.0f} MB allocated; "
        f"whole matrix in memory {ti:.1f} s, peak {pi:.0f} MB; same removals: {rm == ri} ({rm} of 200 planted)"
    )
    print(
        f"[external] the kept candidates against a 20,000-video target set (memory-mapped, 2 target classes per class): "
        f"{te:.1f} s, peak {pe:.0f} MB allocated; {re_} of {planted} planted copies removed"
    )
