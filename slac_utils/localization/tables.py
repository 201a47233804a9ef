"""Stage 09's tables: Table 9 (ActivityNet-style) and Table 8 (THUMOS14-style) with the paper's rows beside ours,
the model's parameter counts, the split, and the stage's metrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import cdc
from ..io import write_markdown_table
from ..paper import (
    PAPER_CDC_PARAMETERS,
    PAPER_TABLE8,
    PAPER_TABLE8_TIOU,
    PAPER_TABLE9,
    PAPER_TABLE9_TIOU,
    PAPER_TRUNK_PARAMETERS,
)
from .evaluate import Localization
from .ground_truth import LocalizationSplit

MODELS = {
    "scratch": "w/o pre-training",
    "slac": "pre-train on SLAC",
    "oracle": "oracle: ground-truth frame labels as scores",
}
LOG_KEYS = {
    "w/o pre-training: fine-tune": "scratch_finetune",
    "SLAC: CDC pre-training": "slac_pretrain",
    "SLAC: fine-tune": "slac_finetune",
}
SKIP_TABLES = {
    "table9_localization.md": ("Table 9 — localization mAP (%), ActivityNet-style", 9),
    "table8_localization.md": ("Table 8 — localization mAP (%), THUMOS14-style", 8),
    "parameters.md": ("CDC localization model — parameters", None),
    "split.md": ("Stage 09 — localization split (by video)", None),
    "quarantine.md": ("Stage 09 — annotated videos left out", None),
}


def fmt_m(n) -> str:
    if n is None:
        return "—"
    return f"{n / 1e6:.2f}M" if n >= 1e5 else f"{int(n):,}"


def table_notes(cfg, rc, split: LocalizationSplit, slac_tr: pd.DataFrame, short: int, betas: dict, models) -> tuple:
    """(ours, notes): the label of our rows and the notes under Tables 8 and 9 (demo, proposals, oracle)."""
    nms_tiou, K = cfg.nms_tiou, split.K
    train_v, test_v, gt_train, gt_test = split.train_v, split.test_v, split.gt_train, split.gt_test
    ours = "ours (DEMO SCALE)" if cfg.dataset == "demo" else f"ours ({cfg.dataset} {cfg.test_subset})"
    demo_note = (
        f"{ours}: {'DEMO SCALE — ' if cfg.dataset == 'demo' else ''}Res3D-{rc.depth} (width {rc.width}) + 3 Conv-Deconv operators, {cfg.frames} frames at {cfg.crop}x{cfg.crop} (short side {short}), "
        f"fine-tuned {cfg.epochs} epochs on {len(train_v)} {cfg.dataset} videos ({len(gt_train)} segments, expanded by {cfg.expand_seconds:g} s), "
        f"CDC pre-training {cfg.pretrain_epochs} epochs on {len(slac_tr)} SLAC clips; evaluated on {len(test_v)} held-out {cfg.dataset} videos ({len(gt_test)} segments, {K} classes); CPU, one process"
    )
    prop_note = (
        f"proposals: {'from ' + str(cfg.proposals_path) if cfg.proposals_path else f'sliding windows of {list(cfg.window_seconds)} s, stride {cfg.window_stride:g} x length'}; "
        f"refinement alpha = {cfg.alpha:g}, beta = {', '.join(f'{MODELS[m]} {betas[m]:g}' for m in models)}{' (tuned on held-out training videos)' if cfg.tune_beta else ''}; "
        f"{'per-class NMS at tIoU ' + format(nms_tiou, 'g') if nms_tiou is not None else 'no NMS'}; detection score: the label's mean per-frame score inside "
        "the segment minus its mean in the alpha-length flanks outside (cdc.segment_score; the paper's proposals carried their own scores)"
    )
    oracle_note = "oracle rows: the same proposals, labelling and refinement on one-hot ground-truth frame labels instead of CDC scores -- the ceiling of the proposals + refinement at demo scale, not a model"
    return ours, (demo_note, prop_note, oracle_note)


def _paper_rows(source: str, table: dict, tiou) -> list[dict]:
    """The paper's rows: model, mAP (%) at each tIoU, Average (the last value)."""
    return [
        {"source": source, "model": name, **{f"{t:g}": v for t, v in zip(tiou, vals[:-1])}, "Average": vals[-1]}
        for name, vals in table.items()
    ]


def _our_row(source: str, model: str, tiou, ev: dict) -> dict:
    """One of our rows from an evaluation (mAP and average_mAP as fractions), in %."""
    return {
        "source": source,
        "model": model,
        **{f"{t:g}": 100 * a for t, a in zip(tiou, ev["mAP"])},
        "Average": 100 * ev["average_mAP"],
    }


def write_table9(tables_dir, cfg, ours: str, notes: tuple, loc: Localization) -> pd.DataFrame:
    """Table 9: the paper's rows, then ours before and after refinement for every run, mAP (%) at table9_tiou."""
    (demo_note, prop_note, oracle_note), runs, ev9 = notes, loc.runs, loc.ev9
    rows9 = _paper_rows("paper (ActivityNet-v1.3 val)", PAPER_TABLE9, PAPER_TABLE9_TIOU)
    for k, label in (("before", "before refinement"), ("after", "after refinement")):
        rows9 += [_our_row(ours, f"{label}, {MODELS[m]}", cfg.table9_tiou, ev9[m, k]) for m in runs]
    t9 = pd.DataFrame(rows9)
    write_markdown_table(
        t9,
        Path(tables_dir) / "table9_localization.md",
        "Table 9 — localization mAP (%), ActivityNet-style (demo scale beside the paper)",
        [
            demo_note,
            "paper: Res3D-34 + Conv-Deconv, 32 frames at 112x112, 11 epochs on 64 GPUs, ActivityNet-v1.3 validation, proposals of [36]",
            prop_note,
            oracle_note,
            f"mAP protocol: {cfg.table9_protocol} (slac_utils.engine.detection_eval) at tIoU {list(cfg.table9_tiou)}; '—': not reported",
            "the paper's 'before refinement' row is [36]'s own labelled proposals; ours labels each proposal with the CDC model's mean per-frame score over the proposal extended by alpha",
        ],
        floatfmt=".1f",
        paper_table=9,
    )
    return t9


def write_table8(tables_dir, cfg, ours: str, notes: tuple, loc: Localization) -> pd.DataFrame:
    """Table 8: the paper's rows, then ours after and before refinement for every run, mAP (%) at table8_tiou."""
    (demo_note, prop_note, oracle_note), runs, ev8 = notes, loc.runs, loc.ev8
    rows8 = _paper_rows("paper (THUMOS14 test)", PAPER_TABLE8, PAPER_TABLE8_TIOU)
    rows8 += [_our_row(ours, MODELS[m], cfg.table8_tiou, ev8[m, "after"]) for m in runs]
    rows8 += [_our_row(ours, f"{MODELS[m]}, before refinement", cfg.table8_tiou, ev8[m, "before"]) for m in runs]
    t8 = pd.DataFrame(rows8)
    write_markdown_table(
        t8,
        Path(tables_dir) / "table8_localization.md",
        "Table 8 — localization mAP (%), THUMOS14-style (demo scale beside the paper)",
        [
            demo_note,
            "paper: THUMOS14 test, proposals of [27]; R-C3D 44.8/35.6/28.9 and SSN 51.9/41.0/29.8 at 0.3/0.4/0.5 (not re-run)",
            prop_note + "; ours: after refinement unless marked",
            oracle_note,
            f"mAP protocol: {cfg.table8_protocol} (slac_utils.engine.detection_eval) at tIoU {list(cfg.table8_tiou)}",
        ],
        floatfmt=".1f",
        paper_table=8,
    )
    return t8


def write_parameters(tables_dir, scratch, rc, cfg) -> tuple[pd.DataFrame, dict, dict]:
    """The parameter counts of our CDC model, of the same model at the paper's settings, and the paper's."""
    ours_counts = cdc.parameter_counts(scratch)
    paper_counts = cdc.paper_parameter_counts()
    tp = pd.DataFrame(
        [
            {
                "model": f"ours, demo: Res3D-{rc.depth} width {rc.width}, {cfg.frames}x{cfg.crop}x{cfg.crop} -> trunk {'x'.join(map(str, scratch.trunk_shape))}, CDC kernels {[k[0] for k in scratch.kernels]}",
                "trunk": ours_counts["trunk"],
                "CDC operators": ours_counts["cdc"],
                "classifier": ours_counts["classifier"],
            },
            {
                "model": "ours at paper settings: Res3D-34 width 64, 32x112x112 -> 512x4x7x7, CDC kernels [6, 2, 1], 201 classes",
                "trunk": paper_counts["trunk"],
                "CDC operators": paper_counts["cdc"],
                "classifier": paper_counts["classifier"],
            },
            {
                "model": "paper (section 5)",
                "trunk": int(PAPER_TRUNK_PARAMETERS),
                "CDC operators": int(PAPER_CDC_PARAMETERS),
                "classifier": None,
            },
        ]
    )
    tp_show = tp.assign(
        **{
            c: [fmt_m(x) if x is not None and not pd.isna(x) else "—" for x in tp[c]]
            for c in ("trunk", "CDC operators", "classifier")
        }
    )
    write_markdown_table(
        tp_show,
        Path(tables_dir) / "parameters.md",
        "CDC localization model — parameters",
        [
            "CDC operator: conv in space (valid) + x2 de-conv in time in one step, one spatial kernel per upsampled output step, BN + ReLU (slac_utils/cdc/ docstring)",
            f"paper settings: CDC {paper_counts['cdc']:,} vs the paper's 20.4M (+{(paper_counts['cdc'] - PAPER_CDC_PARAMETERS) / 1e6:.2f}M; the supplementary with the exact layer shapes is not available); trunk {paper_counts['trunk']:,}",
        ],
    )
    return tp_show, ours_counts, paper_counts


def write_split(tables_dir, cfg, split: LocalizationSplit, slac_tr: pd.DataFrame) -> pd.DataFrame:
    """Videos and segments per subset."""
    videos, gt, test_v, seen = split.videos, split.gt, split.test_v, split.seen
    split_tab = (
        videos.groupby("subset")
        .agg(videos=("video_id", "size"))
        .join(gt.groupby("subset").agg(segments=("video_id", "size")))
        .reset_index()
    )
    write_markdown_table(
        split_tab,
        Path(tables_dir) / "split.md",
        "Stage 09 — localization split (by video)",
        [
            f"held-out share {cfg.demo_test_fraction:g}, by near-duplicate group; held-out videos drawn first from groups with no stage-06 training clip; "
            f"held-out videos whose group has a stage-06 training clip: {int(test_v.group.isin(seen).sum())} of {len(test_v)}; "
            f"SLAC clips for CDC pre-training (stage-06 training split, none from a held-out group): {len(slac_tr)}"
        ],
    )
    return split_tab


def stage_metrics(split: LocalizationSplit, slac_tr, ours_counts, paper_counts, loc: Localization, logs) -> dict:
    """metrics/09_localize.json: counts, parameters, beta and mAP of every run, final training loss / accuracy."""
    quarantined, train_v, test_v, seen, K = split.quarantined, split.train_v, split.test_v, split.seen, split.K
    gt_train, gt_test, runs, betas, ev9, ev8 = split.gt_train, split.gt_test, loc.runs, loc.betas, loc.ev9, loc.ev8
    metrics = dict(
        quarantined_videos=int(len(quarantined)),
        train_videos=int(len(train_v)),
        test_videos=int(len(test_v)),
        train_segments=int(len(gt_train)),
        test_segments=int(len(gt_test)),
        slac_pretrain_clips=int(len(slac_tr)),
        held_out_seen_by_stage06=int(test_v.group.isin(seen).sum()),
        classes=K,
        params_trunk=ours_counts["trunk"],
        params_cdc=ours_counts["cdc"],
        params_classifier=ours_counts["classifier"],
        paper_settings_params_trunk=paper_counts["trunk"],
        paper_settings_params_cdc=paper_counts["cdc"],
    )
    for m in runs:
        metrics[f"beta_{m}"] = float(betas[m])
        for k in ("before", "after"):
            metrics[f"table9_average_mAP_{m}_{k}"] = round(float(ev9[m, k]["average_mAP"]), 4)
            metrics[f"table9_mAP@0.5_{m}_{k}"] = round(float(ev9[m, k]["mAP"][0]), 4)
            metrics[f"table8_average_mAP_{m}_{k}"] = round(float(ev8[m, k]["average_mAP"]), 4)
    for name, df in logs.items():
        key = LOG_KEYS[name]
        metrics[f"final_loss_{key}"] = round(float(df.loss.iloc[-1]), 4) if len(df) else None
        metrics[f"final_frame_accuracy_{key}"] = round(float(df.frame_accuracy.iloc[-1]), 4) if len(df) else None
    return metrics
