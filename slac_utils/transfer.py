"""Transfer learning: fine-tune Res3D on target datasets with and without SLAC pre-training
(paper 4.2, Tables 5-7).
The library of stage 08; the stage itself is :mod:`slac_utils.stages.transfer`.

For every target in ``params.transfer.targets`` (UCF-101 / HMDB-51 / Kinetics as distributed, read by
:mod:`slac_utils.data.targets`; the demo default is a small UCF-101-layout dataset written by the ``demo_target``
stage), every input (RGB, Farneback flow) and every initialisation:

* ``scratch`` -- "w/o pre-training": a freshly initialised Res3D of the same depth and width;
* ``SLAC`` -- the stage-06 model's trunk (:func:`slac_utils.models.res3d.load_trunk`) with a new classifier;
* any other checkpoint named in ``params.transfer.pretrained`` (Table 6 compares Kinetics and Sports-1M),

the model is fine-tuned on the target's training split with the stage-06 training loop (uniform sampling,
since there is no background class; warm-up then step learning rate from ``params.transfer``) and scored on
its test split (Kinetics: validation) with the paper's three metrics:

* Clip@1 -- one T-frame clip at the beginning of the video, centre crop;
* Video@1 -- ``video_clips`` (10) evenly spaced clips, softmax scores averaged;
* dense multi-crop@1 -- a clip every ``dense_stride`` (4) frames x 10 crops (4 corners + centre and their
  mirrors), softmax scores averaged over crops and clips.

Two-stream numbers fuse the RGB and flow video scores with ``recognition.fusion_weights`` (0.6 / 0.4).

Outputs: ``<out_models_dir>/<target>/<init>/<modality>/{last.pt,log.csv}`` and ``scores.parquet`` (one row per
test video, init, modality and metric: ``target, init, modality, metric, video_id, label_index, scores``
-- the averaged softmax vector), Tables 5, 6 and 7 (Markdown + CSV) with the paper's values in separate
columns, a figure of the fine-tuning curves and a metrics JSON.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .data import kinetics
from .data import targets as datasets
from .data.clips import ClipDataset
from .ingest import probe
from .io import PLACEHOLDER, write_markdown_table, write_table
from .models.checkpoints import load_state
from .models.res3d import Res3D, load_trunk, replace_head
from .paper import PAPER_TABLE5, PAPER_TABLE6, PAPER_TABLE7, PAPER_TARGETS
from .video import clip_sampling as sc

METRICS = ("Clip@1", "Video@1", "Dense@1")


def paper_name(target_name: str) -> str | None:
    """The paper's column for a target ('UCF-101 (demo)' -> 'UCF-101'), or None for another dataset."""
    key = re.sub(r"[^a-z0-9]", "", target_name.lower())
    for p in PAPER_TARGETS:
        if key.startswith(re.sub(r"[^a-z0-9]", "", p.lower())):
            return p
    return None


def slug(name: str) -> str:
    """A folder name for a target or init ('UCF-101 (demo)' -> 'ucf-101_demo')."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_").replace("_101", "-101").replace("_51", "-51")


# ----------------------------------------------------------------------------- data
def read_target(t) -> pd.DataFrame:
    """A target's dataset table (slac_utils.data.targets columns, ``exists`` marking missing files) with ``split``
    train | test; Kinetics test rows without a label are left out.

    Kinetics: the rows of the CSVs named ``train`` are the training split and the rest (validation, as in the
    paper) the test split.  Raises ValueError when a split is empty.
    """

    if t.format == "ucf101":
        df = datasets.read_ucf101(t.root, t.split_id, lists_dir=t.lists_dir)
    elif t.format == "hmdb51":
        df = datasets.read_hmdb51(t.root, t.split_id, splits_dir=t.lists_dir)
    else:
        if len(t.csv_paths) < 2:
            raise ValueError(f"transfer target {t.name!r}: Kinetics needs csv_paths [train.csv, validate.csv]")
        df = kinetics.read_kinetics(t.csv_paths, t.root, classes=kinetics.kinetics_classes(t.csv_paths[:1]))
        df = df.assign(split=np.where(df.split == "train", "train", "test"))
    return df[df.label_index >= 0].reset_index(drop=True)


def quarantine(df: pd.DataFrame, min_frames: int = 1, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(usable rows, quarantined rows + ``reason``): every video is probed (exists, non-empty, decodes first and last
    frame, :func:`slac_utils.ingest.probe`), so a missing or broken file is listed with its reason instead of
    stopping fine-tuning half-way."""

    reasons = [
        probe(p, verify_decode=True, min_frames=min_frames, hash_file=False)["error"]
        for p in tqdm(df.path, desc="probe target videos", disable=not progress, leave=False)
    ]
    bad = np.array([bool(r) for r in reasons], dtype=bool)
    return df[~bad].reset_index(drop=True), df[bad].assign(reason=[r for r in reasons if r]).reset_index(drop=True)


def finetune_cfg(rec, tr, epochs: int) -> SimpleNamespace:
    """The training settings of :func:`slac_utils.engine.train.train` for fine-tuning: recognition's batch and
    optimiser, transfer's schedule."""
    return SimpleNamespace(
        base_lr=tr.base_lr,
        warmup_epochs=tr.warmup_epochs,
        step_epochs=tr.step_epochs,
        epochs=epochs,
        clips_per_epoch=tr.clips_per_epoch,
        batch_size=rec.batch_size,
        momentum=rec.momentum,
        weight_decay=rec.weight_decay,
        workers=rec.workers,
        pos_weight=1.0,
        neg_weight=1.0,
    )


def init_model(rec, num_classes: int, modality: str, checkpoint: str | Path | None) -> Res3D:
    """A Res3D for the target: trunk from ``checkpoint`` (a file with a 'model' state_dict) or from scratch."""
    model = Res3D(num_classes, depth=rec.depth, width=rec.width, in_channels=3 if modality == "rgb" else 2)
    if checkpoint is not None:
        load_trunk(model, load_state(checkpoint))
        replace_head(model, num_classes)
    return model


# ----------------------------------------------------------------------------- evaluation
def thin(starts: np.ndarray, cap: int | None) -> np.ndarray:
    """At most ``cap`` of the starts, evenly spaced (all of them when cap is None)."""
    if cap is None or len(starts) <= cap:
        return starts
    return starts[np.unique(np.linspace(0, len(starts) - 1, cap).round().astype(int))]


@torch.no_grad()
def score_views(model, views: torch.Tensor, batch_size: int = 32) -> np.ndarray:
    """Softmax scores (V, C) of a stack of views (V, C, T, H, W)."""
    out = [F.softmax(model(views[i : i + batch_size]).float(), 1).numpy() for i in range(0, len(views), batch_size)]
    return np.concatenate(out)


@torch.no_grad()
def evaluate_videos(model, ds: ClipDataset, tr, progress: bool = True, desc: str = "") -> dict[str, np.ndarray]:
    """Per-video scores (N, C) for each metric: the start clip, ``video_clips`` even clips, dense x crops."""
    model.eval()
    out = {m: [] for m in METRICS}
    for i in tqdm(range(len(ds)), desc=desc or "evaluate", disable=not progress, leave=False):
        n = ds.n_frames(i)
        out["Clip@1"].append(score_views(model, ds.get(i)[0][None])[0])
        out["Video@1"].append(score_views(model, ds.views(i, sc.even_clip_starts(n, ds.T, tr.video_clips))).mean(0))
        dense = thin(sc.dense_clip_starts(n, ds.T, tr.dense_stride), tr.max_dense_clips)
        out["Dense@1"].append(score_views(model, ds.views(i, dense, ten_crop=tr.dense_crops == 10)).mean(0))
    return {m: np.stack(v) for m, v in out.items()}


# ----------------------------------------------------------------------------- tables
def _fmt(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.1f}"


def table5(acc: pd.DataFrame, targets: list[str]) -> pd.DataFrame:
    """Table 5: input x training (w/o, w/ SLAC pre-training) -> Clip@1, Video@1 per target, ours and paper."""
    rows = []
    for modality, inp in (("rgb", "RGB"), ("flow", "Flow")):
        for init, training in (("scratch", "w/o pre-training"), ("SLAC", "w/ pre-training")):
            row = {"input": inp, "training": training}
            for t in targets:
                for m in ("Clip@1", "Video@1"):
                    hit = acc[(acc.target == t) & (acc.modality == modality) & (acc.init == init) & (acc.metric == m)]
                    row[f"{t} {m} (ours)"] = float(hit.accuracy.iloc[0]) if len(hit) else np.nan
            for t in PAPER_TARGETS:
                c, v = PAPER_TABLE5[inp, training][t]
                row[f"{t} Clip@1 (paper)"], row[f"{t} Video@1 (paper)"] = c, v
            rows.append(row)
    return pd.DataFrame(rows)


def table6(acc: pd.DataFrame, targets: list[str], inits: list[str]) -> pd.DataFrame:
    """Table 6 (RGB): pre-training dataset -> Clip@1, Video@1 per target; ours for the inits run, paper's four rows."""
    names = {"scratch": "w/o pre-training"}
    rows = []
    for pre in dict.fromkeys(["w/o pre-training", "Kinetics", "Sports1M", "SLAC", *[names.get(i, i) for i in inits]]):
        init = next((i for i in inits if names.get(i, i) == pre), None)
        row = {"pre-training": pre}
        for t in targets:
            for m in ("Clip@1", "Video@1"):
                hit = (
                    acc[(acc.target == t) & (acc.modality == "rgb") & (acc.init == init) & (acc.metric == m)]
                    if init
                    else acc.iloc[:0]
                )
                row[f"{t} {m} (ours)"] = float(hit.accuracy.iloc[0]) if len(hit) else np.nan
        for t in PAPER_TARGETS:
            c, v = PAPER_TABLE6.get(pre, {}).get(t, (np.nan, np.nan))
            row[f"{t} Clip@1 (paper)"], row[f"{t} Video@1 (paper)"] = c, v
        rows.append(row)
    return pd.DataFrame(rows)


def table7(acc: pd.DataFrame, targets: list[str], depth: int) -> pd.DataFrame:
    """Table 7: the paper's methods, then our two-stream SLAC-pre-trained Res3D (Video@1 and dense multi-crop)."""
    rows = [
        {"method": k, "source": "paper", **{f"{t} (paper)": v[t] for t in PAPER_TARGETS}}
        for k, v in PAPER_TABLE7.items()
    ]
    for metric, label in (("Video@1", "video@1"), ("Dense@1", "dense prediction, w/ multi-cropping@1")):
        row = {"method": f"Two-Stream Res3D-{depth}, SLAC pre-training, {label}", "source": "ours (demo scale)"}
        for t in targets:
            hit = acc[
                (acc.target == t) & (acc.modality == "two-stream") & (acc.init == "SLAC") & (acc.metric == metric)
            ]
            row[f"{t} (ours)"] = float(hit.accuracy.iloc[0]) if len(hit) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- stage
SKIP_TABLES = {
    "table5_transfer.md": ("Table 5 — transfer with and without SLAC pre-training, RGB and flow", 5),
    "table6_pretraining.md": ("Table 6 — pre-training datasets compared (RGB)", 6),
    "table7_state_of_the_art.md": ("Table 7 — two-stream SLAC pre-trained Res3D beside published methods (top-1)", 7),
    "quarantine.md": ("Stage 08 — target videos left out", None),
}


def target_unavailable(t) -> str | None:
    """Why a transfer target cannot be used (its root is missing, or is the demo target that a non-demo source does not generate)."""
    root = Path(t.root)
    if (root / PLACEHOLDER).exists():
        return f"{root} is the demo transfer target, generated only for data.source: demo; point transfer.targets at UCF-101 / HMDB-51 / Kinetics"
    if not root.exists():
        return f"{root} does not exist; point transfer.targets at the dataset on disk"
    return None


def write_tables(tables_dir: Path, acc: pd.DataFrame, targets: list[str], inits: list[str], params, sizes, q) -> tuple:
    """Tables 5, 6 and 7 (Markdown and CSV) and the quarantine table, with their notes; returns (t5, t6, t7).
    ``sizes``: target -> (train videos, test videos, classes, quarantined); ``q``: the quarantined files."""
    rec, tr = params.recognition, params.transfer
    scale = (
        f"ours: DEMO SCALE — Res3D-{rec.depth} (width {rec.width}), {rec.frames} frames at {rec.crop[0]}x{rec.crop[1]}, fine-tuned "
        + ", ".join(f"{t.epochs} epochs on {t.name}" for t in tr.targets)
        + f" (lr {tr.base_lr}, warm-up {tr.warmup_epochs}, /10 every {tr.step_epochs}); paper: Res3D-34, 32 frames at 112x144, 110/50/110 epochs on UCF-101/HMDB-51/Kinetics"
    )
    counts = "; ".join(
        f"{name}: {n[0]} train / {n[1]} test videos, {n[2]} classes, {n[3]} quarantined" for name, n in sizes.items()
    )
    q = q.reindex(columns=["target", "video_id", "split", "label", "path", "reason"])
    write_markdown_table(
        q,
        tables_dir / "quarantine.md",
        "Stage 08 — target videos left out",
        [
            "missing, empty, truncated or undecodable files of the target datasets, with the reason; the stage ran on the rest"
        ],
    )
    metric_note = (
        f"Clip@1: one {rec.frames}-frame clip at the start, centre crop; Video@1: {tr.video_clips} evenly spaced clips averaged; "
        f"dense: a clip every {tr.dense_stride} frames x {tr.dense_crops} crop(s), averaged"
    )
    paper_note = "paper columns: the published numbers for the real UCF-101 / HMDB-51 / Kinetics; ours are on the targets of this run (names say which)"
    t5 = table5(acc, targets)
    write_markdown_table(
        t5,
        tables_dir / "table5_transfer.md",
        "Table 5 — transfer with and without SLAC pre-training, RGB and flow",
        [scale, counts, metric_note, paper_note],
        floatfmt=".1f",
        paper_table=5,
    )
    t6 = table6(acc, targets, list(inits))
    write_markdown_table(
        t6,
        tables_dir / "table6_pretraining.md",
        "Table 6 — pre-training datasets compared (RGB)",
        [
            scale,
            counts,
            "rows without 'ours' values: pre-training checkpoints not given (transfer.pretrained) in this run",
            paper_note,
        ],
        floatfmt=".1f",
        paper_table=6,
    )
    t7 = table7(acc, targets, rec.depth)
    write_markdown_table(
        t7,
        tables_dir / "table7_state_of_the_art.md",
        "Table 7 — two-stream SLAC pre-trained Res3D beside published methods (top-1)",
        [
            scale,
            counts,
            f"two-stream: late fusion of softmax scores, RGB {rec.fusion_weights[0]} / flow {rec.fusion_weights[1]}",
            metric_note,
            paper_note,
        ],
        floatfmt=".1f",
        paper_table=7,
    )
    for name, tab in (("table5_transfer", t5), ("table6_pretraining", t6), ("table7_state_of_the_art", t7)):
        write_table(tab, tables_dir / f"{name}.csv")
    return t5, t6, t7
