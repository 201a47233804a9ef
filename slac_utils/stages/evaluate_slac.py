"""Stage 07 — evaluate RGB, flow and their fusion on the SLAC test split (paper section 4.1, Table 4).

The stage's orchestration; what it computes lives in :mod:`slac_utils.recognition`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.clips import ClipDataset
from ..data.flow_cache import precompute_flow
from ..engine.metrics import class_aware_accuracy, clip_accuracy, late_fusion
from ..engine.train import cpu_threads, predict
from ..io import read_table, write_json, write_markdown_table, write_table
from ..paper import PAPER_TABLE4
from ..recognition import load_model
from .base import StagePaths
from .base import main as _main


@dataclass(frozen=True)
class Paths(StagePaths):
    splits_path: str = "data/processed/slac_splits.parquet"
    models_dir: str = "data/models/res3d"
    scores_path: str = "data/processed/table4_scores.parquet"
    tables_dir: str = "reports/tables/07_evaluate"
    metrics_path: str = "metrics/07_evaluate.json"


def run(params, paths: Paths = Paths(), progress: bool = True) -> dict:
    """Stage 07: Table 4 — Clip@1 (class-agnostic and class-aware) of RGB, flow and RGB+flow on val and test."""

    cfg = params.recognition
    cpu_threads(cfg.threads)
    splits = read_table(paths.splits_path)
    scores, rows = {}, []
    inputs = {"rgb": "rgb", "flow": "flow"}  # model -> its input
    if (Path(paths.models_dir) / "rgb_unweighted").exists():  # stage 06's ablation (recognition.unweighted_baseline)
        inputs["rgb_unweighted"] = "rgb"  # scored for the claims table only
    models = {m: load_model(paths.models_dir, m, cfg, modality)[0] for m, modality in inputs.items()}
    for split in ("val", "test"):
        part = splits[splits.split == split]
        if len(part) == 0:
            raise ValueError(
                f"the {split} split is empty: raise recognition.{split if split == 'test' else 'val'}_fraction or label more clips"
            )
        data = {}
        for modality in ("rgb", "flow"):
            flows = precompute_flow(part, cfg.resize_short, params.compute, progress) if modality == "flow" else None
            data[modality] = ClipDataset(
                part, cfg.frames, cfg.crop, cfg.resize_short, modality, params.seed, flow_files=flows
            )
        for m, modality in inputs.items():
            scores[split, m] = predict(models[m], data[modality])
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
    write_table(_score_rows(splits, scores), paths.scores_path)  # per clip: what the claims table resamples
    write_markdown_table(
        t4,
        Path(paths.tables_dir) / "table4_slac.md",
        "Table 4 — Clip@1 on SLAC (demo scale beside the paper)",
        [
            f"ours: DEMO SCALE — Res3D-{cfg.depth} (width {cfg.width}), {cfg.frames} frames at {cfg.crop[0]}x{cfg.crop[1]}, {cfg.epochs} epochs on CPU, "
            f"{len(y['val'])} val / {len(y['test'])} test clips; paper: Res3D-34, 32 frames at 112x144, 45 epochs on 64 GPUs, 6K/12K videos",
            "Clip@1 on one sequence at the beginning of each clip; class-agnostic = correct / all clips; class-aware = mean over ground-truth classes of per-class top-1",
            f"RGB+Flow: late fusion of softmax scores with weights {cfg.fusion_weights[0]} / {cfg.fusion_weights[1]}",
        ],
        floatfmt=".1f",
        paper_table=4,
    )
    metrics = {f"{r['input']} {k}": round(float(r[k]), 4) for r in rows for k in r if k.endswith("(ours)")}
    write_json(metrics, paths.metrics_path)
    return dict(table4=t4, metrics=metrics)


def _score_rows(splits, scores) -> pd.DataFrame:
    """split, clip_id, video_id, label_index, modality (rgb / flow / fusion), scores (softmax, K+1) per clip."""
    rows = []
    for (split, modality), sc in sorted(scores.items()):
        part = splits[splits.split == split]
        rows += [
            dict(
                split=split,
                clip_id=c,
                video_id=v,
                label_index=int(y),
                modality=modality,
                scores=np.round(r, 6).tolist(),
            )
            for c, v, y, r in zip(part.clip_id, part.video_id, part.label_index, np.asarray(sc))
        ]
    return pd.DataFrame(rows)


def main(argv=None) -> dict:
    return _main(Paths, run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
