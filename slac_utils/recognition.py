"""Res3D recognition on the labeled clips (paper section 4.1, Table 4): what stages 06 and 07 compute.

Stage 06 (:mod:`slac_utils.stages.train_recognition`) splits the labeled clips by video (no video in two splits), gives every
negative clip the background label (K+1-way softmax) and trains an RGB and a Farneback-flow Res3D with
weighted sampling (:mod:`slac_utils.engine.train`).  Stage 07 (:mod:`slac_utils.stages.evaluate_slac`) scores the start clip of
every validation/test clip and reports Class-Agnostic and Class-Aware Clip@1 for RGB, flow and their late
fusion (0.6 / 0.4) beside the paper's Table 4.

``slac_splits.parquet``: clip_id, video_id, class_label, label (1/-1), label_index (class index, or K for
background), split (train | val | test), path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .data.splits import split_groups
from .models.checkpoints import load_trained
from .models.res3d import Res3D


def split_by_video(videos: np.ndarray, val: float, test: float, seed: int) -> dict[str, str]:
    """video_id -> train | val | test, whole videos only, seeded (:func:`slac_utils.data.splits.split_groups`)."""
    n = len(set(videos))
    return split_groups(videos, {"val": int(round(n * val)), "test": int(round(n * test))}, seed, rest="train")


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


def load_model(models_dir, name: str, cfg, modality: str | None = None) -> tuple[Res3D, dict]:
    """The trained model in ``models_dir/name`` (``modality``: its input, default ``name``)."""
    state, meta = load_trained(Path(models_dir) / name)
    m = build_model(cfg, len(meta["classes"]) + 1, modality or name)
    m.load_state_dict(state)
    return m.eval(), meta
