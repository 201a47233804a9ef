"""Clip files: 2-second H.264 MP4s that browsers play and decord reads.

Encoding goes through the FFmpeg binary shipped inside the ``imageio-ffmpeg`` wheel, one
subprocess per clip, single-threaded x264 with bit-exact flags: the bytes are the same on every
run (clip files are DVC outputs, so ``dvc.lock`` must be reproducible).  ``+faststart`` puts the
index first so a browser starts playing before the file is fully loaded.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np


def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # deferred: the FFmpeg binary is located only when a clip is encoded

    return imageio_ffmpeg.get_ffmpeg_exe()


def write_h264(path, frames: np.ndarray, fps: float, crf: int = 26) -> Path:
    """Encode RGB frames (N, H, W, 3) uint8 as a browser-playable, byte-deterministic H.264 MP4."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n, h, w = frames.shape[:3]
    if n == 0:
        raise ValueError("no frames to encode")
    if h % 2 or w % 2:  # yuv420p needs even sizes
        frames = frames[:, : h - h % 2, : w - w % 2]
        h, w = frames.shape[1:3]
    cmd = [
        ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{w}x{h}",
        "-r",
        f"{fps:.6g}",
        "-i",
        "-",
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        str(crf),
        "-threads",
        "1",
        "-pix_fmt",
        "yuv420p",
        "-profile:v",
        "main",
        "-movflags",
        "+faststart",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-map_metadata",
        "-1",
        str(path),
    ]
    r = subprocess.run(cmd, input=np.ascontiguousarray(frames, dtype=np.uint8).tobytes(), capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {path}: {r.stderr.decode(errors='replace')[-300:]}")
    return path
