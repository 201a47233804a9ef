"""Evaluation metrics of the Res3D recognition stages (paper 4.1, Table 4, and 4.2).

All functions are pure numpy (pandas only for the per-class table) and work on a score matrix
``scores`` of shape (N, C) -- one row per clip (or per clip x crop), one column per class -- and
integer labels in ``[0, C)``.

Paper 4.1 (SLAC validation/test, one 32-frame clip at the start of each clip):

- **Class-Agnostic Clip@1** (:func:`clip_accuracy`): clips whose top-1 prediction is the label,
  divided by all clips.
- **Class-Aware Clip@1** (:func:`class_aware_accuracy`): group the clips by their *ground-truth*
  class, take top-1 accuracy within each group, average over the groups.  Only classes that occur
  in the labels form a group: a class that is only ever *predicted* (a false positive with no
  ground-truth clip) does not add a 0 to the mean.  Because SLAC is dominated by the background
  class, the two numbers differ a lot (Table 4: 54.3 vs 76.5).
- **RGB + Flow** (:func:`late_fusion`): a weighted sum of the two streams' softmax scores,
  0.6 RGB + 0.4 flow.

Paper 4.2 (transfer to UCF-101 / HMDB-51 / Kinetics), per *video*:

- **Clip@1**: :func:`clip_accuracy` on one clip per video (the first 32 frames).
- **Video@1** (:func:`video_accuracy`): average the softmax scores of 10 evenly spaced clips of a
  video, then top-1.
- **Dense prediction w/ multi-crops@1**: the same function, with one row per (clip, crop) -- clips
  every 4 frames times the 10 crops of :func:`slac_utils.video.clip_sampling.ten_crop` -- all carrying the
  video's id: averaging over crops and clips is averaging over the video's rows.

Ties in the top-1 prediction are broken by ``numpy.argmax``: the **lowest class index** among the
tied maxima wins.  (With float scores from a trained model exact ties are rare; with hand-made or
saturated scores this rule is what the numbers assume.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

#: the paper's late-fusion weights (4.1): RGB alone is stronger, so it weighs more
W_RGB, W_FLOW = 0.6, 0.4


# --------------------------------------------------------------------------- validation helpers


def _as_scores(scores) -> np.ndarray:
    s = np.asarray(scores, dtype=float)
    if s.ndim != 2 or s.shape[1] == 0:
        raise ValueError(f"scores must be a 2-D (N clips, C classes) array, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN or inf")
    return s


def _as_labels(labels, n: int, n_classes: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the scores, got {y.shape}")
    if n and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.mod(y, 1) == 0):
            raise ValueError("labels must be integer class indices")
    y = y.astype(np.int64)
    if n and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes}), got range [{y.min()}, {y.max()}]")
    return y


def _scores_labels(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = _as_scores(scores)
    y = _as_labels(labels, s.shape[0], s.shape[1])
    if s.shape[0] == 0:
        raise ValueError("no clips to evaluate")
    return s, y


# --------------------------------------------------------------------------- basics


def softmax(logits, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis`` (subtracts the max first); rows sum to 1."""
    z = np.asarray(logits, dtype=float)
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def top1(scores) -> np.ndarray:
    """Top-1 class of every row, (N,) int64; ties go to the lowest class index (``numpy.argmax``)."""
    return np.argmax(_as_scores(scores), axis=1).astype(np.int64)


# --------------------------------------------------------------------------- clip-level (4.1)


def clip_accuracy(scores, labels) -> float:
    """Class-Agnostic Clip@1: the fraction of clips whose top-1 class equals the label.

    scores: (N, C) logits or probabilities (top-1 is the same for both); labels: (N,) ints in [0, C).
    """
    s, y = _scores_labels(scores, labels)
    return float(np.mean(top1(s) == y))


def per_class_accuracy(scores, labels, class_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Top-1 accuracy within each ground-truth class present in ``labels``.

    Returns a DataFrame with one row per class that has at least one clip, sorted by class index:
    ``class`` (the index, or its name from ``class_names``), ``n`` (clips of that class),
    ``correct`` (of them, predicted as that class) and ``accuracy`` (= correct / n).  Classes that
    only appear among the predictions have no row.
    """
    s, y = _scores_labels(scores, labels)
    if class_names is not None and len(class_names) != s.shape[1]:
        raise ValueError(f"class_names has {len(class_names)} names for {s.shape[1]} score columns")
    hit = top1(s) == y
    present = np.unique(y)
    n = np.array([(y == c).sum() for c in present], dtype=np.int64)
    correct = np.array([hit[y == c].sum() for c in present], dtype=np.int64)
    names = [class_names[c] for c in present] if class_names is not None else present
    return pd.DataFrame({"class": names, "n": n, "correct": correct, "accuracy": correct / n})


def class_aware_accuracy(scores, labels) -> float:
    """Class-Aware Clip@1: the unweighted mean of the per-class top-1 accuracies.

    The mean runs over the ground-truth classes *present in* ``labels`` only (paper 4.1: "group clips
    based on groundtruth class label"); a class that is predicted but never the label adds nothing.
    Each class counts once however many clips it has, so a large, easy background class cannot
    dominate as it does in :func:`clip_accuracy`.
    """
    return float(per_class_accuracy(scores, labels)["accuracy"].mean())


# --------------------------------------------------------------------------- fusion (4.1)


def late_fusion(p_rgb, p_flow, w_rgb: float = W_RGB, w_flow: float = W_FLOW, atol: float = 1e-3) -> np.ndarray:
    """RGB + flow late fusion: ``w_rgb * p_rgb + w_flow * p_flow`` (paper: 0.6 and 0.4).

    Both inputs must be softmax probabilities of the same shape (N, C) -- rows in [0, 1] summing to 1
    within ``atol``; logits are refused (fusing logits is a different rule: their scales differ
    between streams).  Weights must be non-negative and not both 0; they are used as given, not
    renormalised (with the default weights the result is again a probability; the top-1 does not
    depend on a common scale anyway).
    """
    a, b = _as_scores(p_rgb), _as_scores(p_flow)
    if a.shape != b.shape:
        raise ValueError(f"RGB scores {a.shape} and flow scores {b.shape} differ in shape")
    if w_rgb < 0 or w_flow < 0 or (w_rgb == 0 and w_flow == 0):
        raise ValueError(f"fusion weights must be non-negative and not both zero, got {w_rgb}, {w_flow}")
    for name, p in (("p_rgb", a), ("p_flow", b)):
        if p.min() < -atol or p.max() > 1 + atol or not np.allclose(p.sum(axis=1), 1.0, atol=atol):
            raise ValueError(
                f"{name} is not a matrix of probabilities (rows in [0,1] summing to 1); apply softmax() first"
            )
    return w_rgb * a + w_flow * b


# --------------------------------------------------------------------------- video-level (4.2)


def average_by_group(scores, group_ids) -> tuple[np.ndarray, np.ndarray]:
    """Mean score row of each group: (unique group ids sorted, (G, C) means).

    Used for Video@1 (groups = videos, rows = clips) and for dense multi-crop prediction (rows =
    clip x crop); every row weighs the same.
    """
    s = _as_scores(scores)
    g = np.asarray(group_ids)
    if g.shape != (s.shape[0],):
        raise ValueError(f"group ids must have shape ({s.shape[0]},), got {g.shape}")
    uniq, inv = np.unique(g, return_inverse=True)
    sums = np.zeros((len(uniq), s.shape[1]))
    np.add.at(sums, inv, s)
    counts = np.bincount(inv, minlength=len(uniq))
    return uniq, sums / counts[:, None]


def _video_labels(uniq: np.ndarray, video_ids: np.ndarray, labels_per_video) -> np.ndarray:
    """Label of each video in ``uniq``, from a mapping/Series (video id -> label) or per-row labels."""
    if isinstance(labels_per_video, (Mapping, pd.Series)):
        missing = [v for v in uniq if v not in labels_per_video]
        if missing:
            raise KeyError(f"no label for video(s) {missing[:5]}")
        return np.array([labels_per_video[v] for v in uniq])
    per_row = np.asarray(labels_per_video)
    if per_row.shape != video_ids.shape:
        raise ValueError("labels_per_video must be a mapping video id -> label, or one label per score row")
    out = []
    for v in uniq:
        lv = np.unique(per_row[video_ids == v])
        if len(lv) != 1:
            raise ValueError(f"video {v!r} has clips with different labels {lv.tolist()}")
        out.append(lv[0])
    return np.array(out)


def video_accuracy(scores, video_ids, labels_per_video, from_logits: bool = False) -> float:
    """Video@1: average each video's clip scores, then the fraction of videos whose top-1 is right.

    scores: (N, C) softmax probabilities, one row per clip (or per clip x crop for dense multi-crop
    prediction); pass ``from_logits=True`` to apply :func:`softmax` to logits first -- averaging
    logits would weigh confident clips differently.  video_ids: (N,) the video of each row.
    labels_per_video: a mapping (dict or Series) video id -> label, or an (N,) array of per-row
    labels (all rows of a video must agree).  Every video counts once, whatever its number of clips.
    """
    s = _as_scores(scores)
    if s.shape[0] == 0:
        raise ValueError("no clips to evaluate")
    if from_logits:
        s = softmax(s, axis=1)
    vid = np.asarray(video_ids)
    uniq, mean = average_by_group(s, vid)
    y = _as_labels(_video_labels(uniq, vid, labels_per_video), len(uniq), s.shape[1])
    return float(np.mean(top1(mean) == y))
