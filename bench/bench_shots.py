"""Shot detection: ours (paper 3.5, histogram score + gradient) versus PySceneDetect's ContentDetector
and AdaptiveDetector, on the same demo-world videos, side by side in one run.

Prints boundary precision/recall/F1 (±2 frames; dissolves anywhere inside the transition ±2) and
throughput. Needs the demo world (make repro) and scenedetect (make bench installs it).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", category=DeprecationWarning)

from slac_utils import shots as S  # noqa: E402
from slac_utils.config import ShotsConfig  # noqa: E402
from slac_utils.demo.world import load_truth  # noqa: E402
from slac_utils.video.decode import open_reader  # noqa: E402

DEMO = Path("data/raw/demo")


def ours(path, cfg):
    vr = open_reader(path)
    n, fps = len(vr), vr.get_avg_fps()
    h, w = vr[0].shape[:2]
    H = S.video_histograms(path, n, w, h, cfg.decode_width, cfg.bins, cfg.chunk_frames)
    return S.detect_boundaries(
        H, fps, cfg.score_threshold, cfg.gradient_threshold, cfg.gradual_lag, cfg.gradual_threshold, cfg.min_shot_s
    ), n


def pyscenedetect(path, detector):
    from scenedetect import SceneManager, open_video

    v = open_video(str(path))
    sm = SceneManager()
    sm.add_detector(detector)
    sm.detect_scenes(v)
    return [s[0].frame_num for s in sm.get_scene_list()][1:], v.frame_number


def main(limit: int = 60):
    from scenedetect import AdaptiveDetector, ContentDetector

    if not (DEMO / "truth").exists():
        sys.exit("run `make repro` first (needs data/raw/demo)")
    truth = load_truth(DEMO)
    vids = truth["videos"]
    vids = vids[(vids.broken == "") & ~vids.is_copy].head(limit)
    methods = {
        "ours (hist score+gradient, lag)": lambda p: ours(p, ShotsConfig()),
        "ours, no lag (paper as written)": lambda p: ours(p, ShotsConfig(gradual_lag=0)),
        "PySceneDetect ContentDetector": lambda p: pyscenedetect(p, ContentDetector()),
        "PySceneDetect AdaptiveDetector": lambda p: pyscenedetect(p, AdaptiveDetector()),
    }
    rows = []
    for name, fn in methods.items():
        shots, frames, t0 = [], 0, time.perf_counter()
        for r in vids.itertuples():
            b, n = fn(DEMO / "videos" / r.path)
            frames += n
            shots += S.shots_from_boundaries(r.video_id, b, n, 15.0)
        dt = time.perf_counter() - t0
        e = S.evaluate_shots(pd.DataFrame(shots), truth["shots"]).set_index("boundaries")
        rows.append(
            dict(
                method=name,
                precision=e.loc["all", "precision"],
                recall=e.loc["all", "recall"],
                f1=e.loc["all", "f1"],
                cut_recall=e.loc["cut", "recall"],
                dissolve_recall=e.loc["dissolve", "recall"],
                frames_per_s=frames / dt,
            )
        )
    df = pd.DataFrame(rows)
    base = df.frames_per_s.iloc[0]
    df["speed_vs_ours"] = df.frames_per_s / base
    print(
        f"{len(vids)} demo videos, {int(truth['shots'][truth['shots'].video_id.isin(vids.video_id)].shot_id.gt(0).sum())} true boundaries"
    )
    print(df.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
