"""Stage 09's inference and evaluation: per-frame scores, proposals, labelling / refinement, mAP.

The detections of each run (``scratch``, ``slac`` and the ``oracle``: one-hot ground-truth frame labels through
the same proposals and refinement, the ceiling of the post-processing) are ActivityNet-format tables
(video_id, label, start, end, score); mAP comes from :mod:`slac_utils.engine.detection_eval`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import cdc
from ..engine.detection_eval import evaluate
from ..engine.detection_io import read_proposals
from ..models.checkpoints import load_trained
from .ground_truth import LocalizationSplit


def slac_trunk(models_dir) -> tuple[dict, dict]:
    """(state dict, meta) of the stage-06 RGB Res3D: the trunk CDC pre-training starts from."""
    return load_trained(Path(models_dir) / "rgb")


def evaluate_detections(gt, det, tiou, protocol, ambiguous=None) -> dict:
    """mAP of ``det`` against ``gt`` at ``tiou``; THUMOS14: detections on its ambiguous segments are ignored."""
    kw = dict(ambiguous=ambiguous) if (protocol == "thumos14" and ambiguous is not None and len(ambiguous)) else {}
    det = det[
        det.label.isin(set(gt.label))
    ]  # mAP is over the ground-truth classes; another class's detections change no AP
    return evaluate(gt[["video_id", "label", "start", "end"]], det, list(tiou), protocol=protocol, **kw)


def proposals_for(cfg, videos: pd.DataFrame, n_by_video: dict, fps_by_video: dict) -> dict[str, pd.DataFrame]:
    """video_id -> proposals (start, end, score): ``localization.proposals_path`` or multi-scale sliding windows."""
    if cfg.proposals_path:
        p = read_proposals(cfg.proposals_path)
        return {
            v: g[["start", "end", "score"]].reset_index(drop=True) for v, g in p.groupby("video_id") if v in n_by_video
        }
    return {
        v: cdc.sliding_window_proposals(n_by_video[v], fps_by_video[v], cfg.window_seconds, cfg.window_stride)
        for v in videos.video_id
    }


@dataclass
class Localization:
    """What :func:`localize_and_evaluate` returns: per run (scratch, slac, oracle) the detections before and after
    refinement, beta (and the tuning table), and Table 9 / Table 8 evaluations keyed by (run, "before" | "after")."""

    runs: list[str]
    before: dict[str, pd.DataFrame]
    after: dict[str, pd.DataFrame]
    betas: dict[str, float]
    beta_tables: dict[str, pd.DataFrame]
    ev9: dict
    ev8: dict


def localize_and_evaluate(cfg, split: LocalizationSplit, scores: dict, fps: dict) -> Localization:
    """Proposals, beta (``cfg.beta`` or tuned on the tuning videos), labelling / refinement of the held-out test
    videos with each model's per-frame ``scores`` (model -> video_id -> (T, K+1)) and with the oracle's, mAP."""
    models, nms_tiou, gt, classes, K = list(scores), cfg.nms_tiou, split.gt, split.classes, split.K
    held_videos = split.held_videos
    n_frames = {v: len(scores[models[0]][v]) for v in held_videos}
    props = proposals_for(cfg, split.videos[split.videos.video_id.isin(held_videos)], n_frames, fps)
    test_ids = set(split.test_v.video_id)
    betas, beta_tables = {}, {}
    for m in models:
        if cfg.tune_beta:
            tids = set(split.tune_v.video_id)
            betas[m], beta_tables[m] = cdc.tune_beta(
                {v: s for v, s in scores[m].items() if v in tids},
                fps,
                props,
                gt[gt.video_id.isin(tids)],
                classes,
                cfg.beta_grid,
                cfg.table9_tiou,
                cfg.alpha,
                cfg.table9_protocol,
                nms_tiou,
            )
        else:
            betas[m] = cfg.beta
    gt_test = split.gt_test
    test_scores = {m: {v: s for v, s in scores[m].items() if v in test_ids} for m in models}
    # the same proposals and refinement on one-hot ground-truth frame labels: what they can reach with perfect scores
    test_scores["oracle"] = {
        v: np.eye(K + 1, dtype=np.float32)[cdc.frame_labels(n_frames[v], fps[v], gt_test[gt_test.video_id == v], K)]
        for v in sorted(test_ids)
    }
    betas["oracle"] = cfg.beta
    runs = list(test_scores)
    before = {
        m: cdc.localize_videos(test_scores[m], fps, props, classes, False, cfg.alpha, betas[m], nms_tiou) for m in runs
    }
    after = {
        m: cdc.localize_videos(test_scores[m], fps, props, classes, True, cfg.alpha, betas[m], nms_tiou) for m in runs
    }
    amb = split.ambiguous if (split.ambiguous is not None and len(split.ambiguous)) else None
    ev9 = {
        (m, k): evaluate_detections(gt_test, d[m], cfg.table9_tiou, cfg.table9_protocol, amb)
        for k, d in (("before", before), ("after", after))
        for m in runs
    }
    ev8 = {
        (m, k): evaluate_detections(gt_test, d[m], cfg.table8_tiou, cfg.table8_protocol, amb)
        for k, d in (("before", before), ("after", after))
        for m in runs
    }
    return Localization(runs, before, after, betas, beta_tables, ev9, ev8)
