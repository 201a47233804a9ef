"""Stage 09 — temporal action localization with CDC, refinement and mAP (paper section 5, Tables 8 and 9).

The stage's orchestration; what it computes lives in :mod:`slac_utils.localization`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .. import cdc, plots
from ..engine.detection_io import write_activitynet_gt, write_results
from ..engine.train import cpu_threads, distributed
from ..io import read_table, save_figure, write_json, write_markdown_table, write_skipped, write_table
from ..localization import (
    LOG_KEYS,
    SKIP_TABLES,
    LocalizationSplit,
    localize_and_evaluate,
    make_split,
    pretrain_clips,
    scores_figure,
    slac_trunk,
    stage_metrics,
    table_notes,
    write_parameters,
    write_split,
    write_table8,
    write_table9,
)
from ..models.checkpoints import write_meta
from ..video.decode import center_crop
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    splits_path: str = "data/processed/slac_splits.parquet"
    models_dir: str = "data/models/res3d"
    demo_dir: str = "data/raw/demo"
    manifest_path: str = "data/interim/manifest.parquet"
    out_models_dir: str = "data/models/cdc"
    results_dir: str = "data/processed/localization"
    tables_dir: str = "reports/tables/09_localize"
    figures_dir: str = "reports/figures/09_localize"
    metrics_path: str = "metrics/09_localize.json"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 09: train the two CDC models, localize on held-out videos, write Tables 8/9 (demo scale beside the paper).

    Inputs: ``splits_path`` (stage-06 SLAC clips), ``models_dir`` (stage-06 Res3D models, ``rgb/``),
    ``demo_dir`` (demo world: ``videos/``, ``truth/``), ``manifest_path`` (stage-00).
    Outputs: ``out_models_dir``, ``results_dir`` (ground-truth and results JSON), ``tables_dir``,
    ``figures_dir``, ``metrics_path``.  ``localization.nms_tiou``: per-class temporal NMS of the detections (None: none,
    as the paper describes no NMS).  Returns tables, metrics and per-phase seconds.
    """
    paths = paths.for_source(params)
    cfg = params.localization
    rank = distributed()[0]
    cpu_threads(cfg.threads)
    if cfg.dataset == "demo" and params.data.source != "demo":
        return _skip(params, paths)
    secs: dict[str, float] = {}
    t_all = t0 = time.perf_counter()

    splits = read_table(paths.splits_path)
    slac_state, slac_meta = slac_trunk(paths.models_dir)
    slac_classes = list(slac_meta["classes"])
    split = make_split(params, paths.demo_dir, paths.manifest_path, splits, slac_classes)
    if rank == 0:
        write_activitynet_gt(
            split.gt[["video_id", "label", "start", "end", "subset", "duration"]],
            Path(paths.results_dir) / "ground_truth.json",
        )
    secs["ground_truth"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    short = cdc.default_resize_short(cfg.crop)
    train_ds, frames_eval = _decode(cfg, split, short, params.seed)
    fps = dict(zip(split.videos.video_id, split.videos.fps.astype(float)))
    slac_tr = pretrain_clips(splits, split, cfg.dataset)
    secs["decode"] = time.perf_counter() - t0

    models, logs = _train_models(
        params, paths, split, train_ds, slac_tr, slac_state, slac_classes, short, secs, progress
    )
    if rank != 0:
        return dict(logs=logs)

    t0 = time.perf_counter()
    scores = {
        m: {
            v: cdc.frame_scores(net, frames_eval[v], cfg.frames, cfg.crop, short, batch_size=32)
            for v in split.held_videos
        }
        for m, net in models.items()
    }
    secs["inference"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    loc = localize_and_evaluate(cfg, split, scores, fps)
    for m in models:
        write_results(loc.before[m], Path(paths.results_dir) / f"{m}_before_refinement.json")
        write_results(loc.after[m], Path(paths.results_dir) / f"{m}_after_refinement.json")
    secs["localize_evaluate"] = time.perf_counter() - t0

    out = _write_reports(params, paths, split, slac_tr, short, models, loc, scores, fps, logs)
    secs["total"] = time.perf_counter() - t_all
    return dict(
        **out,
        seconds=secs,
        logs=logs,
        betas=loc.betas,
        beta_tables=loc.beta_tables,
        scores=scores,
        detections=dict(before=loc.before, after=loc.after),
        gt=split.gt,
    )


def _skip(params, paths: Paths) -> dict:
    """localization.dataset demo without the demo source: every declared output says why the stage did not run."""
    reason = (
        f"localization.dataset is demo but data.source is {params.data.source}: the demo world's untrimmed videos and segments "
        "are not generated; set localization.dataset to thumos14 or activitynet with its annotations_path and videos_dir"
    )
    for d in (paths.out_models_dir, paths.results_dir):
        Path(d).mkdir(parents=True, exist_ok=True)
        (Path(d) / "SKIPPED.md").write_text(f"# Stage 09 skipped\n\n{reason}\n")
    metrics = write_skipped(paths.tables_dir, paths.figures_dir, paths.metrics_path, SKIP_TABLES, reason)
    return dict(metrics=metrics, split=pd.DataFrame())


def _decode(cfg, split: LocalizationSplit, short: int, seed: int):
    """The training windows' dataset and the held-out videos' frames (demo: decoded once, shared by both models)."""
    cache = cfg.dataset == "demo"
    train_ds = cdc.UntrimmedWindowDataset(
        split.train_v, split.gt_train, cfg.frames, cfg.crop, split.K, short, cfg.expand_seconds, seed, cache=cache
    )
    held_set = set(split.held_videos)
    frames_eval = {}
    for v, p in zip(split.videos.video_id, split.videos.path):
        if v in held_set:
            frames_eval[v] = center_crop(cdc.decode_video(p, short)[0], cfg.crop) if cache else p
    return train_ds, frames_eval


def _train_models(params, paths, split, train_ds, slac_tr, slac_state, slac_classes, short, secs, progress):
    """(i) CDC from scratch, fine-tuned; (ii) CDC on the stage-06 RGB trunk, pre-trained on the SLAC clips, fine-tuned.
    Each under ``<out_models_dir>/<name>/`` with its meta.json; returns ({scratch, slac}, training logs)."""
    cfg, rc, seed, K = params.localization, params.recognition, params.seed, split.K
    rank = distributed()[0]
    om = Path(paths.out_models_dir)
    logs = {}
    common_meta = dict(
        classes=split.classes,
        background=K,
        depth=rc.depth,
        width=rc.width,
        frames=cfg.frames,
        crop=cfg.crop,
        resize_short=short,
    )

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    scratch = cdc.build_cdc(K + 1, rc.depth, rc.width, cfg.frames, cfg.crop, cfg.cdc_channels)
    logs["w/o pre-training: fine-tune"] = cdc.train_cdc(
        scratch, train_ds, cfg, om / "scratch", seed=seed, progress=progress, desc="scratch"
    )
    if rank == 0:
        write_meta(om / "scratch", **common_meta, init="scratch")
    secs["train_scratch"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    slac = cdc.build_cdc(
        len(slac_classes) + 1, rc.depth, rc.width, cfg.frames, cfg.crop, cfg.cdc_channels, trunk_state=slac_state
    )
    if cfg.pretrain_epochs > 0:
        pre_ds = cdc.SlacFrameDataset(
            slac_tr, cfg.frames, cfg.crop, len(slac_classes), short, seed, cache=rc.cache_clips
        )
        logs["SLAC: CDC pre-training"] = cdc.train_cdc(
            slac,
            pre_ds,
            cfg,
            om / "slac_pretrain",
            seed=seed,
            progress=progress,
            epochs=cfg.pretrain_epochs,
            desc="slac pre-train",
        )
        if rank == 0:
            write_meta(
                om / "slac_pretrain",
                **{**common_meta, "classes": slac_classes, "background": len(slac_classes)},
                init="stage-06 RGB Res3D trunk",
                clips=int(len(slac_tr)),
            )
    secs["pretrain_slac"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if slac_classes != split.classes:
        slac.replace_classifier(K + 1)
    logs["SLAC: fine-tune"] = cdc.train_cdc(
        slac, train_ds, cfg, om / "slac", seed=seed, progress=progress, desc="slac fine-tune"
    )
    if rank == 0:
        write_meta(om / "slac", **common_meta, init="stage-06 RGB Res3D trunk + CDC pre-training on SLAC clips")
    secs["train_slac"] = time.perf_counter() - t0
    return {"scratch": scratch, "slac": slac}, logs


def _write_reports(params, paths, split, slac_tr, short, models, loc, scores, fps, logs) -> dict:
    """Tables 9 and 8, parameters, split, logs, quarantine; the two figures; the metrics JSON."""
    cfg, rc, tables_dir = params.localization, params.recognition, paths.tables_dir
    ours, notes = table_notes(cfg, rc, split, slac_tr, short, loc.betas, list(models))
    t9 = write_table9(tables_dir, cfg, ours, notes, loc)
    t8 = write_table8(tables_dir, cfg, ours, notes, loc)
    tp_show, ours_counts, paper_counts = write_parameters(tables_dir, models["scratch"], rc, cfg)
    split_tab = write_split(tables_dir, cfg, split, slac_tr)
    for name, df in logs.items():
        write_table(df.drop(columns=["seconds"], errors="ignore"), Path(tables_dir) / f"log_{LOG_KEYS[name]}.csv")
    write_markdown_table(
        split.quarantined,
        Path(tables_dir) / "quarantine.md",
        "Stage 09 — annotated videos left out",
        [
            "missing, empty, truncated or undecodable video files with their reason (demo: the stage-00 manifest already quarantined them); the stage ran on the rest"
        ],
    )
    gt_test = split.gt_test
    with_two = gt_test.groupby("video_id").size().sort_values(ascending=False, kind="mergesort")
    show = sorted(with_two.index[:2])
    save_figure(
        scores_figure(
            show,
            scores,
            fps,
            gt_test,
            loc.before,
            loc.after,
            split.classes,
            f"Per-frame CDC scores on held-out videos (DEMO SCALE, {cfg.frames} frames at {cfg.crop}x{cfg.crop})",
        ),
        Path(paths.figures_dir) / "frame_scores.png",
    )
    save_figure(
        plots.training_curves(
            {k: df.to_dict("records") for k, df in logs.items()},
            "frame_accuracy",
            ("per-frame cross-entropy", "frame accuracy (training windows)"),
        ),
        Path(paths.figures_dir) / "training_curves.png",
    )
    metrics = stage_metrics(split, slac_tr, ours_counts, paper_counts, loc, logs)
    write_json(metrics, paths.metrics_path)
    return dict(table8=t8, table9=t9, parameters=tp_show, split=split_tab, metrics=metrics)


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
