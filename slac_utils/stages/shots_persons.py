"""Stage 02 — shot detection and person detection per shot (paper section 3.5).

The stage's orchestration; what it computes lives in :mod:`slac_utils.persons`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plots
from .. import shots as shots_mod
from ..config import resolve_auto_backends
from ..io import read_table, save_figure, write_json, write_markdown_table, write_table
from ..models import provenance_line
from ..persons import (
    _report_without_truth,
    candidates,
    evaluate_persons,
    make_detector,
    score_shots,
    truth_person_fraction,
)
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    manifest_path: str = "data/interim/manifest.parquet"
    dedup_path: str = "data/interim/dedup.parquet"
    shots_path: str = "data/interim/shots.parquet"
    persons_path: str = "data/interim/persons.parquet"
    candidates_path: str = "data/interim/candidates.parquet"
    tables_dir: str = "reports/tables/02_shots_persons"
    figures_dir: str = "reports/figures/02_shots_persons"
    metrics_path: str = "metrics/02_shots_persons.json"
    demo_dir: str = "data/raw/demo"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 02: shots of de-duplicated videos, person score per shot, candidates; evaluation against truth."""
    paths = paths.for_source(params)

    params = resolve_auto_backends(params)

    manifest = read_table(paths.manifest_path)
    kept = read_table(paths.dedup_path)
    kept = kept.loc[kept.kept, "video_id"]
    videos = manifest[manifest.video_id.isin(set(kept)) & (manifest.status == "ok")].reset_index(drop=True)
    shot_det = shots_mod.make_shot_detector(params.shots)
    shots, failed = shots_mod.detect_shots(videos, params.shots, progress, shot_det, params.compute)
    write_table(shots, paths.shots_path, sort_by=["video_id", "shot_id"])
    det = make_detector(params.persons)
    persons = score_shots(shots, videos, det, params.persons, progress, params.compute, failures=failed)
    write_table(persons, paths.persons_path, sort_by=["video_id", "shot_id"])
    cand = candidates(shots, persons, videos)
    write_table(cand, paths.candidates_path)

    tables_dir = Path(paths.tables_dir)
    n_v = videos.video_id.nunique()
    surviving = cand.video_id.nunique()
    metrics = dict(
        detector=det.name,
        videos_in=int(n_v),
        shots=int(len(shots)),
        person_shots=int(persons.has_person.sum()),
        share_person_shots=float(persons.has_person.mean()) if len(persons) else 0.0,
        videos_kept=int(surviving),
        videos_removed_no_person=int(n_v - surviving - len(failed)),
        failed=len(failed),
    )
    per_class = (
        cand.groupby("class_label")
        .agg(videos=("video_id", "nunique"), person_shots=("shot_id", "size"), hours=("end_s", "sum"))
        .reset_index()
    )
    per_class["hours"] = (cand.assign(d=cand.end_s - cand.start_s).groupby("class_label").d.sum() / 3600).to_numpy()
    prov = [
        f"person detector: {provenance_line(det.info())}",
        f"{params.persons.frames_per_shot} frames per shot, max score, threshold {params.persons.threshold}",
        f"shot detector: {provenance_line(shot_det.info())}",
        "paper: ~49% of shots have a person; 193K of 713K de-duplicated videos removed",
    ]
    write_markdown_table(
        per_class,
        tables_dir / "candidates_per_class.md",
        "Stage 02 — candidate videos and person shots per class",
        prov,
    )
    fails = pd.DataFrame(
        [dict(video_id=v, reason=r) for v, r in sorted(failed.items())], columns=["video_id", "reason"]
    )
    write_markdown_table(
        fails,
        tables_dir / "failures.md",
        "Stage 02 — videos that failed shot detection or person scoring",
        ["They are not candidates; the reason says why. Empty when every video decoded."],
    )
    out = dict(shots=shots, persons=persons, candidates=cand, per_class=per_class, detector=det.name)

    _evaluate(params, paths, shots, persons, videos, det, metrics, out)
    write_json(metrics, paths.metrics_path)
    out["metrics"] = metrics
    return out


def _evaluate(params, paths: Paths, shots, persons, videos, det, metrics: dict, out: dict) -> None:
    """With the demo world's truth: shot and person evaluation tables, the score histogram and a shot timeline
    (``metrics`` and ``out`` gain the numbers); without: the figures that need no truth, and no-truth tables."""
    tables_dir, figures_dir = Path(paths.tables_dir), Path(paths.figures_dir)
    if paths.demo_dir is not None and (Path(paths.demo_dir) / "truth" / "shots.parquet").exists():
        from ..demo.world import load_truth  # the demo world: only behind the demo source

        truth = load_truth(paths.demo_dir)
        sev = shots_mod.evaluate_shots(shots, truth["shots"])
        write_markdown_table(
            sev,
            tables_dir / "shot_eval.md",
            "Stage 02 — shot boundaries against the demo world's truth",
            [
                "tolerance ±2 frames; a dissolve matches anywhere inside its transition ±2 frames",
                "rows cut/dissolve: recall by transition type",
            ],
        )
        pev = evaluate_persons(shots, persons, truth["shots"], truth["videos"])
        pdf = pd.DataFrame(
            dict(
                metric=list(pev),
                value=pd.Series([v if isinstance(v, int) else round(float(v), 4) for v in pev.values()], dtype=object),
            )
        )
        write_markdown_table(
            pdf,
            tables_dir / "person_eval.md",
            "Stage 02 — person detection against the demo world's truth",
            [
                f"detector {det.name}; a detected shot truly has a person when most of its frames lie in a true person shot",
                "paper: Faster R-CNN recall > 97% on ActivityNet-v1.3 validation",
            ],
            floatfmt="g",
        )
        both = shots.merge(persons, on=["video_id", "shot_id"])
        both["truth"] = truth_person_fraction(both, truth["shots"]) >= 0.5
        both["truth_label"] = np.where(both.truth, "person", "no person")
        save_figure(plots.person_scores(both, params.persons.threshold), figures_dir / "person_scores.png")
        _shot_timeline(params, shots, videos, truth, figures_dir)
        s_all = sev.iloc[0]
        metrics.update(
            shot_precision=float(s_all.precision),
            shot_recall=float(s_all.recall),
            shot_f1=float(s_all.f1),
            person_precision=pev["precision"],
            person_recall=pev["recall"],
            person_recall_closeup=pev.get("recall_closeup"),
            videos_without_person=pev["videos_without_person"],
            videos_removed_correctly=pev["videos_removed_correctly"],
        )
        out.update(shot_eval=sev, person_eval=pdf)
    else:
        _report_without_truth(shots, persons, videos, params, tables_dir, figures_dir, det.name)


def _shot_timeline(params, shots, videos, truth, figures_dir: Path) -> None:
    """The dissimilarity timeline of the video with the most true boundaries (a dissolve if any)."""
    tb = shots_mod.truth_boundaries(truth["shots"][truth["shots"].video_id.isin(set(videos.video_id))])
    pick = (
        tb.assign(d=tb.transition == "dissolve")
        .groupby("video_id")
        .agg(n=("frame", "size"), d=("d", "sum"))
        .sort_values(["d", "n"], ascending=False)
        .index[0]
    )
    r = videos.set_index("video_id").loc[pick]
    H = shots_mod.video_histograms(r.path, r.n_frames, r.width, r.height, params.shots.decode_width, params.shots.bins)
    save_figure(
        plots.shot_timeline(
            shots_mod.dissimilarity(H, 1),
            shots_mod.dissimilarity(H, params.shots.gradual_lag) if params.shots.gradual_lag else None,
            shots.loc[(shots.video_id == pick) & (shots.shot_id > 0), "start_frame"].to_numpy(),
            tb[tb.video_id == pick],
            params.shots,
            r.fps,
            f"Shot detection on {pick}",
        ),
        figures_dir / "shot_timeline.png",
    )


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
