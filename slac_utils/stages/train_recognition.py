"""Stage 06 — train the RGB and flow Res3D models on the labeled SLAC clips (paper section 4.1).

The stage's orchestration; what it computes lives in :mod:`slac_utils.recognition`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import plots
from ..config.learning import NegWeightScaling
from ..data.clips import ClipDataset
from ..data.flow_cache import precompute_flow
from ..engine.train import background_weight, cpu_threads, distributed, train
from ..io import read_table, save_figure, write_json, write_markdown_table, write_table
from ..models.checkpoints import write_meta
from ..recognition import build_model, make_splits
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    labeled_path: str = "data/processed/labeled_clips.parquet"
    splits_path: str = "data/processed/slac_splits.parquet"
    models_dir: str = "data/models/res3d"
    tables_dir: str = "reports/tables/06_train"
    figures_dir: str = "reports/figures/06_train"
    metrics_path: str = "metrics/06_train.json"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 06: splits, then an RGB and a flow Res3D trained on the train split."""

    cfg = params.recognition
    rank = distributed()[0]  # under torchrun every process trains; only rank 0 writes files
    cpu_threads(cfg.threads)
    labeled = read_table(paths.labeled_path)
    classes = sorted(labeled.class_label.unique())
    splits = make_splits(labeled, classes, cfg, params.seed)
    if rank == 0:
        write_table(splits, paths.splits_path)
    tr = splits[splits.split == "train"]
    train_labels = tr.label_index.to_numpy()
    neg_w = background_weight(train_labels, len(classes), cfg)
    logs = {}
    for name, modality, run_cfg in _runs(cfg):
        torch.manual_seed(params.seed)
        model = build_model(cfg, len(classes) + 1, modality)
        flows = precompute_flow(tr, cfg.resize_short, params.compute, progress) if modality == "flow" else None
        ds = ClipDataset(tr, cfg.frames, cfg.crop, cfg.resize_short, modality, params.seed, cfg.cache_clips, flows)
        out = Path(paths.models_dir) / name
        log = train(model, ds, ds.labels, len(classes), run_cfg, out, seed=params.seed, progress=progress)
        if rank == 0:
            write_meta(
                out,
                classes=classes,
                background=len(classes),
                modality=modality,
                sampling="unweighted" if name.endswith("_unweighted") else "weighted",
                depth=cfg.depth,
                width=cfg.width,
                frames=cfg.frames,
                crop=list(cfg.crop),
            )
        logs[name] = log
    if rank != 0:
        return dict(splits=splits, logs=logs)
    counts = (
        splits.assign(kind=np.where(splits.label == 1, "positive", "negative"))
        .groupby(["split", "kind"])
        .size()
        .unstack(fill_value=0)
        .reset_index()
    )
    write_markdown_table(
        counts,
        Path(paths.tables_dir) / "splits.md",
        "Stage 06 — SLAC splits by video",
        [
            f"{splits.video_id.nunique()} videos: val {cfg.val_fraction:.0%}, test {cfg.test_fraction:.0%} (paper: 502K / 6K / 12K videos); no video is in two splits",
            f"sampling weights: positives {cfg.pos_weight:g}, background {neg_w:.4g} (neg_weight {cfg.neg_weight:g}, "
            f"rule {cfg.neg_weight_scaling.rule}): background drawn {neg_w * (train_labels == len(classes)).sum() / max(1e-9, cfg.pos_weight * (train_labels != len(classes)).sum() / max(1, len(classes))):.2f}x as often as an average class (paper: 5.4x)",
        ],
    )
    for m, log in logs.items():
        write_table(log.drop(columns=["seconds"], errors="ignore"), Path(paths.tables_dir) / f"log_{m}.csv")
    save_figure(
        plots.training_curves({f"Res3D-{cfg.depth} {m.upper()}": log.to_dict("records") for m, log in logs.items()}),
        Path(paths.figures_dir) / "training_curves.png",
    )
    metrics = dict(
        classes=len(classes),
        train_clips=int(len(tr)),
        val_clips=int((splits.split == "val").sum()),
        test_clips=int((splits.split == "test").sum()),
        neg_weight_used=neg_w,
        **{f"final_loss_{m}": float(log.loss.iloc[-1]) for m, log in logs.items()},
        **{f"train_accuracy_{m}": float(log.train_accuracy.iloc[-1]) for m, log in logs.items()},
    )
    write_json(metrics, paths.metrics_path)
    return dict(splits=splits, logs=logs, counts=counts, metrics=metrics)


def _runs(cfg) -> list[tuple]:
    """(name, input, training cfg) of each model: RGB and flow with weighted sampling, and with
    ``recognition.unweighted_baseline`` an RGB model trained with every clip at weight pos_weight (the ablation the
    claims table tests)."""
    runs = [("rgb", "rgb", cfg), ("flow", "flow", cfg)]
    if cfg.unweighted_baseline:
        flat = cfg.model_copy(update=dict(neg_weight=cfg.pos_weight, neg_weight_scaling=NegWeightScaling(rule="fixed")))
        runs.append(("rgb_unweighted", "rgb", flat))
    return runs


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
