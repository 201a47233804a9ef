"""Stage 04 — active sampling of 2-second clips by R(x) (paper section 3.6, equation 1).

The stage's orchestration; what it computes lives in :mod:`slac_utils.sampling`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plots
from ..io import read_table, save_figure, write_json, write_markdown_table, write_no_truth_table, write_table
from ..sampling import (
    KINDS,
    clip_table,
    clip_truth,
    compare_strategies,
    compute_R,
    extract_clips,
    frame_truth_kind,
    sample,
    strategy_draws,
)
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    frames_path: str = "data/interim/proposal_frames.parquet"
    candidates_path: str = "data/interim/candidates.parquet"
    clips_path: str = "data/interim/clips.parquet"
    clips_truth_path: str = "data/interim/clips_truth.parquet"
    clips_dir: str = "data/interim/clips"
    tables_dir: str = "reports/tables/04_sampling"
    figures_dir: str = "reports/figures/04_sampling"
    metrics_path: str = "metrics/04_sampling.json"
    demo_dir: str = "data/raw/demo"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 04: R(x) over X, sampling, clip windows and files; the R(x)-versus-baselines report."""
    paths = paths.for_source(params)

    cfg = params.sampling
    X = (
        read_table(paths.frames_path)
        .sort_values(["class_label", "video_id", "shot_id"], kind="mergesort")
        .reset_index(drop=True)
    )
    cand = read_table(paths.candidates_path)
    classes = sorted(cand.class_label.unique())
    X["code"] = pd.factorize(X.video_id)[0]
    PY, PG, F = (np.stack(X[c].to_numpy()).astype(np.float64) for c in ("p_frames", "p_web", "feature"))
    c = np.array([classes.index(k) for k in X.class_label])
    df = pd.concat(
        [
            X[["video_id", "class_label", "shot_id", "frame", "time_s", "code"]],
            compute_R(PY, PG, F, c, X.code.to_numpy()),
        ],
        axis=1,
    )
    df["kind"] = sample(df, cfg.max_per_video, cfg.tau, cfg.easy_positive, np.random.default_rng(params.seed))

    sel = clip_table(df, cand, cfg.clip_seconds, paths.clips_dir)
    fps = dict(zip(cand.video_id, cand.fps))

    sel["error"] = extract_clips(sel, cfg.clip_width, cfg.clip_crf, params.compute, progress)
    cols = [
        "clip_id",
        "video_id",
        "class_label",
        "shot_id",
        "frame",
        "time_s",
        "start_s",
        "end_s",
        "kind",
        "R",
        "consensus",
        "kl",
        "representativeness",
        "path",
    ]
    clips = sel[sel.error == ""][cols].sort_values(["class_label", "clip_id"], kind="mergesort").reset_index(drop=True)
    write_table(clips, paths.clips_path)

    tables_dir, figures_dir = Path(paths.tables_dir), Path(paths.figures_dir)
    per_class = clips.groupby(["class_label", "kind"]).size().unstack(fill_value=0).reset_index()
    prov = [
        f"max {cfg.max_per_video} frames per video from R(x), kept when consensus > τ = {cfg.tau}; easy positive: {cfg.easy_positive}; clips of {cfg.clip_seconds} s inside their shot",
        f"{len(X)} frames in X from {X.video_id.nunique()} videos → {len(clips)} clips"
        + (f"; {int((sel.error != '').sum())} clips failed to write" if (sel.error != "").any() else ""),
    ]
    write_markdown_table(per_class, tables_dir / "clips_per_class.md", "Stage 04 — sampled clips per class", prov)
    metrics = dict(
        X_frames=int(len(X)),
        videos=int(X.video_id.nunique()),
        clips=int(len(clips)),
        hard=int((clips.kind == "hard").sum()),
        easy=int((clips.kind == "easy").sum()),
        failed=int((sel.error != "").sum()),
        clips_per_video=float(len(clips) / max(1, X.video_id.nunique())),
    )
    out = dict(clips=clips, per_class=per_class, R=df, metrics=metrics)

    truth = _compare_against_truth(params, paths, df, clips, fps, metrics, out)
    save_figure(plots.r_by_selection(df), figures_dir / "R_by_selection.png")
    write_table(truth, paths.clips_truth_path)
    write_json(metrics, paths.metrics_path)
    return out


def _compare_against_truth(params, paths: Paths, df, clips, fps, metrics: dict, out: dict) -> pd.DataFrame:
    """With the demo world's truth: R(x) against the baselines (table and figures) and each clip's true kind and
    label (returned: clip_id, truth_kind, truth_label); without: a no-truth table and an empty clip truth."""
    cfg, tables_dir, figures_dir = params.sampling, Path(paths.tables_dir), Path(paths.figures_dir)
    truth = pd.DataFrame(columns=["clip_id", "truth_kind", "truth_label"])
    if paths.demo_dir is not None and (Path(paths.demo_dir) / "truth" / "segments.parquet").exists():
        kinds = frame_truth_kind(df, paths.demo_dir)
        draws = strategy_draws(df, kinds, cfg, seed=params.seed)
        write_table(draws, tables_dir / "sampling_vs_baselines_seeds.csv")
        comp = compare_strategies(draws)
        write_markdown_table(
            comp,
            tables_dir / "sampling_vs_baselines.md",
            "Stage 04 — what each strategy spends the annotation budget on (demo world)",
            [
                "share of sampled frames by true segment kind; same per-video budget for all strategies; mean over 20 seeds and its sd (per seed: sampling_vs_baselines_seeds.csv)",
                "paper's claim: R(x) concentrates the budget on positives and 'no action' hard negatives, away from 'no context' and 'no person'",
            ],
        )
        save_figure(plots.strategy_shares(comp, KINDS), figures_dir / "sampling_vs_baselines.png")
        save_figure(plots.r_distribution(df.assign(truth_kind=kinds)), figures_dir / "R_by_truth_kind.png")
        truth = clip_truth(clips, paths.demo_dir, fps)
        metrics["share_by_strategy"] = {
            r.strategy: {k: round(float(getattr(r, k)), 4) for k in KINDS} for r in comp.itertuples()
        }
        metrics["clip_truth_positive_share"] = float((truth.truth_label == 1).mean()) if len(truth) else 0.0
        out["comparison"] = comp
    else:
        write_no_truth_table(
            tables_dir / "sampling_vs_baselines.md",
            "Stage 04 — what each strategy spends the annotation budget on",
            params.data.source,
        )
    return truth


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
