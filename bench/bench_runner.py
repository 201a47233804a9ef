"""Runner overhead per video (slac_utils.compute.run_step, engine local): a trivial step over a synthetic
100K-row manifest, first run (compute + write every shard) and a re-run (everything read from the cache).

Issue 12's goal: <= 1 ms a video.  The step itself costs ~1 us, so the times are the runner's own.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils.compute import Step, run_step  # noqa: E402
from slac_utils.config import ComputeConfig  # noqa: E402


def main(n: int = 100_000, batch: int = 1000):
    ids = [f"v{i:07d}" for i in range(n)]
    m = pd.DataFrame(dict(video_id=ids, path=[f"/crawl/{v}.mp4" for v in ids], sha256=[f"{i:064x}" for i in range(n)]))
    step = Step(name="trivial", version="1", process=lambda state, row: dict(x=len(row.path)))
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ComputeConfig(cache_dir=tmp, batch_videos=batch)
        t0 = time.perf_counter()
        _, c1 = run_step(step, m, cfg, progress=False)
        t1 = time.perf_counter()
        _, c2 = run_step(step, m, cfg, progress=False)
        t2 = time.perf_counter()
    assert c1["computed"] == n and c2["cached"] == n
    print(
        f"[runner] {n:,} videos, batches of {batch}: first run {1e3 * (t1 - t0) / n:.3f} ms/video "
        f"({n / (t1 - t0):,.0f} videos/s, {n // batch} shards written); cached re-run {1e3 * (t2 - t1) / n:.3f} ms/video "
        f"(goal <= 1 ms a video)"
    )


if __name__ == "__main__":
    main()
