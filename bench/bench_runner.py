"""The per-video runner (slac_utils.compute.run_step), measured side by side in one run:

1. overhead per video, engines local and ray: a trivial step over a synthetic 100K-row manifest, first run (compute
   + write every shard) and a re-run (everything read from the cache). Issue 12's goal: <= 1 ms a video;
2. a real step (the paper's histogram shot detection) over synthetic H.264 videos, local and on Ray with 1 and 2
   workers: videos/s and the speed-up of the second worker;
3. resume at the paper's scale: a simulated 1.1M-video manifest, the run killed at a random point, resumed: the
   videos recomputed must be exactly the unfinished ones.

``python bench/bench_runner.py [--quick]`` (--quick: 20K rows, 110K simulated, for a smoke run).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils.compute import ShardStore, Step, run_step  # noqa: E402
from slac_utils.config import ComputeConfig, ShotsConfig  # noqa: E402


def _manifest(n: int) -> pd.DataFrame:
    ids = [f"v{i:07d}" for i in range(n)]
    return pd.DataFrame(
        dict(video_id=ids, path=[f"/crawl/{v}.mp4" for v in ids], sha256=[f"{i:064x}" for i in range(n)])
    )


def _trivial(state, row):
    return dict(x=len(row.path))


def overhead(n: int, batch: int, engine: str) -> str:
    m = _manifest(n)
    step = Step(name="trivial", version="1", process=_trivial)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ComputeConfig(cache_dir=tmp, batch_videos=batch, engine=engine, ray_num_cpus=2)
        if engine == "ray":  # the cluster's start (~8 s, once per process) is not the runner's overhead
            from slac_utils.compute.ray_engine import ensure_ray

            ensure_ray(cfg)
        t0 = time.perf_counter()
        _, c1 = run_step(step, m, cfg, progress=False)
        t1 = time.perf_counter()
        _, c2 = run_step(step, m, cfg, progress=False)
        t2 = time.perf_counter()
    assert c1["computed"] == n and c2["cached"] == n
    return (
        f"[runner] {engine:5s} {n:,} videos, batches of {batch}: first run {1e3 * (t1 - t0) / n:.3f} ms/video "
        f"({n / (t1 - t0):,.0f} videos/s, {n // batch} shards written); cached re-run "
        f"{1e3 * (t2 - t1) / n:.3f} ms/video (goal <= 1 ms a video)"
    )


def _videos(folder: Path, n: int, frames: int = 900, h: int = 270, w: int = 480) -> pd.DataFrame:
    """n synthetic 480x270 30 fps videos of 30 s with three hard cuts each."""
    from slac_utils.video.encode import write_h264

    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        scenes = rng.integers(0, 255, (4, 1, 1, 3), dtype=np.uint8)
        drift = np.linspace(0, 40, frames, dtype=np.float32)[:, None, None, None]
        base = np.repeat(scenes, frames // 4 + 1, axis=0)[:frames].astype(np.float32)
        noise = rng.integers(0, 20, (frames, h, w, 1)).astype(np.float32)
        video = np.clip(base + drift + noise, 0, 255).astype(np.uint8)
        p = write_h264(folder / f"{i}.mp4", video, 30)
        rows.append(dict(video_id=f"v{i}", path=str(p), sha256=f"s{i}", n_frames=frames, fps=30.0, width=w, height=h))
    return pd.DataFrame(rows)


def real_step(n: int) -> list[str]:
    from slac_utils.shots import shot_step

    out, rates = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        m = _videos(Path(tmp), n)
        step = shot_step(ShotsConfig(detector="histogram"))
        for label, kw in (("local", {}), ("ray, 1 worker", dict(workers=1)), ("ray, 2 workers", dict(workers=2))):
            engine = "local" if label == "local" else "ray"
            cfg = ComputeConfig(
                cache_dir=f"{tmp}/cache-{len(rates)}", batch_videos=1, engine=engine, ray_num_cpus=2, **kw
            )
            t0 = time.perf_counter()
            t, c = run_step(step, m, cfg, progress=False)
            rates[label] = n / (time.perf_counter() - t0)
            assert c["errors"] == 0 and c["computed"] == n
            out.append(
                f"[runner] real step (histogram shots, {n} videos of 900 frames 480x270): {label:14s} {rates[label]:.2f} videos/s"
            )
    out.append(
        f"[runner] second Ray worker: x{rates['ray, 2 workers'] / rates['ray, 1 worker']:.2f} "
        f"(2 cores, the driver sharing them; each figure includes Ray Data's ~3 s start of an actor pool)"
    )
    return out


class _Killed(BaseException):
    pass


def resume(n: int, batch: int, seed: int = 0) -> str:
    """Kill the run at a random video, resume, and count what the second run computes."""
    m = _manifest(n)
    kill_at = int(np.random.default_rng(seed).integers(n // 10, n - n // 10))
    seen = {"count": 0, "limit": kill_at}

    def dies(state, row):
        seen["count"] += 1
        if seen["count"] > seen["limit"]:
            raise _Killed  # not an Exception a video's row absorbs: the whole run stops here
        return dict(x=len(row.path))

    step = Step(name="resume", version="1", process=dies)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ComputeConfig(cache_dir=tmp, batch_videos=batch)
        t0 = time.perf_counter()
        try:
            run_step(step, m, cfg, progress=False)
        except _Killed:
            pass
        t1 = time.perf_counter()
        finished = len(ShardStore(tmp, "resume", "1", {}).read(["key"]))
        seen.update(count=0, limit=n + 1)
        t, c = run_step(step, m, cfg, progress=False)
        t2 = time.perf_counter()
    assert finished == kill_at // batch * batch  # the batches before the one being computed, whole
    ok = c["computed"] == n - finished and c["cached"] == finished and (t.status == "ok").all()
    return (
        f"[runner] resume at scale: {n:,} simulated videos, killed after {finished:,} finished "
        f"({finished // batch} whole shards, {t1 - t0:.0f} s); the resumed run "
        f"computed {c['computed']:,} = exactly the unfinished ones: {ok} ({t2 - t1:.0f} s)"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    n, sim = (20_000, 110_000) if a.quick else (100_000, 1_100_000)
    print(overhead(n, 1000, "local"))
    print(overhead(n, 1000, "ray"))
    for line in real_step(8 if a.quick else 32):
        print(line)
    print(resume(sim, 1000))


if __name__ == "__main__":
    main()
