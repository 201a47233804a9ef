"""Farneback optical flow throughput versus RGB decode + crop, on the same frames (paper 4.1's flow stream).

For each resolution -- 112 x 112 (Res3D's input crop, here the centre crop of the demo's frames) and
the demo's full 160 x 120 -- every clip is decoded (decord, one thread) and cropped, which is what the
RGB stream costs per clip, then its flow is computed with slac_utils.video.flow.farneback_clip (default
parameters) on those frames, which is what the flow stream costs on top.  Prints frames per second of
both and their ratio (how many times slower flow is than decoding).

Reads the demo's 2-second clips (data/interim/clips, written by `make repro`); without them it encodes
synthetic 160 x 120 clips of a moving texture into a temporary folder.  OpenCV uses --threads threads
(default: all cores, 2 on the reference machine).

    python bench/bench_flow.py [--limit 40] [--threads N] [--clips DIR] [--params winsize=9 levels=2]
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

from slac_utils.video.decode import open_reader  # noqa: E402
from slac_utils.video.flow import FARNEBACK_DEFAULTS, farneback_clip  # noqa: E402

CLIPS = Path("data/interim/clips")
SIZES = {"112x112 (centre crop)": (112, 112), "160x120 (demo frame)": (120, 160)}


def synthetic_clips(folder: Path, n: int = 20, frames: int = 30, seed: int = 0) -> list[Path]:
    """n H.264 clips of a blurred random texture moving by a random (dx, dy) per frame, 160 x 120."""
    import cv2

    from slac_utils.video.encode import write_h264

    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        tex = cv2.GaussianBlur(rng.random((400, 480, 3)).astype(np.float32), (0, 0), 2.0)
        tex = ((tex - tex.min()) / (np.ptp(tex) + 1e-9) * 255).astype(np.uint8)
        dx, dy = rng.uniform(-3, 3, size=2)
        y0, x0 = 140, 160
        clip = np.stack(
            [
                tex[int(y0 + dy * t) : int(y0 + dy * t) + 120, int(x0 + dx * t) : int(x0 + dx * t) + 160]
                for t in range(frames)
            ]
        )
        paths.append(write_h264(folder / f"synthetic_{i:03d}.mp4", clip, 15.0))
    return paths


def crop_to(frames: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Centre crop (T, H, W, 3) to (h, w), the rule of video.center_crop (identity at the frames' own size)."""
    h, w = hw
    if frames.shape[1:3] == (h, w):
        return frames
    H, W = frames.shape[1:3]
    y, x = (H - h) // 2, (W - w) // 2
    return frames[:, y : y + h, x : x + w]


def bench(paths: list[Path], hw: tuple[int, int], params: dict) -> dict:
    n_frames, t_rgb, t_flow = 0, 0.0, 0.0
    for p in paths:
        t0 = time.perf_counter()
        vr = open_reader(p)
        frames = crop_to(vr.get_batch(list(range(len(vr)))).asnumpy(), hw)
        t1 = time.perf_counter()
        farneback_clip(np.ascontiguousarray(frames), **params)
        t2 = time.perf_counter()
        n_frames += len(frames)
        t_rgb += t1 - t0
        t_flow += t2 - t1
    return dict(
        clips=len(paths),
        frames=n_frames,
        rgb_fps=n_frames / t_rgb,
        flow_fps=n_frames / t_flow,
        flow_over_rgb_time=t_flow / t_rgb,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=40, help="clips to time")
    ap.add_argument("--clips", type=Path, default=CLIPS, help="folder of <class>/<clip>.mp4 (default: the demo's)")
    ap.add_argument("--threads", type=int, default=0, help="OpenCV threads (0: OpenCV's default)")
    ap.add_argument("--params", nargs="*", default=[], help="Farneback overrides, e.g. winsize=9")
    args = ap.parse_args()

    import cv2

    if args.threads:
        cv2.setNumThreads(args.threads)
    params = {k: type(FARNEBACK_DEFAULTS[k])(v) for k, v in (kv.split("=") for kv in args.params)}

    with tempfile.TemporaryDirectory() as tmp:
        paths = sorted(args.clips.glob("*/*.mp4"))[: args.limit]
        source = f"clips of {args.clips}"
        if not paths:
            paths = synthetic_clips(Path(tmp), n=min(args.limit, 20))
            source = f"synthetic clips (none in {args.clips}; `make repro` writes the demo's)"
        bench(paths[:2], (112, 112), params)  # warm-up: decoder and OpenCV initialisation
        rows = [dict(resolution=name, **bench(paths, hw, params)) for name, hw in SIZES.items()]

    df = pd.DataFrame(rows)
    print(f"source: {source}; OpenCV threads: {cv2.getNumThreads()}; Farneback: {dict(FARNEBACK_DEFAULTS, **params)}")
    print(df.to_markdown(index=False, floatfmt=".1f"))
    for r in rows:
        print(
            f"{r['resolution']}: Farneback {r['flow_fps']:.0f} frames/s vs decode+crop {r['rgb_fps']:.0f} frames/s "
            f"-> flow takes {r['flow_over_rgb_time']:.1f}x the time of decoding the same frames"
        )


if __name__ == "__main__":
    main()
