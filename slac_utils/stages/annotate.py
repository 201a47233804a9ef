"""Stage 05 — annotation: one-click clip labels with golden-set quality control (paper section 3.7, Table 3).

The stage's orchestration; what it computes lives in :mod:`slac_utils.annotation.stage`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..annotation.check import read_truth
from ..annotation.qc import (
    PAPER,
    check_min_labeled,
    cost_table,
    export_labels,
    plot_labels,
    plot_time_per_clip,
    qc_annotators,
    qc_classes,
    qc_truth,
)
from ..annotation.session import ensure_gold
from ..annotation.simulate import SimClock, simulate
from ..annotation.store import GOLD_ANNOTATOR, LabelStore, open_store
from ..config import annotation_mode
from ..guideline import add_examples, load_guideline
from ..io import read_table, save_figure, write_json, write_markdown_table, write_table
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    clips_path: str = "data/interim/clips.parquet"
    clips_truth_path: str = "data/interim/clips_truth.parquet"
    guideline_path: str | None = None
    labeled_path: str = "data/processed/labeled_clips.parquet"
    tables_dir: str = "reports/tables/05_annotate"
    figures_dir: str = "reports/figures/05_annotate"
    metrics_path: str = "metrics/05_annotate.json"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 05: simulate the annotators (simulate mode) or export the human label store (human mode), then QC.
    guideline_path: the researcher's guideline (annotation.guideline); its listed example clips join the golden set."""

    cfg = params.annotation
    mode = annotation_mode(params)
    clips = read_table(paths.clips_path)
    need = {"clip_id", "video_id", "class_label", "path"}
    if not need <= set(clips.columns):
        raise ValueError(f"{paths.clips_path}: clips table lacks columns {sorted(need - set(clips.columns))}")
    truth = read_truth(paths.clips_truth_path)
    guideline = load_guideline(paths.guideline_path, clips.class_label.unique())
    simulated = mode == "simulate"
    labeled, orphans, where = _labels(params, paths, clips, truth, guideline, simulated, progress)
    check_min_labeled(labeled, clips.class_label.unique(), cfg.min_labeled_per_class)
    write_table(labeled, paths.labeled_path, sort_by=["class_label", "clip_id"])

    n_examples = int((labeled.is_gold & (labeled.annotator == GOLD_ANNOTATOR)).sum())
    prov = [
        f"mode: {mode}"
        + (" (annotation.mode: auto)" if cfg.mode == "auto" else "")
        + f"; labels from {where}; page size {cfg.page_size}, default label {cfg.default_label:+d} "
        f"({'negative, red' if cfg.default_label < 0 else 'positive, green'}) until clicked",
        f"golden set: {int(labeled.is_gold.sum())} clips: {n_examples} guideline examples (never on pages), "
        f"{int(labeled.is_gold.sum()) - n_examples} hidden checks mixed into the pages (annotation.gold_rate = {cfg.gold_rate})",
    ]
    if simulated:
        prov.append(
            f"simulated annotator: accuracy {cfg.sim_accuracy}, gamma time per clip mean {cfg.sim_seconds_per_clip} s (cv {cfg.sim_seconds_cv}), simulated clock, seed {params.seed}"
        )
    per_ann, per_class, t3, cost = _qc_tables(params, paths, labeled, clips, simulated, prov)

    ann = labeled[labeled.annotator != GOLD_ANNOTATOR]
    metrics = dict(
        mode=mode,
        clips=int(len(clips)),
        labeled=int(len(labeled)),
        unlabeled=int(len(clips) - len(labeled)),
        orphan_labels=orphans,
        positives=int((labeled.label == 1).sum()),
        negatives=int((labeled.label == -1).sum()),
        share_positive=round(float((labeled.label == 1).mean()), 6) if len(labeled) else None,
        annotators=int(ann.annotator.nunique()),
        gold_clips=int(labeled.is_gold.sum()),
        gold_accuracy_mean=round(float(per_ann.gold_accuracy.mean()), 6)
        if per_ann.gold_accuracy.notna().any()
        else None,
        annotators_flagged=sorted(per_ann.annotator[per_ann.flag.str.startswith("BELOW")].tolist()),
        annotation_hours=round(float(ann.seconds.sum() / 3600), 6),
        **{k: round(v, 6) for k, v in cost.items()},
    )
    out = dict(labeled=labeled, qc_annotators=per_ann, qc_classes=per_class, table3=t3)
    if not truth.empty:
        _qc_against_truth(paths, labeled, truth, prov, metrics, out)
    write_json(metrics, paths.metrics_path)
    out["metrics"] = metrics
    return out


def _labels(params, paths: Paths, clips, truth, guideline, simulated: bool, progress: bool):
    """(labeled, orphan labels, where they came from): simulate mode labels every clip with the simulated annotator in
    a throw-away store; human mode exports the label store the grid filled."""
    cfg = params.annotation
    if simulated:
        if truth.empty:
            raise ValueError(
                f"annotation.mode=simulate needs the clips' truth ({paths.clips_truth_path} is missing or empty); set annotation.mode: human (or auto)"
            )
        # a throw-away store: the human store (annotation.store) stays a pure input of the pipeline
        with tempfile.TemporaryDirectory(prefix="slac-sim-") as tmp:
            clock = SimClock()
            store = LabelStore(Path(tmp) / "labels.sqlite", clock=clock)
            add_examples(store, guideline, clips)
            ensure_gold(store, clips, truth, cfg.gold_rate, cfg.guideline_examples, params.seed)
            simulate(store, clips, truth, cfg, params.seed, progress)
            labeled, orphans = export_labels(store, clips)
            store.close()
        where = "simulated (temporary store)"
    else:
        store = open_store(cfg, create=False)
        store.checkpoint("TRUNCATE")  # the labels' content is unchanged; the .sqlite file now holds all of them
        labeled, orphans = export_labels(store, clips)
        store.close()
        where = cfg.db_url or cfg.store
    return labeled, orphans, where


def _qc_tables(params, paths: Paths, labeled, clips, simulated: bool, prov: list) -> tuple:
    """Per-annotator and per-class QC, Table 3 (cost) and their figures; returns (per_ann, per_class, t3, cost)."""
    cfg, tables_dir, figures_dir = params.annotation, Path(paths.tables_dir), Path(paths.figures_dir)
    ours = "simulated" if simulated else "measured"
    per_ann = qc_annotators(labeled, cfg.gold_min_accuracy)
    write_markdown_table(
        per_ann,
        tables_dir / "qc_annotators.md",
        "Stage 05 — annotators: golden-set accuracy and time per clip",
        prov
        + [
            f"flag: golden-set accuracy below annotation.gold_min_accuracy = {cfg.gold_min_accuracy} (paper: all annotators > 90%, mean 94%)"
        ],
    )
    per_class = qc_classes(labeled)
    write_markdown_table(
        per_class,
        tables_dir / "qc_classes.md",
        "Stage 05 — labels per class",
        prov + ["label: the golden answer for golden clips, the annotator's otherwise"],
    )
    t3, cost = cost_table(labeled, clips, cfg, simulated)
    write_markdown_table(
        t3,
        tables_dir / "table3_cost.md",
        "Table 3 — cost of full versus sparse annotation",
        [
            f"paper columns: Table 3 as printed (70 annotators; {PAPER['clips']:,} clips of {PAPER['videos']:,} videos)",
            f"ours, sparse: the {ours} seconds per clip of this run (page time / clips on the page); per video = annotation time / videos with clips",
            f"ours, full: annotation.full_annotation_minutes_per_video = {cfg.full_annotation_minutes_per_video} min (the paper's measurement; nothing here trims videos by hand)",
            "the paper's 113.2K hr for full annotation implies ~601K videos at 11.3 min; at 520K videos it would be ~97.9K hr",
        ],
        paper_table=3,
    )
    save_figure(plot_time_per_clip(labeled, ours), figures_dir / "time_per_clip.png")
    save_figure(plot_labels(per_class, per_ann, cfg.gold_min_accuracy), figures_dir / "labels.png")

    return per_ann, per_class, t3, cost


def _qc_against_truth(paths: Paths, labeled, truth, prov: list, metrics: dict, out: dict) -> None:
    """Labels against the demo world's truth (``metrics`` and ``out`` gain the accuracies)."""
    tables_dir = Path(paths.tables_dir)
    acc, kinds = qc_truth(labeled, truth)
    write_markdown_table(
        acc,
        tables_dir / "qc_truth.md",
        "Stage 05 — labels against the demo world's truth",
        prov
        + [
            "label_accuracy: final labels; annotator_accuracy: the annotators' own labels; true_positives_found: share of truly positive clips labeled positive"
        ],
    )
    write_markdown_table(
        kinds,
        tables_dir / "qc_truth_kinds.md",
        "Stage 05 — what positives and negatives really show",
        prov
        + [
            "share of each truth kind (paper 3.3) among the clips labeled positive / negative; positives should be 'action'"
        ],
    )
    allrow = acc[acc.class_label == "all"].iloc[0]
    metrics.update(
        label_accuracy=round(float(allrow.label_accuracy), 6),
        annotator_accuracy=round(float(allrow.annotator_accuracy), 6),
    )
    out.update(qc_truth=acc, qc_truth_kinds=kinds)


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
