"""From a trained CDC to detections: per-frame scores over sliding windows, proposals, refinement (paper 5.2),
temporal NMS, localizing a set of videos and tuning beta."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..engine.detection_eval import evaluate
from ..video import clip_sampling as sc
from ..video.decode import center_crop
from .data import decode_video, default_resize_short, normalise


def window_starts(n_frames: int, L: int) -> np.ndarray:
    """Starts of the consecutive L-frame windows covering n frames: 0, L, 2L, ... and, if frames remain, n - L (overlapping)."""
    if n_frames <= L:
        return np.array([0], np.int64)
    starts = list(range(0, n_frames - L + 1, L))
    if starts[-1] + L < n_frames:
        starts.append(n_frames - L)
    return np.array(starts, np.int64)


@torch.no_grad()
def frame_scores(
    model: nn.Module,
    video,
    frames: int,
    crop: int,
    resize_short: int | None = None,
    batch_size: int = 16,
    device: str | None = None,
) -> np.ndarray:
    """(n_frames, num_classes) per-frame softmax of a whole untrimmed video.

    ``video``: a file path (decoded with the short side resized to ``resize_short``, default crop x 8/7) or
    (N, H, W, 3) uint8 frames at that size; both are centre-cropped to crop x crop.  Windows of
    ``frames`` (L) consecutive frames start at 0, L, 2L, ...; when frames remain, a last window ends at the
    last frame (overlapping its predecessor) and supplies only the frames not yet scored; a video shorter than L
    is one window padded by repeating its last frame.  Row t is the model's output at the position of frame t.
    """
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(video, (str, os.PathLike)):
        video, _ = decode_video(video, resize_short or default_resize_short(crop))
    video = np.asarray(video)
    if video.shape[1] != crop or video.shape[2] != crop:
        video = center_crop(video, crop)
    n, L = len(video), int(frames)
    starts = window_starts(n, L)
    model = model.to(device).eval()
    out, covered = None, 0
    for b in range(0, len(starts), batch_size):
        sb = starts[b : b + batch_size]
        x = torch.stack([normalise(video[sc.clip_indices(int(s), L, n)]) for s in sb]).to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
            p = F.softmax(model(x).float(), 1).cpu().numpy()  # (B, C, L)
        if out is None:
            out = np.zeros((n, p.shape[1]), np.float32)
        for s, pw in zip(sb, p):
            s = int(s)
            lo = max(covered, s)  # frames already scored by an earlier window keep that score
            hi = min(s + L, n)
            if hi > lo:
                out[lo:hi] = pw[:, lo - s : hi - s].T
                covered = hi
    return out


# ============================================================================ proposals and refinement
def _as_proposals(proposals) -> pd.DataFrame:
    if isinstance(proposals, pd.DataFrame):
        p = proposals.copy()
    else:
        a = np.asarray(proposals, dtype=float).reshape(
            -1, np.shape(proposals)[-1] if len(np.shape(proposals)) > 1 else 2
        )
        p = pd.DataFrame(a[:, :2], columns=["start", "end"])
        if a.shape[1] > 2:
            p["score"] = a[:, 2]
    if "score" not in p:
        p["score"] = 1.0
    return p[["start", "end", "score"]].reset_index(drop=True)


def sliding_window_proposals(n_frames: int, fps: float, window_seconds, stride_fraction: float) -> pd.DataFrame:
    """Multi-scale sliding windows (start, end in seconds, score 1.0).

    For each length w: windows of round(w x fps) frames starting every max(1, round(length x stride_fraction))
    frames at 0, stride, ... up to the last start that fits.  Windows longer than the video are skipped; a
    video shorter than every window gets one window over the whole video.
    """
    rows = []
    for w in window_seconds:
        wf = max(1, int(round(w * fps)))
        if wf > n_frames:
            continue
        stride = max(1, int(round(wf * stride_fraction)))
        for s in range(0, n_frames - wf + 1, stride):
            rows.append((s, s + wf))
    if not rows and n_frames > 0:
        rows.append((0, n_frames))
    fr = np.array(sorted(set(rows)), dtype=float).reshape(-1, 2)
    return pd.DataFrame(dict(start=fr[:, 0] / fps, end=fr[:, 1] / fps, score=np.ones(len(fr))))


def _frames_of(start: float, end: float, fps: float, n: int) -> tuple[int, int]:
    a = int(np.clip(round(start * fps), 0, max(n - 1, 0)))
    b = int(np.clip(round(end * fps), a + 1, n))
    return a, b


def _extended(a: int, b: int, alpha: float, n: int) -> tuple[int, int]:
    ext = int(round(alpha * (b - a)))
    return max(0, a - ext), min(n, b + ext)


def _classify(scores: np.ndarray, ea: int, eb: int) -> int:
    return int(np.argmax(scores[ea:eb].mean(0)))


def _labelled(scores: np.ndarray, fps: float, proposals, alpha: float, background: int | None):
    """The steps :func:`classify_only` and :func:`refine` share: for each proposal, its frames [a, b), the
    extension [ea, eb) by alpha on each side, the label of highest mean score over the extension and the
    proposal's score -- (a, b, ea, eb, label, proposal score); proposals labelled background are skipped."""
    n, C = scores.shape
    background = C - 1 if background is None else background
    for s, e, ps in _as_proposals(proposals).itertuples(index=False):
        a, b = _frames_of(s, e, fps, n)
        ea, eb = _extended(a, b, alpha, n)
        lab = _classify(scores, ea, eb)
        if lab != background:
            yield a, b, ea, eb, lab, ps


def segment_score(scores: np.ndarray, label: int, i: int, j: int, alpha: float) -> float:
    """Detection confidence of frames [i, j) for class `label`: the label's mean score inside minus its mean score
    in the two flanks of alpha x (j - i) frames just outside (clamped to the video; no flank counts 0).

    The paper ranks by its proposals' own scores ([36]), which sliding windows lack; the inside mean alone
    ties every window that lies inside a long action with the window that fits it, the contrast does not.
    """
    n = len(scores)
    f = max(1, int(round(alpha * (j - i))))
    inside = float(scores[i:j, label].mean())
    flank = np.concatenate([scores[max(0, i - f) : i, label], scores[j : min(n, j + f), label]])
    return inside - (float(flank.mean()) if len(flank) else 0.0)


def classify_only(
    scores: np.ndarray, fps: float, proposals, alpha: float = 0.25, background: int | None = None
) -> pd.DataFrame:
    """Paper Table 9 'before refinement': each proposal with the label of refine(), boundaries unchanged.

    The label is the argmax (background included) of the mean per-frame score over the proposal extended
    by alpha of its length on each side; background proposals are dropped.  Output: start, end (seconds, the
    proposal's own), label (class index), score = :func:`segment_score` of the proposal x the proposal's score.
    """
    scores = np.asarray(scores)
    rows = [
        (a / fps, b / fps, lab, segment_score(scores, lab, a, b, alpha) * ps)
        for a, b, ea, eb, lab, ps in _labelled(scores, fps, proposals, alpha, background)
    ]
    return pd.DataFrame(rows, columns=["start", "end", "label", "score"]).astype({"label": int})


def refine(
    scores: np.ndarray, fps: float, proposals, alpha: float = 0.25, beta: float = 2.0, background: int | None = None
) -> pd.DataFrame:
    """The paper's boundary refinement (section 5, after Shou et al.'s CDC) of each proposal on per-frame scores.

    ``scores``: (n_frames, K+1) per-frame softmax; ``proposals``: start, end in seconds (and optionally a
    score; default 1).  For a proposal covering frames [a, b) (seconds x fps, rounded):

    1. extend it by alpha x (b - a) frames on each side (clamped to the video): [ea, eb);
    2. label = argmax over all classes, background included, of the mean score over [ea, eb); a proposal
       labelled background is dropped;
    3. mu, sigma = mean and standard deviation of that label's per-frame scores over [ea, eb);
    4. shrink each boundary inward from the extended ends, frame by frame, until the label's score at the
       boundary frame is higher than mu - beta x sigma; the refined segment is [first such frame, last such
       frame + 1).  (sigma = 0: every frame equals mu, none is higher; the extended segment is kept.)

    Output: start, end (seconds), label (class index), score = :func:`segment_score` of the refined segment
    (the label's mean score inside it minus its mean in the alpha-length flanks just outside) x the proposal's
    score (1 for sliding windows).  The paper does not say how its detections are scored (its proposals come
    scored from [36]); the inside-minus-flanks contrast ranks a segment that fits an action above a window
    lying inside a longer action, which the inside mean alone cannot (every such window would score ~1).
    """
    scores = np.asarray(scores)
    rows = []
    for a, b, ea, eb, lab, ps in _labelled(scores, fps, proposals, alpha, background):
        act = scores[ea:eb, lab].astype(np.float64)
        mu, sd = act.mean(), act.std()
        above = np.flatnonzero(act > mu - beta * sd)
        if len(above) == 0:
            i, j = ea, eb
        else:
            i, j = ea + int(above[0]), ea + int(above[-1]) + 1
        rows.append((i / fps, j / fps, lab, segment_score(scores, lab, i, j, alpha) * ps))
    return pd.DataFrame(rows, columns=["start", "end", "label", "score"]).astype({"label": int})


def temporal_nms(dets: pd.DataFrame, tiou: float | None, by: str = "label") -> pd.DataFrame:
    """Greedy non-maximum suppression per ``by`` group: drop a detection whose tIoU with a higher-scored kept one exceeds tiou."""
    if tiou is None or len(dets) == 0:
        return dets.reset_index(drop=True)
    keep = []
    for _, g in dets.groupby(by, sort=False):
        g = g.sort_values("score", ascending=False, kind="mergesort")
        s, e, idx = g.start.to_numpy(), g.end.to_numpy(), g.index.to_numpy()
        alive = np.ones(len(g), bool)
        for k in range(len(g)):
            if not alive[k]:
                continue
            keep.append(idx[k])
            inter = np.clip(np.minimum(e[k], e) - np.maximum(s[k], s), 0, None)
            union = (e[k] - s[k]) + (e - s) - inter
            iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
            alive &= ~(iou > tiou)
            alive[k] = False
    return dets.loc[sorted(keep)].reset_index(drop=True)


def localize_videos(
    scores_by_video: dict,
    fps_by_video: dict,
    proposals_by_video: dict,
    classes: list[str],
    refined: bool = True,
    alpha: float = 0.25,
    beta: float = 2.0,
    nms_tiou: float | None = None,
) -> pd.DataFrame:
    """Detections (video_id, label name, score, start, end) of every video: refine() or classify_only(), then optional NMS."""
    K = len(classes)
    out = []
    for vid in sorted(scores_by_video):
        sc_ = scores_by_video[vid]
        props = proposals_by_video.get(vid)
        if props is None or len(props) == 0:
            continue
        d = (
            refine(sc_, fps_by_video[vid], props, alpha, beta, K)
            if refined
            else classify_only(sc_, fps_by_video[vid], props, alpha, K)
        )
        d = temporal_nms(d, nms_tiou)
        d.insert(0, "video_id", vid)
        out.append(d)
    if not out:
        return pd.DataFrame(
            {
                "video_id": pd.Series(dtype=str),
                "label": pd.Series(dtype=str),
                "score": pd.Series(dtype=float),
                "start": pd.Series(dtype=float),
                "end": pd.Series(dtype=float),
            }
        )
    d = pd.concat(out, ignore_index=True)
    d["label"] = [classes[i] for i in d.label]
    return d[["video_id", "label", "score", "start", "end"]]


def tune_beta(
    scores_by_video: dict,
    fps_by_video: dict,
    proposals_by_video: dict,
    gt: pd.DataFrame,
    classes: list[str],
    grid,
    tiou_thresholds,
    alpha: float = 0.25,
    protocol: str = "activitynet",
    nms_tiou: float | None = None,
) -> tuple[float, pd.DataFrame]:
    """Choose beta from ``grid`` by average mAP (slac_utils.engine.detection_eval) on held-out videos; returns (beta, table beta/average_mAP).

    Ties go to the first grid value.  ``gt``: video_id, label, start, end of the held-out videos.
    """

    rows = []
    for b in grid:
        det = localize_videos(
            scores_by_video, fps_by_video, proposals_by_video, classes, True, alpha, float(b), nms_tiou
        )
        det = det[det.label.isin(set(gt.label))]  # a class without ground truth here cannot change any AP
        r = evaluate(gt, det, list(tiou_thresholds), protocol=protocol)
        rows.append(dict(beta=float(b), average_mAP=float(r["average_mAP"])))
    table = pd.DataFrame(rows)
    best = float(table.beta.iloc[int(np.argmax(table.average_mAP.to_numpy()))])
    return best, table
