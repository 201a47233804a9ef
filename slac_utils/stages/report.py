"""Stage 10 — the paper's Tables 1-9 and figures beside this run, the HACS export and the index.

The stage's orchestration; what it computes lives in :mod:`slac_utils.report.stage`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import export
from ..guideline import load_definitions
from ..io import save_figure
from ..report.catalog import FLOATFMT, TABLES
from ..report.claims import claims_table
from ..report.counts import (
    _labeled_only,
    _maybe,
    counts_table,
    find_stage_tables,
    pipeline_counts,
    read_metrics,
    table1,
    table2,
)
from ..report.examples import grid_page, guideline_examples, negatives_choice, plot_grid, plot_guideline, plot_negatives
from ..report.figures import plot_class_balance, plot_clips_per_video, plot_pipeline, plot_r_distribution
from ..report.index import write_index
from ..report.profile import param_items, profile_of
from ..tables import emit_table, read_stage_csv
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    tables_root: str = "reports/tables"
    figures_root: str = "reports/figures"
    metrics_dir: str = "metrics"
    manifest_path: str = "data/interim/manifest.parquet"
    dedup_path: str = "data/interim/dedup.parquet"
    candidates_path: str = "data/interim/candidates.parquet"
    clips_path: str = "data/interim/clips.parquet"
    clips_truth_path: str = "data/interim/clips_truth.parquet"
    labeled_path: str = "data/processed/labeled_clips.parquet"
    t4_scores_path: str = "data/processed/table4_scores.parquet"
    transfer_scores_path: str = "data/models/transfer/scores.parquet"
    localization_dir: str = "data/processed/localization"
    demo_dir: str = "data/raw/demo"
    guideline_path: str | None = None
    export_dir: str = "data/export/hacs"
    tables_dir: str = "reports/tables/10_report"
    figures_dir: str = "reports/figures/10_report"
    index_path: str = "reports/index.md"
    paper_profile_path: str = "configs/paper.yaml"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 10: Tables 1-9 (md / csv / tex), Figures 1-4 and the researcher's figures, the HACS export and the index.

    Every input may be missing: the index then lists what this run did not produce. The demo world's planted
    segments (``demo_dir``/truth/segments.parquet) and clips_truth_path are used only when data.source is demo."""
    paths = paths.for_source(params)

    t0 = time.perf_counter()
    secs: dict[str, float] = {}
    tables_dir, figures_dir = Path(paths.tables_dir), Path(paths.figures_dir)
    profile = profile_of(params, paths.paper_profile_path)
    demo = params.data.source == "demo"
    say = print if progress else (lambda *a, **k: None)

    manifest, dedup, candidates = _maybe(paths.manifest_path), _maybe(paths.dedup_path), _maybe(paths.candidates_path)
    clips, labeled = _maybe(paths.clips_path), _maybe(paths.labeled_path)
    truth = _maybe(paths.clips_truth_path) if demo else None
    seg_path = Path(paths.demo_dir) / "truth" / "segments.parquet" if (demo and paths.demo_dir is not None) else None
    segments = _maybe(seg_path)
    metrics = read_metrics(paths.metrics_dir)
    definitions = load_definitions(paths.guideline_path, [] if labeled is None else labeled.class_label.unique())
    secs["read"] = time.perf_counter() - t0

    t = time.perf_counter()
    tables = _tables(params, paths, profile, metrics, labeled, dedup, manifest)
    counts = pipeline_counts(metrics, manifest, dedup, candidates, clips, labeled)
    extra_tables = _counts_table(tables_dir, profile, counts)
    secs["tables"] = time.perf_counter() - t

    t = time.perf_counter()
    claims = _claims(params, paths, profile, labeled)
    extra_tables.update(claims["entry"])
    secs["claims"] = time.perf_counter() - t

    t = time.perf_counter()
    inputs = dict(
        clips=clips, truth=truth, labeled=labeled, candidates=candidates, segments=segments, manifest=manifest
    )
    figures, notes = _figures(params, paths, profile, counts, definitions, **inputs)
    secs["figures"] = time.perf_counter() - t

    t = time.perf_counter()
    export_info = _export(params, paths, labeled, manifest, segments, seg_path)
    secs["export"] = time.perf_counter() - t

    t = time.perf_counter()
    write_index(
        paths.index_path,
        profile,
        params,
        tables,
        figures,
        notes,
        counts,
        export_info,
        paths.tables_root,
        paths.figures_root,
        metrics,
        paths.metrics_dir,
        tables_dir,
        figures_dir,
        extra_tables,
    )
    secs["index"] = time.perf_counter() - t
    secs["total"] = time.perf_counter() - t0
    missing = [n for n in range(1, 10) if not tables.get(n)]
    say(
        f"stage 10: tables {sorted(tables)} (missing {missing}), {len(figures)} figures, export {'written' if 'counts' in export_info else 'skipped'}, "
        f"{secs['total']:.1f} s"
    )
    return dict(
        profile=profile,
        tables=tables,
        missing_tables=missing,
        figures=figures,
        figure_notes=notes,
        counts=counts,
        export=export_info.get("counts"),
        index=Path(paths.index_path),
        seconds=secs,
        claims=claims["table"],
    )


def _tables(params, paths: Paths, profile: dict, metrics: dict, labeled, dedup, manifest) -> dict[int, list[dict]]:
    """Table 1 built here; Tables 2-9 re-emitted (md / csv / tex) from the stage tables; n -> [{files, source}]."""
    tables_dir = Path(paths.tables_dir)
    head = lambda n: [f"profile: {profile['text']}", "params: " + "; ".join(param_items(params, TABLES[n][2]))]  # noqa: E731
    tables: dict[int, list[dict]] = {}
    stage_tables = find_stage_tables(paths.tables_root, exclude=[tables_dir])
    df1, notes1 = table1(profile, params, labeled, dedup, manifest)
    tables[1] = [
        dict(
            files=emit_table(
                df1,
                tables_dir,
                "table1_datasets",
                f"Table 1 — {TABLES[1][0]} ({profile['scale']} beside the paper)",
                [*head(1), "paper rows: Table 1 as printed; 'values from' says which row is whose", *notes1],
                paper_table=1,
            ),
            source=None,
        )
    ]
    for n in range(2, 10):
        for src, meta in stage_tables.get(n, []):
            title, notes = meta.get("title") or f"Table {n} — {TABLES[n][0]}", meta.get("notes", [])
            df = read_stage_csv(src)
            extra = [f"from the stage table {src.parent.name}/{src.name}"]
            if n == 2:
                c01 = metrics.get("01_dedup", {}).get("candidates")
                df, n2 = table2(df, c01 if c01 is not None else (None if dedup is None else len(dedup)))
                extra += n2
            else:
                extra.append("paper values: the columns or rows marked 'paper'")
            files = emit_table(
                df,
                tables_dir,
                src.stem,
                f"{title} [{profile['scale']}]",
                [*head(n), *extra, *notes],
                FLOATFMT.get(n, ".3f"),
                paper_table=n,
            )
            tables.setdefault(n, []).append(dict(files=files, source=src))
    return tables


def _counts_table(tables_dir: Path, profile: dict, counts) -> dict:
    """pipeline_counts (md / csv / tex): the numbers of Figure 1, ours beside the paper's."""
    return {
        "pipeline_counts": dict(
            title=f"the numbers of Figure 1, ours ({profile['scale']}) beside the paper's",
            files=emit_table(
                counts_table(counts),
                tables_dir,
                "pipeline_counts",
                f"Pipeline counts — Figure 1's numbers ({profile['scale']} beside the paper)",
                [
                    f"profile: {profile['text']}",
                    "ours: from the data tables of stages 00-05 where present, else metrics/*.json; n/a: not produced by this run",
                    "paper: section 3 (1.1M candidates, 171K + 6.6K duplicates, 193K videos without people, 520K videos, 1.75M clips: 755K positive, 993K negative; 8.8 s per clip)",
                ],
            ),
        )
    }


def _claims(params, paths: Paths, profile: dict, labeled) -> dict:
    """The paper's claims tested on this run, with 95% intervals (:mod:`slac_utils.report.claims`)."""
    seeds = Path(paths.tables_root) / "04_sampling" / "sampling_vs_baselines_seeds.csv"
    df = claims_table(
        pd.read_csv(seeds) if seeds.exists() else None,
        _maybe(paths.t4_scores_path),
        _maybe(paths.transfer_scores_path),
        paths.localization_dir,
        labeled,
        params.annotation.full_annotation_minutes_per_video,
        params.seed,
    )
    held = df.verdict.value_counts()
    files = emit_table(
        df,
        Path(paths.tables_dir),
        "claims",
        f"The paper's claims tested on this run ({profile['scale']})",
        [
            f"profile: {profile['text']}",
            "ours / paper: the claimed difference (points unless the measure says otherwise); ci: 95% interval — a paired bootstrap over "
            "videos (recognition, transfer, localization, cost) or over stage 04's 20 seeds (sampling); slac_utils/report/claims.py",
            "holds: the whole interval above 0; does not hold: below 0; not resolved: it spans 0; nothing is tuned toward a claim",
            "verdicts: " + ", ".join(f"{k} {v}" for k, v in held.items()),
        ],
        floatfmt=".1f",
    )
    return dict(table=df, entry={"claims": dict(title="the paper's claims, tested with 95% intervals", files=files)})


def _figures(
    params, paths: Paths, profile: dict, counts, definitions, clips, truth, labeled, candidates, segments, manifest
):
    """Figures 1-4 and the label statistics; returns (name -> path, name -> note)."""
    figures_dir = Path(paths.figures_dir)
    figures: dict[str, Path] = {}
    notes: dict[str, str] = {}
    figures["fig1_pipeline.png"] = save_figure(plot_pipeline(counts, profile), figures_dir / "fig1_pipeline.png")
    cls, picks, cap = negatives_choice(params, clips, truth, labeled, candidates, segments, manifest)
    if picks:
        figures["fig2_negatives.png"] = save_figure(
            plot_negatives(cls, picks, f"class {cls}; {cap}"), figures_dir / "fig2_negatives.png"
        )
    notes["fig2_negatives.png"] = f"class `{cls}`; {cap}" if picks else "no clips"
    ex, ex_note = guideline_examples(labeled)
    if len(ex):
        figures["fig3_guideline.png"] = save_figure(
            plot_guideline(ex, definitions, ex_note), figures_dir / "fig3_guideline.png"
        )
    notes["fig3_guideline.png"] = ex_note
    page, info = grid_page(labeled, params.annotation.page_size, params.seed)
    if len(page):
        figures["fig4_grid.png"] = save_figure(plot_grid(page, info, definitions), figures_dir / "fig4_grid.png")
        notes["fig4_grid.png"] = (
            f"class `{info['class_label']}`, page {info['page'] + 1} of {info['pages']} in stage 05's page order"
        )
    else:
        notes["fig4_grid.png"] = "no clips labeled by an annotator"
    lab = _labeled_only(labeled)
    if lab is not None and len(lab):
        figures["class_balance.png"] = save_figure(plot_class_balance(labeled), figures_dir / "class_balance.png")
        figures["clips_per_video.png"] = save_figure(plot_clips_per_video(labeled), figures_dir / "clips_per_video.png")
        if "R" in lab:
            figures["r_distribution.png"] = save_figure(
                plot_r_distribution(labeled, truth), figures_dir / "r_distribution.png"
            )
    else:
        for k in ("class_balance.png", "clips_per_video.png", "r_distribution.png"):
            notes[k] = f"no labeled clips ({paths.labeled_path})"
    return figures, notes


def _export(params, paths: Paths, labeled, manifest, segments, seg_path) -> dict:
    """The HACS export (slac_utils.export) into export_dir, or the reason it was not written."""
    export_info: dict = dict(dir=Path(paths.export_dir))
    if labeled is None or manifest is None:
        export_info["reason"] = f"needs {paths.labeled_path} and {paths.manifest_path}"
    else:
        export_info["counts"] = export.run(
            params,
            paths.labeled_path,
            paths.manifest_path,
            paths.export_dir,
            segments_truth_path=seg_path if segments is not None else None,
        )
        export_info["segments"] = (
            "the demo world's planted action segments"
            if segments is not None
            else "positive clips merged per video, class and shot"
        )
    return export_info


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
