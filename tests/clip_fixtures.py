"""A small stage-04 output for the annotation tests: clips.parquet, clips_truth.parquet, world.json and
(optionally) real H.264 clip files, in the layout stage 04 writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from slac_utils.config import Params

KINDS = ["action", "no_action", "no_context", "no_person"]


def clip_frames(seed: int, n: int = 16, h: int = 72, w: int = 96) -> np.ndarray:
    """A moving square on a coloured background (so a playing video changes from frame to frame)."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(40, 200, 3)
    fg = 255 - bg
    f = np.empty((n, h, w, 3), np.uint8)
    f[:] = bg
    for i in range(n):
        x = (i * 5) % (w - 20)
        f[i, 20:44, x : x + 20] = fg
    return f


def make_clip_world(
    root: Path,
    classes=("archery", "hula_hoop"),
    videos_per_class: int = 3,
    clips_per_video: int = 4,
    files: bool = True,
    seed: int = 0,
) -> dict:
    """Write the tables (and clip files when `files`) under root; returns their paths and the tables."""
    from slac_utils.video.encode import write_h264

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for c in classes:
        for v in range(videos_per_class):
            vid = f"{c[:3]}{v:02d}"
            for k in range(clips_per_video):
                cid = f"{vid}_0_{k * 30:04d}"
                rel = f"clips/{c}/{cid}.mp4"
                rows.append(
                    dict(
                        clip_id=cid,
                        video_id=vid,
                        class_label=c,
                        shot_id=0,
                        start_s=2.0 * k,
                        end_s=2.0 * k + 2,
                        kind="easy" if k == 0 else "hard",
                        R=float(rng.random()),
                        consensus=float(rng.random()),
                        kl=float(rng.random()),
                        representativeness=float(rng.random()),
                        path=str(root / rel),
                    )
                )
                kind = KINDS[int(rng.integers(4))] if k else "action"
                truth.append(dict(clip_id=cid, truth_kind=kind, truth_label=1 if kind == "action" else -1))
                if files:
                    write_h264(root / rel, clip_frames(len(rows)), fps=8, crf=30)
    clips, truth = pd.DataFrame(rows), pd.DataFrame(truth)
    clips.to_parquet(root / "clips.parquet", index=False)
    truth.to_parquet(root / "clips_truth.parquet", index=False)
    (root / "world.json").write_text(json.dumps(dict(classes={c: f"definition of {c}" for c in classes})))
    return dict(
        root=root,
        clips=clips,
        truth=truth,
        clips_path=root / "clips.parquet",
        truth_path=root / "clips_truth.parquet",
        world_path=root / "world.json",
    )


def write_params(path: Path, **annotation) -> Path:
    d = Params().model_dump(mode="json")
    d["annotation"].update(annotation)
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path
