"""Stages 06-07 — Res3D recognition on the labeled clips (paper section 4.1, Table 4).

Stage 06 (:func:`run_train`) splits the labeled clips by video (no video in two splits), gives every
negative clip the background label (K+1-way softmax) and trains an RGB and a Farneback-flow Res3D with
weighted sampling (:mod:`slac_utils.train`).  Stage 07 (:func:`run_evaluate`) scores the start clip of
every validation/test clip and reports Class-Agnostic and Class-Aware Clip@1 for RGB, flow and their late
fusion (0.6 / 0.4) beside the paper's Table 4.

``slac_splits.parquet``: clip_id, video_id, class_label, label (1/-1), label_index (class index, or K for
background), split (train | val | test), path.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .clipdata import ClipDataset
from .res3d import Res3D

PAPER_TABLE4 = {  # Table 4: (val agnostic, val aware, test agnostic, test aware)
    "RGB": (54.3, 76.5, 53.7, 76.2),
    "Flow": (47.3, 64.9, 46.3, 63.6),
    "RGB+Flow": (62.4, 78.3, 61.5, 77.8),
}


def split_by_video(videos: np.ndarray, val: float, test: float, seed: int) -> dict[str, str]:
    """video_id -> train | val | test, whole videos only, seeded."""
    uniq = np.array(sorted(set(videos)))
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(uniq))
    n_val, n_test = int(round(len(uniq) * val)), int(round(len(uniq) * test))
    split = np.array(["train"] * len(uniq), dtype=object)
    split[perm[:n_val]] = "val"
    split[perm[n_val : n_val + n_test]] = "test"
    return dict(zip(uniq, split))


def make_splits(labeled: pd.DataFrame, classes: list[str], cfg, seed: int) -> pd.DataFrame:
    lab = labeled[labeled.label != 0].copy()  # 0: guideline examples without an annotator label stay out
    K = len(classes)
    lab["label_index"] = np.where(lab.label == 1, lab.class_label.map({c: i for i, c in enumerate(classes)}), K).astype(
        int
    )
    split = split_by_video(lab.video_id.to_numpy(), cfg.val_fraction, cfg.test_fraction, seed)
    lab["split"] = lab.video_id.map(split)
    cols = ["clip_id", "video_id", "class_label", "label", "label_index", "split", "path"]
    return lab[cols].sort_values(["split", "clip_id"], kind="mergesort").reset_index(drop=True)


def build_model(cfg, num_classes: int, modality: str) -> Res3D:
    return Res3D(num_classes, depth=cfg.depth, width=cfg.width, in_channels=3 if modality == "rgb" else 2)


def run_train(
    params, labeled_path, splits_path, models_dir, tables_dir, figures_dir, metrics_path, progress: bool = True
) -> dict:
    """Stage 06: splits, then an RGB and a flow Res3D trained on the train split."""
    from . import plots
    from .io import read_table, save_figure, write_json, write_markdown_table, write_table
    from .train import cpu_threads, distributed, train

    cfg = params.recognition
    rank = distributed()[0]  # under torchrun every process trains; only rank 0 writes files
    cpu_threads(cfg.threads)
    labeled = read_table(labeled_path)
    classes = sorted(labeled.class_label.unique())
    splits = make_splits(labeled, classes, cfg, params.seed)
    if rank == 0:
        write_table(splits, splits_path)
    tr = splits[splits.split == "train"]
    logs = {}
    for modality in ("rgb", "flow"):
        torch.manual_seed(params.seed)
        model = build_model(cfg, len(classes) + 1, modality)
        ds = ClipDataset(tr, cfg.frames, cfg.crop, cfg.resize_short, modality, params.seed, cache=cfg.cache_clips)
        out = Path(models_dir) / modality
        log = train(model, ds, ds.labels, len(classes), cfg, out, seed=params.seed, progress=progress)
        if rank == 0:
            with open(out / "meta.json", "w") as f:
                json.dump(
                    dict(
                        classes=classes,
                        background=len(classes),
                        modality=modality,
                        depth=cfg.depth,
                        width=cfg.width,
                        frames=cfg.frames,
                        crop=list(cfg.crop),
                    ),
                    f,
                    indent=2,
                    sort_keys=True,
                )
        logs[modality] = log
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
        Path(tables_dir) / "splits.md",
        "Stage 06 — SLAC splits by video",
        [
            f"{splits.video_id.nunique()} videos: val {cfg.val_fraction:.0%}, test {cfg.test_fraction:.0%} (paper: 502K / 6K / 12K videos); no video is in two splits"
        ],
    )
    for m, log in logs.items():
        write_table(log.drop(columns=["seconds"], errors="ignore"), Path(tables_dir) / f"log_{m}.csv")
    save_figure(
        plots.training_curves({f"Res3D-{cfg.depth} {m.upper()}": log.to_dict("records") for m, log in logs.items()}),
        Path(figures_dir) / "training_curves.png",
    )
    metrics = dict(
        classes=len(classes),
        train_clips=int(len(tr)),
        val_clips=int((splits.split == "val").sum()),
        test_clips=int((splits.split == "test").sum()),
        **{f"final_loss_{m}": float(log.loss.iloc[-1]) for m, log in logs.items()},
        **{f"train_accuracy_{m}": float(log.train_accuracy.iloc[-1]) for m, log in logs.items()},
    )
    write_json(metrics, metrics_path)
    return dict(splits=splits, logs=logs, counts=counts, metrics=metrics)


def load_model(models_dir, modality: str, cfg) -> tuple[Res3D, dict]:
    d = Path(models_dir) / modality
    meta = json.loads((d / "meta.json").read_text())
    m = build_model(cfg, len(meta["classes"]) + 1, modality)
    m.load_state_dict(torch.load(d / "last.pt", map_location="cpu", weights_only=False)["model"])
    return m.eval(), meta


def run_evaluate(params, splits_path, models_dir, tables_dir, metrics_path, progress: bool = True) -> dict:
    """Stage 07: Table 4 — Clip@1 (class-agnostic and class-aware) of RGB, flow and RGB+flow on val and test."""
    from .io import read_table, write_json, write_markdown_table
    from .metrics import class_aware_accuracy, clip_accuracy, late_fusion
    from .train import cpu_threads, predict

    cfg = params.recognition
    cpu_threads(cfg.threads)
    splits = read_table(splits_path)
    scores, rows = {}, []
    for split in ("val", "test"):
        part = splits[splits.split == split]
        if len(part) == 0:
            raise ValueError(
                f"the {split} split is empty: raise recognition.{split if split == 'test' else 'val'}_fraction or label more clips"
            )
        for modality in ("rgb", "flow"):
            model, meta = load_model(models_dir, modality, cfg)
            scores[split, modality] = predict(
                model, ClipDataset(part, cfg.frames, cfg.crop, cfg.resize_short, modality, params.seed)
            )
        scores[split, "fusion"] = late_fusion(scores[split, "rgb"], scores[split, "flow"], *cfg.fusion_weights)
    y = {s: splits[splits.split == s].label_index.to_numpy() for s in ("val", "test")}
    for name, key in (("RGB", "rgb"), ("Flow", "flow"), ("RGB+Flow", "fusion")):
        p = PAPER_TABLE4[name]
        rows.append(
            {
                "input": name,
                "val agnostic (ours)": 100 * clip_accuracy(scores["val", key], y["val"]),
                "val aware (ours)": 100 * class_aware_accuracy(scores["val", key], y["val"]),
                "test agnostic (ours)": 100 * clip_accuracy(scores["test", key], y["test"]),
                "test aware (ours)": 100 * class_aware_accuracy(scores["test", key], y["test"]),
                "val agnostic (paper)": p[0],
                "val aware (paper)": p[1],
                "test agnostic (paper)": p[2],
                "test aware (paper)": p[3],
            }
        )
    t4 = pd.DataFrame(rows)
    write_markdown_table(
        t4,
        Path(tables_dir) / "table4_slac.md",
        "Table 4 — Clip@1 on SLAC (demo scale beside the paper)",
        [
            f"ours: DEMO SCALE — Res3D-{cfg.depth} (width {cfg.width}), {cfg.frames} frames at {cfg.crop[0]}x{cfg.crop[1]}, {cfg.epochs} epochs on CPU, "
            f"{len(y['val'])} val / {len(y['test'])} test clips; paper: Res3D-34, 32 frames at 112x144, 45 epochs on 64 GPUs, 6K/12K videos",
            "Clip@1 on one sequence at the beginning of each clip; class-agnostic = correct / all clips; class-aware = mean over ground-truth classes of per-class top-1",
            f"RGB+Flow: late fusion of softmax scores with weights {cfg.fusion_weights[0]} / {cfg.fusion_weights[1]}",
        ],
        floatfmt=".1f",
    )
    metrics = {f"{r['input']} {k}": round(float(r[k]), 4) for r in rows for k in r if k.endswith("(ours)")}
    write_json(metrics, metrics_path)
    return dict(table4=t4, metrics=metrics)


def _main():  # pragma: no cover - the torchrun entry point (paper scale); the DVC stage runs the notebook
    import argparse

    from .config import load_params

    ap = argparse.ArgumentParser(
        description="Train the RGB and flow Res3D models on the labeled SLAC clips (stage 06)."
    )
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--labeled", default="data/processed/labeled_clips.parquet")
    ap.add_argument("--splits", default="data/processed/slac_splits.parquet")
    ap.add_argument("--models-dir", default="data/models/res3d")
    ap.add_argument("--tables-dir", default="reports/tables/06_train")
    ap.add_argument("--figures-dir", default="reports/figures/06_train")
    ap.add_argument("--metrics", default="metrics/06_train.json")
    a = ap.parse_args()
    run_train(load_params(a.params), a.labeled, a.splits, a.models_dir, a.tables_dir, a.figures_dir, a.metrics)


if __name__ == "__main__":
    _main()
