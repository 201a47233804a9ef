"""Stage 01 — internal and external near-duplicate removal (paper section 3.4, Table 2).

The stage's orchestration; what it computes lives in :mod:`slac_utils.dedup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plots
from ..config import resolve_auto_backends
from ..dedup import (
    UnitRows,
    _truth_pairs,
    corpus_mean,
    evaluate_external,
    evaluate_internal,
    external_dedup,
    internal_dedup,
    pr_vs_threshold,
    table2,
    with_unreadable,
)
from ..dedup_verify import PairVerifier
from ..features import make_embedder, video_features
from ..io import read_table, save_figure, write_json, write_markdown_table, write_no_truth_table, write_table
from ..models import provenance_line
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    manifest_path: str = "data/interim/manifest.parquet"
    external_manifest_path: str = "data/interim/external_manifest.parquet"
    dedup_path: str = "data/interim/dedup.parquet"
    tables_dir: str = "reports/tables/01_dedup"
    figures_dir: str = "reports/figures/01_dedup"
    metrics_path: str = "metrics/01_dedup.json"
    demo_dir: str = "data/raw/demo"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 01: internal + external de-dup; Table 2; evaluation against planted truth when truth_dir has it."""
    paths = paths.for_source(params)

    params = resolve_auto_backends(params)
    cfg = params.dedup
    manifest = read_table(paths.manifest_path)
    ext = read_table(paths.external_manifest_path)
    emb = make_embedder(cfg)
    vcfg = cfg.verify
    gamma = vcfg.candidate_gamma[emb.name] if vcfg.enabled else cfg.gamma[emb.name]
    X, ids, failed = video_features(manifest, emb, cfg, progress, "features (candidates)", params.compute)
    ext_ok = ext[ext.status == "ok"].reset_index(drop=True) if len(ext) else ext
    Xe, eids, efailed = (
        video_features(ext_ok, emb, cfg, progress, "features (external)", params.compute)
        if len(ext_ok)
        else (np.zeros((0, X.shape[1]), np.float32), [], {})
    )
    center = corpus_mean(X, Xe) if emb.name == "signature" and len(X) + len(Xe) else None
    A, B = UnitRows(X, emb.name, center), UnitRows(Xe, emb.name, center)  # rows read class by class
    meta = manifest.set_index("video_id").loc[ids].reset_index()
    emeta = ext_ok.set_index(["target", "video_id"]).reset_index()
    emeta = emeta[emeta.video_id.isin(set(eids))].reset_index(drop=True)

    verifier = PairVerifier(_rows_by_key(meta, emeta), vcfg, cfg.drop_borders, progress) if vcfg.enabled else None
    table = internal_dedup(meta, A, gamma, cfg.keep, params.seed, cfg.block_size, verifier)
    table = external_dedup(table, A, emeta, B, cfg.external_targets, gamma, cfg.block_size, verifier)
    table = with_unreadable(table, manifest, failed)
    table["embedder"] = emb.name
    write_table(table, paths.dedup_path, sort_by=["class_label", "video_id"])

    tables_dir, figures_dir = Path(paths.tables_dir), Path(paths.figures_dir)
    t2 = table2(table, cfg.external_targets)
    prov = [
        f"embedder: {provenance_line(emb.info())}"
        + ("; features centred on the corpus mean" if emb.name == "signature" else "")
        + ("; black bars shared by all sampled frames cropped first" if cfg.drop_borders else ""),
        f"{'candidate threshold' if vcfg.enabled else 'threshold'} γ = {gamma} (mean-feature cosine; "
        f"{'paper value' if emb.name == 'resnet50' and not vcfg.enabled else 'calibrated for this embedder; the paper’s 0.935 is for ImageNet ResNet-50'})"
        + (
            f"; a candidate pair is joined only when its frames align in time (dedup.verify, not in the paper: "
            f"{vcfg.fps:g} fps tracks, ≥ {vcfg.min_short_coverage:.0%} of the shorter video's frames matched, "
            f"≥ {vcfg.min_long_coverage:.0%} of the longer one covered)"
            if vcfg.enabled
            else ""
        ),
        f"frames at {cfg.fps} fps (min {cfg.min_frames}), short edge {cfg.short_edge}, centre crop {cfg.crop}; keep rule: {cfg.keep}",
        "paper (1.1M candidates): internal 171,378; Kinetics 4,029; ActivityNet 1,925; UCF-101 660; HMDB-51 11",
    ]
    write_markdown_table(
        t2, tables_dir / "table2_dedup.md", "Table 2 — videos removed by de-duplication", prov, paper_table=2
    )
    out = dict(table=table, table2=t2, embedder=emb.name, gamma=gamma)
    metrics: dict = {}
    _verification_table(verifier, tables_dir, metrics)
    metrics.update(
        embedder=emb.name,
        gamma=gamma,
        candidates=int(len(table)),
        kept=int(table.kept.sum()),
        removed_internal=int((table.removed_by == "internal").sum()),
        removed_external={t.name: int((table.removed_by == t.name).sum()) for t in cfg.external_targets},
    )

    truth = _quality_against_truth(params, paths, table, meta, A, emb, gamma, metrics, out)
    sims = _truth_pairs(meta, A, truth["videos"] if truth else None)
    save_figure(plots.similarity_hist(sims, gamma, emb.name), figures_dir / "similarity_hist.png")
    write_json(metrics, paths.metrics_path)
    out["metrics"] = metrics
    return out


def _rows_by_key(meta: pd.DataFrame, emeta: pd.DataFrame) -> dict:
    """Manifest rows the verifier may need: candidates by video_id, external videos by '<target>:<video_id>'."""
    rows = {r.video_id: r for r in meta.itertuples(index=False)}
    rows.update({f"{r.target}:{r.video_id}": r for r in emeta.itertuples(index=False)})
    return rows


def _verification_table(verifier, tables_dir: Path, metrics: dict) -> None:
    """The candidate pairs and their temporal verification (or a line saying verification is off)."""
    title = "Stage 01 — temporal verification of candidate pairs (dedup.verify, not in the paper)"
    if verifier is None:
        write_markdown_table(
            pd.DataFrame(dict(verification=["off (dedup.verify.enabled: false)"])),
            tables_dir / "dedup_verification.md",
            title,
        )
        return
    t = verifier.table()
    write_markdown_table(
        t,
        tables_dir / "dedup_verification.md",
        title,
        [
            "a, b: candidate pair (mean-feature cosine above the candidate γ); external videos as <target>:<video_id>",
            "short_coverage: share of the shorter video's frames matched at the best alignment; long_coverage: share of "
            "the longer video's duration it covers; scale, offset_s: the alignment (time in b = scale × time in a + offset)",
            "mode: motion (frames compared by what changes over time) or still (a video without motion: raw frames)",
        ]
        + ([f"unreadable tracks: {', '.join(sorted(verifier.failed))}"] if verifier.failed else []),
    )
    metrics.update(verify_candidates=int(len(t)), verify_rejected=int((~t.verified).sum()) if len(t) else 0)


def _quality_against_truth(params, paths: Paths, table, meta, A, emb, gamma, metrics: dict, out: dict):
    """With the demo world's planted truth: de-dup quality, precision/recall versus γ and its figure (``metrics`` and
    ``out`` gain the numbers); without: the two tables say there is no ground truth. Returns the truth or None."""
    cfg, tables_dir, figures_dir = params.dedup, Path(paths.tables_dir), Path(paths.figures_dir)
    if paths.demo_dir is not None and (Path(paths.demo_dir) / "truth" / "videos.parquet").exists():
        from ..demo.world import load_truth  # the demo world: only behind the demo source

        truth = load_truth(paths.demo_dir)
        ev = evaluate_internal(table, truth["videos"])
        evx = evaluate_external(table, truth["external"], cfg.external_targets)
        pr = pr_vs_threshold(
            meta, A, truth["videos"], sorted(set(cfg.threshold_grid) | {gamma}), cfg.keep, params.seed, cfg.block_size
        )
        q = pd.DataFrame(
            [
                dict(
                    check="internal",
                    **{k: ev[k] for k in ("removed", "true_removed", "planted", "precision", "recall", "f1")},
                )
            ]
            + [
                dict(
                    check=f"external: {r.target}",
                    removed=r.removed,
                    true_removed=r.true_removed,
                    planted=r.planted_mapped,
                    precision=r.precision,
                    recall=r.recall,
                    f1=np.nan,
                )
                for r in evx.itertuples()
            ]
        )
        write_markdown_table(
            q,
            tables_dir / "dedup_quality.md",
            "Stage 01 — de-dup quality against the demo world's planted truth",
            [
                f"embedder {emb.name}, γ = {gamma}",
                "internal: a removal is correct when its planted group keeps another member; planted = Σ(group size − 1)",
                "external: planted = copies in mapped classes; each target also holds one copy in an unmapped class, which must stay",
            ],
        )
        write_markdown_table(
            pr,
            tables_dir / "dedup_pr_vs_threshold.md",
            "Stage 01 — internal de-dup precision/recall versus γ",
            [
                f"embedder {emb.name}; chosen γ = {gamma}"
                + (
                    "; the mean-feature cosine alone (the paper's rule): dedup.verify is not applied here"
                    if cfg.verify.enabled
                    else ""
                )
            ],
        )
        save_figure(plots.pr_curve(pr, gamma), figures_dir / "pr_vs_threshold.png")
        metrics.update(
            internal_precision=ev["precision"],
            internal_recall=ev["recall"],
            external_precision={r.target: r.precision for r in evx.itertuples()},
            external_recall={r.target: r.recall for r in evx.itertuples()},
        )
        out.update(quality=q, pr=pr)
    else:
        for name, title in (
            ("dedup_quality.md", "Stage 01 — de-dup quality against planted truth"),
            ("dedup_pr_vs_threshold.md", "Stage 01 — internal de-dup precision/recall versus γ"),
        ):
            write_no_truth_table(tables_dir / name, title, params.data.source)
        truth = None
    return truth


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
