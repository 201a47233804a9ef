"""Temporal action detection evaluation (paper section 5, Tables 8-9): mAP at tIoU thresholds.

Two protocols, each a re-implementation of its benchmark's official code (same matching, same AP,
same tie-breaking, same float expressions), written as small numpy functions:

* ``"activitynet"`` (Table 9) -- ActivityNet Challenge ``Evaluation/eval_detection.py`` +
  ``Evaluation/utils.py`` (github.com/activitynet/ActivityNet), see :func:`activitynet_ap`.
* ``"thumos14"`` (Table 8) -- the THUMOS14 MATLAB kit ``TH14evalDet.m`` of the test-set release
  (its ``TH14eventdetpr`` and ``prap``, and ``intervaloverlapvalseconds.m``), see
  :func:`thumos14_ap`.  Its ``prap`` is the non-interpolated AP; the earlier validation-only
  release (``TH14evaldet.m``, thresholds .1:.1:.5) had an 11-point interpolated ``prap`` instead.

mAP at a threshold is the mean of the per-class APs over the **ground-truth classes** (a class with
no prediction scores 0); ``average_mAP`` is the mean of the mAPs over the thresholds.

The tables it reads and writes are described in :mod:`slac_utils.engine.detection_io`.

Where this differs from the official code
-----------------------------------------
* A prediction whose label is not a ground-truth class is an error (:class:`DetectionFormatError`
  naming the entry).  The official ActivityNet code fails on it too (``KeyError`` in its
  ``activity_index`` lookup); the THUMOS14 kit prints a warning and drops it.  Such a prediction
  cannot change any class's AP, so failing only guards against misspelt labels.
* ActivityNet's server-side list of blocked videos is not fetched (= the official
  ``check_status=False``); no video is skipped.  As in the official code, predictions are not
  filtered by subset: a prediction on a video outside the evaluated subset is a false positive.
* THUMOS14 detections come as a results JSON with labels, not the kit's text file of class ids
  (whose ".mp4" suffixes the kit strips from video names).  The mean over classes is numpy's, so
  the mAP can differ from MATLAB's ``mean`` in the last bit.
* Malformed entries (see the readers) raise instead of being coerced.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .detection_io import (
    AMBIGUOUS,
    PRED_COLUMNS,
    PROTOCOLS,
    DetectionFormatError,
    read_activitynet,
    read_results,
    read_thumos14,
    require_columns,
)

#: the official defaults: np.linspace(0.5, 0.95, 10) in eval_detection.py (its 9th value is
#: 0.8999999999999999, kept as is); the 0.3..0.7 of the THUMOS14 papers (Table 8)
DEFAULT_TIOU = {"activitynet": np.linspace(0.5, 0.95, 10), "thumos14": np.array([0.3, 0.4, 0.5, 0.6, 0.7])}

# ----------------------------------------------------------------------------- overlaps


def _as_segments(segments) -> np.ndarray:
    return np.asarray(segments, dtype=float).reshape(-1, 2)


def pairwise_tiou(targets, candidates) -> np.ndarray:
    """(A, B) temporal IoU of every target with every candidate segment ([start, end] rows).

    Row ``i`` is bit-for-bit ``segment_tiou(targets[i], candidates)``: intersection
    ``max(0, min(ends) - max(starts))``, union ``(c_end - c_start) + (t_end - t_start) - intersection``.
    Two zero-length segments give 0/0 = NaN, as in the official code (which then counts them as a
    match, since ``NaN < threshold`` is False).
    """
    t, c = _as_segments(targets), _as_segments(candidates)
    intersection = (np.minimum(t[:, None, 1], c[None, :, 1]) - np.maximum(t[:, None, 0], c[None, :, 0])).clip(0)
    union = (c[None, :, 1] - c[None, :, 0]) + (t[:, None, 1] - t[:, None, 0]) - intersection
    with np.errstate(divide="ignore", invalid="ignore"):
        return intersection / union


def segment_tiou(target_segment, candidate_segments) -> np.ndarray:
    """Temporal IoU of one [start, end] segment with N candidates, as ActivityNet's ``segment_iou``."""
    return pairwise_tiou([target_segment], candidate_segments)[0]


def thumos14_overlap(segments_a, segments_b) -> np.ndarray:
    """(A, B) overlap of the THUMOS14 kit (``intervaloverlapvalseconds``, normtype 0).

    ``(min(ends) - max(starts)) / (max(ends) - min(starts))`` when the intersection is > 0, else 0:
    the union is the hull of the two segments, which equals ActivityNet's union whenever they
    overlap (the float rounding can differ in the last bit).
    """
    a, b = _as_segments(segments_a), _as_segments(segments_b)
    intersection = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    hull = np.maximum(a[:, None, 1], b[None, :, 1]) - np.minimum(a[:, None, 0], b[None, :, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(intersection > 0, intersection / hull, 0.0)


# ----------------------------------------------------------------------------- average precision


def interpolated_ap(precision, recall) -> float:
    """VOC-2011 interpolated AP, as ActivityNet's ``interpolated_prec_rec``.

    Pad precision with 0 at both ends and recall with 0 / 1, make precision monotone from the right
    (each value becomes the max of itself and everything after it), then sum precision times the
    recall increase over the points where recall changes.
    """
    mprec = np.concatenate([[0.0], np.asarray(precision, dtype=float), [0.0]])
    mrec = np.concatenate([[0.0], np.asarray(recall, dtype=float), [1.0]])
    mprec = np.maximum.accumulate(mprec[::-1])[::-1]
    idx = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx]))


def _as_thresholds(tiou_thresholds) -> np.ndarray:
    thresholds = np.asarray(tiou_thresholds, dtype=float).ravel()
    if thresholds.size == 0:
        raise ValueError("no tIoU thresholds given")
    return thresholds


def activitynet_ap(gt: pd.DataFrame, pred: pd.DataFrame, tiou_thresholds) -> np.ndarray:
    """AP of one class at each threshold, as ActivityNet's ``compute_average_precision_detection``.

    ``gt`` / ``pred``: that class's rows of the ground-truth / prediction tables, in table order.

    1. Predictions are ranked by ``score.argsort()[::-1]`` -- numpy's default (introsort, SIMD
       dispatched) argsort, reversed, exactly the official call, so tied scores come out in the
       same order as the official code on the same numpy.  This is *not* a stable order: on
       AVX-512 machines even 8 tied scores get shuffled, and which of the tied predictions counts
       first can change the AP.
    2. Each prediction, in rank order, is matched per threshold against the ground truth of its
       video: the gts are walked by tIoU descending (again ``argsort()[::-1]``); the first one below
       the threshold makes it a false positive, already-matched ones are skipped, the first free one
       at or above the threshold (``tiou >= t``) makes it a true positive and is locked.  A
       prediction whose video has no gt of the class, or whose walk ends without a free gt, is a
       false positive.
    3. precision = cumsum(tp) / (cumsum(tp) + cumsum(fp)), recall = cumsum(tp) / len(gt), and
       :func:`interpolated_ap`.  No prediction: AP 0.
    """
    thresholds = _as_thresholds(tiou_thresholds)
    n_thr, n_pred = len(thresholds), len(pred)
    if n_pred == 0:
        return np.zeros(n_thr)
    order = pred["score"].to_numpy(dtype=float).argsort()[::-1]
    videos = pred["video_id"].to_numpy()[order]
    segments = pred[["start", "end"]].to_numpy(dtype=float)[order]
    gt_segments = gt[["start", "end"]].to_numpy(dtype=float)
    gt_of_video = gt.groupby("video_id", sort=False).indices  # positions, in table order

    locked = np.zeros((n_thr, len(gt)), dtype=bool)
    tp = np.zeros((n_thr, n_pred))
    fp = np.zeros((n_thr, n_pred))
    rows = np.arange(n_thr)
    for i, (video, segment) in enumerate(zip(videos, segments)):
        candidates = gt_of_video.get(video)
        if candidates is None:
            fp[:, i] = 1
            continue
        tiou = segment_tiou(segment, gt_segments[candidates])
        ranked = tiou.argsort()[::-1]
        tiou, candidates = tiou[ranked], candidates[ranked]
        # per threshold, the walk stops at the first gt below it (fp) or the first free one (tp)
        stop = (tiou[None, :] < thresholds[:, None]) | ~locked[:, candidates]
        first = stop.argmax(axis=1)
        hit = stop[rows, first] & ~(tiou[first] < thresholds)
        tp[hit, i] = 1
        fp[~hit, i] = 1
        locked[rows[hit], candidates[first[hit]]] = True

    tp_cumsum, fp_cumsum = np.cumsum(tp, axis=1), np.cumsum(fp, axis=1)
    recall = tp_cumsum / float(len(gt))
    precision = tp_cumsum / (tp_cumsum + fp_cumsum)
    return np.array([interpolated_ap(precision[t], recall[t]) for t in range(n_thr)])


def thumos14_ap(
    gt: pd.DataFrame, pred: pd.DataFrame, tiou_thresholds, ambiguous: pd.DataFrame | None = None
) -> np.ndarray:
    """AP of one class at each threshold, as the THUMOS14 kit's ``TH14eventdetpr`` + ``prap``.

    ``gt`` / ``pred``: that class's rows, in table order; ``ambiguous``: all "Ambiguous" segments.

    Per video (videos in name order), the class's detections are sorted by confidence descending
    (MATLAB ``sort`` is stable: ties keep table order).  Matching is **ground-truth driven**: each gt
    of the video, in table order, takes the still-free detection with the highest
    :func:`thumos14_overlap` (first one on ties, i.e. the most confident), if that overlap is
    **strictly greater** than the threshold.  Unmatched detections that overlap (> 0) any Ambiguous
    segment of the video are dropped; matched ones stay true positives.  The kept detections of all
    videos are then stably sorted by confidence, and the AP is **not interpolated**: the sum of the
    precision at each true positive divided by the number of gts (``prap``).  No detection: AP 0.
    """
    thresholds = _as_thresholds(tiou_thresholds)
    n_thr, n_pred = len(thresholds), len(pred)
    ap = np.zeros(n_thr)
    if n_pred == 0:
        return ap
    video_names, video_codes = np.unique(pred["video_id"].to_numpy(), return_inverse=True)
    scores = pred["score"].to_numpy(dtype=float)
    order = np.lexsort((-scores, video_codes))  # videos by name, then confidence descending, stable
    scores = scores[order]
    segments = pred[["start", "end"]].to_numpy(dtype=float)[order]
    bounds = np.searchsorted(video_codes[order], np.arange(len(video_names) + 1))  # each video's slice
    gt_segments = gt[["start", "end"]].to_numpy(dtype=float)
    gt_of_video = gt.groupby("video_id", sort=False).indices
    amb = ambiguous if ambiguous is not None else pd.DataFrame(columns=["video_id", "start", "end"])
    amb_segments = amb[["start", "end"]].to_numpy(dtype=float)
    amb_of_video = amb.groupby("video_id", sort=False).indices

    matched = np.zeros((n_thr, n_pred), dtype=bool)
    near_ambiguous = np.zeros(n_pred, dtype=bool)
    for video, begin, end in zip(video_names, bounds[:-1], bounds[1:]):
        dets = np.arange(begin, end)
        if video in gt_of_video:
            overlap = thumos14_overlap(gt_segments[gt_of_video[video]], segments[dets])  # (gts, dets)
            for t, threshold in enumerate(thresholds):
                free = np.ones(len(dets), dtype=bool)
                for gt_overlap in overlap:
                    candidates = np.flatnonzero(free)
                    if candidates.size == 0:
                        break
                    best = candidates[gt_overlap[candidates].argmax()]
                    if gt_overlap[best] > threshold:
                        free[best] = False
                matched[t, dets] = ~free
        if video in amb_of_video:
            near_ambiguous[dets] = (thumos14_overlap(amb_segments[amb_of_video[video]], segments[dets]) > 0).any(axis=0)

    for t in range(n_thr):
        keep = matched[t] | ~near_ambiguous
        hits = matched[t][keep][np.argsort(-scores[keep], kind="stable")]
        tp, fp = np.cumsum(hits), np.cumsum(~hits)
        precision = tp / (fp + tp)
        # prap adds the precisions one by one (a running sum, not numpy's pairwise np.sum)
        ap[t] = np.cumsum(precision[hits])[-1] / len(gt) if hits.any() else 0.0
    return ap


# ----------------------------------------------------------------------------- evaluation


def evaluate(
    gt: pd.DataFrame,
    pred: pd.DataFrame,
    tiou_thresholds=None,
    protocol: str = "activitynet",
    ambiguous: pd.DataFrame | None = None,
) -> dict:
    """mAP of ``pred`` against ``gt`` at each tIoU threshold (tables as in the module docstring).

    ``tiou_thresholds``: None for the protocol's default (:data:`DEFAULT_TIOU`).  ``ambiguous``:
    THUMOS14's Ambiguous segments (thumos14 protocol only).

    Returns ``tiou_thresholds`` (rounded to 10 decimals for reporting; the comparisons use the
    exact values), ``mAP`` (one per threshold), ``average_mAP`` and ``per_class`` (DataFrame).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    if ambiguous is not None and protocol != "thumos14":
        raise ValueError("ambiguous segments are only used by the thumos14 protocol")
    thresholds = DEFAULT_TIOU[protocol] if tiou_thresholds is None else _as_thresholds(tiou_thresholds)
    require_columns(gt, ["video_id", "label", "start", "end"], "ground truth")
    require_columns(pred, PRED_COLUMNS, "predictions")
    if ambiguous is not None:
        require_columns(ambiguous, ["video_id", "start", "end"], "ambiguous")
    if gt.empty:
        raise DetectionFormatError("the ground truth table is empty (wrong subset?)")

    classes = list(pd.unique(gt["label"]))  # the official activity_index: order of first appearance
    unknown = ~pred["label"].isin(classes).to_numpy()
    if unknown.any():
        i = int(unknown.argmax())
        raise DetectionFormatError(
            f"prediction row {pred.index[i]} (video {pred['video_id'].iloc[i]!r}): "
            f"label {pred['label'].iloc[i]!r} is not a ground-truth class"
        )

    gt_of_class = gt.groupby("label", sort=False).indices
    pred_of_class = pred.groupby("label", sort=False).indices
    none = np.zeros(0, dtype=int)
    ap = np.zeros((len(thresholds), len(classes)))
    for c, label in enumerate(classes):
        class_gt, class_pred = gt.iloc[gt_of_class[label]], pred.iloc[pred_of_class.get(label, none)]
        if protocol == "activitynet":
            ap[:, c] = activitynet_ap(class_gt, class_pred, thresholds)
        else:
            ap[:, c] = thumos14_ap(class_gt, class_pred, thresholds, ambiguous)

    reported = [round(float(t), 10) for t in thresholds]
    per_class = pd.DataFrame(
        {
            "label": classes,
            "n_gt": [len(gt_of_class[label]) for label in classes],
            "n_pred": [len(pred_of_class.get(label, none)) for label in classes],
        }
    )
    for t, row in zip(reported, ap):
        per_class[f"AP@{t:g}"] = row
    m_ap = ap.mean(axis=1)
    return {
        "tiou_thresholds": reported,
        "mAP": m_ap.tolist(),
        "average_mAP": float(m_ap.mean()),
        "per_class": per_class,
    }


def parse_tiou(text: str) -> np.ndarray:
    """Thresholds from ``"a:b:step"`` (inclusive of ``b``) or a comma list ``"0.3,0.4,0.5"``.

    A range gives ``np.linspace(a, b, round((b - a) / step) + 1)``: "0.5:0.95:0.05" is exactly
    10 thresholds, the very array of the official ActivityNet default.  ``b`` must be reached in
    whole steps; every threshold must lie in [0, 1].
    """
    try:
        if ":" in text:
            a, b, step = (float(x) for x in text.split(":"))
            if step <= 0 or b < a:
                raise ValueError
            n = round((b - a) / step) + 1
            if not math.isclose(a + (n - 1) * step, b, abs_tol=1e-9):
                raise ValueError
            thresholds = np.linspace(a, b, n)
        else:
            thresholds = np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise ValueError(
            f"bad tIoU thresholds {text!r}: expected 'start:stop:step' reaching stop in whole steps, "
            "or a comma list like 0.3,0.4,0.5"
        ) from None
    if not np.all((thresholds >= 0) & (thresholds <= 1)):
        raise ValueError(f"bad tIoU thresholds {text!r}: every threshold must lie in [0, 1]")
    return thresholds


# ----------------------------------------------------------------------------- command line


def _read_ground_truth(path, subset: str | None, protocol: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A THUMOS14 annotation folder or an ActivityNet JSON; with thumos14, JSON rows labelled
    "Ambiguous" become the ambiguous table."""
    if Path(path).is_dir():
        gt, ambiguous = read_thumos14(path, subset or "test")
    else:
        gt = read_activitynet(path, subset)
        if gt["subset"].nunique() > 1:
            raise DetectionFormatError(
                f"{path}: the ground truth mixes the subsets {sorted(gt['subset'].unique())}; pick one with --subset"
            )
        is_ambiguous = (gt["label"] == AMBIGUOUS).to_numpy()
        ambiguous = gt[is_ambiguous].reset_index(drop=True)
        if protocol == "thumos14":
            gt = gt[~is_ambiguous].reset_index(drop=True)
    return gt, ambiguous if protocol == "thumos14" else None


def main(argv=None) -> int:
    """``slac-eval-detection GROUND_TRUTH PREDICTIONS [--protocol] [--tiou] [--subset]``: prints
    ``{"tiou_thresholds", "mAP", "average_mAP"}`` as JSON; on a bad input prints the error (naming
    the file and the entry) to stderr and returns 2."""
    parser = argparse.ArgumentParser(
        prog="slac-eval-detection",
        description="Temporal action detection mAP, as the official ActivityNet / THUMOS14 code.",
    )
    parser.add_argument(
        "ground_truth",
        help="ActivityNet-style ground-truth JSON, or a THUMOS14 annotation "
        "folder (<Class>_<subset>.txt + Ambiguous_<subset>.txt)",
    )
    parser.add_argument("predictions", help='results JSON {"results": {video: [{"label", "score", "segment"}]}}')
    parser.add_argument("--protocol", choices=PROTOCOLS, default="activitynet")
    parser.add_argument(
        "--tiou",
        help="'start:stop:step' or a comma list; default 0.5:0.95:0.05 (activitynet), 0.3,0.4,0.5,0.6,0.7 (thumos14)",
    )
    parser.add_argument(
        "--subset",
        help="evaluate this ground-truth subset only (needed when the JSON mixes "
        "several; a THUMOS14 folder defaults to 'test')",
    )
    args = parser.parse_args(argv)
    try:
        thresholds = None if args.tiou is None else parse_tiou(args.tiou)
        gt, ambiguous = _read_ground_truth(args.ground_truth, args.subset, args.protocol)
        pred = read_results(args.predictions, labels=gt["label"].unique())
        result = evaluate(gt, pred, thresholds, args.protocol, ambiguous)
    except (ValueError, OSError) as e:
        print(f"slac-eval-detection: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({key: result[key] for key in ("tiou_thresholds", "mAP", "average_mAP")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
