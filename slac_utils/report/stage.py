"""Stage 10 -- orchestration: read the stages' outputs, write Tables 1-9, the figures, the HACS export and the index."""

from __future__ import annotations

import time
from pathlib import Path

from ..io import save_figure
from ..tables import emit_table, read_stage_csv, read_stage_markdown
from .catalog import FLOATFMT, TABLES
from .counts import (
    _labeled_only,
    _maybe,
    counts_table,
    find_stage_tables,
    pipeline_counts,
    read_metrics,
    table1,
    table2,
)
from .examples import grid_page, guideline_examples, negatives_choice, plot_grid, plot_guideline, plot_negatives
from .figures import plot_class_balance, plot_clips_per_video, plot_pipeline, plot_r_distribution
from .index import write_index
from .profile import param_items, profile_of


# ----------------------------------------------------------------------------- stage
def run(
    params,
    tables_root,
    figures_root,
    metrics_dir,
    manifest_path,
    dedup_path,
    candidates_path,
    clips_path,
    clips_truth_path,
    labeled_path,
    truth_dir,
    guideline_path,
    export_dir,
    tables_dir,
    figures_dir,
    index_path,
    paper_profile_path=None,
    progress: bool = True,
) -> dict:
    """Stage 10: Tables 1-9 (md / csv / tex), Figures 1-4 and the researcher's figures, the HACS export and the index.

    Every input may be missing: the index then lists what this run did not produce. truth_dir (the demo world,
    truth/segments.parquet) and clips_truth_path are used only when data.source is demo."""
    from .. import export
    from ..guideline import load_definitions

    t0 = time.perf_counter()
    secs: dict[str, float] = {}
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    profile = profile_of(params, paper_profile_path)
    demo = params.data.source == "demo"
    say = print if progress else (lambda *a, **k: None)

    manifest, dedup, candidates = _maybe(manifest_path), _maybe(dedup_path), _maybe(candidates_path)
    clips, labeled = _maybe(clips_path), _maybe(labeled_path)
    truth = _maybe(clips_truth_path) if demo else None
    seg_path = Path(truth_dir) / "truth" / "segments.parquet" if (demo and truth_dir is not None) else None
    segments = _maybe(seg_path)
    metrics = read_metrics(metrics_dir)
    definitions = load_definitions(guideline_path, [] if labeled is None else labeled.class_label.unique())
    secs["read"] = time.perf_counter() - t0

    # ---- tables
    t = time.perf_counter()
    head = lambda n: [f"profile: {profile['text']}", "params: " + "; ".join(param_items(params, TABLES[n][2]))]  # noqa: E731
    tables: dict[int, list[dict]] = {}
    stage_tables = find_stage_tables(tables_root, exclude=[tables_dir])
    df1, notes1 = table1(profile, params, labeled, dedup, manifest)
    tables[1] = [
        dict(
            files=emit_table(
                df1,
                tables_dir,
                "table1_datasets",
                f"Table 1 — {TABLES[1][0]} ({profile['scale']} beside the paper)",
                [*head(1), "paper rows: Table 1 as printed; 'values from' says which row is whose", *notes1],
            ),
            source=None,
        )
    ]
    for n in range(2, 10):
        for src in stage_tables.get(n, []):
            title, notes = read_stage_markdown(src.with_suffix(".md"))
            title = title or f"Table {n} — {TABLES[n][0]}"
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
            )
            tables.setdefault(n, []).append(dict(files=files, source=src))
    counts = pipeline_counts(metrics, manifest, dedup, candidates, clips, labeled)
    extra_tables = {
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
    secs["tables"] = time.perf_counter() - t

    # ---- figures
    t = time.perf_counter()
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
            notes[k] = f"no labeled clips ({labeled_path})"
    secs["figures"] = time.perf_counter() - t

    # ---- HACS export
    t = time.perf_counter()
    export_info: dict = dict(dir=Path(export_dir))
    if labeled is None or manifest is None:
        export_info["reason"] = f"needs {labeled_path} and {manifest_path}"
    else:
        export_info["counts"] = export.run(
            params,
            labeled_path,
            manifest_path,
            export_dir,
            segments_truth_path=seg_path if segments is not None else None,
        )
        export_info["segments"] = (
            "the demo world's planted action segments"
            if segments is not None
            else "positive clips merged per video, class and shot"
        )
    secs["export"] = time.perf_counter() - t

    # ---- index
    t = time.perf_counter()
    write_index(
        index_path,
        profile,
        params,
        tables,
        figures,
        notes,
        counts,
        export_info,
        tables_root,
        figures_root,
        metrics,
        metrics_dir,
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
        index=Path(index_path),
        seconds=secs,
    )
