"""Res3D recognition on the labeled clips (paper section 4.1, Table 4): what stages 06 and 07 compute.

Stage 06 (:mod:`slac_utils.stages.train_recognition`) splits the labeled clips by video (no video in two splits), gives every
negative clip the background label (K+1-way softmax) and trains an RGB and a Farneback-flow Res3D with
weighted sampling (:mod:`slac_utils.train`).  Stage 07 (:mod:`slac_utils.stages.evaluate_slac`) scores the start clip of
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


def load_model(models_dir, modality: str, cfg) -> tuple[Res3D, dict]:
    d = Path(models_dir) / modality
    meta = json.loads((d / "meta.json").read_text())
    m = build_model(cfg, len(meta["classes"]) + 1, modality)
    m.load_state_dict(torch.load(d / "last.pt", map_location="cpu", weights_only=False)["model"])
    return m.eval(), meta
