"""R(x) at SLAC scale on the CPU: 1.75M frames (520K videos, K+1 = 201 classes), vectorised.

Generates the inputs chunk by chunk (whole videos per chunk, so memory stays bounded) and times only
compute_R + sampling; prints frames per second and the total, beside a per-video Python loop on a subset.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils import sampling as S  # noqa: E402


def chunk(rng, n_videos, K1=201, d=256, mean_frames=3.4):
    counts = np.maximum(1, rng.poisson(mean_frames, n_videos))
    codes = np.repeat(np.arange(n_videos), counts)
    n = len(codes)
    PY = rng.dirichlet(np.full(K1, 0.3), size=n).astype(np.float32)
    PG = rng.dirichlet(np.full(K1, 0.3), size=n).astype(np.float32)
    F = np.abs(rng.normal(size=(n, d))).astype(np.float32)
    c = rng.integers(0, K1 - 1, n_videos)[codes]
    return PY, PG, F, c, codes


def loop_R(PY, PG, F, c, codes):
    """The obvious per-video Python loop, for comparison."""
    out = np.zeros(len(c))
    for v in np.unique(codes):
        idx = np.flatnonzero(codes == v)
        U = F[idx] / np.linalg.norm(F[idx], axis=1, keepdims=True)
        for a, i in enumerate(idx):
            rep = np.mean([U[a] @ U[b] for b in range(len(idx)) if b != a]) if len(idx) > 1 else 1.0
            p, q = np.clip(PY[i], 1e-8, 1), np.clip(PG[i], 1e-8, 1)
            out[i] = (PY[i, c[i]] + PG[i, c[i]]) * np.sum(p * np.log(p / q)) * rep
    return out


def main(total_videos=520_000, videos_per_chunk=20_000):
    rng = np.random.default_rng(0)
    t_compute, frames, clips = 0.0, 0, 0
    for _ in range(total_videos // videos_per_chunk):
        PY, PG, F, c, codes = chunk(rng, videos_per_chunk)
        t = time.perf_counter()
        df = S.compute_R(PY, PG, F, c, codes)
        df["code"] = codes
        kind = S.sample(df, 8, 0.01, True, rng)
        t_compute += time.perf_counter() - t
        frames += len(codes)
        clips += int((kind != "").sum())
    print(
        f"[R(x)] {frames:,} frames of {total_videos:,} videos (K+1 = 201, f dim 256): {t_compute:.1f} s compute "
        f"({frames / t_compute:,.0f} frames/s), {clips:,} clips sampled"
    )
    PY, PG, F, c, codes = chunk(rng, 2000)
    t = time.perf_counter()
    loop_R(PY, PG, F, c, codes)
    t_loop = (time.perf_counter() - t) / len(codes)
    t = time.perf_counter()
    S.compute_R(PY, PG, F, c, codes)
    t_vec = (time.perf_counter() - t) / len(codes)
    print(
        f"[R(x)] per-video Python loop: {1 / t_loop:,.0f} frames/s -> vectorised is {t_loop / t_vec:.0f}x faster (same {len(codes)} frames)"
    )


if __name__ == "__main__":
    main()
