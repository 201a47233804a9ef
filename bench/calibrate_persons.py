"""Refit the logistic calibration of the OpenCV person detector (persons.calibration in params.yaml).

Generates a separately seeded demo world (seed 1, so the shipped demo world stays a held-out test),
scores 2 frames per true shot with the raw detectors, fits p = sigmoid(bias + w . s) to "this frame
shows a person", and prints the coefficients to paste into the schema default / params.yaml.
On your own data: label a few hundred frames and call slac_utils.persons.fit_calibration.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils import persons as P  # noqa: E402
from slac_utils.config import DemoConfig, PersonsConfig  # noqa: E402
from slac_utils.demo_world import generate, load_truth  # noqa: E402
from slac_utils.video import read_frames  # noqa: E402


def main(seed: int = 1):
    out = Path(tempfile.mkdtemp()) / "demo"
    generate(DemoConfig(seed=seed, videos_per_class=10, web_images_per_class=0, background_images=0, external_videos_per_class=0, external_overlaps=0, duplicate_prob=0), out, progress=False)
    t = load_truth(out)
    paths = t["videos"].set_index("video_id").path
    det = P.OpenCVPersonDetector(PersonsConfig().calibration)
    S, y = [], []
    for vid, g in t["shots"].groupby("video_id"):
        idx = [i for s in g.itertuples() for i in P.shot_frame_indices(s.start_frame, s.end_frame, 2)]
        lab = [s.has_person for s in g.itertuples() for _ in P.shot_frame_indices(s.start_frame, s.end_frame, 2)]
        for f, l in zip(read_frames(out / "videos" / paths[vid], idx), lab):
            S.append(det.raw_scores(f))
            y.append(float(l))
    S, y = np.array(S), np.array(y)
    c = P.fit_calibration(S, y)
    det.calibration = c
    pred = det.score_raw(S) >= 0.5
    print(f"{len(y)} frames ({int(y.sum())} with a person); calibration: {c}")
    print(f"frame-level accuracy {(pred == y).mean():.3f}, recall {pred[y == 1].mean():.3f}, precision {y[pred].mean():.3f}")


if __name__ == "__main__":
    main()
