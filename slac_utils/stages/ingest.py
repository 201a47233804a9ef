"""Stage 00 — ingest: list the candidate videos per class, probe each, quarantine the broken (paper section 3.4).

The stage's orchestration; what it computes lives in :mod:`slac_utils.ingest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import plots
from ..ingest import build_manifest, diagnose, list_candidates, list_external, summarize
from ..io import save_figure, write_json, write_markdown_table, write_table
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    manifest_path: str = "data/interim/manifest.parquet"
    external_manifest_path: str = "data/interim/external_manifest.parquet"
    tables_dir: str = "reports/tables/00_ingest"
    figures_dir: str = "reports/figures/00_ingest"
    metrics_path: str = "metrics/00_ingest.json"
    demo_dir: str = "data/raw/demo"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 00: write the manifest and the external manifest, tables and figures; return tables for display."""
    paths = paths.for_source(params)

    listing = list_candidates(params.data)
    manifest = build_manifest(listing, params.ingest, progress, params.compute)
    if not (manifest.status == "ok").any():
        where = params.data.videos_dir if params.data.source == "folder" else params.data.csv_path
        raise ValueError(
            f"stage 00: no readable video for data.source={params.data.source} at {where} ({len(manifest)} files listed, "
            "all quarantined or none); set data.videos_dir (folder: <videos_dir>/<class>/<file>) or data.csv_path"
        )
    bad = manifest.status != "ok"
    unreadable = bad & manifest.error.str.startswith("unreadable")
    manifest.loc[unreadable, "error"] = [
        f"{e} [{diagnose(p)}]" for e, p in zip(manifest.error[unreadable], manifest.path[unreadable])
    ]
    write_table(manifest, paths.manifest_path)
    ext = build_manifest(
        list_external(params.data.external_dir, params.data.video_extensions), params.ingest, progress, params.compute
    )
    write_table(ext, paths.external_manifest_path)

    summary = summarize(manifest)
    quarantine = manifest.loc[bad, ["video_id", "class_label", "path", "error"]]
    ext_summary = (
        ext.groupby(["target", "class_label"])
        .agg(videos=("video_id", "size"), ok=("status", lambda s: int((s == "ok").sum())))
        .reset_index()
        if len(ext)
        else pd.DataFrame()
    )
    prov = [
        f"source: {params.data.source} ({params.data.csv_path if params.data.source != 'folder' else params.data.videos_dir})"
    ]
    write_markdown_table(
        summary, Path(paths.tables_dir) / "manifest_summary.md", "Stage 00 — candidate videos per class", prov
    )
    write_markdown_table(
        quarantine,
        Path(paths.tables_dir) / "quarantine.md",
        "Stage 00 — quarantined files",
        ["Every listed file that could not be used, with its reason. Nothing is dropped silently."],
    )
    if len(ext_summary):
        write_markdown_table(
            ext_summary,
            Path(paths.tables_dir) / "external_sets.md",
            "Stage 00 — external evaluation sets",
            [f"root: {params.data.external_dir}"],
        )
    metrics = dict(
        listed=int(len(manifest)),
        ok=int((~bad).sum()),
        quarantined=int(bad.sum()),
        classes=int(manifest.class_label[~bad].nunique()),
        hours=round(float(manifest.duration_s.sum() / 3600), 4),
        external_videos=int((ext.status == "ok").sum()) if len(ext) else 0,
    )
    save_figure(plots.duration_hist(manifest), Path(paths.figures_dir) / "videos_per_class.png")
    if params.data.source == "demo" and paths.demo_dir is not None:
        from ..demo.world import contact_sheet_tiles  # the demo world: only behind the demo source

        kinds = ["action", "no_action", "no_context", "no_person"]
        classes = params.demo.classes
        fig = plots.contact_sheet(
            contact_sheet_tiles(paths.demo_dir, classes, kinds),
            classes,
            ["action", "no action (context, idle)", "no context", "no person"],
            "Demo world: one frame per class and segment kind (paper 3.3)",
        )
        save_figure(fig, Path(paths.figures_dir) / "demo_world.png")
    write_json(metrics, paths.metrics_path)
    return dict(manifest=manifest, summary=summary, quarantine=quarantine, external=ext_summary, metrics=metrics)


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
